/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command and entrypoint strings split into words the way compose-go splits them with
 * mattn/go-shellwords (no variable or command expansion). It is not a shell: there is no
 * expansion, and an unquoted operator ends the command where a shell would start another.
 */
#include <string.h>

#include "compose/short.h"

#define Q "'%.*s%s'"
#define QA(s) COMPOSE_SHORT_QUOTE_ARGS(s)

struct words {
    struct bt_arena *a;
    char **v; /* NULL-terminated */
    size_t n, cap;
    char *buf; /* the word being read; never longer than the input */
    size_t len;
    bool have; /* a word is open (possibly empty: "" or '') */
};

struct quoting {
    bool escaped, single, dbl, back, dollar;
};

static void
word_end(struct words *w)
{
    if (!w->have)
        return;
    if (w->n + 1 >= w->cap) {
        size_t cap = w->cap * 2;
        char **v = bt_arena_alloc(w->a, cap * sizeof *v);
        memcpy(v, w->v, w->n * sizeof *v);
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = bt_arena_strndup(w->a, w->buf, w->len);
    w->len = 0;
    w->have = false;
}

static void
word_add(struct words *w, char c)
{
    w->buf[w->len++] = c;
    w->have = true;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* One character outside an escape. Returns 1 to add c to the word, 0 when it was consumed,
 * -1 at an operator that ends the command, or -2 with *why set on an error. */
static int
special(struct words *w, struct quoting *q, char c, const char **why)
{
    bool quoted = q->single || q->dbl;
    switch (c) {
    case '`':
        if (!quoted && !q->dollar)
            q->back = !q->back;
        return 1;
    case '(':
        if (quoted || q->back)
            return 1;
        if (q->dollar || w->len == 0 || w->buf[w->len - 1] != '$')
            return *why = "'(' outside '$('", -2;
        q->dollar = true;
        return 1;
    case ')':
        if (quoted || q->back)
            return 1;
        if (!q->dollar)
            return *why = "')' without '$('", -2;
        q->dollar = false;
        return 1;
    case '"':
        if (q->single || q->dollar || q->back)
            return 1;
        if (q->dbl)
            w->have = true; /* "" is an empty word */
        q->dbl = !q->dbl;
        return 0;
    case '\'':
        if (q->dbl || q->dollar || q->back)
            return 1;
        if (q->single)
            w->have = true;
        q->single = !q->single;
        return 0;
    case ';':
    case '&':
    case '|':
    case '<':
    case '>':
        if (quoted || q->back || q->dollar)
            return 1;
        /* "2>file": the descriptor number goes with the redirection. */
        if (c == '>' && all_digits(w->buf, w->len))
            w->have = false;
        return -1;
    default:
        return 1;
    }
}

static const char *
unterminated(const struct quoting *q)
{
    if (q->escaped)
        return "trailing backslash";
    if (q->single)
        return "unterminated single quote";
    if (q->dbl)
        return "unterminated double quote";
    if (q->back)
        return "unterminated backquote";
    return q->dollar ? "unterminated '$('" : NULL;
}

int
compose_command_split(struct bt_arena *a, const char *s, char ***ret, size_t *ret_n,
                      struct bt_err **err)
{
    int r = compose_short_check("command", s, err);
    if (r < 0)
        return r;
    struct words w = { .a = a, .cap = 8 };
    w.v = bt_arena_alloc(a, w.cap * sizeof *w.v);
    w.buf = bt_arena_alloc(a, strlen(s) + 1);
    struct quoting q = { 0 };
    const char *why = NULL;

    for (const char *p = s; *p; p++) {
        char c = *p;
        if (q.escaped) {
            q.escaped = false;
            word_add(&w, c);
            continue;
        }
        if (c == '\\' && !q.single) {
            q.escaped = true;
            continue;
        }
        if (is_blank(c) && !q.single && !q.dbl && !q.back && !q.dollar) {
            word_end(&w);
            continue;
        }
        r = is_blank(c) ? 1 : special(&w, &q, c, &why);
        if (r == -2)
            return bt_err_set(err, BT_EINVALID, "invalid command " Q ": %s", QA(s), why);
        if (r == -1)
            break;
        if (r == 1)
            word_add(&w, c);
    }
    why = unterminated(&q);
    if (why)
        return bt_err_set(err, BT_EINVALID, "invalid command " Q ": %s", QA(s), why);
    word_end(&w);
    w.v[w.n] = NULL;
    *ret = w.v;
    if (ret_n)
        *ret_n = w.n;
    return 0;
}
