/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state files: atomic writes (content, exact mode, no temp files left), stray temp
 * file cleanup, bounded reads and bt_mkdir_p(). Each test works in its own mkdtemp directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"

struct tmpdir {
    char path[64];
    int dfd;
    mode_t umask;
};

static int
setup(void **state)
{
    struct tmpdir *t = bt_xcalloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/test-base-fileio.XXXXXX");
    if (!mkdtemp(t->path)) {
        free(t);
        return -1;
    }
    t->dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t->dfd < 0) {
        (void) rmdir(t->path);
        free(t);
        return -1;
    }
    t->umask = umask(022);
    *state = t;
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
    struct tmpdir *t = *state;
    (void) umask(t->umask);
    close(t->dfd);
    int r = nftw(t->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return r == 0 ? 0 : -1;
}

/* Number of entries in the directory, "." and ".." not counted; names starting with '.' counted
 * in *hidden when not NULL. */
static int
count_entries(int dfd, int *hidden)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    DIR *d = fdopendir(fd);
    assert_non_null(d);
    int n = 0, h = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        n++;
        if (de->d_name[0] == '.')
            h++;
    }
    closedir(d);
    if (hidden)
        *hidden = h;
    return n;
}

static void
assert_file(int dfd, const char *name, const char *want, size_t want_len, mode_t want_mode)
{
    struct stat st;
    assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, want_mode);
    assert_int_equal(st.st_size, (off_t) want_len);
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char buf[8192];
    assert_true(want_len < sizeof buf);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    assert_int_equal(n, (ssize_t) want_len);
    assert_memory_equal(buf, want, want_len);
}

static void
make_file(int dfd, const char *name, size_t size)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    char chunk[1024];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char) ('a' + i % 26);
    for (size_t done = 0; done < size;) {
        size_t k = size - done < sizeof chunk ? size - done : sizeof chunk;
        assert_int_equal(bt_write_all(fd, chunk, k), 0);
        done += k;
    }
    close(fd);
}

static void
test_write_atomic_creates(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    const char data[] = "{\"services\":{}}\n";
    assert_int_equal(
        bt_file_write_atomic_at(t->dfd, "state.json", data, sizeof data - 1, 0600, &err), 0);
    assert_null(err);
    assert_file(t->dfd, "state.json", data, sizeof data - 1, 0600);
    assert_int_equal(count_entries(t->dfd, NULL), 1);
}

static void
test_write_atomic_mode_ignores_umask(void **state)
{
    struct tmpdir *t = *state;
    static const struct {
        mode_t umask, mode;
        const char *name;
    } cases[] = {
        { 077, 0644, "a" }, { 0, 0600, "b" }, { 0777, 0640, "c" },
        { 022, 0666, "d" }, { 0, 0400, "e" }, { 027, 0755, "f" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_autoerr struct bt_err *err = NULL;
        (void) umask(cases[i].umask);
        int r = bt_file_write_atomic_at(t->dfd, cases[i].name, "x", 1, cases[i].mode, &err);
        (void) umask(022);
        assert_int_equal(r, 0);
        assert_file(t->dfd, cases[i].name, "x", 1, cases[i].mode);
    }
    int hidden;
    assert_int_equal(count_entries(t->dfd, &hidden), 6);
    assert_int_equal(hidden, 0);
}

static void
test_write_atomic_overwrites(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    const char *big = "a much longer first version of the file";
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "s", big, strlen(big), 0644, &err), 0);
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "s", "short", 5, 0600, &err), 0);
    /* The new file replaces the old one: no tail of the longer content, the new mode. */
    assert_file(t->dfd, "s", "short", 5, 0600);
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "s", "", 0, 0640, &err), 0);
    assert_file(t->dfd, "s", "", 0, 0640);
    assert_null(err);
    assert_int_equal(count_entries(t->dfd, NULL), 1);
}

static void
test_write_atomic_binary(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    char data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char) (i * 7);
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "bin", data, sizeof data, 0600, &err), 0);
    assert_file(t->dfd, "bin", data, sizeof data, 0600);
}

static void
test_write_atomic_bad_names(void **state)
{
    struct tmpdir *t = *state;
    static const char *const bad[] = {
        "", ".", "..", ".hidden", ".state.json.tmp-1", "a/b", "/abs", "dir/", "../escape",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bt_autoerr struct bt_err *err = NULL;
        int r = bt_file_write_atomic_at(t->dfd, bad[i], "x", 1, 0600, &err);
        if (r != -EINVAL)
            print_error("name '%s': returned %d\n", bad[i], r);
        assert_int_equal(r, -EINVAL);
        assert_non_null(err);
        assert_int_equal(err->code, EINVAL);
        assert_non_null(strstr(err->msg, "invalid state file name"));
    }
    /* NULL err is allowed too. */
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "a/b", "x", 1, 0600, NULL), -EINVAL);
    assert_int_equal(count_entries(t->dfd, NULL), 0);
}

static void
test_write_atomic_failure_leaves_no_temp(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    /* A directory in the way makes the rename fail after the temp file was written. */
    assert_int_equal(mkdirat(t->dfd, "busy", 0755), 0);
    int r = bt_file_write_atomic_at(t->dfd, "busy", "x", 1, 0600, &err);
    assert_true(r < 0);
    assert_non_null(err);
    assert_int_equal(-r, err->code);
    assert_non_null(strstr(err->msg, "cannot rename"));
    int hidden;
    assert_int_equal(count_entries(t->dfd, &hidden), 1);
    assert_int_equal(hidden, 0);
    struct stat st;
    assert_int_equal(fstatat(t->dfd, "busy", &st, 0), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void
test_clean_tmp(void **state)
{
    struct tmpdir *t = *state;
    /* Stray temp files of interrupted writes: exactly ".NAME.tmp-" and 16 hex digits. */
    make_file(t->dfd, ".state.json.tmp-0123456789abcdef", 3);
    make_file(t->dfd, ".x.tmp-fedcba9876543210", 0);
    /* Everything else stays, near misses included. */
    make_file(t->dfd, "state.json", 3);
    make_file(t->dfd, ".x.tmp-1", 0);
    make_file(t->dfd, ".x.tmp-", 0);
    make_file(t->dfd, ".x.tmp-0123456789abcdeg", 0);
    make_file(t->dfd, ".tmp-0123456789abcdef", 0);
    make_file(t->dfd, "x.tmp-0123456789abcdef", 3);
    make_file(t->dfd, ".hidden", 3);
    make_file(t->dfd, ".x.tmpfile", 3);
    assert_int_equal(mkdirat(t->dfd, ".d.tmp-0123456789abcdef", 0755), 0);

    assert_int_equal(bt_dir_clean_tmp(t->dfd), 2);
    static const char *const kept[] = {
        "state.json",
        ".x.tmp-1",
        ".x.tmp-",
        ".x.tmp-0123456789abcdeg",
        ".tmp-0123456789abcdef",
        "x.tmp-0123456789abcdef",
        ".hidden",
        ".x.tmpfile",
        ".d.tmp-0123456789abcdef",
    };
    assert_int_equal(count_entries(t->dfd, NULL), (int) (sizeof kept / sizeof kept[0]));
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        assert_int_equal(faccessat(t->dfd, kept[i], F_OK, 0), 0);
    assert_int_equal(faccessat(t->dfd, ".x.tmp-fedcba9876543210", F_OK, 0), -1);

    /* Nothing left to clean; the caller's fd is still usable. */
    assert_int_equal(bt_dir_clean_tmp(t->dfd), 0);
    struct stat st;
    assert_int_equal(fstat(t->dfd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void
test_clean_tmp_after_writes(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    for (int i = 0; i < 10; i++)
        assert_int_equal(bt_file_write_atomic_at(t->dfd, "s", "abc", 3, 0600, &err), 0);
    /* Successful writes leave nothing for the cleaner. */
    assert_int_equal(bt_dir_clean_tmp(t->dfd), 0);
    assert_int_equal(count_entries(t->dfd, NULL), 1);
}

static void
test_clean_tmp_bad_fd(void **state)
{
    (void) state;
    assert_int_equal(bt_dir_clean_tmp(-1), -EBADF);
}

static void
test_read(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(bt_file_write_atomic_at(t->dfd, "f", "hello\nworld", 11, 0600, &err), 0);
    char *data = NULL;
    size_t len = 999;
    assert_int_equal(bt_file_read_at(t->dfd, "f", 100, &data, &len, &err), 0);
    assert_non_null(data);
    assert_int_equal(len, 11);
    assert_string_equal(data, "hello\nworld");
    free(data);
    /* ret_len may be NULL. */
    data = NULL;
    assert_int_equal(bt_file_read_at(t->dfd, "f", 100, &data, NULL, &err), 0);
    assert_string_equal(data, "hello\nworld");
    free(data);
    assert_null(err);
}

static void
test_read_empty(void **state)
{
    struct tmpdir *t = *state;
    make_file(t->dfd, "empty", 0);
    char *data = NULL;
    size_t len = 999;
    assert_int_equal(bt_file_read_at(t->dfd, "empty", 0, &data, &len, NULL), 0);
    assert_non_null(data);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
}

static void
test_read_ceiling(void **state)
{
    struct tmpdir *t = *state;
    /* Sizes around the reader's internal buffer steps. */
    static const size_t sizes[] = { 1, 10, 4094, 4095, 4096, 4097, 8191, 8192, 8193, 20000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i];
        make_file(t->dfd, "f", size);

        /* Exactly at the limit: fine, whole and NUL-terminated. */
        char *data = NULL;
        size_t len = 0;
        bt_autoerr struct bt_err *err = NULL;
        int r = bt_file_read_at(t->dfd, "f", size, &data, &len, &err);
        if (r != 0)
            print_error("size %zu at max %zu: returned %d\n", size, size, r);
        assert_int_equal(r, 0);
        assert_int_equal(len, size);
        assert_int_equal(strlen(data), size);
        assert_int_equal(data[0], 'a');
        assert_int_equal(data[size - 1], 'a' + (size - 1) % 1024 % 26);
        free(data);

        /* Well over the limit too. */
        assert_int_equal(bt_file_read_at(t->dfd, "f", size * 3, &data, &len, &err), 0);
        assert_int_equal(len, size);
        free(data);

        /* One byte over the limit: refused, outputs untouched. */
        char sentinel = 0;
        data = &sentinel;
        len = 12345;
        assert_int_equal(bt_file_read_at(t->dfd, "f", size - 1, &data, &len, &err), -BT_ETOOBIG);
        assert_ptr_equal(data, &sentinel);
        assert_int_equal(len, 12345);
        assert_non_null(err);
        assert_int_equal(err->code, BT_ETOOBIG);
        assert_non_null(strstr(err->msg, "'f' is larger than"));

        /* Far over the limit. */
        if (size > 2) {
            assert_int_equal(bt_file_read_at(t->dfd, "f", size / 2, &data, &len, NULL),
                             -BT_ETOOBIG);
            assert_ptr_equal(data, &sentinel);
        }
    }
}

static void
test_read_missing(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    char sentinel = 0;
    char *data = &sentinel;
    size_t len = 7;
    assert_int_equal(bt_file_read_at(t->dfd, "nope", 100, &data, &len, &err), -ENOENT);
    assert_ptr_equal(data, &sentinel);
    assert_int_equal(len, 7);
    assert_int_equal(err->code, ENOENT);
    assert_string_equal(err->msg, "cannot open 'nope': No such file or directory");
}

/*
 * Regression (was a bug: engine/base/fileio.c, bt_file_read_at): `cap > max + 1` overflows when max
 * is SIZE_MAX ("no practical limit"), so any file of 4095 bytes or more is refused with
 * -BT_ETOOBIG. Expected 0 and the whole file.
 */
static void
test_read_max_size_max(void **state)
{
    struct tmpdir *t = *state;
    make_file(t->dfd, "f", 5000);
    char *data = NULL;
    size_t len = 0;
    struct bt_err *err = NULL;
    int r = bt_file_read_at(t->dfd, "f", SIZE_MAX, &data, &len, &err);
    if (r < 0)
        print_error("bt_file_read_at(max=SIZE_MAX): %d %s\n", r, err ? err->msg : "");
    /* Release before asserting: a failed assertion longjmps past cleanup attributes. */
    err = bt_err_free(err);
    free(data);
    assert_int_equal(r, 0);
    assert_int_equal(len, 5000);
}

static void
test_mkdir_p(void **state)
{
    struct tmpdir *t = *state;
    bt_autoerr struct bt_err *err = NULL;
    bt_autofree char *deep = bt_xasprintf("%s/a/b/c/d", t->path);
    (void) umask(0);
    int r = bt_mkdir_p(deep, 0750, &err);
    (void) umask(022);
    assert_int_equal(r, 0);
    assert_null(err);
    static const char *const made[] = { "a", "a/b", "a/b/c", "a/b/c/d" };
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        struct stat st;
        assert_int_equal(fstatat(t->dfd, made[i], &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
    }
    /* Existing directories are fine, all of them or some. */
    assert_int_equal(bt_mkdir_p(deep, 0750, &err), 0);
    bt_autofree char *more = bt_xasprintf("%s/a/b/x/y", t->path);
    assert_int_equal(bt_mkdir_p(more, 0755, &err), 0);
    assert_int_equal(faccessat(t->dfd, "a/b/x/y", F_OK, 0), 0);
    /* The tmp dir itself and the root exist. */
    assert_int_equal(bt_mkdir_p(t->path, 0755, &err), 0);
    assert_int_equal(bt_mkdir_p("/", 0755, &err), 0);
    assert_null(err);
}

static void
test_mkdir_p_slashes(void **state)
{
    struct tmpdir *t = *state;
    bt_autofree char *trailing = bt_xasprintf("%s/t/u/", t->path);
    assert_int_equal(bt_mkdir_p(trailing, 0755, NULL), 0);
    bt_autofree char *doubled = bt_xasprintf("%s//v//w", t->path);
    assert_int_equal(bt_mkdir_p(doubled, 0755, NULL), 0);
    assert_int_equal(faccessat(t->dfd, "t/u", F_OK, 0), 0);
    assert_int_equal(faccessat(t->dfd, "v/w", F_OK, 0), 0);
}

static void
test_mkdir_p_file_in_the_way(void **state)
{
    struct tmpdir *t = *state;
    make_file(t->dfd, "file", 1);
    bt_autoerr struct bt_err *err = NULL;

    /* The path itself is a file. */
    bt_autofree char *p1 = bt_xasprintf("%s/file", t->path);
    assert_int_equal(bt_mkdir_p(p1, 0755, &err), -ENOTDIR);
    assert_int_equal(err->code, ENOTDIR);
    assert_non_null(strstr(err->msg, "is not a directory"));

    /* A parent is a file. */
    bt_autofree char *p2 = bt_xasprintf("%s/file/sub/deeper", t->path);
    assert_int_equal(bt_mkdir_p(p2, 0755, &err), -ENOTDIR);
    assert_int_equal(err->code, ENOTDIR);

    struct stat st;
    assert_int_equal(fstatat(t->dfd, "file", &st, 0), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(count_entries(t->dfd, NULL), 1);
}

/*
 * Regression (was a bug: engine/base/fileio.c, bt_mkdir_p): for path "" the scan starts at p + 1,
 * one byte past the copy's terminating NUL, and reads (and may write a NUL into) heap memory beyond
 * the allocation. Expected: a clean negative return (mkdir("") is ENOENT). Run in a child so an
 * ASan report fails this test and not the whole group.
 */
static void
test_mkdir_p_empty(void **state)
{
    (void) state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int r = bt_mkdir_p("", 0755, NULL);
        _exit(r == -ENOENT ? 0 : 3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        print_error("bt_mkdir_p(\"\") child: status 0x%x\n", (unsigned) status);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_write_all(void **state)
{
    (void) state;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(bt_write_all(p[1], "abc", 3), 0);
    assert_int_equal(bt_write_all(p[1], "", 0), 0);
    char buf[8];
    assert_int_equal(read(p[0], buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    close(p[0]);
    close(p[1]);
    assert_int_equal(bt_write_all(-1, "x", 1), -EBADF);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_atomic_creates),
        T(test_write_atomic_mode_ignores_umask),
        T(test_write_atomic_overwrites),
        T(test_write_atomic_binary),
        T(test_write_atomic_bad_names),
        T(test_write_atomic_failure_leaves_no_temp),
        T(test_clean_tmp),
        T(test_clean_tmp_after_writes),
        T(test_clean_tmp_bad_fd),
        T(test_read),
        T(test_read_empty),
        T(test_read_ceiling),
        T(test_read_missing),
        T(test_read_max_size_max),
        T(test_mkdir_p),
        T(test_mkdir_p_slashes),
        T(test_mkdir_p_file_in_the_way),
        T(test_mkdir_p_empty),
        T(test_write_all),
    };
    return cmocka_run_group_tests_name("test-base-fileio", tests, NULL, NULL);
}
