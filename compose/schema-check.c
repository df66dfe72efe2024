/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks of the schema validator: one YAML node against one (already loaded, verified and
 * compiled) schema, keyword by keyword, stopping at the first problem in document order. For
 * oneOf/anyOf it keeps the failure of the alternative that came closest, so the user reads "must
 * be one of: ..." from the branch meant for a mapping rather than "matches no alternative".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/schema-int.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"

#define SHOW_MAX 64          /* bytes of a key or value quoted in a message */
#define PATTERN_SHOW_MAX 256 /* bytes of a pattern quoted in a message */
#define PATH_MAX_LEN 4096    /* bytes of a path in a message */
#define ENUM_SHOW_MAX 16     /* values of an enum listed in a message */
#define KEYS_HINT_MAX 12     /* known keys listed in a hint */
#define CLOSEST_MAX 256      /* candidates for "did you mean" */

/* One step of the path from the root: a mapping key, or (key NULL) a sequence index. */
struct seg {
    const struct compose_node *key;
    size_t index;
};

struct vctx {
    const struct compose_schema *s;
    struct seg path[COMPOSE_SCHEMA_MAX_LEVEL + 1];
    size_t npath;
    unsigned level;
    bool key_mode; /* checking a mapping key (propertyNames) */
};

/* A failure while it competes with others: where the failing schema applied (node), how deep,
 * and for a type mismatch at node the types that would have done (want). */
struct fail {
    const struct compose_node *at, *node;
    char *path, *msg, *hint;
    size_t depth;
    unsigned want;
};

static void
fail_release(struct fail *f)
{
    free(f->path);
    free(f->msg);
    free(f->hint);
    *f = (struct fail){ 0 };
}

void
compose_schema_fail_release(struct compose_schema_fail *f)
{
    free(f->path);
    free(f->msg);
    free(f->hint);
    *f = (struct compose_schema_fail){ 0 };
}

static char *
path_str(const struct vctx *c, size_t n)
{
    struct bt_buf b;
    bt_buf_init(&b, PATH_MAX_LEN);
    for (size_t i = 0; i < n; i++) {
        const struct seg *sg = &c->path[i];
        if (!sg->key) {
            (void) bt_buf_printf(&b, "[%zu]", sg->index);
            continue;
        }
        bt_autofree char *k = bt_log_escape(sg->key->str, sg->key->len, SHOW_MAX);
        (void) bt_buf_printf(&b, "%s%s", i ? "." : "", k);
    }
    return bt_buf_steal(&b);
}

static bool fail_at(struct vctx *c, struct fail *f, const struct compose_node *node,
                    const struct compose_node *at, size_t depth, const char *fmt, ...)
    BT_PRINTF(6, 7);

/* Fill f (path: the current one) and return false, so callers can `return fail_at(...)`. */
static bool
fail_at(struct vctx *c, struct fail *f, const struct compose_node *node,
        const struct compose_node *at, size_t depth, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = bt_xvasprintf(fmt, ap);
    va_end(ap);
    fail_release(f);
    *f = (struct fail){
        .at = at, .node = node, .path = path_str(c, c->npath), .msg = msg, .depth = depth
    };
    return false;
}

/* Escaped text of a scalar. Caller frees. */
static char *
show(const struct compose_node *n)
{
    return bt_log_escape(n->str, n->len, SHOW_MAX);
}

/* "'abc'" for a scalar, "(a mapping)" for a collection. Caller frees. */
static char *
value_str(const struct compose_node *n)
{
    if (n->kind != COMPOSE_NODE_SCALAR)
        return bt_xstrdup(n->kind == COMPOSE_NODE_MAP ? "(a mapping)" : "(a sequence)");
    bt_autofree char *s = show(n);
    return bt_xasprintf("'%s'", s);
}

/* What the node is, for "got ...". Caller frees. */
static char *
describe(const struct compose_node *n)
{
    if (n->kind != COMPOSE_NODE_SCALAR)
        return bt_xstrdup(n->kind == COMPOSE_NODE_MAP ? "a mapping" : "a sequence");
    bt_autofree char *s = show(n);
    switch (compose_scalar_type(n)) {
    case COMPOSE_SCALAR_NULL:
        return bt_xstrdup("null");
    case COMPOSE_SCALAR_BOOL:
        return bt_xasprintf("the boolean %s", s);
    case COMPOSE_SCALAR_INT:
        return bt_xasprintf("the integer %s", s);
    case COMPOSE_SCALAR_FLOAT:
        return bt_xasprintf("the number %s", s);
    case COMPOSE_SCALAR_STRING:
        break;
    }
    return bt_xasprintf("the string '%s'", s);
}

/* A JSON value of the schema for a message: strings bare, the rest as JSON. Caller frees. */
static char *
json_str_max(const json_t *j, size_t max)
{
    if (json_is_string(j))
        return bt_log_escape(json_string_value(j), json_string_length(j), max);
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    char *r = bt_xstrdup(s ? s : "?");
    free(s);
    return r;
}

static char *
json_str(const json_t *j)
{
    return json_str_max(j, SHOW_MAX);
}

static const char *
plural(long long n)
{
    return n == 1 ? "" : "s";
}

/* The types of a "type" keyword in the schema's order ("a number, a string or a mapping"); for
 * a single name or none, those of mask in a fixed order. Caller frees. */
static char *
types_str(const json_t *t, unsigned mask)
{
    if (!json_is_array(t))
        return compose_schema_types_str(mask);
    unsigned order[8];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(t); i++) {
        unsigned bit = compose_schema_type_bit(json_string_value(json_array_get(t, i)));
        if (!(bit == SCHEMA_INTEGER && (mask & SCHEMA_NUMBER)) && n < BT_ARRAY_SIZE(order))
            order[n++] = bit; /* with "number" there, "an integer" says nothing more */
    }
    struct bt_buf b;
    bt_buf_init(&b, 256);
    for (size_t i = 0; i < n; i++) {
        bt_autofree char *one = compose_schema_types_str(order[i]);
        (void) bt_buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", one);
    }
    char *r = bt_buf_steal(&b);
    bt_buf_release(&b);
    return r;
}

static bool
fail_type(struct vctx *c, struct fail *f, const struct compose_node *n, const json_t *t,
          unsigned want)
{
    bt_autofree char *w = types_str(t, want);
    bt_autofree char *got = describe(n);
    fail_at(c, f, n, n, c->npath, "must be %s, got %s", w, got);
    f->want = want;
    return false;
}

static bool check(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
                  struct fail *f);

/* Check a child of n (key, or index when key is NULL) against sub. */
static bool
check_child(struct vctx *c, const struct compose_cschema *sub, const struct compose_node *child,
            const struct compose_node *key, size_t index, struct fail *f)
{
    c->path[c->npath++] = (struct seg){ key, index };
    bool ok = check(c, sub, child, f);
    c->npath--;
    return ok;
}

/* ---- type, enum, const ---- */

static bool
check_type(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
           unsigned types, struct fail *f)
{
    if (!sch->type)
        return true;
    return (types & sch->type_mask) || fail_type(c, f, n, sch->type, sch->type_mask);
}

/* An enum or const failure whose values all have other types than n counts as a type
 * mismatch when alternatives compete: "must be a string or a sequence" beats "must be 'all'". */
static void
set_value_want(struct fail *f, const struct compose_node *n, const json_t *values, bool list)
{
    unsigned m = list ? 0 : compose_schema_json_types(values);
    for (size_t i = 0; list && i < json_array_size(values); i++)
        m |= compose_schema_json_types(json_array_get(values, i));
    if (!(m & compose_schema_node_types(n)))
        f->want = m;
}

/* " (did you mean 'x'?)" when the scalar n is close to a string of the list, else "". */
static char *
did_you_mean_enum(const struct compose_node *n, const json_t *values)
{
    const char *cands[CLOSEST_MAX];
    size_t nc = 0;
    for (size_t i = 0; i < json_array_size(values) && nc < CLOSEST_MAX; i++)
        if (json_is_string(json_array_get(values, i)))
            cands[nc++] = json_string_value(json_array_get(values, i));
    const char *close =
        n->kind == COMPOSE_NODE_SCALAR && compose_scalar_type(n) == COMPOSE_SCALAR_STRING
            ? bt_str_closest(n->str, cands, nc)
            : NULL;
    return close ? bt_xasprintf(" (did you mean '%s'?)", close) : bt_xstrdup("");
}

static bool
fail_enum(struct vctx *c, struct fail *f, const struct compose_node *n, const json_t *values)
{
    struct bt_buf b;
    bt_buf_init(&b, 4096);
    for (size_t i = 0; i < json_array_size(values); i++) {
        if (i == ENUM_SHOW_MAX) {
            (void) bt_buf_puts(&b, ", ...");
            break;
        }
        bt_autofree char *s = json_str(json_array_get(values, i));
        (void) bt_buf_printf(&b, "%s%s", i ? ", " : "", s);
    }
    bt_autofree char *v = value_str(n);
    bt_autofree char *dym = did_you_mean_enum(n, values);
    fail_at(c, f, n, n, c->npath, "invalid %s %s%s: must be one of: %s",
            c->key_mode ? "key" : "value", v, dym, bt_buf_str(&b));
    bt_buf_release(&b);
    set_value_want(f, n, values, true);
    return false;
}

static bool
check_enum(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
           struct fail *f)
{
    if (!sch->rare)
        return true;
    const json_t *k = sch->rare->const_val;
    if (k && !compose_schema_node_equal_json(n, k)) {
        bt_autofree char *v = value_str(n);
        bt_autofree char *want = json_str(k);
        const char *q = json_is_string(k) ? "'" : "";
        fail_at(c, f, n, n, c->npath, "invalid %s %s: must be %s%s%s",
                c->key_mode ? "key" : "value", v, q, want, q);
        set_value_want(f, n, k, false);
        return false;
    }
    const json_t *e = sch->rare->enum_vals;
    if (!e)
        return true;
    for (size_t i = 0; i < json_array_size(e); i++)
        if (compose_schema_node_equal_json(n, json_array_get(e, i)))
            return true;
    return fail_enum(c, f, n, e);
}

/* ---- numbers and strings ---- */

static bool
check_number(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
             struct fail *f)
{
    static const struct {
        int bad1, bad2; /* results of compose_schema_num_cmp(value, limit) that fail */
        const char *what;
    } rules[COMPOSE_LIM_COUNT] = {
        [COMPOSE_LIM_MINIMUM] = { -1, -1, "at least" },
        [COMPOSE_LIM_MAXIMUM] = { 1, 1, "at most" },
        [COMPOSE_LIM_EXCL_MINIMUM] = { -1, 0, "greater than" },
        [COMPOSE_LIM_EXCL_MAXIMUM] = { 1, 0, "less than" },
    };
    const struct compose_cschema_rare *rare = sch->rare;
    struct compose_num v;
    if (!rare || !rare->has_lim || !compose_schema_node_num(n, &v))
        return true;
    for (size_t i = 0; i < COMPOSE_LIM_COUNT; i++) {
        const json_t *j = rare->lim[i];
        if (!j)
            continue;
        int r = compose_schema_num_cmp(&v, &rare->lim_num[i]);
        if (r == rules[i].bad1 || r == rules[i].bad2 || r == 2) {
            bt_autofree char *want = json_str(j);
            bt_autofree char *got = show(n);
            return fail_at(c, f, n, n, c->npath, "must be %s %s, got %s", rules[i].what, want, got);
        }
    }
    return true;
}

/* Whether the compiled pattern re matches somewhere in the scalar n. */
static bool
search(const struct compose_re *re, const struct compose_node *n)
{
    BT_ASSERT(re); /* every pattern of the schema was compiled at load */
    return compose_re_search(re, n->str, n->len);
}

/* Characters as JSON Schema counts them: code points (UTF-8 continuation bytes do not count). */
static size_t
char_count(const struct compose_node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->len; i++)
        k += ((unsigned char) n->str[i] & 0xC0) != 0x80;
    return k;
}

static bool
check_string(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
             unsigned types, struct fail *f)
{
    if (!(types & SCHEMA_STRING))
        return true;
    const json_t *lo = sch->rare ? sch->rare->min_len : NULL;
    const json_t *hi = sch->rare ? sch->rare->max_len : NULL;
    if (lo && char_count(n) < (size_t) json_integer_value(lo))
        return fail_at(c, f, n, n, c->npath, "must be at least %lld character%s long",
                       (long long) json_integer_value(lo), plural(json_integer_value(lo)));
    if (hi && char_count(n) > (size_t) json_integer_value(hi))
        return fail_at(c, f, n, n, c->npath, "must be at most %lld character%s long",
                       (long long) json_integer_value(hi), plural(json_integer_value(hi)));
    const json_t *p = sch->pattern;
    if (p && !search(sch->pattern_re, n)) {
        bt_autofree char *v = value_str(n);
        bt_autofree char *pat = json_str_max(p, PATTERN_SHOW_MAX);
        return fail_at(c, f, n, n, c->npath, "invalid %s %s: must match '%s'",
                       c->key_mode ? "key" : "value", v, pat);
    }
    return true;
}

/* ---- mappings ---- */

static bool
has_x_extensions(const json_t *sch)
{
    const json_t *pp = json_object_get(sch, "patternProperties");
    return pp && json_object_get(pp, "^x-");
}

/* "known keys: a, b" when there are few, or where extensions go. Caller frees (NULL: none). */
static char *
keys_hint(const json_t *sch, const json_t *props)
{
    bool x = has_x_extensions(sch);
    if (json_object_size(props) > KEYS_HINT_MAX)
        return x ? bt_xstrdup("extension keys start with 'x-'") : NULL;
    struct bt_buf b;
    bt_buf_init(&b, 4096);
    (void) bt_buf_puts(&b, "known keys: ");
    size_t i = 0;
    for (void *it = json_object_iter((json_t *) props); it;
         it = json_object_iter_next((json_t *) props, it))
        (void) bt_buf_printf(&b, "%s%s", i++ ? ", " : "", json_object_iter_key(it));
    if (x)
        (void) bt_buf_puts(&b, "; extension keys start with 'x-'");
    char *s = bt_buf_steal(&b);
    bt_buf_release(&b);
    return s;
}

/* additionalProperties is false and key matched nothing. */
static bool
fail_unknown_key(struct vctx *c, const json_t *sch, const struct compose_node *key, struct fail *f)
{
    const json_t *props = json_object_get(sch, "properties");
    const json_t *pp = json_object_get(sch, "patternProperties");
    bt_autofree char *k = show(key);
    size_t depth = c->npath + 1;
    if (props && json_object_size(props) > 0) {
        const char *cands[CLOSEST_MAX];
        size_t nc = 0;
        for (void *it = json_object_iter((json_t *) props); it && nc < CLOSEST_MAX;
             it = json_object_iter_next((json_t *) props, it))
            cands[nc++] = json_object_iter_key(it);
        const char *close = bt_str_closest(key->str, cands, nc);
        if (close)
            return fail_at(c, f, key, key, depth, "unknown key '%s' (did you mean '%s'?)", k,
                           close);
        fail_at(c, f, key, key, depth, "unknown key '%s'", k);
        f->hint = keys_hint(sch, props);
        return false;
    }
    if (pp && json_object_size(pp) > 0) {
        struct bt_buf b;
        bt_buf_init(&b, 4096);
        size_t i = 0;
        for (void *it = json_object_iter((json_t *) pp); it;
             it = json_object_iter_next((json_t *) pp, it))
            (void) bt_buf_printf(&b, "%s'%s'", i++ ? ", " : "", json_object_iter_key(it));
        fail_at(c, f, key, key, depth, "invalid key '%s': must match %s%s", k,
                i > 1 ? "one of: " : "", bt_buf_str(&b));
        bt_buf_release(&b);
        return false;
    }
    return fail_at(c, f, key, key, depth, "key '%s' is not allowed here", k);
}

/* propertyNames: the key, as the string it is in JSON. */
static bool
check_key_name(struct vctx *c, const struct compose_cschema *names, const struct compose_node *key,
               struct fail *f)
{
    struct compose_node k = *key;
    k.plain = false;
    bool saved = c->key_mode;
    c->key_mode = true;
    bool ok = check(c, names, &k, f);
    c->key_mode = saved;
    if (!ok) {
        if (f->at == &k)
            f->at = key;
        if (f->node == &k)
            f->node = key;
        f->depth = c->npath + 1;
    }
    return ok;
}

static bool
check_pair(struct vctx *c, const struct compose_cschema *sch, const struct compose_pair *p,
           struct fail *f)
{
    if (sch->names && !check_key_name(c, sch->names, p->key, f))
        return false;
    bool matched = false;
    const struct compose_cschema *sub = compose_cschema_prop(sch, p->key->str, p->key->len);
    if (sub) {
        matched = true;
        if (!check_child(c, sub, p->val, p->key, 0, f))
            return false;
    }
    for (size_t i = 0; i < sch->npprops; i++) {
        if (!search(sch->pprops[i].re, p->key))
            continue;
        matched = true;
        if (!check_child(c, sch->pprops[i].sch, p->val, p->key, 0, f))
            return false;
    }
    if (matched || !sch->more)
        return true;
    if (sch->more->kind == COMPOSE_CSCHEMA_FALSE)
        return fail_unknown_key(c, sch->json, p->key, f);
    return check_child(c, sch->more, p->val, p->key, 0, f);
}

static bool
check_object(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
             struct fail *f)
{
    for (size_t i = 0; i < n->n; i++)
        if (!check_pair(c, sch, &n->pairs[i], f))
            return false;
    const struct compose_cschema_rare *rare = sch->rare;
    if (!rare)
        return true;
    for (size_t i = 0; i < rare->nrequired; i++) {
        const char *name = rare->required[i];
        if (!compose_map_get(n, name))
            return fail_at(c, f, n, n, c->npath, "missing required key '%s'", name);
    }
    const json_t *lo = rare->min_props;
    const json_t *hi = rare->max_props;
    if (lo && n->n < (size_t) json_integer_value(lo))
        return fail_at(c, f, n, n, c->npath, "must have at least %lld key%s, got %zu",
                       (long long) json_integer_value(lo), plural(json_integer_value(lo)), n->n);
    if (hi && n->n > (size_t) json_integer_value(hi))
        return fail_at(c, f, n, n, c->npath, "must have at most %lld key%s, got %zu",
                       (long long) json_integer_value(hi), plural(json_integer_value(hi)), n->n);
    return true;
}

/* ---- sequences ---- */

struct hashed {
    uint64_t h;
    size_t idx;
};

static int
hashed_cmp(const void *a, const void *b)
{
    const struct hashed *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first item (lowest *ret_j) equal to an earlier one (*ret_i); false when all differ. */
static bool
find_duplicate(const struct compose_node *n, size_t *ret_i, size_t *ret_j)
{
    bt_autofree struct hashed *v = bt_xmalloc(n->n * sizeof *v);
    for (size_t i = 0; i < n->n; i++)
        v[i] = (struct hashed){ compose_schema_node_hash(n->items[i]), i };
    qsort(v, n->n, sizeof *v, hashed_cmp);
    size_t best_i = 0, best_j = SIZE_MAX;
    for (size_t s = 0, e; s < n->n; s = e) {
        for (e = s + 1; e < n->n && v[e].h == v[s].h; e++)
            ;
        /* Within a run indexes ascend: the first item with an earlier equal is the run's
         * lowest duplicate, and its first equal is the lowest original. */
        bool found = false;
        for (size_t b = s + 1; b < e && !found && v[b].idx < best_j; b++)
            for (size_t a = s; a < b && !found; a++)
                if (compose_schema_nodes_equal(n->items[v[a].idx], n->items[v[b].idx])) {
                    best_i = v[a].idx;
                    best_j = v[b].idx;
                    found = true;
                }
    }
    if (best_j == SIZE_MAX)
        return false;
    *ret_i = best_i;
    *ret_j = best_j;
    return true;
}

static bool
check_array(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
            struct fail *f)
{
    const json_t *lo = sch->rare ? sch->rare->min_items : NULL;
    const json_t *hi = sch->rare ? sch->rare->max_items : NULL;
    if (lo && n->n < (size_t) json_integer_value(lo))
        return fail_at(c, f, n, n, c->npath, "must have at least %lld item%s, got %zu",
                       (long long) json_integer_value(lo), plural(json_integer_value(lo)), n->n);
    if (hi && n->n > (size_t) json_integer_value(hi))
        return fail_at(c, f, n, n, c->npath, "must have at most %lld item%s, got %zu",
                       (long long) json_integer_value(hi), plural(json_integer_value(hi)), n->n);
    for (size_t i = 0; sch->items && i < n->n; i++)
        if (!check_child(c, sch->items, n->items[i], NULL, i, f))
            return false;
    size_t i, j;
    if (!sch->unique || !find_duplicate(n, &i, &j))
        return true;
    const struct compose_node *dup = n->items[j];
    c->path[c->npath++] = (struct seg){ NULL, j };
    if (dup->kind == COMPOSE_NODE_SCALAR) {
        bt_autofree char *v = show(dup);
        fail_at(c, f, dup, dup, c->npath, "duplicate value '%s' (same as [%zu])", v, i);
    } else {
        fail_at(c, f, dup, dup, c->npath, "duplicate item (same as [%zu])", i);
    }
    c->npath--;
    return false;
}

/* ---- combinators ---- */

static bool
type_only(const struct fail *f, const struct compose_node *n)
{
    return f->want && f->node == n;
}

/* Whether failure a tells the user more than b: a mismatch of type at n says least, then the
 * deeper failure wins; on a tie the earlier alternative stays. */
static bool
better(const struct fail *a, const struct fail *b, const struct compose_node *n)
{
    if (!b->msg)
        return true;
    if (type_only(a, n) != type_only(b, n))
        return type_only(b, n);
    return a->depth > b->depth;
}

static bool
check_alternatives(struct vctx *c, const struct compose_cschema *const *alts, size_t nalts,
                   const struct compose_node *n, bool one, struct fail *f)
{
    struct fail best = { 0 };
    unsigned want = 0;
    bool all_type = true;
    size_t matches = 0, first = 0, i;
    for (i = 0; i < nalts; i++) {
        struct fail bf = { 0 };
        if (check(c, alts[i], n, &bf)) {
            if (!one || matches++ > 0)
                break;
            first = i;
            continue;
        }
        if (type_only(&bf, n))
            want |= bf.want;
        else
            all_type = false;
        if (better(&bf, &best, n)) {
            fail_release(&best);
            best = bf;
        } else {
            fail_release(&bf);
        }
    }
    bool ok = one ? matches == 1 : i < nalts;
    if (ok) {
        fail_release(&best);
        return true;
    }
    if (matches > 1) {
        fail_release(&best);
        return fail_at(c, f, n, n, c->npath,
                       "matches more than one alternative of the schema (%zu and %zu)", first + 1,
                       i + 1);
    }
    if (all_type) {
        fail_release(&best);
        return fail_type(c, f, n, NULL, want);
    }
    fail_release(f);
    *f = best;
    return false;
}

static bool
check_combinators(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
                  struct fail *f)
{
    const struct compose_cschema_rare *rare = sch->rare;
    if (!rare)
        return true;
    for (size_t i = 0; i < rare->nall; i++)
        if (!check(c, rare->all[i], n, f))
            return false;
    if (rare->has_any && !check_alternatives(c, rare->any, rare->nany, n, false, f))
        return false;
    if (rare->has_one && !check_alternatives(c, rare->one, rare->none, n, true, f))
        return false;
    if (rare->not_sch) {
        struct fail tmp = { 0 };
        bool matched = check(c, rare->not_sch, n, &tmp);
        fail_release(&tmp);
        if (matched) {
            bt_autofree char *v = value_str(n);
            return fail_at(c, f, n, n, c->npath, "invalid %s %s: excluded by the schema",
                           c->key_mode ? "key" : "value", v);
        }
    }
    return true;
}

/* ---- one schema ---- */

static bool
check_keywords(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
               struct fail *f)
{
    if (sch->ref) {
        BT_ASSERT(sch->ref_sch); /* resolved once at load */
        if (!check(c, sch->ref_sch, n, f))
            return false;
    }
    unsigned types = compose_schema_node_types(n);
    if (!check_type(c, sch, n, types, f) || !check_enum(c, sch, n, f))
        return false;
    bool ok = true;
    if (n->kind == COMPOSE_NODE_MAP)
        ok = check_object(c, sch, n, f);
    else if (n->kind == COMPOSE_NODE_SEQ)
        ok = check_array(c, sch, n, f);
    else
        ok = check_number(c, sch, n, f) && check_string(c, sch, n, types, f);
    return ok && check_combinators(c, sch, n, f);
}

static bool
check(struct vctx *c, const struct compose_cschema *sch, const struct compose_node *n,
      struct fail *f)
{
    if (sch->kind == COMPOSE_CSCHEMA_TRUE)
        return true;
    if (sch->kind == COMPOSE_CSCHEMA_FALSE) {
        bt_autofree char *v = value_str(n);
        return fail_at(c, f, n, n, c->npath, "%s %s is not allowed here",
                       c->key_mode ? "key" : "value", v);
    }
    if (c->level >= COMPOSE_SCHEMA_MAX_LEVEL)
        return fail_at(c, f, n, n, c->npath, "nested too deeply to validate (over %d levels)",
                       COMPOSE_SCHEMA_MAX_LEVEL);
    c->level++;
    bool ok = check_keywords(c, compose_cschema_filled(c->s, sch), n, f);
    c->level--;
    return ok;
}

bool
compose_schema_check(const struct compose_schema *s, const struct compose_node *root,
                     struct compose_schema_fail *ret)
{
    /* An empty document reads as null, with no position. */
    static const struct compose_node null_node = {
        .kind = COMPOSE_NODE_SCALAR, .str = "", .len = 0, .plain = true
    };
    bt_autofree struct vctx *c = bt_xcalloc(1, sizeof *c);
    c->s = s;
    struct fail f = { 0 };
    if (check(c, s->croot, root ? root : &null_node, &f))
        return true;
    *ret = (struct compose_schema_fail){ f.at, f.path, f.msg, f.hint };
    return false;
}
