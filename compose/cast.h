/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interpolation yields strings. Where the Compose format wants a number or a boolean (a fixed
 * list of paths, as docker compose keeps it), a string that reads as one becomes one, so
 * `privileged: ${P}` with P=true is a boolean while `user: ${UID}` stays a string. Internal.
 */
#pragma once

#include "compose/node.h"

/* In place. A value that does not read as the wanted type is an error, as in docker compose
 * ("services.web.privileged: 'maybe' is not a boolean"), with the node's position. */
int compose_cast_tree(struct compose_node *root, struct bt_err **err);
