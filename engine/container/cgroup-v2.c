/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2: the limits written into the container's directory of the unified tree for the
 * controllers that live there (memory, cpu, cpuset, pids, io), with Docker's values converted
 * as runc converts them, and the usage read back. Controllers bound to v1 (hybrid hosts) are
 * cgroup-v1.c's. The device allowlist is a BPF_PROG_TYPE_CGROUP_DEVICE program assembled
 * here from the same rules v1 writes to devices.allow.
 */
#define LOG_TAG "cgroup"

#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/container/cgroup-int.h"

static bool
on_v2(const struct eng_cgroup *cg, enum cg_ctrl c)
{
    return cg->h->v1_of[c] < 0 && (cg->h->v2_ctrls & CG_BIT(c));
}

/* runc's mapping of cpu.shares (2..262144, default 1024) onto cpu.weight (1..10000, default
 * 100): linear, so 2 -> 1 and 262144 -> 10000. */
static uint64_t
shares_to_weight(uint64_t shares)
{
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio weight (10..1000) onto io.weight (1..10000), as runc does. */
static uint64_t
blkio_to_io_weight(uint64_t w)
{
    return 1 + ((w - 10) * 9999) / 990;
}

static int
apply_memory(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    int r;
    if (l->mem_limit && (r = cg_write_i64(dir, "memory.max", l->mem_limit, err)) < 0)
        return r;
    if (l->mem_reservation && (r = cg_write_i64(dir, "memory.low", l->mem_reservation, err)) < 0)
        return r;
    if (!l->mem_limit)
        return 0;
    /* Docker's memswap is memory + swap; v2 limits swap alone. Unset: as much swap as memory. */
    if (!cg_has_file(dir, "memory.swap.max")) {
        if (!l->memswap_limit)
            return 0;
        r = bt_err_set(err, BT_EUNSUPPORTED,
                       "memswap limit needs swap accounting, which this "
                       "kernel lacks (no memory.swap.max)");
        bt_err_hint(err, "drop memswap_limit, or enable swap accounting in the kernel");
        return r;
    }
    if (l->memswap_limit == -1)
        return cg_write(dir, "memory.swap.max", "max", err);
    int64_t swap = l->memswap_limit ? l->memswap_limit - l->mem_limit : l->mem_limit;
    return cg_write_i64(dir, "memory.swap.max", swap, err);
}

static int
apply_cpu(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    int r;
    if (l->cpus > 0) {
        int64_t quota = (int64_t) (l->cpus * 100000 + 0.5);
        if (quota < 1000)
            quota = 1000; /* the kernel's minimum: 1 ms */
        char buf[64];
        snprintf(buf, sizeof buf, "%" PRId64 " 100000", quota);
        if ((r = cg_write(dir, "cpu.max", buf, err)) < 0)
            return r;
    }
    if (l->cpu_shares &&
        (r = cg_write_i64(dir, "cpu.weight", (int64_t) shares_to_weight(l->cpu_shares), err)) < 0)
        return r;
    return 0;
}

static int
apply_io(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    if (!l->blkio_weight)
        return 0;
    if (cg_has_file(dir, "io.bfq.weight"))
        return cg_write_i64(dir, "io.bfq.weight", l->blkio_weight, err);
    if (cg_has_file(dir, "io.weight")) {
        char buf[32];
        snprintf(buf, sizeof buf, "default %" PRIu64, blkio_to_io_weight(l->blkio_weight));
        return cg_write(dir, "io.weight", buf, err);
    }
    int r = bt_err_set(err, BT_EUNSUPPORTED,
                       "blkio weight needs a proportional I/O scheduler, "
                       "which this host lacks (no io.bfq.weight nor io.weight)");
    bt_err_hint(err, "select the bfq I/O scheduler for the disk, or drop blkio weight");
    return r;
}

int
cg_v2_apply(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    const char *dir = cg->v2_path;
    int r;
    if (on_v2(cg, CG_MEMORY) && (r = apply_memory(dir, l, err)) < 0)
        return r;
    if (on_v2(cg, CG_CPU) && (r = apply_cpu(dir, l, err)) < 0)
        return r;
    if (on_v2(cg, CG_CPUSET) && l->cpuset && (r = cg_write(dir, "cpuset.cpus", l->cpuset, err)) < 0)
        return r;
    if (on_v2(cg, CG_PIDS) && l->pids_limit) {
        if (l->pids_limit < 0)
            r = cg_write(dir, "pids.max", "max", err);
        else
            r = cg_write_i64(dir, "pids.max", l->pids_limit, err);
        if (r < 0)
            return r;
    }
    if (on_v2(cg, CG_BLKIO) && (r = apply_io(dir, l, err)) < 0)
        return r;
    if (cg->h->v1_of[CG_DEVICES] < 0 && !l->privileged &&
        (r = cg_v2_devices_attach(cg->v2_fd, l->device_rules, err)) < 0)
        return bt_err_wrap(err, "device allowlist");
    return 0;
}

/* ---- the device allowlist as a BPF program ---- */

#define DEV_ANY (-1)
#define BPF_PROG_MAX 512
#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    return (
        struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* "c 1:3 rwm" into type (BPF_DEVCG_DEV_*, 0: any), major, minor (DEV_ANY) and access bits. */
static void
rule_parse(const char *rule, int *type, int64_t *major, int64_t *minor, int *access)
{
    *type = rule[0] == 'b' ? BPF_DEVCG_DEV_BLOCK : rule[0] == 'c' ? BPF_DEVCG_DEV_CHAR : 0;
    *major = *minor = DEV_ANY;
    *access = ACC_ALL;
    if (rule[0] == 'a' && rule[1] == '\0')
        return;
    const char *p = rule + 2; /* well-formed: cg_device_rule_ok() passed */
    if (*p != '*')
        *major = strtoll(p, NULL, 10);
    p = strchr(p, ':') + 1;
    if (*p != '*')
        *minor = strtoll(p, NULL, 10);
    p = strchr(p, ' ') + 1;
    *access = 0;
    for (; *p; p++) {
        if (*p == 'r')
            *access |= BPF_DEVCG_ACC_READ;
        else if (*p == 'w')
            *access |= BPF_DEVCG_ACC_WRITE;
        else
            *access |= BPF_DEVCG_ACC_MKNOD;
    }
}

/* One rule: each test that fails jumps past the block; passing all returns 1 (allow).
 * r2 = device type, r3 = access asked, r4 = major, r5 = minor. */
static size_t
rule_block(const char *rule, struct bpf_insn *out)
{
    int type, access;
    int64_t major, minor;
    rule_parse(rule, &type, &major, &minor, &access);
    size_t n = 0;
    if (type)
        out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, type);
    if (access != ACC_ALL) {
        /* Any access asked beyond the rule's fails it. */
        out[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, 0, 3, 0, 0);
        out[n++] = insn(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0, ~access & ACC_ALL);
        out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0);
    }
    if (major != DEV_ANY)
        out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t) major);
    if (minor != DEV_ANY)
        out[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t) minor);
    out[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
    out[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (size_t i = 0; i < n; i++) {
        if (out[i].code == (BPF_JMP | BPF_JNE | BPF_K))
            out[i].off = (int16_t) (n - i - 1);
    }
    return n;
}

/* At most 9 instructions per rule; the caller bounds the rule count. */
static size_t
devices_program(const char *const *rules, struct bpf_insn *prog)
{
    size_t n = 0;
    /* struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major, minor; } */
    prog[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);
    prog[n++] = insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
    prog[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
    prog[n++] = insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
    prog[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
    prog[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);
    for (const char *const *d = cg_default_device_rules; *d; d++)
        n += rule_block(*d, prog + n);
    for (const char *const *d = rules; d && *d; d++)
        n += rule_block(*d, prog + n);
    prog[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
    prog[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    return n;
}

int
cg_v2_devices_attach(int cgfd, const char *const *rules, struct bt_err **err)
{
    size_t nrules = 0;
    for (const char *const *d = rules; d && *d; d++)
        nrules++;
    if (nrules > 40)
        return bt_err_set(err, BT_ETOOBIG, "too many device cgroup rules (%zu, at most 40)",
                          nrules);
    /* A fake tree in a test is no cgroup2 filesystem: there is nothing to attach to. */
    struct statfs sf;
    if (fstatfs(cgfd, &sf) < 0)
        return bt_err_errno(err, -errno, "cannot stat the cgroup");
    if ((long) sf.f_type != CGROUP2_SUPER_MAGIC) {
        bt_log_debug("not a cgroup2 filesystem: no device filter attached");
        return 0;
    }
    struct bpf_insn prog[BPF_PROG_MAX];
    size_t n = devices_program(rules, prog);
    BT_ASSERT(n <= BPF_PROG_MAX);
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t) (uintptr_t) prog;
    attr.insn_cnt = (uint32_t) n;
    attr.license = (uint64_t) (uintptr_t) "Apache-2.0";
    bt_autoclose int pfd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (pfd < 0)
        return bt_err_errno(err, -errno, "cannot load the BPF device filter");
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t) cgfd;
    attr.attach_bpf_fd = (uint32_t) pfd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0)
        return bt_err_errno(err, -errno, "cannot attach the BPF device filter");
    return 0; /* the attachment holds the program; it goes away with the cgroup */
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." per device. */
static void
sum_io(const char *text, uint64_t *rd, uint64_t *wr)
{
    *rd = *wr = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *end = l + strcspn(l, "\n");
        for (const char *p = strchr(l, ' '); p && p < end; p = strchr(p + 1, ' ')) {
            uint64_t v;
            if (sscanf(p, " rbytes=%" SCNu64, &v) == 1)
                *rd += v;
            else if (sscanf(p, " wbytes=%" SCNu64, &v) == 1)
                *wr += v;
        }
    }
}

int
cg_v2_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *s)
{
    const char *dir = cg->v2_path;
    int r;
    bt_autofree char *cpu = NULL;
    uint64_t usec;
    /* cpu.stat is in every v2 cgroup, controller or not (5.x); absent on older kernels. */
    if (cg_read(dir, "cpu.stat", &cpu) == 0 && cg_keyed_u64(cpu, "usage_usec", &usec) == 0) {
        s->cpu_ns = usec * 1000;
        s->have |= ENG_CGROUP_STAT_CPU;
    }
    if (on_v2(cg, CG_MEMORY)) {
        bt_autofree char *stat = NULL;
        if ((r = cg_read_u64(dir, "memory.current", &s->mem_usage)) < 0 ||
            (r = cg_read_u64(dir, "memory.max", &s->mem_limit)) < 0 ||
            (r = cg_read(dir, "memory.stat", &stat)) < 0)
            return r;
        s->mem_inactive_file = 0;
        (void) cg_keyed_u64(stat, "inactive_file", &s->mem_inactive_file);
        s->have |= ENG_CGROUP_STAT_MEM;
    }
    if (on_v2(cg, CG_PIDS)) {
        if ((r = cg_read_u64(dir, "pids.current", &s->pids)) < 0)
            return r;
        s->have |= ENG_CGROUP_STAT_PIDS;
    }
    if (on_v2(cg, CG_BLKIO)) {
        bt_autofree char *text = NULL;
        if ((r = cg_read(dir, "io.stat", &text)) < 0)
            return r;
        sum_io(text, &s->blk_read, &s->blk_write);
        s->have |= ENG_CGROUP_STAT_BLKIO;
    }
    return 0;
}
