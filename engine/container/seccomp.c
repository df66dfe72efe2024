/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker-format seccomp profiles: the parser (JSON text to struct eng_seccomp_profile, every
 * error naming its JSON path), the evaluation of a rule's includes/excludes as Docker does, the
 * host environment, and the canonical text of an evaluated profile. Compiling to BPF and
 * loading live in seccomp-compile.c; the default profile in seccomp-default.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/log.h"
#include "engine/container/seccomp-int.h"

/* How much of a bad value an error message quotes. */
#define QUOTE_MAX 64

/* Capability names as Docker writes them in a bounding set, by number. */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* Docker's architecture names (includes/excludes "arches"). */
static const struct {
    const char *name;
    uint32_t bit;
} docker_arches[] = {
    { "x86", SCMP_A_X86 },       { "amd64", SCMP_A_AMD64 },       { "x32", SCMP_A_X32 },
    { "arm", SCMP_A_ARM },       { "arm64", SCMP_A_ARM64 },       { "ppc", SCMP_A_PPC },
    { "ppc64", SCMP_A_PPC64 },   { "ppc64le", SCMP_A_PPC64LE },   { "s390", SCMP_A_S390 },
    { "s390x", SCMP_A_S390X },   { "riscv64", SCMP_A_RISCV64 },   { "loong64", SCMP_A_LOONG64 },
    { "mips64", SCMP_A_MIPS64 }, { "mipsel64", SCMP_A_MIPSEL64 },
};

/* The machines berth knows: uname name, Docker's name, libseccomp's architecture. */
static const struct {
    const char *machine;
    const char *docker;
    uint32_t bit;
    const char *scmp;
} machines[] = {
    { "x86_64", "amd64", SCMP_A_AMD64, "SCMP_ARCH_X86_64" },
    { "i686", "x86", SCMP_A_X86, "SCMP_ARCH_X86" },
    { "i586", "x86", SCMP_A_X86, "SCMP_ARCH_X86" },
    { "i386", "x86", SCMP_A_X86, "SCMP_ARCH_X86" },
    { "aarch64", "arm64", SCMP_A_ARM64, "SCMP_ARCH_AARCH64" },
    { "armv7l", "arm", SCMP_A_ARM, "SCMP_ARCH_ARM" },
    { "armv6l", "arm", SCMP_A_ARM, "SCMP_ARCH_ARM" },
    { "ppc64le", "ppc64le", SCMP_A_PPC64LE, "SCMP_ARCH_PPC64LE" },
    { "ppc64", "ppc64", SCMP_A_PPC64, "SCMP_ARCH_PPC64" },
    { "s390x", "s390x", SCMP_A_S390X, "SCMP_ARCH_S390X" },
    { "riscv64", "riscv64", SCMP_A_RISCV64, "SCMP_ARCH_RISCV64" },
    { "loongarch64", "loong64", SCMP_A_LOONG64, "SCMP_ARCH_LOONGARCH64" },
    { "mips64", "mips64", SCMP_A_MIPS64, "SCMP_ARCH_MIPS64" },
};

static const struct {
    const char *name;
    uint32_t action; /* errno/trace value filled in later */
    bool takes_errno;
} actions[] = {
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
    { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
    { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
    { "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
};

static const struct {
    const char *name;
    enum scmp_compare op;
} ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct {
    const char *name;
    unsigned flag;
} filter_flags[] = {
    { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
    /* berth's container child is single-threaded: nothing to synchronise. */
    { "SECCOMP_FILTER_FLAG_TSYNC", 0 },
};

/* "path.key: message" with the bad value quoted by the caller through quote(). */
static int BT_PRINTF(4, 5)
    fail(struct bt_err **err, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *msg = bt_xvasprintf(fmt, ap);
    va_end(ap);
    return bt_err_set(err, code, "%s: %s", path, msg);
}

static char *
quote(const char *s)
{
    return bt_log_escape(s, strlen(s), QUOTE_MAX);
}

static char *
sub(const char *path, const char *key)
{
    return *path ? bt_xasprintf("%s.%s", path, key) : bt_xstrdup(key);
}

static char *
idx(const char *path, size_t i)
{
    return bt_xasprintf("%s[%zu]", path, i);
}

/* An array member that may be absent or null (Go decodes both as empty). */
static int
get_array(json_t *o, const char *key, const char *path, json_t **ret, struct bt_err **err)
{
    json_t *v = json_object_get(o, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v)) {
        bt_autofree char *p = sub(path, key);
        return fail(err, BT_EINVALID, p, "not an array");
    }
    *ret = v;
    return 0;
}

static int
get_string(json_t *o, const char *key, const char *path, const char **ret, struct bt_err **err)
{
    json_t *v = json_object_get(o, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        bt_autofree char *p = sub(path, key);
        return fail(err, BT_EINVALID, p, "not a string");
    }
    *ret = json_string_value(v);
    return 0;
}

/* An unsigned integer member in [0, max]; *has says whether it was there. */
static int
get_uint(json_t *o, const char *key, const char *path, uint64_t max, uint64_t *ret, bool *has,
         struct bt_err **err)
{
    json_t *v = json_object_get(o, key);
    *ret = 0;
    if (has)
        *has = false;
    if (!v || json_is_null(v))
        return 0;
    bt_autofree char *p = sub(path, key);
    if (!json_is_integer(v))
        return fail(err, BT_EINVALID, p, "not an integer");
    json_int_t n = json_integer_value(v);
    if (n < 0 || (uint64_t) n > max)
        return fail(err, BT_EINVALID, p, "%" JSON_INTEGER_FORMAT " is out of range (0-%" PRIu64 ")",
                    n, max);
    *ret = (uint64_t) n;
    if (has)
        *has = true;
    return 0;
}

/* An array of strings, NULL-terminated, borrowed from the document; NULL when empty. */
static int
get_strings(json_t *o, const char *key, const char *path, const char ***ret, size_t *ret_n,
            struct bt_err **err)
{
    json_t *a;
    *ret = NULL;
    if (ret_n)
        *ret_n = 0;
    if (get_array(o, key, path, &a, err) < 0)
        return -BT_EINVALID;
    if (!a || json_array_size(a) == 0)
        return 0;
    const char **v = bt_xcalloc(json_array_size(a) + 1, sizeof *v);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        if (!json_is_string(e)) {
            free(v);
            bt_autofree char *p = sub(path, key);
            bt_autofree char *pi = idx(p, i);
            return fail(err, BT_EINVALID, pi, "not a string");
        }
        v[i] = json_string_value(e);
    }
    *ret = v;
    if (ret_n)
        *ret_n = json_array_size(a);
    return 0;
}

/* "major.minor", optionally followed by ".patch" or "-flavour" (ignored). */
static int
parse_kernel(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    unsigned long major = strtoul(s, &end, 10);
    if (errno || *end != '.' || major > 1000)
        return -EINVAL;
    s = end + 1;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    unsigned long minor = strtoul(s, &end, 10);
    if (errno || minor > 1000 || (*end && *end != '.' && *end != '-'))
        return -EINVAL;
    *ret_major = (unsigned) major;
    *ret_minor = (unsigned) minor;
    return 0;
}

static int
cond_parse(json_t *o, const char *path, struct scmp_cond *ret, struct bt_err **err)
{
    *ret = (struct scmp_cond){ 0 };
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return fail(err, BT_EINVALID, path, "not an object");
    bt_autofree const char **caps = NULL;
    bt_autofree const char **arches = NULL;
    const char *min_kernel;
    if (get_strings(o, "caps", path, &caps, NULL, err) < 0 ||
        get_strings(o, "arches", path, &arches, NULL, err) < 0 ||
        get_string(o, "minKernel", path, &min_kernel, err) < 0)
        return -BT_EINVALID;
    for (size_t i = 0; caps && caps[i]; i++) {
        size_t c;
        for (c = 0; c < BT_ARRAY_SIZE(cap_names); c++)
            if (strcmp(caps[i], cap_names[c]) == 0)
                break;
        /* An unknown name is in no bounding set: Docker compares strings. */
        if (c < BT_ARRAY_SIZE(cap_names))
            ret->caps |= UINT64_C(1) << c;
        else
            ret->caps_unknown = true;
    }
    for (size_t i = 0; arches && arches[i]; i++) {
        ret->has_arches = true;
        for (size_t a = 0; a < BT_ARRAY_SIZE(docker_arches); a++)
            if (strcmp(arches[i], docker_arches[a].name) == 0)
                ret->arches |= docker_arches[a].bit;
    }
    if (min_kernel && *min_kernel) {
        if (parse_kernel(min_kernel, &ret->min_major, &ret->min_minor) < 0) {
            bt_autofree char *p = sub(path, "minKernel");
            bt_autofree char *q = quote(min_kernel);
            return fail(err, BT_EINVALID, p, "invalid kernel version '%s' (want major.minor)", q);
        }
        ret->has_min_kernel = true;
    }
    return 0;
}

static int
action_parse(json_t *o, const char *path, const char *key, const char *errno_key, uint32_t *ret,
             struct bt_err **err)
{
    const char *name;
    if (get_string(o, key, path, &name, err) < 0)
        return -BT_EINVALID;
    bt_autofree char *p = sub(path, key);
    if (!name || !*name)
        return fail(err, BT_EINVALID, p, "missing");
    uint64_t errno_ret;
    bool has_errno;
    if (get_uint(o, errno_key, path, 4095, &errno_ret, &has_errno, err) < 0)
        return -BT_EINVALID;
    if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        return fail(err, BT_EUNSUPPORTED, p,
                    "action 'SCMP_ACT_NOTIFY' is unsupported (berth has no seccomp agent)");
    for (size_t i = 0; i < BT_ARRAY_SIZE(actions); i++) {
        if (strcmp(name, actions[i].name) != 0)
            continue;
        if (has_errno && !actions[i].takes_errno) {
            bt_autofree char *pe = sub(path, errno_key);
            return fail(err, BT_EINVALID, pe,
                        "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not '%s'", name);
        }
        /* As runc: ERRNO and TRACE without a value mean EPERM. */
        *ret = actions[i].action | (actions[i].takes_errno ? (has_errno ? errno_ret : EPERM) : 0);
        return 0;
    }
    bt_autofree char *q = quote(name);
    return fail(err, BT_EINVALID, p, "unknown action '%s'", q);
}

static int
args_parse(json_t *o, const char *path, struct scmp_rule *r, struct bt_err **err)
{
    json_t *a;
    if (get_array(o, "args", path, &a, err) < 0)
        return -BT_EINVALID;
    if (!a || json_array_size(a) == 0)
        return 0;
    bt_autofree char *pa = sub(path, "args");
    if (json_array_size(a) > SCMP_MAX_ARGS)
        return fail(err, BT_EINVALID, pa, "%zu conditions, at most %d", json_array_size(a),
                    SCMP_MAX_ARGS);
    struct scmp_arg *args = bt_xcalloc(json_array_size(a), sizeof *args);
    r->args = args;
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        bt_autofree char *pi = idx(pa, i);
        if (!json_is_object(e))
            return fail(err, BT_EINVALID, pi, "not an object");
        uint64_t index;
        const char *op;
        if (get_uint(e, "index", pi, SCMP_MAX_ARGS - 1, &index, NULL, err) < 0 ||
            get_uint(e, "value", pi, INT64_MAX, &args[i].value, NULL, err) < 0 ||
            get_uint(e, "valueTwo", pi, INT64_MAX, &args[i].value_two, NULL, err) < 0 ||
            get_string(e, "op", pi, &op, err) < 0)
            return -BT_EINVALID;
        args[i].index = (unsigned) index;
        bt_autofree char *pop = sub(pi, "op");
        if (!op || !*op)
            return fail(err, BT_EINVALID, pop, "missing");
        size_t k;
        for (k = 0; k < BT_ARRAY_SIZE(ops); k++)
            if (strcmp(op, ops[k].name) == 0)
                break;
        if (k == BT_ARRAY_SIZE(ops)) {
            bt_autofree char *q = quote(op);
            return fail(err, BT_EINVALID, pop, "unknown operator '%s'", q);
        }
        args[i].op = ops[k].op;
        r->nargs++;
    }
    return 0;
}

static int
rule_parse(json_t *o, const char *path, struct scmp_rule *r, size_t *nnames, struct bt_err **err)
{
    if (!json_is_object(o))
        return fail(err, BT_EINVALID, path, "not an object");
    const char *name;
    const char **names;
    size_t n;
    if (get_string(o, "name", path, &name, err) < 0 ||
        get_strings(o, "names", path, &names, &n, err) < 0)
        return -BT_EINVALID;
    r->names = names;
    if (name && *name && names)
        return fail(err, BT_EINVALID, path, "both 'name' and 'names' given: use one");
    if (name && *name) {
        names = bt_xcalloc(2, sizeof *names);
        names[0] = name;
        r->names = names;
        n = 1;
    }
    *nnames += n;
    if (*nnames > ENG_SECCOMP_MAX_NAMES)
        return fail(err, BT_ETOOBIG, path, "more than %u syscall names in the profile",
                    ENG_SECCOMP_MAX_NAMES);
    for (size_t i = 0; i < n; i++) {
        if (!*names[i]) {
            bt_autofree char *p = sub(path, "names");
            bt_autofree char *pi = idx(p, i);
            return fail(err, BT_EINVALID, pi, "empty syscall name");
        }
    }
    bt_autofree char *pinc = sub(path, "includes");
    bt_autofree char *pexc = sub(path, "excludes");
    if (action_parse(o, path, "action", "errnoRet", &r->action, err) < 0 ||
        args_parse(o, path, r, err) < 0 ||
        cond_parse(json_object_get(o, "includes"), pinc, &r->inc, err) < 0 ||
        cond_parse(json_object_get(o, "excludes"), pexc, &r->exc, err) < 0)
        return -BT_EINVALID;
    return 0;
}

static int
archmap_parse(json_t *root, struct eng_seccomp_profile *p, struct bt_err **err)
{
    json_t *a;
    if (get_array(root, "archMap", "", &a, err) < 0)
        return -BT_EINVALID;
    if (!a || json_array_size(a) == 0)
        return 0;
    if (json_array_size(a) > 64)
        return fail(err, BT_ETOOBIG, "archMap", "more than 64 entries");
    struct scmp_archmap *m = bt_xcalloc(json_array_size(a), sizeof *m);
    p->archmap = m;
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        bt_autofree char *pi = idx("archMap", i);
        if (!json_is_object(e))
            return fail(err, BT_EINVALID, pi, "not an object");
        const char **subs;
        if (get_string(e, "architecture", pi, &m[i].arch, err) < 0 ||
            get_strings(e, "subArchitectures", pi, &subs, NULL, err) < 0)
            return -BT_EINVALID;
        m[i].subs = subs;
        p->narchmap++;
        if (!m[i].arch || !*m[i].arch) {
            bt_autofree char *pa = sub(pi, "architecture");
            return fail(err, BT_EINVALID, pa, "missing");
        }
    }
    return 0;
}

static int
flags_parse(json_t *root, struct eng_seccomp_profile *p, struct bt_err **err)
{
    bt_autofree const char **flags = NULL;
    if (get_strings(root, "flags", "", &flags, NULL, err) < 0)
        return -BT_EINVALID;
    for (size_t i = 0; flags && flags[i]; i++) {
        size_t k;
        for (k = 0; k < BT_ARRAY_SIZE(filter_flags); k++)
            if (strcmp(flags[i], filter_flags[k].name) == 0)
                break;
        if (k == BT_ARRAY_SIZE(filter_flags)) {
            bt_autofree char *pi = idx("flags", i);
            bt_autofree char *q = quote(flags[i]);
            return fail(err, BT_EINVALID, pi, "unknown flag '%s'", q);
        }
        p->flags |= filter_flags[k].flag;
    }
    return 0;
}

static int
profile_fill(json_t *root, struct eng_seccomp_profile *p, struct bt_err **err)
{
    const char *listener;
    json_t *syscalls;
    if (get_string(root, "listenerPath", "", &listener, err) < 0 ||
        get_array(root, "syscalls", "", &syscalls, err) < 0)
        return -BT_EINVALID;
    if (listener && *listener)
        return fail(err, BT_EUNSUPPORTED, "listenerPath",
                    "seccomp notification is unsupported (berth has no seccomp agent)");
    const char *default_action;
    if (get_string(root, "defaultAction", "", &default_action, err) < 0)
        return -BT_EINVALID;
    /* As Docker: no default action and no rules is no filter at all. */
    if ((!default_action || !*default_action) && (!syscalls || json_array_size(syscalls) == 0)) {
        p->unconfined = true;
        return 0;
    }
    const char **arches;
    if (action_parse(root, "", "defaultAction", "defaultErrnoRet", &p->default_action, err) < 0 ||
        get_strings(root, "architectures", "", &arches, NULL, err) < 0)
        return -BT_EINVALID;
    p->arches = arches;
    if (archmap_parse(root, p, err) < 0 || flags_parse(root, p, err) < 0)
        return -BT_EINVALID;
    if (p->arches && p->narchmap)
        return bt_err_set(err, BT_EINVALID,
                          "both 'architectures' and 'archMap' given: use one of them");
    if (!syscalls)
        return 0;
    if (json_array_size(syscalls) > ENG_SECCOMP_MAX_RULES)
        return fail(err, BT_ETOOBIG, "syscalls", "%zu rules, more than the %u berth accepts",
                    json_array_size(syscalls), ENG_SECCOMP_MAX_RULES);
    struct scmp_rule *rules = bt_xcalloc(json_array_size(syscalls), sizeof *rules);
    p->rules = rules;
    size_t i, nnames = 0;
    json_t *e;
    json_array_foreach(syscalls, i, e) {
        bt_autofree char *pi = idx("syscalls", i);
        p->nrules++;
        if (rule_parse(e, pi, &rules[i], &nnames, err) < 0)
            return -BT_EINVALID;
    }
    return 0;
}

int
eng_seccomp_profile_parse(const char *json, size_t len, struct eng_seccomp_profile **ret,
                          struct bt_err **err)
{
    if (len > ENG_SECCOMP_MAX_JSON)
        return bt_err_set(err, BT_ETOOBIG,
                          "seccomp profile is %zu bytes, more than the %u berth accepts", len,
                          ENG_SECCOMP_MAX_JSON);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_err_set(err, BT_EPARSE,
                          "seccomp profile is not valid JSON: %s (line %d, column %d)", jerr.text,
                          jerr.line, jerr.column);
    struct eng_seccomp_profile *p = bt_xcalloc(1, sizeof *p);
    p->doc = root;
    if (!json_is_object(root)) {
        eng_seccomp_profile_free(p);
        return bt_err_set(err, BT_EPARSE, "seccomp profile is not a JSON object");
    }
    int r = profile_fill(root, p, err);
    if (r < 0) {
        eng_seccomp_profile_free(p);
        return bt_err_wrap(err, "seccomp profile");
    }
    *ret = p;
    return 0;
}

struct eng_seccomp_profile *
eng_seccomp_profile_free(struct eng_seccomp_profile *p)
{
    if (!p || p->is_static)
        return NULL;
    /* The arrays were allocated here; the strings they hold are borrowed from doc. */
    for (unsigned i = 0; i < p->nrules; i++) {
        free((void *) p->rules[i].names);
        free((void *) p->rules[i].args);
    }
    free((void *) p->rules);
    for (unsigned i = 0; i < p->narchmap; i++)
        free((void *) p->archmap[i].subs);
    free((void *) p->archmap);
    free((void *) p->arches);
    json_decref(p->doc);
    free(p);
    return NULL;
}

static int
machine_find(const char *arch)
{
    for (size_t i = 0; arch && i < BT_ARRAY_SIZE(machines); i++)
        if (strcmp(arch, machines[i].machine) == 0 || strcmp(arch, machines[i].docker) == 0)
            return (int) i;
    return -1;
}

uint32_t
scmp_env_arch_bit(const struct eng_seccomp_env *env)
{
    int m = machine_find(env->arch);
    return m < 0 ? 0 : machines[m].bit;
}

const char *
scmp_env_arch_name(const struct eng_seccomp_env *env)
{
    int m = machine_find(env->arch);
    return m < 0 ? NULL : machines[m].scmp;
}

int
eng_seccomp_env_host(uint64_t caps, struct eng_seccomp_env *ret, struct bt_err **err)
{
    struct utsname u;
    if (uname(&u) < 0)
        return bt_err_errno(err, -errno, "cannot read the kernel version");
    int m = machine_find(u.machine);
    if (m < 0)
        return bt_err_set(err, BT_EUNSUPPORTED, "no seccomp support for architecture '%s'",
                          u.machine);
    unsigned major = 0, minor = 0;
    if (parse_kernel(u.release, &major, &minor) < 0)
        return bt_err_set(err, BT_EINVALID, "cannot parse the kernel version '%s'", u.release);
    *ret = (struct eng_seccomp_env){
        .caps = caps,
        .arch = machines[m].machine,
        .kernel_major = major,
        .kernel_minor = minor,
    };
    return 0;
}

static bool
kernel_at_least(const struct eng_seccomp_env *env, const struct scmp_cond *c)
{
    if (env->kernel_major != c->min_major)
        return env->kernel_major > c->min_major;
    return env->kernel_minor >= c->min_minor;
}

bool
scmp_rule_applies(const struct scmp_rule *r, const struct eng_seccomp_env *env)
{
    uint32_t arch = scmp_env_arch_bit(env);
    /* Excluded when any listed arch is ours, any listed cap is held, the kernel is new enough. */
    if (r->exc.has_arches && (r->exc.arches & arch))
        return false;
    if (r->exc.caps & env->caps)
        return false;
    if (r->exc.has_min_kernel && kernel_at_least(env, &r->exc))
        return false;
    /* Included only when our arch is listed, all listed caps are held, the kernel is new. */
    if (r->inc.has_arches && !(r->inc.arches & arch))
        return false;
    if (r->inc.caps_unknown || (r->inc.caps & ~env->caps))
        return false;
    if (r->inc.has_min_kernel && !kernel_at_least(env, &r->inc))
        return false;
    return true;
}

static int
cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
push(char ***lines, size_t *n, size_t *cap, char *line)
{
    *lines = bt_xgrow(*lines, cap, *n + 1, sizeof **lines);
    (*lines)[(*n)++] = line;
}

char *
eng_seccomp_profile_eval_text(const struct eng_seccomp_profile *p,
                              const struct eng_seccomp_env *env)
{
    if (p->unconfined)
        return bt_xstrdup("unconfined\n");
    char **lines = NULL;
    size_t n = 0, cap = 0;
    const char *native = scmp_env_arch_name(env);
    push(&lines, &n, &cap, bt_xasprintf("arch %s", native ? native : "?"));
    for (size_t i = 0; p->arches && p->arches[i]; i++)
        push(&lines, &n, &cap, bt_xasprintf("arch %s", p->arches[i]));
    for (unsigned i = 0; native && i < p->narchmap; i++) {
        if (strcmp(p->archmap[i].arch, native) != 0)
            continue;
        for (size_t s = 0; p->archmap[i].subs && p->archmap[i].subs[s]; s++)
            push(&lines, &n, &cap, bt_xasprintf("arch %s", p->archmap[i].subs[s]));
        break;
    }
    for (unsigned i = 0; i < p->nrules; i++) {
        const struct scmp_rule *r = &p->rules[i];
        if (!scmp_rule_applies(r, env))
            continue;
        struct bt_buf args;
        bt_buf_init(&args, 4096);
        for (unsigned a = 0; a < r->nargs; a++)
            (void) bt_buf_printf(&args, " arg%u:%d:%" PRIu64 ":%" PRIu64, r->args[a].index,
                                 (int) r->args[a].op, r->args[a].value, r->args[a].value_two);
        for (size_t k = 0; r->names && r->names[k]; k++)
            push(&lines, &n, &cap,
                 bt_xasprintf("rule %s 0x%08" PRIx32 "%s", r->names[k], r->action,
                              bt_buf_str(&args)));
        bt_buf_release(&args);
    }
    qsort(lines, n, sizeof *lines, cmp_lines);
    struct bt_buf out;
    bt_buf_init(&out, SIZE_MAX);
    (void) bt_buf_printf(&out, "default 0x%08" PRIx32 " flags 0x%x\n", p->default_action, p->flags);
    for (size_t i = 0; i < n; i++) {
        (void) bt_buf_printf(&out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    return bt_buf_steal(&out);
}
