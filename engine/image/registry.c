/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry client's requests: what each API call sends, how its answer is read, and the
 * parts every request shares: the auth dance (401 -> challenge -> basic or a bearer token ->
 * one more try), redirects (followed here, the Authorization header only ever sent to the
 * registry itself), retries with backoff on the loop, and blob resume with Range. The HTTP
 * exchanges themselves are registry-http.c's; challenge and token parsing registry-auth.c's.
 */
#define LOG_TAG "registry"

#include <ctype.h>
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/registry-int.h"

#define REG_CA_MAX (1u << 20)
#define REG_CHUNK_DEFAULT (16u << 20)

static const char manifest_accept[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json";

static void on_xfer_done(struct reg_xfer *x, CURLcode code);
static int blob_data(struct reg_xfer *x, const void *data, size_t len);

uint64_t
reg_now_ms(void)
{
    struct timespec ts;
    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ---- repositories ---- */

static int
read_cas(struct eng_reg_repo *repo, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return -errno;
    struct bt_buf b;
    bt_buf_init(&b, REG_CA_MAX);
    int r = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (r == 0 && len > 4 && strcmp(names[i]->d_name + len - 4, ".crt") == 0) {
            bt_autofree char *path = bt_xasprintf("%s/%s", dir, names[i]->d_name);
            bt_autofclose FILE *f = fopen(path, "re");
            char chunk[4096];
            size_t got;
            if (!f)
                r = -errno;
            while (f && r == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
                r = bt_buf_append(&b, chunk, got);
            if (r == 0)
                r = bt_buf_puts(&b, "\n");
        }
        free(names[i]);
    }
    free(names);
    if (r < 0) {
        bt_buf_release(&b);
        return r;
    }
    repo->ca_len = b.len;
    repo->ca = b.len ? bt_buf_steal(&b) : (bt_buf_release(&b), NULL);
    return 0;
}

static void
repo_setup(struct eng_reg_repo *repo)
{
    struct eng_reg *reg = repo->reg;
    if (!reg_host_is_valid(repo->host)) {
        repo->setup_code = EINVAL;
        repo->setup_msg = bt_xasprintf("invalid registry host '%s'", repo->host);
        return;
    }
    if (repo->path && !reg_path_is_valid(repo->path)) {
        repo->setup_code = EINVAL;
        repo->setup_msg = bt_xasprintf("invalid repository name '%s'", repo->path);
        return;
    }
    bt_autofree char *dir = bt_xasprintf("%s/%s", reg->certs_dir, repo->host);
    struct stat st;
    bool has_dir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    int r = has_dir ? read_cas(repo, dir) : 0;
    if (r < 0) {
        repo->setup_code = -r;
        repo->setup_msg =
            bt_xasprintf("cannot read the CA certificates in '%s': %s", dir, strerror(-r));
    }
    repo->base =
        reg_base_url(repo->host, reg_host_use_tls(repo->host, (const char *const *) reg->insecure,
                                                  reg->ninsecure, has_dir));
}

static struct eng_reg_repo *
repo_new(struct eng_reg *r, const char *host, const char *path, const struct eng_reg_auth *auth,
         bool push)
{
    struct eng_reg_repo *repo = bt_xcalloc(1, sizeof *repo);
    repo->refs = 1;
    repo->reg = r;
    repo->host = bt_xstrdup(host ? host : "");
    repo->path = path ? bt_xstrdup(path) : NULL;
    repo->push = push;
    if (auth) {
        repo->username = auth->username ? bt_xstrdup(auth->username) : NULL;
        repo->password = auth->password ? bt_xstrdup(auth->password) : NULL;
        repo->identity_token = auth->identity_token ? bt_xstrdup(auth->identity_token) : NULL;
    }
    repo_setup(repo);
    return repo;
}

struct eng_reg_repo *
eng_reg_repo_new(struct eng_reg *r, const char *host, const char *path,
                 const struct eng_reg_auth *auth, bool push)
{
    return repo_new(r, host, path ? path : "", auth, push);
}

struct eng_reg_repo *
eng_reg_repo_ref(struct eng_reg_repo *repo)
{
    if (repo)
        repo->refs++;
    return repo;
}

void
reg_free_secret(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void
eng_reg_repo_unref(struct eng_reg_repo *repo)
{
    if (!repo || --repo->refs > 0)
        return;
    free(repo->host);
    free(repo->path);
    free(repo->username);
    reg_free_secret(repo->password);
    reg_free_secret(repo->identity_token);
    reg_free_secret(repo->token);
    free(repo->base);
    free(repo->ca);
    free(repo->setup_msg);
    free(repo);
}

/* "HOST/PATH" for messages. New string. */
char *
reg_repo_name(const struct eng_reg_repo *repo)
{
    return bt_xasprintf("%s/%s", repo->host, repo->path ? repo->path : "");
}

bool
reg_repo_has_credentials(const struct eng_reg_repo *repo)
{
    return repo->username || repo->identity_token;
}

/* ---- request lifecycle ---- */

static void
req_free(struct eng_reg_req *req)
{
    struct eng_reg *reg = req->reg;
    if (req->prev)
        req->prev->next = req->next;
    else
        reg->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    reg_xfer_release(&req->x);
    if (req->ev)
        event_free(req->ev);
    eng_reg_repo_unref(req->repo);
    bt_err_free(req->error);
    bt_err_free(req->sink_err);
    free(req->ref);
    free(req->redirect_url);
    reg_free_secret(req->form);
    free(req->mount_from);
    free(req->upload_url);
    free(req->body);
    free(req->media_type);
    free(req);
}

/* Deliver the result now (we are on the loop, never inside the starting call) and free. */
static void
req_complete(struct eng_reg_req *req, int r, struct bt_err *err)
{
    reg_xfer_release(&req->x);
    if (req->kind == REQ_MANIFEST_GET)
        req->manifest_done(req->ud, r, NULL, 0, NULL, NULL, err);
    else
        req->done(req->ud, r, err);
    req_free(req);
}

static void
on_req_event(evutil_socket_t fd, short what, void *arg)
{
    struct eng_reg_req *req = arg;
    (void) fd;
    (void) what;
    if (req->finished) {
        struct bt_err *err = BT_TAKE_PTR(req->error);
        req_complete(req, req->result, err);
        return;
    }
    reg_req_send(req); /* a retry whose backoff ran out */
}

/* Finish on the next loop turn with r (negative) and err (taken). */
void
reg_req_finish_later(struct eng_reg_req *req, int r, struct bt_err *err)
{
    if (req->finished) {
        bt_err_free(err);
        return;
    }
    req->finished = true;
    req->result = r;
    req->error = err;
    struct timeval zero = { 0, 0 };
    (void) event_del(req->ev);
    (void) evtimer_add(req->ev, &zero);
}

static struct eng_reg_req *
req_new(struct eng_reg_repo *repo, enum req_kind kind, const char *ref, eng_reg_done_fn done,
        void *ud)
{
    struct eng_reg *reg = repo->reg;
    struct eng_reg_req *req = bt_xcalloc(1, sizeof *req);
    req->reg = reg;
    req->repo = eng_reg_repo_ref(repo);
    req->kind = kind;
    req->ref = ref ? bt_xstrdup(ref) : NULL;
    req->done = done;
    req->ud = ud;
    req->fd = -1;
    req->ev = evtimer_new(reg->base, on_req_event, req);
    BT_ASSERT(req->ev);
    reg_xfer_init(&req->x, reg, req, "GET", NULL);
    req->next = reg->reqs;
    if (reg->reqs)
        reg->reqs->prev = req;
    reg->reqs = req;
    return req;
}

/* Start the request on the next loop turn, or fail then if its arguments are wrong. */
static struct eng_reg_req *
req_launch(struct eng_reg_req *req)
{
    struct eng_reg_repo *repo = req->repo;
    struct bt_err *err = NULL;
    if (repo->setup_code)
        (void) bt_err_set(&err, repo->setup_code, "%s", repo->setup_msg);
    else if (req->ref && !reg_reference_is_valid(req->ref))
        (void) bt_err_set(&err, EINVAL, "invalid reference '%s'", req->ref);
    if (err) {
        reg_req_finish_later(req, -err->code, err);
        return req;
    }
    struct timeval zero = { 0, 0 };
    (void) evtimer_add(req->ev, &zero);
    return req;
}

void
eng_reg_req_cancel(struct eng_reg_req *req)
{
    if (!req || req->finished)
        return;
    req->cancelled = true;
    struct bt_err *err = NULL;
    (void) bt_err_set(&err, ECANCELED, "request cancelled");
    /* The exchange is dropped in on_req_event: curl may be calling us right now. */
    reg_req_finish_later(req, -ECANCELED, err);
}

struct eng_reg *
eng_reg_free(struct eng_reg *r)
{
    if (!r)
        return NULL;
    while (r->reqs) {
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, ECANCELED, "request cancelled");
        bt_err_free(r->reqs->error);
        r->reqs->error = NULL;
        req_complete(r->reqs, -ECANCELED, err);
    }
    reg_transport_free(r);
    return NULL;
}

/* ---- sending ---- */

static char *
api_url(const struct eng_reg_req *req)
{
    const struct eng_reg_repo *repo = req->repo;
    switch (req->kind) {
    case REQ_MANIFEST_GET:
    case REQ_MANIFEST_PUT:
        return bt_xasprintf("%s/v2/%s/manifests/%s", repo->base, repo->path, req->ref);
    case REQ_BLOB_GET:
    case REQ_EXISTS:
        return bt_xasprintf("%s/v2/%s/blobs/%s", repo->base, repo->path, req->ref);
    case REQ_CHECK:
        return bt_xasprintf("%s/v2/", repo->base);
    case REQ_BLOB_PUT:
        break;
    }
    switch (req->step) {
    case PUT_HEAD:
        return bt_xasprintf("%s/v2/%s/blobs/%s", repo->base, repo->path, req->ref);
    case PUT_POST:
        if (req->mount_from)
            return bt_xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", repo->base, repo->path,
                                req->ref, req->mount_from);
        return bt_xasprintf("%s/v2/%s/blobs/uploads/", repo->base, repo->path);
    case PUT_PATCH:
        return bt_xstrdup(req->upload_url);
    case PUT_PUT:
        return reg_url_add_query(req->upload_url, "digest", req->ref);
    }
    return NULL;
}

static char *
base64(const char *s)
{
    size_t len = strlen(s);
    char *out = bt_xmalloc(4 * ((len + 2) / 3) + 1);
    (void) EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) s, (int) len);
    return out;
}

void
reg_add_basic_auth(struct reg_xfer *x, const struct eng_reg_repo *repo)
{
    bt_autofree char *pair =
        bt_xasprintf("%s:%s", repo->username, repo->password ? repo->password : "");
    bt_autofree char *b64 = base64(pair);
    reg_xfer_header(x, "Authorization: Basic %s", b64);
    OPENSSL_cleanse(pair, strlen(pair));
}

static void
add_auth(struct eng_reg_req *req)
{
    struct eng_reg_repo *repo = req->repo;
    /* Redirects go to storage hosts: credentials are only ever for the registry itself. */
    if (!reg_url_same_origin(req->x.url, repo->base))
        return;
    if (repo->auth == AUTH_BEARER && repo->token && reg_now_ms() >= repo->token_expiry_ms) {
        reg_free_secret(repo->token);
        repo->token = NULL;
    }
    if (repo->auth == AUTH_BEARER && repo->token)
        reg_xfer_header(&req->x, "Authorization: Bearer %s", repo->token);
    else if (repo->auth == AUTH_BASIC && repo->username)
        reg_add_basic_auth(&req->x, repo);
}

static void
set_upload(struct eng_reg_req *req)
{
    struct reg_xfer *x = &req->x;
    if (req->kind == REQ_MANIFEST_PUT) {
        x->has_body = true;
        x->send_mem = req->body;
        x->send_len = req->body_len;
        reg_xfer_header(x, "Content-Type: %s", req->media_type);
        return;
    }
    if (req->kind != REQ_BLOB_PUT || req->step < PUT_PATCH)
        return;
    x->has_body = true;
    if (req->step == PUT_PATCH) {
        uint64_t n = req->size - req->sent < req->chunk ? req->size - req->sent : req->chunk;
        x->send_fd = req->fd;
        x->send_off = req->sent;
        x->send_len = n;
        reg_xfer_header(x, "Content-Range: %llu-%llu", (unsigned long long) req->sent,
                        (unsigned long long) (req->sent + n - 1));
    } else if (req->size <= req->chunk) {
        x->send_fd = req->fd; /* monolithic */
        x->send_len = req->size;
    }
    reg_xfer_header(x, "Content-Type: application/octet-stream");
}

static const char *
method_of(const struct eng_reg_req *req)
{
    static const char *const put_methods[] = { "HEAD", "POST", "PATCH", "PUT" };
    switch (req->kind) {
    case REQ_EXISTS:
        return "HEAD";
    case REQ_MANIFEST_PUT:
        return "PUT";
    case REQ_BLOB_PUT:
        return put_methods[req->step];
    default:
        return "GET";
    }
}

void
reg_req_begin(struct eng_reg_req *req)
{
    struct bt_err *err = NULL;
    req->x.done = on_xfer_done;
    /* Only the registry's own URLs skip verification, never a token realm or a redirect. */
    const char *base = req->repo->base;
    bool verify = !req->repo->tls_noverify || !bt_startswith(req->x.url, base) ||
                  (req->x.url[strlen(base)] != '/' && req->x.url[strlen(base)] != '\0');
    if (reg_xfer_start(&req->x, req->repo->ca, req->repo->ca_len, verify, &err) < 0)
        reg_req_finish_later(req, -err->code, err);
}

void
reg_req_send(struct eng_reg_req *req)
{
    reg_xfer_release(&req->x);
    char *url = req->redirect_url ? bt_xstrdup(req->redirect_url) : api_url(req);
    if (!url) {
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, EINVAL, "cannot build the URL of '%s'", req->ref);
        reg_req_finish_later(req, -EINVAL, err);
        return;
    }
    reg_xfer_init(&req->x, req->reg, req, method_of(req), url);
    req->token_xfer = false;
    req->range_checked = false;
    if (req->kind == REQ_MANIFEST_GET) {
        reg_xfer_header(&req->x, "%s", manifest_accept);
        req->x.body_max = REG_MANIFEST_MAX;
    }
    if (req->kind == REQ_BLOB_GET) {
        req->x.data = blob_data;
        if (req->offset + req->delivered > 0)
            reg_xfer_header(&req->x, "Range: bytes=%llu-",
                            (unsigned long long) (req->offset + req->delivered));
    }
    set_upload(req);
    add_auth(req);
    reg_req_begin(req);
}

/* ---- answers ---- */

static int
status_code(long status)
{
    switch (status) {
    case 400:
        return EINVAL;
    case 401:
    case 403:
        return EACCES;
    case 404:
        return ENOENT;
    case 405:
        return BT_EUNSUPPORTED;
    case 413:
        return BT_ETOOBIG;
    case 429:
        return EAGAIN;
    default:
        return EIO;
    }
}

/* An error for an answer we cannot use: what was asked, what came back, the registry's words. */
void
reg_req_fail_status(struct eng_reg_req *req, const char *what)
{
    struct reg_xfer *x = &req->x;
    struct eng_reg_repo *repo = req->repo;
    bt_autofree char *name = reg_repo_name(repo);
    bt_autofree char *msg = reg_error_body_message(x->body.data, x->body.len);
    /* A tag follows its repository after ':', a digest (manifest or blob) after '@'. */
    bool tag =
        (req->kind == REQ_MANIFEST_GET || req->kind == REQ_MANIFEST_PUT) && !strchr(req->ref, ':');
    const char *sep = tag ? ":" : "@";
    struct bt_err *err = NULL;
    if (x->status == 404 && what)
        (void) bt_err_set(&err, ENOENT, "%s unknown: '%s%s%s' not found%s%s", what, name, sep,
                          req->ref, msg ? ": " : "", msg ? msg : "");
    else if (x->status == 403)
        (void) bt_err_set(&err, EACCES, "access denied to '%s'%s%s", name, msg ? ": " : "",
                          msg ? msg : "");
    else if (x->status == 429)
        (void) bt_err_set(&err, EAGAIN, "too many requests to %s%s%s", repo->host, msg ? ": " : "",
                          msg ? msg : "");
    else
        (void) bt_err_set(&err, status_code(x->status), "%s %s: registry answered %ld%s%s",
                          x->method, x->url, x->status, msg ? ": " : "", msg ? msg : "");
    reg_req_finish_later(req, -err->code, err);
}

/* Try again after the backoff (or Retry-After), or give up with err (taken). */
static void
retry_or_fail(struct eng_reg_req *req, struct bt_err *err)
{
    if (req->attempt >= ENG_REG_RETRIES) {
        reg_req_finish_later(req, -err->code, err);
        return;
    }
    req->attempt++;
    unsigned ms = reg_backoff_ms(req->attempt);
    unsigned after = reg_retry_after_ms(req->x.retry_after, time(NULL));
    if (after > ms)
        ms = after;
    bt_log_debug("%s, retry %u in %u ms", err->msg, req->attempt, ms);
    bt_err_free(err);
    reg_xfer_release(&req->x);
    /* A retry starts from the API URL (a redirect may have expired) with fresh auth, and an
     * upload from a fresh session. */
    free(req->redirect_url);
    req->redirect_url = NULL;
    req->redirects = 0;
    req->auth_answered = req->token_granted = false;
    if (req->kind == REQ_BLOB_PUT && req->step > PUT_POST) {
        req->step = PUT_POST;
        req->sent = 0;
    }
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    (void) evtimer_add(req->ev, &tv);
}

static bool
status_is_retryable(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status != 501);
}

/* ---- completion ---- */

static int
blob_data(struct reg_xfer *x, const void *data, size_t len)
{
    struct eng_reg_req *req = x->owner;
    if (req->cancelled)
        return -ECANCELED;
    if (!req->range_checked) {
        uint64_t start = req->offset + req->delivered;
        req->range_checked = true;
        req->skip = x->status == 200 ? start : 0; /* a full body answered to our Range */
        char want[48];
        (void) snprintf(want, sizeof want, "bytes %llu-", (unsigned long long) start);
        if (x->status == 206 && (!x->content_range || !bt_startswith(x->content_range, want))) {
            req->sink_r = bt_err_set(&req->sink_err, BT_EPROTO,
                                     "registry %s answered the wrong range for blob '%s'",
                                     req->repo->host, req->ref);
            return req->sink_r;
        }
    }
    const char *p = data;
    uint64_t skip = req->skip < len ? req->skip : len;
    p += skip;
    len -= (size_t) skip;
    req->skip -= skip;
    if (len == 0)
        return 0;
    int r = req->sink(req->ud, p, len, &req->sink_err);
    if (r < 0) {
        req->sink_r = r;
        return r;
    }
    req->delivered += len;
    return 0;
}

static void
on_blob_put_answer(struct eng_reg_req *req)
{
    struct reg_xfer *x = &req->x;
    long st = x->status;
    if (req->step == PUT_HEAD && st == 200) {
        reg_req_finish_later(req, 0, NULL);
    } else if (req->step == PUT_HEAD && st == 404) {
        req->step = PUT_POST;
        reg_req_send(req);
    } else if (req->step == PUT_POST && st == 201 && req->mount_from) {
        bt_log_debug("blob %s mounted from '%s'", req->ref, req->mount_from);
        reg_req_finish_later(req, 0, NULL);
    } else if ((req->step == PUT_POST || req->step == PUT_PATCH) && st == 202 && x->location) {
        char *next = reg_url_resolve(x->url, x->location);
        if (!next) {
            reg_req_fail_status(req, NULL);
            return;
        }
        free(req->upload_url);
        req->upload_url = next;
        if (req->step == PUT_PATCH)
            req->sent += x->send_len;
        bool whole = req->size <= req->chunk;
        req->step = whole || req->sent == req->size ? PUT_PUT : PUT_PATCH;
        reg_req_send(req);
    } else if (req->step == PUT_PUT && (st == 201 || st == 204)) {
        reg_req_finish_later(req, 0, NULL);
    } else {
        reg_req_fail_status(req, NULL);
    }
}

static void
on_answer(struct eng_reg_req *req)
{
    struct reg_xfer *x = &req->x;
    bool ok = x->status >= 200 && x->status < 300;
    switch (req->kind) {
    case REQ_MANIFEST_GET:
        if (!ok) {
            reg_req_fail_status(req, "manifest");
            return;
        }
        req->manifest_done(req->ud, 0, bt_buf_str(&x->body), x->body.len, x->content_type,
                           x->digest, NULL);
        req_free(req);
        return;
    case REQ_BLOB_GET:
        if (ok)
            reg_req_finish_later(req, 0, NULL);
        else
            reg_req_fail_status(req, "blob");
        return;
    case REQ_EXISTS:
        if (x->status == 200 || x->status == 404)
            reg_req_finish_later(req, x->status == 200, NULL);
        else
            reg_req_fail_status(req, NULL);
        return;
    case REQ_BLOB_PUT:
        on_blob_put_answer(req);
        return;
    case REQ_MANIFEST_PUT:
    case REQ_CHECK:
        if (ok)
            reg_req_finish_later(req, 0, NULL);
        else
            reg_req_fail_status(req, NULL);
        return;
    }
}

static void
on_xfer_done(struct reg_xfer *x, CURLcode code)
{
    struct eng_reg_req *req = x->owner;
    struct eng_reg_repo *repo = req->repo;
    struct bt_err *err = NULL;
    if (req->finished) /* cancelled while the exchange ran */
        return;
    if (x->data_failed) {
        reg_req_finish_later(req, req->sink_r, BT_TAKE_PTR(req->sink_err));
        return;
    }
    if (x->body_too_big) {
        (void) bt_err_set(&err, BT_ETOOBIG, "manifest '%s' from %s is larger than %u MiB", req->ref,
                          repo->host, REG_MANIFEST_MAX >> 20);
        reg_req_finish_later(req, -err->code, err);
        return;
    }
    if (code != CURLE_OK) {
        const char *msg;
        int ec = reg_curl_error(code, x->errbuf, &msg);
        (void) bt_err_set(&err, ec, "cannot %s from %s: %s",
                          req->token_xfer ? "get a token" : "talk to registry", repo->host, msg);
        if (reg_curl_is_retryable(code))
            retry_or_fail(req, err);
        else
            reg_req_finish_later(req, -ec, err);
        return;
    }
    if (status_is_retryable(x->status)) {
        bt_autofree char *msg = reg_error_body_message(x->body.data, x->body.len);
        (void) bt_err_set(&err, status_code(x->status), "%s %s: registry %s answered %ld%s%s",
                          x->method, x->url, repo->host, x->status, msg ? ": " : "",
                          msg ? msg : "");
        if (x->status == 429) {
            err->msg = (free(err->msg), bt_xasprintf("too many requests to %s", repo->host));
        }
        retry_or_fail(req, err);
        return;
    }
    if (req->token_xfer) {
        reg_req_on_token_answer(req);
        return;
    }
    if (x->status == 400 && bt_startswith(repo->base, "http://") && x->body.data &&
        memmem(x->body.data, x->body.len, "HTTP request to an HTTPS server", 31)) {
        /* A registry berth reaches over plain HTTP (loopback, insecure-registries) speaks TLS.
         * Docker tries HTTPS first for those hosts and does not verify their certificate;
         * berth switches when the server says so, and verifies just as little. */
        bt_log_debug("%s speaks HTTPS: switching", repo->host);
        char *https = bt_xasprintf("https://%s", repo->base + 7);
        free(repo->base);
        repo->base = https;
        repo->tls_noverify = true;
        free(req->redirect_url);
        req->redirect_url = NULL;
        reg_req_send(req);
        return;
    }
    if (x->status == 401) {
        reg_req_on_challenge(req);
        return;
    }
    if (x->status / 100 == 3 && x->redirect && req->kind != REQ_BLOB_PUT) {
        if (++req->redirects > REG_MAX_REDIRECTS) {
            (void) bt_err_set(&err, BT_EPROTO, "too many redirects from %s", repo->host);
            reg_req_finish_later(req, -err->code, err);
            return;
        }
        bt_log_debug("redirected to %s", x->redirect);
        free(req->redirect_url);
        req->redirect_url = BT_TAKE_PTR(x->redirect);
        reg_req_send(req);
        return;
    }
    on_answer(req);
}

/* ---- the API ---- */

struct eng_reg_req *
eng_reg_manifest_get(struct eng_reg_repo *repo, const char *reference, eng_reg_manifest_fn done,
                     void *ud)
{
    struct eng_reg_req *req = req_new(repo, REQ_MANIFEST_GET, reference, NULL, ud);
    req->manifest_done = done;
    return req_launch(req);
}

struct eng_reg_req *
eng_reg_blob_get(struct eng_reg_repo *repo, const char *digest, uint64_t offset,
                 eng_reg_sink_fn sink, eng_reg_done_fn done, void *ud)
{
    struct eng_reg_req *req = req_new(repo, REQ_BLOB_GET, digest, done, ud);
    req->sink = sink;
    req->offset = offset;
    return req_launch(req);
}

struct eng_reg_req *
eng_reg_blob_exists(struct eng_reg_repo *repo, const char *digest, eng_reg_done_fn done, void *ud)
{
    return req_launch(req_new(repo, REQ_EXISTS, digest, done, ud));
}

struct eng_reg_req *
eng_reg_blob_put(struct eng_reg_repo *repo, const char *digest, int fd, uint64_t size,
                 const char *mount_from, uint64_t chunk_size, eng_reg_done_fn done, void *ud)
{
    struct eng_reg_req *req = req_new(repo, REQ_BLOB_PUT, digest, done, ud);
    req->fd = fd;
    req->size = size;
    req->chunk = chunk_size ? chunk_size : REG_CHUNK_DEFAULT;
    req->step = PUT_HEAD;
    if (mount_from && !reg_path_is_valid(mount_from)) {
        struct bt_err *err = NULL;
        (void) bt_err_set(&err, EINVAL, "invalid repository name '%s'", mount_from);
        reg_req_finish_later(req, -EINVAL, err);
        return req;
    }
    req->mount_from = mount_from ? bt_xstrdup(mount_from) : NULL;
    return req_launch(req);
}

struct eng_reg_req *
eng_reg_manifest_put(struct eng_reg_repo *repo, const char *reference, const char *body, size_t len,
                     const char *media_type, eng_reg_done_fn done, void *ud)
{
    struct eng_reg_req *req = req_new(repo, REQ_MANIFEST_PUT, reference, done, ud);
    req->body = bt_xmalloc(len + 1);
    bt_memcpy(req->body, body, len);
    req->body_len = len;
    req->media_type = bt_xstrdup(media_type);
    return req_launch(req);
}

struct eng_reg_req *
eng_reg_check(struct eng_reg *r, const char *host, const struct eng_reg_auth *auth,
              eng_reg_done_fn done, void *ud)
{
    struct eng_reg_repo *repo = repo_new(r, host, NULL, auth, false);
    struct eng_reg_req *req = req_new(repo, REQ_CHECK, NULL, done, ud);
    eng_reg_repo_unref(repo);
    return req_launch(req);
}
