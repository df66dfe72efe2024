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
#include "orchestrator/paths.h"
#include "orchestrator/proto/proto.h"

#define ORCH_MAX_CONNS 1024

struct orch_conn;
struct orch_daemon;
struct orch_child;

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
};

/* Run the daemon until SIGTERM/SIGINT or a stop request. Returns the exit code. */
int orch_daemon_main(const struct orch_daemon_opts *opts);
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

/* ops.c: one request. The handler fills *ret_result (a new reference) or *err. */
struct orch_req {
    struct orch_daemon *d;
    struct orch_conn *conn;
    json_int_t id;
    const char *op;
    json_t *args; /* borrowed: an object, maybe empty */
};
typedef int (*orch_op_fn)(struct orch_req *req, json_t **ret_result, struct bt_err **err);
/* Run the request's op and send its reply or error. */
void orch_ops_dispatch(struct orch_req *req);

/* children.c: reaping. */
void orch_children_watch(struct orch_daemon *d, pid_t pid, orch_child_fn fn, void *userdata);
/* Reap every exited child; call the watcher of each known pid. */
void orch_children_reap(struct orch_daemon *d);
void orch_children_release(struct orch_daemon *d);

/* state.c: the layout under the roots. */
int orch_state_init(struct orch_daemon *d, struct bt_err **err);
