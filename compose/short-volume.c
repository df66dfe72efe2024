/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The volumes short syntax, [source:]target[:options], split as compose-go's format.ParseVolume
 * splits it: at colons outside "${...}", into at most three sections. Unlike compose-go, options
 * it does not know and Windows paths are errors here, and the target must be absolute.
 */
#include <string.h>

#include "compose/short.h"

#define Q "'%.*s%s'"
#define QA(s) COMPOSE_SHORT_QUOTE_ARGS(s)

#define VOLUME_FORMAT "[source:]target[:options]"

enum opt_field { OPT_RO, OPT_RW, OPT_NOCOPY, OPT_PROPAGATION, OPT_SELINUX, OPT_CONSISTENCY };

static const struct {
    const char *name;
    enum opt_field field;
} volume_options[] = {
    { "ro", OPT_RO },
    { "rw", OPT_RW },
    { "nocopy", OPT_NOCOPY },
    { "rprivate", OPT_PROPAGATION },
    { "private", OPT_PROPAGATION },
    { "rshared", OPT_PROPAGATION },
    { "shared", OPT_PROPAGATION },
    { "rslave", OPT_PROPAGATION },
    { "slave", OPT_PROPAGATION },
    { "z", OPT_SELINUX },
    { "Z", OPT_SELINUX },
    { "cached", OPT_CONSISTENCY },
    { "delegated", OPT_CONSISTENCY },
    { "consistent", OPT_CONSISTENCY },
};

#define OPTIONS_ALLOWED                                                                            \
    "ro, rw, nocopy, z, Z, rprivate, private, rshared, shared, rslave, slave, cached, "            \
    "delegated, consistent"

struct section {
    const char *s;
    size_t n;
};

static bool
is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "C:..." (a drive) or "\\..." (a named pipe): compose-go keeps them for Windows engines. */
static bool
is_windows_path(const struct section *x)
{
    return x->n >= 2 &&
           ((is_letter(x->s[0]) && x->s[1] == ':') || (x->s[0] == '\\' && x->s[1] == '\\'));
}

/* Up to three sections; returns how many, 0 with *why set on error. */
static size_t
split_sections(const char *s, struct section sec[3], const char **why)
{
    size_t n = 0, start = 0, len = strlen(s);
    unsigned depth = 0;
    for (size_t i = 0; i <= len; i++) {
        if (s[i] == '$' && s[i + 1] == '{') {
            depth++;
            i++;
            continue;
        }
        if (s[i] == '}' && depth > 0) {
            depth--;
            continue;
        }
        /* A one-letter section before a colon is a drive letter and the colon stays in it. */
        if (s[i] == ':' && i - start == 1 && is_letter(s[start]))
            continue;
        if ((s[i] != ':' && s[i] != '\0') || depth > 0)
            continue;
        if (i == start)
            return *why = "empty section between colons", 0;
        if (n == 3)
            return *why = "too many colons", 0;
        sec[n].s = s + start;
        sec[n].n = i - start;
        n++;
        start = i + 1;
    }
    if (depth > 0)
        return *why = "unterminated '${'", 0;
    return n;
}

static int
apply_options(struct bt_arena *a, const char *spec, const struct section *opts,
              struct compose_volume *v, struct bt_err **err)
{
    for (const char *p = opts->s, *end = opts->s + opts->n; p <= end;) {
        const char *comma = memchr(p, ',', (size_t) (end - p));
        size_t len = comma ? (size_t) (comma - p) : (size_t) (end - p);
        size_t i = 0;
        while (i < BT_ARRAY_SIZE(volume_options) &&
               (strlen(volume_options[i].name) != len || memcmp(volume_options[i].name, p, len)))
            i++;
        if (i == BT_ARRAY_SIZE(volume_options))
            return bt_err_set(err, BT_EINVALID, "invalid volume " Q ": unknown option '%s' (%s)",
                              QA(spec), bt_arena_strndup(a, p, len), OPTIONS_ALLOWED);
        const char *name = volume_options[i].name;
        switch (volume_options[i].field) {
        case OPT_RO:
            v->read_only = true;
            break;
        case OPT_RW:
            v->read_only = false;
            break;
        case OPT_NOCOPY:
            v->nocopy = true;
            break;
        case OPT_PROPAGATION:
            v->propagation = name;
            break;
        case OPT_SELINUX:
            v->selinux = name;
            break;
        case OPT_CONSISTENCY:
            v->consistency = name;
            break;
        }
        p += len + 1;
    }
    return 0;
}

int
compose_volume_parse(struct bt_arena *a, const char *s, struct compose_volume *ret,
                     struct bt_err **err)
{
    int r = compose_short_check("volume", s, err);
    if (r < 0)
        return r;
    struct section sec[3];
    const char *why = "empty volume";
    size_t n = 0;
    if (strlen(s) > 2) {
        n = split_sections(s, sec, &why);
    } else if (s[0]) {
        /* As compose-go: one or two characters are the target of an anonymous volume. */
        sec[0] = (struct section){ s, strlen(s) };
        n = 1;
    }
    if (n == 0)
        return bt_err_set(err, BT_EINVALID, "invalid volume " Q ": %s; expected %s", QA(s), why,
                          VOLUME_FORMAT);
    for (size_t i = 0; i < n && i < 2; i++)
        if (is_windows_path(&sec[i]))
            return bt_err_set(err, BT_EINVALID,
                              "invalid volume " Q ": '%.*s' is a Windows path, which berth does "
                              "not support",
                              QA(s), (int) sec[i].n, sec[i].s);

    struct compose_volume v = { 0 };
    const struct section *target = n == 1 ? &sec[0] : &sec[1];
    v.source = n == 1 ? "" : bt_arena_strndup(a, sec[0].s, sec[0].n);
    v.target = bt_arena_strndup(a, target->s, target->n);
    if (v.target[0] != '/')
        return bt_err_set(err, BT_EINVALID,
                          "invalid volume " Q ": target '%s' is not an absolute path", QA(s),
                          v.target);
    if (n == 3 && (r = apply_options(a, s, &sec[2], &v, err)) < 0)
        return r;
    bool bind = v.source[0] == '/' || v.source[0] == '.' || v.source[0] == '~';
    v.type = bind ? "bind" : "volume";
    v.create_host_path = bind;
    *ret = v;
    return 0;
}
