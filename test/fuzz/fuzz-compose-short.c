/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for compose/short*.c: the input (up to its first NUL) goes to every short
 * syntax parser. Beyond not crashing, leaking or hanging, each result must be self-consistent:
 * a failure carries a worded error, and a success written back as text parses to the same
 * value (durations through their canonical text, ports, volumes, words, environment entries).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "compose/short.h"
#include "engine/base/alloc.h"

static bool
streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A failure is worded and coded; a success leaves no error. */
static void
check_result(int r, struct bt_err *e)
{
    if (r < 0) {
        CHECK(e && e->msg && e->msg[0] >= 'a' && e->msg[0] <= 'z' && r == -e->code);
        CHECK(e->code == BT_EINVALID || e->code == BT_ETOOBIG);
    } else {
        CHECK(r == 0 && !e);
    }
}

static void
fuzz_duration(const char *s)
{
    struct bt_err *e = NULL;
    int64_t ns = 0, back = 0;
    int r = compose_duration_parse(s, &ns, &e);
    check_result(r, e);
    bt_err_free(e);
    if (r < 0)
        return;
    char buf[COMPOSE_DURATION_STRLEN];
    compose_duration_format(ns, buf);
    CHECK(strlen(buf) < COMPOSE_DURATION_STRLEN);
    CHECK(compose_duration_parse(buf, &back, NULL) == 0 && back == ns);
}

static void
fuzz_bytes(const char *s)
{
    struct bt_err *e = NULL;
    int64_t v = -1;
    int r = compose_bytes_parse(s, &v, &e);
    check_result(r, e);
    bt_err_free(e);
    CHECK(r < 0 || v >= 0);
}

static void
check_port(struct bt_arena *a, const struct compose_port *p)
{
    CHECK(p->target >= 1 && streq(p->mode, "ingress"));
    CHECK(streq(p->protocol, "tcp") || streq(p->protocol, "udp") || streq(p->protocol, "sctp"));
    unsigned char addr[16];
    CHECK(!p->host_ip[0] || inet_pton(AF_INET, p->host_ip, addr) == 1 ||
          inet_pton(AF_INET6, p->host_ip, addr) == 1);
    /* Written back as one spec, it gives this entry again. */
    const char *ip = strchr(p->host_ip, ':') ? bt_arena_printf(a, "[%s]", p->host_ip) : p->host_ip;
    const char *text = bt_arena_printf(a, "%s%s%s:%u/%s", ip, ip[0] ? ":" : "", p->published,
                                       (unsigned) p->target, p->protocol);
    struct compose_port *q = NULL;
    size_t n = 0;
    CHECK(compose_port_parse(a, text, &q, &n, NULL) == 0 && n == 1);
    CHECK(q->target == p->target && streq(q->published, p->published));
    CHECK(streq(q->host_ip, p->host_ip) && streq(q->protocol, p->protocol));
}

static void
fuzz_port(struct bt_arena *a, const char *s)
{
    struct bt_err *e = NULL;
    struct compose_port *p = NULL;
    size_t n = 0;
    int r = compose_port_parse(a, s, &p, &n, &e);
    check_result(r, e);
    bt_err_free(e);
    if (r < 0)
        return;
    CHECK(n >= 1 && n <= 65535);
    /* Only a big expansion is skipped: each entry re-parses the same way. */
    for (size_t i = 0; i < n && i < 64; i++)
        check_port(a, &p[i]);
}

static const char *
volume_text(struct bt_arena *a, const struct compose_volume *v)
{
    if (!v->source[0])
        return v->target;
    return bt_arena_printf(a, "%s:%s:%s%s%s%s%s%s%s%s", v->source, v->target,
                           v->read_only ? "ro" : "rw", v->nocopy ? ",nocopy" : "",
                           v->selinux ? "," : "", v->selinux ? v->selinux : "",
                           v->propagation ? "," : "", v->propagation ? v->propagation : "",
                           v->consistency ? "," : "", v->consistency ? v->consistency : "");
}

static void
fuzz_volume(struct bt_arena *a, const char *s)
{
    struct bt_err *e = NULL;
    struct compose_volume v;
    int r = compose_volume_parse(a, s, &v, &e);
    check_result(r, e);
    bt_err_free(e);
    if (r < 0)
        return;
    CHECK(v.target[0] == '/');
    bool bind = strchr("./~", v.source[0]) && v.source[0];
    CHECK(streq(v.type, bind ? "bind" : "volume") && v.create_host_path == bind);
    struct compose_volume w;
    CHECK(compose_volume_parse(a, volume_text(a, &v), &w, NULL) == 0);
    CHECK(streq(w.type, v.type) && streq(w.source, v.source) && streq(w.target, v.target));
    CHECK(w.read_only == v.read_only && w.nocopy == v.nocopy);
    CHECK(streq(w.selinux, v.selinux) && streq(w.propagation, v.propagation));
    CHECK(streq(w.consistency, v.consistency));
}

/* Each word in single quotes (a quote inside as '\''), separated by spaces. */
static const char *
words_text(struct bt_arena *a, char **v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) * 4 + 3;
    char *out = bt_arena_alloc(a, len), *o = out;
    for (size_t i = 0; i < n; i++) {
        *o++ = '\'';
        for (const char *c = v[i]; *c; c++)
            if (*c == '\'') {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *c;
            }
        *o++ = '\'';
        *o++ = ' ';
    }
    *o = '\0';
    return out;
}

static void
fuzz_command(struct bt_arena *a, const char *s)
{
    struct bt_err *e = NULL;
    char **v = NULL;
    size_t n = 0;
    int r = compose_command_split(a, s, &v, &n, &e);
    check_result(r, e);
    bt_err_free(e);
    if (r < 0)
        return;
    CHECK(v[n] == NULL);
    const char *text = words_text(a, v, n);
    if (strlen(text) > COMPOSE_SHORT_MAX)
        return;
    char **w = NULL;
    size_t m = 0;
    CHECK(compose_command_split(a, text, &w, &m, NULL) == 0 && m == n);
    for (size_t i = 0; i < n; i++)
        CHECK(streq(w[i], v[i]));
}

static void
fuzz_extra_host(struct bt_arena *a, const char *s)
{
    struct bt_err *e = NULL;
    struct compose_extra_host *h = NULL;
    size_t n = 0;
    int r = compose_extra_host_parse(a, s, &h, &n, &e);
    check_result(r, e);
    bt_err_free(e);
    for (size_t i = 0; r == 0 && i < n; i++) {
        CHECK(h[i].host[0] && !strpbrk(h[i].host, ":=") && streq(h[i].host, h[0].host));
        CHECK(h[i].ip[0] && !strchr(h[i].ip, ','));
    }
}

static void
fuzz_env(struct bt_arena *a, const char *s)
{
    struct bt_err *e = NULL;
    const char *k = NULL, *v = NULL;
    int r = compose_env_entry_parse(a, s, &k, &v, &e);
    check_result(r, e);
    bt_err_free(e);
    if (r < 0)
        return;
    CHECK(k[0] && !strchr(k, '='));
    const char *text = v ? bt_arena_printf(a, "%s=%s", k, v) : k;
    CHECK(streq(text, s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > COMPOSE_SHORT_MAX + 16)
        return 0;
    char *s = bt_xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct bt_arena *a = bt_arena_new();
    fuzz_duration(s);
    fuzz_bytes(s);
    fuzz_port(a, s);
    fuzz_volume(a, s);
    fuzz_command(a, s);
    fuzz_extra_host(a, s);
    fuzz_env(a, s);
    bt_arena_free(a);
    free(s);
    return 0;
}
