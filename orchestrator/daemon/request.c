/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests that complete after their op returned: a pull, a load, an up. The deferred request
 * holds a reference on its connection, so replies to a client that went away are dropped
 * quietly, and the connection's memory lives until the work is done.
 */
#define LOG_TAG "ops"

#include <string.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "orchestrator/daemon/daemon.h"

struct orch_req *
orch_req_defer(struct orch_req *req)
{
    struct orch_req *r = bt_xcalloc(1, sizeof *r);
    *r = *req;
    r->conn = orch_conn_ref(req->conn, __func__);
    r->op = bt_xstrdup(req->op);
    r->args = json_deep_copy(req->args);
    BT_ASSERT(r->args); /* jansson fails only when out of memory */
    req->nfds = 0;      /* they moved */
    return r;
}

static void
send_and_drop(struct orch_req *req, json_t *msg)
{
    (void) orch_conn_send(req->conn, msg, NULL, 0);
    json_decref(msg);
}

void
orch_req_progress(struct orch_req *req, json_t *data_steal)
{
    if (orch_conn_is_dead(req->conn)) {
        json_decref(data_steal);
        return;
    }
    send_and_drop(req, orch_msg_progress(req->id, data_steal));
}

void
orch_req_progress_fds(struct orch_req *req, json_t *data_steal, const int *fds, size_t nfds)
{
    if (orch_conn_is_dead(req->conn)) {
        json_decref(data_steal);
        return;
    }
    json_t *msg = orch_msg_progress(req->id, data_steal);
    json_object_set_new(msg, "fds", json_integer((json_int_t) nfds));
    (void) orch_conn_send(req->conn, msg, fds, nfds);
    json_decref(msg);
}

void
orch_req_send_error(struct orch_req *req, const struct bt_err *err)
{
    bt_autofree char *text = bt_err_text(err);
    bt_log_info("%s failed: %s", req->op, text);
    send_and_drop(req, orch_msg_error_from(req->id, err));
}

static void
req_free(struct orch_req *req)
{
    orch_req_close_fds(req);
    orch_conn_unref(req->conn, __func__);
    json_decref(req->args);
    free((char *) req->op);
    free(req);
}

void
orch_req_drop(struct orch_req *req)
{
    req_free(req);
}

void
orch_req_finish(struct orch_req *req, int r, json_t *result_steal, struct bt_err *err)
{
    if (r < 0) {
        json_decref(result_steal);
        if (!err)
            (void) bt_err_set(&err, -r, "%s failed", req->op);
        orch_req_send_error(req, err);
    } else {
        send_and_drop(req, orch_msg_reply(req->id, result_steal ? result_steal : json_object()));
    }
    bt_err_free(err);
    req_free(req);
}

void
orch_req_done(struct orch_req *req, struct bt_err *err, json_t *result_steal)
{
    if (err) {
        json_decref(result_steal);
        orch_req_finish(req, -err->code, NULL, err);
    } else {
        orch_req_finish(req, 0, result_steal, NULL);
    }
}

size_t
orch_req_queued(const struct orch_req *req)
{
    return orch_conn_queued(req->conn);
}

bool
orch_req_client_gone(const struct orch_req *req)
{
    return orch_conn_is_dead(req->conn);
}

int
orch_req_take_fd(struct orch_req *req, size_t i)
{
    if (i >= req->nfds || req->fds[i] < 0)
        return -1;
    int fd = req->fds[i];
    req->fds[i] = -1;
    return fd;
}

void
orch_req_close_fds(struct orch_req *req)
{
    for (size_t i = 0; i < req->nfds; i++)
        if (req->fds[i] >= 0)
            (void) close(req->fds[i]);
    req->nfds = 0;
}
