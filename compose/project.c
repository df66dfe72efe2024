/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading a project: the environment (process first, then .env or --env-file), the files,
 * YAML, interpolation, merging, profiles, and the project's name, in docker compose's order.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/cast.h"
#include "compose/check.h"
#include "compose/compose.h"
#include "compose/dotenv.h"
#include "compose/extends.h"
#include "compose/files.h"
#include "compose/include.h"
#include "compose/interp.h"
#include "compose/merge.h"
#include "compose/node.h"
#include "compose/normalize.h"
#include "compose/schema.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"

struct env_ctx {
    char *const *environ;
    struct compose_env dotenv;
};

static const char *
env_get(char *const *vars, const char *name)
{
    size_t n = strlen(name);
    for (char *const *v = vars; v && *v; v++)
        if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
            return *v + n + 1;
    return NULL;
}

/* The process environment wins over .env files, as in docker compose. */
static const char *
lookup(const char *name, void *userdata)
{
    const struct env_ctx *e = userdata;
    const char *v = env_get(e->environ, name);
    return v ? v : compose_env_get(&e->dotenv, name);
}

static bool
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The env files given (all must exist, relative to cwd), or dir/.env when present. */
static int
load_env_files(struct bt_arena *a, const char *const *files, size_t n, const char *cwd,
               const char *dir, struct env_ctx *e, struct compose_interp_warn *warn,
               struct bt_err **err)
{
    compose_env_init(&e->dotenv, a);
    for (size_t i = 0; i < n; i++) {
        const char *f = files[i];
        const char *path = f[0] == '/' ? f : bt_arena_printf(a, "%s/%s", cwd, f);
        if (compose_dotenv_load_file(path, lookup, e, warn, &e->dotenv, err) < 0)
            return bt_err_wrap(err, "env file '%s'", f);
    }
    if (n > 0)
        return 0;
    const char *path = bt_arena_printf(a, "%s/.env", strcmp(dir, "/") ? dir : "");
    if (!exists(path))
        return 0;
    return compose_dotenv_load_file(path, lookup, e, warn, &e->dotenv, err);
}

static int
load_dotenv(struct bt_arena *a, const struct compose_load_opts *o, const char *dir,
            struct env_ctx *e, struct compose_interp_warn *warn, struct bt_err **err)
{
    return load_env_files(a, o->env_files, o->nenv_files, o->cwd, dir, e, warn, err);
}

static void
add_warning(struct bt_arena *a, struct compose_project *p, size_t *cap, const char *w)
{
    if (p->nwarnings == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        const char **nw = bt_arena_alloc(a, ncap * sizeof *nw);
        if (p->nwarnings)
            bt_memcpy(nw, p->warnings, p->nwarnings * sizeof *nw);
        p->warnings = nw;
        *cap = ncap;
    }
    ((const char **) p->warnings)[p->nwarnings++] = w;
}

struct file_loader {
    struct bt_arena *a;
    struct env_ctx *e;
    struct compose_interp_warn *warn;
    const struct compose_schema *schema;
    bool interpolate;
    /* The files being loaded, outermost first: an include of one of them is a cycle. */
    const char *stack[32];
    size_t nstack;
    /* Files loaded for extends, by absolute path: each is read once. */
    const char *paths[64];
    struct compose_node *docs[64];
    size_t n;
};

/* The document as the schema sees it: what !reset removes is absent (docker compose drops
 * those nodes before validating, so `ports: !reset null` is fine where null is not). One walk;
 * only the mappings and sequences that hold a !reset are copied, the rest is shared. */
static const struct compose_node *
without_resets(struct bt_arena *a, const struct compose_node *n, int depth)
{
    if (!n || n->kind == COMPOSE_NODE_SCALAR || depth > COMPOSE_MAX_DEPTH)
        return n;
    bool map = n->kind == COMPOSE_NODE_MAP;
    struct compose_node *c = NULL;
    for (size_t i = 0; i < n->n; i++) {
        const struct compose_node *child = map ? n->pairs[i].val : n->items[i];
        bool drop = child && child->tag == COMPOSE_TAG_RESET;
        const struct compose_node *kept = drop ? NULL : without_resets(a, child, depth + 1);
        if (!c && !drop && kept == child)
            continue;
        if (!c) { /* the first change: copy what came before */
            c = bt_arena_alloc(a, sizeof *c);
            *c = *n;
            c->n = 0;
            if (map)
                c->pairs = bt_arena_alloc(a, (n->n + 1) * sizeof *c->pairs);
            else
                c->items = bt_arena_alloc(a, (n->n + 1) * sizeof *c->items);
            for (size_t k = 0; k < i; k++)
                if (map)
                    c->pairs[c->n++] = n->pairs[k];
                else
                    c->items[c->n++] = n->items[k];
        }
        if (drop)
            continue;
        if (map)
            c->pairs[c->n++] =
                (struct compose_pair){ n->pairs[i].key, (struct compose_node *) kept };
        else
            c->items[c->n++] = (struct compose_node *) kept;
    }
    return c ? c : n;
}

/* One file: its documents interpolated, cast, validated (unless it is only an extends source,
 * which docker compose validates as part of the result) and merged in order. */
static int
load_one(struct file_loader *l, const char *path, bool validate, struct compose_node **ret,
         struct bt_err **err)
{
    struct compose_node **docs = NULL, *acc = NULL;
    size_t ndocs = 0;
    if (compose_yaml_load_file(l->a, path, &docs, &ndocs, err) < 0)
        return -1;
    for (size_t d = 0; d < ndocs; d++) {
        if (l->interpolate) {
            if (compose_interp_tree(l->a, docs[d], lookup, l->e, l->warn, err) < 0)
                return -1;
            if (compose_cast_tree(docs[d], err) < 0)
                return -1;
        }
        if (validate &&
            compose_schema_validate(l->schema, without_resets(l->a, docs[d], 0), err) < 0)
            return -1;
        if (compose_merge(l->a, acc, docs[d], &acc, err) < 0)
            return -1;
    }
    *ret = acc;
    return 0;
}

static int
load_for_extends(void *userdata, const char *path, struct compose_node **ret, struct bt_err **err)
{
    struct file_loader *l = userdata;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->paths[i], path) == 0) {
            *ret = l->docs[i];
            return 0;
        }
    if (load_one(l, path, false, ret, err) < 0)
        return -1;
    if (l->n < BT_ARRAY_SIZE(l->paths)) {
        l->paths[l->n] = bt_arena_strdup(l->a, path);
        l->docs[l->n++] = *ret;
    }
    return 0;
}

static int load_model(struct file_loader *l, const char *const *paths, size_t n,
                      struct compose_node **ret, struct bt_err **err);

static int
include_cycle(const struct file_loader *l, const struct compose_include *inc, const char *path,
              struct bt_err **err)
{
    struct bt_buf b;
    bt_buf_init(&b, 8192);
    for (size_t i = 0; i < l->nstack; i++)
        (void) bt_buf_printf(&b, "'%s' -> ", l->stack[i]);
    (void) bt_buf_printf(&b, "'%s'", path);
    int r = bt_err_set_at(err, inc->at->pos.file, inc->at->pos.line, inc->at->pos.col, BT_EINVALID,
                          "include cycle: %s", bt_buf_str(&b));
    bt_buf_release(&b);
    return r;
}

/* An included project: its own .env, its own includes and extends, paths resolved in its
 * directory. The process environment still wins, as for the main project. */
static int
load_include(void *userdata, const struct compose_include *inc, struct compose_node **ret,
             struct bt_err **err)
{
    const struct file_loader *parent = userdata;
    for (size_t i = 0; i < inc->npaths; i++)
        for (size_t k = 0; k < parent->nstack; k++)
            if (strcmp(parent->stack[k], inc->paths[i]) == 0)
                return include_cycle(parent, inc, inc->paths[i], err);
    struct env_ctx sub = { .environ = parent->e->environ };
    if (load_env_files(parent->a, inc->env_files, inc->nenv_files, inc->project_dir,
                       inc->project_dir, &sub, parent->warn, err) < 0)
        return bt_err_wrap(err, "include '%s'", inc->paths[0]);
    struct file_loader l = {
        .a = parent->a,
        .e = &sub,
        .warn = parent->warn,
        .schema = parent->schema,
        .interpolate = parent->interpolate,
    };
    bt_memcpy(l.stack, parent->stack, parent->nstack * sizeof *l.stack);
    l.nstack = parent->nstack;
    struct compose_node *model = NULL;
    if (load_model(&l, inc->paths, inc->npaths, &model, err) < 0)
        return -1;
    *ret = compose_model_resolve_paths(parent->a, model, inc->project_dir);
    return 0;
}

/* Files merged as -f files are: each with its includes, then its extends, then merged. */
static int
load_model(struct file_loader *l, const char *const *paths, size_t n, struct compose_node **ret,
           struct bt_err **err)
{
    struct compose_node *acc = NULL;
    for (size_t i = 0; i < n; i++) {
        if (l->nstack == BT_ARRAY_SIZE(l->stack))
            return bt_err_set(err, BT_EINVALID, "includes nested deeper than %zu files",
                              BT_ARRAY_SIZE(l->stack));
        l->stack[l->nstack++] = paths[i];
        struct compose_node *doc = NULL;
        int r = load_one(l, paths[i], true, &doc, err);
        if (r == 0 && doc && doc->kind == COMPOSE_NODE_MAP)
            r = compose_include_apply(l->a, doc, paths[i], load_include, l, err);
        if (r == 0)
            r = compose_extends_apply(l->a, doc, paths[i], load_for_extends, l, err);
        if (r == 0)
            r = compose_merge(l->a, acc, doc, &acc, err);
        l->nstack--;
        if (r < 0)
            return r;
    }
    return compose_merge_finish(l->a, acc, ret, err);
}

static int
load_files(struct bt_arena *a, const struct compose_files *files, bool interpolate,
           struct env_ctx *e, struct compose_interp_warn *warn, struct compose_node **ret,
           struct bt_err **err)
{
    struct file_loader l = { .a = a, .e = e, .warn = warn, .interpolate = interpolate };
    struct compose_schema *schema = NULL;
    if (compose_schema_load_compose(&schema, err) < 0)
        return -1;
    l.schema = schema;
    int r = load_model(&l, files->paths, files->n, ret, err);
    compose_schema_free(schema);
    return r;
}

/* COMPOSE_PROFILES is a comma-separated list. */
static bool
profile_enabled(const struct compose_load_opts *o, const char *env_profiles, const char *name)
{
    for (size_t i = 0; i < o->nprofiles; i++)
        if (strcmp(o->profiles[i], name) == 0 || strcmp(o->profiles[i], "*") == 0)
            return true;
    if (o->nprofiles > 0 || !env_profiles)
        return false;
    size_t n = strlen(name);
    for (const char *s = env_profiles; *s;) {
        size_t len = strcspn(s, ",");
        if ((len == n && strncmp(s, name, n) == 0) || (len == 1 && s[0] == '*'))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

static bool
named(const struct compose_load_opts *o, const char *name)
{
    for (size_t i = 0; i < o->nservices; i++)
        if (strcmp(o->services[i], name) == 0)
            return true;
    return false;
}

/* Services whose profiles are all disabled are not part of the project, unless named on the
 * command line or needed by one that is on (its depends_on). */
static void
apply_profiles(struct bt_arena *a, const struct compose_load_opts *o, const char *env_profiles,
               struct compose_node *model)
{
    struct compose_node *services = compose_map_get(model, "services");
    if (!services || services->kind != COMPOSE_NODE_MAP)
        return;
    bool *on = bt_arena_alloc(a, (services->n + 1) * sizeof *on);
    for (size_t i = 0; i < services->n; i++) {
        const struct compose_node *prof = compose_map_get(services->pairs[i].val, "profiles");
        on[i] = !prof || prof->kind != COMPOSE_NODE_SEQ || prof->n == 0 ||
                named(o, services->pairs[i].key->str);
        for (size_t k = 0; !on[i] && k < prof->n; k++)
            on[i] = prof->items[k]->kind == COMPOSE_NODE_SCALAR &&
                    profile_enabled(o, env_profiles, prof->items[k]->str);
    }
    /* Dependencies of named services come with them (to a fixed point). */
    for (bool changed = o->nservices > 0; changed;) {
        changed = false;
        for (size_t i = 0; i < services->n; i++) {
            const struct compose_node *deps = compose_map_get(services->pairs[i].val, "depends_on");
            for (size_t k = 0; on[i] && deps && k < deps->n; k++) {
                const struct compose_node *d =
                    deps->kind == COMPOSE_NODE_MAP ? deps->pairs[k].key : deps->items[k];
                for (size_t j = 0; d->kind == COMPOSE_NODE_SCALAR && j < services->n; j++)
                    if (!on[j] && strcmp(services->pairs[j].key->str, d->str) == 0)
                        on[j] = changed = true;
            }
        }
    }
    size_t out = 0;
    for (size_t i = 0; i < services->n; i++)
        if (on[i])
            services->pairs[out++] = services->pairs[i];
    services->n = out;
}

static int
project_name(struct bt_arena *a, const struct compose_load_opts *o, struct env_ctx *e,
             const struct compose_files *files, const struct compose_node *model, const char **ret,
             struct bt_err **err)
{
    static const char rule[] = "project names must contain only lowercase letters, digits, "
                               "dashes and underscores, and start with a letter or digit";
    /* -p, then COMPOSE_PROJECT_NAME, then the top-level name:, then the directory. */
    const char *name = o->project_name, *from = "-p";
    if (!name) {
        const char *env = lookup("COMPOSE_PROJECT_NAME", e);
        if (env && env[0]) {
            name = env;
            from = "COMPOSE_PROJECT_NAME";
        }
    }
    const struct compose_node *n = model ? compose_map_get(model, "name") : NULL;
    if (!name && n && n->kind == COMPOSE_NODE_SCALAR && n->str[0]) {
        if (!compose_project_name_is_valid(n->str)) {
            int r = bt_err_set_at(err, n->pos.file, n->pos.line, n->pos.col, BT_EINVALID,
                                  "name: invalid project name '%s'", n->str);
            bt_err_hint(err, "%s", rule);
            return r;
        }
        *ret = n->str;
        return 0;
    }
    if (name) {
        if (!compose_project_name_is_valid(name)) {
            int r = bt_err_set(err, BT_EUSAGE, "invalid project name '%s' (from %s)", name, from);
            bt_err_hint(err, "%s", rule);
            return r;
        }
        *ret = name;
        return 0;
    }
    const char *base = strrchr(files->project_dir, '/');
    *ret = compose_project_name_normalize(a, base ? base + 1 : files->project_dir);
    if (!(*ret)[0]) {
        int r = bt_err_set(err, BT_EINVALID,
                           "cannot derive a project name from the directory "
                           "'%s'",
                           files->project_dir);
        bt_err_hint(err, "name the project with -p NAME or a top-level 'name:'");
        return r;
    }
    return 0;
}

static int
load(struct compose_project *p, const struct compose_load_opts *o, struct bt_err **err)
{
    struct bt_arena *a = p->arena;
    struct env_ctx e = { .environ = o->environ };
    struct compose_interp_warn warn;
    compose_interp_warn_init(&warn);
    size_t wcap = 0;
    int r = -1;
    /* First the .env of the working (or --project-directory) dir: it may set COMPOSE_FILE. */
    const char *dir0 = o->project_dir ? o->project_dir : o->cwd;
    if (dir0[0] != '/')
        dir0 = bt_arena_printf(a, "%s/%s", o->cwd, dir0);
    if (load_dotenv(a, o, dir0, &e, &warn, err) < 0)
        goto out;
    struct compose_files_opts fo = {
        .files = o->files,
        .nfiles = o->nfiles,
        .project_dir = o->project_dir,
        .cwd = o->cwd,
        .compose_file = lookup("COMPOSE_FILE", &e),
        .path_sep = lookup("COMPOSE_PATH_SEPARATOR", &e),
    };
    struct compose_files files;
    if (compose_files_find(a, &fo, &files, err) < 0)
        goto out;
    if (files.warning)
        add_warning(a, p, &wcap, bt_arena_printf(a, "WARN: %s", files.warning));
    /* Then the project directory's .env, for interpolation, when it is another directory. */
    if (o->nenv_files == 0 && strcmp(files.project_dir, dir0) != 0 &&
        load_dotenv(a, o, files.project_dir, &e, &warn, err) < 0)
        goto out;
    if (load_files(a, &files, !o->no_interpolate, &e, &warn, &p->model, err) < 0)
        goto out;
    /* Checked before profiles drop services: a dependency on a disabled one is not unknown. */
    if (compose_check_model(a, p->model, !o->no_consistency, err) < 0)
        goto out;
    if (p->model)
        apply_profiles(a, o, lookup("COMPOSE_PROFILES", &e), p->model);
    if (project_name(a, o, &e, &files, p->model, &p->name, err) < 0)
        goto out;
    const struct compose_node *version = p->model ? compose_map_get(p->model, "version") : NULL;
    if (version)
        add_warning(a, p, &wcap,
                    bt_arena_printf(a,
                                    "WARN: %s: the attribute 'version' is obsolete and ignored; "
                                    "remove it to avoid confusion",
                                    version->pos.file));
    struct compose_normalize_opts no = {
        .project_name = p->name,
        .working_dir = files.project_dir,
        .home = env_get(o->environ, "HOME"),
        .lookup = lookup,
        .userdata = &e,
        .warn = &warn,
        .resolve_paths = !o->no_path_resolution,
        .defaults = !o->no_normalize,
    };
    if (!p->model) {
        /* An empty project still has its (empty) services, as docker compose prints it. */
        p->model = bt_arena_alloc(a, sizeof *p->model);
        p->model->kind = COMPOSE_NODE_MAP;
    }
    if (compose_normalize(a, p->model, &no, err) < 0)
        goto out;
    compose_project_prune(p);
    p->interpolated = !o->no_interpolate;
    p->working_dir = files.project_dir;
    p->config_files = files.paths;
    p->nconfig_files = files.n;
    for (size_t i = 0; i < warn.n; i++)
        add_warning(a, p, &wcap,
                    bt_arena_printf(a,
                                    "WARN: the \"%s\" variable is not set, defaulting to a "
                                    "blank string",
                                    warn.names[i]));
    r = 0;
out:
    compose_interp_warn_release(&warn);
    return r;
}

int
compose_project_load(const struct compose_load_opts *opts, struct compose_project **ret,
                     struct bt_err **err)
{
    struct compose_project *p = bt_xcalloc(1, sizeof *p);
    p->arena = bt_arena_new();
    struct compose_load_opts o = *opts;
    bt_autofree char *cwd = NULL;
    if (!o.cwd) {
        cwd = getcwd(NULL, 0);
        if (!cwd) {
            compose_project_free(p);
            return bt_err_errno(err, -errno, "cannot get the working directory");
        }
        o.cwd = cwd;
    }
    if (load(p, &o, err) < 0) {
        compose_project_free(p);
        return -1;
    }
    *ret = p;
    return 0;
}

struct compose_project *
compose_project_free(struct compose_project *p)
{
    if (!p)
        return NULL;
    bt_arena_free(p->arena);
    free(p);
    return NULL;
}
