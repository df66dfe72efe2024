/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading a JSON Schema for the validator: parse it with jansson, check that it only uses the
 * keywords schema-check.c implements, compile every pattern and resolve every $ref once, so a
 * validation can never meet a schema error, then link it for the checker (schema-compile.c).
 * Also the entry point that turns a failed check into a positioned bt_err. The checks
 * themselves live in schema-check.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/schema-int.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"

/* Generated from schemas/compose.schema.json by the Makefile (NUL-terminated). */
extern const char berth_schema_compose[];
extern const size_t berth_schema_compose_len;

#define LOAD_DEPTH_MAX 64 /* schemas nested in schemas */
#define PTR_TOKEN_MAX 256 /* bytes of one $ref pointer token */

enum kw_kind {
    KW_ANNOTATION,  /* ignored */
    KW_TYPE,        /* a type name or a list of them */
    KW_ANY,         /* any JSON value */
    KW_ARRAY,       /* a non-empty array of values */
    KW_STRINGS,     /* an array of strings */
    KW_COUNT,       /* a non-negative integer */
    KW_NUMBER,      /* a number */
    KW_BOOL,        /* true or false */
    KW_PATTERN,     /* a pattern */
    KW_REF,         /* a JSON pointer into this document */
    KW_SCHEMA,      /* a schema */
    KW_SCHEMA_MAP,  /* an object of schemas */
    KW_PATTERN_MAP, /* an object of schemas keyed by pattern */
    KW_SCHEMA_LIST, /* a non-empty array of schemas */
};

/* Sorted by name (strcmp): looked up by binary search. */
static const struct keyword {
    const char *name;
    enum kw_kind kind;
    enum compose_kw id;
} keywords[] = {
    { "$comment", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "$defs", KW_SCHEMA_MAP, COMPOSE_KW_OTHER },
    { "$id", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "$ref", KW_REF, COMPOSE_KW_REF },
    { "$schema", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "additionalProperties", KW_SCHEMA, COMPOSE_KW_ADDITIONAL_PROPERTIES },
    { "allOf", KW_SCHEMA_LIST, COMPOSE_KW_ALL_OF },
    { "anyOf", KW_SCHEMA_LIST, COMPOSE_KW_ANY_OF },
    { "const", KW_ANY, COMPOSE_KW_CONST },
    { "default", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "definitions", KW_SCHEMA_MAP, COMPOSE_KW_OTHER },
    { "deprecated", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "description", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "enum", KW_ARRAY, COMPOSE_KW_ENUM },
    { "examples", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "exclusiveMaximum", KW_NUMBER, COMPOSE_KW_EXCL_MAXIMUM },
    { "exclusiveMinimum", KW_NUMBER, COMPOSE_KW_EXCL_MINIMUM },
    { "items", KW_SCHEMA, COMPOSE_KW_ITEMS },
    { "maxItems", KW_COUNT, COMPOSE_KW_MAX_ITEMS },
    { "maxLength", KW_COUNT, COMPOSE_KW_MAX_LENGTH },
    { "maxProperties", KW_COUNT, COMPOSE_KW_MAX_PROPERTIES },
    { "maximum", KW_NUMBER, COMPOSE_KW_MAXIMUM },
    { "minItems", KW_COUNT, COMPOSE_KW_MIN_ITEMS },
    { "minLength", KW_COUNT, COMPOSE_KW_MIN_LENGTH },
    { "minProperties", KW_COUNT, COMPOSE_KW_MIN_PROPERTIES },
    { "minimum", KW_NUMBER, COMPOSE_KW_MINIMUM },
    { "not", KW_SCHEMA, COMPOSE_KW_NOT },
    { "oneOf", KW_SCHEMA_LIST, COMPOSE_KW_ONE_OF },
    { "pattern", KW_PATTERN, COMPOSE_KW_PATTERN },
    { "patternProperties", KW_PATTERN_MAP, COMPOSE_KW_PATTERN_PROPERTIES },
    { "properties", KW_SCHEMA_MAP, COMPOSE_KW_PROPERTIES },
    { "propertyNames", KW_SCHEMA, COMPOSE_KW_PROPERTY_NAMES },
    { "required", KW_STRINGS, COMPOSE_KW_REQUIRED },
    { "title", KW_ANNOTATION, COMPOSE_KW_OTHER },
    { "type", KW_TYPE, COMPOSE_KW_TYPE },
    { "uniqueItems", KW_BOOL, COMPOSE_KW_UNIQUE_ITEMS },
};

static int
keyword_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct keyword *) elem)->name);
}

static const struct keyword *
keyword_find(const char *name)
{
    return bsearch(name, keywords, BT_ARRAY_SIZE(keywords), sizeof *keywords, keyword_cmp);
}

enum compose_kw
compose_schema_keyword(const char *name, size_t len)
{
    const struct keyword *kw = keyword_find(name);
    return kw && strlen(kw->name) == len ? kw->id : COMPOSE_KW_OTHER;
}

struct loader {
    struct compose_schema *s;
    struct bt_buf ptr; /* JSON pointer of the value being checked, for messages */
    size_t cappats;
    struct bt_err **err;
};

static int load_err(struct loader *l, const char *fmt, ...) BT_PRINTF(2, 3);

static int
load_err(struct loader *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *msg = bt_xvasprintf(fmt, ap);
    va_end(ap);
    const char *at = l->ptr.len ? bt_buf_str(&l->ptr) : "#";
    return bt_err_set(l->err, BT_EINVALID, "schema '%s': %s: %s", l->s->name, at, msg);
}

/* Enter key (or index when key is NULL) of the pointer; returns the length to go back to. */
static size_t
ptr_push(struct loader *l, const char *key, size_t index)
{
    size_t mark = l->ptr.len;
    if (!mark)
        (void) bt_buf_puts(&l->ptr, "#");
    if (key) {
        /* As "/%s" would, all or nothing, without formatting (this runs for every key). */
        size_t len = strlen(key);
        if (l->ptr.len + 1 + len <= l->ptr.max && bt_buf_append(&l->ptr, "/", 1) == 0)
            (void) bt_buf_append(&l->ptr, key, len);
    } else {
        (void) bt_buf_printf(&l->ptr, "/%zu", index);
    }
    return mark;
}

static void
ptr_pop(struct loader *l, size_t mark)
{
    if (l->ptr.data && mark <= l->ptr.len) {
        l->ptr.len = mark;
        l->ptr.data[mark] = '\0';
    }
}

static int
pattern_add(struct loader *l, const char *src)
{
    struct compose_schema *s = l->s;
    for (size_t i = 0; i < s->npats; i++)
        if (strcmp(s->pats[i].src, src) == 0)
            return 0;
    struct compose_re *re = NULL;
    bt_autofree char *why = NULL;
    if (compose_re_compile(src, &re, &why) < 0)
        return load_err(l, "invalid pattern '%s': %s", src, why);
    s->pats = bt_xgrow(s->pats, &l->cappats, s->npats + 1, sizeof *s->pats);
    s->pats[s->npats++] = (struct compose_schema_pattern){ bt_xstrdup(src), re };
    return 0;
}

static int
pattern_cmp(const void *a, const void *b)
{
    const struct compose_schema_pattern *x = a, *y = b;
    return strcmp(x->src, y->src);
}

const struct compose_re *
compose_schema_pattern(const struct compose_schema *s, const char *src)
{
    struct compose_schema_pattern key = { (char *) src, NULL };
    const struct compose_schema_pattern *p =
        bsearch(&key, s->pats, s->npats, sizeof *s->pats, pattern_cmp);
    return p ? p->re : NULL;
}

/* One token of a JSON pointer, "~1" and "~0" unescaped; false when too long. */
static bool
ptr_token(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= PTR_TOKEN_MAX)
            return false;
        if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1'))
            out[o++] = p[++i] == '0' ? '~' : '/';
        else
            out[o++] = p[i];
    }
    out[o] = '\0';
    return true;
}

const json_t *
compose_schema_resolve(const struct compose_schema *s, const char *ref)
{
    if (ref[0] != '#')
        return NULL;
    const json_t *j = s->root;
    for (const char *p = ref + 1; *p;) {
        if (*p != '/')
            return NULL;
        p++;
        size_t n = strcspn(p, "/");
        char tok[PTR_TOKEN_MAX];
        if (!ptr_token(p, n, tok))
            return NULL;
        p += n;
        if (json_is_object(j)) {
            j = json_object_get(j, tok);
        } else if (json_is_array(j)) {
            char *end = NULL;
            unsigned long i = strtoul(tok, &end, 10);
            j = tok[0] >= '0' && tok[0] <= '9' && !*end ? json_array_get(j, i) : NULL;
        } else {
            j = NULL;
        }
        if (!j)
            return NULL;
    }
    return j;
}

static int load_schema(struct loader *l, const json_t *j, int depth);

static int
load_type(struct loader *l, const json_t *v)
{
    if (json_is_string(v))
        return compose_schema_type_bit(json_string_value(v))
                   ? 0
                   : load_err(l, "unknown type '%s'", json_string_value(v));
    if (!json_is_array(v) || json_array_size(v) == 0)
        return load_err(l, "'type' must be a type name or a non-empty list of them");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *t = json_array_get(v, i);
        if (!json_is_string(t) || !compose_schema_type_bit(json_string_value(t)))
            return load_err(l, "'type' lists an unknown type");
    }
    return 0;
}

static int
load_value(struct loader *l, enum kw_kind kind, const json_t *v)
{
    switch (kind) {
    case KW_TYPE:
        return load_type(l, v);
    case KW_ARRAY:
        return json_is_array(v) && json_array_size(v) ? 0
                                                      : load_err(l, "must be a non-empty array");
    case KW_STRINGS:
        if (!json_is_array(v))
            return load_err(l, "must be an array of strings");
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!json_is_string(json_array_get(v, i)))
                return load_err(l, "must be an array of strings");
        return 0;
    case KW_COUNT:
        return json_is_integer(v) && json_integer_value(v) >= 0
                   ? 0
                   : load_err(l, "must be a non-negative integer");
    case KW_NUMBER:
        return json_is_number(v) ? 0 : load_err(l, "must be a number");
    case KW_BOOL:
        return json_is_boolean(v) ? 0 : load_err(l, "must be true or false");
    case KW_PATTERN:
        return json_is_string(v) ? pattern_add(l, json_string_value(v))
                                 : load_err(l, "must be a string");
    case KW_REF: {
        const json_t *t =
            json_is_string(v) ? compose_schema_resolve(l->s, json_string_value(v)) : NULL;
        if (!t || !(json_is_object(t) || json_is_boolean(t)))
            return load_err(l, "does not point to a schema in this document");
        return 0;
    }
    default:
        return 0;
    }
}

static int
load_children(struct loader *l, enum kw_kind kind, const json_t *v, int depth)
{
    if (kind == KW_SCHEMA)
        return load_schema(l, v, depth + 1);
    if (kind == KW_SCHEMA_LIST) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return load_err(l, "must be a non-empty array of schemas");
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t mark = ptr_push(l, NULL, i);
            int r = load_schema(l, json_array_get(v, i), depth + 1);
            ptr_pop(l, mark);
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (!json_is_object(v))
        return load_err(l, "must be an object of schemas");
    for (void *it = json_object_iter((json_t *) v); it;
         it = json_object_iter_next((json_t *) v, it)) {
        const char *key = json_object_iter_key(it);
        size_t mark = ptr_push(l, key, 0);
        int r = kind == KW_PATTERN_MAP ? pattern_add(l, key) : 0;
        if (r >= 0)
            r = load_schema(l, json_object_iter_value(it), depth + 1);
        ptr_pop(l, mark);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
load_schema(struct loader *l, const json_t *j, int depth)
{
    if (json_is_boolean(j))
        return 0;
    if (!json_is_object(j))
        return load_err(l, "a schema must be an object or a boolean");
    if (depth > LOAD_DEPTH_MAX)
        return load_err(l, "schemas nest deeper than %d levels", LOAD_DEPTH_MAX);
    for (void *it = json_object_iter((json_t *) j); it;
         it = json_object_iter_next((json_t *) j, it)) {
        const char *key = json_object_iter_key(it);
        const json_t *v = json_object_iter_value(it);
        const struct keyword *kw = keyword_find(key);
        size_t mark = ptr_push(l, key, 0);
        int r = 0;
        if (!kw)
            r = load_err(l, "unsupported keyword '%s'", key);
        else if (kw->kind >= KW_SCHEMA)
            r = load_children(l, kw->kind, v, depth);
        else
            r = load_value(l, kw->kind, v);
        ptr_pop(l, mark);
        if (r < 0)
            return r;
    }
    return 0;
}

int
compose_schema_load(const char *name, const char *json, size_t len,
                    struct compose_schema **ret_schema, struct bt_err **err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_err_set_at(err, name, jerr.line, jerr.column, BT_EPARSE, "%s", jerr.text);
    struct compose_schema *s = bt_xcalloc(1, sizeof *s);
    s->name = bt_xstrdup(name);
    s->root = root;
    struct loader l = { .s = s, .err = err };
    bt_buf_init(&l.ptr, 4096);
    int r = load_schema(&l, root, 0);
    bt_buf_release(&l.ptr);
    if (r < 0) {
        compose_schema_free(s);
        return r;
    }
    if (s->npats > 1)
        qsort(s->pats, s->npats, sizeof *s->pats, pattern_cmp);
    s->arena = bt_arena_new();
    compose_schema_compile(s);
    *ret_schema = s;
    return 0;
}

int
compose_schema_load_compose(struct compose_schema **ret_schema, struct bt_err **err)
{
    return compose_schema_load("compose.schema.json", berth_schema_compose,
                               berth_schema_compose_len, ret_schema, err);
}

struct compose_schema *
compose_schema_free(struct compose_schema *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->npats; i++) {
        free(s->pats[i].src);
        compose_re_free(s->pats[i].re);
    }
    free(s->pats);
    bt_arena_free(s->arena);
    json_decref(s->root);
    free(s->name);
    free(s);
    return NULL;
}

int
compose_schema_validate(const struct compose_schema *s, const struct compose_node *root,
                        struct bt_err **err)
{
    struct compose_schema_fail f;
    if (compose_schema_check(s, root, &f))
        return 0;
    const char *sep = f.path[0] ? ": " : "";
    int r;
    if (f.at && f.at->pos.file)
        r = bt_err_set_at(err, f.at->pos.file, f.at->pos.line, f.at->pos.col, BT_EINVALID, "%s%s%s",
                          f.path, sep, f.msg);
    else
        r = bt_err_set(err, BT_EINVALID, "%s%s%s", f.path, sep, f.msg);
    if (f.hint)
        bt_err_hint(err, "%s", f.hint);
    compose_schema_fail_release(&f);
    return r;
}
