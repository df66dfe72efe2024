/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: images, containers, networks and volumes on this host. It knows nothing of Compose:
 * the orchestrator turns the project model into engine specs. Functions here never block the
 * event loop for long; heavy work runs in worker processes. Errors come back as struct bt_err.
 *
 * What exists so far: the host probe (what this kernel offers).
 */
#pragma once

#include <stdbool.h>

#include "engine/base/err.h"

enum eng_cgroup_mode {
    ENG_CGROUP_NONE,   /* no cgroup filesystem mounted */
    ENG_CGROUP_V1,     /* only v1 hierarchies */
    ENG_CGROUP_HYBRID, /* v1 controllers plus a (mostly empty) v2 tree */
    ENG_CGROUP_V2,     /* unified hierarchy at /sys/fs/cgroup */
};

enum eng_ns {
    ENG_NS_CGROUP,
    ENG_NS_IPC,
    ENG_NS_MNT,
    ENG_NS_NET,
    ENG_NS_PID,
    ENG_NS_TIME,
    ENG_NS_USER,
    ENG_NS_UTS,
    ENG_NS_COUNT,
};

struct eng_host_info {
    char kernel[65]; /* uname release */
    char arch[65];   /* uname machine */
    enum eng_cgroup_mode cgroup_mode;
    char cgroup_v2_path[64];      /* mount point of the v2 tree, "" when none */
    char cgroup_controllers[256]; /* space-separated: v1 hierarchies, or v2's cgroup.controllers */
    bool overlayfs;
    bool seccomp;
    bool ns[ENG_NS_COUNT];
};

/* Look at the running kernel. Cheap (a few syscalls and small /proc reads); never fails: what
 * cannot be read is reported as absent. */
void eng_host_probe(struct eng_host_info *ret);
const char *eng_cgroup_mode_str(enum eng_cgroup_mode m);
const char *eng_ns_str(enum eng_ns ns);
