/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker processes: heavy work (unpacking layers, reading and writing archives, removing
 * trees) runs in berth re-executed as "berth worker TASK ...", so the loop never blocks. A
 * worker writes JSON lines on its stdout: {"progress": {...}} any number of times, then one
 * {"result": {...}} or {"error": {...}}. It is finished when it has been reaped and its pipe
 * reached EOF, in either order; the second event completes it.
 */
#define LOG_TAG "worker"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/log.h"
#include "orchestrator/daemon/daemon.h"

#define WORKER_LINE_MAX (4u << 20)

extern char **environ;

struct orch_worker {
    struct orch_daemon *d;
    char *task;
    pid_t pid;
    int out_fd;
    struct event *ev;
    struct bt_buf in;
    json_t *result;
    struct bt_err *err;
    bool reaped, eof;
    int status;
    struct orch_worker_cbs cbs;
    void *ud;
};

static void
worker_line(struct orch_worker *w, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *m = json_loadb(line, len, 0, &jerr);
    json_t *v;
    if (!json_is_object(m)) {
        bt_autofree char *esc = bt_log_escape(line, len, 200);
        bt_log_warn("worker %s: not a JSON line: '%s', ignoring", w->task, esc);
    } else if ((v = json_object_get(m, "progress"))) {
        if (w->cbs.progress)
            w->cbs.progress(w->ud, v);
    } else if ((v = json_object_get(m, "result"))) {
        json_decref(w->result);
        w->result = json_incref(v);
    } else if ((v = json_object_get(m, "error"))) {
        const char *msg = json_string_value(json_object_get(v, "message"));
        int code = (int) json_integer_value(json_object_get(v, "code"));
        bt_err_free(w->err);
        w->err = NULL;
        (void) bt_err_set(&w->err, code > 0 ? code : EIO, "%s", msg ? msg : "worker failed");
        const char *hint = json_string_value(json_object_get(v, "hint"));
        if (hint)
            bt_err_hint(&w->err, "%s", hint);
    }
    json_decref(m);
}

static void
worker_finish(struct orch_worker *w)
{
    if (!w->reaped || !w->eof)
        return;
    int r = 0;
    if (w->err) {
        r = -w->err->code;
    } else if (!WIFEXITED(w->status) || WEXITSTATUS(w->status) != 0 || !w->result) {
        r = WIFSIGNALED(w->status)
                ? bt_err_set(&w->err, EIO, "worker '%s' was killed by signal %d", w->task,
                             WTERMSIG(w->status))
                : bt_err_set(&w->err, EIO, "worker '%s' failed (exit status %d)", w->task,
                             WIFEXITED(w->status) ? WEXITSTATUS(w->status) : -1);
    }
    bt_log_debug("worker %s (pid %d) done: %d", w->task, (int) w->pid, r);
    w->d->busy--;
    w->cbs.done(w->ud, r, r < 0 ? NULL : BT_TAKE_PTR(w->result), BT_TAKE_PTR(w->err));
    json_decref(w->result);
    bt_buf_release(&w->in);
    free(w->task);
    free(w);
}

static void
on_output(evutil_socket_t fd, short what, void *arg)
{
    (void) what;
    struct orch_worker *w = arg;
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0 && bt_buf_append(&w->in, chunk, (size_t) n) < 0) {
        bt_log_warn("worker %s: a line over %u bytes, dropping it", w->task, WORKER_LINE_MAX);
        bt_buf_reset(&w->in);
    }
    char *nl;
    while (w->in.len && (nl = memchr(w->in.data, '\n', w->in.len))) {
        worker_line(w, w->in.data, (size_t) (nl - w->in.data));
        bt_buf_consume(&w->in, (size_t) (nl - w->in.data) + 1);
    }
    if (n <= 0) {
        event_free(w->ev);
        w->ev = NULL;
        BT_CLOSE(w->out_fd);
        w->eof = true;
        worker_finish(w);
    }
}

static void
on_reaped(struct orch_daemon *d, pid_t pid, int status, void *ud)
{
    (void) d;
    (void) pid;
    struct orch_worker *w = ud;
    w->status = status;
    w->reaped = true;
    worker_finish(w);
}

int
orch_worker_run(struct orch_daemon *d, const char *const *args, int in_fd, int out_fd,
                const struct orch_worker_cbs *cbs, void *ud, struct bt_err **err)
{
    size_t nargs = 0;
    while (args[nargs])
        nargs++;
    bt_autofree char **argv = bt_xcalloc(nargs + 3, sizeof *argv);
    argv[0] = (char *) "berth";
    argv[1] = (char *) "worker";
    for (size_t i = 0; i < nargs; i++)
        argv[2 + i] = (char *) args[i];
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return bt_err_errno(err, -errno, "cannot create a pipe");
    bt_autoclose int null_fd = -1;
    if (in_fd < 0 && (in_fd = null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        int r = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return bt_err_errno(err, r, "cannot open /dev/null");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 3);
    pid_t pid;
    int r = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (r != 0) {
        close(pipefd[0]);
        return bt_err_errno(err, -r, "cannot start a worker");
    }
    struct orch_worker *w = bt_xcalloc(1, sizeof *w);
    w->d = d;
    w->task = bt_xstrdup(args[0]);
    w->pid = pid;
    w->out_fd = pipefd[0];
    w->cbs = *cbs;
    w->ud = ud;
    bt_buf_init(&w->in, WORKER_LINE_MAX);
    (void) fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
    w->ev = event_new(d->base, w->out_fd, EV_READ | EV_PERSIST, on_output, w);
    BT_ASSERT(w->ev);
    event_add(w->ev, NULL);
    orch_children_watch(d, pid, on_reaped, w);
    d->busy++;
    bt_log_debug("worker %s started (pid %d)", w->task, (int) pid);
    return 0;
}
