/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A service's canonical JSON to struct eng_ctr_spec (see ctr-spec.h). One handler per key,
 * found through a table; the checks that need several keys (sysctls against the namespaces,
 * capability names) run once every key is read. Shapes follow compose/'s canonical output,
 * with the short forms an older or hand-written model may still hold also accepted.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "compose/short.h"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/parse.h"
#include "engine/base/strv.h"
#include "engine/base/path.h"
#include "engine/container/caps.h"
#include "engine/container/config.h"
#include "orchestrator/daemon/ctr-spec.h"

/* Docker's own ceiling for a seccomp profile is far above any real one. */
#define SECCOMP_PROFILE_MAX (1u << 20)

struct conv {
    const struct orch_ctr_spec_ctx *ctx;
    struct eng_ctr_spec *s;
};

/* ---- small readers; key is the path used in messages ---- */

static int
want_string(const char *key, const json_t *v, const char **ret, struct bt_err **err)
{
    if (!json_is_string(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a string", key);
    *ret = json_string_value(v);
    return 0;
}

static int
get_string(const char *key, const json_t *v, char **ret, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    const char *s = NULL;
    int r = want_string(key, v, &s, err);
    if (r < 0)
        return r;
    free(*ret);
    *ret = bt_xstrdup(s);
    return 0;
}

static int
get_bool(const char *key, const json_t *v, bool *ret, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *ret = json_is_true(v);
        return 0;
    }
    if (json_is_string(v) && bt_parse_bool(json_string_value(v), ret) == 0)
        return 0;
    return bt_err_set(err, BT_EINVALID, "%s: must be a boolean", key);
}

static int
get_int64(const char *key, const json_t *v, int64_t min, int64_t max, int64_t *ret,
          struct bt_err **err)
{
    int64_t n;
    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (!json_is_string(v) || bt_parse_i64(json_string_value(v), &n) < 0)
        return bt_err_set(err, BT_EINVALID, "%s: must be an integer", key);
    if (n < min || n > max)
        return bt_err_set(err, BT_EINVALID, "%s: %lld is out of range (%lld..%lld)", key,
                          (long long) n, (long long) min, (long long) max);
    *ret = n;
    return 0;
}

/* A byte size: a number, or a string as docker's RAMInBytes ("1g", "134217728"). */
static int
get_bytes(const char *key, const json_t *v, int64_t *ret, struct bt_err **err)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return bt_err_set(err, BT_EINVALID, "%s: must not be negative", key);
        *ret = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a byte size", key);
    int r = compose_bytes_parse(json_string_value(v), ret, err);
    if (r < 0)
        return bt_err_wrap(err, "%s", key);
    return 0;
}

/* A scalar's text, as compose-go turns a YAML scalar into a string: a new string, or NULL
 * for anything else. */
static char *
scalar_text(const json_t *e)
{
    if (json_is_string(e))
        return bt_xstrdup(json_string_value(e));
    if (json_is_integer(e))
        return bt_xasprintf("%lld", (long long) json_integer_value(e));
    if (json_is_boolean(e))
        return bt_xstrdup(json_is_true(e) ? "true" : "false");
    if (json_is_real(e))
        return bt_xasprintf("%g", json_real_value(e));
    return NULL;
}

/* An array of strings (numbers accepted as their text), or one string when one_ok. */
static int
get_strv(const char *key, const json_t *v, bool one_ok, char ***ret, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (one_ok && json_is_string(v)) {
        char **l = bt_xcalloc(2, sizeof *l);
        l[0] = bt_xstrdup(json_string_value(v));
        bt_strv_free(*ret);
        *ret = l;
        return 0;
    }
    if (!json_is_array(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a list of strings", key);
    char **l = bt_xcalloc(json_array_size(v) + 1, sizeof *l);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (json_is_string(e) || json_is_integer(e)) {
            l[i] = scalar_text(e);
        } else {
            bt_strv_free(l);
            return bt_err_set(err, BT_EINVALID, "%s[%zu]: must be a string", key, i);
        }
    }
    bt_strv_free(*ret);
    *ret = l;
    return 0;
}

/* A map of scalars (or a list of "K=V") as "K=V" strings; null values are skipped (an unset
 * variable, as docker compose leaves it out). */
static int
get_kv_strv(const char *key, const json_t *v, char ***ret, struct bt_err **err)
{
    if (json_is_array(v))
        return get_strv(key, v, false, ret, err);
    if (!json_is_object(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", key);
    char **l = bt_xcalloc(json_object_size(v) + 1, sizeof *l);
    size_t n = 0;
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *) v, k, e) {
        if (json_is_null(e))
            continue;
        bt_autofree char *text = scalar_text(e);
        if (text) {
            l[n++] = bt_xasprintf("%s=%s", k, text);
        } else {
            bt_strv_free(l);
            return bt_err_set(err, BT_EINVALID, "%s.%s: must be a string", key, k);
        }
    }
    bt_strv_free(*ret);
    *ret = l;
    return 0;
}

/* ---- process ---- */

static int
get_words(const char *key, const json_t *v, char ***ret, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        /* Shell form, as the Dockerfile's: the string goes to /bin/sh -c whole. */
        char **l = bt_xcalloc(4, sizeof *l);
        l[0] = bt_xstrdup("/bin/sh");
        l[1] = bt_xstrdup("-c");
        l[2] = bt_xstrdup(json_string_value(v));
        bt_strv_free(*ret);
        *ret = l;
        return 0;
    }
    return get_strv(key, v, false, ret, err);
}

static int
on_command(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_words(key, v, &c->s->command, err);
}

static int
on_entrypoint(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_words(key, v, &c->s->entrypoint, err);
}

static int
on_environment(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_kv_strv(key, v, &c->s->env, err);
    for (size_t i = 0; r == 0 && c->s->env && c->s->env[i]; i++) {
        const char *e = c->s->env[i];
        if (e[0] == '=' || !e[0])
            return bt_err_set(err, BT_EINVALID, "%s: empty variable name", key);
    }
    return r;
}

static int
on_working_dir(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_string(key, v, &c->s->working_dir, err);
    if (r == 0 && c->s->working_dir && c->s->working_dir[0] != '/')
        return bt_err_set(err, BT_EINVALID, "%s: '%s' must be an absolute path", key,
                          c->s->working_dir);
    return r;
}

static int
on_user(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_integer(v)) {
        free(c->s->user);
        c->s->user = bt_xasprintf("%lld", (long long) json_integer_value(v));
        return 0;
    }
    return get_string(key, v, &c->s->user, err);
}

static int
on_group_add(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_strv(key, v, false, &c->s->group_add, err);
}

static int
on_hostname(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_string(key, v, &c->s->hostname, err);
    if (r == 0 && c->s->hostname && strlen(c->s->hostname) > 64)
        return bt_err_set(err, BT_EINVALID, "%s: '%s' is longer than 64 characters", key,
                          c->s->hostname);
    return r;
}

static int
on_domainname(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_string(key, v, &c->s->domainname, err);
    if (r == 0 && c->s->domainname && strlen(c->s->domainname) > 64)
        return bt_err_set(err, BT_EINVALID, "%s: '%s' is longer than 64 characters", key,
                          c->s->domainname);
    return r;
}

static int
on_labels(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_kv_strv(key, v, &c->s->labels, err);
}

static int
on_tty(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->tty, err);
}

static int
on_stdin_open(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->stdin_open, err);
}

static int
on_init(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->init, err);
}

static int
on_stop_signal(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    const char *s = NULL;
    if (json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        int n = (int) json_integer_value(v);
        if (json_integer_value(v) < 1 || json_integer_value(v) > 64)
            return bt_err_set(err, BT_EINVALID, "%s: invalid signal %lld", key,
                              (long long) json_integer_value(v));
        c->s->stop_signal = n;
        return 0;
    }
    int r = want_string(key, v, &s, err);
    if (r < 0)
        return r;
    if (bt_signal_parse(s, &c->s->stop_signal) < 0)
        return bt_err_set(err, BT_EINVALID, "%s: invalid signal '%s'", key, s);
    return 0;
}

static int
on_stop_grace_period(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    const char *s = NULL;
    if (json_is_null(v))
        return 0;
    int r = want_string(key, v, &s, err);
    if (r < 0)
        return r;
    int64_t ns;
    r = compose_duration_parse(s, &ns, err);
    if (r < 0)
        return bt_err_wrap(err, "%s", key);
    if (ns < 0)
        return bt_err_set(err, BT_EINVALID, "%s: '%s' must not be negative", key, s);
    c->s->stop_grace_ns = ns;
    return 0;
}

/* ---- security ---- */

static int
on_privileged(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->privileged, err);
}

static int
on_read_only(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->read_only, err);
}

static int
on_cap_add(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_strv(key, v, false, &c->s->cap_add, err);
}

static int
on_cap_drop(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_strv(key, v, false, &c->s->cap_drop, err);
}

static int
read_seccomp(struct conv *c, const char *key, const char *path, struct bt_err **err)
{
    bt_autofree char *full = NULL;
    if (path[0] != '/') {
        if (!c->ctx || !c->ctx->project_dir)
            return bt_err_set(err, BT_EINVALID,
                              "%s: seccomp profile '%s' is relative and there is no project "
                              "directory",
                              key, path);
        full = bt_path_join(c->ctx->project_dir, path);
    } else {
        full = bt_xstrdup(path);
    }
    char *data = NULL;
    size_t len;
    int r = bt_file_read_at(AT_FDCWD, full, SECCOMP_PROFILE_MAX, &data, &len, err);
    if (r < 0)
        return bt_err_wrap(err, "%s: seccomp profile", key);
    free(c->s->seccomp_profile);
    c->s->seccomp_profile = data;
    c->s->seccomp = ENG_SECCOMP_PROFILE;
    return 0;
}

static void
strv_append(char ***l, const char *s)
{
    size_t n = 0;
    while (*l && (*l)[n])
        n++;
    *l = bt_xrealloc(*l, (n + 2) * sizeof **l);
    (*l)[n] = bt_xstrdup(s);
    (*l)[n + 1] = NULL;
}

static int
on_security_opt(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    bt_autofree char *k = NULL;
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a list of strings", key);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        const char *opt = NULL;
        free(k);
        k = bt_xasprintf("%s[%zu]", key, i);
        int r = want_string(k, e, &opt, err);
        if (r < 0)
            return r;
        /* Docker splits at the first '=' and still takes the old ':' separator. */
        size_t kl = strcspn(opt, "=:");
        const char *val = opt[kl] ? opt + kl + 1 : NULL;
        if (kl == 17 && strncmp(opt, "no-new-privileges", kl) == 0) {
            bool b = true;
            if (val && bt_parse_bool(val, &b) < 0)
                return bt_err_set(err, BT_EINVALID, "%s: invalid value in '%s'", k, opt);
            c->s->no_new_privileges = b;
        } else if (kl == 7 && strncmp(opt, "seccomp", 7) == 0 && val && *val) {
            if (strcmp(val, "unconfined") == 0) {
                c->s->seccomp = ENG_SECCOMP_UNCONFINED;
                c->s->seccomp_profile = NULL;
            } else {
                r = read_seccomp(c, k, val, err);
                if (r < 0)
                    return r;
            }
        } else if ((kl == 8 && strncmp(opt, "apparmor", 8) == 0) ||
                   (kl == 5 && strncmp(opt, "label", 5) == 0)) {
            strv_append(&c->s->security_opt_unsupported, opt);
        } else {
            int r2 = bt_err_set(err, BT_EUNSUPPORTED, "%s: security option '%s' is not supported",
                                k, opt);
            bt_err_hint(err, "berth knows seccomp=FILE, seccomp=unconfined, "
                             "no-new-privileges[:true|false]");
            return r2;
        }
    }
    return 0;
}

static bool
perms_ok(const char *p)
{
    if (!*p || strlen(p) > 3)
        return false;
    for (; *p; p++) {
        if (!strchr("rwm", *p) || strchr(p + 1, *p))
            return false;
    }
    return true;
}

static int
device_add(struct conv *c, const char *key, const char *src, const char *dst, const char *perms,
           struct bt_err **err)
{
    if (src[0] != '/')
        return bt_err_set(err, BT_EINVALID, "%s: device '%s' must be an absolute path", key, src);
    if (dst[0] != '/')
        return bt_err_set(err, BT_EINVALID, "%s: container path '%s' must be absolute", key, dst);
    if (!perms_ok(perms))
        return bt_err_set(err, BT_EINVALID,
                          "%s: invalid device permissions '%s' (a subset of 'rwm')", key, perms);
    struct eng_ctr_spec *s = c->s;
    s->devices = bt_xrealloc(s->devices, (s->ndevices + 1) * sizeof *s->devices);
    struct eng_device *d = &s->devices[s->ndevices++];
    *d = (struct eng_device){ .host_path = bt_xstrdup(src), .ctr_path = bt_xstrdup(dst) };
    snprintf(d->perms, sizeof d->perms, "%s", perms);
    return 0;
}

static int
on_devices(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    bt_autofree char *k = NULL;
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a list", key);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        int r;
        free(k);
        k = bt_xasprintf("%s[%zu]", key, i);
        if (json_is_object(e)) {
            const json_t *src = json_object_get(e, "source");
            const json_t *dst = json_object_get(e, "target");
            const json_t *perm = json_object_get(e, "permissions");
            if (!json_is_string(src))
                return bt_err_set(err, BT_EINVALID, "%s.source: must be a string", k);
            if (dst && !json_is_string(dst))
                return bt_err_set(err, BT_EINVALID, "%s.target: must be a string", k);
            if (perm && !json_is_string(perm))
                return bt_err_set(err, BT_EINVALID, "%s.permissions: must be a string", k);
            r = device_add(c, k, json_string_value(src),
                           dst ? json_string_value(dst) : json_string_value(src),
                           perm ? json_string_value(perm) : "rwm", err);
        } else if (json_is_string(e)) {
            /* HOST[:CTR[:PERMS]], and HOST:PERMS when the second part reads as permissions. */
            bt_autofree char *t = bt_xstrdup(json_string_value(e));
            char *f[3] = { t, NULL, NULL };
            size_t n = 1;
            for (char *p = t; *p && n < 3; p++) {
                if (*p == ':') {
                    *p = 0;
                    f[n++] = p + 1;
                }
            }
            if (n == 3 && strchr(f[2], ':'))
                return bt_err_set(err, BT_EINVALID, "%s: invalid device '%s'", k,
                                  json_string_value(e));
            if (n == 2 && perms_ok(f[1]))
                r = device_add(c, k, f[0], f[0], f[1], err);
            else
                r = device_add(c, k, f[0], n >= 2 ? f[1] : f[0], n == 3 ? f[2] : "rwm", err);
        } else {
            return bt_err_set(err, BT_EINVALID, "%s: must be a string or a mapping", k);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* "TYPE MAJOR:MINOR ACCESS" as Docker checks it: type a, b or c; major and minor a number or
 * '*'; access a subset of rwm. */
static bool
cgroup_rule_ok(const char *s)
{
    if (!strchr("abc", s[0]) || !s[0] || s[1] != ' ')
        return false;
    s += 2;
    for (int part = 0; part < 2; part++) {
        if (*s == '*')
            s++;
        else if (isdigit((unsigned char) *s))
            while (isdigit((unsigned char) *s))
                s++;
        else
            return false;
        if (*s++ != (part == 0 ? ':' : ' '))
            return false;
    }
    return perms_ok(s);
}

static int
on_device_cgroup_rules(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_strv(key, v, false, &c->s->device_cgroup_rules, err);
    for (size_t i = 0; r == 0 && c->s->device_cgroup_rules && c->s->device_cgroup_rules[i]; i++) {
        if (!cgroup_rule_ok(c->s->device_cgroup_rules[i]))
            return bt_err_set(err, BT_EINVALID,
                              "%s[%zu]: invalid rule '%s' (TYPE MAJOR:MINOR ACCESS, as 'c 1:3 "
                              "mr')",
                              key, i, c->s->device_cgroup_rules[i]);
    }
    return r;
}

static int
on_sysctls(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    char **l = NULL;
    int r = get_kv_strv(key, v, &l, err);
    struct eng_ctr_spec *s = c->s;
    for (size_t i = 0; r == 0 && l && l[i]; i++) {
        const char *eq = strchr(l[i], '=');
        if (!eq || eq == l[i]) {
            r = bt_err_set(err, BT_EINVALID, "%s: invalid sysctl '%s' (NAME=VALUE)", key, l[i]);
            break;
        }
        s->sysctls = bt_xrealloc(s->sysctls, (s->nsysctls + 1) * sizeof *s->sysctls);
        s->sysctls[s->nsysctls++] = (struct eng_kv){ .key = bt_xstrndup(l[i], (size_t) (eq - l[i])),
                                                     .value = bt_xstrdup(eq + 1) };
    }
    bt_strv_free(l);
    return r;
}

static const struct {
    const char *name;
    int resource;
} rlimits[] = {
    { "as", RLIMIT_AS },
    { "core", RLIMIT_CORE },
    { "cpu", RLIMIT_CPU },
    { "data", RLIMIT_DATA },
    { "fsize", RLIMIT_FSIZE },
    { "locks", RLIMIT_LOCKS },
    { "memlock", RLIMIT_MEMLOCK },
    { "msgqueue", RLIMIT_MSGQUEUE },
    { "nice", RLIMIT_NICE },
    { "nofile", RLIMIT_NOFILE },
    { "nproc", RLIMIT_NPROC },
    { "rss", RLIMIT_RSS },
    { "rtprio", RLIMIT_RTPRIO },
    { "rttime", RLIMIT_RTTIME },
    { "sigpending", RLIMIT_SIGPENDING },
    { "stack", RLIMIT_STACK },
};

static int
ulimit_value(const char *key, const json_t *v, uint64_t *ret, struct bt_err **err)
{
    int64_t n;
    int r = get_int64(key, v, -1, INT64_MAX, &n, err);
    if (r < 0)
        return r;
    *ret = n < 0 ? RLIM_INFINITY : (uint64_t) n;
    return 0;
}

static int
on_ulimits(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", key);
    struct eng_ctr_spec *s = c->s;
    const char *name;
    const json_t *e;
    json_object_foreach((json_t *) v, name, e) {
        bt_autofree char *k = bt_xasprintf("%s.%s", key, name);
        int res = -1;
        const char *names[BT_ARRAY_SIZE(rlimits)];
        for (size_t i = 0; i < BT_ARRAY_SIZE(rlimits); i++) {
            names[i] = rlimits[i].name;
            if (strcmp(name, rlimits[i].name) == 0)
                res = rlimits[i].resource;
        }
        if (res < 0) {
            int r = bt_err_set(err, BT_EINVALID, "%s: unknown ulimit '%s'", key, name);
            const char *close = bt_str_closest(name, names, BT_ARRAY_SIZE(names));
            if (close)
                bt_err_hint(err, "did you mean '%s'?", close);
            return r;
        }
        uint64_t soft, hard;
        int r;
        if (json_is_object(e)) {
            bt_autofree char *ks = bt_xasprintf("%s.soft", k);
            bt_autofree char *kh = bt_xasprintf("%s.hard", k);
            const json_t *js = json_object_get(e, "soft"), *jh = json_object_get(e, "hard");
            if (!js || !jh)
                return bt_err_set(err, BT_EINVALID, "%s: needs both soft and hard", k);
            if ((r = ulimit_value(ks, js, &soft, err)) < 0 ||
                (r = ulimit_value(kh, jh, &hard, err)) < 0)
                return r;
        } else {
            if ((r = ulimit_value(k, e, &soft, err)) < 0)
                return r;
            hard = soft;
        }
        if (soft > hard)
            return bt_err_set(err, BT_EINVALID, "%s: soft limit %llu is above the hard limit %llu",
                              k, (unsigned long long) soft, (unsigned long long) hard);
        s->ulimits = bt_xrealloc(s->ulimits, (s->nulimits + 1) * sizeof *s->ulimits);
        s->ulimits[s->nulimits++] = (struct eng_ulimit){ res, soft, hard };
    }
    return 0;
}

static int
on_oom_score_adj(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int64_t n;
    if (json_is_null(v))
        return 0;
    int r = get_int64(key, v, -1000, 1000, &n, err);
    if (r < 0)
        return r;
    c->s->oom_score_adj = (int) n;
    c->s->oom_score_adj_set = true;
    return 0;
}

static int
on_oom_kill_disable(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_bool(key, v, &c->s->oom_kill_disable, err);
}

/* ---- namespaces ---- */

/* "service:X" → X's container name through the context; "container:X" → X. */
static int
ns_target(struct conv *c, const char *key, const char *val, char **ret, struct bt_err **err)
{
    const char *rest;
    if ((rest = bt_startswith(val, "container:"))) {
        if (!*rest)
            return bt_err_set(err, BT_EINVALID, "%s: '%s' names no container", key, val);
        *ret = bt_xstrdup(rest);
        return 0;
    }
    rest = bt_startswith(val, "service:");
    BT_ASSERT(rest);
    if (!*rest)
        return bt_err_set(err, BT_EINVALID, "%s: '%s' names no service", key, val);
    if (!c->ctx || !c->ctx->container_name)
        return bt_err_set(err, BT_EINVALID, "%s: '%s' needs the project to find the service", key,
                          val);
    char *name = c->ctx->container_name(rest, c->ctx->userdata);
    if (!name)
        return bt_err_set(err, BT_EINVALID, "%s: unknown service '%s'", key, rest);
    *ret = name;
    return 0;
}

static int
get_ns(struct conv *c, const char *key, const json_t *v, bool net, enum eng_ns_mode *ret_mode,
       char **ret_with, struct bt_err **err)
{
    const char *s = NULL;
    if (json_is_null(v))
        return 0;
    int r = want_string(key, v, &s, err);
    if (r < 0)
        return r;
    if (bt_startswith(s, "service:") || bt_startswith(s, "container:")) {
        char *with = NULL;
        r = ns_target(c, key, s, &with, err);
        if (r < 0)
            return r;
        free(*ret_with);
        *ret_with = with;
        *ret_mode = ENG_NS_MODE_SHARE;
        return 0;
    }
    if (strcmp(s, "host") == 0)
        *ret_mode = ENG_NS_MODE_HOST;
    else if (net && strcmp(s, "none") == 0)
        *ret_mode = ENG_NS_MODE_NONE;
    else if (net && (strcmp(s, "bridge") == 0 || strcmp(s, "default") == 0))
        *ret_mode = ENG_NS_MODE_PRIVATE;
    else if (!net && (strcmp(s, "private") == 0 || strcmp(s, "shareable") == 0 || !*s))
        *ret_mode = ENG_NS_MODE_PRIVATE;
    else
        return bt_err_set(err, BT_EINVALID, "%s: invalid mode '%s' (%s)", key, s,
                          net ? "none, host, bridge, service:NAME or container:NAME"
                              : "host, service:NAME or container:NAME");
    return 0;
}

static int
on_pid(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_string(v) &&
        (!strcmp(json_string_value(v), "private") || !strcmp(json_string_value(v), "shareable")))
        return bt_err_set(err, BT_EINVALID,
                          "%s: invalid mode '%s' (host, service:NAME or "
                          "container:NAME)",
                          key, json_string_value(v));
    return get_ns(c, key, v, false, &c->s->pid_mode, &c->s->pid_with, err);
}

static int
on_ipc(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_ns(c, key, v, false, &c->s->ipc_mode, &c->s->ipc_with, err);
}

static int
on_network_mode(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_ns(c, key, v, true, &c->s->net_mode, &c->s->net_with, err);
}

/* ---- filesystem ---- */

static struct eng_mount *
mount_new(struct eng_ctr_spec *s)
{
    s->mounts = bt_xrealloc(s->mounts, (s->nmounts + 1) * sizeof *s->mounts);
    struct eng_mount *m = &s->mounts[s->nmounts++];
    *m = (struct eng_mount){ 0 };
    return m;
}

static int
get_mode(const char *key, const json_t *v, uint32_t *ret, struct bt_err **err)
{
    int64_t n;
    if (json_is_string(v)) {
        char *end;
        errno = 0;
        unsigned long m = strtoul(json_string_value(v), &end, 8);
        if (errno || *end || end == json_string_value(v) || m > 07777)
            return bt_err_set(err, BT_EINVALID, "%s: invalid mode '%s' (octal)", key,
                              json_string_value(v));
        *ret = (uint32_t) m;
        return 0;
    }
    int r = get_int64(key, v, 0, 07777, &n, err);
    if (r < 0)
        return r;
    *ret = (uint32_t) n;
    return 0;
}

/* "PATH[:size=N,mode=OCTAL,ro,...]" (the tmpfs key, and docker's --tmpfs). */
static int
tmpfs_short(struct conv *c, const char *key, const char *text, struct bt_err **err)
{
    bt_autofree char *t = bt_xstrdup(text);
    char *opts = strchr(t, ':');
    if (opts)
        *opts++ = 0;
    if (t[0] != '/')
        return bt_err_set(err, BT_EINVALID, "%s: '%s' must be an absolute path", key, t);
    struct eng_mount m = { .type = ENG_MOUNT_TMPFS };
    for (char *o = opts, *next; o && *o; o = next) {
        next = strchr(o, ',');
        if (next)
            *next++ = 0;
        const char *val;
        int64_t n;
        if ((val = bt_startswith(o, "size="))) {
            if (compose_bytes_parse(val, &n, err) < 0)
                return bt_err_wrap(err, "%s: tmpfs size", key);
            m.tmpfs_size = (uint64_t) n;
        } else if ((val = bt_startswith(o, "mode="))) {
            json_t *jv = json_string(val);
            int r = get_mode(key, jv, &m.tmpfs_mode, err);
            json_decref(jv);
            if (r < 0)
                return r;
        } else if (strcmp(o, "ro") == 0) {
            m.read_only = true;
        } else if (strcmp(o, "rw") == 0) {
            m.read_only = false;
        } else if (strcmp(o, "noexec") && strcmp(o, "nosuid") && strcmp(o, "nodev")) {
            /* noexec, nosuid and nodev are what berth mounts a tmpfs with anyway. */
            return bt_err_set(err, BT_EUNSUPPORTED, "%s: tmpfs option '%s' is not supported", key,
                              o);
        }
    }
    struct eng_mount *mp = mount_new(c->s);
    *mp = m;
    mp->target = bt_xstrdup(t);
    return 0;
}

static int
on_tmpfs(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    char **l = NULL;
    int r = get_strv(key, v, true, &l, err);
    for (size_t i = 0; r == 0 && l && l[i]; i++) {
        bt_autofree char *k = bt_xasprintf("%s[%zu]", key, i);
        r = tmpfs_short(c, k, l[i], err);
    }
    bt_strv_free(l);
    return r;
}

static const struct {
    const char *name;
    unsigned long flags;
} propagations[] = {
    { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
    { "shared", MS_SHARED },   { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },     { "rslave", MS_SLAVE | MS_REC },
};

/* Unknown keys of a sub-object are refused: they would change what is mounted. */
static int
check_keys(const char *key, const json_t *o, const char *const *known, size_t n,
           struct bt_err **err)
{
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *) o, k, e) {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok && !bt_startswith(k, "x-"))
            return bt_err_set(err, BT_EUNSUPPORTED, "%s.%s: not supported by berth yet", key, k);
    }
    return 0;
}

static int
volume_long(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    static const char *const top[] = { "type", "source", "target", "read_only",
                                       "bind", "volume", "tmpfs",  "consistency" };
    static const char *const bindk[] = { "propagation", "create_host_path" };
    static const char *const volk[] = { "nocopy" };
    static const char *const tmpk[] = { "size", "mode" };
    if (!json_is_object(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", key);
    int r = check_keys(key, v, top, BT_ARRAY_SIZE(top), err);
    if (r < 0)
        return r;
    const char *type = NULL, *target = NULL;
    bt_autofree char *kt = bt_xasprintf("%s.type", key);
    bt_autofree char *kg = bt_xasprintf("%s.target", key);
    bt_autofree char *ks = bt_xasprintf("%s.source", key);
    if ((r = want_string(kt, json_object_get(v, "type"), &type, err)) < 0 ||
        (r = want_string(kg, json_object_get(v, "target"), &target, err)) < 0)
        return r;
    if (target[0] != '/')
        return bt_err_set(err, BT_EINVALID, "%s: '%s' must be an absolute path", kg, target);
    const json_t *src = json_object_get(v, "source");
    if (src && !json_is_string(src) && !json_is_null(src))
        return bt_err_set(err, BT_EINVALID, "%s: must be a string", ks);
    const char *source =
        json_is_string(src) && *json_string_value(src) ? json_string_value(src) : NULL;
    struct eng_mount m = { 0 };
    bt_autofree char *kr = bt_xasprintf("%s.read_only", key);
    const json_t *ro = json_object_get(v, "read_only");
    if (ro && (r = get_bool(kr, ro, &m.read_only, err)) < 0)
        return r;
    const json_t *sub;
    if (strcmp(type, "bind") == 0) {
        m.type = ENG_MOUNT_BIND;
        if (!source || source[0] != '/')
            return bt_err_set(err, BT_EINVALID, "%s: a bind mount needs an absolute source", ks);
        if ((sub = json_object_get(v, "bind"))) {
            bt_autofree char *kb = bt_xasprintf("%s.bind", key);
            if (!json_is_object(sub))
                return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", kb);
            if ((r = check_keys(kb, sub, bindk, BT_ARRAY_SIZE(bindk), err)) < 0)
                return r;
            const json_t *p = json_object_get(sub, "propagation");
            if (p) {
                bool found = false;
                for (size_t i = 0; i < BT_ARRAY_SIZE(propagations) && json_is_string(p); i++) {
                    if (strcmp(json_string_value(p), propagations[i].name) == 0) {
                        m.propagation = propagations[i].flags;
                        found = true;
                    }
                }
                if (!found)
                    return bt_err_set(err, BT_EINVALID,
                                      "%s.propagation: must be one of private, rprivate, shared, "
                                      "rshared, slave, rslave",
                                      kb);
            }
            const json_t *chp = json_object_get(sub, "create_host_path");
            bt_autofree char *kc = bt_xasprintf("%s.create_host_path", kb);
            if (chp && (r = get_bool(kc, chp, &m.create_host_path, err)) < 0)
                return r;
        }
    } else if (strcmp(type, "volume") == 0) {
        m.type = ENG_MOUNT_VOLUME;
        if ((sub = json_object_get(v, "volume"))) {
            bt_autofree char *kv = bt_xasprintf("%s.volume", key);
            if (!json_is_object(sub))
                return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", kv);
            if ((r = check_keys(kv, sub, volk, BT_ARRAY_SIZE(volk), err)) < 0)
                return r;
            const json_t *nc = json_object_get(sub, "nocopy");
            bt_autofree char *kn = bt_xasprintf("%s.nocopy", kv);
            if (nc && (r = get_bool(kn, nc, &m.nocopy, err)) < 0)
                return r;
        }
    } else if (strcmp(type, "tmpfs") == 0) {
        m.type = ENG_MOUNT_TMPFS;
        source = NULL;
        if ((sub = json_object_get(v, "tmpfs"))) {
            bt_autofree char *kf = bt_xasprintf("%s.tmpfs", key);
            if (!json_is_object(sub))
                return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", kf);
            if ((r = check_keys(kf, sub, tmpk, BT_ARRAY_SIZE(tmpk), err)) < 0)
                return r;
            const json_t *size = json_object_get(sub, "size"), *mode = json_object_get(sub, "mode");
            bt_autofree char *kz = bt_xasprintf("%s.size", kf);
            bt_autofree char *km = bt_xasprintf("%s.mode", kf);
            int64_t n;
            if (size) {
                if ((r = get_bytes(kz, size, &n, err)) < 0)
                    return r;
                m.tmpfs_size = (uint64_t) n;
            }
            if (mode && (r = get_mode(km, mode, &m.tmpfs_mode, err)) < 0)
                return r;
        }
    } else {
        return bt_err_set(err, BT_EUNSUPPORTED, "%s: volume type '%s' is not supported by berth",
                          kt, type);
    }
    struct eng_mount *mp = mount_new(c->s);
    *mp = m;
    mp->source = source ? bt_xstrdup(source) : NULL;
    mp->target = bt_xstrdup(target);
    return 0;
}

static int
on_volumes(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a list", key);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        bt_autofree char *k = bt_xasprintf("%s[%zu]", key, i);
        int r = volume_long(c, k, e, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
on_volumes_from(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    char **l = NULL;
    int r = get_strv(key, v, false, &l, err);
    if (r < 0)
        return r;
    for (size_t i = 0; l && l[i]; i++) {
        bt_autofree char *k = bt_xasprintf("%s[%zu]", key, i);
        /* [service:|container:]NAME[:ro|:rw]; a bare NAME is a service, as compose. */
        bt_autofree char *ref = NULL;
        char mode[4] = "";
        char *last = strrchr(l[i], ':');
        if (last && (!strcmp(last, ":ro") || !strcmp(last, ":rw"))) {
            memcpy(mode, last, sizeof mode);
            *last = 0;
        }
        if (bt_startswith(l[i], "container:") || bt_startswith(l[i], "service:"))
            ref = bt_xstrdup(l[i]);
        else
            ref = bt_xasprintf("service:%s", l[i]);
        char *name = NULL;
        r = ns_target(c, k, ref, &name, err);
        if (r < 0)
            break;
        free(l[i]);
        l[i] = bt_xasprintf("%s%s", name, mode);
        free(name);
    }
    if (r < 0) {
        bt_strv_free(l);
        return r;
    }
    bt_strv_free(c->s->volumes_from);
    c->s->volumes_from = l;
    return 0;
}

static int
on_shm_size(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int64_t n;
    if (json_is_null(v))
        return 0;
    int r = get_bytes(key, v, &n, err);
    if (r == 0)
        c->s->shm_size = (uint64_t) n;
    return r;
}

/* ---- resources ---- */

static int
on_mem_limit(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return json_is_null(v) ? 0 : get_bytes(key, v, &c->s->mem_limit, err);
}

static int
on_mem_reservation(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return json_is_null(v) ? 0 : get_bytes(key, v, &c->s->mem_reservation, err);
}

static int
on_memswap_limit(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if ((json_is_integer(v) && json_integer_value(v) == -1) ||
        (json_is_string(v) && strcmp(json_string_value(v), "-1") == 0)) {
        c->s->memswap_limit = -1;
        return 0;
    }
    return get_bytes(key, v, &c->s->memswap_limit, err);
}

static int
on_cpus(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    double d;
    if (json_is_null(v))
        return 0;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        char *end;
        errno = 0;
        d = strtod(json_string_value(v), &end);
        if (errno || *end || end == json_string_value(v))
            return bt_err_set(err, BT_EINVALID, "%s: '%s' is not a number", key,
                              json_string_value(v));
    } else {
        return bt_err_set(err, BT_EINVALID, "%s: must be a number", key);
    }
    if (!isfinite(d) || d < 0 || d > 4096)
        return bt_err_set(err, BT_EINVALID, "%s: %g is out of range", key, d);
    c->s->cpus = d;
    return 0;
}

static int
on_cpu_shares(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int64_t n;
    if (json_is_null(v))
        return 0;
    int r = get_int64(key, v, 0, 262144, &n, err);
    if (r == 0)
        c->s->cpu_shares = (uint64_t) n;
    return r;
}

static int
on_cpuset(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    int r = get_string(key, v, &c->s->cpuset, err);
    for (const char *p = c->s->cpuset; r == 0 && p && *p; p++) {
        if (!isdigit((unsigned char) *p) && *p != ',' && *p != '-')
            return bt_err_set(err, BT_EINVALID, "%s: invalid CPU list '%s'", key, c->s->cpuset);
    }
    return r;
}

static int
on_pids_limit(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return json_is_null(v) ? 0 : get_int64(key, v, -1, INT64_MAX, &c->s->pids_limit, err);
}

static int
on_blkio_config(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    static const char *const known[] = { "weight" };
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", key);
    int r = check_keys(key, v, known, BT_ARRAY_SIZE(known), err);
    if (r < 0)
        return r;
    const json_t *w = json_object_get(v, "weight");
    int64_t n;
    bt_autofree char *k = bt_xasprintf("%s.weight", key);
    if (w && (r = get_int64(k, w, 10, 1000, &n, err)) < 0)
        return r;
    if (w)
        c->s->blkio_weight = (uint16_t) n;
    return 0;
}

static int
on_logging(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return bt_err_set(err, BT_EINVALID, "%s: must be a mapping", key);
    const json_t *drv = json_object_get(v, "driver");
    if (drv && !json_is_null(drv) &&
        (!json_is_string(drv) || strcmp(json_string_value(drv), "json-file") != 0)) {
        int r = bt_err_set(err, BT_EUNSUPPORTED, "%s.driver: log driver '%s' is not supported", key,
                           json_is_string(drv) ? json_string_value(drv) : "?");
        bt_err_hint(err, "berth keeps logs in json-file form; remove the driver or use "
                         "json-file");
        return r;
    }
    const json_t *opts = json_object_get(v, "options");
    if (!opts || json_is_null(opts))
        return 0;
    if (!json_is_object(opts))
        return bt_err_set(err, BT_EINVALID, "%s.options: must be a mapping", key);
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *) opts, k, e) {
        bt_autofree char *kk = bt_xasprintf("%s.options.%s", key, k);
        int r;
        if (strcmp(k, "max-size") == 0) {
            int64_t n;
            if (json_is_string(e) && strcmp(json_string_value(e), "-1") == 0)
                n = 0;
            else if ((r = get_bytes(kk, e, &n, err)) < 0)
                return r;
            c->s->log_max_size = (uint64_t) n;
        } else if (strcmp(k, "max-file") == 0) {
            int64_t n;
            if ((r = get_int64(kk, e, 1, 1000, &n, err)) < 0)
                return r;
            c->s->log_max_file = (unsigned) n;
        } else {
            return bt_err_set(err, BT_EUNSUPPORTED, "%s: log option '%s' is not supported", kk, k);
        }
    }
    if (c->s->log_max_file > 1 && c->s->log_max_size == 0)
        return bt_err_set(err, BT_EINVALID, "%s.options.max-file: needs max-size", key);
    return 0;
}

static int
on_image(struct conv *c, const char *key, const json_t *v, struct bt_err **err)
{
    return get_string(key, v, &c->s->image, err);
}

typedef int (*key_fn)(struct conv *c, const char *key, const json_t *v, struct bt_err **err);

static const struct {
    const char *key;
    key_fn fn;
} handlers[] = {
    { "blkio_config", on_blkio_config },
    { "cap_add", on_cap_add },
    { "cap_drop", on_cap_drop },
    { "command", on_command },
    { "cpu_shares", on_cpu_shares },
    { "cpus", on_cpus },
    { "cpuset", on_cpuset },
    { "device_cgroup_rules", on_device_cgroup_rules },
    { "devices", on_devices },
    { "domainname", on_domainname },
    { "entrypoint", on_entrypoint },
    { "environment", on_environment },
    { "group_add", on_group_add },
    { "hostname", on_hostname },
    { "image", on_image },
    { "init", on_init },
    { "ipc", on_ipc },
    { "labels", on_labels },
    { "logging", on_logging },
    { "mem_limit", on_mem_limit },
    { "mem_reservation", on_mem_reservation },
    { "memswap_limit", on_memswap_limit },
    { "network_mode", on_network_mode },
    { "oom_kill_disable", on_oom_kill_disable },
    { "oom_score_adj", on_oom_score_adj },
    { "pid", on_pid },
    { "pids_limit", on_pids_limit },
    { "privileged", on_privileged },
    { "read_only", on_read_only },
    { "security_opt", on_security_opt },
    { "shm_size", on_shm_size },
    { "stdin_open", on_stdin_open },
    { "stop_grace_period", on_stop_grace_period },
    { "stop_signal", on_stop_signal },
    { "sysctls", on_sysctls },
    { "tmpfs", on_tmpfs },
    { "tty", on_tty },
    { "ulimits", on_ulimits },
    { "user", on_user },
    { "volumes", on_volumes },
    { "volumes_from", on_volumes_from },
    { "working_dir", on_working_dir },
};

/* Keys read by other layers (networks, ports, health, the graph, builds, the CLI). */
static const char *const other_layers[] = {
    "annotations",    "attach",   "build",       "container_name", "depends_on", "deploy",
    "develop",        "dns",      "dns_opt",     "dns_search",     "env_file",   "expose",
    "external_links", "extends",  "extra_hosts", "healthcheck",    "label_file", "links",
    "mac_address",    "networks", "platform",    "ports",          "profiles",   "pull_policy",
    "restart",        "scale",
};

static int
check_after(struct conv *c, struct bt_err **err)
{
    struct eng_ctr_spec *s = c->s;
    uint64_t caps;
    int r = eng_caps_compute(s->privileged, s->cap_add, s->cap_drop, &caps, err);
    if (r < 0)
        return r;
    bool net_private = s->net_mode != ENG_NS_MODE_HOST;
    bool ipc_private = s->ipc_mode != ENG_NS_MODE_HOST;
    /* A container sharing another's network namespace shares its uts one too (Docker). */
    bool uts_private = s->net_mode != ENG_NS_MODE_HOST;
    for (size_t i = 0; i < s->nsysctls; i++) {
        r = eng_sysctl_check(s->sysctls[i].key, net_private, ipc_private, uts_private, err);
        if (r < 0)
            return bt_err_wrap(err, "sysctls");
    }
    if (s->hostname && s->net_mode == ENG_NS_MODE_SHARE)
        return bt_err_set(err, BT_EINVALID,
                          "hostname: cannot be set with network_mode 'container:' or 'service:'");
    return 0;
}

int
orch_ctr_spec_from_json(const json_t *service, const char *name,
                        const struct orch_ctr_spec_ctx *ctx, struct eng_ctr_spec *ret,
                        struct bt_err **err)
{
    if (!json_is_object(service))
        return bt_err_set(err, BT_EINVALID, "service is not a mapping");
    struct eng_ctr_spec s = { .stop_grace_ns = -1 };
    struct conv c = { .ctx = ctx, .s = &s };
    s.name = name ? bt_xstrdup(name) : NULL;
    const char *key;
    const json_t *v;
    int r = 0;
    json_object_foreach((json_t *) service, key, v) {
        key_fn fn = NULL;
        for (size_t i = 0; i < BT_ARRAY_SIZE(handlers) && !fn; i++) {
            if (strcmp(key, handlers[i].key) == 0)
                fn = handlers[i].fn;
        }
        if (fn) {
            r = fn(&c, key, v, err);
            if (r < 0)
                goto fail;
            continue;
        }
        bool other = bt_startswith(key, "x-") != NULL;
        for (size_t i = 0; i < BT_ARRAY_SIZE(other_layers) && !other; i++)
            other = strcmp(key, other_layers[i]) == 0;
        if (!other) {
            r = bt_err_set(err, BT_EUNSUPPORTED, "%s: not supported by berth yet", key);
            goto fail;
        }
    }
    if (!s.image) {
        r = bt_err_set(err, BT_EINVALID, "image: missing (berth cannot build images)");
        goto fail;
    }
    r = check_after(&c, err);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    eng_ctr_spec_release(&s);
    return r;
}
