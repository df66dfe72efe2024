/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cast table and the walk. Patterns name mapping keys from the root; "*" is any key and
 * "[]" any sequence item.
 */
#include <stdio.h>
#include <string.h>

#include "compose/cast.h"
#include "engine/base/macro.h"

enum want { WANT_INT, WANT_FLOAT, WANT_BOOL };

static const struct cast {
    const char *pattern;
    enum want want;
} casts[] = {
    { "services.*.cpu_count", WANT_INT },
    { "services.*.cpu_percent", WANT_FLOAT },
    { "services.*.cpu_period", WANT_INT },
    { "services.*.cpu_quota", WANT_INT },
    { "services.*.cpu_rt_period", WANT_INT },
    { "services.*.cpu_rt_runtime", WANT_INT },
    { "services.*.cpus", WANT_FLOAT },
    { "services.*.cpu_shares", WANT_INT },
    { "services.*.init", WANT_BOOL },
    { "services.*.deploy.replicas", WANT_INT },
    { "services.*.deploy.update_config.parallelism", WANT_INT },
    { "services.*.deploy.update_config.max_failure_ratio", WANT_FLOAT },
    { "services.*.deploy.rollback_config.parallelism", WANT_INT },
    { "services.*.deploy.rollback_config.max_failure_ratio", WANT_FLOAT },
    { "services.*.deploy.restart_policy.max_attempts", WANT_INT },
    { "services.*.deploy.placement.max_replicas_per_node", WANT_INT },
    { "services.*.depends_on.*.required", WANT_BOOL },
    { "services.*.depends_on.*.restart", WANT_BOOL },
    { "services.*.healthcheck.retries", WANT_INT },
    { "services.*.healthcheck.disable", WANT_BOOL },
    { "services.*.mem_swappiness", WANT_INT },
    { "services.*.networks.*.priority", WANT_INT },
    { "services.*.networks.*.gw_priority", WANT_INT },
    { "services.*.oom_kill_disable", WANT_BOOL },
    { "services.*.oom_score_adj", WANT_INT },
    { "services.*.pids_limit", WANT_INT },
    { "services.*.ports.[].target", WANT_INT },
    { "services.*.privileged", WANT_BOOL },
    { "services.*.read_only", WANT_BOOL },
    { "services.*.scale", WANT_INT },
    { "services.*.stdin_open", WANT_BOOL },
    { "services.*.tty", WANT_BOOL },
    { "services.*.ulimits.*", WANT_INT },
    { "services.*.ulimits.*.hard", WANT_INT },
    { "services.*.ulimits.*.soft", WANT_INT },
    { "services.*.use_api_socket", WANT_BOOL },
    { "services.*.volumes.[].read_only", WANT_BOOL },
    { "services.*.volumes.[].volume.nocopy", WANT_BOOL },
    { "services.*.build.privileged", WANT_BOOL },
    { "networks.*.external", WANT_BOOL },
    { "networks.*.internal", WANT_BOOL },
    { "networks.*.attachable", WANT_BOOL },
    { "networks.*.enable_ipv6", WANT_BOOL },
    { "networks.*.enable_ipv4", WANT_BOOL },
    { "volumes.*.external", WANT_BOOL },
    { "secrets.*.external", WANT_BOOL },
    { "configs.*.external", WANT_BOOL },
};

#define CAST_MAX_DEPTH 8 /* the deepest pattern has 6 parts */

struct path {
    const char *part[CAST_MAX_DEPTH];
    size_t n;
};

/* Whether path matches pattern, or (prefix) could still match it further down. */
static bool
match(const struct path *p, const char *pattern, bool prefix)
{
    size_t i = 0;
    for (const char *s = pattern; *s; i++) {
        size_t len = strcspn(s, ".");
        if (i >= p->n)
            return prefix;
        bool any = len == 1 && s[0] == '*' && strcmp(p->part[i], "[]") != 0;
        if (!any && (strlen(p->part[i]) != len || strncmp(p->part[i], s, len) != 0))
            return false;
        s += len + (s[len] == '.');
    }
    return i == p->n;
}

static bool
matches(const struct path *p, const char *pattern)
{
    return match(p, pattern, false);
}

/* The attributes of services (and of top-level resources) that hold something to cast. */
static const char *const service_attrs[] = {
    "build",         "cpu_count",      "cpu_percent",    "cpu_period",
    "cpu_quota",     "cpu_rt_period",  "cpu_rt_runtime", "cpus",
    "cpu_shares",    "depends_on",     "deploy",         "healthcheck",
    "init",          "mem_swappiness", "networks",       "oom_kill_disable",
    "oom_score_adj", "pids_limit",     "ports",          "privileged",
    "read_only",     "scale",          "stdin_open",     "tty",
    "ulimits",       "use_api_socket", "volumes",
};
static const char *const resource_attrs[] = { "external", "internal", "attachable", "enable_ipv6",
                                              "enable_ipv4" };

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Most of a model (environment, labels, commands...) holds nothing to cast: skip it. Depths 1
 * to 3 are decided by name; deeper paths (few) against the patterns. */
static bool
worth_visiting(const struct path *p)
{
    static const char *const tops[] = { "services", "networks", "volumes", "secrets", "configs" };
    bool services = strcmp(p->part[0], "services") == 0;
    switch (p->n) {
    case 1:
        return in_list(p->part[0], tops, BT_ARRAY_SIZE(tops));
    case 2:
        return true;
    case 3:
        return services ? in_list(p->part[2], service_attrs, BT_ARRAY_SIZE(service_attrs))
                        : in_list(p->part[2], resource_attrs, BT_ARRAY_SIZE(resource_attrs));
    default:
        for (size_t i = 0; i < BT_ARRAY_SIZE(casts); i++)
            if (match(p, casts[i].pattern, true))
                return true;
        return false;
    }
}

static const char *const want_names[] = { "an integer", "a number", "a boolean" };

static int
cast_scalar(const struct path *p, struct compose_node *n, struct bt_err **err)
{
    if (n->plain)
        return 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(casts); i++) {
        if (!matches(p, casts[i].pattern))
            continue;
        struct compose_node probe = *n;
        probe.plain = true;
        enum compose_scalar_type t = compose_scalar_type(&probe);
        bool ok = (casts[i].want == WANT_INT && t == COMPOSE_SCALAR_INT) ||
                  (casts[i].want == WANT_FLOAT &&
                   (t == COMPOSE_SCALAR_INT || t == COMPOSE_SCALAR_FLOAT)) ||
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
    return 0;
}

static int
walk(struct path *p, struct compose_node *n, struct bt_err **err)
{
    if (!n)
        return 0;
    if (n->kind == COMPOSE_NODE_SCALAR)
        return cast_scalar(p, n, err);
    if (p->n == CAST_MAX_DEPTH)
        return 0; /* deeper than any pattern */
    for (size_t i = 0; i < n->n; i++) {
        p->part[p->n++] = n->kind == COMPOSE_NODE_MAP ? n->pairs[i].key->str : "[]";
        int r = worth_visiting(p)
                    ? walk(p, n->kind == COMPOSE_NODE_MAP ? n->pairs[i].val : n->items[i], err)
                    : 0;
        p->n--;
        if (r < 0)
            return r;
    }
    return 0;
}

int
compose_cast_tree(struct compose_node *root, struct bt_err **err)
{
    struct path p = { .n = 0 };
    return walk(&p, root, err);
}
