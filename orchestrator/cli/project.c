/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading the Compose project named by the global flags, for every command that needs one.
 * Warnings (unset variables, several default files) go to stderr once, as docker compose does.
 */
#include <unistd.h>

#include "compose/compose.h"
#include "orchestrator/cli/cli.h"

extern char **environ;

int
cli_project_load(const struct cli_ctx *ctx, bool no_interpolate, struct compose_project **ret,
                 struct bt_err **err)
{
    struct compose_load_opts o = {
        .files = ctx->files,
        .nfiles = ctx->nfiles,
        .env_files = ctx->env_files,
        .nenv_files = ctx->nenv_files,
        .profiles = ctx->profiles,
        .nprofiles = ctx->nprofiles,
        .project_dir = ctx->project_dir,
        .project_name = ctx->project_name,
        .environ = environ,
        .no_interpolate = no_interpolate,
    };
    if (compose_project_load(&o, ret, err) < 0)
        return -1;
    for (size_t i = 0; i < (*ret)->nwarnings; i++)
        fprintf(stderr, "%s\n", (*ret)->warnings[i]);
    return 0;
}
