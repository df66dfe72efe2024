/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting a container's first process: clone into new namespaces, build the root filesystem
 * (overlayfs of the image's layers, /proc, /sys, /dev, binds, tmpfs), pivot_root, drop to the
 * container's user and capabilities, load seccomp last, execve. It does not decide anything:
 * everything comes prepared in a struct eng_launch (runtime.c fills it from a spec).
 *
 * The child runs between clone and execve in a copy of the daemon. It never allocates (another
 * thread of the daemon, a libcurl resolver, may have held the allocator's lock at clone time),
 * so every string and array it reads is made before the clone. Parent and child step through
 * setup on a socketpair: the parent places the child in its v1 cgroups while the child mounts
 * its root (on v2 the clone lands in the cgroup), resolves the user inside that root once it is
 * mounted, and sends the ids; the child runs nothing of the image before it has them. Then the
 * parent waits for exec (EOF) or the child's error.
 *
 * Blocking: nothing for the first process (eng_ctr_spawn_begin/step follow the sync socket);
 * eng_ctr_exec_spawn() waits for its process's setup (a few ms; bounded by a timeout).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "engine/base/err.h"
#include "engine/container/user.h"

struct eng_bpf;

enum eng_lmount_kind {
    ENG_LMOUNT_BIND,  /* source: a host path (directory or file) */
    ENG_LMOUNT_TMPFS, /* data: "size=...,mode=..." */
};

struct eng_lmount {
    enum eng_lmount_kind kind;
    const char *source;
    const char *target; /* absolute inside the container */
    const char *data;
    bool read_only;
    bool file; /* bind of a file: the target is made a file */
    bool fill; /* a volume (source: its _data): when still empty, it first gets a copy of what
                * the root has at target (volcopy.h); blocks the start while it copies */
    unsigned long propagation; /* MS_PRIVATE, MS_SLAVE, MS_SHARED (| MS_REC); 0: rprivate */
};

struct eng_lrlimit {
    int resource;
    struct rlimit lim;
};

/* A host device node made in the container (devices:). */
struct eng_ldevice {
    const char *path; /* absolute inside the container */
    mode_t mode;      /* S_IFCHR or S_IFBLK | permissions, as the host's node */
    dev_t rdev;
    uid_t uid;
    gid_t gid;
};

struct eng_lsysctl {
    const char *path; /* "/proc/sys/net/ipv4/ip_forward" */
    const char *value;
};

struct eng_launch {
    /* Namespaces: which to make (CLONE_NEW* flags; mount always). A namespace shared with
     * another container is joined through that container's PID 1 (a pidfd), -1 otherwise:
     * pid by the parent around the clone, ipc and net by the child. */
    int clone_flags;
    int join_pid_fd, join_ipc_fd, join_net_fd;
    int cgroup_fd; /* a cgroup v2 directory for CLONE_INTO_CGROUP, or -1 */
    int (*attach)(void *ud, pid_t pid, struct bt_err **err); /* v1 cgroups; may be NULL */
    void *attach_ud;
    /* Root filesystem. layers_dir is the directory the lower dirs are relative to (short
     * names keep the mount options under a page). */
    const char *rootfs;
    const char *layers_dir;
    const char *overlay_opts; /* "lowerdir=a/diff:b/diff,upperdir=/..,workdir=/.." */
    bool read_only, privileged;
    const struct eng_lmount *mounts;
    size_t nmounts;
    const char *hostname, *domainname;
    uint64_t shm_size;
    const struct eng_ldevice *devices;
    size_t ndevices;
    const struct eng_lsysctl *sysctls;
    size_t nsysctls;
    /* Files the daemon wrote, bound over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
    const char *etc_hosts, *etc_hostname, *etc_resolv;
    /* Process. */
    char *const *argv; /* the command; with init_fd, init_argv runs instead */
    char *const *envp;
    const char *cwd;
    const char *user;       /* resolved in the child's root by the parent */
    char *const *group_add; /* may be NULL */
    const struct eng_lrlimit *rlimits;
    size_t nrlimits;
    int oom_score_adj;
    bool oom_score_adj_set;
    uint64_t caps;
    int caps_last; /* the kernel's highest capability (eng_caps_last) */
    bool no_new_privs;
    const struct eng_bpf *seccomp; /* NULL: unconfined */
    bool tty;
    int stdio[3]; /* stdin, stdout, stderr; -1: /dev/null. Unused with tty. */
    int init_fd;  /* berth-init (a sealed memfd) or -1 */
    char *const *init_argv;
    /* exec only: the container's PID 1 (a pidfd) and the namespaces to join (CLONE_NEW*). */
    int join_pidfd;
    int join_ns;
};

struct eng_spawned {
    pid_t pid;
    int pidfd;
    int pty_master; /* with tty, else -1 */
    struct eng_ids ids;
};

/* Start the container without waiting: the child is cloned (and placed in its v1 cgroups)
 * and goes on with its setup; the launch may be freed when this returns (the child has its
 * own copy of it). Then call eng_ctr_spawn_step() each time eng_spawn_fd() is readable. The
 * child is the caller's to reap, in every case. */
struct eng_spawn;
int eng_ctr_spawn_begin(const struct eng_launch *l, struct eng_spawn **ret, struct bt_err **err);
int eng_spawn_fd(const struct eng_spawn *sp);
pid_t eng_spawn_pid(const struct eng_spawn *sp);
/* 1: still setting up; 0: execve happened, *ret owns pidfd and pty_master; < 0: the setup
 * failed (*err says what; free sp, which kills the child). */
int eng_ctr_spawn_step(struct eng_spawn *sp, struct eng_spawned *ret, struct bt_err **err);
/* Kills the child unless it reached execve. */
struct eng_spawn *eng_spawn_free(struct eng_spawn *sp);
/* Start another process in a running container (exec): it joins the namespaces l names
 * through join_pidfd, is placed in the container's cgroups, and becomes l's user with l's
 * capabilities and seccomp filter. root_pid is the container's PID 1, whose root holds the
 * /etc/passwd the user is resolved in. Only argv, envp, cwd, user, group_add, rlimits, caps,
 * no_new_privs, seccomp, tty, stdio, cgroup_fd and attach are read. The process is a child of
 * the caller. */
int eng_ctr_exec_spawn(const struct eng_launch *l, pid_t root_pid, struct eng_spawned *ret,
                       struct bt_err **err);
