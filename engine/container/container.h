/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers on disk and their lifecycle: the store under <root>/containers, one directory per
 * container, and the steps create → start → exited → remove. The daemon drives it from its
 * loop: it owns the pipes, the reaping and the timers; this module owns the files, the mounts,
 * the cgroup and the process start.
 *
 *   containers/<id>/config.json   {"id", "name", "created", "image": {id, ref, config}, "argv",
 *                                  "layers": [chain ids, bottom first], "spec": {...},
 *                                  "mounts": [binds and volumes, below]}
 *   containers/<id>/state.json    {"status", "pid", "started_at", "finished_at", "exit_code",
 *                                  "oom_killed", "error", "restart_count"}
 *   containers/<id>/upper, work   the overlayfs upper and work dirs (the container's changes)
 *   containers/<id>/rootfs        the mount point (mounted only in the container's namespace)
 *   containers/<id>/hosts, hostname, resolv.conf
 *   containers/<id>/<id>-json.log the logs (logfile.h)
 *
 * Writes are atomic (temp, fsync, rename); a crash leaves the old or the new state.
 *
 * Mounts are fixed at create: "mounts" lists the binds and volumes, each {"type": "bind" or
 * "volume", "source": host path or volume name, "target", "rw", bind: "propagation",
 * "create_host_path"; volume: "nocopy", "anonymous" (made for this container: rm -v removes
 * it), "from" (had through volumes_from: that container's name)}. Anonymous volumes (a spec
 * volume without a name, an image VOLUME no mount covers) are named by the hex sha256 of the
 * container id and the target, so every start of the container finds the same data. tmpfs
 * mounts stay in the spec. Volumes live under <root>/volumes/NAME/_data.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/base/err.h"
#include "engine/container/spec.h"

struct eng_cas;
struct eng_cgroup;
struct eng_cgroup_host;
struct eng_bpf;

enum eng_ctr_status {
    ENG_CTR_CREATED,
    ENG_CTR_RUNNING,
    ENG_CTR_PAUSED,
    ENG_CTR_EXITED,
    ENG_CTR_DEAD, /* removal failed half-way */
};

struct eng_ctr {
    char id[65];
    char *name;
    char *dir; /* <root>/containers/<id> */
    json_t *config;
    enum eng_ctr_status status;
    pid_t pid;
    int pidfd;
    int64_t created_ns, started_ns, finished_ns;
    int exit_code;
    bool oom_killed;
    char *error;
    unsigned restart_count;
    struct eng_cgroup *cgroup;
    int stop_signal;
    int64_t stop_grace_ns;
    void *owner; /* the daemon's record of it */
};

struct eng_ctr_store;

/* Open <root>/containers (made when missing) and load every container. Containers recorded
 * as running whose process is gone are marked exited (the daemon restarted). */
int eng_ctr_store_open(const char *root, struct eng_cas *cas, struct eng_cgroup_host *cg,
                       struct eng_ctr_store **ret, struct bt_err **err);
struct eng_ctr_store *eng_ctr_store_free(struct eng_ctr_store *s);
/* By full id, name, or unique id prefix. NULL with *err set (ENOENT, or ambiguous). */
struct eng_ctr *eng_ctr_find(struct eng_ctr_store *s, const char *name, struct bt_err **err);
/* Every container (borrowed array, valid until the store changes). */
struct eng_ctr *const *eng_ctr_list(struct eng_ctr_store *s, size_t *ret_n);
/* Whether a container (any state) was made from image id. */
bool eng_ctr_store_uses_image(struct eng_ctr_store *s, const char *image_id);
/* Whether a container (any state) has the layer chain_id in its root; running: only those
 * whose process runs. */
bool eng_ctr_store_uses_layer(struct eng_ctr_store *s, const char *chain_id);
bool eng_ctr_store_runs_image(struct eng_ctr_store *s, const char *image_id);

/* The image a container is made from, as the image store knows it. */
struct eng_ctr_image {
    const char *id;            /* "sha256:..." */
    const char *ref;           /* as the user named it */
    const json_t *config;      /* the OCI config's "config" object (may be NULL) */
    const char *const *layers; /* chain ids, bottom first */
    size_t nlayers;
};

/* Create: a new id, the directory, config.json. spec_json is what the spec was made from
 * (stored, borrowed); proc is the process it runs (its argv is recorded for ls and inspect);
 * name must be unique. */
int eng_ctr_create(struct eng_ctr_store *s, const struct eng_ctr_spec *spec,
                   const json_t *spec_json, const struct eng_ctr_image *img,
                   const struct eng_ctr_proc *proc, struct eng_ctr **ret, struct bt_err **err);

/* What start needs besides the container. */
struct eng_ctr_start_opts {
    const struct eng_ctr_proc *proc; /* the process, made once by the caller (config.h) */
    const struct eng_bpf *seccomp;   /* the compiled filter; NULL: unconfined */
    int init_fd;                     /* berth-init, or -1 */
    int stdin_fd;                    /* -1: /dev/null */
    /* The pidfds of the containers whose pid, ipc and net namespaces the spec shares
     * (ENG_NS_MODE_SHARE), -1 otherwise: the caller resolved the names. */
    int join_pid_fd, join_ipc_fd, join_net_fd;
};

/* Streams of a started container: read ends the caller polls (tty: out_fd is the pty master
 * and err_fd -1). The caller owns them. */
struct eng_ctr_io {
    int out_fd, err_fd;
};

/* Start a created or exited container, without waiting for its setup: the cgroup is made
 * and the process cloned; then call eng_ctr_start_step() each time eng_ctr_starting_fd() is
 * readable. Its first process (eng_ctr_starting_pid) is the caller's child to reap, from the
 * clone on, whatever happens. */
struct eng_ctr_starting;
int eng_ctr_start_begin(struct eng_ctr_store *s, struct eng_ctr *c, const struct eng_ctr_spec *spec,
                        const struct eng_ctr_start_opts *o, struct eng_ctr_starting **ret,
                        struct bt_err **err);
int eng_ctr_starting_fd(const struct eng_ctr_starting *st);
pid_t eng_ctr_starting_pid(const struct eng_ctr_starting *st);
/* 1: still setting up. 0: it runs (status running, ret_io filled, st freed). < 0: the start
 * failed: give it up with eng_ctr_start_abort(). */
int eng_ctr_start_step(struct eng_ctr_store *s, struct eng_ctr *c, struct eng_ctr_starting *st,
                       struct eng_ctr_io *ret_io, struct bt_err **err);
/* Give up a start in progress: the process is killed and, with reap (the caller has not reaped
 * it yet), reaped here; the cgroup is removed; st is freed. */
void eng_ctr_start_abort(struct eng_ctr *c, struct eng_ctr_starting *st, bool reap);

/* An extra process in a running container (docker exec). */
struct eng_ctr_exec_opts {
    const struct eng_ctr_proc *proc; /* the container's process (config.h), for its defaults */
    char *const *argv;               /* required */
    char *const *env;                /* "K=V" added over the container's; may be NULL */
    const char *user;                /* NULL: the container's */
    const char *workdir;             /* NULL: the container's */
    bool tty, privileged;
    const struct eng_bpf *seccomp; /* the container's filter (NULL: none; ignored if privileged) */
    int stdio[3];                  /* without tty; -1: /dev/null */
};
struct eng_ctr_exec_proc {
    pid_t pid;
    int pidfd;
    int pty_master; /* with tty */
};
int eng_ctr_exec(struct eng_ctr *c, const struct eng_ctr_spec *spec,
                 const struct eng_ctr_exec_opts *o, struct eng_ctr_exec_proc *ret,
                 struct bt_err **err);

/* The process ended with wait status; records exit code, OOM and time, frees the cgroup. */
void eng_ctr_exited(struct eng_ctr_store *s, struct eng_ctr *c, int status);
/* Signal the container's process (or, with all, every process of its cgroup). */
int eng_ctr_kill(struct eng_ctr *c, int sig, struct bt_err **err);
/* Whether PID 1 of the container catches sig (SigCgt in /proc/PID/status): when it does not,
 * the kernel drops the signal and a stop should kill at once. */
bool eng_ctr_catches(const struct eng_ctr *c, int sig);
int eng_ctr_pause(struct eng_ctr *c, bool pause, struct bt_err **err);
/* Remove a container that is not running: its directory and the record. c is freed. With
 * volumes (rm -v), also the anonymous volumes it made (its spec's volumes without a name and
 * its image's VOLUMEs; not those it has through volumes_from), unless another container
 * records them. */
int eng_ctr_remove(struct eng_ctr_store *s, struct eng_ctr *c, bool volumes, struct bt_err **err);

const char *eng_ctr_status_str(enum eng_ctr_status st);
/* docker inspect-like JSON (new reference). */
json_t *eng_ctr_inspect(const struct eng_ctr *c);
