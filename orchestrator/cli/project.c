/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project flags and loading the Compose project they name, for every command that needs
 * one. Warnings (unset variables, several default files) go to stderr once, as docker compose
 * does.
 */
#include <string.h>
#include <unistd.h>

#include "compose/compose.h"
#include "engine/base/alloc.h"
#include "orchestrator/cli/cli.h"

extern char **environ;

const struct cli_opt cli_project_opts[] = {
    { "file", 'f', "FILE", "Compose configuration files", NULL, CLI_OPT_REPEAT },
    { "project-name", 'p', "NAME", "Project name", NULL, 0 },
    { "project-directory", 0, "DIR", "Alternate working directory of the project", NULL, 0 },
    { "profile", 0, "PROFILE", "Specify a profile to enable", NULL, CLI_OPT_REPEAT },
    { "env-file", 0, "FILE", "Specify an alternate environment file", NULL, CLI_OPT_REPEAT },
};
const size_t cli_nproject_opts = BT_ARRAY_SIZE(cli_project_opts);

static void
append(const char ***list, size_t *n, const char *val)
{
    const char **v = bt_xcalloc(*n + 2, sizeof *v);
    if (*n)
        memcpy(v, *list, *n * sizeof *v);
    v[(*n)++] = val;
    free(*list);
    *list = v;
}

int
cli_args_parse_project(struct cli_ctx *ctx, struct cli_args *a, const struct cli_opt *opts,
                       size_t nopts, int argc, char **argv, unsigned flags,
                       const struct cli_usage *u, struct bt_err **err)
{
    size_t n;
    struct cli_opt *table = cli_opts_join(opts, nopts, cli_project_opts, cli_nproject_opts, &n);
    int r = cli_args_parse(a, table, n, argc, argv, flags, u, err);
    a->owned = table;
    if (r != 0)
        return r;
    for (size_t i = 0; i < a->nvals; i++) {
        if (a->vals[i].opt < nopts)
            continue;
        const char *name = table[a->vals[i].opt].name, *val = a->vals[i].val;
        if (strcmp(name, "file") == 0)
            append(&ctx->files, &ctx->nfiles, val);
        else if (strcmp(name, "profile") == 0)
            append(&ctx->profiles, &ctx->nprofiles, val);
        else if (strcmp(name, "env-file") == 0)
            append(&ctx->env_files, &ctx->nenv_files, val);
        else if (strcmp(name, "project-name") == 0)
            ctx->project_name = val;
        else if (strcmp(name, "project-directory") == 0)
            ctx->project_dir = val;
    }
    return 0;
}

int
cli_project_load(const struct cli_ctx *ctx, const struct cli_project_opts *po,
                 struct compose_project **ret, struct bt_err **err)
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
        .services = po->services,
        .nservices = po->nservices,
        .no_interpolate = po->no_interpolate,
        .no_normalize = po->no_normalize,
        .no_path_resolution = po->no_path_resolution,
        .no_consistency = po->no_consistency,
    };
    if (compose_project_load(&o, ret, err) < 0)
        return -1;
    for (size_t i = 0; i < (*ret)->nwarnings; i++)
        fprintf(stderr, "%s\n", (*ret)->warnings[i]);
    return 0;
}
