/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for engine/image: the input as a manifest or index (the first byte picks
 * the content type it came with), as an image config, and (NUL-terminated) as an image
 * reference and a platform. Beyond not crashing or leaking, it checks what ref.h and
 * manifest.h promise: every failure carries a message, accepted descriptors hold valid digests
 * and sizes within limits, index selection returns an entry of the index, config diff_ids give
 * one chain id each, and a reference's full and familiar forms parse back to the same full form.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "engine/base/alloc.h"
#include "engine/image/manifest.h"
#include "engine/image/ref.h"

/* References and platforms are short; the JSON parsers get the whole input. */
#define MAX_STRING 4096

static const char *const content_types[] = {
    NULL,
    "application/json",
    ENG_MT_DOCKER_MANIFEST,
    ENG_MT_DOCKER_LIST,
    ENG_MT_OCI_MANIFEST,
    ENG_MT_OCI_INDEX "; charset=utf-8",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "",
};

static void
check_failed(int r, struct bt_err *err)
{
    CHECK(r < 0 && err && err->msg && err->code == -r);
    bt_err_free(err);
}

static void
check_descriptor(const struct eng_img_descriptor *d)
{
    CHECK(d->media_type != NULL);
    CHECK(eng_img_digest_is_valid(d->digest));
    CHECK(d->size >= 0 && d->size <= (INT64_C(1) << 53));
    CHECK(!d->has_platform || (d->platform.os && d->platform.architecture));
}

static void
fuzz_manifest(const char *data, size_t size, const char *ct)
{
    struct eng_img_manifest m = { 0 };
    struct bt_err *err = NULL;
    int r = eng_img_manifest_parse(data, size, ct, &m, &err);
    if (r < 0) {
        check_failed(r, err);
        return;
    }
    CHECK(m.media_type != NULL);
    if (m.kind == ENG_IMG_MANIFEST) {
        CHECK(m.nmanifests == 0 && m.nlayers <= ENG_IMG_MAX_LAYERS);
        check_descriptor(&m.config);
        for (size_t i = 0; i < m.nlayers; i++)
            check_descriptor(&m.layers[i]);
    } else {
        CHECK(m.nlayers == 0 && m.nmanifests <= ENG_IMG_MAX_ENTRIES);
        for (size_t i = 0; i < m.nmanifests; i++)
            check_descriptor(&m.manifests[i]);
        struct eng_img_platform host;
        eng_img_platform_host(&host);
        static const char *const wants[] = { "linux/arm/v7", "linux/arm64", "linux/amd64" };
        for (size_t i = 0; i <= BT_ARRAY_SIZE(wants); i++) {
            struct eng_img_platform p = host;
            struct eng_img_platform parsed = { 0 };
            if (i < BT_ARRAY_SIZE(wants)) {
                CHECK(eng_img_platform_parse(wants[i], &parsed, NULL) == 0);
                p = parsed;
            }
            size_t idx = SIZE_MAX;
            err = NULL;
            r = eng_img_index_select(&m, &p, &idx, &err);
            if (r == 0)
                CHECK(idx < m.nmanifests);
            else
                check_failed(r, err);
            eng_img_platform_release(&parsed);
        }
        eng_img_platform_release(&host);
    }
    eng_img_manifest_release(&m);
}

static void
fuzz_config(const char *data, size_t size)
{
    struct eng_img_config c = { 0 };
    struct bt_err *err = NULL;
    int r = eng_img_config_parse(data, size, &c, &err);
    if (r < 0) {
        check_failed(r, err);
        return;
    }
    CHECK(c.doc && c.os && c.architecture && c.ndiff_ids <= ENG_IMG_MAX_LAYERS);
    char **chain = eng_img_chain_ids(c.diff_ids, c.ndiff_ids);
    for (size_t i = 0; i < c.ndiff_ids; i++) {
        CHECK(eng_img_digest_is_valid(c.diff_ids[i]) && eng_img_digest_is_valid(chain[i]));
        free(chain[i]);
    }
    free(chain);
    eng_img_config_release(&c);
}

static void
fuzz_ref(const char *s)
{
    struct eng_img_ref ref = { 0 };
    struct bt_err *err = NULL;
    int r = eng_img_ref_parse(s, &ref, &err);
    if (r < 0) {
        check_failed(r, err);
        return;
    }
    CHECK(ref.domain && ref.path && (ref.tag || ref.digest));
    char *full = eng_img_ref_str(&ref);
    char *familiar = eng_img_ref_familiar(&ref);
    char *repo = eng_img_ref_repo(&ref);
    CHECK(eng_img_ref_registry_host(&ref) != NULL);
    const char *again_of[] = { full, familiar };
    for (size_t i = 0; i < BT_ARRAY_SIZE(again_of); i++) {
        struct eng_img_ref again = { 0 };
        CHECK(eng_img_ref_parse(again_of[i], &again, NULL) == 0);
        char *full2 = eng_img_ref_str(&again);
        CHECK(strcmp(full, full2) == 0);
        free(full2);
        eng_img_ref_release(&again);
    }
    free(full);
    free(familiar);
    free(repo);
    eng_img_ref_release(&ref);
}

static void
fuzz_platform(const char *s)
{
    struct eng_img_platform p = { 0 };
    struct bt_err *err = NULL;
    int r = eng_img_platform_parse(s, &p, &err);
    if (r < 0) {
        check_failed(r, err);
        return;
    }
    /* A normalised platform prints to a string that parses to itself. */
    char *str = eng_img_platform_str(&p);
    struct eng_img_platform again = { 0 };
    CHECK(eng_img_platform_parse(str, &again, NULL) == 0);
    char *str2 = eng_img_platform_str(&again);
    CHECK(strcmp(str, str2) == 0);
    free(str);
    free(str2);
    eng_img_platform_release(&again);
    eng_img_platform_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *ct = content_types[data[0] % BT_ARRAY_SIZE(content_types)];
    fuzz_manifest((const char *) data + 1, size - 1, ct);
    fuzz_config((const char *) data + 1, size - 1);
    if (size - 1 <= MAX_STRING) {
        char *s = bt_xstrndup((const char *) data + 1, size - 1);
        fuzz_ref(s);
        fuzz_platform(s);
        free(s);
    }
    return 0;
}
