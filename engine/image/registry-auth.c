/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Auth and the other rules of the registry client. First the pure parts, tested alone by
 * test-engine-registry-auth.c: WWW-Authenticate challenges, token scopes and token answers, the
 * registry's JSON error bodies, the retry schedule and Retry-After, and the URL each registry
 * host is given (plain HTTP only for loopback and insecure hosts). Then the auth dance of a
 * request: answer a 401's challenge once, with basic credentials or a bearer token fetched from
 * the realm, and say clearly why access was refused. Sending is registry.c's.
 */
#define LOG_TAG "registry"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <strings.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/parse.h"
#include "engine/image/registry-int.h"

/* ---- WWW-Authenticate ---- */

static bool
is_tchar(char c)
{
    return isalnum((unsigned char) c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *
skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A quoted string starting at p (on the opening quote): the unescaped value, *end after the
 * closing quote. NULL when it never closes. */
static char *
parse_quoted(const char *p, const char **end)
{
    struct bt_buf b;
    bt_buf_init(&b, SIZE_MAX);
    (void) bt_buf_append(&b, "", 0);
    for (p++; *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (!*p) {
            bt_buf_release(&b);
            return NULL;
        }
        (void) bt_buf_append(&b, p, 1);
    }
    *end = p + 1;
    return bt_buf_steal(&b);
}

char **
reg_field_find(void *obj, const struct reg_field *fields, size_t n, const char *name,
               size_t namelen)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(fields[i].name) == namelen && strncasecmp(fields[i].name, name, namelen) == 0)
            return (char **) ((char *) obj + fields[i].off);
    return NULL;
}

static void
challenge_set(struct reg_challenge *c, const char *name, size_t namelen, char *value)
{
    static const struct reg_field params[] = {
        { "realm", offsetof(struct reg_challenge, realm) },
        { "service", offsetof(struct reg_challenge, service) },
        { "scope", offsetof(struct reg_challenge, scope) },
        { "error", offsetof(struct reg_challenge, error) },
    };
    char **slot = reg_field_find(c, params, BT_ARRAY_SIZE(params), name, namelen);
    if (slot && !*slot) { /* the first of a repeated parameter wins */
        *slot = value;
        return;
    }
    free(value);
}

int
reg_challenges_parse(const char *value, struct reg_challenge **ret, size_t *ret_n)
{
    struct reg_challenge *c = NULL;
    size_t n = 0, cap = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (is_tchar(*p))
            p++;
        size_t toklen = (size_t) (p - tok);
        if (toklen == 0)
            goto fail;
        const char *q = skip_ows(p);
        if (*q != '=' || toklen == 0) {
            /* A new challenge: its scheme, then parameters or a token68 we do not use. */
            c = bt_xgrow(c, &cap, n + 1, sizeof *c);
            c[n++] = (struct reg_challenge){ .scheme = bt_xstrndup(tok, toklen) };
            continue;
        }
        if (n == 0)
            goto fail; /* a parameter before any scheme */
        q = skip_ows(q + 1);
        char *v;
        if (*q == '"') {
            v = parse_quoted(q, &p);
            if (!v)
                goto fail;
        } else {
            /* Unquoted: a token, or the '='-padding of a token68 ("Basic YWxh==="). Be lenient
             * with realms sent without quotes: take everything up to a comma or space. */
            const char *start = q;
            while (*q && *q != ',' && *q != ' ' && *q != '\t')
                q++;
            v = bt_xstrndup(start, (size_t) (q - start));
            p = q;
        }
        challenge_set(&c[n - 1], tok, toklen, v);
    }
    *ret = c;
    *ret_n = n;
    return 0;
fail:
    reg_challenges_free(c, n);
    return -EINVAL;
}

void
reg_challenges_free(struct reg_challenge *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].scheme);
        free(c[i].realm);
        free(c[i].service);
        free(c[i].scope);
        free(c[i].error);
    }
    free(c);
}

const struct reg_challenge *
reg_challenge_find(const struct reg_challenge *c, size_t n, const char *scheme)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(c[i].scheme, scheme) == 0)
            return &c[i];
    return NULL;
}

/* ---- tokens and error bodies ---- */

char *
reg_scope(const char *path, bool push)
{
    return bt_xasprintf("repository:%s:%s", path, push ? "pull,push" : "pull");
}

int
reg_token_parse(const char *body, size_t len, char **ret_token, unsigned *ret_ttl,
                struct bt_err **err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_err_set(err, BT_EPARSE, "token answer is not JSON: %s", jerr.text);
    const char *token = json_string_value(json_object_get(root, "token"));
    if (!token || !*token)
        token = json_string_value(json_object_get(root, "access_token"));
    if (!token || !*token) {
        json_decref(root);
        return bt_err_set(err, BT_EPARSE, "token answer has no token");
    }
    json_t *exp = json_object_get(root, "expires_in");
    json_int_t ttl = json_is_integer(exp) ? json_integer_value(exp) : 0;
    if (json_is_real(exp))
        ttl = (json_int_t) json_real_value(exp);
    *ret_ttl = ttl > 0 && ttl < 86400 * 365 ? (unsigned) ttl : REG_TOKEN_TTL_DEFAULT;
    *ret_token = bt_xstrdup(token);
    json_decref(root);
    return 0;
}

char *
reg_error_body_message(const char *body, size_t len)
{
    if (!body || len == 0)
        return NULL;
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *errors = json_object_get(root, "errors");
    struct bt_buf b;
    bt_buf_init(&b, REG_SMALL_BODY_MAX);
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!code && !msg)
            continue;
        (void) bt_buf_printf(&b, "%s%s", b.len ? "; " : "", msg ? msg : code);
        if (code && msg)
            (void) bt_buf_printf(&b, " (%s)", code);
    }
    json_decref(root);
    return b.len ? bt_buf_steal(&b) : (bt_buf_release(&b), NULL);
}

/* ---- retries ---- */

unsigned
reg_backoff_ms(unsigned attempt)
{
    if (attempt == 0)
        return 0;
    unsigned shift = attempt - 1 < 3 ? attempt - 1 : 3;
    return 500u << shift;
}

unsigned
reg_retry_after_ms(const char *value, time_t now)
{
    if (!value)
        return 0;
    uint64_t secs;
    if (bt_parse_u64(value, &secs) == 0)
        return secs >= REG_RETRY_AFTER_CAP_MS / 1000 ? REG_RETRY_AFTER_CAP_MS
                                                     : (unsigned) secs * 1000;
    struct tm tm = { 0 };
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return 0;
    time_t when = timegm(&tm);
    if (when <= now)
        return 0;
    return when - now >= REG_RETRY_AFTER_CAP_MS / 1000 ? REG_RETRY_AFTER_CAP_MS
                                                       : (unsigned) (when - now) * 1000;
}

/* ---- hosts, paths, references ---- */

/* Split "name[:port]", "[v6][:port]" or a bare v6 literal: the name (brackets removed) into
 * name, and whether a port was given. False when the shape is wrong. */
static bool
host_split(const char *host, char *name, size_t namesz, bool *ret_port)
{
    const char *port = NULL;
    size_t len;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return false;
        if (close[1] && close[1] != ':')
            return false;
        port = close[1] ? close + 2 : NULL;
        host++;
        len = (size_t) (close - host);
    } else if (strchr(host, ':') && strchr(host, ':') != strrchr(host, ':')) {
        len = strlen(host); /* a bare IPv6 literal: no port possible */
    } else {
        const char *colon = strchr(host, ':');
        port = colon ? colon + 1 : NULL;
        len = colon ? (size_t) (colon - host) : strlen(host);
    }
    if (len == 0 || len >= namesz)
        return false;
    memcpy(name, host, len);
    name[len] = '\0';
    if (port) {
        uint32_t v;
        if (bt_parse_u32(port, &v) < 0 || v == 0 || v > 65535)
            return false;
    }
    *ret_port = port != NULL;
    return true;
}

bool
reg_host_is_valid(const char *host)
{
    char name[256];
    bool port;
    if (!host || !host_split(host, name, sizeof name, &port))
        return false;
    struct in6_addr a6;
    if (strchr(name, ':'))
        return inet_pton(AF_INET6, name, &a6) == 1;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '.' && *p != '-')
            return false;
    return true;
}

bool
reg_host_is_loopback(const char *host)
{
    char name[256];
    bool port;
    struct in_addr a4;
    struct in6_addr a6;
    if (!host_split(host, name, sizeof name, &port))
        return false;
    if (strcasecmp(name, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool
reg_host_use_tls(const char *host, const char *const *insecure, size_t ninsecure,
                 bool has_certs_dir)
{
    if (has_certs_dir)
        return true;
    if (reg_host_is_loopback(host))
        return false;
    char name[256], ename[256];
    bool port, eport;
    if (!host_split(host, name, sizeof name, &port))
        return true;
    for (size_t i = 0; i < ninsecure; i++) {
        if (strcasecmp(insecure[i], host) == 0)
            return false;
        if (host_split(insecure[i], ename, sizeof ename, &eport) && !eport &&
            strcasecmp(ename, name) == 0)
            return false;
    }
    return true;
}

char *
reg_base_url(const char *host, bool tls)
{
    const char *scheme = tls ? "https" : "http";
    if (host[0] != '[' && strchr(host, ':') != strrchr(host, ':'))
        return bt_xasprintf("%s://[%s]", scheme, host);
    return bt_xasprintf("%s://%s", scheme, host);
}

bool
reg_path_is_valid(const char *path)
{
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len > 255)
        return false;
    char prev = '/';
    for (const char *p = path; *p; prev = *p++) {
        bool alnum = islower((unsigned char) *p) || isdigit((unsigned char) *p);
        if (!alnum && !strchr("._-/", *p))
            return false;
        /* a component starts and ends with [a-z0-9] */
        if (!alnum && !(islower((unsigned char) prev) || isdigit((unsigned char) prev)) &&
            !(*p == '_' && prev == '_') && !(*p == '-' && prev == '-'))
            return false;
    }
    return islower((unsigned char) prev) || isdigit((unsigned char) prev);
}

bool
reg_reference_is_valid(const char *ref)
{
    size_t len = ref ? strlen(ref) : 0;
    const char *colon = ref ? strchr(ref, ':') : NULL;
    if (len == 0)
        return false;
    if (colon) {
        if (colon == ref || strlen(colon + 1) < 32)
            return false;
        for (const char *p = ref; p < colon; p++)
            if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p) && !strchr("+._-", *p))
                return false;
        for (const char *p = colon + 1; *p; p++)
            if (!isxdigit((unsigned char) *p) || isupper((unsigned char) *p))
                return false;
        return true;
    }
    if (len > 128 || ref[0] == '.' || ref[0] == '-')
        return false;
    for (const char *p = ref; *p; p++)
        if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
            return false;
    return true;
}

/* ---- the auth dance of a request ---- */

/* Denied after answering the challenge (or with nothing to answer it with). */
void
reg_req_fail_unauthorized(struct eng_reg_req *req)
{
    struct eng_reg_repo *repo = req->repo;
    bt_autofree char *name = reg_repo_name(repo);
    struct bt_err *err = NULL;
    bool push = req->kind == REQ_BLOB_PUT || req->kind == REQ_MANIFEST_PUT;
    if (reg_repo_has_credentials(repo) && !req->token_granted)
        (void) bt_err_set(&err, EACCES, "unauthorized: incorrect username or password for %s",
                          repo->host);
    else if (req->kind == REQ_CHECK)
        (void) bt_err_set(&err, EACCES, "authentication required for %s", repo->host);
    else
        (void) bt_err_set(&err, EACCES, "%s access denied for '%s': not found or login needed",
                          push ? "push" : "pull", name);
    reg_req_finish_later(req, -EACCES, err);
}

static void
form_add(struct bt_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    (void) bt_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
    for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            (void) bt_buf_append(b, p, 1);
        else
            (void) bt_buf_printf(b, "%%%02X", *p);
    }
}

static void
token_fetch(struct eng_reg_req *req, const struct reg_challenge *ch)
{
    struct eng_reg_repo *repo = req->repo;
    struct bt_err *err = NULL;
    if (!bt_startswith(ch->realm, "https://") && !bt_startswith(ch->realm, "http://")) {
        (void) bt_err_set(&err, BT_EPROTO, "registry %s sent an unusable token realm", repo->host);
        reg_req_finish_later(req, -err->code, err);
        return;
    }
    bt_autofree char *scope = repo->path ? reg_scope(repo->path, repo->push) : NULL;
    const char *sc = scope ? scope : ch->scope;
    reg_xfer_release(&req->x);
    if (repo->identity_token) {
        /* OAuth2 refresh: the identity token from `docker login` stands in for a password. */
        struct bt_buf form;
        bt_buf_init(&form, REG_SMALL_BODY_MAX);
        form_add(&form, "grant_type", "refresh_token");
        form_add(&form, "refresh_token", repo->identity_token);
        form_add(&form, "service", ch->service);
        form_add(&form, "scope", sc);
        form_add(&form, "client_id", "berth");
        reg_free_secret(req->form);
        req->form = bt_buf_steal(&form);
        reg_xfer_init(&req->x, req->reg, req, "POST", bt_xstrdup(ch->realm));
        req->x.send_mem = req->form;
        req->x.send_len = strlen(req->form);
        reg_xfer_header(&req->x, "Content-Type: application/x-www-form-urlencoded");
    } else {
        char *url = bt_xstrdup(ch->realm);
        for (size_t i = 0; i < 2; i++) {
            const char *v = i == 0 ? ch->service : sc;
            char *next = v ? reg_url_add_query(url, i == 0 ? "service" : "scope", v) : NULL;
            if (next) {
                free(url);
                url = next;
            }
        }
        reg_xfer_init(&req->x, req->reg, req, "GET", url);
        if (repo->username)
            reg_add_basic_auth(&req->x, repo);
    }
    req->token_xfer = true;
    reg_req_begin(req);
}

void
reg_req_on_token_answer(struct eng_reg_req *req)
{
    struct reg_xfer *x = &req->x;
    struct eng_reg_repo *repo = req->repo;
    if (x->status == 401 || x->status == 403) {
        reg_req_fail_unauthorized(req);
        return;
    }
    if (x->status != 200) {
        reg_req_fail_status(req, NULL);
        return;
    }
    char *token = NULL;
    unsigned ttl;
    struct bt_err *err = NULL;
    if (reg_token_parse(x->body.data, x->body.len, &token, &ttl, &err) < 0) {
        (void) bt_err_wrap(&err, "token server of %s", repo->host);
        reg_req_finish_later(req, -err->code, err);
        return;
    }
    reg_free_secret(repo->token);
    repo->token = token;
    repo->token_expiry_ms = reg_now_ms() + (uint64_t) ttl * 1000;
    repo->auth = AUTH_BEARER;
    req->token_granted = true;
    reg_req_send(req);
}

void
reg_req_on_challenge(struct eng_reg_req *req)
{
    struct eng_reg_repo *repo = req->repo;
    struct reg_challenge *ch = NULL;
    size_t n = 0;
    if (req->auth_answered || !req->x.www_auth ||
        reg_challenges_parse(req->x.www_auth, &ch, &n) < 0) {
        reg_req_fail_unauthorized(req);
        return;
    }
    req->auth_answered = true;
    const struct reg_challenge *bearer = reg_challenge_find(ch, n, "Bearer");
    const struct reg_challenge *basic = reg_challenge_find(ch, n, "Basic");
    if (bearer && bearer->realm) {
        token_fetch(req, bearer);
    } else if (basic && repo->username) {
        repo->auth = AUTH_BASIC;
        reg_req_send(req);
    } else if (basic) {
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, EACCES, "authentication required for %s", repo->host);
        bt_err_hint(&err, "log in to %s first", repo->host);
        reg_req_finish_later(req, -EACCES, err);
    } else {
        reg_req_fail_unauthorized(req);
    }
    reg_challenges_free(ch, n);
}
