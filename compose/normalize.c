/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalisation, the project level: the node builders shared with normalize-service.c, the
 * top-level resources (networks, volumes, secrets, configs: names, the implicit default
 * network, legacy `external.name`, labels, file paths), and the walk over the services.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/files.h"
#include "compose/normalize-int.h"
#include "compose/schema-int.h"
#include "engine/base/alloc.h"

/* ---- builders ---- */

static void
list_grow(struct bt_arena *a, struct norm_list *l, size_t size)
{
    if (l->n < l->cap)
        return;
    size_t ncap = l->cap ? l->cap * 2 : 4;
    void *nv = bt_arena_alloc(a, ncap * size);
    void *old = size == sizeof *l->pairs ? (void *) l->pairs : (void *) l->items;
    if (l->n)
        bt_memcpy(nv, old, l->n * size);
    if (size == sizeof *l->pairs)
        l->pairs = nv;
    else
        l->items = nv;
    l->cap = ncap;
}

void
norm_list_push(struct bt_arena *a, struct norm_list *l, struct compose_node *item)
{
    BT_ASSERT(!l->pairs);
    list_grow(a, l, sizeof *l->items);
    l->items[l->n++] = item;
}

void
norm_list_put(struct bt_arena *a, struct norm_list *l, struct compose_node *key,
              struct compose_node *val)
{
    BT_ASSERT(!l->items);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->pairs[i].key->str, key->str) == 0) {
            l->pairs[i].val = val;
            return;
        }
    list_grow(a, l, sizeof *l->pairs);
    l->pairs[l->n++] = (struct compose_pair){ key, val };
}

static struct compose_node *
new_node(struct bt_arena *a, enum compose_node_kind kind, const struct compose_pos *pos)
{
    struct compose_node *n = bt_arena_alloc(a, sizeof *n);
    n->kind = kind;
    if (pos)
        n->pos = *pos;
    return n;
}

/* The node takes the list's array; the list is left empty. */
struct compose_node *
norm_list_seq(struct bt_arena *a, struct norm_list *l, const struct compose_pos *pos)
{
    struct compose_node *n = new_node(a, COMPOSE_NODE_SEQ, pos);
    n->items = l->items;
    n->n = l->n;
    *l = (struct norm_list){ 0 };
    return n;
}

struct hashed_item {
    uint64_t h;
    size_t idx;
};

static int
hashed_item_cmp(const void *x, const void *y)
{
    const struct hashed_item *l = x, *r = y;
    if (l->h != r->h)
        return l->h < r->h ? -1 : 1;
    return l->idx < r->idx ? -1 : l->idx > r->idx;
}

void
norm_list_dedupe(struct norm_list *l)
{
    BT_ASSERT(!l->pairs);
    if (l->n < 2)
        return;
    /* By hash, so that a range of thousands of ports costs n log n, not n squared. */
    struct hashed_item *v = bt_xcalloc(l->n, sizeof *v);
    bool *drop = bt_xcalloc(l->n, sizeof *drop);
    for (size_t i = 0; i < l->n; i++)
        v[i] = (struct hashed_item){ compose_schema_node_hash(l->items[i]), i };
    qsort(v, l->n, sizeof *v, hashed_item_cmp);
    for (size_t s = 0, e; s < l->n; s = e) {
        for (e = s + 1; e < l->n && v[e].h == v[s].h; e++)
            ;
        for (size_t b = s + 1; b < e; b++)
            for (size_t k = s; k < b && !drop[v[b].idx]; k++)
                if (!drop[v[k].idx] &&
                    compose_schema_nodes_equal(l->items[v[k].idx], l->items[v[b].idx]))
                    drop[v[b].idx] = true;
    }
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!drop[i])
            l->items[w++] = l->items[i];
    l->n = w;
    free(v);
    free(drop);
}

struct compose_node *
norm_list_map(struct bt_arena *a, struct norm_list *l, const struct compose_pos *pos)
{
    struct compose_node *n = new_node(a, COMPOSE_NODE_MAP, pos);
    n->pairs = l->pairs;
    n->n = l->n;
    *l = (struct norm_list){ 0 };
    return n;
}

struct compose_node *
norm_str(struct bt_arena *a, const struct compose_pos *pos, const char *s)
{
    struct compose_node *n = new_node(a, COMPOSE_NODE_SCALAR, pos);
    n->str = s;
    n->len = strlen(s);
    return n;
}

struct compose_node *
norm_int(struct bt_arena *a, const struct compose_pos *pos, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return compose_node_scalar(a, pos, buf, true);
}

struct compose_node *
norm_bool(struct bt_arena *a, const struct compose_pos *pos, bool v)
{
    return compose_node_scalar(a, pos, v ? "true" : "false", true);
}

struct compose_node *
norm_null(struct bt_arena *a, const struct compose_pos *pos)
{
    return compose_node_scalar(a, pos, "null", true);
}

struct compose_node *
norm_map_copy(struct bt_arena *a, const struct compose_node *m, size_t extra)
{
    struct compose_node *c = new_node(a, COMPOSE_NODE_MAP, &m->pos);
    size_t n = m->kind == COMPOSE_NODE_MAP ? m->n : 0;
    c->pairs = bt_arena_alloc(a, (n + extra + 1) * sizeof *c->pairs);
    if (n)
        bt_memcpy(c->pairs, m->pairs, n * sizeof *c->pairs);
    c->n = n;
    c->tag = m->tag;
    return c;
}

void
norm_put(struct bt_arena *a, struct compose_node *m, const char *key, struct compose_node *val)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->pairs[i].key->str, key) == 0) {
            m->pairs[i].val = val;
            return;
        }
    m->pairs[m->n++] = (struct compose_pair){ compose_node_scalar(a, &val->pos, key, false), val };
}

void
norm_del(struct compose_node *m, const char *key)
{
    size_t o = 0;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->pairs[i].key->str, key) != 0)
            m->pairs[o++] = m->pairs[i];
    m->n = o;
}

bool
norm_is_str(const struct compose_node *n)
{
    return n && n->kind == COMPOSE_NODE_SCALAR && compose_scalar_type(n) == COMPOSE_SCALAR_STRING;
}

/* ---- errors and paths ---- */

int
norm_fail(struct bt_err **err, const struct norm *x, const struct compose_node *n,
          const char *suffix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *msg = bt_xvasprintf(fmt, ap);
    va_end(ap);
    if (!n)
        return bt_err_set(err, BT_EINVALID, "%s%s: %s", x->path, suffix, msg);
    return bt_err_set_at(err, n->pos.file, n->pos.line, n->pos.col, BT_EINVALID, "%s%s: %s",
                         x->path, suffix, msg);
}

int
norm_fail_short(struct bt_err **err, const struct norm *x, const struct compose_node *n,
                const char *suffix)
{
    int r = bt_err_wrap(err, "%s%s", x->path, suffix);
    if (err && *err && !(*err)->file && n->pos.file) {
        (*err)->file = bt_xstrdup(n->pos.file);
        (*err)->line = n->pos.line;
        (*err)->col = n->pos.col;
    }
    return r;
}

static bool
is_remote(const char *p)
{
    static const char *const prefixes[] = { "https://", "http://", "git://", "github.com/",
                                            "git@" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(prefixes); i++)
        if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return strstr(p, "://") != NULL;
}

const char *
norm_path(struct norm *x, const char *p)
{
    bool windows = ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
                   (p[2] == '\\' || p[2] == '/');
    if (!x->o->resolve_paths || !p[0] || is_remote(p) || windows)
        return p; /* a Windows path is left as it is, as docker compose leaves it */
    if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
        return x->o->home ? compose_path_abs(x->a, x->o->home, p[1] ? p + 2 : ".") : p;
    return compose_path_abs(x->a, x->o->working_dir, p);
}

/* ---- string mappings ---- */

int
norm_string_map(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                struct bt_err **err)
{
    struct norm_list l = { 0 };
    if (v->kind == COMPOSE_NODE_SEQ) {
        for (size_t i = 0; i < v->n; i++) {
            const struct compose_node *it = v->items[i];
            if (it->kind != COMPOSE_NODE_SCALAR)
                return norm_fail(err, x, it, bt_arena_printf(x->a, "[%zu]", i),
                                 "expected a 'KEY=VALUE' string, found a %s",
                                 compose_node_type_str(it));
            const char *eq = strchr(it->str, '=');
            const char *key =
                eq ? bt_arena_strndup(x->a, it->str, (size_t) (eq - it->str)) : it->str;
            if (!key[0])
                return norm_fail(err, x, it, bt_arena_printf(x->a, "[%zu]", i),
                                 "'%s' has an empty name", it->str);
            norm_list_put(x->a, &l, norm_str(x->a, &it->pos, key),
                          eq ? norm_str(x->a, &it->pos, eq + 1) : norm_null(x->a, &it->pos));
        }
    } else if (v->kind == COMPOSE_NODE_MAP) {
        for (size_t i = 0; i < v->n; i++) {
            const struct compose_node *val = v->pairs[i].val;
            struct compose_node *out;
            if (!val || compose_scalar_type(val) == COMPOSE_SCALAR_NULL)
                out = norm_null(x->a, val ? &val->pos : &v->pairs[i].key->pos);
            else if (val->kind == COMPOSE_NODE_SCALAR)
                out = norm_str(x->a, &val->pos, val->str);
            else
                return norm_fail(err, x, val, bt_arena_printf(x->a, ".%s", v->pairs[i].key->str),
                                 "expected a string, number or boolean, found a %s",
                                 compose_node_type_str(val));
            norm_list_put(x->a, &l, v->pairs[i].key, out);
        }
    } else {
        return norm_fail(err, x, v, "", "expected a mapping or a list of 'KEY=VALUE', found a %s",
                         compose_node_type_str(v));
    }
    *ret = norm_list_map(x->a, &l, &v->pos);
    return 0;
}

int
norm_labels(struct norm *x, const struct compose_node *v, struct compose_node **ret,
            struct bt_err **err)
{
    if (norm_string_map(x, v, ret, err) < 0)
        return -1;
    for (size_t i = 0; i < (*ret)->n; i++)
        if (compose_scalar_type((*ret)->pairs[i].val) == COMPOSE_SCALAR_NULL)
            (*ret)->pairs[i].val = norm_str(x->a, &(*ret)->pairs[i].val->pos, "");
    return 0;
}

const char *
norm_lower(struct bt_arena *a, const char *s)
{
    char *l = bt_arena_strdup(a, s);
    for (char *c = l; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    return l;
}

/* ---- top-level resources ---- */

/* networks, volumes, secrets, configs: every entry a mapping with its name. */
static int
norm_resource(struct norm *x, const char *kind, const char *key, const struct compose_node *v,
              struct compose_node **ret, struct bt_err **err)
{
    struct compose_pos pos = v ? v->pos : (struct compose_pos){ 0 };
    struct compose_node *r = v && v->kind == COMPOSE_NODE_MAP
                                 ? norm_map_copy(x->a, v, 4)
                                 : norm_map_copy(x->a, &(struct compose_node){ .pos = pos }, 4);
    x->path = bt_arena_printf(x->a, "%s.%s", kind, key);
    /* The legacy `external: {name: N}` is `external: true` with `name: N`. */
    const struct compose_node *ext = compose_map_get(r, "external");
    bool external = false;
    if (ext && ext->kind == COMPOSE_NODE_MAP) {
        const struct compose_node *en = compose_map_get(ext, "name");
        const struct compose_node *name = compose_map_get(r, "name");
        if (en && name && strcmp(en->str, name->str) != 0)
            return norm_fail(err, x, en, ".external.name",
                             "conflicts with name '%s' (external.name is the old spelling of name)",
                             name->str);
        if (en)
            norm_put(x->a, r, "name", norm_str(x->a, &en->pos, en->str));
        norm_put(x->a, r, "external", norm_bool(x->a, &ext->pos, true));
        external = true;
    } else if (ext && compose_scalar_type(ext) == COMPOSE_SCALAR_BOOL) {
        external = ext->str[0] == 't' || ext->str[0] == 'T';
    }
    const struct compose_node *name = compose_map_get(r, "name");
    if (x->o->defaults && (!name || compose_scalar_type(name) == COMPOSE_SCALAR_NULL))
        norm_put(
            x->a, r, "name",
            norm_str(x->a, &pos,
                     external ? key : bt_arena_printf(x->a, "%s_%s", x->o->project_name, key)));
    const char *base = x->path;
    for (size_t i = 0; i < r->n; i++) {
        const char *k = r->pairs[i].key->str;
        struct compose_node *val = r->pairs[i].val;
        x->path = bt_arena_printf(x->a, "%s.%s", base, k);
        if (strcmp(k, "labels") == 0) {
            if (norm_labels(x, val, &r->pairs[i].val, err) < 0)
                return -1;
        } else if (strcmp(k, "driver_opts") == 0) {
            if (norm_string_map(x, val, &r->pairs[i].val, err) < 0)
                return -1;
        } else if (strcmp(k, "file") == 0 && norm_is_str(val)) {
            r->pairs[i].val = norm_str(x->a, &val->pos, norm_path(x, val->str));
        }
    }
    /* A local volume with o=bind is a bind mount of `device`. */
    const struct compose_node *opts = compose_map_get(r, "driver_opts");
    const struct compose_node *o = opts ? compose_map_get(opts, "o") : NULL;
    const struct compose_node *dev = opts ? compose_map_get(opts, "device") : NULL;
    if (strcmp(kind, "volumes") == 0 && o && dev && norm_is_str(dev) && strstr(o->str, "bind")) {
        struct compose_node *oc = norm_map_copy(x->a, opts, 0);
        norm_put(x->a, oc, "device", norm_str(x->a, &dev->pos, norm_path(x, dev->str)));
        norm_put(x->a, r, "driver_opts", oc);
    }
    *ret = r;
    return 0;
}

static int
norm_resources(struct norm *x, struct compose_node *model, const char *kind, bool add_default,
               struct bt_err **err)
{
    struct compose_node *m = compose_map_get(model, kind);
    if (!m && !add_default)
        return 0;
    struct compose_pos pos = m ? m->pos : model->pos;
    struct compose_node *c =
        m && m->kind == COMPOSE_NODE_MAP
            ? norm_map_copy(x->a, m, 1)
            : norm_map_copy(x->a, &(struct compose_node){ .kind = COMPOSE_NODE_MAP, .pos = pos },
                            1);
    if (add_default && !compose_map_get(c, "default"))
        norm_put(x->a, c, "default", norm_null(x->a, &pos));
    for (size_t i = 0; i < c->n; i++)
        if (norm_resource(x, kind, c->pairs[i].key->str, c->pairs[i].val, &c->pairs[i].val, err) <
            0)
            return -1;
    norm_put(x->a, model, kind, c);
    return 0;
}

/* ---- the project ---- */

int
compose_normalize(struct bt_arena *a, struct compose_node *model,
                  const struct compose_normalize_opts *o, struct bt_err **err)
{
    if (!model || model->kind != COMPOSE_NODE_MAP)
        return 0;
    struct norm x = { .a = a, .o = o };
    /* Room for the resource kinds normalisation may add. */
    struct compose_node *copy = norm_map_copy(a, model, 4);
    norm_del(copy, "version"); /* obsolete: docker compose ignores it */
    struct compose_node *services = compose_map_get(copy, "services");
    if (!services)
        norm_put(a, copy, "services",
                 norm_map_copy(a, &(struct compose_node){ .pos = model->pos }, 0));
    if (services && services->kind == COMPOSE_NODE_MAP) {
        struct compose_node *s = norm_map_copy(a, services, 0);
        for (size_t i = 0; i < s->n; i++)
            if (compose_normalize_service(&x, s->pairs[i].key->str, s->pairs[i].val,
                                          &s->pairs[i].val, err) < 0)
                return -1;
        norm_put(a, copy, "services", s);
    }
    static const char *const kinds[] = { "networks", "volumes", "secrets", "configs" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(kinds); i++)
        if (norm_resources(&x, copy, kinds[i], i == 0 && x.uses_default_network, err) < 0)
            return -1;
    *model = *copy;
    return 0;
}
