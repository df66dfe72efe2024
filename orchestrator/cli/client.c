/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's side of the control socket. Connecting starts the daemon when it is absent: under
 * <run-root>/berth.sock.lock (so racing CLIs start exactly one), the daemon is spawned detached
 * and tells us on a pipe when it serves or why it could not start. Reads use recvmsg so any
 * descriptors the daemon passes are collected. BERTH_PROTO_TRACE=FILE logs every message.
 */
#define LOG_TAG "client"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fdpass.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

#define HANDSHAKE_TIMEOUT_MS 30000
#define START_TIMEOUT_MS 30000

struct cli_client {
    int fd;
    struct bt_buf in;
    int fds[BT_FDPASS_MAX];
    size_t nfds;
    json_int_t next_id;
    pid_t daemon_pid;
    char *daemon_version;
    int trace_fd;
};

static void
trace(struct cli_client *c, const char *line, size_t len)
{
    if (c->trace_fd < 0)
        return;
    (void) bt_write_all(c->trace_fd, line, len);
    if (len == 0 || line[len - 1] != '\n')
        (void) bt_write_all(c->trace_fd, "\n", 1);
}

struct cli_client *
cli_client_free(struct cli_client *c)
{
    if (!c)
        return NULL;
    BT_CLOSE(c->fd);
    BT_CLOSE(c->trace_fd);
    for (size_t i = 0; i < c->nfds; i++)
        (void) close(c->fds[i]);
    bt_buf_release(&c->in);
    free(c->daemon_version);
    free(c);
    return NULL;
}

int
cli_client_take_fd(struct cli_client *c)
{
    if (c->nfds == 0)
        return -1;
    int fd = c->fds[0];
    memmove(c->fds, c->fds + 1, (c->nfds - 1) * sizeof *c->fds);
    c->nfds--;
    return fd;
}

pid_t
cli_client_daemon_pid(const struct cli_client *c)
{
    return c->daemon_pid;
}

const char *
cli_client_daemon_version(const struct cli_client *c)
{
    return c->daemon_version;
}

/* Send a message; descriptors (announced in the message as "fds") ride on its first byte. */
static int
send_msg_fds(struct cli_client *c, json_t *msg_steal, const int *fds, size_t nfds,
             struct bt_err **err)
{
    if (nfds > 0)
        json_object_set_new(msg_steal, "fds", json_integer((json_int_t) nfds));
    size_t len;
    bt_autofree char *line = orch_msg_encode(msg_steal, &len);
    json_decref(msg_steal);
    if (!line)
        return bt_err_set(err, BT_ETOOBIG, "request is larger than %u bytes", ORCH_PROTO_MAX_MSG);
    trace(c, line, len);
    size_t off = 0;
    if (nfds > 0) {
        ssize_t n;
        do
            n = bt_fd_send(c->fd, line, len, fds, nfds);
        while (n == -EINTR);
        if (n < 0)
            return bt_err_errno(err, (int) n, "cannot send to the daemon");
        off = (size_t) n;
    }
    int r = bt_write_all(c->fd, line + off, len - off);
    if (r < 0)
        return bt_err_errno(err, r, "cannot send to the daemon");
    return 0;
}

static int
send_msg(struct cli_client *c, json_t *msg_steal, struct bt_err **err)
{
    return send_msg_fds(c, msg_steal, NULL, 0, err);
}

/* Read one message; timeout_ms < 0 waits for ever. */
static int
read_msg(struct cli_client *c, int timeout_ms, struct orch_msg *ret, struct bt_err **err)
{
    for (;;) {
        char *nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
        if (nl) {
            size_t len = (size_t) (nl - c->in.data);
            trace(c, c->in.data, len + 1);
            int r = orch_msg_decode(c->in.data, len, ret, err);
            bt_buf_consume(&c->in, len + 1);
            if (r < 0)
                return bt_err_wrap(err, "the daemon sent a bad message");
            return 0;
        }
        if (timeout_ms >= 0) {
            struct pollfd p = { .fd = c->fd, .events = POLLIN };
            int n = poll(&p, 1, timeout_ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0)
                return bt_err_set(err, ETIMEDOUT, "the daemon did not answer within %d s",
                                  timeout_ms / 1000);
        }
        char chunk[65536];
        size_t nfds = BT_FDPASS_MAX - c->nfds;
        ssize_t n = bt_fd_recv(c->fd, chunk, sizeof chunk, c->fds + c->nfds, &nfds);
        if (n == -EINTR)
            continue;
        if (n < 0)
            return bt_err_errno(err, (int) n, "cannot read from the daemon");
        c->nfds += nfds;
        if (n == 0)
            return bt_err_set(err, ECONNRESET, "the daemon closed the connection");
        if (bt_buf_append(&c->in, chunk, (size_t) n) < 0)
            return bt_err_set(err, BT_ETOOBIG, "the daemon sent a message over %u bytes",
                              ORCH_PROTO_MAX_MSG);
    }
}

static int
handshake(struct cli_client *c, struct bt_err **err)
{
    bt_autoerr struct bt_err *send_err = NULL;
    struct orch_msg m = { 0 };
    /* A daemon that refuses us (permission, too many clients, shutting down) says why and
     * closes at once; our hello may then fail with EPIPE. Its reason is still readable. */
    if (send_msg(c, orch_msg_hello_client(), &send_err) < 0) {
        if (read_msg(c, 1000, &m, NULL) == 0 && m.type == ORCH_MSG_ERROR) {
            int r = orch_msg_error_to(&m, err);
            orch_msg_release(&m);
            return r;
        }
        orch_msg_release(&m);
        *err = BT_TAKE_PTR(send_err);
        return -1;
    }
    if (read_msg(c, HANDSHAKE_TIMEOUT_MS, &m, err) < 0)
        return -1;
    int r = 0;
    if (m.type == ORCH_MSG_ERROR) {
        r = orch_msg_error_to(&m, err);
    } else if (m.type != ORCH_MSG_HELLO) {
        r = bt_err_set(err, BT_EPROTO, "the daemon did not answer 'hello'");
    } else {
        json_int_t proto = json_integer_value(json_object_get(m.root, "protocol"));
        if (proto != ORCH_PROTO_VERSION) {
            r = bt_err_set(err, BT_EVERSION, "the daemon speaks protocol %lld, this CLI %d",
                           (long long) proto, ORCH_PROTO_VERSION);
            bt_err_hint(err, "restart the daemon with this version: berth daemon stop");
        } else {
            c->daemon_pid = (pid_t) json_integer_value(json_object_get(m.root, "pid"));
            const char *v = json_string_value(json_object_get(m.root, "daemon"));
            c->daemon_version = bt_xstrdup(v ? v : "unknown");
        }
    }
    orch_msg_release(&m);
    return r;
}

/* Returns a connected socket, or -errno (without *err) so callers can decide what to do. */
static int
try_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        int r = -errno;
        (void) close(fd);
        return r;
    }
    return fd;
}

/* Wait for the spawned daemon's verdict on the ready pipe. */
static int
wait_ready(int rfd, const struct orch_paths *p, struct bt_err **err)
{
    char buf[1024];
    size_t len = 0;
    struct pollfd pfd = { .fd = rfd, .events = POLLIN };
    while (len < sizeof buf - 1) {
        int n = poll(&pfd, 1, START_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return bt_err_set(err, ETIMEDOUT, "the daemon did not start within %d s (see '%s')",
                              START_TIMEOUT_MS / 1000, p->log);
        ssize_t k = read(rfd, buf + len, sizeof buf - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t) k;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (strcmp(buf, "ok") == 0)
        return 0;
    const char *why = bt_startswith(buf, "error: ");
    if (why)
        return bt_err_set(err, ECHILD, "cannot start the daemon: %s", why);
    return bt_err_set(err, ECHILD, "the daemon exited while starting (see '%s')", p->log);
}

/* Spawn "berth daemon" detached (double fork, setsid) and wait until it serves. */
static int
spawn_daemon(const struct cli_ctx *ctx, const struct orch_paths *p, struct bt_err **err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return bt_err_errno(err, -errno, "cannot create pipe");
    const char *argv[16];
    size_t n = 0;
    argv[n++] = "berth";
    argv[n++] = "--root";
    argv[n++] = p->root;
    argv[n++] = "--run-root";
    argv[n++] = p->run_root;
    if (ctx->log_level) {
        argv[n++] = "--log-level";
        argv[n++] = ctx->log_level;
    }
    argv[n++] = "daemon";
    argv[n++] = "--ready-fd";
    argv[n++] = "3";
    argv[n] = NULL;

    pid_t child = fork();
    if (child < 0) {
        int r = -errno;
        (void) close(pipefd[0]);
        (void) close(pipefd[1]);
        return bt_err_errno(err, r, "cannot fork");
    }
    if (child == 0) {
        /* Intermediate child: only async-signal-safe calls from here to execve. */
        if (setsid() < 0)
            _exit(127);
        pid_t grandchild = fork();
        if (grandchild != 0)
            _exit(grandchild < 0 ? 127 : 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
            dup2(pipefd[1], 3) < 0)
            _exit(127);
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigaction(SIGPIPE, &sa, NULL);
        execv("/proc/self/exe", (char *const *) argv);
        _exit(127);
    }
    (void) close(pipefd[1]);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    int r = wait_ready(pipefd[0], p, err);
    (void) close(pipefd[0]);
    return r;
}

static int
connect_or_start(const struct cli_ctx *ctx, const struct orch_paths *p, bool autostart,
                 struct bt_err **err)
{
    int fd = try_connect(p->sock);
    if (fd >= 0)
        return fd;
    if (fd == -EACCES || fd == -EPERM) {
        int r = bt_err_errno(err, fd, "cannot connect to the berth daemon at '%s'", p->sock);
        bt_err_hint(err, "the daemon is root-only: run berth as root (sudo)");
        return r;
    }
    if (fd != -ENOENT && fd != -ECONNREFUSED)
        return bt_err_errno(err, fd, "cannot connect to the berth daemon at '%s'", p->sock);
    if (!autostart)
        return bt_err_set(err, ECONNREFUSED, "the berth daemon is not running");
    if (geteuid() != 0) {
        int r = bt_err_set(err, EPERM,
                           "the berth daemon is not running and only root can "
                           "start it");
        bt_err_hint(err, "run berth as root (sudo)");
        return r;
    }
    if (bt_mkdir_p(p->run_root, 0711, err) < 0)
        return -1;
    bt_autoclose int lock = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", p->lock);
    while (flock(lock, LOCK_EX) < 0)
        if (errno != EINTR)
            return bt_err_errno(err, -errno, "cannot lock '%s'", p->lock);
    /* Another CLI may have started it while we waited for the lock. */
    fd = try_connect(p->sock);
    if (fd >= 0)
        return fd;
    bt_log_debug("starting the daemon (root '%s', run root '%s')", p->root, p->run_root);
    if (spawn_daemon(ctx, p, err) < 0)
        return -1;
    fd = try_connect(p->sock);
    if (fd < 0)
        return bt_err_errno(err, fd, "cannot connect to the daemon just started at '%s'", p->sock);
    return fd;
}

int
cli_client_open(const struct cli_ctx *ctx, bool autostart, struct cli_client **ret,
                struct bt_err **err)
{
    struct orch_paths p;
    if (orch_paths_init(&p, ctx->root, ctx->run_root, err) < 0)
        return -1;
    int fd = connect_or_start(ctx, &p, autostart, err);
    orch_paths_release(&p);
    if (fd < 0)
        return fd;
    struct cli_client *c = bt_xcalloc(1, sizeof *c);
    c->fd = fd;
    c->trace_fd = -1;
    c->next_id = 1;
    bt_buf_init(&c->in, ORCH_PROTO_MAX_MSG + 65536);
    const char *tr = getenv("BERTH_PROTO_TRACE");
    if (tr && tr[0])
        c->trace_fd = open(tr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    int r = handshake(c, err);
    if (r < 0) {
        cli_client_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int
cli_client_call(struct cli_client *c, const char *op, json_t *args_steal, cli_progress_fn fn,
                void *userdata, json_t **ret_result, struct bt_err **err)
{
    return cli_client_call_fds(c, op, args_steal, NULL, 0, fn, userdata, ret_result, err);
}

int
cli_client_call_fds(struct cli_client *c, const char *op, json_t *args_steal, const int *fds,
                    size_t nfds, cli_progress_fn fn, void *userdata, json_t **ret_result,
                    struct bt_err **err)
{
    json_int_t id = c->next_id++;
    if (send_msg_fds(c, orch_msg_request(id, op, args_steal), fds, nfds, err) < 0)
        return -1;
    for (;;) {
        struct orch_msg m = { 0 };
        if (read_msg(c, -1, &m, err) < 0)
            return -1;
        if (m.id >= 0 && m.id != id && m.type != ORCH_MSG_EVENT) {
            orch_msg_release(&m);
            continue; /* a late answer to an earlier request */
        }
        int r = 0;
        switch (m.type) {
        case ORCH_MSG_REPLY:
            if (ret_result)
                *ret_result = json_incref(json_object_get(m.root, "result"));
            orch_msg_release(&m);
            return 0;
        case ORCH_MSG_ERROR:
            r = orch_msg_error_to(&m, err);
            orch_msg_release(&m);
            return r;
        case ORCH_MSG_PROGRESS:
        case ORCH_MSG_EVENT:
            if (fn)
                fn(&m, userdata);
            break;
        default:
            r = bt_err_set(err, BT_EPROTO, "unexpected message from the daemon");
            orch_msg_release(&m);
            return r;
        }
        orch_msg_release(&m);
    }
}

int
cli_call(const struct cli_ctx *ctx, const char *op, json_t *args_steal, json_t **ret_result,
         struct bt_err **err)
{
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        json_decref(args_steal);
        return -1;
    }
    int r = cli_client_call(c, op, args_steal, NULL, NULL, ret_result, err);
    cli_client_free(c);
    return r;
}
