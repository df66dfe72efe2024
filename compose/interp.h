/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Variable interpolation in Compose files and .env values, with the syntax docker compose
 * (compose-go's template package) accepts. This file owns the syntax, the walk over a YAML tree
 * and the report of unset variables; where values come from (process environment, .env files)
 * is the caller's business, through a lookup callback. Internal to compose/.
 *
 * Syntax:
 *   $NAME, ${NAME}     the value; unset gives "" and the name is reported once (warn)
 *   ${NAME:-word}      word when NAME is unset or empty      ${NAME-word}  when unset
 *   ${NAME:+word}      word when NAME is set and not empty   ${NAME+word}  when set; else ""
 *   ${NAME:?word}      error "required variable 'NAME' is missing a value: word" when unset or
 *                      empty; ${NAME?word} when unset
 *   $$                 a literal '$'
 * NAME is [_a-zA-Z][_a-zA-Z0-9]* (no dots). A '$' followed by anything else ("$1", "$ ", "$-",
 * '$' at the end) stays a literal '$', as in compose-go. After "${" a name must follow, then '}'
 * or one of the six operators: "${}", "${-x}", "${A.B}", "${A:x}" are errors ("invalid
 * interpolation format"), and so is a "${" without its '}'. word runs to the matching '}'
 * (counting nested "${"), may span lines, and is itself interpolated, but only when it is used
 * (as a shell does); an unused word is still checked for syntax errors.
 *
 * Everything is bounded: input strings over COMPOSE_INTERP_MAX_INPUT, results over the output
 * buffer's ceiling, "${" nested deeper than COMPOSE_INTERP_MAX_NESTING are errors.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compose/node.h"
#include "engine/base/arena.h"
#include "engine/base/buf.h"
#include "engine/base/err.h"

/* The value of variable name, or NULL when it is unset ("" is set but empty). The result is
 * borrowed: it must stay valid until the interpolation call returns. */
typedef const char *(*compose_lookup_fn)(const char *name, void *userdata);

#define COMPOSE_INTERP_MAX_INPUT (1u << 20)        /* bytes of one string to interpolate */
#define COMPOSE_INTERP_MAX_OUTPUT (16u << 20)      /* bytes of one interpolated string */
#define COMPOSE_INTERP_MAX_TREE_OUTPUT (64u << 20) /* bytes of all changed scalars of a tree */
#define COMPOSE_INTERP_MAX_NESTING 64              /* "${" inside "${" */

/*
 * Unset variables used without a default, each name once, in order of first use: the CLI prints
 * `WARN: The "TAG" variable is not set. Defaulting to a blank string.` for each, as docker
 * compose does. One report may collect several calls (all compose files and .env files). Owns
 * its memory (malloc); names[] stays valid until release.
 */
struct compose_interp_warn {
    char **names;
    size_t n;
    /* private: the array's capacity and a hash index of names */
    size_t cap;
    size_t *slots;
    size_t nslots;
};

void compose_interp_warn_init(struct compose_interp_warn *w);
void compose_interp_warn_release(struct compose_interp_warn *w);
bool compose_interp_warn_has(const struct compose_interp_warn *w, const char *name);

/*
 * The core: interpolate len bytes of in (which may hold NULs; they are copied like any other
 * literal byte) and append the result to out, whose ceiling bounds the output (an error past it).
 * fn may be NULL (everything unset); warn may be NULL. Errors carry pos (which may be NULL) and
 * start with path when it is not NULL or "": "compose.yaml:4:12: services.web.image: required
 * variable 'TAG' is missing a value: set TAG". When exact is true, in is the source's own bytes
 * starting at pos, so errors point at the line and column of the offending '$'. On error out
 * holds a partial result.
 */
int compose_interp_append(struct bt_buf *out, const char *in, size_t len, bool exact,
                          compose_lookup_fn fn, void *ud, struct compose_interp_warn *warn,
                          const struct compose_pos *pos, const char *path, struct bt_err **err);

/* One NUL-terminated string; *ret_str is a new string in a, written only on success. Output over
 * COMPOSE_INTERP_MAX_OUTPUT is an error. */
int compose_interp_string(struct bt_arena *a, const char *in, compose_lookup_fn fn, void *ud,
                          struct compose_interp_warn *warn, const struct compose_pos *pos,
                          const char *path, char **ret_str, struct bt_err **err);

/*
 * Interpolate every scalar value of the tree in place, as docker compose does before any type
 * conversion or validation: mapping values and sequence items (and a scalar root), never mapping
 * keys. Nodes shared through YAML aliases are interpolated once. A changed scalar gets new text
 * in a and keeps its plain flag, so a plain "${PORT}" that became "8080" still resolves as an
 * int where the schema wants one; the exception is a result that would resolve as null ("",
 * "~", "null"...): it becomes a quoted (string) scalar, because in docker compose interpolation
 * always yields strings, so `FOO: ${UNSET}` sets FOO to "" rather than leaving it unset.
 * Errors name the node's position and its path ("services.web.ports[0]"). On error the tree may
 * be partly interpolated. All changed scalars together are capped at
 * COMPOSE_INTERP_MAX_TREE_OUTPUT bytes.
 */
int compose_interp_tree(struct bt_arena *a, struct compose_node *root, compose_lookup_fn fn,
                        void *ud, struct compose_interp_warn *warn, struct bt_err **err);
