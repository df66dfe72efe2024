/* SPDX-License-Identifier: Apache-2.0 */
/*
 * regclient: drives the registry client (engine/image/registry.h) on its own event loop for the
 * system tests (202-registry-client.bats). One command a run; errors go to stderr as
 * "regclient: MESSAGE" with exit status 1.
 *
 *   regclient [OPTIONS] manifest HOST PATH REF
 *   regclient [OPTIONS] blob HOST PATH DIGEST OUTFILE [OFFSET]
 *   regclient [OPTIONS] exists HOST PATH DIGEST
 *   regclient [OPTIONS] push-blob HOST PATH FILE [MOUNT_FROM]
 *   regclient [OPTIONS] put-manifest HOST PATH REF FILE MEDIA_TYPE
 *   regclient [OPTIONS] check HOST
 * OPTIONS: --insecure HOST, --certs-dir DIR, --user U, --password P, --identity-token T,
 *   --chunk BYTES (push-blob), --cancel-after BYTES (blob: cancel once that many arrived),
 *   --debug.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/sha256.h"
#include "engine/image/registry.h"

struct run {
    struct event_base *base;
    int status; /* the done callback's r */
    struct bt_err *err;
    bool finished;
    int out_fd;
    struct bt_sha256 sha;
    uint64_t bytes, cancel_after;
    struct eng_reg_req *req;
};

static void
print_hex(const char *label, const uint8_t *md)
{
    printf("%ssha256:", label);
    for (size_t i = 0; i < BT_SHA256_LEN; i++)
        printf("%02x", md[i]);
    printf("\n");
}

static void
on_done(void *ud, int r, struct bt_err *err)
{
    struct run *run = ud;
    run->status = r;
    run->err = err;
    run->finished = true;
    (void) event_base_loopbreak(run->base);
}

static void
on_manifest(void *ud, int r, const char *body, size_t len, const char *content_type,
            const char *server_digest, struct bt_err *err)
{
    struct run *run = ud;
    if (r == 0) {
        uint8_t md[BT_SHA256_LEN];
        bt_sha256_init(&run->sha);
        bt_sha256_update(&run->sha, body, len);
        bt_sha256_final(&run->sha, md);
        printf("content-type: %s\n", content_type ? content_type : "");
        printf("server-digest: %s\n", server_digest ? server_digest : "");
        print_hex("digest: ", md);
        printf("bytes: %zu\n\n", len);
        fwrite(body, 1, len, stdout);
        printf("\n");
    }
    on_done(run, r, err);
}

static int
on_data(void *ud, const void *data, size_t len, struct bt_err **sink_err)
{
    struct run *run = ud;
    int r = bt_write_all(run->out_fd, data, len);
    if (r < 0)
        return bt_err_errno(sink_err, r, "cannot write the blob");
    bt_sha256_update(&run->sha, data, len);
    run->bytes += len;
    if (run->cancel_after && run->bytes >= run->cancel_after && run->req) {
        eng_reg_req_cancel(run->req);
        run->req = NULL;
    }
    return 0;
}

/* The sha256 of a file and its size. */
static int
file_digest(int fd, char ret[8 + BT_SHA256_HEX_LEN], uint64_t *ret_size)
{
    struct bt_sha256 sha;
    uint8_t md[BT_SHA256_LEN], buf[65536];
    uint64_t size = 0;
    ssize_t n;
    bt_sha256_init(&sha);
    while ((n = pread(fd, buf, sizeof buf, (off_t) size)) > 0) {
        bt_sha256_update(&sha, buf, (size_t) n);
        size += (uint64_t) n;
    }
    if (n < 0)
        return -errno;
    bt_sha256_final(&sha, md);
    memcpy(ret, "sha256:", 7);
    for (size_t i = 0; i < BT_SHA256_LEN; i++)
        (void) snprintf(ret + 7 + 2 * i, 3, "%02x", md[i]);
    *ret_size = size;
    return 0;
}

static int
usage(void)
{
    fprintf(stderr, "usage: regclient [--insecure HOST] [--certs-dir DIR] [--user U --password P]"
                    " manifest|blob|exists|push-blob|put-manifest|check ...\n");
    return 2;
}

/* Start the command's request; returns NULL with a message on bad arguments. */
static struct eng_reg_req *
start(struct eng_reg *reg, struct eng_reg_repo *repo, const char *cmd, int argc, char **argv,
      struct run *run, uint64_t chunk, const struct eng_reg_auth *auth)
{
    if (strcmp(cmd, "check") == 0)
        return eng_reg_check(reg, argv[0], auth, on_done, run);
    if (strcmp(cmd, "manifest") == 0 && argc == 3)
        return eng_reg_manifest_get(repo, argv[2], on_manifest, run);
    if (strcmp(cmd, "exists") == 0 && argc == 3)
        return eng_reg_blob_exists(repo, argv[2], on_done, run);
    if (strcmp(cmd, "blob") == 0 && (argc == 4 || argc == 5)) {
        uint64_t off = 0;
        if (argc == 5 && bt_parse_u64(argv[4], &off) < 0)
            return NULL;
        run->out_fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (run->out_fd < 0)
            return NULL;
        bt_sha256_init(&run->sha);
        return eng_reg_blob_get(repo, argv[2], off, on_data, on_done, run);
    }
    if (strcmp(cmd, "push-blob") == 0 && (argc == 3 || argc == 4)) {
        char digest[8 + BT_SHA256_HEX_LEN];
        uint64_t size;
        run->out_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (run->out_fd < 0 || file_digest(run->out_fd, digest, &size) < 0)
            return NULL;
        printf("digest: %s\nbytes: %llu\n", digest, (unsigned long long) size);
        return eng_reg_blob_put(repo, digest, run->out_fd, size, argc == 4 ? argv[3] : NULL, chunk,
                                on_done, run);
    }
    if (strcmp(cmd, "put-manifest") == 0 && argc == 5) {
        bt_autofree char *body = NULL;
        size_t len;
        if (bt_file_read_at(AT_FDCWD, argv[3], 4 << 20, &body, &len, NULL) < 0)
            return NULL;
        return eng_reg_manifest_put(repo, argv[2], body, len, argv[4], on_done, run);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "insecure", required_argument, NULL, 'i' },
        { "certs-dir", required_argument, NULL, 'c' },
        { "user", required_argument, NULL, 'u' },
        { "password", required_argument, NULL, 'p' },
        { "identity-token", required_argument, NULL, 't' },
        { "chunk", required_argument, NULL, 'k' },
        { "cancel-after", required_argument, NULL, 'a' },
        { "debug", no_argument, NULL, 'd' },
        {},
    };
    const char *insecure[8];
    struct eng_reg_opts opts = { .insecure = insecure };
    struct eng_reg_auth auth = { 0 };
    struct run run = { .out_fd = -1 };
    uint64_t chunk = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (opts.ninsecure < BT_ARRAY_SIZE(insecure))
                insecure[opts.ninsecure++] = optarg;
            break;
        case 'c':
            opts.certs_dir = optarg;
            break;
        case 'u':
            auth.username = optarg;
            break;
        case 'p':
            auth.password = optarg;
            break;
        case 't':
            auth.identity_token = optarg;
            break;
        case 'k':
            if (bt_parse_u64(optarg, &chunk) < 0)
                return usage();
            break;
        case 'a':
            if (bt_parse_u64(optarg, &run.cancel_after) < 0)
                return usage();
            break;
        case 'd':
            bt_log_set_level(BT_LOG_DEBUG);
            break;
        default:
            return usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 2 || (strcmp(argv[0], "check") != 0 && argc < 4))
        return usage();
    const char *cmd = argv[0];
    bool has_auth = auth.username || auth.identity_token;
    run.base = event_base_new();
    struct eng_reg *reg = NULL;
    struct bt_err *err = NULL;
    if (eng_reg_new(run.base, &opts, &reg, &err) < 0) {
        fprintf(stderr, "regclient: %s\n", err->msg);
        return 1;
    }
    bool push = strcmp(cmd, "push-blob") == 0 || strcmp(cmd, "put-manifest") == 0;
    struct eng_reg_repo *repo =
        strcmp(cmd, "check") == 0
            ? NULL
            : eng_reg_repo_new(reg, argv[1], argv[2], has_auth ? &auth : NULL, push);
    run.req = start(reg, repo, cmd, argc - 1, argv + 1, &run, chunk, has_auth ? &auth : NULL);
    int rc = 0;
    if (!run.req) {
        fprintf(stderr, "regclient: bad arguments for '%s': %s\n", cmd, strerror(errno));
        rc = 2;
    } else {
        (void) event_base_dispatch(run.base);
        if (!run.finished) {
            fprintf(stderr, "regclient: the loop ran dry before the request finished\n");
            rc = 1;
        } else if (run.status < 0) {
            bt_autofree char *text = bt_err_text(run.err);
            fprintf(stderr, "regclient: %s (%s)\n", text, bt_err_code_str(-run.status));
            rc = 1;
        } else if (strcmp(cmd, "exists") == 0) {
            printf("%s\n", run.status == 1 ? "yes" : "no");
        } else if (strcmp(cmd, "blob") == 0) {
            uint8_t md[BT_SHA256_LEN];
            bt_sha256_final(&run.sha, md);
            printf("bytes: %llu\n", (unsigned long long) run.bytes);
            print_hex("digest: ", md);
        } else {
            printf("ok\n");
        }
    }
    bt_err_free(run.err);
    BT_CLOSE(run.out_fd);
    eng_reg_repo_unref(repo);
    eng_reg_free(reg);
    event_base_free(run.base);
    curl_global_cleanup();
    return rc;
}
