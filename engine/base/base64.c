/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 encode and decode with the standard alphabet. Decoding is strict about everything but
 * the padding, so two spellings of one value are never both accepted except with and without
 * '='.
 */
#include <errno.h>
#include <stdint.h>

#include "engine/base/alloc.h"
#include "engine/base/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
bt_base64_encode(const void *data, size_t len)
{
    const uint8_t *in = data;
    char *out = bt_xmalloc((len + 2) / 3 * 4 + 1);
    char *o = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t) in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? alphabet[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int
value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
bt_base64_decode(const char *s, size_t n, char **ret_data, size_t *ret_len)
{
    /* Padding: only whole groups carry it, at most two '='. */
    if (n % 4 == 0 && n > 0 && s[n - 1] == '=')
        n -= s[n - 2] == '=' ? 2 : 1;
    if (n % 4 == 1)
        return -EINVAL;
    char *out = bt_xmalloc(n / 4 * 3 + 3);
    size_t len = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of(s[i]);
        if (v < 0) {
            free(out);
            return -EINVAL;
        }
        acc = acc << 6 | (uint32_t) v;
        if (i % 4 == 3) {
            out[len++] = (char) (acc >> 16);
            out[len++] = (char) (acc >> 8);
            out[len++] = (char) acc;
            acc = 0;
        }
    }
    /* A last group of 2 or 3 characters: its unused low bits must be zero. */
    size_t tail = n % 4;
    if ((tail == 2 && (acc & 0xf)) || (tail == 3 && (acc & 0x3))) {
        free(out);
        return -EINVAL;
    }
    if (tail == 2)
        out[len++] = (char) (acc >> 4);
    else if (tail == 3) {
        out[len++] = (char) (acc >> 10);
        out[len++] = (char) (acc >> 2);
    }
    out[len] = '\0';
    *ret_data = out;
    *ret_len = len;
    return 0;
}
