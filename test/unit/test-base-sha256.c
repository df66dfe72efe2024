/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/base/sha256.c: the FIPS 180-2 / NIST example messages, updates split at
 * every offset, and digests computed by sha256sum for the lengths where padding changes shape
 * (the length field fits in the last block or needs another one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/sha256.h"

static void
digest_hex(const uint8_t md[BT_SHA256_LEN], char out[BT_SHA256_HEX_LEN])
{
    for (size_t i = 0; i < BT_SHA256_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The digest of data fed in two updates, split at off. */
static void
split_hex(const uint8_t *data, size_t len, size_t off, char out[BT_SHA256_HEX_LEN])
{
    struct bt_sha256 ctx;
    uint8_t md[BT_SHA256_LEN];
    bt_sha256_init(&ctx);
    bt_sha256_update(&ctx, data, off);
    bt_sha256_update(&ctx, data + off, len - off);
    bt_sha256_final(&ctx, md);
    digest_hex(md, out);
}

static void
test_nist_vectors(void **state)
{
    (void) state;
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        /* 448 bits: the padding needs a second block. */
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        /* 896 bits. */
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
          "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[BT_SHA256_HEX_LEN];
        bt_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void
test_million_a(void **state)
{
    (void) state;
    /* Fed in odd-sized pieces so that most updates start in the middle of a block. */
    uint8_t chunk[997];
    memset(chunk, 'a', sizeof chunk);
    struct bt_sha256 ctx;
    uint8_t md[BT_SHA256_LEN];
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_init(&ctx);
    for (size_t left = 1000000; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        bt_sha256_update(&ctx, chunk, n);
        left -= n;
    }
    bt_sha256_final(&ctx, md);
    digest_hex(md, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* And in one piece. */
    uint8_t *big = malloc(1000000);
    assert_non_null(big);
    memset(big, 'a', 1000000);
    bt_sha256_hex(big, 1000000, hex);
    free(big);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Byte i of the cross-check messages; printed with the same formula for sha256sum. */
static uint8_t
pattern(size_t i)
{
    return (uint8_t) (i * 31 + 7);
}

static void
test_split_every_offset(void **state)
{
    (void) state;
    /* Three blocks and a bit: splits land before, on and after every block boundary. */
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = pattern(i);
    char whole[BT_SHA256_HEX_LEN];
    bt_sha256_hex(msg, sizeof msg, whole);
    for (size_t off = 0; off <= sizeof msg; off++) {
        char hex[BT_SHA256_HEX_LEN];
        split_hex(msg, sizeof msg, off, hex);
        if (strcmp(hex, whole) != 0) {
            print_error("split at %zu: %s, expected %s\n", off, hex, whole);
            fail();
        }
    }

    /* Byte by byte, with empty updates (NULL included) between. */
    struct bt_sha256 ctx;
    uint8_t md[BT_SHA256_LEN];
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_init(&ctx);
    for (size_t i = 0; i < sizeof msg; i++) {
        bt_sha256_update(&ctx, NULL, 0);
        bt_sha256_update(&ctx, msg + i, 1);
    }
    bt_sha256_final(&ctx, md);
    digest_hex(md, hex);
    assert_string_equal(hex, whole);
}

/* Made with: python3 -c 'import sys; sys.stdout.buffer.write(bytes((i*31+7)&255 for i in
 * range(N)))' | sha256sum */
static void
test_sha256sum_lengths(void **state)
{
    (void) state;
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        { 1, "ca358758f6d27e6cf45272937977a748fd88391db679ceda7dc7bf1f005ee879" },
        { 55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b" },
        { 56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63" },
        { 57, "5b46e502092be01b1100193e089fdda95638c12e19a1d24f308eb2c3d3ae849d" },
        { 63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076" },
        { 64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd" },
        { 65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0" },
        { 119, "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe" },
        { 120, "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656" },
        { 121, "614571410beab3df68d50132a341d338575653da8374c630441bbe380b9b3136" },
        { 127, "192409cd280e14b743642ad1343fbd3e82d9305de72c078117745a679210cc3d" },
        { 128, "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356" },
        { 129, "81e89a7b2911aaa7795f9e3d4910cb47d6cd2b00d83b8399481527261a1a7519" },
        { 1000, "5097e7d587352f5097062ae679f37bda5802d9f875aba14c8cb4d1a188ada179" },
    };
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = pattern(i);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[BT_SHA256_HEX_LEN];
        bt_sha256_hex(msg, v[i].len, hex);
        if (strcmp(hex, v[i].hex) != 0) {
            print_error("length %zu: %s, expected %s\n", v[i].len, hex, v[i].hex);
            fail();
        }
        /* The same message split in the middle of its last block. */
        split_hex(msg, v[i].len, v[i].len - v[i].len / 3, hex);
        assert_string_equal(hex, v[i].hex);
    }
}

/* A context is reusable after init, and final leaves no message bytes behind. */
static void
test_reuse(void **state)
{
    (void) state;
    struct bt_sha256 ctx;
    uint8_t md[BT_SHA256_LEN];
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_init(&ctx);
    bt_sha256_update(&ctx, "secret", 6);
    bt_sha256_final(&ctx, md);
    for (size_t i = 0; i < sizeof ctx.block; i++)
        assert_int_equal(ctx.block[i], 0);
    bt_sha256_init(&ctx);
    bt_sha256_update(&ctx, "abc", 3);
    bt_sha256_final(&ctx, md);
    digest_hex(md, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nist_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_sha256sum_lengths),
        cmocka_unit_test(test_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
