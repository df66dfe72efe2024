/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 decoding as the strict readers (libyaml, jansson, Go) define validity: no overlong forms,
 * no surrogates, nothing past U+10FFFF. Text from files, the environment and directory names is
 * bytes; whatever must print it as YAML or JSON, or count its characters, goes through here.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BT_UTF8_REPLACEMENT 0xFFFD
/* U+FFFD as UTF-8. */
#define BT_UTF8_REPLACEMENT_STR "\xEF\xBF\xBD"

/* The code point at s[0..len) (len > 0) and, in *ret_w, the bytes it takes. A byte that does not
 * start a valid sequence reads as U+FFFD of width 1, so a loop always moves on. */
uint32_t bt_utf8_next(const char *s, size_t len, size_t *ret_w);
