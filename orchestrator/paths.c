/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Root and runtime paths shared by CLI and daemon.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "engine/base/alloc.h"
#include "engine/base/path.h"
#include "orchestrator/paths.h"

static int
absolute(const char *what, const char *in, char **ret, struct bt_err **err)
{
    if (in[0] == '\0')
        return bt_err_set(err, BT_EUSAGE, "%s must not be empty", what);
    if (in[0] == '/') {
        *ret = bt_xstrdup(in);
        return 0;
    }
    bt_autofree char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return bt_err_errno(err, -errno, "cannot resolve %s '%s'", what, in);
    *ret = bt_path_join(cwd, in);
    return 0;
}

int
orch_paths_init(struct orch_paths *p, const char *root, const char *run_root, struct bt_err **err)
{
    *p = (struct orch_paths){ 0 };
    if (!root)
        root = getenv("BERTH_ROOT");
    if (!run_root)
        run_root = getenv("BERTH_RUN_ROOT");
    if (absolute("the state root", root ? root : "/var/lib/berth", &p->root, err) < 0 ||
        absolute("the runtime root", run_root ? run_root : "/run/berth", &p->run_root, err) < 0) {
        orch_paths_release(p);
        return -BT_EUSAGE;
    }
    p->sock = bt_path_join(p->run_root, "berth.sock");
    p->pid = bt_path_join(p->run_root, "berth.pid");
    p->lock = bt_path_join(p->run_root, "berth.sock.lock");
    p->log = bt_path_join(p->root, "daemon.log");
    if (strlen(p->sock) >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
        int r = bt_err_set(err, ENAMETOOLONG, "socket path '%s' is too long for a UNIX socket",
                           p->sock);
        bt_err_hint(err, "choose a shorter --run-root");
        orch_paths_release(p);
        return r;
    }
    return 0;
}

void
orch_paths_release(struct orch_paths *p)
{
    free(p->root);
    free(p->run_root);
    free(p->sock);
    free(p->pid);
    free(p->lock);
    free(p->log);
    *p = (struct orch_paths){ 0 };
}
