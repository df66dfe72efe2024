/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Matching paths against key path tables, a key at a time (see keypath.h).
 */
#include <string.h>

#include "compose/keypath.h"

static const struct compose_keypath *
row(const void *table, size_t stride, unsigned i)
{
    return (const struct compose_keypath *) (const void *) ((const char *) table + i * stride);
}

void
compose_keypath_index_init(struct compose_keypath_index *x, const void *table, size_t stride,
                           size_t n)
{
    *x = (struct compose_keypath_index){ .table = table, .stride = stride };
    for (unsigned i = 0; i < n && i < COMPOSE_KEYPATH_SET_MAX; i++) {
        const struct compose_keypath *p = row(table, stride, i);
        x->all |= (uint64_t) 1 << i;
        for (size_t d = 0; d < COMPOSE_KEYPATH_MAX && p->part[d]; d++) {
            bool star = p->part[d][0] == '*' && p->part[d][1] == '\0';
            (star ? x->star : x->literal)[d] |= (uint64_t) 1 << i;
        }
    }
}

uint64_t
compose_keypath_narrow(const struct compose_keypath_index *x, uint64_t set, size_t depth,
                       const char *key, bool star_skips_items)
{
    if (depth >= COMPOSE_KEYPATH_MAX)
        return 0;
    uint64_t out = 0;
    if (!star_skips_items || strcmp(key, "[]") != 0)
        out = set & x->star[depth];
    for (uint64_t m = set & x->literal[depth]; m; m &= m - 1) {
        unsigned i = (unsigned) __builtin_ctzll(m);
        const char *part = row(x->table, x->stride, i)->part[depth];
        if (part[0] == key[0] && strcmp(part, key) == 0)
            out |= (uint64_t) 1 << i;
    }
    return out;
}

int
compose_keypath_whole(const struct compose_keypath_index *x, uint64_t set, size_t depth)
{
    if (depth == 0 || depth > COMPOSE_KEYPATH_MAX)
        return -1;
    /* Parts at depth - 1 and none at depth. */
    uint64_t ends =
        (x->star[depth - 1] | x->literal[depth - 1]) &
        (depth < COMPOSE_KEYPATH_MAX ? ~(x->star[depth] | x->literal[depth]) : ~(uint64_t) 0);
    uint64_t m = set & ends;
    return m ? (int) __builtin_ctzll(m) : -1;
}
