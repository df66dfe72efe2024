/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the YAML loader: whatever the bytes, compose_yaml_parse() gives a tree or
 * a positioned error, never a crash, a leak or a hang. An accepted tree is walked whole (aliases
 * share nodes, so the walk is bounded by the loader's node ceiling) and every scalar is typed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "compose/node.h"

/* Returns the nodes seen, to check the walk against the loader's ceilings. */
static size_t
walk(const struct compose_node *n, int depth)
{
    if (!n || depth > COMPOSE_MAX_DEPTH)
        abort();
    (void) compose_node_type_str(n);
    if (n->kind == COMPOSE_NODE_SCALAR) {
        (void) compose_scalar_type(n);
        if (n->str[n->len] != '\0')
            abort();
        return 1;
    }
    size_t seen = 1;
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == COMPOSE_NODE_MAP) {
            const struct compose_node *k = n->pairs[i].key;
            if (k->kind != COMPOSE_NODE_SCALAR)
                abort();
            /* Keys are unique: a lookup finds this very pair (keys with NULs aside). */
            if (strlen(k->str) == k->len && compose_map_get(n, k->str) != n->pairs[i].val)
                abort();
            seen += walk(k, depth + 1) + walk(n->pairs[i].val, depth + 1);
        } else {
            seen += walk(n->items[i], depth + 1);
        }
    }
    return seen;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    if (compose_yaml_parse(a, "fuzz.yaml", (const char *) data, size, &docs, &n, &err) < 0) {
        if (!err || !err->msg || !err->msg[0])
            abort();
    } else {
        size_t seen = 0;
        for (size_t i = 0; i < n; i++) {
            if (!docs[i] || strcmp(docs[i]->pos.file, "fuzz.yaml") != 0 || docs[i]->pos.line < 1)
                abort();
            seen += walk(docs[i], 0);
        }
        if (seen > 2 * (size_t) COMPOSE_MAX_NODES)
            abort();
    }
    bt_err_free(err);
    bt_arena_free(a);
    return 0;
}
