/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aborting allocators and the assertion handler. Nothing here returns NULL for lack of memory:
 * callers bound their sizes instead.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "engine/base/alloc.h"

BT_NORETURN static void
oom(size_t size)
{
    /* No allocation here: we are out of memory. */
    char msg[96];
    int n = snprintf(msg, sizeof msg, "berth: out of memory allocating %zu bytes\n", size);
    if (n > 0)
        (void) !write(STDERR_FILENO, msg, (size_t) n);
    abort();
}

void
bt_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "berth: assertion '%s' failed at %s:%d (%s)\n", expr, file, line, func);
    abort();
}

void *
bt_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *
bt_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *
bt_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        oom(size);
    return q;
}

void *
bt_xgrow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            oom(SIZE_MAX);
        n *= 2;
    }
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    p = bt_xrealloc(p, n * size);
    *cap = n;
    return p;
}

char *
bt_xstrdup(const char *s)
{
    return bt_xstrndup(s, strlen(s));
}

char *
bt_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = bt_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
bt_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        oom(strlen(fmt));
    return s;
}

char *
bt_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = bt_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}
