/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `import --change`: one Dockerfile instruction applied to an image's container config, with
 * the Dockerfile word rules (quotes, backslash escapes, $VAR expansion from Env) the builder
 * applies. It does not read or write images; the caller does.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/parse.h"
#include "engine/base/strv.h"
#include "engine/base/utf8.h"
#include "engine/image/change.h"

/* The ceiling for one value once quotes are removed and variables expanded. */
#define VALUE_MAX (1u << 20)

/* Blanks separate words; a line break never reaches here (refused up front). */
static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static const char *
skip_blanks(const char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* Split s at blanks outside quotes, keeping quotes and escapes in the words (as Dockerfile
 * NAME=VALUE lists are split before each word is processed). */
static void
split_quoted(const char *s, struct bt_strv_builder *ret)
{
    size_t n = strlen(s), i = 0;
    for (;;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i >= n)
            return;
        size_t start = i;
        char quote = 0;
        while (i < n && (quote || !is_blank(s[i]))) {
            char c = s[i];
            if (quote && c == quote)
                quote = 0;
            else if (!quote && (c == '\'' || c == '"'))
                quote = c;
            else if (c == '\\' && quote != '\'' && i + 1 < n)
                i++; /* the escaped character belongs to the word, blank or quote */
            i++;
        }
        bt_strv_builder_push(ret, bt_xstrndup(s + start, i - start));
    }
}

/* Split s at blanks, nothing else (EXPOSE and the shell form of VOLUME). */
static void
split_blanks(const char *s, struct bt_strv_builder *ret)
{
    for (;;) {
        s = skip_blanks(s);
        if (!*s)
            return;
        const char *e = s;
        while (*e && !is_blank(*e))
            e++;
        bt_strv_builder_push(ret, bt_xstrndup(s, (size_t) (e - s)));
        s = e;
    }
}

/* The Dockerfile word processor: quotes removed, backslash escapes applied, variables expanded
 * from env (an array of "K=V" strings, or NULL). */
struct lex {
    const char *s; /* the whole word, for messages */
    size_t len, pos;
    const json_t *env;
};

static int lex_until(struct lex *lx, char stop, struct bt_buf *out, struct bt_err **err);

static int
put(struct bt_buf *out, const char *p, size_t n, struct bt_err **err)
{
    if (bt_buf_append(out, p, n) < 0)
        return bt_err_set(err, BT_ETOOBIG, "value over %u bytes", VALUE_MAX);
    return 0;
}

/* The value of the variable name[0..n) in env, or NULL when it is not set. */
static const char *
env_lookup(const json_t *env, const char *name, size_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, name, n) == 0 && s[n] == '=')
            return s + n + 1;
    }
    return NULL;
}

/* Length of the variable name at the current position: digits only when it starts with one,
 * else letters, digits and '_'. */
static size_t
name_len(const struct lex *lx)
{
    const char *p = lx->s + lx->pos;
    size_t rem = lx->len - lx->pos, n = 0;
    bool digits = rem > 0 && isdigit((unsigned char) p[0]);
    while (n < rem &&
           (digits ? isdigit((unsigned char) p[n]) : isalnum((unsigned char) p[n]) || p[n] == '_'))
        n++;
    return n;
}

static int
put_var(const char *v, struct bt_buf *out, struct bt_err **err)
{
    return v ? put(out, v, strlen(v), err) : 0;
}

/* ${name...} with the position after the name. */
static int
lex_braced(struct lex *lx, const char *name, size_t n, struct bt_buf *out, struct bt_err **err)
{
    const char *v = env_lookup(lx->env, name, n);
    if (lx->pos >= lx->len)
        return bt_err_set(err, BT_EINVALID, "missing '}' in '%s'", lx->s);
    char op = lx->s[lx->pos++];
    if (op == '}')
        return put_var(v, out, err);
    bool colon = op == ':';
    if (colon) {
        if (lx->pos >= lx->len)
            return bt_err_set(err, BT_EINVALID, "missing '}' in '%s'", lx->s);
        op = lx->s[lx->pos++];
    }
    if (op != '-' && op != '+' && op != '?')
        return bt_err_set(err, BT_EINVALID, "unsupported modifier '%s%c' in '${%.*s' of '%s'",
                          colon ? ":" : "", op, (int) n, name, lx->s);

    bt_autobuf struct bt_buf word;
    bt_buf_init(&word, VALUE_MAX);
    int r = lex_until(lx, '}', &word, err);
    if (r < 0)
        return r;
    bool set = colon ? v && *v : v != NULL;
    switch (op) {
    case '-':
        return set ? put_var(v, out, err) : put(out, word.data, word.len, err);
    case '+':
        return set ? put(out, word.data, word.len, err) : 0;
    default:
        if (set)
            return put_var(v, out, err);
        return bt_err_set(err, BT_EINVALID, "%.*s: %s", (int) n, name,
                          word.len ? bt_buf_str(&word)
                          : colon  ? "is not allowed to be unset or empty"
                                   : "is not allowed to be unset");
    }
}

static int
lex_dollar(struct lex *lx, struct bt_buf *out, struct bt_err **err)
{
    lx->pos++; /* '$' */
    bool braced = lx->pos < lx->len && lx->s[lx->pos] == '{';
    if (braced)
        lx->pos++;
    const char *name = lx->s + lx->pos;
    size_t n = name_len(lx);
    lx->pos += n;
    if (braced && n == 0)
        return bt_err_set(err, BT_EINVALID, "bad substitution in '%s'", lx->s);
    if (braced)
        return lex_braced(lx, name, n, out, err);
    /* A '$' not followed by a name is itself. */
    return n ? put_var(env_lookup(lx->env, name, n), out, err) : put(out, "$", 1, err);
}

static int
lex_single(struct lex *lx, struct bt_buf *out, struct bt_err **err)
{
    const char *start = lx->s + ++lx->pos;
    const char *end = memchr(start, '\'', lx->len - lx->pos);
    if (!end)
        return bt_err_set(err, BT_EINVALID, "missing closing single quote in '%s'", lx->s);
    lx->pos += (size_t) (end - start) + 1;
    return put(out, start, (size_t) (end - start), err);
}

/* Inside double quotes variables expand and a backslash escapes only '"', '$' and itself. */
static int
lex_double(struct lex *lx, struct bt_buf *out, struct bt_err **err)
{
    lx->pos++;
    while (lx->pos < lx->len) {
        char c = lx->s[lx->pos];
        int r;
        if (c == '"') {
            lx->pos++;
            return 0;
        }
        if (c == '$') {
            r = lex_dollar(lx, out, err);
        } else {
            lx->pos++;
            if (c == '\\' && lx->pos < lx->len && strchr("\"$\\", lx->s[lx->pos]))
                c = lx->s[lx->pos++];
            r = put(out, &c, 1, err);
        }
        if (r < 0)
            return r;
    }
    return bt_err_set(err, BT_EINVALID, "missing closing double quote in '%s'", lx->s);
}

/* Process up to stop ('\0': the end); outside quotes a backslash takes the next character as
 * it is, and one at the very end is dropped. */
static int
lex_until(struct lex *lx, char stop, struct bt_buf *out, struct bt_err **err)
{
    while (lx->pos < lx->len) {
        char c = lx->s[lx->pos];
        int r;
        if (stop && c == stop) {
            lx->pos++;
            return 0;
        }
        if (c == '\'') {
            r = lex_single(lx, out, err);
        } else if (c == '"') {
            r = lex_double(lx, out, err);
        } else if (c == '$') {
            r = lex_dollar(lx, out, err);
        } else {
            lx->pos++;
            if (c == '\\') {
                if (lx->pos >= lx->len)
                    break;
                c = lx->s[lx->pos++];
            }
            r = put(out, &c, 1, err);
        }
        if (r < 0)
            return r;
    }
    if (stop)
        return bt_err_set(err, BT_EINVALID, "missing '%c' in '%s'", stop, lx->s);
    return 0;
}

/* The processed form of the word s. Returns a new string in *ret, caller frees. */
static int
word_process(const json_t *config, const char *s, char **ret, struct bt_err **err)
{
    struct lex lx = { .s = s, .len = strlen(s), .env = json_object_get(config, "Env") };
    bt_autobuf struct bt_buf out;
    bt_buf_init(&out, VALUE_MAX);
    int r = lex_until(&lx, 0, &out, err);
    if (r < 0)
        return r;
    *ret = bt_buf_steal(&out);
    return 0;
}

static int
set_member(json_t *config, const char *key, json_t *value, struct bt_err **err)
{
    if (!value)
        return bt_err_set(err, BT_EINVALID, "value is not valid UTF-8");
    json_object_set_new(config, key, value);
    return 0;
}

/* A copy of the member key when it has type type, else a new empty one of that type. */
static json_t *
member_copy(const json_t *config, const char *key, json_type type)
{
    json_t *v = json_object_get(config, key);
    if (v && json_typeof(v) == type)
        return json_copy(v);
    return type == JSON_ARRAY ? json_array() : json_object();
}

/* CMD and ENTRYPOINT: a JSON array of strings, else the shell form. Kept as written. */
static int
exec_or_shell(const char *args, json_t **ret, struct bt_err **err)
{
    if (args[0] == '[') {
        json_t *a = json_loads(args, 0, NULL);
        if (json_is_array(a)) {
            size_t i;
            json_t *v;
            json_array_foreach(a, i, v) {
                if (!json_is_string(v)) {
                    json_decref(a);
                    return bt_err_set(err, BT_EINVALID,
                                      "exec form must be a JSON array of strings, not '%s'", args);
                }
            }
            *ret = a;
            return 0;
        }
        json_decref(a); /* not JSON: the shell form, as Docker reads it */
    }
    *ret = json_pack("[sss]", "/bin/sh", "-c", args);
    return 0;
}

static int
apply_cmd(json_t *config, const char *args, struct bt_err **err)
{
    json_t *v = NULL;
    int r = exec_or_shell(args, &v, err);
    return r < 0 ? r : set_member(config, "Cmd", v, err);
}

static int
apply_entrypoint(json_t *config, const char *args, struct bt_err **err)
{
    json_t *v = NULL;
    int r = exec_or_shell(args, &v, err);
    return r < 0 ? r : set_member(config, "Entrypoint", v, err);
}

/* ENV and LABEL: NAME=VALUE words, or the legacy NAME followed by the rest of the line. Names
 * and values are processed; every value expands against the Env from before the instruction. */
static int
parse_pairs(const json_t *config, const char *args, struct bt_strv_builder *keys,
            struct bt_strv_builder *vals, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder words = { 0 };
    int r;
    split_quoted(args, &words);
    BT_ASSERT(words.n > 0); /* args is not empty nor blank */

    if (!strchr(words.v[0], '=')) {
        const char *e = args;
        while (*e && !is_blank(*e))
            e++;
        const char *rest = skip_blanks(e);
        if (!*rest)
            return bt_err_set(err, BT_EINVALID, "'%s' has no value (NAME=VALUE or NAME VALUE)",
                              args);
        bt_autofree char *key = bt_xstrndup(args, (size_t) (e - args));
        char *k = NULL, *v = NULL;
        if ((r = word_process(config, key, &k, err)) < 0)
            return r;
        bt_strv_builder_push(keys, k);
        if ((r = word_process(config, rest, &v, err)) < 0)
            return r;
        bt_strv_builder_push(vals, v);
    } else {
        for (size_t i = 0; i < words.n; i++) {
            char *eq = strchr(words.v[i], '=');
            if (!eq)
                return bt_err_set(err, BT_EINVALID, "'%s' is not NAME=VALUE", words.v[i]);
            *eq = '\0';
            char *k = NULL, *v = NULL;
            if ((r = word_process(config, words.v[i], &k, err)) < 0)
                return r;
            bt_strv_builder_push(keys, k);
            if ((r = word_process(config, eq + 1, &v, err)) < 0)
                return r;
            bt_strv_builder_push(vals, v);
        }
    }
    for (size_t i = 0; i < keys->n; i++)
        if (!keys->v[i][0])
            return bt_err_set(err, BT_EINVALID, "empty name in '%s'", args);
    return 0;
}

/* The index of the variable name in env, or its size when it is not there. */
static size_t
env_find(const json_t *env, const char *name)
{
    size_t n = strlen(name), i;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, name, n) == 0 && (s[n] == '=' || s[n] == '\0'))
            return i;
    }
    return json_array_size(env);
}

static int
apply_env(json_t *config, const char *args, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder keys = { 0 }, vals = { 0 };
    int r = parse_pairs(config, args, &keys, &vals, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < keys.n; i++)
        if (strchr(keys.v[i], '='))
            return bt_err_set(err, BT_EINVALID, "variable name '%s' contains '='", keys.v[i]);

    json_t *env = member_copy(config, "Env", JSON_ARRAY);
    for (size_t i = 0; i < keys.n; i++) {
        bt_autofree char *kv = bt_xasprintf("%s=%s", keys.v[i], vals.v[i]);
        json_t *s = json_string(kv);
        if (!s) {
            json_decref(env);
            return bt_err_set(err, BT_EINVALID, "'%s' is not valid UTF-8", kv);
        }
        /* An existing variable keeps its place. */
        size_t at = env_find(env, keys.v[i]);
        if (at < json_array_size(env))
            json_array_set_new(env, at, s);
        else
            json_array_append_new(env, s);
    }
    return set_member(config, "Env", env, err);
}

static int
apply_label(json_t *config, const char *args, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder keys = { 0 }, vals = { 0 };
    int r = parse_pairs(config, args, &keys, &vals, err);
    if (r < 0)
        return r;
    json_t *labels = member_copy(config, "Labels", JSON_OBJECT);
    for (size_t i = 0; i < keys.n; i++) {
        json_t *s = json_string(vals.v[i]);
        if (!s || json_object_set_new(labels, keys.v[i], s) < 0) {
            json_decref(labels);
            return bt_err_set(err, BT_EINVALID, "label '%s' is not valid UTF-8", keys.v[i]);
        }
    }
    return set_member(config, "Labels", labels, err);
}

static int
port_parse(const char *s, const char *spec, uint32_t *ret, struct bt_err **err)
{
    uint32_t v;
    if (bt_parse_u32(s, &v) < 0 || v == 0 || v > 65535)
        return bt_err_set(err, BT_EINVALID, "invalid port '%s' in '%s' (1-65535)", s, spec);
    *ret = v;
    return 0;
}

/* PORT[-END][/PROTO] into ports as "PORT/proto" keys. */
static int
expose_one(json_t *ports, const char *spec, struct bt_err **err)
{
    static const char *const protos[] = { "tcp", "udp", "sctp" };
    if (strchr(spec, ':'))
        return bt_err_set(err, BT_EINVALID,
                          "'%s' maps a host port: EXPOSE takes container ports "
                          "(PORT[-END][/PROTO])",
                          spec);
    const char *slash = strchr(spec, '/');
    bt_autofree char *num = bt_xstrndup(spec, slash ? (size_t) (slash - spec) : strlen(spec));
    const char *proto = "tcp";
    if (slash && slash[1]) {
        proto = NULL;
        for (size_t i = 0; i < BT_ARRAY_SIZE(protos) && !proto; i++)
            if (strcasecmp(slash + 1, protos[i]) == 0)
                proto = protos[i];
        if (!proto)
            return bt_err_set(err, BT_EINVALID, "invalid protocol '%s' in '%s' (tcp, udp or sctp)",
                              slash + 1, spec);
    }
    uint32_t start = 0, end = 0;
    char *dash = strchr(num, '-');
    if (dash)
        *dash = '\0';
    int r = port_parse(num, spec, &start, err);
    if (r < 0)
        return r;
    end = start;
    if (dash && (r = port_parse(dash + 1, spec, &end, err)) < 0)
        return r;
    if (end < start)
        return bt_err_set(err, BT_EINVALID, "invalid port range '%s' (end before start)", spec);
    for (uint32_t p = start; p <= end; p++) {
        char key[32];
        int n = snprintf(key, sizeof key, "%u/%s", (unsigned) p, proto);
        BT_ASSERT(n > 0 && (size_t) n < sizeof key);
        json_object_set_new(ports, key, json_object());
    }
    return 0;
}

static int
apply_expose(json_t *config, const char *args, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder words = { 0 };
    split_blanks(args, &words);
    json_t *ports = member_copy(config, "ExposedPorts", JSON_OBJECT);
    for (size_t i = 0; i < words.n; i++) {
        bt_autofree char *spec = NULL;
        int r = word_process(config, words.v[i], &spec, err);
        if (r >= 0)
            r = expose_one(ports, spec, err);
        if (r < 0) {
            json_decref(ports);
            return r;
        }
    }
    return set_member(config, "ExposedPorts", ports, err);
}

static int
apply_stopsignal(json_t *config, const char *args, struct bt_err **err)
{
    bt_autofree char *sig = NULL;
    int r = word_process(config, args, &sig, err);
    if (r < 0)
        return r;
    int num;
    if (bt_signal_parse(sig, &num) < 0)
        return bt_err_set(err, BT_EINVALID,
                          "invalid signal '%s' (a name such as SIGTERM or TERM, or 1-64)", sig);
    /* Kept as written, as Docker keeps it. */
    return set_member(config, "StopSignal", json_string(sig), err);
}

static int
apply_user(json_t *config, const char *args, struct bt_err **err)
{
    bt_autofree char *user = NULL;
    int r = word_process(config, args, &user, err);
    if (r < 0)
        return r;
    const char *colon = strchr(user, ':');
    bool blank = false;
    for (const char *p = user; *p; p++)
        blank |= isspace((unsigned char) *p) != 0;
    if (!user[0] || user[0] == ':' || blank || (colon && (!colon[1] || strchr(colon + 1, ':'))))
        return bt_err_set(err, BT_EINVALID, "invalid user '%s' (NAME[:GROUP], names or ids)", user);
    return set_member(config, "User", json_string(user), err);
}

/* "/" + cur + "/" + req, or req when it is absolute, without '.', '..' and duplicate slashes
 * ('..' stops at the root). Returns a new string, caller frees. */
static char *
workdir_clean(const char *cur, const char *req)
{
    bt_autofree char *full = req[0] == '/' ? bt_xstrdup(req) : bt_xasprintf("/%s/%s", cur, req);
    char *out = bt_xmalloc(strlen(full) + 2);
    size_t o = 0;
    for (const char *p = full; *p;) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t) (e - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* and the slash before the dropped name */
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

static int
apply_workdir(json_t *config, const char *args, struct bt_err **err)
{
    bt_autofree char *req = NULL;
    int r = word_process(config, args, &req, err);
    if (r < 0)
        return r;
    if (!req[0])
        return bt_err_set(err, BT_EINVALID, "empty path in '%s'", args);
    const char *cur = json_string_value(json_object_get(config, "WorkingDir"));
    bt_autofree char *dir = workdir_clean(cur ? cur : "", req);
    return set_member(config, "WorkingDir", json_string(dir), err);
}

/* s without the blanks around it. Returns a new string, caller frees. */
static char *
trim_dup(const char *s)
{
    s = skip_blanks(s);
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    return bt_xstrndup(s, n);
}

static int
apply_volume(json_t *config, const char *args, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder raw = { 0 };
    json_t *a = args[0] == '[' ? json_loads(args, 0, NULL) : NULL;
    if (json_is_array(a)) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
            if (!json_is_string(v)) {
                json_decref(a);
                return bt_err_set(err, BT_EINVALID, "'%s' is not a JSON array of strings", args);
            }
            bt_strv_builder_push(&raw, trim_dup(json_string_value(v)));
        }
    } else {
        split_blanks(args, &raw);
    }
    json_decref(a);
    if (raw.n == 0)
        return bt_err_set(err, BT_EINVALID, "no path in '%s'", args);

    json_t *vols = member_copy(config, "Volumes", JSON_OBJECT);
    for (size_t i = 0; i < raw.n; i++) {
        bt_autofree char *path = NULL;
        int r = word_process(config, raw.v[i], &path, err);
        if (r >= 0 && !path[0])
            r = bt_err_set(err, BT_EINVALID, "empty path in '%s'", args);
        else if (r >= 0 && path[0] != '/')
            r = bt_err_set(err, BT_EINVALID, "path '%s' is not absolute", path);
        if (r < 0) {
            json_decref(vols);
            return r;
        }
        json_object_set_new(vols, path, json_object());
    }
    return set_member(config, "Volumes", vols, err);
}

typedef int (*apply_fn)(json_t *config, const char *args, struct bt_err **err);

static const struct {
    const char *name;
    apply_fn apply;
} instructions[] = {
    { "CMD", apply_cmd },         { "ENTRYPOINT", apply_entrypoint },
    { "ENV", apply_env },         { "EXPOSE", apply_expose },
    { "LABEL", apply_label },     { "STOPSIGNAL", apply_stopsignal },
    { "USER", apply_user },       { "VOLUME", apply_volume },
    { "WORKDIR", apply_workdir },
};

static int
unknown_instruction(const char *kw, struct bt_err **err)
{
    const char *names[BT_ARRAY_SIZE(instructions)];
    bt_autobuf struct bt_buf list;
    bt_buf_init(&list, 256);
    for (size_t i = 0; i < BT_ARRAY_SIZE(instructions); i++) {
        names[i] = instructions[i].name;
        (void) bt_buf_printf(&list, "%s%s", i ? ", " : "", names[i]); /* fits: a fixed list */
    }
    bt_autofree char *upper = bt_xstrdup(kw);
    for (char *p = upper; *p; p++)
        *p = (char) toupper((unsigned char) *p);
    int r = bt_err_set(err, BT_EINVALID, "instruction '%s' is not accepted (allowed: %s)", kw,
                       bt_buf_str(&list));
    const char *near = bt_str_closest(upper, names, BT_ARRAY_SIZE(names));
    if (near)
        bt_err_hint(err, "did you mean '%s'?", near);
    return r;
}

int
eng_img_change_apply(json_t *config, const char *instruction, struct bt_err **err)
{
    if (!json_is_object(config))
        return bt_err_set(err, BT_EINVALID, "the image's config is not a JSON object");
    const char *s = instruction ? instruction : "";
    while (isspace((unsigned char) *s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char) s[n - 1]))
        n--;
    if (n == 0)
        return bt_err_set(err, BT_EINVALID, "empty instruction");
    bt_autofree char *line = bt_xstrndup(s, n);
    if (memchr(line, '\n', n))
        return bt_err_set(err, BT_EINVALID, "line break in '%s' (one instruction per --change)",
                          line);
    for (size_t i = 0, w; i < n; i += w)
        if (bt_utf8_next(line + i, n - i, &w) == BT_UTF8_REPLACEMENT && w == 1)
            return bt_err_set(err, BT_EINVALID, "instruction is not valid UTF-8");

    size_t kwlen = 0;
    while (line[kwlen] && !is_blank(line[kwlen]))
        kwlen++;
    const char *args = skip_blanks(line + kwlen);
    line[kwlen] = '\0'; /* args starts past it, or is the terminator itself */

    for (size_t i = 0; i < BT_ARRAY_SIZE(instructions); i++) {
        if (strcasecmp(line, instructions[i].name) != 0)
            continue;
        if (!*args)
            return bt_err_set(err, BT_EINVALID, "%s: missing argument", instructions[i].name);
        int r = instructions[i].apply(config, args, err);
        if (r < 0)
            (void) bt_err_wrap(err, "%s", instructions[i].name);
        return r;
    }
    return unknown_instruction(line, err);
}
