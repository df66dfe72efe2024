/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML loader of compose/: libyaml's event parser turned into the node tree of node.h, every
 * node with the file:line:col where it starts. Aliases share the anchored node, merge keys "<<"
 * are applied, and what YAML or berth refuses (syntax, tabs in indentation, duplicate keys,
 * unknown tags, alias bombs, deep nesting, oversized input) becomes one positioned error. Scalar
 * types are resolved here too; what a Compose file means is left to the rest of compose/.
 */
#define LOG_TAG "yaml"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "compose/hash.h"
#include "compose/node.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"

#define STD_TAG_PREFIX "tag:yaml.org,2002:"
#define SHOW_MAX 64  /* bytes of a key, tag or anchor name quoted in a message */
#define SMALL_MAP 16 /* pairs up to which duplicates are found without sorting */

struct anchor {
    char *name;                /* heap copy; NULL in an empty slot */
    struct compose_node *node; /* NULL while the anchored collection is still open */
    unsigned long serial;      /* which definition of the name this is */
    size_t size;               /* nodes it stands for, its own aliases expanded */
    int height;                /* levels of collections, itself included */
};

/* Anchors of the current document: open addressing, the latest definition of a name wins. */
struct anchors {
    struct anchor *slot;
    size_t cap, n; /* cap is 0 or a power of two */
    unsigned long serial;
};

struct loader {
    struct bt_arena *a;
    const char *file; /* arena copy shared by every node */
    const char *data;
    size_t len;
    yaml_parser_t parser;
    yaml_event_t ev; /* the current event, owned while have_ev */
    bool have_ev;
    struct compose_pair *stack; /* children of the open collections (items in .val) */
    size_t nstack, capstack;
    struct anchors anchors;
    size_t total; /* nodes of the file so far, aliases expanded */
    struct bt_err **err;
};

/* What parsing one node gives its parent. */
struct built {
    struct compose_node *node;
    int height; /* levels of collections in it, itself included (0 for a scalar) */
};

static struct compose_pos
mark_pos(const struct loader *l, const yaml_mark_t *m)
{
    return (struct compose_pos){ l->file, (int) m->line + 1, (int) m->column + 1 };
}

static int err_at(const struct loader *l, const struct compose_pos *pos, int code, const char *fmt,
                  ...) BT_PRINTF(4, 5);

static int
err_at(const struct loader *l, const struct compose_pos *pos, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = bt_err_set_atv(l->err, pos->file, pos->line, pos->col, code, fmt, ap);
    va_end(ap);
    return r;
}

/* Text from the input, made safe and short for a message. Caller frees. */
static char *
show(const char *s, size_t len)
{
    return bt_log_escape(s, len, SHOW_MAX);
}

/* ---- anchors ---- */

static struct anchor *
anchors_slot(const struct anchors *t, const char *name)
{
    size_t mask = t->cap - 1;
    for (size_t i = compose_hash_str(name) & mask;; i = (i + 1) & mask)
        if (!t->slot[i].name || strcmp(t->slot[i].name, name) == 0)
            return &t->slot[i];
}

static struct anchor *
anchors_get(const struct anchors *t, const char *name)
{
    if (t->cap == 0)
        return NULL;
    struct anchor *s = anchors_slot(t, name);
    return s->name ? s : NULL;
}

/* The entry of name, created empty if new. Valid until the next call. */
static struct anchor *
anchors_put(struct anchors *t, const char *name)
{
    if (2 * (t->n + 1) > t->cap) {
        struct anchors old = *t;
        t->cap = old.cap ? old.cap * 2 : 16;
        t->slot = bt_xcalloc(t->cap, sizeof *t->slot);
        for (size_t i = 0; i < old.cap; i++)
            if (old.slot[i].name)
                *anchors_slot(t, old.slot[i].name) = old.slot[i];
        free(old.slot);
    }
    struct anchor *s = anchors_slot(t, name);
    if (!s->name) {
        s->name = bt_xstrdup(name);
        t->n++;
    }
    return s;
}

/* Anchors do not cross documents: called at each document start and at the end. */
static void
anchors_clear(struct anchors *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slot[i].name);
    free(t->slot);
    t->slot = NULL;
    t->cap = t->n = 0;
}

/* Define name at the start of its node; returns the definition's serial for anchor_done(). */
static unsigned long
anchor_begin(struct loader *l, const char *name)
{
    struct anchor *s = anchors_put(&l->anchors, name);
    s->node = NULL;
    s->serial = ++l->anchors.serial;
    return s->serial;
}

/* The node is complete. A redefinition inside it (a later definition) keeps the name. */
static void
anchor_done(struct loader *l, const char *name, unsigned long serial, const struct built *b,
            size_t size)
{
    struct anchor *s = anchors_get(&l->anchors, name);
    if (!s || s->serial != serial)
        return;
    s->node = b->node;
    s->size = size;
    s->height = b->height;
}

/* ---- libyaml errors ---- */

/* Length of the line break at d[i] as libyaml counts them (CR LF, CR, LF, NEL, LS, PS), or 0. */
static size_t
break_len(const char *d, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *) d;
    if (u[i] == '\n')
        return 1;
    if (u[i] == '\r')
        return i + 1 < len && u[i + 1] == '\n' ? 2 : 1;
    if (u[i] == 0xc2 && i + 1 < len && u[i + 1] == 0x85)
        return 2;
    if (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
        return 3;
    return 0;
}

static size_t
skip_bom(const struct loader *l)
{
    return l->len >= 3 && memcmp(l->data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* Whether the scanner stopped on a tab with only blanks before it on its line. libyaml's marks
 * count characters, so the line is found by counting breaks. */
static bool
is_indent_tab(const struct loader *l, const yaml_mark_t *m)
{
    size_t i = skip_bom(l), line = 0;
    while (line < m->line && i < l->len) {
        size_t b = break_len(l->data, l->len, i);
        line += b ? 1 : 0;
        i += b ? b : 1;
    }
    if (line != m->line || m->column >= l->len - i)
        return false;
    for (size_t c = 0; c < m->column; c++)
        if (l->data[i + c] != ' ' && l->data[i + c] != '\t')
            return false;
    return l->data[i + m->column] == '\t';
}

/* Position of a byte offset (reader errors give no mark); columns count UTF-8 characters. */
static struct compose_pos
offset_pos(const struct loader *l, size_t off)
{
    struct compose_pos pos = { l->file, 1, 1 };
    if (off > l->len)
        off = l->len;
    for (size_t i = skip_bom(l); i < off;) {
        size_t b = break_len(l->data, l->len, i);
        if (b) {
            pos.line++;
            pos.col = 1;
            i += b;
            continue;
        }
        if (((unsigned char) l->data[i] & 0xc0) != 0x80)
            pos.col++;
        i++;
    }
    return pos;
}

static int
reader_error(const struct loader *l)
{
    const yaml_parser_t *p = &l->parser;
    struct compose_pos pos = offset_pos(l, p->problem_offset);
    const char *problem = p->problem ? p->problem : "cannot decode the input";
    int r;
    if (p->problem_value >= 0 && strstr(problem, "octet"))
        r = err_at(l, &pos, BT_EPARSE, "%s (byte 0x%02X)", problem, (unsigned) p->problem_value);
    else if (p->problem_value >= 0)
        r = err_at(l, &pos, BT_EPARSE, "%s (U+%04X)", problem, (unsigned) p->problem_value);
    else
        r = err_at(l, &pos, BT_EPARSE, "%s", problem);
    bt_err_hint(l->err, "a compose file is UTF-8 text without control characters; is this a "
                        "binary file?");
    return r;
}

static int
parser_error(const struct loader *l)
{
    const yaml_parser_t *p = &l->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return bt_err_set(l->err, ENOMEM, "out of memory parsing '%s'", l->file);
    if (p->error == YAML_READER_ERROR)
        return reader_error(l);
    struct compose_pos pos = mark_pos(l, &p->problem_mark);
    if (p->error == YAML_SCANNER_ERROR && is_indent_tab(l, &p->problem_mark))
        return err_at(l, &pos, BT_EPARSE, "tabs are not allowed in YAML indentation; use spaces");
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (!p->context)
        return err_at(l, &pos, BT_EPARSE, "%s", problem);
    if (p->context_mark.line == p->problem_mark.line &&
        p->context_mark.column == p->problem_mark.column)
        return err_at(l, &pos, BT_EPARSE, "%s (%s)", problem, p->context);
    return err_at(l, &pos, BT_EPARSE, "%s (%s at line %zu, column %zu)", problem, p->context,
                  p->context_mark.line + 1, p->context_mark.column + 1);
}

static int
next_event(struct loader *l)
{
    if (l->have_ev) {
        yaml_event_delete(&l->ev);
        l->have_ev = false;
    }
    if (!yaml_parser_parse(&l->parser, &l->ev))
        return parser_error(l);
    l->have_ev = true;
    return 0;
}

/* ---- nodes ---- */

static struct compose_node *
node_new(struct loader *l, enum compose_node_kind kind, const struct compose_pos *pos)
{
    struct compose_node *n = bt_arena_alloc(l->a, sizeof *n);
    n->kind = kind;
    n->pos = *pos;
    return n;
}

/* Count n more nodes of the expanded file. Every node counts, an alias as the whole node it
 * stands for: so what a consumer walks, and what the arena holds, stays bounded. */
static int
add_nodes(struct loader *l, size_t n, const struct compose_pos *pos, bool alias)
{
    if (n <= COMPOSE_MAX_NODES - l->total) {
        l->total += n;
        return 0;
    }
    if (alias)
        return err_at(l, pos, BT_ETOOBIG, "aliases expand to more than %d nodes (billion laughs?)",
                      COMPOSE_MAX_NODES);
    return err_at(l, pos, BT_ETOOBIG, "more than %d nodes in one file", COMPOSE_MAX_NODES);
}

enum tag_effect {
    TAG_KEEP,   /* the scalar stays as written */
    TAG_STRING, /* a string whatever it looks like */
    TAG_TYPED,  /* resolved like a plain scalar even if quoted */
};

#define KIND(k) (1u << (k))
#define ANY_KIND (KIND(COMPOSE_NODE_SCALAR) | KIND(COMPOSE_NODE_MAP) | KIND(COMPOSE_NODE_SEQ))

static const struct tag_rule {
    const char *name;
    enum compose_tag tag;
    enum tag_effect effect;
    unsigned kinds;
} tag_rules[] = {
    { "!reset", COMPOSE_TAG_RESET, TAG_KEEP, ANY_KIND },
    { "!override", COMPOSE_TAG_OVERRIDE, TAG_KEEP, ANY_KIND },
    { "!", COMPOSE_TAG_NONE, TAG_STRING, ANY_KIND }, /* the non-specific tag */
    { YAML_STR_TAG, COMPOSE_TAG_NONE, TAG_STRING, KIND(COMPOSE_NODE_SCALAR) },
    { YAML_INT_TAG, COMPOSE_TAG_NONE, TAG_TYPED, KIND(COMPOSE_NODE_SCALAR) },
    { YAML_FLOAT_TAG, COMPOSE_TAG_NONE, TAG_TYPED, KIND(COMPOSE_NODE_SCALAR) },
    { YAML_BOOL_TAG, COMPOSE_TAG_NONE, TAG_TYPED, KIND(COMPOSE_NODE_SCALAR) },
    { YAML_NULL_TAG, COMPOSE_TAG_NONE, TAG_TYPED, KIND(COMPOSE_NODE_SCALAR) },
    { STD_TAG_PREFIX "merge", COMPOSE_TAG_NONE, TAG_TYPED, KIND(COMPOSE_NODE_SCALAR) },
    { YAML_MAP_TAG, COMPOSE_TAG_NONE, TAG_KEEP, KIND(COMPOSE_NODE_MAP) },
    { YAML_SEQ_TAG, COMPOSE_TAG_NONE, TAG_KEEP, KIND(COMPOSE_NODE_SEQ) },
};

/* A tag as the user wrote it: "!!str" rather than libyaml's expanded form. Caller frees. */
static char *
tag_show(const char *tag)
{
    size_t plen = strlen(STD_TAG_PREFIX);
    if (strncmp(tag, STD_TAG_PREFIX, plen) == 0) {
        bt_autofree char *rest = show(tag + plen, strlen(tag + plen));
        return bt_xasprintf("!!%s", rest);
    }
    return show(tag, strlen(tag));
}

static int
apply_tag(struct loader *l, struct compose_node *n, const char *tag)
{
    if (!tag)
        return 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(tag_rules); i++) {
        const struct tag_rule *t = &tag_rules[i];
        if (strcmp(tag, t->name) != 0)
            continue;
        if (!(t->kinds & KIND(n->kind))) {
            bt_autofree char *s = tag_show(tag);
            return err_at(l, &n->pos, BT_EPARSE, "tag '%s' does not apply to a %s", s,
                          compose_node_type_str(n));
        }
        n->tag = t->tag;
        if (n->kind == COMPOSE_NODE_SCALAR && t->effect != TAG_KEEP)
            n->plain = t->effect == TAG_TYPED;
        return 0;
    }
    bt_autofree char *s = tag_show(tag);
    int r = err_at(l, &n->pos, BT_EPARSE, "unknown tag '%s'", s);
    bt_err_hint(l->err, "berth knows !reset, !override and the YAML tags !!str, !!int, !!float, "
                        "!!bool, !!null, !!map and !!seq");
    return r;
}

static int parse_node(struct loader *l, int depth, struct built *ret);

static int
parse_scalar(struct loader *l, struct built *ret)
{
    const yaml_event_t *e = &l->ev;
    struct compose_pos pos = mark_pos(l, &e->start_mark);
    int r = add_nodes(l, 1, &pos, false);
    if (r < 0)
        return r;
    struct compose_node *n = node_new(l, COMPOSE_NODE_SCALAR, &pos);
    size_t len = e->data.scalar.length;
    char *s = bt_arena_alloc(l->a, len + 1);
    if (len)
        memcpy(s, e->data.scalar.value, len);
    n->str = s;
    n->len = len;
    n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    r = apply_tag(l, n, (const char *) e->data.scalar.tag);
    if (r < 0)
        return r;
    *ret = (struct built){ n, 0 };
    if (e->data.scalar.anchor) {
        const char *name = (const char *) e->data.scalar.anchor;
        anchor_done(l, name, anchor_begin(l, name), ret, 1);
    }
    return 0;
}

static int
parse_alias(struct loader *l, int depth, struct built *ret)
{
    const char *name = (const char *) l->ev.data.alias.anchor;
    struct compose_pos pos = mark_pos(l, &l->ev.start_mark);
    const struct anchor *an = anchors_get(&l->anchors, name);
    if (!an || !an->node) {
        bt_autofree char *s = show(name, strlen(name));
        if (an)
            return err_at(l, &pos, BT_EPARSE, "alias '*%s' is inside the node it refers to", s);
        int r = err_at(l, &pos, BT_EPARSE, "alias '*%s' refers to an undefined anchor", s);
        bt_err_hint(l->err, "define '&%s' before its aliases, in the same document", s);
        return r;
    }
    if (depth + an->height > COMPOSE_MAX_DEPTH) {
        bt_autofree char *s = show(name, strlen(name));
        return err_at(l, &pos, BT_ETOOBIG, "alias '*%s' nests collections deeper than %d levels", s,
                      COMPOSE_MAX_DEPTH);
    }
    int r = add_nodes(l, an->size, &pos, true);
    if (r < 0)
        return r;
    *ret = (struct built){ an->node, an->height };
    return 0;
}

static void
push(struct loader *l, struct compose_node *key, struct compose_node *val)
{
    if (l->nstack == l->capstack)
        l->stack = bt_xgrow(l->stack, &l->capstack, l->nstack + 1, sizeof *l->stack);
    l->stack[l->nstack++] = (struct compose_pair){ key, val };
}

static bool
is_merge_key(const struct compose_node *k)
{
    return k->plain && k->len == 2 && memcmp(k->str, "<<", 2) == 0;
}

static bool
same_text(const struct compose_node *x, const struct compose_node *y)
{
    return x->len == y->len && (x->len == 0 || memcmp(x->str, y->str, x->len) == 0);
}

/* A key competing for its place in a mapping: explicit keys first, then merged ones. */
struct cand {
    const struct compose_node *key;
    size_t idx;
};

static int
cand_cmp(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
    int c = n ? memcmp(a->key->str, b->key->str, n) : 0;
    if (c)
        return c;
    if (a->key->len != b->key->len)
        return a->key->len < b->key->len ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The mappings a "<<" pair merges, in priority order. */
static int
merge_sources(struct loader *l, struct compose_pair *p, struct compose_node *const **ret,
              size_t *ret_n)
{
    const struct compose_node *v = p->val;
    if (v->kind == COMPOSE_NODE_MAP) {
        *ret = &p->val;
        *ret_n = 1;
        return 0;
    }
    if (v->kind == COMPOSE_NODE_SEQ) {
        for (size_t i = 0; i < v->n; i++)
            if (v->items[i]->kind != COMPOSE_NODE_MAP)
                return err_at(l, &p->key->pos, BT_EPARSE,
                              "merge key '<<' needs a mapping or a sequence of mappings, not a "
                              "sequence holding a %s",
                              compose_node_type_str(v->items[i]));
        *ret = v->items;
        *ret_n = v->n;
        return 0;
    }
    return err_at(l, &p->key->pos, BT_EPARSE,
                  "merge key '<<' needs a mapping or a sequence of mappings, not a %s",
                  compose_node_type_str(v));
}

/* dup repeats the text of the key first, the closest one before it. */
static int
duplicate_key(const struct loader *l, const struct compose_node *dup,
              const struct compose_node *first)
{
    bt_autofree char *s = show(dup->str, dup->len);
    if (first->pos.line == dup->pos.line)
        return err_at(l, &dup->pos, BT_EPARSE, "duplicate key '%s' (first at line %d, column %d)",
                      s, first->pos.line, first->pos.col);
    return err_at(l, &dup->pos, BT_EPARSE, "duplicate key '%s' (first at line %d)", s,
                  first->pos.line);
}

/* Sort every key by text, then by priority: the first of each text wins (keep[idx]); two
 * explicit keys with one text are a duplicate, reported at the earliest second one. */
static int
rank_keys(struct loader *l, struct cand *c, size_t nc, size_t nexplicit, bool *keep)
{
    qsort(c, nc, sizeof *c, cand_cmp);
    const struct cand *dup = NULL, *first = NULL;
    for (size_t i = 0; i < nc; i++) {
        if (i == 0 || !same_text(c[i - 1].key, c[i].key)) {
            keep[c[i].idx] = true;
        } else if (c[i].idx < nexplicit && (!dup || c[i].idx < dup->idx)) {
            dup = &c[i];
            first = &c[i - 1];
        }
    }
    return dup ? duplicate_key(l, dup->key, first->key) : 0;
}

/* A small mapping without a merge key: the same verdict as rank_keys() (the earliest key whose
 * text came before, and the closest such earlier key), by comparing pairs instead of sorting. */
static int
check_small_map(struct loader *l, const struct compose_pair *p, size_t k)
{
    for (size_t j = 1; j < k; j++)
        for (size_t i = j; i-- > 0;)
            if (same_text(p[i].key, p[j].key))
                return duplicate_key(l, p[j].key, p[i].key);
    return 0;
}

/* Turn the pairs on the stack from base into the mapping n: duplicate keys refused, the merge
 * key replaced by the pairs it brings that no explicit key or earlier merged mapping has. */
static int
map_finish(struct loader *l, struct compose_node *n, size_t base)
{
    struct compose_pair *p = l->stack + base;
    size_t k = l->nstack - base, m = SIZE_MAX, nsrc = 0, nc = k;
    struct compose_node *const *src = NULL;
    for (size_t i = 0; i < k && m == SIZE_MAX; i++)
        if (is_merge_key(p[i].key))
            m = i;
    if (m == SIZE_MAX && k <= SMALL_MAP) {
        int r = check_small_map(l, p, k);
        if (r < 0)
            return r;
        n->pairs = k ? bt_arena_alloc(l->a, k * sizeof *n->pairs) : NULL;
        bt_memcpy(n->pairs, p, k * sizeof *n->pairs);
        n->n = k;
        return 0;
    }
    if (m != SIZE_MAX) {
        int r = merge_sources(l, &p[m], &src, &nsrc);
        if (r < 0)
            return r;
        for (size_t j = 0; j < nsrc; j++)
            nc += src[j]->n;
    }
    bt_autofree struct cand *c = bt_xmalloc((nc ? nc : 1) * sizeof *c);
    bt_autofree bool *keep = bt_xcalloc(nc ? nc : 1, sizeof *keep);
    size_t i = 0;
    for (; i < k; i++)
        c[i] = (struct cand){ p[i].key, i };
    for (size_t j = 0; j < nsrc; j++)
        for (size_t q = 0; q < src[j]->n; q++, i++)
            c[i] = (struct cand){ src[j]->pairs[q].key, i };
    if (nc > 1) {
        int r = rank_keys(l, c, nc, k, keep);
        if (r < 0)
            return r;
    } else if (nc == 1) {
        keep[0] = true;
    }
    size_t out = 0;
    for (i = 0; i < nc; i++)
        out += keep[i] && i != m;
    n->pairs = out ? bt_arena_alloc(l->a, out * sizeof *n->pairs) : NULL;
    for (i = 0; i < k; i++) {
        if (i != m) {
            n->pairs[n->n++] = p[i];
            continue;
        }
        for (size_t j = 0, idx = k; j < nsrc; j++)
            for (size_t q = 0; q < src[j]->n; q++, idx++)
                if (keep[idx])
                    n->pairs[n->n++] = src[j]->pairs[q];
    }
    return 0;
}

static void
seq_finish(struct loader *l, struct compose_node *n, size_t base)
{
    n->n = l->nstack - base;
    n->items = n->n ? bt_arena_alloc(l->a, n->n * sizeof *n->items) : NULL;
    for (size_t i = 0; i < n->n; i++)
        n->items[i] = l->stack[base + i].val;
}

/* Parse the children up to the end event: items, or keys and values in turn. */
static int
parse_children(struct loader *l, struct compose_node *n, int depth, int *ret_height)
{
    bool is_map = n->kind == COMPOSE_NODE_MAP;
    for (size_t i = 0;; i++) {
        int r = next_event(l);
        if (r < 0)
            return r;
        if (l->ev.type == YAML_MAPPING_END_EVENT || l->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        struct compose_pos pos = mark_pos(l, &l->ev.start_mark);
        struct built c;
        r = parse_node(l, depth + 1, &c);
        if (r < 0)
            return r;
        if (c.height > *ret_height)
            *ret_height = c.height;
        if (!is_map)
            push(l, NULL, c.node);
        else if (i % 2 == 1)
            l->stack[l->nstack - 1].val = c.node;
        else if (c.node->kind == COMPOSE_NODE_SCALAR)
            push(l, c.node, NULL);
        else
            return err_at(l, &pos, BT_EPARSE, "a mapping key must be a scalar, not a %s",
                          compose_node_type_str(c.node));
    }
}

static int
parse_collection(struct loader *l, int depth, struct built *ret)
{
    bool is_map = l->ev.type == YAML_MAPPING_START_EVENT;
    const char *anchor = (const char *) (is_map ? l->ev.data.mapping_start.anchor
                                                : l->ev.data.sequence_start.anchor);
    const char *tag =
        (const char *) (is_map ? l->ev.data.mapping_start.tag : l->ev.data.sequence_start.tag);
    struct compose_pos pos = mark_pos(l, &l->ev.start_mark);
    if (depth + 1 > COMPOSE_MAX_DEPTH)
        return err_at(l, &pos, BT_ETOOBIG, "collections nest deeper than %d levels",
                      COMPOSE_MAX_DEPTH);
    size_t total0 = l->total;
    int r = add_nodes(l, 1, &pos, false);
    if (r < 0)
        return r;
    struct compose_node *n = node_new(l, is_map ? COMPOSE_NODE_MAP : COMPOSE_NODE_SEQ, &pos);
    r = apply_tag(l, n, tag);
    if (r < 0)
        return r;
    /* The event (and its strings) goes away with the next one. */
    bt_autofree char *name = anchor ? bt_xstrdup(anchor) : NULL;
    unsigned long serial = name ? anchor_begin(l, name) : 0;
    size_t base = l->nstack;
    int height = 0;
    r = parse_children(l, n, depth, &height);
    if (r < 0)
        return r;
    if (is_map)
        r = map_finish(l, n, base);
    else
        seq_finish(l, n, base);
    l->nstack = base;
    if (r < 0)
        return r;
    *ret = (struct built){ n, height + 1 };
    if (name)
        anchor_done(l, name, serial, ret, l->total - total0);
    return 0;
}

/* depth: how many collections hold the node. */
static int
parse_node(struct loader *l, int depth, struct built *ret)
{
    switch (l->ev.type) {
    case YAML_SCALAR_EVENT:
        return parse_scalar(l, ret);
    case YAML_ALIAS_EVENT:
        return parse_alias(l, depth, ret);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return parse_collection(l, depth, ret);
    default: {
        struct compose_pos pos = mark_pos(l, &l->ev.start_mark);
        return err_at(l, &pos, BT_EPARSE, "unexpected YAML event %d", (int) l->ev.type);
    }
    }
}

static int
parse_stream(struct loader *l, struct compose_node ***ret_docs, size_t *ret_ndocs)
{
    bt_autofree struct compose_node **docs = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        int r = next_event(l);
        if (r < 0)
            return r;
        if (l->ev.type == YAML_STREAM_END_EVENT)
            break;
        if (l->ev.type != YAML_DOCUMENT_START_EVENT)
            continue; /* stream start, document end */
        anchors_clear(&l->anchors);
        r = next_event(l);
        if (r < 0)
            return r;
        struct built b;
        r = parse_node(l, 0, &b);
        if (r < 0)
            return r;
        docs = bt_xgrow(docs, &cap, n + 1, sizeof *docs);
        docs[n++] = b.node;
    }
    *ret_docs = n ? bt_arena_alloc(l->a, n * sizeof *docs) : NULL;
    if (n)
        memcpy(*ret_docs, docs, n * sizeof *docs);
    *ret_ndocs = n;
    return 0;
}

int
compose_yaml_parse(struct bt_arena *a, const char *file, const char *data, size_t len,
                   struct compose_node ***ret_docs, size_t *ret_ndocs, struct bt_err **err)
{
    if (len > COMPOSE_MAX_FILE_SIZE)
        return bt_err_set_at(err, file, 0, 0, BT_ETOOBIG,
                             "larger than %u bytes, the limit for a compose file",
                             COMPOSE_MAX_FILE_SIZE);
    struct loader l = {
        .a = a,
        .file = bt_arena_strdup(a, file),
        .data = data ? data : "",
        .len = len,
        .err = err,
    };
    if (!yaml_parser_initialize(&l.parser))
        return bt_err_set(err, ENOMEM, "cannot set up the YAML parser");
    yaml_parser_set_input_string(&l.parser, (const unsigned char *) l.data, len);
    int r = parse_stream(&l, ret_docs, ret_ndocs);
    if (l.have_ev)
        yaml_event_delete(&l.ev);
    yaml_parser_delete(&l.parser);
    free(l.stack);
    anchors_clear(&l.anchors);
    return r;
}

static int
read_stdin(char **ret_data, size_t *ret_len, struct bt_err **err)
{
    bt_autobuf struct bt_buf b;
    bt_buf_init(&b, COMPOSE_MAX_FILE_SIZE);
    char chunk[16384];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return bt_err_errno(err, -errno, "cannot read standard input");
        if (n == 0)
            break;
        if (bt_buf_append(&b, chunk, (size_t) n) < 0)
            return bt_err_set(err, BT_ETOOBIG, "standard input is larger than %u bytes",
                              COMPOSE_MAX_FILE_SIZE);
    }
    *ret_len = b.len;
    *ret_data = bt_buf_steal(&b);
    return 0;
}

int
compose_yaml_load_file(struct bt_arena *a, const char *path, struct compose_node ***ret_docs,
                       size_t *ret_ndocs, struct bt_err **err)
{
    bt_autofree char *data = NULL;
    size_t len = 0;
    int r = strcmp(path, "-") == 0
                ? read_stdin(&data, &len, err)
                : bt_file_read_at(AT_FDCWD, path, COMPOSE_MAX_FILE_SIZE, &data, &len, err);
    if (r < 0)
        return r;
    return compose_yaml_parse(a, path, data, len, ret_docs, ret_ndocs, err);
}

/* ---- scalar types ---- */

static bool
is_word(const struct compose_node *n, const char *const *words, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        if (strlen(words[i]) == n->len && memcmp(words[i], n->str, n->len) == 0)
            return true;
    return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL" };
static const char *const bool_words[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
static const char *const float_words[] = {
    ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
    "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN",
};

static int
digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Go's strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64) would accept s (no underscores). */
static bool
is_go_int(const char *s)
{
    bool sign = *s == '+' || *s == '-', neg = *s == '-';
    s += sign;
    unsigned base = 10;
    if (s[0] == '0' && s[1] && s[2] && strchr("xXoObB", s[1])) {
        base = strchr("xX", s[1]) ? 16 : strchr("oO", s[1]) ? 8 : 2;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
        s++;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d = (unsigned) digit_value(*s);
        if (d >= base || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    if (!sign)
        return true; /* ParseUint's range */
    return v <= (uint64_t) INT64_MAX + (neg ? 1 : 0);
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, and not past the range of a double
 * (Go's ParseFloat fails there and go-yaml falls back to a string). */
static bool
is_yaml_float(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    size_t ip = strspn(p, "0123456789"), fp = 0;
    p += ip;
    if (*p == '.') {
        fp = strspn(p + 1, "0123456789");
        p += 1 + fp;
    }
    if (ip == 0 && fp == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        size_t ep = strspn(p, "0123456789");
        if (ep == 0)
            return false;
        p += ep;
    }
    if (*p)
        return false;
    errno = 0;
    double d = strtod(s, NULL);
    return !(errno == ERANGE && isinf(d));
}

/* Underscores only between two digits, as Go's number syntax wants. */
static bool
underscores_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '_' &&
            (i == 0 || i + 1 == len || digit_value(s[i - 1]) > 9 || digit_value(s[i + 1]) > 9))
            return false;
    return true;
}

/* Numbers as go-yaml v3 reads plain scalars: a leading digit or sign means int (Go's base-0
 * syntax, underscores dropped) or else float; a leading dot means float. */
static enum compose_scalar_type
number_type(const struct compose_node *n)
{
    char c0 = n->str[0];
    bool dot = c0 == '.';
    if (!dot && c0 != '+' && c0 != '-' && (c0 < '0' || c0 > '9'))
        return COMPOSE_SCALAR_STRING;
    for (size_t i = 0; i < n->len; i++)
        if (n->str[i] == '\0' || (digit_value(n->str[i]) > 15 && !strchr("xXoO_+-.", n->str[i])))
            return COMPOSE_SCALAR_STRING; /* also catches NUL */
    if (dot && !underscores_ok(n->str, n->len))
        return COMPOSE_SCALAR_STRING;
    char small[64];
    bt_autofree char *big = n->len < sizeof small ? NULL : bt_xmalloc(n->len + 1);
    char *s = big ? big : small, *o = s;
    for (size_t i = 0; i < n->len; i++)
        if (n->str[i] != '_')
            *o++ = n->str[i];
    *o = '\0';
    if (dot)
        return is_yaml_float(s) ? COMPOSE_SCALAR_FLOAT : COMPOSE_SCALAR_STRING;
    if (is_go_int(s))
        return COMPOSE_SCALAR_INT;
    return is_yaml_float(s) ? COMPOSE_SCALAR_FLOAT : COMPOSE_SCALAR_STRING;
}

/* Whether a plain scalar starting with c can be anything but a string: every word above and
 * every number starts with one of these. Most scalars (names, images, paths) do not. */
static bool
may_be_typed(char c)
{
    switch (c) {
    case '~':
    case 'n':
    case 'N':
    case 't':
    case 'T':
    case 'f':
    case 'F':
    case '.':
    case '+':
    case '-':
        return true;
    default:
        return c >= '0' && c <= '9';
    }
}

enum compose_scalar_type
compose_scalar_type(const struct compose_node *n)
{
    if (!n || n->kind != COMPOSE_NODE_SCALAR || !n->plain)
        return COMPOSE_SCALAR_STRING;
    if (n->len > 0 && !may_be_typed(n->str[0]))
        return COMPOSE_SCALAR_STRING;
    if (is_word(n, null_words, BT_ARRAY_SIZE(null_words)))
        return COMPOSE_SCALAR_NULL;
    if (is_word(n, bool_words, BT_ARRAY_SIZE(bool_words)))
        return COMPOSE_SCALAR_BOOL;
    if (is_word(n, float_words, BT_ARRAY_SIZE(float_words)))
        return COMPOSE_SCALAR_FLOAT;
    return number_type(n);
}

struct compose_node *
compose_map_get(const struct compose_node *n, const char *key)
{
    if (!n || n->kind != COMPOSE_NODE_MAP)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < n->n; i++) {
        const struct compose_node *k = n->pairs[i].key;
        if (k->len == len && (len == 0 || k->str[0] == key[0]) && memcmp(k->str, key, len) == 0)
            return n->pairs[i].val;
    }
    return NULL;
}

const char *
compose_node_type_str(const struct compose_node *n)
{
    if (!n)
        return "null";
    if (n->kind == COMPOSE_NODE_MAP)
        return "mapping";
    if (n->kind == COMPOSE_NODE_SEQ)
        return "sequence";
    switch (compose_scalar_type(n)) {
    case COMPOSE_SCALAR_NULL:
        return "null";
    case COMPOSE_SCALAR_BOOL:
        return "boolean";
    case COMPOSE_SCALAR_INT:
        return "integer";
    case COMPOSE_SCALAR_FLOAT:
        return "number";
    case COMPOSE_SCALAR_STRING:
        break;
    }
    return "string";
}

struct compose_node *
compose_node_scalar(struct bt_arena *a, const struct compose_pos *pos, const char *str, bool plain)
{
    struct compose_node *n = bt_arena_alloc(a, sizeof *n);
    n->kind = COMPOSE_NODE_SCALAR;
    if (pos)
        n->pos = *pos;
    n->len = strlen(str);
    n->str = bt_arena_strndup(a, str, n->len);
    n->plain = plain;
    return n;
}
