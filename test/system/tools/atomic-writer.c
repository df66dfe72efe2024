/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool for bt_file_write_atomic_at(): writes generations of DIR/state.json in a loop so
 * that a test can SIGKILL it anywhere and then check the file is absent or one whole
 * generation, never torn. Every generation's bytes are fully determined by its number (length,
 * pattern and checksum), so the checker regenerates the expected content and compares it all.
 *
 *   atomic-writer write DIR [COUNT]  continue from the generation in DIR (or 1); COUNT 0 or
 *                                    absent: for ever. Creates DIR/written after the first
 *                                    successful write.
 *   atomic-writer check DIR          prints "absent" or "gen N"; exit 1 and "torn: ..." when
 *                                    the file is not exactly one generation (or is absent
 *                                    although a write completed)
 *   atomic-writer clean DIR          bt_dir_clean_tmp(DIR); prints "removed N"
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/parse.h"

#define STATE_NAME "state.json"
#define MARK_NAME "written"
#define STATE_MODE 0640
#define MAX_LEN (1024 * 1024)
#define TRAILER_LEN 25 /* "fnv " + 16 hex digits + " end\n" */

/* Length of generation gen: 192 KiB to 320 KiB, different from one generation to the next. */
static size_t
gen_len(uint64_t gen)
{
    return 192 * 1024 + (size_t) ((gen * 7919) % (128 * 1024));
}

static uint64_t
fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The whole content of generation gen; returns a new buffer, caller frees. */
static char *
gen_content(uint64_t gen, size_t *ret_len)
{
    size_t len = gen_len(gen);
    char *buf = bt_xmalloc(len + 1);
    int h = snprintf(buf, len, "berth-atomic gen %" PRIu64 " len %zu\n", gen, len);
    uint64_t x = gen * 0x9e3779b97f4a7c15ULL + 1;
    size_t body_end = len - TRAILER_LEN;
    for (size_t i = (size_t) h; i < body_end; i++) {
        /* xorshift64: cheap, and a different stream for each generation. */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (i % 64 == 63) ? '\n' : (char) ('a' + (x % 26));
    }
    snprintf(buf + body_end, TRAILER_LEN + 1, "fnv %016" PRIx64 " end\n", fnv1a(buf, body_end));
    *ret_len = len;
    return buf;
}

static int
open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fprintf(stderr, "atomic-writer: cannot open '%s': %s\n", path, strerror(errno));
    return fd;
}

/*
 * Check the current file. Returns 1 and sets *ret_gen for a whole generation, 0 when absent,
 * -1 (after printing why) when torn or unreadable.
 */
static int
check_file(int dirfd, uint64_t *ret_gen)
{
    bt_autoerr struct bt_err *err = NULL;
    bt_autofree char *data = NULL;
    size_t len = 0;
    if (bt_file_read_at(dirfd, STATE_NAME, MAX_LEN, &data, &len, &err) < 0) {
        if (err && err->code == ENOENT)
            return 0;
        bt_autofree char *text = bt_err_text(err);
        printf("torn: cannot read: %s\n", text);
        return -1;
    }
    uint64_t gen = 0;
    size_t hdr_len = 0;
    if (sscanf(data, "berth-atomic gen %" SCNu64 " len %zu\n", &gen, &hdr_len) != 2 || gen == 0) {
        printf("torn: no valid header in %zu bytes (starts '%.40s')\n", len, data);
        return -1;
    }
    size_t want_len = 0;
    bt_autofree char *want = gen_content(gen, &want_len);
    if (len != want_len || hdr_len != want_len) {
        printf("torn: gen %" PRIu64 " has %zu bytes, header says %zu, expected %zu\n", gen, len,
               hdr_len, want_len);
        return -1;
    }
    if (memcmp(data, want, len) != 0) {
        size_t at = 0;
        while (at < len && data[at] == want[at])
            at++;
        printf("torn: gen %" PRIu64 " differs from its expected content at byte %zu of %zu\n", gen,
               at, len);
        return -1;
    }
    struct stat st;
    if (fstatat(dirfd, STATE_NAME, &st, 0) == 0 && (st.st_mode & 07777) != STATE_MODE) {
        printf("torn: gen %" PRIu64 " has mode %o, expected %o\n", gen,
               (unsigned) (st.st_mode & 07777), (unsigned) STATE_MODE);
        return -1;
    }
    *ret_gen = gen;
    return 1;
}

static int
cmd_write(const char *dir, uint64_t count)
{
    bt_autoclose int dirfd = open_dir(dir);
    if (dirfd < 0)
        return 1;
    uint64_t gen = 0;
    int r = check_file(dirfd, &gen);
    if (r < 0)
        return 3;
    bool marked = faccessat(dirfd, MARK_NAME, F_OK, 0) == 0;
    for (uint64_t n = 0; count == 0 || n < count; n++) {
        gen++;
        size_t len = 0;
        bt_autofree char *buf = gen_content(gen, &len);
        bt_autoerr struct bt_err *err = NULL;
        if (bt_file_write_atomic_at(dirfd, STATE_NAME, buf, len, STATE_MODE, &err) < 0) {
            bt_autofree char *text = bt_err_text(err);
            fprintf(stderr, "atomic-writer: gen %" PRIu64 ": %s\n", gen, text);
            return 1;
        }
        if (!marked) {
            int fd = openat(dirfd, MARK_NAME, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) {
                fprintf(stderr, "atomic-writer: cannot create '%s': %s\n", MARK_NAME,
                        strerror(errno));
                return 1;
            }
            (void) close(fd);
            marked = true;
        }
    }
    printf("gen %" PRIu64 "\n", gen);
    return 0;
}

static int
cmd_check(const char *dir)
{
    bt_autoclose int dirfd = open_dir(dir);
    if (dirfd < 0)
        return 1;
    uint64_t gen = 0;
    int r = check_file(dirfd, &gen);
    if (r < 0)
        return 1;
    if (r == 0) {
        if (faccessat(dirfd, MARK_NAME, F_OK, 0) == 0) {
            printf("torn: '%s' is absent although a write completed\n", STATE_NAME);
            return 1;
        }
        printf("absent\n");
        return 0;
    }
    printf("gen %" PRIu64 "\n", gen);
    return 0;
}

static int
cmd_clean(const char *dir)
{
    bt_autoclose int dirfd = open_dir(dir);
    if (dirfd < 0)
        return 1;
    int n = bt_dir_clean_tmp(dirfd);
    if (n < 0) {
        fprintf(stderr, "atomic-writer: cannot clean '%s': %s\n", dir, strerror(-n));
        return 1;
    }
    printf("removed %d\n", n);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: atomic-writer write DIR [COUNT] | check DIR | clean DIR\n");
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        usage();
        return 2;
    }
    if (strcmp(argv[1], "write") == 0 && argc <= 4) {
        uint64_t count = 0;
        if (argc == 4 && bt_parse_u64(argv[3], &count) < 0) {
            usage();
            return 2;
        }
        return cmd_write(argv[2], count);
    }
    if (strcmp(argv[1], "check") == 0 && argc == 3)
        return cmd_check(argv[2]);
    if (strcmp(argv[1], "clean") == 0 && argc == 3)
        return cmd_clean(argv[2]);
    usage();
    return 2;
}
