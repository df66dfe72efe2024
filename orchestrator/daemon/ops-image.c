/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image operations: list, inspect, tag, rm, prune, and the ones that run a worker (import,
 * load, save). The store's records change only here, on the loop; workers add blobs and layers
 * to the content store and hand back records, which are added when they finish.
 */
#define LOG_TAG "images"

#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/ref.h"
#include "engine/image/store.h"
#include "orchestrator/daemon/containers.h"
#include "orchestrator/daemon/daemon.h"

int
orch_images_open(struct orch_daemon *d, struct bt_err **err)
{
    bt_autofree char *dir = bt_xasprintf("%s/images", d->paths.root);
    if (eng_cas_open(dir, &d->cas, err) < 0)
        return -1;
    eng_cas_recover(d->cas);
    return eng_img_store_open(d->cas, &d->images, err);
}

void
orch_images_close(struct orch_daemon *d)
{
    d->images = eng_img_store_free(d->images);
    d->cas = eng_cas_free(d->cas);
}

/* rm and prune keep what a container (running or not) was made from. */
static bool
image_in_use(void *ud, const char *id)
{
    return orch_containers_use_image(ud, id);
}

static int
bad_arg(struct bt_err **err, const char *name)
{
    return bt_err_set(err, BT_EUSAGE, "argument '%s' is missing or has the wrong type", name);
}

static int
op_image_list(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) err;
    json_t *all = eng_img_store_list(req->d->images);
    json_t *out = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(all, i, rec) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        json_array_append_new(
            out,
            json_pack("{s:s, s:o, s:O, s:O, s:O, s:O, s:O}", "id", id, "refs",
                      eng_img_store_refs_of(req->d->images, id), "created",
                      json_object_get(rec, "created") ? json_object_get(rec, "created")
                                                      : json_null(),
                      "added", json_object_get(rec, "added"), "size", json_object_get(rec, "size"),
                      "platform", json_object_get(rec, "platform"), "repo_digests",
                      json_object_get(rec, "repo_digests")));
    }
    json_decref(all);
    *ret = json_pack("{s:o}", "images", out);
    return 0;
}

static int
op_image_inspect(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    json_t *names = json_object_get(req->args, "names");
    if (!json_is_array(names))
        return bad_arg(err, "names");
    json_t *out = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) {
        const json_t *rec = eng_img_store_find(req->d->images, json_string_value(n), err);
        json_t *j = NULL;
        if (!rec || eng_img_store_inspect(req->d->images, rec, &j, err) < 0) {
            json_decref(out);
            return -1;
        }
        json_array_append_new(out, j);
    }
    *ret = json_pack("{s:o}", "images", out);
    return 0;
}

static int
op_image_tag(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    const char *src = json_string_value(json_object_get(req->args, "source"));
    const char *dst = json_string_value(json_object_get(req->args, "target"));
    if (!src || !dst)
        return bad_arg(err, src ? "target" : "source");
    if (eng_img_store_tag(req->d->images, src, dst, err) < 0)
        return -1;
    *ret = json_object();
    return 0;
}

static void
gc_done(void *ud, int r, json_t *result, struct bt_err *err)
{
    (void) ud;
    if (r < 0)
        bt_log_warn("emptying the layer trash failed: %s, continuing", err ? err->msg : "");
    json_decref(result);
    bt_err_free(err);
}

/* Removed layers were renamed away at once; their space comes back in a worker. */
static void
collect_trash(struct orch_daemon *d)
{
    if (!eng_cas_has_trash(d->cas))
        return;
    static const struct orch_worker_cbs cbs = { NULL, gc_done };
    const char *args[] = { "gc", eng_cas_dir(d->cas), NULL };
    bt_autoerr struct bt_err *err = NULL;
    if (orch_worker_run(d, args, -1, -1, &cbs, NULL, &err) < 0)
        bt_log_warn("cannot empty the layer trash: %s, continuing", err->msg);
}

/* Blobs and layers no image names any more (a replaced record's, an index's other platforms,
 * a failed load's); not while a pull or a worker adds some without a record yet. */
void
orch_images_sweep(struct orch_daemon *d)
{
    if (d->busy > 0)
        return;
    int n = eng_img_store_sweep(d->images);
    if (n > 0)
        bt_log_debug("%d unnamed blobs and layers removed", n);
    collect_trash(d);
}

/* Docker's hard conflict: -f never deletes the image of a running container (untagging one of
 * several names is still fine). */
static int
running_conflict(struct orch_daemon *d, const char *name, struct bt_err **err)
{
    const json_t *rec = name ? eng_img_store_find(d->images, name, NULL) : NULL;
    const char *id = json_string_value(json_object_get(rec, "id"));
    if (!id || !orch_containers_run_image(d, id))
        return 0;
    json_t *refs = eng_img_store_refs_of(d->images, id);
    bool last_name = json_array_size(refs) <= 1;
    bool by_name = false;
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        struct eng_img_ref parsed;
        if (eng_img_ref_parse(name, &parsed, NULL) == 0) {
            bt_autofree char *full = eng_img_ref_str(&parsed);
            by_name |= bt_streq(full, json_string_value(ref));
            eng_img_ref_release(&parsed);
        }
    }
    json_decref(refs);
    if (by_name && !last_name)
        return 0;
    int r = bt_err_set(err, BT_ECONFLICT,
                       "image '%s' is used by a running container (cannot be forced)", name);
    bt_err_hint(err, "stop and remove the container first");
    return r;
}

static int
op_image_rm(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    json_t *names = json_object_get(req->args, "names");
    bool force = json_is_true(json_object_get(req->args, "force"));
    if (!json_is_array(names))
        return bad_arg(err, "names");
    json_t *report = json_array();
    size_t i;
    json_t *n;
    int r = 0;
    json_array_foreach(names, i, n) {
        json_t *one = NULL;
        if (force && (r = running_conflict(req->d, json_string_value(n), err)) < 0)
            break;
        r = eng_img_store_remove(req->d->images, json_string_value(n), force, image_in_use, req->d,
                                 &one, err);
        if (r < 0)
            break;
        json_array_extend(report, one);
        json_decref(one);
    }
    orch_images_sweep(req->d);
    if (r < 0) {
        json_decref(report);
        return r;
    }
    *ret = json_pack("{s:o}", "report", report);
    return 0;
}

static int
op_image_prune(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    bool all = json_is_true(json_object_get(req->args, "all"));
    json_t *report = NULL;
    int r = eng_img_store_prune(req->d->images, all, image_in_use, req->d, &report, err);
    orch_images_sweep(req->d);
    if (r < 0)
        return r;
    *ret = json_pack("{s:o}", "report", report);
    return 0;
}

/* ---- operations that run a worker ---- */

static void
progress_forward(void *ud, json_t *data)
{
    orch_req_progress(ud, json_incref(data));
}

/* Add each {"record", "refs"} of images; the reply lists what was loaded. */
static int
add_images(struct orch_daemon *d, json_t *images, json_t **ret, struct bt_err **err)
{
    json_t *loaded = json_array();
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        json_t *rec = json_object_get(img, "record");
        json_t *refs = json_object_get(img, "refs");
        size_t nrefs = json_array_size(refs);
        bt_autofree const char **names = bt_xcalloc(nrefs + 1, sizeof *names);
        for (size_t k = 0; k < nrefs; k++)
            names[k] = json_string_value(json_array_get(refs, k));
        const char *id = json_string_value(json_object_get(rec, "id"));
        json_t *entry = json_pack("{s:s?, s:O}", "id", id, "refs", refs);
        if (eng_img_store_add(d->images, json_incref(rec), names, nrefs, err) < 0) {
            json_decref(entry);
            json_decref(loaded);
            return -1;
        }
        json_array_append_new(loaded, entry);
    }
    *ret = json_pack("{s:o}", "images", loaded);
    return 0;
}

static void
images_done(void *ud, int r, json_t *result, struct bt_err *err)
{
    struct orch_req *req = ud;
    json_t *reply = NULL;
    if (r == 0) {
        json_t *images = json_object_get(result, "images");
        json_t *one = json_object_get(result, "record");
        json_t *list = images ? json_incref(images) : json_array();
        if (one) {
            const char *ref = json_string_value(json_object_get(req->args, "ref"));
            json_array_append_new(list, json_pack("{s:O, s:[s*]}", "record", one, "refs", ref));
        }
        r = add_images(req->d, list, &reply, &err);
        json_decref(list);
    }
    json_decref(result);
    orch_req_finish(req, r, reply, err);
}

static int
start_worker(struct orch_req *req, const char *const *args, int in_fd, int out_fd,
             struct bt_err **err)
{
    struct orch_req *later = orch_req_defer(req);
    static const struct orch_worker_cbs cbs = { progress_forward, images_done };
    if (orch_worker_run(req->d, args, in_fd, out_fd, &cbs, later, err) < 0) {
        /* Dispatch replies with the error; the deferred copy goes quietly. */
        orch_req_drop(later);
        return -1;
    }
    return ORCH_OP_PENDING;
}

static int
op_image_load(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    if (req->nfds < 1)
        return bt_err_set(err, BT_EUSAGE, "image.load needs the archive as a descriptor");
    const char *args[] = { "load", eng_cas_dir(req->d->cas), NULL };
    return start_worker(req, args, req->fds[0], -1, err);
}

static int
op_image_import(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    if (req->nfds < 1)
        return bt_err_set(err, BT_EUSAGE, "image.import needs the tar as a descriptor");
    const char *ref = json_string_value(json_object_get(req->args, "ref"));
    struct eng_img_ref parsed;
    if (ref) {
        if (eng_img_ref_parse(ref, &parsed, err) < 0)
            return -1;
        eng_img_ref_release(&parsed);
    }
    json_t *changes = json_object_get(req->args, "changes");
    const char *message = json_string_value(json_object_get(req->args, "message"));
    size_t n = json_array_size(changes);
    bt_autofree const char **args = bt_xcalloc(n + 5, sizeof *args);
    args[0] = "import";
    args[1] = eng_cas_dir(req->d->cas);
    args[2] = message ? message : "";
    for (size_t i = 0; i < n; i++) {
        args[3 + i] = json_string_value(json_array_get(changes, i));
        if (!args[3 + i])
            return bad_arg(err, "changes");
    }
    return start_worker(req, args, req->fds[0], -1, err);
}

static int
op_image_save(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    json_t *names = json_object_get(req->args, "names");
    if (req->nfds < 1)
        return bt_err_set(err, BT_EUSAGE, "image.save needs the output as a descriptor");
    if (!json_is_array(names) || json_array_size(names) == 0)
        return bad_arg(err, "names");
    json_t *images = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) {
        const char *name = json_string_value(n);
        const json_t *rec = eng_img_store_find(req->d->images, name, err);
        if (!rec) {
            json_decref(images);
            return -1;
        }
        /* A name saves that name; an id saves every name of the image. */
        json_t *refs =
            eng_img_store_refs_of(req->d->images, json_string_value(json_object_get(rec, "id")));
        struct eng_img_ref pr;
        if (eng_img_ref_parse(name, &pr, NULL) == 0) {
            bt_autofree char *full = eng_img_ref_str(&pr);
            size_t k;
            json_t *v;
            bool named = false;
            json_array_foreach(refs, k, v) {
                named |= bt_streq(json_string_value(v), full);
            }
            if (named) {
                json_decref(refs);
                refs = json_pack("[s]", full);
            }
            eng_img_ref_release(&pr);
        }
        json_array_append_new(images, json_pack("{s:O, s:o}", "record", rec, "refs", refs));
    }
    bt_autofree char *list = json_dumps(images, JSON_COMPACT);
    json_decref(images);
    const char *args[] = { "save", eng_cas_dir(req->d->cas), list, NULL };
    return start_worker(req, args, -1, req->fds[0], err);
}

const struct orch_op orch_image_ops[] = {
    { "image.import", op_image_import }, { "image.inspect", op_image_inspect },
    { "image.list", op_image_list },     { "image.load", op_image_load },
    { "image.prune", op_image_prune },   { "image.rm", op_image_rm },
    { "image.save", op_image_save },     { "image.tag", op_image_tag },
};
const size_t orch_nimage_ops = BT_ARRAY_SIZE(orch_image_ops);
