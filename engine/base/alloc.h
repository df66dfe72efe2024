/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation that aborts with a message on out-of-memory. That is only safe because every size
 * taken from input has a ceiling set where the input is read (see buf.h).
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "engine/base/macro.h"

void *bt_xmalloc(size_t size);
void *bt_xcalloc(size_t n, size_t size);
void *bt_xrealloc(void *p, size_t size);
/* Grow an array of n elements of size bytes to at least need elements; *cap is updated. */
void *bt_xgrow(void *p, size_t *cap, size_t need, size_t size);
char *bt_xstrdup(const char *s);
char *bt_xstrndup(const char *s, size_t n);
/* Returns a new string, caller frees. */
char *bt_xasprintf(const char *fmt, ...) BT_PRINTF(1, 2);
char *bt_xvasprintf(const char *fmt, va_list ap) BT_PRINTF(1, 0);
