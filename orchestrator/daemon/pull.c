/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image.pull: the manifest (and the index, resolved to one platform), the config, then every
 * layer at once over the registry client on the loop, each verified while it streams into the
 * content store and unpacked in a worker as soon as it is complete, while the others still
 * download. Blobs and layers already there are not fetched again; a partial blob left by an
 * interrupted pull is resumed from where it stopped. The record is added last, so a pull that
 * fails or is killed never leaves an image that looks complete.
 *
 * Lifetime: every request or worker in flight holds a reference on the pull; the reply goes
 * when the last one is released.
 */
#define LOG_TAG "pull"

#include <string.h>
#include <time.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/sha256.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"
#include "engine/image/registry.h"
#include "engine/image/store.h"
#include "orchestrator/daemon/daemon.h"

#define MAX_UNPACKS 2
#define PROGRESS_EVERY_MS 200

enum layer_state { LAYER_WAIT, LAYER_DOWNLOADING, LAYER_READY, LAYER_UNPACKING, LAYER_DONE };

struct pull_layer {
    struct pull *p;
    size_t index;
    enum layer_state state;
    struct eng_cas_writer *w;
    struct eng_reg_req *rq;
    int64_t last_ms;
};

struct pull {
    struct orch_daemon *d;
    struct orch_req *req;
    unsigned refs;
    struct eng_img_ref ref;
    struct eng_reg_repo *repo;
    struct eng_img_platform want;
    char top_digest[ENG_DIGEST_LEN + 1];
    char manifest_digest[ENG_DIGEST_LEN + 1];
    const char *expect; /* the digest the next manifest must have, or NULL */
    char expect_buf[ENG_DIGEST_LEN + 1];
    struct eng_img_manifest man;
    struct eng_img_config cfg;
    char **chains;
    struct pull_layer *layers;
    struct eng_cas_writer *cfg_w;
    struct eng_reg_req *cfg_rq, *man_rq;
    size_t unpacking;
    struct bt_err *err; /* the first failure */
    bool committed;
    bool fetched; /* a blob was downloaded: "Downloaded newer image", else "up to date" */
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct pull *
pull_ref(struct pull *p)
{
    p->refs++;
    return p;
}

static void pull_unref(struct pull *p);

static void
pull_free(struct pull *p)
{
    bt_autofree char *full = eng_img_ref_str(&p->ref);
    orch_req_done(p->req, BT_TAKE_PTR(p->err),
                  json_pack("{s:s, s:s, s:s?, s:b}", "ref", full, "digest", p->top_digest, "id",
                            p->man.config.digest, "downloaded", p->fetched));
    p->d->busy--;
    for (size_t i = 0; p->layers && i < p->man.nlayers; i++)
        eng_cas_writer_abort(p->layers[i].w, true);
    eng_cas_writer_abort(p->cfg_w, true);
    if (p->chains)
        for (size_t i = 0; i < p->cfg.ndiff_ids; i++)
            free(p->chains[i]);
    free(p->chains);
    free(p->layers);
    eng_img_manifest_release(&p->man);
    eng_img_config_release(&p->cfg);
    eng_img_platform_release(&p->want);
    eng_img_ref_release(&p->ref);
    eng_reg_repo_unref(p->repo);
    free(p);
}

static void
pull_unref(struct pull *p)
{
    BT_ASSERT(p->refs > 0);
    if (--p->refs == 0)
        pull_free(p);
}

static void
progress(struct pull *p, const char *id, const char *status, int64_t current, int64_t total)
{
    json_t *m = json_pack("{s:s, s:s}", "id", id, "status", status);
    if (total > 0) {
        json_object_set_new(m, "current", json_integer(current));
        json_object_set_new(m, "total", json_integer(total));
    }
    orch_req_progress(p->req, m);
}

/* "a1b2c3d4e5f6": the short form of a digest progress lines use, as docker pull's. */
static const char *
short_id(const char *digest, char out[13])
{
    snprintf(out, 13, "%.12s", digest && strlen(digest) > 7 ? digest + 7 : "?");
    return out;
}

/* Record the first failure and stop everything still in flight. */
static void
pull_fail(struct pull *p, struct bt_err *err)
{
    if (!p->err) {
        p->err = err;
        bt_err_wrap(&p->err, "pull '%s'", p->ref.path);
    } else {
        bt_err_free(err);
    }
    if (p->man_rq)
        eng_reg_req_cancel(p->man_rq);
    if (p->cfg_rq)
        eng_reg_req_cancel(p->cfg_rq);
    for (size_t i = 0; p->layers && i < p->man.nlayers; i++)
        if (p->layers[i].rq)
            eng_reg_req_cancel(p->layers[i].rq);
}

static void fetch_manifest(struct pull *p, const char *reference);
static void start_layers(struct pull *p);
static void schedule_unpacks(struct pull *p);

/* ---- the record ---- */

static void
on_committed(void *ud, int r, json_t *result, struct bt_err *err)
{
    struct pull *p = ud;
    if (r < 0) {
        pull_fail(p, err);
        json_decref(result);
        pull_unref(p);
        return;
    }
    json_t *rec = json_incref(json_object_get(result, "record"));
    json_decref(result);
    bt_autofree char *repo = eng_img_ref_repo(&p->ref);
    json_object_set_new(rec, "repo_digests", json_pack("[s+++]", repo, "@", p->top_digest, ""));
    bt_autofree char *full = NULL;
    const char *refs[1];
    size_t nrefs = 0;
    if (p->ref.tag) {
        struct eng_img_ref tagged = p->ref;
        tagged.digest = NULL; /* the name is the tag; the digest is in repo_digests */
        full = eng_img_ref_str(&tagged);
        refs[nrefs++] = full;
    }
    struct bt_err *add_err = NULL;
    if (eng_img_store_add(p->d->images, rec, refs, nrefs, &add_err) < 0)
        pull_fail(p, add_err);
    else
        progress(p, "", "Pull complete", 0, 0);
    pull_unref(p);
}

static void
maybe_commit(struct pull *p)
{
    if (p->err || p->committed)
        return;
    for (size_t i = 0; i < p->man.nlayers; i++)
        if (p->layers[i].state != LAYER_DONE)
            return;
    p->committed = true;
    static const struct orch_worker_cbs cbs = { NULL, on_committed };
    const char *args[] = { "commit", eng_cas_dir(p->d->cas), p->manifest_digest, "pull", NULL };
    struct bt_err *err = NULL;
    if (orch_worker_run(p->d, args, -1, -1, &cbs, pull_ref(p), &err) < 0) {
        pull_fail(p, err);
        pull_unref(p);
    }
}

/* ---- layers ---- */

static void
on_unpacked(void *ud, int r, json_t *result, struct bt_err *err)
{
    struct pull_layer *l = ud;
    struct pull *p = l->p;
    json_decref(result);
    p->unpacking--;
    char sid[13];
    if (r < 0) {
        pull_fail(p, err);
    } else {
        l->state = LAYER_DONE;
        progress(p, short_id(p->man.layers[l->index].digest, sid), "Extracted", 0, 0);
        schedule_unpacks(p);
        maybe_commit(p);
    }
    pull_unref(p);
}

static void
schedule_unpacks(struct pull *p)
{
    for (size_t i = 0; i < p->man.nlayers && p->unpacking < MAX_UNPACKS && !p->err; i++) {
        struct pull_layer *l = &p->layers[i];
        if (l->state != LAYER_READY)
            continue;
        char sid[13];
        progress(p, short_id(p->man.layers[i].digest, sid), "Extracting", 0, 0);
        static const struct orch_worker_cbs cbs = { NULL, on_unpacked };
        const char *args[] = { "unpack",
                               eng_cas_dir(p->d->cas),
                               p->chains[i],
                               i ? p->chains[i - 1] : "-",
                               p->man.layers[i].digest,
                               p->cfg.diff_ids[i],
                               NULL };
        struct bt_err *err = NULL;
        pull_ref(p);
        if (orch_worker_run(p->d, args, -1, -1, &cbs, l, &err) < 0) {
            pull_fail(p, err);
            pull_unref(p);
            return;
        }
        l->state = LAYER_UNPACKING;
        p->unpacking++;
    }
}

static int
layer_sink(void *ud, const void *data, size_t len, struct bt_err **sink_err)
{
    struct pull_layer *l = ud;
    if (eng_cas_writer_write(l->w, data, len, sink_err) < 0)
        return -1;
    int64_t t = now_ms();
    if (t - l->last_ms >= PROGRESS_EVERY_MS) {
        l->last_ms = t;
        char sid[13];
        const struct eng_img_descriptor *desc = &l->p->man.layers[l->index];
        progress(l->p, short_id(desc->digest, sid), "Downloading",
                 (int64_t) eng_cas_writer_offset(l->w), desc->size);
    }
    return 0;
}

static void
on_layer_done(void *ud, int r, struct bt_err *err)
{
    struct pull_layer *l = ud;
    struct pull *p = l->p;
    l->rq = NULL;
    struct eng_cas_writer *w = BT_TAKE_PTR(l->w);
    if (r < 0) {
        /* Keep what arrived: the next pull resumes there. */
        eng_cas_writer_abort(w, true);
        pull_fail(p, err);
    } else if (eng_cas_writer_commit(w, NULL, &err) < 0) {
        pull_fail(p, err);
    } else {
        char sid[13];
        progress(p, short_id(p->man.layers[l->index].digest, sid), "Download complete", 0, 0);
        l->state = eng_cas_layer_has(p->d->cas, p->chains[l->index]) ? LAYER_DONE : LAYER_READY;
        schedule_unpacks(p);
        maybe_commit(p);
    }
    pull_unref(p);
}

static void
start_layers(struct pull *p)
{
    p->chains = eng_img_chain_ids(p->cfg.diff_ids, p->cfg.ndiff_ids);
    p->layers = bt_xcalloc(p->man.nlayers ? p->man.nlayers : 1, sizeof *p->layers);
    for (size_t i = 0; i < p->man.nlayers && !p->err; i++) {
        struct pull_layer *l = &p->layers[i];
        const struct eng_img_descriptor *desc = &p->man.layers[i];
        l->p = p;
        l->index = i;
        char sid[13];
        short_id(desc->digest, sid);
        bool have_blob = eng_cas_blob_has(p->d->cas, desc->digest);
        if (eng_cas_layer_has(p->d->cas, p->chains[i]) && have_blob) {
            l->state = LAYER_DONE;
            progress(p, sid, "Already exists", 0, 0);
            continue;
        }
        if (have_blob) {
            l->state = LAYER_READY;
            continue;
        }
        /* Without the blob (the layer came in another compression, say) it is fetched all
         * the same: the record names it, and push and save need it. */
        p->fetched = true;
        struct bt_err *err = NULL;
        if (eng_cas_writer_new(p->d->cas, desc->digest, true, &l->w, &err) < 0) {
            pull_fail(p, err);
            break;
        }
        uint64_t off = eng_cas_writer_offset(l->w);
        if (off > 0)
            bt_log_debug("layer %s: resuming at byte %llu", desc->digest, (unsigned long long) off);
        progress(p, sid, off ? "Resuming" : "Waiting", (int64_t) off, desc->size);
        l->state = LAYER_DOWNLOADING;
        /* The layer is the callbacks' argument; the reference it holds is the pull's. */
        pull_ref(p);
        l->rq = eng_reg_blob_get(p->repo, desc->digest, off, layer_sink, on_layer_done, l);
        if (!l->rq) {
            pull_unref(p);
            (void) bt_err_set(&err, EIO, "cannot start the download of '%s'", desc->digest);
            pull_fail(p, err);
        }
    }
    schedule_unpacks(p);
    maybe_commit(p);
}

/* ---- config ---- */

static void
config_ready(struct pull *p)
{
    bt_autofree char *text = NULL;
    size_t len;
    struct bt_err *err = NULL;
    if (eng_cas_blob_read(p->d->cas, p->man.config.digest, ENG_IMG_MAX_JSON, &text, &len, &err) <
            0 ||
        eng_img_config_parse(text, len, &p->cfg, &err) < 0) {
        pull_fail(p, err);
        return;
    }
    if (p->cfg.ndiff_ids != p->man.nlayers) {
        (void) bt_err_set(&err, BT_EINVALID,
                          "the manifest has %zu layers but the image config %zu diff ids",
                          p->man.nlayers, p->cfg.ndiff_ids);
        pull_fail(p, err);
        return;
    }
    start_layers(p);
}

static int
config_sink(void *ud, const void *data, size_t len, struct bt_err **sink_err)
{
    struct pull *p = ud;
    if (eng_cas_writer_offset(p->cfg_w) + len > ENG_IMG_MAX_JSON)
        return bt_err_set(sink_err, BT_ETOOBIG, "the image config is over %u bytes",
                          ENG_IMG_MAX_JSON);
    return eng_cas_writer_write(p->cfg_w, data, len, sink_err);
}

static void
on_config_done(void *ud, int r, struct bt_err *err)
{
    struct pull *p = ud;
    p->cfg_rq = NULL;
    struct eng_cas_writer *w = BT_TAKE_PTR(p->cfg_w);
    if (r < 0) {
        eng_cas_writer_abort(w, false);
        pull_fail(p, err);
    } else if (eng_cas_writer_commit(w, NULL, &err) < 0) {
        pull_fail(p, err);
    } else {
        config_ready(p);
    }
    pull_unref(p);
}

static void
fetch_config(struct pull *p)
{
    if (eng_cas_blob_has(p->d->cas, p->man.config.digest)) {
        config_ready(p);
        return;
    }
    struct bt_err *err = NULL;
    p->fetched = true;
    if (eng_cas_writer_new(p->d->cas, p->man.config.digest, false, &p->cfg_w, &err) < 0) {
        pull_fail(p, err);
        return;
    }
    p->cfg_rq = eng_reg_blob_get(p->repo, p->man.config.digest, 0, config_sink, on_config_done,
                                 pull_ref(p));
    if (!p->cfg_rq) {
        pull_unref(p);
        (void) bt_err_set(&err, EIO, "cannot start the download of the image config");
        pull_fail(p, err);
    }
}

/* ---- manifests ---- */

static void
on_manifest(void *ud, int r, const char *body, size_t len, const char *content_type,
            const char *server_digest, struct bt_err *err)
{
    struct pull *p = ud;
    (void) server_digest;
    p->man_rq = NULL;
    if (r < 0) {
        pull_fail(p, err);
        pull_unref(p);
        return;
    }
    char digest[ENG_DIGEST_LEN + 1];
    struct eng_img_manifest m = { 0 };
    err = NULL;
    if (eng_cas_blob_put(p->d->cas, body, len, digest, &err) < 0)
        goto fail;
    if (p->expect && strcmp(p->expect, digest) != 0) {
        (void) bt_err_set(&err, BT_EINVALID,
                          "the registry sent a manifest with digest '%s' for '%s'", digest,
                          p->expect);
        (void) eng_cas_blob_remove(p->d->cas, digest, NULL);
        goto fail;
    }
    if (!p->top_digest[0])
        snprintf(p->top_digest, sizeof p->top_digest, "%s", digest);
    if (eng_img_manifest_parse(body, len, content_type, &m, &err) < 0)
        goto fail;
    if (m.kind == ENG_IMG_INDEX) {
        size_t pick;
        if (eng_img_index_select(&m, &p->want, &pick, &err) < 0)
            goto fail;
        snprintf(p->expect_buf, sizeof p->expect_buf, "%s", m.manifests[pick].digest);
        p->expect = p->expect_buf;
        eng_img_manifest_release(&m);
        fetch_manifest(p, p->expect_buf);
        pull_unref(p);
        return;
    }
    snprintf(p->manifest_digest, sizeof p->manifest_digest, "%s", digest);
    p->man = m;
    {
        char sid[13];
        progress(p, short_id(p->top_digest, sid), "Pulling fs layers", 0, 0);
    }
    fetch_config(p);
    pull_unref(p);
    return;
fail:
    eng_img_manifest_release(&m);
    pull_fail(p, err);
    pull_unref(p);
}

static void
fetch_manifest(struct pull *p, const char *reference)
{
    p->man_rq = eng_reg_manifest_get(p->repo, reference, on_manifest, pull_ref(p));
    if (!p->man_rq) {
        pull_unref(p);
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, EIO, "cannot start the manifest request");
        pull_fail(p, err);
    }
}

static int
op_image_pull(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    const char *name = json_string_value(json_object_get(req->args, "ref"));
    const char *platform = json_string_value(json_object_get(req->args, "platform"));
    json_t *auth = json_object_get(req->args, "auth");
    if (!name)
        return bt_err_set(err, BT_EUSAGE, "argument 'ref' is missing");
    struct eng_reg *reg = NULL;
    if (orch_daemon_registry(req->d, &reg, err) < 0)
        return -1;
    struct pull *p = bt_xcalloc(1, sizeof *p);
    p->d = req->d;
    if (eng_img_ref_parse(name, &p->ref, err) < 0) {
        free(p);
        return -1;
    }
    if (platform ? eng_img_platform_parse(platform, &p->want, err) < 0
                 : (eng_img_platform_host(&p->want), 0)) {
        eng_img_ref_release(&p->ref);
        free(p);
        return -1;
    }
    struct eng_reg_auth a = {
        .username = json_string_value(json_object_get(auth, "username")),
        .password = json_string_value(json_object_get(auth, "password")),
        .identity_token = json_string_value(json_object_get(auth, "identitytoken")),
    };
    bt_autofree char *full = eng_img_ref_str(&p->ref);
    bt_log_info("pulling '%s'", full);
    p->repo = eng_reg_repo_new(reg, eng_img_ref_registry_host(&p->ref), p->ref.path,
                               auth ? &a : NULL, false);
    p->req = orch_req_defer(req);
    p->refs = 1; /* the op's own, dropped below */
    req->d->busy++;
    if (p->ref.digest) {
        snprintf(p->expect_buf, sizeof p->expect_buf, "%s", p->ref.digest);
        p->expect = p->expect_buf;
    }
    fetch_manifest(p, p->ref.digest ? p->ref.digest : p->ref.tag);
    pull_unref(p);
    return ORCH_OP_PENDING;
}

static void
on_login_checked(void *ud, int r, struct bt_err *err)
{
    orch_req_finish(ud, r, r < 0 ? NULL : json_object(), err);
}

/* `berth login`: the credentials are checked against the registry; the CLI stores them. */
static int
op_registry_login(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret;
    const char *host = json_string_value(json_object_get(req->args, "host"));
    json_t *auth = json_object_get(req->args, "auth");
    struct eng_reg_auth a = {
        .username = json_string_value(json_object_get(auth, "username")),
        .password = json_string_value(json_object_get(auth, "password")),
    };
    if (!host || !a.username || !a.password)
        return bt_err_set(err, BT_EUSAGE, "registry.login needs 'host' and 'auth'");
    if (strcmp(host, "docker.io") == 0)
        host = "registry-1.docker.io";
    struct eng_reg *reg = NULL;
    if (orch_daemon_registry(req->d, &reg, err) < 0)
        return -1;
    struct orch_req *later = orch_req_defer(req);
    if (!eng_reg_check(reg, host, &a, on_login_checked, later)) {
        orch_req_drop(later);
        return bt_err_set(err, EIO, "cannot start the login check");
    }
    return ORCH_OP_PENDING;
}

const struct orch_op orch_pull_ops[] = {
    { "image.pull", op_image_pull },
    { "registry.login", op_registry_login },
};
const size_t orch_npull_ops = BT_ARRAY_SIZE(orch_pull_ops);
