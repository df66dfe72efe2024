/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The content store's internals, shared by cas.c (names, reads, removal: what every process
 * needs) and cas-write.c (hashing writers and layer unpacking: the heavy half, which links
 * OpenSSL and the unpacker). Not for use outside engine/image/.
 */
#pragma once

#include <openssl/evp.h>
#include <stdint.h>

#include "engine/image/cas.h"

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
    uint64_t flushed; /* writeback started up to here */
};

/* The hex part of a valid digest, or NULL. */
const char *cas_digest_hex(const char *digest);
int cas_bad_digest(struct bt_err **err, const char *what, const char *digest);
/* A name no other writer picks at the same time. */
unsigned long long cas_unique(void);
