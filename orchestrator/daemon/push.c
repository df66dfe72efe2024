/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image.push: every blob of the image (layers and config) the registry lacks, several at once,
 * mounted from another repository of the same registry when the image came from there, then
 * the manifest, byte for byte as stored, so the digest the registry reports is the one berth
 * knows.
 */
#define LOG_TAG "push"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"
#include "engine/image/registry.h"
#include "engine/image/store.h"
#include "orchestrator/daemon/daemon.h"

struct push;

struct push_blob {
    struct push *p;
    char *digest;
    int64_t size;
    int fd;
    struct eng_reg_req *rq;
};

struct push {
    struct orch_daemon *d;
    struct orch_req *req;
    unsigned refs;
    struct eng_img_ref ref;
    struct eng_reg_repo *repo;
    char *mount_from; /* a repository on the same registry the image came from, or NULL */
    struct push_blob *blobs;
    size_t nblobs, pending;
    char *manifest;
    size_t manifest_len;
    char *manifest_type;
    char *manifest_digest;
    struct bt_err *err;
};

static void
push_free(struct push *p)
{
    bt_autofree char *full = eng_img_ref_str(&p->ref);
    orch_req_done(p->req, BT_TAKE_PTR(p->err),
                  json_pack("{s:s, s:s, s:I}", "ref", full, "digest", p->manifest_digest, "size",
                            (json_int_t) p->manifest_len));
    for (size_t i = 0; i < p->nblobs; i++) {
        BT_CLOSE(p->blobs[i].fd);
        free(p->blobs[i].digest);
    }
    free(p->blobs);
    free(p->manifest);
    free(p->manifest_type);
    free(p->manifest_digest);
    free(p->mount_from);
    eng_img_ref_release(&p->ref);
    eng_reg_repo_unref(p->repo);
    free(p);
}

static void
push_unref(struct push *p)
{
    if (--p->refs == 0)
        push_free(p);
}

static void
push_fail(struct push *p, struct bt_err *err)
{
    if (p->err) {
        bt_err_free(err);
        return;
    }
    p->err = err;
    bt_autofree char *full = eng_img_ref_str(&p->ref);
    bt_err_wrap(&p->err, "push '%s'", full);
    for (size_t i = 0; i < p->nblobs; i++)
        if (p->blobs[i].rq)
            eng_reg_req_cancel(p->blobs[i].rq);
}

static void
progress(struct push *p, const char *digest, const char *status)
{
    char id[13];
    snprintf(id, sizeof id, "%.12s", digest && strlen(digest) > 7 ? digest + 7 : "");
    orch_req_progress(p->req, json_pack("{s:s, s:s}", "id", id, "status", status));
}

static void
on_manifest_put(void *ud, int r, struct bt_err *err)
{
    struct push *p = ud;
    if (r < 0)
        push_fail(p, err);
    push_unref(p);
}

static void
blob_finished(struct push *p)
{
    if (--p->pending > 0 || p->err)
        return;
    const char *reference = p->ref.tag ? p->ref.tag : "latest";
    p->refs++;
    if (!eng_reg_manifest_put(p->repo, reference, p->manifest, p->manifest_len, p->manifest_type,
                              on_manifest_put, p)) {
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, EIO, "cannot start the manifest upload");
        push_fail(p, err);
        push_unref(p);
    }
}

static void
on_blob_put(void *ud, int r, struct bt_err *err)
{
    struct push_blob *b = ud;
    struct push *p = b->p;
    b->rq = NULL;
    if (r < 0)
        push_fail(p, err);
    else
        progress(p, b->digest, "Pushed");
    blob_finished(p);
    push_unref(p);
}

static void
on_blob_exists(void *ud, int r, struct bt_err *err)
{
    struct push_blob *b = ud;
    struct push *p = b->p;
    b->rq = NULL;
    if (r < 0) {
        push_fail(p, err);
    } else if (r == 1) {
        progress(p, b->digest, "Layer already exists");
    } else if (!p->err) {
        progress(p, b->digest, "Pushing");
        p->refs++;
        p->pending++;
        b->rq = eng_reg_blob_put(p->repo, b->digest, b->fd, (uint64_t) b->size, p->mount_from, 0,
                                 on_blob_put, b);
        if (!b->rq) {
            p->pending--;
            (void) bt_err_set(&err, EIO, "cannot start the upload of '%s'", b->digest);
            push_fail(p, err);
            push_unref(p);
        }
    }
    blob_finished(p);
    push_unref(p);
}

/* The blobs of the record (layers, then config), each opened for reading now. */
static int
collect_blobs(struct push *p, const json_t *rec, struct bt_err **err)
{
    json_t *layers = json_object_get(rec, "layers");
    size_t n = json_array_size(layers) + 1;
    p->blobs = bt_xcalloc(n, sizeof *p->blobs);
    for (size_t i = 0; i < n; i++) {
        const json_t *desc = i + 1 < n ? json_array_get(layers, i) : json_object_get(rec, "config");
        const char *digest = json_string_value(json_object_get(desc, "digest"));
        struct push_blob *b = &p->blobs[p->nblobs++];
        b->p = p;
        b->fd = -1;
        b->digest = bt_xstrdup(digest ? digest : "");
        b->size = eng_cas_blob_size(p->d->cas, digest);
        if (b->size < 0 || (b->fd = eng_cas_blob_open(p->d->cas, digest, err)) < 0) {
            int r =
                bt_err_set(err, ENOENT, "blob '%s' of the image is not in the store", b->digest);
            bt_err_hint(err, "pull the image again, then push");
            return r;
        }
    }
    return 0;
}

/* A repository of the same registry the image was pulled from: blobs can be mounted. */
static char *
mount_source(const struct eng_img_ref *target, const json_t *rec)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(rec, "repo_digests"), i, v) {
        struct eng_img_ref r;
        if (eng_img_ref_parse(json_string_value(v), &r, NULL) < 0)
            continue;
        char *path = NULL;
        if (strcmp(r.domain, target->domain) == 0 && strcmp(r.path, target->path) != 0)
            path = bt_xstrdup(r.path);
        eng_img_ref_release(&r);
        if (path)
            return path;
    }
    return NULL;
}

static int
op_image_push(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    const char *name = json_string_value(json_object_get(req->args, "ref"));
    json_t *auth = json_object_get(req->args, "auth");
    if (!name)
        return bt_err_set(err, BT_EUSAGE, "argument 'ref' is missing");
    const json_t *rec = eng_img_store_find(req->d->images, name, err);
    struct eng_reg *reg = NULL;
    if (!rec || orch_daemon_registry(req->d, &reg, err) < 0)
        return -1;
    struct push *p = bt_xcalloc(1, sizeof *p);
    p->d = req->d;
    if (eng_img_ref_parse(name, &p->ref, err) < 0) {
        free(p);
        return -1;
    }
    const json_t *man = json_object_get(rec, "manifest");
    const char *mdigest = json_string_value(json_object_get(man, "digest"));
    const char *mtype = json_string_value(json_object_get(man, "mediaType"));
    p->manifest_digest = bt_xstrdup(mdigest ? mdigest : "");
    p->manifest_type = bt_xstrdup(mtype ? mtype : ENG_MT_OCI_MANIFEST);
    p->req = orch_req_defer(req);
    p->refs = 1;
    if (eng_cas_blob_read(req->d->cas, mdigest, ENG_IMG_MAX_JSON, &p->manifest, &p->manifest_len,
                          err) < 0 ||
        collect_blobs(p, rec, err) < 0) {
        orch_req_drop(BT_TAKE_PTR(p->req));
        p->req = NULL;
        /* Freed without a reply: dispatch sends the error. */
        for (size_t i = 0; i < p->nblobs; i++) {
            BT_CLOSE(p->blobs[i].fd);
            free(p->blobs[i].digest);
        }
        free(p->blobs);
        free(p->manifest);
        free(p->manifest_type);
        free(p->manifest_digest);
        eng_img_ref_release(&p->ref);
        free(p);
        return -1;
    }
    struct eng_reg_auth a = {
        .username = json_string_value(json_object_get(auth, "username")),
        .password = json_string_value(json_object_get(auth, "password")),
        .identity_token = json_string_value(json_object_get(auth, "identitytoken")),
    };
    p->repo = eng_reg_repo_new(reg, eng_img_ref_registry_host(&p->ref), p->ref.path,
                               auth ? &a : NULL, true);
    p->mount_from = mount_source(&p->ref, rec);
    /* One pending count per blob, released when its HEAD (and upload) is done. */
    p->pending = p->nblobs;
    for (size_t i = 0; i < p->nblobs; i++) {
        struct push_blob *b = &p->blobs[i];
        progress(p, b->digest, "Preparing");
        p->refs++;
        b->rq = eng_reg_blob_exists(p->repo, b->digest, on_blob_exists, b);
        if (!b->rq) {
            struct bt_err *e = NULL;
            (void) bt_err_set(&e, EIO, "cannot start the request for '%s'", b->digest);
            push_fail(p, e);
            p->refs--;
            p->pending--;
        }
    }
    push_unref(p);
    return ORCH_OP_PENDING;
}

const struct orch_op orch_push_ops[] = {
    { "image.push", op_image_push },
};
const size_t orch_npush_ops = BT_ARRAY_SIZE(orch_push_ops);
