/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The short syntax parsers of compose/short.h against tables of inputs and the exact results
 * docker compose gives for them: durations and their text, sizes, ports, volumes, command
 * strings, extra_hosts and environment entries, valid and invalid.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/short.h"
#include "engine/base/buf.h"

#define INVALID INT64_MIN /* in a table: the input must be rejected */

/* The input of the table row being checked; NULL once a test went through all its rows. */
static const char *row;

/* After a test: a row still set is the one that failed, named here since the assertion that
 * failed does not show it. */
static int
show_row(void **state)
{
    (void) state;
    if (row)
        print_error("# failed on input '%s'\n", row);
    row = NULL;
    return 0;
}

/* Runs f on every row; for an invalid row checks the error is set, coded and worded. */
#define EXPECT_ERROR(r, e)                                                                         \
    do {                                                                                           \
        assert_int_equal((r), -BT_EINVALID);                                                       \
        assert_non_null(e);                                                                        \
        assert_int_equal((e)->code, BT_EINVALID);                                                  \
        assert_true((e)->msg[0] >= 'a' && (e)->msg[0] <= 'z');                                     \
        assert_true((e)->msg[strlen((e)->msg) - 1] != '.');                                        \
    } while (0)

static void
test_duration_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in;
        int64_t ns;
    } rows[] = {
        { "0", 0 },
        { "+0", 0 },
        { "-0", 0 },
        { "0s", 0 },
        { "00ms", 0 },
        { "1h30m", INT64_C(5400000000000) },
        { "1m30s", INT64_C(90000000000) },
        { "500ms", 500000000 },
        { "1.5s", 1500000000 },
        { ".5s", 500000000 },
        { "5.s", 5000000000 },
        { "10us", 10000 },
        { "10\xc2\xb5s", 10000 },
        { "10\xce\xbcs", 10000 },
        { "100ns", 100 },
        { "1s500ms", 1500000000 },
        { "1h1h", INT64_C(7200000000000) },
        { "1.5h", INT64_C(5400000000000) },
        { "-1.5h", -INT64_C(5400000000000) },
        { "-2m", -INT64_C(120000000000) },
        { "+3s", 3000000000 },
        { "1d", INT64_C(86400000000000) },
        { "2w", INT64_C(1209600000000000) },
        { "0.000000001s", 1 },
        { "1.0000000001s", 1000000000 },
        { "1.00000000000000000000000000001s", 1000000000 },
        { "2562047h47m16.854775807s", INT64_MAX },
        { "-2562047h47m16.854775807s", -INT64_MAX },
        { "9223372036854775807ns", INT64_MAX },
        { "106751d", INT64_C(106751) * 86400 * 1000000000 },
        { "", INVALID },
        { "-", INVALID },
        { "+", INVALID },
        { "1", INVALID },
        { "10", INVALID },
        { "-5", INVALID },
        { "s", INVALID },
        { ".s", INVALID },
        { "-.s", INVALID },
        { "1x", INVALID },
        { "1sm", INVALID },
        { "1 s", INVALID },
        { " 1s", INVALID },
        { "1s ", INVALID },
        { "--1s", INVALID },
        { "1.2.3s", INVALID },
        { "1e3s", INVALID },
        { "1S", INVALID },
        { "1H", INVALID },
        { "1m30", INVALID },
        { "9223372036854775808ns", INVALID },
        { "2562048h", INVALID },
        { "106752d", INVALID },
        { "2562047h47m16.854775808s", INVALID },
        { "99999999999999999999s", INVALID },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_err *e = NULL;
        int64_t ns = 42;
        int r = compose_duration_parse(rows[i].in, &ns, &e);
        row = rows[i].in;
        if (rows[i].ns == INVALID) {
            EXPECT_ERROR(r, e);
            assert_int_equal(ns, 42);
        } else {
            assert_int_equal(r, 0);
            assert_null(e);
            assert_int_equal(ns, rows[i].ns);
        }
        bt_err_free(e);
    }
    row = NULL;
}

static void
test_duration_format(void **state)
{
    (void) state;
    static const struct {
        int64_t ns;
        const char *out;
    } rows[] = {
        { 0, "0s" },
        { 1, "1ns" },
        { 999, "999ns" },
        { 1000, "1\xc2\xb5s" },
        { 1500, "1.5\xc2\xb5s" },
        { 1000000, "1ms" },
        { 1234567, "1.234567ms" },
        { 500000000, "500ms" },
        { 999999999, "999.999999ms" },
        { 1000000000, "1s" },
        { 1500000000, "1.5s" },
        { 59000000000, "59s" },
        { INT64_C(90000000000), "1m30s" },
        { INT64_C(61000000001), "1m1.000000001s" },
        { INT64_C(3600000000000), "1h0m0s" },
        { INT64_C(5400000000000), "1h30m0s" },
        { INT64_C(86400000000000), "24h0m0s" },
        { -INT64_C(120000000000), "-2m0s" },
        { -1, "-1ns" },
        { -1500, "-1.5\xc2\xb5s" },
        { INT64_MAX, "2562047h47m16.854775807s" },
        { INT64_MIN, "-2562047h47m16.854775808s" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        char buf[COMPOSE_DURATION_STRLEN];
        assert_string_equal(compose_duration_format(rows[i].ns, buf), rows[i].out);
        /* The text reads back as the same value (INT64_MIN is past what parsing allows). */
        if (rows[i].ns != INT64_MIN) {
            int64_t back = 0;
            assert_int_equal(compose_duration_parse(buf, &back, NULL), 0);
            assert_int_equal(back, rows[i].ns);
        }
    }
}

static void
test_bytes_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in;
        int64_t bytes;
    } rows[] = {
        { "0", 0 },
        { "-0", 0 },
        { "+5", 5 },
        { "100", 100 },
        { "1b", 1 },
        { "1B", 1 },
        { "2k", 2048 },
        { "2K", 2048 },
        { "2kb", 2048 },
        { "2KiB", 2048 },
        { "2kib", 2048 },
        { "512m", 536870912 },
        { "512MB", 536870912 },
        { "1g", 1073741824 },
        { "1gb", 1073741824 },
        { "1G", 1073741824 },
        { "1.5g", 1610612736 },
        { "1.1g", 1181116006 },
        { "1t", INT64_C(1099511627776) },
        { "1p", INT64_C(1125899906842624) },
        { "8191p", INT64_C(9222246136947933184) },
        { "1 k", 1024 },
        { "1 kb", 1024 },
        { "1.5", 1 },
        { ".5k", 512 },
        { "5.k", 5120 },
        { "1e3", 1000 },
        { "1E3k", 1024000 },
        { "1e+2", 100 },
        { "1.5e1m", 15728640 },
        { "1e3 ", 1000 },
        { "", INVALID },
        { "m", INVALID },
        { "k1", INVALID },
        { "-1", INVALID },
        { "-1k", INVALID },
        { "1x", INVALID },
        { "1kk", INVALID },
        { "1kbb", INVALID },
        { "1bb", INVALID },
        { "1ib", INVALID },
        { "1mi", INVALID },
        { "1  k", INVALID },
        { " 1", INVALID },
        { "1k ", INVALID },
        { "1,5g", INVALID },
        { "1.5.5", INVALID },
        { ".", INVALID },
        { "0x10", INVALID },
        { "1e400", INVALID },
        { "8192p", INVALID },
        { "9223372036854775808", INVALID },
        { "1_000", INVALID },
        { "inf", INVALID },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_err *e = NULL;
        int64_t v = 42;
        int r = compose_bytes_parse(rows[i].in, &v, &e);
        row = rows[i].in;
        if (rows[i].bytes == INVALID) {
            EXPECT_ERROR(r, e);
            assert_int_equal(v, 42);
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(v, rows[i].bytes);
        }
        bt_err_free(e);
    }
    row = NULL;
}

/* Each entry as "host_ip:published:target/protocol", separated by spaces. */
static char *
ports_str(const struct compose_port *p, size_t n)
{
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(p[i].mode, "ingress");
        (void) bt_buf_printf(&b, "%s%s:%s:%u/%s", i ? " " : "", p[i].host_ip, p[i].published,
                             (unsigned) p[i].target, p[i].protocol);
    }
    return bt_buf_steal(&b);
}

static void
test_port_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out; /* out NULL: invalid */
    } rows[] = {
        { "80", "::80/tcp" },
        { "080", "::80/tcp" },
        { "65535", "::65535/tcp" },
        { "8080:80", ":8080:80/tcp" },
        { ":80", "::80/tcp" },
        { "127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp" },
        { "0.0.0.0:80:80", "0.0.0.0:80:80/tcp" },
        { "127.0.0.1::80", "127.0.0.1::80/tcp" },
        { "::80", "::80/tcp" },
        { "[::1]:8080:80", "::1:8080:80/tcp" },
        { "::1:8080:80", "::1:8080:80/tcp" },
        { "[::1]::80/udp", "::1::80/udp" },
        { "[1.2.3.4]:80:80", "1.2.3.4:80:80/tcp" },
        { "::ffff:10.0.0.1:80:80", "::ffff:10.0.0.1:80:80/tcp" },
        { "fe80::1:2::53/udp", "fe80::1:2::53/udp" },
        { "8080:80/udp", ":8080:80/udp" },
        { "8080:80/UDP", ":8080:80/udp" },
        { "80/sctp", "::80/sctp" },
        { "80/", "::80/tcp" },
        { "80-81", "::80/tcp ::81/tcp" },
        { "8000-8002:8000-8002", ":8000:8000/tcp :8001:8001/tcp :8002:8002/tcp" },
        { "9000-9001:80-81/udp", ":9000:80/udp :9001:81/udp" },
        { "8000-8010:80", ":8000-8010:80/tcp" },
        { "127.0.0.1:8000-8010:80", "127.0.0.1:8000-8010:80/tcp" },
        { "80-80:80", ":80:80/tcp" },
        { "8000:80-80", ":8000:80/tcp" },
        /* compose-go's order: the keys "100/tcp" ... "99/tcp" sorted as text. */
        { "98-101:98-101", ":100:100/tcp :101:101/tcp :98:98/tcp :99:99/tcp" },
        { "", NULL },
        { "0", NULL },
        { "65536", NULL },
        { "8080:0", NULL },
        { "0:80", NULL },
        { "99999999999999999999", NULL },
        { "abc", NULL },
        { "+80", NULL },
        { " 80", NULL },
        { "80 ", NULL },
        { "80/foo", NULL },
        { "80/tcp/udp", NULL },
        { "/udp", NULL },
        { "80:", NULL },
        { "8080:80:", NULL },
        { "8000-8010:80-81", NULL },
        { "8000-8001:80-90", NULL },
        { "81-80", NULL },
        { "1-2-3", NULL },
        { "-1", NULL },
        { "1-", NULL },
        { "localhost:80:80", NULL },
        { "[::1:80:80", NULL },
        { "[::1]x:80:80", NULL },
        { "1.2.3.4.5:80:80", NULL },
        { "[[::1]]:80:80", NULL },
        { "fe80::1%eth0:80:80", NULL },
        { "a/b:80", NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        struct compose_port *p = NULL;
        size_t n = 0;
        int r = compose_port_parse(a, rows[i].in, &p, &n, &e);
        row = rows[i].in;
        if (!rows[i].out) {
            EXPECT_ERROR(r, e);
            assert_null(p);
        } else {
            assert_int_equal(r, 0);
            char *s = ports_str(p, n);
            assert_string_equal(s, rows[i].out);
            free(s);
        }
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

static void
test_port_range_size(void **state)
{
    (void) state;
    struct bt_arena *a = bt_arena_new();
    struct compose_port *p = NULL;
    size_t n = 0;
    assert_int_equal(compose_port_parse(a, "1-65535:1-65535/udp", &p, &n, NULL), 0);
    assert_int_equal(n, 65535);
    /* Text order: "1", "10", "100", "1000", "10000", "10001"... */
    assert_int_equal(p[0].target, 1);
    assert_int_equal(p[1].target, 10);
    assert_int_equal(p[4].target, 10000);
    assert_int_equal(p[n - 1].target, 9999);
    assert_string_equal(p[n - 1].published, "9999");
    bt_arena_free(a);
}

/* "type|source|target|flags|propagation|selinux|consistency"; flags: r(ead only),
 * n(ocopy), c(reate host path). */
static char *
volume_str(struct bt_arena *a, const struct compose_volume *v)
{
    return bt_arena_printf(a, "%s|%s|%s|%s%s%s|%s|%s|%s", v->type, v->source, v->target,
                           v->read_only ? "r" : "", v->nocopy ? "n" : "",
                           v->create_host_path ? "c" : "", v->propagation ? v->propagation : "",
                           v->selinux ? v->selinux : "", v->consistency ? v->consistency : "");
}

static void
test_volume_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "/data", "volume||/data||||" },
        { "/", "volume||/||||" },
        { "/:", "volume||/:||||" },
        { "data:/data", "volume|data|/data||||" },
        { "./src:/app:ro", "bind|./src|/app|rc|||" },
        { "../up:/x", "bind|../up|/x|c|||" },
        { ".:/x", "bind|.|/x|c|||" },
        { "~/x:/x:rw,z", "bind|~/x|/x|c||z|" },
        { "/host:/ctr:ro,rprivate", "bind|/host|/ctr|rc|rprivate||" },
        { "/a:/b:Z,shared,delegated", "bind|/a|/b|c|shared|Z|delegated" },
        { "/a:/b:ro,rw", "bind|/a|/b|c|||" },
        { "/a:/b:rw,ro", "bind|/a|/b|rc|||" },
        { "/a:/b:slave,rslave,private,rshared", "bind|/a|/b|c|rshared||" },
        { "vol:/x:nocopy", "volume|vol|/x|n|||" },
        { "vol:/x:ro,nocopy,cached", "volume|vol|/x|rn|||cached" },
        { "vol:/x:consistent", "volume|vol|/x||||consistent" },
        { "my-vol_1.2:/x", "volume|my-vol_1.2|/x||||" },
        { "${VOL:-x}:/data", "volume|${VOL:-x}|/data||||" },
        { "/src:/t${T:-:x}:ro", "bind|/src|/t${T:-:x}|rc|||" },
        { "${A:-${B:-c:d}}:/t", "volume|${A:-${B:-c:d}}|/t||||" },
        { "", NULL },
        { "data", NULL },
        { "ab", NULL },
        { "a:b", NULL },
        { "vol:data", NULL },
        { "/a::/b", NULL },
        { ":/b", NULL },
        { "::", NULL },
        { "/a:/b:", NULL },
        { "/a:/b:ro:x", NULL },
        { "a:/b:c:d", NULL },
        { "/a:/b:bogus", NULL },
        { "/a:/b:ro,", NULL },
        { "/a:/b:,ro", NULL },
        { "/a:/b:RO", NULL },
        { "C:\\path:/x", NULL },
        { "c:/x", NULL },
        { "a:/data", NULL },
        { "C:", NULL },
        { "\\\\pipe\\x:/x", NULL },
        { "/src:c:/x", NULL },
        { "${A:/x", NULL },
        { "/src:${T:-/t}:ro", NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        struct compose_volume v = { .target = "untouched" };
        int r = compose_volume_parse(a, rows[i].in, &v, &e);
        row = rows[i].in;
        if (!rows[i].out) {
            EXPECT_ERROR(r, e);
            assert_string_equal(v.target, "untouched");
        } else {
            assert_int_equal(r, 0);
            assert_string_equal(volume_str(a, &v), rows[i].out);
        }
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

/* The words as "[w1][w2]...". */
static char *
words_str(struct bt_arena *a, char **v, size_t n)
{
    char *s = bt_arena_strdup(a, "");
    for (size_t i = 0; i < n; i++)
        s = bt_arena_printf(a, "%s[%s]", s, v[i]);
    assert_null(v[n]);
    return s;
}

static void
test_command_split(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "", "" },
        { "   ", "" },
        { "echo hello", "[echo][hello]" },
        { "  a   b  ", "[a][b]" },
        { "a\tb\nc\rd", "[a][b][c][d]" },
        { "a 'b c' d", "[a][b c][d]" },
        { "a \"b c\" d", "[a][b c][d]" },
        { "a '' b", "[a][][b]" },
        { "a \"\" b", "[a][][b]" },
        { "''", "[]" },
        { "x'y'z\"w\"", "[xyzw]" },
        { "a\\ b", "[a b]" },
        { "\\'a", "['a]" },
        { "\"a\\\"b\"", "[a\"b]" },
        { "'a\\b'", "[a\\b]" },
        { "\"a\\b\"", "[ab]" },
        { "a\\nb", "[anb]" },
        { "\"it's\"", "[it's]" },
        { "'say \"hi\"'", "[say \"hi\"]" },
        { "echo $HOME ${X:-y}", "[echo][$HOME][${X:-y}]" },
        { "sh -c 'echo a && echo b'", "[sh][-c][echo a && echo b]" },
        { "echo \"a|b\" 'c;d'", "[echo][a|b][c;d]" },
        { "echo a && echo b", "[echo][a]" },
        { "echo a;b", "[echo][a]" },
        { "echo a | wc", "[echo][a]" },
        { "cat < f", "[cat]" },
        { "echo 2>/dev/null x", "[echo]" },
        { "echo a>b", "[echo][a]" },
        { "echo \"\">b", "[echo][]" },
        { "echo $(date +%s) x", "[echo][$(date +%s)][x]" },
        { "echo `date +%s` x", "[echo][`date +%s`][x]" },
        { "echo \"$(x)\"", "[echo][$(x)]" },
        { "echo '(x)'", "[echo][(x)]" },
        { "a\\\\b", "[a\\b]" },
        { "'abc", NULL },
        { "\"abc", NULL },
        { "abc\\", NULL },
        { "echo (a)", NULL },
        { "a)", NULL },
        { "$(a", NULL },
        { "`a", NULL },
        { "$($(a))", NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        char **v = NULL;
        size_t n = 99;
        int r = compose_command_split(a, rows[i].in, &v, &n, &e);
        row = rows[i].in;
        if (!rows[i].out) {
            EXPECT_ERROR(r, e);
            assert_null(v);
            assert_int_equal(n, 99);
        } else {
            assert_int_equal(r, 0);
            assert_string_equal(words_str(a, v, n), rows[i].out);
        }
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

static void
test_extra_host_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in, *out; /* "host=ip ..." */
    } rows[] = {
        { "myhost:192.168.0.1", "myhost=192.168.0.1" },
        { "myhost=192.168.0.1", "myhost=192.168.0.1" },
        { "myhost=[192.168.0.1]", "myhost=192.168.0.1" },
        { "host.invalid:10.0.2.1", "host.invalid=10.0.2.1" },
        { "v6:2003:ab34:e::1", "v6=2003:ab34:e::1" },
        { "v6=[2003:ab34:e::1]", "v6=2003:ab34:e::1" },
        { "h:::1", "h=::1" },
        { "h=::1", "h=::1" },
        { "h:[::1]", "h=::1" },
        { "h=[]", "h=[]" },
        { "host.docker.internal:host-gateway", "host.docker.internal=host-gateway" },
        { "foo=127.0.0.2,127.0.0.3", "foo=127.0.0.2 foo=127.0.0.3" },
        { "foo=[::1],127.0.0.3", "foo=::1 foo=127.0.0.3" },
        { "a=b:c", "a=b:c" },
        { "::::1", NULL },
        { "=::1", NULL },
        { ":1.2.3.4", NULL },
        { "nohost", NULL },
        { "", NULL },
        { "h=", NULL },
        { "h:", NULL },
        { "h=1.2.3.4,", NULL },
        { "h=,1.2.3.4", NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        struct compose_extra_host *h = NULL;
        size_t n = 0;
        int r = compose_extra_host_parse(a, rows[i].in, &h, &n, &e);
        row = rows[i].in;
        if (!rows[i].out) {
            EXPECT_ERROR(r, e);
            assert_null(h);
        } else {
            assert_int_equal(r, 0);
            char *s = bt_arena_strdup(a, "");
            for (size_t k = 0; k < n; k++)
                s = bt_arena_printf(a, "%s%s%s=%s", s, k ? " " : "", h[k].host, h[k].ip);
            assert_string_equal(s, rows[i].out);
        }
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

static void
test_env_entry_parse(void **state)
{
    (void) state;
    static const struct {
        const char *in, *key, *value; /* key NULL: invalid */
    } rows[] = {
        { "KEY=VALUE", "KEY", "VALUE" },
        { "KEY", "KEY", NULL },
        { "KEY=", "KEY", "" },
        { "K=a=b", "K", "a=b" },
        { "K= x ", "K", " x " },
        { "=x", NULL, NULL },
        { "", NULL, NULL },
        { "=", NULL, NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        const char *k = "unset", *v = "unset";
        int r = compose_env_entry_parse(a, rows[i].in, &k, &v, &e);
        row = rows[i].in;
        if (!rows[i].key) {
            EXPECT_ERROR(r, e);
            assert_string_equal(k, "unset");
        } else {
            assert_int_equal(r, 0);
            assert_string_equal(k, rows[i].key);
            if (rows[i].value)
                assert_string_equal(v, rows[i].value);
            else
                assert_null(v);
        }
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

static void
test_error_text(void **state)
{
    (void) state;
    static const struct {
        int which;
        const char *in, *msg;
    } rows[] = {
        { 0, "10",
          "invalid duration '10': missing unit; expected a number with a unit: ns, us, "
          "ms, s, m, h, d or w, like '1m30s'" },
        { 0, "3y",
          "invalid duration '3y': unknown unit 'y'; expected a number with a unit: ns, us, "
          "ms, s, m, h, d or w, like '1m30s'" },
        { 0, "2562048h", "invalid duration '2562048h': out of range (at most about 292 years)" },
        { 1, "12x",
          "invalid size '12x': unknown unit 'x'; expected a number with an optional "
          "unit: b, k, m, g, t or p (like '512m' or '1.5gb')" },
        { 1, "-1g", "invalid size '-1g': negative" },
        { 2, "70000",
          "invalid port '70000': invalid container port '70000' (1-65535, or a range "
          "like 8000-8010)" },
        { 2, "80/icmp", "invalid port '80/icmp': unknown protocol 'icmp' (tcp, udp or sctp)" },
        { 2, "8000-8010:80-81",
          "invalid port '8000-8010:80-81': published range '8000-8010' and "
          "container range '80-81' differ in length" },
        { 2, "localhost:80:80",
          "invalid port 'localhost:80:80': invalid host address "
          "'localhost' (an IPv4 or IPv6 address)" },
        { 3, "/a:/b:rx",
          "invalid volume '/a:/b:rx': unknown option 'rx' (ro, rw, nocopy, z, Z, "
          "rprivate, private, rshared, shared, rslave, slave, cached, delegated, "
          "consistent)" },
        { 3, "/a:b", "invalid volume '/a:b': target 'b' is not an absolute path" },
        { 3, "/a:/b:ro:x",
          "invalid volume '/a:/b:ro:x': too many colons; expected "
          "[source:]target[:options]" },
        { 3, "C:\\x:/x",
          "invalid volume 'C:\\x:/x': 'C:\\x' is a Windows path, which berth "
          "does not support" },
        { 4, "echo 'a", "invalid command 'echo 'a': unterminated single quote" },
        { 5, "nohost",
          "invalid extra host 'nohost': missing address; expected 'host=ip' or "
          "'host:ip'" },
        { 6, "=v",
          "invalid environment entry '=v': empty variable name; expected 'KEY=VALUE' or "
          "'KEY'" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(rows); i++) {
        struct bt_arena *a = bt_arena_new();
        struct bt_err *e = NULL;
        int64_t n;
        struct compose_port *p;
        struct compose_volume v;
        struct compose_extra_host *h;
        char **w;
        const char *k, *val;
        size_t cnt;
        int r = -1;
        row = rows[i].in;
        switch (rows[i].which) {
        case 0:
            r = compose_duration_parse(rows[i].in, &n, &e);
            break;
        case 1:
            r = compose_bytes_parse(rows[i].in, &n, &e);
            break;
        case 2:
            r = compose_port_parse(a, rows[i].in, &p, &cnt, &e);
            break;
        case 3:
            r = compose_volume_parse(a, rows[i].in, &v, &e);
            break;
        case 4:
            r = compose_command_split(a, rows[i].in, &w, &cnt, &e);
            break;
        case 5:
            r = compose_extra_host_parse(a, rows[i].in, &h, &cnt, &e);
            break;
        case 6:
            r = compose_env_entry_parse(a, rows[i].in, &k, &val, &e);
            break;
        }
        assert_int_equal(r, -BT_EINVALID);
        assert_string_equal(e->msg, rows[i].msg);
        bt_err_free(e);
        bt_arena_free(a);
    }
    row = NULL;
}

static void
test_input_bounds(void **state)
{
    (void) state;
    struct bt_arena *a = bt_arena_new();
    char *big = malloc(COMPOSE_SHORT_MAX + 2);
    memset(big, '1', COMPOSE_SHORT_MAX + 1);
    big[COMPOSE_SHORT_MAX + 1] = '\0';
    struct bt_err *e = NULL;
    int64_t n;
    assert_int_equal(compose_bytes_parse(big, &n, &e), -BT_ETOOBIG);
    /* The message quotes only the start of the input. */
    assert_true(strlen(e->msg) < 200);
    assert_non_null(strstr(e->msg, "...' is too long (at most 65536 bytes)"));
    e = bt_err_free(e);
    struct compose_volume v;
    assert_int_equal(compose_volume_parse(a, big, &v, &e), -BT_ETOOBIG);
    e = bt_err_free(e);

    /* At the ceiling it is parsed. */
    big[COMPOSE_SHORT_MAX] = '\0';
    char **w;
    size_t cnt;
    assert_int_equal(compose_command_split(a, big, &w, &cnt, NULL), 0);
    assert_int_equal(cnt, 1);
    assert_int_equal(strlen(w[0]), COMPOSE_SHORT_MAX);
    memset(big, ' ', COMPOSE_SHORT_MAX);
    for (size_t i = 0; i < COMPOSE_SHORT_MAX; i += 2)
        big[i] = 'x';
    assert_int_equal(compose_command_split(a, big, &w, &cnt, NULL), 0);
    assert_int_equal(cnt, COMPOSE_SHORT_MAX / 2);

    assert_int_equal(compose_duration_parse(NULL, &n, &e), -BT_EINVALID);
    assert_string_equal(e->msg, "missing duration");
    bt_err_free(e);
    free(big);
    bt_arena_free(a);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_duration_parse, show_row),
        cmocka_unit_test_teardown(test_duration_format, show_row),
        cmocka_unit_test_teardown(test_bytes_parse, show_row),
        cmocka_unit_test_teardown(test_port_parse, show_row),
        cmocka_unit_test_teardown(test_port_range_size, show_row),
        cmocka_unit_test_teardown(test_volume_parse, show_row),
        cmocka_unit_test_teardown(test_command_split, show_row),
        cmocka_unit_test_teardown(test_extra_host_parse, show_row),
        cmocka_unit_test_teardown(test_env_entry_parse, show_row),
        cmocka_unit_test_teardown(test_error_text, show_row),
        cmocka_unit_test_teardown(test_input_bounds, show_row),
    };
    return cmocka_run_group_tests_name("test-compose-short", tests, NULL, NULL);
}
