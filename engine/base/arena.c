/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump allocation in chunks; large requests get a chunk of their own.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/arena.h"

#define CHUNK_SIZE (64u << 10)
#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct bt_arena {
    struct chunk *head;
    size_t total;
};

struct bt_arena *
bt_arena_new(void)
{
    return bt_xcalloc(1, sizeof(struct bt_arena));
}

struct bt_arena *
bt_arena_free(struct bt_arena *a)
{
    if (!a)
        return NULL;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
    return NULL;
}

void *
bt_arena_alloc(struct bt_arena *a, size_t size)
{
    if (size > SIZE_MAX - ALIGN - CHUNK_SIZE)
        size = SIZE_MAX; /* bt_xmalloc below aborts with a message */
    size_t need = (size + ALIGN - 1) & ~(size_t) (ALIGN - 1);
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t csize = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;
        c = bt_xmalloc(sizeof *c + csize);
        c->size = csize;
        c->used = 0;
        if (need > CHUNK_SIZE / 4 && a->head) {
            /* A big block goes behind the current chunk so its free space stays usable. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    memset(p, 0, need);
    return p;
}

char *
bt_arena_strndup(struct bt_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = bt_arena_alloc(a, len + 1);
    memcpy(p, s, len);
    return p;
}

char *
bt_arena_strdup(struct bt_arena *a, const char *s)
{
    return bt_arena_strndup(a, s, strlen(s));
}

char *
bt_arena_printf(struct bt_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bt_arena_strdup(a, "");
    char *p = bt_arena_alloc(a, (size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t
bt_arena_used(const struct bt_arena *a)
{
    return a->total;
}
