/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML document tree that compose/ works on: every node keeps its file, line and column, so
 * any error later (interpolation, validation, merge, normalisation) can say where. Nodes live in
 * a struct bt_arena owned by the caller. Internal to compose/ (the public header is compose.h).
 *
 * Scalars keep their text and whether they were plain (unquoted): plain "true", "12" or "~" are
 * a bool, an int and null (YAML 1.2 core schema, as docker compose's YAML library decodes them);
 * quoted ones are strings. Aliases are resolved by sharing nodes (no copies), merge keys "<<"
 * are already applied, and the explicit tags !reset and !override are kept for the merge step.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/arena.h"
#include "engine/base/err.h"

enum compose_node_kind {
    COMPOSE_NODE_SCALAR,
    COMPOSE_NODE_MAP,
    COMPOSE_NODE_SEQ,
};

/* The type of a plain scalar as go-yaml v3 (docker compose's YAML library) resolves it: the
 * YAML 1.2 core schema plus its extra forms (1_000, 0b101, -0x1F and 0755 are integers; 08 is a
 * float; a decimal too big for 64 bits is a float; hex/octal too big, or 1e400, a string). */
enum compose_scalar_type {
    COMPOSE_SCALAR_NULL,  /* plain "", "~", "null", "Null", "NULL" */
    COMPOSE_SCALAR_BOOL,  /* plain true/false in the three cases */
    COMPOSE_SCALAR_INT,   /* plain [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ */
    COMPOSE_SCALAR_FLOAT, /* plain decimal/exponent, .inf, .nan forms */
    COMPOSE_SCALAR_STRING,
};

enum compose_tag {
    COMPOSE_TAG_NONE,
    COMPOSE_TAG_RESET,    /* !reset: drop the inherited value during merge */
    COMPOSE_TAG_OVERRIDE, /* !override: replace instead of merging */
};

struct compose_pos {
    const char *file; /* arena string, shared by all nodes of a file */
    int line, col;    /* 1-based */
};

struct compose_pair {
    struct compose_node *key; /* always a scalar */
    struct compose_node *val;
};

struct compose_node {
    enum compose_node_kind kind;
    enum compose_tag tag;
    struct compose_pos pos;
    /* COMPOSE_NODE_SCALAR */
    const char *str; /* NUL-terminated; may contain NULs only if len says so */
    size_t len;
    bool plain; /* unquoted plain scalar (type resolution applies) */
    /* COMPOSE_NODE_MAP: pairs in document order; COMPOSE_NODE_SEQ: items */
    struct compose_pair *pairs;
    struct compose_node **items;
    size_t n;
};

/* Ceilings on what a file can make us do. */
#define COMPOSE_MAX_FILE_SIZE (16u << 20) /* bytes of one compose file */
#define COMPOSE_MAX_DEPTH 128             /* nesting of mappings and sequences */
#define COMPOSE_MAX_NODES 2000000         /* nodes of one file, aliases counted expanded */

/*
 * Parse YAML text into documents (a compose file may hold several, merged in order by the
 * caller). file names the source in positions and errors. Errors carry file:line:col: syntax,
 * tabs in indentation, duplicate keys, unknown tags, a non-scalar key, aliases that expand past
 * COMPOSE_MAX_NODES, nesting past COMPOSE_MAX_DEPTH, input past COMPOSE_MAX_FILE_SIZE.
 * An empty file gives zero documents. Any ceiling crossed gives BT_ETOOBIG.
 */
int compose_yaml_parse(struct bt_arena *a, const char *file, const char *data, size_t len,
                       struct compose_node ***ret_docs, size_t *ret_ndocs, struct bt_err **err);
/* Read the file (or stdin for "-", named "-" in positions) and parse it. */
int compose_yaml_load_file(struct bt_arena *a, const char *path, struct compose_node ***ret_docs,
                           size_t *ret_ndocs, struct bt_err **err);

enum compose_scalar_type compose_scalar_type(const struct compose_node *n);
/* Lookup in a mapping by key; NULL when absent or n is not a mapping. */
struct compose_node *compose_map_get(const struct compose_node *n, const char *key);
/* Human name of a node kind / scalar type for messages: "mapping", "sequence", "string", ...;
 * "null" for NULL. */
const char *compose_node_type_str(const struct compose_node *n);
/* A new scalar node (str copied into the arena). */
struct compose_node *compose_node_scalar(struct bt_arena *a, const struct compose_pos *pos,
                                         const char *str, bool plain);
