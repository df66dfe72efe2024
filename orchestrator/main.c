/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth: one binary, three roles. Start here. main() parses docker compose's global flags
 * (plus --root/--run-root), picks the command from the table below and reports its error, once.
 * The daemon role is the "daemon" command; the container init joins as "init".
 */
#include <signal.h>
#include <stdint.h>
#include <sys/random.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"
#include "orchestrator/worker/worker.h"

static const struct cli_cmd cmds[] = {
    { "config", cli_cmd_config, "Parse, resolve and render the compose file in canonical format" },
    { "container", cli_cmd_container, "Manage containers" },
    { "daemon", cli_cmd_daemon, "Run or manage the berth daemon" },
    { "image", cli_cmd_image, "Manage images" },
    { "login", cli_cmd_login, "Log in to a registry" },
    { "logout", cli_cmd_logout, "Log out from a registry" },
    { "system", cli_cmd_system, "Show system information" },
    { "version", cli_cmd_version, "Show the berth version information" },
};

static const char *const ansi_modes[] = { "never", "always", "auto", NULL };
static const char *const progress_modes[] = { "auto", "tty", "plain", "json", "quiet", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };

/* Besides the project flags (cli_project_opts), which project commands also take. */
static const struct cli_opt other_opts[] = {
    { "ansi", 0, "MODE", "Control when to print ANSI control characters", ansi_modes, 0 },
    { "progress", 0, "MODE", "Set type of progress output", progress_modes, 0 },
    { "dry-run", 0, NULL, "Execute command in dry run mode (not supported yet)", NULL, 0 },
    { "root", 0, "DIR", "State directory (default /var/lib/berth; env BERTH_ROOT)", NULL, 0 },
    { "run-root", 0, "DIR", "Runtime directory (default /run/berth; env BERTH_RUN_ROOT)", NULL, 0 },
    { "log-level", 0, "LEVEL", "Log level", log_levels, 0 },
    { "version", 'v', NULL, "Show the client version and exit", NULL, 0 },
};

static void
main_help(const struct cli_opt *global_opts, size_t nglobal)
{
    printf("Usage:  berth [OPTIONS] COMMAND\n\n"
           "Run multi-container applications from Compose files, with berth's own engine\n\n"
           "Commands:\n");
    for (size_t i = 0; i < BT_ARRAY_SIZE(cmds); i++)
        printf("  %-12s %s\n", cmds[i].name, cmds[i].summary);
    printf("\nOptions:\n");
    for (size_t i = 0; i < nglobal; i++) {
        const struct cli_opt *o = &global_opts[i];
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s%s", o->shrt ? '-' : ' ', o->shrt ? o->shrt : ' ',
                 o->shrt ? ", " : "  ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-30s %s\n", left, o->help);
    }
    printf("  %-30s %s\n", "-h, --help", "Show this help");
    printf("\nRun 'berth COMMAND --help' for more information on a command.\n");
}

/* Collect every value of a repeatable option into a NULL-terminated array (borrowed strings). */
static const char **
collect(const struct cli_args *a, const char *name, size_t *ret_n)
{
    size_t n = 0;
    while (cli_args_nth(a, name, n))
        n++;
    const char **v = bt_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = cli_args_nth(a, name, i);
    *ret_n = n;
    return v;
}

static int
run(int argc, char **argv, struct cli_ctx *ctx, struct bt_err **err)
{
    static const struct cli_usage usage = { "", "[OPTIONS] COMMAND", "" };
    size_t nglobal;
    bt_autofree struct cli_opt *global_opts = cli_opts_join(
        cli_project_opts, cli_nproject_opts, other_opts, BT_ARRAY_SIZE(other_opts), &nglobal);
    struct cli_args a;
    /* "berth --help" prints the command list, not the generic option help. */
    for (int i = 1; i < argc && argv[i][0] == '-'; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            main_help(global_opts, nglobal);
            return 0;
        }
    int r = cli_args_parse(&a, global_opts, nglobal, argc - 1, argv + 1,
                           CLI_PARSE_STOP_AT_POSITIONAL, &usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    ctx->files = collect(&a, "file", &ctx->nfiles);
    ctx->profiles = collect(&a, "profile", &ctx->nprofiles);
    ctx->env_files = collect(&a, "env-file", &ctx->nenv_files);
    ctx->project_name = cli_args_get(&a, "project-name");
    ctx->project_dir = cli_args_get(&a, "project-directory");
    ctx->ansi = cli_args_get(&a, "ansi");
    ctx->progress = cli_args_get(&a, "progress");
    ctx->root = cli_args_get(&a, "root");
    ctx->run_root = cli_args_get(&a, "run-root");
    ctx->log_level = cli_args_get(&a, "log-level");
    bool dry_run = cli_args_has(&a, "dry-run");
    bool version = cli_args_has(&a, "version");
    size_t npos = a.npos;
    char **pos = a.pos;
    /* argv index of the command: the parser borrowed pointers into argv, so find it there. */
    int cmd_at = argc;
    if (npos > 0)
        for (int i = 1; i < argc; i++)
            if (argv[i] == pos[0]) {
                cmd_at = i;
                break;
            }
    cli_args_release(&a);

    if (ctx->log_level) {
        enum bt_log_level lvl;
        if (bt_log_level_parse(ctx->log_level, &lvl) == 0)
            bt_log_set_level(lvl);
    }
    if (version) {
        printf("berth version %s\n", BERTH_VERSION);
        return 0;
    }
    if (dry_run) {
        r = bt_err_set(err, BT_EUNSUPPORTED, "--dry-run is not supported yet");
        bt_err_hint(err, "run the command without --dry-run");
        return r;
    }
    if (cmd_at >= argc) {
        main_help(global_opts, nglobal);
        return bt_err_set(err, BT_EUSAGE, "no command given");
    }
    const char *name = argv[cmd_at];
    for (size_t i = 0; i < BT_ARRAY_SIZE(cmds); i++)
        if (strcmp(cmds[i].name, name) == 0)
            return cmds[i].fn(ctx, argc - cmd_at - 1, argv + cmd_at + 1, err);
    const char *names[BT_ARRAY_SIZE(cmds)];
    for (size_t i = 0; i < BT_ARRAY_SIZE(cmds); i++)
        names[i] = cmds[i].name;
    const char *close = bt_str_closest(name, names, BT_ARRAY_SIZE(names));
    r = bt_err_set(err, BT_EUSAGE, "unknown command '%s'", name);
    if (close)
        bt_err_hint(err, "did you mean '%s'? See 'berth --help'.", close);
    else
        bt_err_hint(err, "see 'berth --help'");
    return r;
}

int
main(int argc, char **argv)
{
    struct cli_ctx ctx = { 0 };
    bt_autoerr struct bt_err *err = NULL;
    /* The CLI reports errors itself; only warnings and worse go to stderr as log lines. */
    bt_log_set_level(BT_LOG_WARN);
    /* jansson would read /dev/urandom for its hash seed at the first object; one syscall does. */
    uint32_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t) sizeof seed && seed != 0)
        json_object_seed(seed);
    struct sigaction sa = { .sa_handler = SIG_IGN };
    sigaction(SIGPIPE, &sa, NULL);
    /* The worker role, started by the daemon only: not a command, not in the help. */
    if (argc >= 2 && strcmp(argv[1], "worker") == 0)
        return orch_worker_main(argc - 2, argv + 2);
    int r = run(argc, argv, &ctx, &err);
    free(ctx.files);
    free(ctx.profiles);
    free(ctx.env_files);
    if (r >= 0) {
        fflush(stdout);
        return r;
    }
    bt_autofree char *text = bt_err_text(err);
    fflush(stdout);
    fprintf(stderr, "berth: %s\n", text);
    if (err && err->hint)
        fprintf(stderr, "  hint: %s\n", err->hint);
    return err && err->code == BT_EUSAGE ? 2 : 1;
}
