/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Numbers and small tokens from text. Every parser rejects empty input, junk (leading or
 * trailing spaces, signs where none belong, trailing characters) and overflow: -EINVAL for junk,
 * -ERANGE for out of range. ret_ is written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int bt_parse_u64(const char *s, uint64_t *ret);
int bt_parse_i64(const char *s, int64_t *ret);
int bt_parse_u32(const char *s, uint32_t *ret);
int bt_parse_int(const char *s, int *ret);
/* "1", "true", "yes", "on" and their opposites, case-insensitive. */
int bt_parse_bool(const char *s, bool *ret);

/* A signal by name ("SIGTERM", "term", "RTMIN+3") or number ("15"), as Docker's
 * signal.ParseSignal reads it on Linux: the names of its table (RTMIN, RTMIN+1..15,
 * RTMAX-14..-1, RTMAX numbered from the kernel's 32 and 64, not glibc's), or 1-64. Returns
 * 0 or -EINVAL. */
int bt_signal_parse(const char *s, int *ret);

/* String helpers. */
bool bt_streq(const char *a, const char *b);
/* Returns the rest of s after prefix, or NULL when s does not start with it. */
const char *bt_startswith(const char *s, const char *prefix);
/* Edit distance (insert, delete, substitute, swap of neighbours), capped at 255; 255 whenever
 * either string is longer than 64 bytes (too long to be a typo of a name). */
unsigned bt_str_distance(const char *a, const char *b);
/* The candidate closest to word when it is close enough to be a likely typo, else NULL. */
const char *bt_str_closest(const char *word, const char *const *candidates, size_t n);
