/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state layout under the roots. Everything the daemon persists lives below <root>, in one
 * directory per kind, and is written with bt_file_write_atomic_at(); temp files left by a crash
 * are removed here at start.
 */
#define LOG_TAG "state"

#include <fcntl.h>
#include <sys/stat.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/path.h"
#include "orchestrator/daemon/daemon.h"

static const char *const state_dirs[] = { "images", "containers", "volumes", "projects",
                                          "networks" };

int
orch_state_init(struct orch_daemon *d, struct bt_err **err)
{
    const char *root = d->paths.root;
    for (size_t i = 0; i < BT_ARRAY_SIZE(state_dirs); i++) {
        bt_autofree char *p = bt_path_join(root, state_dirs[i]);
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return bt_err_errno(err, -errno, "cannot create state directory '%s'", p);
        bt_autoclose int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return bt_err_errno(err, -errno, "cannot open state directory '%s'", p);
        int n = bt_dir_clean_tmp(fd);
        if (n > 0)
            bt_log_info("removed %d unfinished temp files in '%s'", n, p);
    }
    return 0;
}
