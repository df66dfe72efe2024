/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump allocation in chunks; large requests get a chunk of their own.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/base/alloc.h"
#include "engine/base/arena.h"

#define CHUNK_SIZE (64u << 10)
/* Chunks double up to this size. Chunks from mmap are faulted in at once (MAP_POPULATE): on
 * some virtual machines a page fault costs several microseconds, which touching a loaded
 * model's pages one by one would pay thousands of times. Their memory is zero already. */
#define CHUNK_MAX (4u << 20)
#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t used, size;
    bool mapped; /* from mmap: zero-filled, unmapped on free */
    _Alignas(16) unsigned char data[];
};

struct bt_arena {
    struct chunk *head;
    size_t total;
    size_t next_size; /* of the next ordinary chunk */
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
        if (c->mapped)
            (void) munmap(c, sizeof *c + c->size);
        else
            free(c);
    }
    free(a);
    return NULL;
}

static struct chunk *
chunk_new(size_t size)
{
    struct chunk *c = NULL;
    if (size >= CHUNK_SIZE * 4) {
        void *p = mmap(NULL, sizeof *c + size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p != MAP_FAILED) {
            c = p;
            c->mapped = true;
        }
    }
    if (!c) {
        c = bt_xmalloc(sizeof *c + size);
        c->mapped = false;
    }
    c->size = size;
    c->used = 0;
    return c;
}

void *
bt_arena_alloc(struct bt_arena *a, size_t size)
{
    if (size > SIZE_MAX - ALIGN - CHUNK_MAX)
        size = SIZE_MAX; /* bt_xmalloc below aborts with a message */
    size_t need = (size + ALIGN - 1) & ~(size_t) (ALIGN - 1);
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t next = a->next_size ? a->next_size : CHUNK_SIZE;
        bool big = need > next / 4;
        c = chunk_new(big ? need : next);
        if (big && a->head) {
            /* A big block goes behind the current chunk so its free space stays usable. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
            if (!big && next < CHUNK_MAX)
                a->next_size = next * 2;
        }
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    if (!c->mapped)
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
