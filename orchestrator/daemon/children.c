/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Child processes of the daemon: who watches which pid, and reaping. The daemon is a child
 * subreaper, so orphans from containers land here too; they are reaped and forgotten.
 */
#define LOG_TAG "children"

#include <sys/wait.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "orchestrator/daemon/daemon.h"

struct orch_child {
    pid_t pid;
    orch_child_fn fn;
    void *userdata;
};

void
orch_children_watch(struct orch_daemon *d, pid_t pid, orch_child_fn fn, void *userdata)
{
    d->children = bt_xgrow(d->children, &d->children_cap, d->nchildren + 1, sizeof *d->children);
    d->children[d->nchildren++] = (struct orch_child){ pid, fn, userdata };
}

void
orch_children_forget(struct orch_daemon *d, pid_t pid)
{
    for (size_t i = 0; i < d->nchildren; i++)
        if (d->children[i].pid == pid) {
            d->children[i] = d->children[--d->nchildren];
            return;
        }
}

void
orch_children_reap(struct orch_daemon *d)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return; /* 0: none left that exited; -1: ECHILD */
        size_t i = 0;
        while (i < d->nchildren && d->children[i].pid != pid)
            i++;
        if (i == d->nchildren) {
            bt_log_debug("reaped pid %d (status 0x%x), not watched", (int) pid, status);
            continue;
        }
        struct orch_child c = d->children[i];
        d->children[i] = d->children[--d->nchildren];
        bt_log_debug("reaped pid %d (status 0x%x)", (int) pid, status);
        c.fn(d, pid, status, c.userdata);
    }
}

void
orch_children_release(struct orch_daemon *d)
{
    free(d->children);
    d->children = NULL;
    d->nchildren = d->children_cap = 0;
}
