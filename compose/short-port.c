/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ports short syntax, [[ip:][published]:]target[/protocol], split and expanded as
 * compose-go does it through docker/go-connections (nat.ParsePortSpec): ranges, IPv6 host
 * addresses with or without brackets, and compose-go's ordering of the expanded entries.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/short.h"

#define Q "'%.*s%s'"
#define QA(s) COMPOSE_SHORT_QUOTE_ARGS(s)

#define PORT_FORMAT "[[ip:][published]:]target[/protocol]"

struct port_range {
    unsigned start, end;
};

/* "80" or "8000-8010", each number 1-65535 in decimal digits only, start <= end. */
static bool
parse_range(const char *s, size_t n, struct port_range *ret)
{
    unsigned v[2] = { 0, 0 };
    size_t k = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && k == 0 && digits > 0) {
            k = 1;
            digits = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        v[k] = v[k] * 10 + (unsigned) (s[i] - '0');
        if (v[k] > 65535)
            return false;
        digits++;
    }
    if (digits == 0)
        return false;
    ret->start = v[0];
    ret->end = k ? v[1] : v[0];
    return ret->start >= 1 && ret->start <= ret->end;
}

/* An address as Go's net.ParseIP takes it, after dropping brackets like net.SplitHostPort. */
static const char *
parse_host_ip(struct bt_arena *a, const char *s, size_t n)
{
    if (n == 0)
        return "";
    if (s[0] == '[') {
        if (n < 2 || s[n - 1] != ']')
            return NULL;
        s++;
        n -= 2;
    }
    const char *ip = bt_arena_strndup(a, s, n);
    if (strlen(ip) != n || strpbrk(ip, "[]"))
        return NULL;
    unsigned char addr[16];
    if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
        return NULL;
    return ip;
}

static const char *
parse_protocol(const char *s)
{
    static const char *const protocols[] = { "tcp", "udp", "sctp" };
    if (!s || !*s)
        return "tcp";
    for (size_t i = 0; i < BT_ARRAY_SIZE(protocols); i++)
        if (strcasecmp(s, protocols[i]) == 0)
            return protocols[i];
    return NULL;
}

/* compose-go sorts the entries by their "<port>/<proto>" key as text; the protocol is the
 * same for all, so the port's decimal text decides. */
static int
cmp_target_text(const void *x, const void *y)
{
    char a[8], b[8];
    (void) snprintf(a, sizeof a, "%u", (unsigned) ((const struct compose_port *) x)->target);
    (void) snprintf(b, sizeof b, "%u", (unsigned) ((const struct compose_port *) y)->target);
    return strcmp(a, b);
}

static void
expand(struct bt_arena *a, const char *host_ip, const char *proto, const struct port_range *ctr,
       const struct port_range *pub, bool has_pub, struct compose_port **ret, size_t *ret_n)
{
    size_t n = ctr->end - ctr->start + 1;
    struct compose_port *ports = bt_arena_alloc(a, n * sizeof *ports);
    for (size_t i = 0; i < n; i++) {
        struct compose_port *p = &ports[i];
        p->target = (uint16_t) (ctr->start + i);
        p->host_ip = host_ip;
        p->protocol = proto;
        p->mode = "ingress";
        if (!has_pub)
            p->published = "";
        else if (n == 1 && pub->start != pub->end)
            /* One container port and a host range: the range to pick a free port from. */
            p->published = bt_arena_printf(a, "%u-%u", pub->start, pub->end);
        else
            p->published = bt_arena_printf(a, "%zu", pub->start + i);
    }
    qsort(ports, n, sizeof *ports, cmp_target_text);
    *ret = ports;
    *ret_n = n;
}

int
compose_port_parse(struct bt_arena *a, const char *s, struct compose_port **ret, size_t *ret_n,
                   struct bt_err **err)
{
    int r = compose_short_check("port", s, err);
    if (r < 0)
        return r;
    /* The last colon ends the published part, the one before it the address (which may hold
     * colons of its own: "::1:8080:80"). */
    const char *last = strrchr(s, ':'), *prev = NULL;
    for (const char *p = s; last && p < last; p++)
        if (*p == ':')
            prev = p;
    const char *ctr = last ? last + 1 : s;
    const char *pub = prev ? prev + 1 : s;
    size_t pub_len = last ? (size_t) (last - pub) : 0;

    const char *slash = strchr(ctr, '/');
    size_t ctr_len = slash ? (size_t) (slash - ctr) : strlen(ctr);
    const char *proto = parse_protocol(slash ? slash + 1 : NULL);
    if (!proto)
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": unknown protocol '%s' (tcp, udp or sctp)", QA(s),
                          slash + 1);
    const char *host_ip = prev ? parse_host_ip(a, s, (size_t) (prev - s)) : "";
    if (!host_ip)
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": invalid host address '%.*s' (an IPv4 or IPv6 "
                          "address)",
                          QA(s), (int) (prev - s), s);
    if (ctr_len == 0)
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": missing container port; expected %s", QA(s),
                          PORT_FORMAT);

    struct port_range cr, pr = { 0, 0 };
    if (!parse_range(ctr, ctr_len, &cr))
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": invalid container port '%.*s' (1-65535, or a range "
                          "like 8000-8010)",
                          QA(s), (int) ctr_len, ctr);
    if (pub_len > 0 && !parse_range(pub, pub_len, &pr))
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": invalid published port '%.*s' (1-65535, or a range "
                          "like 8000-8010)",
                          QA(s), (int) pub_len, pub);
    /* A published range longer than one container port is allowed (a pool to choose from);
     * two ranges must be the same length. */
    if (pub_len > 0 && cr.start != cr.end && cr.end - cr.start != pr.end - pr.start)
        return bt_err_set(err, BT_EINVALID,
                          "invalid port " Q ": published range '%.*s' and container range '%.*s' "
                          "differ in length",
                          QA(s), (int) pub_len, pub, (int) ctr_len, ctr);
    expand(a, host_ip, proto, &cr, &pr, pub_len > 0, ret, ret_n);
    return 0;
}
