/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The content-addressed half of the image store: blobs by digest and unpacked layers by chain
 * id, under <root>/images. Everything here is named by its content and appears by one rename
 * once complete and synced, so any process (the daemon, a worker) may add to it at the same
 * time, and a kill at any moment leaves nothing that looks complete and is not:
 *
 *   blobs/sha256/<hex>         a verified blob (read-only)
 *   ingest/<hex>.partial       bytes of a blob being fetched (resumable; verified at commit)
 *   layers/<hex>/diff/         an unpacked layer, the overlayfs lower dir (hex of the chain id)
 *   layers/<hex>/layer.json    {"chain_id", "diff_id", "parent", "size"}
 *   layers/.tmp-*, .trash-*    an unpack in progress, a layer being removed
 *
 * Which blobs and layers are still wanted is the records' business (store.h). Blocking: blob
 * writes are bounded by what the caller feeds; eng_cas_layer_unpack() and
 * eng_cas_trash_empty() do unbounded disk work and belong in a worker process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/base/err.h"

#define ENG_DIGEST_LEN (7 + 64) /* "sha256:" + hex */

struct eng_cas;

/* Open (and create) the store directory dir: "<root>/images". */
int eng_cas_open(const char *dir, struct eng_cas **ret, struct bt_err **err);
struct eng_cas *eng_cas_free(struct eng_cas *cas);
const char *eng_cas_dir(const struct eng_cas *cas);
/* At daemon start: remove unpacks in progress (layers/.tmp-*) and stray temp files. Partial
 * blobs stay, to be resumed. */
void eng_cas_recover(struct eng_cas *cas);

/* ---- blobs ---- */
bool eng_cas_blob_has(const struct eng_cas *cas, const char *digest);
/* Size of a complete blob, or -errno. */
int64_t eng_cas_blob_size(const struct eng_cas *cas, const char *digest);
/* Open a complete blob read-only. Returns the fd or a negative error. */
int eng_cas_blob_open(const struct eng_cas *cas, const char *digest, struct bt_err **err);
/* Read a whole blob of at most max bytes (NUL-terminated, caller frees). */
int eng_cas_blob_read(const struct eng_cas *cas, const char *digest, size_t max, char **ret_data,
                      size_t *ret_len, struct bt_err **err);
/* Store bytes held in memory; *ret_digest gets their digest. A blob already there is kept. */
int eng_cas_blob_put(struct eng_cas *cas, const void *data, size_t len,
                     char ret_digest[ENG_DIGEST_LEN + 1], struct bt_err **err);
/* Remove a blob (and any partial download of it); absent is fine. */
int eng_cas_blob_remove(struct eng_cas *cas, const char *digest, struct bt_err **err);

/* A blob being written: bytes are hashed (SHA-256, OpenSSL) as they come. */
struct eng_cas_writer;
/* expected: the digest the bytes must have, or NULL (then the writer names the blob at commit).
 * With an expected digest the bytes go to ingest/<hex>.partial, and resume keeps what a
 * previous writer left there (rehashed now): eng_cas_writer_offset() tells where to go on. */
int eng_cas_writer_new(struct eng_cas *cas, const char *expected, bool resume,
                       struct eng_cas_writer **ret, struct bt_err **err);
int eng_cas_writer_write(struct eng_cas_writer *w, const void *data, size_t len,
                         struct bt_err **err);
uint64_t eng_cas_writer_offset(const struct eng_cas_writer *w);
/* Drop the bytes written so far and start again from zero (a server ignored a Range). */
int eng_cas_writer_restart(struct eng_cas_writer *w, struct bt_err **err);
/* Verify (a mismatch removes the bytes and fails naming both digests), sync, and move into
 * blobs/. *ret_digest (may be NULL) gets the digest. Frees the writer in every case. */
int eng_cas_writer_commit(struct eng_cas_writer *w, char ret_digest[ENG_DIGEST_LEN + 1],
                          struct bt_err **err);
/* Give up: keep_partial leaves the bytes for a later resume. NULL is fine. */
void eng_cas_writer_abort(struct eng_cas_writer *w, bool keep_partial);

/* ---- layers ---- */
bool eng_cas_layer_has(const struct eng_cas *cas, const char *chain_id);
/* "<dir>/layers", and "<hex>/diff" relative to it (NULL for a malformed chain id): overlayfs
 * options name lower dirs relative to the layers dir to stay under a page. New strings. */
char *eng_cas_layers_dir(const struct eng_cas *cas);
char *eng_cas_layer_diff_rel(const char *chain_id);
/* "<dir>/layers/<hex>/diff". Returns a new string, caller frees. */
char *eng_cas_layer_diff_path(const struct eng_cas *cas, const char *chain_id);
/* Unpack blob (a layer archive) as chain_id on top of parent (NULL for the first layer; then
 * chain_id may be NULL too: a base layer's chain id is its diff id, learnt while unpacking). The
 * uncompressed stream must hash to diff_id (when not NULL): a mismatch fails and leaves
 * nothing. *ret_diff_id (may be NULL) gets the diff id found. A layer already there is kept.
 * Blocking: run it in a worker. */
int eng_cas_layer_unpack(struct eng_cas *cas, const char *chain_id, const char *parent,
                         const char *blob, const char *diff_id,
                         char ret_diff_id[ENG_DIGEST_LEN + 1], struct bt_err **err);
/* The uncompressed size of a layer (from its layer.json), or -errno. */
int64_t eng_cas_layer_size(const struct eng_cas *cas, const char *chain_id);
/* Make a layer disappear at once (renamed to a .trash- entry); eng_cas_trash_empty() frees
 * the space later. */
int eng_cas_layer_remove(struct eng_cas *cas, const char *chain_id, struct bt_err **err);
/* Remove every .trash- entry. Blocking: run it in a worker. Returns how many went. */
int eng_cas_trash_empty(struct eng_cas *cas);
/* Remove every blob and layer keep() says no to (digest is a blob digest, or with layer a
 * chain id). Only when nothing is being added: a pull's blobs have no record yet. Returns how
 * many went. */
typedef bool (*eng_cas_keep_fn)(void *ud, const char *digest, bool layer);
int eng_cas_sweep(struct eng_cas *cas, eng_cas_keep_fn keep, void *ud);
/* Whether the store has trash waiting. */
bool eng_cas_has_trash(const struct eng_cas *cas);
