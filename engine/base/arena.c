/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump allocation in chunks; large requests get a chunk of their own. A small arena takes 64 KiB
 * chunks from malloc. One that grows past BIG_ARENA (a large Compose project: megabytes of
 * nodes) takes 2 MiB chunks mapped for transparent huge pages: touching fresh memory a 4 KiB
 * page at a time costs a page fault per page, which in a virtual machine is the biggest cost of
 * loading such a project; a huge page is one fault. Without huge pages the same chunks simply
 * fault page by page.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/base/alloc.h"
#include "engine/base/arena.h"

#define CHUNK_SIZE (64u << 10)
#define ALIGN 16u
#define BIG_ARENA (256u << 10) /* chunk bytes after which chunks are huge pages */
#define HUGE_SIZE (2u << 20)   /* a transparent huge page (x86-64, arm64 with 4 KiB pages) */

struct chunk {
    struct chunk *next;
    size_t used, size;
    bool mapped; /* a HUGE_SIZE mapping starting at the chunk, zeroed by the kernel */
    _Alignas(16) unsigned char data[];
};

struct bt_arena {
    struct chunk *head;
    size_t total;    /* bytes handed out */
    size_t reserved; /* bytes of all chunks */
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
            (void) munmap(c, HUGE_SIZE);
        else
            free(c);
    }
    free(a);
    return NULL;
}

/* A chunk of HUGE_SIZE aligned to HUGE_SIZE (so one huge page can back it), or NULL. */
static struct chunk *
huge_chunk(void)
{
    size_t len = 2 * (size_t) HUGE_SIZE;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t) m + HUGE_SIZE - 1) & ~(uintptr_t) (HUGE_SIZE - 1);
    unsigned char *p = (unsigned char *) start;
    if (p > m)
        (void) munmap(m, (size_t) (p - m));
    if (m + len > p + HUGE_SIZE)
        (void) munmap(p + HUGE_SIZE, (size_t) (m + len - (p + HUGE_SIZE)));
    /* A hint: where huge pages are off, the pages come one by one as before. */
    (void) madvise(p, HUGE_SIZE, MADV_HUGEPAGE);
    struct chunk *c = (struct chunk *) (void *) p;
    c->size = HUGE_SIZE - sizeof *c;
    c->used = 0;
    c->mapped = true;
    return c;
}

static struct chunk *
chunk_new(struct bt_arena *a, size_t need)
{
    bool own = need > CHUNK_SIZE / 4;
    struct chunk *c = !own && a->reserved >= BIG_ARENA ? huge_chunk() : NULL;
    if (!c) {
        size_t csize = own ? need : CHUNK_SIZE;
        c = bt_xmalloc(sizeof *c + csize);
        c->size = csize;
        c->used = 0;
        c->mapped = false;
    }
    a->reserved += c->size;
    if (own && a->head) {
        /* A big block goes behind the current chunk so its free space stays usable. */
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    return c;
}

void *
bt_arena_alloc(struct bt_arena *a, size_t size)
{
    if (size > SIZE_MAX - ALIGN - CHUNK_SIZE)
        size = SIZE_MAX; /* bt_xmalloc below aborts with a message */
    size_t need = (size + ALIGN - 1) & ~(size_t) (ALIGN - 1);
    struct chunk *c = a->head;
    if (!c || c->size - c->used < need)
        c = chunk_new(a, need);
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    if (!c->mapped) /* mapped memory is fresh from the kernel, and never handed out twice */
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
    /* Most results are short: formatted once into a local buffer, then copied. */
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bt_arena_strdup(a, "");
    char *p = bt_arena_alloc(a, (size_t) n + 1);
    if ((size_t) n < sizeof small) {
        memcpy(p, small, (size_t) n + 1);
        return p;
    }
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
