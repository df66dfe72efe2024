/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for layer unpacking: the name rules, then small archives built in memory with
 * libarchive's writer (plain, gzip, zstd) unpacked into a temp dir below a canary dir that
 * must stay untouched, and bt_rm_tree_at on read-only dirs and outward symlinks.
 * What needs root (owners, devices, trusted.* xattrs) is left to the system tests.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/rmtree.h"
#include "engine/base/sha256.h"
#include "engine/image/unpack-int.h"
#include "engine/image/unpack.h"

/* ---- name rules ------------------------------------------------------------------------ */

static void
test_name_clean(void **state)
{
    (void) state;
    static const char *const ok[][2] = {
        { "a", "a" },
        { "./a", "a" },
        { "/a/b", "a/b" },
        { "a/b/", "a/b" },
        { "./", "" },
        { ".", "" },
        { "/", "" },
        { "", "" },
        { "a//b/./c", "a/b/c" },
        { "///x", "x" },
        { "a/.b", "a/.b" },
        { "..a/b..", "..a/b.." },
        { ".wh..wh..opq", ".wh..wh..opq" },
    };
    char out[PATH_MAX];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(eng_unpack_name_clean(ok[i][0], out, sizeof out), 0);
        assert_string_equal(out, ok[i][1]);
    }
    static const char *const bad[] = { "..", "../a", "a/..", "a/../b", "/../x", "./..//a" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(eng_unpack_name_clean(bad[i], out, sizeof out), -EINVAL);
    /* A component over NAME_MAX, a path over PATH_MAX, an output too small. */
    char *longc = bt_xmalloc(NAME_MAX + 2);
    memset(longc, 'c', NAME_MAX + 1);
    longc[NAME_MAX + 1] = '\0';
    assert_int_equal(eng_unpack_name_clean(longc, out, sizeof out), -ENAMETOOLONG);
    free(longc);
    char *longp = bt_xmalloc(PATH_MAX + 10);
    for (size_t i = 0; i < PATH_MAX + 8; i += 2)
        memcpy(longp + i, "d/", 2);
    longp[PATH_MAX + 8] = '\0';
    assert_int_equal(eng_unpack_name_clean(longp, out, sizeof out), -ENAMETOOLONG);
    free(longp);
    char small[4];
    assert_int_equal(eng_unpack_name_clean("abcd", small, sizeof small), -ENAMETOOLONG);
    assert_int_equal(eng_unpack_name_clean("abc", small, sizeof small), 0);
}

static void
test_whiteout_kind(void **state)
{
    (void) state;
    const char *t = NULL;
    assert_int_equal(eng_unpack_whiteout_kind("file", &t), UNPACK_WH_NONE);
    assert_int_equal(eng_unpack_whiteout_kind(".wh.", &t), UNPACK_WH_BAD);
    assert_int_equal(eng_unpack_whiteout_kind(".wh..", &t), UNPACK_WH_BAD);
    assert_int_equal(eng_unpack_whiteout_kind(".wh...", &t), UNPACK_WH_BAD);
    assert_int_equal(eng_unpack_whiteout_kind(".wh..wh..opq", &t), UNPACK_WH_OPAQUE);
    assert_int_equal(eng_unpack_whiteout_kind(".wh..wh.plnk", &t), UNPACK_WH_META);
    assert_int_equal(eng_unpack_whiteout_kind(".wh.gone", &t), UNPACK_WH_FILE);
    assert_string_equal(t, "gone");
    assert_int_equal(eng_unpack_whiteout_kind(".wh....", &t), UNPACK_WH_FILE);
    assert_string_equal(t, "...");
}

static void
test_compression_detect(void **state)
{
    (void) state;
    static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0 }, zs[] = { 0x28, 0xb5, 0x2f, 0xfd };
    assert_int_equal(unpack_compression_detect(gz, sizeof gz), UNPACK_GZIP);
    assert_int_equal(unpack_compression_detect(zs, sizeof zs), UNPACK_ZSTD);
    assert_int_equal(unpack_compression_detect(zs, 3), UNPACK_PLAIN);
    assert_int_equal(unpack_compression_detect((const uint8_t *) "etc/", 4), UNPACK_PLAIN);
    assert_int_equal(unpack_compression_detect(gz, 0), UNPACK_PLAIN);
}

/* ---- archives in memory ---------------------------------------------------------------- */

struct ent {
    const char *name;
    char type;        /* f d l h (hard link) */
    const char *data; /* file content, or the link target */
    int mode;
};

enum comp { PLAIN, GZIP, ZSTD };

/* The archive as bytes; *ret_len its length. Caller frees. */
static uint8_t *
make_archive(const struct ent *ents, size_t n, enum comp comp, size_t *ret_len)
{
    size_t cap = 1 << 20;
    uint8_t *buf = bt_xmalloc(cap);
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
    if (comp == GZIP)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    if (comp == ZSTD)
        assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
    size_t used = 0;
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ents[i].name);
        archive_entry_set_mtime(e, 1500000000, 0);
        int mode = ents[i].mode ? ents[i].mode : 0644;
        switch (ents[i].type) {
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, ents[i].mode ? (mode_t) mode : 0755);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, ents[i].data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, (mode_t) mode);
            archive_entry_set_hardlink(e, ents[i].data);
            break;
        default:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, (mode_t) mode);
            archive_entry_set_size(e, (la_int64_t) strlen(ents[i].data));
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (ents[i].type == 'f')
            assert_int_equal(archive_write_data(a, ents[i].data, strlen(ents[i].data)),
                             (la_ssize_t) strlen(ents[i].data));
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *ret_len = used;
    return buf;
}

static int
mem_fd(const void *data, size_t len)
{
    int fd = memfd_create("layer", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* <top>/canary/keep must survive; <top>/layer is the target. */
struct fixture {
    char top[64];
    int topfd, layerfd;
};

static int
setup(void **state)
{
    struct fixture *f = bt_xcalloc(1, sizeof *f);
    snprintf(f->top, sizeof f->top, "/tmp/test-unpack.XXXXXX");
    if (!mkdtemp(f->top))
        return -1;
    f->topfd = open(f->top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->topfd < 0 || mkdirat(f->topfd, "canary", 0755) < 0 || mkdirat(f->topfd, "layer", 0755))
        return -1;
    int fd = openat(f->topfd, "canary/keep", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "keep", 4) != 4)
        return -1;
    close(fd);
    f->layerfd = openat(f->topfd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *state = f;
    return f->layerfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(bt_rm_tree_at(f->topfd, "layer", &err), 0);
    assert_int_equal(bt_rm_tree_at(f->topfd, "canary", &err), 0);
    close(f->layerfd);
    close(f->topfd);
    assert_int_equal(rmdir(f->top), 0);
    free(f);
    return 0;
}

static void
assert_canary(struct fixture *f)
{
    char buf[16] = { 0 };
    int fd = openat(f->topfd, "canary/keep", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof buf), 4);
    close(fd);
    assert_string_equal(buf, "keep");
    struct stat st;
    assert_int_equal(fstatat(f->topfd, "canary/pwned", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(f->topfd, "pwned", &st, AT_SYMLINK_NOFOLLOW), -1);
}

/* Unpack ents (compressed as asked) into the layer. Returns the result code; *ret_err is the
 * error text (caller frees) or NULL. */
static int
unpack(struct fixture *f, const struct ent *ents, size_t n, enum comp comp, bool walk,
       struct eng_unpack_result *res, char **ret_err)
{
    size_t len;
    bt_autofree uint8_t *data = make_archive(ents, n, comp, &len);
    bt_autoclose int fd = mem_fd(data, len);
    struct eng_unpack_opts opts = { .walk_only = walk };
    bt_autoerr struct bt_err *err = NULL;
    int r = eng_layer_unpack(fd, f->layerfd, &opts, res, &err);
    *ret_err = err ? bt_err_text(err) : NULL;
    return r;
}

static char *
read_at(int dfd, const char *name)
{
    static char buf[256];
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

static const struct ent basic[] = {
    { "./", 'd', NULL, 0750 },
    { "etc", 'd', NULL, 0 },
    { "etc/hosts", 'f', "127.0.0.1 localhost\n", 0 },
    { "/etc/abs", 'f', "abs", 0 },
    { "bin/tool", 'f', "#!/bin/sh\n", 04755 },
    { "link", 'l', "etc/hosts", 0 },
    { "hard", 'h', "etc/hosts", 0 },
    { "dir/.wh..wh.plnk-not-meta", 'f', "x", 0 },
};

static void
check_basic(struct fixture *f)
{
    assert_string_equal(read_at(f->layerfd, "etc/hosts"), "127.0.0.1 localhost\n");
    assert_string_equal(read_at(f->layerfd, "etc/abs"), "abs");
    struct stat a, b;
    assert_int_equal(fstatat(f->layerfd, "bin/tool", &a, 0), 0);
    assert_int_equal(a.st_mode & 07777, 04755);
    assert_int_equal(a.st_mtim.tv_sec, 1500000000);
    assert_int_equal(fstatat(f->layerfd, "etc/hosts", &a, 0), 0);
    assert_int_equal(fstatat(f->layerfd, "hard", &b, 0), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    char target[64] = { 0 };
    assert_int_equal(readlinkat(f->layerfd, "link", target, sizeof target - 1), 9);
    assert_string_equal(target, "etc/hosts");
    /* The root entry's mode and mtime, applied at the end. */
    assert_int_equal(fstat(f->layerfd, &a), 0);
    assert_int_equal(a.st_mode & 07777, 0750);
    assert_int_equal(a.st_mtim.tv_sec, 1500000000);
    assert_int_equal(fstatat(f->layerfd, "etc", &a, 0), 0);
    assert_int_equal(a.st_mtim.tv_sec, 1500000000);
}

static void
test_roundtrip(void **state, enum comp comp)
{
    struct fixture *f = *state;
    size_t plain_len;
    bt_autofree uint8_t *plain = make_archive(basic, BT_ARRAY_SIZE(basic), PLAIN, &plain_len);
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_hex(plain, plain_len, hex);
    struct eng_unpack_result res;
    bt_autofree char *msg = NULL;
    assert_int_equal(unpack(f, basic, BT_ARRAY_SIZE(basic), comp, false, &res, &msg), 0);
    assert_null(msg);
    assert_string_equal(res.diff_id + 7, hex);
    assert_memory_equal(res.diff_id, "sha256:", 7);
    assert_int_equal(res.tar_size, plain_len);
    assert_int_equal(res.entries, BT_ARRAY_SIZE(basic));
    check_basic(f);
}

static void
test_plain(void **state)
{
    test_roundtrip(state, PLAIN);
}

static void
test_gzip(void **state)
{
    test_roundtrip(state, GZIP);
}

static void
test_zstd(void **state)
{
    test_roundtrip(state, ZSTD);
}

/* Through a pipe (no seeking), with the gzip child. */
static void
test_pipe_input(void **state)
{
    struct fixture *f = *state;
    size_t len;
    bt_autofree uint8_t *data = make_archive(basic, BT_ARRAY_SIZE(basic), GZIP, &len);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_true(len < 65536);
    assert_int_equal(write(p[1], data, len), (ssize_t) len);
    close(p[1]);
    struct eng_unpack_result res;
    bt_autoerr struct bt_err *err = NULL;
    struct eng_unpack_opts opts = { 0 };
    assert_int_equal(eng_layer_unpack(p[0], f->layerfd, &opts, &res, &err), 0);
    close(p[0]);
    check_basic(f);
}

static void
expect_error(struct fixture *f, const struct ent *ents, size_t n, bool walk, const char *needle)
{
    struct eng_unpack_result res;
    bt_autofree char *msg = NULL;
    assert_true(unpack(f, ents, n, PLAIN, walk, &res, &msg) < 0);
    assert_non_null(msg);
    if (!strstr(msg, needle))
        fail_msg("error '%s' does not contain '%s'", msg, needle);
    assert_canary(f);
}

static void
test_dotdot_refused(void **state)
{
    static const struct ent e[] = { { "a/../../canary/pwned", 'f', "x", 0 } };
    expect_error(*state, e, 1, false, "layer entry 'a/../../canary/pwned': '..' components");
}

static void
test_hardlink_out_refused(void **state)
{
    static const struct ent e1[] = { { "hl", 'h', "../canary/keep", 0 } };
    expect_error(*state, e1, 1, false, "layer entry 'hl': hard link target '../canary/keep'");
    static const struct ent e2[] = { { "hl", 'h', "/canary/keep", 0 } };
    expect_error(*state, e2, 1, false, "does not exist in this layer");
}

static void
test_symlink_contained(void **state)
{
    struct fixture *f = *state;
    static const struct ent e[] = {
        { "canary", 'd', NULL, 0 },     { "evil", 'l', "../canary", 0 },
        { "evil/pwned", 'f', "in", 0 }, { "b", 'l', "/", 0 },
        { "a", 'l', "b", 0 },           { "a/x", 'f', "chain", 0 },
        { "d", 'd', NULL, 0 },          { "d", 'l', "/..", 0 },
        { "d/swapped", 'f', "sw", 0 },
    };
    struct eng_unpack_result res;
    bt_autofree char *msg = NULL;
    assert_int_equal(unpack(f, e, BT_ARRAY_SIZE(e), PLAIN, false, &res, &msg), 0);
    assert_string_equal(read_at(f->layerfd, "canary/pwned"), "in");
    assert_string_equal(read_at(f->layerfd, "x"), "chain");
    assert_string_equal(read_at(f->layerfd, "swapped"), "sw");
    assert_canary(f);
}

static void
test_dangling_symlink_parent(void **state)
{
    static const struct ent e[] = { { "evil", 'l', "../../canary", 0 },
                                    { "evil/pwned", 'f', "x", 0 } };
    expect_error(*state, e, 2, false, "layer entry 'evil/pwned': cannot open directory 'evil'");
}

/* Without openat2 a symlink in a parent path is refused outright. */
static void
test_walk_refuses_symlink_parent(void **state)
{
    struct fixture *f = *state;
    static const struct ent e[] = { { "real", 'd', NULL, 0 },
                                    { "real/f", 'f', "ok", 0 },
                                    { "deep/er/g", 'f', "ok2", 0 },
                                    { "s", 'l', "/", 0 },
                                    { "s/pwned", 'f', "x", 0 } };
    expect_error(f, e, BT_ARRAY_SIZE(e), true, "layer entry 's/pwned': cannot open directory 's'");
    assert_string_equal(read_at(f->layerfd, "real/f"), "ok");
    assert_string_equal(read_at(f->layerfd, "deep/er/g"), "ok2");
}

static void
test_whiteout_names(void **state)
{
    static const struct ent e[] = { { ".wh...", 'f', "", 0 } };
    expect_error(*state, e, 1, false, "layer entry '.wh...': invalid whiteout name");
}

static void
test_replace(void **state)
{
    struct fixture *f = *state;
    static const struct ent e[] = {
        { "a", 'd', NULL, 0 }, { "a/inner", 'f', "1", 0 },   { "a", 'f', "file now", 0 },
        { "b", 'f', "1", 0 },  { "b", 'd', NULL, 0 },        { "b/in", 'f', "2", 0 },
        { "c", 'l', "a", 0 },  { "c", 'f', "over link", 0 }, { "h", 'f', "old", 0 },
        { "h2", 'h', "h", 0 }, { "h", 'f', "new", 0 },
    };
    struct eng_unpack_result res;
    bt_autofree char *msg = NULL;
    assert_int_equal(unpack(f, e, BT_ARRAY_SIZE(e), PLAIN, false, &res, &msg), 0);
    assert_string_equal(read_at(f->layerfd, "a"), "file now");
    assert_string_equal(read_at(f->layerfd, "b/in"), "2");
    assert_string_equal(read_at(f->layerfd, "c"), "over link");
    /* A file rewritten after a hard link to it is a new file: the link keeps the old data. */
    assert_string_equal(read_at(f->layerfd, "h"), "new");
    assert_string_equal(read_at(f->layerfd, "h2"), "old");
}

static void
test_not_tar(void **state)
{
    struct fixture *f = *state;
    static const char junk[] = "this is not a tar archive, not at all, not even close......";
    bt_autoclose int fd = mem_fd(junk, sizeof junk);
    struct eng_unpack_opts opts = { 0 };
    struct eng_unpack_result res;
    bt_autoerr struct bt_err *err = NULL;
    assert_true(eng_layer_unpack(fd, f->layerfd, &opts, &res, &err) < 0);
    assert_non_null(strstr(err->msg, "not a tar archive"));
}

static void
test_corrupt_gzip(void **state)
{
    struct fixture *f = *state;
    size_t len;
    bt_autofree uint8_t *data = make_archive(basic, BT_ARRAY_SIZE(basic), GZIP, &len);
    assert_true(len > 40);
    bt_autoclose int fd = mem_fd(data, len - 12); /* truncated */
    struct eng_unpack_opts opts = { 0 };
    struct eng_unpack_result res;
    bt_autoerr struct bt_err *err = NULL;
    assert_true(eng_layer_unpack(fd, f->layerfd, &opts, &res, &err) < 0);
    if (!strstr(err->msg, "gzip: unexpected end"))
        fail_msg("unexpected error '%s'", err->msg);
}

static void
test_empty_stream(void **state)
{
    struct fixture *f = *state;
    bt_autoclose int fd = mem_fd("", 0);
    struct eng_unpack_opts opts = { 0 };
    struct eng_unpack_result res;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_layer_unpack(fd, f->layerfd, &opts, &res, &err), 0);
    assert_int_equal(res.entries, 0);
    assert_string_equal(res.diff_id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
                                     "95991b7852b855");
}

/* ---- remove_tree ----------------------------------------------------------------------- */

static void
test_remove_tree(void **state)
{
    struct fixture *f = *state;
    static const struct ent e[] = {
        { "t", 'd', NULL, 0 },
        { "t/ro", 'd', NULL, 0 },
        { "t/ro/f", 'f', "x", 0444 },
        { "t/ro/sub", 'd', NULL, 0 },
        { "t/ro/sub/g", 'f', "y", 0 },
        { "t/out", 'l', "../../../canary", 0 },
        { "t/ro/sub", 'd', NULL, 0 },
        { "t/ro", 'd', NULL, 0500 },
        { "t/closed", 'd', NULL, 0 },
        { "t/closed/h", 'f', "z", 0 },
        { "t/closed", 'd', NULL, 01000 },
    };
    struct eng_unpack_result res;
    bt_autofree char *msg = NULL;
    assert_int_equal(unpack(f, e, BT_ARRAY_SIZE(e), PLAIN, false, &res, &msg), 0);
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(bt_rm_tree_at(f->layerfd, "t", &err), 0);
    struct stat st;
    assert_int_equal(fstatat(f->layerfd, "t", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(errno, ENOENT);
    assert_canary(f);
    /* Absent is fine; a path is not a name. */
    assert_int_equal(bt_rm_tree_at(f->layerfd, "t", &err), 0);
    assert_true(bt_rm_tree_at(f->layerfd, "a/b", &err) < 0);
    err = bt_err_free(err);
    /* "." empties the directory itself. */
    assert_int_equal(mkdirat(f->layerfd, "x", 0), 0);
    assert_int_equal(symlinkat("/", f->layerfd, "y"), 0);
    assert_int_equal(bt_rm_tree_at(f->layerfd, ".", &err), 0);
    assert_int_equal(fstatat(f->layerfd, "x", &st, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(f->layerfd, "y", &st, AT_SYMLINK_NOFOLLOW), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_clean),
        cmocka_unit_test(test_whiteout_kind),
        cmocka_unit_test(test_compression_detect),
        T(test_plain),
        T(test_gzip),
        T(test_zstd),
        T(test_pipe_input),
        T(test_dotdot_refused),
        T(test_hardlink_out_refused),
        T(test_symlink_contained),
        T(test_dangling_symlink_parent),
        T(test_walk_refuses_symlink_parent),
        T(test_whiteout_names),
        T(test_replace),
        T(test_not_tar),
        T(test_corrupt_gzip),
        T(test_empty_stream),
        T(test_remove_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
