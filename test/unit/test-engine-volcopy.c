/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/container/volcopy.c: every file type keeps its type, mode, owner and
 * times; symlinks are copied as links and never followed (a link to a host file or directory
 * outside the source stays a link, nothing is read through it); the depth and entry limits; a
 * hostile tree (loops, dangling and climbing links, odd names) copies without escaping.
 * Owners and device nodes need root, as the unit tests run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/container/volcopy.h"
#include "tmpdir.h"

struct fx {
    struct tmpdir *t;
    int src, dst;
};

static int
setup(void **state)
{
    void *tp = NULL;
    if (tmpdir_setup_named(&tp, "berth-volcopy") < 0)
        return -1;
    struct fx *f = bt_xcalloc(1, sizeof *f);
    f->t = tp;
    if (mkdirat(f->t->dfd, "src", 0755) < 0 || mkdirat(f->t->dfd, "dst", 0755) < 0)
        return -1;
    f->src = openat(f->t->dfd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    f->dst = openat(f->t->dfd, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->src >= 0 && f->dst >= 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    close(f->src);
    close(f->dst);
    void *tp = f->t;
    free(f);
    return tmpdir_teardown(&tp);
}

static void
put(int dir, const char *name, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    assert_int_equal(fchown(fd, uid, gid), 0);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void
set_time(int dir, const char *name, time_t sec)
{
    const struct timespec ts[2] = { { sec, 0 }, { sec, 123456789 } };
    assert_int_equal(utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static struct stat
lst(int dir, const char *name)
{
    struct stat st;
    assert_int_equal(fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW), 0);
    return st;
}

static void
same(int a, int b, const char *name)
{
    struct stat x = lst(a, name), y = lst(b, name);
    assert_int_equal(x.st_mode, y.st_mode);
    assert_int_equal(x.st_uid, y.st_uid);
    assert_int_equal(x.st_gid, y.st_gid);
    assert_int_equal(x.st_rdev, y.st_rdev);
    assert_int_equal(x.st_size, y.st_size);
    assert_int_equal(x.st_mtim.tv_sec, y.st_mtim.tv_sec);
    assert_int_equal(x.st_mtim.tv_nsec, y.st_mtim.tv_nsec);
}

static void
read_is(int dir, const char *name, const char *want)
{
    char buf[256] = "";
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void
link_is(int dir, const char *name, const char *want)
{
    char buf[4096];
    ssize_t n = readlinkat(dir, name, buf, sizeof buf - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void
test_types(void **state)
{
    struct fx *f = *state;
    put(f->src, "file", "hello\n", 04751, 1234, 5678);
    put(f->src, "empty", "", 0600, 0, 0);
    /* A bigger file: more than one read/write round. */
    int big = openat(f->src, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    static char chunk[100000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char) ('a' + i % 26);
    for (int i = 0; i < 10; i++)
        assert_int_equal(write(big, chunk, sizeof chunk), (ssize_t) sizeof chunk);
    close(big);
    assert_int_equal(mkdirat(f->src, "dir", 0700), 0);
    int dir = openat(f->src, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    put(dir, "inner", "in\n", 0640, 42, 43);
    assert_int_equal(mkdirat(dir, "sub", 0700), 0);
    set_time(dir, "sub", 1000000);
    close(dir);
    assert_int_equal(fchownat(f->src, "dir", 7, 8, 0), 0);
    assert_int_equal(fchmodat(f->src, "dir", 01750, 0), 0);
    assert_int_equal(symlinkat("file", f->src, "rel"), 0);
    assert_int_equal(fchownat(f->src, "rel", 11, 12, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(mknodat(f->src, "fifo", S_IFIFO | 0620, 0), 0);
    assert_int_equal(mknodat(f->src, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
    assert_int_equal(mknodat(f->src, "blk", S_IFBLK | 0600, makedev(7, 200)), 0);
    assert_int_equal(fchmodat(f->src, "null", 0666, 0), 0);
    const char *names[] = { "file", "empty", "big", "dir", "rel", "fifo", "null", "blk" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        set_time(f->src, names[i], 1500000000 + (time_t) i);
    assert_int_equal(fchmod(f->src, 0711), 0);

    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(f->src, f->dst, &e), 0);
    assert_int_equal(e.err, 0);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        same(f->src, f->dst, names[i]);
    read_is(f->dst, "file", "hello\n");
    read_is(f->dst, "empty", "");
    assert_true(S_ISLNK(lst(f->dst, "rel").st_mode));
    link_is(f->dst, "rel", "file");
    assert_true(S_ISFIFO(lst(f->dst, "fifo").st_mode));
    assert_true(S_ISCHR(lst(f->dst, "null").st_mode));
    assert_true(S_ISBLK(lst(f->dst, "blk").st_mode));
    /* The big file's bytes. */
    int in = openat(f->dst, "big", O_RDONLY | O_CLOEXEC);
    static char back[100000];
    for (int i = 0; i < 10; i++) {
        assert_int_equal(read(in, back, sizeof back), (ssize_t) sizeof back);
        assert_memory_equal(back, chunk, sizeof chunk);
    }
    close(in);
    int sd = openat(f->src, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dd = openat(f->dst, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    same(sd, dd, "inner");
    same(sd, dd, "sub");
    read_is(dd, "inner", "in\n");
    close(sd);
    close(dd);
    /* The top takes the source's mode and owner. */
    struct stat a, b;
    assert_int_equal(fstat(f->src, &a), 0);
    assert_int_equal(fstat(f->dst, &b), 0);
    assert_int_equal(b.st_mode, a.st_mode);
    assert_int_equal(b.st_mtim.tv_sec, a.st_mtim.tv_sec);
}

static void
test_symlinks_not_followed(void **state)
{
    struct fx *f = *state;
    /* A host canary: a directory and a file outside the source. */
    assert_int_equal(mkdirat(f->t->dfd, "host", 0700), 0);
    int host = openat(f->t->dfd, "host", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    put(host, "secret", "do not copy\n", 0600, 0, 0);
    close(host);
    char abs_dir[256], abs_file[256];
    snprintf(abs_dir, sizeof abs_dir, "%s/host", f->t->path);
    snprintf(abs_file, sizeof abs_file, "%s/host/secret", f->t->path);
    assert_int_equal(symlinkat("/etc/passwd", f->src, "passwd"), 0);
    assert_int_equal(symlinkat(abs_dir, f->src, "hostdir"), 0);
    assert_int_equal(symlinkat(abs_file, f->src, "hostfile"), 0);
    assert_int_equal(symlinkat("../host", f->src, "climb"), 0);

    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(f->src, f->dst, &e), 0);
    const char *links[][2] = {
        { "passwd", "/etc/passwd" },
        { "hostdir", abs_dir },
        { "hostfile", abs_file },
        { "climb", "../host" },
    };
    for (size_t i = 0; i < 4; i++) {
        assert_true(S_ISLNK(lst(f->dst, links[i][0]).st_mode));
        link_is(f->dst, links[i][0], links[i][1]);
    }
    /* Nothing of the host landed in the copy. */
    struct stat st;
    assert_int_equal(fstatat(f->dst, "secret", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_false(eng_vol_is_empty(f->dst));
}

static void
make_deep(int top, unsigned depth)
{
    int dir = fcntl(top, F_DUPFD_CLOEXEC, 3);
    for (unsigned i = 0; i < depth; i++) {
        assert_int_equal(mkdirat(dir, "d", 0755), 0);
        int next = openat(dir, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(next >= 0);
        close(dir);
        dir = next;
    }
    put(dir, "leaf", "x", 0644, 0, 0);
    close(dir);
}

static void
test_depth_ok(void **state)
{
    struct fx *f = *state;
    make_deep(f->src, ENG_VOLCOPY_MAX_DEPTH - 2);
    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(f->src, f->dst, &e), 0);
}

static void
test_depth_limit(void **state)
{
    struct fx *f = *state;
    make_deep(f->src, ENG_VOLCOPY_MAX_DEPTH + 5);
    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(f->src, f->dst, &e), -ELOOP);
    assert_int_equal(e.err, ELOOP);
    assert_true(strncmp(e.path, "d/d/d/", 6) == 0);
}

static void
test_entry_limit(void **state)
{
    struct fx *f = *state;
    char name[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "f%d", i);
        put(f->src, name, "", 0644, 0, 0);
    }
    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up_limit(f->src, f->dst, 20, &e), -EFBIG);
    assert_int_equal(e.err, EFBIG);
    assert_int_equal(eng_vol_copy_up_limit(f->src, f->dst, 60, &e), -EEXIST);
}

static void
test_hostile(void **state)
{
    struct fx *f = *state;
    assert_int_equal(symlinkat("loop", f->src, "loop"), 0);
    assert_int_equal(symlinkat("..", f->src, "up"), 0);
    assert_int_equal(symlinkat("/", f->src, "root"), 0);
    assert_int_equal(symlinkat("nowhere/at/all", f->src, "dangling"), 0);
    put(f->src, "new\nline", "n", 0644, 0, 0);
    char longname[256];
    memset(longname, 'x', 255);
    longname[255] = '\0';
    put(f->src, longname, "long", 0644, 0, 0);
    /* A long link target. */
    char target[4000];
    memset(target, 'y', sizeof target - 1);
    target[sizeof target - 1] = '\0';
    assert_int_equal(symlinkat(target, f->src, "longlink"), 0);
    /* Many entries in one directory: more than one getdents buffer. */
    assert_int_equal(mkdirat(f->src, "many", 0755), 0);
    int many = openat(f->src, "many", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char name[300];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "%0200d", i);
        put(many, name, "", 0644, 0, 0);
    }
    close(many);

    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(f->src, f->dst, &e), 0);
    link_is(f->dst, "loop", "loop");
    link_is(f->dst, "up", "..");
    link_is(f->dst, "root", "/");
    link_is(f->dst, "dangling", "nowhere/at/all");
    link_is(f->dst, "longlink", target);
    read_is(f->dst, "new\nline", "n");
    read_is(f->dst, longname, "long");
    int dm = openat(f->dst, "many", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(name, sizeof name, "%0200d", 299);
    assert_true(S_ISREG(lst(dm, name).st_mode));
    close(dm);
    /* The copy did not write next to dst. */
    struct stat st;
    assert_int_equal(fstatat(f->t->dfd, "loop", &st, AT_SYMLINK_NOFOLLOW), -1);
}

static void
test_not_a_dir_and_empty(void **state)
{
    struct fx *f = *state;
    assert_true(eng_vol_is_empty(f->dst));
    put(f->src, "plain", "", 0644, 0, 0);
    int plain = openat(f->src, "plain", O_RDONLY | O_CLOEXEC);
    struct eng_copy_err e;
    assert_int_equal(eng_vol_copy_up(plain, f->dst, &e), -ENOTDIR);
    close(plain);
    assert_true(eng_vol_is_empty(f->dst));
    assert_false(eng_vol_is_empty(f->src));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_dir_and_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
