/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalisation: the merged model rewritten in the long syntax of every attribute, with the
 * defaults docker compose injects (the default network, resource names, depends_on conditions)
 * and relative paths made absolute, so that the daemon and the configuration hash see one form
 * for one meaning. Internal to compose/; compose_project_load() runs it.
 *
 * Every new node keeps the position of the node it came from, so later errors still point into
 * the user's files. Shared (aliased) nodes are never changed in place.
 */
#pragma once

#include <stdbool.h>

#include "compose/interp.h"
#include "compose/node.h"

struct compose_normalize_opts {
    const char *project_name;
    const char *working_dir; /* absolute: relative paths resolve against it */
    const char *home;        /* "~" expands to it; NULL: "~" stays */
    /* The project environment (process, then .env): values of "KEY" entries of environment and
     * build.args, and interpolation inside env_file and label_file files. */
    compose_lookup_fn lookup;
    void *userdata;
    struct compose_interp_warn *warn; /* unset variables met in env files; may be NULL */
    bool resolve_paths;               /* false: --no-path-resolution */
    /* false (config --no-normalize): the long syntax only, without what docker compose's
     * normalisation adds: the default network, resource names, build's default context and
     * Dockerfile, dependencies other attributes imply, restart from deploy, "KEY" entries
     * resolved from the environment, pull_policy's old spelling. */
    bool defaults;
};

/* Rewrite *model in place (its top-level pairs; everything below is replaced, not changed).
 * Errors carry the position of the offending node and its path ("services.web.ports[1]"). */
int compose_normalize(struct bt_arena *a, struct compose_node *model,
                      const struct compose_normalize_opts *o, struct bt_err **err);
