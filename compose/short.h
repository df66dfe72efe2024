/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compose's short syntaxes read as docker compose reads them: durations, byte sizes, ports,
 * volumes, command strings, extra_hosts and environment entries. Pure functions: a string in,
 * structs out, allocated in the caller's arena; no I/O, no YAML, nothing that blocks.
 * Internal to compose/: the normaliser calls them and adds the file position and the path.
 *
 * Every parser takes a NUL-terminated string of at most COMPOSE_SHORT_MAX bytes, returns 0 or a
 * negative code with *err set (BT_EINVALID for input that is not allowed, BT_ETOOBIG for input
 * over the ceiling), and writes ret_ only on success. Messages quote the input (cut after
 * COMPOSE_SHORT_QUOTE_MAX bytes) and say what is allowed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/base/arena.h"
#include "engine/base/err.h"

#define COMPOSE_SHORT_MAX (64u << 10)
#define COMPOSE_SHORT_QUOTE_MAX 100

/* Durations (healthcheck intervals, stop_grace_period...), as compose-go reads them with
 * go-str2duration: Go's time.ParseDuration plus the units "d" (24h) and "w" (168h). "1h30m",
 * "1.5s", "500ms", "10us", "10µs", "-2m", "0"; a number without a unit other than "0" is an
 * error, and so is a value past the int64 range of nanoseconds. */
int compose_duration_parse(const char *s, int64_t *ret_ns, struct bt_err **err);

/* Longest text compose_duration_format() writes, with its NUL ("-2562047h47m16.854775808s"). */
#define COMPOSE_DURATION_STRLEN 32
/* Go's Duration.String() (docker compose's `config` output): "0s", "1.5µs", "500ms",
 * "1m30s", "1h0m0s". Writes into buf and returns it. */
char *compose_duration_format(int64_t ns, char buf[COMPOSE_DURATION_STRLEN]);

/* Byte sizes (mem_limit, shm_size, tmpfs size...), as docker/go-units RAMInBytes (v0.5): a
 * decimal number (fraction and exponent allowed: "1.5g", "1e3") and an optional suffix, one
 * space allowed between: b, k, m, g, t, p with an optional "b" or "ib" after the letter, any
 * case, all binary (1k = 1024). The result is truncated to whole bytes. Negative values and
 * values past INT64_MAX are errors. */
int compose_bytes_parse(const char *s, int64_t *ret, struct bt_err **err);

/* One published port (compose-go's ServicePortConfig). Strings live in the arena. */
struct compose_port {
    uint16_t target;       /* 1-65535 */
    const char *published; /* "", "8080", or a range "8000-8010" for one target port */
    const char *host_ip;   /* "" or an address, IPv6 without brackets */
    const char *protocol;  /* "tcp" (default), "udp" or "sctp" */
    const char *mode;      /* always "ingress" */
};

/* The ports short syntax, [[ip:][published]:]target[/protocol], as compose-go's
 * ParsePortConfig (docker/go-connections nat.ParsePortSpec): "80", "8080:80", "127.0.0.1::80",
 * "[::1]:8080:80", "::1:8080:80", "8080:80/udp", "8000-8010:8000-8010" (one entry per port),
 * "8000-8010:80" (one entry with a published range). Entries come in compose-go's order
 * ("<port>/<proto>" sorted as text: 100 before 99). The caller turns a YAML integer into its
 * decimal text first. */
int compose_port_parse(struct bt_arena *a, const char *s, struct compose_port **ret, size_t *ret_n,
                       struct bt_err **err);

/* One volume of the short syntax (compose-go's ServiceVolumeConfig). */
struct compose_volume {
    const char *type;        /* "bind" (source starts with '/', '.' or '~') or "volume" */
    const char *source;      /* "" for an anonymous volume */
    const char *target;      /* absolute */
    bool read_only;          /* "ro" (the last of ro/rw wins) */
    bool create_host_path;   /* true for a bind, as compose-go sets it for the short syntax */
    bool nocopy;             /* "nocopy" */
    const char *propagation; /* NULL or rprivate, private, rshared, shared, rslave, slave */
    const char *selinux;     /* NULL, "z" or "Z" */
    const char *consistency; /* NULL, "cached", "delegated" or "consistent" */
};

/* The volumes short syntax, [source:]target[:options], as compose-go's format.ParseVolume:
 * colons inside "${...}" do not split. Errors: an empty section between colons, more than three
 * sections, a target that is not absolute, an option outside ro, rw, nocopy, z, Z, the
 * propagations and the consistencies, and Windows paths ("C:\x", "\\pipe"), which berth does
 * not run. */
int compose_volume_parse(struct bt_arena *a, const char *s, struct compose_volume *ret,
                         struct bt_err **err);

/* A command or entrypoint string split into words as compose-go does it
 * (mattn/go-shellwords Parse, no variable or command expansion): blanks (space, tab, CR, LF)
 * separate words; '...' is literal; "..." keeps blanks, and a backslash in it escapes the next
 * character, as it does outside quotes; "" and '' make empty words; `...` and $(...) stay in
 * the word as written. An unquoted ';', '&', '|', '<' or '>' ends the command there, as
 * shellwords does (a word of digits before '>' is dropped with it). Errors: an unterminated
 * quote, a trailing backslash, an unclosed `...` or $(...), a '(' not after '$', a ')' with no
 * '$(' open. ret is a NULL-terminated array; ret_n may be NULL. */
int compose_command_split(struct bt_arena *a, const char *s, char ***ret, size_t *ret_n,
                          struct bt_err **err);

/* One extra_hosts address. */
struct compose_extra_host {
    const char *host;
    const char *ip; /* brackets removed: "[::1]" gives "::1"; "host-gateway" stays */
};

/* An extra_hosts list entry, as compose-go's NewHostsList: split at the first '=', else at the
 * first ':' ("h=::1", "h:::1", "h:[::1]"); the address part may hold several addresses
 * separated by ',' (one entry each). Errors: no separator, an empty host name, one containing
 * ':' or '=', an empty address. */
int compose_extra_host_parse(struct bt_arena *a, const char *s, struct compose_extra_host **ret,
                             size_t *ret_n, struct bt_err **err);

/* An environment list entry: "KEY=VALUE" (split at the first '=') or "KEY" (value NULL: take
 * it from the shell environment). Error: an empty key. */
int compose_env_entry_parse(struct bt_arena *a, const char *s, const char **ret_key,
                            const char **ret_value, struct bt_err **err);

/* For the parsers in compose/short*.c: the checks every input goes through, and the way an
 * input is quoted in a message ("'%.*s%s'" with COMPOSE_SHORT_QUOTE_ARGS(s)). */
int compose_short_check(const char *what, const char *s, struct bt_err **err);
#define COMPOSE_SHORT_QUOTE_ARGS(s)                                                                \
    (int) strnlen((s), COMPOSE_SHORT_QUOTE_MAX), (s),                                              \
        (strnlen((s), COMPOSE_SHORT_QUOTE_MAX + 1) > COMPOSE_SHORT_QUOTE_MAX ? "..." : "")
