/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Top-level include: each entry (a path, or {path, project_directory, env_file}) is loaded as
 * a project of its own, with its own directory and .env, its relative paths resolved there;
 * its services, networks, volumes, secrets and configs join the including model. Defining the
 * same resource in both is an error; so is an include cycle. Internal to compose/.
 */
#pragma once

#include "compose/node.h"

struct compose_include {
    const char *const *paths; /* absolute; several are merged as -f files are */
    size_t npaths;
    const char *project_dir;      /* absolute */
    const char *const *env_files; /* absolute; none: <project_dir>/.env when present */
    size_t nenv_files;
    const struct compose_node *at; /* the include entry, for messages */
};

/* Loads one included project completely (its own includes and extends applied, merged,
 * relative paths resolved against inc->project_dir). */
typedef int (*compose_include_load_fn)(void *userdata, const struct compose_include *inc,
                                       struct compose_node **ret_model, struct bt_err **err);

/* Apply doc's include entries (doc read from the absolute path file); removes "include". */
int compose_include_apply(struct bt_arena *a, struct compose_node *doc, const char *file,
                          compose_include_load_fn load, void *userdata, struct bt_err **err);

/* Make relative paths of a whole model absolute against dir: every service (see
 * compose_service_resolve_paths) and the file: of top-level secrets and configs. */
struct compose_node *compose_model_resolve_paths(struct bt_arena *a,
                                                 const struct compose_node *model, const char *dir);
