/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations the daemon serves, in one table. Each handler returns its result or an error;
 * dispatch turns that into the reply and logs failures (the one place the daemon reports).
 */
#define LOG_TAG "ops"

#include <string.h>
#include <time.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/engine.h"
#include "orchestrator/daemon/containers.h"
#include "orchestrator/daemon/daemon.h"

static double
uptime_seconds(const struct orch_daemon *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - d->started.tv_sec) +
           (double) (now.tv_nsec - d->started.tv_nsec) / 1e9;
}

static int
op_ping(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) req;
    (void) err;
    *ret = json_object();
    return 0;
}

static int
op_version(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) req;
    (void) err;
    *ret = json_pack("{s:s, s:i, s:I}", "version", BERTH_VERSION, "protocol", ORCH_PROTO_VERSION,
                     "pid", (json_int_t) getpid());
    return 0;
}

static int
op_system_info(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) err;
    struct orch_daemon *d = req->d;
    struct eng_host_info h;
    eng_host_probe(&h);
    json_t *ns = json_object();
    for (int i = 0; i < ENG_NS_COUNT; i++)
        json_object_set_new(ns, eng_ns_str((enum eng_ns) i), json_boolean(h.ns[i]));
    json_t *cg = json_pack("{s:s, s:s}", "mode", eng_cgroup_mode_str(h.cgroup_mode), "controllers",
                           h.cgroup_controllers);
    if (h.cgroup_v2_path[0])
        json_object_set_new(cg, "v2_path", json_string(h.cgroup_v2_path));
    *ret = json_pack("{s:s, s:i, s:I, s:f, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o}", "version",
                     BERTH_VERSION, "protocol", ORCH_PROTO_VERSION, "pid", (json_int_t) getpid(),
                     "uptime_seconds", uptime_seconds(d), "root", d->paths.root, "run_root",
                     d->paths.run_root, "kernel", h.kernel, "arch", h.arch, "cgroup", cg,
                     "overlayfs", h.overlayfs, "seccomp", h.seccomp, "namespaces", ns);
    return 0;
}

static int
op_daemon_stop(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) err;
    *ret = json_pack("{s:I}", "pid", (json_int_t) getpid());
    orch_daemon_stop(req->d, "stop requested by a client");
    return 0;
}

static const struct orch_op ops[] = {
    { "daemon.stop", op_daemon_stop },
    { "ping", op_ping },
    { "system.info", op_system_info },
    { "version", op_version },
};

static void
send_and_drop(struct orch_req *req, json_t *msg)
{
    (void) orch_conn_send(req->conn, msg, NULL, 0);
    json_decref(msg);
}

/* Every table of operations; names are unique across them. */
static const struct orch_op_table {
    const struct orch_op *ops;
    const size_t *n;
} tables[] = {
    { ops, &(const size_t){ BT_ARRAY_SIZE(ops) } },
    { orch_image_ops, &orch_nimage_ops },
    { orch_pull_ops, &orch_npull_ops },
    { orch_push_ops, &orch_npush_ops },
    { orch_container_ops, &orch_ncontainer_ops },
};

void
orch_ops_dispatch(struct orch_req *req)
{
    const struct orch_op *op = NULL;
    size_t total = 0;
    for (size_t t = 0; t < BT_ARRAY_SIZE(tables); t++)
        for (size_t i = 0; i < *tables[t].n; i++, total++)
            if (strcmp(tables[t].ops[i].name, req->op) == 0)
                op = &tables[t].ops[i];
    if (!op) {
        bt_autofree const char **names = bt_xcalloc(total, sizeof *names);
        size_t k = 0;
        for (size_t t = 0; t < BT_ARRAY_SIZE(tables); t++)
            for (size_t i = 0; i < *tables[t].n; i++)
                names[k++] = tables[t].ops[i].name;
        const char *close = bt_str_closest(req->op, names, total);
        bt_autofree char *esc = bt_log_escape(req->op, strlen(req->op), 64);
        char msg[160], hint[96];
        snprintf(msg, sizeof msg, "unknown operation '%s'", esc);
        if (close)
            snprintf(hint, sizeof hint, "did you mean '%s'?", close);
        send_and_drop(req, orch_msg_error(req->id, ORCH_E_UNKNOWN_OP, msg, close ? hint : NULL));
        return;
    }
    if (req->d->stopping) {
        send_and_drop(req, orch_msg_error(req->id, ORCH_E_SHUTTING_DOWN,
                                          "the daemon is shutting down", NULL));
        return;
    }
    bt_log_debug("request %lld: %s", (long long) req->id, op->name);
    json_t *result = NULL;
    bt_autoerr struct bt_err *err = NULL;
    int r = op->fn(req, &result, &err);
    if (r == ORCH_OP_PENDING)
        return;
    if (r < 0) {
        orch_req_send_error(req, err);
        return;
    }
    send_and_drop(req, orch_msg_reply(req->id, result ? result : json_object()));
}
