/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which compose files make the project, its directory and its name, decided as docker compose
 * decides them: -f files (repeatable, "-" for stdin), else COMPOSE_FILE, else compose.yaml and
 * its kin in the working directory or the nearest parent that has one, plus the matching
 * override file. Internal to compose/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/base/arena.h"
#include "engine/base/err.h"

struct compose_files_opts {
    const char *const *files; /* -f, in order; may contain "-" */
    size_t nfiles;
    const char *project_dir;  /* --project-directory, or NULL */
    const char *cwd;          /* the working directory (absolute) */
    const char *compose_file; /* COMPOSE_FILE, or NULL */
    const char *path_sep;     /* COMPOSE_PATH_SEPARATOR, or NULL for ":" */
};

struct compose_files {
    const char **paths; /* absolute, or "-" for stdin; in merge order */
    size_t n;
    const char *project_dir; /* absolute */
    const char *warning;     /* NULL, or a note for the user (several default names present) */
};

/* Everything allocated in a. Errors: no file found (with a hint), a named file missing. */
int compose_files_find(struct bt_arena *a, const struct compose_files_opts *o,
                       struct compose_files *ret, struct bt_err **err);

/* base + "/" + p made absolute and clean ("." and ".." resolved lexically, no trailing "/"),
 * as docker compose resolves relative paths; an absolute p is only cleaned. */
char *compose_path_abs(struct bt_arena *a, const char *base, const char *p);

/* The directory part of an absolute path ("/" for a file at the root). New string in a. */
char *compose_path_dir(struct bt_arena *a, const char *path);

/* Explicit names (-p, COMPOSE_PROJECT_NAME, name:) must match ^[a-z0-9][a-z0-9_-]*$. */
bool compose_project_name_is_valid(const char *name);
/* A directory's base name made into a project name: lowercased, characters outside
 * [a-z0-9_-] dropped, leading '_' and '-' trimmed. May return "" (the caller reports it). */
char *compose_project_name_normalize(struct bt_arena *a, const char *name);
