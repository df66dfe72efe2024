/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the log writer: escaping of outside bytes, level names, the line format
 * "UTC-timestamp level tag: message", level filtering and the _errno variant.
 */
#define LOG_TAG "logtest"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"

struct logpipe {
    int r, w;
};

static int
setup(void **state)
{
    static struct logpipe lp;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
        return -1;
    lp.r = p[0];
    lp.w = p[1];
    bt_log_set_target(lp.w, false);
    bt_log_set_level(BT_LOG_INFO);
    *state = &lp;
    return 0;
}

static int
teardown(void **state)
{
    struct logpipe *lp = *state;
    /* Back to the defaults. */
    bt_log_set_target(-1, true);
    bt_log_set_level(BT_LOG_INFO);
    close(lp->r);
    close(lp->w);
    return 0;
}

/* Everything written so far (the pipe is non-blocking); caller frees. */
static char *
drain(int fd)
{
    size_t cap = 65536, len = 0;
    char *s = bt_xmalloc(cap);
    for (;;) {
        ssize_t n = read(fd, s + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t) n;
        if (len + 1 == cap)
            s = bt_xgrow(s, &cap, cap * 2, 1);
    }
    s[len] = '\0';
    return s;
}

static void
assert_escape(const char *in, size_t len, size_t max, const char *want)
{
    char *out = bt_log_escape(in, len, max);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void
test_escape_printable(void **state)
{
    (void) state;
    assert_escape("hello, world", 12, 100, "hello, world");
    assert_escape("", 0, 100, "");
    assert_escape(NULL, 0, 100, "");
    /* Every printable ASCII byte but the backslash stays as it is. */
    char all[96];
    size_t n = 0;
    for (int c = 0x20; c < 0x7f; c++)
        if (c != '\\')
            all[n++] = (char) c;
    all[n] = '\0';
    assert_escape(all, n, sizeof all, all);
}

static void
test_escape_control_and_backslash(void **state)
{
    (void) state;
    assert_escape("a\nb", 3, 100, "a\\x0ab");
    assert_escape("\t\r\x1b[31m", 7, 100, "\\x09\\x0d\\x1b[31m");
    assert_escape("C:\\dir", 6, 100, "C:\\x5cdir");
    assert_escape("\x7f\x80\xff", 3, 100, "\\x7f\\x80\\xff");
    /* A NUL inside the data is escaped too, not the end. */
    assert_escape("a\0b", 3, 100, "a\\x00b");
    /* UTF-8 is bytes like any other. */
    assert_escape("\xc3\xa9", 2, 100, "\\xc3\\xa9");
    /* Forged log lines cannot be injected. */
    assert_escape("ok\n2024-01-01T00:00:00.000000Z error fake: x", 44, 100,
                  "ok\\x0a2024-01-01T00:00:00.000000Z error fake: x");
}

static void
test_escape_truncation(void **state)
{
    (void) state;
    assert_escape("abcdef", 6, 3, "abc...");
    assert_escape("abcdef", 6, 5, "abcde...");
    /* Exactly at max: no marker. */
    assert_escape("abcdef", 6, 6, "abcdef");
    assert_escape("abcdef", 6, 0, "...");
    assert_escape("", 0, 0, "");
    /* max counts input bytes, not output bytes. */
    assert_escape("\n\n\n\n", 4, 2, "\\x0a\\x0a...");
    /* Long input, all escaped. */
    char big[1000];
    memset(big, 0x01, sizeof big);
    char *out = bt_log_escape(big, sizeof big, 500);
    assert_int_equal(strlen(out), 500 * 4 + 3);
    assert_memory_equal(out, "\\x01\\x01", 8);
    assert_string_equal(out + 2000, "...");
    free(out);
}

static void
test_level_parse(void **state)
{
    (void) state;
    static const struct {
        const char *s;
        enum bt_log_level l;
    } ok[] = {
        { "error", BT_LOG_ERROR },
        { "warn", BT_LOG_WARN },
        { "info", BT_LOG_INFO },
        { "debug", BT_LOG_DEBUG },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        enum bt_log_level l = (enum bt_log_level) 99;
        assert_int_equal(bt_log_level_parse(ok[i].s, &l), 0);
        assert_int_equal(l, ok[i].l);
    }
    static const char *const bad[] = { "", "warning", "info ", " info", "trace", "err", "3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum bt_log_level l = BT_LOG_WARN;
        assert_int_equal(bt_log_level_parse(bad[i], &l), -EINVAL);
        assert_int_equal(l, BT_LOG_WARN);
    }
}

static void
test_set_get_level(void **state)
{
    (void) state;
    bt_log_set_level(BT_LOG_DEBUG);
    assert_int_equal(bt_log_get_level(), BT_LOG_DEBUG);
    bt_log_set_level(BT_LOG_ERROR);
    assert_int_equal(bt_log_get_level(), BT_LOG_ERROR);
}

/* One line: "YYYY-MM-DDTHH:MM:SS.ffffffZ <level> <tag>: <message>\n", the level padded to the
 * width of the longest name; the message only starts with msg unless whole. Returns the time
 * stamp. */
static time_t
assert_line_full(const char *line, const char *level, const char *tag, const char *msg, bool whole)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
                             "\\.[0-9]{6}Z ([a-z]+) +([^ :]+): ",
                             REG_EXTENDED),
                     0);
    regmatch_t m[4];
    int r = regexec(&re, line, 4, m, 0);
    regfree(&re);
    if (r != 0)
        print_error("line does not match: '%s'\n", line);
    assert_int_equal(r, 0);
    assert_int_equal(m[2].rm_eo - m[2].rm_so, (regoff_t) strlen(level));
    assert_memory_equal(line + m[2].rm_so, level, strlen(level));
    /* Padding makes the tag start in the same column for every level. */
    assert_int_equal(m[3].rm_so, 27 + 1 + 5 + 1);
    assert_int_equal(m[3].rm_eo - m[3].rm_so, (regoff_t) strlen(tag));
    assert_memory_equal(line + m[3].rm_so, tag, strlen(tag));
    const char *rest = line + m[0].rm_eo;
    size_t n = strlen(msg);
    assert_memory_equal(rest, msg, n);
    if (whole)
        assert_string_equal(rest + n, "\n");

    struct tm tm = { 0 };
    char stamp[32];
    memcpy(stamp, line, 19);
    stamp[19] = '\0';
    const char *end = strptime(stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    return timegm(&tm);
}

static time_t
assert_line(const char *line, const char *level, const char *tag, const char *msg)
{
    return assert_line_full(line, level, tag, msg, true);
}

static void
test_line_format(void **state)
{
    struct logpipe *lp = *state;
    time_t before = time(NULL);
    bt_log_write(BT_LOG_INFO, "ctr", "container '%s' started (pid %d)", "web-1", 4242);
    time_t after = time(NULL);
    char *out = drain(lp->r);
    time_t stamp = assert_line(out, "info", "ctr", "container 'web-1' started (pid 4242)");
    free(out);
    /* The time stamp is UTC now. */
    assert_true(stamp >= before - 1 && stamp <= after + 1);
}

static void
test_every_level_format(void **state)
{
    struct logpipe *lp = *state;
    bt_log_set_level(BT_LOG_DEBUG);
    static const struct {
        enum bt_log_level l;
        const char *name;
    } levels[] = {
        { BT_LOG_ERROR, "error" },
        { BT_LOG_WARN, "warn" },
        { BT_LOG_INFO, "info" },
        { BT_LOG_DEBUG, "debug" },
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        bt_log_write(levels[i].l, "dns", "query %zu", i);
        char *out = drain(lp->r);
        char msg[32];
        snprintf(msg, sizeof msg, "query %zu", i);
        assert_line(out, levels[i].name, "dns", msg);
        free(out);
    }
}

static void
test_macros_use_log_tag(void **state)
{
    struct logpipe *lp = *state;
    bt_log_warn("disk %d%% full, continuing", 91);
    char *out = drain(lp->r);
    assert_line(out, "warn", "logtest", "disk 91% full, continuing");
    free(out);
}

static void
test_level_filtering(void **state)
{
    struct logpipe *lp = *state;
    bt_log_set_level(BT_LOG_WARN);
    bt_log_debug("not shown %d", 1);
    bt_log_info("not shown %d", 2);
    bt_log_write(BT_LOG_DEBUG, "x", "not shown %d", 3);
    char *out = drain(lp->r);
    assert_string_equal(out, "");
    free(out);

    bt_log_warn("shown %d", 4);
    bt_log_error("shown %d", 5);
    out = drain(lp->r);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1 + strlen(nl + 1) - 8, "shown 5\n");
    nl[1] = '\0';
    assert_line(out, "warn", "logtest", "shown 4");
    free(out);

    bt_log_set_level(BT_LOG_ERROR);
    bt_log_warn("not shown %d", 6);
    out = drain(lp->r);
    assert_string_equal(out, "");
    free(out);

    bt_log_set_level(BT_LOG_DEBUG);
    bt_log_debug("shown %d", 7);
    out = drain(lp->r);
    assert_line(out, "debug", "logtest", "shown 7");
    free(out);
}

static void
test_write_errno(void **state)
{
    struct logpipe *lp = *state;
    int r = bt_log_write_errno(BT_LOG_ERROR, "vol", -ENOSPC, "cannot create '%s'", "/v/db");
    assert_int_equal(r, -ENOSPC);
    char *out = drain(lp->r);
    assert_line(out, "error", "vol", "cannot create '/v/db': No space left on device");
    free(out);

    /* A positive errno is accepted and still comes back negative. */
    assert_int_equal(bt_log_write_errno(BT_LOG_WARN, "vol", EACCES, "cannot open"), -EACCES);
    out = drain(lp->r);
    assert_line(out, "warn", "vol", "cannot open: Permission denied");
    free(out);

    /* Filtered out, the code still comes back. */
    assert_int_equal(bt_log_debug_errno(-ENOENT, "quiet"), -ENOENT);
    assert_int_equal(bt_log_warn_errno(-EIO, "loud"), -EIO);
    out = drain(lp->r);
    assert_line(out, "warn", "logtest", "loud: Input/output error");
    free(out);
}

static void
test_errno_preserved(void **state)
{
    struct logpipe *lp = *state;
    errno = EXDEV;
    bt_log_info("something %s", "happened");
    assert_int_equal(errno, EXDEV);
    char *out = drain(lp->r);
    assert_non_null(strstr(out, "something happened"));
    free(out);
}

static void
test_long_line_truncated(void **state)
{
    struct logpipe *lp = *state;
    char *big = bt_xmalloc(10001);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    bt_log_info("%s", big);
    free(big);
    char *out = drain(lp->r);
    size_t n = strlen(out);
    /* One line, cut with a marker, within the writer's line buffer. */
    assert_true(n > 4000 && n <= 4096);
    assert_string_equal(out + n - 4, "...\n");
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
    assert_line_full(out, "info", "logtest", "xxxxxxxxxx", false);
    free(out);

    /* The errno suffix on a full line does not overflow either. */
    big = bt_xmalloc(5000);
    memset(big, 'y', 4999);
    big[4999] = '\0';
    assert_int_equal(bt_log_error_errno(-EIO, "%s", big), -EIO);
    free(big);
    out = drain(lp->r);
    n = strlen(out);
    assert_true(n <= 4096);
    assert_string_equal(out + n - 4, "...\n");
    free(out);
}

static void
test_also_stderr(void **state)
{
    struct logpipe *lp = *state;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    assert_true(saved >= 0);
    assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
    bt_log_set_target(lp->w, true);
    bt_log_info("to %s", "both");
    bt_log_set_target(-1, true);
    bt_log_info("to %s", "stderr only");
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    close(p[1]);

    char *file = drain(lp->r);
    char *err = drain(p[0]);
    close(p[0]);
    assert_line(file, "info", "logtest", "to both");
    char *nl = strchr(err, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(nl + 1, "info  logtest: to stderr only\n"));
    nl[1] = '\0';
    assert_line(err, "info", "logtest", "to both");
    free(file);
    free(err);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_printable),
        cmocka_unit_test(test_escape_control_and_backslash),
        cmocka_unit_test(test_escape_truncation),
        cmocka_unit_test(test_level_parse),
        T(test_set_get_level),
        T(test_line_format),
        T(test_every_level_format),
        T(test_macros_use_log_tag),
        T(test_level_filtering),
        T(test_write_errno),
        T(test_errno_preserved),
        T(test_long_line_truncated),
        T(test_also_stderr),
    };
    return cmocka_run_group_tests_name("test-base-log", tests, NULL, NULL);
}
