/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references: Docker's grammar (registry host, lowercase path components, tag, digest)
 * and its normalisation, written as small hand parsers rather than one regular expression so
 * every refusal can say which part is wrong. Pure string work; nothing here does I/O.
 */
#include <ctype.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/ref.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define DEFAULT_REGISTRY "registry-1.docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
/* Longer input cannot be valid (name, ':', tag, '@', a digest): refuse it before any work. */
#define REF_MAX_LEN 1024
/* How much of a bad reference an error message quotes. */
#define QUOTE_MAX 300

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_word(char c)
{
    return isalnum((unsigned char) c) || c == '_';
}

static bool
is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
all_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

static bool
has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

/* One path component: alphanumeric runs joined by one separator: '.', '_', "__" or any
 * number of '-'. */
static bool
path_component_is_valid(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i < n;) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !is_lower_alnum(s[j]))
            j++;
        size_t run = j - i;
        bool dashes = true;
        for (size_t k = i; k < j; k++)
            dashes = dashes && s[k] == '-';
        bool ok = dashes || (run == 1 && (s[i] == '.' || s[i] == '_')) ||
                  (run == 2 && s[i] == '_' && s[i + 1] == '_');
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

static bool
path_is_valid(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!path_component_is_valid(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* A DNS-like label: alphanumerics, '-' inside only. Upper case is allowed in hosts. */
static bool
domain_label_is_valid(const char *s, size_t n)
{
    if (n == 0 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '-')
            return false;
    return true;
}

/* host[:port], host being labels joined by '.' or "[ipv6]". */
static bool
domain_is_valid(const char *s, size_t n)
{
    size_t host_end;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close == s + 1)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char) *p) && *p != ':')
                return false;
        host_end = (size_t) (close - s) + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        host_end = colon ? (size_t) (colon - s) : n;
        size_t start = 0;
        for (size_t i = 0; i <= host_end; i++) {
            if (i == host_end || s[i] == '.') {
                if (!domain_label_is_valid(s + start, i - start))
                    return false;
                start = i + 1;
            }
        }
    }
    if (host_end == n)
        return true;
    if (s[host_end] != ':' || host_end + 1 == n)
        return false;
    for (size_t i = host_end + 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool
tag_is_valid(const char *s, size_t n)
{
    if (n == 0 || n > TAG_MAX_LEN || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* The algorithm part of a digest: lowercase alphanumeric runs joined by one of "+._-". */
static bool
digest_algorithm_is_valid(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_lower_alnum(s[i]) && (strchr("+._-", s[i]) == NULL || !is_lower_alnum(s[i - 1])))
            return false;
    return true;
}

bool
eng_img_digest_is_valid(const char *s)
{
    const char *hex = s ? bt_startswith(s, "sha256:") : NULL;
    return hex && strlen(hex) == 64 && all_lower_hex(hex, 64);
}

int
eng_img_digest_check(const char *s, struct bt_err **err)
{
    if (eng_img_digest_is_valid(s))
        return 0;
    bt_autofree char *q = bt_log_escape(s, strlen(s), QUOTE_MAX);
    const char *colon = strchr(s, ':');
    if (!colon || !digest_algorithm_is_valid(s, (size_t) (colon - s)) || !colon[1])
        return bt_err_set(err, BT_EINVALID, "invalid digest '%s': not algorithm:hex", q);
    size_t alen = (size_t) (colon - s);
    if (alen != 6 || memcmp(s, "sha256", 6) != 0)
        return bt_err_set(err, BT_EUNSUPPORTED,
                          "unsupported digest algorithm in '%s': berth supports sha256 only", q);
    return bt_err_set(err, BT_EINVALID, "invalid digest '%s': sha256 needs 64 lowercase hex digits",
                      q);
}

void
eng_img_ref_release(struct eng_img_ref *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    *r = (struct eng_img_ref){ 0 };
}

/* Whether the first component of a name (n bytes, a '/' follows) names a registry: it has a
 * '.' or a ':', is "localhost", or has upper case (a repository never has). */
static bool
first_is_domain(const char *s, size_t n)
{
    return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && memcmp(s, "localhost", 9) == 0) ||
           has_upper(s, n);
}

/* Split name at its first '/' as Docker does: a registry when first_is_domain(), else the
 * name is on Docker Hub. */
static void
split_domain(const char *name, size_t n, char **ret_domain, char **ret_path)
{
    const char *slash = memchr(name, '/', n);
    size_t first = slash ? (size_t) (slash - name) : 0;
    bool is_domain =
        slash && (memchr(name, '.', first) || memchr(name, ':', first) ||
                  (first == 9 && memcmp(name, "localhost", 9) == 0) || has_upper(name, first));
    char *domain, *path;
    if (is_domain) {
        domain = bt_xstrndup(name, first);
        path = bt_xstrndup(slash + 1, n - first - 1);
    } else {
        domain = bt_xstrdup(DEFAULT_DOMAIN);
        path = bt_xstrndup(name, n);
    }
    if (strcmp(domain, LEGACY_DOMAIN) == 0) {
        free(domain);
        domain = bt_xstrdup(DEFAULT_DOMAIN);
    }
    if (strcmp(domain, DEFAULT_DOMAIN) == 0 && !strchr(path, '/')) {
        char *p = bt_xasprintf(OFFICIAL_PREFIX "%s", path);
        free(path);
        path = p;
    }
    *ret_domain = domain;
    *ret_path = path;
}

static int
ref_error(struct bt_err **err, int code, const char *s, size_t n, const char *why)
{
    bt_autofree char *q = bt_log_escape(s, n, QUOTE_MAX);
    return bt_err_set(err, code, "invalid reference format '%s': %s", q, why);
}

/* s split into name, tag and digest (pointers into s, lengths; absent parts NULL). */
struct ref_parts {
    const char *name, *tag, *digest;
    size_t name_len, tag_len;
};

static void
split_parts(const char *s, size_t n, struct ref_parts *p)
{
    /* Neither names nor tags hold '@': the first one starts the digest. */
    const char *at = memchr(s, '@', n);
    size_t rest = at ? (size_t) (at - s) : n;
    p->digest = at ? at + 1 : NULL;
    /* A ':' after the last '/' starts the tag; before it, it is a registry port. */
    const char *slash = NULL, *colon = NULL;
    for (size_t i = 0; i < rest; i++) {
        if (s[i] == '/')
            slash = s + i;
        else if (s[i] == ':')
            colon = s + i;
    }
    if (colon && (!slash || colon > slash)) {
        p->name_len = (size_t) (colon - s);
        p->tag = colon + 1;
        p->tag_len = rest - p->name_len - 1;
    } else {
        p->name_len = rest;
        p->tag = NULL;
        p->tag_len = 0;
    }
    p->name = s;
}

int
eng_img_ref_parse(const char *s, struct eng_img_ref *ret, struct bt_err **err)
{
    size_t n = strnlen(s, REF_MAX_LEN + 1);
    if (n == 0)
        return bt_err_set(err, BT_EINVALID, "invalid reference format: empty image name");
    if (n > REF_MAX_LEN)
        return ref_error(err, BT_EINVALID, s, n, "too long");
    if (n == 64 && all_lower_hex(s, 64))
        return ref_error(err, BT_EINVALID, s, n,
                         "a 64-character hexadecimal string is an image id, not a repository name");
    struct ref_parts p;
    split_parts(s, n, &p);
    if (p.name_len == 0)
        return ref_error(err, BT_EINVALID, s, n,
                         "repository name must have at least one component");

    struct eng_img_ref r = { 0 };
    split_domain(p.name, p.name_len, &r.domain, &r.path);
    int rc = 0;
    if (has_upper(r.path, strlen(r.path))) {
        rc = ref_error(err, BT_EINVALID, s, n, "repository name must be lowercase");
        goto fail;
    }
    if (!domain_is_valid(r.domain, strlen(r.domain))) {
        rc = ref_error(err, BT_EINVALID, s, n, "invalid registry host");
        goto fail;
    }
    if (!path_is_valid(r.path, strlen(r.path))) {
        rc = ref_error(err, BT_EINVALID, s, n,
                       "repository path components are lowercase letters and digits joined by "
                       "'.', '_', '__' or dashes");
        goto fail;
    }
    if (strlen(r.domain) + 1 + strlen(r.path) > NAME_MAX_LEN) {
        rc = ref_error(err, BT_EINVALID, s, n,
                       "repository name must not be more than 255 characters");
        goto fail;
    }
    if (p.tag && !tag_is_valid(p.tag, p.tag_len)) {
        rc = ref_error(err, BT_EINVALID, s, n,
                       "a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' "
                       "or '-'");
        goto fail;
    }
    if (p.digest) {
        rc = eng_img_digest_check(p.digest, err);
        if (rc < 0) {
            bt_autofree char *q = bt_log_escape(s, n, QUOTE_MAX);
            rc = bt_err_wrap(err, "invalid reference format '%s'", q);
            goto fail;
        }
        r.digest = bt_xstrdup(p.digest);
    }
    if (p.tag)
        r.tag = bt_xstrndup(p.tag, p.tag_len);
    else if (!p.digest)
        r.tag = bt_xstrdup("latest");
    *ret = r;
    return 0;
fail:
    eng_img_ref_release(&r);
    return rc;
}

char *
eng_img_ref_repo(const struct eng_img_ref *r)
{
    return bt_xasprintf("%s/%s", r->domain, r->path);
}

static char *
with_tag_digest(const char *name, const struct eng_img_ref *r)
{
    return bt_xasprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "",
                        r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *
eng_img_ref_str(const struct eng_img_ref *r)
{
    bt_autofree char *repo = eng_img_ref_repo(r);
    return with_tag_digest(repo, r);
}

char *
eng_img_ref_familiar(const struct eng_img_ref *r)
{
    /* Docker Hub: no domain, and no "library/" for official images (one component after).
     * Unlike Docker, keep the domain when the path's first component would read as a registry
     * host ("docker.io/a.b/c"): the short form must name the same repository. */
    size_t first = strcspn(r->path, "/");
    if (strcmp(r->domain, DEFAULT_DOMAIN) != 0 ||
        (r->path[first] == '/' && first_is_domain(r->path, first))) {
        bt_autofree char *repo = eng_img_ref_repo(r);
        return with_tag_digest(repo, r);
    }
    const char *rest = bt_startswith(r->path, OFFICIAL_PREFIX);
    const char *name = rest && !strchr(rest, '/') ? rest : r->path;
    return with_tag_digest(name, r);
}

const char *
eng_img_ref_registry_host(const struct eng_img_ref *r)
{
    return strcmp(r->domain, DEFAULT_DOMAIN) == 0 ? DEFAULT_REGISTRY : r->domain;
}
