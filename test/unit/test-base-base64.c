/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/base/base64.c: the RFC 4648 test vectors both ways, decoding without
 * padding, refusals (bad characters, bad lengths, stray bits, misplaced padding) and a round
 * trip of every byte value at every length up to 300.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/base64.h"

static void
test_rfc4648_vectors(void **state)
{
    (void) state;
    static const char *const v[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
        /* Docker's auth field: base64("user:pa:ss"). */
        { "user:pa:ss", "dXNlcjpwYTpzcw==" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *enc = bt_base64_encode(v[i][0], strlen(v[i][0]));
        assert_string_equal(enc, v[i][1]);
        free(enc);
        char *dec = NULL;
        size_t len = 99;
        assert_int_equal(bt_base64_decode(v[i][1], strlen(v[i][1]), &dec, &len), 0);
        assert_int_equal(len, strlen(v[i][0]));
        assert_string_equal(dec, v[i][0]);
        free(dec);
    }
}

static void
test_decode_unpadded(void **state)
{
    (void) state;
    static const char *const v[][2] = {
        { "Zg", "f" },
        { "Zm8", "fo" },
        { "Zm9vYg", "foob" },
        { "Zm9vYmE", "fooba" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *dec = NULL;
        size_t len = 0;
        assert_int_equal(bt_base64_decode(v[i][0], strlen(v[i][0]), &dec, &len), 0);
        assert_string_equal(dec, v[i][1]);
        assert_int_equal(len, strlen(v[i][1]));
        free(dec);
    }
}

static void
test_decode_rejects(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "Z",    "Zm9vY", "Zm9v!A==", "Zm 9v", "Zm9v\n", "Zh==", "Zm9=",     "Zm==Zm9v",
        "====", "Z===",  "Zm-_",     "Zg=",   "Zg===",  "=Zg=", "Zm9vYg=x", "Zm9vYmE==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *dec = (char *) "untouched";
        size_t len = 7;
        if (bt_base64_decode(bad[i], strlen(bad[i]), &dec, &len) != -EINVAL) {
            fprintf(stderr, "'%s' was accepted\n", bad[i]);
            fail();
        }
        assert_string_equal(dec, "untouched");
        assert_int_equal(len, 7);
    }
}

static void
test_round_trip(void **state)
{
    (void) state;
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t) (i * 151 + 7);
    for (size_t n = 0; n <= sizeof data; n++) {
        char *enc = bt_base64_encode(data, n);
        assert_int_equal(strlen(enc), (n + 2) / 3 * 4);
        char *dec = NULL;
        size_t len = 0;
        assert_int_equal(bt_base64_decode(enc, strlen(enc), &dec, &len), 0);
        assert_int_equal(len, n);
        assert_memory_equal(dec, data, n);
        free(dec);
        free(enc);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_decode_unpadded),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
