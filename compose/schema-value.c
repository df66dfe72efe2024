/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a YAML node reads as a JSON value for the schema validator: its JSON types, its number,
 * equality with a JSON value or another node, and a hash for uniqueItems. Scalar types come from
 * compose_scalar_type(); numbers are read the way it recognises them (Go's integer syntax with
 * underscores, YAML floats).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/hash.h"
#include "compose/schema-int.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"

#define EQ_DEPTH_MAX (2 * COMPOSE_MAX_DEPTH) /* deeper trees compare unequal */

static const struct {
    unsigned bit;
    const char *name; /* in schemas */
    const char *text; /* in messages */
} type_names[] = {
    { SCHEMA_STRING, "string", "a string" },
    { SCHEMA_NUMBER, "number", "a number" },
    { SCHEMA_INTEGER, "integer", "an integer" },
    { SCHEMA_BOOLEAN, "boolean", "a boolean" },
    { SCHEMA_OBJECT, "object", "a mapping" },
    { SCHEMA_ARRAY, "array", "a sequence" },
    { SCHEMA_NULL, "null", "null" },
};

unsigned
compose_schema_type_bit(const char *name)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(type_names); i++)
        if (strcmp(type_names[i].name, name) == 0)
            return type_names[i].bit;
    return 0;
}

char *
compose_schema_types_str(unsigned mask)
{
    if (mask & SCHEMA_NUMBER)
        mask &= ~(unsigned) SCHEMA_INTEGER; /* every integer is a number */
    const char *parts[BT_ARRAY_SIZE(type_names)];
    size_t n = 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(type_names); i++)
        if (mask & type_names[i].bit)
            parts[n++] = type_names[i].text;
    struct bt_buf b;
    bt_buf_init(&b, 256);
    for (size_t i = 0; i < n; i++)
        (void) bt_buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", parts[i]);
    char *s = bt_buf_steal(&b);
    bt_buf_release(&b);
    return s;
}

/* The text of a scalar without '_' (Go's digit separators), NUL-terminated; caller frees. */
static char *
number_text(const struct compose_node *n)
{
    char *s = bt_xmalloc(n->len + 1), *o = s;
    for (size_t i = 0; i < n->len; i++)
        if (n->str[i] != '_')
            *o++ = n->str[i];
    *o = '\0';
    return s;
}

/* An integer in Go's base-0 syntax (what compose_scalar_type() called an int). */
static void
parse_int(const char *s, struct compose_num *ret)
{
    bool neg = *s == '-';
    s += *s == '-' || *s == '+';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    else if (s[0] == '0' && s[1])
        base = 8, s += 1;
    uint64_t v = 0;
    for (; *s; s++) {
        char c = *s;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned) (c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned) (c - 'a' + 10)
                                            : (unsigned) (c - 'A' + 10);
        v = v * base + d; /* the type check guarantees digits of the base, no overflow */
    }
    *ret = (struct compose_num){ .is_int = true, .neg = neg && v != 0, .mag = v };
    ret->d = ret->neg ? -(double) v : (double) v;
}

bool
compose_schema_node_num(const struct compose_node *n, struct compose_num *ret)
{
    if (!n || n->kind != COMPOSE_NODE_SCALAR)
        return false;
    enum compose_scalar_type t = compose_scalar_type(n);
    if (t != COMPOSE_SCALAR_INT && t != COMPOSE_SCALAR_FLOAT)
        return false;
    bt_autofree char *s = number_text(n);
    if (t == COMPOSE_SCALAR_INT) {
        parse_int(s, ret);
        return true;
    }
    const char *p = s + (*s == '+' || *s == '-');
    double d;
    if (strcasecmp(p, ".inf") == 0)
        d = *s == '-' ? -INFINITY : INFINITY;
    else if (strcasecmp(p, ".nan") == 0)
        d = NAN;
    else
        d = strtod(s, NULL);
    *ret = (struct compose_num){ .is_int = false, .d = d };
    return true;
}

void
compose_schema_json_num(const json_t *j, struct compose_num *ret)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        uint64_t mag = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
        *ret = (struct compose_num){ .is_int = true, .neg = v < 0, .mag = mag, .d = (double) v };
    } else {
        *ret = (struct compose_num){ .is_int = false, .d = json_number_value(j) };
    }
}

int
compose_schema_num_cmp(const struct compose_num *a, const struct compose_num *b)
{
    if (a->is_int && b->is_int) {
        if (a->neg != b->neg)
            return a->neg ? -1 : 1;
        int c = a->mag < b->mag ? -1 : a->mag > b->mag;
        return a->neg ? -c : c;
    }
    /* long double holds every 64-bit integer exactly on x86; elsewhere this rounds like JSON. */
    long double x = a->is_int ? (a->neg ? -(long double) a->mag : (long double) a->mag) : a->d;
    long double y = b->is_int ? (b->neg ? -(long double) b->mag : (long double) b->mag) : b->d;
    if (isnan(x) || isnan(y))
        return 2;
    return x < y ? -1 : x > y;
}

unsigned
compose_schema_node_types(const struct compose_node *n)
{
    if (!n)
        return SCHEMA_NULL;
    if (n->kind == COMPOSE_NODE_MAP)
        return SCHEMA_OBJECT;
    if (n->kind == COMPOSE_NODE_SEQ)
        return SCHEMA_ARRAY;
    switch (compose_scalar_type(n)) {
    case COMPOSE_SCALAR_NULL:
        return SCHEMA_NULL;
    case COMPOSE_SCALAR_BOOL:
        return SCHEMA_BOOLEAN;
    case COMPOSE_SCALAR_INT:
        return SCHEMA_INTEGER | SCHEMA_NUMBER;
    case COMPOSE_SCALAR_FLOAT: {
        struct compose_num v;
        (void) compose_schema_node_num(n, &v);
        /* JSON Schema: a number with a zero fraction is an integer. */
        bool integral = isfinite(v.d) && v.d == floor(v.d);
        return SCHEMA_NUMBER | (integral ? SCHEMA_INTEGER : 0);
    }
    case COMPOSE_SCALAR_STRING:
        break;
    }
    return SCHEMA_STRING;
}

unsigned
compose_schema_json_types(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return SCHEMA_OBJECT;
    case JSON_ARRAY:
        return SCHEMA_ARRAY;
    case JSON_STRING:
        return SCHEMA_STRING;
    case JSON_INTEGER:
        return SCHEMA_INTEGER | SCHEMA_NUMBER;
    case JSON_REAL: {
        double d = json_real_value(j);
        return SCHEMA_NUMBER | (d == floor(d) ? SCHEMA_INTEGER : 0);
    }
    case JSON_TRUE:
    case JSON_FALSE:
        return SCHEMA_BOOLEAN;
    case JSON_NULL:
        break;
    }
    return SCHEMA_NULL;
}

static bool
node_bool(const struct compose_node *n)
{
    return n->len > 0 && (n->str[0] == 't' || n->str[0] == 'T');
}

static bool
equal_json(const struct compose_node *n, const json_t *j, int depth)
{
    unsigned t = compose_schema_node_types(n);
    if (depth > EQ_DEPTH_MAX || !(t & compose_schema_json_types(j)))
        return false;
    if (t & SCHEMA_NUMBER) {
        struct compose_num a, b;
        (void) compose_schema_node_num(n, &a);
        compose_schema_json_num(j, &b);
        return compose_schema_num_cmp(&a, &b) == 0;
    }
    switch (t) {
    case SCHEMA_STRING:
        return json_string_length(j) == n->len && memcmp(json_string_value(j), n->str, n->len) == 0;
    case SCHEMA_BOOLEAN:
        return node_bool(n) == json_is_true(j);
    case SCHEMA_NULL:
        return true;
    case SCHEMA_ARRAY:
        if (json_array_size(j) != n->n)
            return false;
        for (size_t i = 0; i < n->n; i++)
            if (!equal_json(n->items[i], json_array_get(j, i), depth + 1))
                return false;
        return true;
    default: /* SCHEMA_OBJECT; keys are unique on both sides */
        if (json_object_size(j) != n->n)
            return false;
        for (size_t i = 0; i < n->n; i++) {
            const struct compose_node *k = n->pairs[i].key;
            const json_t *v = json_object_getn(j, k->str, k->len);
            if (!v || !equal_json(n->pairs[i].val, v, depth + 1))
                return false;
        }
        return true;
    }
}

bool
compose_schema_node_equal_json(const struct compose_node *n, const json_t *j)
{
    return equal_json(n, j, 0);
}

static const struct compose_node *
map_lookup(const struct compose_node *m, const struct compose_node *key)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct compose_node *k = m->pairs[i].key;
        if (k->len == key->len && memcmp(k->str, key->str, key->len) == 0)
            return m->pairs[i].val;
    }
    return NULL;
}

static bool
equal_nodes(const struct compose_node *a, const struct compose_node *b, int depth)
{
    unsigned t = compose_schema_node_types(a);
    if (depth > EQ_DEPTH_MAX || !(t & compose_schema_node_types(b)))
        return false;
    if (a == b)
        return true;
    if (t & SCHEMA_NUMBER) {
        struct compose_num x, y;
        (void) compose_schema_node_num(a, &x);
        (void) compose_schema_node_num(b, &y);
        return compose_schema_num_cmp(&x, &y) == 0;
    }
    switch (t) {
    case SCHEMA_STRING:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case SCHEMA_BOOLEAN:
        return node_bool(a) == node_bool(b);
    case SCHEMA_NULL:
        return true;
    case SCHEMA_ARRAY:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!equal_nodes(a->items[i], b->items[i], depth + 1))
                return false;
        return true;
    default:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++) {
            const struct compose_node *v = map_lookup(b, a->pairs[i].key);
            if (!v || !equal_nodes(a->pairs[i].val, v, depth + 1))
                return false;
        }
        return true;
    }
}

bool
compose_schema_nodes_equal(const struct compose_node *a, const struct compose_node *b)
{
    return equal_nodes(a, b, 0);
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t
hash_node(const struct compose_node *n, int depth)
{
    unsigned t = compose_schema_node_types(n);
    if (depth > EQ_DEPTH_MAX)
        return 0;
    if (t & SCHEMA_NUMBER) {
        struct compose_num v;
        (void) compose_schema_node_num(n, &v);
        /* Equal numbers have equal doubles (an integer equal to a double is one exactly). */
        double d = v.d == 0 ? 0 : v.d;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return mix(SCHEMA_NUMBER, isnan(d) ? 1 : bits);
    }
    if (t == SCHEMA_STRING)
        return mix(t, compose_hash_bytes(n->str, n->len));
    if (t == SCHEMA_BOOLEAN)
        return mix(t, node_bool(n));
    if (t == SCHEMA_NULL)
        return mix(t, 0);
    uint64_t h = mix(t, n->n);
    for (size_t i = 0; i < n->n; i++) {
        if (t == SCHEMA_ARRAY) {
            h = mix(h, hash_node(n->items[i], depth + 1));
        } else if (t == SCHEMA_OBJECT) {
            const struct compose_node *k = n->pairs[i].key;
            /* A sum does not depend on the order of the pairs. */
            h += mix(compose_hash_bytes(k->str, k->len), hash_node(n->pairs[i].val, depth + 1));
        }
    }
    return h;
}

uint64_t
compose_schema_node_hash(const struct compose_node *n)
{
    return hash_node(n, 0);
}
