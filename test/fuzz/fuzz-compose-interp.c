/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for compose/interp.c: the input as one string to interpolate (NULs and all),
 * then its lines as the scalars of a small hand-built tree with shared nodes. Beyond not
 * crashing, leaking or hanging, it checks what interp.h promises: errors are well-formed and
 * carry the position, text without '$' comes out unchanged, and results are deterministic.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "compose/interp.h"
#include "engine/base/alloc.h"

#define MAX_INPUT (1 << 16)
#define MAX_OUT (1 << 20)
#define MAX_LINES 16

static const char *
lookup(const char *name, void *ud)
{
    static const char *const vars[][2] = {
        { "A", "a" },    { "B", "bb" },
        { "E", "" },     { "D", "$A${" },
        { "N", "null" }, { "_x1", "12345" },
        { "Z", "}" },    { "L", "0123456789abcdefghijklmnopqrstuv" },
    };
    (void) ud;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strcmp(vars[i][0], name) == 0)
            return vars[i][1];
    return NULL;
}

static void
check_error(const struct bt_err *e, int r, const char *file)
{
    CHECK(r < 0 && e && e->msg && e->msg[0]);
    CHECK(r == -e->code);
    CHECK(e->code == BT_EPARSE || e->code == BT_EINVALID || e->code == BT_ETOOBIG);
    CHECK(!file || (e->file && strcmp(e->file, file) == 0 && e->line >= 1 && e->col >= 1));
}

/* The input as one string: interpolated twice with the same result. */
static void
fuzz_string(const char *s, size_t n)
{
    const struct compose_pos pos = { "fuzz.yaml", 3, 7 };
    struct compose_interp_warn w;
    compose_interp_warn_init(&w);
    struct bt_buf out, again;
    bt_buf_init(&out, MAX_OUT);
    bt_buf_init(&again, MAX_OUT);
    struct bt_err *err = NULL;
    int r = compose_interp_append(&out, s, n, true, lookup, NULL, &w, &pos, "a.b", &err);
    if (r < 0) {
        check_error(err, r, "fuzz.yaml");
        CHECK(strncmp(err->msg, "a.b: ", 5) == 0);
    } else {
        CHECK(!err);
        if (!memchr(s, '$', n))
            CHECK(out.len == n && (n == 0 || memcmp(out.data, s, n) == 0));
        for (size_t i = 0; i < w.n; i++)
            CHECK(compose_interp_warn_has(&w, w.names[i]) && !lookup(w.names[i], NULL));
    }
    int r2 = compose_interp_append(&again, s, n, false, lookup, NULL, NULL, NULL, NULL, NULL);
    CHECK(r2 == r);
    if (r == 0)
        CHECK(again.len == out.len && memcmp(bt_buf_str(&again), bt_buf_str(&out), out.len) == 0);
    bt_err_free(err);
    bt_buf_release(&out);
    bt_buf_release(&again);
    compose_interp_warn_release(&w);
}

static struct compose_node *
node(struct bt_arena *a, enum compose_node_kind kind, size_t n)
{
    struct compose_node *x = bt_arena_alloc(a, sizeof *x);
    x->kind = kind;
    x->pos = (struct compose_pos){ "fuzz.yaml", 1, 1 };
    x->n = n;
    if (kind == COMPOSE_NODE_MAP)
        x->pairs = bt_arena_alloc(a, (n ? n : 1) * sizeof *x->pairs);
    else if (kind == COMPOSE_NODE_SEQ)
        x->items = bt_arena_alloc(a, (n ? n : 1) * sizeof *x->items);
    return x;
}

/* The lines as scalars (a leading '*' shares the previous line's node) in a mapping, also held
 * by a sequence. */
static void
fuzz_tree(const char *s, size_t n)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node *lines[MAX_LINES];
    char *orig[MAX_LINES];
    size_t nlines = 0;
    for (size_t i = 0; i <= n && nlines < MAX_LINES;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t) (nl - s) : n;
        struct compose_node *x;
        if (e > i && s[i] == '*' && nlines > 0) {
            x = lines[nlines - 1];
        } else {
            x = node(a, COMPOSE_NODE_SCALAR, 0);
            x->str = bt_arena_strndup(a, s + i, e - i);
            x->len = strlen(x->str);
            x->plain = (e - i) % 2 == 0;
            x->pos.line = (int) nlines + 1;
        }
        orig[nlines] = bt_arena_strndup(a, x->str, x->len);
        lines[nlines++] = x;
        i = e + 1;
    }
    struct compose_node *m = node(a, COMPOSE_NODE_MAP, nlines);
    struct compose_node *sq = node(a, COMPOSE_NODE_SEQ, nlines);
    for (size_t i = 0; i < nlines; i++) {
        m->pairs[i].key = node(a, COMPOSE_NODE_SCALAR, 0);
        m->pairs[i].key->str = "$A";
        m->pairs[i].key->len = 2;
        m->pairs[i].val = lines[i];
        sq->items[i] = lines[i];
    }
    struct compose_node *root = node(a, COMPOSE_NODE_MAP, 2);
    root->pairs[0] = (struct compose_pair){ node(a, COMPOSE_NODE_SCALAR, 0), m };
    root->pairs[0].key->str = "m";
    root->pairs[1] = (struct compose_pair){ node(a, COMPOSE_NODE_SCALAR, 0), sq };
    root->pairs[1].key->str = "s";

    struct bt_err *err = NULL;
    int r = compose_interp_tree(a, root, lookup, NULL, NULL, &err);
    if (r < 0) {
        check_error(err, r, "fuzz.yaml");
    } else {
        for (size_t i = 0; i < nlines; i++) {
            CHECK(strcmp(m->pairs[i].key->str, "$A") == 0);
            if (!strchr(orig[i], '$'))
                CHECK(strcmp(lines[i]->str, orig[i]) == 0);
        }
    }
    bt_err_free(err);
    bt_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    const char *s = (const char *) data;
    fuzz_string(s, size);
    fuzz_tree(s, size);
    return 0;
}
