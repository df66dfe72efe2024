/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for bt_utf8_next(): valid sequences of each width, and every kind of invalid input
 * (stray continuation bytes, truncation, overlong forms, surrogates, past U+10FFFF) reading as
 * one U+FFFD byte so that a scan always moves on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "engine/base/utf8.h"

static void
test_valid(void **state)
{
    (void) state;
    static const struct {
        const char *s;
        uint32_t cp;
        size_t w;
    } v[] = {
        { "A", 'A', 1 },
        { "\x7f", 0x7f, 1 },
        { "\xc2\x80", 0x80, 2 },
        { "\xc3\xa9", 0xe9, 2 },
        { "\xdf\xbf", 0x7ff, 2 },
        { "\xe0\xa0\x80", 0x800, 3 },
        { "\xe2\x82\xac", 0x20ac, 3 },
        { "\xed\x9f\xbf", 0xd7ff, 3 },
        { "\xee\x80\x80", 0xe000, 3 },
        { BT_UTF8_REPLACEMENT_STR, BT_UTF8_REPLACEMENT, 3 },
        { "\xf0\x90\x80\x80", 0x10000, 4 },
        { "\xf0\x9f\x90\xb3", 0x1f433, 4 },
        { "\xf4\x8f\xbf\xbf", 0x10ffff, 4 },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t w = 0;
        assert_int_equal(bt_utf8_next(v[i].s, strlen(v[i].s), &w), v[i].cp);
        assert_int_equal(w, v[i].w);
    }
    /* A NUL is a character like any other: the length bounds the text. */
    size_t w = 0;
    assert_int_equal(bt_utf8_next("\0x", 2, &w), 0);
    assert_int_equal(w, 1);
}

static void
test_invalid(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "\x80",             /* a continuation byte first */
        "\xbf",             /* another */
        "\xc3",             /* truncated */
        "\xe2\x82",         /* truncated */
        "\xf0\x9f\x90",     /* truncated */
        "\xc3\x28",         /* second byte not a continuation */
        "\xe2\x28\xac",     /* same */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xe0\x9f\xbf",     /* overlong */
        "\xf0\x8f\xbf\xbf", /* overlong */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xf8\x88\x80\x80", /* five-byte form */
        "\xfe",
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t w = 0;
        if (bt_utf8_next(bad[i], strlen(bad[i]), &w) != BT_UTF8_REPLACEMENT || w != 1) {
            print_error("bad[%zu] read as valid (width %zu)\n", i, w);
            fail();
        }
    }
    /* A valid sequence cut by the length is invalid too. */
    size_t w = 0;
    assert_int_equal(bt_utf8_next("\xe2\x82\xac", 2, &w), BT_UTF8_REPLACEMENT);
    assert_int_equal(w, 1);
}

/* Scanning mixed text visits every byte once: valid sequences whole, bad bytes one by one. */
static void
test_scan(void **state)
{
    (void) state;
    const char s[] = "a\xc3\xa9\xff\xe2\x82\xac\xe2\x82z";
    const uint32_t want[] = { 'a', 0xe9, 0xfffd, 0x20ac, 0xfffd, 0xfffd, 'z' };
    size_t n = 0, w;
    for (size_t i = 0; i < sizeof s - 1; i += w) {
        assert_true(n < sizeof want / sizeof want[0]);
        assert_int_equal(bt_utf8_next(s + i, sizeof s - 1 - i, &w), want[n++]);
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
