/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container logs in Docker's json-file format: the writer (line splitting, hand-made JSON
 * escaping as Docker's jsonlog does it, size rotation as moby's loggerutils does it), the
 * reader (rotated files oldest first, tail by scanning backwards, since/until), the one-line
 * parser and the time forms of `logs --since/--until`. The daemon owns the pipes, the loop and
 * the followers; this file only sees bytes, times and files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAG "logs"

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/utf8.h"
#include "engine/container/logfile.h"

#define NSEC_PER_SEC INT64_C(1000000000)
/* The longest file name we accept, so that "NAME.<n>" always fits a path component. */
#define NAME_MAX_LEN 200
/* An entry escaped at worst (\u00XX for every byte) plus the members around it. */
#define ENTRY_JSON_MAX (ENG_LOG_ENTRY_MAX * 6 + 128)
/* The writer's batch: what one write() carries at most. */
#define OUT_CAP (256u * 1024)
/* The reader's chunk, and the longest line it takes (longer ones are not ours: skipped). */
#define CHUNK (64u * 1024)
#define LINE_MAX_LEN (128u * 1024)
/* Rotated files the reader looks for at most. */
#define MAX_FILES 4096

const char *
eng_log_stream_str(enum eng_log_stream s)
{
    return s == ENG_LOG_STDERR ? "stderr" : "stdout";
}

static bool
name_is_valid(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= NAME_MAX_LEN && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* --- Calendar ------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's well-known method). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *ret_y = (int64_t) yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* "YYYY-MM-DDTHH:MM:SS" of a second; 19 bytes for years 0-9999. Returns the length. */
static size_t
format_seconds(int64_t sec, char *buf, size_t size)
{
    int64_t days = floor_div(sec, 86400), rem = sec - days * 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long) y, m, d,
                     (unsigned) (rem / 3600), (unsigned) (rem / 60 % 60), (unsigned) (rem % 60));
    return n < 0 ? 0 : (size_t) n < size ? (size_t) n : size - 1;
}

/* ".123456789" without trailing zeros (nothing for 0), then "Z". Returns the length. */
static size_t
format_fraction(int64_t nsec, char *buf)
{
    size_t n = 0;
    if (nsec > 0) {
        buf[n++] = '.';
        int64_t div = NSEC_PER_SEC / 10;
        while (nsec > 0) {
            buf[n++] = (char) ('0' + nsec / div);
            nsec %= div;
            div /= 10;
        }
    }
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

size_t
eng_log_time_format(int64_t time_ns, char *buf)
{
    int64_t sec = floor_div(time_ns, NSEC_PER_SEC);
    size_t n = format_seconds(sec, buf, ENG_LOG_TIME_MAX - 12);
    return n + format_fraction(time_ns - sec * NSEC_PER_SEC, buf + n);
}

/* --- Timestamps and durations --------------------------------------------------------------- */

static bool
take_digits(const char **p, const char *end, unsigned n, unsigned *ret)
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (*p >= end || (*p)[0] < '0' || (*p)[0] > '9')
            return false;
        v = v * 10 + (unsigned) ((*p)[0] - '0');
        (*p)++;
    }
    *ret = v;
    return true;
}

static bool
take_char(const char **p, const char *end, char c)
{
    if (*p < end && **p == c) {
        (*p)++;
        return true;
    }
    return false;
}

/* YYYY-MM-DD[Thh[:mm[:ss[.frac]]]][Z|±hh:mm]. strict (the "time" member): the full time and a
 * zone are required. Without a zone the time is local, local_off seconds east of UTC. */
static int
parse_timestamp(const char *s, size_t len, bool strict, int64_t local_off, int64_t *ret_ns)
{
    const char *p = s, *end = s + len;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0;
    if (!take_digits(&p, end, 4, &y) || !take_char(&p, end, '-') || !take_digits(&p, end, 2, &mo) ||
        !take_char(&p, end, '-') || !take_digits(&p, end, 2, &d))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -EINVAL;
    bool has_time = take_char(&p, end, 'T') || take_char(&p, end, 't');
    bool has_sec = false;
    if (has_time) {
        if (!take_digits(&p, end, 2, &h) || h > 23)
            return -EINVAL;
        if (take_char(&p, end, ':')) {
            if (!take_digits(&p, end, 2, &mi) || mi > 59)
                return -EINVAL;
            if (take_char(&p, end, ':')) {
                if (!take_digits(&p, end, 2, &sec) || sec > 59)
                    return -EINVAL;
                has_sec = true;
                if (take_char(&p, end, '.')) {
                    int64_t scale = NSEC_PER_SEC;
                    unsigned nd = 0;
                    while (p < end && *p >= '0' && *p <= '9') {
                        if (++nd > 9)
                            return -EINVAL;
                        scale /= 10;
                        frac += (*p++ - '0') * scale;
                    }
                    if (nd == 0)
                        return -EINVAL;
                }
            }
        }
    }
    if (strict && !has_sec)
        return -EINVAL;
    int64_t off;
    if (take_char(&p, end, 'Z') || take_char(&p, end, 'z')) {
        off = 0;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-' ? -1 : 1;
        unsigned oh, om;
        if (!take_digits(&p, end, 2, &oh) || !take_char(&p, end, ':') ||
            !take_digits(&p, end, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = sign * (int64_t) (oh * 3600 + om * 60);
    } else {
        if (strict)
            return -EINVAL;
        off = local_off;
    }
    if (p != end)
        return -EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    /* Nanoseconds in an int64 reach from 1677 to 2262. */
    if (secs >= INT64_MAX / NSEC_PER_SEC || secs <= INT64_MIN / NSEC_PER_SEC)
        return -ERANGE;
    *ret_ns = secs * NSEC_PER_SEC + frac;
    return 0;
}

/* Go's time.ParseDuration: [-+]? then one or more <number>[.<fraction>]<unit>. */
static int
parse_duration(const char *s, int64_t *ret_ns)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        { "ns", 1 },
        { "us", 1000 },
        { "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
        { "\xce\xbcs", 1000 }, /* U+03BC Greek mu */
        { "ms", 1000000 },
        { "s", NSEC_PER_SEC },
        { "m", 60 * NSEC_PER_SEC },
        { "h", 3600 * NSEC_PER_SEC },
    };
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ret_ns = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    __int128 total = 0;
    while (*s) {
        __int128 whole = 0, frac = 0, scale = 1;
        bool digits = false;
        while (*s >= '0' && *s <= '9') {
            whole = whole * 10 + (*s++ - '0');
            digits = true;
            if (whole > INT64_MAX)
                return -ERANGE;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                if (scale < (__int128) 1000000000000000000) {
                    frac = frac * 10 + (*s - '0');
                    scale *= 10;
                }
                s++;
                digits = true;
            }
        }
        if (!digits)
            return -EINVAL;
        size_t ulen = 0;
        while (s[ulen] && s[ulen] != '.' && (s[ulen] < '0' || s[ulen] > '9'))
            ulen++;
        int64_t unit = 0;
        for (size_t i = 0; i < BT_ARRAY_SIZE(units); i++) {
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, s, ulen) == 0)
                unit = units[i].ns;
        }
        if (!unit)
            return -EINVAL;
        s += ulen;
        total += whole * unit + frac * unit / scale;
        if (total > INT64_MAX)
            return -ERANGE;
    }
    *ret_ns = (int64_t) (neg ? -total : total);
    return 0;
}

/* Unix seconds with an optional fraction of at most 9 digits. */
static int
parse_unix(const char *s, int64_t *ret_ns)
{
    int64_t sec = 0, frac = 0, scale = NSEC_PER_SEC;
    bool digits = false;
    for (; *s >= '0' && *s <= '9'; s++) {
        sec = sec * 10 + (*s - '0');
        digits = true;
        if (sec > INT64_MAX / NSEC_PER_SEC - 1)
            return -ERANGE;
    }
    if (!digits)
        return -EINVAL;
    if (*s == '.') {
        s++;
        unsigned nd = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (++nd > 9)
                return -EINVAL;
            scale /= 10;
            frac += (*s - '0') * scale;
        }
        if (nd == 0)
            return -EINVAL;
    }
    if (*s)
        return -EINVAL;
    *ret_ns = sec * NSEC_PER_SEC + frac;
    return 0;
}

int
eng_log_time_parse(const char *s, int64_t now_ns, int64_t *ret_ns, struct bt_err **err)
{
    int64_t v;
    /* As Docker: a duration first ("0" excepted: it is the epoch), then a timestamp; one with a
     * '-' in it was meant as a date and gets no second chance as Unix seconds. */
    if (strcmp(s, "0") != 0 && parse_duration(s, &v) == 0) {
        int64_t t;
        if (!__builtin_sub_overflow(now_ns, v, &t)) {
            *ret_ns = t;
            return 0;
        }
    } else if (strchr(s, '-')) {
        time_t now = (time_t) floor_div(now_ns, NSEC_PER_SEC);
        struct tm tm;
        int64_t off = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
        if (parse_timestamp(s, strlen(s), false, off, &v) == 0) {
            *ret_ns = v;
            return 0;
        }
    } else if (parse_unix(s, &v) == 0) {
        *ret_ns = v;
        return 0;
    }
    int r = bt_err_set(err, BT_EINVALID, "invalid time '%s'", s);
    bt_err_hint(err, "use an RFC 3339 timestamp (2024-05-01T12:00:00Z), Unix seconds "
                     "(1714564800.5) or a duration before now (10m, 1h30m)");
    return r;
}

/* --- Writing -------------------------------------------------------------------------------- */

struct pending {
    char data[ENG_LOG_ENTRY_MAX];
    size_t len;
    int64_t time_ns; /* of the last bytes added */
};

struct eng_log_writer {
    int dirfd;
    int fd; /* -1 after a failed rotation: reopened on the next write */
    char *name;
    uint64_t size; /* of the current file, as written */
    uint64_t max_size;
    unsigned max_file;
    bool torn; /* the file may end mid-line: the next write starts with "\n" */
    struct pending pend[2];
    char *out; /* the batch for the next write() */
    size_t out_len;
    int64_t sec_cached; /* the second sec_str spells */
    char sec_str[32];
    size_t sec_len;
    eng_log_tap_fn tap;
    void *tap_ud;
};

/* Read-write only to look at the last byte: a torn line must be ended before we append. */
static int
writer_open_file(struct eng_log_writer *w, int extra_flags, struct bt_err **err)
{
    int fd = openat(w->dirfd, w->name,
                    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | extra_flags, 0640);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open log file '%s'", w->name);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
        (void) close(fd);
        return bt_err_errno(err, r, "log file '%s' is not a regular file", w->name);
    }
    w->fd = fd;
    w->size = (uint64_t) st.st_size;
    w->torn = false;
    if (st.st_size > 0) {
        char last;
        if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
            w->torn = true;
    }
    return 0;
}

int
eng_log_writer_open(int dirfd, const char *name, uint64_t max_size, unsigned max_file,
                    struct eng_log_writer **ret, struct bt_err **err)
{
    if (!name_is_valid(name))
        return bt_err_set(err, EINVAL, "invalid log file name '%s'", name);
    struct eng_log_writer *w = bt_xcalloc(1, sizeof *w);
    w->fd = -1;
    w->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (w->dirfd < 0) {
        int r = bt_err_errno(err, -errno, "cannot duplicate the log directory descriptor");
        eng_log_writer_free(w);
        return r;
    }
    w->name = bt_xstrdup(name);
    w->max_size = max_size;
    w->max_file = max_file ? max_file : 1;
    w->sec_cached = INT64_MIN;
    w->out = bt_xmalloc(OUT_CAP);
    int r = writer_open_file(w, 0, err);
    if (r < 0) {
        eng_log_writer_free(w);
        return r;
    }
    /* A crash mid-line left a torn line: end it now, so the next entry starts on its own. */
    if (w->torn) {
        r = bt_write_all(w->fd, "\n", 1);
        if (r < 0) {
            r = bt_err_errno(err, r, "cannot write to log file '%s'", name);
            eng_log_writer_free(w);
            return r;
        }
        w->size++;
        w->torn = false;
    }
    *ret = w;
    return 0;
}

void
eng_log_writer_set_tap(struct eng_log_writer *w, eng_log_tap_fn fn, void *ud)
{
    w->tap = fn;
    w->tap_ud = ud;
}

static int
out_write(struct eng_log_writer *w, struct bt_err **err)
{
    if (w->out_len == 0)
        return 0;
    int r = 0;
    if (w->fd < 0)
        r = writer_open_file(w, 0, err);
    if (r == 0) {
        r = bt_write_all(w->fd, w->out, w->out_len);
        if (r < 0) {
            r = bt_err_errno(err, r, "cannot write to log file '%s'", w->name);
            /* Part of the batch may be in: count what is there, end it before the next. */
            struct stat st;
            if (fstat(w->fd, &st) == 0)
                w->size = (uint64_t) st.st_size;
            w->torn = true;
        } else {
            w->size += w->out_len;
        }
    }
    w->out_len = 0;
    return r;
}

static void
rotated_name(const struct eng_log_writer *w, unsigned i, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s.%u", w->name, i);
    BT_ASSERT(n > 0 && (size_t) n < size);
}

/* As moby's loggerutils: drop NAME.<max-1>, shift NAME.i to NAME.i+1, NAME to NAME.1 and start
 * an empty NAME; with one file, unlink NAME and start afresh. The old file is unlinked rather
 * than truncated, so a reader that holds it open still reads it whole. */
static int
rotate(struct eng_log_writer *w, struct bt_err **err)
{
    char from[NAME_MAX_LEN + 16], to[NAME_MAX_LEN + 16];
    BT_CLOSE(w->fd);
    int r = 0;
    if (w->max_file >= 2) {
        rotated_name(w, w->max_file - 1, to, sizeof to);
        if (unlinkat(w->dirfd, to, 0) < 0 && errno != ENOENT)
            r = -errno;
        for (unsigned i = w->max_file - 1; r == 0 && i > 1; i--) {
            rotated_name(w, i - 1, from, sizeof from);
            rotated_name(w, i, to, sizeof to);
            if (renameat(w->dirfd, from, w->dirfd, to) < 0 && errno != ENOENT)
                r = -errno;
        }
        if (r == 0) {
            rotated_name(w, 1, to, sizeof to);
            if (renameat(w->dirfd, w->name, w->dirfd, to) < 0 && errno != ENOENT)
                r = -errno;
        }
    } else if (unlinkat(w->dirfd, w->name, 0) < 0 && errno != ENOENT) {
        r = -errno;
    }
    if (r < 0)
        bt_log_warn_errno(r, "cannot rotate log file '%s', truncating it, continuing", w->name);
    /* O_TRUNC in case the rotation did not happen: the size limit holds either way. */
    return writer_open_file(w, O_TRUNC, err);
}

static bool
is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

/* The JSON string body of data, escaped as Docker's jsonlog does: \" \\ \n \r, other control
 * characters and < > & as \u00XX, invalid UTF-8 bytes as \ufffd each, U+2028 and U+2029
 * escaped. Returns the end of what it wrote (at most 6 bytes per input byte). */
static char *
escape_json(char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && is_plain((unsigned char) s[j]))
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == n)
            break;
        unsigned char c = (unsigned char) s[i];
        if (c < 0x80) {
            *o++ = '\\';
            if (c == '"' || c == '\\') {
                *o++ = (char) c;
            } else if (c == '\n') {
                *o++ = 'n';
            } else if (c == '\r') {
                *o++ = 'r';
            } else {
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 0xF];
                o += 5;
            }
            i++;
            continue;
        }
        size_t w;
        uint32_t cp = bt_utf8_next(s + i, n - i, &w);
        if (cp == BT_UTF8_REPLACEMENT && w == 1) {
            memcpy(o, "\\ufffd", 6);
            o += 6;
        } else if (cp == 0x2028 || cp == 0x2029) {
            memcpy(o, "\\u202", 5);
            o[5] = hex[cp & 0xF];
            o += 6;
        } else {
            memcpy(o, s + i, w);
            o += w;
        }
        i += w;
    }
    return o;
}

static int
emit(struct eng_log_writer *w, enum eng_log_stream s, const char *data, size_t len, int64_t time_ns,
     struct bt_err **err)
{
    int r = 0;
    /* Rotate before an entry once the file has reached its size, counting the batch. */
    if (w->max_size && w->size + w->out_len >= w->max_size) {
        r = out_write(w, err);
        if (r == 0)
            r = rotate(w, err);
    } else if (OUT_CAP - w->out_len < ENTRY_JSON_MAX + 1) {
        r = out_write(w, err);
    }
    if (w->tap) {
        struct eng_log_entry e = { .stream = s, .time_ns = time_ns, .data = data, .len = len };
        w->tap(w->tap_ud, &e);
    }

    char *o = w->out + w->out_len;
    if (w->torn) {
        *o++ = '\n';
        w->torn = false;
    }
    memcpy(o, "{\"log\":\"", 8);
    o = escape_json(o + 8, data, len);
    if (s == ENG_LOG_STDERR) {
        memcpy(o, "\",\"stream\":\"stderr\",\"time\":\"", 28);
    } else {
        memcpy(o, "\",\"stream\":\"stdout\",\"time\":\"", 28);
    }
    o += 28;
    int64_t sec = floor_div(time_ns, NSEC_PER_SEC);
    if (sec != w->sec_cached) {
        w->sec_len = format_seconds(sec, w->sec_str, sizeof w->sec_str);
        w->sec_cached = sec;
    }
    memcpy(o, w->sec_str, w->sec_len);
    o += w->sec_len;
    o += format_fraction(time_ns - sec * NSEC_PER_SEC, o);
    memcpy(o, "\"}\n", 3);
    o += 3;
    w->out_len = (size_t) (o - w->out);
    return r;
}

/* Keep the first error of a batch; the rest of the batch still goes out. */
static void
keep_first(int *first, int r)
{
    if (r < 0 && *first == 0)
        *first = r;
}

int
eng_log_writer_write(struct eng_log_writer *w, enum eng_log_stream s, const void *data, size_t len,
                     const struct timespec *ts, struct bt_err **err)
{
    BT_ASSERT(s == ENG_LOG_STDOUT || s == ENG_LOG_STDERR);
    struct pending *p = &w->pend[s];
    const char *d = data;
    int64_t t = (int64_t) ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
    int first = 0;
    while (len > 0) {
        size_t room = ENG_LOG_ENTRY_MAX - p->len;
        size_t n = len < room ? len : room;
        const char *nl = memchr(d, '\n', n);
        size_t take = nl ? (size_t) (nl - d) + 1 : n;
        if (!nl && p->len + take < ENG_LOG_ENTRY_MAX) {
            /* An unfinished line: keep it until its newline, the cap or a flush. */
            memcpy(p->data + p->len, d, take);
            p->len += take;
            p->time_ns = t;
        } else if (p->len == 0) {
            keep_first(&first, emit(w, s, d, take, t, first ? NULL : err));
        } else {
            memcpy(p->data + p->len, d, take);
            p->len += take;
            keep_first(&first, emit(w, s, p->data, p->len, t, first ? NULL : err));
            p->len = 0;
        }
        d += take;
        len -= take;
    }
    keep_first(&first, out_write(w, first ? NULL : err));
    return first;
}

int
eng_log_writer_flush(struct eng_log_writer *w, struct bt_err **err)
{
    int first = 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(w->pend); i++) {
        struct pending *p = &w->pend[i];
        if (p->len == 0)
            continue;
        keep_first(&first, emit(w, (enum eng_log_stream) i, p->data, p->len, p->time_ns,
                                first ? NULL : err));
        p->len = 0;
    }
    keep_first(&first, out_write(w, first ? NULL : err));
    return first;
}

struct eng_log_writer *
eng_log_writer_free(struct eng_log_writer *w)
{
    if (!w)
        return NULL;
    if (w->out)
        (void) eng_log_writer_flush(w, NULL); /* nobody to tell at this point */
    BT_CLOSE(w->fd);
    BT_CLOSE(w->dirfd);
    free(w->out);
    free(w->name);
    free(w);
    return NULL;
}

/* --- Parsing one line ----------------------------------------------------------------------- */

struct jp {
    const char *p, *end;
};

static void
skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int
hex4(const char *s, uint32_t *ret)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t) d;
    }
    *ret = v;
    return 0;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char) (0xC0 | cp >> 6);
        o[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char) (0xE0 | cp >> 12);
        o[1] = (char) (0x80 | (cp >> 6 & 0x3F));
        o[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char) (0xF0 | cp >> 18);
    o[1] = (char) (0x80 | (cp >> 12 & 0x3F));
    o[2] = (char) (0x80 | (cp >> 6 & 0x3F));
    o[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string at j->p (the opening quote), decoded into out (NULL: skipped). Decoding never
 * grows the text, so cap = the string's encoded length always suffices; a smaller cap refuses
 * longer strings. Lone surrogates become U+FFFD, as Go's decoder does. */
static int
parse_string(struct jp *j, char *out, size_t cap, size_t *ret_len)
{
    if (j->p >= j->end || *j->p != '"')
        return -EINVAL;
    j->p++;
    size_t n = 0;
    char tmp[4];
    for (;;) {
        if (j->p >= j->end)
            return -EINVAL;
        unsigned char c = (unsigned char) *j->p++;
        size_t w = 1;
        char *dst = tmp;
        if (c == '"')
            break;
        if (c < 0x20)
            return -EINVAL;
        if (c != '\\') {
            tmp[0] = (char) c;
        } else {
            if (j->p >= j->end)
                return -EINVAL;
            char e = *j->p++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                tmp[0] = e;
                break;
            case 'b':
                tmp[0] = '\b';
                break;
            case 'f':
                tmp[0] = '\f';
                break;
            case 'n':
                tmp[0] = '\n';
                break;
            case 'r':
                tmp[0] = '\r';
                break;
            case 't':
                tmp[0] = '\t';
                break;
            case 'u': {
                uint32_t cp, lo;
                if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
                    return -EINVAL;
                j->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
                    j->p[1] == 'u' && hex4(j->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                } else if (cp >= 0xD800 && cp < 0xE000) {
                    cp = BT_UTF8_REPLACEMENT;
                }
                w = put_utf8(tmp, cp);
                break;
            }
            default:
                return -EINVAL;
            }
        }
        if (out) {
            if (n + w > cap)
                return -EINVAL;
            memcpy(out + n, dst, w);
        }
        n += w;
    }
    if (ret_len)
        *ret_len = n;
    return 0;
}

static int skip_value(struct jp *j, unsigned depth);

static int
skip_container(struct jp *j, unsigned depth, char close)
{
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (parse_string(j, NULL, 0, NULL) < 0)
                return -EINVAL;
            skip_ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return -EINVAL;
        }
        if (skip_value(j, depth + 1) < 0)
            return -EINVAL;
        skip_ws(j);
        if (j->p >= j->end)
            return -EINVAL;
        char c = *j->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return -EINVAL;
        skip_ws(j);
    }
}

static int
skip_value(struct jp *j, unsigned depth)
{
    skip_ws(j);
    if (j->p >= j->end || depth > 32)
        return -EINVAL;
    char c = *j->p;
    if (c == '"')
        return parse_string(j, NULL, 0, NULL);
    if (c == '{' || c == '[')
        return skip_container(j, depth, c == '{' ? '}' : ']');
    static const char *const literals[] = { "true", "false", "null" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(literals); i++) {
        size_t n = strlen(literals[i]);
        if ((size_t) (j->end - j->p) >= n && memcmp(j->p, literals[i], n) == 0) {
            j->p += n;
            return 0;
        }
    }
    const char *start = j->p;
    while (j->p < j->end && strchr("+-.eE0123456789", *j->p) && *j->p)
        j->p++;
    return j->p > start ? 0 : -EINVAL;
}

int
eng_log_entry_parse(const char *line, size_t len, struct eng_log_entry *ret, char **ret_buf)
{
    struct jp j = { line, line + len };
    bt_autofree char *log = NULL;
    size_t log_len = 0;
    bool has_time = false;
    enum eng_log_stream stream = ENG_LOG_STDOUT;
    int64_t time_ns = 0;

    skip_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return -EINVAL;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            char key[16];
            size_t klen;
            skip_ws(&j);
            if (parse_string(&j, key, sizeof key, &klen) < 0) {
                /* A long key is none of ours: skip it. */
                klen = SIZE_MAX;
                if (parse_string(&j, NULL, 0, NULL) < 0)
                    return -EINVAL;
            }
            skip_ws(&j);
            if (j.p >= j.end || *j.p++ != ':')
                return -EINVAL;
            skip_ws(&j);
            char val[48];
            size_t vlen;
            if (klen == 3 && memcmp(key, "log", 3) == 0) {
                if (!log)
                    log = bt_xmalloc(len + 1);
                if (parse_string(&j, log, len, &log_len) < 0)
                    return -EINVAL;
            } else if (klen == 6 && memcmp(key, "stream", 6) == 0) {
                if (parse_string(&j, val, sizeof val, &vlen) < 0)
                    return -EINVAL;
                if (vlen == 6 && memcmp(val, "stdout", 6) == 0)
                    stream = ENG_LOG_STDOUT;
                else if (vlen == 6 && memcmp(val, "stderr", 6) == 0)
                    stream = ENG_LOG_STDERR;
                else
                    return -EINVAL;
            } else if (klen == 4 && memcmp(key, "time", 4) == 0) {
                if (parse_string(&j, val, sizeof val, &vlen) < 0 ||
                    parse_timestamp(val, vlen, true, 0, &time_ns) < 0)
                    return -EINVAL;
                has_time = true;
            } else if (skip_value(&j, 0) < 0) {
                return -EINVAL;
            }
            skip_ws(&j);
            if (j.p >= j.end)
                return -EINVAL;
            char c = *j.p++;
            if (c == '}')
                break;
            if (c != ',')
                return -EINVAL;
        }
    }
    skip_ws(&j);
    if (j.p != j.end || !has_time)
        return -EINVAL;
    if (log_len == 0) {
        free(log);
        log = NULL;
    }
    *ret =
        (struct eng_log_entry){ .stream = stream, .time_ns = time_ns, .data = log, .len = log_len };
    *ret_buf = BT_TAKE_PTR(log);
    return 0;
}

/* --- Reading -------------------------------------------------------------------------------- */

struct rfile {
    int fd;
    uint64_t pos, end; /* what is left to read: [pos, end) */
};

struct eng_log_reader {
    struct rfile *files; /* oldest first */
    size_t nfiles, cur;
    struct eng_log_read_opts o;
    char *chunk;
    size_t clen, cpos;
    char *line; /* a line that spans chunks */
    size_t line_len;
    bool skipping; /* inside a line over LINE_MAX_LEN */
    bool done;
    char *ebuf; /* the last entry's data */
};

bool
eng_log_read_opts_accepts(const struct eng_log_read_opts *o, int64_t time_ns)
{
    return (!o->since_ns || time_ns >= o->since_ns) && (!o->until_ns || time_ns <= o->until_ns);
}

static int
pread_full(int fd, char *buf, size_t len, uint64_t off, size_t *ret)
{
    for (;;) {
        ssize_t k = pread(fd, buf, len, (off_t) off);
        if (k >= 0) {
            *ret = (size_t) k;
            return 0;
        }
        if (errno != EINTR)
            return -errno;
    }
}

/* Find where the last `need` lines start, going backwards from the newest file in chunks.
 * Files before that point are left out (pos = end). */
static int
tail_seek(struct eng_log_reader *r, int64_t need, struct bt_err **err)
{
    for (size_t i = r->nfiles; i-- > 0;) {
        struct rfile *f = &r->files[i];
        if (need <= 0) {
            f->pos = f->end;
            continue;
        }
        int64_t count = 0;
        uint64_t hi = f->end;
        bool found = false;
        while (hi > 0 && !found) {
            uint64_t lo = hi > CHUNK ? hi - CHUNK : 0;
            size_t got;
            int rr = pread_full(f->fd, r->chunk, hi - lo, lo, &got);
            if (rr < 0)
                return bt_err_errno(err, rr, "cannot read the log file");
            if (got < hi - lo) {
                /* Shrunk under us (truncated by hand): read nothing past what is there. */
                f->end = hi = lo + got;
                continue;
            }
            size_t n = got;
            const char *nl;
            while (n > 0 && (nl = memrchr(r->chunk, '\n', n))) {
                n = (size_t) (nl - r->chunk);
                /* A line starts after the newline that ends the line before it. */
                if (++count == need + 1) {
                    f->pos = lo + n + 1;
                    found = true;
                    break;
                }
            }
            hi = lo;
        }
        if (found) {
            need = 0;
        } else {
            f->pos = 0;
            need -= count;
        }
    }
    return 0;
}

/* With since, a whole file whose last line is older is left out unread (as moby does for its
 * compressed files). Its last line is in the final chunk, or the file is read as usual. */
static int
skip_old_files(struct eng_log_reader *r, struct bt_err **err)
{
    for (size_t i = 0; i + 1 < r->nfiles; i++) {
        struct rfile *f = &r->files[i];
        uint64_t lo = f->end > CHUNK ? f->end - CHUNK : 0;
        size_t got;
        int rr = pread_full(f->fd, r->chunk, f->end - lo, lo, &got);
        if (rr < 0)
            return bt_err_errno(err, rr, "cannot read the log file");
        const char *end = got ? memrchr(r->chunk, '\n', got) : NULL;
        if (!end)
            break;
        const char *prev = memrchr(r->chunk, '\n', (size_t) (end - r->chunk));
        if (!prev && lo > 0)
            break; /* the line starts before the chunk: too long to bother */
        const char *start = prev ? prev + 1 : r->chunk;
        struct eng_log_entry e;
        char *buf = NULL;
        if (eng_log_entry_parse(start, (size_t) (end - start), &e, &buf) < 0)
            break;
        free(buf);
        if (e.time_ns >= r->o.since_ns)
            break;
        f->pos = f->end;
    }
    return 0;
}

static int
reader_add_file(struct eng_log_reader *r, int dirfd, const char *name, bool *ret_found,
                struct bt_err **err)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            *ret_found = false;
            return 0;
        }
        return bt_err_errno(err, -errno, "cannot open log file '%s'", name);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        (void) close(fd);
        return bt_err_set(err, EINVAL, "log file '%s' is not a regular file", name);
    }
    r->files = bt_xrealloc(r->files, (r->nfiles + 1) * sizeof *r->files);
    r->files[r->nfiles++] = (struct rfile){ .fd = fd, .pos = 0, .end = (uint64_t) st.st_size };
    *ret_found = true;
    return 0;
}

int
eng_log_reader_open(int dirfd, const char *name, const struct eng_log_read_opts *o,
                    struct eng_log_reader **ret, struct bt_err **err)
{
    if (!name_is_valid(name))
        return bt_err_set(err, EINVAL, "invalid log file name '%s'", name);
    struct eng_log_reader *r = bt_xcalloc(1, sizeof *r);
    r->o = *o;
    r->chunk = bt_xmalloc(CHUNK);
    /* Newest first while opening (NAME, NAME.1, ...), reversed below. */
    bool found = true;
    int rr = reader_add_file(r, dirfd, name, &found, err);
    for (unsigned i = 1; rr == 0 && found && i < MAX_FILES; i++) {
        char rot[NAME_MAX_LEN + 16];
        int n = snprintf(rot, sizeof rot, "%s.%u", name, i);
        BT_ASSERT(n > 0 && (size_t) n < sizeof rot);
        rr = reader_add_file(r, dirfd, rot, &found, err);
    }
    if (rr < 0) {
        eng_log_reader_free(r);
        return rr;
    }
    for (size_t i = 0; i < r->nfiles / 2; i++) {
        struct rfile t = r->files[i];
        r->files[i] = r->files[r->nfiles - 1 - i];
        r->files[r->nfiles - 1 - i] = t;
    }
    if (o->tail == 0) {
        r->done = true;
    } else if (o->tail > 0 || o->since_ns) {
        rr = o->tail > 0 ? tail_seek(r, o->tail, err) : skip_old_files(r, err);
        if (rr < 0) {
            eng_log_reader_free(r);
            return bt_err_wrap(err, "log file '%s'", name);
        }
    }
    *ret = r;
    return 0;
}

/* The next line of the files (without its newline) into *ret_line: 1, or 0 at the end. A line
 * torn at the end of a file or longer than LINE_MAX_LEN is skipped here. */
static int
next_line(struct eng_log_reader *r, const char **ret_line, size_t *ret_len, struct bt_err **err)
{
    for (;;) {
        if (r->cpos == r->clen) {
            while (r->cur < r->nfiles && r->files[r->cur].pos >= r->files[r->cur].end) {
                r->line_len = 0;
                r->skipping = false;
                r->cur++;
            }
            if (r->cur == r->nfiles)
                return 0;
            struct rfile *f = &r->files[r->cur];
            uint64_t left = f->end - f->pos;
            size_t got;
            int rr = pread_full(f->fd, r->chunk, left < CHUNK ? left : CHUNK, f->pos, &got);
            if (rr < 0)
                return bt_err_errno(err, rr, "cannot read the log file");
            if (got == 0) {
                f->end = f->pos; /* shrunk under us */
                continue;
            }
            f->pos += got;
            r->clen = got;
            r->cpos = 0;
        }
        const char *start = r->chunk + r->cpos;
        size_t avail = r->clen - r->cpos;
        const char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t) (nl - start) : avail;
        r->cpos += take + (nl ? 1 : 0);
        if (r->skipping) {
            if (nl)
                r->skipping = false;
            continue;
        }
        if (r->line_len == 0 && nl) {
            *ret_line = start;
            *ret_len = take;
            return 1;
        }
        if (r->line_len + take > LINE_MAX_LEN) {
            r->line_len = 0;
            r->skipping = !nl;
            continue;
        }
        if (!r->line)
            r->line = bt_xmalloc(LINE_MAX_LEN);
        memcpy(r->line + r->line_len, start, take);
        r->line_len += take;
        if (nl) {
            *ret_line = r->line;
            *ret_len = r->line_len;
            r->line_len = 0;
            return 1;
        }
    }
}

int
eng_log_reader_next(struct eng_log_reader *r, struct eng_log_entry *ret, struct bt_err **err)
{
    while (!r->done) {
        const char *line = NULL;
        size_t len = 0;
        int rr = next_line(r, &line, &len, err);
        if (rr <= 0) {
            r->done = true;
            return rr;
        }
        struct eng_log_entry e;
        char *buf;
        if (eng_log_entry_parse(line, len, &e, &buf) < 0)
            continue; /* torn by a crash, or not ours */
        if (r->o.since_ns && e.time_ns < r->o.since_ns) {
            free(buf);
            continue;
        }
        if (r->o.until_ns && e.time_ns > r->o.until_ns) {
            free(buf);
            r->done = true;
            break;
        }
        free(r->ebuf);
        r->ebuf = buf;
        *ret = e;
        return 1;
    }
    return 0;
}

struct eng_log_reader *
eng_log_reader_free(struct eng_log_reader *r)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->nfiles; i++)
        BT_CLOSE(r->files[i].fd);
    free(r->files);
    free(r->chunk);
    free(r->line);
    free(r->ebuf);
    free(r);
    return NULL;
}
