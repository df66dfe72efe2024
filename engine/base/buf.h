/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a ceiling, always NUL-terminated. Appending past the ceiling fails
 * with -E2BIG and leaves the buffer as it was, so whatever reads outside input bounds it here.
 */
#pragma once

#include <stddef.h>

#include "engine/base/macro.h"

struct bt_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* the ceiling for len */
};

void bt_buf_init(struct bt_buf *b, size_t max);
void bt_buf_release(struct bt_buf *b);
void bt_buf_reset(struct bt_buf *b);
int bt_buf_append(struct bt_buf *b, const void *data, size_t len);
int bt_buf_puts(struct bt_buf *b, const char *s);
int bt_buf_printf(struct bt_buf *b, const char *fmt, ...) BT_PRINTF(2, 3);
/* Drop the first n bytes. */
void bt_buf_consume(struct bt_buf *b, size_t n);
/* The contents as a string ("" when empty); borrowed until the next change. */
const char *bt_buf_str(const struct bt_buf *b);
/* Take the contents (a new string, caller frees); the buffer is left empty. */
char *bt_buf_steal(struct bt_buf *b);

static inline void
bt_buf_releasep(struct bt_buf *b)
{
    bt_buf_release(b);
}
#define bt_autobuf __attribute__((cleanup(bt_buf_releasep)))
