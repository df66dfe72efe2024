/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for struct bt_buf: appending, formatting, consuming and stealing, and the ceiling
 * that refuses input past max while leaving the contents as they were.
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

#include "engine/base/buf.h"

/* The buffer holds exactly the bytes in want, with a NUL right after them. */
static void
assert_buf(const struct bt_buf *b, const char *want, size_t want_len)
{
    assert_int_equal(b->len, want_len);
    assert_non_null(b->data);
    assert_memory_equal(b->data, want, want_len);
    assert_int_equal(b->data[want_len], '\0');
    assert_true(b->cap > b->len);
    assert_true(b->len <= b->max);
}

static void
test_init_empty(void **state)
{
    (void) state;
    struct bt_buf b;
    memset(&b, 0x5a, sizeof b);
    bt_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 100);
    assert_string_equal(bt_buf_str(&b), "");
    bt_buf_release(&b);
    assert_null(b.data);
}

static void
test_append_grows(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    assert_int_equal(bt_buf_append(&b, "abc", 3), 0);
    assert_buf(&b, "abc", 3);
    assert_int_equal(bt_buf_puts(&b, "def"), 0);
    assert_buf(&b, "abcdef", 6);
    assert_string_equal(bt_buf_str(&b), "abcdef");

    /* Many small appends force several reallocations; the contents must survive each. */
    char want[5000];
    memcpy(want, "abcdef", 6);
    for (size_t i = 6; i < sizeof want; i++) {
        char c = (char) ('a' + i % 26);
        want[i] = c;
        assert_int_equal(bt_buf_append(&b, &c, 1), 0);
    }
    assert_buf(&b, want, sizeof want);
}

static void
test_append_binary(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 64);
    static const char bin[] = { 'a', '\0', 'b', '\xff', '\0' };
    assert_int_equal(bt_buf_append(&b, bin, sizeof bin), 0);
    assert_buf(&b, bin, sizeof bin);
    /* bt_buf_str() is a C string view: it stops at the first NUL, len does not. */
    assert_string_equal(bt_buf_str(&b), "a");
}

static void
test_append_zero_len(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 8);
    /* An empty append is fine and still leaves a NUL-terminated buffer. */
    assert_int_equal(bt_buf_append(&b, NULL, 0), 0);
    assert_buf(&b, "", 0);
    assert_int_equal(bt_buf_puts(&b, ""), 0);
    assert_buf(&b, "", 0);
}

static void
test_printf(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 256);
    assert_int_equal(bt_buf_printf(&b, "%s=%d", "port", 8080), 0);
    assert_buf(&b, "port=8080", 9);
    assert_int_equal(bt_buf_printf(&b, ",%05u,%c", 42u, 'x'), 0);
    assert_buf(&b, "port=8080,00042,x", 17);
    /* A format that expands to nothing appends nothing. */
    assert_int_equal(bt_buf_printf(&b, "%s", ""), 0);
    assert_buf(&b, "port=8080,00042,x", 17);
}

static void
test_printf_first_call_empty(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 16);
    /* The first change allocates even when the text is empty. */
    assert_int_equal(bt_buf_printf(&b, "%s", ""), 0);
    assert_buf(&b, "", 0);
}

static void
test_ceiling_append(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 8);
    assert_int_equal(bt_buf_append(&b, "12345", 5), 0);
    /* 5 + 4 > 8: refused, contents unchanged. */
    assert_int_equal(bt_buf_append(&b, "6789", 4), -E2BIG);
    assert_buf(&b, "12345", 5);
    assert_int_equal(bt_buf_puts(&b, "abcd"), -E2BIG);
    assert_buf(&b, "12345", 5);
    /* Exactly up to the ceiling is allowed. */
    assert_int_equal(bt_buf_append(&b, "678", 3), 0);
    assert_buf(&b, "12345678", 8);
    /* Full: even one more byte is refused, an empty append is not. */
    assert_int_equal(bt_buf_append(&b, "9", 1), -E2BIG);
    assert_buf(&b, "12345678", 8);
    assert_int_equal(bt_buf_append(&b, "", 0), 0);
    assert_buf(&b, "12345678", 8);
}

static void
test_ceiling_first_append(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 4);
    assert_int_equal(bt_buf_append(&b, "hello", 5), -E2BIG);
    assert_int_equal(b.len, 0);
    assert_string_equal(bt_buf_str(&b), "");
}

static void
test_ceiling_huge_len(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 16);
    assert_int_equal(bt_buf_append(&b, "ab", 2), 0);
    /* A length that would wrap len + extra must be refused, not wrap around. */
    assert_int_equal(bt_buf_append(&b, "x", SIZE_MAX), -E2BIG);
    assert_int_equal(bt_buf_append(&b, "x", SIZE_MAX - 1), -E2BIG);
    assert_buf(&b, "ab", 2);
}

static void
test_ceiling_zero(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 0);
    assert_int_equal(bt_buf_append(&b, "a", 1), -E2BIG);
    assert_int_equal(bt_buf_printf(&b, "%d", 1), -E2BIG);
    assert_int_equal(b.len, 0);
    assert_string_equal(bt_buf_str(&b), "");
}

static void
test_ceiling_printf(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 10);
    assert_int_equal(bt_buf_printf(&b, "%s", "abcdef"), 0);
    assert_int_equal(bt_buf_printf(&b, "%d", 12345), -E2BIG);
    assert_buf(&b, "abcdef", 6);
    assert_int_equal(bt_buf_printf(&b, "%d", 1234), 0);
    assert_buf(&b, "abcdef1234", 10);
    assert_int_equal(bt_buf_printf(&b, "%c", 'x'), -E2BIG);
    assert_buf(&b, "abcdef1234", 10);
}

static void
test_consume(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 64);
    assert_int_equal(bt_buf_puts(&b, "hello world"), 0);
    bt_buf_consume(&b, 0);
    assert_buf(&b, "hello world", 11);
    bt_buf_consume(&b, 6);
    assert_buf(&b, "world", 5);
    bt_buf_consume(&b, 4);
    assert_buf(&b, "d", 1);
    bt_buf_consume(&b, 1);
    assert_buf(&b, "", 0);
    assert_string_equal(bt_buf_str(&b), "");

    /* More than the length empties the buffer. */
    assert_int_equal(bt_buf_puts(&b, "abc"), 0);
    bt_buf_consume(&b, 100);
    assert_buf(&b, "", 0);

    /* Consumed room is usable again up to the ceiling. */
    assert_int_equal(bt_buf_puts(&b, "xyz"), 0);
    assert_buf(&b, "xyz", 3);
}

static void
test_consume_frees_room_under_ceiling(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 6);
    assert_int_equal(bt_buf_puts(&b, "abcdef"), 0);
    assert_int_equal(bt_buf_puts(&b, "g"), -E2BIG);
    bt_buf_consume(&b, 2);
    assert_int_equal(bt_buf_puts(&b, "gh"), 0);
    assert_buf(&b, "cdefgh", 6);
}

static void
test_consume_empty_unallocated(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 6);
    bt_buf_consume(&b, 3);
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    assert_string_equal(bt_buf_str(&b), "");
}

static void
test_reset(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 64);
    bt_buf_reset(&b); /* safe before the first append */
    assert_int_equal(b.len, 0);
    assert_int_equal(bt_buf_puts(&b, "abc"), 0);
    bt_buf_reset(&b);
    assert_buf(&b, "", 0);
    assert_int_equal(b.max, 64);
    assert_int_equal(bt_buf_puts(&b, "de"), 0);
    assert_buf(&b, "de", 2);
}

static void
test_steal(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 64);
    assert_int_equal(bt_buf_printf(&b, "%s-%d", "web", 1), 0);
    char *s = bt_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "web-1");
    free(s);
    /* The buffer is left empty and usable, with the same ceiling. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 64);
    assert_string_equal(bt_buf_str(&b), "");
    assert_int_equal(bt_buf_puts(&b, "again"), 0);
    assert_buf(&b, "again", 5);
}

static void
test_steal_empty(void **state)
{
    (void) state;
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, 64);
    /* Stealing an untouched buffer gives a new empty string, never NULL. */
    char *s = bt_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    assert_null(b.data);
}

static void
test_release_twice(void **state)
{
    (void) state;
    struct bt_buf b;
    bt_buf_init(&b, 64);
    assert_int_equal(bt_buf_puts(&b, "abc"), 0);
    bt_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    bt_buf_release(&b);
    assert_null(b.data);
    assert_string_equal(bt_buf_str(&b), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_append_grows),
        cmocka_unit_test(test_append_binary),
        cmocka_unit_test(test_append_zero_len),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_first_call_empty),
        cmocka_unit_test(test_ceiling_append),
        cmocka_unit_test(test_ceiling_first_append),
        cmocka_unit_test(test_ceiling_huge_len),
        cmocka_unit_test(test_ceiling_zero),
        cmocka_unit_test(test_ceiling_printf),
        cmocka_unit_test(test_consume),
        cmocka_unit_test(test_consume_frees_room_under_ceiling),
        cmocka_unit_test(test_consume_empty_unallocated),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_steal_empty),
        cmocka_unit_test(test_release_twice),
    };
    return cmocka_run_group_tests_name("test-base-buf", tests, NULL, NULL);
}
