/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of layer unpacking, shared by unpack.c (entries, paths) and unpack-src.c (the byte
 * stream: compression detection, decompression, the diff_id). Not for use outside
 * engine/image/ (the unit tests include it to test the name rules).
 */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/base/err.h"

/* Bytes of one read from the source: also the largest write of file data. */
#define UNPACK_BLOCK (1024 * 1024)

enum unpack_compression {
    UNPACK_PLAIN,
    UNPACK_GZIP,
    UNPACK_ZSTD,
};

/*
 * The uncompressed tar stream. A plain tar is read from the fd directly; a compressed one is
 * decompressed by a child process (so inflating and writing files run on two cores) and comes
 * through a pipe. Either way this side hashes every byte it hands out.
 */
struct unpack_src {
    enum unpack_compression comp;
    int fd;            /* borrowed input (plain) or the pipe from the child (owned) */
    int result_fd;     /* the child's report: "" on success or its error text (owned) */
    pid_t child;       /* 0 when none */
    uint8_t prefix[8]; /* the first bytes, read to detect the compression (plain only) */
    size_t prefix_len; /* bytes of prefix not handed out yet */
    size_t prefix_off; /* next byte of prefix to hand out */
    bool eof;          /* the stream has ended */
    EVP_MD_CTX *sha;   /* the diff_id */
    uint64_t size;     /* bytes handed out */
    uint8_t *buf;      /* UNPACK_BLOCK bytes */
};

/* Read the first bytes of fd, pick the decompressor, start the child when compressed. */
int unpack_src_open(struct unpack_src *src, int fd, struct bt_err **err);
/* Up to UNPACK_BLOCK uncompressed bytes into src->buf; returns the count, 0 at the end, or a
 * negative errno (the details come from unpack_src_finish). */
ssize_t unpack_src_read(struct unpack_src *src);
/* Read what is left (hashing it), reap the child and write the diff_id ("sha256:<hex>").
 * A decompression error from the child is reported here. */
int unpack_src_finish(struct unpack_src *src, char *ret_diff_id, size_t diff_id_size,
                      struct bt_err **err);
/* After the stream ended early: the child's own error (a corrupt gzip stream explains a
 * truncated tar better than libarchive can), or 0. */
int unpack_src_child_error(struct unpack_src *src, struct bt_err **err);
/* Stop the child (if any) and free everything; safe on a half-opened source and twice. */
void unpack_src_release(struct unpack_src *src);
const char *unpack_compression_str(enum unpack_compression c);
enum unpack_compression unpack_compression_detect(const uint8_t *p, size_t n);

/* The name rules. Writes the cleaned relative path of an archive name to out: leading "/" and
 * "./" removed, "." and empty components dropped, no trailing "/", "" for the layer root.
 * Returns 0, -EINVAL for a ".." component, -ENAMETOOLONG when it does not fit in size bytes
 * (PATH_MAX is the ceiling) or a component is longer than NAME_MAX. */
int eng_unpack_name_clean(const char *name, char *out, size_t size);

/* What a final path component means for overlayfs. */
enum unpack_wh {
    UNPACK_WH_NONE,   /* an ordinary name */
    UNPACK_WH_FILE,   /* ".wh.NAME": whiteout of NAME */
    UNPACK_WH_OPAQUE, /* ".wh..wh..opq": the directory is opaque */
    UNPACK_WH_META,   /* other ".wh..wh.*": aufs metadata, skipped */
    UNPACK_WH_BAD,    /* ".wh." + "", "." or "..": refused */
};
/* Classify base (one component); for UNPACK_WH_FILE *ret_target points at NAME inside base. */
enum unpack_wh eng_unpack_whiteout_kind(const char *base, const char **ret_target);
