/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth container run | create | start | stop | kill | rm | ls | inspect | logs | wait | pause
 * | unpause: the engine's containers driven directly, as `docker container` does (the compose
 * commands come with the orchestrator). Flags become a service-shaped JSON spec, the same one
 * the orchestrator sends for a Compose service, so both paths meet in one parser in the daemon.
 */
#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose/short.h"
#include "engine/base/alloc.h"
#include "engine/base/arena.h"
#include "engine/base/base64.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/base/parse.h"
#include "engine/base/path.h"
#include "orchestrator/cli/cli.h"
#include "orchestrator/proto/proto.h"

static const struct cli_opt create_opts[] = {
    { "name", 0, "NAME", "Assign a name to the container", NULL, 0 },
    { "env", 'e', "KEY=VALUE", "Set environment variables", NULL, CLI_OPT_REPEAT },
    { "volume", 'v', "SRC:DST[:OPTS]", "Bind mount a volume", NULL, CLI_OPT_REPEAT },
    { "tmpfs", 0, "PATH[:OPTS]", "Mount a tmpfs directory", NULL, CLI_OPT_REPEAT },
    { "volumes-from", 0, "CONTAINER[:ro|:rw]", "Mount volumes from the specified container(s)",
      NULL, CLI_OPT_REPEAT },
    { "network", 0, "MODE", "Connect a container to a network (none, host)", NULL, 0 },
    { "entrypoint", 0, "CMD", "Overwrite the default ENTRYPOINT of the image", NULL, 0 },
    { "user", 'u', "USER[:GROUP]", "Username or UID (format: <name|uid>[:<group|gid>])", NULL, 0 },
    { "group-add", 0, "GROUP", "Add additional groups to join", NULL, CLI_OPT_REPEAT },
    { "workdir", 'w', "DIR", "Working directory inside the container", NULL, 0 },
    { "hostname", 'h', "NAME", "Container host name", NULL, 0 },
    { "domainname", 0, "NAME", "Container NIS domain name", NULL, 0 },
    { "label", 'l', "KEY=VALUE", "Set meta data on a container", NULL, CLI_OPT_REPEAT },
    { "init", 0, NULL,
      "Run an init inside the container that forwards signals and reaps "
      "processes",
      NULL, 0 },
    { "tty", 't', NULL, "Allocate a pseudo-TTY", NULL, 0 },
    { "interactive", 'i', NULL, "Keep STDIN open even if not attached", NULL, 0 },
    { "read-only", 0, NULL, "Mount the container's root filesystem as read only", NULL, 0 },
    { "privileged", 0, NULL, "Give extended privileges to this container", NULL, 0 },
    { "cap-add", 0, "CAP", "Add Linux capabilities", NULL, CLI_OPT_REPEAT },
    { "cap-drop", 0, "CAP", "Drop Linux capabilities", NULL, CLI_OPT_REPEAT },
    { "security-opt", 0, "OPT", "Security Options", NULL, CLI_OPT_REPEAT },
    { "memory", 'm', "BYTES", "Memory limit", NULL, 0 },
    { "memory-swap", 0, "BYTES", "Swap limit equal to memory plus swap: '-1' for unlimited", NULL,
      0 },
    { "memory-reservation", 0, "BYTES", "Memory soft limit", NULL, 0 },
    { "cpus", 0, "NUMBER", "Number of CPUs", NULL, 0 },
    { "cpu-shares", 'c', "N", "CPU shares (relative weight)", NULL, 0 },
    { "cpuset-cpus", 0, "CPUS", "CPUs in which to allow execution (0-3, 0,1)", NULL, 0 },
    { "pids-limit", 0, "N", "Tune container pids limit (-1 for unlimited)", NULL, 0 },
    { "blkio-weight", 0, "N", "Block IO (relative weight), between 10 and 1000", NULL, 0 },
    { "ulimit", 0, "NAME=SOFT[:HARD]", "Ulimit options", NULL, CLI_OPT_REPEAT },
    { "sysctl", 0, "KEY=VALUE", "Sysctl options", NULL, CLI_OPT_REPEAT },
    { "device", 0, "HOST[:CTR[:PERMS]]", "Add a host device to the container", NULL,
      CLI_OPT_REPEAT },
    { "device-cgroup-rule", 0, "RULE", "Add a rule to the cgroup allowed devices list", NULL,
      CLI_OPT_REPEAT },
    { "pid", 0, "MODE", "PID namespace to use (host)", NULL, 0 },
    { "ipc", 0, "MODE", "IPC mode to use (host, private)", NULL, 0 },
    { "oom-score-adj", 0, "N", "Tune host's OOM preferences (-1000 to 1000)", NULL, 0 },
    { "oom-kill-disable", 0, NULL, "Disable OOM Killer", NULL, 0 },
    { "stop-signal", 0, "SIGNAL", "Signal to stop the container", NULL, 0 },
    { "stop-timeout", 0, "SECONDS", "Timeout (in seconds) to stop a container", NULL, 0 },
    { "shm-size", 0, "BYTES", "Size of /dev/shm", NULL, 0 },
    { "log-opt", 0, "KEY=VALUE", "Log driver options (max-size, max-file)", NULL, CLI_OPT_REPEAT },
};
static const struct cli_opt run_only_opts[] = {
    { "detach", 'd', NULL, "Run container in background and print container ID", NULL, 0 },
    { "rm", 0, NULL, "Automatically remove the container when it exits", NULL, 0 },
};

/* "KEY=VALUE" (or "KEY", taken from this environment as docker run does) into obj. */
static int
put_kv(json_t *obj, const char *flag, const char *kv, bool from_env, struct bt_err **err)
{
    const char *eq = strchr(kv, '=');
    if (eq == kv || !*kv)
        return bt_err_set(err, BT_EUSAGE, "--%s: invalid value '%s' (want KEY=VALUE)", flag, kv);
    if (!eq) {
        if (!from_env)
            return bt_err_set(err, BT_EUSAGE, "--%s: invalid value '%s' (want KEY=VALUE)", flag,
                              kv);
        const char *v = getenv(kv);
        if (v)
            json_object_set_new(obj, kv, json_string(v));
        return 0;
    }
    bt_autofree char *k = bt_xstrndup(kv, (size_t) (eq - kv));
    json_object_set_new(obj, k, json_string(eq + 1));
    return 0;
}

static json_t *
str_array(const struct cli_args *a, const char *name)
{
    json_t *arr = json_array();
    const char *v;
    for (size_t i = 0; (v = cli_args_nth(a, name, i)); i++)
        json_array_append_new(arr, json_string(v));
    return arr;
}

static int
put_bytes(json_t *spec, const char *key, const char *flag, const char *v, struct bt_err **err)
{
    if (!v)
        return 0;
    if (bt_streq(v, "-1")) {
        json_object_set_new(spec, key, json_integer(-1));
        return 0;
    }
    int64_t n;
    if (compose_bytes_parse(v, &n, err) < 0)
        return bt_err_wrap(err, "--%s", flag);
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long) n);
    json_object_set_new(spec, key, json_string(text));
    return 0;
}

static int
put_int(json_t *spec, const char *key, const char *flag, const char *v, struct bt_err **err)
{
    int64_t n;
    if (!v)
        return 0;
    if (bt_parse_i64(v, &n) < 0)
        return bt_err_set(err, BT_EUSAGE, "--%s: invalid number '%s'", flag, v);
    json_object_set_new(spec, key, json_integer(n));
    return 0;
}

/* -v SRC:DST[:OPTS] in the long form the compose model uses; a relative source is taken from
 * the current directory. */
static int
put_volume(json_t *vols, const char *v, struct bt_err **err)
{
    struct bt_arena *arena = bt_arena_new();
    struct compose_volume cv;
    int r = compose_volume_parse(arena, v, &cv, err);
    if (r < 0) {
        bt_arena_free(arena);
        return bt_err_wrap(err, "--volume");
    }
    json_t *m = json_pack("{s:s, s:s}", "type", cv.type, "target", cv.target);
    if (cv.source[0]) {
        bt_autofree char *src = NULL;
        if (bt_streq(cv.type, "bind") && cv.source[0] != '/') {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
                bt_arena_free(arena);
                json_decref(m);
                return bt_err_errno(err, -errno, "cannot read the current directory");
            }
            src = bt_path_join(cwd, cv.source);
        }
        json_object_set_new(m, "source", json_string(src ? src : cv.source));
    }
    if (cv.read_only)
        json_object_set_new(m, "read_only", json_true());
    if (bt_streq(cv.type, "bind")) {
        json_t *b = json_pack("{s:b}", "create_host_path", cv.create_host_path);
        if (cv.propagation)
            json_object_set_new(b, "propagation", json_string(cv.propagation));
        json_object_set_new(m, "bind", b);
    } else if (cv.nocopy) {
        json_object_set_new(m, "volume", json_pack("{s:b}", "nocopy", 1));
    }
    json_array_append_new(vols, m);
    bt_arena_free(arena);
    return 0;
}

/* The flags of run and create as a service-shaped spec. */
static int
spec_from_args(const struct cli_args *a, const char *image, char **cmd, size_t ncmd, json_t **ret,
               struct bt_err **err)
{
    json_t *spec = json_pack("{s:s}", "image", image);
    int r = 0;
    if (ncmd) {
        json_t *c = json_array();
        for (size_t i = 0; i < ncmd; i++)
            json_array_append_new(c, json_string(cmd[i]));
        json_object_set_new(spec, "command", c);
    }
    const char *v;
    if ((v = cli_args_get(a, "entrypoint")))
        json_object_set_new(spec, "entrypoint", v[0] ? json_pack("[s]", v) : json_array());
    /* KEY=VALUE flags into mappings (log options under logging.options). */
    static const struct {
        const char *flag, *key;
        bool from_env;
    } maps[] = {
        { "env", "environment", true },
        { "label", "labels", false },
        { "sysctl", "sysctls", false },
        { "log-opt", NULL, false },
    };
    for (size_t m = 0; m < BT_ARRAY_SIZE(maps); m++) {
        json_t *obj = json_object();
        for (size_t i = 0; r == 0 && (v = cli_args_nth(a, maps[m].flag, i)); i++)
            r = put_kv(obj, maps[m].flag, v, maps[m].from_env, err);
        if (maps[m].key)
            json_object_set_new(spec, maps[m].key, obj);
        else
            json_object_set_new(spec, "logging",
                                json_pack("{s:s, s:o}", "driver", "json-file", "options", obj));
    }
    json_t *vols = json_array();
    for (size_t i = 0; r == 0 && (v = cli_args_nth(a, "volume", i)); i++)
        r = put_volume(vols, v, err);
    json_object_set_new(spec, "volumes", vols);
    json_t *ulimits = json_object();
    for (size_t i = 0; r == 0 && (v = cli_args_nth(a, "ulimit", i)); i++) {
        const char *eq = strchr(v, '=');
        uint64_t soft, hard;
        bt_autofree char *name = eq ? bt_xstrndup(v, (size_t) (eq - v)) : NULL;
        bt_autofree char *lim = eq ? bt_xstrdup(eq + 1) : NULL;
        char *colon = lim ? strchr(lim, ':') : NULL;
        if (colon)
            *colon = '\0';
        if (!eq || bt_parse_u64(lim, &soft) < 0 || (colon && bt_parse_u64(colon + 1, &hard) < 0)) {
            r = bt_err_set(err, BT_EUSAGE, "--ulimit: invalid value '%s' (want NAME=SOFT[:HARD])",
                           v);
            break;
        }
        if (!colon)
            hard = soft;
        json_object_set_new(
            ulimits, name,
            json_pack("{s:I, s:I}", "soft", (json_int_t) soft, "hard", (json_int_t) hard));
    }
    json_object_set_new(spec, "ulimits", ulimits);
    /* Flags that map one to one onto a key: a string, a list of strings, or true. */
    enum { STR, LIST, FLAG };
    static const struct {
        const char *flag, *key;
        int kind;
    } direct[] = {
        { "user", "user", STR },
        { "workdir", "working_dir", STR },
        { "hostname", "hostname", STR },
        { "domainname", "domainname", STR },
        { "cpuset-cpus", "cpuset", STR },
        { "pid", "pid", STR },
        { "ipc", "ipc", STR },
        { "network", "network_mode", STR },
        { "stop-signal", "stop_signal", STR },
        { "group-add", "group_add", LIST },
        { "cap-add", "cap_add", LIST },
        { "cap-drop", "cap_drop", LIST },
        { "security-opt", "security_opt", LIST },
        { "device", "devices", LIST },
        { "device-cgroup-rule", "device_cgroup_rules", LIST },
        { "tmpfs", "tmpfs", LIST },
        { "init", "init", FLAG },
        { "tty", "tty", FLAG },
        { "interactive", "stdin_open", FLAG },
        { "read-only", "read_only", FLAG },
        { "privileged", "privileged", FLAG },
        { "oom-kill-disable", "oom_kill_disable", FLAG },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(direct); i++) {
        if (!cli_args_has(a, direct[i].flag))
            continue;
        json_t *val = direct[i].kind == STR    ? json_string(cli_args_get(a, direct[i].flag))
                      : direct[i].kind == LIST ? str_array(a, direct[i].flag)
                                               : json_true();
        json_object_set_new(spec, direct[i].key, val);
    }
    /* docker's NAME[:ro|:rw] is a container; compose's bare NAME would be a service. */
    json_t *from = json_array();
    for (size_t i = 0; (v = cli_args_nth(a, "volumes-from", i)); i++) {
        bt_autofree char *ref = bt_xasprintf("container:%s", v);
        json_array_append_new(from, json_string(ref));
    }
    if (json_array_size(from) > 0)
        json_object_set_new(spec, "volumes_from", from);
    else
        json_decref(from);
    if (r == 0)
        r = put_bytes(spec, "mem_limit", "memory", cli_args_get(a, "memory"), err);
    if (r == 0)
        r = put_bytes(spec, "memswap_limit", "memory-swap", cli_args_get(a, "memory-swap"), err);
    if (r == 0)
        r = put_bytes(spec, "mem_reservation", "memory-reservation",
                      cli_args_get(a, "memory-reservation"), err);
    if (r == 0)
        r = put_bytes(spec, "shm_size", "shm-size", cli_args_get(a, "shm-size"), err);
    if (r == 0)
        r = put_int(spec, "cpu_shares", "cpu-shares", cli_args_get(a, "cpu-shares"), err);
    if (r == 0)
        r = put_int(spec, "pids_limit", "pids-limit", cli_args_get(a, "pids-limit"), err);
    if (r == 0)
        r = put_int(spec, "blkio_weight", "blkio-weight", cli_args_get(a, "blkio-weight"), err);
    if (r == 0)
        r = put_int(spec, "oom_score_adj", "oom-score-adj", cli_args_get(a, "oom-score-adj"), err);
    if (r == 0 && (v = cli_args_get(a, "cpus"))) {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || d < 0)
            r = bt_err_set(err, BT_EUSAGE, "--cpus: invalid number '%s'", v);
        else
            json_object_set_new(spec, "cpus", json_real(d));
    }
    if (r == 0 && (v = cli_args_get(a, "stop-timeout"))) {
        uint32_t secs;
        if (bt_parse_u32(v, &secs) < 0)
            r = bt_err_set(err, BT_EUSAGE, "--stop-timeout: invalid number '%s'", v);
        else
            json_object_set_new(spec, "stop_grace_period", json_sprintf("%us", secs));
    }
    if (r < 0) {
        json_decref(spec);
        return r;
    }
    *ret = spec;
    return 0;
}

/* Output of a container, as the daemon streams it. */
static void
print_warnings(const json_t *warnings)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w) {
        fprintf(stderr, "WARNING: %s\n", json_string_value(w));
    }
}

static void
on_output(const struct orch_msg *m, void *ud)
{
    (void) ud;
    const json_t *data = json_object_get(m->root, "data");
    print_warnings(json_object_get(data, "warnings"));
    const char *b64 = json_string_value(json_object_get(data, "data"));
    if (!b64)
        return;
    bt_autofree char *bytes = NULL;
    size_t len = 0;
    if (bt_base64_decode(b64, strlen(b64), &bytes, &len) < 0)
        return;
    bool err = bt_streq(json_string_value(json_object_get(data, "stream")), "stderr");
    FILE *f = err ? stderr : stdout;
    fwrite(bytes, 1, len, f);
    fflush(f);
}

static int
run_or_create(struct cli_ctx *ctx, int argc, char **argv, bool run, struct bt_err **err)
{
    size_t nopts;
    bt_autofree struct cli_opt *opts =
        run ? cli_opts_join(create_opts, BT_ARRAY_SIZE(create_opts), run_only_opts,
                            BT_ARRAY_SIZE(run_only_opts), &nopts)
            : NULL;
    if (!run)
        nopts = BT_ARRAY_SIZE(create_opts);
    const struct cli_usage u = { run ? "container run" : "container create",
                                 "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                                 run ? "Create and run a new container from an image"
                                     : "Create a new container" };
    struct cli_args a;
    int r = cli_args_parse(&a, run ? opts : create_opts, nopts, argc, argv,
                           CLI_PARSE_STOP_AT_POSITIONAL, &u, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos < 1) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth %s' needs an image", u.cmd);
    }
    json_t *spec = NULL;
    r = spec_from_args(&a, a.pos[0], a.pos + 1, a.npos - 1, &spec, err);
    bool detach = run && cli_args_has(&a, "detach");
    bool rm = run && cli_args_has(&a, "rm");
    bool interactive = cli_args_has(&a, "interactive");
    bool tty = cli_args_has(&a, "tty");
    const char *name = cli_args_get(&a, "name");
    json_t *args =
        r == 0 ? json_pack("{s:o, s:b, s:b}", "spec", spec, "detach", detach, "rm", rm) : NULL;
    if (args && name)
        json_object_set_new(args, "name", json_string(name));
    cli_args_release(&a);
    if (r < 0)
        return r;
    if (interactive && tty && !detach) {
        json_decref(args);
        int e = bt_err_set(err, BT_EUSAGE, "an interactive terminal (-it) is not supported yet");
        bt_err_hint(err, "run without -t, or with -d and read the output with berth container "
                         "logs");
        return e;
    }
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        json_decref(args);
        return -1;
    }
    json_t *res = NULL;
    int stdin_fd = 0;
    if (!run)
        r = cli_client_call(c, "container.create", args, NULL, NULL, &res, err);
    else if (interactive && !detach)
        r = cli_client_call_fds(c, "container.run", args, &stdin_fd, 1, on_output, NULL, &res, err);
    else
        r = cli_client_call(c, "container.run", args, detach ? NULL : on_output, NULL, &res, err);
    cli_client_free(c);
    if (r < 0)
        return -1;
    int code = 0;
    print_warnings(json_object_get(res, "warnings"));
    if (!run || detach)
        printf("%s\n", json_string_value(json_object_get(res, "id")));
    else
        code = (int) json_integer_value(json_object_get(res, "exit_code"));
    json_decref(res);
    return code;
}

static int
cmd_run(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return run_or_create(ctx, argc, argv, true, err);
}

static int
cmd_create(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return run_or_create(ctx, argc, argv, false, err);
}

/* One operation on each named container; names printed as docker does. */
static int
each(struct cli_ctx *ctx, int argc, char **argv, const struct cli_opt *opts, size_t nopts,
     const struct cli_usage *u, const char *op, json_t *extra, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, opts, nopts, argc, argv, 0, u, err);
    if (r != 0) {
        json_decref(extra);
        return r < 0 ? r : 0;
    }
    if (a.npos == 0) {
        cli_args_release(&a);
        json_decref(extra);
        return bt_err_set(err, BT_EUSAGE, "'berth %s' needs at least one container", u->cmd);
    }
    if (extra == NULL)
        extra = json_object();
    /* The options these commands have, as the daemon's arguments. */
    for (size_t i = 0; i < nopts; i++) {
        const char *v = opts[i].arg ? cli_args_get(&a, opts[i].name) : NULL;
        if (bt_streq(opts[i].name, "time") && v) {
            uint32_t secs;
            if (bt_parse_u32(v, &secs) < 0) {
                cli_args_release(&a);
                json_decref(extra);
                return bt_err_set(err, BT_EUSAGE, "--time: invalid number '%s'", v);
            }
            json_object_set_new(extra, "timeout", json_integer(secs));
        } else if (bt_streq(opts[i].name, "signal") && v) {
            json_object_set_new(extra, "signal", json_string(v));
        } else if (bt_streq(opts[i].name, "force") && cli_args_has(&a, "force")) {
            json_object_set_new(extra, "force", json_true());
        } else if (bt_streq(opts[i].name, "volumes") && cli_args_has(&a, "volumes")) {
            json_object_set_new(extra, "volumes", json_true());
        }
    }
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        cli_args_release(&a);
        json_decref(extra);
        return -1;
    }
    int code = 0;
    for (size_t i = 0; i < a.npos; i++) {
        json_t *args = json_deep_copy(extra);
        json_object_set_new(args, "name", json_string(a.pos[i]));
        json_t *res = NULL;
        bt_autoerr struct bt_err *e = NULL;
        if (cli_client_call(c, op, args, NULL, NULL, &res, &e) < 0) {
            bt_autofree char *text = bt_err_text(e);
            fprintf(stderr, "Error response from daemon: %s\n", text);
            code = 1;
            continue;
        }
        if (bt_streq(op, "container.wait"))
            printf("%d\n", (int) json_integer_value(json_object_get(res, "exit_code")));
        else
            printf("%s\n", a.pos[i]);
        json_decref(res);
    }
    cli_client_free(c);
    cli_args_release(&a);
    json_decref(extra);
    return code;
}

#define EACH_CMD(fn, cmdname, op, summary_text, ...)                                               \
    static int fn(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)                 \
    {                                                                                              \
        static const struct cli_opt opts[] = { __VA_ARGS__ };                                      \
        static const struct cli_usage u = { cmdname, "[OPTIONS] CONTAINER [CONTAINER...]",         \
                                            summary_text };                                        \
        return each(ctx, argc, argv, opts, BT_ARRAY_SIZE(opts), &u, op, NULL, err);                \
    }

EACH_CMD(cmd_start, "container start", "container.start", "Start one or more stopped containers",
         { "attach", 'a', NULL, "Attach STDOUT/STDERR (not supported yet)", NULL, CLI_OPT_HIDDEN })
EACH_CMD(cmd_stop, "container stop", "container.stop", "Stop one or more running containers",
         { "time", 't', "SECONDS", "Seconds to wait before killing the container", NULL, 0 })
EACH_CMD(cmd_kill, "container kill", "container.kill", "Kill one or more running containers",
         { "signal", 's', "SIGNAL", "Signal to send to the container", NULL, 0 })
EACH_CMD(cmd_rm, "container rm", "container.rm", "Remove one or more containers",
         { "force", 'f', NULL, "Force the removal of a running container (uses SIGKILL)", NULL, 0 },
         { "volumes", 'v', NULL, "Remove anonymous volumes associated with the container", NULL,
           0 })
EACH_CMD(cmd_wait, "container wait", "container.wait",
         "Block until one or more containers stop, then print their exit codes",
         { "condition", 0, "CONDITION", "Accepted for compatibility", NULL, CLI_OPT_HIDDEN })
EACH_CMD(cmd_pause, "container pause", "container.pause",
         "Pause all processes within one or more containers",
         { "quiet", 'q', NULL, "Accepted for compatibility", NULL, CLI_OPT_HIDDEN })
EACH_CMD(cmd_unpause, "container unpause", "container.unpause",
         "Unpause all processes within one or more containers",
         { "quiet", 'q', NULL, "Accepted for compatibility", NULL, CLI_OPT_HIDDEN })

/* "Up 5 seconds", "Exited (0) 3 minutes ago". */
static void
human_for(int64_t ns, char *out, size_t n)
{
    int64_t s = ns / 1000000000;
    static const struct {
        int64_t secs;
        const char *unit;
    } steps[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" } };
    for (size_t i = 0; i < BT_ARRAY_SIZE(steps); i++)
        if (s >= steps[i].secs) {
            int64_t k = s / steps[i].secs;
            snprintf(out, n, "%lld %s%s", (long long) k, steps[i].unit, k == 1 ? "" : "s");
            return;
        }
    if (s < 1)
        snprintf(out, n, "Less than a second");
    else
        snprintf(out, n, "%lld second%s", (long long) s, s == 1 ? "" : "s");
}

static const char *const ls_formats[] = { "table", "json", NULL };
static const struct cli_opt ls_opts[] = {
    { "all", 'a', NULL, "Show all containers (default shows just running)", NULL, 0 },
    { "quiet", 'q', NULL, "Only display container IDs", NULL, 0 },
    { "no-trunc", 0, NULL, "Don't truncate output", NULL, 0 },
    { "format", 0, "FORMAT", "Format the output", ls_formats, 0 },
};
static const struct cli_usage ls_usage = { "container ls", "[OPTIONS]", "List containers" };

static int
cmd_ls(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, ls_opts, BT_ARRAY_SIZE(ls_opts), argc, argv, 0, &ls_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool all = cli_args_has(&a, "all"), quiet = cli_args_has(&a, "quiet");
    bool no_trunc = cli_args_has(&a, "no-trunc");
    bool json = bt_streq(cli_args_get(&a, "format"), "json");
    cli_args_release(&a);
    json_t *res = NULL;
    if (cli_call(ctx, "container.list", json_pack("{s:b}", "all", all), &res, err) < 0)
        return -1;
    int64_t now = json_integer_value(json_object_get(res, "now"));
    if (!quiet && !json)
        printf("%-12s   %-20s %-22s %-18s %-28s %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
               "CREATED", "STATUS", "NAMES");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(res, "containers"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (quiet) {
            printf("%.*s\n", no_trunc ? 64 : 12, id);
            continue;
        }
        if (json) {
            cli_print_json(c);
            continue;
        }
        const char *state = json_string_value(json_object_get(c, "state"));
        char status[64], ago[40], d[32];
        int64_t created = json_integer_value(json_object_get(c, "created"));
        human_for(now - created, d, sizeof d);
        snprintf(ago, sizeof ago, "%s ago", d);
        if (bt_streq(state, "running") || bt_streq(state, "paused")) {
            human_for(now - json_integer_value(json_object_get(c, "started_at")), d, sizeof d);
            snprintf(status, sizeof status, "Up %s%s", d,
                     bt_streq(state, "paused") ? " (Paused)" : "");
        } else if (bt_streq(state, "exited")) {
            human_for(now - json_integer_value(json_object_get(c, "finished_at")), d, sizeof d);
            snprintf(status, sizeof status, "Exited (%d) %s ago",
                     (int) json_integer_value(json_object_get(c, "exit_code")), d);
        } else {
            snprintf(status, sizeof status, "%c%s", state[0] - 32, state + 1);
        }
        struct bt_buf cmd;
        bt_buf_init(&cmd, 4096);
        size_t k;
        json_t *w;
        json_array_foreach(json_object_get(c, "command"), k, w) {
            (void) bt_buf_printf(&cmd, "%s%s", k ? " " : "", json_string_value(w));
        }
        bt_autofree char *quoted = no_trunc || cmd.len <= 20
                                       ? bt_xasprintf("\"%s\"", bt_buf_str(&cmd))
                                       : bt_xasprintf("\"%.19s…\"", bt_buf_str(&cmd));
        printf("%-12.*s   %-20s %-22s %-18s %-28s %s\n", no_trunc ? 64 : 12, id,
               json_string_value(json_object_get(c, "image")), quoted, ago, status,
               json_string_value(json_object_get(c, "name")));
        bt_buf_release(&cmd);
    }
    json_decref(res);
    return 0;
}

static const struct cli_usage inspect_usage = { "container inspect",
                                                "[OPTIONS] CONTAINER [CONTAINER...]",
                                                "Display detailed information on containers" };

static int
cmd_inspect(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    static const struct cli_opt opts[] = {
        { "format", 'f', "FORMAT", "Format the output (json)", NULL, CLI_OPT_HIDDEN },
    };
    struct cli_args a;
    int r = cli_args_parse(&a, opts, BT_ARRAY_SIZE(opts), argc, argv, 0, &inspect_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos == 0) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth container inspect' needs a container");
    }
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        cli_args_release(&a);
        return -1;
    }
    json_t *out = json_array();
    int code = 0;
    for (size_t i = 0; i < a.npos; i++) {
        json_t *res = NULL;
        bt_autoerr struct bt_err *e = NULL;
        if (cli_client_call(c, "container.inspect", json_pack("{s:s}", "name", a.pos[i]), NULL,
                            NULL, &res, &e) < 0) {
            bt_autofree char *text = bt_err_text(e);
            fprintf(stderr, "Error: %s\n", text);
            code = 1;
            continue;
        }
        json_array_append_new(out, res);
    }
    cli_client_free(c);
    cli_args_release(&a);
    bt_autofree char *text = json_dumps(out, JSON_INDENT(4));
    printf("%s\n", text);
    json_decref(out);
    return code;
}

struct logs_ctx {
    bool timestamps;
};

static void
on_log(const struct orch_msg *m, void *ud)
{
    const struct logs_ctx *lc = ud;
    const json_t *data = json_object_get(m->root, "data");
    if (lc->timestamps) {
        json_int_t ns = json_integer_value(json_object_get(data, "time"));
        time_t s = (time_t) (ns / 1000000000);
        struct tm tm;
        gmtime_r(&s, &tm);
        char buf[40];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        bool err = bt_streq(json_string_value(json_object_get(data, "stream")), "stderr");
        fprintf(err ? stderr : stdout, "%s.%09lldZ ", buf, (long long) (ns % 1000000000));
    }
    on_output(m, NULL);
}

static const struct cli_opt logs_opts[] = {
    { "follow", 'f', NULL, "Follow log output", NULL, 0 },
    { "tail", 'n', "N", "Number of lines to show from the end of the logs (or \"all\")", NULL, 0 },
    { "since", 0, "TIME", "Show logs since timestamp or relative (e.g. 42m)", NULL, 0 },
    { "until", 0, "TIME", "Show logs before a timestamp or relative (e.g. 42m)", NULL, 0 },
    { "timestamps", 't', NULL, "Show timestamps", NULL, 0 },
    { "details", 0, NULL, "Accepted for compatibility", NULL, CLI_OPT_HIDDEN },
};
static const struct cli_usage logs_usage = { "container logs", "[OPTIONS] CONTAINER",
                                             "Fetch the logs of a container" };

static int
cmd_logs(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, logs_opts, BT_ARRAY_SIZE(logs_opts), argc, argv, 0, &logs_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos != 1) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth container logs' takes exactly one container");
    }
    json_t *args = json_pack("{s:s, s:b}", "name", a.pos[0], "follow", cli_args_has(&a, "follow"));
    const char *v;
    if ((v = cli_args_get(&a, "tail")) && !bt_streq(v, "all")) {
        int64_t n;
        if (bt_parse_i64(v, &n) < 0) {
            cli_args_release(&a);
            json_decref(args);
            return bt_err_set(err, BT_EUSAGE, "--tail: invalid number '%s'", v);
        }
        json_object_set_new(args, "tail", json_integer(n));
    }
    if ((v = cli_args_get(&a, "since")))
        json_object_set_new(args, "since", json_string(v));
    if ((v = cli_args_get(&a, "until")))
        json_object_set_new(args, "until", json_string(v));
    struct logs_ctx lc = { .timestamps = cli_args_has(&a, "timestamps") };
    cli_args_release(&a);
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        json_decref(args);
        return -1;
    }
    json_t *res = NULL;
    r = cli_client_call(c, "container.logs", args, on_log, &lc, &res, err);
    cli_client_free(c);
    json_decref(res);
    return r < 0 ? -1 : 0;
}

/* ---- exec ---- */

struct tty_ctx {
    struct cli_client *client;
    bool raw;
};

static volatile sig_atomic_t winch_seen;

static void
on_winch(int sig)
{
    (void) sig;
    winch_seen = 1;
}

static void
copy_winsize(int master)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        (void) ioctl(master, TIOCSWINSZ, &ws);
}

/* The pty's master came: connect it to this terminal until the process closes it. Raw mode
 * is restored on every way out of here. */
static void
on_exec_tty(const struct orch_msg *m, void *ud)
{
    struct tty_ctx *t = ud;
    (void) m;
    int master = cli_client_take_fd(t->client);
    if (master < 0)
        return;
    struct termios saved;
    bool raw = t->raw && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios tio = saved;
        cfmakeraw(&tio);
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &tio);
    }
    struct sigaction sa = { .sa_handler = on_winch }, old;
    sigaction(SIGWINCH, &sa, &old);
    copy_winsize(master);
    bool in_open = true;
    char buf[16384];
    for (;;) {
        if (winch_seen) {
            winch_seen = 0;
            copy_winsize(master);
        }
        struct pollfd p[2] = { { .fd = master, .events = POLLIN },
                               { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0)
                break; /* EIO: the last holder of the terminal's other side is gone */
            if (bt_write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
                break;
        }
        if (p[1].revents) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0)
                in_open = false;
            else if (bt_write_all(master, buf, (size_t) n) < 0)
                break;
        }
    }
    sigaction(SIGWINCH, &old, NULL);
    if (raw)
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(master);
}

static const struct cli_opt exec_opts[] = {
    { "detach", 'd', NULL, "Detached mode: run command in the background", NULL, 0 },
    { "interactive", 'i', NULL, "Keep STDIN open even if not attached", NULL, 0 },
    { "tty", 't', NULL, "Allocate a pseudo-TTY", NULL, 0 },
    { "user", 'u', "USER", "Username or UID (format: <name|uid>[:<group|gid>])", NULL, 0 },
    { "workdir", 'w', "DIR", "Working directory inside the container", NULL, 0 },
    { "env", 'e', "KEY=VALUE", "Set environment variables", NULL, CLI_OPT_REPEAT },
    { "privileged", 0, NULL, "Give extended privileges to the command", NULL, 0 },
};
static const struct cli_usage exec_usage = { "container exec",
                                             "[OPTIONS] CONTAINER COMMAND [ARG...]",
                                             "Execute a command in a running container" };

static int
cmd_exec(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, exec_opts, BT_ARRAY_SIZE(exec_opts), argc, argv,
                           CLI_PARSE_STOP_AT_POSITIONAL, &exec_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos < 2) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth container exec' needs a container and a command");
    }
    bool tty = cli_args_has(&a, "tty"), interactive = cli_args_has(&a, "interactive");
    bool detach = cli_args_has(&a, "detach");
    json_t *cmd = json_array();
    for (size_t i = 1; i < a.npos; i++)
        json_array_append_new(cmd, json_string(a.pos[i]));
    json_t *env = json_array();
    const char *v;
    for (size_t i = 0; (v = cli_args_nth(&a, "env", i)); i++) {
        if (!strchr(v, '=')) {
            const char *val = getenv(v);
            if (val)
                json_array_append_new(env, json_sprintf("%s=%s", v, val));
        } else {
            json_array_append_new(env, json_string(v));
        }
    }
    json_t *args = json_pack("{s:s, s:o, s:o, s:b, s:b, s:b, s:b}", "name", a.pos[0], "cmd", cmd,
                             "env", env, "tty", tty, "stdin", interactive && !detach, "detach",
                             detach, "privileged", cli_args_has(&a, "privileged"));
    if ((v = cli_args_get(&a, "user")))
        json_object_set_new(args, "user", json_string(v));
    if ((v = cli_args_get(&a, "workdir")))
        json_object_set_new(args, "workdir", json_string(v));
    cli_args_release(&a);
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        json_decref(args);
        return -1;
    }
    json_t *res = NULL;
    if (tty) {
        struct tty_ctx t = { .client = c, .raw = interactive && isatty(STDIN_FILENO) };
        r = cli_client_call(c, "container.exec", args, detach ? NULL : on_exec_tty, &t, &res, err);
    } else if (detach) {
        r = cli_client_call(c, "container.exec", args, NULL, NULL, &res, err);
    } else {
        /* The process gets our own streams: its bytes never pass through the daemon. */
        int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        bool in = interactive;
        r = cli_client_call_fds(c, "container.exec", args, in ? fds : fds + 1, in ? 3 : 2, NULL,
                                NULL, &res, err);
    }
    cli_client_free(c);
    if (r < 0)
        return -1;
    int code = detach ? 0 : (int) json_integer_value(json_object_get(res, "exit_code"));
    json_decref(res);
    return code;
}

static const struct cli_cmd subs[] = {
    { "create", cmd_create, "Create a new container" },
    { "exec", cmd_exec, "Execute a command in a running container" },
    { "inspect", cmd_inspect, "Display detailed information on one or more containers" },
    { "kill", cmd_kill, "Kill one or more running containers" },
    { "list", cmd_ls, "List containers (alias of ls)" },
    { "logs", cmd_logs, "Fetch the logs of a container" },
    { "ls", cmd_ls, "List containers" },
    { "pause", cmd_pause, "Pause all processes within one or more containers" },
    { "ps", cmd_ls, "List containers (alias of ls)" },
    { "remove", cmd_rm, "Remove one or more containers (alias of rm)" },
    { "rm", cmd_rm, "Remove one or more containers" },
    { "run", cmd_run, "Create and run a new container from an image" },
    { "start", cmd_start, "Start one or more stopped containers" },
    { "stop", cmd_stop, "Stop one or more running containers" },
    { "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
    { "wait", cmd_wait, "Block until one or more containers stop, then print their exit codes" },
};

int
cli_cmd_container(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return cli_subcmd_dispatch(ctx, "container", subs, BT_ARRAY_SIZE(subs), argc, argv, err);
}
