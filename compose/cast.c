/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cast table and the walk. Patterns name mapping keys from the root; "*" is any key and
 * "[]" any sequence item. The walk carries the set of patterns its path still matches
 * (keypath.h), so subtrees no pattern reaches are left at once.
 */
#include <stdio.h>
#include <string.h>

#include "compose/cast.h"
#include "compose/keypath.h"
#include "engine/base/macro.h"

enum want { WANT_INT, WANT_FLOAT, WANT_BOOL };

static const struct cast {
    struct compose_keypath path;
    enum want want;
} casts[] = {
    { { { "services", "*", "cpu_count" } }, WANT_INT },
    { { { "services", "*", "cpu_percent" } }, WANT_FLOAT },
    { { { "services", "*", "cpu_period" } }, WANT_INT },
    { { { "services", "*", "cpu_quota" } }, WANT_INT },
    { { { "services", "*", "cpus" } }, WANT_FLOAT },
    { { { "services", "*", "cpu_shares" } }, WANT_INT },
    { { { "services", "*", "init" } }, WANT_BOOL },
    { { { "services", "*", "deploy", "replicas" } }, WANT_INT },
    { { { "services", "*", "deploy", "update_config", "parallelism" } }, WANT_INT },
    { { { "services", "*", "deploy", "update_config", "max_failure_ratio" } }, WANT_FLOAT },
    { { { "services", "*", "deploy", "rollback_config", "parallelism" } }, WANT_INT },
    { { { "services", "*", "deploy", "rollback_config", "max_failure_ratio" } }, WANT_FLOAT },
    { { { "services", "*", "deploy", "restart_policy", "max_attempts" } }, WANT_INT },
    { { { "services", "*", "deploy", "placement", "max_replicas_per_node" } }, WANT_INT },
    { { { "services", "*", "depends_on", "*", "required" } }, WANT_BOOL },
    { { { "services", "*", "depends_on", "*", "restart" } }, WANT_BOOL },
    { { { "services", "*", "healthcheck", "retries" } }, WANT_INT },
    { { { "services", "*", "healthcheck", "disable" } }, WANT_BOOL },
    { { { "services", "*", "mem_swappiness" } }, WANT_INT },
    { { { "services", "*", "networks", "*", "priority" } }, WANT_INT },
    { { { "services", "*", "networks", "*", "gw_priority" } }, WANT_INT },
    { { { "services", "*", "oom_kill_disable" } }, WANT_BOOL },
    { { { "services", "*", "oom_score_adj" } }, WANT_INT },
    { { { "services", "*", "pids_limit" } }, WANT_INT },
    { { { "services", "*", "ports", "[]", "target" } }, WANT_INT },
    { { { "services", "*", "privileged" } }, WANT_BOOL },
    { { { "services", "*", "read_only" } }, WANT_BOOL },
    { { { "services", "*", "scale" } }, WANT_INT },
    { { { "services", "*", "stdin_open" } }, WANT_BOOL },
    { { { "services", "*", "tty" } }, WANT_BOOL },
    { { { "services", "*", "ulimits", "*" } }, WANT_INT },
    { { { "services", "*", "ulimits", "*", "hard" } }, WANT_INT },
    { { { "services", "*", "ulimits", "*", "soft" } }, WANT_INT },
    { { { "services", "*", "use_api_socket" } }, WANT_BOOL },
    { { { "services", "*", "volumes", "[]", "read_only" } }, WANT_BOOL },
    { { { "services", "*", "volumes", "[]", "volume", "nocopy" } }, WANT_BOOL },
    { { { "services", "*", "build", "privileged" } }, WANT_BOOL },
    { { { "networks", "*", "external" } }, WANT_BOOL },
    { { { "networks", "*", "internal" } }, WANT_BOOL },
    { { { "networks", "*", "attachable" } }, WANT_BOOL },
    { { { "networks", "*", "enable_ipv6" } }, WANT_BOOL },
    { { { "networks", "*", "enable_ipv4" } }, WANT_BOOL },
    { { { "volumes", "*", "external" } }, WANT_BOOL },
    { { { "secrets", "*", "external" } }, WANT_BOOL },
    { { { "configs", "*", "external" } }, WANT_BOOL },
};

_Static_assert(BT_ARRAY_SIZE(casts) <= COMPOSE_KEYPATH_SET_MAX, "one bit per pattern");

/* The keys from the root to the node being visited ("[]" for a sequence item). */
struct path {
    struct compose_keypath_index casts;
    const char *part[COMPOSE_KEYPATH_MAX];
    size_t n;
};

static const char *const want_names[] = { "an integer", "a number", "a boolean" };

/* set: the patterns the path matches so far. The first one (in table order) the path matches
 * whole decides. */
/* A quoted or interpolated value may need a cast; a plain one is already typed, and a plain
 * word (cpu_shares: many) is checked too: docker compose refuses it where a number is wanted. */
static bool
needs_cast(const struct compose_node *n)
{
    return !n->plain || compose_scalar_type(n) == COMPOSE_SCALAR_STRING;
}

static int
cast_scalar(const struct path *p, uint64_t set, struct compose_node *n, struct bt_err **err)
{
    if (!needs_cast(n))
        return 0;
    int i = compose_keypath_whole(&p->casts, set, p->n);
    if (i < 0)
        return 0;
    struct compose_node probe = *n;
    probe.plain = true;
    enum compose_scalar_type t = compose_scalar_type(&probe);
    bool ok =
        (casts[i].want == WANT_INT && t == COMPOSE_SCALAR_INT) ||
        (casts[i].want == WANT_FLOAT && (t == COMPOSE_SCALAR_INT || t == COMPOSE_SCALAR_FLOAT)) ||
        (casts[i].want == WANT_BOOL && t == COMPOSE_SCALAR_BOOL);
    if (ok) {
        n->plain = true;
        return 0;
    }
    char path[512] = "";
    for (size_t k = 0; k < p->n; k++) {
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, "%s%s", k ? "." : "", p->part[k]);
    }
    return bt_err_set_at(err, n->pos.file, n->pos.line, n->pos.col, BT_EINVALID,
                         "%s: '%s' is not %s", path, n->str, want_names[casts[i].want]);
}

/* Visit the children of n whose paths some pattern still matches: most of a model
 * (environment, labels, commands...) holds nothing to cast and is left at once. A plain number
 * or boolean needs no cast, so it is not even looked at. */
static int
walk(struct path *p, uint64_t set, struct compose_node *n, struct bt_err **err)
{
    if (n->kind == COMPOSE_NODE_SCALAR)
        return cast_scalar(p, set, n, err);
    for (size_t i = 0; i < n->n; i++) {
        struct compose_node *child = n->kind == COMPOSE_NODE_MAP ? n->pairs[i].val : n->items[i];
        if (!child || (child->kind == COMPOSE_NODE_SCALAR && !needs_cast(child)))
            continue;
        const char *key = n->kind == COMPOSE_NODE_MAP ? n->pairs[i].key->str : "[]";
        uint64_t sub = compose_keypath_narrow(&p->casts, set, p->n, key, true);
        if (!sub)
            continue; /* also past the deepest pattern */
        p->part[p->n++] = key;
        int r = walk(p, sub, child, err);
        p->n--;
        if (r < 0)
            return r;
    }
    return 0;
}

int
compose_cast_tree(struct compose_node *root, struct bt_err **err)
{
    if (!root)
        return 0;
    struct path p = { .n = 0 };
    compose_keypath_index_init(&p.casts, casts, sizeof *casts, BT_ARRAY_SIZE(casts));
    return walk(&p, p.casts.all, root, err);
}
