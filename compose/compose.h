/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compose: Compose files into one resolved project model, as the Compose specification and
 * docker compose define it. It runs in the CLI; it reads files and nothing else (no syscalls
 * beyond that, no event loop). The model is a YAML-like tree (compose/node.h) whose nodes keep
 * file:line:col; every error says where and what to do.
 *
 * Ownership: a struct compose_project owns one arena holding everything it points to;
 * compose_project_free() drops it whole.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/base/err.h"

struct compose_node;

struct compose_load_opts {
    const char *const *files; /* -f, in order ("-" for stdin) */
    size_t nfiles;
    const char *const *env_files; /* --env-file, in order; none: <project dir>/.env */
    size_t nenv_files;
    const char *const *profiles; /* --profile */
    size_t nprofiles;
    const char *project_dir;  /* --project-directory, or NULL */
    const char *project_name; /* -p, or NULL */
    const char *cwd;          /* NULL: the process's working directory */
    char *const *environ;     /* the process environment (NULL-terminated) */
    /* Services named on the command line: enabled whatever their profiles. */
    const char *const *services;
    size_t nservices;
    bool no_interpolate;
    bool no_normalize;       /* long syntax without docker compose's defaults (see normalize.h) */
    bool no_path_resolution; /* keep relative paths relative */
    bool no_consistency;     /* skip the checks that need a complete project (config) */
};

struct compose_project {
    const char *name;
    const char *working_dir;
    const char *const *config_files; /* absolute paths, or "-" */
    size_t nconfig_files;
    struct compose_node *model; /* merged and interpolated; NULL for an empty project */
    bool interpolated;          /* values had ${...} resolved ("$" is printed as "$$") */
    /* Notes for the user, one per line, already phrased ("WARN ..."): unset variables, several
     * default file names present. */
    const char *const *warnings;
    size_t nwarnings;
    struct bt_arena *arena;
};

int compose_project_load(const struct compose_load_opts *o, struct compose_project **ret,
                         struct bt_err **err);
struct compose_project *compose_project_free(struct compose_project *p);

/* Keep only the named services and those they depend on (depends_on, transitively), then
 * compose_project_prune(). An unknown name is an error naming the closest one. n == 0 keeps
 * everything. Needs the normalised model. */
int compose_project_select(struct compose_project *p, const char *const *names, size_t n,
                           struct bt_err **err);
/* Drop the networks, volumes, secrets and configs no service uses, as docker compose does. */
void compose_project_prune(struct compose_project *p);

/* The configuration hash of each service (sorted by name), as `config --hash` prints it and
 * recreation decides on it: sha256 of the service's canonical JSON without what does not
 * change its containers (build, pull_policy, scale, deploy.replicas, depends_on, profiles).
 * Needs the normalised model. ret[i] is "<name> <64 hex digits>"; all in the arena. */
int compose_project_hashes(const struct compose_project *p, const char ***ret, size_t *ret_n);

enum compose_format { COMPOSE_FORMAT_YAML, COMPOSE_FORMAT_JSON };
/* The model as text: keys in a fixed order (top level: name, services, networks, volumes,
 * secrets, configs, then the rest sorted; below: sorted), so equal models print equal bytes.
 * Returns a new string, caller frees. */
char *compose_project_format(const struct compose_project *p, enum compose_format f);
