/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 as FIPS 180-4 section 6.2 describes it: 64-byte blocks, a 64-word message schedule,
 * 64 rounds, padding with 0x80, zeros and the bit length big-endian. Straightforward rather than
 * fast: compose/ hashes kilobytes, not layers.
 */
#include <string.h>

#include "engine/base/sha256.h"

/* The first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t
ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static inline uint32_t
load_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static void
compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (unsigned t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (unsigned t = 16; t < 64; t++) {
        uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (unsigned t = 0; t < 64; t++) {
        uint32_t sum1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + sum1 + ch + k[t] + w[t];
        uint32_t sum0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = sum0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void
bt_sha256_init(struct bt_sha256 *ctx)
{
    /* The first 32 bits of the fractional parts of the square roots of the first 8 primes. */
    *ctx = (struct bt_sha256){
        .h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
               0x5be0cd19 },
    };
}

void
bt_sha256_update(struct bt_sha256 *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    /* An empty update may come with a NULL pointer, which memcpy must not see. */
    if (len == 0)
        return;
    ctx->total += len;
    if (ctx->fill > 0) {
        size_t take = sizeof ctx->block - ctx->fill;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->fill, p, take);
        ctx->fill += take;
        p += take;
        len -= take;
        if (ctx->fill < sizeof ctx->block)
            return;
        compress(ctx->h, ctx->block);
        ctx->fill = 0;
    }
    /* Whole blocks straight from the caller's buffer, no copy. */
    for (; len >= sizeof ctx->block; p += sizeof ctx->block, len -= sizeof ctx->block)
        compress(ctx->h, p);
    if (len > 0)
        memcpy(ctx->block, p, len);
    ctx->fill = len;
}

void
bt_sha256_final(struct bt_sha256 *ctx, uint8_t out[BT_SHA256_LEN])
{
    uint64_t bits = ctx->total * 8;
    /* 0x80, then zeros up to 56 bytes into a block (a whole extra block when fewer than 8 bytes
     * are left for the length), then the length in bits, big-endian. */
    ctx->block[ctx->fill++] = 0x80;
    if (ctx->fill > 56) {
        memset(ctx->block + ctx->fill, 0, sizeof ctx->block - ctx->fill);
        compress(ctx->h, ctx->block);
        ctx->fill = 0;
    }
    memset(ctx->block + ctx->fill, 0, 56 - ctx->fill);
    store_be32(ctx->block + 56, (uint32_t) (bits >> 32));
    store_be32(ctx->block + 60, (uint32_t) bits);
    compress(ctx->h, ctx->block);
    for (unsigned i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->h[i]);
    /* Nothing of the message stays behind in the context. */
    memset(ctx, 0, sizeof *ctx);
}

void
bt_sha256_hex(const void *data, size_t len, char out[BT_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    struct bt_sha256 ctx;
    uint8_t md[BT_SHA256_LEN];
    bt_sha256_init(&ctx);
    bt_sha256_update(&ctx, data, len);
    bt_sha256_final(&ctx, md);
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 0xf];
    }
    out[2 * BT_SHA256_LEN] = '\0';
}
