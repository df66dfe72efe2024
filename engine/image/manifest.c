/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests, indexes and image configs: JSON from a registry or an archive checked field by
 * field and copied into plain structs, so nothing downstream touches jansson or trusts a shape.
 * Platforms and index selection live in platform.c. Pure: no I/O.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/sha256.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
/* The largest size a descriptor may give: JSON numbers stay exact up to 2^53. */
#define SIZE_MAX_JSON (INT64_C(1) << 53)
/* How much of a string from the document an error message quotes. */
#define QUOTE_MAX 200
#define CONTENT_TYPE_MAX 256

enum doc_type {
    DOC_UNKNOWN,
    DOC_SCHEMA1,
    DOC_DOCKER_MANIFEST,
    DOC_DOCKER_LIST,
    DOC_OCI_MANIFEST,
    DOC_OCI_INDEX
};

static const struct {
    const char *media_type;
    enum doc_type type;
} doc_types[] = {
    { MT_DOCKER_SCHEMA1, DOC_SCHEMA1 },
    { MT_DOCKER_SCHEMA1_SIGNED, DOC_SCHEMA1 },
    { ENG_MT_DOCKER_MANIFEST, DOC_DOCKER_MANIFEST },
    { ENG_MT_DOCKER_LIST, DOC_DOCKER_LIST },
    { ENG_MT_OCI_MANIFEST, DOC_OCI_MANIFEST },
    { ENG_MT_OCI_INDEX, DOC_OCI_INDEX },
};

/* Layers berth unpacks: the unpacker tells the compression from the first bytes. */
static const char *const layer_types[] = {
    ENG_MT_DOCKER_LAYER,
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    ENG_MT_OCI_LAYER,
    ENG_MT_OCI_LAYER_GZIP,
    ENG_MT_OCI_LAYER_ZSTD,
};

/* Layers that are not in the registry (Windows base layers): fetched from elsewhere. */
static const char *const foreign_layer_types[] = {
    ENG_MT_DOCKER_FOREIGN,
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
};

static bool
str_in(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

static enum doc_type
doc_type_of(const char *mt)
{
    for (size_t i = 0; mt && i < BT_ARRAY_SIZE(doc_types); i++)
        if (strcmp(mt, doc_types[i].media_type) == 0)
            return doc_types[i].type;
    return DOC_UNKNOWN;
}

static bool
doc_type_is_index(enum doc_type t)
{
    return t == DOC_DOCKER_LIST || t == DOC_OCI_INDEX;
}

/* "what field 'path': message", with the quoted parts of the message escaped by the caller. */
BT_PRINTF(5, 6)
static int
field_error(struct bt_err **err, int code, const char *what, const char *field, const char *fmt,
            ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *msg = bt_xvasprintf(fmt, ap);
    va_end(ap);
    return bt_err_set(err, code, "%s field '%s': %s", what, field, msg);
}

static char *
quote(const char *s)
{
    return bt_log_escape(s, strlen(s), QUOTE_MAX);
}

/* A string member: required or not; *ret borrowed from o (NULL when absent and optional). */
static int
get_string(json_t *o, const char *key, bool required, const char *what, const char *field,
           const char **ret, struct bt_err **err)
{
    json_t *v = json_object_get(o, key);
    *ret = NULL;
    if (!v && !required)
        return 0;
    if (!v)
        return field_error(err, BT_EINVALID, what, field, "missing");
    if (!json_is_string(v))
        return field_error(err, BT_EINVALID, what, field, "not a string");
    *ret = json_string_value(v);
    return 0;
}

static char *
xstrdup_or_null(const char *s)
{
    return s ? bt_xstrdup(s) : NULL;
}

static int
load_object(const char *data, size_t len, const char *what, json_t **ret, struct bt_err **err)
{
    if (len > ENG_IMG_MAX_JSON)
        return bt_err_set(err, BT_ETOOBIG, "%s is %zu bytes, more than the %u berth accepts", what,
                          len, ENG_IMG_MAX_JSON);
    json_error_t jerr;
    /* Duplicate keys are refused: two readers must never see two different documents. */
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_err_set(err, BT_EPARSE, "%s is not valid JSON: %s (line %d, column %d)", what,
                          jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return bt_err_set(err, BT_EPARSE, "%s is not a JSON object", what);
    }
    *ret = root;
    return 0;
}

void
eng_img_platform_release(struct eng_img_platform *p)
{
    if (!p)
        return;
    free(p->os);
    free(p->architecture);
    free(p->variant);
    free(p->os_version);
    *p = (struct eng_img_platform){ 0 };
}

static void
descriptor_release(struct eng_img_descriptor *d)
{
    free(d->media_type);
    free(d->digest);
    eng_img_platform_release(&d->platform);
    *d = (struct eng_img_descriptor){ 0 };
}

static int
platform_parse_json(json_t *o, const char *field, struct eng_img_platform *ret, struct bt_err **err)
{
    bt_autofree char *f = bt_xasprintf("%s.platform", field);
    if (!json_is_object(o))
        return field_error(err, BT_EINVALID, "manifest", f, "not an object");
    const char *os, *arch, *variant, *os_version;
    bt_autofree char *f_os = bt_xasprintf("%s.os", f);
    bt_autofree char *f_arch = bt_xasprintf("%s.architecture", f);
    bt_autofree char *f_variant = bt_xasprintf("%s.variant", f);
    bt_autofree char *f_osv = bt_xasprintf("%s.os.version", f);
    if (get_string(o, "os", true, "manifest", f_os, &os, err) < 0 ||
        get_string(o, "architecture", true, "manifest", f_arch, &arch, err) < 0 ||
        get_string(o, "variant", false, "manifest", f_variant, &variant, err) < 0 ||
        get_string(o, "os.version", false, "manifest", f_osv, &os_version, err) < 0)
        return -BT_EINVALID;
    *ret = (struct eng_img_platform){
        .os = bt_xstrdup(os),
        .architecture = bt_xstrdup(arch),
        /* An empty variant is no variant. */
        .variant = variant && *variant ? bt_xstrdup(variant) : NULL,
        .os_version = xstrdup_or_null(os_version),
    };
    return 0;
}

/* One descriptor at field (for messages: "layers[2]"); index entries may carry a platform. */
static int
descriptor_parse(json_t *o, const char *field, bool with_platform, struct eng_img_descriptor *ret,
                 struct bt_err **err)
{
    if (!json_is_object(o))
        return field_error(err, BT_EINVALID, "manifest", field, "not an object");
    const char *mt, *digest;
    bt_autofree char *f_mt = bt_xasprintf("%s.mediaType", field);
    bt_autofree char *f_digest = bt_xasprintf("%s.digest", field);
    bt_autofree char *f_size = bt_xasprintf("%s.size", field);
    if (get_string(o, "mediaType", true, "manifest", f_mt, &mt, err) < 0 ||
        get_string(o, "digest", true, "manifest", f_digest, &digest, err) < 0)
        return -BT_EINVALID;
    int r = eng_img_digest_check(digest, err);
    if (r < 0)
        return bt_err_wrap(err, "manifest field '%s'", f_digest);
    json_t *size = json_object_get(o, "size");
    if (!size)
        return field_error(err, BT_EINVALID, "manifest", f_size, "missing");
    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        json_integer_value(size) > SIZE_MAX_JSON)
        return field_error(err, BT_EINVALID, "manifest", f_size, "not an integer from 0 to 2^53");
    struct eng_img_descriptor d = { .size = json_integer_value(size) };
    json_t *platform = json_object_get(o, "platform");
    if (with_platform && platform) {
        r = platform_parse_json(platform, field, &d.platform, err);
        if (r < 0)
            return r;
        d.has_platform = true;
    }
    d.media_type = bt_xstrdup(mt);
    d.digest = bt_xstrdup(digest);
    *ret = d;
    return 0;
}

static int
layer_type_check(const struct eng_img_descriptor *d, const char *field, struct bt_err **err)
{
    if (str_in(d->media_type, layer_types, BT_ARRAY_SIZE(layer_types)))
        return 0;
    bt_autofree char *q = quote(d->media_type);
    if (str_in(d->media_type, foreign_layer_types, BT_ARRAY_SIZE(foreign_layer_types))) {
        int r = field_error(err, BT_EUNSUPPORTED, "manifest", field,
                            "foreign (non-distributable) layer '%s' is not supported", q);
        bt_err_hint(err, "foreign layers belong to Windows images; berth runs Linux images");
        return r;
    }
    return field_error(err, BT_EUNSUPPORTED, "manifest", field,
                       "layer media type '%s' is not one berth can unpack (tar, tar+gzip, "
                       "tar+zstd)",
                       q);
}

/* An array member of at most max elements, each parsed as a descriptor into *ret. */
static int
descriptors_parse(json_t *root, const char *key, size_t max, bool is_layers,
                  struct eng_img_descriptor **ret, size_t *ret_n, struct bt_err **err)
{
    json_t *a = json_object_get(root, key);
    if (!a)
        return field_error(err, BT_EINVALID, "manifest", key, "missing");
    if (!json_is_array(a))
        return field_error(err, BT_EINVALID, "manifest", key, "not an array");
    size_t n = json_array_size(a);
    if (n > max)
        return field_error(err, BT_ETOOBIG, "manifest", key,
                           "%zu entries, more than the %zu berth accepts", n, max);
    struct eng_img_descriptor *v = n ? bt_xcalloc(n, sizeof *v) : NULL;
    for (size_t i = 0; i < n; i++) {
        bt_autofree char *f = bt_xasprintf("%s[%zu]", key, i);
        int r = descriptor_parse(json_array_get(a, i), f, !is_layers, &v[i], err);
        if (r >= 0 && is_layers) {
            bt_autofree char *f_mt = bt_xasprintf("%s.mediaType", f);
            r = layer_type_check(&v[i], f_mt, err);
        }
        if (r < 0) {
            for (size_t j = 0; j <= i; j++)
                descriptor_release(&v[j]);
            free(v);
            return r;
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static int
config_descriptor_parse(json_t *root, struct eng_img_descriptor *ret, struct bt_err **err)
{
    json_t *c = json_object_get(root, "config");
    if (!c)
        return field_error(err, BT_EINVALID, "manifest", "config", "missing");
    int r = descriptor_parse(c, "config", false, ret, err);
    if (r < 0)
        return r;
    if (strcmp(ret->media_type, ENG_MT_DOCKER_CONFIG) != 0 &&
        strcmp(ret->media_type, ENG_MT_OCI_CONFIG) != 0) {
        bt_autofree char *q = quote(ret->media_type);
        descriptor_release(ret);
        return field_error(err, BT_EUNSUPPORTED, "manifest", "config.mediaType",
                           "'%s' is not an image config: this is an artifact, not a container "
                           "image",
                           q);
    }
    return 0;
}

void
eng_img_manifest_release(struct eng_img_manifest *m)
{
    if (!m)
        return;
    free(m->media_type);
    descriptor_release(&m->config);
    for (size_t i = 0; i < m->nlayers; i++)
        descriptor_release(&m->layers[i]);
    free(m->layers);
    for (size_t i = 0; i < m->nmanifests; i++)
        descriptor_release(&m->manifests[i]);
    free(m->manifests);
    *m = (struct eng_img_manifest){ 0 };
}

static int
schema1_error(struct bt_err **err)
{
    int r = bt_err_set(err, BT_EUNSUPPORTED,
                       "image manifest schema 1 is not supported (deprecated by Docker since "
                       "2017)");
    bt_err_hint(err, "re-push the image with a current Docker or skopeo to convert it to "
                     "schema 2 or OCI");
    return r;
}

/* The media type of content_type without parameters or case: "Application/JSON; charset=x"
 * -> "application/json". Returns a new string, or NULL when there is none. */
static char *
content_type_base(const char *ct)
{
    if (!ct)
        return NULL;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 0 || n > CONTENT_TYPE_MAX)
        return NULL;
    char *s = bt_xstrndup(ct, n);
    for (char *p = s; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return s;
}

/* Which kind of document root is: its mediaType, else the content type it came with, else its
 * shape (an OCI index need not name itself: `manifests` makes it one, `layers` a manifest). */
static int
doc_type_decide(json_t *root, const char *content_type, enum doc_type *ret,
                const char **ret_media_type, struct bt_err **err)
{
    bt_autofree char *ct = content_type_base(content_type);
    enum doc_type ct_type = doc_type_of(ct);
    const char *mt;
    if (get_string(root, "mediaType", false, "manifest", "mediaType", &mt, err) < 0)
        return -BT_EINVALID;
    enum doc_type type = doc_type_of(mt);
    json_t *version = json_object_get(root, "schemaVersion");
    if (type == DOC_SCHEMA1 || ct_type == DOC_SCHEMA1 ||
        (json_is_integer(version) && json_integer_value(version) == 1))
        return schema1_error(err);
    if (mt && type == DOC_UNKNOWN) {
        bt_autofree char *q = quote(mt);
        return field_error(err, BT_EUNSUPPORTED, "manifest", "mediaType",
                           "unsupported manifest media type '%s'", q);
    }
    if (!version)
        return field_error(err, BT_EINVALID, "manifest", "schemaVersion", "missing");
    if (!json_is_integer(version) || json_integer_value(version) != 2)
        return field_error(err, BT_EUNSUPPORTED, "manifest", "schemaVersion",
                           "only schema version 2 is supported");
    bool has_index = json_object_get(root, "manifests") != NULL;
    bool has_manifest = json_object_get(root, "layers") || json_object_get(root, "config");
    if (type != DOC_UNKNOWN && ct_type != DOC_UNKNOWN &&
        doc_type_is_index(type) != doc_type_is_index(ct_type)) {
        bt_autofree char *q = quote(ct);
        return field_error(err, BT_EINVALID, "manifest", "mediaType",
                           "'%s' contradicts the content type '%s'", mt, q);
    }
    if (type == DOC_UNKNOWN)
        type = ct_type;
    if (type == DOC_UNKNOWN) {
        if (has_index && has_manifest)
            return bt_err_set(err, BT_EINVALID,
                              "manifest has both 'manifests' and 'layers' or 'config' and no "
                              "mediaType: cannot tell an index from a manifest");
        if (!has_index && !has_manifest)
            return bt_err_set(err, BT_EINVALID,
                              "manifest has neither 'manifests' nor 'layers': not an image "
                              "manifest or index");
        type = has_index ? DOC_OCI_INDEX : DOC_OCI_MANIFEST;
    }
    if (doc_type_is_index(type) && has_manifest)
        return field_error(err, BT_EINVALID, "manifest",
                           json_object_get(root, "layers") ? "layers" : "config",
                           "not allowed in an index");
    if (!doc_type_is_index(type) && has_index)
        return field_error(err, BT_EINVALID, "manifest", "manifests",
                           "not allowed in an image manifest");
    *ret = type;
    for (size_t i = 0; i < BT_ARRAY_SIZE(doc_types); i++)
        if (doc_types[i].type == type)
            *ret_media_type = doc_types[i].media_type;
    return 0;
}

int
eng_img_manifest_parse(const char *data, size_t len, const char *content_type,
                       struct eng_img_manifest *ret, struct bt_err **err)
{
    json_t *root = NULL;
    int r = load_object(data, len, "manifest", &root, err);
    if (r < 0)
        return r;
    enum doc_type type = DOC_UNKNOWN;
    const char *mt = NULL;
    struct eng_img_manifest m = { 0 };
    r = doc_type_decide(root, content_type, &type, &mt, err);
    if (r < 0)
        goto out;
    m.media_type = bt_xstrdup(mt);
    if (doc_type_is_index(type)) {
        m.kind = ENG_IMG_INDEX;
        r = descriptors_parse(root, "manifests", ENG_IMG_MAX_ENTRIES, false, &m.manifests,
                              &m.nmanifests, err);
    } else {
        m.kind = ENG_IMG_MANIFEST;
        r = config_descriptor_parse(root, &m.config, err);
        if (r >= 0)
            r = descriptors_parse(root, "layers", ENG_IMG_MAX_LAYERS, true, &m.layers, &m.nlayers,
                                  err);
    }
out:
    json_decref(root);
    if (r < 0) {
        eng_img_manifest_release(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void
eng_img_config_release(struct eng_img_config *c)
{
    if (!c)
        return;
    json_decref(c->doc);
    free(c->os);
    free(c->architecture);
    free(c->variant);
    for (size_t i = 0; i < c->ndiff_ids; i++)
        free(c->diff_ids[i]);
    free(c->diff_ids);
    free(c->created);
    *c = (struct eng_img_config){ 0 };
}

static int
diff_ids_parse(json_t *root, struct eng_img_config *c, struct bt_err **err)
{
    json_t *rootfs = json_object_get(root, "rootfs");
    if (!rootfs)
        return field_error(err, BT_EINVALID, "image config", "rootfs", "missing");
    if (!json_is_object(rootfs))
        return field_error(err, BT_EINVALID, "image config", "rootfs", "not an object");
    const char *type;
    if (get_string(rootfs, "type", true, "image config", "rootfs.type", &type, err) < 0)
        return -BT_EINVALID;
    if (strcmp(type, "layers") != 0) {
        bt_autofree char *q = quote(type);
        return field_error(err, BT_EUNSUPPORTED, "image config", "rootfs.type",
                           "'%s' is not supported ('layers' expected)", q);
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!ids)
        return field_error(err, BT_EINVALID, "image config", "rootfs.diff_ids", "missing");
    if (!json_is_array(ids))
        return field_error(err, BT_EINVALID, "image config", "rootfs.diff_ids", "not an array");
    size_t n = json_array_size(ids);
    if (n > ENG_IMG_MAX_LAYERS)
        return field_error(err, BT_ETOOBIG, "image config", "rootfs.diff_ids",
                           "%zu layers, more than the %d berth accepts", n, ENG_IMG_MAX_LAYERS);
    c->diff_ids = n ? bt_xcalloc(n, sizeof *c->diff_ids) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *id = json_array_get(ids, i);
        if (!json_is_string(id))
            return bt_err_set(err, BT_EINVALID,
                              "image config field 'rootfs.diff_ids[%zu]': not a "
                              "string",
                              i);
        if (eng_img_digest_check(json_string_value(id), err) < 0)
            return bt_err_wrap(err, "image config field 'rootfs.diff_ids[%zu]'", i);
        c->diff_ids[i] = bt_xstrdup(json_string_value(id));
        c->ndiff_ids = i + 1;
    }
    return 0;
}

int
eng_img_config_parse(const char *data, size_t len, struct eng_img_config *ret, struct bt_err **err)
{
    json_t *root = NULL;
    int r = load_object(data, len, "image config", &root, err);
    if (r < 0)
        return r;
    struct eng_img_config c = { 0 };
    const char *os, *arch, *variant, *created;
    r = -BT_EINVALID;
    if (get_string(root, "os", true, "image config", "os", &os, err) < 0 ||
        get_string(root, "architecture", true, "image config", "architecture", &arch, err) < 0 ||
        get_string(root, "variant", false, "image config", "variant", &variant, err) < 0 ||
        get_string(root, "created", false, "image config", "created", &created, err) < 0)
        goto fail;
    r = diff_ids_parse(root, &c, err);
    if (r < 0)
        goto fail;
    c.os = bt_xstrdup(os);
    c.architecture = bt_xstrdup(arch);
    c.variant = variant && *variant ? bt_xstrdup(variant) : NULL;
    c.created = xstrdup_or_null(created);
    c.doc = root;
    *ret = c;
    return 0;
fail:
    c.doc = root;
    eng_img_config_release(&c);
    return r;
}

char **
eng_img_chain_ids(char *const *diff_ids, size_t n)
{
    if (n == 0)
        return NULL;
    char **chain = bt_xcalloc(n, sizeof *chain);
    chain[0] = bt_xstrdup(diff_ids[0]);
    for (size_t i = 1; i < n; i++) {
        bt_autofree char *pair = bt_xasprintf("%s %s", chain[i - 1], diff_ids[i]);
        char hex[BT_SHA256_HEX_LEN];
        bt_sha256_hex(pair, strlen(pair), hex);
        chain[i] = bt_xasprintf("sha256:%s", hex);
    }
    return chain;
}
