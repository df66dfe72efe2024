/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry client: the OCI Distribution API over libcurl's multi interface, driven by the
 * daemon's libevent loop (sockets and timers handed to curl through its socket and timer
 * callbacks; nothing ever blocks the loop). Transport only: it fetches and sends bytes and
 * knows auth, TLS, retries and HTTP statuses; parsing manifests is manifest.h's work and
 * storing blobs the store's.
 *
 * Plain HTTP is used only for 127.0.0.0/8, ::1, "localhost" and hosts given as insecure;
 * everything else is HTTPS verified with the system CA store plus, per registry, every *.crt
 * in <certs_dir>/<host[:port]>/ (Docker's certs.d layout). As in Docker, a host that has such a
 * directory is always contacted over HTTPS, loopback and insecure or not. Client certificates
 * (.cert and .key files) are not used yet. Auth: anonymous, basic, and bearer
 * tokens (a 401's WWW-Authenticate challenge -> GET realm?service=...&scope=repository:P:pull
 * with the credentials, token cached per repository session). Retries with exponential backoff
 * (0.5 s, 1 s, 2 s, 4 s; at most ENG_REG_RETRIES) on connection errors, 5xx and 429; a blob
 * download retried after bytes arrived resumes with a Range request (and skips what it already
 * delivered when the server answers 200 to a Range). Credentials and tokens are never logged.
 *
 * Callbacks run on the loop. Each request calls its done callback exactly once (also when
 * cancelled, with -ECANCELED), and never from inside the call that started it; bad arguments
 * (an invalid host, path, tag or digest) are reported that way too. A done callback takes
 * ownership of the bt_err it is given (NULL on success) and may start or cancel requests and
 * unref repositories, but must not call eng_reg_free(). A request pointer is valid until its
 * done callback has run.
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/err.h"

#define ENG_REG_RETRIES 4

struct eng_reg;      /* the client: one per daemon */
struct eng_reg_repo; /* one repository on one registry, with its auth state (refcounted) */
struct eng_reg_req;  /* one request in flight */

struct eng_reg_opts {
    const char *const *insecure; /* hosts ("host" or "host:port") where plain HTTP is allowed */
    size_t ninsecure;
    const char *certs_dir;  /* NULL: /etc/berth/certs.d */
    unsigned max_parallel;  /* transfers at once over the whole client; 0: 6 */
    const char *user_agent; /* NULL: "berth/<version>" */
};

/* Credentials as found in ~/.docker/config.json: username/password, or an identity token. */
struct eng_reg_auth {
    const char *username;
    const char *password;
    const char *identity_token;
};

int eng_reg_new(struct event_base *base, const struct eng_reg_opts *opts, struct eng_reg **ret,
                struct bt_err **err);
/* Cancels every request still in flight (their done callbacks run with -ECANCELED first). */
struct eng_reg *eng_reg_free(struct eng_reg *r);

/* host: "registry-1.docker.io", "127.0.0.1:5000"; path: "library/busybox". auth is copied
 * (NULL: anonymous). push: ask for push,pull scope. Returns a new reference; it must not
 * outlive r. Reads <certs_dir>/<host>/ here (a few small files); never fails itself: a bad
 * host, path or CA file fails each request made on it. */
struct eng_reg_repo *eng_reg_repo_new(struct eng_reg *r, const char *host, const char *path,
                                      const struct eng_reg_auth *auth, bool push);
struct eng_reg_repo *eng_reg_repo_ref(struct eng_reg_repo *repo);
void eng_reg_repo_unref(struct eng_reg_repo *repo);

/* Done with a status (0 or negative) and, on failure, an error the callback owns. Messages say
 * what failed and why: "pull access denied for '127.0.0.1:5000/x': not found or login needed"
 * (401 without usable credentials), "unauthorized: incorrect username or password for HOST",
 * "authentication required for HOST" (basic auth, no credentials), "access denied to
 * 'HOST/PATH': ..." (403), "manifest unknown: 'HOST/PATH:nosuchtag' not found" and "blob
 * unknown: 'HOST/PATH@DIGEST' not found" (404, ENOENT), "too many requests to HOST" (429 after
 * the retries); the registry's own error message is appended when it sent one. */
typedef void (*eng_reg_done_fn)(void *ud, int r, struct bt_err *err);

/* GET /v2/<path>/manifests/<reference> (a tag or a digest) with an Accept header listing the
 * Docker and OCI manifest and index types. body: at most 4 MiB (bigger: BT_ETOOBIG).
 * On success the callback gets the body, the Content-Type, and the digest the server sent
 * (Docker-Content-Digest, may be NULL); all borrowed for the call. */
typedef void (*eng_reg_manifest_fn)(void *ud, int r, const char *body, size_t len,
                                    const char *content_type, const char *server_digest,
                                    struct bt_err *err);
struct eng_reg_req *eng_reg_manifest_get(struct eng_reg_repo *repo, const char *reference,
                                         eng_reg_manifest_fn done, void *ud);

/* GET /v2/<path>/blobs/<digest> from byte offset (Range: bytes=offset-), following redirects
 * (to a storage host, dropping the Authorization header). Bytes go to sink in order; a sink
 * returning < 0 aborts the request with that status (its error set through *sink_err). */
typedef int (*eng_reg_sink_fn)(void *ud, const void *data, size_t len, struct bt_err **sink_err);
struct eng_reg_req *eng_reg_blob_get(struct eng_reg_repo *repo, const char *digest, uint64_t offset,
                                     eng_reg_sink_fn sink, eng_reg_done_fn done, void *ud);

/* HEAD /v2/<path>/blobs/<digest>: r is 1 when the registry has it, 0 when not. */
struct eng_reg_req *eng_reg_blob_exists(struct eng_reg_repo *repo, const char *digest,
                                        eng_reg_done_fn done, void *ud);

/* Upload size bytes read from fd (pread; the fd stays the caller's and must stay open until
 * done) as blob digest: HEAD first (already there: done), then a cross-repository mount when
 * mount_from (a repository path on the same registry) is given, then POST + a monolithic PUT
 * for blobs up to chunk_size, PATCH chunks of chunk_size then PUT otherwise (chunk_size 0:
 * 16 MiB). A retry starts a fresh upload session. The digest is not checked here: the
 * registry checks it. */
struct eng_reg_req *eng_reg_blob_put(struct eng_reg_repo *repo, const char *digest, int fd,
                                     uint64_t size, const char *mount_from, uint64_t chunk_size,
                                     eng_reg_done_fn done, void *ud);

/* PUT /v2/<path>/manifests/<reference> with the given media type; body is copied. */
struct eng_reg_req *eng_reg_manifest_put(struct eng_reg_repo *repo, const char *reference,
                                         const char *body, size_t len, const char *media_type,
                                         eng_reg_done_fn done, void *ud);

/* GET /v2/ with the credentials (the token dance included, with the challenge's own scope):
 * `berth login`'s check. r is 0 when they are accepted, an error naming the registry
 * otherwise ("unauthorized: incorrect username or password for HOST"). */
struct eng_reg_req *eng_reg_check(struct eng_reg *r, const char *host,
                                  const struct eng_reg_auth *auth, eng_reg_done_fn done, void *ud);

/* Cancel: the done callback runs with -ECANCELED on the next loop turn (a request already
 * finished but not yet delivered keeps its result). Safe from inside the request's own sink. */
void eng_reg_req_cancel(struct eng_reg_req *req);
