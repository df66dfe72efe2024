/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interpolation: the scanner and evaluator of the $-syntax, the report of unset variables, and
 * the walk that interpolates a YAML tree in place. It knows neither where variables come from
 * (the caller's lookup) nor what the values mean (validation comes later).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compose/hash.h"
#include "compose/interp.h"
#include "engine/base/alloc.h"

#define FRAG_MAX 48     /* bytes of input quoted in a syntax error */
#define MESSAGE_MAX 512 /* bytes of a ${NAME:?message} shown */
#define KEY_MAX 256     /* bytes of one mapping key in a path */
#define PATH_MAX_LEN (64u << 10)
/* yaml.c caps nesting at COMPOSE_MAX_DEPTH; this only guards the stack against hand-built trees. */
#define WALK_MAX_DEPTH (2 * COMPOSE_MAX_DEPTH)

/* ---- the unset-variable report: an array in first-use order plus an open-addressing index */

/* The slot holding name, or the empty slot where it would go. */
static size_t
warn_slot(const struct compose_interp_warn *w, const char *name)
{
    size_t mask = w->nslots - 1;
    for (size_t i = compose_hash_bytes(name, strlen(name)) & mask;; i = (i + 1) & mask) {
        size_t s = w->slots[i];
        if (s == 0 || strcmp(w->names[s - 1], name) == 0)
            return i;
    }
}

static void
warn_rehash(struct compose_interp_warn *w)
{
    size_t n = w->nslots ? w->nslots * 2 : 64;
    free(w->slots);
    w->slots = bt_xcalloc(n, sizeof *w->slots);
    w->nslots = n;
    for (size_t i = 0; i < w->n; i++)
        w->slots[warn_slot(w, w->names[i])] = i + 1;
}

static void
warn_add(struct compose_interp_warn *w, const char *name)
{
    if (!w)
        return;
    if ((w->n + 1) * 2 > w->nslots)
        warn_rehash(w);
    size_t s = warn_slot(w, name);
    if (w->slots[s])
        return;
    w->names = bt_xgrow(w->names, &w->cap, w->n + 1, sizeof *w->names);
    w->names[w->n++] = bt_xstrdup(name);
    w->slots[s] = w->n;
}

void
compose_interp_warn_init(struct compose_interp_warn *w)
{
    *w = (struct compose_interp_warn){ 0 };
}

void
compose_interp_warn_release(struct compose_interp_warn *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->names[i]);
    free(w->names);
    free(w->slots);
    *w = (struct compose_interp_warn){ 0 };
}

bool
compose_interp_warn_has(const struct compose_interp_warn *w, const char *name)
{
    return w && w->nslots && w->slots[warn_slot(w, name)] != 0;
}

/* ---- the evaluator */

struct run {
    compose_lookup_fn fn;
    void *ud;
    struct compose_interp_warn *warn;
    const char *base; /* the whole input: errors record their offset in it */
    size_t err_off;
    struct bt_err **err;
};

/* One reference: $NAME or ${NAME}, or ${NAME<op>word}. */
struct ref {
    const char *at; /* its '$' */
    const char *name;
    size_t nlen;
    char op; /* 0, '-', '+' or '?' */
    bool colon;
    const char *arg; /* word */
    size_t alen;
};

static int expand(struct run *r, const char *s, size_t len, struct bt_buf *out, int depth);

static bool
is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Input quoted in a message: at most max bytes (not cutting a UTF-8 sequence), control bytes as
 * '?', "..." when cut. Returns a new string, caller frees. */
static char *
frag(const char *s, size_t n, size_t max)
{
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
            n--;
    }
    char *f = bt_xmalloc(n + 4);
    for (size_t i = 0; i < n; i++)
        f[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    memcpy(f + n, cut ? "..." : "", cut ? 4 : 1);
    return f;
}

static void
size_text(size_t n, char *buf, size_t size)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, size, "%zu MiB", n >> 20);
    else
        snprintf(buf, size, "%zu bytes", n);
}

static int fail(struct run *r, const char *at, int code, const char *fmt, ...) BT_PRINTF(4, 5);

static int
fail(struct run *r, const char *at, int code, const char *fmt, ...)
{
    r->err_off = (size_t) (at - r->base);
    if (!r->err)
        return -code;
    va_list ap;
    va_start(ap, fmt);
    int rc = bt_err_set_atv(r->err, NULL, 0, 0, code, fmt, ap);
    va_end(ap);
    return rc;
}

/* A syntax error about the reference starting at s[p]. */
static int
bad_format(struct run *r, const char *s, size_t len, size_t p, const char *why)
{
    const char *close = memchr(s + p, '}', len - p);
    size_t n = close ? (size_t) (close - (s + p)) + 1 : len - p;
    bt_autofree char *shown = frag(s + p, n, FRAG_MAX);
    int rc = fail(r, s + p, BT_EPARSE, "invalid interpolation format '%s': %s", shown, why);
    bt_err_hint(r->err, "write '$$' for a literal '$'");
    return rc;
}

static int
emit(struct run *r, struct bt_buf *out, const char *at, const char *p, size_t n)
{
    if (!out || n == 0)
        return 0;
    if (bt_buf_append(out, p, n) < 0) {
        char max[32];
        size_text(out->max, max, sizeof max);
        return fail(r, at, BT_ETOOBIG, "interpolated value is larger than %s", max);
    }
    return 0;
}

/* ${NAME:?word} or ${NAME?word} with NAME missing: word (interpolated) is the message. */
static int
required(struct run *r, const struct ref *f, const char *name, int depth)
{
    bt_autobuf struct bt_buf msg = { .max = COMPOSE_INTERP_MAX_OUTPUT };
    int rc = expand(r, f->arg, f->alen, &msg, depth + 1);
    if (rc < 0)
        return rc;
    bt_autofree char *shown_name = frag(name, strlen(name), FRAG_MAX);
    if (msg.len == 0)
        return fail(r, f->at, BT_EINVALID, "required variable '%s' is missing a value", shown_name);
    bt_autofree char *shown = frag(msg.data, msg.len, MESSAGE_MAX);
    return fail(r, f->at, BT_EINVALID, "required variable '%s' is missing a value: %s", shown_name,
                shown);
}

/* Evaluate one reference into out; with out NULL only check the syntax of its word. */
static int
substitute(struct run *r, const struct ref *f, struct bt_buf *out, int depth)
{
    if (!out)
        return f->op ? expand(r, f->arg, f->alen, NULL, depth + 1) : 0;
    char small[128];
    bt_autofree char *big = NULL;
    char *name = small;
    if (f->nlen >= sizeof small)
        name = big = bt_xmalloc(f->nlen + 1);
    memcpy(name, f->name, f->nlen);
    name[f->nlen] = '\0';

    const char *v = r->fn ? r->fn(name, r->ud) : NULL;
    bool empty = !v || !*v;
    bool use_word;
    switch (f->op) {
    case 0:
        if (!v) {
            warn_add(r->warn, name);
            return 0;
        }
        return emit(r, out, f->at, v, strlen(v));
    case '-':
        use_word = f->colon ? empty : !v;
        break;
    case '+':
        use_word = f->colon ? !empty : v != NULL;
        break;
    default: /* '?' */
        if (f->colon ? empty : !v)
            return required(r, f, name, depth);
        use_word = false;
        break;
    }
    if (use_word)
        return expand(r, f->arg, f->alen, out, depth + 1);
    /* An unused word is not evaluated (no lookups, no errors from it) but must be well-formed. */
    int rc = expand(r, f->arg, f->alen, NULL, depth + 1);
    if (rc < 0 || f->op == '+')
        return rc; /* '+' with NAME unset (or empty, with ':') gives "" */
    return emit(r, out, f->at, v, strlen(v));
}

/* The '}' closing a "${" whose word starts at s[q]: nested "${" count, as in compose-go (a "$$"
 * before '{' too). len when there is none. */
static size_t
find_close(const char *s, size_t len, size_t q)
{
    size_t open = 1;
    for (size_t k = q; k < len; k++) {
        if (s[k] == '$' && k + 1 < len && s[k + 1] == '{') {
            open++;
            k++;
        } else if (s[k] == '}' && --open == 0) {
            return k;
        }
    }
    return len;
}

/* The reference "${..." at s[p]; *ret_next is set to the index after its '}'. */
static int
braced(struct run *r, const char *s, size_t len, size_t p, struct bt_buf *out, int depth,
       size_t *ret_next)
{
    struct ref f = { .at = s + p, .name = s + p + 2 };
    if (depth >= COMPOSE_INTERP_MAX_NESTING)
        return fail(r, f.at, BT_ETOOBIG, "variable references nested deeper than %d levels",
                    COMPOSE_INTERP_MAX_NESTING);
    size_t q = p + 2;
    if (q < len && is_name_start(s[q]))
        for (q++; q < len && is_name_char(s[q]); q++)
            ;
    f.nlen = q - (p + 2);
    if (q < len && f.nlen == 0)
        return bad_format(r, s, len, p, "expected a variable name after '${'");
    if (q < len && s[q] == '}') {
        *ret_next = q + 1;
        return substitute(r, &f, out, depth);
    }
    if (q < len && s[q] == ':') {
        f.colon = true;
        q++;
    }
    if (q < len && s[q] != '-' && s[q] != '+' && s[q] != '?')
        return bad_format(r, s, len, p,
                          "expected '}' or one of ':-', '-', ':+', '+', ':?', '?' after the name");
    size_t close = q < len ? find_close(s, len, q + 1) : len;
    if (close == len)
        return bad_format(r, s, len, p, "missing closing '}'");
    f.op = s[q];
    f.arg = s + q + 1;
    f.alen = close - (q + 1);
    *ret_next = close + 1;
    return substitute(r, &f, out, depth);
}

/* Interpolate s[0..len) into out; with out NULL only check the syntax. */
static int
expand(struct run *r, const char *s, size_t len, struct bt_buf *out, int depth)
{
    size_t i = 0;
    while (i < len) {
        const char *d = memchr(s + i, '$', len - i);
        size_t p = d ? (size_t) (d - s) : len;
        int rc = emit(r, out, s + i, s + i, p - i);
        if (rc < 0 || !d)
            return rc;
        char c = p + 1 < len ? s[p + 1] : '\0';
        if (c == '{') {
            rc = braced(r, s, len, p, out, depth, &i);
        } else if (is_name_start(c)) {
            size_t q = p + 2;
            while (q < len && is_name_char(s[q]))
                q++;
            struct ref f = { .at = s + p, .name = s + p + 1, .nlen = q - (p + 1) };
            rc = substitute(r, &f, out, depth);
            i = q;
        } else {
            /* "$$" is one '$'; a '$' before anything else stays as it is. */
            rc = emit(r, out, s + p, "$", 1);
            i = p + (c == '$' ? 2 : 1);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Give the error its position (moved to the offending '$' when the text is the source's own)
 * and its path. */
static void
locate(struct bt_err **err, const struct run *r, const struct compose_pos *pos, bool exact,
       const char *path)
{
    if (!err || !*err)
        return;
    struct bt_err *e = *err;
    if (pos && pos->file) {
        int line = pos->line, col = pos->col;
        if (exact && line > 0) {
            for (size_t k = 0; k < r->err_off; k++) {
                if (r->base[k] == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
        }
        free(e->file);
        e->file = bt_xstrdup(pos->file);
        e->line = line;
        e->col = col;
    }
    if (path && *path)
        (void) bt_err_wrap(err, "%s", path);
}

int
compose_interp_append(struct bt_buf *out, const char *in, size_t len, bool exact,
                      compose_lookup_fn fn, void *ud, struct compose_interp_warn *warn,
                      const struct compose_pos *pos, const char *path, struct bt_err **err)
{
    struct run r = { .fn = fn, .ud = ud, .warn = warn, .base = in, .err = err };
    int rc;
    if (len > COMPOSE_INTERP_MAX_INPUT) {
        char max[32];
        size_text(COMPOSE_INTERP_MAX_INPUT, max, sizeof max);
        rc = bt_err_set(err, BT_ETOOBIG, "value is larger than %s, too large to interpolate", max);
    } else {
        rc = expand(&r, in, len, out, 0);
    }
    if (rc < 0)
        locate(err, &r, pos, exact, path);
    return rc;
}

int
compose_interp_string(struct bt_arena *a, const char *in, compose_lookup_fn fn, void *ud,
                      struct compose_interp_warn *warn, const struct compose_pos *pos,
                      const char *path, char **ret_str, struct bt_err **err)
{
    bt_autobuf struct bt_buf out = { .max = COMPOSE_INTERP_MAX_OUTPUT };
    int rc = compose_interp_append(&out, in, strlen(in), false, fn, ud, warn, pos, path, err);
    if (rc < 0)
        return rc;
    *ret_str = bt_arena_strndup(a, bt_buf_str(&out), out.len);
    return 0;
}

/* ---- the tree walk */

/* Nodes already visited, by address (aliases share nodes). */
struct ptrset {
    const void **slots;
    size_t n, nslots;
};

/* Adds p; false when it was there already. */
static bool
ptrset_add(struct ptrset *s, const void *p)
{
    if ((s->n + 1) * 2 > s->nslots) {
        struct ptrset g = { .nslots = s->nslots ? s->nslots * 2 : 256 };
        g.slots = bt_xcalloc(g.nslots, sizeof *g.slots);
        for (size_t i = 0; i < s->nslots; i++)
            if (s->slots[i])
                (void) ptrset_add(&g, s->slots[i]);
        free(s->slots);
        *s = g;
    }
    uintptr_t v = (uintptr_t) p;
    size_t mask = s->nslots - 1;
    for (size_t i = compose_hash_bytes(&v, sizeof v) & mask;; i = (i + 1) & mask) {
        if (s->slots[i] == p)
            return false;
        if (!s->slots[i]) {
            s->slots[i] = p;
            s->n++;
            return true;
        }
    }
}

/* One step from the root: a mapping key, or (key NULL) a sequence index. */
struct step {
    const struct compose_node *key;
    size_t index;
};

struct walk {
    struct bt_arena *a;
    compose_lookup_fn fn;
    void *ud;
    struct compose_interp_warn *warn;
    struct ptrset seen;
    struct step steps[WALK_MAX_DEPTH + 1]; /* to the node being visited */
    size_t nsteps;
    struct bt_buf path; /* the steps as text, "services.web.ports[0]", made when needed */
    struct bt_buf out;  /* reused for each scalar */
    size_t total;       /* bytes of changed scalars so far */
    struct bt_err **err;
};

static const char *path_render(struct walk *w);

static int
walk_fail(struct walk *w, const struct compose_node *n, int code, const char *what)
{
    int rc = bt_err_set_at(w->err, n->pos.file, n->pos.line, n->pos.col, code, "%s", what);
    const char *path = path_render(w);
    if (path[0])
        (void) bt_err_wrap(w->err, "%s", path);
    return rc;
}

static int
walk_scalar(struct walk *w, struct compose_node *n)
{
    /* A shared scalar is done once: its new text may hold a '$' that must stay literal. */
    if (!n->str || !memchr(n->str, '$', n->len) || !ptrset_add(&w->seen, n))
        return 0;
    bt_buf_reset(&w->out);
    int rc = compose_interp_append(&w->out, n->str, n->len, false, w->fn, w->ud, w->warn, &n->pos,
                                   path_render(w), w->err);
    if (rc < 0)
        return rc;
    const char *res = bt_buf_str(&w->out);
    size_t len = w->out.len;
    if (len == n->len && memcmp(res, n->str, len) == 0)
        return 0;
    w->total += len;
    if (w->total > COMPOSE_INTERP_MAX_TREE_OUTPUT)
        return walk_fail(w, n, BT_ETOOBIG, "interpolated values add up to more than 64 MiB");
    char *s = bt_arena_alloc(w->a, len + 1);
    memcpy(s, res, len);
    n->str = s;
    n->len = len;
    /* A value made by interpolation is a string, as in docker compose: it is cast to a number
     * or boolean later, only where the format wants one (so `user: ${UID}` stays a string). */
    n->plain = false;
    return 0;
}

static void
path_push(struct walk *w, const struct compose_node *key, size_t index)
{
    /* A path too long for the buffer is cut short: it only serves messages. */
    if (!key) {
        (void) bt_buf_printf(&w->path, "[%zu]", index);
        return;
    }
    if (w->path.len)
        (void) bt_buf_append(&w->path, ".", 1);
    if (key->str)
        (void) bt_buf_append(&w->path, key->str, strnlen(key->str, KEY_MAX));
}

/* The path of the node being visited as text. Only messages need it (and the few scalars
 * holding a '$', which might fail), so it is made from the steps on demand, by the same appends
 * a walk would have made on the way down. */
static const char *
path_render(struct walk *w)
{
    bt_buf_reset(&w->path);
    for (size_t i = 0; i < w->nsteps; i++)
        path_push(w, w->steps[i].key, w->steps[i].index);
    return bt_buf_str(&w->path);
}

static int
walk_node(struct walk *w, struct compose_node *n, int depth)
{
    if (!n)
        return 0;
    if (n->kind == COMPOSE_NODE_SCALAR)
        return walk_scalar(w, n);
    if (!ptrset_add(&w->seen, n))
        return 0;
    if (depth >= WALK_MAX_DEPTH)
        return walk_fail(w, n, BT_ETOOBIG, "document nested too deeply to interpolate");
    for (size_t i = 0; i < n->n; i++) {
        bool map = n->kind == COMPOSE_NODE_MAP;
        w->steps[w->nsteps++] = (struct step){ map ? n->pairs[i].key : NULL, i };
        int rc = walk_node(w, map ? n->pairs[i].val : n->items[i], depth + 1);
        w->nsteps--;
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
compose_interp_tree(struct bt_arena *a, struct compose_node *root, compose_lookup_fn fn, void *ud,
                    struct compose_interp_warn *warn, struct bt_err **err)
{
    struct walk w = {
        .a = a,
        .fn = fn,
        .ud = ud,
        .warn = warn,
        .err = err,
    };
    bt_buf_init(&w.path, PATH_MAX_LEN);
    bt_buf_init(&w.out, COMPOSE_INTERP_MAX_OUTPUT);
    int rc = walk_node(&w, root, 0);
    bt_buf_release(&w.path);
    bt_buf_release(&w.out);
    free(w.seen.slots);
    return rc;
}
