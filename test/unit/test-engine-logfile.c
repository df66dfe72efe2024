/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/container/logfile.c: the json-file lines the writer produces (splitting,
 * partial lines, the 16 KiB cap, both streams, Docker's escaping), rotation with one, two and
 * three files, the reader's since / until / tail across rotated files, torn lines left by a
 * crash, the line parser and the --since/--until time forms. Each test works in a temp dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/container/logfile.h"
#include "tmpdir.h"

#define NAME "c1-json.log"
/* 2024-05-01T12:00:00Z */
#define T0 INT64_C(1714564800)
#define NS INT64_C(1000000000)

static int
setup(void **state)
{
    return tmpdir_setup_named(state, "berth-test-logfile");
}

static struct timespec
ts_at(int64_t sec, long nsec)
{
    return (struct timespec){ .tv_sec = (time_t) sec, .tv_nsec = nsec };
}

static struct eng_log_writer *
open_writer(int dfd, uint64_t max_size, unsigned max_file)
{
    struct eng_log_writer *w = NULL;
    struct bt_err *err = NULL;
    int r = eng_log_writer_open(dfd, NAME, max_size, max_file, &w, &err);
    if (r < 0)
        fail_msg("writer open: %s", err ? err->msg : "?");
    return w;
}

static void
put(struct eng_log_writer *w, enum eng_log_stream s, const char *data, size_t len, int64_t sec,
    long nsec)
{
    struct timespec ts = ts_at(sec, nsec);
    struct bt_err *err = NULL;
    int r = eng_log_writer_write(w, s, data, len, &ts, &err);
    if (r < 0)
        fail_msg("write: %s", err ? err->msg : "?");
}

#define PUT(w, s, str, sec) put(w, s, str, strlen(str), sec, 0)

/* The file's whole text ("" when missing). Caller frees. */
static char *
slurp(int dfd, const char *name)
{
    char *data = NULL;
    size_t len;
    if (bt_file_read_at(dfd, name, 64 << 20, &data, &len, NULL) < 0)
        return bt_xstrdup("");
    return data;
}

static bool
exists(int dfd, const char *name)
{
    struct stat st;
    return fstatat(dfd, name, &st, 0) == 0;
}

/* Every entry the reader gives, as "o:data|" or "e:data|". Caller frees. */
static char *
read_all(int dfd, const char *name, int64_t since, int64_t until, int64_t tail)
{
    struct eng_log_read_opts o = { .since_ns = since, .until_ns = until, .tail = tail };
    struct eng_log_reader *r = NULL;
    struct bt_err *err = NULL;
    if (eng_log_reader_open(dfd, name, &o, &r, &err) < 0)
        fail_msg("reader open: %s", err ? err->msg : "?");
    struct bt_buf b;
    bt_buf_init(&b, 64 << 20);
    struct eng_log_entry e;
    int rr;
    while ((rr = eng_log_reader_next(r, &e, &err)) > 0) {
        assert_int_equal(bt_buf_puts(&b, e.stream == ENG_LOG_STDERR ? "e:" : "o:"), 0);
        assert_int_equal(bt_buf_append(&b, e.data, e.len), 0);
        assert_int_equal(bt_buf_puts(&b, "|"), 0);
    }
    assert_int_equal(rr, 0);
    eng_log_reader_free(r);
    char *s = bt_buf_steal(&b);
    bt_buf_release(&b);
    return s ? s : bt_xstrdup("");
}

static void
test_lines(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    put(w, ENG_LOG_STDOUT, "hello\nworld\n", 12, T0, 123456789);
    put(w, ENG_LOG_STDERR, "oops\n", 5, T0 + 1, 500000000);
    put(w, ENG_LOG_STDOUT, "x\n", 2, T0 + 2, 0);
    w = eng_log_writer_free(w);
    char *text = slurp(t->dfd, NAME);
    assert_string_equal(
        text,
        "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00.123456789Z\"}\n"
        "{\"log\":\"world\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00.123456789Z\"}\n"
        "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:01.5Z\"}\n"
        "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:02Z\"}\n");
    free(text);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:hello\n|o:world\n|e:oops\n|o:x\n|");
    free(all);
}

static void
test_partial_and_interleave(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    PUT(w, ENG_LOG_STDOUT, "hel", T0);
    PUT(w, ENG_LOG_STDERR, "err", T0);
    PUT(w, ENG_LOG_STDOUT, "lo\nwor", T0);
    PUT(w, ENG_LOG_STDERR, "or\n", T0);
    PUT(w, ENG_LOG_STDOUT, "", T0);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:hello\n|e:error\n|");
    free(all);
    /* At EOF the partial line goes out without "\n"; a second flush writes nothing. */
    assert_int_equal(eng_log_writer_flush(w, NULL), 0);
    assert_int_equal(eng_log_writer_flush(w, NULL), 0);
    PUT(w, ENG_LOG_STDERR, "tail", T0);
    w = eng_log_writer_free(w);
    all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:hello\n|e:error\n|o:wor|e:tail|");
    free(all);
}

static void
test_split_16k(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    size_t n = 40000;
    char *big = bt_xmalloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    /* In pieces of 1000 bytes, as reads from a pipe might come. */
    for (size_t off = 0; off < n + 1; off += 1000)
        put(w, ENG_LOG_STDOUT, big + off, n + 1 - off < 1000 ? n + 1 - off : 1000, T0, 0);
    /* Exactly the cap before the newline: a full entry, then the newline alone (as Docker). */
    put(w, ENG_LOG_STDERR, big, ENG_LOG_ENTRY_MAX, T0, 0);
    put(w, ENG_LOG_STDERR, "\n", 1, T0, 0);
    w = eng_log_writer_free(w);

    struct eng_log_read_opts o = { .tail = -1 };
    struct eng_log_reader *r = NULL;
    assert_int_equal(eng_log_reader_open(t->dfd, NAME, &o, &r, NULL), 0);
    struct eng_log_entry e;
    size_t want[] = { 16384, 16384, 40000 - 32768 + 1, 16384, 1 };
    for (size_t i = 0; i < BT_ARRAY_SIZE(want); i++) {
        assert_int_equal(eng_log_reader_next(r, &e, NULL), 1);
        assert_int_equal(e.len, want[i]);
        bool last = i == 2 || i == 4;
        assert_int_equal(e.data[e.len - 1] == '\n', last);
        assert_int_equal(e.stream, i < 3 ? ENG_LOG_STDOUT : ENG_LOG_STDERR);
    }
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 0);
    eng_log_reader_free(r);
    free(big);
}

static void
test_escaping(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    /* Quote, backslash, tab, CR, control bytes, HTML characters, DEL, valid UTF-8 (2, 3 and 4
     * bytes), invalid bytes (lone continuation, 0xff, truncated sequence, overlong, surrogate),
     * U+2028 / U+2029. */
    static const char in[] = "q\"b\\\t\r\x01\x1f<>&\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
                             "\x80\xff\xe2\x82 \xc0\xaf \xed\xa0\x80 \xe2\x80\xa8\xe2\x80\xa9\n";
    put(w, ENG_LOG_STDOUT, in, sizeof in - 1, T0, 0);
    w = eng_log_writer_free(w);
    char *text = slurp(t->dfd, NAME);
    assert_string_equal(text, "{\"log\":\"q\\\"b\\\\\\u0009\\r\\u0001\\u001f\\u003c\\u003e\\u0026"
                              "\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
                              "\\ufffd\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd "
                              "\\ufffd\\ufffd\\ufffd \\u2028\\u2029\\n\","
                              "\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00Z\"}\n");
    free(text);
    /* Read back: the valid parts come back byte for byte, invalid bytes as U+FFFD. */
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:q\"b\\\t\r\x01\x1f<>&\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                             "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                             "\xe2\x80\xa8\xe2\x80\xa9\n|");
    free(all);
}

/* Entries "N\n" stamped T0 + N, odd ones on stderr: 62 bytes a line in the file for N < 10. */
static void
write_numbered(struct eng_log_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        char line[16];
        snprintf(line, sizeof line, "%d\n", i);
        PUT(w, i % 2 ? ENG_LOG_STDERR : ENG_LOG_STDOUT, line, T0 + i);
    }
}

/* The numbers the file holds, as "0 1 2 ". */
static char *
numbers_in(int dfd, const char *name)
{
    char *text = slurp(dfd, name);
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    bt_buf_puts(&b, "");
    for (const char *p = text; (p = strstr(p, "{\"log\":\"")); p++) {
        long n = strtol(p + 8, NULL, 10);
        bt_buf_printf(&b, "%ld ", n);
    }
    free(text);
    char *s = bt_buf_steal(&b);
    bt_buf_release(&b);
    return s;
}

static void
check_files(int dfd, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[64];
        if (i == 0)
            snprintf(name, sizeof name, "%s", NAME);
        else
            snprintf(name, sizeof name, "%s.%zu", NAME, i);
        if (!want[i]) {
            if (exists(dfd, name))
                fail_msg("'%s' should not exist", name);
            continue;
        }
        char *got = numbers_in(dfd, name);
        if (strcmp(got, want[i]) != 0)
            fail_msg("'%s': expected '%s', got '%s'", name, want[i], got);
        free(got);
    }
}

/* max-size 130: a file takes three 62-byte lines (rotation happens once it reached the size,
 * before the next entry, as moby's), so ten entries make [0 1 2] [3 4 5] [6 7 8] [9]. */
static void
rotation_case(int dfd, unsigned max_file, bool one_call, const char *const *want, size_t n)
{
    struct eng_log_writer *w = open_writer(dfd, 130, max_file);
    if (one_call) {
        char text[64] = "";
        for (int i = 0; i < 10; i++)
            snprintf(text + strlen(text), sizeof text - strlen(text), "%d\n", i);
        PUT(w, ENG_LOG_STDOUT, text, T0);
    } else {
        write_numbered(w, 0, 10);
    }
    w = eng_log_writer_free(w);
    check_files(dfd, want, n);
}

static void
test_rotate_1(void **state)
{
    struct tmpdir *t = *state;
    const char *want[] = { "9 ", NULL, NULL };
    rotation_case(t->dfd, 1, false, want, 3);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "e:9\n|");
    free(all);
}

static void
test_rotate_2(void **state)
{
    struct tmpdir *t = *state;
    const char *want[] = { "9 ", "6 7 8 ", NULL };
    rotation_case(t->dfd, 2, false, want, 3);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:6\n|e:7\n|o:8\n|e:9\n|");
    free(all);
}

static void
test_rotate_3(void **state)
{
    struct tmpdir *t = *state;
    const char *want[] = { "9 ", "6 7 8 ", "3 4 5 ", NULL };
    rotation_case(t->dfd, 3, false, want, 4);
}

static void
test_rotate_3_one_batch(void **state)
{
    struct tmpdir *t = *state;
    const char *want[] = { "9 ", "6 7 8 ", "3 4 5 ", NULL };
    rotation_case(t->dfd, 3, true, want, 4);
}

static void
test_rotate_reopen(void **state)
{
    struct tmpdir *t = *state;
    /* A restarted daemon goes on from the file's size: [0 1 2] [3 4 5] [6]. */
    struct eng_log_writer *w = open_writer(t->dfd, 130, 3);
    write_numbered(w, 0, 5);
    w = eng_log_writer_free(w);
    w = open_writer(t->dfd, 130, 3);
    write_numbered(w, 5, 7);
    w = eng_log_writer_free(w);
    const char *want[] = { "6 ", "3 4 5 ", "0 1 2 ", NULL };
    check_files(t->dfd, want, 4);
}

/* Files [3 4 5] [6 7 8] [9 10 11 12 ...]: max-size 130 and max-file 3, sixteen entries. */
static void
make_rotated(int dfd)
{
    struct eng_log_writer *w = open_writer(dfd, 130, 3);
    write_numbered(w, 0, 16);
    w = eng_log_writer_free(w);
}

static void
test_read_options(void **state)
{
    struct tmpdir *t = *state;
    make_rotated(t->dfd);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "e:9\n|o:10\n|e:11\n|o:12\n|e:13\n|o:14\n|e:15\n|");
    free(all);
    const char *want[] = { "15 ", "12 13 14 ", "9 10 11 ", NULL };
    check_files(t->dfd, want, 4);

    /* tail across files, tail 0, tail over the count. */
    struct {
        int64_t since, until, tail;
        const char *want;
    } cases[] = {
        { 0, 0, 1, "e:15\n|" },
        { 0, 0, 3, "e:13\n|o:14\n|e:15\n|" },
        { 0, 0, 5, "e:11\n|o:12\n|e:13\n|o:14\n|e:15\n|" },
        { 0, 0, 7, "e:9\n|o:10\n|e:11\n|o:12\n|e:13\n|o:14\n|e:15\n|" },
        { 0, 0, 100, "e:9\n|o:10\n|e:11\n|o:12\n|e:13\n|o:14\n|e:15\n|" },
        { 0, 0, 0, "" },
        { (T0 + 12) * NS, 0, -1, "o:12\n|e:13\n|o:14\n|e:15\n|" },
        { (T0 + 12) * NS + 1, 0, -1, "e:13\n|o:14\n|e:15\n|" },
        { 0, (T0 + 10) * NS, -1, "e:9\n|o:10\n|" },
        { (T0 + 10) * NS, (T0 + 13) * NS - 1, -1, "o:10\n|e:11\n|o:12\n|" },
        /* As Docker: tail picks the lines first, since and until filter them. */
        { (T0 + 13) * NS, 0, 4, "e:13\n|o:14\n|e:15\n|" },
        { 0, (T0 + 13) * NS, 4, "o:12\n|e:13\n|" },
        { (T0 + 20) * NS, 0, -1, "" },
        /* since leaves whole older files out; the boundaries stay exact. */
        { (T0 + 11) * NS, 0, -1, "e:11\n|o:12\n|e:13\n|o:14\n|e:15\n|" },
        { (T0 + 14) * NS + 1, 0, -1, "e:15\n|" },
        { (T0 + 15) * NS, 0, -1, "e:15\n|" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        all = read_all(t->dfd, NAME, cases[i].since, cases[i].until, cases[i].tail);
        if (strcmp(all, cases[i].want) != 0)
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].want, all);
        free(all);
    }
}

static void
test_reader_snapshot(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = open_writer(t->dfd, 130, 1);
    write_numbered(w, 0, 3);
    struct eng_log_read_opts o = { .tail = -1 };
    struct eng_log_reader *r = NULL;
    assert_int_equal(eng_log_reader_open(t->dfd, NAME, &o, &r, NULL), 0);
    struct eng_log_entry e;
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 1);
    /* Rotation (max-file 1 starts afresh) and later lines do not disturb an open reader. */
    write_numbered(w, 3, 5);
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 1);
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 1);
    assert_memory_equal(e.data, "2\n", 2);
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 0);
    assert_int_equal(eng_log_reader_next(r, &e, NULL), 0);
    eng_log_reader_free(r);
    w = eng_log_writer_free(w);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "e:3\n|o:4\n|");
    free(all);
    /* No file: nothing to read, no error. */
    all = read_all(t->dfd, "other-json.log", 0, 0, -1);
    assert_string_equal(all, "");
    free(all);
    all = read_all(t->dfd, "other-json.log", 0, 0, 5);
    assert_string_equal(all, "");
    free(all);
}

static void
write_raw(int dfd, const char *name, const char *text)
{
    assert_int_equal(bt_file_write_atomic_at(dfd, name, text, strlen(text), 0640, NULL), 0);
}

#define LINE(n, sec)                                                                               \
    "{\"log\":\"" n "\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:" sec "Z\"}\n"

static void
test_torn_line(void **state)
{
    struct tmpdir *t = *state;
    /* A crash mid-write: the last line has no end. A junk line and an empty one in between. */
    write_raw(t->dfd, NAME, LINE("a", "00") "junk\n\n" LINE("b", "01") "{\"log\":\"c\\n\",\"str");
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:a\n|o:b\n|");
    free(all);
    /* tail counts lines ended by "\n": the torn one is not one. */
    all = read_all(t->dfd, NAME, 0, 0, 1);
    assert_string_equal(all, "o:b\n|");
    free(all);

    /* The writer, reopening, ends the torn line first; the new line reads back. */
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    PUT(w, ENG_LOG_STDOUT, "d\n", T0 + 2);
    w = eng_log_writer_free(w);
    all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:a\n|o:b\n|o:d\n|");
    free(all);
    all = read_all(t->dfd, NAME, 0, 0, 1);
    assert_string_equal(all, "o:d\n|");
    free(all);
    char *text = slurp(t->dfd, NAME);
    assert_non_null(strstr(text, "\"str\n{\"log\":\"d\\n\""));
    free(text);
}

static void
test_long_lines_skipped(void **state)
{
    struct tmpdir *t = *state;
    /* A line over the reader's ceiling (not one the writer makes) is skipped whole, even
     * across chunks; the lines around it read. */
    size_t n = 300 * 1024;
    char *junk = bt_xmalloc(n + 1);
    memset(junk, 'j', n);
    junk[n] = '\0';
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    bt_buf_puts(&b, LINE("a", "00"));
    bt_buf_puts(&b, junk);
    bt_buf_puts(&b, "\n" LINE("b", "01"));
    write_raw(t->dfd, NAME, bt_buf_str(&b));
    bt_buf_release(&b);
    free(junk);
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, "o:a\n|o:b\n|");
    free(all);
}

struct tap_log {
    struct bt_buf b;
    int64_t last_ns;
};

static void
on_entry(void *ud, const struct eng_log_entry *e)
{
    struct tap_log *l = ud;
    bt_buf_puts(&l->b, e->stream == ENG_LOG_STDERR ? "e:" : "o:");
    bt_buf_append(&l->b, e->data, e->len);
    bt_buf_puts(&l->b, "|");
    l->last_ns = e->time_ns;
}

static void
test_tap(void **state)
{
    struct tmpdir *t = *state;
    struct tap_log l = { 0 };
    bt_buf_init(&l.b, 1 << 20);
    struct eng_log_writer *w = open_writer(t->dfd, 0, 0);
    eng_log_writer_set_tap(w, on_entry, &l);
    PUT(w, ENG_LOG_STDOUT, "a\nb", T0);
    put(w, ENG_LOG_STDERR, "c\n", 2, T0 + 1, 7);
    assert_string_equal(bt_buf_str(&l.b), "o:a\n|e:c\n|");
    assert_int_equal(l.last_ns, (T0 + 1) * NS + 7);
    w = eng_log_writer_free(w);
    assert_string_equal(bt_buf_str(&l.b), "o:a\n|e:c\n|o:b|");
    char *all = read_all(t->dfd, NAME, 0, 0, -1);
    assert_string_equal(all, bt_buf_str(&l.b));
    free(all);
    bt_buf_release(&l.b);
}

static void
test_open_errors(void **state)
{
    struct tmpdir *t = *state;
    struct eng_log_writer *w = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_log_writer_open(t->dfd, "a/b", 0, 0, &w, &err), -EINVAL);
    assert_non_null(err);
    err = bt_err_free(err);
    assert_int_equal(eng_log_writer_open(t->dfd, "..", 0, 0, &w, NULL), -EINVAL);
    assert_int_equal(mkdirat(t->dfd, "dir", 0755), 0);
    assert_true(eng_log_writer_open(t->dfd, "dir", 0, 0, &w, &err) < 0);
    assert_non_null(err);
    err = bt_err_free(err);
    struct eng_log_reader *r = NULL;
    struct eng_log_read_opts o = { .tail = -1 };
    assert_true(eng_log_reader_open(t->dfd, "dir", &o, &r, &err) < 0);
    assert_non_null(err);
    err = bt_err_free(err);
    assert_int_equal(eng_log_reader_open(t->dfd, "", &o, &r, NULL), -EINVAL);
}

static void
parse_ok(const char *line, enum eng_log_stream s, int64_t ns, const char *data, size_t len)
{
    struct eng_log_entry e;
    char *buf = NULL;
    if (eng_log_entry_parse(line, strlen(line), &e, &buf) != 0)
        fail_msg("'%s' should parse", line);
    assert_int_equal(e.stream, s);
    assert_int_equal(e.time_ns, ns);
    assert_int_equal(e.len, len);
    if (len)
        assert_memory_equal(e.data, data, len);
    free(buf);
}

static void
test_entry_parse(void **state)
{
    (void) state;
    int64_t t0 = T0 * NS;
    parse_ok("{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00.5Z\"}",
             ENG_LOG_STDERR, t0 + 500000000, "hi\n", 3);
    /* Docker's attrs, any member order, spaces, escapes, a surrogate pair, a lone one. */
    parse_ok(" { \"time\" : \"2024-05-01T14:00:00+02:00\", \"attrs\":{\"a\":[1,-2.5e3,true,null,"
             "{}]}, \"log\":\"\\u00e9\\ud83d\\ude00\\ud800\\/\\t\\b\\f\" } ",
             ENG_LOG_STDOUT, t0, "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd/\t\b\f", 13);
    parse_ok("{\"time\":\"2024-05-01T12:00:00.000000001Z\"}", ENG_LOG_STDOUT, t0 + 1, "", 0);
    static const char *const bad[] = {
        "",
        "{}",
        "{\"log\":\"x\"}",
        "{\"log\":\"x\",\"time\":\"2024-05-01T12:00:00\"}",
        "{\"log\":\"x\",\"time\":\"2024-05-01\"}",
        "{\"log\":\"x\",\"time\":\"2024-02-30T12:00:00Z\"}",
        "{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2024-05-01T12:00:00Z\"}",
        "{\"log\":\"x\",\"time\":\"2024-05-01T12:00:00Z\"",
        "{\"log\":\"x\",\"time\":\"2024-05-01T12:00:00Z\"}x",
        "{\"log\":\"\x01\",\"time\":\"2024-05-01T12:00:00Z\"}",
        "{\"log\":\"\\x\",\"time\":\"2024-05-01T12:00:00Z\"}",
        "{\"log\":\"\\u12\",\"time\":\"2024-05-01T12:00:00Z\"}",
        "{\"log\":1,\"time\":\"2024-05-01T12:00:00Z\"}",
        "{\"a\":[1,],\"time\":\"2024-05-01T12:00:00Z\"}",
        "[\"time\"]",
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
        struct eng_log_entry e;
        char *buf = NULL;
        if (eng_log_entry_parse(bad[i], strlen(bad[i]), &e, &buf) != -EINVAL)
            fail_msg("'%s' should not parse", bad[i]);
        assert_null(buf);
    }
}

static void
test_time_format(void **state)
{
    (void) state;
    char buf[ENG_LOG_TIME_MAX];
    assert_int_equal(eng_log_time_format(T0 * NS + 123456789, buf), 30);
    assert_string_equal(buf, "2024-05-01T12:00:00.123456789Z");
    eng_log_time_format(T0 * NS + 120000000, buf);
    assert_string_equal(buf, "2024-05-01T12:00:00.12Z");
    eng_log_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    eng_log_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
    eng_log_time_format(INT64_C(951782400) * NS, buf);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
}

static void
time_ok(const char *s, int64_t now, int64_t want)
{
    int64_t got = 0;
    struct bt_err *err = NULL;
    if (eng_log_time_parse(s, now, &got, &err) != 0)
        fail_msg("'%s' should parse: %s", s, err ? err->msg : "?");
    if (got != want)
        fail_msg("'%s': expected %lld, got %lld", s, (long long) want, (long long) got);
}

static void
test_time_parse(void **state)
{
    (void) state;
    int64_t now = (T0 + 3600) * NS + 5;
    int64_t t0 = T0 * NS;
    time_ok("1h", now, t0 + 5);
    time_ok("60m", now, t0 + 5);
    time_ok("1h30m", now, t0 + 5 - 1800 * NS);
    time_ok("1.5s", now, now - 1500000000);
    time_ok("-10s", now, now + 10 * NS);
    time_ok("250ms", now, now - 250000000);
    time_ok("3us", now, now - 3000);
    time_ok("3\xc2\xb5s", now, now - 3000);
    time_ok("7ns", now, now - 7);
    time_ok("0", now, 0);
    time_ok("1714564800", now, t0);
    time_ok("1714564800.5", now, t0 + 500000000);
    time_ok("1714564800.000000001", now, t0 + 1);
    time_ok("2024-05-01T12:00:00Z", now, t0);
    time_ok("2024-05-01T12:00:00.25Z", now, t0 + 250000000);
    time_ok("2024-05-01t12:00:00z", now, t0);
    time_ok("2024-05-01T14:00:00+02:00", now, t0);
    time_ok("2024-05-01T10:30:00-01:30", now, t0);
    time_ok("2024-05-01T12Z", now, t0);
    time_ok("2024-05-01T12:00Z", now, t0);
    time_ok("2024-05-01Z", now, t0 - 12 * 3600 * NS);

    /* Without a zone: the local zone (as Docker's CLI). */
    char *tz = getenv("TZ") ? bt_xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", "UTC-2", 1); /* POSIX sign: two hours east of UTC */
    tzset();
    time_ok("2024-05-01T14:00:00", now, t0);
    time_ok("2024-05-01T14:00", now, t0);
    time_ok("2024-05-01T14", now, t0);
    time_ok("2024-05-01", now, t0 - 14 * 3600 * NS);
    if (tz)
        setenv("TZ", tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(tz);

    static const char *const bad[] = {
        "",
        "abc",
        "10x",
        "1h3",
        "-",
        "2024-13-01",
        "2024-05-01T25:00:00Z",
        "2024-05-01T12:00:00.Z",
        "2024-05-01T12:00:60Z",
        "1714564800.",
        "1714564800.1234567891",
        "17145648OO",
        "2024-05-01T12:00:00+0200",
        "-1714564800",
        "99999999999999999999",
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
        int64_t got = 0;
        struct bt_err *err = NULL;
        if (eng_log_time_parse(bad[i], now, &got, &err) >= 0)
            fail_msg("'%s' should not parse (got %lld)", bad[i], (long long) got);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "invalid time"));
        bt_err_free(err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_partial_and_interleave, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_split_16k, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_rotate_1, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_rotate_2, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_rotate_3, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_rotate_3_one_batch, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_rotate_reopen, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_options, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_reader_snapshot, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_torn_line, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_long_lines_skipped, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_tap, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, tmpdir_teardown),
        cmocka_unit_test(test_entry_parse),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
