/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 with the standard alphabet (RFC 4648 section 4), as Docker's config.json, HTTP basic
 * auth and JSON web tokens' cousins use it. libc only; no line breaks are written or accepted.
 */
#pragma once

#include <stddef.h>

/* The encoding of len bytes, padded with '='. Returns a new string, caller frees. */
char *bt_base64_encode(const void *data, size_t len);
/* Decode n characters of s; the '=' padding may be left out, nothing else may (no spaces, no
 * URL-safe alphabet, no bits left over in the last character). *ret_data is NUL-terminated
 * (the NUL not counted in *ret_len) and the caller frees it. Returns 0 or -EINVAL; ret_ are
 * written only on success. */
int bt_base64_decode(const char *s, size_t n, char **ret_data, size_t *ret_len);
