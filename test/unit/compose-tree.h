/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the compose unit tests: YAML text to a tree, and a tree to a compact text that a test can
 * compare ({k:v,...}, [a,b], scalars as their text, ~ for a missing node). Include after
 * cmocka.h.
 */
#pragma once

#include <string.h>

#include "compose/node.h"
#include "engine/base/buf.h"

static inline struct compose_node *
tree_parse(struct bt_arena *a, const char *name, const char *yaml)
{
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    int r = compose_yaml_parse(a, name, yaml, strlen(yaml), &docs, &n, &err);
    if (r < 0)
        fail_msg("parse %s: %s", name, err->msg);
    assert_int_equal(n, 1);
    return docs[0];
}

static inline void
tree_dump(struct bt_buf *b, const struct compose_node *n)
{
    if (!n) {
        bt_buf_puts(b, "~");
        return;
    }
    if (n->kind == COMPOSE_NODE_SCALAR) {
        bt_buf_puts(b, n->str);
    } else if (n->kind == COMPOSE_NODE_MAP) {
        bt_buf_puts(b, "{");
        for (size_t i = 0; i < n->n; i++) {
            bt_buf_printf(b, "%s%s:", i ? "," : "", n->pairs[i].key->str);
            tree_dump(b, n->pairs[i].val);
        }
        bt_buf_puts(b, "}");
    } else {
        bt_buf_puts(b, "[");
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                bt_buf_puts(b, ",");
            tree_dump(b, n->items[i]);
        }
        bt_buf_puts(b, "]");
    }
}
