/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references, normalised as Docker normalises them: `busybox` is
 * docker.io/library/busybox:latest, `host:port/x` names a registry, `name@sha256:...` pins a
 * digest. Pure string work, no I/O; used by the CLI (display) and the daemon (pull, tags).
 */
#pragma once

#include <stdbool.h>

#include "engine/base/err.h"

/* A normalised reference. Every string is owned by the struct. */
struct eng_img_ref {
    char *domain; /* "docker.io", "127.0.0.1:5000", "localhost", ... */
    char *path;   /* repository path: "library/busybox", "team/app" */
    char *tag;    /* "latest" when neither tag nor digest was given; NULL with only a digest */
    char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parse and normalise s. Errors (BT_EINVALID) name what is wrong: upper case in a repository
 * name, a bad tag, a digest that is not sha256:<64 lowercase hex>, an empty name, a name over
 * 255 characters, a 64-hex string that looks like an image id. A well-formed digest of another
 * algorithm (sha512:...) is BT_EUNSUPPORTED. ret is written only on success. */
int eng_img_ref_parse(const char *s, struct eng_img_ref *ret, struct bt_err **err);
void eng_img_ref_release(struct eng_img_ref *r);
/* "domain/path" (the repository, no tag or digest). Returns a new string, caller frees. */
char *eng_img_ref_repo(const struct eng_img_ref *r);
/* The full form: "docker.io/library/busybox:latest", "host/x@sha256:..." or
 * "host/x:tag@sha256:...". Returns a new string, caller frees. */
char *eng_img_ref_str(const struct eng_img_ref *r);
/* The short form Docker shows: "busybox:latest", "team/app:1", "127.0.0.1:5000/x:y". It
 * always parses back to the same reference: unlike Docker, "docker.io/a.b/c" stays whole
 * (Docker's "a.b/c" would name the registry a.b). Returns a new string, caller frees. */
char *eng_img_ref_familiar(const struct eng_img_ref *r);
/* The host name to contact for domain: "registry-1.docker.io" for docker.io, else domain. */
const char *eng_img_ref_registry_host(const struct eng_img_ref *r);
/* Whether s is "sha256:<64 lowercase hex>". NULL is not. */
bool eng_img_digest_is_valid(const char *s);
/* The same as a check whose error says what is wrong: BT_EINVALID for a malformed digest,
 * BT_EUNSUPPORTED for a well-formed one of another algorithm ("sha512:..."). */
int eng_img_digest_check(const char *s, struct bt_err **err);
