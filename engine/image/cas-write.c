/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heavy half of the content store: writers that hash what they store (OpenSSL's SHA-256,
 * several times faster than the portable one on this hardware) and layer unpacking. See cas.h
 * for the layout and crash rules.
 */
#define LOG_TAG "cas"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/rmtree.h"
#include "engine/image/cas-int.h"
#include "engine/image/unpack.h"

/* Writeback of a blob being written starts every WRITEBACK_STEP bytes. */
#define WRITEBACK_STEP (8u << 20)

/* ---- writers ---- */

/* Hash what a previous writer left in the partial file, to go on from its end. */
static int
rehash(struct eng_cas_writer *w, struct bt_err **err)
{
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return bt_err_errno(err, -errno, "cannot read '%s'", w->tmp);
        if (n == 0)
            return 0;
        EVP_DigestUpdate(w->md, buf, (size_t) n);
        w->offset += (uint64_t) n;
    }
}

int
eng_cas_writer_new(struct eng_cas *cas, const char *expected, bool resume,
                   struct eng_cas_writer **ret, struct bt_err **err)
{
    const char *hex = NULL;
    if (expected && !(hex = cas_digest_hex(expected)))
        return cas_bad_digest(err, "digest", expected);
    struct eng_cas_writer *w = bt_xcalloc(1, sizeof *w);
    w->cas = cas;
    w->fd = -1;
    w->md = EVP_MD_CTX_new();
    BT_ASSERT(w->md);
    BT_ASSERT(EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) == 1);
    int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
    if (hex) {
        snprintf(w->expected, sizeof w->expected, "%s", expected);
        snprintf(w->tmp, sizeof w->tmp, "%s.partial", hex);
        if (!resume)
            flags |= O_TRUNC;
    } else {
        snprintf(w->tmp, sizeof w->tmp, "anon-%d-%016llx.partial", (int) getpid(), cas_unique());
        flags |= O_EXCL;
    }
    w->fd = openat(cas->ingest_fd, w->tmp, flags, 0600);
    if (w->fd < 0) {
        int r = bt_err_errno(err, -errno, "cannot create '%s/ingest/%s'", cas->dir, w->tmp);
        eng_cas_writer_abort(w, true);
        return r;
    }
    if (resume && hex && rehash(w, err) < 0) {
        eng_cas_writer_abort(w, false);
        return -1;
    }
    *ret = w;
    return 0;
}

int
eng_cas_writer_write(struct eng_cas_writer *w, const void *data, size_t len, struct bt_err **err)
{
    int r = bt_write_all(w->fd, data, len);
    if (r < 0)
        return bt_err_errno(err, r, "cannot write '%s/ingest/%s'", w->cas->dir, w->tmp);
    EVP_DigestUpdate(w->md, data, len);
    w->offset += len;
    /* Start writeback of every completed 8 MiB now, without waiting for it: the fsync at
     * commit, which runs on the daemon's loop, then finds little left to flush. */
    if (w->offset - w->flushed >= WRITEBACK_STEP) {
        (void) sync_file_range(w->fd, (off_t) w->flushed, (off_t) (w->offset - w->flushed),
                               SYNC_FILE_RANGE_WRITE);
        w->flushed = w->offset;
    }
    return 0;
}

uint64_t
eng_cas_writer_offset(const struct eng_cas_writer *w)
{
    return w->offset;
}

int
eng_cas_writer_restart(struct eng_cas_writer *w, struct bt_err **err)
{
    if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
        return bt_err_errno(err, -errno, "cannot truncate '%s'", w->tmp);
    BT_ASSERT(EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) == 1);
    w->offset = 0;
    w->flushed = 0;
    return 0;
}

int
eng_cas_writer_commit(struct eng_cas_writer *w, char ret_digest[ENG_DIGEST_LEN + 1],
                      struct bt_err **err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(w->md, md, &mdlen);
    char digest[ENG_DIGEST_LEN + 1] = "sha256:";
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(digest + 7 + 2 * i, 3, "%02x", md[i]);
    int r = 0;
    if (w->expected[0] && strcmp(w->expected, digest) != 0) {
        r = bt_err_set(err, BT_EINVALID, "digest mismatch: expected '%s', got '%s'", w->expected,
                       digest);
        eng_cas_writer_abort(w, false);
        return r;
    }
    if (fchmod(w->fd, 0444) < 0 || fsync(w->fd) < 0) {
        r = bt_err_errno(err, -errno, "cannot sync '%s'", w->tmp);
        eng_cas_writer_abort(w, false);
        return r;
    }
    if (renameat(w->cas->ingest_fd, w->tmp, w->cas->blobs_fd, digest + 7) < 0) {
        r = bt_err_errno(err, -errno, "cannot move blob '%s' into the store", digest);
        eng_cas_writer_abort(w, false);
        return r;
    }
    (void) fsync(w->cas->blobs_fd);
    if (ret_digest)
        memcpy(ret_digest, digest, sizeof digest);
    w->tmp[0] = '\0'; /* nothing left to remove */
    eng_cas_writer_abort(w, false);
    return 0;
}

void
eng_cas_writer_abort(struct eng_cas_writer *w, bool keep_partial)
{
    if (!w)
        return;
    if (!keep_partial && w->tmp[0])
        (void) unlinkat(w->cas->ingest_fd, w->tmp, 0);
    BT_CLOSE(w->fd);
    EVP_MD_CTX_free(w->md);
    free(w);
}

static int
write_layer_json(int dirfd, const char *chain_id, const char *parent, const char *diff_id,
                 uint64_t size, struct bt_err **err)
{
    json_t *j = json_pack("{s:s, s:s, s:s?, s:I}", "chain_id", chain_id, "diff_id", diff_id,
                          "parent", parent, "size", (json_int_t) size);
    bt_autofree char *text = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    return bt_file_write_atomic_at(dirfd, "layer.json", text, strlen(text), 0600, err);
}

int
eng_cas_layer_unpack(struct eng_cas *cas, const char *chain_id, const char *parent,
                     const char *blob, const char *diff_id, char ret_diff_id[ENG_DIGEST_LEN + 1],
                     struct bt_err **err)
{
    /* A base layer's chain id is its diff id: unknown before the unpack when not given. */
    const char *hex = chain_id ? cas_digest_hex(chain_id) : NULL;
    if (chain_id ? !hex : parent != NULL)
        return cas_bad_digest(err, "chain id", chain_id);
    if (parent && !cas_digest_hex(parent))
        return cas_bad_digest(err, "chain id", parent);
    if (chain_id && eng_cas_layer_has(cas, chain_id)) {
        if (ret_diff_id && diff_id)
            snprintf(ret_diff_id, ENG_DIGEST_LEN + 1, "%s", diff_id);
        return 0;
    }
    bt_autoclose int blob_fd = eng_cas_blob_open(cas, blob, err);
    if (blob_fd < 0)
        return -1;
    char tmp[HEX_LEN + 48];
    snprintf(tmp, sizeof tmp, ".tmp-%d-%016llx", (int) getpid(), cas_unique());
    if (mkdirat(cas->layers_fd, tmp, 0700) < 0)
        return bt_err_errno(err, -errno, "cannot create '%s/layers/%s'", cas->dir, tmp);
    int r = -1;
    bt_autoclose int tmp_fd = openat(cas->layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bt_autoclose int diff_fd = -1;
    if (tmp_fd < 0 || mkdirat(tmp_fd, "diff", 0755) < 0 ||
        (diff_fd = openat(tmp_fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        r = bt_err_errno(err, -errno, "cannot create '%s/layers/%s/diff'", cas->dir, tmp);
        goto fail;
    }
    struct eng_unpack_opts opts = { .keep_owners = geteuid() == 0,
                                    .allow_devices = geteuid() == 0 };
    struct eng_unpack_result res;
    if ((r = eng_layer_unpack(blob_fd, diff_fd, &opts, &res, err)) < 0) {
        bt_err_wrap(err, "layer '%s'", blob);
        goto fail;
    }
    if (diff_id && strcmp(diff_id, res.diff_id) != 0) {
        r = bt_err_set(err, BT_EINVALID,
                       "layer '%s': its content has digest '%s', the image config says '%s'", blob,
                       res.diff_id, diff_id);
        goto fail;
    }
    if (!chain_id) {
        chain_id = res.diff_id;
        hex = cas_digest_hex(chain_id);
    }
    if ((r = write_layer_json(tmp_fd, chain_id, parent, res.diff_id, res.tar_size, err)) < 0)
        goto fail;
    /* The tree must be on disk before its name says it is complete. */
    if (syncfs(tmp_fd) < 0) {
        r = bt_err_errno(err, -errno, "cannot sync layer '%s'", chain_id);
        goto fail;
    }
    if (renameat(cas->layers_fd, tmp, cas->layers_fd, hex) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) { /* another process was quicker: fine */
            (void) bt_rm_tree_at(cas->layers_fd, tmp, NULL);
            goto done;
        }
        r = bt_err_errno(err, -errno, "cannot move layer '%s' into the store", chain_id);
        goto fail;
    }
    (void) fsync(cas->layers_fd);
done:
    if (ret_diff_id)
        snprintf(ret_diff_id, ENG_DIGEST_LEN + 1, "%s", res.diff_id);
    return 0;
fail:
    (void) bt_rm_tree_at(cas->layers_fd, tmp, NULL);
    return r;
}
