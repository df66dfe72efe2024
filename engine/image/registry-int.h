/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the registry client, shared by registry.c (the requests and their steps),
 * registry-http.c (libcurl multi on the libevent loop: one HTTP exchange at a time per request)
 * and registry-auth.c (the pure parts: challenges, scopes, tokens, backoff, URLs). Never
 * included from outside engine/image/.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "engine/base/buf.h"
#include "engine/image/registry.h"

#define REG_MANIFEST_MAX (4u << 20)
#define REG_SMALL_BODY_MAX (64u << 10) /* token responses, error bodies */
#define REG_HEADER_MAX (16u << 10)     /* one kept response header */
#define REG_RETRY_AFTER_CAP_MS 30000u
#define REG_TOKEN_TTL_DEFAULT 60u
#define REG_MAX_REDIRECTS 5

/* ---- pure helpers (registry-auth.c) ---- */

/* A string field of a struct by name, for tables of headers and challenge parameters. */
struct reg_field {
    const char *name;
    size_t off; /* offsetof the char * */
};
/* The slot of the field called name (namelen bytes, case-insensitive), or NULL. */
char **reg_field_find(void *obj, const struct reg_field *fields, size_t n, const char *name,
                      size_t namelen);

/* One challenge of a WWW-Authenticate header; absent parameters are NULL. */
struct reg_challenge {
    char *scheme; /* "Basic", "Bearer", as sent */
    char *realm;
    char *service;
    char *scope;
    char *error;
};

/* Parse every challenge of a WWW-Authenticate value (several may share one header; the header
 * repeated is joined with ", "). Quoted strings may hold commas and backslash escapes. Returns
 * 0 with a new array (caller frees with reg_challenges_free), or -EINVAL for junk. */
int reg_challenges_parse(const char *value, struct reg_challenge **ret, size_t *ret_n);
void reg_challenges_free(struct reg_challenge *c, size_t n);
/* The first challenge of that scheme (case-insensitive), or NULL. */
const struct reg_challenge *reg_challenge_find(const struct reg_challenge *c, size_t n,
                                               const char *scheme);

/* "repository:PATH:pull" or "repository:PATH:pull,push". Returns a new string, caller frees. */
char *reg_scope(const char *path, bool push);
/* A token endpoint's JSON answer: "token" (else "access_token") and "expires_in" (absent or
 * not positive: REG_TOKEN_TTL_DEFAULT). Returns 0 or a negative code with *err set. */
int reg_token_parse(const char *body, size_t len, char **ret_token, unsigned *ret_ttl,
                    struct bt_err **err);
/* The registry's JSON error body {"errors":[{"code":..,"message":..}]} as "message (CODE)"
 * (several joined with "; "), or NULL when it is not one. Returns a new string, caller frees. */
char *reg_error_body_message(const char *body, size_t len);

/* Delay before retry number attempt (1-based): 500 ms, 1 s, 2 s, 4 s, then 4 s. */
unsigned reg_backoff_ms(unsigned attempt);
/* Retry-After (delta seconds or an HTTP date, relative to now) in ms, capped at
 * REG_RETRY_AFTER_CAP_MS; 0 when absent or junk. */
unsigned reg_retry_after_ms(const char *value, time_t now);

/* Whether host ("name", "name:port", "1.2.3.4:5", "[::1]:5000", "::1") is a loopback one:
 * 127.0.0.0/8, ::1, localhost. */
bool reg_host_is_loopback(const char *host);
/* Whether the registry is contacted over HTTPS: always when it has a certs.d directory (Docker's
 * rule: extra CAs imply TLS, loopback or not), else not for loopback and listed insecure hosts
 * ("name" matches every port, "name:port" that port). */
bool reg_host_use_tls(const char *host, const char *const *insecure, size_t ninsecure,
                      bool has_certs_dir);
/* Whether host is something we can put in a URL: [A-Za-z0-9.-] with an optional :port, or a
 * bracketed IPv6 literal with an optional :port, or a bare IPv6 literal. */
bool reg_host_is_valid(const char *host);
/* "http://HOST" or "https://HOST" (a bare IPv6 literal gets brackets). New string. */
char *reg_base_url(const char *host, bool tls);
/* Repository paths: lowercase components [a-z0-9] joined by . _ __ - and /. */
bool reg_path_is_valid(const char *path);
/* A tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or a digest (algo:hex). */
bool reg_reference_is_valid(const char *ref);

/* ---- the client and its transfers (registry-http.c) ---- */

struct reg_xfer;
typedef void (*reg_xfer_done_fn)(struct reg_xfer *x, CURLcode code);
/* Body bytes of a 2xx answer when the transfer streams (blob GET); returns < 0 to abort. */
typedef int (*reg_xfer_data_fn)(struct reg_xfer *x, const void *data, size_t len);

/* One HTTP exchange. Filled by the caller, started with reg_xfer_start(), finished by its done
 * callback on the loop; reg_xfer_release() then frees what the exchange allocated. */
struct reg_xfer {
    struct eng_reg *reg;
    void *owner;
    reg_xfer_done_fn done;
    reg_xfer_data_fn data; /* NULL: bodies go to body */
    /* request */
    const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH" */
    char *url;
    struct curl_slist *headers;
    const char *send_mem; /* upload from memory ... */
    int send_fd;          /* ... or from a file with pread (-1: none) */
    uint64_t send_off, send_len, send_pos;
    bool has_body; /* POST/PUT/PATCH: send send_len bytes (0 allowed) */
    /* answer */
    CURL *easy;
    long status;
    struct bt_buf body; /* the 2xx body (limit body_max) or an error body (limit 64 KiB) */
    size_t body_max;
    bool body_too_big;
    bool data_failed; /* data() returned < 0 */
    char *content_type, *digest, *location, *www_auth, *retry_after, *content_range;
    char *redirect; /* absolute URL a 3xx points to */
    char errbuf[CURL_ERROR_SIZE];
};

struct eng_reg {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct reg_sock *socks;
    char **insecure;
    size_t ninsecure;
    char *certs_dir;
    char *user_agent;
    struct eng_reg_req *reqs; /* every live request, for eng_reg_free */
};

void reg_xfer_init(struct reg_xfer *x, struct eng_reg *reg, void *owner, const char *method,
                   char *url);
void reg_xfer_header(struct reg_xfer *x, const char *fmt, ...) BT_PRINTF(2, 3);
/* Start the exchange, trusting the system CA store plus ca (PEM, NULL: none); without verify,
 * the server's certificate is not checked (insecure registries, as Docker). Completion comes
 * through x->done on the loop, never from inside this call. */
int reg_xfer_start(struct reg_xfer *x, const char *ca, size_t ca_len, bool verify,
                   struct bt_err **err);
/* Abort a running exchange without calling done; frees everything. Safe when never started. */
void reg_xfer_release(struct reg_xfer *x);
/* Free the transport (curl, events, options); registry.c has finished the requests first. */
void reg_transport_free(struct eng_reg *reg);
/* Whether a and b have the same scheme, host and port. */
bool reg_url_same_origin(const char *a, const char *b);
/* Resolve a Location (absolute or relative) against base. New string or NULL. */
char *reg_url_resolve(const char *base, const char *location);
/* Append "name=value" (value URL-encoded) to url's query. New string or NULL. */
char *reg_url_add_query(const char *url, const char *name, const char *value);
/* A message for a failed exchange's CURLcode and its errno-style code. */
int reg_curl_error(CURLcode code, const char *errbuf, const char **ret_msg);
bool reg_curl_is_retryable(CURLcode code);

/* ---- requests (registry.c; the auth dance in registry-auth.c) ---- */

enum req_kind {
    REQ_MANIFEST_GET,
    REQ_BLOB_GET,
    REQ_EXISTS,
    REQ_BLOB_PUT,
    REQ_MANIFEST_PUT,
    REQ_CHECK
};
enum put_step { PUT_HEAD, PUT_POST, PUT_PATCH, PUT_PUT };
enum repo_auth { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct eng_reg_repo {
    unsigned refs;
    struct eng_reg *reg;
    char *host;
    char *path; /* NULL: the registry itself (eng_reg_check) */
    char *username, *password, *identity_token;
    bool push;
    char *base;        /* "http://HOST" or "https://HOST" */
    bool tls_noverify; /* an insecure host found to speak TLS: its certificate is not checked */
    char *ca;          /* PEM of certs.d/HOST/\*.crt, NULL: none */
    size_t ca_len;
    int setup_code; /* a bad host or unreadable CAs: every request fails with this */
    char *setup_msg;
    enum repo_auth auth;
    char *token;
    uint64_t token_expiry_ms; /* monotonic */
};

struct eng_reg_req {
    struct eng_reg *reg;
    struct eng_reg_repo *repo;
    struct eng_reg_req *prev, *next;
    enum req_kind kind;
    char *ref; /* tag or digest */
    eng_reg_done_fn done;
    eng_reg_manifest_fn manifest_done;
    eng_reg_sink_fn sink;
    void *ud;
    struct reg_xfer x;
    bool token_xfer;    /* x fetches a token, not the request itself */
    struct event *ev;   /* retry backoff and deferred completion */
    unsigned attempt;   /* retries done */
    bool auth_answered; /* this attempt answered a challenge already */
    bool token_granted; /* ... with a token the token server gave */
    unsigned redirects;
    char *redirect_url; /* where the next send goes instead of the API URL */
    bool finished;      /* result and error are set; ev delivers them */
    bool cancelled;
    int result;
    struct bt_err *error;
    char *form; /* the token POST's body */
    /* blob GET */
    uint64_t offset, delivered, skip;
    bool range_checked;
    int sink_r;
    struct bt_err *sink_err;
    /* uploads */
    int fd;
    uint64_t size, chunk, sent;
    char *mount_from;
    enum put_step step;
    char *upload_url;
    char *body; /* manifest PUT */
    size_t body_len;
    char *media_type;
};

void reg_req_send(struct eng_reg_req *req);
/* Finish on the next loop turn with r (negative, or 0/1) and err (taken). */
void reg_req_finish_later(struct eng_reg_req *req, int r, struct bt_err *err);
/* Fail with what the registry answered; what: "manifest" or "blob" for a 404, else NULL. */
void reg_req_fail_status(struct eng_reg_req *req, const char *what);
/* Start req->x (set up by the caller) with the repository's CAs. */
void reg_req_begin(struct eng_reg_req *req);
/* A 401: answer its challenge once (basic, or a token from the realm), then fail. */
void reg_req_on_challenge(struct eng_reg_req *req);
/* The token server answered req->x. */
void reg_req_on_token_answer(struct eng_reg_req *req);
void reg_req_fail_unauthorized(struct eng_reg_req *req);
/* "HOST/PATH" for messages. New string. */
char *reg_repo_name(const struct eng_reg_repo *repo);
bool reg_repo_has_credentials(const struct eng_reg_repo *repo);
void reg_add_basic_auth(struct reg_xfer *x, const struct eng_reg_repo *repo);
/* CLOCK_MONOTONIC in ms. */
uint64_t reg_now_ms(void);
/* Wipe and free a secret (NULL is fine). */
void reg_free_secret(char *s);
