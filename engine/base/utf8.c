/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 decoding, one code point at a time.
 */
#include "engine/base/utf8.h"

uint32_t
bt_utf8_next(const char *str, size_t len, size_t *ret_w)
{
    static const uint32_t min_of[] = { 0, 0, 0x80, 0x800, 0x10000 };
    const unsigned char *s = (const unsigned char *) str;
    unsigned char c = s[0];
    size_t w = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    uint32_t cp = w == 1 ? c : w == 2 ? c & 0x1F : w == 3 ? c & 0x0F : c & 0x07;
    if (w == 0 || w > len)
        goto bad;
    for (size_t i = 1; i < w; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min_of[w] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        goto bad;
    *ret_w = w;
    return cp;
bad:
    *ret_w = 1;
    return BT_UTF8_REPLACEMENT;
}
