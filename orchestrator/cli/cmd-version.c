/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth version: the client's and the daemon's versions and protocol.
 */
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

static const char *const formats[] = { "pretty", "json", NULL };

static const struct cli_opt opts[] = {
    { "format", 'f', "FORMAT", "Format the output", formats, 0 },
    { "short", 0, NULL, "Show only the client's version number", NULL, 0 },
};

static const struct cli_usage usage = { "version", "[OPTIONS]",
                                        "Show the berth client and daemon versions" };

int
cli_cmd_version(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, opts, BT_ARRAY_SIZE(opts), argc, argv, 0, &usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool json = bt_streq(cli_args_get(&a, "format"), "json");
    bool short_ = cli_args_has(&a, "short");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos > 0)
        return bt_err_set(err, BT_EUSAGE, "'berth version' takes no arguments");
    if (short_) {
        printf("%s\n", BERTH_VERSION);
        return 0;
    }
    json_t *res = NULL;
    if (cli_call(ctx, "version", NULL, &res, err) < 0)
        return -1;
    if (json) {
        json_t *out = json_pack("{s:{s:s, s:i}, s:O}", "client", "version", BERTH_VERSION,
                                "protocol", ORCH_PROTO_VERSION, "daemon", res);
        cli_print_json(out);
        json_decref(out);
    } else {
        printf("client: %s (protocol %d)\n", BERTH_VERSION, ORCH_PROTO_VERSION);
        printf("daemon: %s (protocol %lld, pid %lld)\n",
               json_string_value(json_object_get(res, "version")),
               (long long) json_integer_value(json_object_get(res, "protocol")),
               (long long) json_integer_value(json_object_get(res, "pid")));
    }
    json_decref(res);
    return 0;
}
