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
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/sha256.h"
#include "engine/base/rmtree.h"
#include "engine/image/cas-int.h"
#include "engine/image/ref.h"

/* The hex part of a valid digest, or NULL. */
const char *
cas_digest_hex(const char *digest)
{
    return digest && eng_img_digest_is_valid(digest) ? digest + 7 : NULL;
}

int
cas_bad_digest(struct bt_err **err, const char *what, const char *digest)
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
unsigned long long
cas_unique(void)
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

/* A stream over dirfd's entries that leaves dirfd itself open; NULL when it cannot be read. */
static DIR *
open_entries(int dirfd)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        BT_CLOSE(fd);
        return NULL;
    }
    rewinddir(d); /* the duplicate shares dirfd's position */
    return d;
}

/* The entries of dirfd whose names start with prefix: removed (trees too) when remove, else
 * only counted up to the first. Returns how many. */
static int
each_prefixed(int dirfd, const char *prefix, bool remove)
{
    DIR *d = open_entries(dirfd);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!bt_startswith(e->d_name, prefix))
            continue;
        n++;
        if (!remove)
            break;
        bt_autoerr struct bt_err *err = NULL;
        if (bt_rm_tree_at(dirfd, e->d_name, &err) < 0)
            bt_log_warn("cannot remove '%s': %s, continuing", e->d_name, err->msg);
    }
    closedir(d);
    return n;
}

void
eng_cas_recover(struct eng_cas *cas)
{
    (void) bt_dir_clean_tmp(cas->blobs_fd);
    (void) bt_dir_clean_tmp(cas->ingest_fd);
    /* Blobs written without a known digest (archives being read) cannot be resumed. */
    (void) each_prefixed(cas->ingest_fd, "anon-", true);
    /* Unpacks that a kill interrupted: never renamed, so never taken for complete. */
    (void) each_prefixed(cas->layers_fd, ".tmp-", true);
}

/* ---- blobs ---- */

bool
eng_cas_blob_has(const struct eng_cas *cas, const char *digest)
{
    const char *hex = cas_digest_hex(digest);
    return hex && faccessat(cas->blobs_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int64_t
eng_cas_blob_size(const struct eng_cas *cas, const char *digest)
{
    const char *hex = cas_digest_hex(digest);
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
    const char *hex = cas_digest_hex(digest);
    if (!hex)
        return cas_bad_digest(err, "digest", digest);
    int fd = openat(cas->blobs_fd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "blob '%s' is not in the store", digest);
    return fd;
}

int
eng_cas_blob_read(const struct eng_cas *cas, const char *digest, size_t max, char **ret_data,
                  size_t *ret_len, struct bt_err **err)
{
    const char *hex = cas_digest_hex(digest);
    if (!hex)
        return cas_bad_digest(err, "digest", digest);
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
    const char *hex = cas_digest_hex(digest);
    if (!hex)
        return cas_bad_digest(err, "digest", digest);
    char partial[HEX_LEN + 16];
    snprintf(partial, sizeof partial, "%s.partial", hex);
    (void) unlinkat(cas->ingest_fd, partial, 0); /* absent is fine */
    if (unlinkat(cas->blobs_fd, hex, 0) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove blob '%s'", digest);
    return 0;
}

/* ---- layers ---- */

bool
eng_cas_layer_has(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = cas_digest_hex(chain_id);
    return hex && faccessat(cas->layers_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

char *
eng_cas_layers_dir(const struct eng_cas *cas)
{
    return bt_xasprintf("%s/layers", cas->dir);
}

char *
eng_cas_layer_diff_rel(const char *chain_id)
{
    const char *hex = cas_digest_hex(chain_id);
    return hex ? bt_xasprintf("%s/diff", hex) : NULL;
}

char *
eng_cas_layer_diff_path(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = cas_digest_hex(chain_id);
    BT_ASSERT(hex);
    return bt_xasprintf("%s/layers/%s/diff", cas->dir, hex);
}

int64_t
eng_cas_layer_size(const struct eng_cas *cas, const char *chain_id)
{
    const char *hex = cas_digest_hex(chain_id);
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
    const char *hex = cas_digest_hex(chain_id);
    if (!hex)
        return cas_bad_digest(err, "chain id", chain_id);
    char trash[HEX_LEN + 48];
    snprintf(trash, sizeof trash, ".trash-%s-%016llx", hex, cas_unique());
    if (renameat(cas->layers_fd, hex, cas->layers_fd, trash) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove layer '%s'", chain_id);
    return 0;
}

int
eng_cas_trash_empty(struct eng_cas *cas)
{
    return each_prefixed(cas->layers_fd, ".trash-", true);
}

bool
eng_cas_has_trash(const struct eng_cas *cas)
{
    return each_prefixed(cas->layers_fd, ".trash-", false) > 0;
}

/* The entries of dirfd that name a digest (64 hex digits) and keep() does not want: removed. */
static int
each_digest_name(int dirfd, bool layer, eng_cas_keep_fn keep, void *ud, struct eng_cas *cas)
{
    DIR *d = open_entries(dirfd);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != HEX_LEN)
            continue;
        char digest[ENG_DIGEST_LEN + 1];
        snprintf(digest, sizeof digest, "sha256:%.64s", e->d_name);
        if (!cas_digest_hex(digest) || keep(ud, digest, layer))
            continue;
        int r = layer ? eng_cas_layer_remove(cas, digest, NULL)
                      : eng_cas_blob_remove(cas, digest, NULL);
        n += r == 0;
    }
    closedir(d);
    return n;
}

int
eng_cas_sweep(struct eng_cas *cas, eng_cas_keep_fn keep, void *ud)
{
    return each_digest_name(cas->blobs_fd, false, keep, ud, cas) +
           each_digest_name(cas->layers_fd, true, keep, ud, cas);
}
