/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the image store without layers: blob writers (digest checks, resume, restart),
 * records that name missing blobs refused, names and id prefixes, rm and prune semantics, and
 * what survives a reopen (a name whose record is gone does not).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/base/sha256.h"
#include "engine/image/cas.h"
#include "engine/image/store.h"
#include "test/unit/tmpdir.h"

static int
setup(void **state)
{
    return tmpdir_setup_named(state, "test-engine-store");
}

static char *
images_dir(void **state)
{
    struct tmpdir *t = *state;
    return bt_xasprintf("%s/images", t->path);
}

static void
digest_of(const char *data, char out[ENG_DIGEST_LEN + 1])
{
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_hex(data, strlen(data), hex);
    snprintf(out, ENG_DIGEST_LEN + 1, "sha256:%s", hex);
}

static void
test_writer_checks_digest(void **state)
{
    bt_autofree char *dir = images_dir(state);
    struct eng_cas *cas = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cas_open(dir, &cas, &err), 0);
    char want[ENG_DIGEST_LEN + 1];
    digest_of("hello", want);
    struct eng_cas_writer *w = NULL;
    assert_int_equal(eng_cas_writer_new(cas, want, false, &w, &err), 0);
    assert_int_equal(eng_cas_writer_write(w, "hellO", 5, &err), 0);
    assert_true(eng_cas_writer_commit(w, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "digest mismatch"));
    err = bt_err_free(err);
    assert_false(eng_cas_blob_has(cas, want));
    /* Nothing of the bad bytes stays to be resumed. */
    assert_int_equal(eng_cas_writer_new(cas, want, true, &w, &err), 0);
    assert_int_equal(eng_cas_writer_offset(w), 0);
    assert_int_equal(eng_cas_writer_write(w, "hello", 5, &err), 0);
    char got[ENG_DIGEST_LEN + 1];
    assert_int_equal(eng_cas_writer_commit(w, got, &err), 0);
    assert_string_equal(got, want);
    assert_true(eng_cas_blob_has(cas, want));
    assert_int_equal(eng_cas_blob_size(cas, want), 5);
    /* A digest is never a path. */
    assert_true(eng_cas_writer_new(cas, "sha256:../../etc/passwd", false, &w, &err) < 0);
    err = bt_err_free(err);
    assert_false(eng_cas_blob_has(cas, "sha256:../x"));
    eng_cas_free(cas);
}

static void
test_writer_resumes(void **state)
{
    bt_autofree char *dir = images_dir(state);
    struct eng_cas *cas = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cas_open(dir, &cas, &err), 0);
    char want[ENG_DIGEST_LEN + 1];
    digest_of("first half, second half", want);
    struct eng_cas_writer *w = NULL;
    assert_int_equal(eng_cas_writer_new(cas, want, true, &w, &err), 0);
    assert_int_equal(eng_cas_writer_write(w, "first half, ", 12, &err), 0);
    eng_cas_writer_abort(w, true); /* a killed pull */
    assert_int_equal(eng_cas_writer_new(cas, want, true, &w, &err), 0);
    assert_int_equal(eng_cas_writer_offset(w), 12);
    assert_int_equal(eng_cas_writer_write(w, "second half", 11, &err), 0);
    assert_int_equal(eng_cas_writer_commit(w, NULL, &err), 0);
    assert_true(eng_cas_blob_has(cas, want));
    /* restart: a server that ignored the Range starts from zero again. */
    char want2[ENG_DIGEST_LEN + 1];
    digest_of("abc", want2);
    assert_int_equal(eng_cas_writer_new(cas, want2, false, &w, &err), 0);
    assert_int_equal(eng_cas_writer_write(w, "ab", 2, &err), 0);
    assert_int_equal(eng_cas_writer_restart(w, &err), 0);
    assert_int_equal(eng_cas_writer_write(w, "abc", 3, &err), 0);
    assert_int_equal(eng_cas_writer_commit(w, NULL, &err), 0);
    assert_true(eng_cas_blob_has(cas, want2));
    eng_cas_free(cas);
}

/* A record with no layers whose manifest and config are blobs. */
static json_t *
record(struct eng_cas *cas, const char *tagline)
{
    char cfg[ENG_DIGEST_LEN + 1], man[ENG_DIGEST_LEN + 1];
    bt_autofree char *ctext = bt_xasprintf("{\"os\":\"linux\",\"x\":\"%s\"}", tagline);
    bt_autofree char *mtext = bt_xasprintf("{\"manifest\":\"%s\"}", tagline);
    assert_int_equal(eng_cas_blob_put(cas, ctext, strlen(ctext), cfg, NULL), 0);
    assert_int_equal(eng_cas_blob_put(cas, mtext, strlen(mtext), man, NULL), 0);
    return json_pack("{s:s, s:{s:s}, s:{s:s}, s:[], s:[]}", "id", cfg, "manifest", "digest", man,
                     "config", "digest", cfg, "layers", "repo_digests");
}

static void
test_records_names_and_rm(void **state)
{
    bt_autofree char *dir = images_dir(state);
    struct eng_cas *cas = NULL;
    struct eng_img_store *s = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cas_open(dir, &cas, &err), 0);
    assert_int_equal(eng_img_store_open(cas, &s, &err), 0);

    /* A record naming a blob that is not there is refused. */
    json_t *bad = json_pack(
        "{s:s, s:{s:s}, s:{s:s}, s:[]}", "id",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000", "manifest",
        "digest", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "config", "digest",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000", "layers");
    assert_true(eng_img_store_add(s, bad, NULL, 0, &err) < 0);
    err = bt_err_free(err);

    json_t *a = record(cas, "a");
    bt_autofree char *id_a = bt_xstrdup(json_string_value(json_object_get(a, "id")));
    const char *names[] = { "busybox", "127.0.0.1:5000/x/y:1" };
    assert_int_equal(eng_img_store_add(s, a, names, 2, &err), 0);
    /* By name (normalised), by id, by a prefix of the id. */
    assert_non_null(eng_img_store_find(s, "docker.io/library/busybox:latest", &err));
    assert_non_null(eng_img_store_find(s, "busybox:latest", &err));
    assert_non_null(eng_img_store_find(s, id_a, &err));
    char prefix[12];
    snprintf(prefix, sizeof prefix, "%.8s", id_a + 7);
    assert_non_null(eng_img_store_find(s, prefix, &err));
    assert_null(eng_img_store_find(s, "nosuch", &err));
    assert_int_equal(err->code, ENOENT);
    err = bt_err_free(err);

    /* An id with two names is refused without force; a name only untags. */
    json_t *report = NULL;
    assert_true(eng_img_store_remove(s, id_a, false, NULL, NULL, &report, &err) < 0);
    assert_int_equal(err->code, BT_ECONFLICT);
    err = bt_err_free(err);
    assert_int_equal(eng_img_store_remove(s, "busybox", false, NULL, NULL, &report, &err), 0);
    assert_int_equal(json_array_size(report), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(report, 0), "Untagged")),
                        "busybox:latest");
    json_decref(report);
    assert_non_null(eng_img_store_find(s, id_a, &err));

    /* Names survive a reopen; the last name removes the image and its blobs. */
    eng_img_store_free(s);
    assert_int_equal(eng_img_store_open(cas, &s, &err), 0);
    assert_non_null(eng_img_store_find(s, "127.0.0.1:5000/x/y:1", &err));
    assert_int_equal(
        eng_img_store_remove(s, "127.0.0.1:5000/x/y:1", false, NULL, NULL, &report, &err), 0);
    assert_int_equal(json_array_size(report), 2); /* Untagged, Deleted */
    json_decref(report);
    assert_false(eng_cas_blob_has(cas, id_a));
    eng_img_store_free(s);
    eng_cas_free(cas);
}

static bool
in_use_b(void *ud, const char *id)
{
    return strcmp(id, ud) == 0;
}

static void
test_prune(void **state)
{
    bt_autofree char *dir = images_dir(state);
    struct eng_cas *cas = NULL;
    struct eng_img_store *s = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cas_open(dir, &cas, &err), 0);
    assert_int_equal(eng_img_store_open(cas, &s, &err), 0);
    json_t *a = record(cas, "a"), *b = record(cas, "b"), *c = record(cas, "c");
    bt_autofree char *id_b = bt_xstrdup(json_string_value(json_object_get(b, "id")));
    const char *na[] = { "a:1" };
    assert_int_equal(eng_img_store_add(s, a, na, 1, &err), 0);
    assert_int_equal(eng_img_store_add(s, b, NULL, 0, &err), 0);
    assert_int_equal(eng_img_store_add(s, c, NULL, 0, &err), 0);
    /* Dangling only: b (in use) stays, c goes, a (named) stays. */
    json_t *report = NULL;
    assert_int_equal(eng_img_store_prune(s, false, in_use_b, id_b, &report, &err), 0);
    assert_int_equal(json_array_size(report), 1);
    json_decref(report);
    json_t *list = eng_img_store_list(s);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    /* -a: everything not in use. */
    assert_int_equal(eng_img_store_prune(s, true, in_use_b, id_b, &report, &err), 0);
    json_decref(report);
    list = eng_img_store_list(s);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_non_null(eng_img_store_find(s, id_b, &err));
    eng_img_store_free(s);
    eng_cas_free(cas);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_checks_digest, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_writer_resumes, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_records_names_and_rm, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
