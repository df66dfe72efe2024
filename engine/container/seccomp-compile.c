/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From an evaluated seccomp profile to a classic BPF program, through libseccomp (as runc
 * does: rules whose action is the default one are dropped, names the architecture lacks are
 * skipped, an argument index given twice splits a rule into one rule per condition), and the
 * loader the container child calls: one seccomp(2) call, no allocation.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/container/seccomp-int.h"

static void
ctx_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

/* "SCMP_ARCH_X86_64" to libseccomp's token; 0 when this libseccomp does not know it. */
static uint32_t
arch_token(const char *name)
{
    static const char prefix[] = "SCMP_ARCH_";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    char lower[32];
    size_t i;
    for (i = 0; name[sizeof prefix - 1 + i] && i < sizeof lower - 1; i++) {
        char c = name[sizeof prefix - 1 + i];
        lower[i] = (char) (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    lower[i] = '\0';
    return seccomp_arch_resolve_name(lower);
}

static int
arch_add(scmp_filter_ctx ctx, const char *name, struct bt_err **err)
{
    uint32_t token = arch_token(name);
    if (!token)
        return bt_err_set(err, BT_EUNSUPPORTED, "architecture '%s' is unknown to libseccomp", name);
    int r = seccomp_arch_add(ctx, token);
    if (r < 0 && r != -EEXIST)
        return bt_err_errno(err, r, "cannot add architecture '%s'", name);
    return 0;
}

static int
arches_add(scmp_filter_ctx ctx, const struct eng_seccomp_profile *p, const char *native,
           struct bt_err **err)
{
    for (size_t i = 0; p->arches && p->arches[i]; i++)
        if (arch_add(ctx, p->arches[i], err) < 0)
            return -BT_EUNSUPPORTED;
    for (unsigned i = 0; i < p->narchmap; i++) {
        if (strcmp(p->archmap[i].arch, native) != 0)
            continue;
        for (size_t s = 0; p->archmap[i].subs && p->archmap[i].subs[s]; s++)
            if (arch_add(ctx, p->archmap[i].subs[s], err) < 0)
                return -BT_EUNSUPPORTED;
        break;
    }
    return 0;
}

static int
rule_add(scmp_filter_ctx ctx, uint32_t target, const struct scmp_rule *r, const char *name,
         struct bt_err **err)
{
    int nr = seccomp_syscall_resolve_name_arch(target, name);
    /* A name this architecture (or libseccomp) does not know: skipped, as Docker does. */
    if (nr == __NR_SCMP_ERROR)
        return 0;
    struct scmp_arg_cmp cmp[SCMP_MAX_ARGS];
    unsigned seen = 0;
    bool repeated = false;
    for (unsigned a = 0; a < r->nargs; a++) {
        cmp[a] = (struct scmp_arg_cmp){ .arg = r->args[a].index,
                                        .op = r->args[a].op,
                                        .datum_a = r->args[a].value,
                                        .datum_b = r->args[a].value_two };
        repeated |= (seen >> r->args[a].index) & 1;
        seen |= 1u << r->args[a].index;
    }
    int ret = 0;
    if (repeated) {
        /* The same argument twice cannot be ANDed: one rule per condition (runc's reading). */
        for (unsigned a = 0; a < r->nargs && ret == 0; a++)
            ret = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp[a]);
    } else {
        ret = seccomp_rule_add_array(ctx, r->action, nr, r->nargs, cmp);
    }
    if (ret < 0)
        return bt_err_errno(err, ret, "cannot add a rule for syscall '%s'", name);
    return 0;
}

static int
export_bpf(scmp_filter_ctx ctx, struct eng_bpf *ret, struct bt_err **err)
{
    bt_autoclose int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create a memfd for the seccomp program");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return bt_err_errno(err, r, "cannot export the seccomp program");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return bt_err_errno(err, -errno, "cannot stat the seccomp program");
    size_t size = (size_t) st.st_size;
    if (size == 0 || size % sizeof(struct sock_filter) != 0)
        return bt_err_set(err, EIO, "libseccomp exported a program of %zu bytes", size);
    if (size / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return bt_err_set(err, BT_ETOOBIG,
                          "the seccomp program has %zu instructions, more than the kernel's %d",
                          size / sizeof(struct sock_filter), BPF_MAXINSNS);
    bt_autofree struct sock_filter *insns = bt_xmalloc(size);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, (char *) insns + done, size - done, (off_t) done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return bt_err_errno(err, n < 0 ? -errno : -EIO, "cannot read the seccomp program");
        done += (size_t) n;
    }
    ret->len = (unsigned short) (size / sizeof(struct sock_filter));
    ret->insns = BT_TAKE_PTR(insns);
    return 0;
}

static int
compile(const struct eng_seccomp_profile *p, const struct eng_seccomp_env *env, struct eng_bpf *ret,
        struct bt_err **err)
{
    const char *native = scmp_env_arch_name(env);
    uint32_t target = native ? arch_token(native) : 0;
    if (!target)
        return bt_err_set(err, BT_EUNSUPPORTED, "no seccomp support for architecture '%s'",
                          env->arch ? env->arch : "(none)");
    /* libseccomp translates syscall numbers through the native architecture's table, so a
     * filter for another machine would be wrong in places: refuse rather than guess. */
    if (target != seccomp_arch_native())
        return bt_err_set(err, BT_EUNSUPPORTED,
                          "cannot compile a seccomp filter for '%s' on this machine", env->arch);
    __attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = seccomp_init(p->default_action);
    if (!ctx)
        return bt_err_set(err, EINVAL, "libseccomp refused the default action");
    int r;
    /* berth sets no_new_privs itself, in its own order. */
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        return bt_err_errno(err, r, "cannot configure the seccomp filter");
    if (arches_add(ctx, p, native, err) < 0)
        return -BT_EUNSUPPORTED;
    for (unsigned i = 0; i < p->nrules; i++) {
        const struct scmp_rule *rule = &p->rules[i];
        /* libseccomp refuses a rule that repeats the default action; it changes nothing. */
        if (rule->action == p->default_action || !scmp_rule_applies(rule, env))
            continue;
        for (size_t k = 0; rule->names && rule->names[k]; k++)
            if (rule_add(ctx, target, rule, rule->names[k], err) < 0)
                return -EINVAL;
    }
    if (export_bpf(ctx, ret, err) < 0)
        return -EIO;
    ret->flags = p->flags;
    return 0;
}

int
eng_seccomp_compile(const struct eng_seccomp_profile *p, const struct eng_seccomp_env *env,
                    struct eng_bpf *ret, struct bt_err **err)
{
    struct eng_bpf b = { 0 };
    if (!p->unconfined) {
        int r = compile(p, env, &b, err);
        if (r < 0)
            return bt_err_wrap(err, "seccomp");
    }
    *ret = b;
    return 0;
}

void
eng_bpf_release(struct eng_bpf *b)
{
    if (!b)
        return;
    free(b->insns);
    *b = (struct eng_bpf){ 0 };
}

int
eng_seccomp_load(const struct eng_bpf *b)
{
    if (b->len == 0)
        return 0;
    struct sock_fprog prog = { .len = b->len, .filter = b->insns };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog) < 0)
        return -errno;
    return 0;
}
