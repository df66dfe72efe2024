/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe path resolution on openat2(2) (Linux 5.6+, which Debian 12 and every supported host has).
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>

#include "engine/base/alloc.h"
#include "engine/base/path.h"

char *
bt_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    if (la == 0)
        return bt_xstrdup(b);
    if (la == 1 && a[0] == '/')
        return bt_xasprintf("/%s", b);
    return bt_xasprintf("%.*s/%s", (int) la, a, b);
}

static int
open_resolve(int rootfd, const char *path, int flags, mode_t mode, unsigned long long resolve,
             struct bt_err **err)
{
    struct open_how how = {
        .flags = (unsigned long long) (flags | O_CLOEXEC),
        /* O_TMPFILE contains the O_DIRECTORY bit: test all of it. */
        .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
        .resolve = resolve | RESOLVE_NO_MAGICLINKS,
    };
    const char *rel = path;
    while (*rel == '/')
        rel++;
    if (*rel == '\0')
        rel = ".";
    for (;;) {
        long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
        if (fd >= 0)
            return (int) fd;
        if (errno == EINTR || errno == EAGAIN)
            continue; /* EAGAIN: a concurrent rename raced the lookup */
        if (errno == ENOSYS)
            return bt_err_set(err, ENOSYS, "cannot open '%s': kernel lacks openat2 (Linux 5.6+)",
                              path);
        if (errno == EXDEV)
            return bt_err_set(err, EXDEV, "'%s' resolves outside its root", path);
        return bt_err_errno(err, -errno, "cannot open '%s'", path);
    }
}

int
bt_openat_beneath(int rootfd, const char *path, int flags, mode_t mode, struct bt_err **err)
{
    return open_resolve(rootfd, path, flags, mode, RESOLVE_BENEATH, err);
}

int
bt_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, struct bt_err **err)
{
    return open_resolve(rootfd, path, flags, mode, RESOLVE_IN_ROOT, err);
}
