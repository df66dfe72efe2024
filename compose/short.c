/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small short syntaxes: durations (and their canonical text), byte sizes, extra_hosts and
 * environment entries, plus the input checks every parser in compose/short*.c shares. Ports,
 * volumes and command strings have files of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/short.h"

#define Q "'%.*s%s'"
#define QA(s) COMPOSE_SHORT_QUOTE_ARGS(s)

int
compose_short_check(const char *what, const char *s, struct bt_err **err)
{
    if (!s)
        return bt_err_set(err, BT_EINVALID, "missing %s", what);
    if (strnlen(s, COMPOSE_SHORT_MAX + 1) > COMPOSE_SHORT_MAX)
        return bt_err_set(err, BT_ETOOBIG, "%s " Q " is too long (at most %u bytes)", what, QA(s),
                          COMPOSE_SHORT_MAX);
    return 0;
}

/* Durations. */

#define NS_US INT64_C(1000)
#define NS_MS INT64_C(1000000)
#define NS_S INT64_C(1000000000)
#define NS_H (INT64_C(3600) * NS_S)

static const struct {
    const char *name;
    int64_t ns;
} duration_units[] = {
    { "ns", 1 },
    { "us", NS_US },
    { "\xc2\xb5s", NS_US }, /* U+00B5 MICRO SIGN */
    { "\xce\xbcs", NS_US }, /* U+03BC GREEK SMALL LETTER MU */
    { "ms", NS_MS },
    { "s", NS_S },
    { "m", 60 * NS_S },
    { "h", NS_H },
    { "d", 24 * NS_H },
    { "w", 168 * NS_H },
};

#define DURATION_ALLOWED "a number with a unit: ns, us, ms, s, m, h, d or w, like '1m30s'"

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One "<number><unit>" component at *p, in nanoseconds; advances *p. -ERANGE on overflow,
 * -ENOENT with *p at the unit when it is unknown, -EINVAL with *why set otherwise. */
static int
duration_component(const char **p, uint64_t *ret, const char **why)
{
    const char *s = *p;
    uint64_t whole = 0, frac = 0;
    double scale = 1;
    bool pre = false, post = false, frac_full = false;

    for (; is_digit(*s); s++, pre = true) {
        if (whole > (uint64_t) INT64_MAX / 10)
            return -ERANGE;
        whole = whole * 10 + (uint64_t) (*s - '0');
        if (whole > (uint64_t) INT64_MAX)
            return -ERANGE;
    }
    if (*s == '.')
        /* Digits past what int64 holds only stop adding precision, as in Go. */
        for (s++; is_digit(*s); s++, post = true) {
            if (frac_full || frac > (uint64_t) INT64_MAX / 10 ||
                frac * 10 + (uint64_t) (*s - '0') > (uint64_t) INT64_MAX) {
                frac_full = true;
                continue;
            }
            frac = frac * 10 + (uint64_t) (*s - '0');
            scale *= 10;
        }
    if (!pre && !post)
        return *why = "a number must come before each unit", -EINVAL;

    size_t ulen = 0;
    while (s[ulen] && s[ulen] != '.' && !is_digit(s[ulen]))
        ulen++;
    if (ulen == 0)
        return *why = "missing unit", -EINVAL;
    int64_t unit = 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(duration_units); i++)
        if (strlen(duration_units[i].name) == ulen && memcmp(duration_units[i].name, s, ulen) == 0)
            unit = duration_units[i].ns;
    if (unit == 0) {
        *p = s;
        return -ENOENT;
    }

    if (whole > (uint64_t) (INT64_MAX / unit))
        return -ERANGE;
    uint64_t v = whole * (uint64_t) unit;
    if (frac > 0) {
        /* As Go: float64 keeps fractions of hours exact to the nanosecond. */
        v += (uint64_t) ((double) frac * ((double) unit / scale));
        if (v > (uint64_t) INT64_MAX)
            return -ERANGE;
    }
    *p = s + ulen;
    *ret = v;
    return 0;
}

int
compose_duration_parse(const char *s, int64_t *ret_ns, struct bt_err **err)
{
    int r = compose_short_check("duration", s, err);
    if (r < 0)
        return r;
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *ret_ns = 0;
        return 0;
    }
    if (*p == '\0')
        return bt_err_set(err, BT_EINVALID, "invalid duration " Q ": expected %s", QA(s),
                          DURATION_ALLOWED);

    uint64_t total = 0;
    while (*p) {
        const char *why = "a number must come before each unit";
        uint64_t v = 0;
        r = (*p == '.' || is_digit(*p)) ? duration_component(&p, &v, &why) : -EINVAL;
        if (r == 0 && (total += v) > (uint64_t) INT64_MAX)
            r = -ERANGE;
        if (r == -ERANGE)
            return bt_err_set(err, BT_EINVALID,
                              "invalid duration " Q ": out of range (at most about 292 years)",
                              QA(s));
        if (r == -ENOENT)
            return bt_err_set(err, BT_EINVALID,
                              "invalid duration " Q ": unknown unit '%.*s'; "
                              "expected %s",
                              QA(s), (int) strcspn(p, "0123456789."), p, DURATION_ALLOWED);
        if (r < 0)
            return bt_err_set(err, BT_EINVALID, "invalid duration " Q ": %s; expected %s", QA(s),
                              why, DURATION_ALLOWED);
    }
    *ret_ns = neg ? -(int64_t) total : (int64_t) total;
    return 0;
}

/* ".5", ".25": the fraction of v / div without trailing zeros, "" when there is none. */
static void
format_frac(uint64_t v, uint64_t div, char *buf, size_t size)
{
    buf[0] = '\0';
    if (v == 0)
        return;
    int digits = 0;
    for (uint64_t d = div; d > 1; d /= 10)
        digits++;
    while (v % 10 == 0) {
        v /= 10;
        digits--;
    }
    (void) snprintf(buf, size, ".%0*llu", digits, (unsigned long long) v);
}

char *
compose_duration_format(int64_t ns, char buf[COMPOSE_DURATION_STRLEN])
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? -(uint64_t) ns : (uint64_t) ns;
    char frac[16];

    if (u == 0) {
        (void) snprintf(buf, COMPOSE_DURATION_STRLEN, "0s");
    } else if (u < (uint64_t) NS_S) {
        /* Under a second: one unit with a fraction, as Go prints it. */
        uint64_t div = u < (uint64_t) NS_US ? 1 : u < (uint64_t) NS_MS ? NS_US : NS_MS;
        const char *unit = div == 1 ? "ns" : div == NS_US ? "\xc2\xb5s" : "ms";
        format_frac(u % div, div, frac, sizeof frac);
        (void) snprintf(buf, COMPOSE_DURATION_STRLEN, "%s%llu%s%s", sign,
                        (unsigned long long) (u / div), frac, unit);
    } else {
        uint64_t secs = u / NS_S, h = secs / 3600, m = secs / 60 % 60;
        format_frac(u % NS_S, NS_S, frac, sizeof frac);
        if (h > 0)
            (void) snprintf(buf, COMPOSE_DURATION_STRLEN, "%s%lluh%llum%llu%ss", sign,
                            (unsigned long long) h, (unsigned long long) m,
                            (unsigned long long) (secs % 60), frac);
        else if (m > 0)
            (void) snprintf(buf, COMPOSE_DURATION_STRLEN, "%s%llum%llu%ss", sign,
                            (unsigned long long) m, (unsigned long long) (secs % 60), frac);
        else
            (void) snprintf(buf, COMPOSE_DURATION_STRLEN, "%s%llu%ss", sign,
                            (unsigned long long) secs, frac);
    }
    return buf;
}

/* Byte sizes. */

#define BYTES_ALLOWED "a number with an optional unit: b, k, m, g, t or p (like '512m' or '1.5gb')"

/* Go's strconv.ParseFloat syntax for decimal text: [+-]digits[.digits][e[+-]digits], where
 * one side of the '.' may be empty. Go's hexadecimal floats are refused. */
static bool
is_decimal_float(const char *s, size_t n)
{
    size_t i = 0, mant = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && is_digit(s[i]); i++)
        mant++;
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++)
            mant++;
    if (mant == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        for (; i < n && is_digit(s[i]); i++)
            exp++;
        if (exp == 0)
            return false;
    }
    return i == n;
}

/* The multiplier of a suffix ("", "b", "k", "kb", "kib"... any case), or 0 when it is not one. */
static double
bytes_suffix(const char *sfx)
{
    static const char letters[] = "kmgtp";
    size_t n = strlen(sfx);
    if (n == 0)
        return 1;
    if (n > 3)
        return 0;
    char l[4] = { 0 };
    for (size_t i = 0; i < n; i++)
        l[i] = (char) (sfx[i] >= 'A' && sfx[i] <= 'Z' ? sfx[i] - 'A' + 'a' : sfx[i]);
    if (l[0] == 'b')
        return n == 1 ? 1 : 0;
    const char *at = l[0] ? strchr(letters, l[0]) : NULL;
    if (!at || (n == 2 && l[1] != 'b') || (n == 3 && strcmp(l + 1, "ib") != 0))
        return 0;
    return (double) (UINT64_C(1) << (10 * (at - letters + 1)));
}

int
compose_bytes_parse(const char *s, int64_t *ret, struct bt_err **err)
{
    int r = compose_short_check("size", s, err);
    if (r < 0)
        return r;
    /* As go-units: the number runs to the last digit, '.' or space; one space may separate. */
    size_t len = strlen(s), sep = len;
    for (size_t i = len; i-- > 0;)
        if (is_digit(s[i]) || s[i] == '.' || s[i] == ' ') {
            sep = i;
            break;
        }
    if (sep == len)
        return bt_err_set(err, BT_EINVALID, "invalid size " Q ": expected %s", QA(s),
                          BYTES_ALLOWED);
    size_t nlen = s[sep] == ' ' ? sep : sep + 1;
    const char *sfx = s + sep + 1;
    if (!is_decimal_float(s, nlen))
        return bt_err_set(err, BT_EINVALID, "invalid size " Q ": expected %s", QA(s),
                          BYTES_ALLOWED);
    double mul = bytes_suffix(sfx);
    if (mul == 0)
        return bt_err_set(err, BT_EINVALID, "invalid size " Q ": unknown unit '%s'; expected %s",
                          QA(s), sfx, BYTES_ALLOWED);

    /* What follows the number (a space or the suffix letters) cannot continue it. */
    char *end;
    double v = strtod(s, &end);
    BT_ASSERT(end == s + nlen);
    if (v < 0)
        return bt_err_set(err, BT_EINVALID, "invalid size " Q ": negative", QA(s));
    v *= mul;
    /* 2^63 is the first value int64 cannot hold; infinity lands here too. */
    if (!(v < 9223372036854775808.0))
        return bt_err_set(err, BT_EINVALID, "invalid size " Q ": too large (at most 8 EiB)", QA(s));
    *ret = (int64_t) v;
    return 0;
}

/* extra_hosts. */

int
compose_extra_host_parse(struct bt_arena *a, const char *s, struct compose_extra_host **ret,
                         size_t *ret_n, struct bt_err **err)
{
    int r = compose_short_check("extra host", s, err);
    if (r < 0)
        return r;
    const char *sep = strchr(s, '=');
    if (!sep)
        sep = strchr(s, ':');
    if (!sep)
        return bt_err_set(err, BT_EINVALID,
                          "invalid extra host " Q ": missing address; expected 'host=ip' or "
                          "'host:ip'",
                          QA(s));
    const char *host = bt_arena_strndup(a, s, (size_t) (sep - s));
    if (!host[0] || strpbrk(host, ":="))
        return bt_err_set(err, BT_EINVALID,
                          "invalid extra host " Q ": bad host name '%s' (it must not be empty "
                          "nor contain ':' or '=')",
                          QA(s), host);

    size_t n = 1;
    for (const char *p = sep + 1; *p; p++)
        n += *p == ',';
    struct compose_extra_host *hosts = bt_arena_alloc(a, n * sizeof *hosts);
    const char *p = sep + 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(p, ",");
        /* Brackets around an address are dropped ("[::1]" is "::1"), as compose-go does. */
        if (len > 2 && p[0] == '[' && p[len - 1] == ']')
            hosts[i].ip = bt_arena_strndup(a, p + 1, len - 2);
        else
            hosts[i].ip = bt_arena_strndup(a, p, len);
        if (len == 0)
            return bt_err_set(err, BT_EINVALID,
                              "invalid extra host " Q ": empty address; expected 'host=ip' or "
                              "'host=ip1,ip2'",
                              QA(s));
        hosts[i].host = host;
        p += len + (p[len] == ',');
    }
    *ret = hosts;
    *ret_n = n;
    return 0;
}

/* environment. */

int
compose_env_entry_parse(struct bt_arena *a, const char *s, const char **ret_key,
                        const char **ret_value, struct bt_err **err)
{
    int r = compose_short_check("environment entry", s, err);
    if (r < 0)
        return r;
    const char *eq = strchr(s, '=');
    if (eq == s || !s[0])
        return bt_err_set(err, BT_EINVALID,
                          "invalid environment entry " Q ": empty variable name; expected "
                          "'KEY=VALUE' or 'KEY'",
                          QA(s));
    *ret_key = eq ? bt_arena_strndup(a, s, (size_t) (eq - s)) : bt_arena_strdup(a, s);
    *ret_value = eq ? bt_arena_strdup(a, eq + 1) : NULL;
    return 0;
}
