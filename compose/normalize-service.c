/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalisation of one service: each attribute's short syntax turned into its long one (ports,
 * volumes, depends_on, environment, networks, secrets, ulimits, build...), durations and sizes
 * in canonical form, env_file and label_file read into environment and labels (as `docker
 * compose config` shows them), and the dependencies other attributes imply.
 */
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "compose/dotenv.h"
#include "compose/files.h"
#include "compose/normalize-int.h"
#include "compose/short.h"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"

typedef int (*attr_fn)(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                       struct bt_err **err);

static const char *
idx(struct norm *x, size_t i)
{
    return bt_arena_printf(x->a, "[%zu]", i);
}

static bool
is_null(const struct compose_node *n)
{
    return !n || compose_scalar_type(n) == COMPOSE_SCALAR_NULL;
}

static bool
is_true(const struct compose_node *n)
{
    return n && compose_scalar_type(n) == COMPOSE_SCALAR_BOOL &&
           (n->str[0] == 't' || n->str[0] == 'T');
}

static int
want_scalar(struct norm *x, const struct compose_node *v, const char *suffix, struct bt_err **err)
{
    if (v && v->kind == COMPOSE_NODE_SCALAR)
        return 0;
    return norm_fail(err, x, v, suffix, "expected a string, found a %s", compose_node_type_str(v));
}

/* ---- scalars: durations, sizes, numbers ---- */

enum conv { CONV_DURATION, CONV_BYTES, CONV_NUMBER };

/* One scalar in its canonical form: a duration as Go prints it ("1m30s"), a size as a decimal
 * number of bytes in a string (as docker compose prints sizes; -1, unlimited for
 * memswap_limit, stays), a number as a number. null stays null. */
static int
convert(struct norm *x, const struct compose_node *v, const char *suffix, enum conv c,
        struct compose_node **ret, struct bt_err **err)
{
    if (is_null(v)) {
        *ret = (struct compose_node *) v;
        return 0;
    }
    if (want_scalar(x, v, suffix, err) < 0)
        return -1;
    int64_t n;
    char buf[COMPOSE_DURATION_STRLEN];
    struct compose_node probe = *v;
    switch (c) {
    case CONV_DURATION:
        if (compose_duration_parse(v->str, &n, err) < 0)
            return norm_fail_short(err, x, v, suffix);
        *ret = norm_str(x->a, &v->pos, bt_arena_strdup(x->a, compose_duration_format(n, buf)));
        return 0;
    case CONV_BYTES:
        if (strcmp(v->str, "-1") == 0)
            n = -1;
        else if (compose_bytes_parse(v->str, &n, err) < 0)
            return norm_fail_short(err, x, v, suffix);
        *ret = norm_str(x->a, &v->pos, bt_arena_printf(x->a, "%lld", (long long) n));
        return 0;
    case CONV_NUMBER:
        probe.plain = true;
        if (compose_scalar_type(&probe) != COMPOSE_SCALAR_INT &&
            compose_scalar_type(&probe) != COMPOSE_SCALAR_FLOAT)
            return norm_fail(err, x, v, suffix, "'%s' is not a number", v->str);
        *ret = compose_node_scalar(x->a, &v->pos, v->str, true);
        return 0;
    }
    BT_ASSERT(false);
    return -1;
}

static int
duration(struct norm *x, const struct compose_node *v, const char *suffix,
         struct compose_node **ret, struct bt_err **err)
{
    return convert(x, v, suffix, CONV_DURATION, ret, err);
}

static int
bytes(struct norm *x, const struct compose_node *v, const char *suffix, struct compose_node **ret,
      struct bt_err **err)
{
    return convert(x, v, suffix, CONV_BYTES, ret, err);
}

static int
number(struct norm *x, const struct compose_node *v, const char *suffix, struct compose_node **ret,
       struct bt_err **err)
{
    return convert(x, v, suffix, CONV_NUMBER, ret, err);
}

/* The attributes of mapping m named in keys, each through fn (a duration, a size...). */
static int
each_key(struct norm *x, struct compose_node *m, const char *const *keys, size_t nkeys,
         int (*fn)(struct norm *, const struct compose_node *, const char *, struct compose_node **,
                   struct bt_err **),
         struct bt_err **err)
{
    for (size_t i = 0; i < m->n; i++)
        for (size_t k = 0; k < nkeys; k++)
            if (strcmp(m->pairs[i].key->str, keys[k]) == 0 &&
                fn(x, m->pairs[i].val, bt_arena_printf(x->a, ".%s", keys[k]), &m->pairs[i].val,
                   err) < 0)
                return -1;
    return 0;
}

static struct compose_node *
sub_map(struct norm *x, struct compose_node *parent, const char *key)
{
    const struct compose_node *v = compose_map_get(parent, key);
    if (!v || v->kind != COMPOSE_NODE_MAP)
        return NULL;
    struct compose_node *c = norm_map_copy(x->a, v, 4);
    norm_put(x->a, parent, key, c);
    return c;
}

/* ---- strings and lists ---- */

static int
attr_command(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    if (!norm_is_str(v)) {
        *ret = (struct compose_node *) v;
        return 0;
    }
    char **words;
    size_t n = 0;
    if (compose_command_split(x->a, v->str, &words, &n, err) < 0)
        return norm_fail_short(err, x, v, "");
    struct norm_list l = { 0 };
    for (size_t i = 0; i < n; i++)
        norm_list_push(x->a, &l, norm_str(x->a, &v->pos, words[i]));
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* A string or a list of strings: always a list, of strings. */
static int
attr_string_list(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                 struct bt_err **err)
{
    struct norm_list l = { 0 };
    if (v->kind == COMPOSE_NODE_SCALAR) {
        norm_list_push(x->a, &l, norm_str(x->a, &v->pos, v->str));
    } else if (v->kind == COMPOSE_NODE_SEQ) {
        for (size_t i = 0; i < v->n; i++) {
            if (want_scalar(x, v->items[i], idx(x, i), err) < 0)
                return -1;
            norm_list_push(x->a, &l, norm_str(x->a, &v->items[i]->pos, v->items[i]->str));
        }
    } else {
        return norm_fail(err, x, v, "", "expected a string or a list, found a mapping");
    }
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

static int
attr_string_map(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                struct bt_err **err)
{
    return norm_string_map(x, v, ret, err);
}

static int
attr_bytes(struct norm *x, const struct compose_node *v, struct compose_node **ret,
           struct bt_err **err)
{
    return bytes(x, v, "", ret, err);
}

static int
attr_duration(struct norm *x, const struct compose_node *v, struct compose_node **ret,
              struct bt_err **err)
{
    return duration(x, v, "", ret, err);
}

static int
attr_number(struct norm *x, const struct compose_node *v, struct compose_node **ret,
            struct bt_err **err)
{
    return number(x, v, "", ret, err);
}

static int
attr_pull_policy(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                 struct bt_err **err)
{
    (void) err;
    *ret = x->o->defaults && norm_is_str(v) && strcmp(v->str, "if_not_present") == 0
               ? norm_str(x->a, &v->pos, "missing")
               : (struct compose_node *) v;
    return 0;
}

/* ---- ports ---- */

static void
port_entry(struct norm *x, struct norm_list *out, const struct compose_pos *pos,
           const struct compose_port *p)
{
    struct norm_list m = { 0 };
    norm_list_put(x->a, &m, norm_str(x->a, pos, "mode"), norm_str(x->a, pos, p->mode));
    norm_list_put(x->a, &m, norm_str(x->a, pos, "target"), norm_int(x->a, pos, p->target));
    if (p->published[0])
        norm_list_put(x->a, &m, norm_str(x->a, pos, "published"),
                      norm_str(x->a, pos, p->published));
    norm_list_put(x->a, &m, norm_str(x->a, pos, "protocol"), norm_str(x->a, pos, p->protocol));
    if (p->host_ip[0])
        norm_list_put(x->a, &m, norm_str(x->a, pos, "host_ip"), norm_str(x->a, pos, p->host_ip));
    norm_list_push(x->a, out, norm_list_map(x->a, &m, pos));
}

static int
attr_ports(struct norm *x, const struct compose_node *v, struct compose_node **ret,
           struct bt_err **err)
{
    struct norm_list l = { 0 };
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        const struct compose_node *it = v->items[i];
        if (it->kind == COMPOSE_NODE_SCALAR) {
            struct compose_port *ports;
            size_t n;
            if (compose_port_parse(x->a, it->str, &ports, &n, err) < 0)
                return norm_fail_short(err, x, it, idx(x, i));
            for (size_t k = 0; k < n; k++)
                port_entry(x, &l, &it->pos, &ports[k]);
            continue;
        }
        if (it->kind != COMPOSE_NODE_MAP)
            return norm_fail(err, x, it, idx(x, i), "expected a string or a mapping");
        struct compose_node *m = norm_map_copy(x->a, it, 3);
        if (!compose_map_get(m, "protocol"))
            norm_put(x->a, m, "protocol", norm_str(x->a, &it->pos, "tcp"));
        if (!compose_map_get(m, "mode"))
            norm_put(x->a, m, "mode", norm_str(x->a, &it->pos, "ingress"));
        const struct compose_node *pub = compose_map_get(m, "published");
        if (pub && pub->kind == COMPOSE_NODE_SCALAR && !is_null(pub) && pub->str[0])
            norm_put(x->a, m, "published", norm_str(x->a, &pub->pos, pub->str));
        else if (pub)
            norm_del(m, "published");
        static const char *const lower[] = { "protocol", "mode" };
        for (size_t k = 0; k < BT_ARRAY_SIZE(lower); k++) {
            const struct compose_node *val = compose_map_get(m, lower[k]);
            if (norm_is_str(val))
                norm_put(x->a, m, lower[k], norm_str(x->a, &val->pos, norm_lower(x->a, val->str)));
        }
        norm_list_push(x->a, &l, m);
    }
    norm_list_dedupe(&l);
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* ---- volumes ---- */

static struct compose_node *
volume_entry(struct norm *x, const struct compose_pos *pos, const struct compose_volume *vol)
{
    struct norm_list m = { 0 };
    struct bt_arena *a = x->a;
    bool bind = strcmp(vol->type, "bind") == 0;
    norm_list_put(a, &m, norm_str(a, pos, "type"), norm_str(a, pos, vol->type));
    if (vol->source[0])
        norm_list_put(a, &m, norm_str(a, pos, "source"),
                      norm_str(a, pos, bind ? norm_path(x, vol->source) : vol->source));
    norm_list_put(a, &m, norm_str(a, pos, "target"),
                  norm_str(a, pos, compose_path_abs(a, "/", vol->target)));
    if (vol->read_only)
        norm_list_put(a, &m, norm_str(a, pos, "read_only"), norm_bool(a, pos, true));
    if (vol->consistency)
        norm_list_put(a, &m, norm_str(a, pos, "consistency"), norm_str(a, pos, vol->consistency));
    struct norm_list sub = { 0 };
    if (bind) {
        norm_list_put(a, &sub, norm_str(a, pos, "create_host_path"),
                      norm_bool(a, pos, vol->create_host_path));
        if (vol->propagation)
            norm_list_put(a, &sub, norm_str(a, pos, "propagation"),
                          norm_str(a, pos, vol->propagation));
        if (vol->selinux)
            norm_list_put(a, &sub, norm_str(a, pos, "selinux"), norm_str(a, pos, vol->selinux));
        norm_list_put(a, &m, norm_str(a, pos, "bind"), norm_list_map(a, &sub, pos));
    } else {
        if (vol->nocopy)
            norm_list_put(a, &sub, norm_str(a, pos, "nocopy"), norm_bool(a, pos, true));
        norm_list_put(a, &m, norm_str(a, pos, "volume"), norm_list_map(a, &sub, pos));
    }
    return norm_list_map(a, &m, pos);
}

static int
volume_long(struct norm *x, const struct compose_node *it, const char *suffix,
            struct compose_node **ret, struct bt_err **err)
{
    struct compose_node *m = norm_map_copy(x->a, it, 1);
    const struct compose_node *type = compose_map_get(m, "type");
    const struct compose_node *src = compose_map_get(m, "source");
    const struct compose_node *target = compose_map_get(m, "target");
    if (target && norm_is_str(target) && target->str[0] == '/')
        norm_put(x->a, m, "target",
                 norm_str(x->a, &target->pos, compose_path_abs(x->a, "/", target->str)));
    if (type && norm_is_str(type) && strcmp(type->str, "bind") == 0 && src && norm_is_str(src))
        norm_put(x->a, m, "source", norm_str(x->a, &src->pos, norm_path(x, src->str)));
    struct compose_node *tmpfs = sub_map(x, m, "tmpfs");
    static const char *const size[] = { "size" };
    const char *base = x->path;
    x->path = bt_arena_printf(x->a, "%s%s.tmpfs", base, suffix);
    if (tmpfs && each_key(x, tmpfs, size, 1, bytes, err) < 0)
        return -1;
    struct compose_node *vol = sub_map(x, m, "volume");
    const struct compose_node *labels = vol ? compose_map_get(vol, "labels") : NULL;
    struct compose_node *nl;
    x->path = bt_arena_printf(x->a, "%s%s.volume.labels", base, suffix);
    if (labels) {
        if (norm_labels(x, labels, &nl, err) < 0)
            return -1;
        norm_put(x->a, vol, "labels", nl);
    }
    x->path = base;
    *ret = m;
    return 0;
}

static int
attr_volumes(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    struct norm_list l = { 0 };
    const char *base = x->path;
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        const struct compose_node *it = v->items[i];
        struct compose_node *out;
        x->path = base;
        if (it->kind == COMPOSE_NODE_SCALAR) {
            struct compose_volume vol;
            if (compose_volume_parse(x->a, it->str, &vol, err) < 0)
                return norm_fail_short(err, x, it, idx(x, i));
            out = volume_entry(x, &it->pos, &vol);
        } else if (it->kind == COMPOSE_NODE_MAP) {
            if (volume_long(x, it, idx(x, i), &out, err) < 0)
                return -1;
        } else {
            return norm_fail(err, x, it, idx(x, i), "expected a string or a mapping");
        }
        norm_list_push(x->a, &l, out);
    }
    x->path = base;
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* ---- depends_on, networks, secrets, ulimits, extra_hosts, devices ---- */

static struct compose_node *
dependency(struct norm *x, const struct compose_pos *pos, const struct compose_node *given,
           bool restart)
{
    struct compose_node *d = given && given->kind == COMPOSE_NODE_MAP
                                 ? norm_map_copy(x->a, given, 3)
                                 : norm_map_copy(x->a, &(struct compose_node){ .pos = *pos }, 3);
    if (!compose_map_get(d, "condition"))
        norm_put(x->a, d, "condition", norm_str(x->a, pos, "service_started"));
    if (!compose_map_get(d, "required"))
        norm_put(x->a, d, "required", norm_bool(x->a, pos, true));
    if (!compose_map_get(d, "restart"))
        norm_put(x->a, d, "restart", norm_bool(x->a, pos, restart));
    return d;
}

static int
attr_depends_on(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                struct bt_err **err)
{
    struct norm_list l = { 0 };
    if (v->kind == COMPOSE_NODE_SEQ) {
        for (size_t i = 0; i < v->n; i++) {
            if (want_scalar(x, v->items[i], idx(x, i), err) < 0)
                return -1;
            norm_list_put(x->a, &l, v->items[i], dependency(x, &v->items[i]->pos, NULL, false));
        }
    } else if (v->kind == COMPOSE_NODE_MAP) {
        for (size_t i = 0; i < v->n; i++)
            norm_list_put(x->a, &l, v->pairs[i].key,
                          dependency(x, &v->pairs[i].key->pos, v->pairs[i].val, false));
    }
    *ret = norm_list_map(x->a, &l, &v->pos);
    return 0;
}

/* A service's networks as a mapping; each one's driver_opts as strings. */
static int
attr_networks(struct norm *x, const struct compose_node *v, struct compose_node **ret,
              struct bt_err **err)
{
    struct norm_list l = { 0 };
    for (size_t i = 0; v->kind == COMPOSE_NODE_MAP && i < v->n; i++) {
        struct compose_node *n = v->pairs[i].val, *opts;
        const struct compose_node *o = n ? compose_map_get(n, "driver_opts") : NULL;
        if (o && !is_null(o)) {
            x->path = bt_arena_printf(x->a, "%s.%s.driver_opts", x->path, v->pairs[i].key->str);
            if (norm_string_map(x, o, &opts, err) < 0)
                return -1;
            n = norm_map_copy(x->a, n, 0);
            norm_put(x->a, n, "driver_opts", opts);
        }
        norm_list_put(x->a, &l, v->pairs[i].key, n);
    }
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        if (want_scalar(x, v->items[i], idx(x, i), err) < 0)
            return -1;
        norm_list_put(x->a, &l, v->items[i], norm_null(x->a, &v->items[i]->pos));
    }
    *ret = norm_list_map(x->a, &l, &v->pos);
    return 0;
}

/* secrets and configs of a service: "name" is {source: name}. */
static int
attr_file_refs(struct norm *x, const struct compose_node *v, struct compose_node **ret,
               struct bt_err **err)
{
    (void) err;
    struct norm_list l = { 0 };
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        const struct compose_node *it = v->items[i];
        if (it->kind == COMPOSE_NODE_SCALAR) {
            struct norm_list m = { 0 };
            norm_list_put(x->a, &m, norm_str(x->a, &it->pos, "source"),
                          norm_str(x->a, &it->pos, it->str));
            norm_list_push(x->a, &l, norm_list_map(x->a, &m, &it->pos));
        } else {
            norm_list_push(x->a, &l, (struct compose_node *) it);
        }
    }
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

static int
attr_ulimits(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    (void) err;
    struct compose_node *m = norm_map_copy(x->a, v, 0);
    for (size_t i = 0; i < m->n; i++) {
        struct compose_node *u = m->pairs[i].val;
        if (!u || u->kind != COMPOSE_NODE_SCALAR)
            continue;
        struct norm_list l = { 0 };
        norm_list_put(x->a, &l, norm_str(x->a, &u->pos, "soft"), u);
        norm_list_put(x->a, &l, norm_str(x->a, &u->pos, "hard"), u);
        m->pairs[i].val = norm_list_map(x->a, &l, &u->pos);
    }
    *ret = m;
    return 0;
}

static int
host_entries(struct norm *x, const struct compose_node *at, const char *suffix, const char *text,
             struct norm_list *out, struct bt_err **err)
{
    struct compose_extra_host *h;
    size_t n = 0;
    if (compose_extra_host_parse(x->a, text, &h, &n, err) < 0)
        return norm_fail_short(err, x, at, suffix);
    for (size_t i = 0; i < n; i++)
        norm_list_push(
            x->a, out,
            norm_str(x->a, &at->pos, bt_arena_printf(x->a, "%s=%s", h[i].host, h[i].ip)));
    return 0;
}

static int
cmp_node_str(const void *l, const void *r)
{
    return strcmp((*(struct compose_node *const *) l)->str,
                  (*(struct compose_node *const *) r)->str);
}

/* extra_hosts, as a list or a mapping: a sorted list of "host=address". */
static int
attr_extra_hosts(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                 struct bt_err **err)
{
    struct norm_list l = { 0 };
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        if (want_scalar(x, v->items[i], idx(x, i), err) < 0 ||
            host_entries(x, v->items[i], idx(x, i), v->items[i]->str, &l, err) < 0)
            return -1;
    }
    for (size_t i = 0; v->kind == COMPOSE_NODE_MAP && i < v->n; i++) {
        const char *host = v->pairs[i].key->str;
        const struct compose_node *ip = v->pairs[i].val;
        const char *suffix = bt_arena_printf(x->a, ".%s", host);
        size_t n = ip && ip->kind == COMPOSE_NODE_SEQ ? ip->n : 1;
        for (size_t k = 0; k < n; k++) {
            const struct compose_node *one = ip && ip->kind == COMPOSE_NODE_SEQ ? ip->items[k] : ip;
            if (want_scalar(x, one, suffix, err) < 0 ||
                host_entries(x, one, suffix, bt_arena_printf(x->a, "%s=%s", host, one->str), &l,
                             err) < 0)
                return -1;
        }
    }
    if (l.n > 1)
        qsort(l.items, l.n, sizeof *l.items, cmp_node_str);
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* devices: "host[:container[:permissions]]" is {source, target, permissions}. */
static int
attr_devices(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    struct norm_list l = { 0 };
    for (size_t i = 0; v->kind == COMPOSE_NODE_SEQ && i < v->n; i++) {
        const struct compose_node *it = v->items[i];
        if (it->kind != COMPOSE_NODE_SCALAR) {
            norm_list_push(x->a, &l, (struct compose_node *) it);
            continue;
        }
        const char *part[3] = { it->str, NULL, NULL };
        char *s = bt_arena_strdup(x->a, it->str);
        size_t n = 1;
        for (char *c = strchr(s, ':'); c && n < 3; c = strchr(c + 1, ':')) {
            *c = '\0';
            part[n++] = c + 1;
        }
        part[0] = s;
        if (strchr(part[n - 1], ':') || !s[0] || (n > 1 && !part[1][0]))
            return norm_fail(err, x, it, idx(x, i), "invalid device '%s'", it->str);
        bool perms_in_2nd =
            n == 2 && strspn(part[1], "rwm") == strlen(part[1]) && part[1][0] != '/';
        const char *target = n > 1 && !perms_in_2nd ? part[1] : part[0];
        const char *perms = n == 3 ? part[2] : perms_in_2nd ? part[1] : "rwm";
        if (strspn(perms, "rwm") != strlen(perms) || !perms[0])
            return norm_fail(err, x, it, idx(x, i),
                             "invalid device permissions '%s' (letters r, w and m)", perms);
        struct norm_list m = { 0 };
        norm_list_put(x->a, &m, norm_str(x->a, &it->pos, "source"), norm_str(x->a, &it->pos, s));
        norm_list_put(x->a, &m, norm_str(x->a, &it->pos, "target"),
                      norm_str(x->a, &it->pos, target));
        norm_list_put(x->a, &m, norm_str(x->a, &it->pos, "permissions"),
                      norm_str(x->a, &it->pos, perms));
        norm_list_push(x->a, &l, norm_list_map(x->a, &m, &it->pos));
    }
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* ---- healthcheck, deploy, logging, blkio, build, develop, hooks ---- */

static int
attr_healthcheck(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                 struct bt_err **err)
{
    struct compose_node *m = norm_map_copy(x->a, v, 0);
    const struct compose_node *test = compose_map_get(m, "test");
    if (norm_is_str(test)) {
        struct norm_list l = { 0 };
        norm_list_push(x->a, &l, norm_str(x->a, &test->pos, "CMD-SHELL"));
        norm_list_push(x->a, &l, norm_str(x->a, &test->pos, test->str));
        norm_put(x->a, m, "test", norm_list_seq(x->a, &l, &test->pos));
    }
    static const char *const durations[] = { "interval", "timeout", "start_period",
                                             "start_interval" };
    if (each_key(x, m, durations, BT_ARRAY_SIZE(durations), duration, err) < 0)
        return -1;
    *ret = m;
    return 0;
}

/* Device requests (deploy.resources.reservations.devices, gpus): options as strings. */
static int
device_requests(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                struct bt_err **err)
{
    struct norm_list l = { 0 };
    const char *base = x->path;
    for (size_t i = 0; i < v->n; i++) {
        struct compose_node *d = v->items[i], *o;
        const struct compose_node *opts =
            d->kind == COMPOSE_NODE_MAP ? compose_map_get(d, "options") : NULL;
        if (opts && !is_null(opts)) {
            x->path = bt_arena_printf(x->a, "%s[%zu].options", base, i);
            if (norm_string_map(x, opts, &o, err) < 0)
                return -1;
            d = norm_map_copy(x->a, d, 0);
            norm_put(x->a, d, "options", o);
        }
        norm_list_push(x->a, &l, d);
    }
    x->path = base;
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

static int
deploy_resources(struct norm *x, struct compose_node *deploy, struct bt_err **err)
{
    struct compose_node *res = sub_map(x, deploy, "resources");
    static const char *const kinds[] = { "limits", "reservations" };
    static const char *const cpus[] = { "cpus" }, *const memory[] = { "memory" };
    const char *base = x->path;
    for (size_t i = 0; res && i < BT_ARRAY_SIZE(kinds); i++) {
        struct compose_node *r = sub_map(x, res, kinds[i]);
        x->path = bt_arena_printf(x->a, "%s.resources.%s", base, kinds[i]);
        if (r &&
            (each_key(x, r, cpus, 1, number, err) < 0 || each_key(x, r, memory, 1, bytes, err) < 0))
            return -1;
        const struct compose_node *devs = r ? compose_map_get(r, "devices") : NULL;
        if (devs && devs->kind == COMPOSE_NODE_SEQ) {
            struct compose_node *nd;
            x->path = bt_arena_printf(x->a, "%s.resources.%s.devices", base, kinds[i]);
            if (device_requests(x, devs, &nd, err) < 0)
                return -1;
            norm_put(x->a, r, "devices", nd);
        }
    }
    x->path = base;
    return 0;
}

static int
attr_deploy(struct norm *x, const struct compose_node *v, struct compose_node **ret,
            struct bt_err **err)
{
    struct compose_node *m = norm_map_copy(x->a, v, 0);
    const char *base = x->path;
    if (deploy_resources(x, m, err) < 0)
        return -1;
    static const char *const rp[] = { "delay", "window" }, *const uc[] = { "delay", "monitor" };
    static const char *const subs[] = { "update_config", "rollback_config" };
    struct compose_node *r = sub_map(x, m, "restart_policy");
    x->path = bt_arena_printf(x->a, "%s.restart_policy", base);
    if (r && each_key(x, r, rp, BT_ARRAY_SIZE(rp), duration, err) < 0)
        return -1;
    for (size_t i = 0; i < BT_ARRAY_SIZE(subs); i++) {
        struct compose_node *u = sub_map(x, m, subs[i]);
        x->path = bt_arena_printf(x->a, "%s.%s", base, subs[i]);
        if (u && each_key(x, u, uc, BT_ARRAY_SIZE(uc), duration, err) < 0)
            return -1;
    }
    const struct compose_node *labels = compose_map_get(m, "labels");
    x->path = bt_arena_printf(x->a, "%s.labels", base);
    struct compose_node *nl;
    if (labels) {
        if (norm_labels(x, labels, &nl, err) < 0)
            return -1;
        norm_put(x->a, m, "labels", nl);
    }
    x->path = base;
    *ret = m;
    return 0;
}

static int
attr_logging(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    const struct compose_node *opts =
        v->kind == COMPOSE_NODE_MAP ? compose_map_get(v, "options") : NULL;
    *ret = (struct compose_node *) v;
    if (!opts || opts->kind != COMPOSE_NODE_MAP)
        return 0;
    struct compose_node *m = norm_map_copy(x->a, v, 0), *o;
    x->path = bt_arena_printf(x->a, "%s.options", x->path);
    if (norm_string_map(x, opts, &o, err) < 0)
        return -1;
    norm_put(x->a, m, "options", o);
    *ret = m;
    return 0;
}

static int
attr_blkio(struct norm *x, const struct compose_node *v, struct compose_node **ret,
           struct bt_err **err)
{
    *ret = (struct compose_node *) v;
    if (v->kind != COMPOSE_NODE_MAP)
        return 0;
    struct compose_node *m = norm_map_copy(x->a, v, 0);
    static const char *const rates[] = { "device_read_bps", "device_write_bps" };
    static const char *const rate[] = { "rate" };
    const char *base = x->path;
    for (size_t i = 0; i < BT_ARRAY_SIZE(rates); i++) {
        const struct compose_node *s = compose_map_get(m, rates[i]);
        if (!s || s->kind != COMPOSE_NODE_SEQ)
            continue;
        struct norm_list l = { 0 };
        for (size_t k = 0; k < s->n; k++) {
            struct compose_node *e = s->items[k];
            if (e->kind == COMPOSE_NODE_MAP) {
                e = norm_map_copy(x->a, e, 0);
                x->path = bt_arena_printf(x->a, "%s.%s[%zu]", base, rates[i], k);
                if (each_key(x, e, rate, 1, bytes, err) < 0)
                    return -1;
            }
            norm_list_push(x->a, &l, e);
        }
        norm_put(x->a, m, rates[i], norm_list_seq(x->a, &l, &s->pos));
    }
    x->path = base;
    *ret = m;
    return 0;
}

/* build.args: "KEY" alone takes the project environment's value, or is dropped. */
static int
build_args(struct norm *x, struct compose_node *b, struct bt_err **err)
{
    const struct compose_node *args = compose_map_get(b, "args");
    if (!args)
        return 0;
    struct compose_node *m;
    const char *base = x->path;
    x->path = bt_arena_printf(x->a, "%s.args", base);
    if (norm_string_map(x, args, &m, err) < 0)
        return -1;
    x->path = base;
    size_t o = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct compose_node *val = m->pairs[i].val;
        if (is_null(val) && x->o->defaults) {
            const char *env =
                x->o->lookup ? x->o->lookup(m->pairs[i].key->str, x->o->userdata) : NULL;
            if (!env)
                continue;
            m->pairs[i].val = norm_str(x->a, &val->pos, env);
        }
        m->pairs[o++] = m->pairs[i];
    }
    m->n = o;
    norm_put(x->a, b, "args", m);
    return 0;
}

/* build.ssh: "default" or "id=path" entries, as a mapping of id to path ("" for the agent). */
static int
build_ssh(struct norm *x, const struct compose_node *v, struct compose_node **ret,
          struct bt_err **err)
{
    *ret = (struct compose_node *) v;
    if (v->kind != COMPOSE_NODE_SEQ)
        return 0;
    struct norm_list l = { 0 };
    for (size_t i = 0; i < v->n; i++) {
        const struct compose_node *it = v->items[i];
        if (want_scalar(x, it, idx(x, i), err) < 0)
            return -1;
        const char *eq = strchr(it->str, '=');
        const char *id = eq ? bt_arena_strndup(x->a, it->str, (size_t) (eq - it->str)) : it->str;
        norm_list_put(x->a, &l, norm_str(x->a, &it->pos, id),
                      norm_str(x->a, &it->pos, eq ? norm_path(x, eq + 1) : ""));
    }
    *ret = norm_list_map(x->a, &l, &v->pos);
    return 0;
}

static int
attr_build(struct norm *x, const struct compose_node *v, struct compose_node **ret,
           struct bt_err **err)
{
    struct compose_node *b;
    if (v->kind == COMPOSE_NODE_SCALAR) {
        b = norm_map_copy(x->a, &(struct compose_node){ .pos = v->pos }, 3);
        norm_put(x->a, b, "context", norm_str(x->a, &v->pos, v->str));
    } else if (v->kind == COMPOSE_NODE_MAP) {
        b = norm_map_copy(x->a, v, 3);
    } else {
        return norm_fail(err, x, v, "", "expected a string or a mapping, found a list");
    }
    const struct compose_node *ctx = compose_map_get(b, "context");
    const char *context = ctx && norm_is_str(ctx) ? ctx->str : ".";
    if (ctx || x->o->defaults)
        norm_put(x->a, b, "context",
                 norm_str(x->a, ctx ? &ctx->pos : &v->pos, norm_path(x, context)));
    if (x->o->defaults && !compose_map_get(b, "dockerfile") &&
        !compose_map_get(b, "dockerfile_inline"))
        norm_put(x->a, b, "dockerfile", norm_str(x->a, &v->pos, "Dockerfile"));
    if (build_args(x, b, err) < 0)
        return -1;
    const char *base = x->path;
    for (size_t i = 0; i < b->n; i++) {
        const char *k = b->pairs[i].key->str;
        struct compose_node **val = &b->pairs[i].val;
        x->path = bt_arena_printf(x->a, "%s.%s", base, k);
        int r = 0;
        if (strcmp(k, "labels") == 0)
            r = norm_labels(x, *val, val, err);
        else if (strcmp(k, "ulimits") == 0)
            r = (*val)->kind == COMPOSE_NODE_MAP ? attr_ulimits(x, *val, val, err) : 0;
        else if (strcmp(k, "ssh") == 0)
            r = build_ssh(x, *val, val, err);
        else if (strcmp(k, "additional_contexts") == 0) {
            r = norm_string_map(x, *val, val, err);
            for (size_t c = 0; r == 0 && c < (*val)->n; c++) {
                struct compose_node *p = (*val)->pairs[c].val;
                if (norm_is_str(p) && !strstr(p->str, "://"))
                    (*val)->pairs[c].val = norm_str(x->a, &p->pos, norm_path(x, p->str));
            }
        } else if (strcmp(k, "extra_hosts") == 0)
            r = attr_extra_hosts(x, *val, val, err);
        else if (strcmp(k, "shm_size") == 0)
            r = bytes(x, *val, "", val, err);
        else if (strcmp(k, "secrets") == 0)
            r = attr_file_refs(x, *val, val, err);
        else if (strcmp(k, "cache_from") == 0 || strcmp(k, "cache_to") == 0 ||
                 strcmp(k, "tags") == 0 || strcmp(k, "platforms") == 0)
            r = attr_string_list(x, *val, val, err);
        if (r < 0)
            return -1;
    }
    x->path = base;
    *ret = b;
    return 0;
}

/* A command to run (hooks, develop.watch[].exec): its command split, its environment a mapping
 * of strings. */
static int
exec_spec(struct norm *x, const struct compose_node *h, struct compose_node **ret,
          struct bt_err **err)
{
    *ret = (struct compose_node *) h;
    if (h->kind != COMPOSE_NODE_MAP)
        return 0;
    struct compose_node *m = norm_map_copy(x->a, h, 0);
    const char *base = x->path;
    const struct compose_node *cmd = compose_map_get(m, "command");
    const struct compose_node *env = compose_map_get(m, "environment");
    struct compose_node *out;
    x->path = bt_arena_printf(x->a, "%s.command", base);
    if (cmd && !is_null(cmd)) {
        if (attr_command(x, cmd, &out, err) < 0)
            return -1;
        norm_put(x->a, m, "command", out);
    }
    x->path = bt_arena_printf(x->a, "%s.environment", base);
    if (env && !is_null(env)) {
        if (norm_string_map(x, env, &out, err) < 0)
            return -1;
        norm_put(x->a, m, "environment", out);
    }
    x->path = base;
    *ret = m;
    return 0;
}

static int
attr_develop(struct norm *x, const struct compose_node *v, struct compose_node **ret,
             struct bt_err **err)
{
    *ret = (struct compose_node *) v;
    const struct compose_node *watch = compose_map_get(v, "watch");
    if (!watch || watch->kind != COMPOSE_NODE_SEQ)
        return 0;
    struct norm_list l = { 0 };
    const char *base = x->path;
    for (size_t i = 0; i < watch->n; i++) {
        struct compose_node *w = watch->items[i], *out;
        if (w->kind != COMPOSE_NODE_MAP) {
            norm_list_push(x->a, &l, w);
            continue;
        }
        w = norm_map_copy(x->a, w, 0);
        const struct compose_node *p = compose_map_get(w, "path");
        if (norm_is_str(p))
            norm_put(x->a, w, "path", norm_str(x->a, &p->pos, norm_path(x, p->str)));
        static const char *const patterns[] = { "ignore", "include" };
        for (size_t k = 0; k < BT_ARRAY_SIZE(patterns); k++) {
            const struct compose_node *pat = compose_map_get(w, patterns[k]);
            if (pat && pat->kind == COMPOSE_NODE_SCALAR && !is_null(pat)) {
                x->path = bt_arena_printf(x->a, "%s.watch[%zu].%s", base, i, patterns[k]);
                if (attr_string_list(x, pat, &out, err) < 0)
                    return -1;
                norm_put(x->a, w, patterns[k], out);
            }
        }
        const struct compose_node *exec = compose_map_get(w, "exec");
        x->path = bt_arena_printf(x->a, "%s.watch[%zu].exec", base, i);
        if (exec && exec_spec(x, exec, &out, err) < 0)
            return -1;
        if (exec)
            norm_put(x->a, w, "exec", out);
        norm_list_push(x->a, &l, w);
    }
    x->path = base;
    struct compose_node *m = norm_map_copy(x->a, v, 0);
    norm_put(x->a, m, "watch", norm_list_seq(x->a, &l, &watch->pos));
    *ret = m;
    return 0;
}

/* pre_start, post_start, pre_stop: each hook as a command to run. */
static int
attr_hooks(struct norm *x, const struct compose_node *v, struct compose_node **ret,
           struct bt_err **err)
{
    struct norm_list l = { 0 };
    const char *base = x->path;
    for (size_t i = 0; i < v->n; i++) {
        struct compose_node *h;
        x->path = bt_arena_printf(x->a, "%s[%zu]", base, i);
        if (exec_spec(x, v->items[i], &h, err) < 0)
            return -1;
        norm_list_push(x->a, &l, h);
    }
    x->path = base;
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* models: a list of names is a mapping of names to null, as networks. */
static int
attr_models(struct norm *x, const struct compose_node *v, struct compose_node **ret,
            struct bt_err **err)
{
    return attr_networks(x, v, ret, err);
}

/* gpus: "all" is one request for every GPU. */
static int
attr_gpus(struct norm *x, const struct compose_node *v, struct compose_node **ret,
          struct bt_err **err)
{
    *ret = (struct compose_node *) v;
    if (v->kind == COMPOSE_NODE_SEQ)
        return device_requests(x, v, ret, err);
    if (!norm_is_str(v) || strcmp(v->str, "all") != 0)
        return 0;
    struct norm_list m = { 0 }, l = { 0 };
    norm_list_put(x->a, &m, norm_str(x->a, &v->pos, "count"), norm_str(x->a, &v->pos, "all"));
    norm_list_push(x->a, &l, norm_list_map(x->a, &m, &v->pos));
    *ret = norm_list_seq(x->a, &l, &v->pos);
    return 0;
}

/* cpu_rt_period, cpu_rt_runtime: a number of microseconds, or a duration. */
static int
attr_micros(struct norm *x, const struct compose_node *v, struct compose_node **ret,
            struct bt_err **err)
{
    *ret = (struct compose_node *) v;
    if (!norm_is_str(v))
        return 0;
    struct compose_node probe = *v;
    probe.plain = true;
    if (compose_scalar_type(&probe) == COMPOSE_SCALAR_INT) { /* "400", interpolated */
        *ret = compose_node_scalar(x->a, &v->pos, v->str, true);
        return 0;
    }
    int64_t ns;
    if (compose_duration_parse(v->str, &ns, err) < 0)
        return norm_fail_short(err, x, v, "");
    *ret = norm_int(x->a, &v->pos, (long long) (ns / 1000));
    return 0;
}

/* Each attribute's function, and the kind of value it works on: a value of another kind (which
 * validation lets through only where the schema allows it) is kept as it is. */
enum kind { KIND_ANY, KIND_MAP, KIND_SEQ };

static const struct {
    const char *key;
    attr_fn fn;
    enum kind kind;
} attrs[] = {
    { "annotations", attr_string_map, KIND_ANY },
    { "blkio_config", attr_blkio, KIND_MAP },
    { "build", attr_build, KIND_ANY },
    { "command", attr_command, KIND_ANY },
    { "configs", attr_file_refs, KIND_SEQ },
    { "cpus", attr_number, KIND_ANY },
    { "depends_on", attr_depends_on, KIND_ANY },
    { "deploy", attr_deploy, KIND_MAP },
    { "develop", attr_develop, KIND_MAP },
    { "devices", attr_devices, KIND_SEQ },
    { "dns", attr_string_list, KIND_ANY },
    { "dns_search", attr_string_list, KIND_ANY },
    { "entrypoint", attr_command, KIND_ANY },
    { "expose", attr_string_list, KIND_ANY },
    { "extra_hosts", attr_extra_hosts, KIND_ANY },
    { "group_add", attr_string_list, KIND_ANY },
    { "healthcheck", attr_healthcheck, KIND_MAP },
    { "labels", attr_string_map, KIND_ANY },
    { "logging", attr_logging, KIND_MAP },
    { "mem_limit", attr_bytes, KIND_ANY },
    { "mem_reservation", attr_bytes, KIND_ANY },
    { "memswap_limit", attr_bytes, KIND_ANY },
    { "networks", attr_networks, KIND_ANY },
    { "ports", attr_ports, KIND_SEQ },
    { "models", attr_models, KIND_ANY },
    { "gpus", attr_gpus, KIND_ANY },
    { "cpu_rt_period", attr_micros, KIND_ANY },
    { "cpu_rt_runtime", attr_micros, KIND_ANY },
    { "post_start", attr_hooks, KIND_SEQ },
    { "pre_start", attr_hooks, KIND_SEQ },
    { "pre_stop", attr_hooks, KIND_SEQ },
    { "pull_policy", attr_pull_policy, KIND_ANY },
    { "secrets", attr_file_refs, KIND_SEQ },
    { "shm_size", attr_bytes, KIND_ANY },
    { "stop_grace_period", attr_duration, KIND_ANY },
    { "storage_opt", attr_string_map, KIND_ANY },
    { "sysctls", attr_string_map, KIND_ANY },
    { "tmpfs", attr_string_list, KIND_ANY },
    { "ulimits", attr_ulimits, KIND_MAP },
    { "volumes", attr_volumes, KIND_SEQ },
};

/* ---- environment and labels from files ---- */

struct file_entry {
    const struct compose_node *at;
    const char *path;
    bool required;
    const char *format;
};

/* env_file / label_file entries in their long form: {path, required, format}. */
static int
file_entries(struct norm *x, const struct compose_node *v, struct file_entry **ret, size_t *ret_n,
             struct bt_err **err)
{
    size_t n = v->kind == COMPOSE_NODE_SEQ ? v->n : 1;
    struct file_entry *e = bt_arena_alloc(x->a, (n + 1) * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        const struct compose_node *it = v->kind == COMPOSE_NODE_SEQ ? v->items[i] : v;
        const struct compose_node *p =
            it->kind == COMPOSE_NODE_MAP ? compose_map_get(it, "path") : it;
        if (!norm_is_str(p))
            return norm_fail(err, x, it, idx(x, i), "expected a path");
        const struct compose_node *req =
            it->kind == COMPOSE_NODE_MAP ? compose_map_get(it, "required") : NULL;
        const struct compose_node *fmt =
            it->kind == COMPOSE_NODE_MAP ? compose_map_get(it, "format") : NULL;
        e[i] = (struct file_entry){
            .at = it,
            /* Read from the working directory even when paths are left relative. */
            .path = compose_path_abs(x->a, x->o->working_dir, norm_path(x, p->str)),
            .required = !req || compose_scalar_type(req) != COMPOSE_SCALAR_BOOL || is_true(req),
            .format = norm_is_str(fmt) ? fmt->str : NULL,
        };
        if (e[i].format && strcmp(e[i].format, "raw") != 0)
            return norm_fail(err, x, fmt, bt_arena_printf(x->a, "[%zu].format", i),
                             "unsupported format '%s' (berth reads the default and 'raw')",
                             e[i].format);
    }
    *ret = e;
    *ret_n = n;
    return 0;
}

/* The raw format: KEY=VALUE lines taken as they are. */
static int
load_raw(struct norm *x, const char *path, struct compose_env *env, struct bt_err **err)
{
    bt_autofree char *data = NULL;
    size_t len = 0;
    if (bt_file_read_at(AT_FDCWD, path, COMPOSE_DOTENV_MAX_SIZE, &data, &len, err) < 0)
        return -1;
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *eq = strchr(line, '=');
        if (line[0] && line[0] != '#') {
            if (eq)
                *eq = '\0';
            const char *v =
                eq ? eq + 1 : (x->o->lookup ? x->o->lookup(line, x->o->userdata) : NULL);
            if (v)
                compose_env_set(env, line, v);
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int
read_files(struct norm *x, const struct compose_node *v, const char *what, struct compose_env *env,
           struct bt_err **err)
{
    struct file_entry *e = NULL;
    size_t n = 0;
    if (file_entries(x, v, &e, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (access(e[i].path, F_OK) != 0 && errno == ENOENT) {
            if (!e[i].required)
                continue;
            int r = norm_fail(err, x, e[i].at, v->kind == COMPOSE_NODE_SEQ ? idx(x, i) : "",
                              "%s '%s' not found", what, e[i].path);
            bt_err_hint(err, "create it, or mark it 'required: false'");
            return r;
        }
        int r = e[i].format ? load_raw(x, e[i].path, env, err)
                            : compose_dotenv_load_file(e[i].path, x->o->lookup, x->o->userdata,
                                                       x->o->warn, env, err);
        if (r < 0)
            return norm_fail_short(err, x, e[i].at, v->kind == COMPOSE_NODE_SEQ ? idx(x, i) : "");
    }
    return 0;
}

/* environment with env_file folded in (explicit entries win), "KEY" alone resolved from the
 * project environment; labels with label_file the same way. The file attributes go. */
static int
fold_files(struct norm *x, struct compose_node *s, const char *file_key, const char *map_key,
           bool resolve, const char *base, struct bt_err **err)
{
    const struct compose_node *files = compose_map_get(s, file_key);
    const struct compose_node *given = compose_map_get(s, map_key);
    if (!files && !given)
        return 0;
    struct compose_env env;
    compose_env_init(&env, x->a);
    x->path = bt_arena_printf(x->a, "%s.%s", base, file_key);
    if (files && read_files(x, files, strcmp(file_key, "env_file") ? "label file" : "env file",
                            &env, err) < 0)
        return -1;
    struct compose_node *m = NULL;
    x->path = bt_arena_printf(x->a, "%s.%s", base, map_key);
    if (given && norm_string_map(x, given, &m, err) < 0)
        return -1;
    const struct compose_pos *pos = given ? &given->pos : &files->pos;
    struct norm_list l = { 0 };
    for (size_t i = 0; i < env.n; i++)
        if (!m || !compose_map_get(m, env.vars[i].name))
            norm_list_put(x->a, &l, norm_str(x->a, pos, env.vars[i].name),
                          norm_str(x->a, pos, env.vars[i].value));
    for (size_t i = 0; m && i < m->n; i++) {
        struct compose_node *val = m->pairs[i].val;
        const char *env_val = resolve && x->o->defaults && is_null(val) && x->o->lookup
                                  ? x->o->lookup(m->pairs[i].key->str, x->o->userdata)
                                  : NULL;
        if (!resolve && is_null(val))
            env_val = ""; /* a label without a value is empty */
        norm_list_put(x->a, &l, m->pairs[i].key,
                      env_val ? norm_str(x->a, &val->pos, env_val) : val);
    }
    norm_del(s, file_key);
    norm_put(x->a, s, map_key, norm_list_map(x->a, &l, pos));
    return 0;
}

/* ---- dependencies other attributes imply ---- */

static void
implied(struct norm *x, struct compose_node *s, struct norm_list *deps, const char *name,
        const struct compose_pos *pos, bool restart)
{
    for (size_t i = 0; i < deps->n; i++)
        if (strcmp(deps->pairs[i].key->str, name) == 0)
            return;
    norm_list_put(x->a, deps, norm_str(x->a, pos, name), dependency(x, pos, NULL, restart));
    (void) s;
}

static void
implied_deps(struct norm *x, struct compose_node *s)
{
    const struct compose_node *given = compose_map_get(s, "depends_on");
    struct norm_list deps = { 0 };
    for (size_t i = 0; given && given->kind == COMPOSE_NODE_MAP && i < given->n; i++)
        norm_list_put(x->a, &deps, given->pairs[i].key, given->pairs[i].val);
    size_t before = deps.n;
    const struct compose_node *links = compose_map_get(s, "links");
    for (size_t i = 0; links && links->kind == COMPOSE_NODE_SEQ && i < links->n; i++) {
        const char *l = links->items[i]->str;
        const char *colon = strchr(l, ':');
        implied(x, s, &deps, colon ? bt_arena_strndup(x->a, l, (size_t) (colon - l)) : l,
                &links->items[i]->pos, true);
    }
    static const char *const ns[] = { "network_mode", "ipc", "pid", "uts", "cgroup" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(ns); i++) {
        const struct compose_node *v = compose_map_get(s, ns[i]);
        if (norm_is_str(v) && strncmp(v->str, "service:", 8) == 0 && v->str[8])
            implied(x, s, &deps, v->str + 8, &v->pos, true);
    }
    const struct compose_node *vf = compose_map_get(s, "volumes_from");
    for (size_t i = 0; vf && vf->kind == COMPOSE_NODE_SEQ && i < vf->n; i++) {
        const char *f = vf->items[i]->str;
        if (strncmp(f, "container:", 10) == 0)
            continue;
        const char *colon = strchr(f, ':');
        implied(x, s, &deps, colon ? bt_arena_strndup(x->a, f, (size_t) (colon - f)) : f,
                &vf->items[i]->pos, false);
    }
    if (deps.n > before)
        norm_put(x->a, s, "depends_on", norm_list_map(x->a, &deps, &s->pos));
}

/* A service on no network and without network_mode is on the project's default network. */
static void
default_network(struct norm *x, struct compose_node *s)
{
    if (compose_map_get(s, "network_mode") || compose_map_get(s, "provider"))
        return;
    const struct compose_node *n = compose_map_get(s, "networks");
    if (n && n->kind == COMPOSE_NODE_MAP && n->n > 0) {
        if (compose_map_get(n, "default"))
            x->uses_default_network = true;
        return;
    }
    struct norm_list l = { 0 };
    norm_list_put(x->a, &l, norm_str(x->a, &s->pos, "default"), norm_null(x->a, &s->pos));
    norm_put(x->a, s, "networks", norm_list_map(x->a, &l, &s->pos));
    x->uses_default_network = true;
}

/* deploy.restart_policy decides the restart policy, as docker compose maps it. */
static void
restart_from_deploy(struct norm *x, struct compose_node *s)
{
    const struct compose_node *d = compose_map_get(s, "deploy");
    const struct compose_node *rp = d ? compose_map_get(d, "restart_policy") : NULL;
    const struct compose_node *c = rp ? compose_map_get(rp, "condition") : NULL;
    if (!norm_is_str(c))
        return;
    const struct compose_node *max = compose_map_get(rp, "max_attempts");
    const char *policy = c->str;
    if (strcmp(policy, "none") == 0)
        policy = "no";
    else if (strcmp(policy, "any") == 0)
        policy = "always";
    else if (strcmp(policy, "on-failure") == 0 && max && max->kind == COMPOSE_NODE_SCALAR)
        policy = bt_arena_printf(x->a, "on-failure:%s", max->str);
    norm_put(x->a, s, "restart", norm_str(x->a, &c->pos, policy));
}

int
compose_normalize_service(struct norm *x, const char *name, const struct compose_node *svc,
                          struct compose_node **ret, struct bt_err **err)
{
    if (!svc || svc->kind != COMPOSE_NODE_MAP) {
        *ret = (struct compose_node *) svc;
        return 0;
    }
    /* Room for what may be added: environment, labels, depends_on, networks, restart. */
    struct compose_node *s = norm_map_copy(x->a, svc, 6);
    const char *base = bt_arena_printf(x->a, "services.%s", name);
    for (size_t i = 0; i < s->n; i++) {
        const char *k = s->pairs[i].key->str;
        struct compose_node **v = &s->pairs[i].val;
        if (is_null(*v))
            continue;
        for (size_t t = 0; t < BT_ARRAY_SIZE(attrs); t++) {
            if (strcmp(attrs[t].key, k) != 0)
                continue;
            if ((attrs[t].kind == KIND_MAP && (*v)->kind != COMPOSE_NODE_MAP) ||
                (attrs[t].kind == KIND_SEQ && (*v)->kind != COMPOSE_NODE_SEQ))
                break;
            x->path = bt_arena_printf(x->a, "%s.%s", base, k);
            if (attrs[t].fn(x, *v, v, err) < 0)
                return -1;
            break;
        }
    }
    if (fold_files(x, s, "env_file", "environment", true, base, err) < 0 ||
        fold_files(x, s, "label_file", "labels", false, base, err) < 0)
        return -1;
    if (x->o->defaults) {
        implied_deps(x, s);
        default_network(x, s);
        restart_from_deploy(x, s);
    }
    *ret = s;
    return 0;
}
