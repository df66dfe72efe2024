/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for engine/container/logfile.c: the input as one json-file line (the entry
 * parser), as a whole log file for the reader (tail and since from the first byte), as a
 * --since/--until time, and as container output: written by the writer and read back, it must
 * come back byte for byte (invalid UTF-8 bytes as U+FFFD), which checks the hand-made escaping
 * against the parser. Files go to one temp dir per process, removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test/fuzz/fuzz.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/base/utf8.h"
#include "engine/container/logfile.h"

#define MAX_TIME_STRING 256
#define NAME "f-json.log"

static char dir_path[64];
static int dir_fd = -1;

static void
remove_dir(void)
{
    static const char *const names[] = { NAME, NAME ".1", NAME ".2", "raw.log", "raw.log.1" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(names); i++)
        (void) unlinkat(dir_fd, names[i], 0);
    (void) close(dir_fd);
    (void) rmdir(dir_path);
}

static int
dir(void)
{
    if (dir_fd < 0) {
        snprintf(dir_path, sizeof dir_path, "/tmp/berth-fuzz-logfile.XXXXXX");
        CHECK(mkdtemp(dir_path) != NULL);
        dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dir_fd >= 0);
        atexit(remove_dir);
    }
    return dir_fd;
}

static void
fuzz_parse(const char *data, size_t size)
{
    struct eng_log_entry e;
    char *buf = NULL;
    if (eng_log_entry_parse(data, size, &e, &buf) < 0) {
        CHECK(buf == NULL);
        return;
    }
    CHECK(e.stream == ENG_LOG_STDOUT || e.stream == ENG_LOG_STDERR);
    CHECK(e.len <= size);
    CHECK((e.len == 0) == (buf == NULL));
    CHECK(e.len == 0 || e.data == buf);
    /* The time prints and the printed form parses to the same time. */
    char t[ENG_LOG_TIME_MAX];
    size_t tl = eng_log_time_format(e.time_ns, t);
    CHECK(tl > 0 && tl < sizeof t);
    int64_t again = 0;
    CHECK(eng_log_time_parse(t, 0, &again, NULL) == 0 && again == e.time_ns);
    free(buf);
}

static void
fuzz_read(const char *data, size_t size)
{
    if (size == 0)
        return;
    int64_t tail = (int64_t) (unsigned char) data[0] % 8 - 1;
    /* Two files (the first half rotated out) so the reader crosses one. Plain writes: the
     * atomic helper's fsyncs would cost most of the run. */
    size_t half = (size - 1) / 2;
    static const char *const names[] = { "raw.log.1", "raw.log" };
    for (size_t i = 0; i < 2; i++) {
        int fd = openat(dir(), names[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK(i == 0 ? bt_write_all(fd, data + 1, half) == 0
                     : bt_write_all(fd, data + 1 + half, size - 1 - half) == 0);
        (void) close(fd);
    }
    /* The top bit adds a since, which lets the reader skip whole files by their last line. */
    int64_t since = (unsigned char) data[0] & 0x80 ? INT64_C(1714564800000000000) : 0;
    struct eng_log_read_opts o = { .since_ns = since, .tail = tail };
    struct eng_log_reader *r = NULL;
    CHECK(eng_log_reader_open(dir(), "raw.log", &o, &r, NULL) == 0);
    struct eng_log_entry e;
    size_t n = 0;
    while (eng_log_reader_next(r, &e, NULL) == 1) {
        CHECK(e.len <= size && e.time_ns >= since);
        n++;
    }
    CHECK(tail < 0 || n <= (size_t) tail);
    eng_log_reader_free(r);
}

static void
fuzz_time(const char *data, size_t size)
{
    if (size > MAX_TIME_STRING)
        return;
    char *s = bt_xstrndup(data, size);
    int64_t ns = 0;
    struct bt_err *err = NULL;
    int r = eng_log_time_parse(s, INT64_C(1714564800) * 1000000000, &ns, &err);
    CHECK(r == 0 ? err == NULL : (err != NULL && err->msg != NULL));
    bt_err_free(err);
    free(s);
}

/* Write data as container output in pieces, on the two streams, read it back. */
static void
fuzz_roundtrip(const char *data, size_t size)
{
    if (size == 0)
        return;
    unsigned mode = (unsigned char) data[0];
    data++;
    size--;
    (void) unlinkat(dir(), NAME, 0);
    struct eng_log_writer *w = NULL;
    CHECK(eng_log_writer_open(dir(), NAME, 0, 0, &w, NULL) == 0);
    struct timespec ts = { .tv_sec = 1714564800, .tv_nsec = 1 };
    size_t piece = (mode & 0x3f) + 1;
    enum eng_log_stream s = mode & 0x40 ? ENG_LOG_STDERR : ENG_LOG_STDOUT;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        CHECK(eng_log_writer_write(w, s, data + off, n, &ts, NULL) == 0);
    }
    w = eng_log_writer_free(w);

    /* What must come back: the bytes, each invalid UTF-8 byte as U+FFFD. Entries split at 16 KiB
     * may cut a character, so only compare inputs shorter than that. */
    struct bt_buf want, got;
    bt_buf_init(&want, 8 * size + 16);
    bt_buf_init(&got, 8 * size + 16);
    for (size_t i = 0; i < size;) {
        size_t wd;
        uint32_t cp = bt_utf8_next(data + i, size - i, &wd);
        if (cp == BT_UTF8_REPLACEMENT && wd == 1)
            CHECK(bt_buf_puts(&want, BT_UTF8_REPLACEMENT_STR) == 0);
        else
            CHECK(bt_buf_append(&want, data + i, wd) == 0);
        i += wd;
    }
    struct eng_log_read_opts o = { .tail = -1 };
    struct eng_log_reader *r = NULL;
    CHECK(eng_log_reader_open(dir(), NAME, &o, &r, NULL) == 0);
    struct eng_log_entry e;
    while (eng_log_reader_next(r, &e, NULL) == 1) {
        CHECK(e.stream == s && e.len > 0 && e.time_ns == INT64_C(1714564800000000001));
        CHECK(bt_buf_append(&got, e.data, e.len) == 0);
    }
    eng_log_reader_free(r);
    if (size < ENG_LOG_ENTRY_MAX)
        CHECK(got.len == want.len && memcmp(bt_buf_str(&got), bt_buf_str(&want), got.len) == 0);
    bt_buf_release(&want);
    bt_buf_release(&got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *) data;
    fuzz_parse(s, size);
    fuzz_read(s, size);
    fuzz_time(s, size);
    fuzz_roundtrip(s, size);
    return 0;
}
