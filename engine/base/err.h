/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors as values. A function that can fail returns 0 or a negative errno-style code and fills
 * *err; berth's own codes (BT_E...) sit above the errno range. Context is added once per layer
 * with bt_err_wrap(); exactly one place reports the final error.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "engine/base/macro.h"

enum {
    BT_EBASE = 1000,
    BT_EUSAGE,       /* command-line misuse: exit code 2 */
    BT_EPARSE,       /* input that does not parse */
    BT_EINVALID,     /* input that parses but is not allowed */
    BT_ETOOBIG,      /* input over its ceiling */
    BT_EPROTO,       /* a peer broke the control protocol */
    BT_EVERSION,     /* protocol versions do not match */
    BT_ECONFLICT,    /* the thing exists or is in use */
    BT_EUNSUPPORTED, /* valid, but berth does not do it (yet) */
    BT_EDAEMON,      /* the daemon answered with an error */
    BT_EMAX,
};

struct bt_err {
    int code;      /* positive: errno or BT_E... */
    char *msg;     /* lowercase first word, no final full stop */
    char *hint;    /* optional: what to do, printed on its own line */
    char *file;    /* optional position */
    int line, col; /* 1-based; 0 when unknown */
    char *subject; /* optional: the service or resource it concerns */
    char *remote;  /* optional: the daemon's stable error code (BT_EDAEMON) */
};

/* Create *err (if err is not NULL) and return -code. */
int bt_err_set(struct bt_err **err, int code, const char *fmt, ...) BT_PRINTF(3, 4);
/* Same with a position in a file: printed as file:line:col. */
int bt_err_set_at(struct bt_err **err, const char *file, int line, int col, int code,
                  const char *fmt, ...) BT_PRINTF(6, 7);
/* The same with a va_list, for a module's own printf-like error helpers. file may be NULL. */
int bt_err_set_atv(struct bt_err **err, const char *file, int line, int col, int code,
                   const char *fmt, va_list ap) BT_PRINTF(6, 0);
/* Message followed by ": " and strerror(-r); the code is -r. r must be negative. */
int bt_err_errno(struct bt_err **err, int r, const char *fmt, ...) BT_PRINTF(3, 4);
/* Prepend one layer of context ("service 'web': ..."); returns the same negative code.
 * With err (or *err) NULL there is no code to keep: returns -EIO. */
int bt_err_wrap(struct bt_err **err, const char *fmt, ...) BT_PRINTF(2, 3);
/* Set the hint of an existing error (no-op when err or *err is NULL). */
void bt_err_hint(struct bt_err **err, const char *fmt, ...) BT_PRINTF(2, 3);
struct bt_err *bt_err_free(struct bt_err *e);
/* A deep copy (NULL for NULL): one error answered to several requests. */
struct bt_err *bt_err_copy(const struct bt_err *e);
/* Name of a code: "ENOENT"-like text for errno values, "usage" etc. for BT_E codes. */
const char *bt_err_code_str(int code);
/* The full text: "file:line:col: msg" (no hint). Returns a new string, caller frees. */
char *bt_err_text(const struct bt_err *e);

static inline void
bt_err_freep(struct bt_err **e)
{
    *e = bt_err_free(*e);
}
#define bt_autoerr __attribute__((cleanup(bt_err_freep)))
