/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Docker CLI's config.json: the document is kept whole as a jansson object, so reading
 * credentials, changing one "auths" entry and writing it back leaves every other key as the
 * Docker CLI (or the user) wrote it. Host names are compared after folding URLs and Docker
 * Hub's several names into one form.
 */
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/base64.h"
#include "engine/base/fileio.h"
#include "engine/base/parse.h"
#include "engine/base/path.h"
#include "engine/image/dockercfg.h"

#define HUB_DOMAIN "docker.io"
/* How much of a key an error message quotes. */
#define KEY_QUOTE_MAX 200

struct eng_dockercfg {
    char *path;
    json_t *root; /* the whole document, an object */
};

static const char *const hub_names[] = {
    HUB_DOMAIN,
    "index.docker.io",
    "registry-1.docker.io",
};

char *
eng_dockercfg_default_path(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        return bt_path_join(dir, "config.json");
    const char *home = getenv("HOME");
    if (!home || !*home) {
        const struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return NULL;
    return bt_path_join(home, ".docker/config.json");
}

char *
eng_dockercfg_host(const char *s)
{
    const char *rest = bt_startswith(s, "https://");
    if (!rest)
        rest = bt_startswith(s, "http://");
    if (!rest)
        rest = s;
    char *h = bt_xstrndup(rest, strcspn(rest, "/"));
    for (size_t i = 0; i < BT_ARRAY_SIZE(hub_names); i++) {
        if (strcmp(h, hub_names[i]) == 0) {
            free(h);
            return bt_xstrdup(HUB_DOMAIN);
        }
    }
    return h;
}

/* The key berth writes for host (already folded by host_of). */
static const char *
key_for(const char *host)
{
    return strcmp(host, HUB_DOMAIN) == 0 ? ENG_DOCKERCFG_HUB_KEY : host;
}

static int
member_type_check(const struct eng_dockercfg *c, const char *key, json_type want, const char *what,
                  struct bt_err **err)
{
    json_t *v = json_object_get(c->root, key);
    if (!v || json_typeof(v) == want)
        return 0;
    return bt_err_set(err, BT_EINVALID, "'%s': field '%s' is not %s", c->path, key, what);
}

int
eng_dockercfg_load(const char *path, struct eng_dockercfg **ret, struct bt_err **err)
{
    bt_autofree char *data = NULL;
    size_t len = 0;
    struct bt_err *read_err = NULL;
    int r = bt_file_read_at(AT_FDCWD, path, ENG_DOCKERCFG_MAX, &data, &len, &read_err);
    if (r == -ENOENT) {
        bt_err_free(read_err);
    } else if (r < 0) {
        if (err)
            *err = read_err;
        else
            bt_err_free(read_err);
        return r;
    }
    struct eng_dockercfg *c = bt_xcalloc(1, sizeof *c);
    c->path = bt_xstrdup(path);
    if (!data) {
        c->root = json_object();
    } else {
        json_error_t jerr;
        c->root = json_loadb(data, len, 0, &jerr);
        if (!c->root)
            r = bt_err_set(err, BT_EPARSE, "'%s' is not valid JSON: %s (line %d, column %d)", path,
                           jerr.text, jerr.line, jerr.column);
        else if (!json_is_object(c->root))
            r = bt_err_set(err, BT_EPARSE, "'%s' is not a JSON object", path);
        if (r < 0) {
            eng_dockercfg_free(c);
            return r;
        }
    }
    if (member_type_check(c, "auths", JSON_OBJECT, "an object", err) < 0 ||
        member_type_check(c, "credHelpers", JSON_OBJECT, "an object", err) < 0 ||
        member_type_check(c, "credsStore", JSON_STRING, "a string", err) < 0) {
        eng_dockercfg_free(c);
        return -BT_EINVALID;
    }
    *ret = c;
    return 0;
}

struct eng_dockercfg *
eng_dockercfg_free(struct eng_dockercfg *c)
{
    if (!c)
        return NULL;
    json_decref(c->root);
    free(c->path);
    free(c);
    return NULL;
}

void
eng_dockercfg_auth_release(struct eng_dockercfg_auth *a)
{
    if (!a)
        return;
    free(a->key);
    free(a->username);
    /* Passwords and tokens do not linger in freed memory. */
    if (a->password)
        explicit_bzero(a->password, strlen(a->password));
    free(a->password);
    if (a->identity_token)
        explicit_bzero(a->identity_token, strlen(a->identity_token));
    free(a->identity_token);
    *a = (struct eng_dockercfg_auth){ 0 };
}

const char *
eng_dockercfg_key(const char *host)
{
    return key_for(host);
}

const char *
eng_dockercfg_helper(const struct eng_dockercfg *c, const char *host)
{
    /* As the Docker CLI: a helper for this very registry, else the default store. */
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(c->root, "credHelpers"), key, v) {
        bt_autofree char *h = eng_dockercfg_host(key);
        if (strcmp(h, host) == 0 && json_string_length(v) > 0)
            return json_string_value(v);
    }
    const char *store = json_string_value(json_object_get(c->root, "credsStore"));
    return store && *store ? store : NULL;
}

/* The auths key for host: the exact one, else the smallest key naming the same host (so the
 * choice does not depend on the file's order). Borrowed from c or host. */
static const char *
auths_key_find(const struct eng_dockercfg *c, const char *host)
{
    json_t *auths = json_object_get(c->root, "auths");
    if (json_object_get(auths, key_for(host)))
        return key_for(host);
    const char *best = NULL, *key;
    json_t *v;
    json_object_foreach(auths, key, v) {
        bt_autofree char *h = eng_dockercfg_host(key);
        if (strcmp(h, host) == 0 && (!best || strcmp(key, best) < 0))
            best = key;
    }
    return best;
}

static int
entry_error(const struct eng_dockercfg *c, const char *key, const char *what, struct bt_err **err)
{
    bt_autofree char *q = bt_xstrndup(key, KEY_QUOTE_MAX);
    return bt_err_set(err, BT_EINVALID, "'%s': auths entry '%s': %s", c->path, q, what);
}

static int
entry_parse(const struct eng_dockercfg *c, const char *key, json_t *e, struct eng_dockercfg_auth *a,
            struct bt_err **err)
{
    if (!json_is_object(e))
        return entry_error(c, key, "not an object", err);
    json_t *auth = json_object_get(e, "auth");
    if (auth && !json_is_string(auth))
        return entry_error(c, key, "field 'auth' is not a string", err);
    if (json_string_length(auth) > 0) {
        bt_autofree char *plain = NULL;
        size_t len = 0;
        const char *s = json_string_value(auth);
        if (bt_base64_decode(s, strlen(s), &plain, &len) < 0)
            return entry_error(c, key, "field 'auth' is not base64", err);
        char *colon = memchr(plain, ':', len);
        if (!colon || strlen(plain) != len) {
            explicit_bzero(plain, len);
            return entry_error(c, key, "field 'auth' is not base64 of user:password", err);
        }
        a->username = bt_xstrndup(plain, (size_t) (colon - plain));
        a->password = bt_xstrdup(colon + 1);
        explicit_bzero(plain, len);
    } else {
        const char *user = json_string_value(json_object_get(e, "username"));
        const char *pass = json_string_value(json_object_get(e, "password"));
        if (user && *user && pass) {
            a->username = bt_xstrdup(user);
            a->password = bt_xstrdup(pass);
        }
    }
    const char *token = json_string_value(json_object_get(e, "identitytoken"));
    if (token && *token)
        a->identity_token = bt_xstrdup(token);
    a->found = a->password || a->identity_token;
    return 0;
}

int
eng_dockercfg_lookup(const struct eng_dockercfg *c, const char *host,
                     struct eng_dockercfg_auth *ret, struct bt_err **err)
{
    bt_autofree char *h = eng_dockercfg_host(host);
    struct eng_dockercfg_auth a = { .uses_helper = eng_dockercfg_helper(c, h) != NULL };
    const char *key = auths_key_find(c, h);
    if (key) {
        int r =
            entry_parse(c, key, json_object_get(json_object_get(c->root, "auths"), key), &a, err);
        if (r < 0) {
            eng_dockercfg_auth_release(&a);
            return r;
        }
        a.key = bt_xstrdup(key);
    }
    *ret = a;
    return 0;
}

void
eng_dockercfg_set(struct eng_dockercfg *c, const char *host, const char *username,
                  const char *password)
{
    bt_autofree char *h = eng_dockercfg_host(host);
    json_t *auths = json_object_get(c->root, "auths");
    if (!auths) {
        auths = json_object();
        (void) json_object_set_new(c->root, "auths", auths);
    }
    bt_autofree char *plain = bt_xasprintf("%s:%s", username, password);
    bt_autofree char *b64 = bt_base64_encode(plain, strlen(plain));
    explicit_bzero(plain, strlen(plain));
    (void) json_object_set_new(auths, key_for(h), json_pack("{s:s}", "auth", b64));
    explicit_bzero(b64, strlen(b64));
}

bool
eng_dockercfg_remove(struct eng_dockercfg *c, const char *host)
{
    bt_autofree char *h = eng_dockercfg_host(host);
    json_t *auths = json_object_get(c->root, "auths");
    bool removed = false;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(auths, tmp, key, v) {
        bt_autofree char *kh = eng_dockercfg_host(key);
        if (strcmp(kh, h) == 0) {
            (void) json_object_del(auths, key);
            removed = true;
        }
    }
    return removed;
}

int
eng_dockercfg_save(const struct eng_dockercfg *c, struct bt_err **err)
{
    bt_autofree char *dir_copy = bt_xstrdup(c->path);
    bt_autofree char *name_copy = bt_xstrdup(c->path);
    const char *dir = dirname(dir_copy);
    const char *name = basename(name_copy);
    int r = bt_mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    bt_autoclose int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", dir);
    bt_autofree char *text = json_dumps(c->root, JSON_INDENT(4));
    if (!text)
        return bt_err_set(err, ENOMEM, "cannot serialise '%s'", c->path);
    bt_autofree char *doc = bt_xasprintf("%s\n", text);
    r = bt_file_write_atomic_at(dfd, name, doc, strlen(doc), 0600, err);
    explicit_bzero(text, strlen(text));
    explicit_bzero(doc, strlen(doc));
    if (r < 0)
        return bt_err_wrap(err, "cannot save credentials");
    return 0;
}
