/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image manifests, indexes and configs: Docker schema 2 (manifest and manifest list) and OCI
 * (image manifest and image index), parsed with jansson into plain structs, and platform
 * selection. Pure: no I/O. Every size that comes from outside is bounded (a manifest or config
 * over ENG_IMG_MAX_JSON bytes, more than ENG_IMG_MAX_LAYERS layers or ENG_IMG_MAX_ENTRIES index
 * entries is refused).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/err.h"

#define ENG_IMG_MAX_JSON (4u << 20)
#define ENG_IMG_MAX_LAYERS 256
#define ENG_IMG_MAX_ENTRIES 1024

#define ENG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define ENG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ENG_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define ENG_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define ENG_MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define ENG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define ENG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define ENG_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define ENG_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define ENG_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define ENG_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

struct eng_img_platform {
    char *os;           /* "linux" */
    char *architecture; /* GOARCH names: "amd64", "arm64", "arm", "386", ... */
    char *variant;      /* "v8", "v7", or NULL */
    char *os_version;   /* NULL unless given */
};

struct eng_img_descriptor {
    char *media_type;
    char *digest; /* validated: sha256:<64 hex> */
    int64_t size; /* >= 0 */
    bool has_platform;
    struct eng_img_platform platform; /* index entries only */
};

enum eng_img_manifest_kind { ENG_IMG_MANIFEST, ENG_IMG_INDEX };

/* A manifest (config + layers) or an index (manifests). */
struct eng_img_manifest {
    enum eng_img_manifest_kind kind;
    char *media_type;                 /* from the document, or the Content-Type it came with */
    struct eng_img_descriptor config; /* manifests only */
    struct eng_img_descriptor *layers;
    size_t nlayers;
    struct eng_img_descriptor *manifests; /* indexes only */
    size_t nmanifests;
};

/* The parts of an image config that berth uses, plus the whole document. */
struct eng_img_config {
    json_t *doc; /* the whole config (owned reference) */
    char *os;    /* "linux" */
    char *architecture;
    char *variant;   /* or NULL */
    char **diff_ids; /* rootfs.diff_ids, validated */
    size_t ndiff_ids;
    char *created; /* RFC 3339 or NULL */
};

/* Parse a manifest or index. content_type (may be NULL) is the HTTP Content-Type or the media
 * type of the descriptor that pointed here (parameters and case ignored; a type that names no
 * manifest, like application/json, is ignored); the document's own mediaType wins when present
 * and they must not contradict each other (index vs manifest). Without either, the shape
 * decides as containerd does: `manifests` makes an OCI index, `layers`/`config` an OCI
 * manifest. Errors: BT_ETOOBIG (over ENG_IMG_MAX_JSON, more than ENG_IMG_MAX_LAYERS layers or
 * ENG_IMG_MAX_ENTRIES entries), BT_EPARSE (not a JSON object), BT_EINVALID (a field is missing
 * or wrong: the message names it, "manifest field 'layers[2].digest': ..."), BT_EUNSUPPORTED
 * (schema 1, with a hint to re-push; unknown media types; a config that is not an image
 * config, i.e. an artifact; foreign/non-distributable layers; a layer type berth cannot unpack
 * -- each message names the type). Layer types accepted: Docker tar.gzip, tar and tar.zstd,
 * OCI tar, tar+gzip, tar+zstd. Index entries keep any media type; only eng_img_index_select
 * filters them. ret->media_type is the document's type or the one decided. ret is written only
 * on success. */
int eng_img_manifest_parse(const char *data, size_t len, const char *content_type,
                           struct eng_img_manifest *ret, struct bt_err **err);
void eng_img_manifest_release(struct eng_img_manifest *m);

/* Parse an image config. Checks that os and architecture are strings, rootfs.type is "layers"
 * and rootfs.diff_ids are at most ENG_IMG_MAX_LAYERS valid digests (an empty list is fine);
 * variant and created are optional strings (an empty variant is NULL). */
int eng_img_config_parse(const char *data, size_t len, struct eng_img_config *ret,
                         struct bt_err **err);
void eng_img_config_release(struct eng_img_config *c);

/* "linux/arm64/v8", "linux/amd64", "arm64" (os linux), "linux" (this host's architecture).
 * Normalised as containerd does: lower case, aarch64 -> arm64 (variant v8 by default),
 * x86_64 -> amd64 (variant v1 dropped), armhf -> arm/v7, armel -> arm/v6, arm -> arm/v7,
 * i386/i686 -> 386, "7" -> "v7". BT_EINVALID with a hint on anything else. */
int eng_img_platform_parse(const char *s, struct eng_img_platform *ret, struct bt_err **err);
/* The platform of this host (uname), normalised the same way. */
void eng_img_platform_host(struct eng_img_platform *ret);
void eng_img_platform_release(struct eng_img_platform *p);
/* "linux/arm64/v8" etc., as the struct says (not normalised). Returns a new string, caller
 * frees. */
char *eng_img_platform_str(const struct eng_img_platform *p);

/* The index entry (an index into idx->manifests) that best matches want, as containerd's
 * default matcher picks: both sides normalised; same os and architecture; exact variant first,
 * then compatible older variants (arm v8 > v7 > v6 > v5 down from want; arm64 v8 for any arm64;
 * for other architectures an entry without a variant). Only Docker/OCI image manifest entries
 * count; "unknown/unknown" entries (attestations) are skipped; an entry without a platform
 * matches anything, after every real match, as in containerd; ties go to the first entry.
 * No match: BT_EINVALID "no matching manifest for linux/amd64 in the manifest list entries
 * (offered: linux/arm64/v8, linux/s390x)". */
int eng_img_index_select(const struct eng_img_manifest *idx, const struct eng_img_platform *want,
                         size_t *ret_index, struct bt_err **err);

/* chain ids: chain[0] = diff_ids[0]; chain[i] = "sha256:" + hex(sha256(chain[i-1] + " " +
 * diff_ids[i])). ret is an array of n new strings; caller frees each and the array. NULL when
 * n is 0. */
char **eng_img_chain_ids(char *const *diff_ids, size_t n);
