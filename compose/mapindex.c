/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mapping key index: open addressing with linear probing over the text of each key up to
 * its first NUL, so keys equal in either sense (strcmp, or length and bytes) share a probe run.
 * Pairs are added in index order and nothing is removed, so the first equal key met in a run is
 * the one with the lowest index.
 */
#include <stdint.h>
#include <string.h>

#include "compose/hash.h"
#include "compose/mapindex.h"
#include "engine/base/alloc.h"

static void
insert(struct compose_map_index *x, size_t i)
{
    size_t k = compose_hash_str(x->pairs[i].key->str) & x->mask;
    while (x->slot[k])
        k = (k + 1) & x->mask;
    x->slot[k] = i + 1;
}

/* Room for n pairs at most half full, every pair indexed again in order. */
static void
rebuild(struct compose_map_index *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    free(x->slot);
    x->slot = bt_xcalloc(cap, sizeof *x->slot);
    x->mask = cap - 1;
    for (size_t i = 0; i < x->n; i++)
        insert(x, i);
}

void
compose_map_index_init(struct compose_map_index *x, const struct compose_pair *pairs, size_t n)
{
    *x = (struct compose_map_index){ .pairs = pairs, .n = n };
    rebuild(x, n);
}

void
compose_map_index_release(struct compose_map_index *x)
{
    free(x->slot);
    *x = (struct compose_map_index){ 0 };
}

void
compose_map_index_add(struct compose_map_index *x)
{
    if (2 * (x->n + 1) > x->mask + 1)
        rebuild(x, 2 * (x->n + 1));
    insert(x, x->n++);
}

size_t
compose_map_index_find_str(const struct compose_map_index *x, const char *key)
{
    for (size_t k = compose_hash_str(key) & x->mask; x->slot[k]; k = (k + 1) & x->mask) {
        size_t i = x->slot[k] - 1;
        if (strcmp(x->pairs[i].key->str, key) == 0)
            return i;
    }
    return SIZE_MAX;
}

size_t
compose_map_index_find(const struct compose_map_index *x, const char *key, size_t len)
{
    for (size_t k = compose_hash_str(key) & x->mask; x->slot[k]; k = (k + 1) & x->mask) {
        const struct compose_node *kn = x->pairs[x->slot[k] - 1].key;
        if (kn->len == len && memcmp(kn->str, key, len) == 0)
            return x->slot[k] - 1;
    }
    return SIZE_MAX;
}
