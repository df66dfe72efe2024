/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding the compose files and naming the project.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/files.h"
#include "engine/base/alloc.h"
#include "engine/base/path.h"

/* In docker compose's order of preference. */
static const char *const default_names[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
                                             "docker-compose.yml" };
static const char *const override_names[] = { "compose.override.yaml", "compose.override.yml",
                                              "docker-compose.override.yaml",
                                              "docker-compose.override.yml" };

static bool
is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *
compose_path_abs(struct bt_arena *a, const char *base, const char *p)
{
    bt_autofree char *joined = p[0] == '/' ? bt_xstrdup(p) : bt_path_join(base, p);
    size_t len = strlen(joined);
    char *out = bt_arena_alloc(a, len + 2);
    size_t o = 0;
    for (const char *s = joined; *s;) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t) (e - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* skip */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

char *
compose_path_dir(struct bt_arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return bt_arena_strdup(a, "/");
    return bt_arena_strndup(a, path, (size_t) (slash - path));
}

static void
push(struct bt_arena *a, struct compose_files *f, size_t *cap, const char *path)
{
    if (f->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        const char **np = bt_arena_alloc(a, ncap * sizeof *np);
        if (f->n)
            memcpy(np, f->paths, f->n * sizeof *np);
        f->paths = np;
        *cap = ncap;
    }
    f->paths[f->n++] = path;
}

/* The first default name present in dir; notes the others that are present too. */
static const char *
default_in(struct bt_arena *a, const char *dir, const char **ret_warning)
{
    const char *found = NULL;
    char others[256] = "";
    for (size_t i = 0; i < BT_ARRAY_SIZE(default_names); i++) {
        char *p = bt_arena_printf(a, "%s/%s", strcmp(dir, "/") ? dir : "", default_names[i]);
        if (!is_file(p))
            continue;
        if (!found) {
            found = p;
            continue;
        }
        size_t n = strlen(others);
        snprintf(others + n, sizeof others - n, "%s%s", n ? ", " : "", default_names[i]);
    }
    if (found && others[0])
        *ret_warning = bt_arena_printf(a, "found several compose files (%s and %s); using %s",
                                       strrchr(found, '/') + 1, others, strrchr(found, '/') + 1);
    return found;
}

static int
find_default(struct bt_arena *a, const struct compose_files_opts *o, struct compose_files *ret,
             size_t *cap, struct bt_err **err)
{
    const char *start = o->project_dir ? compose_path_abs(a, o->cwd, o->project_dir) : o->cwd;
    /* docker compose looks in the directory, then its parents. */
    for (char *dir = bt_arena_strdup(a, start);;) {
        const char *found = default_in(a, dir, &ret->warning);
        if (found) {
            push(a, ret, cap, found);
            for (size_t i = 0; i < BT_ARRAY_SIZE(override_names); i++) {
                char *ov =
                    bt_arena_printf(a, "%s/%s", strcmp(dir, "/") ? dir : "", override_names[i]);
                if (is_file(ov)) {
                    push(a, ret, cap, ov);
                    break;
                }
            }
            ret->project_dir = o->project_dir ? start : dir;
            return 0;
        }
        if (strcmp(dir, "/") == 0)
            break;
        dir = compose_path_dir(a, dir);
    }
    int r =
        bt_err_set(err, ENOENT,
                   "no configuration file provided: no compose.yaml in '%s' or its parents", start);
    bt_err_hint(err, "create compose.yaml, or name the file with -f FILE");
    return r;
}

int
compose_files_find(struct bt_arena *a, const struct compose_files_opts *o,
                   struct compose_files *ret, struct bt_err **err)
{
    *ret = (struct compose_files){ 0 };
    size_t cap = 0;
    BT_ASSERT(o->cwd && o->cwd[0] == '/');
    const char *const *names = o->files;
    size_t n = o->nfiles;
    const char **split = NULL;
    if (n == 0 && o->compose_file && o->compose_file[0]) {
        /* COMPOSE_FILE: a list joined by COMPOSE_PATH_SEPARATOR; no override file then. */
        const char *sep = o->path_sep && o->path_sep[0] ? o->path_sep : ":";
        size_t seplen = strlen(sep), count = 1;
        for (const char *s = strstr(o->compose_file, sep); s; s = strstr(s + seplen, sep))
            count++;
        split = bt_arena_alloc(a, count * sizeof *split);
        const char *s = o->compose_file;
        for (size_t i = 0; i < count; i++) {
            const char *e = strstr(s, sep);
            size_t len = e ? (size_t) (e - s) : strlen(s);
            split[n++] = bt_arena_strndup(a, s, len);
            s = e ? e + seplen : s + len;
        }
        names = split;
    }
    if (n == 0)
        return find_default(a, o, ret, &cap, err);
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] == '\0')
            continue;
        if (strcmp(names[i], "-") == 0) {
            push(a, ret, &cap, "-");
            continue;
        }
        const char *p = compose_path_abs(a, o->cwd, names[i]);
        struct stat st;
        if (stat(p, &st) < 0) {
            int r = bt_err_errno(err, -errno, "cannot open compose file '%s'", names[i]);
            bt_err_hint(err, "check the path given with -f or COMPOSE_FILE");
            return r;
        }
        if (S_ISDIR(st.st_mode)) {
            /* A directory names the default file inside it. */
            const char *found = default_in(a, p, &ret->warning);
            if (!found)
                return bt_err_set(err, ENOENT, "no compose.yaml in directory '%s'", names[i]);
            p = found;
        }
        push(a, ret, &cap, p);
    }
    if (ret->n == 0)
        return bt_err_set(err, ENOENT, "no configuration file provided: the file list is empty");
    /* The project directory: --project-directory, else the first file's directory. */
    if (o->project_dir)
        ret->project_dir = compose_path_abs(a, o->cwd, o->project_dir);
    else if (strcmp(ret->paths[0], "-") == 0)
        ret->project_dir = o->cwd;
    else
        ret->project_dir = compose_path_dir(a, ret->paths[0]);
    return 0;
}

bool
compose_project_name_is_valid(const char *name)
{
    if (!name || !(islower((unsigned char) name[0]) || isdigit((unsigned char) name[0])))
        return false;
    for (const char *s = name; *s; s++)
        if (!(islower((unsigned char) *s) || isdigit((unsigned char) *s) || *s == '_' || *s == '-'))
            return false;
    return true;
}

char *
compose_project_name_normalize(struct bt_arena *a, const char *name)
{
    char *out = bt_arena_alloc(a, strlen(name) + 1);
    size_t o = 0;
    for (const char *s = name; *s; s++) {
        char c = (char) tolower((unsigned char) *s);
        bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (keep && !(o == 0 && (c == '_' || c == '-')))
            out[o++] = c;
    }
    out[o] = '\0';
    return out;
}
