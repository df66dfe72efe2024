/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Selecting services (`berth config web`, later `berth up web`): the named services and what
 * they depend on, and the top-level resources the remaining services use. Works on the
 * normalised model (depends_on a mapping, volumes, secrets and configs in long form).
 */
#include <string.h>
#include <sys/types.h>

#include "compose/compose.h"
#include "compose/node.h"
#include "engine/base/alloc.h"
#include "engine/base/parse.h"

static struct compose_node *
top(const struct compose_project *p, const char *key)
{
    struct compose_node *n = p->model ? compose_map_get(p->model, key) : NULL;
    return n && n->kind == COMPOSE_NODE_MAP ? n : NULL;
}

static ssize_t
find(const struct compose_node *m, const char *key)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (strcmp(m->pairs[i].key->str, key) == 0)
            return (ssize_t) i;
    return -1;
}

static void
keep_deps(const struct compose_node *services, size_t i, bool *keep)
{
    if (keep[i])
        return;
    keep[i] = true;
    const struct compose_node *deps = compose_map_get(services->pairs[i].val, "depends_on");
    for (size_t k = 0; deps && deps->kind == COMPOSE_NODE_MAP && k < deps->n; k++) {
        ssize_t j = find(services, deps->pairs[k].key->str);
        if (j >= 0)
            keep_deps(services, (size_t) j, keep);
    }
}

static void
filter(struct compose_node *m, const bool *keep)
{
    size_t o = 0;
    for (size_t i = 0; i < m->n; i++)
        if (keep[i])
            m->pairs[o++] = m->pairs[i];
    m->n = o;
}

/* Mark in resources the names a service's list refers to: the keys of a mapping (networks), or
 * the sources of long forms (volumes of type volume, secrets, configs). */
static void
mark(const struct compose_node *resources, const struct compose_node *list, bool *used)
{
    if (!resources || !list || list->kind == COMPOSE_NODE_SCALAR)
        return;
    for (size_t i = 0; i < list->n; i++) {
        const struct compose_node *name = NULL;
        if (list->kind == COMPOSE_NODE_MAP) {
            name = list->pairs[i].key;
        } else if (list->items[i]->kind == COMPOSE_NODE_MAP) {
            const struct compose_node *type = compose_map_get(list->items[i], "type");
            if (!type || bt_streq(type->str, "volume"))
                name = compose_map_get(list->items[i], "source");
        }
        ssize_t j = name && name->kind == COMPOSE_NODE_SCALAR ? find(resources, name->str) : -1;
        if (j >= 0)
            used[j] = true;
    }
}

/* Networks, volumes, secrets and configs no service uses are dropped, as docker compose does. */
void
compose_project_prune(struct compose_project *p)
{
    const struct compose_node *services = top(p, "services");
    static const char *const kinds[] = { "networks", "volumes", "secrets", "configs" };
    for (size_t k = 0; k < BT_ARRAY_SIZE(kinds); k++) {
        struct compose_node *res = top(p, kinds[k]);
        if (!res)
            continue;
        bool *used = bt_arena_alloc(p->arena, (res->n + 1) * sizeof *used);
        for (size_t i = 0; services && i < services->n; i++) {
            const struct compose_node *s = services->pairs[i].val;
            const struct compose_node *b = compose_map_get(s, "build");
            mark(res, compose_map_get(s, kinds[k]), used);
            if (k == 2 && b)
                mark(res, compose_map_get(b, "secrets"), used);
        }
        filter(res, used);
        if (res->n == 0) { /* a section left empty is not printed */
            size_t o = 0;
            for (size_t i = 0; i < p->model->n; i++)
                if (p->model->pairs[i].val != res)
                    p->model->pairs[o++] = p->model->pairs[i];
            p->model->n = o;
        }
    }
}

int
compose_project_select(struct compose_project *p, const char *const *names, size_t n,
                       struct bt_err **err)
{
    struct compose_node *services = top(p, "services");
    if (n == 0 || !services)
        return 0;
    bool *keep = bt_arena_alloc(p->arena, (services->n + 1) * sizeof *keep);
    for (size_t i = 0; i < n; i++) {
        ssize_t j = find(services, names[i]);
        if (j < 0) {
            int r = bt_err_set(err, BT_EINVALID, "no such service: '%s'", names[i]);
            const char **cands = bt_arena_alloc(p->arena, (services->n + 1) * sizeof *cands);
            for (size_t k = 0; k < services->n; k++)
                cands[k] = services->pairs[k].key->str;
            const char *close = bt_str_closest(names[i], cands, services->n);
            if (close)
                bt_err_hint(err, "did you mean '%s'?", close);
            return r;
        }
        keep_deps(services, (size_t) j, keep);
    }
    filter(services, keep);
    compose_project_prune(p);
    return 0;
}
