/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for bt_path_join() and the openat2 resolvers: bt_openat_beneath() must refuse every
 * way out of the tree, bt_openat_in_root() must keep ".." and absolute symlinks inside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/path.h"

/*
 * <top>/outside.txt       a file the resolvers must never reach
 * <top>/root/             rootfd
 *   file.txt              "inside"
 *   etc/passwd            "fake passwd"
 *   dir/sub.txt           "sub"
 *   dir/up -> ../file.txt
 *   dir/escape -> ../../outside.txt
 *   chain1 -> chain2, chain2 -> dir/up
 *   abs-out -> /etc/passwd
 *   abs-file -> /file.txt
 *   rel-escape -> ../../../../../../../../etc/passwd
 *   parent -> ..
 */
struct tree {
    char top[64];
    int topfd;
    int rootfd;
};

static int
put(int dfd, const char *name, const char *content)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, content, strlen(content));
    close(fd);
    return n == (ssize_t) strlen(content) ? 0 : -1;
}

static int teardown(void **state);

static const char *const tree_links[][2] = {
    { "../file.txt", "dir/up" },
    { "../../outside.txt", "dir/escape" },
    { "../../created-outside", "dir/escape-new" },
    { "chain2", "chain1" },
    { "dir/up", "chain2" },
    { "/etc/passwd", "abs-out" },
    { "/file.txt", "abs-file" },
    { "../../../../../../../../etc/passwd", "rel-escape" },
    { "..", "parent" },
};

static int
build_tree(struct tree *t)
{
    t->topfd = open(t->top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->topfd < 0 || mkdirat(t->topfd, "root", 0755) < 0)
        return -1;
    t->rootfd = openat(t->topfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->rootfd < 0 || put(t->topfd, "outside.txt", "outside") < 0 ||
        put(t->rootfd, "file.txt", "inside") < 0 || mkdirat(t->rootfd, "etc", 0755) < 0 ||
        mkdirat(t->rootfd, "dir", 0755) < 0 || put(t->rootfd, "etc/passwd", "fake passwd") < 0 ||
        put(t->rootfd, "dir/sub.txt", "sub") < 0)
        return -1;
    for (size_t i = 0; i < sizeof tree_links / sizeof tree_links[0]; i++)
        if (symlinkat(tree_links[i][0], t->rootfd, tree_links[i][1]) < 0)
            return -1;
    return 0;
}

static int
setup(void **state)
{
    struct tree *t = bt_xcalloc(1, sizeof *t);
    t->topfd = t->rootfd = -1;
    snprintf(t->top, sizeof t->top, "/tmp/test-base-path.XXXXXX");
    if (!mkdtemp(t->top)) {
        free(t);
        return -1;
    }
    *state = t;
    if (build_tree(t) < 0) {
        (void) teardown(state);
        return -1;
    }
    return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
teardown(void **state)
{
    struct tree *t = *state;
    if (t->rootfd >= 0)
        close(t->rootfd);
    if (t->topfd >= 0)
        close(t->topfd);
    int r = nftw(t->top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return r == 0 ? 0 : -1;
}

/* Read fd whole (small files) and compare; closes fd. */
static void
assert_fd_content(int fd, const char *want)
{
    assert_true(fd >= 0);
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
    assert_string_equal(buf, want);
}

static void
assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0);
    assert_true(fl & FD_CLOEXEC);
}

/* fd refers to the same inode as name below dfd (or dfd itself when name is NULL). */
static void
assert_same_file(int fd, int dfd, const char *name)
{
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    if (name)
        assert_int_equal(fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW), 0);
    else
        assert_int_equal(fstat(dfd, &b), 0);
    assert_int_equal(a.st_dev, b.st_dev);
    assert_int_equal(a.st_ino, b.st_ino);
}

static void
test_join(void **state)
{
    (void) state;
    static const char *const cases[][3] = {
        { "/a", "b", "/a/b" },
        { "/a/", "b", "/a/b" },
        { "/a", "/b", "/a/b" },
        { "/a//", "//b", "/a/b" },
        { "/", "b", "/b" },
        { "/", "/b", "/b" },
        { "//", "b", "/b" },
        { "///", "///b", "/b" },
        { "/", "", "/" },
        { "a", "b", "a/b" },
        { "a", "b/c/", "a/b/c/" },
        { "a", "", "a/" },
        { "/var/lib/berth", "volumes/db", "/var/lib/berth/volumes/db" },
        /* Only the seam is touched: no normalisation elsewhere. */
        { "/a//b", "c//d", "/a//b/c//d" },
        { "a/b", "../c", "a/b/../c" },
        { "./a", "./b", "./a/./b" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = bt_path_join(cases[i][0], cases[i][1]);
        assert_non_null(p);
        if (strcmp(p, cases[i][2]) != 0)
            print_error("join('%s', '%s')\n", cases[i][0], cases[i][1]);
        assert_string_equal(p, cases[i][2]);
        free(p);
    }
}

static void
test_beneath_normal(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    int fd = bt_openat_beneath(t->rootfd, "file.txt", O_RDONLY, 0, &err);
    assert_true(fd >= 0);
    assert_cloexec(fd);
    assert_fd_content(fd, "inside");
    assert_fd_content(bt_openat_beneath(t->rootfd, "dir/sub.txt", O_RDONLY, 0, &err), "sub");
    /* ".." that stays inside is fine. */
    assert_fd_content(bt_openat_beneath(t->rootfd, "dir/../file.txt", O_RDONLY, 0, &err), "inside");
    /* A leading slash means the top of the tree, not the host's root. */
    assert_fd_content(bt_openat_beneath(t->rootfd, "/file.txt", O_RDONLY, 0, &err), "inside");
    assert_null(err);
}

static void
test_beneath_root_itself(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    static const char *const paths[] = { "", "/", "//", "." };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int fd = bt_openat_beneath(t->rootfd, paths[i], O_RDONLY | O_DIRECTORY, 0, &err);
        assert_true(fd >= 0);
        assert_same_file(fd, t->rootfd, NULL);
        close(fd);
    }
    assert_null(err);
}

static void
test_beneath_dotdot_refused(void **state)
{
    struct tree *t = *state;
    static const char *const paths[] = {
        "..",
        "../x",
        "../outside.txt",
        "dir/../../outside.txt",
        "./../root/file.txt",
        "/../outside.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bt_autoerr struct bt_err *err = NULL;
        int r = bt_openat_beneath(t->rootfd, paths[i], O_RDONLY, 0, &err);
        if (r != -EXDEV)
            print_error("path '%s': returned %d\n", paths[i], r);
        assert_int_equal(r, -EXDEV);
        assert_int_equal(err->code, EXDEV);
        assert_non_null(strstr(err->msg, "resolves outside its root"));
        assert_non_null(strstr(err->msg, paths[i]));
    }
}

static void
test_beneath_symlink_escape_refused(void **state)
{
    struct tree *t = *state;
    static const char *const paths[] = {
        "abs-out",    /* absolute, pointing outside */
        "abs-file",   /* absolute, even if it would land inside */
        "rel-escape", /* relative, climbing out */
        "dir/escape", /* relative, to a file that exists outside */
        "parent/outside.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bt_autoerr struct bt_err *err = NULL;
        int r = bt_openat_beneath(t->rootfd, paths[i], O_RDONLY, 0, &err);
        if (r != -EXDEV)
            print_error("path '%s': returned %d\n", paths[i], r);
        assert_int_equal(r, -EXDEV);
        assert_int_equal(err->code, EXDEV);
    }
}

static void
test_beneath_symlink_chain_inside(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    /* chain1 -> chain2 -> dir/up -> ../file.txt, all inside. */
    int fd = bt_openat_beneath(t->rootfd, "chain1", O_RDONLY, 0, &err);
    assert_same_file(fd, t->rootfd, "file.txt");
    assert_fd_content(fd, "inside");
    assert_fd_content(bt_openat_beneath(t->rootfd, "dir/up", O_RDONLY, 0, &err), "inside");
    assert_null(err);
}

static void
test_beneath_create(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    mode_t old = umask(022);
    int fd = bt_openat_beneath(t->rootfd, "dir/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0640, &err);
    (void) umask(old);
    assert_true(fd >= 0);
    assert_cloexec(fd);
    assert_int_equal(write(fd, "new", 3), 3);
    close(fd);
    struct stat st;
    assert_int_equal(fstatat(t->rootfd, "dir/new.txt", &st, 0), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_fd_content(bt_openat_beneath(t->rootfd, "dir/new.txt", O_RDONLY, 0, &err), "new");

    /* Creating through a link that climbs out is refused and creates nothing outside. */
    assert_int_equal(bt_openat_beneath(t->rootfd, "dir/escape-new", O_WRONLY | O_CREAT, 0644, &err),
                     -EXDEV);
    assert_int_equal(faccessat(t->topfd, "created-outside", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(errno, ENOENT);
}

static void
test_beneath_errors(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(bt_openat_beneath(t->rootfd, "missing", O_RDONLY, 0, &err), -ENOENT);
    assert_int_equal(err->code, ENOENT);
    assert_string_equal(err->msg, "cannot open 'missing': No such file or directory");
    assert_int_equal(bt_openat_beneath(t->rootfd, "file.txt/x", O_RDONLY, 0, NULL), -ENOTDIR);
    assert_int_equal(bt_openat_beneath(t->rootfd, "file.txt", O_RDONLY | O_DIRECTORY, 0, NULL),
                     -ENOTDIR);
    assert_int_equal(bt_openat_beneath(-1, "file.txt", O_RDONLY, 0, NULL), -EBADF);
}

static void
test_beneath_magic_links_refused(void **state)
{
    (void) state;
    /* /proc/self/fd/N and /proc/self/exe are magic links: following them could jump anywhere. */
    int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0)
        skip();
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char name[32];
    snprintf(name, sizeof name, "fd/%d", p[0]);
    bt_autoerr struct bt_err *err = NULL;
    int r = bt_openat_beneath(procfd, name, O_RDONLY, 0, &err);
    int r2 = bt_openat_beneath(procfd, "exe", O_RDONLY, 0, NULL);
    int r3 = bt_openat_in_root(procfd, name, O_RDONLY, 0, NULL);
    close(p[0]);
    close(p[1]);
    close(procfd);
    assert_int_equal(r, -ELOOP);
    assert_int_equal(err->code, ELOOP);
    assert_int_equal(r2, -ELOOP);
    assert_int_equal(r3, -ELOOP);
}

/*
 * Regression (was a bug: engine/base/path.c, open_resolve): the test `flags & (O_CREAT |
 * O_TMPFILE)` is true for O_DIRECTORY alone, because O_TMPFILE is __O_TMPFILE | O_DIRECTORY. A
 * non-zero mode is then passed to openat2 without O_CREAT, which the kernel refuses with EINVAL.
 * Expected: the mode is ignored when nothing is created (as open(2) does) and the directory opens.
 */
static void
test_beneath_directory_with_mode(void **state)
{
    struct tree *t = *state;
    struct bt_err *err = NULL;
    int fd = bt_openat_beneath(t->rootfd, "dir", O_RDONLY | O_DIRECTORY, 0755, &err);
    if (fd < 0)
        print_error("bt_openat_beneath(O_DIRECTORY, 0755): %d %s\n", fd, err ? err->msg : "");
    err = bt_err_free(err);
    if (fd >= 0)
        close(fd);
    assert_true(fd >= 0);
}

static void
test_in_root_absolute_symlink(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    /* abs-out -> /etc/passwd means <root>/etc/passwd, never the host's. */
    int fd = bt_openat_in_root(t->rootfd, "abs-out", O_RDONLY, 0, &err);
    assert_true(fd >= 0);
    assert_cloexec(fd);
    assert_same_file(fd, t->rootfd, "etc/passwd");
    struct stat host, got;
    if (stat("/etc/passwd", &host) == 0) {
        assert_int_equal(fstat(fd, &got), 0);
        assert_false(got.st_dev == host.st_dev && got.st_ino == host.st_ino);
    }
    assert_fd_content(fd, "fake passwd");
    assert_fd_content(bt_openat_in_root(t->rootfd, "abs-file", O_RDONLY, 0, &err), "inside");
    assert_fd_content(bt_openat_in_root(t->rootfd, "/etc/passwd", O_RDONLY, 0, &err),
                      "fake passwd");
    assert_null(err);
}

static void
test_in_root_dotdot_stays(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    /* ".." at the root is the root, like in a chroot. */
    static const char *const roots[] = { "..", "../..", "/..", "dir/../..", "parent", "parent/.." };
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        int fd = bt_openat_in_root(t->rootfd, roots[i], O_RDONLY | O_DIRECTORY, 0, &err);
        if (fd < 0)
            print_error("path '%s': returned %d\n", roots[i], fd);
        assert_true(fd >= 0);
        assert_same_file(fd, t->rootfd, NULL);
        close(fd);
    }
    assert_fd_content(bt_openat_in_root(t->rootfd, "../../../etc/passwd", O_RDONLY, 0, &err),
                      "fake passwd");
    assert_fd_content(bt_openat_in_root(t->rootfd, "rel-escape", O_RDONLY, 0, &err), "fake passwd");
    assert_fd_content(bt_openat_in_root(t->rootfd, "parent/file.txt", O_RDONLY, 0, &err), "inside");
    assert_fd_content(bt_openat_in_root(t->rootfd, "chain1", O_RDONLY, 0, &err), "inside");
    assert_null(err);
    /* dir/escape -> ../../outside.txt is <root>/outside.txt, which does not exist. */
    assert_int_equal(bt_openat_in_root(t->rootfd, "dir/escape", O_RDONLY, 0, &err), -ENOENT);
    assert_int_equal(bt_openat_in_root(t->rootfd, "../outside.txt", O_RDONLY, 0, NULL), -ENOENT);
}

static void
test_in_root_create_stays_inside(void **state)
{
    struct tree *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    /* dir/escape-new -> ../../created-outside creates <root>/created-outside. (No O_EXCL:
     * with it the kernel never follows the final symlink.) */
    int fd = bt_openat_in_root(t->rootfd, "dir/escape-new", O_WRONLY | O_CREAT, 0600, &err);
    if (fd < 0)
        print_error("create through link: %s\n", err->msg);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(faccessat(t->rootfd, "created-outside", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(faccessat(t->topfd, "created-outside", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_null(err);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        T(test_beneath_normal),
        T(test_beneath_root_itself),
        T(test_beneath_dotdot_refused),
        T(test_beneath_symlink_escape_refused),
        T(test_beneath_symlink_chain_inside),
        T(test_beneath_create),
        T(test_beneath_errors),
        T(test_beneath_magic_links_refused),
        T(test_beneath_directory_with_mode),
        T(test_in_root_absolute_symlink),
        T(test_in_root_dotdot_stays),
        T(test_in_root_create_stays_inside),
    };
    return cmocka_run_group_tests_name("test-base-path", tests, NULL, NULL);
}
