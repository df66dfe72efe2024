/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v1: the limits written into each controller's own hierarchy (memory, cpu, cpuset, pids,
 * blkio, devices) and the usage read back from them. Docker's default device allowlist lives
 * here too, in the devices.allow syntax both versions start from.
 */
#define LOG_TAG "cgroup"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/container/cgroup-int.h"

/* What Docker (through runc) lets a container use without asking: mknod of any node (the file
 * is useless unless also allowed below), the standard character devices, ptys and tun. */
const char *const cg_default_device_rules[] = {
    "c *:* m",      "b *:* m",   /* mknod only */
    "c 1:3 rwm",    "c 1:8 rwm", /* null, random */
    "c 1:7 rwm",    "c 5:0 rwm", /* full, tty */
    "c 1:5 rwm",    "c 1:9 rwm", /* zero, urandom */
    "c 136:* rwm",               /* pts */
    "c 5:2 rwm",                 /* ptmx */
    "c 10:200 rwm",              /* tun: runc dropped it in 1.2.0 and restored it in 1.2.4 */
    NULL,
};

static bool
dev_number_ok(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*')
        return true;
    if (n == 0 || n > 7)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

bool
cg_device_rule_ok(const char *rule)
{
    if (bt_streq(rule, "a"))
        return true;
    if (!strchr("abc", rule[0]) || rule[0] == '\0' || rule[1] != ' ')
        return false;
    const char *p = rule + 2;
    size_t n = strcspn(p, ":");
    if (p[n] != ':' || !dev_number_ok(p, n))
        return false;
    p += n + 1;
    n = strcspn(p, " ");
    if (p[n] != ' ' || !dev_number_ok(p, n))
        return false;
    p += n + 1;
    size_t m = strspn(p, "rwm");
    return m >= 1 && m <= 3 && p[m] == '\0';
}

const char *
cg_v1_dir(const struct eng_cgroup *cg, enum cg_ctrl c)
{
    int i = cg->h->v1_of[c];
    return i >= 0 ? cg->v1_path[i] : NULL;
}

int
cg_v1_cpuset_init(const char *parent_dir, const char *dir, struct bt_err **err)
{
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    for (size_t i = 0; i < 2; i++) {
        bt_autofree char *mine = NULL, *theirs = NULL;
        if (cg_read(dir, files[i], &mine) == 0 && mine[strspn(mine, " \n")] != '\0')
            continue; /* already set */
        int r = cg_read(parent_dir, files[i], &theirs);
        if (r < 0)
            return bt_err_errno(err, r, "cannot read '%s/%s'", parent_dir, files[i]);
        theirs[strcspn(theirs, "\n")] = '\0';
        if ((r = cg_write(dir, files[i], theirs, err)) < 0)
            return r;
    }
    return 0;
}

static int
apply_memory(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    int r;
    if (l->mem_limit && (r = cg_write_i64(dir, "memory.limit_in_bytes", l->mem_limit, err)) < 0)
        return r;
    if (l->mem_reservation &&
        (r = cg_write_i64(dir, "memory.soft_limit_in_bytes", l->mem_reservation, err)) < 0)
        return r;
    /* Docker: memory + swap together; unset means as much swap as memory. */
    if (l->mem_limit && l->memswap_limit != -1) {
        int64_t memsw = l->memswap_limit ? l->memswap_limit : 2 * l->mem_limit;
        if (!cg_has_file(dir, "memory.memsw.limit_in_bytes")) {
            if (l->memswap_limit) {
                r = bt_err_set(err, BT_EUNSUPPORTED,
                               "memswap limit needs swap accounting, "
                               "which this kernel lacks (no memory.memsw.limit_in_bytes)");
                bt_err_hint(err, "boot the kernel with swapaccount=1, or drop memswap_limit");
                return r;
            }
        } else if ((r = cg_write_i64(dir, "memory.memsw.limit_in_bytes", memsw, err)) < 0) {
            return r;
        }
    }
    if (l->oom_kill_disable && (r = cg_write(dir, "memory.oom_control", "1", err)) < 0)
        return r;
    return 0;
}

static int
apply_cpu(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    int r;
    if (l->cpus > 0) {
        int64_t quota = (int64_t) (l->cpus * 100000 + 0.5);
        if (quota < 1000)
            quota = 1000; /* the kernel's minimum: 1 ms */
        if ((r = cg_write(dir, "cpu.cfs_period_us", "100000", err)) < 0 ||
            (r = cg_write_i64(dir, "cpu.cfs_quota_us", quota, err)) < 0)
            return r;
    }
    if (l->cpu_shares && (r = cg_write_i64(dir, "cpu.shares", (int64_t) l->cpu_shares, err)) < 0)
        return r;
    return 0;
}

static int
apply_blkio(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    if (!l->blkio_weight)
        return 0;
    /* CFQ's blkio.weight went with CFQ (5.0); BFQ offers blkio.bfq.weight. */
    const char *file = cg_has_file(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    if (!cg_has_file(dir, file)) {
        int r = bt_err_set(err, BT_EUNSUPPORTED,
                           "blkio weight needs a proportional I/O "
                           "scheduler, which this host lacks (no blkio.weight nor "
                           "blkio.bfq.weight)");
        bt_err_hint(err, "select the bfq I/O scheduler for the disk, or drop blkio weight");
        return r;
    }
    return cg_write_i64(dir, file, l->blkio_weight, err);
}

static int
apply_devices(const char *dir, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    if (l->privileged)
        return cg_write(dir, "devices.allow", "a", err);
    int r = cg_write(dir, "devices.deny", "a", err);
    for (const char *const *d = cg_default_device_rules; r == 0 && *d; d++)
        r = cg_write(dir, "devices.allow", *d, err);
    for (const char *const *d = l->device_rules; r == 0 && d && *d; d++)
        r = cg_write(dir, "devices.allow", *d, err);
    return r;
}

int
cg_v1_apply(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct bt_err **err)
{
    const char *dir;
    int r = 0;
    if ((dir = cg_v1_dir(cg, CG_MEMORY)) && (r = apply_memory(dir, l, err)) < 0)
        return r;
    if ((dir = cg_v1_dir(cg, CG_CPU)) && (r = apply_cpu(dir, l, err)) < 0)
        return r;
    if ((dir = cg_v1_dir(cg, CG_CPUSET)) && l->cpuset &&
        (r = cg_write(dir, "cpuset.cpus", l->cpuset, err)) < 0)
        return r;
    if ((dir = cg_v1_dir(cg, CG_PIDS)) && l->pids_limit) {
        if (l->pids_limit < 0)
            r = cg_write(dir, "pids.max", "max", err);
        else
            r = cg_write_i64(dir, "pids.max", l->pids_limit, err);
        if (r < 0)
            return r;
    }
    if ((dir = cg_v1_dir(cg, CG_BLKIO)) && (r = apply_blkio(dir, l, err)) < 0)
        return r;
    if ((dir = cg_v1_dir(cg, CG_DEVICES)) && (r = apply_devices(dir, l, err)) < 0)
        return r;
    return 0;
}

/* blkio.*io_service_bytes*: "MAJ:MIN Read N" lines per device, then "Total N". */
static void
sum_blkio(const char *text, uint64_t *rd, uint64_t *wr)
{
    *rd = *wr = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        char dev[32], op[16];
        uint64_t v;
        if (sscanf(l, "%31s %15s %" SCNu64, dev, op, &v) != 3)
            continue;
        if (bt_streq(op, "Read"))
            *rd += v;
        else if (bt_streq(op, "Write"))
            *wr += v;
    }
}

int
cg_v1_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *s)
{
    const char *dir;
    int r;
    if ((dir = cg_v1_dir(cg, CG_CPUACCT))) {
        if ((r = cg_read_u64(dir, "cpuacct.usage", &s->cpu_ns)) < 0)
            return r;
        s->have |= ENG_CGROUP_STAT_CPU;
    }
    if ((dir = cg_v1_dir(cg, CG_MEMORY))) {
        bt_autofree char *stat = NULL;
        if ((r = cg_read_u64(dir, "memory.usage_in_bytes", &s->mem_usage)) < 0 ||
            (r = cg_read_u64(dir, "memory.limit_in_bytes", &s->mem_limit)) < 0 ||
            (r = cg_read(dir, "memory.stat", &stat)) < 0)
            return r;
        /* "No limit" is the page counter's maximum, rounded to pages: about 2^63. */
        if (s->mem_limit >= (UINT64_C(1) << 62))
            s->mem_limit = UINT64_MAX;
        s->mem_inactive_file = 0;
        (void) cg_keyed_u64(stat, "total_inactive_file", &s->mem_inactive_file);
        s->have |= ENG_CGROUP_STAT_MEM;
    }
    if ((dir = cg_v1_dir(cg, CG_PIDS))) {
        if ((r = cg_read_u64(dir, "pids.current", &s->pids)) < 0)
            return r;
        s->have |= ENG_CGROUP_STAT_PIDS;
    }
    if ((dir = cg_v1_dir(cg, CG_BLKIO))) {
        bt_autofree char *text = NULL;
        r = cg_read(dir, "blkio.throttle.io_service_bytes_recursive", &text);
        if (r == -ENOENT)
            r = cg_read(dir, "blkio.io_service_bytes_recursive", &text);
        if (r < 0)
            return r;
        sum_blkio(text, &s->blk_read, &s->blk_write);
        s->have |= ENG_CGROUP_STAT_BLKIO;
    }
    return 0;
}
