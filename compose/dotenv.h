/* SPDX-License-Identifier: Apache-2.0 */
/*
 * .env files as docker compose (compose-go's dotenv package) reads them, and the small ordered
 * environment they fill. This file owns the syntax; which files are read, and in which order
 * the process environment, .env and env_file win, is the caller's business. Internal to compose/.
 *
 * Syntax, statement by statement (lines in the common case):
 *   # comment            a '#' where a statement would start; blank lines are skipped
 *   [export ]KEY=VALUE   also "KEY: VALUE"; spaces around the separator are dropped
 *   KEY                  alone: the value from the lookup, or nothing when it is unset there
 *   VALUE unquoted       to the end of the line, cut at the first " #" (a space then '#'),
 *                        trailing spaces dropped, then interpolated
 *   'VALUE'              literal, may span lines; only \' is special (a quote)
 *   "VALUE"              may span lines; \" is a quote, \\ \n \t \r \a \b \f \v and \0NNN
 *                        (octal) are escapes, \$ is a literal '$'; then interpolated
 * After a closing quote the rest of the line may hold spaces and a comment; anything else
 * starts the next statement, as in compose-go. KEY is letters, digits, '_', '.', '-', '[' and
 * ']' (and any non-ASCII byte); not empty, no spaces inside. A UTF-8 byte-order mark at the
 * start is skipped. Interpolation (interp.h) sees this file's earlier variables first, then the
 * lookup (the process environment). Errors carry file:line:col.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "compose/interp.h"
#include "engine/base/arena.h"
#include "engine/base/err.h"

#define COMPOSE_DOTENV_MAX_SIZE (1u << 20)   /* bytes of one .env file */
#define COMPOSE_DOTENV_MAX_VALUE (1u << 20)  /* bytes of one value after interpolation */
#define COMPOSE_DOTENV_MAX_TOTAL (16u << 20) /* bytes of all values of one file */

struct compose_env_var {
    const char *name;
    const char *value;
};

/*
 * Variables in order of first definition; setting a name again replaces its value in place.
 * Names and values are copied into the arena given to compose_env_init(), which owns everything
 * (there is no release: the arena is dropped whole).
 */
struct compose_env {
    struct compose_env_var *vars;
    size_t n;
    /* private */
    struct bt_arena *a;
    size_t cap;
    size_t *slots; /* hash index: position in vars + 1, 0 for empty */
    size_t nslots;
};

void compose_env_init(struct compose_env *env, struct bt_arena *a);
/* The value, or NULL when name is not set. Borrowed: valid as long as the arena. */
const char *compose_env_get(const struct compose_env *env, const char *name);
void compose_env_set(struct compose_env *env, const char *name, const char *value);
/* A compose_lookup_fn over a struct compose_env (userdata), for interpolation. */
const char *compose_env_lookup(const char *name, void *env);

/*
 * Parse .env text and set its variables in env (in file order, later ones winning), only when
 * the whole file parses. file names the source in errors. fn/ud look up variables this file does
 * not define (usually the process environment; fn may be NULL). Unset variables used without a
 * default go to warn (may be NULL). Errors: "invalid variable name", "unexpected character",
 * "unterminated quoted value", interpolation errors, a NUL byte, sizes past the limits above.
 */
int compose_dotenv_parse(const char *file, const char *data, size_t len, compose_lookup_fn fn,
                         void *ud, struct compose_interp_warn *warn, struct compose_env *env,
                         struct bt_err **err);
/* Read path (at most COMPOSE_DOTENV_MAX_SIZE bytes) and parse it. */
int compose_dotenv_load_file(const char *path, compose_lookup_fn fn, void *ud,
                             struct compose_interp_warn *warn, struct compose_env *env,
                             struct bt_err **err);
