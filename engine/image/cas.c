/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blobs by digest and layers by chain id: see cas.h for the layout and the crash rules. Every
 * name that comes from outside (a digest, a chain id) is checked to be sha256:<64 hex> before it
 * becomes a file name, so no digest can name a path.
 */
#define LOG_TAG "cas"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/sha256.h"
#include "engine/image/cas.h"
#include "engine/image/ref.h"
#include "engine/image/unpack.h"

#define HEX_LEN 64

struct eng_cas {
    char *dir;
    int dirfd, blobs_fd, ingest_fd, layers_fd;
};

struct eng_cas_writer {
    struct eng_cas *cas;
    EVP_MD_CTX *md;
    int fd;
    char tmp[HEX_LEN + 32];            /* name in ingest/ */
    char expected[ENG_DIGEST_LEN + 1]; /* "" when none */
    uint64_t offset;
};

/* The hex part of a valid digest, or NULL. */
static const char *
digest_hex(const char *digest)
{
    return digest && eng_img_digest_is_valid(digest) ? digest + 7 : NULL;
}

static int
bad_digest(struct bt_err **err, const char *what, const char *digest)
{
    return bt_err_set(err, BT_EINVALID, "invalid %s '%.80s': want sha256:<64 hex digits>", what,
                      digest ? digest : "(none)");
}

static int
open_subdir(int dirfd, const char *name, struct bt_err **err)
{
    if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
        return bt_err_errno(err, -errno, "cannot create '%s'", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", name);
    return fd;
}

int
eng_cas_open(const char *dir, struct eng_cas **ret, struct bt_err **err)
{
    if (bt_mkdir_p(dir, 0700, err) < 0)
        return -1;
    struct eng_cas *cas = bt_xcalloc(1, sizeof *cas);
    cas->dir = bt_xstrdup(dir);
    cas->dirfd = cas->blobs_fd = cas->ingest_fd = cas->layers_fd = -1;
    cas->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cas->dirfd < 0) {
        (void) bt_err_errno(err, -errno, "cannot open '%s'", dir);
        goto fail;
    }
    int blobs = open_subdir(cas->dirfd, "blobs", err);
    if (blobs < 0)
        goto fail;
    cas->blobs_fd = open_subdir(blobs, "sha256", err);
    close(blobs);
    if (cas->blobs_fd < 0 || (cas->ingest_fd = open_subdir(cas->dirfd, "ingest", err)) < 0 ||
        (cas->layers_fd = open_subdir(cas->dirfd, "layers", err)) < 0)
        goto fail;
    *ret = cas;
    return 0;
fail:
    eng_cas_free(cas);
    return bt_err_wrap(err, "image store '%s'", dir);
}

struct eng_cas *
eng_cas_free(struct eng_cas *cas)
{
    if (!cas)
        return NULL;
    BT_CLOSE(cas->dirfd);
    BT_CLOSE(cas->blobs_fd);
    BT_CLOSE(cas->ingest_fd);
    BT_CLOSE(cas->layers_fd);
    free(cas->dir);
    free(cas);
    return NULL;
}

const char *
eng_cas_dir(const struct eng_cas *cas)
{
    return cas->dir;
}

/* A name no other writer picks at the same time: random, or pid and time if that fails. */
static unsigned long long
unique(void)
{
    unsigned long long v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t) sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = ((unsigned long long) getpid() << 40) ^ (unsigned long long) ts.tv_nsec ^
            ((unsigned long long) ts.tv_sec << 20);
    }
    return v;
}

static bool
has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

void
eng_cas_recover(struct eng_cas *cas)
{
    (void) bt_dir_clean_tmp(cas->blobs_fd);
    (void) bt_dir_clean_tmp(cas->ingest_fd);
    DIR *d = fdopendir(fcntl(cas->layers_fd, F_DUPFD_CLOEXEC, 3));
    if (!d)
        return;
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_prefix(e->d_name, ".tmp-"))
            continue;
        /* An unpack that a kill interrupted: never renamed, so never taken for complete. */
        bt_autoerr struct bt_err *err = NULL;
        if (eng_unpack_remove_tree(cas->layers_fd, e->d_name, &err) < 0)
            bt_log_warn("cannot remove '%s': %s, continuing", e->d_name, err->msg);
    }
    closedir(d);
}

/* ---- blobs ---- */

bool
eng_cas_blob_has(const struct eng_cas *cas, const char *digest)
{
    const char *hex = digest_hex(digest);
    return hex && faccessat(cas->blobs_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int64_t
eng_cas_blob_size(const struct eng_cas *cas, const char *digest)
{
    const char *hex = digest_hex(digest);
    struct stat st;
    if (!hex)
        return -EINVAL;
    if (fstatat(cas->blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return (int64_t) st.st_size;
}

int
eng_cas_blob_open(const struct eng_cas *cas, const char *digest, struct bt_err **err)
{
    const char *hex = digest_hex(digest);
    if (!hex)
        return bad_digest(err, "digest", digest);
    int fd = openat(cas->blobs_fd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "blob '%s' is not in the store", digest);
    return fd;
}

int
eng_cas_blob_read(const struct eng_cas *cas, const char *digest, size_t max, char **ret_data,
                  size_t *ret_len, struct bt_err **err)
{
    const char *hex = digest_hex(digest);
    if (!hex)
        return bad_digest(err, "digest", digest);
    return bt_file_read_at(cas->blobs_fd, hex, max, ret_data, ret_len, err);
}

int
eng_cas_blob_put(struct eng_cas *cas, const void *data, size_t len,
                 char ret_digest[ENG_DIGEST_LEN + 1], struct bt_err **err)
{
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_hex(data, len, hex);
    snprintf(ret_digest, ENG_DIGEST_LEN + 1, "sha256:%s", hex);
    if (faccessat(cas->blobs_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    return bt_file_write_atomic_at(cas->blobs_fd, hex, data, len, 0444, err);
}

int
eng_cas_blob_remove(struct eng_cas *cas, const char *digest, struct bt_err **err)
{
    const char *hex = digest_hex(digest);
    if (!hex)
        return bad_digest(err, "digest", digest);
    char partial[HEX_LEN + 16];
    snprintf(partial, sizeof partial, "%s.partial", hex);
    (void) unlinkat(cas->ingest_fd, partial, 0); /* absent is fine */
    if (unlinkat(cas->blobs_fd, hex, 0) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove blob '%s'", digest);
    return 0;
}

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
    if (expected && !(hex = digest_hex(expected)))
        return bad_digest(err, "digest", expected);
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
        snprintf(w->tmp, sizeof w->tmp, "anon-%d-%016llx.partial", (int) getpid(), unique());
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

/* ---- layers ---- */

bool
eng_cas_layer_has(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = digest_hex(chain_id);
    return hex && faccessat(cas->layers_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

char *
eng_cas_layer_diff_path(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = digest_hex(chain_id);
    BT_ASSERT(hex);
    return bt_xasprintf("%s/layers/%s/diff", cas->dir, hex);
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
    const char *hex = chain_id ? digest_hex(chain_id) : NULL;
    if (chain_id ? !hex : parent != NULL)
        return bad_digest(err, "chain id", chain_id);
    if (parent && !digest_hex(parent))
        return bad_digest(err, "chain id", parent);
    if (chain_id && eng_cas_layer_has(cas, chain_id)) {
        if (ret_diff_id && diff_id)
            snprintf(ret_diff_id, ENG_DIGEST_LEN + 1, "%s", diff_id);
        return 0;
    }
    bt_autoclose int blob_fd = eng_cas_blob_open(cas, blob, err);
    if (blob_fd < 0)
        return -1;
    char tmp[HEX_LEN + 48];
    snprintf(tmp, sizeof tmp, ".tmp-%d-%016llx", (int) getpid(), unique());
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
        hex = digest_hex(chain_id);
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
            (void) eng_unpack_remove_tree(cas->layers_fd, tmp, NULL);
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
    (void) eng_unpack_remove_tree(cas->layers_fd, tmp, NULL);
    return r;
}

int64_t
eng_cas_layer_size(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = digest_hex(chain_id);
    if (!hex)
        return -EINVAL;
    char name[HEX_LEN + 16];
    snprintf(name, sizeof name, "%s/layer.json", hex);
    bt_autofree char *text = NULL;
    size_t len;
    if (bt_file_read_at(cas->layers_fd, name, 4096, &text, &len, NULL) < 0)
        return -ENOENT;
    json_t *j = json_loadb(text, len, 0, NULL);
    int64_t size = json_integer_value(json_object_get(j, "size"));
    json_decref(j);
    return size;
}

int
eng_cas_layer_remove(struct eng_cas *cas, const char *chain_id, struct bt_err **err)
{
    const char *hex = digest_hex(chain_id);
    if (!hex)
        return bad_digest(err, "chain id", chain_id);
    char trash[HEX_LEN + 48];
    snprintf(trash, sizeof trash, ".trash-%s-%016llx", hex, unique());
    if (renameat(cas->layers_fd, hex, cas->layers_fd, trash) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove layer '%s'", chain_id);
    return 0;
}

/* Calls fn for each entry of layers/ whose name starts with prefix; returns how many. */
static int
each_prefixed(struct eng_cas *cas, const char *prefix, bool remove)
{
    int fd = fcntl(cas->layers_fd, F_DUPFD_CLOEXEC, 3);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        BT_CLOSE(fd);
        return 0;
    }
    rewinddir(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_prefix(e->d_name, prefix))
            continue;
        n++;
        if (!remove)
            break;
        bt_autoerr struct bt_err *err = NULL;
        if (eng_unpack_remove_tree(cas->layers_fd, e->d_name, &err) < 0)
            bt_log_warn("cannot remove '%s': %s, continuing", e->d_name, err->msg);
    }
    closedir(d);
    return n;
}

int
eng_cas_trash_empty(struct eng_cas *cas)
{
    return each_prefixed(cas, ".trash-", true);
}

bool
eng_cas_has_trash(const struct eng_cas *cas)
{
    return each_prefixed((struct eng_cas *) cas, ".trash-", false) > 0;
}
