/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 (FIPS 180-4), libc only, for the modules that may not link OpenSSL (compose/ hashes
 * each service's canonical configuration with it). Incremental: init, any number of updates,
 * final. Not constant-time and not meant for secrets; engine/ verifies image digests with
 * OpenSSL.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BT_SHA256_LEN 32
/* Lowercase hex and the NUL. */
#define BT_SHA256_HEX_LEN (2 * BT_SHA256_LEN + 1)

struct bt_sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t fill; /* bytes waiting in block */
};

void bt_sha256_init(struct bt_sha256 *ctx);
void bt_sha256_update(struct bt_sha256 *ctx, const void *data, size_t len);
/* Writes the digest; ctx must be initialised again before reuse. */
void bt_sha256_final(struct bt_sha256 *ctx, uint8_t out[BT_SHA256_LEN]);

/* The digest of data as 64 lowercase hex characters and a NUL. */
void bt_sha256_hex(const void *data, size_t len, char out[BT_SHA256_HEX_LEN]);
