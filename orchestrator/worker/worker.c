/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker role: "berth worker TASK IMAGES_DIR ARGS...", started by the daemon for work that
 * would block its loop (see orchestrator/daemon/worker.c). It prints JSON lines on stdout:
 * progress, then {"result": ...} or {"error": {"code", "message", "hint"}}. Its stdin is the
 * input (an archive, a tar), fd 3 the output when the task writes one.
 */
#define LOG_TAG "worker"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/cas.h"
#include "engine/image/image.h"
#include "orchestrator/worker/worker.h"

static long
parse_pid(const char *s)
{
    uint64_t v;
    return bt_parse_u64(s, &v) == 0 ? (long) v : -1;
}

static void
emit(const char *key, json_t *v_steal)
{
    json_t *m = json_pack("{s:o}", key, v_steal);
    bt_autofree char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    printf("%s\n", text);
    fflush(stdout);
}

/* unpack DIR CHAIN PARENT|- BLOB DIFF_ID|- */
static int
task_unpack(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    if (argc != 4)
        return bt_err_set(err, BT_EUSAGE, "usage: unpack CHAIN PARENT|- BLOB DIFF_ID|-");
    const char *parent = strcmp(argv[1], "-") ? argv[1] : NULL;
    const char *diff_id = strcmp(argv[3], "-") ? argv[3] : NULL;
    char found[ENG_DIGEST_LEN + 1];
    if (eng_cas_layer_unpack(cas, argv[0], parent, argv[2], diff_id, found, err) < 0)
        return -1;
    *ret = json_pack("{s:s}", "diff_id", found);
    return 0;
}

/* commit DIR MANIFEST SOURCE */
static int
task_commit(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    if (argc != 2)
        return bt_err_set(err, BT_EUSAGE, "usage: commit MANIFEST SOURCE");
    json_t *rec = NULL;
    if (eng_img_commit(cas, argv[0], argv[1], &rec, err) < 0)
        return -1;
    *ret = json_pack("{s:o}", "record", rec);
    return 0;
}

/* import DIR [MESSAGE [CHANGE...]]: the tar on stdin */
static int
task_import(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    json_t *rec = NULL;
    const char *message = argc > 0 ? argv[0] : NULL;
    if (eng_img_import(cas, 0, (const char *const *) argv + (argc > 0),
                       argc > 0 ? (size_t) argc - 1 : 0, message, &rec, err) < 0)
        return -1;
    *ret = json_pack("{s:o}", "record", rec);
    return 0;
}

/* load DIR: the archive on stdin */
static int
task_load(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    (void) argv;
    if (argc != 0)
        return bt_err_set(err, BT_EUSAGE, "usage: load");
    json_t *images = NULL;
    if (eng_img_load(cas, 0, &images, err) < 0)
        return -1;
    *ret = json_pack("{s:o}", "images", images);
    return 0;
}

/* save DIR IMAGES_JSON: the archive to fd 3 */
static int
task_save(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    if (argc != 1)
        return bt_err_set(err, BT_EUSAGE, "usage: save IMAGES_JSON");
    json_error_t jerr;
    json_t *images = json_loads(argv[0], 0, &jerr);
    if (!json_is_array(images)) {
        json_decref(images);
        return bt_err_set(err, BT_EPARSE, "save: bad image list: %s", jerr.text);
    }
    int r = eng_img_save(cas, images, 3, err);
    json_decref(images);
    if (r == 0)
        *ret = json_object();
    return r;
}

/* gc DIR: empty the layer trash */
static int
task_gc(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err)
{
    (void) argc;
    (void) argv;
    (void) err;
    *ret = json_pack("{s:i}", "removed", eng_cas_trash_empty(cas));
    return 0;
}

static const struct task {
    const char *name;
    int (*fn)(struct eng_cas *cas, int argc, char **argv, json_t **ret, struct bt_err **err);
} tasks[] = {
    { "commit", task_commit }, { "gc", task_gc },     { "import", task_import },
    { "load", task_load },     { "save", task_save }, { "unpack", task_unpack },
};

int
orch_worker_main(int argc, char **argv)
{
    /* Log lines go to stderr, which the daemon pointed at its log. */
    bt_log_set_level(BT_LOG_WARN);
    /* A worker never outlives its daemon: a new daemon's recovery would remove the unpack
     * this one is still writing. The parent may have died before prctl: then we were
     * reparented (to init or a subreaper) and stop at once. */
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || parent == 1) {
        fprintf(stderr, "berth worker: no daemon to work for\n");
        return 1;
    }
    const char *daemon_pid = getenv("BERTH_WORKER_PARENT");
    if (daemon_pid && parse_pid(daemon_pid) != parent) {
        fprintf(stderr, "berth worker: the daemon that started this worker is gone\n");
        return 1;
    }
    bt_autoerr struct bt_err *err = NULL;
    json_t *result = NULL;
    int r = -1;
    const struct task *t = NULL;
    for (size_t i = 0; argc >= 2 && i < BT_ARRAY_SIZE(tasks); i++)
        if (strcmp(argv[0], tasks[i].name) == 0)
            t = &tasks[i];
    if (!t) {
        r = bt_err_set(&err, BT_EUSAGE, "usage: berth worker TASK IMAGES_DIR ARGS...");
    } else {
        struct eng_cas *cas = NULL;
        r = eng_cas_open(argv[1], &cas, &err);
        if (r == 0)
            r = t->fn(cas, argc - 2, argv + 2, &result, &err);
        eng_cas_free(cas);
    }
    if (r < 0) {
        bt_autofree char *text = err ? bt_err_text(err) : NULL;
        emit("error", json_pack("{s:i, s:s, s:s?}", "code", err ? err->code : EIO, "message",
                                text ? text : "failed", "hint", err ? err->hint : NULL));
        return 1;
    }
    emit("result", result);
    return 0;
}
