/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Atomic state-file writes, bounded reads and directory creation.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"

#define TMP_MARK ".tmp-"

int
bt_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t) w;
    }
    return 0;
}

static int
write_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool sync,
              struct bt_err **err)
{
    if (strchr(name, '/') || name[0] == '\0' || name[0] == '.')
        return bt_err_set(err, EINVAL, "invalid state file name '%s'", name);
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) < 0)
        rnd = (uint64_t) getpid() * 2654435761u;
    bt_autofree char *tmp = bt_xasprintf(".%s" TMP_MARK "%016llx", name, (unsigned long long) rnd);
    bt_autoclose int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create '%s'", tmp);
    int r = bt_write_all(fd, data, len);
    if (r < 0) {
        (void) unlinkat(dirfd, tmp, 0);
        return bt_err_errno(err, r, "cannot write '%s'", tmp);
    }
    /* The mode is set explicitly: the umask must not weaken or loosen state files. */
    if (fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)) {
        r = -errno;
        (void) unlinkat(dirfd, tmp, 0);
        return bt_err_errno(err, r, "cannot sync '%s'", tmp);
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        r = -errno;
        (void) unlinkat(dirfd, tmp, 0);
        return bt_err_errno(err, r, "cannot rename '%s' to '%s'", tmp, name);
    }
    if (sync && fsync(dirfd) < 0)
        return bt_err_errno(err, -errno, "cannot sync the directory of '%s'", name);
    return 0;
}

int
bt_file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        struct bt_err **err)
{
    return write_replace(dirfd, name, data, len, mode, true, err);
}

int
bt_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                   struct bt_err **err)
{
    return write_replace(dirfd, name, data, len, mode, false, err);
}

int
bt_file_read_at(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len,
                struct bt_err **err)
{
    bt_autoclose int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", name);
    size_t cap = 4096, len = 0;
    bt_autofree char *data = bt_xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap - 1 > max)
                return bt_err_set(err, BT_ETOOBIG, "'%s' is larger than %zu bytes", name, max);
            data = bt_xgrow(data, &cap, cap * 2, 1);
        }
        ssize_t n = read(fd, data + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return bt_err_errno(err, -errno, "cannot read '%s'", name);
        }
        if (n == 0)
            break;
        len += (size_t) n;
        if (len > max)
            return bt_err_set(err, BT_ETOOBIG, "'%s' is larger than %zu bytes", name, max);
    }
    data[len] = '\0';
    if (ret_len)
        *ret_len = len;
    *ret_data = BT_TAKE_PTR(data);
    return 0;
}

int
bt_mkdir_p(const char *path, mode_t mode, struct bt_err **err)
{
    if (path[0] == '\0')
        return bt_err_set(err, ENOENT, "cannot create a directory with an empty path");
    bt_autofree char *p = bt_xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return bt_err_errno(err, -errno, "cannot create directory '%s'", p);
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return bt_err_errno(err, -errno, "cannot stat '%s'", path);
    if (!S_ISDIR(st.st_mode))
        return bt_err_set(err, ENOTDIR, "'%s' exists and is not a directory", path);
    return 0;
}

/* ".NAME.tmp-" followed by 16 hex digits: exactly what bt_file_write_atomic_at() creates. */
static bool
is_tmp_name(const char *n)
{
    size_t len = strlen(n), mark = strlen(TMP_MARK);
    if (n[0] != '.' || len < 1 + 1 + mark + 16)
        return false;
    const char *tail = n + len - 16;
    if (strncmp(tail - mark, TMP_MARK, mark) != 0)
        return false;
    for (size_t i = 0; i < 16; i++)
        if (!isxdigit((unsigned char) tail[i]))
            return false;
    return true;
}

int
bt_dir_clean_tmp(int dirfd)
{
    int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        int r = -errno;
        close(dfd);
        return r;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (is_tmp_name(de->d_name) && unlinkat(dirfd, de->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
