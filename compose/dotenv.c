/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The .env parser and struct compose_env. Statements are read the way compose-go's dotenv
 * parser reads them (keys, separators, quoting, escapes, comments); interpolating the values is
 * interp.c's job, and deciding which files to read is the caller's.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "compose/dotenv.h"
#include "compose/hash.h"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"

#define SHOWN_MAX 48 /* bytes of a line quoted in a message */

/* ---- struct compose_env: an array in definition order plus an open-addressing index */

/* The slot holding name, or the empty slot where it would go. */
static size_t
env_slot(const struct compose_env *env, const char *name)
{
    size_t mask = env->nslots - 1;
    for (size_t i = compose_hash_str(name) & mask;; i = (i + 1) & mask) {
        size_t s = env->slots[i];
        if (s == 0 || strcmp(env->vars[s - 1].name, name) == 0)
            return i;
    }
}

static void
env_rehash(struct compose_env *env)
{
    size_t n = env->nslots ? env->nslots * 2 : 32;
    env->slots = bt_arena_alloc(env->a, n * sizeof *env->slots);
    env->nslots = n;
    for (size_t i = 0; i < env->n; i++)
        env->slots[env_slot(env, env->vars[i].name)] = i + 1;
}

void
compose_env_init(struct compose_env *env, struct bt_arena *a)
{
    *env = (struct compose_env){ .a = a };
}

const char *
compose_env_get(const struct compose_env *env, const char *name)
{
    if (!env->nslots)
        return NULL;
    size_t s = env->slots[env_slot(env, name)];
    return s ? env->vars[s - 1].value : NULL;
}

void
compose_env_set(struct compose_env *env, const char *name, const char *value)
{
    if ((env->n + 1) * 2 > env->nslots)
        env_rehash(env);
    size_t s = env_slot(env, name);
    const char *v = bt_arena_strdup(env->a, value);
    if (env->slots[s]) {
        env->vars[env->slots[s] - 1].value = v;
        return;
    }
    if (env->n == env->cap) {
        size_t cap = env->cap ? env->cap * 2 : 16;
        struct compose_env_var *vars = bt_arena_alloc(env->a, cap * sizeof *vars);
        if (env->n)
            memcpy(vars, env->vars, env->n * sizeof *vars);
        env->vars = vars;
        env->cap = cap;
    }
    env->vars[env->n] = (struct compose_env_var){ bt_arena_strdup(env->a, name), v };
    env->slots[s] = ++env->n;
}

const char *
compose_env_lookup(const char *name, void *env)
{
    return compose_env_get(env, name);
}

/* ---- the parser */

struct parser {
    const char *file;
    const char *data;
    size_t len, pos;
    compose_lookup_fn fn;
    void *ud;
    struct compose_interp_warn *warn;
    struct compose_env vars; /* this file's, in a scratch arena until the whole file parsed */
    size_t total;            /* bytes of values so far */
    /* Line counting moves forward with the parser: the line of byte mark and its start. */
    size_t mark, mark_line_start;
    int mark_line;
    struct bt_err **err;
};

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool
is_space(char c)
{
    return is_blank(c) || c == '\n';
}

static bool
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '[' || c == ']' || (unsigned char) c >= 0x80;
}

static struct compose_pos
pos_at(struct parser *p, size_t off)
{
    if (off < p->mark) {
        p->mark = p->mark_line_start = 0;
        p->mark_line = 1;
    }
    for (; p->mark < off; p->mark++) {
        if (p->data[p->mark] == '\n') {
            p->mark_line++;
            p->mark_line_start = p->mark + 1;
        }
    }
    return (struct compose_pos){ .file = p->file,
                                 .line = p->mark_line,
                                 .col = (int) (off - p->mark_line_start) + 1 };
}

static int perr(struct parser *p, size_t off, int code, const char *fmt, ...) BT_PRINTF(4, 5);

static int
perr(struct parser *p, size_t off, int code, const char *fmt, ...)
{
    struct compose_pos pos = pos_at(p, off);
    va_list ap;
    va_start(ap, fmt);
    int r = bt_err_set_atv(p->err, pos.file, pos.line, pos.col, code, fmt, ap);
    va_end(ap);
    return r;
}

/* Text from off for a message: up to the end of the line and at most max bytes, cut to
 * SHOWN_MAX bytes (not inside a UTF-8 sequence), control bytes as '?'. Returns a new string,
 * caller frees. */
static char *
shown(const struct parser *p, size_t off, size_t max)
{
    const char *nl = memchr(p->data + off, '\n', p->len - off);
    size_t n = (nl ? (size_t) (nl - p->data) : p->len) - off;
    if (n > max)
        n = max;
    bool cut = n > SHOWN_MAX;
    if (cut) {
        n = SHOWN_MAX;
        while (n > 0 && ((unsigned char) p->data[off + n] & 0xc0) == 0x80)
            n--;
    }
    char *s = bt_xmalloc(n + 4);
    for (size_t i = 0; i < n; i++) {
        char c = p->data[off + i];
        s[i] = (unsigned char) c < 0x20 || c == 0x7f ? '?' : c;
    }
    memcpy(s + n, cut ? "..." : "", cut ? 4 : 1);
    return s;
}

/* Variables defined earlier in this file first, then the caller's lookup. */
static const char *
lookup(const char *name, void *ud)
{
    struct parser *p = ud;
    const char *v = compose_env_get(&p->vars, name);
    if (v)
        return v;
    return p->fn ? p->fn(name, p->ud) : NULL;
}

static int
store(struct parser *p, const char *name, const char *value, size_t n, size_t off)
{
    p->total += n;
    if (p->total > COMPOSE_DOTENV_MAX_TOTAL)
        return perr(p, off, BT_ETOOBIG, "values add up to more than %u MiB",
                    COMPOSE_DOTENV_MAX_TOTAL >> 20);
    compose_env_set(&p->vars, name, value);
    return 0;
}

/* Interpolate text (which starts at byte off of the file, exactly so when exact) into name. */
static int
interpolate_store(struct parser *p, const char *name, const char *text, size_t n, bool exact,
                  size_t off)
{
    bt_autobuf struct bt_buf out = { .max = COMPOSE_DOTENV_MAX_VALUE };
    struct compose_pos pos = pos_at(p, off);
    int rc = compose_interp_append(&out, text, n, exact, lookup, p, p->warn, &pos, name, p->err);
    if (rc < 0)
        return rc;
    return store(p, name, bt_buf_str(&out), out.len, off);
}

static int
unquoted(struct parser *p, const char *name)
{
    const char *d = p->data;
    size_t v0 = p->pos;
    const char *nl = memchr(d + v0, '\n', p->len - v0);
    size_t eol = nl ? (size_t) (nl - d) : p->len;
    /* An inline comment needs a space before its '#': "a#b" is a value. */
    const char *hash = memmem(d + v0, eol - v0, " #", 2);
    size_t end = hash ? (size_t) (hash - d) : eol;
    while (end > v0 && is_space(d[end - 1]))
        end--;
    p->pos = eol;
    return interpolate_store(p, name, d + v0, end - v0, true, v0);
}

static int
append_utf8(struct bt_buf *out, unsigned v)
{
    char b[2];
    if (v < 0x80) {
        b[0] = (char) v;
        return bt_buf_append(out, b, 1);
    }
    b[0] = (char) (0xc0 | (v >> 6));
    b[1] = (char) (0x80 | (v & 0x3f));
    return bt_buf_append(out, b, 2);
}

/* One backslash sequence at s[0], expanded as compose-go does (the escapes Go's strconv knows,
 * from a fixed list): appends its value and sets how many bytes it used. Anything else keeps the
 * backslash as a literal. "\$" becomes "$$" so that interpolation leaves one '$'. */
static int
unescape_one(struct parser *p, const char *s, size_t n, size_t q0, struct bt_buf *out,
             size_t *ret_used)
{
    static const char from[] = "abfnrtv\"\\";
    static const char to[] = "\a\b\f\n\r\t\v\"\\";
    char c = n > 1 ? s[1] : '\0';
    const char *hit = c ? strchr(from, c) : NULL;
    *ret_used = 2;
    if (hit)
        return bt_buf_append(out, &to[hit - from], 1);
    if (c == '$')
        return bt_buf_append(out, "$$", 2);
    if (c != '0') {
        *ret_used = 1;
        return bt_buf_append(out, "\\", 1);
    }
    /* "\0" and up to three digits; exactly three octal digits worth at most 0377 make a byte
     * (a code point, written as UTF-8), as Go's strconv.UnquoteChar reads "\NNN". */
    size_t digits = 0;
    unsigned v = 0;
    bool octal = true;
    while (digits < 3 && 2 + digits < n && s[2 + digits] >= '0' && s[2 + digits] <= '9') {
        octal = octal && s[2 + digits] <= '7';
        v = v * 8 + (unsigned) (s[2 + digits] - '0');
        digits++;
    }
    *ret_used = 2 + digits;
    if (digits < 3 || !octal || v > 0377)
        return bt_buf_append(out, s, 2 + digits);
    if (v == 0)
        return perr(p, q0, BT_EINVALID,
                    "escape '\\0000' in a quoted value makes a NUL character, which a variable "
                    "cannot hold");
    return append_utf8(out, v);
}

static int
double_quoted(struct parser *p, const char *name, const struct bt_buf *raw, size_t q0)
{
    /* Room for every "\$" becoming "$$". */
    bt_autobuf struct bt_buf text = { .max = 2 * COMPOSE_DOTENV_MAX_SIZE };
    const char *s = bt_buf_str(raw);
    size_t n = raw->len;
    for (size_t i = 0; i < n;) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t j = bs ? (size_t) (bs - s) : n;
        if (bt_buf_append(&text, s + i, j - i) < 0)
            return perr(p, q0, BT_ETOOBIG, "quoted value too large");
        if (!bs)
            break;
        size_t used = 0;
        int rc = unescape_one(p, s + j, n - j, q0, &text, &used);
        if (rc == -E2BIG)
            return perr(p, q0, BT_ETOOBIG, "quoted value too large");
        if (rc < 0)
            return rc;
        i = j + used;
    }
    return interpolate_store(p, name, bt_buf_str(&text), text.len, false, q0);
}

/* A quoted value from p->pos (its quote); compose-go's rules: a backslash before the quote
 * character makes it part of the value, other backslashes are kept for the escape pass. */
static int
quoted(struct parser *p, const char *name)
{
    const char *d = p->data;
    size_t q0 = p->pos;
    char q = d[q0];
    bt_autobuf struct bt_buf raw = { .max = COMPOSE_DOTENV_MAX_SIZE };
    bool esc = false;
    for (size_t k = q0 + 1; k < p->len; k++) {
        char c = d[k];
        if (c == q && !esc) {
            p->pos = k + 1;
            if (q == '"')
                return double_quoted(p, name, &raw, q0);
            return store(p, name, bt_buf_str(&raw), raw.len, q0);
        }
        if (c == '\\' && !esc) {
            esc = true;
            continue;
        }
        int rc = esc && c != q ? bt_buf_append(&raw, "\\", 1) : 0;
        esc = false;
        if (rc < 0 || bt_buf_append(&raw, &c, 1) < 0)
            return perr(p, q0, BT_ETOOBIG, "quoted value too large");
    }
    bt_autofree char *text = shown(p, q0, SIZE_MAX);
    int rc = perr(p, q0, BT_EPARSE, "unterminated quoted value '%s'", text);
    bt_err_hint(p->err, "end the value with %s; write \\%c for a quote inside it",
                q == '"' ? "a double quote" : "a single quote", q);
    return rc;
}

/* The name of a statement from p->pos; *ret_end is where it stopped ('=', ':', '\n' or the
 * end). *ret_name is a new string, caller frees. */
static int
statement_name(struct parser *p, char **ret_name, size_t *ret_end)
{
    const char *d = p->data;
    size_t k0 = p->pos, k = k0;
    for (; k < p->len && d[k] != '=' && d[k] != ':' && d[k] != '\n'; k++) {
        if (is_blank(d[k]) || is_key_char(d[k]))
            continue;
        bt_autofree char *line = shown(p, k0, SIZE_MAX);
        int rc;
        if ((unsigned char) d[k] < 0x20 || d[k] == 0x7f)
            rc = perr(p, k, BT_EPARSE, "unexpected character '\\x%02x' in variable name '%s'",
                      (unsigned) (unsigned char) d[k], line);
        else
            rc = perr(p, k, BT_EPARSE, "unexpected character '%c' in variable name '%s'", d[k],
                      line);
        bt_err_hint(p->err, "a line is NAME=VALUE; names are letters, digits, '_', '.', '-', "
                            "'[' and ']'");
        return rc;
    }
    size_t end = k;
    while (end > k0 && is_blank(d[end - 1]))
        end--;
    if (end == k0)
        return perr(p, k, BT_EPARSE, "invalid variable name: nothing before '%c'", d[k]);
    for (size_t i = k0; i < end; i++) {
        if (is_blank(d[i])) {
            bt_autofree char *key = shown(p, k0, end - k0);
            return perr(p, k0, BT_EPARSE,
                        "invalid variable name '%s': a name cannot contain spaces", key);
        }
    }
    *ret_name = bt_xstrndup(d + k0, end - k0);
    *ret_end = k;
    return 0;
}

static int
statement(struct parser *p)
{
    const char *d = p->data;
    if (p->len - p->pos >= 6 && memcmp(d + p->pos, "export", 6) == 0 &&
        (p->len - p->pos == 6 || is_space(d[p->pos + 6]))) {
        p->pos += 6;
        while (p->pos < p->len && is_blank(d[p->pos]))
            p->pos++;
        if (p->pos == p->len || d[p->pos] == '\n')
            return 0; /* a bare "export" sets nothing, as in compose-go */
    }
    size_t sep = 0;
    bt_autofree char *name = NULL;
    int rc = statement_name(p, &name, &sep);
    if (rc < 0)
        return rc;
    if (sep == p->len || d[sep] == '\n') {
        /* KEY alone: inherited from the lookup (not from this file), or nothing. */
        p->pos = sep;
        const char *v = p->fn ? p->fn(name, p->ud) : NULL;
        return v ? store(p, name, v, strlen(v), sep) : 0;
    }
    p->pos = sep + 1;
    while (p->pos < p->len && is_blank(d[p->pos]))
        p->pos++;
    if (p->pos < p->len && (d[p->pos] == '"' || d[p->pos] == '\''))
        return quoted(p, name);
    return unquoted(p, name);
}

static int
parse_all(struct parser *p)
{
    const char *nul = memchr(p->data, '\0', p->len);
    if (nul)
        return perr(p, (size_t) (nul - p->data), BT_EPARSE, "unexpected NUL byte");
    for (;;) {
        while (p->pos < p->len && is_space(p->data[p->pos]))
            p->pos++;
        if (p->pos == p->len)
            return 0;
        if (p->data[p->pos] == '#') {
            const char *nl = memchr(p->data + p->pos, '\n', p->len - p->pos);
            p->pos = nl ? (size_t) (nl - p->data) : p->len;
            continue;
        }
        int rc = statement(p);
        if (rc < 0)
            return rc;
    }
}

int
compose_dotenv_parse(const char *file, const char *data, size_t len, compose_lookup_fn fn, void *ud,
                     struct compose_interp_warn *warn, struct compose_env *env, struct bt_err **err)
{
    if (len > COMPOSE_DOTENV_MAX_SIZE)
        return bt_err_set_at(err, file, 0, 0, BT_ETOOBIG, "larger than %u MiB",
                             COMPOSE_DOTENV_MAX_SIZE >> 20);
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    struct bt_arena *scratch = bt_arena_new();
    struct parser p = {
        .file = file,
        .data = data,
        .len = len,
        .fn = fn,
        .ud = ud,
        .warn = warn,
        .mark_line = 1,
        .err = err,
    };
    compose_env_init(&p.vars, scratch);
    int rc = parse_all(&p);
    if (rc == 0)
        for (size_t i = 0; i < p.vars.n; i++)
            compose_env_set(env, p.vars.vars[i].name, p.vars.vars[i].value);
    bt_arena_free(scratch);
    return rc;
}

int
compose_dotenv_load_file(const char *path, compose_lookup_fn fn, void *ud,
                         struct compose_interp_warn *warn, struct compose_env *env,
                         struct bt_err **err)
{
    bt_autofree char *data = NULL;
    size_t len = 0;
    int rc = bt_file_read_at(AT_FDCWD, path, COMPOSE_DOTENV_MAX_SIZE, &data, &len, err);
    if (rc < 0)
        return rc;
    return compose_dotenv_parse(path, data, len, fn, ud, warn, env, err);
}
