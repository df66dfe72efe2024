/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth system info: the daemon and what this host's kernel offers.
 */
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

static const char *const formats[] = { "pretty", "json", NULL };

static const struct cli_opt info_opts[] = {
    { "format", 'f', "FORMAT", "Format the output", formats, 0 },
};

static const struct cli_usage info_usage = { "system info", "[OPTIONS]",
                                             "Show the daemon's state and the host's features" };

static const char *
yes_no(const json_t *v)
{
    return json_is_true(v) ? "yes" : "no";
}

static void
print_info(const json_t *r)
{
    const json_t *cg = json_object_get(r, "cgroup");
    printf("Daemon:\n");
    printf(" Version:     %s (protocol %lld)\n", json_string_value(json_object_get(r, "version")),
           (long long) json_integer_value(json_object_get(r, "protocol")));
    printf(" PID:         %lld\n", (long long) json_integer_value(json_object_get(r, "pid")));
    printf(" Uptime:      %.0f s\n", json_number_value(json_object_get(r, "uptime_seconds")));
    printf(" Root:        %s\n", json_string_value(json_object_get(r, "root")));
    printf(" Run root:    %s\n", json_string_value(json_object_get(r, "run_root")));
    printf("Host:\n");
    printf(" Kernel:      %s (%s)\n", json_string_value(json_object_get(r, "kernel")),
           json_string_value(json_object_get(r, "arch")));
    printf(" Cgroups:     %s", json_string_value(json_object_get(cg, "mode")));
    const char *v2 = json_string_value(json_object_get(cg, "v2_path"));
    if (v2)
        printf(" (v2 tree at %s)", v2);
    printf("\n Controllers: %s\n", json_string_value(json_object_get(cg, "controllers")));
    printf(" Overlayfs:   %s\n", yes_no(json_object_get(r, "overlayfs")));
    printf(" Seccomp:     %s\n", yes_no(json_object_get(r, "seccomp")));
    printf(" Namespaces: ");
    json_t *ns = json_object_get(r, "namespaces");
    for (void *it = json_object_iter(ns); it; it = json_object_iter_next(ns, it))
        printf(" %s%s", json_object_iter_key(it),
               json_is_true(json_object_iter_value(it)) ? "" : "(missing)");
    printf("\n");
}

static int
cmd_info(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, info_opts, BT_ARRAY_SIZE(info_opts), argc, argv, 0, &info_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool json = bt_streq(cli_args_get(&a, "format"), "json");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos > 0)
        return bt_err_set(err, BT_EUSAGE, "'berth system info' takes no arguments");
    json_t *res = NULL;
    if (cli_call(ctx, "system.info", NULL, &res, err) < 0)
        return -1;
    if (json)
        cli_print_json(res);
    else
        print_info(res);
    json_decref(res);
    return 0;
}

static const struct cli_cmd subs[] = {
    { "info", cmd_info, "Show the daemon's state and the host's features" },
};

int
cli_cmd_system(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return cli_subcmd_dispatch(ctx, "system", subs, BT_ARRAY_SIZE(subs), argc, argv, err);
}
