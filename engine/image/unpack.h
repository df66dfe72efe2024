/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer unpacking: a layer archive (tar, tar+gzip, tar+zstd, detected from its first bytes)
 * becomes a directory that overlayfs takes as a lower dir. Whiteouts become overlayfs whiteouts
 * (`.wh.NAME` -> a 0:0 character device NAME; `.wh..wh..opq` -> trusted.overlay.opaque=y on the
 * directory). Hard links inside the layer, xattrs (file capabilities among them), owners,
 * modes, mtimes are kept; device nodes only when running as root.
 *
 * Nothing is ever written outside the target directory, whatever the archive says: every path
 * is resolved below the target's fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) (a
 * component-by-component O_NOFOLLOW walk where openat2 is missing), never with string checks
 * alone. An entry that would escape fails the whole unpack with a message naming the entry.
 *
 * Blocking: this reads and writes a whole layer; call it in a worker process, never on the
 * daemon's loop. A compressed layer is decompressed by a child process that it forks (and
 * reaps, by pid) so that inflating and writing run on two cores: the caller must have no
 * other threads (the child allocates) and must not reap children it does not know
 * (waitpid(-1)) while this runs.
 *
 * Names: a leading "/" or "./" is dropped (absolute names mean inside the layer), "." and empty
 * components are ignored, a ".." component fails the unpack. "" or "." is the layer root (its
 * mode, owner and mtime are applied). Entries under aufs metadata (".wh..wh.*") are skipped.
 * A later entry replaces an earlier one of the same name (a directory stays a directory).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/base/err.h"
#include "engine/base/sha256.h"

struct eng_unpack_opts {
    bool keep_owners;   /* chown to the archive's uid/gid (true when root) */
    bool allow_devices; /* create block/char devices (root only); skipped otherwise. Fifos
                         * and whiteouts are always made */
    bool walk_only;     /* resolve with the O_NOFOLLOW walk as if openat2 were missing (tests;
                         * a symlink in a parent path is then refused) */
};

struct eng_unpack_result {
    char diff_id[7 + BT_SHA256_HEX_LEN]; /* "sha256:" + hex of the uncompressed tar stream */
    uint64_t tar_size;                   /* bytes of the uncompressed tar stream */
    uint64_t entries;
};

/* The OCI media type of the layer archive in fd (tar, tar+gzip or tar+zstd), from its first
 * bytes (read with pread: the offset is left alone). */
const char *eng_layer_media_type(int fd);

/* Read the archive from fd (any file or pipe, read to its end) and unpack it into dirfd, which
 * must be an empty directory. On failure the directory holds a partial tree: the caller removes
 * it (bt_rm_tree_at, engine/base/rmtree.h). The error names the archive entry and what is wrong. */
int eng_layer_unpack(int fd, int dirfd, const struct eng_unpack_opts *opts,
                     struct eng_unpack_result *ret, struct bt_err **err);
