/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An arena: many small allocations freed together. A loaded Compose project lives in one, so
 * dropping the project is one call however many nodes and strings it holds. Allocation aborts
 * on OOM like bt_xmalloc; callers bound what input can make them allocate.
 */
#pragma once

#include <stddef.h>

#include "engine/base/macro.h"

struct bt_arena;

struct bt_arena *bt_arena_new(void);
/* Frees every allocation; accepts NULL; returns NULL. */
struct bt_arena *bt_arena_free(struct bt_arena *a);
/* Zeroed memory, aligned for any type. */
void *bt_arena_alloc(struct bt_arena *a, size_t size);
char *bt_arena_strdup(struct bt_arena *a, const char *s);
char *bt_arena_strndup(struct bt_arena *a, const char *s, size_t n);
char *bt_arena_printf(struct bt_arena *a, const char *fmt, ...) BT_PRINTF(2, 3);
/* Bytes handed out so far (for limits and benchmarks). */
size_t bt_arena_used(const struct bt_arena *a);
