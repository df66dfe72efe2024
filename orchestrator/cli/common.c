/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the commands: sub-command dispatch and JSON output.
 */
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

void
cli_print_json(const json_t *v)
{
    bt_autofree char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", s ? s : "null");
}

static void
subcmds_help(const char *parent, const struct cli_cmd *subs, size_t nsubs)
{
    printf("Usage:  berth %s COMMAND\n\nCommands:\n", parent);
    for (size_t i = 0; i < nsubs; i++)
        printf("  %-12s %s\n", subs[i].name, subs[i].summary);
    printf("\nRun 'berth %s COMMAND --help' for more information on a command.\n", parent);
}

int
cli_subcmd_dispatch(struct cli_ctx *ctx, const char *parent, const struct cli_cmd *subs,
                    size_t nsubs, int argc, char **argv, struct bt_err **err)
{
    if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        subcmds_help(parent, subs, nsubs);
        if (argc == 0)
            return bt_err_set(err, BT_EUSAGE, "'berth %s' needs a command", parent);
        return 0;
    }
    for (size_t i = 0; i < nsubs; i++)
        if (strcmp(argv[0], subs[i].name) == 0)
            return subs[i].fn(ctx, argc - 1, argv + 1, err);
    const char *names[16];
    size_t n = nsubs < 16 ? nsubs : 16;
    for (size_t i = 0; i < n; i++)
        names[i] = subs[i].name;
    const char *close = bt_str_closest(argv[0], names, n);
    int r = bt_err_set(err, BT_EUSAGE, "unknown command 'berth %s %s'", parent, argv[0]);
    if (close)
        bt_err_hint(err, "did you mean '%s'? See 'berth %s --help'.", close, parent);
    else
        bt_err_hint(err, "see 'berth %s --help'", parent);
    return r;
}
