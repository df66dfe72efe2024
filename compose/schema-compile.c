/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiling a loaded JSON Schema into the linked form schema-check.c walks (schema-int.h), so a
 * validation reads each keyword from a struct field instead of looking it up in a JSON object at
 * every node, and finds properties, patterns and $ref targets without a string search. It adds
 * no meaning: each field holds what the checker used to read from the JSON, absent or odd values
 * included. The loader (schema.c) has verified the schema and compiled its patterns before.
 */
#include <stdint.h>
#include <string.h>

#include "compose/hash.h"
#include "compose/schema-int.h"
#include "engine/base/alloc.h"

struct compiler {
    struct compose_schema *s;
    /* Each JSON value met as a schema, by address, with its compiled form. */
    const json_t **keys;
    struct compose_cschema **vals;
    size_t cap, n; /* cap: 0 or a power of two */
    /* Compiled schemas created but not filled in yet. */
    struct compose_cschema **todo;
    size_t ntodo, captodo;
};

static size_t
hash_ptr(const void *p)
{
    uint64_t v = (uint64_t) (uintptr_t) p;
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (size_t) v;
}

static size_t
slot_of(const struct compiler *cp, const json_t *j)
{
    size_t mask = cp->cap - 1;
    size_t i = hash_ptr(j) & mask;
    while (cp->keys[i] && cp->keys[i] != j)
        i = (i + 1) & mask;
    return i;
}

static void
map_grow(struct compiler *cp)
{
    struct compiler old = *cp;
    cp->cap = old.cap ? old.cap * 2 : 256;
    cp->keys = bt_xcalloc(cp->cap, sizeof *cp->keys);
    cp->vals = bt_xcalloc(cp->cap, sizeof *cp->vals);
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i])
            continue;
        size_t k = slot_of(cp, old.keys[i]);
        cp->keys[k] = old.keys[i];
        cp->vals[k] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
}

/* The compiled form of j (NULL for NULL): made once per JSON value, filled in later. */
static const struct compose_cschema *
get(struct compiler *cp, const json_t *j)
{
    if (!j)
        return NULL;
    if (2 * (cp->n + 1) > cp->cap)
        map_grow(cp);
    size_t k = slot_of(cp, j);
    if (cp->keys[k])
        return cp->vals[k];
    struct compose_cschema *cs = bt_arena_alloc(cp->s->arena, sizeof *cs);
    cs->json = j;
    cs->kind = json_is_true(j)    ? COMPOSE_CSCHEMA_TRUE
               : json_is_false(j) ? COMPOSE_CSCHEMA_FALSE
                                  : COMPOSE_CSCHEMA_OBJECT;
    cp->keys[k] = j;
    cp->vals[k] = cs;
    cp->n++;
    if (cs->kind == COMPOSE_CSCHEMA_OBJECT) {
        cp->todo = bt_xgrow(cp->todo, &cp->captodo, cp->ntodo + 1, sizeof *cp->todo);
        cp->todo[cp->ntodo++] = cs;
    }
    return cs;
}

static unsigned
type_mask(const json_t *t)
{
    if (json_is_string(t))
        return compose_schema_type_bit(json_string_value(t));
    unsigned m = 0;
    for (size_t i = 0; i < json_array_size(t); i++) {
        const char *name = json_string_value(json_array_get(t, i));
        m |= name ? compose_schema_type_bit(name) : 0;
    }
    return m;
}

/* The subschemas of an array keyword (none when it is not an array). */
static const struct compose_cschema **
list(struct compiler *cp, const json_t *arr, size_t *ret_n)
{
    size_t n = json_array_size(arr);
    const struct compose_cschema **v = n ? bt_arena_alloc(cp->s->arena, n * sizeof *v) : NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = get(cp, json_array_get(arr, i));
    *ret_n = n;
    return v;
}

static void
fill_props(struct compiler *cp, struct compose_cschema *cs, const json_t *props)
{
    size_t n = json_object_size(props);
    if (n == 0)
        return;
    size_t cap = 4;
    while (cap < 2 * n)
        cap *= 2;
    cs->props = bt_arena_alloc(cp->s->arena, cap * sizeof *cs->props);
    cs->props_mask = cap - 1;
    for (void *it = json_object_iter((json_t *) props); it;
         it = json_object_iter_next((json_t *) props, it)) {
        const char *key = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        size_t i = compose_hash_bytes(key, len) & cs->props_mask;
        while (cs->props[i].key)
            i = (i + 1) & cs->props_mask; /* keys of a JSON object are unique */
        cs->props[i] = (struct compose_cprop){ key, len, get(cp, json_object_iter_value(it)) };
    }
}

static void
fill_pattern_props(struct compiler *cp, struct compose_cschema *cs, const json_t *pp)
{
    size_t n = json_object_size(pp), i = 0;
    cs->pprops = n ? bt_arena_alloc(cp->s->arena, n * sizeof *cs->pprops) : NULL;
    for (void *it = json_object_iter((json_t *) pp); it && i < n;
         it = json_object_iter_next((json_t *) pp, it), i++) {
        const struct compose_re *re = compose_schema_pattern(cp->s, json_object_iter_key(it));
        cs->pprops[i] = (struct compose_cpattern){ re, get(cp, json_object_iter_value(it)) };
    }
    cs->npprops = i;
}

/* The members of a schema object the checker reads, as json_object_get() would find them. */
struct members {
    const json_t *kw[COMPOSE_KW_COUNT];
};

static void
members_of(const json_t *j, struct members *m)
{
    *m = (struct members){ 0 };
    for (void *it = json_object_iter((json_t *) j); it;
         it = json_object_iter_next((json_t *) j, it))
        m->kw[compose_schema_keyword(json_object_iter_key(it), json_object_iter_key_len(it))] =
            json_object_iter_value(it);
}

/* The keywords few schemas use; NULL when the schema has none of them. */
static const struct compose_cschema_rare *
fill_rare(struct compiler *cp, const struct members *m)
{
    static const enum compose_kw lims[COMPOSE_LIM_COUNT] = {
        [COMPOSE_LIM_MINIMUM] = COMPOSE_KW_MINIMUM,
        [COMPOSE_LIM_MAXIMUM] = COMPOSE_KW_MAXIMUM,
        [COMPOSE_LIM_EXCL_MINIMUM] = COMPOSE_KW_EXCL_MINIMUM,
        [COMPOSE_LIM_EXCL_MAXIMUM] = COMPOSE_KW_EXCL_MAXIMUM,
    };
    struct compose_cschema_rare r = { .const_val = m->kw[COMPOSE_KW_CONST] };
    r.enum_vals = m->kw[COMPOSE_KW_ENUM];
    for (size_t i = 0; i < COMPOSE_LIM_COUNT; i++) {
        r.lim[i] = m->kw[lims[i]];
        if (r.lim[i]) {
            compose_schema_json_num(r.lim[i], &r.lim_num[i]);
            r.has_lim = true;
        }
    }
    r.min_len = m->kw[COMPOSE_KW_MIN_LENGTH];
    r.max_len = m->kw[COMPOSE_KW_MAX_LENGTH];
    const json_t *req = m->kw[COMPOSE_KW_REQUIRED];
    r.nrequired = json_array_size(req);
    r.required =
        r.nrequired ? bt_arena_alloc(cp->s->arena, r.nrequired * sizeof *r.required) : NULL;
    for (size_t i = 0; i < r.nrequired; i++)
        r.required[i] = json_string_value(json_array_get(req, i));
    r.min_props = m->kw[COMPOSE_KW_MIN_PROPERTIES];
    r.max_props = m->kw[COMPOSE_KW_MAX_PROPERTIES];
    r.min_items = m->kw[COMPOSE_KW_MIN_ITEMS];
    r.max_items = m->kw[COMPOSE_KW_MAX_ITEMS];
    r.all = list(cp, m->kw[COMPOSE_KW_ALL_OF], &r.nall);
    r.has_any = m->kw[COMPOSE_KW_ANY_OF] != NULL;
    r.any = list(cp, m->kw[COMPOSE_KW_ANY_OF], &r.nany);
    r.has_one = m->kw[COMPOSE_KW_ONE_OF] != NULL;
    r.one = list(cp, m->kw[COMPOSE_KW_ONE_OF], &r.none);
    r.not_sch = get(cp, m->kw[COMPOSE_KW_NOT]);
    if (!r.const_val && !r.enum_vals && !r.has_lim && !r.min_len && !r.max_len && !r.nrequired &&
        !r.min_props && !r.max_props && !r.min_items && !r.max_items && !r.nall && !r.has_any &&
        !r.has_one && !r.not_sch)
        return NULL;
    struct compose_cschema_rare *copy = bt_arena_alloc(cp->s->arena, sizeof *copy);
    *copy = r;
    return copy;
}

static void
fill(struct compiler *cp, struct compose_cschema *cs)
{
    struct members m;
    members_of(cs->json, &m);
    cs->ref = m.kw[COMPOSE_KW_REF];
    if (json_is_string(cs->ref))
        cs->ref_sch = get(cp, compose_schema_resolve(cp->s, json_string_value(cs->ref)));
    cs->type = m.kw[COMPOSE_KW_TYPE];
    cs->type_mask = cs->type ? type_mask(cs->type) : 0;
    cs->pattern = m.kw[COMPOSE_KW_PATTERN];
    if (json_is_string(cs->pattern))
        cs->pattern_re = compose_schema_pattern(cp->s, json_string_value(cs->pattern));
    fill_props(cp, cs, m.kw[COMPOSE_KW_PROPERTIES]);
    fill_pattern_props(cp, cs, m.kw[COMPOSE_KW_PATTERN_PROPERTIES]);
    cs->more = get(cp, m.kw[COMPOSE_KW_ADDITIONAL_PROPERTIES]);
    cs->names = get(cp, m.kw[COMPOSE_KW_PROPERTY_NAMES]);
    cs->items = get(cp, m.kw[COMPOSE_KW_ITEMS]);
    cs->unique = json_is_true(m.kw[COMPOSE_KW_UNIQUE_ITEMS]);
    cs->rare = fill_rare(cp, &m);
}

void
compose_schema_compile(struct compose_schema *s)
{
    struct compiler cp = { .s = s };
    s->croot = get(&cp, s->root);
    /* A work list rather than recursion: $ref chains can be as long as the schema is. */
    while (cp.ntodo > 0)
        fill(&cp, cp.todo[--cp.ntodo]);
    free(cp.keys);
    free(cp.vals);
    free(cp.todo);
}

const struct compose_cschema *
compose_cschema_prop(const struct compose_cschema *sch, const char *key, size_t len)
{
    if (!sch->props)
        return NULL;
    for (size_t i = compose_hash_bytes(key, len) & sch->props_mask;;
         i = (i + 1) & sch->props_mask) {
        const struct compose_cprop *p = &sch->props[i];
        if (!p->key)
            return NULL;
        if (p->len == len && memcmp(p->key, key, len) == 0)
            return p->sch;
    }
}
