/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hash index of the keys of a mapping's pairs, for code that looks up many keys in one big
 * mapping (500 services merged with 500 more): each lookup costs about one key comparison
 * instead of one per pair. It answers exactly as a scan from the first pair would, duplicate
 * keys included: the lowest index whose key is equal. Internal to compose/.
 */
#pragma once

#include <stddef.h>

#include "compose/node.h"

#define COMPOSE_MAP_INDEX_MIN 16 /* pairs below which a scan is as fast */

struct compose_map_index {
    const struct compose_pair *pairs; /* borrowed: the array indexed, which must not move */
    size_t *slot;                     /* pair index + 1, 0 for an empty slot */
    size_t mask;                      /* slots - 1 */
    size_t n;                         /* pairs indexed: pairs[0..n) */
};

/* Index pairs[0..n); more may be added at pairs[n], pairs[n + 1], ... with _add. */
void compose_map_index_init(struct compose_map_index *x, const struct compose_pair *pairs,
                            size_t n);
void compose_map_index_release(struct compose_map_index *x);
/* Index pairs[x->n] too. */
void compose_map_index_add(struct compose_map_index *x);
/* The lowest index whose key has the text key up to its first NUL (as strcmp compares), or
 * SIZE_MAX. */
size_t compose_map_index_find_str(const struct compose_map_index *x, const char *key);
/* The lowest index whose key is the len bytes of key (as compose_map_get compares), or
 * SIZE_MAX. */
size_t compose_map_index_find(const struct compose_map_index *x, const char *key, size_t len);
