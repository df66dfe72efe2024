/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct bt_buf: bounded growable buffer.
 */
#include <stdarg.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"

void
bt_buf_init(struct bt_buf *b, size_t max)
{
    *b = (struct bt_buf){ .max = max };
}

void
bt_buf_release(struct bt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
bt_buf_reset(struct bt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int
reserve(struct bt_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return -E2BIG;
    b->data = bt_xgrow(b->data, &b->cap, b->len + extra + 1, 1);
    return 0;
}

int
bt_buf_append(struct bt_buf *b, const void *data, size_t len)
{
    int r = reserve(b, len);
    if (r < 0)
        return r;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int
bt_buf_puts(struct bt_buf *b, const char *s)
{
    return bt_buf_append(b, s, strlen(s));
}

int
bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    int r = reserve(b, (size_t) n);
    if (r < 0) {
        va_end(ap2);
        return r;
    }
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t) n;
    return 0;
}

void
bt_buf_consume(struct bt_buf *b, size_t n)
{
    if (n >= b->len) {
        bt_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

const char *
bt_buf_str(const struct bt_buf *b)
{
    return b->data ? b->data : "";
}

char *
bt_buf_steal(struct bt_buf *b)
{
    char *s = b->data ? b->data : bt_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}
