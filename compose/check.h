/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks a schema cannot make, on the merged model: references to unknown services
 * (depends_on, links, network_mode/ipc/pid "service:", volumes_from), dependency cycles (naming
 * every service of the cycle), networks, volumes, secrets and configs used but not defined, and
 * container_name used twice. Each error carries the file:line:col of the offending value and a
 * hint. Internal to compose/.
 */
#pragma once

#include "compose/node.h"

int compose_check_model(struct bt_arena *a, const struct compose_node *model, bool consistency,
                        struct bt_err **err);
