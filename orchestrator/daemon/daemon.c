/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's life: take the one-daemon lock, set up logging, state and the socket, run the
 * event loop, and on SIGTERM/SIGINT or a stop request shut down cleanly, leaving no socket or
 * pid file behind. Start-up failures are reported once: to the CLI that spawned us (ready pipe),
 * to stderr and to the log.
 */
#define LOG_TAG "daemon"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/registry.h"
#include "orchestrator/daemon/containers.h"
#include "orchestrator/daemon/daemon.h"

static int log_fd = -1;

void
orch_daemon_stop(struct orch_daemon *d, const char *why)
{
    if (d->stopping)
        return;
    bt_log_info("stopping: %s", why);
    d->stopping = true;
    /* Leave the loop on its next turn, after the current callback has queued its replies. */
    event_active(d->ev_stop, EV_TIMEOUT, 0);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct orch_daemon *d = arg;
    event_base_loopexit(d->base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void) what;
    struct orch_daemon *d = arg;
    switch (sig) {
    case SIGCHLD:
        orch_children_reap(d);
        break;
    case SIGHUP:
        bt_log_info("SIGHUP received, nothing to reload, continuing");
        break;
    default:
        orch_daemon_stop(d, sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
        break;
    }
}

/* Read the pid of the daemon holding the lock, for the message. */
static pid_t
read_pid(int fd)
{
    char buf[32] = { 0 };
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[strcspn(buf, "\n")] = '\0';
    int pid;
    return bt_parse_int(buf, &pid) == 0 ? (pid_t) pid : 0;
}

static int
take_pid_lock(struct orch_daemon *d, struct bt_err **err)
{
    int fd = open(d->paths.pid, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open pid file '%s'", d->paths.pid);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int r = -errno;
        pid_t other = read_pid(fd);
        (void) close(fd);
        if (r == -EWOULDBLOCK) {
            r = bt_err_set(err, EEXIST, "a berth daemon is already running (pid %d) on '%s'",
                           (int) other, d->paths.run_root);
            bt_err_hint(err, "stop it first: berth daemon stop");
            return r;
        }
        return bt_err_errno(err, r, "cannot lock pid file '%s'", d->paths.pid);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n) {
        int r = -errno;
        (void) close(fd);
        return bt_err_errno(err, r, "cannot write pid file '%s'", d->paths.pid);
    }
    d->pid_fd = fd;
    return 0;
}

static int
open_log(const struct orch_daemon *d, bool foreground, struct bt_err **err)
{
    log_fd = open(d->paths.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (log_fd < 0)
        return bt_err_errno(err, -errno, "cannot open log '%s'", d->paths.log);
    bt_log_set_target(log_fd, foreground);
    return 0;
}

/* Many clients at once (and later many containers' pipes) need more than 1024 descriptors. */
static void
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            bt_log_warn("cannot raise the descriptor limit: %s, continuing", strerror(errno));
    }
}

/* The registry client is made on first use: libcurl's and OpenSSL's start-up costs an idle
 * daemon about 2 MB it would otherwise carry for nothing. */
int
orch_daemon_registry(struct orch_daemon *d, struct eng_reg **ret, struct bt_err **err)
{
    if (!d->reg) {
        struct eng_reg_opts ro = {
            .insecure = (const char *const *) d->config.insecure_registries,
            .ninsecure = d->config.ninsecure,
            .certs_dir = d->config.certs_dir,
            .user_agent = "berth/" BERTH_VERSION,
        };
        if (eng_reg_new(d->base, &ro, &d->reg, err) < 0)
            return bt_err_wrap(err, "registry client");
    }
    *ret = d->reg;
    return 0;
}

static int
setup(struct orch_daemon *d, const struct orch_daemon_opts *opts, struct bt_err **err)
{
    if (orch_paths_init(&d->paths, opts->root, opts->run_root, err) < 0)
        return -1;
    umask(022);
    if (bt_mkdir_p(d->paths.run_root, 0711, err) < 0 || bt_mkdir_p(d->paths.root, 0711, err) < 0)
        return -1;
    if (take_pid_lock(d, err) < 0)
        return -1;
    if (open_log(d, opts->foreground, err) < 0)
        return -1;
    if (chdir("/") < 0)
        return bt_err_errno(err, -errno, "cannot change directory to '/'");
    /* SIGPIPE would kill us when a client disappears mid-write; EPIPE is handled instead. */
    struct sigaction sa = { .sa_handler = SIG_IGN };
    sigaction(SIGPIPE, &sa, NULL);
    /* Workers check that the daemon that started them is still their parent. */
    char pid_text[24];
    snprintf(pid_text, sizeof pid_text, "%d", (int) getpid());
    (void) setenv("BERTH_WORKER_PARENT", pid_text, 1);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return bt_err_errno(err, -errno, "cannot become a child subreaper");
    raise_nofile();
    if (orch_config_load(&d->config, err) < 0 || orch_state_init(d, err) < 0 ||
        orch_images_open(d, err) < 0 || orch_containers_open(d, err) < 0)
        return -1;

    d->base = event_base_new();
    if (!d->base)
        return bt_err_set(err, ENOMEM, "cannot create the event loop");
    static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };
    for (size_t i = 0; i < BT_ARRAY_SIZE(sigs); i++) {
        d->ev_sig[i] = evsignal_new(d->base, sigs[i], on_signal, d);
        BT_ASSERT(d->ev_sig[i]);
        event_add(d->ev_sig[i], NULL);
    }
    d->ev_stop = event_new(d->base, -1, 0, on_stop, d);
    BT_ASSERT(d->ev_stop);
    clock_gettime(CLOCK_MONOTONIC, &d->started);
    return orch_control_listen(d, err);
}

static void
teardown(struct orch_daemon *d)
{
    orch_containers_close(d);
    orch_control_close(d);
    d->reg = eng_reg_free(d->reg);
    for (size_t i = 0; i < BT_ARRAY_SIZE(d->ev_sig); i++)
        if (d->ev_sig[i])
            event_free(d->ev_sig[i]);
    if (d->ev_stop)
        event_free(d->ev_stop);
    if (d->base)
        event_base_free(d->base);
    orch_children_release(d);
    orch_images_close(d);
    orch_config_release(&d->config);
    if (d->pid_fd >= 0) {
        /* Still holding the lock: the file is ours to remove. */
        (void) unlink(d->paths.pid);
        BT_CLOSE(d->pid_fd);
    }
    orch_paths_release(&d->paths);
    libevent_global_shutdown();
}

static void
tell_ready(int fd, const char *text)
{
    if (fd < 0)
        return;
    (void) bt_write_all(fd, text, strlen(text));
}

int
orch_daemon_main(const struct orch_daemon_opts *opts)
{
    struct orch_daemon d = { .pid_fd = -1, .listen_fd = -1 };
    bt_autoerr struct bt_err *err = NULL;
    int ready_fd = opts->ready_fd;
    if (ready_fd >= 0)
        (void) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    if (setup(&d, opts, &err) < 0) {
        bt_autofree char *text = bt_err_text(err);
        bt_autofree char *line = bt_xasprintf("error: %s\n", text);
        tell_ready(ready_fd, line);
        if (log_fd >= 0)
            bt_log_set_target(log_fd, false);
        if (log_fd >= 0)
            bt_log_error("cannot start: %s", text);
        fprintf(stderr, "berth daemon: %s\n", text);
        if (err->hint)
            fprintf(stderr, "  hint: %s\n", err->hint);
        teardown(&d);
        BT_CLOSE(log_fd);
        BT_CLOSE(ready_fd);
        return 1;
    }
    bt_log_info("daemon started (pid %d, version %s, root '%s', run root '%s')", (int) getpid(),
                BERTH_VERSION, d.paths.root, d.paths.run_root);
    tell_ready(ready_fd, "ok\n");
    BT_CLOSE(ready_fd);

    int r = event_base_dispatch(d.base);
    if (r < 0)
        bt_log_error("event loop failed");
    teardown(&d);
    bt_log_info("daemon stopped");
    BT_CLOSE(log_fd);
    return r < 0 ? 1 : 0;
}
