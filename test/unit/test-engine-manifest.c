/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/image/manifest.c and platform.c: Docker and OCI manifests and indexes
 * (with and without mediaType), the refusals with the field or type they name, limits, image
 * configs, platform parsing and normalisation, index selection as containerd's default matcher
 * does it, and chain ids checked against values computed with Python's hashlib.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/err.h"
#include "engine/image/manifest.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

#define DESC(mt, d, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":" #size "}"
#define CONFIG_DESC DESC("application/vnd.docker.container.image.v1+json", DA, 1469)
#define OCI_CONFIG_DESC DESC("application/vnd.oci.image.config.v1+json", DA, 1469)
#define LAYER(mt) DESC(mt, DB, 2811478)

#define DOCKER_LAYER_MT "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MANIFEST                                                                            \
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"," \
    "\"config\":" CONFIG_DESC                                                                      \
    ",\"layers\":[" LAYER(DOCKER_LAYER_MT) "," DESC(DOCKER_LAYER_MT, DC, 0) "]}"

#define ENTRY(d, os, arch, variant)                                                                \
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" d                \
    "\",\"size\":527,\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" variant "}}"

static void
parse_ok(const char *json, const char *ct, struct eng_img_manifest *m)
{
    bt_autoerr struct bt_err *err = NULL;
    if (eng_img_manifest_parse(json, strlen(json), ct, m, &err) < 0) {
        fprintf(stderr, "unexpected error: %s\n  in %s\n", err->msg, json);
        fail();
    }
}

static void
test_docker_manifest(void **state)
{
    (void) state;
    struct eng_img_manifest m = { 0 };
    parse_ok(DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json", &m);
    assert_int_equal(m.kind, ENG_IMG_MANIFEST);
    assert_string_equal(m.media_type, ENG_MT_DOCKER_MANIFEST);
    assert_string_equal(m.config.media_type, ENG_MT_DOCKER_CONFIG);
    assert_string_equal(m.config.digest, DA);
    assert_int_equal(m.config.size, 1469);
    assert_int_equal(m.nlayers, 2);
    assert_string_equal(m.layers[0].media_type, ENG_MT_DOCKER_LAYER);
    assert_string_equal(m.layers[0].digest, DB);
    assert_int_equal(m.layers[0].size, 2811478);
    assert_string_equal(m.layers[1].digest, DC);
    assert_int_equal(m.layers[1].size, 0);
    assert_false(m.layers[0].has_platform);
    assert_int_equal(m.nmanifests, 0);
    eng_img_manifest_release(&m);
    /* Released twice is fine. */
    eng_img_manifest_release(&m);
}

static void
test_oci_manifest_layer_types(void **state)
{
    (void) state;
#define OCI_LAYERS                                                                                 \
    LAYER("application/vnd.oci.image.layer.v1.tar")                                                \
    "," LAYER("application/vnd.oci.image.layer.v1.tar+gzip") "," LAYER(ENG_MT_OCI_LAYER_ZSTD)
    static const char json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":" OCI_CONFIG_DESC ",\"layers\":[" OCI_LAYERS "],\"annotations\":{}}";
    struct eng_img_manifest m = { 0 };
    parse_ok(json, NULL, &m);
    assert_int_equal(m.kind, ENG_IMG_MANIFEST);
    assert_string_equal(m.media_type, ENG_MT_OCI_MANIFEST);
    assert_int_equal(m.nlayers, 3);
    assert_string_equal(m.layers[2].media_type, ENG_MT_OCI_LAYER_ZSTD);
    eng_img_manifest_release(&m);
}

/* No mediaType: the content type decides, or the shape when there is none. */
static void
test_kind_without_media_type(void **state)
{
    (void) state;
    static const char index[] =
        "{\"schemaVersion\":2,\"manifests\":[" ENTRY(DA, "linux", "amd64", "") "]}";
    static const char manifest[] =
        "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":[]}";
    static const struct {
        const char *json, *ct;
        enum eng_img_manifest_kind kind;
        const char *media_type;
    } v[] = {
        { index, NULL, ENG_IMG_INDEX, ENG_MT_OCI_INDEX },
        { index, "application/json", ENG_IMG_INDEX, ENG_MT_OCI_INDEX },
        { index, "application/vnd.oci.image.index.v1+json; charset=utf-8", ENG_IMG_INDEX,
          ENG_MT_OCI_INDEX },
        { index, " Application/Vnd.Docker.Distribution.Manifest.List.V2+JSON", ENG_IMG_INDEX,
          ENG_MT_DOCKER_LIST },
        { manifest, NULL, ENG_IMG_MANIFEST, ENG_MT_OCI_MANIFEST },
        { manifest, "text/plain", ENG_IMG_MANIFEST, ENG_MT_OCI_MANIFEST },
        { manifest, ENG_MT_DOCKER_MANIFEST, ENG_IMG_MANIFEST, ENG_MT_DOCKER_MANIFEST },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_manifest m = { 0 };
        parse_ok(v[i].json, v[i].ct, &m);
        assert_int_equal(m.kind, v[i].kind);
        assert_string_equal(m.media_type, v[i].media_type);
        eng_img_manifest_release(&m);
    }
}

static void
test_docker_list(void **state)
{
    (void) state;
    static const char json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list."
        "v2+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DA
        "\",\"size\":528,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":"
        "\"v8\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DB
        "\",\"size\":528,\"platform\":{\"architecture\":\"windows-thing\",\"os\":\"windows\","
        "\"os.version\":\"10.0.17763.1\",\"variant\":\"\"}}]}";
    struct eng_img_manifest m = { 0 };
    parse_ok(json, ENG_MT_DOCKER_LIST, &m);
    assert_int_equal(m.kind, ENG_IMG_INDEX);
    assert_string_equal(m.media_type, ENG_MT_DOCKER_LIST);
    assert_int_equal(m.nmanifests, 2);
    assert_true(m.manifests[0].has_platform);
    assert_string_equal(m.manifests[0].platform.os, "linux");
    assert_string_equal(m.manifests[0].platform.architecture, "arm64");
    assert_string_equal(m.manifests[0].platform.variant, "v8");
    assert_null(m.manifests[0].platform.os_version);
    assert_null(m.manifests[1].platform.variant);
    assert_string_equal(m.manifests[1].platform.os_version, "10.0.17763.1");
    assert_int_equal(m.nlayers, 0);
    eng_img_manifest_release(&m);
}

struct reject {
    const char *json, *ct;
    int code;
    const char *msg;
};

static void
check_rejects(const struct reject *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct eng_img_manifest m = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_img_manifest_parse(v[i].json, strlen(v[i].json), v[i].ct, &m, &err);
        if (r != -v[i].code || !err || !strstr(err->msg, v[i].msg)) {
            fprintf(stderr, "case %zu: expected %d '%s', got %d '%s'\n  in %s\n", i, -v[i].code,
                    v[i].msg, r, err ? err->msg : "(none)", v[i].json);
            fail();
        }
        assert_null(m.media_type);
    }
}

#define MANIFEST_WITH_LAYER(layer)                                                                 \
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","           \
    "\"config\":" OCI_CONFIG_DESC                                                                  \
    ",\"layers\":[" LAYER("application/vnd.oci.image.layer.v1.tar") "," layer "]}"

static void
test_manifest_rejects(void **state)
{
    (void) state;
    static const struct reject v[] = {
        { "not json", NULL, BT_EPARSE, "manifest is not valid JSON" },
        { "[]", NULL, BT_EPARSE, "not a JSON object" },
        { "{\"a\":1,\"a\":2}", NULL, BT_EPARSE, "duplicate" },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo\"}", NULL, BT_EUNSUPPORTED,
          "unsupported manifest media type 'application/vnd.foo'" },
        { "{\"schemaVersion\":2,\"mediaType\":7}", NULL, BT_EINVALID,
          "field 'mediaType': not a string" },
        { "{\"layers\":[],\"config\":" OCI_CONFIG_DESC "}", NULL, BT_EINVALID,
          "field 'schemaVersion': missing" },
        { "{\"schemaVersion\":3,\"layers\":[]}", NULL, BT_EUNSUPPORTED, "schema version 2" },
        { "{\"schemaVersion\":\"2\",\"layers\":[]}", NULL, BT_EUNSUPPORTED, "schema version 2" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", "sha256:abc", 1)),
          NULL, BT_EINVALID, "manifest field 'layers[1].digest': invalid digest 'sha256:abc'" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", "sha512:" DA DA, 1)),
          NULL, BT_EUNSUPPORTED, "layers[1].digest': unsupported digest algorithm" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", DB, -1)), NULL,
          BT_EINVALID, "'layers[1].size': not an integer from 0 to 2^53" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", DB, 9007199254740993)),
          NULL, BT_EINVALID, "'layers[1].size'" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", DB, "12")), NULL,
          BT_EINVALID, "'layers[1].size'" },
        { MANIFEST_WITH_LAYER(DESC("application/vnd.oci.image.layer.v1.tar", DB, 1.5)), NULL,
          BT_EINVALID, "'layers[1].size'" },
        { MANIFEST_WITH_LAYER("{\"digest\":\"" DB "\",\"size\":1}"), NULL, BT_EINVALID,
          "'layers[1].mediaType': missing" },
        { MANIFEST_WITH_LAYER("{\"mediaType\":\"x\",\"size\":1}"), NULL, BT_EINVALID,
          "'layers[1].digest': missing" },
        { MANIFEST_WITH_LAYER("{\"mediaType\":\"x\",\"digest\":\"" DB "\"}"), NULL, BT_EINVALID,
          "'layers[1].size': missing" },
        { MANIFEST_WITH_LAYER("7"), NULL, BT_EINVALID, "'layers[1]': not an object" },
        { MANIFEST_WITH_LAYER(LAYER("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")),
          NULL, BT_EUNSUPPORTED,
          "foreign (non-distributable) layer "
          "'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' is not supported" },
        { MANIFEST_WITH_LAYER(
              LAYER("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")),
          NULL, BT_EUNSUPPORTED, "foreign (non-distributable) layer" },
        { MANIFEST_WITH_LAYER(LAYER("application/vnd.oci.image.layer.v1.tar+gzip+encrypted")), NULL,
          BT_EUNSUPPORTED,
          "'layers[1].mediaType': layer media type "
          "'application/vnd.oci.image.layer.v1.tar+gzip+encrypted' is not one berth can unpack" },
        { "{\"schemaVersion\":2,\"config\":" DESC("application/vnd.cncf.helm.config.v1+json", DA,
                                                  2) ",\"layers\":[]}",
          NULL, BT_EUNSUPPORTED,
          "'config.mediaType': 'application/vnd.cncf.helm.config.v1+json' is not an image config" },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          "\"layers\":[]}",
          NULL, BT_EINVALID, "field 'config': missing" },
        { "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":{}}", NULL, BT_EINVALID,
          "field 'layers': not an array" },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          "\"config\":" OCI_CONFIG_DESC "}",
          NULL, BT_EINVALID, "field 'layers': missing" },
        { "{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", NULL, BT_EINVALID,
          "field 'config': not an object" },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
          "\"manifests\":[],\"layers\":[]}",
          NULL, BT_EINVALID, "field 'layers': not allowed in an index" },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          "\"manifests\":[]}",
          NULL, BT_EINVALID, "field 'manifests': not allowed in an image manifest" },
        { "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", NULL, BT_EINVALID,
          "cannot tell an index from a manifest" },
        { "{\"schemaVersion\":2}", NULL, BT_EINVALID, "neither 'manifests' nor 'layers'" },
        { "{\"schemaVersion\":2,\"config\":{}}", ENG_MT_DOCKER_LIST, BT_EINVALID,
          "field 'config': not allowed in an index" },
        { "{\"schemaVersion\":2,\"manifests\":[]}", ENG_MT_OCI_MANIFEST, BT_EINVALID,
          "not allowed in an image manifest" },
        { DOCKER_MANIFEST, ENG_MT_OCI_INDEX, BT_EINVALID,
          "'application/vnd.docker.distribution.manifest.v2+json' contradicts the content type "
          "'application/vnd.oci.image.index.v1+json'" },
        { "{\"schemaVersion\":2,\"manifests\":{}}", NULL, BT_EINVALID,
          "field 'manifests': not an array" },
        { "{\"schemaVersion\":2,\"manifests\":[" DESC("x", DA, 1) ",{\"mediaType\":\"x\","
                                                                  "\"digest\":\"" DA "\","
                                                                  "\"size\":1,\"platform\":3}]}",
          NULL, BT_EINVALID, "'manifests[1].platform': not an object" },
        { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DA "\","
          "\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
          NULL, BT_EINVALID, "'manifests[0].platform.architecture': missing" },
        { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DA "\","
          "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\","
          "\"variant\":1}}]}",
          NULL, BT_EINVALID, "'manifests[0].platform.variant': not a string" },
    };
    check_rejects(v, sizeof v / sizeof v[0]);
}

static void
test_schema1_refused(void **state)
{
    (void) state;
    static const struct reject v[] = {
        { "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}", NULL,
          BT_EUNSUPPORTED, "schema 1 is not supported" },
        { "{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+"
          "prettyjws\"}",
          NULL, BT_EUNSUPPORTED, "schema 1" },
        { "{\"schemaVersion\":2,\"layers\":[]}",
          "application/vnd.docker.distribution.manifest.v1+prettyjws", BT_EUNSUPPORTED,
          "schema 1" },
        { "{}", "application/vnd.docker.distribution.manifest.v1+json", BT_EUNSUPPORTED,
          "schema 1" },
    };
    check_rejects(v, sizeof v / sizeof v[0]);
    bt_autoerr struct bt_err *err = NULL;
    struct eng_img_manifest m = { 0 };
    assert_int_equal(eng_img_manifest_parse(v[0].json, strlen(v[0].json), NULL, &m, &err),
                     -BT_EUNSUPPORTED);
    assert_non_null(err->hint);
    assert_non_null(strstr(err->hint, "re-push"));
}

/* A document of n array entries: "{"schemaVersion":2,<head>[e,e,...]<tail>". */
static char *
repeat_doc(const char *head, const char *entry, size_t n, const char *tail)
{
    struct bt_buf b;
    bt_buf_init(&b, 64 << 20);
    assert_int_equal(bt_buf_puts(&b, head), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(bt_buf_printf(&b, "%s%s", i ? "," : "", entry), 0);
    assert_int_equal(bt_buf_puts(&b, tail), 0);
    return bt_buf_steal(&b);
}

static void
test_limits(void **state)
{
    (void) state;
    const char *layer = LAYER("application/vnd.oci.image.layer.v1.tar+gzip");
    const char *mhead = "{\"schemaVersion\":2,\"config\":" OCI_CONFIG_DESC ",\"layers\":[";
    for (size_t n = ENG_IMG_MAX_LAYERS; n <= ENG_IMG_MAX_LAYERS + 1; n++) {
        bt_autofree char *json = repeat_doc(mhead, layer, n, "]}");
        struct eng_img_manifest m = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_img_manifest_parse(json, strlen(json), NULL, &m, &err);
        if (n == ENG_IMG_MAX_LAYERS) {
            assert_int_equal(r, 0);
            assert_int_equal(m.nlayers, n);
            eng_img_manifest_release(&m);
        } else {
            assert_int_equal(r, -BT_ETOOBIG);
            assert_non_null(strstr(err->msg, "field 'layers': 257 entries, more than the 256"));
        }
    }
    const char *entry = ENTRY(DA, "linux", "amd64", "");
    for (size_t n = ENG_IMG_MAX_ENTRIES; n <= ENG_IMG_MAX_ENTRIES + 1; n++) {
        bt_autofree char *json = repeat_doc("{\"schemaVersion\":2,\"manifests\":[", entry, n, "]}");
        struct eng_img_manifest m = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_img_manifest_parse(json, strlen(json), NULL, &m, &err);
        if (n == ENG_IMG_MAX_ENTRIES) {
            assert_int_equal(r, 0);
            eng_img_manifest_release(&m);
        } else {
            assert_int_equal(r, -BT_ETOOBIG);
            assert_non_null(strstr(err->msg, "1025 entries"));
        }
    }
    /* Over 4 MiB is refused before parsing, whatever it holds. */
    size_t big = ENG_IMG_MAX_JSON + 1;
    bt_autofree char *json = bt_xmalloc(big);
    memset(json, ' ', big);
    bt_autoerr struct bt_err *err = NULL;
    struct eng_img_manifest m = { 0 };
    assert_int_equal(eng_img_manifest_parse(json, big, NULL, &m, &err), -BT_ETOOBIG);
    assert_non_null(strstr(err->msg, "4194305 bytes"));
    struct eng_img_config c = { 0 };
    bt_autoerr struct bt_err *err2 = NULL;
    assert_int_equal(eng_img_config_parse(json, big, &c, &err2), -BT_ETOOBIG);
}

#define CONFIG_HEAD "{\"architecture\":\"arm64\",\"os\":\"linux\","

static void
test_config(void **state)
{
    (void) state;
    static const char json[] =
        CONFIG_HEAD "\"variant\":\"v8\",\"created\":\"2024-01-02T03:04:05Z\","
                    "\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/bin\"]},"
                    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]}}";
    struct eng_img_config c = { 0 };
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_img_config_parse(json, strlen(json), &c, &err), 0);
    assert_string_equal(c.os, "linux");
    assert_string_equal(c.architecture, "arm64");
    assert_string_equal(c.variant, "v8");
    assert_string_equal(c.created, "2024-01-02T03:04:05Z");
    assert_int_equal(c.ndiff_ids, 2);
    assert_string_equal(c.diff_ids[0], DA);
    assert_string_equal(c.diff_ids[1], DB);
    json_t *cmd = json_object_get(json_object_get(c.doc, "config"), "Cmd");
    assert_string_equal(json_string_value(json_array_get(cmd, 0)), "sh");
    eng_img_config_release(&c);
    eng_img_config_release(&c);

    static const char minimal[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"variant\":\"\","
                                  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    assert_int_equal(eng_img_config_parse(minimal, strlen(minimal), &c, NULL), 0);
    assert_null(c.variant);
    assert_null(c.created);
    assert_int_equal(c.ndiff_ids, 0);
    eng_img_config_release(&c);
}

static void
test_config_rejects(void **state)
{
    (void) state;
    static const struct {
        const char *json;
        int code;
        const char *msg;
    } v[] = {
        { "{", BT_EPARSE, "image config is not valid JSON" },
        { "[1]", BT_EPARSE, "image config is not a JSON object" },
        { "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
          BT_EINVALID, "image config field 'os': missing" },
        { "{\"os\":\"linux\",\"architecture\":3,\"rootfs\":{}}", BT_EINVALID,
          "field 'architecture': not a string" },
        { CONFIG_HEAD "\"created\":5,\"rootfs\":{}}", BT_EINVALID, "'created': not a string" },
        { CONFIG_HEAD "\"x\":1}", BT_EINVALID, "field 'rootfs': missing" },
        { CONFIG_HEAD "\"rootfs\":[]}", BT_EINVALID, "field 'rootfs': not an object" },
        { CONFIG_HEAD "\"rootfs\":{\"diff_ids\":[]}}", BT_EINVALID, "'rootfs.type': missing" },
        { CONFIG_HEAD "\"rootfs\":{\"type\":\"overlay\",\"diff_ids\":[]}}", BT_EUNSUPPORTED,
          "'rootfs.type': 'overlay' is not supported ('layers' expected)" },
        { CONFIG_HEAD "\"rootfs\":{\"type\":\"layers\"}}", BT_EINVALID,
          "'rootfs.diff_ids': missing" },
        { CONFIG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":\"x\"}}", BT_EINVALID,
          "'rootfs.diff_ids': not an array" },
        { CONFIG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",2]}}", BT_EINVALID,
          "'rootfs.diff_ids[1]': not a string" },
        { CONFIG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"sha256:x\"]}}",
          BT_EINVALID, "'rootfs.diff_ids[1]': invalid digest 'sha256:x'" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_config c = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_img_config_parse(v[i].json, strlen(v[i].json), &c, &err);
        if (r != -v[i].code || !err || !strstr(err->msg, v[i].msg)) {
            fprintf(stderr, "case %zu: expected %d '%s', got %d '%s'\n", i, -v[i].code, v[i].msg, r,
                    err ? err->msg : "(none)");
            fail();
        }
        assert_null(c.doc);
    }
    /* 257 diff ids. */
    bt_autofree char *json =
        repeat_doc(CONFIG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", "\"" DA "\"",
                   ENG_IMG_MAX_LAYERS + 1, "]}}");
    struct eng_img_config c = { 0 };
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_img_config_parse(json, strlen(json), &c, &err), -BT_ETOOBIG);
    assert_non_null(strstr(err->msg, "257 layers"));
}

static void
test_platform_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out;
    } v[] = {
        { "linux/amd64", "linux/amd64" },       { "linux/arm64", "linux/arm64/v8" },
        { "linux/arm64/v8", "linux/arm64/v8" }, { "linux/arm64/8", "linux/arm64/v8" },
        { "aarch64", "linux/arm64/v8" },        { "linux/aarch64", "linux/arm64/v8" },
        { "linux/arm", "linux/arm/v7" },        { "linux/armhf", "linux/arm/v7" },
        { "linux/armel", "linux/arm/v6" },      { "linux/arm/6", "linux/arm/v6" },
        { "linux/arm/v5", "linux/arm/v5" },     { "x86_64", "linux/amd64" },
        { "Linux/AMD64", "linux/amd64" },       { "linux/amd64/v1", "linux/amd64" },
        { "linux/amd64/v3", "linux/amd64/v3" }, { "linux/386", "linux/386" },
        { "linux/i686", "linux/386" },          { "linux/s390x", "linux/s390x" },
        { "linux/ppc64le", "linux/ppc64le" },   { "riscv64", "linux/riscv64" },
        { "windows/amd64", "windows/amd64" },   { "macos/arm64", "darwin/arm64/v8" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_platform p = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        assert_int_equal(eng_img_platform_parse(v[i].in, &p, &err), 0);
        bt_autofree char *s = eng_img_platform_str(&p);
        if (strcmp(s, v[i].out) != 0) {
            fprintf(stderr, "'%s': expected %s, got %s\n", v[i].in, v[i].out, s);
            fail();
        }
        eng_img_platform_release(&p);
    }
    /* One OS word: that OS on this host's architecture. */
    struct eng_img_platform host = { 0 }, p = { 0 };
    eng_img_platform_host(&host);
    assert_int_equal(eng_img_platform_parse("linux", &p, NULL), 0);
    assert_string_equal(p.os, "linux");
    assert_string_equal(p.architecture, host.architecture);
    eng_img_platform_release(&p);
    eng_img_platform_release(&host);

    static const char *const bad[] = {
        "", "linux/", "/amd64", "linux/arm/v7/x", "linux amd64", "linux//x", "lin\xc3\xbcx/x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bt_autoerr struct bt_err *err = NULL;
        assert_int_equal(eng_img_platform_parse(bad[i], &p, &err), -BT_EINVALID);
        assert_non_null(strstr(err->msg, "invalid platform '"));
        assert_non_null(err->hint);
    }
}

static void
test_platform_host(void **state)
{
    (void) state;
    struct eng_img_platform p = { 0 };
    eng_img_platform_host(&p);
    assert_string_equal(p.os, "linux");
    /* Normalised: never the kernel's own names. */
    assert_string_not_equal(p.architecture, "x86_64");
    assert_string_not_equal(p.architecture, "aarch64");
#if defined(__x86_64__)
    assert_string_equal(p.architecture, "amd64");
    assert_null(p.variant);
#elif defined(__aarch64__)
    assert_string_equal(p.architecture, "arm64");
    assert_string_equal(p.variant, "v8");
#endif
    eng_img_platform_release(&p);
}

#define MT_OCI "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER "application/vnd.docker.distribution.manifest.v2+json"

/* An index of platform strings ("os/arch[/variant]", "-" for none, "!" prefix: an index
 * entry, which selection skips). */
static void
make_index(const char *const *platforms, size_t n, struct eng_img_manifest *ret)
{
    *ret = (struct eng_img_manifest){ .kind = ENG_IMG_INDEX, .nmanifests = n };
    ret->media_type = bt_xstrdup(ENG_MT_OCI_INDEX);
    ret->manifests = bt_xcalloc(n, sizeof *ret->manifests);
    for (size_t i = 0; i < n; i++) {
        struct eng_img_descriptor *d = &ret->manifests[i];
        const char *p = platforms[i];
        bool nested = p[0] == '!';
        d->media_type = bt_xstrdup(nested ? ENG_MT_OCI_INDEX : i % 2 ? MT_OCI : MT_DOCKER);
        d->digest = bt_xstrdup(DA);
        if (strcmp(p + nested, "-") == 0)
            continue;
        d->has_platform = true;
        char *s = bt_xstrdup(p + nested);
        char *arch = strchr(s, '/');
        *arch++ = '\0';
        char *variant = strchr(arch, '/');
        if (variant)
            *variant++ = '\0';
        d->platform.os = bt_xstrdup(s);
        d->platform.architecture = bt_xstrdup(arch);
        d->platform.variant = variant ? bt_xstrdup(variant) : NULL;
        free(s);
    }
}

static void
test_index_select(void **state)
{
    (void) state;
    static const char *const full[] = {
        "linux/amd64", "linux/arm64/v8",  "linux/arm/v7", "linux/arm/v6",
        "linux/s390x", "unknown/unknown", "linux/386",    "linux/amd64/v3",
    };
    static const struct {
        const char *want;
        int index; /* -1: no match */
    } v[] = {
        { "linux/amd64", 0 },    { "linux/amd64/v3", 7 }, { "linux/amd64/v2", 0 },
        { "linux/arm64", 1 },    { "linux/aarch64", 1 },  { "linux/arm64/v9", 1 },
        { "linux/arm/v7", 2 },   { "linux/arm", 2 },      { "linux/arm/v8", 2 },
        { "linux/arm/v6", 3 },   { "linux/armel", 3 },    { "linux/arm/v5", -1 },
        { "linux/s390x", 4 },    { "linux/i386", 6 },     { "unknown/unknown", -1 },
        { "windows/amd64", -1 }, { "linux/riscv64", -1 }, { "linux/amd64/v4", 0 },
    };
    struct eng_img_manifest idx;
    make_index(full, sizeof full / sizeof full[0], &idx);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_platform want = { 0 };
        assert_int_equal(eng_img_platform_parse(v[i].want, &want, NULL), 0);
        size_t got = 999;
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_img_index_select(&idx, &want, &got, &err);
        if ((v[i].index < 0 && r == 0) ||
            (v[i].index >= 0 && (r < 0 || got != (size_t) v[i].index))) {
            fprintf(stderr, "'%s': expected %d, got r=%d index=%zu (%s)\n", v[i].want, v[i].index,
                    r, got, err ? err->msg : "");
            fail();
        }
        if (r < 0)
            assert_int_equal(r, -BT_EINVALID);
        eng_img_platform_release(&want);
    }
    eng_img_manifest_release(&idx);
}

static void
test_index_select_preference(void **state)
{
    (void) state;
    static const struct {
        const char *entries[4];
        size_t n;
        const char *want;
        size_t index;
    } v[] = {
        /* Exact variant wins over an older one listed first. */
        { { "linux/arm/v5", "linux/arm/v6", "linux/arm/v7" }, 3, "linux/arm/v7", 2 },
        /* Among older ones the newest. */
        { { "linux/arm/v5", "linux/arm/v6" }, 2, "linux/arm/v7", 1 },
        /* arm64 without variant is v8. */
        { { "linux/arm64" }, 1, "linux/arm64/v8", 0 },
        { { "linux/arm64/v8" }, 1, "linux/arm64", 0 },
        /* Ties: the first. */
        { { "linux/amd64", "linux/amd64" }, 2, "linux/amd64", 0 },
        /* An entry for a variant the host lacks is no match; one without is. */
        { { "linux/amd64/v3", "linux/amd64" }, 2, "linux/amd64", 1 },
        /* Nested indexes are skipped; attestations too. */
        { { "!linux/amd64", "unknown/unknown", "linux/amd64" }, 3, "linux/amd64", 2 },
        /* No platform: matches anything, after real matches. */
        { { "-", "linux/amd64" }, 2, "linux/amd64", 1 },
        { { "-", "linux/s390x" }, 2, "linux/amd64", 0 },
        /* Names are normalised on both sides. */
        { { "Linux/x86_64" }, 1, "linux/amd64", 0 },
        { { "linux/arm/7" }, 1, "linux/armhf", 0 },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_manifest idx;
        make_index(v[i].entries, v[i].n, &idx);
        struct eng_img_platform want = { 0 };
        assert_int_equal(eng_img_platform_parse(v[i].want, &want, NULL), 0);
        size_t got = 999;
        bt_autoerr struct bt_err *err = NULL;
        if (eng_img_index_select(&idx, &want, &got, &err) < 0 || got != v[i].index) {
            fprintf(stderr, "case %zu: expected %zu, got %zu (%s)\n", i, v[i].index, got,
                    err ? err->msg : "");
            fail();
        }
        eng_img_platform_release(&want);
        eng_img_manifest_release(&idx);
    }
}

static void
test_index_select_error(void **state)
{
    (void) state;
    static const char *const entries[] = { "linux/arm64/v8", "unknown/unknown", "linux/s390x",
                                           "!linux/amd64" };
    struct eng_img_manifest idx;
    make_index(entries, 4, &idx);
    struct eng_img_platform want = { 0 };
    assert_int_equal(eng_img_platform_parse("linux/amd64", &want, NULL), 0);
    size_t got = 7;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_img_index_select(&idx, &want, &got, &err), -BT_EINVALID);
    assert_string_equal(err->msg, "no matching manifest for linux/amd64 in the manifest list "
                                  "entries (offered: linux/arm64/v8, linux/s390x)");
    assert_int_equal(got, 7);
    eng_img_manifest_release(&idx);

    make_index(entries + 1, 1, &idx);
    bt_autoerr struct bt_err *err2 = NULL;
    assert_int_equal(eng_img_index_select(&idx, &want, &got, &err2), -BT_EINVALID);
    assert_non_null(strstr(err2->msg, "(offered: none)"));
    eng_img_manifest_release(&idx);
    eng_img_platform_release(&want);
}

static void
test_chain_ids(void **state)
{
    (void) state;
    char a[] = DA, b[] = DB, c[] = DC;
    char *diff[] = { a, b, c };
    char **chain = eng_img_chain_ids(diff, 3);
    assert_string_equal(chain[0], DA);
    /* python3: hashlib.sha256((DA + " " + DB).encode()).hexdigest() */
    assert_string_equal(chain[1],
                        "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
    assert_string_equal(chain[2],
                        "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
    for (size_t i = 0; i < 3; i++)
        free(chain[i]);
    free(chain);
    assert_null(eng_img_chain_ids(diff, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_manifest),
        cmocka_unit_test(test_oci_manifest_layer_types),
        cmocka_unit_test(test_kind_without_media_type),
        cmocka_unit_test(test_docker_list),
        cmocka_unit_test(test_manifest_rejects),
        cmocka_unit_test(test_schema1_refused),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_rejects),
        cmocka_unit_test(test_platform_parse),
        cmocka_unit_test(test_platform_host),
        cmocka_unit_test(test_index_select),
        cmocka_unit_test(test_index_select_preference),
        cmocka_unit_test(test_index_select_error),
        cmocka_unit_test(test_chain_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
