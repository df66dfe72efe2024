/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Semantic checks of a merged model. Both the short and the long syntaxes are understood, since
 * they run before normalisation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/check.h"
#include "compose/short.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/parse.h"

static int fail(struct bt_err **err, const struct compose_node *at, const char *hint,
                const char *fmt, ...) BT_PRINTF(4, 5);

static int
fail(struct bt_err **err, const struct compose_node *at, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = bt_err_set_atv(err, at->pos.file, at->pos.line, at->pos.col, BT_EINVALID, fmt, ap);
    va_end(ap);
    if (hint)
        bt_err_hint(err, "%s", hint);
    return r;
}

static const char *
str(const struct compose_node *n)
{
    return n && n->kind == COMPOSE_NODE_SCALAR ? n->str : NULL;
}

/* The names of a mapping's keys, for "did you mean". */
static const char **
key_names(struct bt_arena *a, const struct compose_node *m, size_t *ret_n)
{
    size_t n = m && m->kind == COMPOSE_NODE_MAP ? m->n : 0;
    const char **v = bt_arena_alloc(a, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = m->pairs[i].key->str;
    *ret_n = n;
    return v;
}

static int
unknown_service(struct bt_arena *a, const struct compose_node *services, const char *svc,
                const char *what, const struct compose_node *at, const char *name,
                struct bt_err **err)
{
    size_t n;
    const char **names = key_names(a, services, &n);
    const char *close = bt_str_closest(name, names, n);
    const char *hint = close ? bt_arena_printf(a, "did you mean '%s'?", close)
                             : "define the service under 'services'";
    return fail(err, at, hint, "services.%s.%s: unknown service '%s'", svc, what, name);
}

/* ---- service references ---- */

/* Calls fn for each service name svc refers to, with the node naming it. */
typedef int (*ref_fn)(void *ud, const char *svc, const char *what, const struct compose_node *at,
                      const char *target, struct bt_err **err);

static int
each_ref(struct bt_arena *a, const char *name, const struct compose_node *svc, ref_fn fn, void *ud,
         struct bt_err **err)
{
    const struct compose_node *d = compose_map_get(svc, "depends_on");
    if (d && d->kind == COMPOSE_NODE_SEQ) {
        for (size_t i = 0; i < d->n; i++)
            if (str(d->items[i]) && fn(ud, name, "depends_on", d->items[i], d->items[i]->str, err))
                return -1;
    } else if (d && d->kind == COMPOSE_NODE_MAP) {
        for (size_t i = 0; i < d->n; i++) {
            /* required: false tolerates a missing dependency (docker compose only warns). */
            const struct compose_node *req = compose_map_get(d->pairs[i].val, "required");
            bool optional =
                str(req) && (bt_streq(req->str, "false") || bt_streq(req->str, "False"));
            if (!optional && fn(ud, name, "depends_on", d->pairs[i].key, d->pairs[i].key->str, err))
                return -1;
        }
    }
    const struct compose_node *links = compose_map_get(svc, "links");
    for (size_t i = 0; links && links->kind == COMPOSE_NODE_SEQ && i < links->n; i++) {
        const char *l = str(links->items[i]);
        if (l &&
            fn(ud, name, "links", links->items[i], bt_arena_strndup(a, l, strcspn(l, ":")), err))
            return -1;
    }
    static const char *const modes[] = { "network_mode", "ipc", "pid" };
    for (size_t k = 0; k < BT_ARRAY_SIZE(modes); k++) {
        const struct compose_node *m = compose_map_get(svc, modes[k]);
        const char *target = str(m) ? bt_startswith(m->str, "service:") : NULL;
        if (target && fn(ud, name, modes[k], m, target, err))
            return -1;
    }
    const struct compose_node *vf = compose_map_get(svc, "volumes_from");
    for (size_t i = 0; vf && vf->kind == COMPOSE_NODE_SEQ && i < vf->n; i++) {
        const char *v = str(vf->items[i]);
        if (!v || bt_startswith(v, "container:"))
            continue;
        if (fn(ud, name, "volumes_from", vf->items[i], bt_arena_strndup(a, v, strcspn(v, ":")),
               err))
            return -1;
    }
    return 0;
}

struct refs_ctx {
    struct bt_arena *a;
    const struct compose_node *services;
};

static int
check_ref(void *ud, const char *svc, const char *what, const struct compose_node *at,
          const char *target, struct bt_err **err)
{
    struct refs_ctx *c = ud;
    if (compose_map_get(c->services, target))
        return 0;
    return unknown_service(c->a, c->services, svc, what, at, target, err);
}

/* ---- cycles ---- */

struct graph {
    struct bt_arena *a;
    const struct compose_node *services;
    int *state; /* 0 unseen, 1 on the path, 2 done */
    size_t *path;
    size_t depth;
};

static int visit(struct graph *g, size_t i, struct bt_err **err);

static int
edge(void *ud, const char *svc, const char *what, const struct compose_node *at, const char *target,
     struct bt_err **err)
{
    (void) svc;
    (void) what;
    (void) at;
    struct graph *g = ud;
    for (size_t j = 0; j < g->services->n; j++)
        if (strcmp(g->services->pairs[j].key->str, target) == 0)
            return visit(g, j, err);
    return 0; /* unknown services are reported by the reference check */
}

static int
visit(struct graph *g, size_t i, struct bt_err **err)
{
    if (g->state[i] == 2)
        return 0;
    if (g->state[i] == 1) {
        struct bt_buf b;
        bt_buf_init(&b, 16384);
        size_t start = 0;
        while (g->path[start] != i)
            start++;
        for (size_t k = start; k < g->depth; k++)
            (void) bt_buf_printf(&b, "%s -> ", g->services->pairs[g->path[k]].key->str);
        (void) bt_buf_puts(&b, g->services->pairs[i].key->str);
        const struct compose_node *at = g->services->pairs[i].key;
        int r = fail(err, at, "remove one of these dependencies", "services: dependency cycle: %s",
                     bt_buf_str(&b));
        bt_buf_release(&b);
        return r;
    }
    g->state[i] = 1;
    g->path[g->depth++] = i;
    const struct compose_pair *p = &g->services->pairs[i];
    if (p->val && p->val->kind == COMPOSE_NODE_MAP &&
        each_ref(g->a, p->key->str, p->val, edge, g, err) < 0)
        return -1;
    g->depth--;
    g->state[i] = 2;
    return 0;
}

/* ---- resources ---- */

static int
need_defined(struct bt_arena *a, const struct compose_node *model, const char *kind,
             const char *svc, const struct compose_node *at, const char *name, struct bt_err **err)
{
    const struct compose_node *top = compose_map_get(model, kind);
    if (top && compose_map_get(top, name))
        return 0;
    if (strcmp(kind, "networks") == 0 && strcmp(name, "default") == 0)
        return 0; /* the project's default network always exists */
    const char *hint = bt_arena_printf(a, "add '%s' under the top-level '%s:'", name, kind);
    return fail(err, at, hint, "services.%s.%s: %s is not defined", svc, kind,
                bt_arena_printf(a, "%.*s '%s'", (int) strlen(kind) - 1, kind, name));
}

static int
check_volumes(struct bt_arena *a, const struct compose_node *model, const char *svc,
              const struct compose_node *vols, struct bt_err **err)
{
    for (size_t i = 0; vols && vols->kind == COMPOSE_NODE_SEQ && i < vols->n; i++) {
        const struct compose_node *v = vols->items[i];
        const char *source = NULL;
        if (str(v)) {
            struct compose_volume parsed;
            bt_autoerr struct bt_err *why = NULL;
            if (compose_volume_parse(a, v->str, &parsed, &why) < 0)
                return bt_err_set_at(err, v->pos.file, v->pos.line, v->pos.col, BT_EINVALID,
                                     "services.%s.volumes[%zu]: %s", svc, i, why->msg);
            if (bt_streq(parsed.type, "volume") && parsed.source[0])
                source = parsed.source;
        } else if (v->kind == COMPOSE_NODE_MAP) {
            const char *type = str(compose_map_get(v, "type"));
            const char *src = str(compose_map_get(v, "source"));
            if (bt_streq(type, "volume") && src && src[0])
                source = src;
        }
        if (source && need_defined(a, model, "volumes", svc, v, source, err) < 0)
            return -1;
    }
    return 0;
}

/* networks, secrets and configs: a list of names, or a mapping by name (networks), or long
 * entries with "source" (secrets, configs). */
static int
check_named(struct bt_arena *a, const struct compose_node *model, const char *kind, const char *svc,
            const struct compose_node *list, struct bt_err **err)
{
    if (!list)
        return 0;
    if (list->kind == COMPOSE_NODE_MAP) {
        for (size_t i = 0; i < list->n; i++)
            if (need_defined(a, model, kind, svc, list->pairs[i].key, list->pairs[i].key->str,
                             err) < 0)
                return -1;
        return 0;
    }
    for (size_t i = 0; list->kind == COMPOSE_NODE_SEQ && i < list->n; i++) {
        const struct compose_node *it = list->items[i];
        const char *name = str(it) ? it->str : str(compose_map_get(it, "source"));
        if (name && need_defined(a, model, kind, svc, it, name, err) < 0)
            return -1;
    }
    return 0;
}

static int
check_service(struct bt_arena *a, const struct compose_node *model, const char *name,
              const struct compose_node *svc, struct bt_err **err)
{
    if (check_volumes(a, model, name, compose_map_get(svc, "volumes"), err) < 0)
        return -1;
    static const char *const kinds[] = { "networks", "secrets", "configs" };
    for (size_t k = 0; k < BT_ARRAY_SIZE(kinds); k++)
        if (check_named(a, model, kinds[k], name, compose_map_get(svc, kinds[k]), err) < 0)
            return -1;
    return 0;
}

static int
check_container_names(const struct compose_node *services, struct bt_err **err)
{
    for (size_t i = 0; i < services->n; i++) {
        const struct compose_node *cn = compose_map_get(services->pairs[i].val, "container_name");
        if (!str(cn) || !cn->str[0])
            continue; /* empty: the default name, as docker compose reads it */
        for (size_t j = 0; j < i; j++) {
            const struct compose_node *other =
                compose_map_get(services->pairs[j].val, "container_name");
            if (str(other) && strcmp(other->str, cn->str) == 0)
                return fail(err, cn, "container names are unique on a host",
                            "services.%s.container_name: '%s' is also the container name of "
                            "service '%s'",
                            services->pairs[i].key->str, cn->str, services->pairs[j].key->str);
        }
    }
    return 0;
}

/* ---- published ports ---- */

struct published {
    const char *service;
    const char *host_ip; /* "" for all addresses */
    const char *port;    /* as published: "8080" or "8000-8010" */
    const char *protocol;
    const struct compose_node *at;
};

static bool
wildcard(const char *ip)
{
    return !ip[0] || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

static bool
clash(const struct published *x, const struct published *y)
{
    return strcmp(x->port, y->port) == 0 && strcmp(x->protocol, y->protocol) == 0 &&
           (wildcard(x->host_ip) || wildcard(y->host_ip) || strcmp(x->host_ip, y->host_ip) == 0);
}

/* The host ports one entry of ports: publishes (none when only the container port is given). */
static int
entry_ports(struct bt_arena *a, const char *svc, size_t k, const struct compose_node *it,
            struct published **v, size_t *n, size_t *cap, struct bt_err **err)
{
    struct compose_port *ports = NULL;
    size_t np = 0;
    if (it->kind == COMPOSE_NODE_SCALAR) {
        bt_autoerr struct bt_err *why = NULL;
        if (compose_port_parse(a, it->str, &ports, &np, &why) < 0)
            return bt_err_set_at(err, it->pos.file, it->pos.line, it->pos.col, BT_EINVALID,
                                 "services.%s.ports[%zu]: %s", svc, k, why->msg);
    } else if (it->kind == COMPOSE_NODE_MAP) {
        ports = bt_arena_alloc(a, sizeof *ports);
        const char *pub = str(compose_map_get(it, "published"));
        const char *ip = str(compose_map_get(it, "host_ip"));
        const char *proto = str(compose_map_get(it, "protocol"));
        *ports = (struct compose_port){ .published = pub ? pub : "",
                                        .host_ip = ip ? ip : "",
                                        .protocol = proto ? proto : "tcp" };
        np = 1;
    }
    for (size_t i = 0; i < np; i++) {
        if (!ports[i].published || !ports[i].published[0])
            continue;
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            struct published *nv = bt_arena_alloc(a, ncap * sizeof *nv);
            if (*n)
                bt_memcpy(nv, *v, *n * sizeof *nv);
            *v = nv;
            *cap = ncap;
        }
        (*v)[(*n)++] =
            (struct published){ svc, ports[i].host_ip ? ports[i].host_ip : "", ports[i].published,
                                ports[i].protocol ? ports[i].protocol : "tcp", it };
    }
    return 0;
}

static int
check_ports(struct bt_arena *a, const struct compose_node *services, struct bt_err **err)
{
    struct published *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < services->n; i++) {
        const char *svc = services->pairs[i].key->str;
        const struct compose_node *ports = compose_map_get(services->pairs[i].val, "ports");
        size_t first = n;
        for (size_t k = 0; ports && ports->kind == COMPOSE_NODE_SEQ && k < ports->n; k++) {
            if (entry_ports(a, svc, k, ports->items[k], &v, &n, &cap, err) < 0)
                return -1;
            for (size_t j = 0; j < first; j++)
                for (size_t q = first; q < n; q++)
                    if (clash(&v[j], &v[q]))
                        return fail(err, v[q].at, "publish it from one service only",
                                    "services.%s.ports[%zu]: host port %s/%s is also published "
                                    "by service '%s'",
                                    svc, k, v[q].port, v[q].protocol, v[j].service);
        }
    }
    return 0;
}

/* What docker compose checks for consistency (compose-go's checkConsistency): attributes that
 * exclude each other, or a service that cannot make a container. */
static int
check_consistency(const char *name, const struct compose_node *svc, struct bt_err **err)
{
    const struct compose_node *build = compose_map_get(svc, "build");
    if (!compose_map_get(svc, "image") && !build && !compose_map_get(svc, "provider") &&
        !compose_map_get(svc, "extends"))
        return fail(err, svc, "give it an 'image:' to run, or a 'build:' to build one",
                    "services.%s: neither an image nor a build context is specified", name);
    const struct compose_node *nets = compose_map_get(svc, "networks");
    const struct compose_node *mode = compose_map_get(svc, "network_mode");
    if (mode && nets && nets->kind != COMPOSE_NODE_SCALAR && nets->n > 0)
        return fail(err, mode, "keep one of them",
                    "services.%s: network_mode and networks exclude each other", name);
    if (build && build->kind == COMPOSE_NODE_MAP && compose_map_get(build, "dockerfile") &&
        compose_map_get(build, "dockerfile_inline"))
        return fail(err, compose_map_get(build, "dockerfile_inline"), "keep one of them",
                    "services.%s.build: dockerfile and dockerfile_inline exclude each other", name);
    const struct compose_node *hc = compose_map_get(svc, "healthcheck");
    const struct compose_node *test = hc ? compose_map_get(hc, "test") : NULL;
    const char *first =
        test && test->kind == COMPOSE_NODE_SEQ && test->n > 0 ? str(test->items[0]) : NULL;
    if (first && strcmp(first, "CMD") != 0 && strcmp(first, "CMD-SHELL") != 0 &&
        strcmp(first, "NONE") != 0)
        return fail(err, test->items[0],
                    "start it with CMD (a command), CMD-SHELL (a shell line) or NONE, as in "
                    "[\"CMD\", \"curl\", \"-f\", \"http://localhost\"]",
                    "services.%s.healthcheck.test: must start with CMD, CMD-SHELL or NONE, not "
                    "'%s'",
                    name, first);
    const struct compose_node *scale = compose_map_get(svc, "scale");
    const struct compose_node *deploy = compose_map_get(svc, "deploy");
    const struct compose_node *replicas = deploy ? compose_map_get(deploy, "replicas") : NULL;
    if (str(scale) && str(replicas) && strcmp(scale->str, replicas->str) != 0)
        return fail(err, scale, "keep deploy.replicas",
                    "services.%s: scale (%s) and deploy.replicas (%s) differ", name, scale->str,
                    replicas->str);
    const struct compose_node *n = str(scale) ? scale : replicas;
    const struct compose_node *cname = compose_map_get(svc, "container_name");
    if (cname && str(n) && strcmp(n->str, "0") != 0 && strcmp(n->str, "1") != 0)
        return fail(err, cname, "remove container_name, or run one container",
                    "services.%s: container_name '%s' cannot name %s containers", name,
                    str(cname) ? cname->str : "", n->str);
    return 0;
}

/* A secret or config must say where its content comes from. */
static int
check_sources(const struct compose_node *model, const char *kind, struct bt_err **err)
{
    const struct compose_node *m = compose_map_get(model, kind);
    static const char *const from[] = { "file", "environment", "content", "external", "name" };
    for (size_t i = 0; m && m->kind == COMPOSE_NODE_MAP && i < m->n; i++) {
        const struct compose_node *r = m->pairs[i].val;
        bool ok = false;
        for (size_t k = 0; r && r->kind == COMPOSE_NODE_MAP && k < BT_ARRAY_SIZE(from); k++)
            ok |= compose_map_get(r, from[k]) != NULL &&
                  (strcmp(kind, "configs") == 0 || strcmp(from[k], "content") != 0);
        if (!ok)
            return fail(err, r ? r : m->pairs[i].key,
                        strcmp(kind, "configs") == 0
                            ? "give it a 'file:', 'environment:' or 'content:', or mark it external"
                            : "give it a 'file:' or 'environment:', or mark it external",
                        "%s.%s: nothing says where its content comes from", kind,
                        m->pairs[i].key->str);
    }
    return 0;
}

int
compose_check_model(struct bt_arena *a, const struct compose_node *model, bool consistency,
                    struct bt_err **err)
{
    const struct compose_node *services = model ? compose_map_get(model, "services") : NULL;
    if (!services || services->kind != COMPOSE_NODE_MAP)
        return 0;
    struct refs_ctx rc = { a, services };
    for (size_t i = 0; i < services->n; i++) {
        const struct compose_pair *p = &services->pairs[i];
        if (!p->val || p->val->kind != COMPOSE_NODE_MAP)
            continue;
        if (each_ref(a, p->key->str, p->val, check_ref, &rc, err) < 0 ||
            check_service(a, model, p->key->str, p->val, err) < 0 ||
            (consistency && check_consistency(p->key->str, p->val, err) < 0))
            return -1;
    }
    if (consistency &&
        (check_sources(model, "secrets", err) < 0 || check_sources(model, "configs", err) < 0))
        return -1;
    if (check_container_names(services, err) < 0 || check_ports(a, services, err) < 0)
        return -1;
    struct graph g = { .a = a, .services = services };
    g.state = bt_arena_alloc(a, (services->n + 1) * sizeof *g.state);
    g.path = bt_arena_alloc(a, (services->n + 1) * sizeof *g.path);
    for (size_t i = 0; i < services->n; i++)
        if (visit(&g, i, err) < 0)
            return -1;
    return 0;
}
