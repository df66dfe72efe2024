/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merging Compose documents (several -f files, several documents in one file, extends) with
 * the specification's rules as docker compose applies them: mappings merge key by key,
 * sequences append, command/entrypoint/healthcheck.test replace, some attributes are turned
 * into one form before merging (environment, labels, depends_on, networks, build...), then
 * "unique resources" (ports, volumes, secrets, environment entries...) keep one entry per key.
 * !reset drops a value, !override replaces it. Inputs are never modified (nodes may be shared
 * through YAML aliases): the result is built from new nodes in the arena. Internal to compose/.
 */
#pragma once

#include "compose/node.h"

/* The merge of base and over (either may be NULL). Error: a mapping overridden by something
 * else, at over's position. */
int compose_merge(struct bt_arena *a, const struct compose_node *base,
                  const struct compose_node *over, struct compose_node **ret, struct bt_err **err);
/* Drop values tagged !reset and clear tags; then keep one entry per key in the sequences that
 * hold unique resources. Call once on the final merged document. */
int compose_merge_finish(struct bt_arena *a, struct compose_node *root, struct compose_node **ret,
                         struct bt_err **err);
