/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small macros every module uses: cleanup attributes for owned locals, ownership hand-off,
 * assertions for programming errors, and attribute shorthands. libc only.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BT_NORETURN __attribute__((noreturn))
#define BT_UNUSED __attribute__((unused))

/* Programming errors only: never for anything a user, a file or the network can cause. */
#define BT_ASSERT(expr)                                                                            \
    do {                                                                                           \
        if (!(expr))                                                                               \
            bt_assert_fail(#expr, __FILE__, __LINE__, __func__);                                   \
    } while (0)

BT_NORETURN void bt_assert_fail(const char *expr, const char *file, int line, const char *func);

/* memcpy that accepts NULL pointers when n is 0 (an empty array often has none). */
static inline void *
bt_memcpy(void *dst, const void *src, size_t n)
{
    return n ? memcpy(dst, src, n) : dst;
}

static inline void
bt_freep(void *p)
{
    free(*(void **) p);
}

static inline void
bt_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        (void) close(*fd);
        errno = saved;
    }
}

static inline void
bt_fclosep(FILE **f)
{
    if (*f)
        (void) fclose(*f);
}

#define bt_autofree __attribute__((cleanup(bt_freep)))
#define bt_autoclose __attribute__((cleanup(bt_closep)))
#define bt_autofclose __attribute__((cleanup(bt_fclosep)))

/* Hand ownership out of a cleanup-managed local. */
#define BT_TAKE_PTR(p)                                                                             \
    ({                                                                                             \
        __typeof__(p) _taken = (p);                                                                \
        (p) = NULL;                                                                                \
        _taken;                                                                                    \
    })

#define BT_TAKE_FD(fd)                                                                             \
    ({                                                                                             \
        int _taken = (fd);                                                                         \
        (fd) = -1;                                                                                 \
        _taken;                                                                                    \
    })

/* Close a descriptor and mark it closed; safe on -1. */
#define BT_CLOSE(fd)                                                                               \
    do {                                                                                           \
        if ((fd) >= 0) {                                                                           \
            (void) close(fd);                                                                      \
            (fd) = -1;                                                                             \
        }                                                                                          \
    } while (0)
