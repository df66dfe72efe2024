/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroups of containers: one cgroup per container under a berth parent ("berth"), in the
 * unified (v2) tree and in every v1 hierarchy that holds a controller berth uses, so v1, v2 and
 * hybrid hosts all work. It owns the limits (memory, swap, cpu, cpuset, pids, block I/O weight,
 * the device allowlist: v1 devices controller, else a BPF program on the v2 cgroup), attach,
 * freeze, kill of every process, usage readings and removal. It does not start processes nor decide
 * when to remove: the container runtime does.
 *
 * The layout comes from a mountinfo text and a root prefix put before every mount point, so
 * tests run against a fake tree in a temp dir. A cgroup file that the kernel does not offer is
 * a feature the host lacks: a limit that needs it is an error, never silently dropped.
 *
 * Ownership: a struct eng_cgroup borrows its host, which must outlive it. Calls do small
 * synchronous file I/O on cgroupfs; eng_cgroup_freeze may wait up to about a second.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/base/err.h"

struct eng_cgroup_host; /* the layout: v2 mount and/or v1 controller mounts */
struct eng_cgroup;      /* one container's cgroup in every hierarchy */

/* Read the layout from mountinfo_path ("/proc/self/mountinfo"); root_prefix ("" normally) goes
 * before each mount point. A host with no cgroup mount at all is an error. */
int eng_cgroup_host_open(const char *mountinfo_path, const char *root_prefix,
                         struct eng_cgroup_host **ret, struct bt_err **err);
struct eng_cgroup_host *eng_cgroup_host_free(struct eng_cgroup_host *h);
/* Whether a controller ("memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer") is
 * usable, in v1 or v2 (blkio is v2's "io"; devices on v2 means the BPF filter). */
bool eng_cgroup_host_has(const struct eng_cgroup_host *h, const char *controller);

/* Limits, as Docker and Compose give them (0 / NULL: unset unless said otherwise). */
struct eng_cgroup_limits {
    int64_t mem_limit;       /* bytes; 0: none */
    int64_t mem_reservation; /* bytes; 0: none (v1 soft limit, v2 memory.low) */
    int64_t memswap_limit;   /* memory + swap, bytes; 0: twice mem_limit (Docker); -1: no limit */
    double cpus;             /* 0: none; else cpu.max / cfs quota over a 100 ms period */
    uint64_t cpu_shares;     /* 0: default; v2 weight by runc's formula */
    const char *cpuset;      /* "0-1,3"; NULL: all */
    int64_t pids_limit;      /* 0: none; -1: unlimited */
    uint16_t blkio_weight;   /* 0: default; else 10..1000 */
    bool oom_kill_disable;   /* v1 only: an error on v2, which has no such setting */
    const char *const *device_rules; /* "c 1:3 rwm", NULL-terminated, after Docker's defaults */
    bool privileged;                 /* every device allowed, no defaults */
};

/* Create parent/name in every hierarchy and apply the limits. parent and name are single path
 * components. A leftover cgroup of that name that holds no process is reused. On failure
 * nothing of the container's cgroup remains (the shared parent stays). */
int eng_cgroup_create(struct eng_cgroup_host *h, const char *parent, const char *name,
                      const struct eng_cgroup_limits *l, struct eng_cgroup **ret,
                      struct bt_err **err);
/* Open an existing one (daemon restart): ENOENT when a hierarchy lacks it. */
int eng_cgroup_open(struct eng_cgroup_host *h, const char *parent, const char *name,
                    struct eng_cgroup **ret, struct bt_err **err);
/* Move pid into the cgroup in every hierarchy. */
int eng_cgroup_attach(struct eng_cgroup *cg, pid_t pid, struct bt_err **err);
/* The v2 directory, for clone3's CLONE_INTO_CGROUP (v1 hierarchies still need
 * eng_cgroup_attach), or -1 when there is no v2 tree. Borrowed: valid until eng_cgroup_free. */
int eng_cgroup_v2_dirfd(const struct eng_cgroup *cg);
/* Pause or resume every process: v2 cgroup.freeze when the kernel has it, else v1 freezer. */
int eng_cgroup_freeze(struct eng_cgroup *cg, bool frozen, struct bt_err **err);
/* Send sig to every process: v2 cgroup.kill for SIGKILL when present, else one by one (frozen
 * first for SIGKILL so none can fork away). The caller reaps; eng_cgroup_is_empty tells. */
int eng_cgroup_kill_all(struct eng_cgroup *cg, int sig, struct bt_err **err);
/* No process left in any hierarchy (unreadable counts as empty: nothing to wait for). */
bool eng_cgroup_is_empty(struct eng_cgroup *cg);
/* OOM kills so far: v2 memory.events oom_kill, v1 memory.oom_control oom_kill. -ENOENT when
 * the host has no memory controller or the kernel does not count them. */
int eng_cgroup_oom_kills(struct eng_cgroup *cg, uint64_t *ret);

enum {
    ENG_CGROUP_STAT_CPU = 1 << 0,
    ENG_CGROUP_STAT_MEM = 1 << 1,
    ENG_CGROUP_STAT_PIDS = 1 << 2,
    ENG_CGROUP_STAT_BLKIO = 1 << 3,
};

struct eng_cgroup_stats {
    unsigned have;              /* ENG_CGROUP_STAT_* of the readings below that are filled */
    uint64_t cpu_ns;            /* CPU time used, all CPUs */
    uint64_t mem_usage;         /* bytes charged, page cache included */
    uint64_t mem_inactive_file; /* bytes of that cache Docker's `stats` subtracts */
    uint64_t mem_limit;         /* bytes; UINT64_MAX: none */
    uint64_t pids;
    uint64_t blk_read, blk_write; /* bytes, all devices */
};

int eng_cgroup_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *ret, struct bt_err **err);
/* rmdir in every hierarchy; absent is fine; a cgroup with processes left fails (EBUSY). */
int eng_cgroup_remove(struct eng_cgroup *cg, struct bt_err **err);
/* Memory only; accepts NULL. */
struct eng_cgroup *eng_cgroup_free(struct eng_cgroup *cg);
/* Names of the cgroups under parent in any hierarchy (leftovers after a crash), sorted, no
 * duplicates; *ret_names is NULL-terminated, caller frees each and the array. */
int eng_cgroup_list(struct eng_cgroup_host *h, const char *parent, char ***ret_names,
                    struct bt_err **err);
/* rmdir the parent itself in every hierarchy; absent is fine, one still in use fails. */
int eng_cgroup_parent_remove(struct eng_cgroup_host *h, const char *parent, struct bt_err **err);
