/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for compose/interp.c: every form of the $-syntax, nesting, "$$", syntax errors with
 * positions and paths, the unset-variable report, the limits, and the tree walk over trees built
 * by hand (mapping keys untouched, shared nodes done once, interpolated values are strings).
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

#include "compose/interp.h"
#include "engine/base/alloc.h"

static const char *const vars[][2] = {
    { "A", "a" },     { "B", "b" },          { "EMPTY", "" },    { "PORT", "8080" },
    { "TAG", "1.0" }, { "IMG", "nginx" },    { "DOLLAR", "$B" }, { "lower", "low" },
    { "_U9", "u9" },  { "NULLISH", "null" }, { "BRACE", "}" },
};

static const char *
lookup(const char *name, void *ud)
{
    if (ud)
        (*(int *) ud)++;
    for (size_t i = 0; i < BT_ARRAY_SIZE(vars); i++)
        if (strcmp(vars[i][0], name) == 0)
            return vars[i][1];
    return NULL;
}

struct fx {
    struct bt_arena *a;
    struct compose_interp_warn warn;
    struct bt_err *err;
};

static int
setup(void **state)
{
    struct fx *f = bt_xcalloc(1, sizeof *f);
    f->a = bt_arena_new();
    compose_interp_warn_init(&f->warn);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    bt_arena_free(f->a);
    compose_interp_warn_release(&f->warn);
    bt_err_free(f->err);
    free(f);
    return 0;
}

/* The result of in, or NULL with f->err set. */
static const char *
interp(struct fx *f, const char *in)
{
    f->err = bt_err_free(f->err);
    char *out = NULL;
    int r = compose_interp_string(f->a, in, lookup, NULL, &f->warn, NULL, NULL, &out, &f->err);
    if (r < 0) {
        assert_non_null(f->err);
        assert_int_equal(r, -f->err->code);
        assert_null(out);
        return NULL;
    }
    assert_null(f->err);
    assert_non_null(out);
    return out;
}

static void
check(struct fx *f, const char *in, const char *want)
{
    const char *got = interp(f, in);
    if (!got)
        fail_msg("'%s': unexpected error: %s", in, f->err->msg);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': expected '%s', got '%s'", in, want, got);
}

/* in fails and the message starts with want. */
static void
check_error(struct fx *f, const char *in, int code, const char *want)
{
    const char *got = interp(f, in);
    if (got)
        fail_msg("'%s': expected an error, got '%s'", in, got);
    if (strncmp(f->err->msg, want, strlen(want)) != 0)
        fail_msg("'%s': expected '%s...', got '%s'", in, want, f->err->msg);
    assert_int_equal(f->err->code, code);
}

static void
test_plain_references(void **state)
{
    struct fx *f = *state;
    check(f, "", "");
    check(f, "no variables here", "no variables here");
    check(f, "$A", "a");
    check(f, "${A}", "a");
    check(f, "x${A}y", "xay");
    check(f, "$A$B", "ab");
    check(f, "${A}${B}", "ab");
    check(f, "$A-$B", "a-b");
    check(f, "$A.$B", "a.b");
    check(f, "$A/${B}/c", "a/b/c");
    check(f, "$lower ${_U9}", "low u9");
    check(f, "${IMG}:${TAG}", "nginx:1.0");
    /* Names are greedy: $AB is AB, not A then "B". */
    check(f, "$AB", "");
    check(f, "${EMPTY}", "");
    /* Values are not interpolated again. */
    check(f, "${DOLLAR}", "$B");
    check(f, "$DOLLAR", "$B");
    check(f, "${BRACE}", "}");
    check(f, "multi\nline $A\n", "multi\nline a\n");
}

static void
test_literal_dollars(void **state)
{
    struct fx *f = *state;
    check(f, "$$", "$");
    check(f, "$$A", "$A");
    check(f, "$$$A", "$a");
    check(f, "$$$$", "$$");
    check(f, "$${A}", "${A}");
    /* A '$' before anything that is not a name, '{' or '$' stays. */
    check(f, "$", "$");
    check(f, "a$", "a$");
    check(f, "$1", "$1");
    check(f, "$1A", "$1A");
    check(f, "$ 5", "$ 5");
    check(f, "$-x", "$-x");
    check(f, "$.x", "$.x");
    check(f, "$}", "$}");
    check(f, "100$ and 5$", "100$ and 5$");
    check(f, "{A}", "{A}");
    check(f, "}", "}");
    assert_int_equal(f->warn.n, 0);
}

struct form {
    const char *in, *want;
};

static void
test_operators(void **state)
{
    struct fx *f = *state;
    static const struct form forms[] = {
        /* :- unset or empty; - unset */
        { "${UNSET:-def}", "def" },
        { "${EMPTY:-def}", "def" },
        { "${A:-def}", "a" },
        { "${UNSET-def}", "def" },
        { "${EMPTY-def}", "" },
        { "${A-def}", "a" },
        /* :+ set and not empty; + set */
        { "${UNSET:+alt}", "" },
        { "${EMPTY:+alt}", "" },
        { "${A:+alt}", "alt" },
        { "${UNSET+alt}", "" },
        { "${EMPTY+alt}", "alt" },
        { "${A+alt}", "alt" },
        /* :? and ? when the value is there */
        { "${A:?msg}", "a" },
        { "${A?msg}", "a" },
        { "${EMPTY?msg}", "" },
        /* words */
        { "${UNSET:-}", "" },
        { "${UNSET-}", "" },
        { "${A:+}", "" },
        { "${UNSET:-a b  c}", "a b  c" },
        { "${UNSET:-a:b}", "a:b" },
        { "${UNSET:-http://host:80/x?y=1}", "http://host:80/x?y=1" },
        { "${UNSET-a-b}", "a-b" },
        { "${UNSET:-:-}", ":-" },
        { "${UNSET:-line1\nline2}", "line1\nline2" },
        { "${UNSET:-{x}}", "{x}" },
        { "${UNSET:-x}}", "x}" },
        { "${UNSET:-$$}", "$" },
        { "${UNSET:-$}", "$" },
        { "${UNSET:-$1}", "$1" },
        { "${UNSET:-$$A}", "$A" },
        { "${UNSET:-$${B}}", "${B}" },
        { "pre ${UNSET:-x} post", "pre x post" },
        { "${PORT:-80}:${UNSET:-80}", "8080:80" },
        /* nesting */
        { "${UNSET:-${A}}", "a" },
        { "${UNSET:-$A}", "a" },
        { "${UNSET:-${UNSET2:-x}}", "x" },
        { "${UNSET:-${UNSET2:-${B}}}", "b" },
        { "${A:+[${B}]}", "[b]" },
        { "${A:+${B:+${PORT}}}", "8080" },
        { "${UNSET:-a${B}c}${A}", "abca" },
        { "${UNSET:-${EMPTY:-${EMPTY-e}}}", "" },
        { "${UNSET:-${A:?x}}", "a" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(forms); i++)
        check(f, forms[i].in, forms[i].want);
    /* None of those used an unset variable without a default. */
    assert_int_equal(f->warn.n, 0);
}

static void
test_words_are_lazy(void **state)
{
    struct fx *f = *state;
    int lookups = 0;
    char *out = NULL;
    /* A is set: the default is not evaluated, so UNSET is not even looked up. */
    assert_int_equal(compose_interp_string(f->a, "${A:-${UNSET}}", lookup, &lookups, &f->warn, NULL,
                                           NULL, &out, &f->err),
                     0);
    assert_string_equal(out, "a");
    assert_int_equal(lookups, 1);
    assert_int_equal(f->warn.n, 0);
    /* A required variable in an unused word is no error... */
    check(f, "${A:-${UNSET:?needed}}", "a");
    check(f, "${UNSET:+${UNSET2:?needed}}", "");
    /* ...but a syntax error in it is. */
    check_error(f, "${A:-${-x}}", BT_EPARSE, "invalid interpolation format '${-x}'");
    check_error(f, "${A:+${}}", BT_EPARSE, "invalid interpolation format");
}

static void
test_required(void **state)
{
    struct fx *f = *state;
    check_error(f, "${UNSET:?set TAG}", BT_EINVALID,
                "required variable 'UNSET' is missing a value: set TAG");
    check_error(f, "${EMPTY:?must not be empty}", BT_EINVALID,
                "required variable 'EMPTY' is missing a value: must not be empty");
    check_error(f, "${UNSET?gone}", BT_EINVALID,
                "required variable 'UNSET' is missing a value: gone");
    check_error(f, "x${UNSET:?}y", BT_EINVALID, "required variable 'UNSET' is missing a value");
    assert_string_equal(f->err->msg, "required variable 'UNSET' is missing a value");
    check_error(f, "${UNSET?}", BT_EINVALID, "required variable 'UNSET' is missing a value");
    /* The message is interpolated. */
    check_error(f, "${UNSET:?need ${A} or $B}", BT_EINVALID,
                "required variable 'UNSET' is missing a value: need a or b");
    /* An error inside the message wins. */
    check_error(f, "${UNSET:?${UNSET2:?inner}}", BT_EINVALID,
                "required variable 'UNSET2' is missing a value: inner");
    /* Nested inside a used default. */
    check_error(f, "${UNSET:-${UNSET2:?deep}}", BT_EINVALID,
                "required variable 'UNSET2' is missing a value: deep");
    /* Control characters in the message are not printed raw. */
    check_error(f, "${UNSET:?a\nb}", BT_EINVALID,
                "required variable 'UNSET' is missing a value: a?b");
}

static void
test_syntax_errors(void **state)
{
    struct fx *f = *state;
    static const char *const bad_name[] = { "${}",    "${-x}", "${ A}", "${1A}",
                                            "${:-x}", "${$A}", "x${.}y" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad_name); i++)
        check_error(f, bad_name[i], BT_EPARSE, "invalid interpolation format");
    static const char *const bad_op[] = { "${A.B}", "${A:x}",  "${A:}", "${A B}",
                                          "${A=x}", "${A:=x}", "${A#x}" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad_op); i++)
        check_error(f, bad_op[i], BT_EPARSE, "invalid interpolation format");
    static const char *const open[] = { "${",   "${A",    "x ${A:-y", "${A:-${B}",
                                        "${A:", "${A:-x", "${A-",     "a}${B" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(open); i++)
        check_error(f, open[i], BT_EPARSE, "invalid interpolation format");

    check_error(f, "${-x}", BT_EPARSE, "invalid interpolation format");
    assert_string_equal(
        f->err->msg, "invalid interpolation format '${-x}': expected a variable name after '${'");
    assert_non_null(f->err->hint);
    assert_string_equal(f->err->hint, "write '$$' for a literal '$'");
    check_error(f, "${A:x}", BT_EPARSE, "invalid interpolation format");
    assert_string_equal(f->err->msg, "invalid interpolation format '${A:x}': expected '}' or one "
                                     "of ':-', '-', ':+', '+', ':?', '?' after the name");
    check_error(f, "image: ${TAG", BT_EPARSE, "invalid interpolation format");
    assert_string_equal(f->err->msg, "invalid interpolation format '${TAG': missing closing '}'");
    /* A long fragment is cut. */
    check_error(f, "${A:-0123456789012345678901234567890123456789012345678901234567890123",
                BT_EPARSE, "invalid interpolation format");
    assert_string_equal(f->err->msg, "invalid interpolation format "
                                     "'${A:-0123456789012345678901234567890123456789012...': "
                                     "missing closing '}'");
}

static void
test_error_positions(void **state)
{
    struct fx *f = *state;
    const struct compose_pos pos = { "compose.yaml", 4, 12 };
    char *out = NULL;
    assert_int_equal(compose_interp_string(f->a, "${TAG_X:?set TAG_X}", lookup, NULL, NULL, &pos,
                                           "services.web.image", &out, &f->err),
                     -BT_EINVALID);
    bt_autofree char *t = bt_err_text(f->err);
    assert_string_equal(t, "compose.yaml:4:12: services.web.image: required variable 'TAG_X' is "
                           "missing a value: set TAG_X");
    f->err = bt_err_free(f->err);

    /* No path, no position. */
    assert_int_equal(
        compose_interp_string(f->a, "${", lookup, NULL, NULL, NULL, NULL, &out, &f->err),
        -BT_EPARSE);
    assert_null(f->err->file);
    assert_int_equal(f->err->line, 0);
    f->err = bt_err_free(f->err);
    assert_int_equal(compose_interp_string(f->a, "${", lookup, NULL, NULL, &pos, "", &out, &f->err),
                     -BT_EPARSE);
    assert_string_equal(f->err->msg, "invalid interpolation format '${': missing closing '}'");
    f->err = bt_err_free(f->err);

    /* Exact text: the column (and line) of the offending '$'. */
    bt_autobuf struct bt_buf b = { .max = 1024 };
    const struct compose_pos vpos = { ".env", 3, 5 };
    const char *text = "abc ${A:-x";
    assert_int_equal(compose_interp_append(&b, text, strlen(text), true, lookup, NULL, NULL, &vpos,
                                           "KEY", &f->err),
                     -BT_EPARSE);
    assert_int_equal(f->err->line, 3);
    assert_int_equal(f->err->col, 9);
    assert_string_equal(f->err->msg, "KEY: invalid interpolation format '${A:-x': missing "
                                     "closing '}'");
    f->err = bt_err_free(f->err);
    text = "a\nbc${UNSET:?no}";
    bt_buf_reset(&b);
    assert_int_equal(compose_interp_append(&b, text, strlen(text), true, lookup, NULL, NULL, &vpos,
                                           NULL, &f->err),
                     -BT_EINVALID);
    assert_int_equal(f->err->line, 4);
    assert_int_equal(f->err->col, 3);
    f->err = bt_err_free(f->err);
    /* Not exact: the position as given. */
    bt_buf_reset(&b);
    assert_int_equal(compose_interp_append(&b, text, strlen(text), false, lookup, NULL, NULL, &vpos,
                                           NULL, &f->err),
                     -BT_EINVALID);
    assert_int_equal(f->err->line, 3);
    assert_int_equal(f->err->col, 5);
    /* A NULL err is fine. */
    bt_buf_reset(&b);
    assert_int_equal(compose_interp_append(&b, "${", 2, true, lookup, NULL, NULL, &vpos, "K", NULL),
                     -BT_EPARSE);
}

static void
test_warn_once(void **state)
{
    struct fx *f = *state;
    check(f, "$U1 ${U1} $U2 ${U1:-x} ${U3-y} ${U4:+z} $U2 ${A}", "   x y   a");
    assert_int_equal(f->warn.n, 2);
    assert_string_equal(f->warn.names[0], "U1");
    assert_string_equal(f->warn.names[1], "U2");
    assert_true(compose_interp_warn_has(&f->warn, "U1"));
    assert_false(compose_interp_warn_has(&f->warn, "U3"));
    assert_false(compose_interp_warn_has(&f->warn, "A"));
    /* Across calls, still once per name; an empty variable is set, not warned about. */
    check(f, "${U2}${U5}${EMPTY}$U1", "");
    assert_int_equal(f->warn.n, 3);
    assert_string_equal(f->warn.names[2], "U5");
    /* Many names: the index grows. */
    char in[32];
    for (int i = 0; i < 500; i++) {
        snprintf(in, sizeof in, "$V%d$V%d", i, i % 7);
        check(f, in, "");
    }
    assert_int_equal(f->warn.n, 3 + 500);
    assert_true(compose_interp_warn_has(&f->warn, "V499"));
    /* A NULL report and a NULL lookup are fine. */
    char *out = NULL;
    assert_int_equal(
        compose_interp_string(f->a, "x$A${B:-y}", NULL, NULL, NULL, NULL, NULL, &out, &f->err), 0);
    assert_string_equal(out, "xy");
    struct compose_interp_warn empty;
    compose_interp_warn_init(&empty);
    assert_false(compose_interp_warn_has(&empty, "A"));
    compose_interp_warn_release(&empty);
    compose_interp_warn_release(&empty);
}

static const char *
big_lookup(const char *name, void *ud)
{
    return strcmp(name, "BIG") == 0 ? ud : NULL;
}

static void
test_limits(void **state)
{
    struct fx *f = *state;
    /* Input ceiling. */
    size_t n = COMPOSE_INTERP_MAX_INPUT;
    char *in = bt_xmalloc(n + 2);
    memset(in, 'x', n + 1);
    in[n] = '\0';
    char *out = NULL;
    assert_int_equal(compose_interp_string(f->a, in, lookup, NULL, NULL, NULL, NULL, &out, &f->err),
                     0);
    assert_int_equal(strlen(out), n);
    in[n] = 'x';
    in[n + 1] = '\0';
    assert_int_equal(compose_interp_string(f->a, in, lookup, NULL, NULL, NULL, NULL, &out, &f->err),
                     -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "value is larger than 1 MiB, too large to interpolate");
    f->err = bt_err_free(f->err);
    free(in);

    /* Output ceiling: 300 copies of 64 KiB. */
    char *big = bt_xmalloc(65537);
    memset(big, 'v', 65536);
    big[65536] = '\0';
    struct bt_buf b;
    bt_buf_init(&b, 4096);
    for (int i = 0; i < 300; i++)
        assert_int_equal(bt_buf_puts(&b, "$BIG"), 0);
    assert_int_equal(compose_interp_string(f->a, bt_buf_str(&b), big_lookup, big, NULL, NULL, NULL,
                                           &out, &f->err),
                     -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "interpolated value is larger than 16 MiB");
    f->err = bt_err_free(f->err);
    bt_buf_release(&b);
    /* A small buffer is a small ceiling. */
    bt_buf_init(&b, 100);
    assert_int_equal(
        compose_interp_append(&b, "$BIG", 4, false, big_lookup, big, NULL, NULL, NULL, &f->err),
        -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "interpolated value is larger than 100 bytes");
    f->err = bt_err_free(f->err);
    bt_buf_release(&b);
    free(big);
}

/* depth "${UNSET:-" around "x", closed. */
static char *
nested(int depth)
{
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    for (int i = 0; i < depth; i++)
        assert_int_equal(bt_buf_puts(&b, "${UNSET:-"), 0);
    assert_int_equal(bt_buf_puts(&b, "x"), 0);
    for (int i = 0; i < depth; i++)
        assert_int_equal(bt_buf_puts(&b, "}"), 0);
    return bt_buf_steal(&b);
}

static void
test_nesting_limit(void **state)
{
    struct fx *f = *state;
    bt_autofree char *ok = nested(COMPOSE_INTERP_MAX_NESTING);
    check(f, ok, "x");
    bt_autofree char *deep = nested(COMPOSE_INTERP_MAX_NESTING + 1);
    check_error(f, deep, BT_ETOOBIG, "variable references nested deeper than 64 levels");
    /* Also when the deep part is only checked, not used. */
    bt_autofree char *unused = bt_xasprintf("${A:-%s}", deep + strlen("${UNSET:-"));
    check_error(f, unused, BT_ETOOBIG, "variable references nested deeper than 64 levels");
    /* Many siblings are not nesting. */
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bt_buf_puts(&b, "${UNSET:-${A}}"), 0);
    const char *got = interp(f, bt_buf_str(&b));
    assert_non_null(got);
    assert_int_equal(strlen(got), 1000);
    bt_buf_release(&b);
}

/* ---- the tree walk, on trees built by hand */

static struct compose_node *
scalar(struct fx *f, const char *s, bool plain, int line, int col)
{
    struct compose_node *n = bt_arena_alloc(f->a, sizeof *n);
    n->kind = COMPOSE_NODE_SCALAR;
    n->pos = (struct compose_pos){ "compose.yaml", line, col };
    n->str = bt_arena_strdup(f->a, s);
    n->len = strlen(s);
    n->plain = plain;
    return n;
}

static struct compose_node *
map(struct fx *f, size_t n, ...)
{
    struct compose_node *m = bt_arena_alloc(f->a, sizeof *m);
    m->kind = COMPOSE_NODE_MAP;
    m->pos = (struct compose_pos){ "compose.yaml", 1, 1 };
    m->pairs = bt_arena_alloc(f->a, (n ? n : 1) * sizeof *m->pairs);
    m->n = n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        m->pairs[i].key = scalar(f, va_arg(ap, const char *), true, 1, 1);
        m->pairs[i].val = va_arg(ap, struct compose_node *);
    }
    va_end(ap);
    return m;
}

static struct compose_node *
seq(struct fx *f, size_t n, ...)
{
    struct compose_node *s = bt_arena_alloc(f->a, sizeof *s);
    s->kind = COMPOSE_NODE_SEQ;
    s->pos = (struct compose_pos){ "compose.yaml", 1, 1 };
    s->items = bt_arena_alloc(f->a, (n ? n : 1) * sizeof *s->items);
    s->n = n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        s->items[i] = va_arg(ap, struct compose_node *);
    va_end(ap);
    return s;
}

static void
test_tree(void **state)
{
    struct fx *f = *state;
    struct compose_node *image = scalar(f, "${IMG}:${TAG:-latest}", true, 3, 12);
    struct compose_node *port = scalar(f, "${PORT}", true, 5, 9);
    struct compose_node *quoted_port = scalar(f, "${PORT}", false, 6, 9);
    struct compose_node *unset = scalar(f, "${UNSET_ENV}", true, 8, 12);
    struct compose_node *nullish = scalar(f, "${NULLISH}", true, 9, 12);
    struct compose_node *literal = scalar(f, "no dollar", true, 10, 12);
    struct compose_node *same = scalar(f, "$1 stays", true, 11, 12);
    struct compose_node *key_val = scalar(f, "v", true, 12, 12);
    struct compose_node *web =
        map(f, 5, "image", image, "ports", seq(f, 2, port, quoted_port), "environment",
            map(f, 3, "EMPTY_VAL", unset, "N", nullish, "L", literal), "command", same, "${A}",
            key_val);
    struct compose_node *root = map(f, 1, "services", map(f, 1, "web", web));

    assert_int_equal(compose_interp_tree(f->a, root, lookup, NULL, &f->warn, &f->err), 0);
    assert_string_equal(image->str, "nginx:1.0");
    assert_int_equal(image->len, 9);
    assert_false(image->plain); /* interpolated values are strings until cast */
    assert_string_equal(port->str, "8080");
    assert_false(port->plain);
    assert_string_equal(quoted_port->str, "8080");
    assert_false(quoted_port->plain);
    /* Would resolve as null: becomes a string, as in docker compose. */
    assert_string_equal(unset->str, "");
    assert_false(unset->plain);
    assert_string_equal(nullish->str, "null");
    assert_false(nullish->plain);
    assert_string_equal(literal->str, "no dollar");
    assert_true(literal->plain);
    assert_string_equal(same->str, "$1 stays");
    /* Keys are not interpolated. */
    assert_string_equal(web->pairs[4].key->str, "${A}");
    assert_int_equal(f->warn.n, 1);
    assert_string_equal(f->warn.names[0], "UNSET_ENV");
    /* Positions are kept. */
    assert_int_equal(image->pos.line, 3);
    assert_int_equal(image->pos.col, 12);
}

static void
test_tree_shared_nodes(void **state)
{
    struct fx *f = *state;
    /* "$$${A}" gives "$a"; a second pass would turn that into "" (and warn about 'a'). */
    struct compose_node *shared = scalar(f, "$$${A}", true, 2, 3);
    struct compose_node *shared_map = map(f, 1, "k", scalar(f, "$${B}", true, 4, 5));
    struct compose_node *list = seq(f, 3, shared, shared, shared_map);
    struct compose_node *root = map(f, 4, "x", shared, "y", list, "z", shared_map, "w", shared_map);
    assert_int_equal(compose_interp_tree(f->a, root, lookup, NULL, &f->warn, &f->err), 0);
    assert_string_equal(shared->str, "$a");
    assert_string_equal(shared_map->pairs[0].val->str, "${B}");
    assert_int_equal(f->warn.n, 0);
    /* A cycle (not from YAML, but hand-built trees can have one) ends too. */
    struct compose_node *loop = seq(f, 1, scalar(f, "$A", true, 1, 1));
    loop->items[0] = loop;
    assert_int_equal(compose_interp_tree(f->a, loop, lookup, NULL, &f->warn, &f->err), 0);
}

static void
test_tree_errors(void **state)
{
    struct fx *f = *state;
    struct compose_node *bad = scalar(f, "${TAG_X:?set TAG_X}", true, 4, 12);
    struct compose_node *root =
        map(f, 1, "services",
            map(f, 1, "web", map(f, 1, "ports", seq(f, 2, scalar(f, "80", true, 3, 9), bad))));
    assert_int_equal(compose_interp_tree(f->a, root, lookup, NULL, &f->warn, &f->err),
                     -BT_EINVALID);
    bt_autofree char *t = bt_err_text(f->err);
    assert_string_equal(t, "compose.yaml:4:12: services.web.ports[1]: required variable 'TAG_X' "
                           "is missing a value: set TAG_X");
    f->err = bt_err_free(f->err);

    /* A scalar root has no path; a NULL root is nothing to do. */
    struct compose_node *lone = scalar(f, "${", true, 1, 1);
    assert_int_equal(compose_interp_tree(f->a, lone, lookup, NULL, NULL, &f->err), -BT_EPARSE);
    bt_autofree char *t2 = bt_err_text(f->err);
    assert_string_equal(t2, "compose.yaml:1:1: invalid interpolation format '${': missing closing "
                            "'}'");
    assert_int_equal(compose_interp_tree(f->a, NULL, lookup, NULL, NULL, NULL), 0);
    /* Nested sequences with an error deep inside. */
    struct compose_node *inner = scalar(f, "${-}", true, 7, 7);
    struct compose_node *s = seq(f, 1, seq(f, 2, scalar(f, "ok", true, 1, 1), inner));
    f->err = bt_err_free(f->err);
    assert_int_equal(compose_interp_tree(f->a, map(f, 1, "x", s), lookup, NULL, NULL, &f->err),
                     -BT_EPARSE);
    assert_string_equal(f->err->msg, "x[0][1]: invalid interpolation format '${-}': expected a "
                                     "variable name after '${'");
}

static void
test_tree_embedded_nul(void **state)
{
    struct fx *f = *state;
    struct compose_node *n = scalar(f, "", false, 1, 1);
    char *s = bt_arena_alloc(f->a, 5);
    memcpy(s, "a\0$A", 5);
    n->str = s;
    n->len = 4;
    assert_int_equal(compose_interp_tree(f->a, map(f, 1, "k", n), lookup, NULL, NULL, &f->err), 0);
    assert_int_equal(n->len, 3);
    assert_memory_equal(n->str, "a\0a", 3);
}

static void
test_tree_deep(void **state)
{
    struct fx *f = *state;
    struct compose_node *leaf = scalar(f, "$A", true, 1, 1);
    struct compose_node *n = leaf;
    for (int i = 0; i < 100; i++)
        n = seq(f, 1, n);
    assert_int_equal(compose_interp_tree(f->a, n, lookup, NULL, NULL, &f->err), 0);
    assert_string_equal(leaf->str, "a");
    for (int i = 0; i < 1000; i++)
        n = seq(f, 1, n);
    assert_int_equal(compose_interp_tree(f->a, n, lookup, NULL, NULL, &f->err), -BT_ETOOBIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_dollars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_words_are_lazy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warn_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_shared_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_embedded_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_deep, setup, teardown),
    };
    return cmocka_run_group_tests_name("test-compose-interp", tests, NULL, NULL);
}
