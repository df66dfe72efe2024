/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where berth keeps things: the state root (default /var/lib/berth) and the runtime root
 * (default /run/berth), from --root/--run-root, then BERTH_ROOT/BERTH_RUN_ROOT, then defaults.
 * The CLI and the daemon derive every path from here so they always agree.
 */
#pragma once

#include "engine/base/err.h"

struct orch_paths {
    char *root;     /* absolute */
    char *run_root; /* absolute */
    char *sock;     /* <run-root>/berth.sock */
    char *pid;      /* <run-root>/berth.pid */
    char *lock;     /* <run-root>/berth.sock.lock: serialises daemon start-up by CLIs */
    char *log;      /* <root>/daemon.log */
};

/* root/run_root may be NULL (environment, then defaults). Relative paths are made absolute. */
int orch_paths_init(struct orch_paths *p, const char *root, const char *run_root,
                    struct bt_err **err);
void orch_paths_release(struct orch_paths *p);
