/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The byte stream of a layer: which compression its first bytes announce, the decompression
 * (zlib for gzip, multi-member included; libzstd's streaming API for zstd) and the diff_id, the
 * sha256 of the uncompressed tar exactly as it came, trailing padding included.
 *
 * A compressed layer is decompressed by a forked child that writes the plain bytes into a
 * pipe: inflating runs on one core while the parent parses and writes files on the other (GNU
 * tar -xz does the same with a gzip process). The parent hashes what it reads. The child
 * reports an error as text on a second pipe and exits; it never returns into the caller.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/image/manifest.h"
#include "engine/image/unpack-int.h"
#include "engine/image/unpack.h"

/* The child's buffers: bigger ones do not inflate faster. */
#define CHILD_BLOCK (256 * 1024)
/* The longest error text the child sends. */
#define CHILD_MSG_MAX 512

static const uint8_t gzip_magic[] = { 0x1f, 0x8b };
static const uint8_t zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };

enum unpack_compression
unpack_compression_detect(const uint8_t *p, size_t n)
{
    if (n >= sizeof gzip_magic && memcmp(p, gzip_magic, sizeof gzip_magic) == 0)
        return UNPACK_GZIP;
    if (n >= sizeof zstd_magic && memcmp(p, zstd_magic, sizeof zstd_magic) == 0)
        return UNPACK_ZSTD;
    return UNPACK_PLAIN;
}

const char *
eng_layer_media_type(int fd)
{
    uint8_t head[sizeof zstd_magic];
    ssize_t n = pread(fd, head, sizeof head, 0);
    switch (unpack_compression_detect(head, n > 0 ? (size_t) n : 0)) {
    case UNPACK_GZIP:
        return ENG_MT_OCI_LAYER_GZIP;
    case UNPACK_ZSTD:
        return ENG_MT_OCI_LAYER_ZSTD;
    case UNPACK_PLAIN:
        break;
    }
    return ENG_MT_OCI_LAYER;
}

const char *
unpack_compression_str(enum unpack_compression c)
{
    switch (c) {
    case UNPACK_GZIP:
        return "gzip";
    case UNPACK_ZSTD:
        return "zstd";
    case UNPACK_PLAIN:
        break;
    }
    return "tar";
}

/* ---- the child ------------------------------------------------------------------------- */

struct child {
    int in, out;
    uint8_t *ibuf, *obuf;
    size_t ilen; /* bytes in ibuf */
    bool in_eof;
    char msg[CHILD_MSG_MAX];
};

static int BT_PRINTF(2, 3) child_fail(struct child *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void) vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Refill ibuf when empty; returns bytes available (0 at the end) or -1. */
static ssize_t
child_fill(struct child *c)
{
    if (c->ilen > 0 || c->in_eof)
        return (ssize_t) c->ilen;
    for (;;) {
        ssize_t n = read(c->in, c->ibuf, CHILD_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return child_fail(c, "cannot read the layer: %s", strerror(errno));
        if (n == 0)
            c->in_eof = true;
        c->ilen = (size_t) n;
        return n;
    }
}

/* The next input block once the last is used up: its length, 0 at the end, -1 on error (an
 * end that is not at a member or frame boundary, what says which, is one). */
static ssize_t
child_refill(struct child *c, bool at_boundary, const char *what)
{
    c->ilen = 0;
    ssize_t n = child_fill(c);
    if (n == 0 && !at_boundary)
        return child_fail(c, "%s: unexpected end of the compressed stream", what);
    return n;
}

static int
child_put(struct child *c, size_t n)
{
    if (n == 0)
        return 0;
    int r = bt_write_all(c->out, c->obuf, n);
    if (r == -EPIPE)
        _exit(0); /* the parent stopped reading: it has its own error to report */
    if (r < 0)
        return child_fail(c, "cannot write to the pipe: %s", strerror(-r));
    return 0;
}

/* After a gzip member: zero bytes (padding some tools add) may follow up to the end. */
static int
gzip_skip_zeros(struct child *c, z_stream *z)
{
    for (;;) {
        for (size_t i = 0; i < z->avail_in; i++)
            if (z->next_in[i] != 0)
                return child_fail(c, "gzip: unexpected data after the end of the stream");
        z->avail_in = 0;
        c->ilen = 0;
        ssize_t n = child_fill(c);
        if (n <= 0)
            return (int) n;
        z->next_in = c->ibuf;
        z->avail_in = (uInt) n;
    }
}

static int
child_gunzip(struct child *c)
{
    z_stream z = { 0 };
    /* 16 + MAX_WBITS: gzip framing only; a zlib or raw stream is an error. */
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return child_fail(c, "gzip: cannot initialise zlib");
    z.next_in = c->ibuf;
    z.avail_in = (uInt) c->ilen;
    bool member_done = false;
    int ret = 0;
    for (;;) {
        if (z.avail_in == 0) {
            ssize_t n = child_refill(c, member_done, "gzip");
            if (n <= 0) {
                ret = (int) n;
                break;
            }
            z.next_in = c->ibuf;
            z.avail_in = (uInt) n;
        }
        if (member_done) {
            /* Another member (concatenated gzip files are one stream), or padding. */
            if (z.next_in[0] == 0) {
                ret = gzip_skip_zeros(c, &z);
                break;
            }
            if (z.next_in[0] != gzip_magic[0]) {
                ret = child_fail(c, "gzip: unexpected data after the end of the stream");
                break;
            }
            (void) inflateReset(&z);
            member_done = false;
        }
        z.next_out = c->obuf;
        z.avail_out = CHILD_BLOCK;
        int r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            member_done = true;
        else if (r != Z_OK && r != Z_BUF_ERROR) {
            ret = child_fail(c, "gzip: %s", z.msg ? z.msg : "invalid compressed data");
            break;
        }
        if (child_put(c, CHILD_BLOCK - z.avail_out) < 0) {
            ret = -1;
            break;
        }
    }
    (void) inflateEnd(&z);
    return ret;
}

static int
child_unzstd(struct child *c)
{
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d)
        return child_fail(c, "zstd: cannot allocate the decoder");
    /* The window stays at libzstd's default ceiling (128 MiB): larger frames are refused. */
    (void) ZSTD_initDStream(d);
    ZSTD_inBuffer in = { c->ibuf, c->ilen, 0 };
    size_t last = 0; /* 0: at a frame boundary */
    bool flushed = true;
    int ret = 0;
    for (;;) {
        if (in.pos == in.size && flushed) {
            ssize_t n = child_refill(c, last == 0, "zstd");
            if (n <= 0) {
                ret = (int) n;
                break;
            }
            in = (ZSTD_inBuffer){ c->ibuf, (size_t) n, 0 };
        }
        ZSTD_outBuffer out = { c->obuf, CHILD_BLOCK, 0 };
        size_t r = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(r)) {
            ret = child_fail(c, "zstd: %s", ZSTD_getErrorName(r));
            break;
        }
        last = r;
        flushed = out.pos < out.size;
        if (child_put(c, out.pos) < 0) {
            ret = -1;
            break;
        }
    }
    ZSTD_freeDStream(d);
    return ret;
}

BT_NORETURN static void
child_main(struct unpack_src *src, int in, const uint8_t *prefix, size_t prefix_len, int out,
           int result)
{
    /* A closed pipe must give EPIPE, not kill the child before it can say why. */
    struct sigaction sa = { .sa_handler = SIG_IGN };
    (void) sigaction(SIGPIPE, &sa, NULL);
    struct child c = {
        .in = in,
        .out = out,
        .ibuf = bt_xmalloc(CHILD_BLOCK),
        .obuf = bt_xmalloc(CHILD_BLOCK),
        .ilen = prefix_len,
    };
    memcpy(c.ibuf, prefix, prefix_len);
    int r = src->comp == UNPACK_GZIP ? child_gunzip(&c) : child_unzstd(&c);
    if (r < 0) {
        (void) bt_write_all(result, c.msg, strlen(c.msg));
        _exit(1);
    }
    _exit(0);
}

/* ---- the parent ------------------------------------------------------------------------ */

static int
start_child(struct unpack_src *src, int fd, const uint8_t *prefix, size_t prefix_len,
            struct bt_err **err)
{
    int data[2], result[2];
    if (pipe2(data, O_CLOEXEC) < 0)
        return bt_err_errno(err, -errno, "cannot create a pipe");
    if (pipe2(result, O_CLOEXEC) < 0) {
        int r = -errno;
        (void) close(data[0]);
        (void) close(data[1]);
        return bt_err_errno(err, r, "cannot create a pipe");
    }
    /* Fewer, larger reads; the ceiling (fs.pipe-max-size) may refuse it, which only costs
     * speed. */
    (void) fcntl(data[1], F_SETPIPE_SZ, UNPACK_BLOCK);
    pid_t pid = fork();
    if (pid < 0) {
        int r = -errno;
        (void) close(data[0]);
        (void) close(data[1]);
        (void) close(result[0]);
        (void) close(result[1]);
        return bt_err_errno(err, r, "cannot fork the %s decompressor",
                            unpack_compression_str(src->comp));
    }
    if (pid == 0) {
        (void) close(data[0]);
        (void) close(result[0]);
        child_main(src, fd, prefix, prefix_len, data[1], result[1]);
    }
    (void) close(data[1]);
    (void) close(result[1]);
    src->child = pid;
    src->fd = data[0];
    src->result_fd = result[0];
    return 0;
}

int
unpack_src_open(struct unpack_src *src, int fd, struct bt_err **err)
{
    *src = (struct unpack_src){ .fd = -1, .result_fd = -1 };
    uint8_t head[sizeof src->prefix];
    size_t n = 0;
    while (n < sizeof head) {
        ssize_t r = read(fd, head + n, sizeof head - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return bt_err_errno(err, -errno, "cannot read the layer");
        if (r == 0)
            break;
        n += (size_t) r;
    }
    src->sha = EVP_MD_CTX_new();
    if (!src->sha || EVP_DigestInit_ex(src->sha, EVP_sha256(), NULL) != 1)
        return bt_err_set(err, ENOMEM, "cannot initialise sha256");
    src->buf = bt_xmalloc(UNPACK_BLOCK);
    src->comp = unpack_compression_detect(head, n);
    if (src->comp != UNPACK_PLAIN)
        return start_child(src, fd, head, n, err);
    src->fd = fd;
    memcpy(src->prefix, head, n);
    src->prefix_len = n;
    return 0;
}

ssize_t
unpack_src_read(struct unpack_src *src)
{
    if (src->eof)
        return 0;
    size_t have = 0;
    if (src->prefix_off < src->prefix_len) {
        have = src->prefix_len - src->prefix_off;
        memcpy(src->buf, src->prefix + src->prefix_off, have);
        src->prefix_off = src->prefix_len;
    }
    /* Fill a good part of the block: libarchive hands file data out in the pieces it gets, and
     * each piece costs a write. */
    while (have < UNPACK_BLOCK / 4) {
        ssize_t n = read(src->fd, src->buf + have, UNPACK_BLOCK - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            src->eof = true;
            break;
        }
        have += (size_t) n;
    }
    if (have > 0 && EVP_DigestUpdate(src->sha, src->buf, have) != 1)
        return -EIO;
    src->size += have;
    return (ssize_t) have;
}

/* Wait for the child and read its report. Returns 0 or the error of a failed child. */
static int
reap_child(struct unpack_src *src, struct bt_err **err)
{
    char msg[CHILD_MSG_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(src->result_fd, msg + len, CHILD_MSG_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t) n) == CHILD_MSG_MAX)
            break;
    }
    msg[len] = '\0';
    int st = 0;
    while (waitpid(src->child, &st, 0) < 0 && errno == EINTR)
        ;
    src->child = 0;
    if (len > 0)
        return bt_err_set(err, BT_EINVALID, "cannot decompress the layer: %s", msg);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return bt_err_set(err, EIO, "the %s decompressor failed (status 0x%x)",
                          unpack_compression_str(src->comp), (unsigned) st);
    return 0;
}

int
unpack_src_finish(struct unpack_src *src, char *ret_diff_id, size_t diff_id_size,
                  struct bt_err **err)
{
    for (;;) {
        ssize_t n = unpack_src_read(src);
        if (n < 0)
            return bt_err_errno(err, (int) n, "cannot read the layer");
        if (n == 0)
            break;
    }
    if (src->child > 0 && reap_child(src, err) < 0)
        return -BT_EINVALID;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(src->sha, md, &mdlen) != 1 || mdlen != 32)
        return bt_err_set(err, EIO, "cannot compute the diff_id");
    size_t off = (size_t) snprintf(ret_diff_id, diff_id_size, "sha256:");
    for (unsigned i = 0; i < mdlen && off + 2 < diff_id_size; i++)
        off += (size_t) snprintf(ret_diff_id + off, diff_id_size - off, "%02x", md[i]);
    return 0;
}

int
unpack_src_child_error(struct unpack_src *src, struct bt_err **err)
{
    if (src->child <= 0 || !src->eof)
        return 0;
    return reap_child(src, err);
}

void
unpack_src_release(struct unpack_src *src)
{
    if (src->child > 0) {
        /* Our own child, by pid: it may be blocked reading a slow input. */
        (void) kill(src->child, SIGKILL);
        while (waitpid(src->child, NULL, 0) < 0 && errno == EINTR)
            ;
        src->child = 0;
    }
    if (src->comp != UNPACK_PLAIN)
        BT_CLOSE(src->fd);
    src->fd = -1;
    BT_CLOSE(src->result_fd);
    EVP_MD_CTX_free(src->sha);
    src->sha = NULL;
    free(src->buf);
    src->buf = NULL;
}
