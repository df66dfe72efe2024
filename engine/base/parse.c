/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict number parsing and the string helpers (including "did you mean" suggestions).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/base/parse.h"

int
bt_parse_u64(const char *s, uint64_t *ret)
{
    if (!s || !isdigit((unsigned char) s[0]))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *ret = v;
    return 0;
}

int
bt_parse_i64(const char *s, int64_t *ret)
{
    if (!s)
        return -EINVAL;
    const char *d = s[0] == '-' ? s + 1 : s;
    if (!isdigit((unsigned char) d[0]))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *ret = v;
    return 0;
}

int
bt_parse_u32(const char *s, uint32_t *ret)
{
    uint64_t v;
    int r = bt_parse_u64(s, &v);
    if (r < 0)
        return r;
    if (v > UINT32_MAX)
        return -ERANGE;
    *ret = (uint32_t) v;
    return 0;
}

int
bt_parse_int(const char *s, int *ret)
{
    int64_t v;
    int r = bt_parse_i64(s, &v);
    if (r < 0)
        return r;
    if (v < INT_MIN || v > INT_MAX)
        return -ERANGE;
    *ret = (int) v;
    return 0;
}

int
bt_parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

bool
bt_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const char *
bt_startswith(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

#define DIST_MAXLEN 64

unsigned
bt_str_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > DIST_MAXLEN || lb > DIST_MAXLEN)
        return 255;
    /* Optimal string alignment distance, three rolling rows. */
    unsigned rows[3][DIST_MAXLEN + 1];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned) j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned) i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        unsigned *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > 255 ? 255 : prev[lb];
}

const char *
bt_str_closest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    unsigned best_d = UINT_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        unsigned d = bt_str_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* A typo is a small share of the word: allow 1 edit for short words, up to a third. */
    size_t len = strlen(word);
    if (len == 0)
        return NULL;
    unsigned limit = len <= 3 ? 1 : len <= 12 ? (unsigned) (len + 2) / 3 : 4;
    if (best && best_d <= limit)
        return best;
    /* A prefix of a command ("vers" for "version") is also a good guess. */
    for (size_t i = 0; i < n && len >= 2; i++)
        if (candidates[i] && strncmp(candidates[i], word, len) == 0)
            return candidates[i];
    return NULL;
}

static const struct {
    const char *name;
    int num;
} signal_names[] = {
    { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
    { "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },
    { "ILL", SIGILL },   { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGIOT },
    { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },
    { "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
    { "STOP", SIGSTOP }, { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
    { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
    { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

/* The kernel's real-time range: glibc reserves the first few for itself, but a container's
 * process is not ours; Docker numbers them from the kernel's 32 and 64. */
#define KERNEL_SIGRTMIN 32
#define KERNEL_SIGRTMAX 64

int
bt_signal_parse(const char *s, int *ret)
{
    int n;
    if (!s || !*s)
        return -EINVAL;
    if (isdigit((unsigned char) s[0])) {
        if (bt_parse_int(s, &n) < 0 || n < 1 || n > KERNEL_SIGRTMAX)
            return -EINVAL;
        *ret = n;
        return 0;
    }
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++) {
        if (strcasecmp(name, signal_names[i].name) == 0) {
            *ret = signal_names[i].num;
            return 0;
        }
    }
    /* RTMIN, RTMIN+1..15, RTMAX-14..-1, RTMAX: Docker's table has no others. */
    bool max = strncasecmp(name, "RTMAX", 5) == 0;
    if (!max && strncasecmp(name, "RTMIN", 5) != 0)
        return -EINVAL;
    const char *rest = name + 5;
    int off = 0;
    if (*rest && (*rest != (max ? '-' : '+') || !isdigit((unsigned char) rest[1]) ||
                  bt_parse_int(rest + 1, &off) < 0 || off < 1 || off > (max ? 14 : 15)))
        return -EINVAL;
    *ret = max ? KERNEL_SIGRTMAX - off : KERNEL_SIGRTMIN + off;
    return 0;
}
