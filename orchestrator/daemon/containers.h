/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's containers (containers.c): the store, the loop half of the lifecycle, and the
 * container.* operations. Internal to orchestrator/daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/base/err.h"
#include "orchestrator/daemon/daemon.h"

int orch_containers_open(struct orch_daemon *d, struct bt_err **err);
/* Stops what still runs (stop signal, grace period, then SIGKILL), records the exits, answers
 * waiting requests, frees everything. */
void orch_containers_close(struct orch_daemon *d);
/* Whether any container (in any state) was made from image_id. */
bool orch_containers_use_image(struct orch_daemon *d, const char *image_id);
/* Whether a running (or paused) container was made from image_id: rm -f cannot remove it. */
bool orch_containers_run_image(struct orch_daemon *d, const char *image_id);

extern const struct orch_op orch_container_ops[];
extern const size_t orch_ncontainer_ops;
