/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the cgroup code shared by cgroup.c (layout, lifecycle, freeze, kill) and the
 * per-version files cgroup-v1.c and cgroup-v2.c (limits and readings). Never included from
 * outside engine/container/.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/container/cgroup.h"

enum cg_ctrl {
    CG_CPU,
    CG_CPUACCT,
    CG_CPUSET,
    CG_MEMORY,
    CG_DEVICES,
    CG_FREEZER,
    CG_BLKIO,
    CG_PIDS,
    CG_NCTRL,
};

#define CG_BIT(c) (1u << (c))
#define CG_MAX_V1 16

struct cg_hier {
    char *mnt;      /* v1 mount point, root prefix included */
    unsigned ctrls; /* CG_BIT()s of the controllers it holds */
};

struct eng_cgroup_host {
    char *v2;          /* v2 mount point, root prefix included; NULL: none */
    unsigned v2_ctrls; /* CG_BIT()s offered by the v2 root's cgroup.controllers */
    struct cg_hier v1[CG_MAX_V1];
    size_t nv1;
    int v1_of[CG_NCTRL]; /* index into v1 of each controller's hierarchy, or -1 */
};

struct eng_cgroup {
    struct eng_cgroup_host *h;
    char *name;
    char *v2_path; /* NULL: no v2 tree */
    int v2_fd;
    char *v1_path[CG_MAX_V1];    /* parallel to h->v1 */
    bool created[CG_MAX_V1 + 1]; /* made by this create (index CG_MAX_V1: v2) */
};

/* v1 name of a controller ("cpu", ..., "blkio"). */
const char *cg_ctrl_name(enum cg_ctrl c);

/* Write val to dir/file (opened without O_CREAT: a missing file is a missing feature). */
int cg_write(const char *dir, const char *file, const char *val, struct bt_err **err);
/* A number, in decimal. */
int cg_write_i64(const char *dir, const char *file, int64_t v, struct bt_err **err);
/* Read dir/file whole (64 KiB at most); caller frees. -errno, no message. */
int cg_read(const char *dir, const char *file, char **ret);
bool cg_has_file(const char *dir, const char *file);
/* One number (trailing newline allowed); "max" reads as UINT64_MAX. -errno. */
int cg_read_u64(const char *dir, const char *file, uint64_t *ret);
/* Value of "key N" in a flat-keyed text (memory.stat, cpu.stat, memory.events). -ENOENT. */
int cg_keyed_u64(const char *text, const char *key, uint64_t *ret);

/* Docker's default device allowlist, NULL-terminated, in v1 devices.allow syntax. */
extern const char *const cg_default_device_rules[];
/* A rule "c 1:3 rwm" / "a" well-formed? */
bool cg_device_rule_ok(const char *rule);

/* Limits and readings per version; dir is the container's directory in that tree. */
int cg_v2_apply(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct bt_err **err);
/* Attach Docker's default device allowlist plus rules to the v2 cgroup cgfd (no-op when cgfd
 * is not on a cgroup2 filesystem: a test's fake tree). */
int cg_v2_devices_attach(int cgfd, const char *const *rules, struct bt_err **err);
int cg_v2_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *s);
int cg_v1_apply(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct bt_err **err);
int cg_v1_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *s);
/* v1 cpuset needs cpus and mems copied from the parent before anything joins. */
int cg_v1_cpuset_init(const char *parent_dir, const char *dir, struct bt_err **err);
/* Path of the container in the v1 hierarchy of controller c, or NULL. */
const char *cg_v1_dir(const struct eng_cgroup *cg, enum cg_ctrl c);
