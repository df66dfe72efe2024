/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct bt_err construction, wrapping and formatting.
 */
#include <stdarg.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"

int
bt_err_set_atv(struct bt_err **err, const char *file, int line, int col, int code, const char *fmt,
               va_list ap)
{
    BT_ASSERT(code > 0);
    if (!err)
        return -code;
    struct bt_err *e = bt_xcalloc(1, sizeof *e);
    e->code = code;
    if (vasprintf(&e->msg, fmt, ap) < 0)
        e->msg = bt_xstrdup(fmt); /* out of memory for the text only */
    if (file)
        e->file = bt_xstrdup(file);
    e->line = line;
    e->col = col;
    bt_err_free(*err);
    *err = e;
    return -code;
}

int
bt_err_set(struct bt_err **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = bt_err_set_atv(err, NULL, 0, 0, code, fmt, ap);
    va_end(ap);
    return r;
}

int
bt_err_set_at(struct bt_err **err, const char *file, int line, int col, int code, const char *fmt,
              ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = bt_err_set_atv(err, file, line, col, code, fmt, ap);
    va_end(ap);
    return r;
}

int
bt_err_errno(struct bt_err **err, int r, const char *fmt, ...)
{
    BT_ASSERT(r < 0);
    if (!err)
        return r;
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    return bt_err_set(err, -r, "%s: %s", what ? what : fmt, strerror(-r));
}

int
bt_err_wrap(struct bt_err **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -EIO;
    struct bt_err *e = *err;
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *ctx = NULL;
    if (vasprintf(&ctx, fmt, ap) < 0)
        ctx = NULL;
    va_end(ap);
    if (ctx) {
        char *m = bt_xasprintf("%s: %s", ctx, e->msg);
        free(e->msg);
        e->msg = m;
    }
    return -e->code;
}

void
bt_err_hint(struct bt_err **err, const char *fmt, ...)
{
    if (!err || !*err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *h = NULL;
    if (vasprintf(&h, fmt, ap) < 0)
        h = NULL;
    va_end(ap);
    free((*err)->hint);
    (*err)->hint = h;
}

struct bt_err *
bt_err_copy(const struct bt_err *e)
{
    if (!e)
        return NULL;
    struct bt_err *c = bt_xcalloc(1, sizeof *c);
    c->code = e->code;
    c->msg = e->msg ? bt_xstrdup(e->msg) : NULL;
    c->hint = e->hint ? bt_xstrdup(e->hint) : NULL;
    c->file = e->file ? bt_xstrdup(e->file) : NULL;
    c->line = e->line;
    c->col = e->col;
    c->subject = e->subject ? bt_xstrdup(e->subject) : NULL;
    c->remote = e->remote ? bt_xstrdup(e->remote) : NULL;
    return c;
}

struct bt_err *
bt_err_free(struct bt_err *e)
{
    if (!e)
        return NULL;
    free(e->msg);
    free(e->hint);
    free(e->file);
    free(e->subject);
    free(e->remote);
    free(e);
    return NULL;
}

static const char *const bt_codes[] = {
    [BT_EUSAGE - BT_EBASE] = "usage",       [BT_EPARSE - BT_EBASE] = "parse",
    [BT_EINVALID - BT_EBASE] = "invalid",   [BT_ETOOBIG - BT_EBASE] = "too_big",
    [BT_EPROTO - BT_EBASE] = "protocol",    [BT_EVERSION - BT_EBASE] = "version",
    [BT_ECONFLICT - BT_EBASE] = "conflict", [BT_EUNSUPPORTED - BT_EBASE] = "unsupported",
    [BT_EDAEMON - BT_EBASE] = "daemon",
};

const char *
bt_err_code_str(int code)
{
    if (code > BT_EBASE && code < BT_EMAX)
        return bt_codes[code - BT_EBASE];
    const char *name = strerrorname_np(code);
    return name ? name : "unknown";
}

char *
bt_err_text(const struct bt_err *e)
{
    if (!e)
        return bt_xstrdup("unknown error");
    if (e->file && e->line > 0)
        return bt_xasprintf("%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    if (e->file)
        return bt_xasprintf("%s: %s", e->file, e->msg);
    return bt_xstrdup(e->msg);
}
