/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model as canonical text: YAML (libyaml's emitter, so quoting is always right) or JSON
 * (jansson). Keys come in a fixed order so that equal models print the same bytes, and a
 * string that would read back as another type ("true", "8080", "") is quoted. Both formats are
 * UTF-8 only, while values from the environment, .env files or directory names are bytes: a byte
 * that is not UTF-8 is printed as U+FFFD, as Go's encoding/json does.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "compose/compose.h"
#include "compose/node.h"
#include "compose/schema-int.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/sha256.h"
#include "engine/base/utf8.h"

static const char *const top_order[] = { "name",    "services", "networks",
                                         "volumes", "secrets",  "configs" };

static int
top_rank(const char *key)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(top_order); i++)
        if (strcmp(key, top_order[i]) == 0)
            return (int) i;
    return (int) BT_ARRAY_SIZE(top_order);
}

static int
cmp_top(const void *x, const void *y)
{
    const struct compose_pair *l = *(const struct compose_pair *const *) x;
    const struct compose_pair *r = *(const struct compose_pair *const *) y;
    int a = top_rank(l->key->str), b = top_rank(r->key->str);
    return a != b ? a - b : strcmp(l->key->str, r->key->str);
}

static int
cmp_key(const void *x, const void *y)
{
    const struct compose_pair *l = *(const struct compose_pair *const *) x;
    const struct compose_pair *r = *(const struct compose_pair *const *) y;
    return strcmp(l->key->str, r->key->str);
}

/* The pairs of a mapping in output order; caller frees the array. */
static const struct compose_pair **
ordered(const struct compose_node *m, bool top)
{
    const struct compose_pair **v = bt_xcalloc(m->n + 1, sizeof *v);
    for (size_t i = 0; i < m->n; i++)
        v[i] = &m->pairs[i];
    qsort(v, m->n, sizeof *v, top ? cmp_top : cmp_key);
    return v;
}

/* ---- YAML ---- */

static int
write_out(void *data, unsigned char *buffer, size_t size)
{
    return bt_buf_append(data, buffer, size) == 0;
}

/* The value of an integer scalar as go-yaml reads it (0x1F, 0o17 and 017 octal, 0b101, "_"
 * ignored); false when it does not fit. */
static bool
int_value(const struct compose_node *n, long long *ret)
{
    struct compose_num num;
    if (!compose_schema_node_num(n, &num) || !num.is_int ||
        num.mag > (uint64_t) LLONG_MAX + (num.neg ? 1 : 0))
        return false;
    *ret = num.neg ? (long long) (0 - num.mag) : (long long) num.mag;
    return true;
}

static bool
digits(const char **s, size_t min, size_t max)
{
    size_t n = 0;
    while ((*s)[n] >= '0' && (*s)[n] <= '9')
        n++;
    *s += n;
    return n >= min && n <= max;
}

/* Strings that YAML 1.1 readers take for something else, which docker compose's YAML library
 * quotes too: the old booleans (yes, no, on, off, y, n), base-60 numbers ("1:20") and dates
 * ("2001-01-01..."). */
static bool
reads_as_other_type(const char *s)
{
    static const char *const old_bools[] = { "y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                             "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(old_bools); i++)
        if (strcmp(s, old_bools[i]) == 0)
            return true;
    const char *p = s + (*s == '-' || *s == '+');
    if (digits(&p, 1, SIZE_MAX) && *p == ':') {
        while (*p == ':') {
            p++;
            if (!digits(&p, 1, 2))
                return false;
        }
        if (*p == '.')
            for (p++; (*p >= '0' && *p <= '9') || *p == '_'; p++)
                ;
        return *p == '\0';
    }
    p = s;
    return digits(&p, 4, 4) && *p++ == '-' && digits(&p, 1, 2) && *p++ == '-' && digits(&p, 1, 2);
}

static bool
needs_quotes(const struct compose_node *n)
{
    struct compose_node plain = *n;
    plain.plain = true;
    return compose_scalar_type(&plain) != COMPOSE_SCALAR_STRING || reads_as_other_type(n->str);
}

static int
emit_scalar(yaml_emitter_t *em, const char *text, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    /* Fails on text that is not UTF-8 (escaped() cleans it) or on a length past INT_MAX. */
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text, (int) len, 1, 1,
                                      style))
        return 0;
    return yaml_emitter_emit(em, &ev);
}

/* text itself when it is valid UTF-8, else a copy in a with U+FFFD for each stray byte. */
static const char *
utf8_clean(struct bt_arena *a, const char *text, size_t len, size_t *ret_len)
{
    size_t w, bad = 0;
    for (size_t i = 0; i < len; i += w)
        bad += bt_utf8_next(text + i, len - i, &w) == BT_UTF8_REPLACEMENT && w == 1;
    *ret_len = len;
    if (bad == 0)
        return text;
    char *out = bt_arena_alloc(a, len + 2 * bad + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += w) {
        if (bt_utf8_next(text + i, len - i, &w) == BT_UTF8_REPLACEMENT && w == 1) {
            memcpy(out + o, BT_UTF8_REPLACEMENT_STR, 3);
            o += 3;
        } else {
            memcpy(out + o, text + i, w);
            o += w;
        }
    }
    out[o] = '\0';
    *ret_len = o;
    return out;
}

/* A string's text as printed: valid UTF-8, and in an interpolated model "$" as "$$", so the
 * output reads back as the same model. */
static const char *
escaped(struct bt_arena *a, const struct compose_node *n, bool escape, size_t *ret_len)
{
    if (!escape || !memchr(n->str, '$', n->len))
        return utf8_clean(a, n->str, n->len, ret_len);
    char *out = bt_arena_alloc(a, n->len * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n->len; i++) {
        out[o++] = n->str[i];
        if (n->str[i] == '$')
            out[o++] = '$';
    }
    return utf8_clean(a, out, o, ret_len);
}

struct emit {
    yaml_emitter_t *em;
    struct bt_arena *a;
    bool escape;
};

static int
emit_node(struct emit *e, const struct compose_node *n, bool top, bool key)
{
    yaml_emitter_t *em = e->em;
    yaml_event_t ev;
    if (n->kind == COMPOSE_NODE_SCALAR) {
        enum compose_scalar_type t = compose_scalar_type(n);
        /* Keys are strings whatever they look like (go-yaml keeps a key's text when it decodes
         * into a string map): `0x1F:` stays 0x1F, as the JSON output says. */
        if (key && t != COMPOSE_SCALAR_STRING)
            return emit_scalar(em, n->str, n->len, YAML_PLAIN_SCALAR_STYLE);
        if (t == COMPOSE_SCALAR_NULL)
            return emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE);
        long long v;
        struct compose_num num;
        char buf[40];
        if (t == COMPOSE_SCALAR_INT && int_value(n, &v)) {
            /* Numbers in their shortest form, as docker compose prints them. */
            int len = snprintf(buf, sizeof buf, "%lld", v);
            return emit_scalar(em, buf, (size_t) len, YAML_PLAIN_SCALAR_STYLE);
        }
        if (t == COMPOSE_SCALAR_FLOAT && compose_schema_node_num(n, &num) && num.d == num.d &&
            num.d - num.d == 0) {
            int len = 0;
            for (int prec = 1; prec <= 17; prec++) {
                len = snprintf(buf, sizeof buf, "%.*g", prec, num.d);
                if (strtod(buf, NULL) == num.d)
                    break;
            }
            return emit_scalar(em, buf, (size_t) len, YAML_PLAIN_SCALAR_STYLE);
        }
        if (t != COMPOSE_SCALAR_STRING)
            return emit_scalar(em, n->str, n->len, YAML_PLAIN_SCALAR_STYLE);
        size_t len;
        const char *text = escaped(e->a, n, e->escape && !key, &len);
        yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
        if (needs_quotes(n))
            style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        else if (!key && memchr(text, '\n', len))
            style = YAML_LITERAL_SCALAR_STYLE; /* libyaml falls back when it cannot */
        return emit_scalar(em, text, len, style);
    }
    if (n->kind == COMPOSE_NODE_SEQ) {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return 0;
        for (size_t i = 0; i < n->n; i++)
            if (!emit_node(e, n->items[i], false, false))
                return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev);
    }
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!yaml_emitter_emit(em, &ev))
        return 0;
    const struct compose_pair **pairs = ordered(n, top);
    int ok = 1;
    for (size_t i = 0; ok && i < n->n; i++)
        ok = emit_node(e, pairs[i]->key, false, true) && emit_node(e, pairs[i]->val, false, false);
    free(pairs);
    if (!ok)
        return 0;
    yaml_mapping_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev);
}

static char *
format_yaml(struct bt_arena *a, const struct compose_node *root, bool escape)
{
    struct bt_buf out;
    bt_buf_init(&out, (size_t) 1 << 30);
    yaml_emitter_t em;
    yaml_event_t ev;
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, write_out, &out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    int ok = yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    struct emit e = { &em, a, escape };
    ok = ok && yaml_emitter_emit(&em, &ev) && emit_node(&e, root, true, false);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    /* The emitter only fails on bad events (a programming error) or past the 1 GiB ceiling. */
    BT_ASSERT(ok);
    return bt_buf_steal(&out);
}

/* ---- JSON ---- */

static json_t *
json_scalar(struct bt_arena *a, const struct compose_node *n, bool escape)
{
    switch (compose_scalar_type(n)) {
    case COMPOSE_SCALAR_NULL:
        return json_null();
    case COMPOSE_SCALAR_BOOL:
        return json_boolean(n->str[0] == 't' || n->str[0] == 'T');
    case COMPOSE_SCALAR_INT: {
        long long v;
        if (int_value(n, &v))
            return json_integer(v);
        return json_stringn(n->str, n->len); /* out of range: keep the text */
    }
    case COMPOSE_SCALAR_FLOAT: {
        char *end;
        double d = strtod(n->str, &end);
        if (*end == '\0' && d == d && d - d == 0) /* finite */
            return json_real(d);
        return json_stringn(n->str, n->len); /* .inf and .nan have no JSON form */
    }
    case COMPOSE_SCALAR_STRING:
        break;
    }
    size_t len;
    const char *text = escaped(a, n, escape, &len);
    return json_stringn(text, len);
}

static json_t *
to_json(struct bt_arena *a, const struct compose_node *n, bool top, bool escape)
{
    if (n->kind == COMPOSE_NODE_SCALAR)
        return json_scalar(a, n, escape);
    if (n->kind == COMPOSE_NODE_SEQ) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n->n; i++)
            json_array_append_new(arr, to_json(a, n->items[i], false, escape));
        return arr;
    }
    json_t *o = json_object();
    const struct compose_pair **pairs = ordered(n, top);
    for (size_t i = 0; i < n->n; i++) {
        size_t len;
        const char *key = utf8_clean(a, pairs[i]->key->str, pairs[i]->key->len, &len);
        json_object_setn_new(o, key, len, to_json(a, pairs[i]->val, false, escape));
    }
    free(pairs);
    return o;
}

static char *
format_json(struct bt_arena *a, const struct compose_node *root, bool escape)
{
    json_t *j = to_json(a, root, true, escape);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(j);
    BT_ASSERT(s);
    char *out = bt_xasprintf("%s\n", s);
    free(s);
    return out;
}

/* ---- configuration hashes ---- */

/* What does not change a service's containers. */
static const char *const hash_ignored[] = { "build", "pull_policy", "scale", "depends_on",
                                            "profiles" };

static int
cmp_pair_key(const void *x, const void *y)
{
    return strcmp(((const struct compose_pair *) x)->key->str,
                  ((const struct compose_pair *) y)->key->str);
}

int
compose_project_hashes(const struct compose_project *p, const char ***ret, size_t *ret_n)
{
    const struct compose_node *services = p->model ? compose_map_get(p->model, "services") : NULL;
    size_t n = services && services->kind == COMPOSE_NODE_MAP ? services->n : 0;
    struct compose_pair *sorted = bt_arena_alloc(p->arena, (n + 1) * sizeof *sorted);
    if (n)
        bt_memcpy(sorted, services->pairs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_pair_key);
    const char **out = bt_arena_alloc(p->arena, (n + 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct compose_node *svc = sorted[i].val;
        json_t *j = svc ? to_json(p->arena, svc, false, false) : json_object();
        for (size_t k = 0; k < BT_ARRAY_SIZE(hash_ignored); k++)
            json_object_del(j, hash_ignored[k]);
        json_t *deploy = json_object_get(j, "deploy");
        if (json_is_object(deploy))
            json_object_del(deploy, "replicas");
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(j);
        BT_ASSERT(text);
        char hex[BT_SHA256_HEX_LEN];
        bt_sha256_hex(text, strlen(text), hex);
        free(text);
        out[i] = bt_arena_printf(p->arena, "%s %s", sorted[i].key->str, hex);
    }
    *ret = out;
    *ret_n = n;
    return 0;
}

char *
compose_project_format(const struct compose_project *p, enum compose_format f)
{
    /* The output always names the project, first. */
    struct compose_pos pos = { .file = "", .line = 0, .col = 0 };
    struct compose_node *m = p->model;
    size_t n = m && m->kind == COMPOSE_NODE_MAP ? m->n : 0;
    struct compose_node *root = bt_arena_alloc(p->arena, sizeof *root);
    root->kind = COMPOSE_NODE_MAP;
    root->pos = pos;
    root->pairs = bt_arena_alloc(p->arena, (n + 1) * sizeof *root->pairs);
    root->pairs[root->n++] = (struct compose_pair){
        compose_node_scalar(p->arena, &pos, "name", true),
        compose_node_scalar(p->arena, &pos, p->name, false),
    };
    for (size_t i = 0; i < n; i++)
        if (strcmp(m->pairs[i].key->str, "name") != 0)
            root->pairs[root->n++] = m->pairs[i];
    return f == COMPOSE_FORMAT_JSON ? format_json(p->arena, root, p->interpolated)
                                    : format_yaml(p->arena, root, p->interpolated);
}
