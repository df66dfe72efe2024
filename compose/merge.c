/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merge rules, as tables of path patterns: one for how two values merge, one for how a
 * sequence of unique resources is keyed. Paths are the mapping keys from the root ("services",
 * NAME, "ports"); "*" in a pattern matches any key.
 */
#include <string.h>

#include "compose/keypath.h"
#include "compose/mapindex.h"
#include "compose/merge.h"
#include "compose/short.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/parse.h"

#define PATH_MAX_DEPTH COMPOSE_MAX_DEPTH

enum strategy {
    MERGE_DEFAULT,
    MERGE_REPLACE,     /* the override wins whole */
    MERGE_SEQUENCE,    /* both turned into "k=v" sequences, appended */
    MERGE_EXTRA_HOSTS, /* as MERGE_SEQUENCE, without repeating entries of the base */
    MERGE_DEPENDS_ON,  /* both turned into mappings with the default condition, merged */
    MERGE_MAPPING,     /* both turned into mappings (list items → null values), merged */
    MERGE_BUILD,       /* a string is {context: string}, then merged */
    MERGE_LOGGING,     /* merged only when the drivers agree (or one is unset) */
    MERGE_IPAM_CONFIG, /* entries merged by subnet */
};

static const struct rule {
    struct compose_keypath path;
    enum strategy s;
} merge_rules[] = {
    { { { "networks", "*", "ipam", "config" } }, MERGE_IPAM_CONFIG },
    { { { "networks", "*", "labels" } }, MERGE_SEQUENCE },
    { { { "volumes", "*", "labels" } }, MERGE_SEQUENCE },
    { { { "services", "*", "annotations" } }, MERGE_SEQUENCE },
    { { { "services", "*", "build" } }, MERGE_BUILD },
    { { { "services", "*", "build", "args" } }, MERGE_SEQUENCE },
    { { { "services", "*", "build", "additional_contexts" } }, MERGE_SEQUENCE },
    { { { "services", "*", "build", "extra_hosts" } }, MERGE_EXTRA_HOSTS },
    { { { "services", "*", "build", "labels" } }, MERGE_SEQUENCE },
    { { { "services", "*", "command" } }, MERGE_REPLACE },
    { { { "services", "*", "depends_on" } }, MERGE_DEPENDS_ON },
    { { { "services", "*", "deploy", "labels" } }, MERGE_SEQUENCE },
    { { { "services", "*", "dns" } }, MERGE_SEQUENCE },
    { { { "services", "*", "dns_opt" } }, MERGE_SEQUENCE },
    { { { "services", "*", "dns_search" } }, MERGE_SEQUENCE },
    { { { "services", "*", "entrypoint" } }, MERGE_REPLACE },
    { { { "services", "*", "env_file" } }, MERGE_SEQUENCE },
    { { { "services", "*", "label_file" } }, MERGE_SEQUENCE },
    { { { "services", "*", "environment" } }, MERGE_SEQUENCE },
    { { { "services", "*", "extra_hosts" } }, MERGE_EXTRA_HOSTS },
    { { { "services", "*", "healthcheck", "test" } }, MERGE_REPLACE },
    { { { "services", "*", "labels" } }, MERGE_SEQUENCE },
    { { { "services", "*", "volumes", "*", "volume", "labels" } }, MERGE_SEQUENCE },
    { { { "services", "*", "logging" } }, MERGE_LOGGING },
    { { { "services", "*", "models" } }, MERGE_MAPPING },
    { { { "services", "*", "networks" } }, MERGE_MAPPING },
    { { { "services", "*", "sysctls" } }, MERGE_SEQUENCE },
    { { { "services", "*", "tmpfs" } }, MERGE_SEQUENCE },
    { { { "services", "*", "ulimits", "*" } }, MERGE_REPLACE },
};

enum keyer {
    KEY_KV,      /* "k=v" → k */
    KEY_VOLUME,  /* mapping target, or the target of the short syntax */
    KEY_DEVICE,  /* mapping target, or the container side of "host:container" */
    KEY_EXPOSE,  /* the text */
    KEY_SECRET,  /* target, or /run/secrets/<source> */
    KEY_CONFIG,  /* target, or /<source> */
    KEY_PORT,    /* host_ip:published:target/protocol, or the short text */
    KEY_ENVFILE, /* the path */
};

static const struct unique {
    struct compose_keypath path;
    enum keyer k;
} unique_rules[] = {
    { { { "networks", "*", "labels" } }, KEY_KV },
    { { { "networks", "*", "ipam", "options" } }, KEY_KV },
    { { { "services", "*", "annotations" } }, KEY_KV },
    { { { "services", "*", "build", "args" } }, KEY_KV },
    { { { "services", "*", "build", "additional_contexts" } }, KEY_KV },
    { { { "services", "*", "build", "platform" } }, KEY_KV },
    { { { "services", "*", "build", "tags" } }, KEY_KV },
    { { { "services", "*", "build", "labels" } }, KEY_KV },
    { { { "services", "*", "cap_add" } }, KEY_KV },
    { { { "services", "*", "cap_drop" } }, KEY_KV },
    { { { "services", "*", "configs" } }, KEY_CONFIG },
    { { { "services", "*", "deploy", "labels" } }, KEY_KV },
    { { { "services", "*", "devices" } }, KEY_DEVICE },
    { { { "services", "*", "dns" } }, KEY_KV },
    { { { "services", "*", "dns_opt" } }, KEY_KV },
    { { { "services", "*", "dns_search" } }, KEY_KV },
    { { { "services", "*", "environment" } }, KEY_KV },
    { { { "services", "*", "env_file" } }, KEY_ENVFILE },
    { { { "services", "*", "expose" } }, KEY_EXPOSE },
    { { { "services", "*", "labels" } }, KEY_KV },
    { { { "services", "*", "links" } }, KEY_KV },
    { { { "services", "*", "networks", "*", "aliases" } }, KEY_KV },
    { { { "services", "*", "networks", "*", "link_local_ips" } }, KEY_KV },
    { { { "services", "*", "ports" } }, KEY_PORT },
    { { { "services", "*", "profiles" } }, KEY_KV },
    { { { "services", "*", "secrets" } }, KEY_SECRET },
    { { { "services", "*", "sysctls" } }, KEY_KV },
    { { { "services", "*", "tmpfs" } }, KEY_KV },
    { { { "services", "*", "volumes" } }, KEY_VOLUME },
};

_Static_assert(BT_ARRAY_SIZE(merge_rules) <= COMPOSE_KEYPATH_SET_MAX, "one bit per rule");
_Static_assert(BT_ARRAY_SIZE(unique_rules) <= COMPOSE_KEYPATH_SET_MAX, "one bit per rule");

/* The keys from the root, and for each prefix the rules of one table it still matches: the
 * merge rules while merging, the unique rules while finishing. */
struct path {
    struct compose_keypath_index rules;
    const char *key[PATH_MAX_DEPTH];
    uint64_t set[PATH_MAX_DEPTH + 1];
    size_t n;
};

static void
path_init(struct path *p, const void *table, size_t stride, size_t n)
{
    compose_keypath_index_init(&p->rules, table, stride, n);
    p->set[0] = p->rules.all;
    p->n = 0;
}

/* Enter key; the caller has checked the depth. */
static void
path_push(struct path *p, const char *key)
{
    p->key[p->n] = key;
    p->set[p->n + 1] = compose_keypath_narrow(&p->rules, p->set[p->n], p->n, key, false);
    p->n++;
}

/* The first rule (in table order) of the set at the path's depth that the whole path matches,
 * or -1. */
static int
path_rule(const struct path *p, uint64_t set)
{
    return compose_keypath_whole(&p->rules, set, p->n);
}

static enum strategy
strategy_for(const struct path *p)
{
    int i = path_rule(p, p->set[p->n]);
    return i < 0 ? MERGE_DEFAULT : merge_rules[i].s;
}

static char *
path_str(struct bt_arena *a, const struct path *p)
{
    struct bt_buf b;
    bt_buf_init(&b, 4096);
    for (size_t i = 0; i < p->n; i++)
        (void) bt_buf_printf(&b, "%s%s", i ? "." : "", p->key[i]);
    char *s = bt_arena_strdup(a, bt_buf_str(&b));
    bt_buf_release(&b);
    return s;
}

static struct compose_node *
new_node(struct bt_arena *a, enum compose_node_kind kind, const struct compose_pos *pos, size_t n)
{
    struct compose_node *x = bt_arena_alloc(a, sizeof *x);
    x->kind = kind;
    x->pos = *pos;
    x->n = 0;
    if (kind == COMPOSE_NODE_MAP)
        x->pairs = bt_arena_alloc(a, (n ? n : 1) * sizeof *x->pairs);
    else if (kind == COMPOSE_NODE_SEQ)
        x->items = bt_arena_alloc(a, (n ? n : 1) * sizeof *x->items);
    return x;
}

static bool
is_null(const struct compose_node *n)
{
    return !n || (n->kind == COMPOSE_NODE_SCALAR && compose_scalar_type(n) == COMPOSE_SCALAR_NULL);
}

/* A new string scalar "key=val", or "key" when val is NULL: the text made once, in place (what
 * compose_node_scalar() of a formatted string gives, without formatting and copying). */
static struct compose_node *
kv_scalar(struct bt_arena *a, const struct compose_pos *pos, const char *key, const char *val)
{
    size_t klen = strlen(key), vlen = val ? strlen(val) : 0;
    size_t len = val ? klen + 1 + vlen : klen;
    char *text = bt_arena_alloc(a, len + 1);
    memcpy(text, key, klen);
    if (val) {
        text[klen] = '=';
        memcpy(text + klen + 1, val, vlen);
    }
    struct compose_node *n = bt_arena_alloc(a, sizeof *n);
    n->kind = COMPOSE_NODE_SCALAR;
    n->pos = *pos;
    n->str = text;
    n->len = len;
    return n;
}

/* A mapping entry as "k=v" (or "k" for null); sequence values give one entry each. */
static void
kv_append(struct bt_arena *a, struct compose_node *seq, size_t *cap, const struct compose_pair *p)
{
    const struct compose_node *v = p->val;
    size_t count = v && v->kind == COMPOSE_NODE_SEQ ? v->n : 1;
    if (seq->n + count > *cap) {
        size_t ncap = (*cap + count) * 2;
        struct compose_node **items = bt_arena_alloc(a, ncap * sizeof *items);
        bt_memcpy(items, seq->items, seq->n * sizeof *items);
        seq->items = items;
        *cap = ncap;
    }
    for (size_t i = 0; i < count; i++) {
        const struct compose_node *one = v && v->kind == COMPOSE_NODE_SEQ ? v->items[i] : v;
        const char *val;
        if (is_null(one))
            val = NULL;
        else if (one->kind == COMPOSE_NODE_SCALAR)
            val = one->str;
        else
            val = ""; /* not scalar: schema reports it */
        seq->items[seq->n++] = kv_scalar(a, one ? &one->pos : &p->key->pos, p->key->str, val);
    }
}

static int
cmp_scalar_text(const void *x, const void *y)
{
    const struct compose_node *const *l = x, *const *r = y;
    return strcmp((*l)->str, (*r)->str);
}

/* Mapping → sorted "k=v" sequence; a scalar → a one-item sequence; a sequence as it is. */
static const struct compose_node *
to_sequence(struct bt_arena *a, const struct compose_node *n)
{
    if (!n || n->kind == COMPOSE_NODE_SEQ)
        return n;
    if (n->kind == COMPOSE_NODE_SCALAR) {
        if (is_null(n))
            return NULL;
        struct compose_node *s = new_node(a, COMPOSE_NODE_SEQ, &n->pos, 1);
        s->items[s->n++] = (struct compose_node *) n;
        return s;
    }
    struct compose_node *s = new_node(a, COMPOSE_NODE_SEQ, &n->pos, n->n);
    size_t cap = n->n ? n->n : 1;
    for (size_t i = 0; i < n->n; i++)
        kv_append(a, s, &cap, &n->pairs[i]);
    qsort(s->items, s->n, sizeof *s->items, cmp_scalar_text);
    return s;
}

/* Sequence of names → mapping name: default (or null). */
static const struct compose_node *
to_mapping(struct bt_arena *a, const struct compose_node *n, bool depends_on)
{
    if (!n || n->kind != COMPOSE_NODE_SEQ)
        return n;
    struct compose_node *m = new_node(a, COMPOSE_NODE_MAP, &n->pos, n->n);
    for (size_t i = 0; i < n->n; i++) {
        const struct compose_node *it = n->items[i];
        if (it->kind != COMPOSE_NODE_SCALAR)
            return n; /* leave it to validation to report */
        struct compose_node *val;
        if (depends_on) {
            val = new_node(a, COMPOSE_NODE_MAP, &it->pos, 2);
            val->pairs[0] =
                (struct compose_pair){ compose_node_scalar(a, &it->pos, "condition", true),
                                       compose_node_scalar(a, &it->pos, "service_started", true) };
            val->pairs[1] =
                (struct compose_pair){ compose_node_scalar(a, &it->pos, "required", true),
                                       compose_node_scalar(a, &it->pos, "true", true) };
            val->n = 2;
        } else {
            val = compose_node_scalar(a, &it->pos, "", true);
        }
        m->pairs[m->n++] = (struct compose_pair){ (struct compose_node *) it, val };
    }
    return m;
}

/* The key of a "k=v" or "k" entry, or of a mapping pair, for matching !reset keys. */
static bool
entry_has_key(const struct compose_node *it, const char *key)
{
    if (it->kind != COMPOSE_NODE_SCALAR)
        return false;
    size_t n = strcspn(it->str, "=");
    return strlen(key) == n && strncmp(it->str, key, n) == 0;
}

/* over's mapping without the pairs tagged !reset (they only remove from the base). */
static const struct compose_node *
without_reset_pairs(struct bt_arena *a, const struct compose_node *over)
{
    if (over->kind != COMPOSE_NODE_MAP)
        return over;
    struct compose_node *m = new_node(a, COMPOSE_NODE_MAP, &over->pos, over->n);
    for (size_t i = 0; i < over->n; i++)
        if (!over->pairs[i].val || over->pairs[i].val->tag != COMPOSE_TAG_RESET)
            m->pairs[m->n++] = over->pairs[i];
    return m;
}

/* base without the entries whose key over resets ("FOO: !reset null" in environment). */
static const struct compose_node *
drop_reset_keys(struct bt_arena *a, const struct compose_node *base,
                const struct compose_node *over)
{
    if (over->kind != COMPOSE_NODE_MAP || base->kind == COMPOSE_NODE_SCALAR)
        return base;
    bool any = false;
    for (size_t i = 0; i < over->n; i++)
        any |= over->pairs[i].val && over->pairs[i].val->tag == COMPOSE_TAG_RESET;
    if (!any)
        return base;
    struct compose_node *out = new_node(a, base->kind, &base->pos, base->n);
    for (size_t i = 0; i < base->n; i++) {
        const struct compose_node *k =
            base->kind == COMPOSE_NODE_MAP ? base->pairs[i].key : base->items[i];
        bool reset = false;
        for (size_t j = 0; j < over->n; j++)
            reset |= over->pairs[j].val && over->pairs[j].val->tag == COMPOSE_TAG_RESET &&
                     entry_has_key(k, over->pairs[j].key->str);
        if (reset)
            continue;
        if (base->kind == COMPOSE_NODE_MAP)
            out->pairs[out->n++] = base->pairs[i];
        else
            out->items[out->n++] = base->items[i];
    }
    return out;
}

static int merge_at(struct bt_arena *a, struct path *p, const struct compose_node *base,
                    const struct compose_node *over, struct compose_node **ret,
                    struct bt_err **err);

static int
merge_mappings(struct bt_arena *a, struct path *p, const struct compose_node *base,
               const struct compose_node *over, struct compose_node **ret, struct bt_err **err)
{
    struct compose_node *m = new_node(a, COMPOSE_NODE_MAP, &base->pos, base->n + over->n);
    m->tag = over->tag;
    bt_memcpy(m->pairs, base->pairs, base->n * sizeof *m->pairs);
    m->n = base->n;
    if (p->n >= PATH_MAX_DEPTH)
        return bt_err_set_at(err, over->pos.file, over->pos.line, over->pos.col, BT_EINVALID,
                             "nesting deeper than %d levels", PATH_MAX_DEPTH);
    /* Big mappings (the services of two files) find their keys through an index. */
    struct compose_map_index x = { 0 };
    bool indexed = base->n + over->n >= COMPOSE_MAP_INDEX_MIN;
    if (indexed)
        compose_map_index_init(&x, m->pairs, m->n);
    int r = 0;
    for (size_t i = 0; i < over->n && r == 0; i++) {
        const struct compose_pair *op = &over->pairs[i];
        size_t j = 0;
        if (indexed) {
            j = compose_map_index_find_str(&x, op->key->str);
            j = j == SIZE_MAX ? m->n : j;
        } else {
            while (j < m->n && strcmp(m->pairs[j].key->str, op->key->str) != 0)
                j++;
        }
        if (op->val && op->val->tag == COMPOSE_TAG_RESET) {
            if (j < m->n) { /* !reset: the key goes, whatever the base said */
                memmove(&m->pairs[j], &m->pairs[j + 1], (m->n - j - 1) * sizeof *m->pairs);
                m->n--;
                if (indexed) { /* the pairs after j moved */
                    compose_map_index_release(&x);
                    compose_map_index_init(&x, m->pairs, m->n);
                }
            }
            continue;
        }
        if (j == m->n) {
            m->pairs[m->n++] = *op;
            if (indexed)
                compose_map_index_add(&x);
            continue;
        }
        path_push(p, op->key->str);
        struct compose_node *merged = NULL;
        r = merge_at(a, p, m->pairs[j].val, op->val, &merged, err);
        p->n--;
        if (r == 0)
            m->pairs[j].val = merged;
    }
    compose_map_index_release(&x);
    if (r < 0)
        return r;
    *ret = m;
    return 0;
}

static struct compose_node *
append_seqs(struct bt_arena *a, const struct compose_node *base, const struct compose_node *over,
            bool skip_repeats)
{
    struct compose_node *s = new_node(a, COMPOSE_NODE_SEQ, &base->pos, base->n + over->n);
    bt_memcpy(s->items, base->items, base->n * sizeof *s->items);
    s->n = base->n;
    for (size_t i = 0; i < over->n; i++) {
        bool seen = false;
        for (size_t j = 0; skip_repeats && j < base->n; j++)
            seen |= over->items[i]->kind == COMPOSE_NODE_SCALAR &&
                    base->items[j]->kind == COMPOSE_NODE_SCALAR &&
                    strcmp(over->items[i]->str, base->items[j]->str) == 0;
        if (!seen)
            s->items[s->n++] = over->items[i];
    }
    return s;
}

static const char *
scalar_of(const struct compose_node *m, const char *key)
{
    const struct compose_node *v = compose_map_get(m, key);
    return v && v->kind == COMPOSE_NODE_SCALAR ? v->str : NULL;
}

/* ipam.config: entries with the same subnet merge; others are added. */
static int
merge_ipam(struct bt_arena *a, struct path *p, const struct compose_node *base,
           const struct compose_node *over, struct compose_node **ret, struct bt_err **err)
{
    struct compose_node *s = new_node(a, COMPOSE_NODE_SEQ, &base->pos, base->n + over->n);
    bt_memcpy(s->items, base->items, base->n * sizeof *s->items);
    s->n = base->n;
    for (size_t i = 0; i < over->n; i++) {
        const struct compose_node *o = over->items[i];
        const char *subnet = scalar_of(o, "subnet");
        size_t j = 0;
        while (j < s->n && !(subnet && bt_streq(scalar_of(s->items[j], "subnet"), subnet)))
            j++;
        if (j == s->n || o->kind != COMPOSE_NODE_MAP || s->items[j]->kind != COMPOSE_NODE_MAP) {
            s->items[s->n++] = (struct compose_node *) o;
            continue;
        }
        if (merge_mappings(a, p, s->items[j], o, &s->items[j], err) < 0)
            return -1;
    }
    *ret = s;
    return 0;
}

static int
merge_at(struct bt_arena *a, struct path *p, const struct compose_node *base,
         const struct compose_node *over, struct compose_node **ret, struct bt_err **err)
{
    if (!over || (over->tag != COMPOSE_TAG_RESET && is_null(over) && base)) {
        *ret = (struct compose_node *) base; /* an empty override keeps the base */
        return 0;
    }
    if (!base || over->tag == COMPOSE_TAG_RESET || over->tag == COMPOSE_TAG_OVERRIDE) {
        *ret = (struct compose_node *) over;
        return 0;
    }
    enum strategy strategy = strategy_for(p);
    switch (strategy) {
    case MERGE_REPLACE:
        *ret = (struct compose_node *) over;
        return 0;
    case MERGE_SEQUENCE:
    case MERGE_EXTRA_HOSTS: {
        base = drop_reset_keys(a, base, over);
        over = without_reset_pairs(a, over);
        const struct compose_node *l = to_sequence(a, base), *r = to_sequence(a, over);
        if (!l || !r || l->kind != COMPOSE_NODE_SEQ || r->kind != COMPOSE_NODE_SEQ) {
            *ret = (struct compose_node *) (r ? r : l);
            return 0;
        }
        *ret = append_seqs(a, l, r, strategy == MERGE_EXTRA_HOSTS);
        return 0;
    }
    case MERGE_DEPENDS_ON:
    case MERGE_MAPPING:
        base = to_mapping(a, base, strategy == MERGE_DEPENDS_ON);
        over = to_mapping(a, over, strategy == MERGE_DEPENDS_ON);
        break;
    case MERGE_BUILD:
        if (base->kind == COMPOSE_NODE_SCALAR || over->kind == COMPOSE_NODE_SCALAR) {
            const struct compose_node **sides[] = { &base, &over };
            for (size_t i = 0; i < 2; i++) {
                const struct compose_node *s = *sides[i];
                if (s->kind != COMPOSE_NODE_SCALAR)
                    continue;
                struct compose_node *m = new_node(a, COMPOSE_NODE_MAP, &s->pos, 1);
                m->pairs[m->n++] =
                    (struct compose_pair){ compose_node_scalar(a, &s->pos, "context", true),
                                           (struct compose_node *) s };
                *sides[i] = m;
            }
        }
        break;
    case MERGE_LOGGING: {
        const char *bd = scalar_of(base, "driver"), *od = scalar_of(over, "driver");
        if (bd && od && strcmp(bd, od) != 0) {
            *ret = (struct compose_node *) over;
            return 0;
        }
        break;
    }
    case MERGE_IPAM_CONFIG:
        if (base->kind == COMPOSE_NODE_SEQ && over->kind == COMPOSE_NODE_SEQ)
            return merge_ipam(a, p, base, over, ret, err);
        break;
    case MERGE_DEFAULT:
        break;
    }
    if (base->kind == COMPOSE_NODE_MAP || over->kind == COMPOSE_NODE_MAP) {
        if (base->kind != over->kind)
            return bt_err_set_at(err, over->pos.file, over->pos.line, over->pos.col, BT_EINVALID,
                                 "%s: cannot override a %s with a %s", path_str(a, p),
                                 compose_node_type_str(base), compose_node_type_str(over));
        return merge_mappings(a, p, base, over, ret, err);
    }
    if (base->kind == COMPOSE_NODE_SEQ && over->kind == COMPOSE_NODE_SEQ) {
        *ret = append_seqs(a, base, over, false);
        return 0;
    }
    *ret = (struct compose_node *) over;
    return 0;
}

int
compose_merge(struct bt_arena *a, const struct compose_node *base, const struct compose_node *over,
              struct compose_node **ret, struct bt_err **err)
{
    struct path p;
    path_init(&p, merge_rules, sizeof *merge_rules, BT_ARRAY_SIZE(merge_rules));
    if (base && over && (base->kind != COMPOSE_NODE_MAP || over->kind != COMPOSE_NODE_MAP) &&
        !is_null(base) && !is_null(over))
        return bt_err_set_at(err, over->pos.file, over->pos.line, over->pos.col, BT_EINVALID,
                             "a compose file must be a mapping, not a %s",
                             compose_node_type_str(over->kind == COMPOSE_NODE_MAP ? base : over));
    return merge_at(a, &p, is_null(base) ? NULL : base, over, ret, err);
}

/* The container side of a short device mapping: "host:container[:perms]", or "path" alone. */
static const char *
device_target(struct bt_arena *a, const char *s)
{
    const char *c1 = strchr(s, ':');
    if (!c1)
        return s;
    return bt_arena_strndup(a, c1 + 1, strcspn(c1 + 1, ":"));
}

/* The target of a short volume; the text itself when it does not parse (validation says why). */
static const char *
volume_target(struct bt_arena *a, const char *s)
{
    struct compose_volume v;
    return compose_volume_parse(a, s, &v, NULL) == 0 ? v.target : s;
}

static const char *
mount_key(struct bt_arena *a, const struct compose_node *n, const char *dir)
{
    if (n->kind == COMPOSE_NODE_SCALAR)
        return bt_arena_printf(a, "%s/%s", dir, n->str);
    const char *t = scalar_of(n, "target");
    if (t)
        return t;
    const char *src = scalar_of(n, "source");
    return bt_arena_printf(a, "%s/%s", dir, src ? src : "");
}

/* The identity of one entry of a unique-resources sequence. */
static const char *
entry_key(struct bt_arena *a, enum keyer k, const struct compose_node *n)
{
    bool scalar = n->kind == COMPOSE_NODE_SCALAR, map = n->kind == COMPOSE_NODE_MAP;
    switch (k) {
    case KEY_KV:
        if (!scalar)
            return NULL;
        return bt_arena_strndup(a, n->str, strcspn(n->str, "="));
    case KEY_VOLUME:
    case KEY_DEVICE:
        if (map)
            return scalar_of(n, "target");
        if (!scalar)
            return "";
        return k == KEY_VOLUME ? volume_target(a, n->str) : device_target(a, n->str);
    case KEY_EXPOSE:
        return scalar ? n->str : NULL;
    case KEY_SECRET:
        return scalar || map ? mount_key(a, n, "/run/secrets") : NULL;
    case KEY_CONFIG:
        return scalar || map ? mount_key(a, n, "") : NULL;
    case KEY_PORT:
        if (scalar)
            return n->str;
        if (!map)
            return "";
        const char *host = scalar_of(n, "host_ip"), *pub = scalar_of(n, "published");
        const char *target = scalar_of(n, "target"), *proto = scalar_of(n, "protocol");
        return bt_arena_printf(a, "%s:%s:%s/%s", host ? host : "0.0.0.0", pub ? pub : "",
                               target ? target : "", proto ? proto : "tcp");
    case KEY_ENVFILE:
        if (scalar)
            return n->str;
        return map ? scalar_of(n, "path") : "";
    }
    return NULL;
}

/* Keep one entry per key: the last value, at the place of the first. */
static int
dedup(struct bt_arena *a, struct compose_node *seq, enum keyer k, struct bt_err **err)
{
    const char **keys = bt_arena_alloc(a, (seq->n ? seq->n : 1) * sizeof *keys);
    struct compose_node **out = bt_arena_alloc(a, (seq->n ? seq->n : 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < seq->n; i++) {
        const struct compose_node *it = seq->items[i];
        const char *key = entry_key(a, k, it);
        if (!key)
            return bt_err_set_at(err, it->pos.file, it->pos.line, it->pos.col, BT_EINVALID,
                                 "unexpected %s in a list of unique entries",
                                 compose_node_type_str(it));
        size_t j = 0;
        while (j < n && strcmp(keys[j], key) != 0)
            j++;
        if (j == n)
            keys[n++] = key;
        out[j] = seq->items[i];
    }
    seq->items = out;
    seq->n = n;
    return 0;
}

static int
finish_at(struct bt_arena *a, struct path *p, struct compose_node *n, struct bt_err **err)
{
    n->tag = COMPOSE_TAG_NONE;
    if (n->kind == COMPOSE_NODE_MAP) {
        size_t o = 0;
        for (size_t i = 0; i < n->n; i++) {
            if (n->pairs[i].val && n->pairs[i].val->tag == COMPOSE_TAG_RESET)
                continue; /* !reset: as if never set */
            n->pairs[o++] = n->pairs[i];
        }
        n->n = o;
        if (p->n >= PATH_MAX_DEPTH)
            return bt_err_set_at(err, n->pos.file, n->pos.line, n->pos.col, BT_EINVALID,
                                 "nesting deeper than %d levels", PATH_MAX_DEPTH);
        for (size_t i = 0; i < n->n; i++) {
            path_push(p, n->pairs[i].key->str);
            int r = finish_at(a, p, n->pairs[i].val, err);
            p->n--;
            if (r < 0)
                return r;
        }
    } else if (n->kind == COMPOSE_NODE_SEQ) {
        size_t o = 0;
        for (size_t i = 0; i < n->n; i++)
            if (n->items[i]->tag != COMPOSE_TAG_RESET)
                n->items[o++] = n->items[i];
        n->n = o;
        /* Every rule the path matches whole, in table order. */
        uint64_t set = p->set[p->n];
        for (int k; (k = path_rule(p, set)) >= 0; set &= ~((uint64_t) 1 << k))
            if (dedup(a, n, unique_rules[k].k, err) < 0)
                return -1;
        for (size_t i = 0; i < n->n; i++)
            if (finish_at(a, p, n->items[i], err) < 0)
                return -1;
    }
    return 0;
}

int
compose_merge_finish(struct bt_arena *a, struct compose_node *root, struct compose_node **ret,
                     struct bt_err **err)
{
    struct path p;
    path_init(&p, unique_rules, sizeof *unique_rules, BT_ARRAY_SIZE(unique_rules));
    if (!root || root->tag == COMPOSE_TAG_RESET) {
        *ret = NULL;
        return 0;
    }
    if (finish_at(a, &p, root, err) < 0)
        return -1;
    *ret = root;
    return 0;
}
