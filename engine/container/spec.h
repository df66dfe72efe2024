/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a container is made from: struct eng_ctr_spec, the engine's own typed form of what a
 * Compose service (or `berth container run`) says about one container. The orchestrator fills
 * it from the service JSON (orchestrator/daemon/ctr-spec.c); config.c merges the image's
 * config into it (entrypoint, command, env, working dir, user, stop signal, volumes) and
 * computes what the kernel needs (argv, capability mask). Nothing here knows Compose's syntax:
 * durations are nanoseconds, sizes bytes, signals numbers.
 *
 * Ownership: a spec owns every string and array in it; eng_ctr_spec_release() frees them all
 * and accepts a half-filled spec. Arrays of strings are NULL-terminated (NULL: none).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/base/err.h"

enum eng_mount_type {
    ENG_MOUNT_BIND,
    ENG_MOUNT_VOLUME, /* named (source set) or anonymous (source NULL) */
    ENG_MOUNT_TMPFS,
};

struct eng_mount {
    enum eng_mount_type type;
    char *source; /* bind: absolute host path; volume: name (NULL: anonymous); tmpfs: NULL */
    char *target; /* absolute path inside the container */
    bool read_only;
    unsigned long propagation; /* MS_PRIVATE, MS_SHARED, MS_SLAVE (| MS_REC); 0: rprivate */
    bool create_host_path;     /* bind: create a missing source directory */
    bool nocopy;               /* volume: do not fill an empty volume from the image */
    uint64_t tmpfs_size;       /* bytes; 0: the kernel's default */
    uint32_t tmpfs_mode;       /* 0: 01777 */
};

struct eng_ulimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

struct eng_kv {
    char *key, *value;
};

struct eng_device {
    char *host_path; /* /dev/fuse */
    char *ctr_path;  /* where it appears (default: host_path) */
    char perms[4];   /* "rwm" or a subset */
};

enum eng_ns_mode {
    ENG_NS_MODE_PRIVATE, /* a new namespace (default) */
    ENG_NS_MODE_HOST,    /* the host's */
    ENG_NS_MODE_SHARE,   /* another container's: ns_with names it (container id or name) */
    ENG_NS_MODE_NONE,    /* net only: a new namespace with loopback alone */
};

enum eng_seccomp_mode {
    ENG_SECCOMP_DEFAULT,
    ENG_SECCOMP_UNCONFINED,
    ENG_SECCOMP_PROFILE, /* seccomp_profile holds the JSON text of a Docker-format profile */
};

struct eng_ctr_spec {
    char *name;  /* container name (unique) */
    char *image; /* the reference as written */
    /* Process. entrypoint/command: NULL when not given; an empty array when given empty
     * (which resets the image's value, as Docker does). Shell form is already turned into
     * ["/bin/sh", "-c", "..."] by whoever fills the spec. */
    char **entrypoint;
    char **command;
    char **env;        /* "KEY=VALUE", the service's, applied over the image's ENV */
    char *working_dir; /* NULL: the image's, else "/" */
    char *user;        /* "name", "uid", "name:group", "uid:gid"; NULL: the image's, else root */
    char **group_add;  /* names or gids */
    char *hostname, *domainname;
    char **labels; /* "KEY=VALUE" */
    bool tty, stdin_open, init;
    bool auto_remove; /* docker run --rm: removed when it exits (and at daemon start) */
    /* Security. */
    bool privileged, read_only, no_new_privileges;
    char **cap_add, **cap_drop; /* "NET_ADMIN", "CAP_NET_ADMIN", "ALL" */
    enum eng_seccomp_mode seccomp;
    char *seccomp_profile;           /* ENG_SECCOMP_PROFILE: the profile's JSON text */
    char **security_opt_unsupported; /* apparmor=, label=: reported, never dropped silently */
    struct eng_device *devices;
    size_t ndevices;
    char **device_cgroup_rules; /* "c 1:3 mr" */
    struct eng_kv *sysctls;
    size_t nsysctls;
    struct eng_ulimit *ulimits;
    size_t nulimits;
    int oom_score_adj;
    bool oom_score_adj_set, oom_kill_disable;
    /* Namespaces shared or not. */
    enum eng_ns_mode pid_mode, ipc_mode, net_mode;
    char *pid_with, *ipc_with, *net_with; /* ENG_NS_MODE_SHARE: a container id or name */
    /* Filesystem. */
    struct eng_mount *mounts;
    size_t nmounts;
    char **volumes_from; /* container names or ids, ":ro" / ":rw" suffix allowed */
    uint64_t shm_size;   /* bytes; 0: 64 MiB */
    /* Resources (0 / -1: unset, as noted). */
    int64_t mem_limit;       /* bytes; 0: none */
    int64_t mem_reservation; /* bytes; 0: none */
    int64_t memswap_limit;   /* bytes; 0: unset; -1: unlimited */
    double cpus;             /* 0: none */
    uint64_t cpu_shares;     /* 0: default */
    char *cpuset;            /* "0-1"; NULL: all */
    int64_t pids_limit;      /* 0: none; -1: unlimited */
    uint16_t blkio_weight;   /* 0: default; else 10..1000 */
    /* Stop. */
    int stop_signal;       /* 0: the image's, else SIGTERM */
    int64_t stop_grace_ns; /* -1: default (10 s) */
    /* Logs (json-file): 0 / 0 means no rotation. */
    uint64_t log_max_size;
    unsigned log_max_file;
};

void eng_ctr_spec_release(struct eng_ctr_spec *s);

/* The process a container runs, once the image's config is merged (config.c). */
struct eng_ctr_proc {
    char **argv; /* entrypoint + command, never empty */
    char **env;  /* image ENV, then the spec's; PATH and HOSTNAME as Docker sets them */
    char *cwd;   /* absolute */
    char *user;  /* as written (NULL: root); resolved in the container's /etc/passwd at start */
    int stop_signal;
    uint64_t caps; /* bit per capability: bounding = permitted = effective; inheritable and
                    * ambient stay empty, as Docker since CVE-2022-24769 */
};

void eng_ctr_proc_release(struct eng_ctr_proc *p);
