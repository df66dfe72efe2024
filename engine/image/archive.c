/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image archives: `docker save` tars (manifest.json with legacy <id>/layer.tar or OCI-layout
 * blobs) and OCI image layout archives in; one tar that both `docker load` and berth read out.
 * An archive's entries are streamed into the content store as they come (each regular file
 * becomes a blob; only the small index files are kept in memory), so the order of entries does
 * not matter and nothing is read twice. A blob under blobs/sha256/ must hash to its name.
 */
#define LOG_TAG "archive"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/image.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"
#include "engine/image/unpack.h"

#define SMALL_MAX (4u << 20)
#define MAX_ENTRIES 100000

/* Entries kept in memory rather than stored as blobs. */
static bool
is_small_file(const char *name)
{
    static const char *const names[] = { "manifest.json", "index.json", "oci-layout",
                                         "repositories" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    const char *slash = strrchr(name, '/');
    /* The legacy layout's per-layer metadata, which berth does not need. */
    return slash && (strcmp(slash, "/json") == 0 || strcmp(slash, "/VERSION") == 0);
}

/* "./a//b" -> "a/b". Returns a new string, caller frees. */
static char *
clean_name(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while (name[0] == '/')
        name++;
    char *out = bt_xstrdup(name);
    char *w = out;
    for (const char *p = out; *p; p++)
        if (!(p[0] == '/' && (w > out && w[-1] == '/')))
            *w++ = *p;
    *w = '\0';
    return out;
}

struct loaded {
    json_t *small; /* name -> string */
    json_t *blobs; /* name -> digest */
};

static int
read_entry_blob(struct eng_cas *cas, struct archive *ar, const char *name, json_t *blobs,
                struct bt_err **err)
{
    struct eng_cas_writer *w = NULL;
    if (eng_cas_writer_new(cas, NULL, false, &w, err) < 0)
        return -1;
    const void *buf;
    size_t len;
    la_int64_t off;
    int ar_r;
    while ((ar_r = archive_read_data_block(ar, &buf, &len, &off)) == ARCHIVE_OK)
        if (eng_cas_writer_write(w, buf, len, err) < 0) {
            eng_cas_writer_abort(w, false);
            return -1;
        }
    if (ar_r != ARCHIVE_EOF) {
        eng_cas_writer_abort(w, false);
        return bt_err_set(err, BT_EPARSE, "archive entry '%s': %s", name, archive_error_string(ar));
    }
    char digest[ENG_DIGEST_LEN + 1];
    if (eng_cas_writer_commit(w, digest, err) < 0)
        return -1;
    /* blobs/sha256/<hex> names its content: it must be that content. */
    if (strncmp(name, "blobs/sha256/", 13) == 0 && strcmp(name + 13, digest + 7) != 0)
        return bt_err_set(err, BT_EINVALID, "archive entry '%s' does not match its digest ('%s')",
                          name, digest);
    json_object_set_new(blobs, name, json_string(digest));
    return 0;
}

static int
read_entry_small(struct archive *ar, const char *name, json_t *small, struct bt_err **err)
{
    struct bt_buf b;
    bt_buf_init(&b, SMALL_MAX);
    char chunk[65536];
    la_ssize_t n;
    while ((n = archive_read_data(ar, chunk, sizeof chunk)) > 0)
        if (bt_buf_append(&b, chunk, (size_t) n) < 0) {
            bt_buf_release(&b);
            return bt_err_set(err, BT_ETOOBIG, "archive entry '%s' is over %u bytes", name,
                              SMALL_MAX);
        }
    if (n < 0) {
        bt_buf_release(&b);
        return bt_err_set(err, BT_EPARSE, "archive entry '%s': %s", name, archive_error_string(ar));
    }
    json_object_set_new(small, name, json_stringn(bt_buf_str(&b), b.len));
    bt_buf_release(&b);
    return 0;
}

static int
read_archive(struct eng_cas *cas, int fd, struct loaded *l, struct bt_err **err)
{
    struct archive *ar = archive_read_new();
    archive_read_support_filter_gzip(ar);
    archive_read_support_filter_zstd(ar);
    archive_read_support_format_tar(ar);
    int r = 0;
    if (archive_read_open_fd(ar, fd, 1 << 17) != ARCHIVE_OK) {
        r = bt_err_set(err, BT_EPARSE, "not an image archive: %s", archive_error_string(ar));
        goto out;
    }
    struct archive_entry *e;
    size_t count = 0;
    int ar_r;
    while ((ar_r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
        if (++count > MAX_ENTRIES) {
            r = bt_err_set(err, BT_ETOOBIG, "the archive has more than %d entries", MAX_ENTRIES);
            goto out;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        bt_autofree char *name = clean_name(archive_entry_pathname(e));
        r = is_small_file(name) ? read_entry_small(ar, name, l->small, err)
                                : read_entry_blob(cas, ar, name, l->blobs, err);
        if (r < 0)
            goto out;
    }
    if (ar_r != ARCHIVE_EOF)
        r = bt_err_set(err, BT_EPARSE, "not a valid image archive: %s", archive_error_string(ar));
out:
    archive_read_free(ar);
    return r;
}

static json_t *
parse_small(const struct loaded *l, const char *name, struct bt_err **err)
{
    const char *text = json_string_value(json_object_get(l->small, name));
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        (void) bt_err_set(err, BT_EPARSE, "archive entry '%s' is not JSON: %s", name, jerr.text);
    return j;
}

/* A reference in its full form, or NULL (with a warning) when it does not parse. */
static json_t *
full_ref(const char *s)
{
    struct eng_img_ref ref;
    bt_autoerr struct bt_err *e = NULL;
    if (!s || eng_img_ref_parse(s, &ref, &e) < 0)
        return NULL;
    bt_autofree char *full = ref.digest ? NULL : eng_img_ref_str(&ref);
    eng_img_ref_release(&ref);
    json_t *j = full ? json_string(full) : NULL;
    return j;
}

static int
add_image(struct eng_cas *cas, const char *manifest_digest, json_t *refs_steal, json_t *out,
          struct bt_err **err)
{
    json_t *rec = NULL;
    if (eng_img_commit(cas, manifest_digest, "load", &rec, err) < 0) {
        json_decref(refs_steal);
        return -1;
    }
    json_array_append_new(out, json_pack("{s:o, s:o}", "record", rec, "refs", refs_steal));
    return 0;
}

static const char *
blob_of(const struct loaded *l, const char *name, struct bt_err **err)
{
    bt_autofree char *clean = clean_name(name ? name : "");
    const char *d = json_string_value(json_object_get(l->blobs, clean));
    if (!d)
        (void) bt_err_set(err, BT_EINVALID, "the archive names '%s', which it does not contain",
                          clean);
    return d;
}

/* docker save's manifest.json: [{"Config", "RepoTags", "Layers"}]. */
static int
load_docker(struct eng_cas *cas, const struct loaded *l, json_t *out, struct bt_err **err)
{
    json_t *list = parse_small(l, "manifest.json", err);
    if (!list)
        return -1;
    int r = 0;
    size_t i;
    json_t *it;
    if (!json_is_array(list))
        r = bt_err_set(err, BT_EINVALID, "manifest.json is not an array");
    json_array_foreach(list, i, it) {
        if (r < 0)
            break;
        const char *cfg = blob_of(l, json_string_value(json_object_get(it, "Config")), err);
        json_t *layers = json_object_get(it, "Layers");
        if (!cfg || !json_is_array(layers)) {
            r = cfg ? bt_err_set(err, BT_EINVALID, "manifest.json entry %zu has no Layers", i) : -1;
            break;
        }
        json_t *descs = json_array();
        size_t j;
        json_t *lp;
        json_array_foreach(layers, j, lp) {
            const char *d = blob_of(l, json_string_value(lp), err);
            if (!d) {
                r = -1;
                break;
            }
            bt_autoclose int fd = eng_cas_blob_open(cas, d, err);
            if (fd < 0) {
                r = -1;
                break;
            }
            const char *mt = eng_layer_media_type(fd);
            json_array_append_new(descs, json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", d,
                                                   "size", (json_int_t) eng_cas_blob_size(cas, d)));
        }
        if (r < 0) {
            json_decref(descs);
            break;
        }
        json_t *man =
            json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                      ENG_MT_OCI_MANIFEST, "config", "mediaType", ENG_MT_OCI_CONFIG, "digest", cfg,
                      "size", (json_int_t) eng_cas_blob_size(cas, cfg), "layers", descs);
        bt_autofree char *text = json_dumps(man, JSON_COMPACT);
        json_decref(man);
        char digest[ENG_DIGEST_LEN + 1];
        if ((r = eng_cas_blob_put(cas, text, strlen(text), digest, err)) < 0)
            break;
        json_t *refs = json_array();
        size_t k;
        json_t *tag;
        json_array_foreach(json_object_get(it, "RepoTags"), k, tag) {
            json_t *f = full_ref(json_string_value(tag));
            if (f)
                json_array_append_new(refs, f);
        }
        r = add_image(cas, digest, refs, out, err);
    }
    json_decref(list);
    return r;
}

/* An OCI layout's index.json: every manifest it lists (an index: the host's platform). */
static int
load_oci(struct eng_cas *cas, const struct loaded *l, json_t *out, struct bt_err **err)
{
    json_t *index = parse_small(l, "index.json", err);
    if (!index)
        return -1;
    bt_autofree char *text = json_dumps(index, JSON_COMPACT);
    struct eng_img_manifest idx = { 0 };
    int r = eng_img_manifest_parse(text, strlen(text), ENG_MT_OCI_INDEX, &idx, err);
    for (size_t i = 0; r == 0 && i < idx.nmanifests; i++) {
        const struct eng_img_descriptor *d = &idx.manifests[i];
        json_t *ann =
            json_object_get(json_array_get(json_object_get(index, "manifests"), i), "annotations");
        json_t *refs = json_array();
        json_t *f = full_ref(json_string_value(json_object_get(ann, "io.containerd.image.name")));
        const char *refname =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
        if (!f && refname && (strchr(refname, '/') || strchr(refname, ':')))
            f = full_ref(refname);
        if (f)
            json_array_append_new(refs, f);
        const char *man = d->digest;
        struct eng_img_manifest sub = { 0 };
        if (bt_streq(d->media_type, ENG_MT_OCI_INDEX) ||
            bt_streq(d->media_type, ENG_MT_DOCKER_LIST)) {
            bt_autofree char *stext = NULL;
            size_t slen;
            struct eng_img_platform host;
            eng_img_platform_host(&host);
            size_t pick = 0;
            r = eng_cas_blob_read(cas, d->digest, ENG_IMG_MAX_JSON, &stext, &slen, err);
            if (r == 0)
                r = eng_img_manifest_parse(stext, slen, d->media_type, &sub, err);
            if (r == 0)
                r = eng_img_index_select(&sub, &host, &pick, err);
            eng_img_platform_release(&host);
            man = r == 0 ? sub.manifests[pick].digest : NULL;
        }
        if (r == 0)
            r = add_image(cas, man, refs, out, err);
        else
            json_decref(refs);
        eng_img_manifest_release(&sub);
    }
    eng_img_manifest_release(&idx);
    json_decref(index);
    return r;
}

int
eng_img_load(struct eng_cas *cas, int fd, json_t **ret_images, struct bt_err **err)
{
    struct loaded l = { json_object(), json_object() };
    json_t *out = json_array();
    int r = read_archive(cas, fd, &l, err);
    if (r == 0) {
        if (json_object_get(l.small, "manifest.json"))
            r = load_docker(cas, &l, out, err);
        else if (json_object_get(l.small, "index.json"))
            r = load_oci(cas, &l, out, err);
        else
            r = bt_err_set(err, BT_EINVALID,
                           "not an image archive: it has neither manifest.json nor index.json");
    }
    /* Blobs the archive held but no image named are left for prune, as partial loads are. */
    json_decref(l.small);
    json_decref(l.blobs);
    if (r < 0) {
        json_decref(out);
        return r;
    }
    *ret_images = out;
    return 0;
}

/* ---- save ---- */

/* The archive writer's failure with its errno when it has one ("No space left on device"). */
static int
write_failed(struct archive *aw, const char *name, struct bt_err **err)
{
    int e = archive_errno(aw);
    if (e > 0)
        return bt_err_errno(err, -e, "cannot write '%s'", name);
    return bt_err_set(err, EIO, "cannot write '%s': %s", name, archive_error_string(aw));
}

static int
write_entry(struct archive *aw, const char *name, const void *data, size_t len, int fd,
            int64_t size, struct bt_err **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, data ? (la_int64_t) len : size);
    int r = 0;
    if (archive_write_header(aw, e) != ARCHIVE_OK) {
        r = write_failed(aw, name, err);
    } else if (data) {
        if (archive_write_data(aw, data, len) != (la_ssize_t) len)
            r = write_failed(aw, name, err);
    } else {
        static char buf[1 << 17];
        ssize_t n;
        while (r == 0 && (n = read(fd, buf, sizeof buf)) > 0)
            if (archive_write_data(aw, buf, (size_t) n) != n)
                r = write_failed(aw, name, err);
        if (r == 0 && n < 0)
            r = bt_err_errno(err, -errno, "cannot read blob for '%s'", name);
    }
    archive_entry_free(e);
    return r;
}

static int
write_blob(struct eng_cas *cas, struct archive *aw, json_t *written, const char *digest,
           struct bt_err **err)
{
    if (!digest || json_object_get(written, digest))
        return 0;
    json_object_set_new(written, digest, json_true());
    bt_autoclose int fd = eng_cas_blob_open(cas, digest, err);
    if (fd < 0)
        return -1;
    bt_autofree char *name = bt_xasprintf("blobs/sha256/%s", digest + 7);
    return write_entry(aw, name, NULL, 0, fd, eng_cas_blob_size(cas, digest), err);
}

static int
write_json(struct archive *aw, const char *name, const json_t *j, struct bt_err **err)
{
    bt_autofree char *text = json_dumps(j, JSON_COMPACT);
    return write_entry(aw, name, text, strlen(text), -1, 0, err);
}

static int
save_one(struct eng_cas *cas, struct archive *aw, json_t *written, const json_t *img, json_t *index,
         json_t *manifests, json_t *repos, struct bt_err **err)
{
    const json_t *rec = json_object_get(img, "record");
    const json_t *man = json_object_get(rec, "manifest");
    const char *cfg = json_string_value(json_object_get(json_object_get(rec, "config"), "digest"));
    const char *mdig = json_string_value(json_object_get(man, "digest"));
    int r = write_blob(cas, aw, written, mdig, err);
    if (r == 0)
        r = write_blob(cas, aw, written, cfg, err);
    json_t *layers = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(rec, "layers"), i, l) {
        const char *d = json_string_value(json_object_get(l, "digest"));
        if (r == 0)
            r = write_blob(cas, aw, written, d, err);
        json_array_append_new(layers, json_sprintf("blobs/sha256/%s", d ? d + 7 : ""));
    }
    json_t *tags = json_array();
    json_t *refs = json_object_get(img, "refs");
    json_t *desc =
        json_pack("{s:O, s:O, s:O}", "mediaType", json_object_get(man, "mediaType"), "digest",
                  json_object_get(man, "digest"), "size", json_object_get(man, "size"));
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        struct eng_img_ref pr;
        if (eng_img_ref_parse(json_string_value(ref), &pr, NULL) < 0)
            continue;
        bt_autofree char *familiar = eng_img_ref_familiar(&pr);
        json_array_append_new(tags, json_string(familiar));
        json_t *d = json_deep_copy(desc);
        json_object_set_new(d, "annotations",
                            json_pack("{s:O, s:s}", "io.containerd.image.name", ref,
                                      "org.opencontainers.image.ref.name",
                                      pr.tag ? pr.tag : "latest"));
        json_array_append_new(json_object_get(index, "manifests"), d);
        /* repositories: {"busybox": {"latest": "<id hex>"}} */
        char *colon = strrchr(familiar, ':');
        if (colon && !strchr(colon, '/') && cfg) {
            *colon = '\0';
            json_t *repo = json_object_get(repos, familiar);
            if (!repo)
                json_object_set_new(repos, familiar, repo = json_object());
            json_object_set_new(repo, colon + 1, json_string(cfg + 7));
        }
        eng_img_ref_release(&pr);
    }
    if (json_array_size(refs) == 0)
        json_array_append(json_object_get(index, "manifests"), desc);
    json_decref(desc);
    json_array_append_new(manifests,
                          json_pack("{s:s+, s:o, s:o}", "Config", "blobs/sha256/",
                                    cfg ? cfg + 7 : "", "RepoTags", tags, "Layers", layers));
    return r;
}

int
eng_img_save(struct eng_cas *cas, const json_t *images, int out_fd, struct bt_err **err)
{
    struct archive *aw = archive_write_new();
    archive_write_set_format_pax_restricted(aw);
    archive_write_set_bytes_in_last_block(aw, 1);
    int r = 0;
    if (archive_write_open_fd(aw, out_fd) != ARCHIVE_OK) {
        r = bt_err_set(err, EIO, "cannot write the archive: %s", archive_error_string(aw));
        archive_write_free(aw);
        return r;
    }
    json_t *written = json_object();
    json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", ENG_MT_OCI_INDEX,
                              "manifests");
    json_t *manifests = json_array(), *repos = json_object();
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        if ((r = save_one(cas, aw, written, img, index, manifests, repos, err)) < 0)
            break;
    }
    json_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
    if (r == 0)
        r = write_json(aw, "oci-layout", layout, err);
    if (r == 0)
        r = write_json(aw, "index.json", index, err);
    if (r == 0)
        r = write_json(aw, "manifest.json", manifests, err);
    if (r == 0)
        r = write_json(aw, "repositories", repos, err);
    json_decref(layout);
    json_decref(written);
    json_decref(index);
    json_decref(manifests);
    json_decref(repos);
    if (archive_write_close(aw) != ARCHIVE_OK && r == 0)
        r = bt_err_set(err, EIO, "cannot write the archive: %s", archive_error_string(aw));
    archive_write_free(aw);
    return r;
}
