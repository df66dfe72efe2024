/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's first process, from clone to execve (see spawn.h). The parent half is
 * eng_ctr_spawn(); the child half is child_main() and its steps, which only make system calls
 * on memory prepared before the clone. Mount targets inside the root are resolved with
 * openat2(RESOLVE_IN_ROOT) and mounts are attached to the opened directory through the new
 * mount API (open_tree / fsopen / move_mount), so a symlink in the image can never send a mount
 * to a host path.
 */
#define LOG_TAG "spawn"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fdpass.h"
#include "engine/base/log.h"
#include "engine/base/strv.h"
#include "engine/container/caps.h"
#include "engine/container/seccomp.h"
#include "engine/container/spawn.h"
#include "engine/container/volcopy.h"

/* Setup must not take longer than this; a child stuck in a mount is killed. */
#define SPAWN_TIMEOUT_MS 30000

/* ---- messages on the sync socket ---- */

enum sync_kind {
    SYNC_MOUNTED = 1, /* child → parent: root ready; resolve the user */
    SYNC_PID,         /* exec's intermediate → parent: the process's pid (in err) */
    SYNC_IDS,         /* parent → child: in the cgroups; the ids (struct eng_ids follows) */
    SYNC_PTY,         /* child → parent: the pty master (fd attached) */
    SYNC_ERROR,       /* child → parent: a step failed */
};

struct sync_msg {
    int kind;
    int err; /* positive errno */
    char what[240];
    struct eng_ids ids;
};

/* ---- the child: no allocation from here to child_main's end ---- */

struct child {
    const struct eng_launch *l;
    int sock;
    int rootfd; /* the container root, once mounted */
    int pty_slave;
    char pts_path[32];
};

/* Tell the parent what failed and end. vsnprintf with %s and %d does not allocate. */
static _Noreturn void BT_PRINTF(3, 4) child_fail(struct child *c, int err, const char *fmt, ...)
{
    struct sync_msg m = { .kind = SYNC_ERROR, .err = err };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.what, sizeof m.what, fmt, ap);
    va_end(ap);
    (void) !write(c->sock, &m, sizeof m);
    _exit(127);
}

static void
child_send(struct child *c, int kind, int fd)
{
    struct sync_msg m = { .kind = kind };
    if (bt_fd_send(c->sock, &m, sizeof m, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0) < 0)
        _exit(127);
}

static void
child_recv(struct child *c, int kind, struct sync_msg *ret)
{
    ssize_t n;
    do
        n = read(c->sock, ret, sizeof *ret);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof *ret || ret->kind != kind)
        _exit(127); /* the parent gave up */
}

static long
openat2_in(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
    struct open_how how = { .flags = (unsigned long long) (flags | O_CLOEXEC),
                            .mode = mode,
                            .resolve = resolve };
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    return fd;
}

/* Longest target path, and how many symlinks one may pass through, as the kernel allows. */
#define TARGET_MAX 4096
#define TARGET_LINKS 40

/* Reopen the directory walked (a path inside the root without symlinks; "" is the root). */
static int
reopen_walked(int rootfd, const char *walked)
{
    long fd = openat2_in(rootfd, walked[0] ? walked : "/", O_PATH | O_DIRECTORY, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    return fd >= 0 ? (int) fd : -errno;
}

/* Open path inside the root (symlinks resolved as if the root were /), creating what is
 * missing: directories on the way, and the last component as a directory or, with file, an
 * empty file. A symlink that points at something missing leads to creating that thing, inside
 * the root, as Docker does. Returns an O_PATH fd or -errno. */
static int
open_target(int rootfd, const char *path, bool file)
{
    long fd = openat2_in(rootfd, path, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 || errno != ENOENT)
        return fd >= 0 ? (int) fd : -errno;
    /* Something is missing. Walk as the kernel would, but expand symlinks here, so that a
     * dangling one says what to create: walked holds the components resolved so far (no
     * symlinks in it), todo what is left. Every open is O_NOFOLLOW from a directory inside
     * the root, so nothing can lead out of it. */
    char walked[TARGET_MAX] = "", todo[TARGET_MAX], link[TARGET_MAX], next[TARGET_MAX];
    size_t plen = strlen(path);
    if (plen >= sizeof todo)
        return -ENAMETOOLONG;
    memcpy(todo, path, plen + 1);
    int links = 0;
    int dir = reopen_walked(rootfd, walked);
    if (dir < 0)
        return dir;
    const char *p = todo;
    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        char name[256];
        size_t n = strcspn(p, "/");
        if (n >= sizeof name) {
            close(dir);
            return -ENAMETOOLONG;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        bool last = !p[strspn(p, "/")];
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            char *slash = strrchr(walked, '/');
            if (slash)
                *slash = '\0'; /* at the root, ".." stays there */
            close(dir);
            if ((dir = reopen_walked(rootfd, walked)) < 0)
                return dir;
            continue;
        }
        struct stat st;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            int r = -errno;
            if (r == -ENOENT) {
                if (last && file) {
                    r = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                               0644);
                    if (r >= 0)
                        close(r);
                } else {
                    r = mkdirat(dir, name, 0755);
                }
                r = r < 0 && errno != EEXIST ? -errno : 0;
            }
            if (r < 0) {
                close(dir);
                return r;
            }
        } else if (S_ISLNK(st.st_mode)) {
            /* Follow it by hand: the rest of the path goes after its target, which is read
             * from the root when absolute, from the directory walked (dir) otherwise. */
            ssize_t ln = readlinkat(dir, name, link, sizeof link - 1);
            if (++links > TARGET_LINKS || ln <= 0) {
                close(dir);
                return ln < 0 ? -errno : -ELOOP;
            }
            link[ln] = '\0';
            bool absolute = link[0] == '/';
            int w = snprintf(next, sizeof next, "%s/%s", link, p);
            if (w < 0 || (size_t) w >= sizeof next) {
                close(dir);
                return -ENAMETOOLONG;
            }
            memcpy(todo, next, (size_t) w + 1);
            p = todo;
            if (absolute) {
                walked[0] = '\0';
                close(dir);
                if ((dir = reopen_walked(rootfd, walked)) < 0)
                    return dir;
            }
            continue;
        }
        int sub = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        size_t wl = strlen(walked);
        if (sub < 0 || wl + 1 + n >= sizeof walked) {
            int e = sub < 0 ? -errno : -ENAMETOOLONG;
            if (sub >= 0)
                close(sub);
            close(dir);
            return e;
        }
        walked[wl] = '/';
        memcpy(walked + wl + 1, name, n + 1);
        close(dir);
        dir = sub;
    }
    return dir;
}

static int
attach_mount(int mntfd, int targetfd)
{
    return (int) syscall(SYS_move_mount, mntfd, "", targetfd, "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int
set_mount_attr(int mntfd, uint64_t set, uint64_t propagation, bool recursive)
{
    struct mount_attr a = { .attr_set = set, .propagation = propagation };
    return (int) syscall(SYS_mount_setattr, mntfd, "",
                         AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

/* Attach the detached mount mnt at target in the root (made when missing); closes mnt. */
static void
place_mount(struct child *c, int mnt, const char *target, bool file)
{
    int t = open_target(c->rootfd, target, file);
    if (t < 0)
        child_fail(c, -t, "cannot open the mount point '%s' in the container", target);
    if (attach_mount(mnt, t) < 0)
        child_fail(c, errno, "cannot mount '%s' in the container", target);
    close(t);
    close(mnt);
}

/* A new filesystem (tmpfs, proc, sysfs, devpts, mqueue) attached at target in the root. */
static void
mount_fs(struct child *c, const char *fstype, const char *target, const char *const *opts,
         uint64_t attrs)
{
    int fs = (int) syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
    if (fs < 0)
        child_fail(c, errno, "cannot create a %s filesystem", fstype);
    for (size_t i = 0; opts && opts[i]; i += 2) {
        int r = opts[i + 1]
                    ? (int) syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0)
                    : (int) syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
        if (r < 0)
            child_fail(c, errno, "cannot set a mount option of '%s'", target);
    }
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        child_fail(c, errno, "cannot create the filesystem for '%s'", target);
    int mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, (unsigned) attrs);
    if (mnt < 0)
        child_fail(c, errno, "cannot mount '%s'", target);
    place_mount(c, mnt, target, false);
    close(fs);
}

/* Bind a host path (or an fd) at target in the root. */
static void
mount_bind(struct child *c, int srcdir, const char *source, const char *target, bool file,
           bool read_only, unsigned long propagation, uint64_t attrs)
{
    int src = (int) syscall(SYS_open_tree, srcdir, source,
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                (source[0] ? 0 : AT_EMPTY_PATH));
    if (src < 0)
        child_fail(c, errno, "cannot bind '%s'", source[0] ? source : target);
    uint64_t set = attrs | (read_only ? MOUNT_ATTR_RDONLY : 0);
    uint64_t prop = propagation & (MS_PRIVATE | MS_SLAVE | MS_SHARED);
    if ((set || prop) && set_mount_attr(src, set, prop ? prop : 0, true) < 0)
        child_fail(c, errno, "cannot set the options of the mount at '%s'", target);
    place_mount(c, src, target, file);
}

static void
mknod_in(struct child *c, int devfd, const char *name, mode_t mode, unsigned maj, unsigned min)
{
    if (mknodat(devfd, name, mode, makedev(maj, min)) < 0 && errno != EEXIST)
        child_fail(c, errno, "cannot create /dev/%s", name);
    /* mknod obeys the umask; the nodes must be 0666 like Docker's. */
    if (fchmodat(devfd, name, mode & 07777, 0) < 0)
        child_fail(c, errno, "cannot set the mode of /dev/%s", name);
}

static void
setup_dev(struct child *c)
{
    const struct eng_launch *l = c->l;
    static const char *const dev_opts[] = { "mode", "755", "size", "65536k", NULL };
    mount_fs(c, "tmpfs", "/dev", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
    int dev = (int) openat2_in(c->rootfd, "/dev", O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT);
    if (dev < 0)
        child_fail(c, errno, "cannot open %s", "/dev");
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {
        { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(nodes); i++)
        mknod_in(c, dev, nodes[i].name, S_IFCHR | 0666, nodes[i].maj, nodes[i].min);
    static const char *const links[][2] = {
        { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        { "pts/ptmx", "ptmx" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(links); i++)
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            child_fail(c, errno, "cannot create /dev/%s", links[i][1]);
    if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0 ||
        mkdirat(dev, "mqueue", 0755) < 0)
        child_fail(c, errno, "cannot create the directories of %s", "/dev");
    close(dev);

    static const char *const pts_opts[] = { "newinstance", NULL,  "ptmxmode", "0666", "mode",
                                            "620",         "gid", "5",        NULL };
    mount_fs(c, "devpts", "/dev/pts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    char shm_size[32];
    snprintf(shm_size, sizeof shm_size, "%llu",
             (unsigned long long) (l->shm_size ? l->shm_size : 64ULL << 20));
    const char *const shm_opts[] = { "mode", "1777", "size", shm_size, NULL };
    mount_fs(c, "tmpfs", "/dev/shm", shm_opts,
             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if ((l->clone_flags & CLONE_NEWIPC) || l->join_ipc_fd >= 0)
        mount_fs(c, "mqueue", "/dev/mqueue", NULL,
                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

/* A host device the spec names, as a node of the same kind, numbers, mode and owner. The
 * device cgroup allows it (the parent added a rule). */
static void
make_device(struct child *c, const struct eng_ldevice *d)
{
    /* d->path is absolute (checked when the launch was made): it has a '/'. */
    size_t dlen = strlen(d->path);
    while (dlen > 0 && d->path[dlen - 1] != '/')
        dlen--;
    char dir[256];
    if (dlen == 0 || dlen >= sizeof dir)
        child_fail(c, ENAMETOOLONG, "cannot create the device '%s'", d->path);
    memcpy(dir, d->path, dlen - 1);
    dir[dlen - 1] = '\0';
    const char *slash = d->path + dlen - 1;
    int parent = open_target(c->rootfd, dir[0] ? dir : "/", false);
    if (parent < 0)
        child_fail(c, -parent, "cannot create the directory of the device '%s'", d->path);
    /* parent is an O_PATH fd: go through a real directory fd to create in it. */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", parent);
    int pdir = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pdir < 0 || (mknodat(pdir, slash + 1, d->mode, d->rdev) < 0 && errno != EEXIST) ||
        fchmodat(pdir, slash + 1, d->mode & 07777, 0) < 0 ||
        fchownat(pdir, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
        child_fail(c, errno, "cannot create the device '%s'", d->path);
    close(pdir);
    close(parent);
}

/* With a tty: a pty from the container's own devpts; the master goes to the parent. */
/* A pty from the container's own devpts (the root's /dev/pts/ptmx): the child keeps the
 * peer, the master goes to the parent. */
static void
open_pty(struct child *c)
{
    int ptmx = (int) openat2_in(c->rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0,
                                RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    if (ptmx < 0)
        child_fail(c, errno, "cannot open %s", "/dev/pts/ptmx");
    int unlock = 0, n = -1;
    if (ioctl(ptmx, TIOCSPTLCK, &unlock) < 0 || ioctl(ptmx, TIOCGPTN, &n) < 0)
        child_fail(c, errno, "cannot set up %s", "the container's terminal");
    c->pty_slave = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->pty_slave < 0)
        child_fail(c, errno, "cannot open %s", "the terminal's peer");
    snprintf(c->pts_path, sizeof c->pts_path, "/dev/pts/%d", n);
    child_send(c, SYNC_PTY, ptmx);
    close(ptmx);
}

static void
setup_tty(struct child *c)
{
    open_pty(c);
    /* /dev/console is the terminal, as Docker makes it. */
    mount_bind(c, c->pty_slave, "", "/dev/console", true, false, 0, 0);
}

/* Docker's masked and read-only paths (not when privileged). */
static const char *const masked_paths[] = {
    "/proc/asound",      "/proc/acpi",          "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void
mask_paths(struct child *c)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(masked_paths); i++) {
        const char *p = masked_paths[i];
        long t = openat2_in(c->rootfd, p, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
        if (t < 0)
            continue; /* absent on this kernel */
        struct stat st;
        if (fstat((int) t, &st) < 0)
            child_fail(c, errno, "cannot stat '%s'", p);
        close((int) t);
        if (S_ISDIR(st.st_mode)) {
            mount_fs(c, "tmpfs", p, NULL, MOUNT_ATTR_RDONLY);
        } else {
            int null = (int) openat2_in(c->rootfd, "/dev/null", O_PATH, 0,
                                        RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
            if (null < 0)
                child_fail(c, errno, "cannot open %s", "/dev/null");
            mount_bind(c, null, "", p, true, false, 0, 0);
            close(null);
        }
    }
    for (size_t i = 0; i < BT_ARRAY_SIZE(readonly_paths); i++) {
        const char *p = readonly_paths[i];
        long t = openat2_in(c->rootfd, p, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
        if (t < 0)
            continue;
        mount_bind(c, (int) t, "", p, false, true, 0,
                   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        close((int) t);
    }
}

/* Copy-up: an empty volume gets what the root has at its target when that is a directory
 * (resolved in the root: a symlink there points inside the container). The copy follows
 * nothing and is bounded (volcopy.h). */
static void
fill_volume(struct child *c, const struct eng_lmount *m)
{
    int src = (int) openat2_in(c->rootfd, m->target, O_RDONLY | O_DIRECTORY, 0,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (src < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return; /* nothing there to copy */
        child_fail(c, errno, "cannot open '%s' in the container", m->target);
    }
    int dst = open(m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0)
        child_fail(c, errno, "cannot open the volume '%s'", m->source);
    struct eng_copy_err e;
    if (eng_vol_is_empty(dst) && eng_vol_copy_up(src, dst, &e) < 0)
        child_fail(c, e.err, "cannot copy '%s%s%s' into its volume", m->target,
                   e.path[0] ? "/" : "", e.path);
    close(dst);
    close(src);
}

static void
write_proc(struct child *c, const char *path, const char *value)
{
    int fd = (int) openat2_in(c->rootfd, path, O_WRONLY | O_TRUNC, 0,
                              RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    if (fd < 0)
        child_fail(c, errno, "cannot open '%s'", path);
    size_t n = strlen(value);
    if (write(fd, value, n) != (ssize_t) n)
        child_fail(c, errno, "cannot write '%s'", path);
    close(fd);
}

static void
setup_root(struct child *c)
{
    const struct eng_launch *l = c->l;
    /* Nothing mounted from here on reaches the host; host mounts still reach in. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        child_fail(c, errno, "cannot make the mounts %s", "private");
    /* The lower dirs are named relative to layers_dir to keep the options short. */
    if (chdir(l->layers_dir) < 0)
        child_fail(c, errno, "cannot enter '%s'", l->layers_dir);
    if (mount("overlay", l->rootfs, "overlay", MS_NODEV, l->overlay_opts) < 0)
        child_fail(c, errno, "cannot mount the root filesystem at '%s'", l->rootfs);
    c->rootfd = open(l->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->rootfd < 0)
        child_fail(c, errno, "cannot open '%s'", l->rootfs);

    static const char *const no_opts[] = { NULL };
    mount_fs(c, "proc", "/proc", no_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if ((l->clone_flags & CLONE_NEWNET) || l->join_net_fd >= 0) {
        mount_fs(c, "sysfs", "/sys", no_opts,
                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                     (l->privileged ? 0 : MOUNT_ATTR_RDONLY));
    } else {
        /* sysfs belongs to the host's network namespace: bind the host's, read-only. */
        mount_bind(c, AT_FDCWD, "/sys", "/sys", false, !l->privileged, 0,
                   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    }
    setup_dev(c);
    if (l->privileged) {
        /* Privileged containers see the host's devices, as in Docker. */
        mount_bind(c, AT_FDCWD, "/dev", "/dev", false, false, 0, 0);
        mount_fs(c, "devpts", "/dev/pts",
                 (const char *const[]){ "newinstance", NULL, "ptmxmode", "0666", NULL },
                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    }
    if (l->tty)
        setup_tty(c);
    for (size_t i = 0; i < l->ndevices; i++)
        make_device(c, &l->devices[i]);
    static const struct {
        size_t off;
        const char *target;
    } etc[] = {
        { offsetof(struct eng_launch, etc_hosts), "/etc/hosts" },
        { offsetof(struct eng_launch, etc_hostname), "/etc/hostname" },
        { offsetof(struct eng_launch, etc_resolv), "/etc/resolv.conf" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(etc); i++) {
        const char *src = *(const char *const *) ((const char *) l + etc[i].off);
        if (src)
            mount_bind(c, AT_FDCWD, src, etc[i].target, true, false, 0, 0);
    }
    for (size_t i = 0; i < l->nmounts; i++) {
        const struct eng_lmount *m = &l->mounts[i];
        if (m->kind == ENG_LMOUNT_TMPFS) {
            /* The data is "size=N,mode=M": split it into fsconfig pairs on the stack. */
            char data[128];
            const char *opts[9] = { NULL };
            size_t n = 0;
            snprintf(data, sizeof data, "%s", m->data ? m->data : "");
            for (char *s = data; *s && n + 2 < BT_ARRAY_SIZE(opts);) {
                char *end = s + strcspn(s, ",");
                bool more = *end == ',';
                *end = '\0';
                char *eq = strchr(s, '=');
                if (eq)
                    *eq = '\0';
                opts[n++] = s;
                opts[n++] = eq ? eq + 1 : NULL;
                s = more ? end + 1 : end;
            }
            opts[n] = NULL;
            mount_fs(c, "tmpfs", m->target, opts,
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->read_only ? MOUNT_ATTR_RDONLY : 0));
        } else {
            if (m->fill)
                fill_volume(c, m);
            mount_bind(c, AT_FDCWD, m->source, m->target, m->file, m->read_only, m->propagation, 0);
        }
    }
    for (size_t i = 0; i < l->nsysctls; i++)
        write_proc(c, l->sysctls[i].path, l->sysctls[i].value);
    if (!l->privileged)
        mask_paths(c);
    if (l->read_only) {
        int self = (int) syscall(SYS_open_tree, c->rootfd, "", AT_EMPTY_PATH | OPEN_TREE_CLOEXEC);
        if (self < 0 || set_mount_attr(self, MOUNT_ATTR_RDONLY, 0, false) < 0)
            child_fail(c, errno, "cannot make %s read-only", "the root filesystem");
        close(self);
    }
    /* pivot_root(".", "."): the old root stacks under the new one; detach it. */
    if (fchdir(c->rootfd) < 0)
        child_fail(c, errno, "cannot enter '%s'", l->rootfs);
    int self = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        child_fail(c, errno, "cannot pivot to '%s'", l->rootfs);
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        child_fail(c, errno, "cannot detach %s", "the host's root");
    close(self);
}

/* execve with a PATH search in the container's environment (execvpe would use the daemon's). */
static void
exec_command(struct child *c, char *const *argv, char *const *envp)
{
    const char *cmd = argv[0];
    if (strchr(cmd, '/')) {
        execve(cmd, argv, envp);
        child_fail(c, errno, "exec '%s'", cmd);
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path = envp[i] + 5;
    int first_err = ENOENT;
    for (const char *p = path;; p++) {
        size_t n = strcspn(p, ":");
        char full[4096];
        if (snprintf(full, sizeof full, "%.*s%s%s", (int) n, p, n ? "/" : "", cmd) <
            (int) sizeof full) {
            execve(full, argv, envp);
            if (errno != ENOENT && errno != ENOTDIR && first_err == ENOENT)
                first_err = errno;
        }
        p += n;
        if (!*p)
            break;
    }
    if (first_err == ENOENT)
        child_fail(c, ENOENT, "exec '%s': executable file not found in $PATH", cmd);
    child_fail(c, first_err, "exec '%s'", cmd);
}

static _Noreturn void child_become(struct child *c, const struct eng_ids *ids);

/* exec: join the container's namespaces, then start the process as a sibling (CLONE_PARENT:
 * the daemon's child, inside the container's pid namespace, which setns only gives to
 * children). This intermediate reports the pid and ends. */
static _Noreturn void
child_join(struct child *c)
{
    const struct eng_launch *l = c->l;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        child_fail(c, errno, "cannot make the %s undumpable", "exec process");
    if (syscall(SYS_setns, l->join_pidfd, l->join_ns) < 0)
        child_fail(c, errno, "cannot enter the container's %s", "namespaces");
    struct clone_args ca = { .flags = CLONE_PARENT, .exit_signal = 0 };
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0)
        child_fail(c, errno, "cannot start the process in the %s", "container");
    if (pid > 0) {
        struct sync_msg m = { .kind = SYNC_PID, .err = (int) pid };
        (void) !write(c->sock, &m, sizeof m);
        _exit(0);
    }
    struct sync_msg m;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        child_fail(c, errno, "cannot make the %s undumpable", "exec process");
    child_recv(c, SYNC_IDS, &m);
    /* setns(CLONE_NEWNS) put us at the container's root. */
    c->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->rootfd < 0)
        child_fail(c, errno, "cannot open %s", "the container's root");
    if (l->tty)
        open_pty(c);
    child_become(c, &m.ids);
}

static _Noreturn void
child_main(struct child *c)
{
    const struct eng_launch *l = c->l;
    struct sync_msg m;
    /* Until execve this is a copy of the daemon: nothing in the container may read it
     * (ptrace, /proc/PID/mem). execve makes the new program dumpable again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        child_fail(c, errno, "cannot make the %s undumpable", "setup process");

    if ((l->join_ipc_fd >= 0 && syscall(SYS_setns, l->join_ipc_fd, CLONE_NEWIPC) < 0) ||
        (l->join_net_fd >= 0 && syscall(SYS_setns, l->join_net_fd, CLONE_NEWNET) < 0))
        child_fail(c, errno, "cannot join %s", "another container's namespaces");
    if ((l->clone_flags & CLONE_NEWUTS) &&
        ((l->hostname && sethostname(l->hostname, strlen(l->hostname)) < 0) ||
         (l->domainname && setdomainname(l->domainname, strlen(l->domainname)) < 0)))
        child_fail(c, errno, "cannot set the %s", "hostname");
    if (l->clone_flags & CLONE_NEWNET) {
        /* Loopback up: ioctl on any socket of this namespace. */
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            child_fail(c, errno, "cannot find the %s interface", "loopback");
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            child_fail(c, errno, "cannot bring the %s interface up", "loopback");
        close(s);
    }
    setup_root(c);
    child_send(c, SYNC_MOUNTED, -1);
    child_recv(c, SYNC_IDS, &m);
    /* The parent has placed us in our cgroups (it did while we mounted): a cgroup namespace
     * now makes that cgroup the container's root. */
    if (unshare(CLONE_NEWCGROUP) < 0)
        child_fail(c, errno, "cannot create the %s namespace", "cgroup");
    child_become(c, &m.ids);
}

/* From the ids to execve: limits, streams, capabilities, user, seccomp. Shared by the first
 * process and by exec. */
static _Noreturn void
child_become(struct child *c, const struct eng_ids *ids)
{
    const struct eng_launch *l = c->l;
    for (size_t i = 0; i < l->nrlimits; i++)
        if (setrlimit(l->rlimits[i].resource, &l->rlimits[i].lim) < 0)
            child_fail(c, errno, "cannot set a resource limit");
    if (l->oom_score_adj_set) {
        char v[16];
        snprintf(v, sizeof v, "%d", l->oom_score_adj);
        write_proc(c, "/proc/self/oom_score_adj", v);
    }
    /* Standard streams. */
    if (l->tty) {
        if (setsid() < 0 || ioctl(c->pty_slave, TIOCSCTTY, 0) < 0)
            child_fail(c, errno, "cannot make %s the controlling terminal", c->pts_path);
        for (int fd = 0; fd < 3; fd++)
            if (dup2(c->pty_slave, fd) < 0)
                child_fail(c, errno, "cannot set up %s", "the standard streams");
        if (c->pty_slave > 2)
            close(c->pty_slave);
    } else {
        for (int fd = 0; fd < 3; fd++) {
            int src = l->stdio[fd];
            if (src < 0) {
                src = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (src < 0)
                    child_fail(c, errno, "cannot open %s", "/dev/null");
            }
            if (dup3(src, fd, 0) < 0 && src != fd)
                child_fail(c, errno, "cannot set up %s", "the standard streams");
        }
    }
    /* The bounding set first, while we are root with every capability; then the user (its
     * capabilities kept across setuid), then the container's sets. Dropping SETUID from the
     * bounding set leaves it effective, so a user switch works whatever cap_drop says. */
    for (int cap = 0; cap <= l->caps_last && cap < 64; cap++)
        if (!((l->caps >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            child_fail(c, errno, "cannot drop capability %d", cap);
    /* Seccomp comes last, except without no_new_privs: loading a filter then needs
     * CAP_SYS_ADMIN, which the user switch and the capability drop take away, so it is
     * loaded here, as runc does (Docker's profile allows every call that follows). */
    int r;
    if (l->seccomp && !l->no_new_privs && (r = eng_seccomp_load(l->seccomp)) < 0)
        child_fail(c, -r, "cannot load the %s filter", "seccomp");
    if (setgroups(ids->ngroups, ids->groups) < 0)
        child_fail(c, errno, "cannot set the supplementary %s", "groups");
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(ids->gid, ids->gid, ids->gid) < 0 ||
        setresuid(ids->uid, ids->uid, ids->uid) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        child_fail(c, errno, "cannot switch to user '%s'", l->user ? l->user : "root");
    if (chdir(l->cwd) < 0)
        child_fail(c, errno, "cannot enter the working directory '%s'", l->cwd);
    if ((r = eng_caps_apply(l->caps)) < 0)
        child_fail(c, -r, "cannot set the %s", "capabilities");
    if (l->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(c, errno, "cannot set %s", "no_new_privs");
    if (l->seccomp && l->no_new_privs && (r = eng_seccomp_load(l->seccomp)) < 0)
        child_fail(c, -r, "cannot load the %s filter", "seccomp");
    if (l->init_fd >= 0) {
        syscall(SYS_execveat, l->init_fd, "", l->init_argv, l->envp, AT_EMPTY_PATH);
        child_fail(c, errno, "exec the container's init");
    }
    exec_command(c, l->argv, l->envp);
    _exit(127);
}

/* ---- the parent ---- */

static int
recv_msg(int sock, int timeout_ms, struct sync_msg *ret, int *ret_fd)
{
    struct pollfd p = { .fd = sock, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return -ETIMEDOUT;
    if (r < 0)
        return -errno;
    int fds[BT_FDPASS_MAX];
    size_t nfds = BT_FDPASS_MAX;
    ssize_t n = bt_fd_recv(sock, ret, sizeof *ret, fds, &nfds);
    if (n < 0)
        return (int) n;
    for (size_t i = 0; i < nfds; i++) {
        if (i == 0 && ret_fd && *ret_fd < 0)
            *ret_fd = fds[i];
        else
            close(fds[i]);
    }
    if (n == 0)
        return 0; /* EOF: execve closed the child's end */
    if (n != (ssize_t) sizeof *ret)
        return -EPROTO;
    return 1;
}

static int
child_error(const struct sync_msg *m, struct bt_err **err)
{
    int e = m->err > 0 ? m->err : EIO;
    return bt_err_set(err, e, "%s: %s", m->what, strerror(e));
}

static void
kill_child(pid_t pid, int pidfd)
{
    (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
}

/* Read messages until one of kind until (returns 1 with it in *m) or, with until 0, until EOF
 * (execve happened: returns 0). A pty on the way is kept in *pty; a child's error is returned
 * as one. */
static int
wait_msg(int sock, int until, struct sync_msg *m, int *pty, struct bt_err **err)
{
    for (;;) {
        int r = recv_msg(sock, SPAWN_TIMEOUT_MS, m, pty);
        if (r == -ETIMEDOUT)
            return bt_err_set(err, ETIMEDOUT, "the container's setup took over %d s",
                              SPAWN_TIMEOUT_MS / 1000);
        if (r < 0)
            return bt_err_errno(err, r, "cannot talk to the container's process");
        if (r == 0) {
            if (until == 0)
                return 0;
            return bt_err_set(err, EIO, "the container's process died during setup");
        }
        if (m->kind == SYNC_ERROR)
            return child_error(m, err);
        if (m->kind == until)
            return 1;
    }
}

/* Resolve the user in the container's own /etc (seen through /proc/ROOT_PID/root) and send
 * the ids: the child goes on to execve. */
static int
send_ids(int sock, const char *user, char *const *group_add, pid_t root_pid,
         struct eng_ids *ret_ids, struct bt_err **err)
{
    char root[64];
    snprintf(root, sizeof root, "/proc/%d/root", (int) root_pid);
    bt_autoclose int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", root);
    struct sync_msg m = { .kind = SYNC_IDS };
    int r = eng_user_resolve(rootfd, user ? user : "0", group_add, &m.ids, err);
    if (r < 0)
        return r;
    *ret_ids = m.ids;
    if (write(sock, &m, sizeof m) != (ssize_t) sizeof m)
        return bt_err_errno(err, -errno, "cannot talk to the container's process");
    return 0;
}

/* The same, then wait for execve. */
static int
send_ids_and_wait(int sock, const struct eng_launch *l, pid_t root_pid, int *pty,
                  struct eng_ids *ret_ids, struct bt_err **err)
{
    int r = send_ids(sock, l->user, l->group_add, root_pid, ret_ids, err);
    struct sync_msg m;
    if (r == 0)
        r = wait_msg(sock, 0, &m, pty, err);
    return r < 0 ? r : 0;
}

/* Clone a child running fn (which never returns), in the launch's v2 cgroup when it has one,
 * with a socketpair between us: our end goes to *ret_sock. Returns the pid, or -1 with *err. */
static long
clone_child(const struct eng_launch *l, uint64_t flags, int *pidfd, void (*fn)(struct child *),
            int *ret_sock, struct bt_err **err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return bt_err_errno(err, -errno, "cannot create a socket pair");
    struct child c = { .l = l, .sock = sv[1], .rootfd = -1, .pty_slave = -1 };
    struct clone_args ca = {
        .flags = flags | (pidfd ? CLONE_PIDFD : 0) | (l->cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
        .pidfd = (uint64_t) (uintptr_t) pidfd,
        .exit_signal = SIGCHLD,
        .cgroup = (uint64_t) (l->cgroup_fd >= 0 ? l->cgroup_fd : 0),
    };
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) {
        close(sv[0]);
        fn(&c);
        _exit(127);
    }
    int e = errno;
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return bt_err_errno(err, -e, "cannot create the container's process");
    }
    *ret_sock = sv[0];
    return pid;
}

/* A container's first process on its way to execve (spawn.h). */
struct eng_spawn {
    int sock;
    pid_t pid;
    int pidfd;
    int pty;
    bool mounted, done;
    char *user;
    char **group_add;
    struct eng_ids ids;
};

int
eng_ctr_spawn_begin(const struct eng_launch *l, struct eng_spawn **ret, struct bt_err **err)
{
    int pidfd = -1, sock = -1;
    /* Another container's pid namespace: ours for our children while we clone. */
    bt_autoclose int own_pidns = -1;
    if (l->join_pid_fd >= 0) {
        own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0 || syscall(SYS_setns, l->join_pid_fd, CLONE_NEWPID) < 0)
            return bt_err_errno(err, -errno, "cannot join another container's pid namespace");
    }
    long pid =
        clone_child(l, (uint64_t) (l->clone_flags | CLONE_NEWNS), &pidfd, child_main, &sock, err);
    if (own_pidns >= 0 && syscall(SYS_setns, own_pidns, CLONE_NEWPID) < 0)
        BT_ASSERT(!"cannot return to the daemon's own pid namespace");
    if (pid < 0)
        return -1;
    struct eng_spawn *sp = bt_xcalloc(1, sizeof *sp);
    *sp = (struct eng_spawn){ .sock = sock, .pid = (pid_t) pid, .pidfd = pidfd, .pty = -1 };
    sp->user = l->user ? bt_xstrdup(l->user) : NULL;
    sp->group_add = bt_strv_copy(l->group_add);
    /* The v1 cgroups, while the child builds its root (writing cgroup.procs waits on the
     * kernel for a millisecond or so): it runs nothing of the image before it has its ids,
     * which come after. */
    int r;
    if (l->attach && (r = l->attach(l->attach_ud, (pid_t) pid, err)) < 0) {
        eng_spawn_free(sp);
        return r;
    }
    (void) fcntl(sock, F_SETFL, O_NONBLOCK);
    *ret = sp;
    return 0;
}

int
eng_spawn_fd(const struct eng_spawn *sp)
{
    return sp->sock;
}

pid_t
eng_spawn_pid(const struct eng_spawn *sp)
{
    return sp->pid;
}

int
eng_ctr_spawn_step(struct eng_spawn *sp, struct eng_spawned *ret, struct bt_err **err)
{
    for (;;) {
        struct sync_msg m;
        int r = recv_msg(sp->sock, 0, &m, &sp->pty);
        if (r == -ETIMEDOUT || r == -EAGAIN)
            return 1; /* nothing more yet */
        if (r < 0)
            return bt_err_errno(err, r, "cannot talk to the container's process");
        if (r == 0) {
            /* EOF: execve closed the child's end, or the child died before it. */
            if (!sp->mounted)
                return bt_err_set(err, EIO, "the container's process died during setup");
            sp->done = true;
            *ret = (struct eng_spawned){
                .pid = sp->pid, .pidfd = sp->pidfd, .pty_master = sp->pty, .ids = sp->ids
            };
            sp->pidfd = sp->pty = -1; /* the caller's now */
            return 0;
        }
        if (m.kind == SYNC_ERROR)
            return child_error(&m, err);
        if (m.kind == SYNC_MOUNTED && !sp->mounted) {
            sp->mounted = true;
            if ((r = send_ids(sp->sock, sp->user, sp->group_add, sp->pid, &sp->ids, err)) < 0)
                return r;
        }
    }
}

struct eng_spawn *
eng_spawn_free(struct eng_spawn *sp)
{
    if (!sp)
        return NULL;
    /* Not started: it must not go on. Its exit is the caller's to reap. */
    if (!sp->done && sp->pidfd >= 0)
        (void) syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL, 0);
    if (sp->pidfd >= 0)
        close(sp->pidfd);
    if (sp->pty >= 0)
        close(sp->pty);
    if (sp->sock >= 0)
        close(sp->sock);
    free(sp->user);
    bt_strv_free(sp->group_add);
    free(sp);
    return NULL;
}

int
eng_ctr_exec_spawn(const struct eng_launch *l, pid_t root_pid, struct eng_spawned *ret,
                   struct bt_err **err)
{
    /* The intermediate goes straight into the container's v2 cgroup; the process inherits
     * it. */
    bt_autoclose int sock = -1;
    long mid = clone_child(l, 0, NULL, child_join, &sock, err);
    if (mid < 0)
        return -1;
    struct sync_msg m;
    int pty = -1, pidfd = -1;
    pid_t pid = 0;
    int r = wait_msg(sock, SYNC_PID, &m, NULL, err);
    /* The intermediate ends at once; reap it here so the loop never sees it. */
    while (waitpid((pid_t) mid, NULL, __WALL) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return r;
    pid = (pid_t) m.err;
    /* A child of ours (CLONE_PARENT): its pid cannot be reused before we reap it. */
    pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        r = bt_err_errno(err, -errno, "cannot open the exec process");
        goto fail;
    }
    struct eng_ids ids;
    if ((l->attach && (r = l->attach(l->attach_ud, pid, err)) < 0) ||
        (r = send_ids_and_wait(sock, l, root_pid, &pty, &ids, err)) < 0)
        goto fail;
    *ret = (struct eng_spawned){ .pid = pid, .pidfd = pidfd, .pty_master = pty, .ids = ids };
    return 0;
fail:
    if (pidfd >= 0) {
        kill_child(pid, pidfd);
        close(pidfd);
    } else if (pid > 0) {
        (void) kill(pid, SIGKILL);
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
    }
    if (pty >= 0)
        close(pty);
    return r;
}
