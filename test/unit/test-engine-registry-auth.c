/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure parts of the registry client (engine/image/registry-auth.c):
 * WWW-Authenticate challenges, scopes, token answers, error bodies, the retry schedule and
 * Retry-After, and which hosts get plain HTTP.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/err.h"
#include "engine/image/registry-int.h"

static void
test_challenge_bearer(void **state)
{
    (void) state;
    struct reg_challenge *c;
    size_t n;
    assert_int_equal(reg_challenges_parse("Bearer realm=\"https://auth.docker.io/token\","
                                          "service=\"registry.docker.io\","
                                          "scope=\"repository:library/busybox:pull\"",
                                          &c, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].scheme, "Bearer");
    assert_string_equal(c[0].realm, "https://auth.docker.io/token");
    assert_string_equal(c[0].service, "registry.docker.io");
    assert_string_equal(c[0].scope, "repository:library/busybox:pull");
    assert_null(c[0].error);
    reg_challenges_free(c, n);
}

static void
test_challenge_quoted(void **state)
{
    (void) state;
    struct reg_challenge *c;
    size_t n;
    /* Commas inside quotes, escaped quotes and backslashes, spaces around '=', any case. */
    assert_int_equal(reg_challenges_parse("bearer  REALM = \"http://h/t?a=1,b=2\" , "
                                          "service=\"a \\\"b\\\", c\\\\d\",error=invalid_token",
                                          &c, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].scheme, "bearer");
    assert_string_equal(c[0].realm, "http://h/t?a=1,b=2");
    assert_string_equal(c[0].service, "a \"b\", c\\d");
    assert_string_equal(c[0].error, "invalid_token");
    assert_non_null(reg_challenge_find(c, n, "Bearer"));
    assert_null(reg_challenge_find(c, n, "Basic"));
    reg_challenges_free(c, n);
}

static void
test_challenge_several(void **state)
{
    (void) state;
    struct reg_challenge *c;
    size_t n;
    assert_int_equal(reg_challenges_parse("Basic realm=\"x, y\", Bearer realm=\"https://a/t\","
                                          "service=s, Negotiate, Basic YWxhZGRpbg==",
                                          &c, &n),
                     0);
    assert_int_equal(n, 4);
    assert_string_equal(c[0].scheme, "Basic");
    assert_string_equal(c[0].realm, "x, y");
    assert_string_equal(c[1].scheme, "Bearer");
    assert_string_equal(c[1].realm, "https://a/t");
    assert_string_equal(c[1].service, "s");
    assert_string_equal(c[2].scheme, "Negotiate");
    assert_string_equal(c[3].scheme, "Basic");
    assert_null(c[3].realm);
    assert_ptr_equal(reg_challenge_find(c, n, "basic"), &c[0]);
    reg_challenges_free(c, n);

    assert_int_equal(reg_challenges_parse("", &c, &n), 0);
    assert_int_equal(n, 0);
    reg_challenges_free(c, n);
}

static void
test_challenge_junk(void **state)
{
    (void) state;
    struct reg_challenge *c = NULL;
    size_t n = 0;
    assert_int_equal(reg_challenges_parse("realm=\"x\"", &c, &n), -EINVAL);
    assert_int_equal(reg_challenges_parse("Bearer realm=\"never closed", &c, &n), -EINVAL);
    assert_int_equal(reg_challenges_parse("Bearer realm=\"x\\", &c, &n), -EINVAL);
    assert_int_equal(reg_challenges_parse("Bearer \"x\"", &c, &n), -EINVAL);
}

static void
test_scope(void **state)
{
    (void) state;
    char *s = reg_scope("library/busybox", false);
    assert_string_equal(s, "repository:library/busybox:pull");
    free(s);
    s = reg_scope("a/b", true);
    assert_string_equal(s, "repository:a/b:pull,push");
    free(s);
}

static void
test_token_parse(void **state)
{
    (void) state;
    char *tok = NULL;
    unsigned ttl = 0;
    struct bt_err *err = NULL;
    const char *a = "{\"token\":\"abc\",\"access_token\":\"zzz\",\"expires_in\":300}";
    assert_int_equal(reg_token_parse(a, strlen(a), &tok, &ttl, &err), 0);
    assert_string_equal(tok, "abc");
    assert_int_equal(ttl, 300);
    free(tok);

    const char *b = "{\"access_token\":\"def\"}";
    assert_int_equal(reg_token_parse(b, strlen(b), &tok, &ttl, &err), 0);
    assert_string_equal(tok, "def");
    assert_int_equal(ttl, REG_TOKEN_TTL_DEFAULT);
    free(tok);

    const char *c = "{\"token\":\"\",\"access_token\":\"ghi\",\"expires_in\":-5}";
    assert_int_equal(reg_token_parse(c, strlen(c), &tok, &ttl, &err), 0);
    assert_string_equal(tok, "ghi");
    assert_int_equal(ttl, REG_TOKEN_TTL_DEFAULT);
    free(tok);

    const char *d = "{\"expires_in\":10}";
    assert_int_equal(reg_token_parse(d, strlen(d), &tok, &ttl, &err), -BT_EPARSE);
    assert_non_null(strstr(err->msg, "no token"));
    err = bt_err_free(err);
    assert_int_equal(reg_token_parse("<html>", 6, &tok, &ttl, &err), -BT_EPARSE);
    err = bt_err_free(err);
}

static void
test_error_body(void **state)
{
    (void) state;
    const char *a = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                    "\"detail\":{}},{\"code\":\"DENIED\"}]}";
    char *m = reg_error_body_message(a, strlen(a));
    assert_string_equal(m, "manifest unknown (MANIFEST_UNKNOWN); DENIED");
    free(m);
    assert_null(reg_error_body_message("not json", 8));
    assert_null(reg_error_body_message("{\"errors\":[]}", 13));
    assert_null(reg_error_body_message(NULL, 0));
}

static void
test_backoff(void **state)
{
    (void) state;
    assert_int_equal(reg_backoff_ms(1), 500);
    assert_int_equal(reg_backoff_ms(2), 1000);
    assert_int_equal(reg_backoff_ms(3), 2000);
    assert_int_equal(reg_backoff_ms(4), 4000);
    assert_int_equal(reg_backoff_ms(9), 4000);
    assert_int_equal(reg_backoff_ms(0), 0);

    assert_int_equal(reg_retry_after_ms("2", 0), 2000);
    assert_int_equal(reg_retry_after_ms("0", 0), 0);
    assert_int_equal(reg_retry_after_ms("100000", 0), REG_RETRY_AFTER_CAP_MS);
    assert_int_equal(reg_retry_after_ms(NULL, 0), 0);
    assert_int_equal(reg_retry_after_ms("soon", 0), 0);
    assert_int_equal(reg_retry_after_ms("-3", 0), 0);
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777. */
    assert_int_equal(reg_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7000);
    assert_int_equal(reg_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0);
    assert_int_equal(reg_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 0),
                     REG_RETRY_AFTER_CAP_MS);
}

static void
test_loopback(void **state)
{
    (void) state;
    static const char *const yes[] = { "127.0.0.1", "127.0.0.1:5000", "127.3.4.5:80",
                                       "localhost", "LOCALHOST:5000", "::1",
                                       "[::1]",     "[::1]:5000",     "[0:0::1]:1" };
    static const char *const no[] = {
        "128.0.0.1", "10.0.0.1:5000", "registry-1.docker.io", "localhost.example.com", "[::2]:5000",
        "::2",       "[::1",          "127.0.0.1:0",          "127.0.0.1:99999",       "127.0.0.1:",
        ""
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!reg_host_is_loopback(yes[i]))
            fail_msg("'%s' should be loopback", yes[i]);
        if (reg_host_use_tls(yes[i], NULL, 0, false))
            fail_msg("'%s' should be plain HTTP", yes[i]);
        if (!reg_host_use_tls(yes[i], NULL, 0, true))
            fail_msg("'%s' with certs.d should be HTTPS", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (reg_host_is_loopback(no[i]))
            fail_msg("'%s' should not be loopback", no[i]);
}

static void
test_insecure(void **state)
{
    (void) state;
    static const char *const insecure[] = { "reg.example:5000", "other.example", "[fd00::1]" };
    assert_false(reg_host_use_tls("reg.example:5000", insecure, 3, false));
    assert_true(reg_host_use_tls("reg.example:5001", insecure, 3, false));
    assert_true(reg_host_use_tls("reg.example", insecure, 3, false));
    assert_false(reg_host_use_tls("other.example", insecure, 3, false));
    assert_false(reg_host_use_tls("OTHER.example:443", insecure, 3, false));
    assert_false(reg_host_use_tls("[fd00::1]:5000", insecure, 3, false));
    assert_true(reg_host_use_tls("registry-1.docker.io", insecure, 3, false));
    assert_true(reg_host_use_tls("other.example", insecure, 3, true));
}

static void
test_urls(void **state)
{
    (void) state;
    char *u = reg_base_url("127.0.0.1:5000", false);
    assert_string_equal(u, "http://127.0.0.1:5000");
    free(u);
    u = reg_base_url("::1", false);
    assert_string_equal(u, "http://[::1]");
    free(u);
    u = reg_base_url("[::1]:5000", true);
    assert_string_equal(u, "https://[::1]:5000");
    free(u);
    u = reg_base_url("registry-1.docker.io", true);
    assert_string_equal(u, "https://registry-1.docker.io");
    free(u);

    assert_true(reg_host_is_valid("registry-1.docker.io"));
    assert_true(reg_host_is_valid("[::1]:5000"));
    assert_true(reg_host_is_valid("::1"));
    assert_false(reg_host_is_valid("a/b"));
    assert_false(reg_host_is_valid("a b"));
    assert_false(reg_host_is_valid("user@host"));
    assert_false(reg_host_is_valid("[zz::1]"));

    assert_true(reg_path_is_valid("library/busybox"));
    assert_true(reg_path_is_valid("a/b-c/d__e.f"));
    assert_false(reg_path_is_valid("Library/busybox"));
    assert_false(reg_path_is_valid("a//b"));
    assert_false(reg_path_is_valid("/a"));
    assert_false(reg_path_is_valid("a/"));
    assert_false(reg_path_is_valid("a/../b"));
    assert_false(reg_path_is_valid("a?b"));
    assert_false(reg_path_is_valid(""));

    assert_true(reg_reference_is_valid("latest"));
    assert_true(reg_reference_is_valid("v1.2_3-rc"));
    assert_true(reg_reference_is_valid(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(reg_reference_is_valid("sha256:0123"));
    assert_false(reg_reference_is_valid(
        "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(reg_reference_is_valid(".hidden"));
    assert_false(reg_reference_is_valid("a/b"));
    assert_false(reg_reference_is_valid("a b"));
    assert_false(reg_reference_is_valid(""));
}

static void
test_url_helpers(void **state)
{
    (void) state;
    char *u = reg_url_resolve("http://127.0.0.1:5000/v2/a/blobs/uploads/",
                              "/v2/a/blobs/uploads/123?_state=x");
    assert_string_equal(u, "http://127.0.0.1:5000/v2/a/blobs/uploads/123?_state=x");
    free(u);
    u = reg_url_resolve("http://127.0.0.1:5000/v2/", "https://storage.example/x?sig=1");
    assert_string_equal(u, "https://storage.example/x?sig=1");
    free(u);
    u = reg_url_add_query("http://h/up/1?_state=x", "digest", "sha256:ab");
    assert_string_equal(u, "http://h/up/1?_state=x&digest=sha256%3aab");
    free(u);
    u = reg_url_add_query("https://auth/token", "scope", "repository:a/b:pull,push");
    assert_string_equal(u, "https://auth/token?scope=repository%3aa%2fb%3apull%2cpush");
    free(u);

    assert_true(reg_url_same_origin("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000"));
    assert_true(reg_url_same_origin("https://Reg.example/v2/", "https://reg.example:443/x"));
    assert_false(reg_url_same_origin("http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/"));
    assert_false(reg_url_same_origin("http://h:5000/", "http://h:5001/"));
    assert_false(reg_url_same_origin("http://h/", "https://h/"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_bearer),
        cmocka_unit_test(test_challenge_quoted),
        cmocka_unit_test(test_challenge_several),
        cmocka_unit_test(test_challenge_junk),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_token_parse),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_url_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
