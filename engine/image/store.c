/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image records and references: see store.h. Records are small JSON objects kept in memory
 * (a host has dozens of images, not millions) and written through to records/ and refs.json.
 */
#define LOG_TAG "images"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"
#include "engine/image/store.h"

#define RECORD_MAX (1u << 20)
#define REFS_MAX (16u << 20)

struct eng_img_store {
    struct eng_cas *cas;
    int dirfd, records_fd;
    json_t *records;                  /* id -> record */
    json_t *refs;                     /* full reference -> id */
    eng_img_layer_used_fn layer_used; /* containers' layers (may be NULL) */
    void *layer_used_ud;
};

void
eng_img_store_set_layer_used(struct eng_img_store *s, eng_img_layer_used_fn fn, void *ud)
{
    s->layer_used = fn;
    s->layer_used_ud = ud;
}

static const char *
rec_id(const json_t *rec)
{
    return json_string_value(json_object_get(rec, "id"));
}

static int
load_records(struct eng_img_store *s, struct bt_err **err)
{
    int fd = fcntl(s->records_fd, F_DUPFD_CLOEXEC, 3);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        BT_CLOSE(fd);
        return bt_err_errno(err, -errno, "cannot list '%s/records'", eng_cas_dir(s->cas));
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0)
            continue;
        bt_autofree char *text = NULL;
        size_t n;
        bt_autoerr struct bt_err *rerr = NULL;
        json_error_t jerr;
        json_t *rec = NULL;
        if (bt_file_read_at(s->records_fd, e->d_name, RECORD_MAX, &text, &n, &rerr) == 0)
            rec = json_loadb(text, n, 0, &jerr);
        const char *id = rec ? rec_id(rec) : NULL;
        if (!id || !eng_img_digest_is_valid(id) || strncmp(id + 7, e->d_name, 64) != 0) {
            bt_log_warn("image record '%s' is unreadable, ignoring", e->d_name);
            json_decref(rec);
            continue;
        }
        json_object_set_new(s->records, id, rec);
    }
    closedir(d);
    return 0;
}

static int
load_refs(struct eng_img_store *s, struct bt_err **err)
{
    bt_autofree char *text = NULL;
    size_t n;
    bt_autoerr struct bt_err *rerr = NULL;
    if (bt_file_read_at(s->dirfd, "refs.json", REFS_MAX, &text, &n, &rerr) < 0) {
        if (rerr->code == ENOENT)
            return 0;
        return bt_err_set(err, rerr->code, "%s", rerr->msg);
    }
    json_error_t jerr;
    json_t *refs = json_loadb(text, n, 0, &jerr);
    if (!json_is_object(refs)) {
        json_decref(refs);
        return bt_err_set(err, BT_EPARSE, "'%s/refs.json' is not a JSON object: %s",
                          eng_cas_dir(s->cas), jerr.text);
    }
    const char *k;
    json_t *v;
    json_object_foreach(refs, k, v) {
        /* A name whose image is gone (a crash between the two writes) names nothing. */
        if (json_is_string(v) && json_object_get(s->records, json_string_value(v)))
            json_object_set(s->refs, k, v);
    }
    json_decref(refs);
    return 0;
}

int
eng_img_store_open(struct eng_cas *cas, struct eng_img_store **ret, struct bt_err **err)
{
    struct eng_img_store *s = bt_xcalloc(1, sizeof *s);
    s->cas = cas;
    s->records = json_object();
    s->refs = json_object();
    s->records_fd = -1;
    s->dirfd = open(eng_cas_dir(cas), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        (void) bt_err_errno(err, -errno, "cannot open '%s'", eng_cas_dir(cas));
        goto fail;
    }
    if (mkdirat(s->dirfd, "records", 0700) < 0 && errno != EEXIST) {
        (void) bt_err_errno(err, -errno, "cannot create '%s/records'", eng_cas_dir(cas));
        goto fail;
    }
    s->records_fd = openat(s->dirfd, "records", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->records_fd < 0) {
        (void) bt_err_errno(err, -errno, "cannot open '%s/records'", eng_cas_dir(cas));
        goto fail;
    }
    (void) bt_dir_clean_tmp(s->dirfd);
    (void) bt_dir_clean_tmp(s->records_fd);
    if (load_records(s, err) < 0 || load_refs(s, err) < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    eng_img_store_free(s);
    return bt_err_wrap(err, "image store");
}

struct eng_img_store *
eng_img_store_free(struct eng_img_store *s)
{
    if (!s)
        return NULL;
    BT_CLOSE(s->dirfd);
    BT_CLOSE(s->records_fd);
    json_decref(s->records);
    json_decref(s->refs);
    free(s);
    return NULL;
}

struct eng_cas *
eng_img_store_cas(struct eng_img_store *s)
{
    return s->cas;
}

static bool
is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i]))
            return false;
    return true;
}

static int
no_such_image(struct bt_err **err, const char *name)
{
    int r = bt_err_set(err, ENOENT, "no such image: '%s'", name);
    bt_err_hint(err, "see 'berth image ls', or pull it: berth image pull %s", name);
    return r;
}

/* An id or a prefix of one: "sha256:<hex>", "<hex>", "<4+ hex>". */
static const json_t *
find_by_id(const struct eng_img_store *s, const char *name, struct bt_err **err, bool *ret_tried)
{
    const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
    size_t n = strlen(hex);
    *ret_tried = n >= 4 && n <= 64 && is_hex(hex, n);
    if (!*ret_tried)
        return NULL;
    const json_t *found = NULL;
    const char *id;
    json_t *rec;
    json_object_foreach(s->records, id, rec) {
        if (strncmp(id + 7, hex, n) != 0)
            continue;
        if (found && n < 64) {
            (void) bt_err_set(err, BT_ECONFLICT, "image id prefix '%s' is ambiguous", name);
            bt_err_hint(err, "give more digits of the id");
            return NULL;
        }
        found = rec;
    }
    return found;
}

const json_t *
eng_img_store_find(const struct eng_img_store *s, const char *name, struct bt_err **err)
{
    bt_autoerr struct bt_err *id_err = NULL;
    bool tried = false;
    const json_t *rec = find_by_id(s, name, &id_err, &tried);
    if (rec)
        return rec;
    if (id_err) {
        *err = BT_TAKE_PTR(id_err);
        return NULL;
    }
    struct eng_img_ref ref;
    bt_autoerr struct bt_err *ref_err = NULL;
    if (eng_img_ref_parse(name, &ref, &ref_err) < 0) {
        if (tried)
            (void) no_such_image(err, name);
        else
            *err = BT_TAKE_PTR(ref_err);
        return NULL;
    }
    bt_autofree char *full = eng_img_ref_str(&ref);
    const char *id = json_string_value(json_object_get(s->refs, full));
    if (!id && ref.digest) {
        /* name@digest: any image of that repository pulled with that manifest digest. */
        bt_autofree char *repo = eng_img_ref_repo(&ref);
        bt_autofree char *want = bt_xasprintf("%s@%s", repo, ref.digest);
        const char *k;
        json_t *r;
        json_object_foreach(s->records, k, r) {
            size_t i;
            json_t *d;
            json_array_foreach(json_object_get(r, "repo_digests"), i, d) {
                if (bt_streq(json_string_value(d), want))
                    id = k;
            }
        }
    }
    eng_img_ref_release(&ref);
    rec = id ? json_object_get(s->records, id) : NULL;
    if (!rec)
        (void) no_such_image(err, name);
    return rec;
}

json_t *
eng_img_store_list(const struct eng_img_store *s)
{
    json_t *a = json_array();
    const char *id;
    json_t *rec;
    json_object_foreach(s->records, id, rec) {
        json_array_append(a, rec);
    }
    return a;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *) a), json_string_value(*(json_t *const *) b));
}

json_t *
eng_img_store_refs_of(const struct eng_img_store *s, const char *id)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(s->refs, k, v) {
        n += bt_streq(json_string_value(v), id);
    }
    bt_autofree json_t **items = bt_xcalloc(n + 1, sizeof *items);
    n = 0;
    json_object_foreach(s->refs, k, v) {
        if (bt_streq(json_string_value(v), id))
            items[n++] = json_string(k);
    }
    qsort(items, n, sizeof *items, cmp_str);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, items[i]);
    return a;
}

/* "busybox:latest" for "docker.io/library/busybox:latest", as Docker prints names. */
static json_t *
familiar(const char *full)
{
    struct eng_img_ref ref;
    if (eng_img_ref_parse(full, &ref, NULL) < 0)
        return json_string(full);
    char *text = eng_img_ref_familiar(&ref);
    eng_img_ref_release(&ref);
    json_t *j = json_string(text);
    free(text);
    return j;
}

static json_t *
familiar_all(json_t *list_steal)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(list_steal, i, v) {
        json_array_append_new(out, familiar(json_string_value(v)));
    }
    json_decref(list_steal);
    return out;
}

static int
save_refs(struct eng_img_store *s, struct bt_err **err)
{
    bt_autofree char *text = json_dumps(s->refs, JSON_SORT_KEYS | JSON_INDENT(1));
    BT_ASSERT(text);
    return bt_file_write_atomic_at(s->dirfd, "refs.json", text, strlen(text), 0600, err);
}

static int
save_record(struct eng_img_store *s, const json_t *rec, struct bt_err **err)
{
    char name[64 + 6];
    snprintf(name, sizeof name, "%.64s.json", rec_id(rec) + 7);
    bt_autofree char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_INDENT(1));
    BT_ASSERT(text);
    return bt_file_write_atomic_at(s->records_fd, name, text, strlen(text), 0600, err);
}

/* The blobs and layers a record names must all be in the cas before it may exist. */
static int
check_complete(struct eng_img_store *s, const json_t *rec, struct bt_err **err)
{
    const char *id = rec_id(rec);
    if (!id || !eng_img_digest_is_valid(id))
        return bt_err_set(err, BT_EINVALID, "image record without a valid id");
    const char *blobs[] = {
        json_string_value(json_object_get(json_object_get(rec, "manifest"), "digest")),
        json_string_value(json_object_get(json_object_get(rec, "config"), "digest")),
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(blobs); i++)
        if (!eng_cas_blob_has(s->cas, blobs[i]))
            return bt_err_set(err, BT_EINVALID, "image '%s': blob '%s' is missing", id,
                              blobs[i] ? blobs[i] : "(none)");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(rec, "layers"), i, l) {
        const char *chain = json_string_value(json_object_get(l, "chain_id"));
        const char *blob = json_string_value(json_object_get(l, "digest"));
        if (!eng_cas_layer_has(s->cas, chain))
            return bt_err_set(err, BT_EINVALID, "image '%s': layer '%s' is missing", id,
                              chain ? chain : "(none)");
        if (!eng_cas_blob_has(s->cas, blob))
            return bt_err_set(err, BT_EINVALID, "image '%s': blob '%s' is missing", id,
                              blob ? blob : "(none)");
    }
    return 0;
}

int
eng_img_store_add(struct eng_img_store *s, json_t *record_steal, const char *const *refs,
                  size_t nrefs, struct bt_err **err)
{
    json_t *rec = record_steal;
    /* References are kept in their full form, whatever form they came in. */
    json_t *full = json_array();
    for (size_t i = 0; i < nrefs; i++) {
        struct eng_img_ref ref;
        if (eng_img_ref_parse(refs[i], &ref, err) < 0) {
            json_decref(full);
            json_decref(rec);
            return bt_err_wrap(err, "reference '%s'", refs[i]);
        }
        char *text = eng_img_ref_str(&ref);
        json_array_append_new(full, json_string(text));
        free(text);
        eng_img_ref_release(&ref);
    }
    int r = check_complete(s, rec, err);
    /* The same image pulled from another repository: its names for the digest add up. */
    json_t *old = json_object_get(s->records, rec_id(rec) ? rec_id(rec) : "");
    json_t *digests = json_object_get(rec, "repo_digests");
    size_t k;
    json_t *d;
    if (r == 0 && old && json_is_array(digests)) {
        json_array_foreach(json_object_get(old, "repo_digests"), k, d) {
            bool seen = false;
            size_t j;
            json_t *e;
            json_array_foreach(digests, j, e) {
                seen |= json_equal(d, e);
            }
            if (!seen)
                json_array_append(digests, d);
        }
    }
    if (r == 0)
        r = save_record(s, rec, err);
    if (r < 0) {
        json_decref(full);
        json_decref(rec);
        return r;
    }
    const char *id = rec_id(rec);
    json_object_set_new(s->records, id, rec); /* id stays valid: the record is held */
    size_t i;
    json_t *v;
    json_array_foreach(full, i, v) {
        json_object_set_new(s->refs, json_string_value(v), json_string(id));
    }
    json_decref(full);
    return nrefs ? save_refs(s, err) : 0;
}

int
eng_img_store_tag(struct eng_img_store *s, const char *name, const char *target,
                  struct bt_err **err)
{
    const json_t *rec = eng_img_store_find(s, name, err);
    if (!rec)
        return -ENOENT;
    struct eng_img_ref ref;
    if (eng_img_ref_parse(target, &ref, err) < 0)
        return bt_err_wrap(err, "target '%s'", target);
    int r = 0;
    if (ref.digest) {
        r = bt_err_set(err, BT_EINVALID, "cannot tag with a digest: '%s'", target);
    } else {
        bt_autofree char *full = eng_img_ref_str(&ref);
        json_object_set_new(s->refs, full, json_string(rec_id(rec)));
        r = save_refs(s, err);
    }
    eng_img_ref_release(&ref);
    return r;
}

/* Whether any record other than except names the blob or the chain id in field. */
static bool
still_used(const struct eng_img_store *s, const char *except, const char *what, bool layer)
{
    /* A container's root is made of its image's layers, even once the image is gone. */
    if (layer && s->layer_used && s->layer_used(s->layer_used_ud, what))
        return true;
    const char *id;
    json_t *rec;
    json_object_foreach(s->records, id, rec) {
        if (strcmp(id, except) == 0)
            continue;
        if (!layer &&
            (bt_streq(
                 json_string_value(json_object_get(json_object_get(rec, "manifest"), "digest")),
                 what) ||
             bt_streq(json_string_value(json_object_get(json_object_get(rec, "config"), "digest")),
                      what)))
            return true;
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(rec, "layers"), i, l) {
            if (bt_streq(json_string_value(json_object_get(l, layer ? "chain_id" : "digest")),
                         what))
                return true;
        }
    }
    return false;
}

/* Remove the record id and whatever only it needed; references to it go too. */
static int
delete_image(struct eng_img_store *s, const char *id_in, json_t *report, struct bt_err **err)
{
    bt_autofree char *id = bt_xstrdup(id_in);
    json_t *rec = json_incref(json_object_get(s->records, id));
    BT_ASSERT(rec);
    json_t *refs = eng_img_store_refs_of(s, id);
    size_t i;
    json_t *v;
    json_array_foreach(refs, i, v) {
        json_array_append_new(report,
                              json_pack("{s:o}", "Untagged", familiar(json_string_value(v))));
        json_object_del(s->refs, json_string_value(v));
    }
    json_decref(refs);
    int r = save_refs(s, err);
    char name[64 + 6];
    snprintf(name, sizeof name, "%.64s.json", id + 7);
    if (r == 0 && unlinkat(s->records_fd, name, 0) < 0 && errno != ENOENT)
        r = bt_err_errno(err, -errno, "cannot remove image record '%s'", name);
    if (r < 0) {
        json_decref(rec);
        return r;
    }
    json_object_del(s->records, id);
    json_array_append_new(report, json_pack("{s:s}", "Deleted", id));
    /* What only this image used. A failure here leaves garbage, not a broken image. */
    json_array_foreach(json_object_get(rec, "layers"), i, v) {
        const char *chain = json_string_value(json_object_get(v, "chain_id"));
        const char *blob = json_string_value(json_object_get(v, "digest"));
        bt_autoerr struct bt_err *e = NULL;
        if (chain && !still_used(s, id, chain, true) && eng_cas_layer_remove(s->cas, chain, &e) < 0)
            bt_log_warn("%s, continuing", e->msg);
        if (blob && !still_used(s, id, blob, false))
            (void) eng_cas_blob_remove(s->cas, blob, NULL);
    }
    const char *mf = json_string_value(json_object_get(json_object_get(rec, "manifest"), "digest"));
    const char *cf = json_string_value(json_object_get(json_object_get(rec, "config"), "digest"));
    if (mf && !still_used(s, id, mf, false))
        (void) eng_cas_blob_remove(s->cas, mf, NULL);
    if (cf && !still_used(s, id, cf, false))
        (void) eng_cas_blob_remove(s->cas, cf, NULL);
    json_decref(rec);
    return 0;
}

int
eng_img_store_remove(struct eng_img_store *s, const char *name, bool force,
                     eng_img_in_use_fn in_use, void *ud, json_t **ret_report, struct bt_err **err)
{
    const json_t *rec = eng_img_store_find(s, name, err);
    if (!rec)
        return -ENOENT;
    bt_autofree char *id = bt_xstrdup(rec_id(rec));
    json_t *refs = eng_img_store_refs_of(s, id);
    size_t nrefs = json_array_size(refs);
    json_decref(refs);
    json_t *report = json_array();
    int r = 0;
    /* By reference, and other references remain: only the name goes. */
    struct eng_img_ref ref;
    bool by_ref = false;
    bt_autofree char *full = NULL;
    if (eng_img_ref_parse(name, &ref, NULL) == 0) {
        full = eng_img_ref_str(&ref);
        by_ref = json_object_get(s->refs, full) != NULL;
        eng_img_ref_release(&ref);
    }
    if (by_ref && nrefs > 1) {
        json_object_del(s->refs, full);
        json_array_append_new(report, json_pack("{s:o}", "Untagged", familiar(full)));
        r = save_refs(s, err);
    } else if (!force && in_use && in_use(ud, id)) {
        r = bt_err_set(err, BT_ECONFLICT, "image '%s' is used by a container", name);
        bt_err_hint(err, "remove the container first, or force with -f");
    } else if (!by_ref && nrefs > 1 && !force) {
        r = bt_err_set(err, BT_ECONFLICT, "image '%.19s' is referenced in multiple repositories",
                       id);
        bt_err_hint(err, "remove it by name, or force with -f");
    } else {
        r = delete_image(s, id, report, err);
    }
    if (r < 0) {
        json_decref(report);
        return r;
    }
    *ret_report = report;
    return 0;
}

int
eng_img_store_prune(struct eng_img_store *s, bool all, eng_img_in_use_fn in_use, void *ud,
                    json_t **ret_report, struct bt_err **err)
{
    json_t *victims = json_array();
    const char *id;
    json_t *rec;
    json_object_foreach(s->records, id, rec) {
        json_t *refs = eng_img_store_refs_of(s, id);
        bool dangling = json_array_size(refs) == 0;
        json_decref(refs);
        if ((all || dangling) && !(in_use && in_use(ud, id)))
            json_array_append_new(victims, json_string(id));
    }
    json_t *report = json_array();
    size_t i;
    json_t *v;
    int r = 0;
    json_array_foreach(victims, i, v) {
        if ((r = delete_image(s, json_string_value(v), report, err)) < 0)
            break;
    }
    json_decref(victims);
    if (r < 0) {
        json_decref(report);
        return r;
    }
    *ret_report = report;
    return 0;
}

/* Whether a record names digest (a blob, or with layer a chain id). */
static bool
is_named(void *ud, const char *digest, bool layer)
{
    const struct eng_img_store *s = ud;
    const char *id;
    json_t *rec;
    json_object_foreach(s->records, id, rec) {
        if (strcmp(id, digest) == 0 && !layer)
            return true; /* the config */
    }
    return still_used(s, "", digest, layer);
}

int
eng_img_store_sweep(struct eng_img_store *s)
{
    return eng_cas_sweep(s->cas, is_named, s);
}

/* Docker's inspect copies these keys of the config's "config" object. */
static const char *const config_keys[] = {
    "User",       "ExposedPorts", "Env",     "Cmd",    "Healthcheck", "ArgsEscaped", "Volumes",
    "WorkingDir", "Entrypoint",   "OnBuild", "Labels", "StopSignal",  "Shell",
};

int
eng_img_store_inspect(const struct eng_img_store *s, const json_t *rec, json_t **ret,
                      struct bt_err **err)
{
    const char *id = rec_id(rec);
    const char *cfg_digest =
        json_string_value(json_object_get(json_object_get(rec, "config"), "digest"));
    bt_autofree char *text = NULL;
    size_t len;
    if (eng_cas_blob_read(s->cas, cfg_digest, ENG_IMG_MAX_JSON, &text, &len, err) < 0)
        return bt_err_wrap(err, "image '%s'", id);
    json_error_t jerr;
    json_t *cfg = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return bt_err_set(err, BT_EPARSE, "image '%s': config is not JSON: %s", id, jerr.text);
    }
    json_t *c = json_object();
    json_t *src = json_object_get(cfg, "config");
    for (size_t i = 0; i < BT_ARRAY_SIZE(config_keys); i++) {
        json_t *v = json_object_get(src, config_keys[i]);
        if (v)
            json_object_set(c, config_keys[i], v);
    }
    json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    json_t *repo_digests = json_object_get(rec, "repo_digests");
    json_t *out = json_pack(
        "{s:s, s:o, s:o, s:s?, s:s?, s:s?, s:s*, s:I, s:o, s:{s:s, s:o}, s:O, s:O, s:s?, s:s?}",
        "Id", id, "RepoTags", familiar_all(eng_img_store_refs_of(s, id)), "RepoDigests",
        familiar_all(repo_digests ? json_incref(repo_digests) : json_array()), "Created",
        json_string_value(json_object_get(cfg, "created")), "Architecture",
        json_string_value(json_object_get(cfg, "architecture")), "Os",
        json_string_value(json_object_get(cfg, "os")), "Variant",
        json_string_value(json_object_get(cfg, "variant")), "Size",
        json_integer_value(json_object_get(rec, "size")), "Config", c, "RootFS", "Type", "layers",
        "Layers", diff_ids ? json_incref(diff_ids) : json_array(), "Layers",
        json_object_get(rec, "layers"), "Manifest", json_object_get(rec, "manifest"), "Platform",
        json_string_value(json_object_get(rec, "platform")), "Source",
        json_string_value(json_object_get(rec, "source")));
    json_decref(cfg);
    if (!out)
        return bt_err_set(err, BT_EINVALID, "image '%s': the record is incomplete", id);
    *ret = out;
    return 0;
}
