/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service extends: `extends: NAME` or `extends: {service: NAME, file: PATH}`, chains of them,
 * across files. The base is merged under the extending service with the merge rules at
 * services.*; relative paths of a service taken from another file are made absolute against
 * that file's directory first. Cycles are errors naming every link. Internal to compose/.
 */
#pragma once

#include "compose/node.h"

/* Loads another compose file (parsed, interpolated, its documents merged; extends not applied)
 * for extends: path is absolute. The result lives in the caller's arena. */
typedef int (*compose_extends_load_fn)(void *userdata, const char *path,
                                       struct compose_node **ret_doc, struct bt_err **err);

/* Resolve every extends in doc (read from the absolute path file). doc's services mapping gets
 * the merged services; other nodes are not modified. */
int compose_extends_apply(struct bt_arena *a, struct compose_node *doc, const char *file,
                          compose_extends_load_fn load, void *userdata, struct bt_err **err);

/* Make the relative paths of one service (build context, env_file, label_file, bind mount
 * sources, extends.file) absolute against dir. Returns a new service node. */
struct compose_node *compose_service_resolve_paths(struct bt_arena *a,
                                                   const struct compose_node *svc, const char *dir);
