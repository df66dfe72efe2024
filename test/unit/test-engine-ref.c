/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/image/ref.c: a table of references with their full and familiar forms
 * as Docker prints them, the registry host to contact, and a table of refusals with the part
 * of the message that says what is wrong.
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
#include "engine/base/err.h"
#include "engine/image/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG "sha256:" D64

static void
test_parse_table(void **state)
{
    (void) state;
    static const struct {
        const char *in, *full, *familiar, *domain, *path, *tag, *digest;
    } v[] = {
        { "busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
          "library/busybox", "latest", NULL },
        { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io",
          "library/busybox", "1.36", NULL },
        { "library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
          "library/busybox", "latest", NULL },
        { "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io",
          "library/busybox", "latest", NULL },
        { "index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1",
          "docker.io", "library/busybox", "1", NULL },
        { "index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest",
          "docker.io", "library/busybox", "latest", NULL },
        { "team/app:v1", "docker.io/team/app:v1", "team/app:v1", "docker.io", "team/app", "v1",
          NULL },
        { "docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest",
          "docker.io", "library/a/b", "latest", NULL },
        { "localhost/app", "localhost/app:latest", "localhost/app:latest", "localhost", "app",
          "latest", NULL },
        { "localhost:5000/app:dev", "localhost:5000/app:dev", "localhost:5000/app:dev",
          "localhost:5000", "app", "dev", NULL },
        /* No '/': "localhost" is a name on Docker Hub and 5000 its tag, as Docker reads it. */
        { "localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io",
          "library/localhost", "5000", NULL },
        { "127.0.0.1:5000/team/app@" DIG, "127.0.0.1:5000/team/app@" DIG,
          "127.0.0.1:5000/team/app@" DIG, "127.0.0.1:5000", "team/app", NULL, DIG },
        { "quay.io/a/b:t@" DIG, "quay.io/a/b:t@" DIG, "quay.io/a/b:t@" DIG, "quay.io", "a/b", "t",
          DIG },
        { "ubuntu@" DIG, "docker.io/library/ubuntu@" DIG, "ubuntu@" DIG, "docker.io",
          "library/ubuntu", NULL, DIG },
        { "[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest", "[::1]:5000", "app",
          "latest", NULL },
        { "a__b/c--d/e.f_g:Tag_1.x-y", "docker.io/a__b/c--d/e.f_g:Tag_1.x-y",
          "a__b/c--d/e.f_g:Tag_1.x-y", "docker.io", "a__b/c--d/e.f_g", "Tag_1.x-y", NULL },
        /* Upper case in the first component makes it a registry host, as in Docker. */
        { "Registry.Example.com/x", "Registry.Example.com/x:latest",
          "Registry.Example.com/x:latest", "Registry.Example.com", "x", "latest", NULL },
        { "Myhost/x", "Myhost/x:latest", "Myhost/x:latest", "Myhost", "x", "latest", NULL },
        { D64 ":tag", "docker.io/library/" D64 ":tag", D64 ":tag", "docker.io", "library/" D64,
          "tag", NULL },
        { "registry.example.com:443/x/y/z:_t", "registry.example.com:443/x/y/z:_t",
          "registry.example.com:443/x/y/z:_t", "registry.example.com:443", "x/y/z", "_t", NULL },
        /* Docker would print "lib.ary/x:1", which names another registry: keep docker.io. */
        { "docker.io/lib.ary/x:1", "docker.io/lib.ary/x:1", "docker.io/lib.ary/x:1", "docker.io",
          "lib.ary/x", "1", NULL },
        { "docker.io/localhost/x", "docker.io/localhost/x:latest", "docker.io/localhost/x:latest",
          "docker.io", "localhost/x", "latest", NULL },
        { "a-b.c/d", "a-b.c/d:latest", "a-b.c/d:latest", "a-b.c", "d", "latest", NULL },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_ref r = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        if (eng_img_ref_parse(v[i].in, &r, &err) < 0) {
            fprintf(stderr, "'%s': unexpected error: %s\n", v[i].in, err->msg);
            fail();
        }
        bt_autofree char *full = eng_img_ref_str(&r);
        bt_autofree char *fam = eng_img_ref_familiar(&r);
        if (strcmp(full, v[i].full) != 0 || strcmp(fam, v[i].familiar) != 0) {
            fprintf(stderr, "'%s': expected %s / %s, got %s / %s\n", v[i].in, v[i].full,
                    v[i].familiar, full, fam);
            fail();
        }
        assert_string_equal(r.domain, v[i].domain);
        assert_string_equal(r.path, v[i].path);
        if (v[i].tag)
            assert_string_equal(r.tag, v[i].tag);
        else
            assert_null(r.tag);
        if (v[i].digest)
            assert_string_equal(r.digest, v[i].digest);
        else
            assert_null(r.digest);
        /* The full form parses to itself. */
        struct eng_img_ref again = { 0 };
        assert_int_equal(eng_img_ref_parse(full, &again, NULL), 0);
        bt_autofree char *full2 = eng_img_ref_str(&again);
        assert_string_equal(full2, full);
        eng_img_ref_release(&again);
        eng_img_ref_release(&r);
    }
}

static void
test_repo_and_registry_host(void **state)
{
    (void) state;
    static const struct {
        const char *in, *repo, *host;
    } v[] = {
        { "busybox", "docker.io/library/busybox", "registry-1.docker.io" },
        { "index.docker.io/team/x:1", "docker.io/team/x", "registry-1.docker.io" },
        { "127.0.0.1:5000/x@" DIG, "127.0.0.1:5000/x", "127.0.0.1:5000" },
        { "localhost/y", "localhost/y", "localhost" },
        { "ghcr.io/o/r:t", "ghcr.io/o/r", "ghcr.io" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_ref r = { 0 };
        assert_int_equal(eng_img_ref_parse(v[i].in, &r, NULL), 0);
        bt_autofree char *repo = eng_img_ref_repo(&r);
        assert_string_equal(repo, v[i].repo);
        assert_string_equal(eng_img_ref_registry_host(&r), v[i].host);
        eng_img_ref_release(&r);
    }
}

static void
test_rejects(void **state)
{
    (void) state;
    static char long_tag[160], long_name[300];
    snprintf(long_tag, sizeof long_tag, "busybox:%0129d", 7);
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    long_name[100] = '/';
    long_name[200] = '/';
    static char huge[2000];
    memset(huge, 'a', sizeof huge - 1);
    const struct {
        const char *in;
        int code;
        const char *msg; /* a part of the message */
    } v[] = {
        { "", BT_EINVALID, "empty image name" },
        { "Busybox", BT_EINVALID, "repository name must be lowercase" },
        { "team/App", BT_EINVALID, "'team/App': repository name must be lowercase" },
        { "docker.io/Foo", BT_EINVALID, "must be lowercase" },
        { "quay.io/a/B:t", BT_EINVALID, "must be lowercase" },
        { "busybox:", BT_EINVALID, "a tag is 1 to 128" },
        { "busybox:-x", BT_EINVALID, "a tag is" },
        { "busybox:.x", BT_EINVALID, "a tag is" },
        { "busybox:a/b", BT_EINVALID, "invalid registry host" },
        { "busybox:a+b", BT_EINVALID, "a tag is" },
        { ":tag", BT_EINVALID, "at least one component" },
        { "@" DIG, BT_EINVALID, "at least one component" },
        { "busybox@sha256:abc", BT_EINVALID, "sha256 needs 64 lowercase hex digits" },
        { "busybox@sha256:"
          "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
          BT_EINVALID, "64 lowercase hex" },
        { "busybox@sha512:" D64 D64, BT_EUNSUPPORTED, "berth supports sha256 only" },
        { "busybox@md5", BT_EINVALID, "not algorithm:hex" },
        { "busybox@" DIG "@" DIG, BT_EINVALID, "invalid digest" },
        { "busybox@", BT_EINVALID, "not algorithm:hex" },
        { D64, BT_EINVALID, "is an image id" },
        { "a..b", BT_EINVALID, "repository path components" },
        { "a._b", BT_EINVALID, "repository path components" },
        { "a___b", BT_EINVALID, "repository path components" },
        { "-a", BT_EINVALID, "repository path components" },
        { "a-", BT_EINVALID, "repository path components" },
        { "a/", BT_EINVALID, "repository path components" },
        { "/a", BT_EINVALID, "repository path components" },
        { "a//b", BT_EINVALID, "repository path components" },
        { "a b", BT_EINVALID, "repository path components" },
        { "a_b.c/foo", BT_EINVALID, "invalid registry host" },
        { "example.com:abc/foo", BT_EINVALID, "invalid registry host" },
        { "localhost:/x", BT_EINVALID, "invalid registry host" },
        { "-bad.com/x", BT_EINVALID, "invalid registry host" },
        { "[zz]:5000/x", BT_EINVALID, "invalid registry host" },
        { "busybox:1.0/foo", BT_EINVALID, "invalid registry host" },
        { long_tag, BT_EINVALID, "a tag is 1 to 128" },
        { long_name, BT_EINVALID, "must not be more than 255 characters" },
        { huge, BT_EINVALID, "too long" },
        { "caf\xc3\xa9", BT_EINVALID, "'caf\\xc3\\xa9'" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct eng_img_ref r = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        int rc = eng_img_ref_parse(v[i].in, &r, &err);
        if (rc != -v[i].code || !err || !strstr(err->msg, v[i].msg)) {
            fprintf(stderr, "'%.60s': expected %d '%s', got %d '%s'\n", v[i].in, -v[i].code,
                    v[i].msg, rc, err ? err->msg : "(no error)");
            fail();
        }
        assert_null(r.domain);
    }
}

/* A name of exactly 255 characters (domain, '/', path) is accepted. */
static void
test_name_length_limit(void **state)
{
    (void) state;
    char name[257];
    memcpy(name, "docker.io/library/", 18);
    memset(name + 18, 'a', 255 - 18);
    name[255] = '\0';
    struct eng_img_ref r = { 0 };
    assert_int_equal(eng_img_ref_parse(name + 18, &r, NULL), 0);
    eng_img_ref_release(&r);
    name[255] = 'a';
    name[256] = '\0';
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_img_ref_parse(name + 18, &r, &err), -BT_EINVALID);
    assert_non_null(strstr(err->msg, "255"));
}

static void
test_digest_is_valid(void **state)
{
    (void) state;
    assert_true(eng_img_digest_is_valid(DIG));
    assert_false(eng_img_digest_is_valid(NULL));
    assert_false(eng_img_digest_is_valid(""));
    assert_false(eng_img_digest_is_valid("sha256:"));
    assert_false(eng_img_digest_is_valid(DIG "0"));
    assert_false(eng_img_digest_is_valid("sha512:" D64 D64));
    assert_false(eng_img_digest_is_valid("SHA256:" D64));
    assert_int_equal(eng_img_digest_check(DIG, NULL), 0);
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_img_digest_check("sha384:" D64, &err), -BT_EUNSUPPORTED);
    assert_non_null(strstr(err->msg, "'sha384:"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),     cmocka_unit_test(test_repo_and_registry_host),
        cmocka_unit_test(test_rejects),         cmocka_unit_test(test_name_length_limit),
        cmocka_unit_test(test_digest_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
