/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole images over the content store: committing a manifest whose blobs are in the cas
 * (layers unpacked, a record built), importing a rootfs tar, loading and saving archives.
 * Every function here does unbounded disk work: call them in a worker process. The records
 * they return are added to the store by the daemon (store.h).
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/err.h"
#include "engine/image/cas.h"

/* Unpack the layers of the image manifest manifest_digest (in the cas, with its config and
 * layer blobs) and build its record (store.h's shape). source: "pull", "load", "import".
 * platform: what to record (NULL: the config's os/architecture/variant). */
int eng_img_commit(struct eng_cas *cas, const char *manifest_digest, const char *source,
                   json_t **ret_record, struct bt_err **err);

/* `berth image import`: the tar (plain, gzip or zstd) read from fd becomes a one-layer image
 * for this host's platform; changes are Dockerfile instructions (change.h); message goes into
 * the history. */
int eng_img_import(struct eng_cas *cas, int fd, const char *const *changes, size_t nchanges,
                   const char *message, json_t **ret_record, struct bt_err **err);

/* `berth image load`: a `docker save` archive (manifest.json, legacy or OCI-layout blobs) or an
 * OCI image layout archive, plain or gzip, read from fd. *ret_images is a new array of
 * {"record": {...}, "refs": ["docker.io/library/x:1", ...]}. */
int eng_img_load(struct eng_cas *cas, int fd, json_t **ret_images, struct bt_err **err);

/* `berth image save`: images is an array of {"record": {...}, "refs": [...]}; writes one tar to
 * out_fd that `docker load` and `berth image load` accept (manifest.json, repositories, and an
 * OCI image layout: oci-layout, index.json, blobs/sha256/...). */
int eng_img_save(struct eng_cas *cas, const json_t *images, int out_fd, struct bt_err **err);

/* Store everything read from fd (to its end) as one blob. */
int eng_img_blob_from_fd(struct eng_cas *cas, int fd, char ret_digest[ENG_DIGEST_LEN + 1],
                         int64_t *ret_size, struct bt_err **err);
