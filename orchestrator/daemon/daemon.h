/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon: one per host (per runtime root). It owns all state, runs one libevent loop, is a
 * child subreaper, and serves the control socket. Internal to orchestrator/.
 *
 * Loop rules: callbacks never block. A connection is reference-counted because a request that
 * completes later (a pull, an up) holds it; orch_conn_unref() frees it when the last holder is
 * done. Children are reaped in the SIGCHLD callback and dispatched by pid.
 */
#pragma once

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "engine/base/err.h"
#include "engine/base/fdpass.h"
#include "orchestrator/paths.h"
#include "orchestrator/proto/proto.h"

#define ORCH_MAX_CONNS 1024

struct orch_conn;
struct orch_daemon;
struct orch_child;
struct eng_cas;
struct eng_img_store;
struct eng_reg;
struct orch_ctrs;

/* config.c: daemon settings from a JSON file (BERTH_DAEMON_CONFIG, default
 * /etc/berth/daemon.json; absent is fine): {"insecure-registries": [...], "certs-dir": "..."}. */
struct orch_config {
    char **insecure_registries;
    size_t ninsecure;
    char *certs_dir; /* NULL: the registry client's default */
};
int orch_config_load(struct orch_config *c, struct bt_err **err);
void orch_config_release(struct orch_config *c);

struct orch_daemon_opts {
    const char *root;     /* NULL: environment or default */
    const char *run_root; /* NULL: environment or default */
    bool foreground;      /* log to stderr too */
    int ready_fd;         /* -1, or a pipe: "ok\n" once serving, "error: ...\n" on failure */
};

typedef void (*orch_child_fn)(struct orch_daemon *d, pid_t pid, int status, void *userdata);

struct orch_daemon {
    struct event_base *base;
    struct orch_paths paths;
    int pid_fd; /* locked for the daemon's lifetime: the one-daemon guarantee */
    int listen_fd;
    struct event *ev_listen;
    struct event *ev_accept_pause; /* re-arms accept after EMFILE */
    struct event *ev_sig[4];
    struct event *ev_stop;
    struct orch_conn *conns; /* list */
    unsigned nconns;
    struct orch_child *children;
    size_t nchildren, children_cap;
    struct timespec started; /* CLOCK_MONOTONIC */
    bool stopping;
    struct eng_cas *cas;          /* <root>/images: blobs and layers */
    struct eng_img_store *images; /* image records and references */
    struct eng_reg *reg;          /* the registry client */
    unsigned busy;                /* pulls and workers in flight: they add to the content store */
    struct orch_config config;    /* <config>/daemon.json */
    struct orch_ctrs *ctrs;       /* containers (containers.h) */
};

/* Run the daemon until SIGTERM/SIGINT or a stop request. Returns the exit code. */
int orch_daemon_main(const struct orch_daemon_opts *opts);
/* The registry client, made on first use. */
int orch_daemon_registry(struct orch_daemon *d, struct eng_reg **ret, struct bt_err **err);
/* Ask the loop to stop at its next turn (replies already queued are still sent). */
void orch_daemon_stop(struct orch_daemon *d, const char *why);

/* control.c: the socket. */
int orch_control_listen(struct orch_daemon *d, struct bt_err **err);
void orch_control_close(struct orch_daemon *d);

struct orch_conn *orch_conn_ref(struct orch_conn *c, const char *caller);
void orch_conn_unref(struct orch_conn *c, const char *caller);
/* Queue a message (not stolen), with optional descriptors that are duplicated for sending. */
int orch_conn_send(struct orch_conn *c, const json_t *msg, const int *fds, size_t nfds);
/* Stop reading; close once everything queued has been written. */
void orch_conn_close_after_flush(struct orch_conn *c);
/* Whether the connection's socket is closed (the client went away). */
bool orch_conn_is_dead(const struct orch_conn *c);
/* Bytes queued for the client and not written yet. */
size_t orch_conn_queued(const struct orch_conn *c);

/* ops.c: one request. The handler fills *ret_result (a new reference) or *err, or, for work
 * that completes later, keeps the request with orch_req_defer() and returns ORCH_OP_PENDING. */
struct orch_req {
    struct orch_daemon *d;
    struct orch_conn *conn;
    json_int_t id;
    const char *op;
    json_t *args;           /* borrowed: an object, maybe empty */
    int fds[BT_FDPASS_MAX]; /* descriptors that came with the request, owned; -1 once taken */
    size_t nfds;
};
#define ORCH_OP_PENDING 1
typedef int (*orch_op_fn)(struct orch_req *req, json_t **ret_result, struct bt_err **err);
struct orch_op {
    const char *name;
    orch_op_fn fn;
};
/* Run the request's op and send its reply or error (unless the op deferred it). */
void orch_ops_dispatch(struct orch_req *req);

/* request.c: requests that outlive their callback. */
/* A heap copy that holds the connection and the arguments; the original's descriptors move
 * to it. Finish it exactly once with orch_req_finish(). */
struct orch_req *orch_req_defer(struct orch_req *req);
/* Send a progress message (data stolen); nothing when the client is gone. */
void orch_req_progress(struct orch_req *req, json_t *data_steal);
/* The same with descriptors (duplicated for sending; the caller keeps its own). */
void orch_req_progress_fds(struct orch_req *req, json_t *data_steal, const int *fds, size_t nfds);
/* Send the reply (r >= 0, result stolen; NULL: {}) or the error (r < 0, err taken), then free
 * the deferred request. */
void orch_req_finish(struct orch_req *req, int r, json_t *result_steal, struct bt_err *err);
/* The same, deciding by err: the error when there is one (result dropped), else the reply. */
void orch_req_done(struct orch_req *req, struct bt_err *err, json_t *result_steal);
/* Free a deferred request without answering: its op is about to fail synchronously. */
void orch_req_drop(struct orch_req *req);
/* Whether the client that sent the request has gone away. */
bool orch_req_client_gone(const struct orch_req *req);
/* Bytes queued for its client (a producer slows down when the client reads slowly). */
size_t orch_req_queued(const struct orch_req *req);
/* Take descriptor i of the request (the caller owns it); -1 when there is none. */
int orch_req_take_fd(struct orch_req *req, size_t i);
void orch_req_close_fds(struct orch_req *req);
/* The error reply for err, logged once; used by dispatch and orch_req_finish. */
void orch_req_send_error(struct orch_req *req, const struct bt_err *err);

/* children.c: reaping. */
void orch_children_watch(struct orch_daemon *d, pid_t pid, orch_child_fn fn, void *userdata);
/* Stop watching pid (its caller reaped it itself). */
void orch_children_forget(struct orch_daemon *d, pid_t pid);
/* Reap every exited child; call the watcher of each known pid. */
void orch_children_reap(struct orch_daemon *d);
void orch_children_release(struct orch_daemon *d);

/* worker.c: heavy work in "berth worker TASK ARGS..." processes. in_fd becomes the worker's
 * stdin (-1: /dev/null), out_fd its fd 3 (-1: none); both stay the caller's. done runs once,
 * with the result (stolen) or the error (taken). */
struct orch_worker_cbs {
    void (*progress)(void *ud, json_t *data); /* borrowed; may be NULL */
    void (*done)(void *ud, int r, json_t *result, struct bt_err *err);
};
int orch_worker_run(struct orch_daemon *d, const char *const *args, int in_fd, int out_fd,
                    const struct orch_worker_cbs *cbs, void *ud, struct bt_err **err);

/* ops-image.c: the image store and its operations. */
int orch_images_open(struct orch_daemon *d, struct bt_err **err);
/* Remove the blobs and layers nothing needs any more (no image, no container), unless a pull
 * or a worker is adding some; then empty the layer trash in a worker. */
void orch_images_sweep(struct orch_daemon *d);
void orch_images_close(struct orch_daemon *d);
extern const struct orch_op orch_image_ops[];
extern const size_t orch_nimage_ops;
/* pull.c, push.c */
extern const struct orch_op orch_pull_ops[];
extern const size_t orch_npull_ops;
extern const struct orch_op orch_push_ops[];
extern const size_t orch_npush_ops;

/* state.c: the layout under the roots. */
int orch_state_init(struct orch_daemon *d, struct bt_err **err);
