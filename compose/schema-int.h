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

/* ---- the loaded schema (schema.c) ---- */

struct compose_schema_pattern {
    char *src;
    struct compose_re *re;
};

struct compose_schema {
    char *name;
    json_t *root;
    struct compose_schema_pattern *pats; /* sorted by src, each pattern once */
    size_t npats;
};

/* The compiled form of a pattern of the schema (every one was compiled at load). */
const struct compose_re *compose_schema_pattern(const struct compose_schema *s, const char *src);
/* The target of a $ref (every one was resolved once at load). */
const json_t *compose_schema_resolve(const struct compose_schema *s, const char *ref);

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
