/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The berth binary's side of the engine plugin (see plugin.h): the loader, and a wrapper with
 * the same name and signature for each heavy function. Functions that can fail load the plugin
 * on demand; the others take objects only the plugin makes, so it is loaded by then.
 */
#define LOG_TAG "plugin"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/image/image.h"
#include "engine/image/plugin.h"

static const struct eng_plugin_api *api;

/* name beside the binary (a build tree), else in <prefix>/lib/berth/ (installed). */
static int
lib_path(const char *name, char *out, size_t n, bool installed)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -errno;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    int w = snprintf(out, n, "%s/%s%s", exe, installed ? "../lib/berth/" : "", name);
    return w > 0 && (size_t) w < n ? 0 : -ENAMETOOLONG;
}

int
eng_plugin_file_path(const char *name, char *out, size_t n, struct bt_err **err)
{
    for (int installed = 0; installed < 2; installed++)
        if (lib_path(name, out, n, installed) == 0 && access(out, R_OK) == 0)
            return 0;
    int r = bt_err_set(err, ENOENT,
                       "cannot find berth's '%s' beside the binary or in "
                       "<prefix>/lib/berth",
                       name);
    bt_err_hint(err, "install berth with make install, which puts it there");
    return r;
}

int
eng_plugin_load(struct bt_err **err)
{
    if (api)
        return 0;
    char path[PATH_MAX + 32];
    void *h = NULL;
    const char *why = "not found";
    for (int installed = 0; installed < 2 && !h; installed++) {
        if (lib_path("berth-engine.so", path, sizeof path, installed) < 0 || access(path, R_OK) < 0)
            continue;
        /* RTLD_NOW: a missing symbol is an error here, not a crash later. */
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            why = dlerror();
    }
    if (!h) {
        int r = bt_err_set(err, ENOENT, "cannot load berth's engine (berth-engine.so): %s", why);
        bt_err_hint(err, "install berth-engine.so beside the berth binary (make install does)");
        return r;
    }
    const struct eng_plugin_api *a = dlsym(h, "eng_plugin_api");
    if (!a || a->abi != ENG_PLUGIN_ABI || strcmp(a->version, BERTH_VERSION) != 0) {
        dlclose(h);
        return bt_err_set(err, BT_EVERSION, "'%s' is from another build of berth", path);
    }
    bt_log_debug("loaded '%s'", path);
    api = a;
    return 0;
}

/* ---- wrappers that may load ---- */

int
eng_reg_new(struct event_base *base, const struct eng_reg_opts *opts, struct eng_reg **ret,
            struct bt_err **err)
{
    return eng_plugin_load(err) < 0 ? -1 : api->reg_new(base, opts, ret, err);
}

int
eng_cas_writer_new(struct eng_cas *cas, const char *expected, bool resume,
                   struct eng_cas_writer **ret, struct bt_err **err)
{
    return eng_plugin_load(err) < 0 ? -1 : api->writer_new(cas, expected, resume, ret, err);
}

int
eng_cas_layer_unpack(struct eng_cas *cas, const char *chain_id, const char *parent,
                     const char *blob, const char *diff_id, char ret_diff_id[ENG_DIGEST_LEN + 1],
                     struct bt_err **err)
{
    return eng_plugin_load(err) < 0
               ? -1
               : api->layer_unpack(cas, chain_id, parent, blob, diff_id, ret_diff_id, err);
}

int
eng_img_commit(struct eng_cas *cas, const char *manifest_digest, const char *source,
               json_t **ret_record, struct bt_err **err)
{
    return eng_plugin_load(err) < 0
               ? -1
               : api->img_commit(cas, manifest_digest, source, ret_record, err);
}

int
eng_img_import(struct eng_cas *cas, int fd, const char *const *changes, size_t nchanges,
               const char *message, json_t **ret_record, struct bt_err **err)
{
    return eng_plugin_load(err) < 0
               ? -1
               : api->img_import(cas, fd, changes, nchanges, message, ret_record, err);
}

int
eng_img_load(struct eng_cas *cas, int fd, json_t **ret_images, struct bt_err **err)
{
    return eng_plugin_load(err) < 0 ? -1 : api->img_load(cas, fd, ret_images, err);
}

int
eng_img_save(struct eng_cas *cas, const json_t *images, int out_fd, struct bt_err **err)
{
    return eng_plugin_load(err) < 0 ? -1 : api->img_save(cas, images, out_fd, err);
}

/* ---- wrappers of objects the plugin made ---- */

struct eng_reg *
eng_reg_free(struct eng_reg *r)
{
    return r ? api->reg_free(r) : NULL;
}

struct eng_reg_repo *
eng_reg_repo_new(struct eng_reg *r, const char *host, const char *path,
                 const struct eng_reg_auth *auth, bool push)
{
    BT_ASSERT(api);
    return api->reg_repo_new(r, host, path, auth, push);
}

struct eng_reg_repo *
eng_reg_repo_ref(struct eng_reg_repo *repo)
{
    return api->reg_repo_ref(repo);
}

void
eng_reg_repo_unref(struct eng_reg_repo *repo)
{
    if (repo)
        api->reg_repo_unref(repo);
}

struct eng_reg_req *
eng_reg_manifest_get(struct eng_reg_repo *repo, const char *reference, eng_reg_manifest_fn done,
                     void *ud)
{
    return api->reg_manifest_get(repo, reference, done, ud);
}

struct eng_reg_req *
eng_reg_blob_get(struct eng_reg_repo *repo, const char *digest, uint64_t offset,
                 eng_reg_sink_fn sink, eng_reg_done_fn done, void *ud)
{
    return api->reg_blob_get(repo, digest, offset, sink, done, ud);
}

struct eng_reg_req *
eng_reg_blob_exists(struct eng_reg_repo *repo, const char *digest, eng_reg_done_fn done, void *ud)
{
    return api->reg_blob_exists(repo, digest, done, ud);
}

struct eng_reg_req *
eng_reg_blob_put(struct eng_reg_repo *repo, const char *digest, int fd, uint64_t size,
                 const char *mount_from, uint64_t chunk_size, eng_reg_done_fn done, void *ud)
{
    return api->reg_blob_put(repo, digest, fd, size, mount_from, chunk_size, done, ud);
}

struct eng_reg_req *
eng_reg_manifest_put(struct eng_reg_repo *repo, const char *reference, const char *body, size_t len,
                     const char *media_type, eng_reg_done_fn done, void *ud)
{
    return api->reg_manifest_put(repo, reference, body, len, media_type, done, ud);
}

struct eng_reg_req *
eng_reg_check(struct eng_reg *r, const char *host, const struct eng_reg_auth *auth,
              eng_reg_done_fn done, void *ud)
{
    return api->reg_check(r, host, auth, done, ud);
}

void
eng_reg_req_cancel(struct eng_reg_req *req)
{
    if (req)
        api->reg_req_cancel(req);
}

int
eng_cas_writer_write(struct eng_cas_writer *w, const void *data, size_t len, struct bt_err **err)
{
    return api->writer_write(w, data, len, err);
}

uint64_t
eng_cas_writer_offset(const struct eng_cas_writer *w)
{
    return api->writer_offset(w);
}

int
eng_cas_writer_restart(struct eng_cas_writer *w, struct bt_err **err)
{
    return api->writer_restart(w, err);
}

int
eng_cas_writer_commit(struct eng_cas_writer *w, char ret_digest[ENG_DIGEST_LEN + 1],
                      struct bt_err **err)
{
    return api->writer_commit(w, ret_digest, err);
}

void
eng_cas_writer_abort(struct eng_cas_writer *w, bool keep_partial)
{
    if (w)
        api->writer_abort(w, keep_partial);
}
