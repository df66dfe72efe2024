/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image store's records: which images exist (manifest, config, layers with their chain
 * ids), and the references (tags and digests) that name them. Daemon only: one writer. Blobs
 * and layers live in the content-addressed half (cas.h); a record is written only once all it
 * names is there, and removing a record removes what no other record needs.
 *
 *   records/<hex>.json   one image, named by the hex of its id (the config digest)
 *   refs.json            {"docker.io/library/busybox:latest": "sha256:<id>", ...}
 *
 * A record is JSON (schemas/image-record.schema.json):
 *   {"id", "manifest": {mediaType, digest, size}, "config": {mediaType, digest, size},
 *    "layers": [{mediaType, digest, size, diff_id, chain_id}], "platform", "created",
 *    "added", "size", "repo_digests": [...], "source": "pull|load|import"}
 * Every write is atomic (bt_file_write_atomic_at); refs.json is written after the record it
 * names, so a crash leaves at worst a record no name points to (a dangling image).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "engine/base/err.h"
#include "engine/image/cas.h"

struct eng_img_store;

/* Whether a container uses the image id (rm and prune keep those). */
typedef bool (*eng_img_in_use_fn)(void *ud, const char *id);
/* Whether a container's root uses the layer chain_id: such layers stay when the image that
 * brought them is removed (rm -f), as Docker keeps a container's layers. */
typedef bool (*eng_img_layer_used_fn)(void *ud, const char *chain_id);

int eng_img_store_open(struct eng_cas *cas, struct eng_img_store **ret, struct bt_err **err);
struct eng_img_store *eng_img_store_free(struct eng_img_store *s);
struct eng_cas *eng_img_store_cas(struct eng_img_store *s);
void eng_img_store_set_layer_used(struct eng_img_store *s, eng_img_layer_used_fn fn, void *ud);

/* The record named by name: a reference ("busybox", "x:1", "x@sha256:..."), a full id
 * ("sha256:<hex>" or <hex>) or an unambiguous prefix of at least 4 hex digits. NULL with *err
 * set (ENOENT: "no such image: 'name'"; ambiguous prefix: BT_ECONFLICT). Borrowed: valid until
 * the store changes. */
const json_t *eng_img_store_find(const struct eng_img_store *s, const char *name,
                                 struct bt_err **err);
/* Every record, in no particular order: a new array of borrowed records. */
json_t *eng_img_store_list(const struct eng_img_store *s);
/* The references that name id, sorted: a new array of strings ("docker.io/library/x:1"). */
json_t *eng_img_store_refs_of(const struct eng_img_store *s, const char *id);

/* Add (or replace) a record and point refs (full references, may be NULL) at it. Everything
 * the record names must already be in the cas. The record is stolen. A reference that named
 * another image moves; that image stays, dangling, as Docker does. */
int eng_img_store_add(struct eng_img_store *s, json_t *record_steal, const char *const *refs,
                      size_t nrefs, struct bt_err **err);
/* Point target (a reference) at the image name finds. */
int eng_img_store_tag(struct eng_img_store *s, const char *name, const char *target,
                      struct bt_err **err);
/* docker image rm: a reference is untagged, and the image removed with its last reference; an
 * id removes the image (refused when several references name it, unless force; refused while a
 * container uses it, unless force). *ret_report (new) lists {"Untagged": ref} and
 * {"Deleted": id} as Docker prints them. */
int eng_img_store_remove(struct eng_img_store *s, const char *name, bool force,
                         eng_img_in_use_fn in_use, void *ud, json_t **ret_report,
                         struct bt_err **err);
/* docker image prune: dangling images (no reference), or with all every image no container
 * uses. *ret_report as for remove; *ret_reclaimed the bytes of the layers removed. */
int eng_img_store_prune(struct eng_img_store *s, bool all, eng_img_in_use_fn in_use, void *ud,
                        json_t **ret_report, struct bt_err **err);
/* Remove the blobs and layers no record names (left by replaced records, failed loads, index
 * blobs). Only while nothing adds to the content store. Returns how many went. */
int eng_img_store_sweep(struct eng_img_store *s);
/* `berth image inspect`: Docker's shape (Id, RepoTags, RepoDigests, Created, Architecture, Os,
 * Variant, Size, Config, RootFS) plus berth's Layers. A new object. */
int eng_img_store_inspect(const struct eng_img_store *s, const json_t *record, json_t **ret,
                          struct bt_err **err);
