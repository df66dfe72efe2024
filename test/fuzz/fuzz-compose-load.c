/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the whole loader, compose_project_load(): YAML, interpolation, casts,
 * schema validation, include and extends, merge, checks, profiles and the project name, then
 * both output formats. Beyond not crashing, leaking or hanging it checks that a failure carries
 * a message, that the JSON output parses, and that the YAML output loads again as a compose file
 * and prints the same bytes (the canonical form is a fixed point). A check that fails is a bug of
 * the loader, so it is a BT_ASSERT.
 *
 * The input is up to five files, split on lines "#---" (a YAML comment, so a one-file input is
 * plain YAML; the newline before it stays with the part before): compose.yaml (the -f file),
 * base.yaml (for extends: file:), .env, inc/compose.yaml and inc/.env (for include). They are
 * written to a directory made once per process under $TMPDIR and removed at exit (not after a
 * crash: libFuzzer then exits without atexit handlers; test/run-tests.sh points TMPDIR into its
 * scratch directory).
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test/fuzz/fuzz.h"
#include "compose/compose.h"
#include "compose/node.h"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"

#define MAX_INPUT (1 << 16)
#define PROJECT "fuzz"
#define SEPARATOR "#---"

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Where the input's parts go, in order; the round trip's file comes last. */
static const char *const part_names[] = { "compose.yaml", "base.yaml", ".env", "inc/compose.yaml",
                                          "inc/.env" };
#define ROUND_TRIP_NAME "canonical.yaml"

/* A fixed environment: every load sees the same one, whatever the machine's. Values with '$',
 * a newline, spaces and YAML-typed text test the output's escaping and quoting. */
static const char *const fake_environ[] = {
    "A=a",         "B=bb",     "E=",         "PORT=8080", "TAG=1.36",        "T=true", "DOLLAR=$x",
    "NL=one\ntwo", "SP= lead", "COLON=a: b", "HASH=x #y", "HOME=/home/fuzz", NULL,
};

static char *dir;
static int dir_fd = -1;

static void
remove_dir(void)
{
    (void) unlinkat(dir_fd, ROUND_TRIP_NAME, 0);
    for (size_t i = 0; i < BT_ARRAY_SIZE(part_names); i++)
        (void) unlinkat(dir_fd, part_names[i], 0);
    (void) unlinkat(dir_fd, "inc", AT_REMOVEDIR);
    (void) close(dir_fd);
    (void) rmdir(dir);
    free(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    const char *tmp = getenv("TMPDIR");
    dir = bt_xasprintf("%s/fuzz-compose-load.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || mkdirat(dir_fd, "inc", 0700) < 0) {
        perror(dir);
        abort();
    }
    atexit(remove_dir);
    /* A compose file named "-" is stdin: make that an empty file, never a wait for input. */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) {
        perror("/dev/null");
        abort();
    }
    (void) close(null);
    return 0;
}

/* The loader reads whatever paths a file names, and some would block (/dev/tty, /proc/kmsg, a
 * FIFO under /run) or be slow. Inputs that spell such a path, or a '/' as an escape that could
 * hide one, are skipped. A path assembled by interpolation ("/${E}dev") still gets through: too
 * unlikely a find to be worth a second parse. */
static bool
names_system_path(const uint8_t *data, size_t size)
{
    static const char *const words[] = { "/dev",  "/proc",   "/sys",        "/run", "\\/",
                                         "\\x2f", "\\u002f", "\\U0000002f", "\\57", "\\057" };
    for (size_t i = 0; i < size; i++)
        for (size_t w = 0; w < BT_ARRAY_SIZE(words); w++) {
            size_t n = strlen(words[w]);
            if (size - i >= n && strncasecmp((const char *) data + i, words[w], n) == 0)
                return true;
        }
    return false;
}

static void
write_file(const char *name, const void *data, size_t len)
{
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    BT_ASSERT(fd >= 0);
    BT_ASSERT(bt_write_all(fd, data, len) == 0);
    BT_ASSERT(close(fd) == 0);
}

/* The offset of the next separator line at or after from (a part starts at a line), or size. */
static size_t
find_separator(const uint8_t *data, size_t size, size_t from, size_t *ret_next)
{
    const size_t n = strlen(SEPARATOR);
    for (size_t i = from; i < size; i++) {
        if (i > from && data[i - 1] != '\n')
            continue;
        if (size - i >= n && memcmp(data + i, SEPARATOR, n) == 0 &&
            (size - i == n || data[i + n] == '\n')) {
            *ret_next = i + n + (size - i > n);
            return i;
        }
    }
    *ret_next = size + 1;
    return size;
}

struct part {
    size_t off, len;
    bool present;
};

/* The input's parts as files; the names it does not reach are removed. */
static void
write_parts(const uint8_t *data, size_t size, struct part parts[BT_ARRAY_SIZE(part_names)])
{
    size_t off = 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(part_names); i++) {
        if (off > size) {
            parts[i] = (struct part){ 0 };
            (void) unlinkat(dir_fd, part_names[i], 0);
            continue;
        }
        size_t next = size + 1;
        size_t end =
            i + 1 < BT_ARRAY_SIZE(part_names) ? find_separator(data, size, off, &next) : size;
        parts[i] = (struct part){ off, end - off, true };
        write_file(part_names[i], data + off, end - off);
        off = next;
    }
}

/* all_profiles: as --profile '*', every service enabled. */
static int
load(const char *file, bool all_profiles, struct compose_project **ret, struct bt_err **err)
{
    const char *const files[] = { file };
    const char *const profiles[] = { "*" };
    const struct compose_load_opts o = {
        .files = files,
        .nfiles = 1,
        .profiles = all_profiles ? profiles : NULL,
        .nprofiles = all_profiles ? 1 : 0,
        .project_name = PROJECT,
        .cwd = dir,
        .environ = (char *const *) fake_environ,
    };
    return compose_project_load(&o, ret, err);
}

static void
check_error(int r, const struct bt_err *e)
{
    /* Only the sign of r is promised: the loader returns -1 from some layers. */
    BT_ASSERT(r < 0 && e && e->code > 0);
    BT_ASSERT(e->msg && e->msg[0]);
    /* A position, when there is one, names a file and a place in it. */
    BT_ASSERT(!e->file || (e->file[0] && e->line >= 0 && e->col >= 0));
    char *text = bt_err_text(e);
    BT_ASSERT(text && text[0]);
    free(text);
}

static void
check_project(const struct compose_project *p)
{
    BT_ASSERT(p->name && strcmp(p->name, PROJECT) == 0);
    BT_ASSERT(p->working_dir && strcmp(p->working_dir, dir) == 0);
    BT_ASSERT(p->nconfig_files == 1);
    for (size_t i = 0; i < p->nwarnings; i++)
        BT_ASSERT(p->warnings[i] && p->warnings[i][0]);
}

/* The JSON output is one JSON object that names the project. */
static void
check_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    BT_ASSERT(j && json_is_object(j));
    BT_ASSERT(json_is_string(json_object_get(j, "name")));
    BT_ASSERT(strcmp(json_string_value(json_object_get(j, "name")), PROJECT) == 0);
    json_decref(j);
}

static void
fail_round_trip(const char *why, const char *yaml, const char *again)
{
    fprintf(stderr, "%s\n--- output:\n%s", why, yaml);
    if (again)
        fprintf(stderr, "--- loaded and printed again:\n%s", again);
    abort();
}

/* The YAML output, loaded as a compose file on its own with the same profiles, must print the
 * same bytes. Returns NULL when it loaded, else the error (the caller decides); *ret_yaml is the
 * output, caller frees. */
static struct bt_err *
round_trip(const struct compose_project *p, bool all_profiles, char **ret_yaml)
{
    char *yaml = compose_project_format(p, COMPOSE_FORMAT_YAML);
    char *json = compose_project_format(p, COMPOSE_FORMAT_JSON);
    BT_ASSERT(yaml && json);
    check_json(json);
    write_file(ROUND_TRIP_NAME, yaml, strlen(yaml));
    struct compose_project *q = NULL;
    struct bt_err *err = NULL;
    *ret_yaml = yaml;
    if (load(ROUND_TRIP_NAME, all_profiles, &q, &err) < 0) {
        check_error(-1, err);
        free(json);
        return err;
    }
    char *yaml2 = compose_project_format(q, COMPOSE_FORMAT_YAML);
    char *json2 = compose_project_format(q, COMPOSE_FORMAT_JSON);
    if (strcmp(yaml, yaml2) != 0)
        fail_round_trip("the YAML output is not a fixed point", yaml, yaml2);
    if (strcmp(json, json2) != 0)
        fail_round_trip("the JSON output changed in the round trip", json, json2);
    free(json);
    free(yaml2);
    free(json2);
    compose_project_free(q);
    return NULL;
}

static size_t
count_services(const struct compose_project *p)
{
    const struct compose_node *s = p->model ? compose_map_get(p->model, "services") : NULL;
    return s && s->kind == COMPOSE_NODE_MAP ? s->n : 0;
}

/* Whether a service of a YAML part extends a service of another file ("extends: {file: ...}"). */
static bool
extends_from_file(const uint8_t *data, const struct part *parts)
{
    bool found = false;
    for (size_t i = 0; !found && i < BT_ARRAY_SIZE(part_names); i++) {
        if (!parts[i].present || strstr(part_names[i], ".env"))
            continue;
        struct bt_arena *a = bt_arena_new();
        struct compose_node **docs = NULL;
        size_t ndocs = 0;
        struct bt_err *err = NULL;
        if (compose_yaml_parse(a, part_names[i], (const char *) data + parts[i].off, parts[i].len,
                               &docs, &ndocs, &err) < 0)
            ndocs = 0;
        bt_err_free(err);
        for (size_t d = 0; !found && d < ndocs; d++) {
            const struct compose_node *svcs = compose_map_get(docs[d], "services");
            for (size_t k = 0; !found && svcs && svcs->kind == COMPOSE_NODE_MAP && k < svcs->n; k++)
                found = compose_map_get(compose_map_get(svcs->pairs[k].val, "extends"), "file");
        }
        bt_arena_free(a);
    }
    return found;
}

static const struct compose_node *
scalar_at(const struct compose_node *n, int line, int col)
{
    if (n->kind == COMPOSE_NODE_SCALAR)
        return n->pos.line == line && n->pos.col == col ? n : NULL;
    const struct compose_node *found = NULL;
    for (size_t i = 0; !found && i < n->n; i++)
        found = scalar_at(n->kind == COMPOSE_NODE_MAP ? n->pairs[i].val : n->items[i], line, col);
    return found;
}

/* Whether the scalar at line:col of the YAML text is plain and holds an escaped '$'. */
static bool
plain_dollar_at(const char *yaml, int line, int col)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t ndocs = 0;
    struct bt_err *err = NULL;
    BT_ASSERT(compose_yaml_parse(a, "output", yaml, strlen(yaml), &docs, &ndocs, &err) == 0);
    const struct compose_node *n = ndocs == 1 ? scalar_at(docs[0], line, col) : NULL;
    bool found = n && n->plain && memmem(n->str, n->len, "$$", 2);
    bt_arena_free(a);
    return found;
}

/*
 * Whether the output of a project may fail to load again, because of a known loader bug:
 * - Services taken from another file by extends are never validated against the schema (the
 *   file is read with validation off, and nothing validates the result), so an unknown key or
 *   a bad value there reaches the output, which is then refused.
 * - A plain scalar where the format wants a number or a boolean is cast only when
 *   interpolation changed it, and a lone '$' stays literal: `init: $-` loads as a string, but
 *   its output `init: $$-` is changed by interpolation when read again, cast, and refused.
 */
static bool
known_reload_failure(const struct bt_err *e, const char *yaml, const uint8_t *data,
                     const struct part *parts)
{
    if (e->code != BT_EINVALID)
        return false;
    return extends_from_file(data, parts) || plain_dollar_at(yaml, e->line, e->col);
}

/*
 * The round trip of a loaded project. Known: references are checked before profiles drop
 * services, so a service may keep a depends_on (links, volumes_from, ...) to a disabled one,
 * and the output, which lacks the disabled service, is then refused. So when the output does not
 * load and profiles dropped a service, the round trip is checked with every profile enabled.
 */
static void
check_round_trip(const struct compose_project *p, const uint8_t *data, const struct part *parts)
{
    char *yaml = NULL;
    struct bt_err *e = round_trip(p, false, &yaml);
    struct compose_project *all = NULL;
    if (e) {
        struct bt_err *err = NULL;
        /* Profiles drop services after the checks: enabling them all cannot fail. */
        BT_ASSERT(load(part_names[0], true, &all, &err) == 0);
        if (count_services(all) > count_services(p)) {
            e = bt_err_free(e);
            free(yaml);
            e = round_trip(all, true, &yaml);
        } else {
            all = compose_project_free(all);
        }
    }
    if (e && !known_reload_failure(e, yaml, data, parts)) {
        char *text = bt_err_text(e);
        fprintf(stderr, "the output does not load again%s\n", all ? " (every profile on)" : "");
        fail_round_trip(text, yaml, NULL);
    }
    bt_err_free(e);
    free(yaml);
    compose_project_free(all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT || names_system_path(data, size))
        return 0;
    struct part parts[BT_ARRAY_SIZE(part_names)];
    write_parts(data, size, parts);
    struct compose_project *p = NULL;
    struct bt_err *err = NULL;
    int r = load(part_names[0], false, &p, &err);
    if (r < 0) {
        check_error(r, err);
        bt_err_free(err);
        return 0;
    }
    BT_ASSERT(!err);
    check_project(p);
    check_round_trip(p, data, parts);
    compose_project_free(p);
    return 0;
}
