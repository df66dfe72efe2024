/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth daemon: run the daemon in this process; "stop" and "status" manage a running one.
 */
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>

#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"
#include "orchestrator/daemon/daemon.h"

#define STOP_TIMEOUT_MS 60000

static const char *const levels[] = { "error", "warn", "info", "debug", NULL };

static const struct cli_opt run_opts[] = {
    { "foreground", 0, NULL, "Log to standard error as well as to the log file", NULL, 0 },
    { "log-level", 'l', "LEVEL", "Log level", levels, 0 },
    { "ready-fd", 0, "FD", "Report readiness on this descriptor", NULL, CLI_OPT_HIDDEN },
};

static const struct cli_usage run_usage = {
    "daemon",
    "[OPTIONS] | stop | status",
    "Run the berth daemon in this process (CLI commands start it on demand)\n\n"
    "Commands:\n  stop         Stop the running daemon\n"
    "  status       Tell whether the daemon runs",
};

static const struct cli_usage stop_usage = { "daemon stop", "", "Stop the running daemon" };
static const struct cli_usage status_usage = { "daemon status", "",
                                               "Tell whether the daemon runs (exit 0) or not (1)" };

static int
no_args(const struct cli_usage *u, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, NULL, 0, argc, argv, 0, u, err);
    size_t npos = a.npos;
    cli_args_release(&a);
    if (r == 0 && npos > 0)
        return bt_err_set(err, BT_EUSAGE, "'berth %s' takes no arguments", u->cmd);
    return r;
}

/* Check the arguments and connect to a running daemon, never starting one. Returns 0 when
 * connected; 1 when --help was shown; 2 when no daemon runs (not_running printed). */
static int
open_running(struct cli_ctx *ctx, const struct cli_usage *u, int argc, char **argv,
             const char *not_running, struct cli_client **ret, struct bt_err **err)
{
    *ret = NULL;
    int r = no_args(u, argc, argv, err);
    if (r != 0)
        return r;
    bt_autoerr struct bt_err *cerr = NULL;
    r = cli_client_open(ctx, false, ret, &cerr);
    if (r == -ECONNREFUSED) {
        printf("%s\n", not_running);
        return 2;
    }
    if (r < 0) {
        *err = BT_TAKE_PTR(cerr);
        return r;
    }
    return 0;
}

static int
cmd_stop(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_client *c;
    int r = open_running(ctx, &stop_usage, argc, argv, "daemon is not running", &c, err);
    if (r != 0)
        return r < 0 ? r : 0;
    pid_t pid = cli_client_daemon_pid(c);
    /* A pidfd turns readable when the process has exited: its socket and lock are gone. */
    bt_autoclose int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    r = cli_client_call(c, "daemon.stop", NULL, NULL, NULL, NULL, err);
    cli_client_free(c);
    if (r < 0)
        return r;
    if (pidfd >= 0) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int n;
        while ((n = poll(&p, 1, STOP_TIMEOUT_MS)) < 0 && errno == EINTR)
            ;
        if (n == 0)
            return bt_err_set(err, ETIMEDOUT, "the daemon (pid %d) did not exit within %d s",
                              (int) pid, STOP_TIMEOUT_MS / 1000);
    }
    printf("daemon stopped (pid %d)\n", (int) pid);
    return 0;
}

static int
cmd_status(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_client *c;
    int r = open_running(ctx, &status_usage, argc, argv, "not running", &c, err);
    if (r != 0)
        return r < 0 ? r : r - 1; /* --help: 0; not running: 1 */
    printf("running (pid %d, version %s)\n", (int) cli_client_daemon_pid(c),
           cli_client_daemon_version(c));
    cli_client_free(c);
    return 0;
}

static const struct cli_cmd subs[] = {
    { "stop", cmd_stop, "Stop the running daemon" },
    { "status", cmd_status, "Tell whether the daemon runs" },
};

int
cli_cmd_daemon(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    if (argc > 0 && argv[0][0] != '-')
        return cli_subcmd_dispatch(ctx, "daemon", subs, BT_ARRAY_SIZE(subs), argc, argv, err);
    struct cli_args a;
    int r = cli_args_parse(&a, run_opts, BT_ARRAY_SIZE(run_opts), argc, argv, 0, &run_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    struct orch_daemon_opts o = {
        .root = ctx->root,
        .run_root = ctx->run_root,
        .foreground = cli_args_has(&a, "foreground"),
        .ready_fd = -1,
    };
    const char *lvl = cli_args_get(&a, "log-level");
    if (!lvl)
        lvl = ctx->log_level;
    enum bt_log_level level = BT_LOG_INFO;
    if (lvl)
        (void) bt_log_level_parse(lvl, &level);
    bt_log_set_level(level);
    const char *rfd = cli_args_get(&a, "ready-fd");
    size_t npos = a.npos;
    char *first = npos ? a.pos[0] : NULL;
    cli_args_release(&a);
    if (npos > 0)
        return cli_subcmd_dispatch(ctx, "daemon", subs, BT_ARRAY_SIZE(subs), 1, &first, err);
    if (rfd && bt_parse_int(rfd, &o.ready_fd) < 0)
        return bt_err_set(err, BT_EUSAGE, "invalid --ready-fd '%s'", rfd);
    return orch_daemon_main(&o);
}
