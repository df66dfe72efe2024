/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copy-up of an image's directory into an empty volume (volcopy.h). It runs in the container's
 * setup process, so only system calls on stack memory: getdents64 into a buffer per level,
 * openat/mkdirat/mknodat/symlinkat relative to the parent's fd, never a path that could climb
 * through a symlink. The umask is cleared for the copy (modes are set exactly) and restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/container/volcopy.h"

/* The kernel's struct linux_dirent64 (glibc has no declaration for getdents64's records). */
struct dent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

struct copy {
    struct eng_copy_err *err;
    size_t entries, max_entries;
    size_t plen;        /* length of path in err->path */
    char data[1 << 16]; /* the read/write fallback's buffer */
};

static int
fail(struct copy *c, int e)
{
    if (!c->err->err)
        c->err->err = e;
    return -e;
}

static size_t
path_push(struct copy *c, const char *name)
{
    size_t old = c->plen;
    if (old < sizeof c->err->path - 1) {
        int n =
            snprintf(c->err->path + old, sizeof c->err->path - old, "%s%s", old ? "/" : "", name);
        c->plen = n < 0 ? old : old + (size_t) n;
        if (c->plen >= sizeof c->err->path)
            c->plen = sizeof c->err->path - 1;
    }
    return old;
}

static void
path_pop(struct copy *c, size_t old)
{
    if (c->err->err)
        return; /* keep the failing path */
    c->plen = old;
    c->err->path[old] = '\0';
}

static bool
is_dot(const char *name)
{
    return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Owner, mode and times through an fd we opened (never a path). */
static int
set_attrs_fd(struct copy *c, int fd, const struct stat *st)
{
    const struct timespec ts[2] = { st->st_atim, st->st_mtim };
    /* chown first: it clears set-id bits that chmod then sets again. */
    if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
        futimens(fd, ts) < 0)
        return fail(c, errno);
    return 0;
}

/* Owner and times of an entry that cannot be opened (symlink, node), without following it. */
static int
set_attrs_at(struct copy *c, int dir, const char *name, const struct stat *st)
{
    const struct timespec ts[2] = { st->st_atim, st->st_mtim };
    if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return fail(c, errno);
    return 0;
}

static int
copy_data(struct copy *c, int in, int out)
{
    bool fallback = false;
    for (;;) {
        ssize_t n;
        if (!fallback) {
            n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EBADF)) {
                fallback = true;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return fail(c, errno);
            if (n == 0)
                return 0;
            continue;
        }
        n = read(in, c->data, sizeof c->data);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(c, errno);
        if (n == 0)
            return 0;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, c->data + done, (size_t) (n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return fail(c, errno);
            done += w;
        }
    }
}

static int copy_dir(struct copy *c, int src, int dst, unsigned depth);

static int
copy_file(struct copy *c, int src, int dst, const char *name)
{
    /* O_NONBLOCK: should the entry have become a fifo since it was looked at, the open does
     * not hang on it (and the type check below refuses it). */
    int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (in < 0)
        return fail(c, errno);
    struct stat st;
    int r = 0;
    if (fstat(in, &st) < 0)
        r = fail(c, errno);
    else if (!S_ISREG(st.st_mode))
        r = fail(c, EAGAIN); /* changed while we copied */
    int out = -1;
    if (r == 0) {
        out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
            r = fail(c, errno);
    }
    if (r == 0)
        r = copy_data(c, in, out);
    if (r == 0)
        r = set_attrs_fd(c, out, &st);
    if (out >= 0)
        close(out);
    close(in);
    return r;
}

static int
copy_subdir(struct copy *c, int src, int dst, const char *name, unsigned depth)
{
    if (depth + 1 >= ENG_VOLCOPY_MAX_DEPTH)
        return fail(c, ELOOP);
    int in = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return fail(c, errno);
    struct stat st;
    int r = 0, out = -1;
    if (fstat(in, &st) < 0)
        r = fail(c, errno);
    if (r == 0 && mkdirat(dst, name, 0700) < 0)
        r = fail(c, errno);
    if (r == 0 && (out = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        r = fail(c, errno);
    if (r == 0)
        r = copy_dir(c, in, out, depth + 1);
    /* After the entries: adding them changed the directory's times. */
    if (r == 0)
        r = set_attrs_fd(c, out, &st);
    if (out >= 0)
        close(out);
    close(in);
    return r;
}

static int
copy_entry(struct copy *c, int src, int dst, const char *name, unsigned depth)
{
    if (++c->entries > c->max_entries)
        return fail(c, EFBIG);
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return fail(c, errno);
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
        return copy_subdir(c, src, dst, name, depth);
    case S_IFREG:
        return copy_file(c, src, dst, name);
    case S_IFLNK: {
        char target[4096];
        ssize_t n = readlinkat(src, name, target, sizeof target - 1);
        if (n < 0)
            return fail(c, errno);
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
            return fail(c, errno);
        return set_attrs_at(c, dst, name, &st);
    }
    case S_IFIFO:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFSOCK:
        /* The umask is 0: the mode is exact (chown may clear set-id bits, as on any copy). */
        if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
            return fail(c, errno);
        return set_attrs_at(c, dst, name, &st);
    default:
        return fail(c, EINVAL);
    }
}

static int
copy_dir(struct copy *c, int src, int dst, unsigned depth)
{
    /* 1 KiB holds at least three records of the longest name (255 + 19 bytes). */
    _Alignas(8) char buf[1024];
    for (;;) {
        long n = syscall(SYS_getdents64, src, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(c, errno);
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            const struct dent64 *d = (const struct dent64 *) (buf + off);
            off += d->reclen;
            if (is_dot(d->name))
                continue;
            size_t old = path_push(c, d->name);
            int r = copy_entry(c, src, dst, d->name, depth);
            path_pop(c, old);
            if (r < 0)
                return r;
        }
    }
}

int
eng_vol_copy_up(int srcdir, int dstdir, struct eng_copy_err *ret)
{
    return eng_vol_copy_up_limit(srcdir, dstdir, ENG_VOLCOPY_MAX_ENTRIES, ret);
}

int
eng_vol_copy_up_limit(int srcdir, int dstdir, size_t max_entries, struct eng_copy_err *ret)
{
    struct copy c = { .err = ret, .max_entries = max_entries };
    ret->err = 0;
    ret->path[0] = '\0';
    mode_t old = umask(0);
    struct stat st;
    int r = fstat(srcdir, &st) < 0 ? fail(&c, errno) : 0;
    if (r == 0 && !S_ISDIR(st.st_mode))
        r = fail(&c, ENOTDIR);
    if (r == 0 && lseek(srcdir, 0, SEEK_SET) < 0)
        r = fail(&c, errno);
    if (r == 0)
        r = copy_dir(&c, srcdir, dstdir, 0);
    if (r == 0)
        r = set_attrs_fd(&c, dstdir, &st);
    umask(old);
    return r;
}

bool
eng_vol_is_empty(int dirfd)
{
    _Alignas(8) char buf[1024];
    bool empty = true;
    if (lseek(dirfd, 0, SEEK_SET) < 0)
        return false;
    for (;;) {
        long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            empty = false;
            break;
        }
        if (n == 0)
            break;
        for (long off = 0; off < n && empty;) {
            const struct dent64 *d = (const struct dent64 *) (buf + off);
            off += d->reclen;
            if (!is_dot(d->name))
                empty = false;
        }
        if (!empty)
            break;
    }
    (void) lseek(dirfd, 0, SEEK_SET);
    return empty;
}
