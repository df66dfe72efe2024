/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for engine/base text helpers: the number and bool parsers, edit distance and
 * "did you mean" suggestions, and log escaping. Beyond not crashing, it checks the invariants
 * their headers promise (outputs untouched on failure, escaped text is printable).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"

#define MAX_INPUT (1 << 16)
#define MAX_CANDIDATES 16

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void
fuzz_numbers(const char *s)
{
    uint64_t u64 = 0x5a5a5a5a5a5a5a5aULL;
    int r = bt_parse_u64(s, &u64);
    CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
    CHECK(r == 0 || u64 == 0x5a5a5a5a5a5a5a5aULL);
    /* Only plain digits parse as unsigned. */
    CHECK(r != 0 || all_digits(s));

    int64_t i64 = 0x5a5a5a5a5a5a5a5aLL;
    int ri = bt_parse_i64(s, &i64);
    CHECK(ri == 0 || ri == -EINVAL || ri == -ERANGE);
    CHECK(ri == 0 || i64 == 0x5a5a5a5a5a5a5a5aLL);
    CHECK(ri != 0 || all_digits(s[0] == '-' ? s + 1 : s));
    /* What fits both agrees. */
    if (r == 0 && ri == 0)
        CHECK((uint64_t) i64 == u64);

    uint32_t u32 = 0x5a5a5a5a;
    int r32 = bt_parse_u32(s, &u32);
    CHECK(r32 == 0 || r32 == -EINVAL || r32 == -ERANGE);
    CHECK(r32 == 0 || u32 == 0x5a5a5a5a);
    if (r32 == 0)
        CHECK(r == 0 && u64 == u32);
    if (r == -EINVAL)
        CHECK(r32 == -EINVAL);

    int iv = 0x5a5a5a5a;
    int rint = bt_parse_int(s, &iv);
    CHECK(rint == 0 || rint == -EINVAL || rint == -ERANGE);
    CHECK(rint == 0 || iv == 0x5a5a5a5a);
    if (rint == 0)
        CHECK(ri == 0 && i64 == iv);

    bool b = true;
    int rb = bt_parse_bool(s, &b);
    CHECK(rb == 0 || rb == -EINVAL);
    CHECK(rb == 0 || b);
    b = false;
    CHECK(bt_parse_bool(s, &b) == rb);
    CHECK(rb == 0 || !b);
}

/* The input as lines: the first is the word, the rest are candidates. */
static void
fuzz_strings(char *s)
{
    const char *cands[MAX_CANDIDATES];
    size_t n = 0;
    char *word = s;
    char *nl = strchr(s, '\n');
    while (nl && n < MAX_CANDIDATES) {
        *nl = '\0';
        cands[n++] = nl + 1;
        nl = strchr(nl + 1, '\n');
    }

    size_t lw = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t lc = strlen(cands[i]);
        unsigned d = bt_str_distance(word, cands[i]);
        CHECK(d <= 255);
        CHECK(d == bt_str_distance(cands[i], word));
        if (lw <= 64 && lc <= 64) {
            size_t lo = lw > lc ? lw - lc : lc - lw;
            size_t hi = lw > lc ? lw : lc;
            CHECK(d >= lo && d <= hi);
            CHECK((d == 0) == (strcmp(word, cands[i]) == 0));
        }

        const char *rest = bt_startswith(word, cands[i]);
        CHECK(rest == NULL || rest == word + lc);
        CHECK((rest != NULL) == (strncmp(word, cands[i], lc) == 0));
    }
    if (lw <= 64)
        CHECK(bt_str_distance(word, word) == 0);

    const char *best = bt_str_closest(word, cands, n);
    if (best) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || best == cands[i];
        CHECK(found);
    }
    CHECK(bt_str_closest(word, cands, 0) == NULL);
}

static void
fuzz_escape(const uint8_t *data, size_t size)
{
    size_t max = size > 0 ? (size_t) data[0] * 4 : 0;
    char *out = bt_log_escape(data, size, max);
    size_t used = size < max ? size : max;
    size_t n = strlen(out);
    CHECK(n >= used && n <= used * 4 + (size > max ? 3 : 0));
    /* Nothing that could break or forge a log line gets through. */
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] >= 0x20 && out[i] < 0x7f);
    if (size > max)
        CHECK(n >= 3 && memcmp(out + n - 3, "...", 3) == 0);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    /* The whole input as a C string (it ends at its first NUL, as a real caller's would). */
    char *s = bt_xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';

    fuzz_numbers(s);
    fuzz_strings(s);
    fuzz_escape(data, size);

    free(s);
    return 0;
}
