/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log writer. Lines are formatted into one buffer and written with one write(2) so lines
 * from several processes appending to the same file do not interleave.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"

static enum bt_log_level log_level = BT_LOG_INFO;
static int log_fd = -1;
static bool log_stderr = true;

static const char *const level_names[] = {
    [BT_LOG_ERROR] = "error",
    [BT_LOG_WARN] = "warn",
    [BT_LOG_INFO] = "info",
    [BT_LOG_DEBUG] = "debug",
};

void
bt_log_set_level(enum bt_log_level level)
{
    log_level = level;
}

enum bt_log_level
bt_log_get_level(void)
{
    return log_level;
}

void
bt_log_set_target(int fd_file, bool also_stderr)
{
    log_fd = fd_file;
    log_stderr = also_stderr;
}

int
bt_log_level_parse(const char *s, enum bt_log_level *ret_level)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(level_names); i++)
        if (strcmp(s, level_names[i]) == 0) {
            *ret_level = (enum bt_log_level) i;
            return 0;
        }
    return -EINVAL;
}

static void
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a failing log */
        }
        p += w;
        n -= (size_t) w;
    }
}

static void log_v(enum bt_log_level level, const char *tag, const char *suffix, const char *fmt,
                  va_list ap) BT_PRINTF(4, 0);

static void
log_v(enum bt_log_level level, const char *tag, const char *suffix, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    int saved = errno;
    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(line + n, sizeof line - n, ".%06ldZ %-5s %s: ", ts.tv_nsec / 1000,
                     level_names[level], tag);
    if (k > 0)
        n += (size_t) k;
    if (n < sizeof line) {
        k = vsnprintf(line + n, sizeof line - n, fmt, ap);
        if (k > 0)
            n += (size_t) k;
    }
    if (suffix && n < sizeof line) {
        k = snprintf(line + n, sizeof line - n, ": %s", suffix);
        if (k > 0)
            n += (size_t) k;
    }
    if (n >= sizeof line - 1) {
        n = sizeof line - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    if (log_fd >= 0)
        write_all(log_fd, line, n);
    if (log_stderr)
        write_all(STDERR_FILENO, line, n);
    errno = saved;
}

void
bt_log_write(enum bt_log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(level, tag, NULL, fmt, ap);
    va_end(ap);
}

int
bt_log_write_errno(enum bt_log_level level, const char *tag, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(level, tag, strerror(r < 0 ? -r : r), fmt, ap);
    va_end(ap);
    return r < 0 ? r : -r;
}

char *
bt_log_escape(const void *data, size_t len, size_t max)
{
    const unsigned char *p = data;
    bool cut = len > max;
    if (cut)
        len = max;
    char *out = bt_xmalloc(len * 4 + 4);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char) c;
        } else {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}
