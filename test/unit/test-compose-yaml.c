/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML loader: positions, documents, aliases, merge keys, duplicate keys, tags, limits,
 * error messages and scalar types, plus every compose file of the shared corpus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compose/node.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"

/* The shared corpus: BERTH_CORPUS_DIR, else ../shared/corpus beside the repository (the test
 * runner works from the repository's top). */
static const char *
corpus_dir(void)
{
    const char *d = getenv("BERTH_CORPUS_DIR");
    return d && d[0] ? d : "../shared/corpus";
}

/* A path inside the corpus; valid until the next call. */
static const char *
corpus_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", corpus_dir(), rel);
    return buf;
}

static int
setup(void **state)
{
    *state = bt_arena_new();
    return 0;
}

static int
teardown(void **state)
{
    bt_arena_free(*state);
    return 0;
}

/* Parse text that must give exactly one document. */
static struct compose_node *
one_doc(struct bt_arena *a, const char *text)
{
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    int r = compose_yaml_parse(a, "t.yaml", text, strlen(text), &docs, &n, &err);
    if (r < 0) {
        char *t = bt_err_text(err);
        print_error("unexpected error: %s\n", t);
        free(t);
    }
    assert_int_equal(r, 0);
    assert_null(err);
    assert_int_equal(n, 1);
    return docs[0];
}

/* Parse text that must fail; returns the error's full text (caller frees) and its code. */
static char *
parse_error(const char *text, size_t len, int *ret_code)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    int r = compose_yaml_parse(a, "t.yaml", text, len, &docs, &n, &err);
    assert_true(r < 0);
    assert_non_null(err);
    assert_int_equal(-r, err->code);
    if (ret_code)
        *ret_code = err->code;
    char *t = bt_err_text(err);
    bt_err_free(err);
    bt_arena_free(a);
    return t;
}

static void
assert_error(const char *text, const char *want)
{
    char *t = parse_error(text, strlen(text), NULL);
    if (strcmp(t, want) != 0)
        print_error("want: %s\ngot:  %s\n", want, t);
    assert_string_equal(t, want);
    free(t);
}

static void
assert_error_has(const char *text, const char *part)
{
    char *t = parse_error(text, strlen(text), NULL);
    if (!strstr(t, part))
        print_error("want a message with: %s\ngot: %s\n", part, t);
    assert_non_null(strstr(t, part));
    free(t);
}

static const struct compose_node *
path(const struct compose_node *n, const char *a, const char *b)
{
    n = compose_map_get(n, a);
    return b ? compose_map_get(n, b) : n;
}

static void
assert_pos(const struct compose_node *n, int line, int col)
{
    assert_non_null(n);
    assert_string_equal(n->pos.file, "t.yaml");
    assert_int_equal(n->pos.line, line);
    assert_int_equal(n->pos.col, col);
}

static void
assert_str(const struct compose_node *n, const char *s)
{
    assert_non_null(n);
    assert_int_equal(n->kind, COMPOSE_NODE_SCALAR);
    assert_int_equal(n->len, strlen(s));
    assert_memory_equal(n->str, s, n->len + 1);
}

static void
test_positions(void **state)
{
    const struct compose_node *root = one_doc(*state, "services:\n"
                                                      "  web:\n"
                                                      "    image: nginx\n"
                                                      "    ports:\n"
                                                      "      - \"8080:80\"\n"
                                                      "      - {target: 80, published: 81}\n");
    assert_int_equal(root->kind, COMPOSE_NODE_MAP);
    assert_pos(root, 1, 1);
    assert_pos(root->pairs[0].key, 1, 1);
    const struct compose_node *web = path(root, "services", "web");
    assert_pos(web, 3, 5);
    assert_pos(web->pairs[0].key, 3, 5);
    assert_pos(compose_map_get(web, "image"), 3, 12);
    const struct compose_node *ports = compose_map_get(web, "ports");
    assert_int_equal(ports->kind, COMPOSE_NODE_SEQ);
    assert_int_equal(ports->n, 2);
    assert_pos(ports, 5, 7);
    assert_pos(ports->items[0], 5, 9);
    assert_str(ports->items[0], "8080:80");
    assert_false(ports->items[0]->plain);
    assert_pos(ports->items[1], 6, 9);
    assert_pos(compose_map_get(ports->items[1], "published"), 6, 33);
    /* Columns count characters, not bytes. */
    root = one_doc(*state, "é: x\nk: [a, é, b]\n");
    assert_pos(compose_map_get(root, "é"), 1, 4);
    assert_pos(compose_map_get(root, "k")->items[2], 2, 11);
}

static void
test_documents(void **state)
{
    struct compose_node **docs = NULL;
    size_t n = 99;
    const char *text = "a: 1\n---\nb: 2\n...\n---\n- x\n---\n";
    assert_int_equal(compose_yaml_parse(*state, "t.yaml", text, strlen(text), &docs, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_non_null(compose_map_get(docs[0], "a"));
    assert_non_null(compose_map_get(docs[1], "b"));
    assert_pos(docs[1], 3, 1);
    assert_int_equal(docs[2]->kind, COMPOSE_NODE_SEQ);
    assert_int_equal(compose_scalar_type(docs[3]), COMPOSE_SCALAR_NULL);
    /* Anchors belong to their document. */
    assert_error("a: &x 1\n---\nb: *x\n", "t.yaml:3:4: alias '*x' refers to an undefined anchor");
}

static void
test_empty(void **state)
{
    const char *inputs[] = { "", "\n\n", "# just a comment\n", "  \n# x\n" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(inputs); i++) {
        struct compose_node **docs = (void *) 1;
        size_t n = 99;
        assert_int_equal(
            compose_yaml_parse(*state, "t.yaml", inputs[i], strlen(inputs[i]), &docs, &n, NULL), 0);
        assert_int_equal(n, 0);
    }
    struct compose_node **docs = NULL;
    size_t n = 99;
    assert_int_equal(compose_yaml_parse(*state, "t.yaml", NULL, 0, &docs, &n, NULL), 0);
    assert_int_equal(n, 0);
    /* "key:" alone is a null value. */
    const struct compose_node *root = one_doc(*state, "key:\n");
    assert_int_equal(compose_scalar_type(compose_map_get(root, "key")), COMPOSE_SCALAR_NULL);
}

static void
test_anchors(void **state)
{
    const struct compose_node *root = one_doc(*state, "base: &b\n"
                                                      "  image: x\n"
                                                      "  env: [A, B]\n"
                                                      "one: *b\n"
                                                      "two: [*b, *b]\n"
                                                      "s: &s hello\n"
                                                      "t: *s\n");
    const struct compose_node *base = compose_map_get(root, "base");
    assert_ptr_equal(compose_map_get(root, "one"), base);
    assert_ptr_equal(compose_map_get(root, "two")->items[0], base);
    assert_ptr_equal(compose_map_get(root, "two")->items[1], base);
    assert_ptr_equal(compose_map_get(root, "t"), compose_map_get(root, "s"));
    /* The anchored node keeps its own position, which starts at its anchor. */
    assert_pos(compose_map_get(root, "one"), 1, 7);
    /* Redefinition: the latest definition wins, from where it appears. */
    root = one_doc(*state, "a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
    assert_str(compose_map_get(root, "b"), "1");
    assert_str(compose_map_get(root, "d"), "2");
    /* A definition inside a node with the same anchor is the later one. */
    root = one_doc(*state, "a: &x [&x inner, *x]\nb: *x\n");
    assert_str(compose_map_get(root, "a")->items[1], "inner");
    assert_str(compose_map_get(root, "b"), "inner");
    /* An alias as a key is a scalar key. */
    root = one_doc(*state, "k: &k name\n*k : v\n");
    assert_str(compose_map_get(root, "name"), "v");
}

static void
test_alias_errors(void **state)
{
    (void) state;
    assert_error("a: 1\nb: *nope\n", "t.yaml:2:4: alias '*nope' refers to an undefined anchor");
    assert_error("a: &r [1, *r]\n", "t.yaml:1:11: alias '*r' is inside the node it refers to");
    assert_error("a: &r {k: *r}\n", "t.yaml:1:11: alias '*r' is inside the node it refers to");
    /* The alias comes before its anchor. */
    assert_error("a: *x\nb: &x 1\n", "t.yaml:1:4: alias '*x' refers to an undefined anchor");
}

static void
test_merge(void **state)
{
    /* One mapping, explicit keys win wherever they are. */
    const struct compose_node *root = one_doc(*state, "base: &b {image: x, user: root, tty: true}\n"
                                                      "svc:\n"
                                                      "  user: app\n"
                                                      "  <<: *b\n"
                                                      "  tty: false\n");
    const struct compose_node *svc = compose_map_get(root, "svc");
    assert_int_equal(svc->n, 3);
    assert_str(svc->pairs[0].key, "user");
    assert_str(svc->pairs[0].val, "app");
    assert_str(svc->pairs[1].key, "image"); /* merged pairs sit where "<<" was */
    assert_ptr_equal(svc->pairs[1].val, compose_map_get(compose_map_get(root, "base"), "image"));
    assert_str(svc->pairs[2].key, "tty");
    assert_str(svc->pairs[2].val, "false");
    assert_null(compose_map_get(svc, "<<"));
    /* A list: the earlier mapping wins. */
    root = one_doc(*state, "a: &a {x: 1, y: 1}\n"
                           "b: &b {y: 2, z: 2}\n"
                           "c: &c {z: 3, w: 3}\n"
                           "m:\n"
                           "  <<: [*a, *b, *c]\n"
                           "  w: 0\n");
    const struct compose_node *m = compose_map_get(root, "m");
    assert_int_equal(m->n, 4);
    assert_str(compose_map_get(m, "x"), "1");
    assert_str(compose_map_get(m, "y"), "1");
    assert_str(compose_map_get(m, "z"), "2");
    assert_str(compose_map_get(m, "w"), "0");
    assert_str(m->pairs[0].key, "x");
    assert_str(m->pairs[1].key, "y");
    assert_str(m->pairs[2].key, "z");
    assert_str(m->pairs[3].key, "w");
    /* Inline mappings, an empty list, and nesting: a merged mapping has its own merge applied. */
    root = one_doc(*state, "a: &a {x: 1}\n"
                           "b: &b {<<: *a, y: 2}\n"
                           "c: {<<: [*b, {z: 3}], x: 0}\n"
                           "d: {<<: [], k: v}\n"
                           "e: {<<: {deep: {<<: *a}}}\n");
    const struct compose_node *c = compose_map_get(root, "c");
    assert_int_equal(c->n, 3);
    assert_str(compose_map_get(c, "x"), "0");
    assert_str(compose_map_get(c, "y"), "2");
    assert_str(compose_map_get(c, "z"), "3");
    assert_int_equal(compose_map_get(root, "d")->n, 1);
    assert_str(compose_map_get(path(root, "e", "deep"), "x"), "1");
    /* A quoted "<<" is an ordinary key. */
    root = one_doc(*state, "a: {\"<<\": {x: 1}}\n");
    assert_non_null(compose_map_get(compose_map_get(root, "a"), "<<"));
}

static void
test_merge_errors(void **state)
{
    (void) state;
    assert_error("a:\n  <<: text\n",
                 "t.yaml:2:3: merge key '<<' needs a mapping or a sequence of mappings, not a "
                 "string");
    assert_error("a:\n  <<: [{x: 1}, 3]\n",
                 "t.yaml:2:3: merge key '<<' needs a mapping or a sequence of mappings, not a "
                 "sequence holding a integer");
    assert_error("a:\n  <<:\n", "t.yaml:2:3: merge key '<<' needs a mapping or a sequence of "
                                "mappings, not a null");
    assert_error("x: &x {a: 1}\ny:\n  <<: *x\n  <<: *x\n",
                 "t.yaml:4:3: duplicate key '<<' (first at line 3)");
}

static void
test_duplicate_keys(void **state)
{
    (void) state;
    assert_error("services:\n"
                 "  web:\n"
                 "    build: .\n"
                 "    image: a\n"
                 "    ports: []\n"
                 "    image: b\n",
                 "t.yaml:6:5: duplicate key 'image' (first at line 4)");
    assert_error("{a: 1, b: 2, a: 3}",
                 "t.yaml:1:14: duplicate key 'a' (first at line 1, column 2)");
    /* Keys compare by text: quoting does not make them different. */
    assert_error("1: a\n'1': b\n", "t.yaml:2:1: duplicate key '1' (first at line 1)");
    /* The earliest second occurrence is reported. */
    assert_error("b: 1\na: 1\na: 2\nb: 2\n", "t.yaml:3:1: duplicate key 'a' (first at line 2)");
    /* Key text in messages is escaped and cut. */
    assert_error("\"k\\n\": 1\n\"k\\n\": 2\n",
                 "t.yaml:2:1: duplicate key 'k\\x0a' (first at line 1)");
}

static void
test_keys_must_be_scalars(void **state)
{
    (void) state;
    assert_error("? [a, b]\n: v\n", "t.yaml:1:3: a mapping key must be a scalar, not a sequence");
    assert_error("{? {a: 1} : v}", "t.yaml:1:4: a mapping key must be a scalar, not a mapping");
    assert_error("m: &m {a: 1}\n*m : v\n",
                 "t.yaml:2:1: a mapping key must be a scalar, not a mapping");
}

static void
test_tags(void **state)
{
    const struct compose_node *root = one_doc(*state, "a: !reset []\n"
                                                      "b: !override {x: 1}\n"
                                                      "c: !reset\n"
                                                      "d: !!str 123\n"
                                                      "e: !!int \"42\"\n"
                                                      "f: !!bool 'true'\n"
                                                      "g: !!null ''\n"
                                                      "h: !!float 1.5\n"
                                                      "i: !!map {k: v}\n"
                                                      "j: !!seq [1]\n"
                                                      "k: ! 12\n"
                                                      "l: !<tag:yaml.org,2002:str> true\n"
                                                      "m: !reset 12\n");
    assert_int_equal(compose_map_get(root, "a")->tag, COMPOSE_TAG_RESET);
    assert_int_equal(compose_map_get(root, "a")->kind, COMPOSE_NODE_SEQ);
    assert_int_equal(compose_map_get(root, "b")->tag, COMPOSE_TAG_OVERRIDE);
    assert_int_equal(compose_map_get(root, "c")->tag, COMPOSE_TAG_RESET);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "c")), COMPOSE_SCALAR_NULL);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "d")), COMPOSE_SCALAR_STRING);
    assert_false(compose_map_get(root, "d")->plain);
    assert_int_equal(compose_map_get(root, "d")->tag, COMPOSE_TAG_NONE);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "e")), COMPOSE_SCALAR_INT);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "f")), COMPOSE_SCALAR_BOOL);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "g")), COMPOSE_SCALAR_NULL);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "h")), COMPOSE_SCALAR_FLOAT);
    assert_int_equal(compose_map_get(root, "i")->kind, COMPOSE_NODE_MAP);
    assert_int_equal(compose_map_get(root, "j")->kind, COMPOSE_NODE_SEQ);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "k")), COMPOSE_SCALAR_STRING);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "l")), COMPOSE_SCALAR_STRING);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "m")), COMPOSE_SCALAR_INT);
    assert_int_equal(compose_map_get(root, "m")->tag, COMPOSE_TAG_RESET);
    /* A !reset tag on a key and an alias to a tagged node keep the tag. */
    root = one_doc(*state, "x: &x !override [1]\ny: *x\n");
    assert_int_equal(compose_map_get(root, "y")->tag, COMPOSE_TAG_OVERRIDE);
}

static void
test_tag_errors(void **state)
{
    (void) state;
    assert_error("a: !foo x\n", "t.yaml:1:4: unknown tag '!foo'");
    assert_error("a: !!binary aGVsbG8=\n", "t.yaml:1:4: unknown tag '!!binary'");
    assert_error("a: !!str {x: 1}\n", "t.yaml:1:4: tag '!!str' does not apply to a mapping");
    assert_error("a: !!map [1]\n", "t.yaml:1:4: tag '!!map' does not apply to a sequence");
    assert_error("a: !!seq x\n", "t.yaml:1:4: tag '!!seq' does not apply to a string");
    assert_error("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
                 "t.yaml:3:4: unknown tag 'tag:example.com,2000:x'");
    /* The hint lists what is known. */
    struct bt_err *err = NULL;
    struct compose_node **docs;
    size_t n;
    struct bt_arena *a = bt_arena_new();
    assert_true(compose_yaml_parse(a, "t.yaml", "!x 1", 4, &docs, &n, &err) < 0);
    assert_non_null(err->hint);
    assert_non_null(strstr(err->hint, "!reset"));
    bt_err_free(err);
    bt_arena_free(a);
}

static void
test_tabs(void **state)
{
    (void) state;
    assert_error("services:\n\tweb:\n\t\timage: x\n",
                 "t.yaml:2:1: tabs are not allowed in YAML indentation; use spaces");
    assert_error("a:\n  b: 1\n  \tc: 2\n",
                 "t.yaml:3:3: tabs are not allowed in YAML indentation; use spaces");
    assert_error("a: |\n  x\n\t y\n",
                 "t.yaml:3:1: tabs are not allowed in YAML indentation; use spaces");
    assert_error("a: 1\r\nb:\r\n\tc: 1\r\n",
                 "t.yaml:3:1: tabs are not allowed in YAML indentation; use spaces");
    assert_error("é: 1\nx:\n  \ty: 2\n",
                 "t.yaml:3:3: tabs are not allowed in YAML indentation; use spaces");
    assert_error("\xef\xbb\xbf\ta: 1\n",
                 "t.yaml:1:1: tabs are not allowed in YAML indentation; use spaces");
    /* Tabs are fine as separators and inside values. */
    const struct compose_node *root = one_doc(*state, "a:\tb\nc: \"x\ty\"\nd: [1,\t2]\n");
    assert_str(compose_map_get(root, "a"), "b");
    assert_str(compose_map_get(root, "c"), "x\ty");
}

static void
test_syntax_errors(void **state)
{
    (void) state;
    assert_error("a: [1, 2\n",
                 "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at "
                 "line 1, column 4)");
    assert_error("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
    assert_error("a:\n  b: 1\n c: 2\n",
                 "t.yaml:3:2: did not find expected key (while parsing a block mapping at line 1, "
                 "column 1)");
    assert_error("a: \"unterminated\n",
                 "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at "
                 "line 1, column 4)");
    assert_error_has("%YAML 2.0\n---\na: 1\n", "t.yaml:1:1: found incompatible YAML document");
    /* Every message starts lowercase and has no final full stop. */
    int code;
    char *t = parse_error("- a\nb: c\n", 8, &code);
    assert_int_equal(code, BT_EPARSE);
    assert_true(t[strlen(t) - 1] != '.');
    free(t);
}

static void
test_bad_bytes(void **state)
{
    (void) state;
    char *t = parse_error("a: 1\nb: x\0y\n", 12, NULL);
    assert_string_equal(t, "t.yaml:2:5: control characters are not allowed (U+0000)");
    free(t);
    assert_error("a: 1\nbb: \xff\n", "t.yaml:2:5: invalid leading UTF-8 octet (byte 0xFF)");
    assert_error("a: \xc3", "t.yaml:1:4: incomplete UTF-8 octet sequence");
    assert_error("a: \xc3\n", "t.yaml:1:5: invalid trailing UTF-8 octet (byte 0x0A)");
    assert_error("é: \x01\n", "t.yaml:1:4: control characters are not allowed (U+0001)");
    /* A NUL escaped in a double-quoted scalar is data, kept with its length. */
    const struct compose_node *root = one_doc(*state, "a: \"x\\0y\"\n");
    const struct compose_node *v = compose_map_get(root, "a");
    assert_int_equal(v->len, 3);
    assert_memory_equal(v->str, "x\0y", 4);
}

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes, and random YAML-ish text: always a result or an error, never a crash. */
static void
test_garbage(void **state)
{
    (void) state;
    static const char alphabet[] = "ab:- \n\t[]{},&*!|>'\"#?~.0\x00\xff\xc3";
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char buf[2048];
    for (int round = 0; round < 3000; round++) {
        size_t len = rnd(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            uint64_t x = rnd(&seed);
            buf[i] = round % 2 ? (char) x : alphabet[x % (sizeof alphabet - 1)];
        }
        struct bt_arena *a = bt_arena_new();
        struct compose_node **docs = NULL;
        size_t n = 0;
        struct bt_err *err = NULL;
        int r = compose_yaml_parse(a, "g.yaml", buf, len, &docs, &n, &err);
        if (r < 0) {
            assert_non_null(err);
            assert_non_null(err->msg);
            assert_true(err->msg[0] != '\0');
        } else {
            assert_null(err);
            for (size_t i = 0; i < n; i++)
                (void) compose_node_type_str(docs[i]);
        }
        bt_err_free(err);
        bt_arena_free(a);
    }
}

static void
test_block_scalars(void **state)
{
    const struct compose_node *root = one_doc(*state, "lit: |\n"
                                                      "  line 1\n"
                                                      "    indented\n"
                                                      "  line 3\n"
                                                      "strip: |-\n"
                                                      "  x\n"
                                                      "  y\n"
                                                      "\n"
                                                      "fold: >\n"
                                                      "  folded\n"
                                                      "  text\n"
                                                      "\n"
                                                      "  para\n"
                                                      "keep: >+\n"
                                                      "  kept\n"
                                                      "\n"
                                                      "foldstrip: >-\n"
                                                      "  a\n"
                                                      "  b\n"
                                                      "litkeep: |+\n"
                                                      "  z\n"
                                                      "\n"
                                                      "end: 1\n");
    assert_str(compose_map_get(root, "lit"), "line 1\n  indented\nline 3\n");
    assert_str(compose_map_get(root, "strip"), "x\ny");
    assert_str(compose_map_get(root, "fold"), "folded text\npara\n");
    assert_str(compose_map_get(root, "keep"), "kept\n\n");
    assert_str(compose_map_get(root, "foldstrip"), "a b");
    assert_str(compose_map_get(root, "litkeep"), "z\n\n");
    assert_false(compose_map_get(root, "lit")->plain);
    assert_int_equal(compose_scalar_type(compose_map_get(root, "strip")), COMPOSE_SCALAR_STRING);
    /* A block scalar that looks like a number is still a string. */
    root = one_doc(*state, "n: |-\n  12\n");
    assert_int_equal(compose_scalar_type(compose_map_get(root, "n")), COMPOSE_SCALAR_STRING);
    /* Plain multi-line scalars fold too. */
    root = one_doc(*state, "cmd: echo\n  hello\n  world\n");
    assert_str(compose_map_get(root, "cmd"), "echo hello world");
}

static void
test_scalar_types(void **state)
{
    static const struct {
        const char *text;
        enum compose_scalar_type type;
    } cases[] = {
        { "", COMPOSE_SCALAR_NULL },
        { "~", COMPOSE_SCALAR_NULL },
        { "null", COMPOSE_SCALAR_NULL },
        { "Null", COMPOSE_SCALAR_NULL },
        { "NULL", COMPOSE_SCALAR_NULL },
        { "nULL", COMPOSE_SCALAR_STRING },
        { "'null'", COMPOSE_SCALAR_STRING },
        { "\"\"", COMPOSE_SCALAR_STRING },
        { "''", COMPOSE_SCALAR_STRING },
        { "\"~\"", COMPOSE_SCALAR_STRING },
        { "true", COMPOSE_SCALAR_BOOL },
        { "True", COMPOSE_SCALAR_BOOL },
        { "TRUE", COMPOSE_SCALAR_BOOL },
        { "false", COMPOSE_SCALAR_BOOL },
        { "False", COMPOSE_SCALAR_BOOL },
        { "FALSE", COMPOSE_SCALAR_BOOL },
        { "tRUE", COMPOSE_SCALAR_STRING },
        { "\"true\"", COMPOSE_SCALAR_STRING },
        { "yes", COMPOSE_SCALAR_STRING },
        { "no", COMPOSE_SCALAR_STRING },
        { "on", COMPOSE_SCALAR_STRING },
        { "off", COMPOSE_SCALAR_STRING },
        { "y", COMPOSE_SCALAR_STRING },
        { "0", COMPOSE_SCALAR_INT },
        { "12", COMPOSE_SCALAR_INT },
        { "-12", COMPOSE_SCALAR_INT },
        { "+12", COMPOSE_SCALAR_INT },
        { "0o17", COMPOSE_SCALAR_INT },
        { "0x1F", COMPOSE_SCALAR_INT },
        { "0xff", COMPOSE_SCALAR_INT },
        { "-0x1F", COMPOSE_SCALAR_INT },
        { "0b101", COMPOSE_SCALAR_INT },
        { "0755", COMPOSE_SCALAR_INT },
        { "1_000", COMPOSE_SCALAR_INT },
        { "0x", COMPOSE_SCALAR_STRING },
        { "0o8", COMPOSE_SCALAR_STRING },
        { "0xg", COMPOSE_SCALAR_STRING },
        { "9223372036854775807", COMPOSE_SCALAR_INT },
        { "-9223372036854775808", COMPOSE_SCALAR_INT },
        { "18446744073709551615", COMPOSE_SCALAR_INT },
        { "18446744073709551616", COMPOSE_SCALAR_FLOAT }, /* too big: go-yaml gives a float */
        { "-9223372036854775809", COMPOSE_SCALAR_FLOAT },
        { "0x10000000000000000", COMPOSE_SCALAR_STRING },
        { "'12'", COMPOSE_SCALAR_STRING },
        { "\"0x1F\"", COMPOSE_SCALAR_STRING },
        { "1.5", COMPOSE_SCALAR_FLOAT },
        { "-1.5", COMPOSE_SCALAR_FLOAT },
        { "1.", COMPOSE_SCALAR_FLOAT },
        { ".5", COMPOSE_SCALAR_FLOAT },
        { "+.5", COMPOSE_SCALAR_FLOAT },
        { "1e3", COMPOSE_SCALAR_FLOAT },
        { "1E-3", COMPOSE_SCALAR_FLOAT },
        { "2.5e+10", COMPOSE_SCALAR_FLOAT },
        { ".5e3", COMPOSE_SCALAR_FLOAT },
        { "1e400", COMPOSE_SCALAR_STRING }, /* out of range: go-yaml keeps the string */
        { "1e-400", COMPOSE_SCALAR_FLOAT },
        { "08", COMPOSE_SCALAR_FLOAT }, /* not octal, but a decimal float for go-yaml */
        { ".inf", COMPOSE_SCALAR_FLOAT },
        { "-.inf", COMPOSE_SCALAR_FLOAT },
        { "+.Inf", COMPOSE_SCALAR_FLOAT },
        { ".INF", COMPOSE_SCALAR_FLOAT },
        { ".NaN", COMPOSE_SCALAR_FLOAT },
        { ".nan", COMPOSE_SCALAR_FLOAT },
        { ".nAn", COMPOSE_SCALAR_STRING },
        { "inf", COMPOSE_SCALAR_STRING },
        { "nan", COMPOSE_SCALAR_STRING },
        { ".", COMPOSE_SCALAR_STRING },
        { "..5", COMPOSE_SCALAR_STRING },
        { "1e", COMPOSE_SCALAR_STRING },
        { "e3", COMPOSE_SCALAR_STRING },
        { "-_1", COMPOSE_SCALAR_INT }, /* go-yaml drops underscores first */
        { "._5", COMPOSE_SCALAR_STRING },
        { ".5_0", COMPOSE_SCALAR_FLOAT },
        { "1.2.3", COMPOSE_SCALAR_STRING },
        { "8080:80", COMPOSE_SCALAR_STRING },
        { "1:30", COMPOSE_SCALAR_STRING },
        { "12abc", COMPOSE_SCALAR_STRING },
        { "2001-12-14", COMPOSE_SCALAR_STRING },
        { "1.5GB", COMPOSE_SCALAR_STRING },
        { "nginx", COMPOSE_SCALAR_STRING },
        { "<<x", COMPOSE_SCALAR_STRING },
        { "\"x\\0\"", COMPOSE_SCALAR_STRING },
        { "|\n  12\n", COMPOSE_SCALAR_STRING },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        char *text = bt_xasprintf("v: %s\n", cases[i].text);
        const struct compose_node *v = compose_map_get(one_doc(*state, text), "v");
        enum compose_scalar_type got = compose_scalar_type(v);
        if (got != cases[i].type)
            print_error("'%s': want type %d, got %d\n", cases[i].text, cases[i].type, got);
        assert_int_equal(got, cases[i].type);
        free(text);
    }
    /* Texts a plain YAML scalar cannot hold, typed as if it could. */
    static const char *const raw_strings[] = { "-", "+", "0x", "-0b", "_1", "" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(raw_strings); i++) {
        const struct compose_node *n = compose_node_scalar(*state, NULL, raw_strings[i], true);
        assert_int_equal(compose_scalar_type(n),
                         raw_strings[i][0] ? COMPOSE_SCALAR_STRING : COMPOSE_SCALAR_NULL);
    }
    struct compose_node nul = {
        .kind = COMPOSE_NODE_SCALAR, .str = "1\0", .len = 2, .plain = true
    };
    assert_int_equal(compose_scalar_type(&nul), COMPOSE_SCALAR_STRING);
    /* Not a scalar: a string by convention. */
    const struct compose_node *root = one_doc(*state, "{a: 1}");
    assert_int_equal(compose_scalar_type(root), COMPOSE_SCALAR_STRING);
}

static void
test_type_names_and_lookup(void **state)
{
    const struct compose_node *root =
        one_doc(*state, "m: {}\ns: []\nt: x\ni: 1\nf: 1.5\nb: true\nn: ~\nq: '1'\n");
    static const char *const want[][2] = {
        { "m", "mapping" }, { "s", "sequence" }, { "t", "string" }, { "i", "integer" },
        { "f", "number" },  { "b", "boolean" },  { "n", "null" },   { "q", "string" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(want); i++)
        assert_string_equal(compose_node_type_str(compose_map_get(root, want[i][0])), want[i][1]);
    assert_null(compose_map_get(root, "missing"));
    assert_null(compose_map_get(NULL, "m"));
    assert_null(compose_map_get(compose_map_get(root, "s"), "m"));
    struct compose_pos pos = { "x.yaml", 3, 4 };
    struct compose_node *n = compose_node_scalar(*state, &pos, "42", true);
    assert_int_equal(n->kind, COMPOSE_NODE_SCALAR);
    assert_str(n, "42");
    assert_int_equal(n->pos.line, 3);
    assert_int_equal(compose_scalar_type(n), COMPOSE_SCALAR_INT);
    n = compose_node_scalar(*state, &pos, "42", false);
    assert_int_equal(compose_scalar_type(n), COMPOSE_SCALAR_STRING);
    assert_int_equal(n->tag, COMPOSE_TAG_NONE);
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Ten levels of ten aliases: 10^10 nodes once expanded, refused quickly, in little memory. */
static void
test_billion_laughs(void **state)
{
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    assert_int_equal(
        bt_buf_puts(&b, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"), 0);
    for (int i = 1; i < 10; i++) {
        assert_int_equal(bt_buf_printf(&b, "a%d: &a%d [", i, i), 0);
        for (int j = 0; j < 10; j++)
            assert_int_equal(bt_buf_printf(&b, "%s*a%d", j ? ", " : "", i - 1), 0);
        assert_int_equal(bt_buf_puts(&b, "]\n"), 0);
    }
    struct bt_arena *a = *state;
    struct compose_node **docs;
    size_t n;
    struct bt_err *err = NULL;
    double t0 = now();
    assert_true(compose_yaml_parse(a, "t.yaml", b.data, b.len, &docs, &n, &err) < 0);
    assert_true(now() - t0 < 1.0);
    assert_true(bt_arena_used(a) < (1u << 20));
    assert_int_equal(err->code, BT_ETOOBIG);
    assert_string_equal(err->msg, "aliases expand to more than 2000000 nodes (billion laughs?)");
    /* a0..a5 hold 1.23 million nodes, a5 alone 1.1 million: the first alias to it crosses. */
    assert_int_equal(err->line, 7);
    assert_int_equal(err->col, 10);
    bt_err_free(err);
    bt_buf_release(&b);
    /* The same bomb through merge keys: each mapping holds three aliases and merges a fourth. */
    bt_buf_init(&b, 1 << 20);
    assert_int_equal(bt_buf_puts(&b, "m0: &m0 {a: 1, b: 2, c: 3}\n"), 0);
    for (int i = 1; i < 40; i++)
        assert_int_equal(bt_buf_printf(&b,
                                       "m%d: &m%d {a%d: *m%d, b%d: *m%d, c%d: *m%d, <<: *m%d}\n", i,
                                       i, i, i - 1, i, i - 1, i, i - 1, i - 1),
                         0);
    err = NULL;
    t0 = now();
    assert_true(compose_yaml_parse(a, "t.yaml", b.data, b.len, &docs, &n, &err) < 0);
    assert_true(now() - t0 < 1.0);
    assert_int_equal(err->code, BT_ETOOBIG);
    bt_err_free(err);
    bt_buf_release(&b);
}

static char *
nested(int levels, const char *inner)
{
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    for (int i = 0; i < levels; i++)
        assert_int_equal(bt_buf_puts(&b, "["), 0);
    assert_int_equal(bt_buf_puts(&b, inner), 0);
    for (int i = 0; i < levels; i++)
        assert_int_equal(bt_buf_puts(&b, "]"), 0);
    return bt_buf_steal(&b);
}

static void
test_depth(void **state)
{
    char *ok = nested(COMPOSE_MAX_DEPTH, "x");
    const struct compose_node *n = one_doc(*state, ok);
    for (int i = 0; i < COMPOSE_MAX_DEPTH; i++)
        n = n->items[0];
    assert_str(n, "x");
    free(ok);
    char *deep = nested(COMPOSE_MAX_DEPTH + 1, "x");
    assert_error(deep, "t.yaml:1:129: collections nest deeper than 128 levels");
    free(deep);
    deep = nested(100000, "");
    assert_error_has(deep, "collections nest deeper than 128 levels");
    free(deep);
    /* Block style too. */
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    for (int i = 0; i <= COMPOSE_MAX_DEPTH; i++)
        assert_int_equal(bt_buf_printf(&b, "%*sk:\n", i, ""), 0);
    assert_error_has(b.data, "t.yaml:129:129: collections nest deeper than 128 levels");
    bt_buf_release(&b);
    /* Aliases cannot stack nesting past the limit either. */
    char *a100 = nested(100, "x");
    char *inner = nested(30, "*a");
    char *text = bt_xasprintf("a: &a %s\nb: %s\n", a100, inner);
    assert_error(text, "t.yaml:2:34: alias '*a' nests collections deeper than 128 levels");
    free(text);
    free(inner);
    inner = nested(27, "*a");
    text = bt_xasprintf("a: &a %s\nb: %s\n", a100, inner);
    (void) one_doc(*state, text);
    free(text);
    free(inner);
    free(a100);
}

static void
test_too_big(void **state)
{
    size_t len = COMPOSE_MAX_FILE_SIZE + 1;
    char *big = bt_xmalloc(len);
    memset(big, ' ', len);
    struct compose_node **docs;
    size_t n;
    struct bt_err *err = NULL;
    assert_int_equal(compose_yaml_parse(*state, "big.yaml", big, len, &docs, &n, &err),
                     -BT_ETOOBIG);
    char *t = bt_err_text(err);
    assert_string_equal(t, "big.yaml: larger than 16777216 bytes, the limit for a compose file");
    free(t);
    bt_err_free(err);
    /* Exactly at the limit is fine (blank text: no documents). */
    assert_int_equal(compose_yaml_parse(*state, "big.yaml", big, len - 1, &docs, &n, NULL), 0);
    assert_int_equal(n, 0);
    /* From a file. */
    char tmp[] = "/tmp/berth-yaml-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t) len), 0);
    close(fd);
    err = NULL;
    assert_int_equal(compose_yaml_load_file(*state, tmp, &docs, &n, &err), -BT_ETOOBIG);
    assert_non_null(strstr(err->msg, "16777216"));
    bt_err_free(err);
    unlink(tmp);
    free(big);
}

static void
test_load_file(void **state)
{
    struct compose_node **docs;
    size_t n;
    struct bt_err *err = NULL;
    assert_int_equal(compose_yaml_load_file(*state, "no-such-dir/x.yaml", &docs, &n, &err),
                     -ENOENT);
    assert_string_equal(err->msg, "cannot open 'no-such-dir/x.yaml': No such file or directory");
    bt_err_free(err);

    char tmp[] = "/tmp/berth-yaml-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    const char text[] = "services:\n  web:\n    image: [\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t) sizeof text - 1);
    close(fd);
    err = NULL;
    assert_true(compose_yaml_load_file(*state, tmp, &docs, &n, &err) < 0);
    assert_string_equal(err->file, tmp);
    assert_int_equal(err->line, 4);
    bt_err_free(err);

    /* "-" reads standard input; positions name it "-". */
    fd = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    const char good[] = "a:\n  b: 1\n";
    assert_int_equal(write(fd, good, sizeof good - 1), (ssize_t) sizeof good - 1);
    close(fd);
    int saved = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    assert_true(saved >= 0);
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    int r = compose_yaml_load_file(*state, "-", &docs, &n, NULL);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    assert_int_equal(r, 0);
    assert_int_equal(n, 1);
    const struct compose_node *b = path(docs[0], "a", "b");
    assert_str(b, "1");
    assert_string_equal(b->pos.file, "-");
    assert_int_equal(b->pos.line, 2);
    unlink(tmp);
}

static void
test_corpus_file(void **state)
{
    const char *file = corpus_path("awesome-compose/nginx-golang-mysql__compose.yaml");
    struct stat st;
    if (stat(file, &st) < 0)
        skip(); /* the shared corpus is not on this machine */
    struct compose_node **docs;
    size_t n;
    struct bt_err *err = NULL;
    int r = compose_yaml_load_file(*state, file, &docs, &n, &err);
    if (r < 0)
        print_error("%s: %s\n", file, err->msg);
    assert_int_equal(r, 0);
    assert_int_equal(n, 1);
    const struct compose_node *services = compose_map_get(docs[0], "services");
    assert_non_null(services);
    assert_int_equal(services->kind, COMPOSE_NODE_MAP);
    assert_true(services->n >= 2);
    assert_string_equal(services->pos.file, file);
    /* Files using an alias and a !reset tag. */
    file = corpus_path("compose/pkg__e2e__fixtures__watch__compose.yaml");
    assert_int_equal(compose_yaml_load_file(*state, file, &docs, &n, NULL), 0);
    services = compose_map_get(docs[0], "services");
    assert_ptr_equal(path(services, "alpine", "develop"), compose_map_get(docs[0], "x-dev"));
    file = corpus_path("compose-go/loader__testdata__extends__reset.yaml");
    assert_int_equal(compose_yaml_load_file(*state, file, &docs, &n, NULL), 0);
    const struct compose_node *cmd = path(compose_map_get(docs[0], "services"), "base", "command");
    assert_int_equal(cmd->tag, COMPOSE_TAG_RESET);
    assert_int_equal(compose_scalar_type(cmd), COMPOSE_SCALAR_NULL);
}

/* Files of the corpus that are not valid YAML on purpose ("dir/name", and why). None today:
 * the invalid fixtures (compose/pkg__e2e__fixtures__wrong-composefile__*, the extends, include
 * and depends_on cycles of compose-go) are valid YAML that later stages refuse. A file that
 * starts failing to parse must be added here with its reason, or fixed in the loader. The last
 * entry only keeps the array non-empty. */
static const struct {
    const char *name;
    const char *why;
} corpus_invalid[] = {
    { NULL, NULL },
};

static bool
is_yaml_name(const char *name)
{
    size_t len = strlen(name);
    return (len > 4 && strcmp(name + len - 4, ".yml") == 0) ||
           (len > 5 && strcmp(name + len - 5, ".yaml") == 0);
}

static const char *
expected_failure(const char *name)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(corpus_invalid); i++)
        if (corpus_invalid[i].name && strcmp(corpus_invalid[i].name, name) == 0)
            return corpus_invalid[i].why;
    return NULL;
}

/* Parse one directory of the corpus; counts files, parsed files and surprises. */
static void
load_corpus_dir(const char *sub, int *ret_files, int *ret_parsed, int *ret_bad)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", corpus_dir(), sub);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_yaml_name(de->d_name))
            continue;
        char *p = bt_xasprintf("%s/%s", dir, de->d_name);
        char *rel = bt_xasprintf("%s/%s", sub, de->d_name);
        struct bt_arena *a = bt_arena_new();
        struct compose_node **docs;
        size_t n;
        struct bt_err *err = NULL;
        const char *why = expected_failure(rel);
        (*ret_files)++;
        if (compose_yaml_load_file(a, p, &docs, &n, &err) == 0) {
            (*ret_parsed)++;
            if (why) {
                print_message("# %s: parses, but is listed as invalid (%s)\n", rel, why);
                (*ret_bad)++;
            }
        } else {
            char *t = bt_err_text(err);
            print_message("# %s: %s%s%s\n", rel, t, why ? " -- expected: " : "", why ? why : "");
            if (!why)
                (*ret_bad)++;
            free(t);
        }
        bt_err_free(err);
        bt_arena_free(a);
        free(rel);
        free(p);
    }
    closedir(d);
}

static void
test_corpus_all(void **state)
{
    (void) state;
    struct stat st;
    if (stat(corpus_dir(), &st) < 0)
        skip();
    int files = 0, parsed = 0, bad = 0;
    static const char *const subs[] = { "awesome-compose", "compose", "compose-go" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(subs); i++)
        load_corpus_dir(subs[i], &files, &parsed, &bad);
    print_message("# corpus: %d YAML files, %d parse, %d fail\n", files, parsed, files - parsed);
    assert_true(files >= 300);
    assert_int_equal(bad, 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    static const struct CMUnitTest tests[] = {
        T(test_positions),      T(test_documents),      T(test_empty),
        T(test_anchors),        T(test_alias_errors),   T(test_merge),
        T(test_merge_errors),   T(test_duplicate_keys), T(test_keys_must_be_scalars),
        T(test_tags),           T(test_tag_errors),     T(test_tabs),
        T(test_syntax_errors),  T(test_bad_bytes),      T(test_garbage),
        T(test_block_scalars),  T(test_scalar_types),   T(test_type_names_and_lookup),
        T(test_billion_laughs), T(test_depth),          T(test_too_big),
        T(test_load_file),      T(test_corpus_file),    T(test_corpus_all),
    };
    return cmocka_run_group_tests_name("test-compose-yaml", tests, NULL, NULL);
}
