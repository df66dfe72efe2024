/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Removing trees below a directory fd without ever following a symlink in them: what a layer,
 * a container's upper dir or a half-done unpack holds is untrusted. Read-only directories are
 * opened up (u+rwx) on the way down, so trees unpacked with their modes can always go.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/macro.h"
#include "engine/base/rmtree.h"

static int rm_contents(int dfd, struct bt_err **err);

/* Empty the directory dfd (borrowed) without following symlinks. */
static int
rm_contents(int dfd, struct bt_err **err)
{
    struct stat st;
    if (fstat(dfd, &st) < 0)
        return bt_err_errno(err, -errno, "cannot stat a directory to remove");
    /* A read-only directory's entries cannot be removed by its owner: open it up first. */
    if ((st.st_mode & 0700) != 0700 && fchmod(dfd, (st.st_mode & 07777) | 0700) < 0)
        return bt_err_errno(err, -errno, "cannot make a directory writable to remove it");
    int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return bt_err_errno(err, -errno, "cannot duplicate a directory fd");
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        int r = -errno;
        (void) close(dup_fd);
        return bt_err_errno(err, r, "cannot read a directory to remove");
    }
    int ret = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0)
                ret = bt_err_errno(err, -errno, "cannot read a directory to remove");
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((ret = bt_rm_at(dfd, de->d_name, err)) < 0)
            break;
    }
    (void) closedir(d);
    return ret;
}

/* Remove name in dfd, whatever it is; a directory with all it holds. Absent is fine. */
int
bt_rm_at(int dfd, const char *name, struct bt_err **err)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM) /* EPERM: what unlink(2) says for a directory */
        return bt_err_errno(err, -errno, "cannot remove '%s'", name);
    bt_autoclose int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s' to remove it", name);
    if (rm_contents(fd, err) < 0)
        return bt_err_wrap(err, "'%s'", name);
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove '%s'", name);
    return 0;
}

int
bt_rm_tree_at(int dirfd, const char *name, struct bt_err **err)
{
    if (strcmp(name, ".") == 0)
        return rm_contents(dirfd, err);
    if (name[0] == '\0' || strchr(name, '/') || strcmp(name, "..") == 0)
        return bt_err_set(err, EINVAL, "cannot remove '%s': not a name in the directory", name);
    return bt_rm_at(dirfd, name, err);
}
