/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Docker CLI's credential file (~/.docker/config.json, or $DOCKER_CONFIG/config.json), read
 * for pulls and written by `berth login` / `berth logout`, so one `docker login` serves both
 * tools. Only the "auths" entries are written here: every other key of the file is kept as it
 * was when berth writes it. Credential helpers (credsStore, credHelpers) are named here and run
 * by the CLI (orchestrator/cli/credhelper.c). Blocking file I/O: CLI side, or a worker, never
 * the daemon's loop. Credentials are never logged.
 *
 * Registry hosts are given as in image references ("docker.io", "127.0.0.1:5000"); a URL
 * ("https://host:5000/v1/") or Docker Hub's other names ("index.docker.io",
 * "registry-1.docker.io") are accepted too. Docker Hub's credentials live under the key
 * "https://index.docker.io/v1/", as the Docker CLI stores them.
 */
#pragma once

#include <stdbool.h>

#include "engine/base/err.h"

/* The file's size limit. */
#define ENG_DOCKERCFG_MAX (1u << 20)
/* The key Docker keeps Docker Hub's credentials under. */
#define ENG_DOCKERCFG_HUB_KEY "https://index.docker.io/v1/"

struct eng_dockercfg; /* the parsed file and its path */

/* What a lookup found. Strings owned by the struct. */
struct eng_dockercfg_auth {
    bool found;       /* credentials for the host: username and password, or an identity token */
    bool uses_helper; /* credsStore is set, or credHelpers names the host (the CLI runs it) */
    char *key;        /* the "auths" key they came from, or NULL */
    char *username;   /* from "auth" (base64 of user:password) or the "username" field */
    char *password;   /* everything after the first ':' of "auth", or the "password" field */
    char *identity_token; /* "identitytoken", or NULL */
};

/* The host part of a key or of what the user typed: "https://h:5000/v1/" -> "h:5000", with
 * Docker Hub's names folded into "docker.io". Returns a new string, caller frees. */
char *eng_dockercfg_host(const char *s);
/* $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json (the passwd entry's home when
 * HOME is unset). NULL when there is no home to be found. Returns a new string, caller frees. */
char *eng_dockercfg_default_path(void);

/* Read path. A missing file is an empty configuration (saved, it creates the file). Errors name
 * the file: over ENG_DOCKERCFG_MAX bytes (BT_ETOOBIG), not JSON or not an object (BT_EPARSE),
 * "auths" or "credHelpers" not an object or "credsStore" not a string (BT_EINVALID), or the
 * errno of a failed read. */
int eng_dockercfg_load(const char *path, struct eng_dockercfg **ret, struct bt_err **err);
struct eng_dockercfg *eng_dockercfg_free(struct eng_dockercfg *c);

/* Credentials for host: the exact key first (ENG_DOCKERCFG_HUB_KEY for Docker Hub, else the
 * host), then any key whose host part ("http://host/v1/" -> "host") is the host. Nothing
 * found: 0 and ret->found false. An entry that exists but is broken (not an object, "auth" not
 * base64 of user:password) is BT_EINVALID naming the file and the key. ret is written only on
 * success; release it with eng_dockercfg_auth_release(). */
int eng_dockercfg_lookup(const struct eng_dockercfg *c, const char *host,
                         struct eng_dockercfg_auth *ret, struct bt_err **err);
void eng_dockercfg_auth_release(struct eng_dockercfg_auth *a);
/* The credential helper for host ("pass" for docker-credential-pass): credHelpers' entry for
 * it, else credsStore; NULL when none. Borrowed from c. */
const char *eng_dockercfg_helper(const struct eng_dockercfg *c, const char *host);
/* The server name Docker uses for host in auths keys and with helpers: host itself, or
 * ENG_DOCKERCFG_HUB_KEY for Docker Hub. Borrowed (host or a constant). */
const char *eng_dockercfg_key(const char *host);

/* Store username:password for host (as "auth", the way the Docker CLI writes it), replacing
 * the entry under the key the host uses. In memory: eng_dockercfg_save() writes it. */
void eng_dockercfg_set(struct eng_dockercfg *c, const char *host, const char *username,
                       const char *password);
/* Remove every "auths" entry for host (the exact key and the URL forms naming it). Returns
 * whether one was there. In memory: eng_dockercfg_save() writes it. */
bool eng_dockercfg_remove(struct eng_dockercfg *c, const char *host);

/* Write the file back where it was loaded from, atomically, mode 0600, creating its directory
 * (mode 0700) when missing. */
int eng_dockercfg_save(const struct eng_dockercfg *c, struct bt_err **err);
