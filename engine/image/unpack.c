/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer unpacking: libarchive parses the tar (the byte stream comes from unpack-src.c), and
 * every entry is written below the target's fd by the kernel's resolution: the entry's parent
 * directory is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), then the final
 * component alone is created relative to it (never a path with a slash, never following a
 * symlink in the final component). libarchive's archive_write_disk is not used: it resolves
 * paths as strings. Without openat2 every component is opened with O_NOFOLLOW instead, and a
 * symlink in a parent path is refused.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define LOG_TAG "unpack"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/rmtree.h"
#include "engine/image/unpack-int.h"
#include "engine/image/unpack.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"
/* How much of an entry name an error message quotes. */
#define NAME_QUOTE_MAX 300

/* A directory whose owner, mode and times are applied at the end, when no more children
 * will be created in it (each creation changes its mtime). */
struct dir_rec {
    char *path; /* cleaned, "" for the root */
    size_t depth;
    size_t seq;
    uid_t uid;
    gid_t gid;
    mode_t mode;
    struct timespec times[2];
};

struct unpacker {
    int rootfd;
    const struct eng_unpack_opts *opts;
    bool root; /* euid 0: trusted.* and security.* xattrs are ours to set */
    bool walk; /* no openat2: component-by-component O_NOFOLLOW walk */
    struct archive *a;
    struct archive_entry *e;
    struct unpack_src src;
    /* The parent directory of the last entry: most entries share it with the one before. */
    char parent[PATH_MAX];
    int parentfd;
    bool parent_stale; /* a symlink was made or something removed: resolve again */
    struct dir_rec *dirs;
    size_t ndirs, dirs_cap;
    uint64_t entries;
    /* The current entry. */
    char name[PATH_MAX];   /* cleaned */
    char target[PATH_MAX]; /* cleaned hard link target */
    uid_t uid;
    gid_t gid;
    mode_t perm;
    struct timespec times[2];
};

/* ---- names ----------------------------------------------------------------------------- */

int
eng_unpack_name_clean(const char *name, char *out, size_t size)
{
    size_t o = 0;
    const char *p = name;
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *end = strchrnul(p, '/');
        size_t len = (size_t) (end - p);
        if (len == 1 && p[0] == '.') {
            p = end;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        if (len > NAME_MAX)
            return -ENAMETOOLONG;
        size_t need = o + (o > 0) + len + 1;
        if (need > size || need > PATH_MAX)
            return -ENAMETOOLONG;
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, p, len);
        o += len;
        p = end;
    }
    if (size == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return 0;
}

enum unpack_wh
eng_unpack_whiteout_kind(const char *base, const char **ret_target)
{
    if (!bt_startswith(base, WH_PREFIX))
        return UNPACK_WH_NONE;
    if (strcmp(base, WH_OPAQUE) == 0)
        return UNPACK_WH_OPAQUE;
    if (bt_startswith(base, WH_META_PREFIX))
        return UNPACK_WH_META;
    const char *t = base + strlen(WH_PREFIX);
    if (*t == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
        return UNPACK_WH_BAD;
    if (ret_target)
        *ret_target = t;
    return UNPACK_WH_FILE;
}

/* Split a cleaned path into its directory ("" for the root) and final component, in place. */
static const char *
split_base(char *path, const char **ret_dir)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        *ret_dir = "";
        return path;
    }
    *slash = '\0';
    *ret_dir = path;
    return slash + 1;
}

/* ---- resolution ------------------------------------------------------------------------ */

/* openat2 below the root, as if it were "/". Returns the fd or -errno. */
static int
open_in_root(struct unpacker *u, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long) (flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    for (;;) {
        long fd = syscall(SYS_openat2, u->rootfd, path[0] ? path : ".", &how, sizeof how);
        if (fd >= 0)
            return (int) fd;
        if (errno == EINTR || errno == EAGAIN)
            continue;
        if (errno == ENOSYS)
            u->walk = true;
        return -errno;
    }
}

/*
 * Open directory path (cleaned) below the root; extra is added to the open flags of its last
 * component (O_NOFOLLOW to refuse a symlink there). With create, missing directories on the
 * way are made (mode 0755, as Docker makes them). Returns the fd or -errno; *ret_at names the
 * prefix that failed.
 */
static int
open_dir(struct unpacker *u, const char *path, int extra, bool create, char *at, size_t at_size)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    snprintf(at, at_size, "%s", path);
    if (!u->walk) {
        int fd = open_in_root(u, path, flags | extra);
        if (fd >= 0 || (fd != -ENOENT && fd != -ENOSYS) || (fd == -ENOENT && !create))
            return fd;
    }
    /* Component by component: to create what is missing, or without openat2. */
    bt_autoclose int cur = openat(u->rootfd, ".", flags);
    if (cur < 0)
        return -errno;
    size_t len = strlen(path), i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && path[end] != '/')
            end++;
        snprintf(at, at_size, "%.*s", (int) end, path);
        const char *comp = at + i;
        int f = (end == len ? extra : 0);
        for (int tries = 0;; tries++) {
            int fd =
                u->walk ? openat(cur, comp, flags | O_NOFOLLOW) : open_in_root(u, at, flags | f);
            if (fd < 0 && u->walk)
                fd = -errno;
            if (fd >= 0) {
                (void) close(cur);
                cur = fd;
                break;
            }
            if (fd != -ENOENT || !create || tries > 0)
                return fd == -ELOOP && u->walk ? -ENOTDIR : fd;
            if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
                return -errno;
        }
        i = end + 1;
    }
    return BT_TAKE_FD(cur);
}

static const char *
dir_error_text(int r)
{
    if (r == -ENOENT)
        return "it is a symlink to a path that does not exist in the layer";
    if (r == -ENOTDIR)
        return "it is not a directory";
    return strerror(-r);
}

/* The fd of directory dir (cleaned), made when missing; borrowed until the next call. */
static int
open_parent(struct unpacker *u, const char *dir, struct bt_err **err)
{
    if (u->parentfd >= 0 && !u->parent_stale && strcmp(u->parent, dir) == 0)
        return u->parentfd;
    BT_CLOSE(u->parentfd);
    char at[PATH_MAX];
    int fd = open_dir(u, dir, 0, true, at, sizeof at);
    if (fd < 0) {
        bt_autofree char *q = bt_log_escape(at, strlen(at), NAME_QUOTE_MAX);
        return bt_err_set(err, -fd, "cannot open directory '%s': %s", q, dir_error_text(fd));
    }
    snprintf(u->parent, sizeof u->parent, "%s", dir);
    u->parentfd = fd;
    u->parent_stale = false;
    return fd;
}

/* Make room for a new entry: remove what is there (a directory with its contents). */
static int
clear_way(struct unpacker *u, int pfd, const char *base, struct bt_err **err)
{
    u->parent_stale = true; /* the removed thing may have been a directory or a symlink */
    return bt_rm_at(pfd, base, err);
}

/* ---- metadata -------------------------------------------------------------------------- */

/* The entry's xattrs on fd, or on base in pfd (without following it) when fd is -1. */
static int
apply_xattrs(struct unpacker *u, int fd, int pfd, const char *base, struct bt_err **err)
{
    if (archive_entry_xattr_reset(u->e) == 0)
        return 0;
    char proc[64 + NAME_MAX];
    if (fd < 0)
        snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", pfd, base);
    const char *name;
    const void *value;
    size_t size;
    while (archive_entry_xattr_next(u->e, &name, &value, &size) == ARCHIVE_OK) {
        if (!u->root && (strncmp(name, "trusted.", 8) == 0 || strncmp(name, "security.", 9) == 0))
            continue;
        int r =
            fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(proc, name, value, size, 0);
        /* Not supported by this file system, or not ours to set: Docker goes on too. */
        if (r < 0 && errno != ENOTSUP && errno != EPERM) {
            bt_autofree char *q = bt_log_escape(name, strlen(name), NAME_QUOTE_MAX);
            return bt_err_errno(err, -errno, "cannot set xattr '%s'", q);
        }
    }
    return 0;
}

/* Owner, mode, times of a non-directory made as base in pfd (a symlink's mode is ignored). */
static int
apply_meta_at(struct unpacker *u, int pfd, const char *base, bool is_link, struct bt_err **err)
{
    if (u->opts->keep_owners && fchownat(pfd, base, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return bt_err_errno(err, -errno, "cannot change the owner");
    /* fchmodat follows symlinks: base was just made here as a device or fifo, not a link. */
    if (!is_link && fchmodat(pfd, base, u->perm, 0) < 0)
        return bt_err_errno(err, -errno, "cannot change the mode");
    if (apply_xattrs(u, -1, pfd, base, err) < 0)
        return -1;
    if (utimensat(pfd, base, u->times, AT_SYMLINK_NOFOLLOW) < 0)
        return bt_err_errno(err, -errno, "cannot set the times");
    return 0;
}

/* ---- entries --------------------------------------------------------------------------- */

static int
write_data(struct unpacker *u, int fd, struct bt_err **err)
{
    int64_t pos = 0;
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        int r = archive_read_data_block(u->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return bt_err_set(err, BT_EINVALID, "cannot read the data: %s",
                              archive_error_string(u->a));
        if (offset != pos && lseek(fd, offset, SEEK_SET) < 0)
            return bt_err_errno(err, -errno, "cannot seek");
        int w = bt_write_all(fd, buf, size);
        if (w < 0)
            return bt_err_errno(err, w, "cannot write");
        pos = offset + (int64_t) size;
    }
    /* A sparse file's hole at the end. */
    if (archive_entry_size_is_set(u->e) && archive_entry_size(u->e) > pos &&
        ftruncate(fd, archive_entry_size(u->e)) < 0)
        return bt_err_errno(err, -errno, "cannot set the size");
    return 0;
}

static int
make_file(struct unpacker *u, int pfd, const char *base, struct bt_err **err)
{
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    bt_autoclose int fd = openat(pfd, base, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        if (clear_way(u, pfd, base, err) < 0)
            return -1;
        fd = openat(pfd, base, flags, 0600);
    }
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create the file");
    if (write_data(u, fd, err) < 0)
        return -1;
    /* Writing and chown clear setuid, setgid and security.capability: they come after. */
    if (u->opts->keep_owners && fchown(fd, u->uid, u->gid) < 0)
        return bt_err_errno(err, -errno, "cannot change the owner");
    if (fchmod(fd, u->perm) < 0)
        return bt_err_errno(err, -errno, "cannot change the mode");
    if (apply_xattrs(u, fd, -1, NULL, err) < 0)
        return -1;
    if (futimens(fd, u->times) < 0)
        return bt_err_errno(err, -errno, "cannot set the times");
    if (close(BT_TAKE_FD(fd)) < 0)
        return bt_err_errno(err, -errno, "cannot write the file");
    return 0;
}

static int
make_dir(struct unpacker *u, int pfd, const char *base, struct bt_err **err)
{
    if (base[0] != '\0') {
        if (mkdirat(pfd, base, 0755) < 0) {
            struct stat st;
            if (errno != EEXIST)
                return bt_err_errno(err, -errno, "cannot create the directory");
            if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return bt_err_errno(err, -errno, "cannot stat the directory");
            /* An existing directory is kept (its metadata updated); anything else goes. */
            if (!S_ISDIR(st.st_mode)) {
                if (clear_way(u, pfd, base, err) < 0)
                    return -1;
                if (mkdirat(pfd, base, 0755) < 0)
                    return bt_err_errno(err, -errno, "cannot create the directory");
            }
        }
        if (archive_entry_xattr_count(u->e) > 0) {
            bt_autoclose int fd =
                openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                return bt_err_errno(err, -errno, "cannot open the directory");
            if (apply_xattrs(u, fd, -1, NULL, err) < 0)
                return -1;
        }
    } else if (apply_xattrs(u, pfd, -1, NULL, err) < 0) {
        return -1;
    }
    u->dirs = bt_xgrow(u->dirs, &u->dirs_cap, u->ndirs + 1, sizeof *u->dirs);
    struct dir_rec *d = &u->dirs[u->ndirs];
    *d = (struct dir_rec){
        .path = bt_xstrdup(u->name),
        .seq = u->ndirs,
        .uid = u->uid,
        .gid = u->gid,
        .mode = u->perm,
        .times = { u->times[0], u->times[1] },
    };
    for (const char *p = u->name; *p; p++)
        d->depth += *p == '/';
    u->ndirs++;
    return 0;
}

static int
make_symlink(struct unpacker *u, int pfd, const char *base, struct bt_err **err)
{
    const char *target = archive_entry_symlink(u->e);
    if (!target)
        target = archive_entry_symlink_utf8(u->e);
    if (!target || target[0] == '\0')
        return bt_err_set(err, BT_EINVALID, "symlink without a target");
    if (strlen(target) >= PATH_MAX)
        return bt_err_set(err, BT_ETOOBIG, "symlink target longer than %d bytes", PATH_MAX - 1);
    /* The target is data: it is stored as it is, and later entries are resolved through it
     * by the kernel, inside the root. */
    u->parent_stale = true;
    if (symlinkat(target, pfd, base) < 0) {
        if (errno != EEXIST)
            return bt_err_errno(err, -errno, "cannot create the symlink");
        if (clear_way(u, pfd, base, err) < 0)
            return -1;
        if (symlinkat(target, pfd, base) < 0)
            return bt_err_errno(err, -errno, "cannot create the symlink");
    }
    return apply_meta_at(u, pfd, base, true, err);
}

static int
make_hardlink(struct unpacker *u, const char *raw, const char *dir, int pfd, const char *base,
              struct bt_err **err)
{
    bt_autofree char *q = bt_log_escape(raw, strlen(raw), NAME_QUOTE_MAX);
    int r = eng_unpack_name_clean(raw, u->target, sizeof u->target);
    if (r == -EINVAL)
        return bt_err_set(err, BT_EINVALID, "hard link target '%s' has a '..' component", q);
    if (r < 0)
        return bt_err_set(err, BT_ETOOBIG, "hard link target '%s' is too long", q);
    if (u->target[0] == '\0')
        return bt_err_set(err, BT_EINVALID, "hard link to the layer root");
    const char *tdir;
    const char *tbase = split_base(u->target, &tdir);
    bt_autoclose int own = -1;
    int tfd = pfd;
    if (strcmp(tdir, dir) != 0) {
        char at[PATH_MAX];
        own = open_dir(u, tdir, 0, false, at, sizeof at);
        if (own < 0)
            return bt_err_set(err, -own, "hard link target '%s' does not exist in this layer", q);
        tfd = own;
    }
    if (linkat(tfd, tbase, pfd, base, 0) == 0)
        return 0;
    if (errno == EEXIST) {
        struct stat a, b;
        if (fstatat(tfd, tbase, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(pfd, base, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            return 0; /* already that file */
        if (clear_way(u, pfd, base, err) < 0)
            return -1;
        if (linkat(tfd, tbase, pfd, base, 0) == 0)
            return 0;
    }
    if (errno == ENOENT)
        return bt_err_set(err, ENOENT, "hard link target '%s' does not exist in this layer", q);
    return bt_err_errno(err, -errno, "cannot link to '%s'", q);
}

static int
make_node(struct unpacker *u, int pfd, const char *base, mode_t type, dev_t dev,
          struct bt_err **err)
{
    if (mknodat(pfd, base, type | u->perm, dev) < 0) {
        if (errno != EEXIST)
            return bt_err_errno(err, -errno, "cannot create the node");
        if (clear_way(u, pfd, base, err) < 0)
            return -1;
        if (mknodat(pfd, base, type | u->perm, dev) < 0)
            return bt_err_errno(err, -errno, "cannot create the node");
    }
    return apply_meta_at(u, pfd, base, false, err);
}

/* A whiteout: ".wh.NAME" -> a 0:0 character device NAME; ".wh..wh..opq" -> opaque dir. */
static int
make_whiteout(struct unpacker *u, enum unpack_wh kind, int pfd, const char *target,
              struct bt_err **err)
{
    if (kind == UNPACK_WH_OPAQUE) {
        if (fsetxattr(pfd, OPAQUE_XATTR, "y", 1, 0) < 0 &&
            !((errno == EPERM || errno == ENOTSUP) && !u->root))
            return bt_err_errno(err, -errno, "cannot mark the directory opaque");
        return 0;
    }
    if (mknodat(pfd, target, S_IFCHR, makedev(0, 0)) < 0) {
        if (errno != EEXIST)
            return bt_err_errno(err, -errno, "cannot create the whiteout");
        if (clear_way(u, pfd, target, err) < 0)
            return -1;
        if (mknodat(pfd, target, S_IFCHR, makedev(0, 0)) < 0)
            return bt_err_errno(err, -errno, "cannot create the whiteout");
    }
    return 0;
}

static int
read_meta(struct unpacker *u, struct bt_err **err)
{
    int64_t uid = archive_entry_uid(u->e), gid = archive_entry_gid(u->e);
    /* (uid_t) -1 means "unchanged" to chown: not an owner. */
    if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
        return bt_err_set(err, BT_EINVALID, "invalid owner %lld:%lld", (long long) uid,
                          (long long) gid);
    u->uid = (uid_t) uid;
    u->gid = (gid_t) gid;
    u->perm = archive_entry_perm(u->e) & 07777;
    u->times[0] = u->times[1] = (struct timespec){ .tv_nsec = UTIME_OMIT };
    if (archive_entry_mtime_is_set(u->e)) {
        u->times[1] =
            (struct timespec){ archive_entry_mtime(u->e), archive_entry_mtime_nsec(u->e) };
        /* The access time is never older than the modification time (as Docker does). */
        u->times[0] = u->times[1];
        if (archive_entry_atime_is_set(u->e) && archive_entry_atime(u->e) > u->times[1].tv_sec)
            u->times[0] =
                (struct timespec){ archive_entry_atime(u->e), archive_entry_atime_nsec(u->e) };
    }
    return 0;
}

static int
do_entry(struct unpacker *u, const char *raw, struct bt_err **err)
{
    int r = eng_unpack_name_clean(raw, u->name, sizeof u->name);
    if (r == -EINVAL)
        return bt_err_set(err, BT_EINVALID, "'..' components are not allowed");
    if (r < 0)
        return bt_err_set(err, BT_ETOOBIG, "name too long");
    if (read_meta(u, err) < 0)
        return -1;
    const char *hardlink = archive_entry_hardlink(u->e);
    if (!hardlink)
        hardlink = archive_entry_hardlink_utf8(u->e);
    mode_t type = archive_entry_filetype(u->e);
    char path[PATH_MAX];
    memcpy(path, u->name, strlen(u->name) + 1);
    const char *dir;
    const char *base = split_base(path, &dir);
    if (base[0] == '\0' && (hardlink || type != AE_IFDIR))
        return bt_err_set(err, BT_EINVALID, "the layer root can only be a directory");

    /* aufs metadata (".wh..wh.plnk/...") is skipped whole, as Docker does. */
    if (bt_startswith(u->name, WH_META_PREFIX))
        return 0;
    const char *wh_target = NULL;
    enum unpack_wh wh = eng_unpack_whiteout_kind(base, &wh_target);
    if (wh == UNPACK_WH_META)
        return 0;
    if (wh == UNPACK_WH_BAD)
        return bt_err_set(err, BT_EINVALID, "invalid whiteout name");
    if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK) && !u->opts->allow_devices &&
        wh == UNPACK_WH_NONE)
        return 0; /* device nodes need root: skipped, as Docker does without it */

    int pfd = open_parent(u, dir, err);
    if (pfd < 0)
        return -1;
    if (wh != UNPACK_WH_NONE)
        return make_whiteout(u, wh, pfd, wh_target, err);
    if (hardlink)
        return make_hardlink(u, hardlink, dir, pfd, base, err);
    switch (type) {
    case AE_IFREG:
        return make_file(u, pfd, base, err);
    case AE_IFDIR:
        return make_dir(u, pfd, base, err);
    case AE_IFLNK:
        return make_symlink(u, pfd, base, err);
    case AE_IFCHR:
    case AE_IFBLK:
        return make_node(u, pfd, base, type == AE_IFCHR ? S_IFCHR : S_IFBLK,
                         makedev(archive_entry_rdevmajor(u->e), archive_entry_rdevminor(u->e)),
                         err);
    case AE_IFIFO:
        return make_node(u, pfd, base, S_IFIFO, 0, err);
    default:
        return bt_err_set(err, BT_EUNSUPPORTED, "unsupported entry type 0%o", (unsigned) type);
    }
}

static int
dir_rec_cmp(const void *a, const void *b)
{
    const struct dir_rec *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Owners, modes and times of the directories, deepest first. A directory that a later entry
 * replaced is skipped. */
static int
finish_dirs(struct unpacker *u, struct bt_err **err)
{
    if (u->ndirs > 1)
        qsort(u->dirs, u->ndirs, sizeof *u->dirs, dir_rec_cmp);
    for (size_t i = 0; i < u->ndirs; i++) {
        const struct dir_rec *d = &u->dirs[i];
        char at[PATH_MAX];
        bt_autoclose int fd = open_dir(u, d->path, O_NOFOLLOW, false, at, sizeof at);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
            continue;
        bt_autofree char *q = bt_log_escape(d->path, strlen(d->path), NAME_QUOTE_MAX);
        if (fd < 0)
            return bt_err_errno(err, fd, "directory '%s': cannot open it", q);
        if (u->opts->keep_owners && fchown(fd, d->uid, d->gid) < 0)
            return bt_err_errno(err, -errno, "directory '%s': cannot change the owner", q);
        if (fchmod(fd, d->mode) < 0)
            return bt_err_errno(err, -errno, "directory '%s': cannot change the mode", q);
        if (futimens(fd, d->times) < 0)
            return bt_err_errno(err, -errno, "directory '%s': cannot set the times", q);
    }
    return 0;
}

static la_ssize_t
read_cb(struct archive *a, void *userdata, const void **buf)
{
    struct unpacker *u = userdata;
    ssize_t n = unpack_src_read(&u->src);
    if (n < 0) {
        archive_set_error(a, (int) -n, "cannot read the layer: %s", strerror((int) -n));
        return -1;
    }
    *buf = u->src.buf;
    return n;
}

static int read_entries(struct unpacker *u, struct bt_err **err);

static int
run(struct unpacker *u, struct eng_unpack_result *ret, struct bt_err **err)
{
    u->a = archive_read_new();
    if (!u->a)
        return bt_err_set(err, ENOMEM, "cannot allocate the tar reader");
    /* Compression is ours (the diff_id is over the plain tar): libarchive sees a plain tar. */
    if (archive_read_support_format_tar(u->a) != ARCHIVE_OK ||
        archive_read_open(u->a, u, NULL, read_cb, NULL) != ARCHIVE_OK) {
        if (unpack_src_child_error(&u->src, err) < 0)
            return -1;
        /* An empty stream is an empty layer (Go's archive/tar, and so Docker, agree). */
        if (!(u->src.eof && u->src.size == 0))
            return bt_err_set(err, BT_EINVALID, "not a tar archive: %s",
                              archive_error_string(u->a));
    } else {
        if (read_entries(u, err) < 0)
            return -1;
    }
    if (finish_dirs(u, err) < 0)
        return -1;
    if (unpack_src_finish(&u->src, ret->diff_id, sizeof ret->diff_id, err) < 0)
        return -1;
    ret->tar_size = u->src.size;
    ret->entries = u->entries;
    return 0;
}

static int
read_entries(struct unpacker *u, struct bt_err **err)
{
    for (;;) {
        int r = archive_read_next_header(u->a, &u->e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            if (unpack_src_child_error(&u->src, err) < 0)
                return -1;
            return bt_err_set(err, BT_EINVALID, "after %llu entries: %s",
                              (unsigned long long) u->entries, archive_error_string(u->a));
        }
        u->entries++;
        const char *raw = archive_entry_pathname(u->e);
        if (!raw)
            raw = archive_entry_pathname_utf8(u->e);
        if (!raw)
            return bt_err_set(err, BT_EINVALID, "entry %llu has no name",
                              (unsigned long long) u->entries);
        if (do_entry(u, raw, err) < 0) {
            /* The tar error (truncated data) may be the child's decompression error. */
            struct bt_err *child = NULL;
            if (unpack_src_child_error(&u->src, &child) < 0 && err) {
                bt_err_free(*err);
                *err = BT_TAKE_PTR(child);
            }
            bt_err_free(child);
            bt_autofree char *q = bt_log_escape(raw, strlen(raw), NAME_QUOTE_MAX);
            return bt_err_wrap(err, "layer entry '%s'", q);
        }
    }
    return 0;
}

int
eng_layer_unpack(int fd, int dirfd, const struct eng_unpack_opts *opts,
                 struct eng_unpack_result *ret, struct bt_err **err)
{
    struct unpacker u = {
        .rootfd = dirfd,
        .opts = opts,
        .root = geteuid() == 0,
        .walk = opts->walk_only,
        .parentfd = -1,
    };
    struct eng_unpack_result res = { 0 };
    int r = unpack_src_open(&u.src, fd, err);
    if (r >= 0)
        r = run(&u, &res, err);
    if (u.a)
        archive_read_free(u.a);
    unpack_src_release(&u.src);
    BT_CLOSE(u.parentfd);
    for (size_t i = 0; i < u.ndirs; i++)
        free(u.dirs[i].path);
    free(u.dirs);
    if (r < 0)
        return r;
    *ret = res;
    bt_log_debug("unpacked %llu entries, %llu bytes, %s", (unsigned long long) res.entries,
                 (unsigned long long) res.tar_size, res.diff_id);
    return 0;
}
