/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the strict number parsers (junk, signs, spaces, overflow, output untouched on
 * failure) and the string helpers behind "did you mean" suggestions.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/parse.h"

/* Check a return code and name the input when it is wrong. */
#define assert_ret(in, call, want)                                                                 \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        if (r_ != (want)) {                                                                        \
            print_error("input '%s': returned %d, expected %d\n", (in), r_, (want));               \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* Inputs every number parser must refuse with -EINVAL. */
static const char *const junk[] = {
    "",     " ",     " 1",       "1 ",  "\t1",  "1\n", "\n1", "+1",  "++1", "--1", "- 1",
    "-",    "+",     "1a",       "a1",  "0x10", "1.5", "1e3", "1,0", "1_0", "abc", "one",
    "\xff", "1\x7f", "\xd9\xa3", "0b1", "1-",   "1+",  ".5",  "5.",  "(1)", "1 2",
};

static const char *const ubad_signs[] = { "-0", "-1", "-18446744073709551615" };

static void
test_u64_valid(void **state)
{
    (void) state;
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        { "0", 0 },
        { "1", 1 },
        { "42", 42 },
        { "007", 7 },
        { "0000000000000000000000000000001", 1 },
        { "4294967296", 4294967296ULL },
        { "9223372036854775808", 9223372036854775808ULL },
        { "18446744073709551615", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 12345;
        assert_ret(ok[i].s, bt_parse_u64(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].v);
    }
}

static void
test_u64_junk(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        uint64_t v = 777;
        assert_ret(junk[i], bt_parse_u64(junk[i], &v), -EINVAL);
        assert_int_equal(v, 777);
    }
    for (size_t i = 0; i < sizeof ubad_signs / sizeof ubad_signs[0]; i++) {
        uint64_t v = 777;
        assert_ret(ubad_signs[i], bt_parse_u64(ubad_signs[i], &v), -EINVAL);
        assert_int_equal(v, 777);
    }
    uint64_t v = 777;
    assert_int_equal(bt_parse_u64(NULL, &v), -EINVAL);
    assert_int_equal(v, 777);
}

static void
test_u64_overflow(void **state)
{
    (void) state;
    static const char *const big[] = {
        "18446744073709551616",
        "18446744073709551617",
        "99999999999999999999",
        "123456789012345678901234567890",
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        uint64_t v = 777;
        assert_ret(big[i], bt_parse_u64(big[i], &v), -ERANGE);
        assert_int_equal(v, 777);
    }
}

static void
test_i64(void **state)
{
    (void) state;
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {
        { "0", 0 },
        { "-0", 0 },
        { "17", 17 },
        { "-17", -17 },
        { "-007", -7 },
        { "9223372036854775807", INT64_MAX },
        { "-9223372036854775808", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = 12345;
        assert_ret(ok[i].s, bt_parse_i64(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int64_t v = 777;
        assert_ret(junk[i], bt_parse_i64(junk[i], &v), -EINVAL);
        assert_int_equal(v, 777);
    }
    static const char *const more_junk[] = { "-+1", "+-1", "-a", "-1-", "- 0" };
    for (size_t i = 0; i < sizeof more_junk / sizeof more_junk[0]; i++) {
        int64_t v = 777;
        assert_ret(more_junk[i], bt_parse_i64(more_junk[i], &v), -EINVAL);
        assert_int_equal(v, 777);
    }
    static const char *const big[] = {
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "-99999999999999999999",
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        int64_t v = 777;
        assert_ret(big[i], bt_parse_i64(big[i], &v), -ERANGE);
        assert_int_equal(v, 777);
    }
    int64_t v = 777;
    assert_int_equal(bt_parse_i64(NULL, &v), -EINVAL);
    assert_int_equal(v, 777);
}

static void
test_u32(void **state)
{
    (void) state;
    uint32_t v = 9;
    assert_int_equal(bt_parse_u32("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(bt_parse_u32("65535", &v), 0);
    assert_int_equal(v, 65535);
    assert_int_equal(bt_parse_u32("4294967295", &v), 0);
    assert_int_equal(v, UINT32_MAX);

    v = 9;
    assert_int_equal(bt_parse_u32("4294967296", &v), -ERANGE);
    assert_int_equal(bt_parse_u32("18446744073709551615", &v), -ERANGE);
    assert_int_equal(bt_parse_u32("18446744073709551616", &v), -ERANGE);
    assert_int_equal(v, 9);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        assert_ret(junk[i], bt_parse_u32(junk[i], &v), -EINVAL);
        assert_int_equal(v, 9);
    }
    assert_int_equal(bt_parse_u32("-1", &v), -EINVAL);
    assert_int_equal(bt_parse_u32(NULL, &v), -EINVAL);
    assert_int_equal(v, 9);
}

static void
test_int(void **state)
{
    (void) state;
    int v = 9;
    assert_int_equal(bt_parse_int("-1", &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(bt_parse_int("2147483647", &v), 0);
    assert_int_equal(v, INT_MAX);
    assert_int_equal(bt_parse_int("-2147483648", &v), 0);
    assert_int_equal(v, INT_MIN);

    v = 9;
    assert_int_equal(bt_parse_int("2147483648", &v), -ERANGE);
    assert_int_equal(bt_parse_int("-2147483649", &v), -ERANGE);
    assert_int_equal(bt_parse_int("9223372036854775807", &v), -ERANGE);
    assert_int_equal(bt_parse_int("9223372036854775808", &v), -ERANGE);
    assert_int_equal(v, 9);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        assert_ret(junk[i], bt_parse_int(junk[i], &v), -EINVAL);
        assert_int_equal(v, 9);
    }
    assert_int_equal(bt_parse_int(NULL, &v), -EINVAL);
    assert_int_equal(v, 9);
}

static void
test_bool(void **state)
{
    (void) state;
    static const char *const yes[] = { "1", "true", "TRUE", "True", "yes", "YeS", "on", "ON" };
    static const char *const no[] = { "0", "false", "FALSE", "no", "No", "off", "OFF", "oFf" };
    static const char *const bad[] = {
        "",   " ",  " true",  "true ",   "truex", "t",  "y", "n",    "2",      "-1",
        "01", "00", "enable", "disable", "yess",  "of", "o", "null", "true\n",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool v = false;
        assert_ret(yes[i], bt_parse_bool(yes[i], &v), 0);
        assert_true(v);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        bool v = true;
        assert_ret(no[i], bt_parse_bool(no[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool t = true, f = false;
        assert_ret(bad[i], bt_parse_bool(bad[i], &t), -EINVAL);
        assert_ret(bad[i], bt_parse_bool(bad[i], &f), -EINVAL);
        assert_true(t);
        assert_false(f);
    }
    bool v = true;
    assert_int_equal(bt_parse_bool(NULL, &v), -EINVAL);
    assert_true(v);
}

static void
test_streq(void **state)
{
    (void) state;
    assert_true(bt_streq("a", "a"));
    assert_true(bt_streq("", ""));
    assert_false(bt_streq("a", "b"));
    assert_false(bt_streq("a", "ab"));
    assert_false(bt_streq(NULL, "a"));
    assert_false(bt_streq("a", NULL));
    assert_false(bt_streq(NULL, NULL));
}

static void
test_startswith(void **state)
{
    (void) state;
    const char *s = "version";
    assert_ptr_equal(bt_startswith(s, "ver"), s + 3);
    assert_string_equal(bt_startswith(s, "ver"), "sion");
    assert_ptr_equal(bt_startswith(s, ""), s);
    assert_ptr_equal(bt_startswith(s, "version"), s + 7);
    assert_string_equal(bt_startswith(s, "version"), "");
    assert_null(bt_startswith(s, "versions"));
    assert_null(bt_startswith(s, "Ver"));
    assert_null(bt_startswith(s, "x"));
    assert_null(bt_startswith("", "a"));
    assert_string_equal(bt_startswith("", ""), "");
    assert_string_equal(bt_startswith("key=value", "key="), "value");
}

static void
test_distance(void **state)
{
    (void) state;
    static const struct {
        const char *a, *b;
        unsigned d;
    } cases[] = {
        { "", "", 0 },
        { "abc", "abc", 0 },
        { "abc", "", 3 },
        { "", "abcd", 4 },
        { "a", "b", 1 },
        { "kitten", "sitting", 3 },
        { "flaw", "lawn", 2 },
        { "up", "down", 4 },
        /* insert, delete, substitute */
        { "sytem", "system", 1 },
        { "systemm", "system", 1 },
        { "systen", "system", 1 },
        /* one swap of neighbours counts as one edit */
        { "verison", "version", 1 },
        { "ab", "ba", 1 },
        { "abcd", "bacd", 1 },
        { "abcd", "abdc", 1 },
        { "abcdef", "badcfe", 3 },
        /* case matters */
        { "Version", "version", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_ret(cases[i].a, (int) bt_str_distance(cases[i].a, cases[i].b), (int) cases[i].d);
        assert_ret(cases[i].b, (int) bt_str_distance(cases[i].b, cases[i].a), (int) cases[i].d);
    }
}

static void
test_distance_long(void **state)
{
    (void) state;
    char a[65], b[65];
    memset(a, 'a', 64);
    a[64] = '\0';
    memcpy(b, a, sizeof b);
    /* 64 bytes is still computed exactly. */
    assert_int_equal(bt_str_distance(a, b), 0);
    b[10] = 'x';
    b[11] = 'y';
    assert_int_equal(bt_str_distance(a, b), 2);
    assert_int_equal(bt_str_distance(a, ""), 64);

    /* Longer input never reads past its rows and stays within the cap. */
    char big[4096];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_true(bt_str_distance(big, "q") <= 255);
    assert_true(bt_str_distance("q", big) <= 255);
    assert_true(bt_str_distance(big, big) <= 255);
}

static const char *const commands[] = {
    "up", "down", "start", "stop", "ps", "logs", "version", "system", "exec", "config",
};

static void
test_closest(void **state)
{
    (void) state;
    const size_t n = sizeof commands / sizeof commands[0];
    assert_string_equal(bt_str_closest("verison", commands, n), "version");
    assert_string_equal(bt_str_closest("sytem", commands, n), "system");
    assert_string_equal(bt_str_closest("dwon", commands, n), "down");
    assert_string_equal(bt_str_closest("stp", commands, n), "stop");
    assert_string_equal(bt_str_closest("confg", commands, n), "config");
    /* An exact match is its own suggestion. */
    assert_string_equal(bt_str_closest("logs", commands, n), "logs");
    /* A prefix of a command is a good guess even when the distance is large. */
    assert_string_equal(bt_str_closest("vers", commands, n), "version");
    assert_string_equal(bt_str_closest("sys", commands, n), "system");
    assert_string_equal(bt_str_closest("conf", commands, n), "config");
    /* Nonsense gets no suggestion. */
    assert_null(bt_str_closest("xyzzy", commands, n));
    assert_null(bt_str_closest("kubernetes", commands, n));
    assert_null(bt_str_closest("qqqqqqqqqqqqqqqqqqqq", commands, n));
    assert_null(bt_str_closest("z", commands, n));
    assert_null(bt_str_closest("", commands, n));
    /* No candidates, no suggestion. */
    assert_null(bt_str_closest("version", commands, 0));
}

static void
test_closest_null_candidates(void **state)
{
    (void) state;
    const char *const cands[] = { NULL, "network", NULL, "volume", NULL };
    assert_string_equal(bt_str_closest("netwrok", cands, 5), "network");
    assert_string_equal(bt_str_closest("vol", cands, 5), "volume");
    assert_null(bt_str_closest("image", cands, 5));
    const char *const none[] = { NULL, NULL };
    assert_null(bt_str_closest("network", none, 2));
}

/*
 * Regression (was a bug: engine/base/parse.c, bt_str_closest): for a word of 763 bytes or more the
 * typo limit (len + 2) / 3 reaches 255, the value bt_str_distance() returns for any input longer
 * than 64 bytes, so the first candidate is suggested for arbitrary long junk. Expected NULL.
 */
static void
test_closest_long_junk(void **state)
{
    (void) state;
    const size_t n = sizeof commands / sizeof commands[0];
    static char word[1024];
    memset(word, 'z', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    /* 100 bytes: limit 34 < 255, correctly no suggestion. */
    word[100] = '\0';
    assert_null(bt_str_closest(word, commands, n));
    word[100] = 'z';
    /* 1023 bytes of 'z' is not a typo of "up". */
    assert_null(bt_str_closest(word, commands, n));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_valid),
        cmocka_unit_test(test_u64_junk),
        cmocka_unit_test(test_u64_overflow),
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_u32),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_streq),
        cmocka_unit_test(test_startswith),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_distance_long),
        cmocka_unit_test(test_closest),
        cmocka_unit_test(test_closest_null_candidates),
        cmocka_unit_test(test_closest_long_junk),
    };
    return cmocka_run_group_tests_name("test-base-parse", tests, NULL, NULL);
}
