/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the schema validator, shared by compose/schema*.c and their unit tests: the
 * pattern engine, how a YAML node compares with JSON values, and the loaded schema. Never
 * included from outside compose/.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose/node.h"
#include "compose/schema.h"
#include "engine/base/arena.h"

/* ---- patterns (schema-regex.c) ----
 *
 * The RE2/ECMA-262 subset JSON Schema patterns need, matched on code points (UTF-8; an invalid
 * byte reads as U+FFFD, as in Go): literals, '.' (anything but a newline), classes [a-z_] and
 * [^...] with ranges, \d \w \s and their negations, escaped punctuation, \n \t \r \f \v, groups
 * (...) and (?:...), '|', the quantifiers * + ? {n} {n,} {n,m} (a lazy '?' after one is accepted
 * and changes nothing, since only "does it match" is asked), and the anchors ^ and $ (start and
 * end of the whole string). Everything else (backreferences, lookaround, flags, \b, \p{...}) is
 * refused when the schema loads. A search runs in time linear in the string (a Pike VM).
 */
struct compose_re;

#define COMPOSE_RE_MAX_PATTERN 1024 /* bytes of a pattern */
#define COMPOSE_RE_MAX_PROGRAM 8192 /* instructions, after {n,m} expansion */

/* Compile pattern. On failure returns -EINVAL and *ret_why says why (a new string, caller
 * frees). */
int compose_re_compile(const char *pattern, struct compose_re **ret_re, char **ret_why);
struct compose_re *compose_re_free(struct compose_re *re);
/* Whether re matches somewhere in the len bytes of s (which may hold NULs). */
bool compose_re_search(const struct compose_re *re, const char *s, size_t len);

/* ---- values (schema-value.c) ---- */

/* JSON types as bits; an integer node has SCHEMA_INTEGER and SCHEMA_NUMBER. */
enum {
    SCHEMA_NULL = 1u << 0,
    SCHEMA_BOOLEAN = 1u << 1,
    SCHEMA_INTEGER = 1u << 2,
    SCHEMA_NUMBER = 1u << 3,
    SCHEMA_STRING = 1u << 4,
    SCHEMA_OBJECT = 1u << 5,
    SCHEMA_ARRAY = 1u << 6,
};

/* The bit of a type name ("string", ...); 0 for an unknown name. */
unsigned compose_schema_type_bit(const char *name);
/* The JSON types node n satisfies. */
unsigned compose_schema_node_types(const struct compose_node *n);
/* The types of a JSON value, as its equal node would have them. */
unsigned compose_schema_json_types(const json_t *j);
/* "a string or a mapping": the types of mask for a message, in a fixed order. Caller frees. */
char *compose_schema_types_str(unsigned mask);

/* A number: exact when it is an integer, else a double. */
struct compose_num {
    bool is_int;
    bool neg;     /* is_int: the sign (never set for zero) */
    uint64_t mag; /* is_int: the magnitude */
    double d;     /* always: the value, rounded for big integers */
};

/* The number of an integer or float node; false for anything else. */
bool compose_schema_node_num(const struct compose_node *n, struct compose_num *ret);
void compose_schema_json_num(const json_t *j, struct compose_num *ret);
/* -1, 0 or 1; 2 when either is NaN (unordered). */
int compose_schema_num_cmp(const struct compose_num *a, const struct compose_num *b);

/* JSON equality ("1" is not 1, 1 is 1.0, mappings compare whatever their key order). */
bool compose_schema_node_equal_json(const struct compose_node *n, const json_t *j);
bool compose_schema_nodes_equal(const struct compose_node *a, const struct compose_node *b);
/* A hash consistent with compose_schema_nodes_equal(). */
uint64_t compose_schema_node_hash(const struct compose_node *n);

/* ---- the compiled schema (schema-compile.c) ----
 *
 * What the checker walks: each schema it reaches, each keyword read from the JSON once, with
 * subschemas and $ref targets linked, patterns compiled and properties in a hash table. The
 * JSON stays alongside for messages. A schema is filled in when a validation first reaches it
 * (compose_cschema_filled), so a small project pays for the few schemas it uses rather than for
 * all of them: a cache inside a const struct compose_schema, which changes nothing of what the
 * schema means. The memory belongs to the schema's arena.
 */

enum compose_cschema_kind {
    COMPOSE_CSCHEMA_TRUE,   /* true: anything */
    COMPOSE_CSCHEMA_FALSE,  /* false: nothing */
    COMPOSE_CSCHEMA_OBJECT, /* the keywords below; any other JSON value reads as {} */
};

/* The number keywords, in the order they are checked. */
enum {
    COMPOSE_LIM_MINIMUM,
    COMPOSE_LIM_MAXIMUM,
    COMPOSE_LIM_EXCL_MINIMUM,
    COMPOSE_LIM_EXCL_MAXIMUM
};
#define COMPOSE_LIM_COUNT 4

struct compose_cschema;

struct compose_cprop {
    const char *key; /* NULL in an empty slot */
    size_t len;
    const struct compose_cschema *sch;
};

struct compose_cpattern {
    const struct compose_re *re; /* NULL: not compiled at load (a schema no keyword led to) */
    const struct compose_cschema *sch;
};

/* The keywords few schemas use, kept apart so the common schema stays small. */
struct compose_cschema_rare {
    const json_t *const_val, *enum_vals;
    const json_t *lim[COMPOSE_LIM_COUNT];
    struct compose_num lim_num[COMPOSE_LIM_COUNT];
    bool has_lim;
    const json_t *min_len, *max_len;
    const char **required;
    size_t nrequired;
    const json_t *min_props, *max_props;
    const json_t *min_items, *max_items;
    /* combinators; has_any/has_one: the keyword is there (even when it holds no schema) */
    const struct compose_cschema **all, **any, **one;
    size_t nall, nany, none;
    bool has_any, has_one;
    const struct compose_cschema *not_sch; /* "not" */
};

struct compose_cschema {
    enum compose_cschema_kind kind;
    bool filled;        /* the fields below are set (always, for true and false) */
    unsigned type_mask; /* the bits of the types "type" names */
    const json_t *json;
    const json_t *ref;                     /* "$ref" */
    const struct compose_cschema *ref_sch; /* its target; NULL when it did not resolve at load */
    const json_t *type;
    const json_t *pattern;
    const struct compose_re *pattern_re;
    /* mappings */
    struct compose_cprop *props; /* open addressing, props_mask + 1 slots; NULL: none */
    size_t props_mask;
    struct compose_cpattern *pprops; /* patternProperties, in the document's order */
    size_t npprops;
    const struct compose_cschema *more;  /* additionalProperties, or NULL */
    const struct compose_cschema *names; /* propertyNames, or NULL */
    /* sequences */
    const struct compose_cschema *items;
    bool unique;
    const struct compose_cschema_rare *rare; /* NULL when it has none of those keywords */
};

/* The schema of properties key (len bytes) in sch, or NULL. */
const struct compose_cschema *compose_cschema_prop(const struct compose_cschema *sch,
                                                   const char *key, size_t len);

/* ---- the loaded schema (schema.c) ---- */

struct compose_schema_pattern {
    char *src;
    struct compose_re *re;
};

/* $ref targets compiled so far, by address: one for all the $refs to a target. */
struct compose_cschema_refs {
    const json_t **keys;
    struct compose_cschema **vals;
    size_t cap, n; /* cap: 0 or a power of two */
};

struct compose_schema {
    char *name;
    json_t *root;
    struct compose_schema_pattern *pats; /* sorted by src, each pattern once */
    size_t npats;
    const struct compose_cschema *croot; /* root, compiled */
    struct compose_cschema_refs refs;
    struct bt_arena *arena; /* holds the compiled schemas */
};

/* The compiled form of a pattern of the schema; NULL when it was not compiled at load. */
const struct compose_re *compose_schema_pattern(const struct compose_schema *s, const char *src);
/* The target of a $ref (every one was resolved once at load). */
const json_t *compose_schema_resolve(const struct compose_schema *s, const char *ref);
/* The keywords the checker reads (the others are all COMPOSE_KW_OTHER). */
enum compose_kw {
    COMPOSE_KW_OTHER,
    COMPOSE_KW_REF,
    COMPOSE_KW_TYPE,
    COMPOSE_KW_CONST,
    COMPOSE_KW_ENUM,
    COMPOSE_KW_MINIMUM,
    COMPOSE_KW_MAXIMUM,
    COMPOSE_KW_EXCL_MINIMUM,
    COMPOSE_KW_EXCL_MAXIMUM,
    COMPOSE_KW_MIN_LENGTH,
    COMPOSE_KW_MAX_LENGTH,
    COMPOSE_KW_PATTERN,
    COMPOSE_KW_PROPERTIES,
    COMPOSE_KW_PATTERN_PROPERTIES,
    COMPOSE_KW_ADDITIONAL_PROPERTIES,
    COMPOSE_KW_PROPERTY_NAMES,
    COMPOSE_KW_REQUIRED,
    COMPOSE_KW_MIN_PROPERTIES,
    COMPOSE_KW_MAX_PROPERTIES,
    COMPOSE_KW_ITEMS,
    COMPOSE_KW_MIN_ITEMS,
    COMPOSE_KW_MAX_ITEMS,
    COMPOSE_KW_UNIQUE_ITEMS,
    COMPOSE_KW_ALL_OF,
    COMPOSE_KW_ANY_OF,
    COMPOSE_KW_ONE_OF,
    COMPOSE_KW_NOT,
    COMPOSE_KW_COUNT /* not a keyword */
};

/* The keyword a member of a schema object is (its name has len bytes, as jansson keeps it). */
enum compose_kw compose_schema_keyword(const char *name, size_t len);
/* Prepare the loaded schema s (patterns compiled and sorted) for checking: s->croot. */
void compose_schema_compile(struct compose_schema *s);
/* cs, a schema of s, filled in (on its first use). */
const struct compose_cschema *compose_cschema_filled(const struct compose_schema *s,
                                                     const struct compose_cschema *cs);

/* ---- checking (schema-check.c) ---- */

/* What is wrong, where. */
struct compose_schema_fail {
    const struct compose_node *at; /* whose position to report */
    char *path;                    /* "services.web.ports[2]", "" at the root */
    char *msg;
    char *hint; /* or NULL */
};

/* Check root against the schema's root. Returns true when valid; else false with *ret filled
 * (release it with compose_schema_fail_release()). */
bool compose_schema_check(const struct compose_schema *s, const struct compose_node *root,
                          struct compose_schema_fail *ret);
void compose_schema_fail_release(struct compose_schema_fail *f);
