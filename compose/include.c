/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include: reading the entries, loading each through the caller, and importing resources.
 */
#include <string.h>

#include "compose/extends.h"
#include "compose/files.h"
#include "compose/include.h"
#include "engine/base/alloc.h"

static const char *const resource_kinds[] = { "services", "networks", "volumes", "secrets",
                                              "configs" };

static int
bad_entry(const struct compose_node *n, const char *what, struct bt_err **err)
{
    return bt_err_set_at(err, n->pos.file, n->pos.line, n->pos.col, BT_EINVALID, "include: %s",
                         what);
}

/* A string or a list of strings, made absolute against dir. */
static int
path_list(struct bt_arena *a, const struct compose_node *n, const char *dir, const char ***ret,
          size_t *ret_n, struct bt_err **err)
{
    size_t count = n->kind == COMPOSE_NODE_SEQ ? n->n : 1;
    const char **v = bt_arena_alloc(a, (count + 1) * sizeof *v);
    for (size_t i = 0; i < count; i++) {
        const struct compose_node *it = n->kind == COMPOSE_NODE_SEQ ? n->items[i] : n;
        if (it->kind != COMPOSE_NODE_SCALAR || !it->str[0])
            return bad_entry(it, "paths must be non-empty strings", err);
        v[i] = compose_path_abs(a, dir, it->str);
    }
    *ret = v;
    *ret_n = count;
    return 0;
}

static int
parse_entry(struct bt_arena *a, const struct compose_node *e, const char *dir,
            struct compose_include *inc, struct bt_err **err)
{
    *inc = (struct compose_include){ .at = e };
    const struct compose_node *path = e, *pdir = NULL, *envf = NULL;
    if (e->kind == COMPOSE_NODE_MAP) {
        path = compose_map_get(e, "path");
        pdir = compose_map_get(e, "project_directory");
        envf = compose_map_get(e, "env_file");
        if (!path)
            return bad_entry(e, "an entry needs 'path'", err);
    }
    const char **paths;
    if (path_list(a, path, dir, &paths, &inc->npaths, err) < 0)
        return -1;
    inc->paths = paths;
    if (pdir && pdir->kind == COMPOSE_NODE_SCALAR)
        inc->project_dir = compose_path_abs(a, dir, pdir->str);
    else
        inc->project_dir = compose_path_dir(a, inc->paths[0]);
    if (envf) {
        const char **envs;
        if (path_list(a, envf, dir, &envs, &inc->nenv_files, err) < 0)
            return -1;
        inc->env_files = envs;
    }
    return 0;
}

/* Add the included model's resources to doc; a name defined in both is an error. */
static int
import(struct bt_arena *a, struct compose_node *doc, const struct compose_node *model,
       const struct compose_include *inc, struct bt_err **err)
{
    for (size_t k = 0; model && k < BT_ARRAY_SIZE(resource_kinds); k++) {
        const struct compose_node *from = compose_map_get(model, resource_kinds[k]);
        if (!from || from->kind != COMPOSE_NODE_MAP || from->n == 0)
            continue;
        struct compose_node *to = compose_map_get(doc, resource_kinds[k]);
        struct compose_node *merged = bt_arena_alloc(a, sizeof *merged);
        size_t have = to && to->kind == COMPOSE_NODE_MAP ? to->n : 0;
        *merged = (struct compose_node){ .kind = COMPOSE_NODE_MAP, .pos = from->pos };
        merged->pairs = bt_arena_alloc(a, (have + from->n) * sizeof *merged->pairs);
        if (have)
            bt_memcpy(merged->pairs, to->pairs, have * sizeof *merged->pairs);
        merged->n = have;
        for (size_t i = 0; i < from->n; i++) {
            const char *name = from->pairs[i].key->str;
            const struct compose_node *mine = compose_map_get(merged, name);
            if (mine) {
                int r = bt_err_set_at(err, mine->pos.file, mine->pos.line, mine->pos.col,
                                      BT_ECONFLICT, "%s.%s: also defined by the included file '%s'",
                                      resource_kinds[k], name, inc->paths[0]);
                bt_err_hint(err, "rename one of them, or drop it from this file");
                return r;
            }
            merged->pairs[merged->n++] = from->pairs[i];
        }
        if (to) {
            for (size_t i = 0; i < doc->n; i++)
                if (strcmp(doc->pairs[i].key->str, resource_kinds[k]) == 0)
                    doc->pairs[i].val = merged;
        } else {
            struct compose_pair *np = bt_arena_alloc(a, (doc->n + 1) * sizeof *np);
            bt_memcpy(np, doc->pairs, doc->n * sizeof *np);
            np[doc->n++] =
                (struct compose_pair){ compose_node_scalar(a, &from->pos, resource_kinds[k], true),
                                       merged };
            doc->pairs = np;
        }
    }
    return 0;
}

int
compose_include_apply(struct bt_arena *a, struct compose_node *doc, const char *file,
                      compose_include_load_fn load, void *userdata, struct bt_err **err)
{
    const struct compose_node *list = doc ? compose_map_get(doc, "include") : NULL;
    if (!list)
        return 0;
    if (list->kind != COMPOSE_NODE_SEQ)
        return bad_entry(list, "must be a list", err);
    const char *dir = compose_path_dir(a, file);
    for (size_t i = 0; i < list->n; i++) {
        struct compose_include inc;
        struct compose_node *model = NULL;
        if (parse_entry(a, list->items[i], dir, &inc, err) < 0 ||
            load(userdata, &inc, &model, err) < 0 || import(a, doc, model, &inc, err) < 0)
            return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < doc->n; i++)
        if (strcmp(doc->pairs[i].key->str, "include") != 0)
            doc->pairs[o++] = doc->pairs[i];
    doc->n = o;
    return 0;
}

struct compose_node *
compose_model_resolve_paths(struct bt_arena *a, const struct compose_node *model, const char *dir)
{
    if (!model || model->kind != COMPOSE_NODE_MAP)
        return (struct compose_node *) model;
    struct compose_node *m = bt_arena_alloc(a, sizeof *m);
    *m = *model;
    m->pairs = bt_arena_alloc(a, (model->n + 1) * sizeof *m->pairs);
    bt_memcpy(m->pairs, model->pairs, model->n * sizeof *m->pairs);
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->pairs[i].key->str;
        const struct compose_node *v = m->pairs[i].val;
        bool services = strcmp(k, "services") == 0;
        bool files = strcmp(k, "secrets") == 0 || strcmp(k, "configs") == 0;
        if ((!services && !files) || !v || v->kind != COMPOSE_NODE_MAP)
            continue;
        struct compose_node *c = bt_arena_alloc(a, sizeof *c);
        *c = *v;
        c->pairs = bt_arena_alloc(a, (v->n + 1) * sizeof *c->pairs);
        bt_memcpy(c->pairs, v->pairs, v->n * sizeof *c->pairs);
        for (size_t j = 0; j < c->n; j++) {
            struct compose_node *r = c->pairs[j].val;
            if (services) {
                c->pairs[j].val = compose_service_resolve_paths(a, r, dir);
                continue;
            }
            const struct compose_node *f = r ? compose_map_get(r, "file") : NULL;
            if (!f || f->kind != COMPOSE_NODE_SCALAR || f->str[0] == '/' || f->str[0] == '~')
                continue;
            struct compose_node *rc = bt_arena_alloc(a, sizeof *rc);
            *rc = *r;
            rc->pairs = bt_arena_alloc(a, (r->n + 1) * sizeof *rc->pairs);
            bt_memcpy(rc->pairs, r->pairs, r->n * sizeof *rc->pairs);
            for (size_t q = 0; q < rc->n; q++)
                if (strcmp(rc->pairs[q].key->str, "file") == 0)
                    rc->pairs[q].val =
                        compose_node_scalar(a, &f->pos, compose_path_abs(a, dir, f->str), false);
            c->pairs[j].val = rc;
        }
        m->pairs[i].val = c;
    }
    return m;
}
