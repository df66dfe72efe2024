/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's settings file, read once at start (see daemon.h). Docker's daemon.json names
 * are used where Docker has the same setting, so an operator's habits carry over.
 */
#define LOG_TAG "config"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "orchestrator/daemon/daemon.h"

#define CONFIG_MAX (1u << 20)

int
orch_config_load(struct orch_config *c, struct bt_err **err)
{
    const char *path = getenv("BERTH_DAEMON_CONFIG");
    if (!path || !*path)
        path = "/etc/berth/daemon.json";
    bt_autofree char *text = NULL;
    size_t len;
    bt_autoerr struct bt_err *rerr = NULL;
    if (bt_file_read_at(AT_FDCWD, path, CONFIG_MAX, &text, &len, &rerr) < 0) {
        if (rerr->code == ENOENT)
            return 0;
        return bt_err_set(err, rerr->code, "%s", rerr->msg);
    }
    json_error_t jerr;
    json_t *j = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return bt_err_set_at(err, path, jerr.line, jerr.column, BT_EPARSE,
                             "daemon settings are not a JSON object: %s", jerr.text);
    }
    int r = 0;
    json_t *ins = json_object_get(j, "insecure-registries");
    json_t *certs = json_object_get(j, "certs-dir");
    if (ins && !json_is_array(ins)) {
        r = bt_err_set(err, BT_EINVALID, "%s: 'insecure-registries' must be a list of hosts", path);
    } else if (certs && !json_is_string(certs)) {
        r = bt_err_set(err, BT_EINVALID, "%s: 'certs-dir' must be a path", path);
    } else {
        c->insecure_registries = bt_xcalloc(json_array_size(ins) + 1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(ins, i, v) {
            if (!json_is_string(v)) {
                r = bt_err_set(err, BT_EINVALID, "%s: 'insecure-registries[%zu]' is not a host",
                               path, i);
                break;
            }
            c->insecure_registries[c->ninsecure++] = bt_xstrdup(json_string_value(v));
        }
        if (certs)
            c->certs_dir = bt_xstrdup(json_string_value(certs));
    }
    json_decref(j);
    return r;
}

void
orch_config_release(struct orch_config *c)
{
    for (size_t i = 0; i < c->ninsecure; i++)
        free(c->insecure_registries[i]);
    free(c->insecure_registries);
    free(c->certs_dir);
    *c = (struct orch_config){ 0 };
}
