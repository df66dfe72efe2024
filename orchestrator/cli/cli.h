/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI front end: global flags, one command per file (cmd-*.c), the option parser that gives
 * every command the same flag syntax, help and "did you mean" messages, and the client that
 * talks to the daemon (starting it when needed). The CLI never touches engine state on disk.
 *
 * Exit codes: 0 success, 1 failure, 2 usage error (BT_EUSAGE).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "engine/base/err.h"
#include "orchestrator/paths.h"
#include "orchestrator/proto/proto.h"

/* ---- options ---- */

enum {
    CLI_OPT_REPEAT = 1 << 0, /* may be given several times; every value is kept */
    CLI_OPT_HIDDEN = 1 << 1, /* not shown in --help */
};

struct cli_opt {
    const char *name; /* long name, without "--" */
    char shrt;        /* short letter, or 0 */
    const char *arg;  /* NULL for a flag, else the value's name in help ("FILE") */
    const char *help;
    const char *const *choices; /* NULL-terminated allowed values, or NULL */
    unsigned flags;
};

struct cli_val {
    unsigned opt;    /* index into the table */
    const char *val; /* borrowed from argv; NULL for a flag */
};

struct cli_args {
    const struct cli_opt *opts;
    size_t nopts;
    struct cli_val *vals;
    size_t nvals, vals_cap;
    char **pos; /* positional arguments, borrowed from argv */
    size_t npos, pos_cap;
    struct cli_opt *owned; /* a joined table (cli_opts_join) freed with the arguments */
};

enum {
    CLI_PARSE_STOP_AT_POSITIONAL = 1 << 0, /* the first positional ends option parsing */
};

/* What a command is, for help and messages: "berth version". */
struct cli_usage {
    const char *cmd;      /* "version", "daemon stop" */
    const char *synopsis; /* "[OPTIONS]" */
    const char *summary;  /* one line */
};

/* Returns 0, 1 when --help/-h was given (help already printed to stdout), or a negative
 * BT_EUSAGE error naming the closest valid flag. */
int cli_args_parse(struct cli_args *a, const struct cli_opt *opts, size_t nopts, int argc,
                   char **argv, unsigned flags, const struct cli_usage *u, struct bt_err **err);
void cli_args_release(struct cli_args *a);
/* opts followed by the entries of more that opts does not shadow: an entry whose long name opts
 * has is left out, one whose letter opts has loses the letter (docker compose's "logs -f" is
 * --follow, not --file). A new table, caller frees. */
struct cli_opt *cli_opts_join(const struct cli_opt *opts, size_t nopts, const struct cli_opt *more,
                              size_t nmore, size_t *ret_n);
bool cli_args_has(const struct cli_args *a, const char *name);
/* The last value given for name, or NULL. */
const char *cli_args_get(const struct cli_args *a, const char *name);
/* The i-th value given for name (in command-line order), or NULL past the end. */
const char *cli_args_nth(const struct cli_args *a, const char *name, size_t i);
void cli_help_print(FILE *f, const struct cli_usage *u, const struct cli_opt *opts, size_t nopts);

/* ---- context shared by all commands ---- */

struct cli_ctx {
    const char *root;     /* --root, or NULL */
    const char *run_root; /* --run-root, or NULL */
    const char *log_level;
    /* docker compose's global flags: kept for the project commands. */
    const char **files;
    size_t nfiles;
    const char **profiles;
    size_t nprofiles;
    const char **env_files;
    size_t nenv_files;
    const char *project_name;
    const char *project_dir;
    const char *ansi;     /* never | always | auto */
    const char *progress; /* auto | tty | plain | json | quiet */
};

/* A command: returns the exit code (>= 0), or a negative error with *err set. */
typedef int (*cli_cmd_fn)(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);

struct cli_cmd {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
};

int cli_cmd_version(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_system(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_daemon(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_image(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_container(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_image_pull(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_image_push(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_login(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);
int cli_cmd_logout(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);

/* Sub-commands share one dispatcher: "system info", "daemon stop". */
int cli_subcmd_dispatch(struct cli_ctx *ctx, const char *parent, const struct cli_cmd *subs,
                        size_t nsubs, int argc, char **argv, struct bt_err **err);

/* The flags that name a project (-f, -p, --project-directory, --profile, --env-file): global
 * flags that project commands also take after their name, as docker compose's do. */
extern const struct cli_opt cli_project_opts[];
extern const size_t cli_nproject_opts;
/* Parse a project command's arguments: its own options, then the project flags, whose values
 * are added to ctx's (repeatable ones appended, others replaced). */
int cli_args_parse_project(struct cli_ctx *ctx, struct cli_args *a, const struct cli_opt *opts,
                           size_t nopts, int argc, char **argv, unsigned flags,
                           const struct cli_usage *u, struct bt_err **err);

struct compose_project;
struct cli_project_opts {
    bool no_interpolate;
    bool no_normalize;
    bool no_path_resolution;
    bool no_consistency;
    const char *const *services; /* named on the command line: enabled whatever their profiles */
    size_t nservices;
};
/* Load the project the global flags name; warnings are printed to stderr. */
int cli_project_load(const struct cli_ctx *ctx, const struct cli_project_opts *po,
                     struct compose_project **ret, struct bt_err **err);
int cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err);

/* credhelper.c: Docker's credential helpers (docker-credential-NAME), for login, logout and
 * the credentials of pulls and pushes. get fills ret (found false when the helper has none). */
struct eng_dockercfg_auth;
int cli_credhelper_get(const char *helper, const char *server, struct eng_dockercfg_auth *ret,
                       struct bt_err **err);
int cli_credhelper_store(const char *helper, const char *server, const char *user,
                         const char *secret, struct bt_err **err);
int cli_credhelper_erase(const char *helper, const char *server, bool *ret_had,
                         struct bt_err **err);

/* Print a JSON value as one line on stdout. */
void cli_print_json(const json_t *v);

/* ---- the daemon client ---- */

struct cli_client;

typedef void (*cli_progress_fn)(const struct orch_msg *m, void *userdata);

/* Connect and shake hands. With autostart, a missing or dead daemon is started first (root
 * only). Without it, a daemon that is not running gives -ECONNREFUSED. */
int cli_client_open(const struct cli_ctx *ctx, bool autostart, struct cli_client **ret,
                    struct bt_err **err);
/* One request: progress and events go to fn (may be NULL); the result is a new reference. */
int cli_client_call(struct cli_client *c, const char *op, json_t *args_steal, cli_progress_fn fn,
                    void *userdata, json_t **ret_result, struct bt_err **err);
/* The same, sending descriptors with the request (they stay the caller's). */
int cli_client_call_fds(struct cli_client *c, const char *op, json_t *args_steal, const int *fds,
                        size_t nfds, cli_progress_fn fn, void *userdata, json_t **ret_result,
                        struct bt_err **err);
/* The oldest descriptor the daemon sent and nobody took yet (the caller owns it), or -1. A
 * message's descriptors arrive with it, so a progress callback can take its own. */
int cli_client_take_fd(struct cli_client *c);
pid_t cli_client_daemon_pid(const struct cli_client *c);
const char *cli_client_daemon_version(const struct cli_client *c);
struct cli_client *cli_client_free(struct cli_client *c);
/* Open, call once, close. */
int cli_call(const struct cli_ctx *ctx, const char *op, json_t *args_steal, json_t **ret_result,
             struct bt_err **err);
