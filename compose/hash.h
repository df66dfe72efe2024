/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The string hash of compose/'s hash tables (anchors, unset variables, mapping key indexes,
 * schema properties, node hashes for uniqueItems): FNV-1a, 64 bits. Internal to compose/.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The hash of n bytes. */
static inline uint64_t
compose_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

/* The hash of a string up to its NUL (equal to compose_hash_bytes of its strlen bytes). */
static inline uint64_t
compose_hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ull;
    return h;
}
