/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Committing a manifest into a record, and importing a rootfs tar. Both run in a worker: they
 * unpack layers. See image.h.
 */
#define LOG_TAG "image"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/image/change.h"
#include "engine/image/image.h"
#include "engine/image/manifest.h"
#include "engine/image/unpack.h"

/* RFC 3339 UTC, as Docker writes "created". */
static void
now_rfc3339(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%09ldZ", ts.tv_nsec);
}

static json_t *
descriptor_json(const char *media_type, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                     (json_int_t) size);
}

static int
read_json_blob(struct eng_cas *cas, const char *digest, char **ret, size_t *ret_len,
               struct bt_err **err)
{
    return eng_cas_blob_read(cas, digest, ENG_IMG_MAX_JSON, ret, ret_len, err);
}

int
eng_img_commit(struct eng_cas *cas, const char *manifest_digest, const char *source,
               json_t **ret_record, struct bt_err **err)
{
    bt_autofree char *mtext = NULL, *ctext = NULL;
    size_t mlen, clen;
    struct eng_img_manifest m = { 0 };
    struct eng_img_config c = { 0 };
    char **chains = NULL;
    char *platform = NULL;
    json_t *layers = NULL;
    int r = read_json_blob(cas, manifest_digest, &mtext, &mlen, err);
    if (r < 0 || (r = eng_img_manifest_parse(mtext, mlen, NULL, &m, err)) < 0)
        goto out;
    if (m.kind != ENG_IMG_MANIFEST) {
        r = bt_err_set(err, BT_EINVALID, "'%s' is an index, not an image manifest",
                       manifest_digest);
        goto out;
    }
    if ((r = read_json_blob(cas, m.config.digest, &ctext, &clen, err)) < 0 ||
        (r = eng_img_config_parse(ctext, clen, &c, err)) < 0)
        goto out;
    if (c.ndiff_ids != m.nlayers) {
        r = bt_err_set(err, BT_EINVALID,
                       "the manifest has %zu layers but the image config %zu diff ids", m.nlayers,
                       c.ndiff_ids);
        goto out;
    }
    chains = eng_img_chain_ids(c.diff_ids, c.ndiff_ids);
    layers = json_array();
    int64_t size = 0;
    for (size_t i = 0; i < m.nlayers; i++) {
        const struct eng_img_descriptor *l = &m.layers[i];
        r = eng_cas_layer_unpack(cas, chains[i], i ? chains[i - 1] : NULL, l->digest, c.diff_ids[i],
                                 NULL, err);
        if (r < 0) {
            bt_err_wrap(err, "layer %zu of %zu", i + 1, m.nlayers);
            goto out;
        }
        int64_t lsize = eng_cas_layer_size(cas, chains[i]);
        size += lsize > 0 ? lsize : 0;
        json_array_append_new(layers,
                              json_pack("{s:s, s:s, s:I, s:s, s:s}", "mediaType", l->media_type,
                                        "digest", l->digest, "size", (json_int_t) l->size,
                                        "diff_id", c.diff_ids[i], "chain_id", chains[i]));
    }
    struct eng_img_platform p = { .os = c.os,
                                  .architecture = c.architecture,
                                  .variant = c.variant };
    platform = eng_img_platform_str(&p);
    char added[32];
    now_rfc3339(added);
    *ret_record =
        json_pack("{s:s, s:o, s:o, s:O, s:s, s:s?, s:s, s:I, s:[], s:s}", "id", m.config.digest,
                  "manifest", descriptor_json(m.media_type, manifest_digest, (int64_t) mlen),
                  "config", descriptor_json(m.config.media_type, m.config.digest, (int64_t) clen),
                  "layers", layers, "platform", platform, "created", c.created, "added", added,
                  "size", (json_int_t) size, "repo_digests", "source", source);
    BT_ASSERT(*ret_record);
out:
    if (chains)
        for (size_t i = 0; i < c.ndiff_ids; i++)
            free(chains[i]);
    free(chains);
    free(platform);
    json_decref(layers);
    eng_img_manifest_release(&m);
    eng_img_config_release(&c);
    return r;
}

int
eng_img_blob_from_fd(struct eng_cas *cas, int fd, char ret_digest[ENG_DIGEST_LEN + 1],
                     int64_t *ret_size, struct bt_err **err)
{
    struct eng_cas_writer *w = NULL;
    if (eng_cas_writer_new(cas, NULL, false, &w, err) < 0)
        return -1;
    static char buf[1 << 17];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int r = bt_err_errno(err, -errno, "cannot read the input");
            eng_cas_writer_abort(w, false);
            return r;
        }
        if (n == 0)
            break;
        if (eng_cas_writer_write(w, buf, (size_t) n, err) < 0) {
            eng_cas_writer_abort(w, false);
            return -1;
        }
    }
    *ret_size = (int64_t) eng_cas_writer_offset(w);
    return eng_cas_writer_commit(w, ret_digest, err);
}

int
eng_img_import(struct eng_cas *cas, int fd, const char *const *changes, size_t nchanges,
               const char *message, json_t **ret_record, struct bt_err **err)
{
    /* The changes first: a bad one must not leave a blob and a layer behind. */
    json_t *config = json_object();
    for (size_t i = 0; i < nchanges; i++)
        if (eng_img_change_apply(config, changes[i], err) < 0) {
            json_decref(config);
            return bt_err_wrap(err, "--change '%s'", changes[i]);
        }
    char layer[ENG_DIGEST_LEN + 1], diff_id[ENG_DIGEST_LEN + 1];
    int64_t layer_size;
    bt_autoclose int blob_fd = -1;
    if (eng_img_blob_from_fd(cas, fd, layer, &layer_size, err) < 0 ||
        (blob_fd = eng_cas_blob_open(cas, layer, err)) < 0) {
        json_decref(config);
        return -1;
    }
    const char *media_type = eng_layer_media_type(blob_fd);
    if (eng_cas_layer_unpack(cas, NULL, NULL, layer, NULL, diff_id, err) < 0) {
        /* A layer that does not unpack (a hostile one) leaves no blob either. */
        (void) eng_cas_blob_remove(cas, layer, NULL);
        json_decref(config);
        return -1;
    }
    struct eng_img_platform host;
    eng_img_platform_host(&host);
    char created[32];
    now_rfc3339(created);
    json_t *cfg =
        json_pack("{s:s, s:s, s:s*, s:s, s:o, s:{s:s, s:[s]}, s:[{s:s, s:s, s:s}]}", "architecture",
                  host.architecture, "os", host.os, "variant", host.variant, "created", created,
                  "config", config, "rootfs", "type", "layers", "diff_ids", diff_id, "history",
                  "created", created, "created_by", "berth image import", "comment",
                  message && *message ? message : "Imported from -");
    eng_img_platform_release(&host);
    BT_ASSERT(cfg);
    bt_autofree char *cfg_text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cfg);
    char cfg_digest[ENG_DIGEST_LEN + 1], man_digest[ENG_DIGEST_LEN + 1];
    if (eng_cas_blob_put(cas, cfg_text, strlen(cfg_text), cfg_digest, err) < 0)
        return -1;
    json_t *man = json_pack(
        "{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", ENG_MT_OCI_MANIFEST, "config",
        descriptor_json(ENG_MT_OCI_CONFIG, cfg_digest, (int64_t) strlen(cfg_text)), "layers",
        descriptor_json(media_type, layer, layer_size));
    BT_ASSERT(man);
    bt_autofree char *man_text = json_dumps(man, JSON_COMPACT);
    json_decref(man);
    if (eng_cas_blob_put(cas, man_text, strlen(man_text), man_digest, err) < 0)
        return -1;
    return eng_img_commit(cas, man_digest, "import", ret_record, err);
}
