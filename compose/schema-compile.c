/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiling a loaded JSON Schema into the linked form schema-check.c walks (schema-int.h), so a
 * validation reads each keyword from a struct field instead of looking it up in a JSON object at
 * every node, and finds properties, patterns and $ref targets without a string search. It adds
 * no meaning: each field holds what the checker used to read from the JSON, absent or odd values
 * included. The loader (schema.c) has verified the schema and compiled its patterns before.
 * A schema is filled in when a validation first reaches it: its subschemas are then made, empty,
 * and $ref targets are looked up in a table so that all the $refs to one share it.
 */
#include <stdint.h>
#include <string.h>

#include "compose/hash.h"
#include "compose/schema-int.h"
#include "engine/base/alloc.h"

static size_t
hash_ptr(const void *p)
{
    uint64_t v = (uint64_t) (uintptr_t) p;
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (size_t) v;
}

/* A new compiled schema for j (NULL for NULL), filled in when first used. */
static struct compose_cschema *
make(struct compose_schema *s, const json_t *j)
{
    if (!j)
        return NULL;
    struct compose_cschema *cs = bt_arena_alloc(s->arena, sizeof *cs);
    cs->json = j;
    cs->kind = json_is_true(j)    ? COMPOSE_CSCHEMA_TRUE
               : json_is_false(j) ? COMPOSE_CSCHEMA_FALSE
                                  : COMPOSE_CSCHEMA_OBJECT;
    cs->filled = cs->kind != COMPOSE_CSCHEMA_OBJECT;
    return cs;
}

static size_t
ref_slot(const struct compose_cschema_refs *r, const json_t *j)
{
    size_t mask = r->cap - 1;
    size_t i = hash_ptr(j) & mask;
    while (r->keys[i] && r->keys[i] != j)
        i = (i + 1) & mask;
    return i;
}

/* The compiled form of the $ref target j, one for all the $refs to it (NULL for NULL). */
static const struct compose_cschema *
ref_target(struct compose_schema *s, const json_t *j)
{
    struct compose_cschema_refs *r = &s->refs;
    if (!j)
        return NULL;
    if (2 * (r->n + 1) > r->cap) {
        /* In the arena like the rest: the outgrown tables are small and few. */
        struct compose_cschema_refs old = *r;
        r->cap = old.cap ? old.cap * 2 : 64;
        r->keys = bt_arena_alloc(s->arena, r->cap * sizeof *r->keys);
        r->vals = bt_arena_alloc(s->arena, r->cap * sizeof *r->vals);
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.keys[i])
                continue;
            size_t k = ref_slot(r, old.keys[i]);
            r->keys[k] = old.keys[i];
            r->vals[k] = old.vals[i];
        }
    }
    size_t k = ref_slot(r, j);
    if (!r->keys[k]) {
        r->keys[k] = j;
        r->vals[k] = make(s, j);
        r->n++;
    }
    return r->vals[k];
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
list(struct compose_schema *s, const json_t *arr, size_t *ret_n)
{
    size_t n = json_array_size(arr);
    const struct compose_cschema **v = n ? bt_arena_alloc(s->arena, n * sizeof *v) : NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = make(s, json_array_get(arr, i));
    *ret_n = n;
    return v;
}

static void
fill_props(struct compose_schema *s, struct compose_cschema *cs, const json_t *props)
{
    size_t n = json_object_size(props);
    if (n == 0)
        return;
    size_t cap = 4;
    while (cap < 2 * n)
        cap *= 2;
    cs->props = bt_arena_alloc(s->arena, cap * sizeof *cs->props);
    cs->props_mask = cap - 1;
    for (void *it = json_object_iter((json_t *) props); it;
         it = json_object_iter_next((json_t *) props, it)) {
        const char *key = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        size_t i = compose_hash_bytes(key, len) & cs->props_mask;
        while (cs->props[i].key)
            i = (i + 1) & cs->props_mask; /* keys of a JSON object are unique */
        cs->props[i] = (struct compose_cprop){ key, len, make(s, json_object_iter_value(it)) };
    }
}

static void
fill_pattern_props(struct compose_schema *s, struct compose_cschema *cs, const json_t *pp)
{
    size_t n = json_object_size(pp), i = 0;
    cs->pprops = n ? bt_arena_alloc(s->arena, n * sizeof *cs->pprops) : NULL;
    for (void *it = json_object_iter((json_t *) pp); it && i < n;
         it = json_object_iter_next((json_t *) pp, it), i++) {
        const struct compose_re *re = compose_schema_pattern(s, json_object_iter_key(it));
        cs->pprops[i] = (struct compose_cpattern){ re, make(s, json_object_iter_value(it)) };
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
fill_rare(struct compose_schema *s, const struct members *m)
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
    r.required = r.nrequired ? bt_arena_alloc(s->arena, r.nrequired * sizeof *r.required) : NULL;
    for (size_t i = 0; i < r.nrequired; i++)
        r.required[i] = json_string_value(json_array_get(req, i));
    r.min_props = m->kw[COMPOSE_KW_MIN_PROPERTIES];
    r.max_props = m->kw[COMPOSE_KW_MAX_PROPERTIES];
    r.min_items = m->kw[COMPOSE_KW_MIN_ITEMS];
    r.max_items = m->kw[COMPOSE_KW_MAX_ITEMS];
    r.all = list(s, m->kw[COMPOSE_KW_ALL_OF], &r.nall);
    r.has_any = m->kw[COMPOSE_KW_ANY_OF] != NULL;
    r.any = list(s, m->kw[COMPOSE_KW_ANY_OF], &r.nany);
    r.has_one = m->kw[COMPOSE_KW_ONE_OF] != NULL;
    r.one = list(s, m->kw[COMPOSE_KW_ONE_OF], &r.none);
    r.not_sch = make(s, m->kw[COMPOSE_KW_NOT]);
    if (!r.const_val && !r.enum_vals && !r.has_lim && !r.min_len && !r.max_len && !r.nrequired &&
        !r.min_props && !r.max_props && !r.min_items && !r.max_items && !r.nall && !r.has_any &&
        !r.has_one && !r.not_sch)
        return NULL;
    struct compose_cschema_rare *copy = bt_arena_alloc(s->arena, sizeof *copy);
    *copy = r;
    return copy;
}

static void
fill(struct compose_schema *s, struct compose_cschema *cs)
{
    struct members m;
    members_of(cs->json, &m);
    cs->ref = m.kw[COMPOSE_KW_REF];
    if (json_is_string(cs->ref))
        cs->ref_sch = ref_target(s, compose_schema_resolve(s, json_string_value(cs->ref)));
    cs->type = m.kw[COMPOSE_KW_TYPE];
    cs->type_mask = cs->type ? type_mask(cs->type) : 0;
    cs->pattern = m.kw[COMPOSE_KW_PATTERN];
    if (json_is_string(cs->pattern))
        cs->pattern_re = compose_schema_pattern(s, json_string_value(cs->pattern));
    fill_props(s, cs, m.kw[COMPOSE_KW_PROPERTIES]);
    fill_pattern_props(s, cs, m.kw[COMPOSE_KW_PATTERN_PROPERTIES]);
    cs->more = make(s, m.kw[COMPOSE_KW_ADDITIONAL_PROPERTIES]);
    cs->names = make(s, m.kw[COMPOSE_KW_PROPERTY_NAMES]);
    cs->items = make(s, m.kw[COMPOSE_KW_ITEMS]);
    cs->unique = json_is_true(m.kw[COMPOSE_KW_UNIQUE_ITEMS]);
    cs->rare = fill_rare(s, &m);
}

void
compose_schema_compile(struct compose_schema *s)
{
    s->croot = make(s, s->root);
}

const struct compose_cschema *
compose_cschema_filled(const struct compose_schema *s, const struct compose_cschema *cs)
{
    if (!cs->filled) {
        /* A cache: what the schema means does not change (see schema-int.h). */
        struct compose_cschema *w = (struct compose_cschema *) cs;
        fill((struct compose_schema *) s, w);
        w->filled = true;
    }
    return cs;
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
