/* SPDX-License-Identifier: Apache-2.0 */
/*
 * extends resolution, depth first with a chain of (file, service) links for cycle detection,
 * and the path rebasing that a service brought in from another file needs.
 */
#include <string.h>

#include "compose/extends.h"
#include "compose/files.h"
#include "compose/mapindex.h"
#include "compose/merge.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/parse.h"

#define EXTENDS_MAX_CHAIN 64
#define INDEXED_MAPS 4 /* services mappings looked up through an index */

struct link {
    const char *file;
    const char *service;
};

struct ctx {
    struct bt_arena *a;
    compose_extends_load_fn load;
    void *userdata;
    struct link chain[EXTENDS_MAX_CHAIN];
    size_t depth;
    /* Every service of a file is resolved, and each looks up itself and its base by name: the
     * big services mappings get an index. None changes during the resolution. */
    const struct compose_node *indexed[INDEXED_MAPS];
    struct compose_map_index index[INDEXED_MAPS];
    size_t nindexed;
};

/* compose_map_get(services, name), through an index when services is big. */
static struct compose_node *
service_get(struct ctx *x, const struct compose_node *services, const char *name)
{
    if (services->kind != COMPOSE_NODE_MAP || services->n < COMPOSE_MAP_INDEX_MIN)
        return compose_map_get(services, name);
    size_t k = 0;
    while (k < x->nindexed && x->indexed[k] != services)
        k++;
    if (k == x->nindexed) {
        if (k == INDEXED_MAPS)
            return compose_map_get(services, name);
        compose_map_index_init(&x->index[k], services->pairs, services->n);
        x->indexed[x->nindexed++] = services;
    }
    size_t i = compose_map_index_find(&x->index[k], name, strlen(name));
    return i == SIZE_MAX ? NULL : services->pairs[i].val;
}

static struct compose_node *
copy_map(struct bt_arena *a, const struct compose_node *m, size_t extra)
{
    struct compose_node *c = bt_arena_alloc(a, sizeof *c);
    *c = *m;
    c->pairs = bt_arena_alloc(a, (m->n + extra + 1) * sizeof *c->pairs);
    bt_memcpy(c->pairs, m->pairs, m->n * sizeof *c->pairs);
    return c;
}

static void
map_set(struct compose_node *m, struct compose_node *key, struct compose_node *val)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->pairs[i].key->str, key->str) == 0) {
            m->pairs[i].val = val;
            return;
        }
    m->pairs[m->n++] = (struct compose_pair){ key, val };
}

static struct compose_node *
without_key(struct bt_arena *a, const struct compose_node *m, const char *key)
{
    struct compose_node *c = copy_map(a, m, 0);
    c->n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->pairs[i].key->str, key) != 0)
            c->pairs[c->n++] = m->pairs[i];
    return c;
}

/* ---- relative paths ---- */

static bool
is_relative_local(const char *s)
{
    /* URLs and git references (build contexts) are left alone, as are absolute paths. */
    return s[0] != '/' && s[0] != '~' && !strstr(s, "://") && strncmp(s, "git@", 4) != 0;
}

static struct compose_node *
abs_scalar(struct bt_arena *a, const struct compose_node *n, const char *dir)
{
    if (!n || n->kind != COMPOSE_NODE_SCALAR || !is_relative_local(n->str) || !n->str[0])
        return (struct compose_node *) n;
    return compose_node_scalar(a, &n->pos, compose_path_abs(a, dir, n->str), false);
}

/* "./src:/app:ro" → "/dir/src:/app:ro"; named volumes ("data:/x") stay. */
static struct compose_node *
abs_short_volume(struct bt_arena *a, const struct compose_node *n, const char *dir)
{
    if (n->kind != COMPOSE_NODE_SCALAR || (n->str[0] != '.' && n->str[0] != '~'))
        return (struct compose_node *) n;
    if (n->str[0] == '~')
        return (struct compose_node *) n; /* ~ expands against the user's home, later */
    const char *colon = strchr(n->str, ':');
    size_t hl = colon ? (size_t) (colon - n->str) : strlen(n->str);
    struct compose_node host = *n;
    host.str = bt_arena_strndup(a, n->str, hl);
    host.len = hl;
    const struct compose_node *h = abs_scalar(a, &host, dir);
    return compose_node_scalar(a, &n->pos, bt_arena_printf(a, "%s%s", h->str, colon ? colon : ""),
                               false);
}

static struct compose_node *
abs_seq(struct bt_arena *a, const struct compose_node *s, const char *dir, bool volumes)
{
    if (!s)
        return NULL;
    if (s->kind == COMPOSE_NODE_SCALAR)
        return abs_scalar(a, s, dir);
    if (s->kind != COMPOSE_NODE_SEQ)
        return (struct compose_node *) s;
    struct compose_node *c = bt_arena_alloc(a, sizeof *c);
    *c = *s;
    c->items = bt_arena_alloc(a, (s->n + 1) * sizeof *c->items);
    for (size_t i = 0; i < s->n; i++) {
        const struct compose_node *it = s->items[i];
        if (it->kind == COMPOSE_NODE_SCALAR) {
            c->items[i] = volumes ? abs_short_volume(a, it, dir) : abs_scalar(a, it, dir);
            continue;
        }
        c->items[i] = (struct compose_node *) it;
        if (it->kind != COMPOSE_NODE_MAP)
            continue;
        const char *key = volumes ? "source" : "path";
        const struct compose_node *type = compose_map_get(it, "type");
        if (volumes && !(type && type->kind == COMPOSE_NODE_SCALAR && bt_streq(type->str, "bind")))
            continue;
        const struct compose_node *src = compose_map_get(it, key);
        if (src) {
            struct compose_node *m = copy_map(a, it, 0);
            for (size_t k = 0; k < m->n; k++)
                if (strcmp(m->pairs[k].key->str, key) == 0)
                    m->pairs[k].val = abs_scalar(a, src, dir);
            c->items[i] = m;
        }
    }
    return c;
}

struct compose_node *
compose_service_resolve_paths(struct bt_arena *a, const struct compose_node *svc, const char *dir)
{
    if (!svc || svc->kind != COMPOSE_NODE_MAP)
        return (struct compose_node *) svc;
    struct compose_node *c = copy_map(a, svc, 0);
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->pairs[i].key->str;
        struct compose_node *v = c->pairs[i].val;
        if (strcmp(k, "build") == 0 && v && v->kind == COMPOSE_NODE_SCALAR) {
            c->pairs[i].val = abs_scalar(a, v, dir);
        } else if (strcmp(k, "build") == 0 && v && v->kind == COMPOSE_NODE_MAP) {
            struct compose_node *b = copy_map(a, v, 0);
            for (size_t j = 0; j < b->n; j++)
                if (strcmp(b->pairs[j].key->str, "context") == 0)
                    b->pairs[j].val = abs_scalar(a, b->pairs[j].val, dir);
            c->pairs[i].val = b;
        } else if (strcmp(k, "env_file") == 0 || strcmp(k, "label_file") == 0) {
            c->pairs[i].val = abs_seq(a, v, dir, false);
        } else if (strcmp(k, "volumes") == 0) {
            c->pairs[i].val = abs_seq(a, v, dir, true);
        } else if (strcmp(k, "extends") == 0 && v && v->kind == COMPOSE_NODE_MAP &&
                   compose_map_get(v, "file")) {
            struct compose_node *e = copy_map(a, v, 0);
            for (size_t j = 0; j < e->n; j++)
                if (strcmp(e->pairs[j].key->str, "file") == 0)
                    e->pairs[j].val = abs_scalar(a, e->pairs[j].val, dir);
            c->pairs[i].val = e;
        }
    }
    return c;
}

/* ---- extends ---- */

static int
cycle_error(struct ctx *x, const struct compose_node *at, const char *file, const char *service,
            struct bt_err **err)
{
    struct bt_buf b;
    bt_buf_init(&b, 8192);
    for (size_t i = 0; i < x->depth; i++)
        (void) bt_buf_printf(&b, "'%s' (%s) -> ", x->chain[i].service, x->chain[i].file);
    (void) bt_buf_printf(&b, "'%s' (%s)", service, file);
    int r = bt_err_set_at(err, at->pos.file, at->pos.line, at->pos.col, BT_EINVALID,
                          "services.%s.extends: extends cycle: %s", x->chain[0].service,
                          bt_buf_str(&b));
    bt_buf_release(&b);
    return r;
}

static int resolve(struct ctx *x, struct compose_node *services, const char *file, const char *name,
                   struct compose_node **ret, struct bt_err **err);

/* The base service an extends points at, from this file or another one. */
static int
find_base(struct ctx *x, struct compose_node *services, const char *file,
          const struct compose_node *ext, const char *name, struct compose_node **ret_services,
          const char **ret_file, const char **ret_ref, struct bt_err **err)
{
    const struct compose_node *ref = ext, *fnode = NULL;
    if (ext->kind == COMPOSE_NODE_MAP) {
        ref = compose_map_get(ext, "service");
        fnode = compose_map_get(ext, "file");
    }
    if (!ref || ref->kind != COMPOSE_NODE_SCALAR || !ref->str[0])
        return bt_err_set_at(err, ext->pos.file, ext->pos.line, ext->pos.col, BT_EINVALID,
                             "services.%s.extends: the service to extend is missing", name);
    *ret_ref = ref->str;
    *ret_services = services;
    *ret_file = file;
    if (fnode && fnode->kind == COMPOSE_NODE_SCALAR) {
        /* Cleaned ("lib/../x.yaml" is "x.yaml"), so a cycle through other directories is seen
         * as one. */
        const char *path = compose_path_abs(x->a, compose_path_dir(x->a, file), fnode->str);
        struct compose_node *doc = NULL;
        if (x->load(x->userdata, path, &doc, err) < 0)
            return bt_err_wrap(err, "services.%s.extends", name);
        struct compose_node *s = doc ? compose_map_get(doc, "services") : NULL;
        if (!s || s->kind != COMPOSE_NODE_MAP)
            return bt_err_set_at(err, fnode->pos.file, fnode->pos.line, fnode->pos.col, BT_EINVALID,
                                 "services.%s.extends: '%s' has no services", name, fnode->str);
        *ret_services = s;
        *ret_file = path;
    }
    if (!service_get(x, *ret_services, ref->str)) {
        int r = bt_err_set_at(err, ref->pos.file, ref->pos.line, ref->pos.col, BT_EINVALID,
                              "services.%s.extends: service '%s' not found in '%s'", name, ref->str,
                              *ret_file);
        bt_err_hint(err, "extends names a service of the same file, or of 'file:'");
        return r;
    }
    return 0;
}

static int
resolve(struct ctx *x, struct compose_node *services, const char *file, const char *name,
        struct compose_node **ret, struct bt_err **err)
{
    struct compose_node *svc = service_get(x, services, name);
    const struct compose_node *ext =
        svc && svc->kind == COMPOSE_NODE_MAP ? compose_map_get(svc, "extends") : NULL;
    if (!ext) {
        *ret = svc;
        return 0;
    }
    for (size_t i = 0; i < x->depth; i++)
        if (strcmp(x->chain[i].file, file) == 0 && strcmp(x->chain[i].service, name) == 0)
            return cycle_error(x, ext, file, name, err);
    if (x->depth == EXTENDS_MAX_CHAIN)
        return bt_err_set_at(err, ext->pos.file, ext->pos.line, ext->pos.col, BT_EINVALID,
                             "services.%s.extends: chain longer than %d services", name,
                             EXTENDS_MAX_CHAIN);
    x->chain[x->depth++] = (struct link){ file, name };
    struct compose_node *bservices = NULL, *base = NULL;
    const char *bfile = NULL, *ref = NULL;
    int r = find_base(x, services, file, ext, name, &bservices, &bfile, &ref, err);
    if (r == 0)
        r = resolve(x, bservices, bfile, ref, &base, err);
    x->depth--;
    if (r < 0)
        return r;
    if (strcmp(bfile, file) != 0)
        base = compose_service_resolve_paths(x->a, base, compose_path_dir(x->a, bfile));
    /* Merge as services.<name>, so the per-attribute rules apply. */
    struct compose_pos pos = svc->pos;
    struct compose_node *skey = compose_node_scalar(x->a, &pos, "services", true);
    struct compose_node *nkey = compose_node_scalar(x->a, &pos, name, false);
    struct compose_node *wrap[2];
    const struct compose_node *parts[2] = { base, without_key(x->a, svc, "extends") };
    for (size_t i = 0; i < 2; i++) {
        struct compose_node *inner = bt_arena_alloc(x->a, sizeof *inner);
        *inner = (struct compose_node){ .kind = COMPOSE_NODE_MAP, .pos = pos };
        inner->pairs = bt_arena_alloc(x->a, sizeof *inner->pairs);
        inner->pairs[inner->n++] = (struct compose_pair){ nkey, (struct compose_node *) parts[i] };
        wrap[i] = bt_arena_alloc(x->a, sizeof *wrap[i]);
        *wrap[i] = (struct compose_node){ .kind = COMPOSE_NODE_MAP, .pos = pos };
        wrap[i]->pairs = bt_arena_alloc(x->a, sizeof *wrap[i]->pairs);
        wrap[i]->pairs[wrap[i]->n++] = (struct compose_pair){ skey, inner };
    }
    struct compose_node *merged;
    if (compose_merge(x->a, wrap[0], wrap[1], &merged, err) < 0)
        return -1;
    *ret = compose_map_get(compose_map_get(merged, "services"), name);
    return 0;
}

int
compose_extends_apply(struct bt_arena *a, struct compose_node *doc, const char *file,
                      compose_extends_load_fn load, void *userdata, struct bt_err **err)
{
    struct compose_node *services = doc ? compose_map_get(doc, "services") : NULL;
    if (!services || services->kind != COMPOSE_NODE_MAP)
        return 0;
    struct ctx x = { .a = a, .load = load, .userdata = userdata };
    /* Resolve every service against the original definitions, then install the results. */
    struct compose_node **out = bt_arena_alloc(a, (services->n + 1) * sizeof *out);
    int r = 0;
    for (size_t i = 0; i < services->n && r == 0; i++)
        r = resolve(&x, services, file, services->pairs[i].key->str, &out[i], err);
    for (size_t k = 0; k < x.nindexed; k++)
        compose_map_index_release(&x.index[k]);
    if (r < 0)
        return -1;
    struct compose_node *copy = copy_map(a, services, 0);
    for (size_t i = 0; i < copy->n; i++)
        copy->pairs[i].val = out[i];
    map_set(doc, compose_node_scalar(a, &services->pos, "services", true), copy);
    return 0;
}
