/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tables of key paths from the root of a model ({ "services", "*", "ports" }) that cast.c and
 * merge.c look rules up in, matched one key at a time while a tree is walked: the walk carries
 * the set of patterns its path still matches, one bit each, so every key is compared with the
 * few patterns left and a subtree no pattern reaches is recognised at once. Internal to compose/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMPOSE_KEYPATH_MAX 6      /* parts of the longest pattern */
#define COMPOSE_KEYPATH_SET_MAX 64 /* patterns of one table (the bits of a set) */

/* One pattern: keys from the root, "*" for any key; NULL after the last part. A table is an
 * array of structs holding one of these, stride bytes apart. */
struct compose_keypath {
    const char *part[COMPOSE_KEYPATH_MAX];
};

/* The patterns of a table split by what they hold at each depth, so a key is compared only
 * with the literal parts: made once per walk (tables are small; a walk visits many keys). */
struct compose_keypath_index {
    const void *table;
    size_t stride;
    uint64_t all;                          /* every pattern */
    uint64_t star[COMPOSE_KEYPATH_MAX];    /* "*" at that depth */
    uint64_t literal[COMPOSE_KEYPATH_MAX]; /* another text at that depth */
};

/* Index the n patterns of table (stride bytes apart). */
void compose_keypath_index_init(struct compose_keypath_index *x, const void *table, size_t stride,
                                size_t n);
/* Of the patterns in set (whose first depth parts match the path so far), those whose next part
 * matches key too. With star_skips_items, "*" does not match "[]" (how walks name a sequence
 * item). */
uint64_t compose_keypath_narrow(const struct compose_keypath_index *x, uint64_t set, size_t depth,
                                const char *key, bool star_skips_items);
/* The first pattern (lowest index) of set with exactly depth parts, or -1: the one a path of
 * depth keys matches whole. */
int compose_keypath_whole(const struct compose_keypath_index *x, uint64_t set, size_t depth);
