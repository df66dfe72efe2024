/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema validator: every keyword on small schemas, the pattern engine, positioned errors
 * with paths, "did you mean", the choice among oneOf/anyOf alternatives, schema load errors,
 * small good and bad Compose files against the built-in schema, and every compose file of the
 * shared corpus (all valid but a listed few, each rejected for a stated reason).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/node.h"
#include "compose/schema-int.h"
#include "compose/schema.h"
#include "engine/base/alloc.h"

/* The shared corpus: BERTH_CORPUS_DIR, else ../shared/corpus beside the repository (the test
 * runner works from the repository's top). */
static const char *
corpus_dir(void)
{
    const char *d = getenv("BERTH_CORPUS_DIR");
    return d && d[0] ? d : "../shared/corpus";
}

/* ---- helpers ---- */

static struct compose_schema *
schema_from(const char *json)
{
    struct compose_schema *s = NULL;
    struct bt_err *err = NULL;
    int r = compose_schema_load("t.json", json, strlen(json), &s, &err);
    if (r < 0) {
        char *t = bt_err_text(err);
        print_error("schema does not load: %s\n", t);
        free(t);
    }
    assert_int_equal(r, 0);
    assert_null(err);
    return s;
}

/* The error text of validating yaml against s (caller frees), or NULL when it is valid. The
 * hint, if any, goes to *ret_hint (caller frees) when ret_hint is not NULL. */
static char *
check_text(const struct compose_schema *s, const char *yaml, char **ret_hint)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    int r = compose_yaml_parse(a, "t.yaml", yaml, strlen(yaml), &docs, &n, &err);
    if (r < 0) {
        char *t = bt_err_text(err);
        print_error("YAML does not parse: %s\n", t);
        free(t);
    }
    assert_int_equal(r, 0);
    r = compose_schema_validate(s, n ? docs[0] : NULL, &err);
    char *text = NULL;
    if (r < 0) {
        assert_non_null(err);
        assert_int_equal(err->code, BT_EINVALID);
        assert_int_equal(-r, BT_EINVALID);
        text = bt_err_text(err);
        if (ret_hint)
            *ret_hint = err->hint ? bt_xstrdup(err->hint) : NULL;
    } else {
        assert_null(err);
    }
    bt_err_free(err);
    bt_arena_free(a);
    return text;
}

static void
assert_valid(const struct compose_schema *s, const char *yaml)
{
    char *t = check_text(s, yaml, NULL);
    if (t)
        print_error("unexpected error for:\n%s\n  %s\n", yaml, t);
    assert_null(t);
}

static void
assert_invalid(const struct compose_schema *s, const char *yaml, const char *want)
{
    char *t = check_text(s, yaml, NULL);
    if (!t)
        print_error("no error for:\n%s\n", yaml);
    assert_non_null(t);
    assert_string_equal(t, want);
    free(t);
}

/* One schema, many documents: { yaml, NULL } is valid, { yaml, "t.yaml:..." } that error. */
struct doc_case {
    const char *yaml;
    const char *want;
};

static void
run_cases(const char *schema_json, const struct doc_case *cases, size_t n)
{
    struct compose_schema *s = schema_from(schema_json);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].want)
            assert_invalid(s, cases[i].yaml, cases[i].want);
        else
            assert_valid(s, cases[i].yaml);
    }
    compose_schema_free(s);
}

#define RUN(schema, cases) run_cases(schema, cases, sizeof(cases) / sizeof((cases)[0]))

/* ---- keywords ---- */

static void
test_type_integer(void **state)
{
    (void) state;
    static const struct doc_case cases[] = {
        { "8080", NULL },
        { "0x1F", NULL },
        { "0o17", NULL },
        { "1_000", NULL },
        { "-3", NULL },
        { "1.0", NULL }, /* a float with no fraction is an integer in JSON Schema */
        { "1e3", NULL },
        { "'8080'", "t.yaml:1:1: must be an integer, got the string '8080'" },
        { "1.5", "t.yaml:1:1: must be an integer, got the number 1.5" },
        { ".inf", "t.yaml:1:1: must be an integer, got the number .inf" },
        { "true", "t.yaml:1:1: must be an integer, got the boolean true" },
        { "~", "t.yaml:1:1: must be an integer, got null" },
        { "{a: 1}", "t.yaml:1:1: must be an integer, got a mapping" },
        { "[1]", "t.yaml:1:1: must be an integer, got a sequence" },
    };
    RUN("{\"type\": \"integer\"}", cases);
}

static void
test_type_scalars(void **state)
{
    (void) state;
    static const struct doc_case numbers[] = {
        { "8080", NULL }, /* an integer is a number */
        { "1.5", NULL },
        { "-.5", NULL },
        { "\"1.5\"", "t.yaml:1:1: must be a number, got the string '1.5'" },
    };
    RUN("{\"type\": \"number\"}", numbers);
    static const struct doc_case strings[] = {
        { "'8080'", NULL },
        { "\"true\"", NULL },
        { "abc", NULL },
        { "yes", NULL }, /* YAML 1.2: not a boolean */
        { "!!str 12", NULL },
        { "8080", "t.yaml:1:1: must be a string, got the integer 8080" },
        { "False", "t.yaml:1:1: must be a string, got the boolean False" },
        { "null", "t.yaml:1:1: must be a string, got null" },
    };
    RUN("{\"type\": \"string\"}", strings);
    static const struct doc_case booleans[] = {
        { "true", NULL },
        { "TRUE", NULL },
        { "false", NULL },
        { "'true'", "t.yaml:1:1: must be a boolean, got the string 'true'" },
        { "on", "t.yaml:1:1: must be a boolean, got the string 'on'" },
    };
    RUN("{\"type\": \"boolean\"}", booleans);
    static const struct doc_case nulls[] = {
        { "~", NULL },
        { "Null", NULL },
        { "a:", "t.yaml:1:1: must be null, got a mapping" },
    };
    RUN("{\"type\": \"null\"}", nulls);
    static const struct doc_case several[] = {
        { "x", NULL },
        { "1.5", NULL },
        { "{}", "t.yaml:1:1: must be a number or a string, got a mapping" },
    };
    RUN("{\"type\": [\"number\", \"string\"]}", several);
}

static void
test_enum_const(void **state)
{
    (void) state;
    static const struct doc_case e[] = {
        { "'true'", NULL }, /* the string, not the boolean */
        { "1", NULL },
        { "1.0", NULL }, /* 1.0 == 1 */
        { "0x1", NULL },
        { "~", NULL },
        { "[a, {b: 2}]", NULL },
        { "true",
          "t.yaml:1:1: invalid value 'true': must be one of: true, 1, null, [\"a\",{\"b\":2}]" },
        { "'1'",
          "t.yaml:1:1: invalid value '1': must be one of: true, 1, null, [\"a\",{\"b\":2}]" },
        { "[a, {b: 3}]", "t.yaml:1:1: invalid value (a sequence): must be one of: true, 1, null, "
                         "[\"a\",{\"b\":2}]" },
    };
    RUN("{\"enum\": [\"true\", 1, null, [\"a\", {\"b\": 2}]]}", e);
    static const struct doc_case c[] = {
        { "all", NULL },
        { "'all'", NULL },
        { "alll", "t.yaml:1:1: invalid value 'alll': must be 'all'" },
        { "5", "t.yaml:1:1: invalid value '5': must be 'all'" },
    };
    RUN("{\"const\": \"all\"}", c);
    static const struct doc_case dym[] = {
        { "service_healty", "t.yaml:1:1: invalid value 'service_healty' (did you mean "
                            "'service_healthy'?): must be one of: service_started, "
                            "service_healthy, service_completed_successfully" },
        { "bogus", "t.yaml:1:1: invalid value 'bogus': must be one of: service_started, "
                   "service_healthy, service_completed_successfully" },
    };
    RUN("{\"enum\": [\"service_started\", \"service_healthy\", "
        "\"service_completed_successfully\"]}",
        dym);
}

static void
test_properties(void **state)
{
    (void) state;
    static const char schema[] = "{\"type\": \"object\", \"properties\": {\"image\": {\"type\": "
                                 "\"string\"}, \"command\": {\"type\": \"string\"}}, "
                                 "\"patternProperties\": {\"^x-\": true}, "
                                 "\"additionalProperties\": false}";
    static const struct doc_case cases[] = {
        { "image: nginx", NULL },
        { "{}", NULL },
        { "x-anything: [1, {2: 3}]", NULL },
        { "image: nginx\nimagee: nginx",
          "t.yaml:2:1: unknown key 'imagee' (did you mean 'image'?)" },
        { "image: 5", "t.yaml:1:8: image: must be a string, got the integer 5" },
        { "image: x\ncomand: y", "t.yaml:2:1: unknown key 'comand' (did you mean 'command'?)" },
    };
    RUN(schema, cases);
    /* With no close key, the hint lists the known ones. */
    struct compose_schema *s = schema_from(schema);
    char *hint = NULL;
    char *t = check_text(s, "zzz: 1", &hint);
    assert_string_equal(t, "t.yaml:1:1: unknown key 'zzz'");
    assert_string_equal(hint, "known keys: image, command; extension keys start with 'x-'");
    free(t);
    free(hint);
    compose_schema_free(s);
}

static void
test_additional_and_pattern_properties(void **state)
{
    (void) state;
    static const struct doc_case more[] = {
        { "a: 1\nb: 2", NULL },
        { "a: 1\nb: x", "t.yaml:2:4: b: must be an integer, got the string 'x'" },
    };
    RUN("{\"additionalProperties\": {\"type\": \"integer\"}}", more);
    static const struct doc_case pat[] = {
        { "abc: 1\nxyz: 2", NULL },
        { "ABC: 1", "t.yaml:1:1: invalid key 'ABC': must match one of: '^[a-z]+$', '^a'" },
        { "abc: x", "t.yaml:1:6: abc: must be an integer, got the string 'x'" },
        { "ab: 11", "t.yaml:1:5: ab: must be at most 9, got 11" }, /* both patterns apply */
    };
    RUN("{\"patternProperties\": {\"^[a-z]+$\": {\"type\": \"integer\"}, \"^a\": {\"maximum\": "
        "9}}, \"additionalProperties\": false}",
        pat);
    static const struct doc_case names[] = {
        { "ab: 1", NULL },
        { "12: 1", NULL }, /* keys are strings, even plain 12 */
        { "Ab: 1", "t.yaml:1:1: invalid key 'Ab': must match '^[a-z0-9]+$'" },
    };
    RUN("{\"propertyNames\": {\"type\": \"string\", \"pattern\": \"^[a-z0-9]+$\"}}", names);
    static const struct doc_case nothing[] = {
        { "{}", NULL },
        { "a: 1", "t.yaml:1:1: key 'a' is not allowed here" },
    };
    RUN("{\"additionalProperties\": false}", nothing);
    static const struct doc_case false_prop[] = {
        { "b: 1", NULL },
        { "a: 1", "t.yaml:1:4: a: value '1' is not allowed here" },
    };
    RUN("{\"properties\": {\"a\": false, \"b\": true}}", false_prop);
}

static void
test_required_and_counts(void **state)
{
    (void) state;
    static const struct doc_case req[] = {
        { "condition: x", NULL },
        { "a: 1", "t.yaml:1:1: missing required key 'condition'" },
        { "{}", "t.yaml:1:1: missing required key 'condition'" },
        { "[]", NULL }, /* required applies to mappings only */
    };
    RUN("{\"required\": [\"condition\"]}", req);
    static const struct doc_case props[] = {
        { "a: 1", NULL },
        { "{}", "t.yaml:1:1: must have at least 1 key, got 0" },
        { "{a: 1, b: 2, c: 3}", "t.yaml:1:1: must have at most 2 keys, got 3" },
    };
    RUN("{\"minProperties\": 1, \"maxProperties\": 2}", props);
}

static void
test_items(void **state)
{
    (void) state;
    static const struct doc_case cases[] = {
        { "[a, b]", NULL },
        { "[a, 1]", "t.yaml:1:5: [1]: must be a string, got the integer 1" },
        { "- a\n- - b\n", "t.yaml:2:3: [1]: must be a string, got a sequence" },
        { "[]", "t.yaml:1:1: must have at least 1 item, got 0" },
        { "[a, b, c]", "t.yaml:1:1: must have at most 2 items, got 3" },
        { "abc", NULL }, /* items applies to sequences only */
    };
    RUN("{\"items\": {\"type\": \"string\"}, \"minItems\": 1, \"maxItems\": 2}", cases);
}

static void
test_unique_items(void **state)
{
    (void) state;
    static const struct doc_case cases[] = {
        { "[1, '1', true, 'true', ~, '']", NULL },
        { "[{a: 1}, {a: 2}, [1], [1, 1]]", NULL },
        { "[a, b, a]", "t.yaml:1:8: [2]: duplicate value 'a' (same as [0])" },
        { "[1, 1.0]", "t.yaml:1:5: [1]: duplicate value '1.0' (same as [0])" },
        { "[0x10, 16]", "t.yaml:1:8: [1]: duplicate value '16' (same as [0])" },
        { "[true, True]", "t.yaml:1:8: [1]: duplicate value 'True' (same as [0])" },
        { "[null, ~]", "t.yaml:1:8: [1]: duplicate value '~' (same as [0])" },
        { "[x, {a: 1, b: [2]}, {b: [2.0], a: 1}]",
          "t.yaml:1:21: [2]: duplicate item (same as [1])" },
        { "[p, q, q, p]", "t.yaml:1:8: [2]: duplicate value 'q' (same as [1])" },
        { "- &a {x: 1}\n- *a\n", "t.yaml:1:3: [1]: duplicate item (same as [0])" },
    };
    RUN("{\"uniqueItems\": true}", cases);
}

static void
test_numbers(void **state)
{
    (void) state;
    static const struct doc_case range[] = {
        { "-1000", NULL },
        { "1000", NULL },
        { "0.5", NULL },
        { "'5000'", NULL }, /* strings are not numbers */
        { "-1001", "t.yaml:1:1: must be at least -1000, got -1001" },
        { "1000.5", "t.yaml:1:1: must be at most 1000, got 1000.5" },
        { ".nan", "t.yaml:1:1: must be at least -1000, got .nan" },
        { "-.inf", "t.yaml:1:1: must be at least -1000, got -.inf" },
    };
    RUN("{\"minimum\": -1000, \"maximum\": 1000}", range);
    static const struct doc_case excl[] = {
        { "0.1", NULL },
        { "0", "t.yaml:1:1: must be greater than 0, got 0" },
        { "2.5", "t.yaml:1:1: must be less than 2.5, got 2.5" },
    };
    RUN("{\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 2.5}", excl);
    static const struct doc_case big[] = {
        { "9223372036854775807", NULL },
        { "-9223372036854775808", "t.yaml:1:1: must be at least -9223372036854775807, got "
                                  "-9223372036854775808" },
        { "18446744073709551615", "t.yaml:1:1: must be at most 9223372036854775807, got "
                                  "18446744073709551615" },
    };
    RUN("{\"minimum\": -9223372036854775807, \"maximum\": 9223372036854775807}", big);
}

static void
test_strings(void **state)
{
    (void) state;
    static const struct doc_case len[] = {
        { "ab", NULL },
        { "\"\xc3\xa9\xc3\xa9\"", NULL }, /* two characters, four bytes */
        { "\"\xc3\xa9\"", "t.yaml:1:1: must be at least 2 characters long" },
        { "abcd", "t.yaml:1:1: must be at most 3 characters long" },
        { "5", NULL }, /* lengths apply to strings only */
    };
    RUN("{\"minLength\": 2, \"maxLength\": 3}", len);
    static const struct doc_case pat[] = {
        { "xalwaysx", NULL }, /* patterns match anywhere unless anchored */
        { "every_5m", NULL },
        { "sometimes", "t.yaml:1:1: invalid value 'sometimes': must match "
                       "'always|never|every_([0-9]+[wdhms])+'" },
        { "every_", "t.yaml:1:1: invalid value 'every_': must match "
                    "'always|never|every_([0-9]+[wdhms])+'" },
    };
    RUN("{\"type\": \"string\", \"pattern\": \"always|never|every_([0-9]+[wdhms])+\"}", pat);
}

static void
test_one_of_branches(void **state)
{
    (void) state;
    static const char schema[] =
        "{\"oneOf\": [{\"type\": \"string\"}, {\"type\": \"object\", \"properties\": {\"a\": "
        "{\"type\": \"integer\"}, \"cond\": {\"enum\": [\"up\", \"down\"]}}, "
        "\"additionalProperties\": false}]}";
    static const struct doc_case cases[] = {
        { "text", NULL },
        { "a: 1", NULL },
        /* The mapping branch is the one meant: its error, not "no alternative matched". */
        { "a: x", "t.yaml:1:4: a: must be an integer, got the string 'x'" },
        { "cond: dwn", "t.yaml:1:7: cond: invalid value 'dwn' (did you mean 'down'?): must be "
                       "one of: up, down" },
        { "zz: 1", "t.yaml:1:1: unknown key 'zz'" },
        /* Every branch wants another type: say which types would do. */
        { "[1]", "t.yaml:1:1: must be a string or a mapping, got a sequence" },
        { "5", "t.yaml:1:1: must be a string or a mapping, got the integer 5" },
    };
    RUN(schema, cases);
    static const struct doc_case twice[] = {
        { "5.5", NULL },
        { "5", "t.yaml:1:1: matches more than one alternative of the schema (1 and 2)" },
    };
    RUN("{\"oneOf\": [{\"type\": \"integer\"}, {\"type\": \"number\"}]}", twice);
}

static void
test_any_of_branches(void **state)
{
    (void) state;
    static const struct doc_case gpus[] = {
        { "all", NULL },
        { "[1]", NULL },
        { "alll", "t.yaml:1:1: invalid value 'alll': must be 'all'" },
        /* A const of another type counts as a type mismatch when alternatives compete. */
        { "5", "t.yaml:1:1: must be a string or a sequence, got the integer 5" },
    };
    RUN("{\"anyOf\": [{\"const\": \"all\"}, {\"type\": \"array\"}]}", gpus);
    /* The alternative that failed deepest wins over one that failed at the top. */
    static const struct doc_case deep[] = {
        { "x: 1", NULL },
        { "y: s", NULL },
        { "y: 1", "t.yaml:1:4: y: must be a string, got the integer 1" },
    };
    RUN("{\"anyOf\": [{\"type\": \"object\", \"required\": [\"x\"]}, {\"type\": \"object\", "
        "\"properties\": {\"y\": {\"type\": \"string\"}}}]}",
        deep);
    /* Nested alternatives merge their type lists. */
    static const struct doc_case nested[] = {
        { "1", NULL },
        { "a", NULL },
        { "[]", NULL },
        { "{}", "t.yaml:1:1: must be a string, an integer or a sequence, got a mapping" },
    };
    RUN("{\"anyOf\": [{\"oneOf\": [{\"type\": \"integer\"}, {\"type\": \"string\"}]}, "
        "{\"type\": \"array\"}]}",
        nested);
}

static void
test_all_of_not(void **state)
{
    (void) state;
    static const struct doc_case all[] = {
        { "5", NULL },
        { "-1", "t.yaml:1:1: must be at least 0, got -1" },
        { "x", "t.yaml:1:1: must be an integer, got the string 'x'" },
    };
    RUN("{\"allOf\": [{\"type\": \"integer\"}, {\"minimum\": 0}]}", all);
    static const struct doc_case not [] = {
        { "5", NULL },
        { "~", "t.yaml:1:1: invalid value '~': excluded by the schema" },
    };
    RUN("{\"not\": {\"type\": \"null\"}}", not );
}

static void
test_refs(void **state)
{
    (void) state;
    static const char schema[] =
        "{\"$defs\": {\"n\": {\"type\": \"integer\"}}, \"definitions\": {\"s\": {\"type\": "
        "\"string\"}}, \"properties\": {\"a\": {\"$ref\": \"#/$defs/n\"}, \"b\": {\"$ref\": "
        "\"#/definitions/s\"}, \"c\": {\"$ref\": \"#\"}, \"d\": {\"$ref\": \"#/properties/a\"}, "
        "\"e/f\": {\"type\": \"boolean\"}, \"g\": {\"$ref\": \"#/properties/e~1f\"}, \"h\": "
        "{\"$ref\": \"#/properties/i/anyOf/1\"}, \"i\": {\"anyOf\": [true, {\"type\": "
        "\"null\"}]}}, \"additionalProperties\": false}";
    static const struct doc_case cases[] = {
        { "a: 1\nb: x\nc: {a: 2, c: {b: y}}\nd: 3\ng: true\nh: ~", NULL },
        { "a: x", "t.yaml:1:4: a: must be an integer, got the string 'x'" },
        { "c:\n  c:\n    b: 1", "t.yaml:3:8: c.c.b: must be a string, got the integer 1" },
        { "c: {zz: 1}", "t.yaml:1:5: c: unknown key 'zz'" },
        { "d: 1.5", "t.yaml:1:4: d: must be an integer, got the number 1.5" },
        { "g: 1", "t.yaml:1:4: g: must be a boolean, got the integer 1" },
        { "h: 1", "t.yaml:1:4: h: must be null, got the integer 1" },
    };
    RUN(schema, cases);
}

/* A schema that recurses without consuming the tree is stopped, not followed forever. */
static void
test_depth_bound(void **state)
{
    (void) state;
    struct compose_schema *s = schema_from("{\"$ref\": \"#\"}");
    char *t = check_text(s, "a: 1", NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "nested too deeply to validate"));
    free(t);
    compose_schema_free(s);
    /* A deep but legal tree under a recursive schema is fine. */
    s = schema_from("{\"type\": \"array\", \"items\": {\"$ref\": \"#\"}}");
    char deep[256 + 1];
    for (int i = 0; i < 120; i++) {
        deep[i] = '[';
        deep[240 - 1 - i] = ']';
    }
    deep[240] = '\0';
    assert_valid(s, deep);
    compose_schema_free(s);
}

static void
test_empty_document_and_aliases(void **state)
{
    (void) state;
    struct compose_schema *s = schema_from("{\"type\": \"object\", \"properties\": {\"a\": "
                                           "{\"additionalProperties\": {\"type\": "
                                           "\"string\"}}}}");
    struct bt_err *err = NULL;
    assert_int_equal(compose_schema_validate(s, NULL, &err), -BT_EINVALID);
    assert_null(err->file);
    assert_string_equal(err->msg, "must be a mapping, got null");
    err = bt_err_free(err);
    /* A shared node is checked where it is used; the position is its definition's. */
    assert_invalid(s, "x: &v {k: 1}\na: *v\n",
                   "t.yaml:1:11: a.k: must be a string, got the "
                   "integer 1");
    compose_schema_free(s);
}

/* ---- loading schemas ---- */

static void
assert_load_error(const char *json, const char *want)
{
    struct compose_schema *s = NULL;
    struct bt_err *err = NULL;
    assert_true(compose_schema_load("t.json", json, strlen(json), &s, &err) < 0);
    assert_null(s);
    char *t = bt_err_text(err);
    if (strcmp(t, want) != 0)
        print_error("got  %s\nwant %s\n", t, want);
    assert_string_equal(t, want);
    free(t);
    bt_err_free(err);
}

static void
test_load_errors(void **state)
{
    (void) state;
    assert_load_error("{\"type\": ", "t.json:1:9: unexpected token near end of file");
    assert_load_error("{\"a\": 1, \"a\": 2}", "t.json:1:12: duplicate object key near '\"a\"'");
    assert_load_error("{\"format\": \"duration\"}",
                      "schema 't.json': #/format: unsupported keyword 'format'");
    assert_load_error("{\"properties\": {\"x\": {\"pattern\": \"a(b\"}}}",
                      "schema 't.json': #/properties/x/pattern: invalid pattern 'a(b': missing "
                      "')'");
    assert_load_error("{\"patternProperties\": {\"(?i)x\": true}}",
                      "schema 't.json': #/patternProperties/(?i)x: invalid pattern '(?i)x': "
                      "only (?:...) groups are supported");
    assert_load_error("{\"$ref\": \"#/$defs/nope\"}",
                      "schema 't.json': #/$ref: does not point to a schema in this document");
    assert_load_error("{\"$ref\": \"other.json#/x\"}",
                      "schema 't.json': #/$ref: does not point to a schema in this document");
    assert_load_error("{\"type\": \"strin\"}", "schema 't.json': #/type: unknown type 'strin'");
    assert_load_error("{\"items\": 5}",
                      "schema 't.json': #/items: a schema must be an object or a boolean");
    assert_load_error("{\"oneOf\": []}",
                      "schema 't.json': #/oneOf: must be a non-empty array of schemas");
    assert_load_error("{\"minItems\": -1}",
                      "schema 't.json': #/minItems: must be a non-negative integer");
    assert_load_error("{\"required\": [1]}",
                      "schema 't.json': #/required: must be an array of strings");
    assert_load_error("[]", "schema 't.json': #: a schema must be an object or a boolean");
}

static void
test_builtin_schema_loads(void **state)
{
    (void) state;
    struct compose_schema *s = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(compose_schema_load_compose(&s, &err), 0);
    assert_non_null(s);
    assert_true(s->npats > 0);
    compose_schema_free(s);
    assert_null(compose_schema_free(NULL));
}

/* ---- patterns ---- */

struct re_case {
    const char *pattern;
    const char *subject;
    size_t len; /* 0: strlen(subject) */
    bool match;
};

static void
test_regex_match(void **state)
{
    (void) state;
    static const struct re_case cases[] = {
        { "^[a-zA-Z0-9._-]+$", "web-1.a_b", 0, true },
        { "^[a-zA-Z0-9._-]+$", "my web", 0, false },
        { "^[a-zA-Z0-9._-]+$", "", 0, false },
        { "^[a-zA-Z0-9._-]+$", "web\n", 0, false }, /* $ is the end of the string */
        { "^[a-zA-Z0-9._-]+$", "a\0b", 3, false },
        { ".+", "x", 0, true },
        { ".+", "", 0, false },
        { ".+", "\n", 0, false }, /* '.' is anything but a newline */
        { ".+", "\na", 0, true },
        { "^.+$", "a\nb", 0, false },
        { "^x-", "x-foo", 0, true },
        { "^x-", "ax-", 0, false },
        { "always|never", "xalwaysx", 0, true },
        { "every_([0-9]+[wdhms])+", "every_5m", 0, true },
        { "every_([0-9]+[wdhms])+", "every_10h5m", 0, true },
        { "every_([0-9]+[wdhms])+", "every_m", 0, false },
        { "[a-zA-Z0-9][a-zA-Z0-9_.-]+", "-a", 0, false },
        { "[a-zA-Z0-9][a-zA-Z0-9_.-]+", "-ab", 0, true },
        { "^a{2,3}$", "aa", 0, true },
        { "^a{2,3}$", "aaaa", 0, false },
        { "^a{2}$", "aa", 0, true },
        { "^a{2,}$", "aaaaa", 0, true },
        { "^a{2,}$", "a", 0, false },
        { "^x{$", "x{", 0, true }, /* not a repeat: a literal brace */
        { "^a{,2}$", "a{,2}", 0, true },
        { "\\d+", "ab12", 0, true },
        { "^\\w+$", "a_1", 0, true },
        { "^\\w+$", "a-1", 0, false },
        { "^\\S\\s\\D\\W$", "a 1-", 0, false },
        { "^\\S\\s\\D\\W$", "a x-", 0, true },
        { "^[^a]$", "b", 0, true },
        { "^[^a]$", "a", 0, false },
        { "^[^a]$", "\n", 0, true }, /* negated classes do match a newline */
        { "^[]a]+$", "]a]", 0, true },
        { "^[a-]+$", "a-a", 0, true },
        { "^[\\]]$", "]", 0, true },
        { "^[\\d.]+$", "1.2", 0, true },
        { "^\xc3\xa9$", "\xc3\xa9", 0, true },
        { "^.$", "\xc3\xa9", 0, true }, /* one code point */
        { "^.$", "\xff", 0, true },     /* an invalid byte is one U+FFFD */
        { "^[\xc3\xa0-\xc3\xbf]$", "\xc3\xa9", 0, true },
        { "a*", "", 0, true },
        { "^(a|b)*c$", "ababc", 0, true },
        { "^(?:ab)+$", "abab", 0, true },
        { "^(?:ab)+$", "aba", 0, false },
        { "^(a*)*$", "aaaa", 0, true },
        { "^(a|)+$", "aa", 0, true },
        { "^$", "", 0, true },
        { "^$", "x", 0, false },
        { "a+?b", "aab", 0, true },
        { "\\.", "a.b", 0, true },
        { "\\.", "ab", 0, false },
        { "x|", "abc", 0, true },
        { "\\t", "a\tb", 0, true },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct compose_re *re = NULL;
        char *why = NULL;
        int r = compose_re_compile(cases[i].pattern, &re, &why);
        if (r < 0)
            print_error("'%s' does not compile: %s\n", cases[i].pattern, why);
        assert_int_equal(r, 0);
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].subject);
        bool m = compose_re_search(re, cases[i].subject, len);
        if (m != cases[i].match)
            print_error("case %zu: '%s' on '%s': got %d\n", i, cases[i].pattern, cases[i].subject,
                        m);
        assert_int_equal(m, cases[i].match);
        compose_re_free(re);
    }
}

static void
test_regex_errors(void **state)
{
    (void) state;
    static const struct {
        const char *pattern, *why;
    } cases[] = {
        { "(", "missing ')'" },
        { "a)", "unmatched ')'" },
        { "[a", "missing ']'" },
        { "[b-a]", "bad range in a class" },
        { "*a", "'*' with nothing to repeat" },
        { "a**", "nested repetition" },
        { "a{2,1}", "bad repeat {2,1}" },
        { "a{1001}", "repeat count over 1000" },
        { "\\b", "unsupported escape '\\b'" },
        { "\\1", "unsupported escape '\\1'" },
        { "[\\p]", "unsupported escape '\\p' in a class" },
        { "(?=a)", "only (?:...) groups are supported" },
        { "[[:alpha:]]", "POSIX classes like [:alpha:] are not supported" },
        { "a\\", "trailing '\\'" },
        { "(a{1000}){1000}", "pattern too large" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct compose_re *re = NULL;
        char *why = NULL;
        assert_int_equal(compose_re_compile(cases[i].pattern, &re, &why), -EINVAL);
        assert_null(re);
        if (strcmp(why, cases[i].why) != 0)
            print_error("'%s': got '%s'\n", cases[i].pattern, why);
        assert_string_equal(why, cases[i].why);
        free(why);
    }
}

/* Linear time: a pattern that makes backtracking engines explode is fast here. */
static void
test_regex_linear(void **state)
{
    (void) state;
    struct compose_re *re = NULL;
    char *why = NULL;
    assert_int_equal(compose_re_compile("^(a+)+$", &re, &why), 0);
    char s[20001];
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 2] = 'b';
    s[sizeof s - 1] = '\0';
    assert_false(compose_re_search(re, s, strlen(s)));
    compose_re_free(re);
}

/* ---- values ---- */

static struct bt_arena *values_arena;

static struct compose_node *
scalar(const char *text, bool plain)
{
    return compose_node_scalar(values_arena, NULL, text, plain);
}

static void
test_values(void **state)
{
    (void) state;
    values_arena = bt_arena_new();
    assert_int_equal(compose_schema_node_types(scalar("12", true)), SCHEMA_INTEGER | SCHEMA_NUMBER);
    assert_int_equal(compose_schema_node_types(scalar("12", false)), SCHEMA_STRING);
    assert_int_equal(compose_schema_node_types(scalar("2.0", true)),
                     SCHEMA_INTEGER | SCHEMA_NUMBER);
    assert_int_equal(compose_schema_node_types(scalar("2.5", true)), SCHEMA_NUMBER);
    assert_int_equal(compose_schema_node_types(scalar("", true)), SCHEMA_NULL);
    assert_int_equal(compose_schema_node_types(NULL), SCHEMA_NULL);
    struct compose_num v;
    assert_true(compose_schema_node_num(scalar("0755", true), &v)); /* Go: leading 0 is octal */
    assert_true(v.is_int);
    assert_int_equal(v.mag, 0755);
    assert_true(compose_schema_node_num(scalar("-0b101", true), &v));
    assert_true(v.neg);
    assert_int_equal(v.mag, 5);
    assert_true(compose_schema_node_num(scalar("-0", true), &v));
    assert_false(v.neg);
    assert_false(compose_schema_node_num(scalar("12", false), &v));
    char *t = compose_schema_types_str(SCHEMA_INTEGER | SCHEMA_NUMBER | SCHEMA_STRING);
    assert_string_equal(t, "a string or a number");
    free(t);
    t = compose_schema_types_str(SCHEMA_OBJECT | SCHEMA_ARRAY | SCHEMA_NULL);
    assert_string_equal(t, "a mapping, a sequence or null");
    free(t);
    assert_true(compose_schema_nodes_equal(scalar("1_0", true), scalar("10.0", true)));
    assert_false(compose_schema_nodes_equal(scalar("10", true), scalar("10", false)));
    assert_int_equal(compose_schema_node_hash(scalar("0xA", true)),
                     compose_schema_node_hash(scalar("10.0", true)));
    values_arena = bt_arena_free(values_arena);
}

/* ---- Compose files ---- */

static int
setup_compose(void **state)
{
    struct bt_err *err = NULL;
    struct compose_schema *s = NULL;
    if (compose_schema_load_compose(&s, &err) < 0)
        return -1;
    *state = s;
    return 0;
}

static int
teardown_compose(void **state)
{
    compose_schema_free(*state);
    return 0;
}

static const char *const good_files[] = {
    "services:\n  web:\n    image: nginx\n",
    /* An override file: partial services, nothing required. */
    "services:\n  web:\n    environment:\n      - DEBUG=1\n",
    "name: app\nversion: '3.9'\nx-common: &c\n  restart: always\nservices:\n  web:\n    <<: *c\n"
    "    image: nginx:1.25\n    x-custom: {any: [thing]}\n",
    /* Every port syntax, with interpolation where numbers go. */
    "services:\n  web:\n    image: a\n    ports:\n      - 80\n      - '443:443'\n      - "
    "127.0.0.1:8080:80/udp\n      - target: 80\n        published: '8080'\n        protocol: "
    "tcp\n        mode: host\n      - target: ${PORT}\n        x-note: ok\n",
    "services:\n  web:\n    image: a\n    depends_on:\n      db:\n        condition: "
    "service_healthy\n        restart: true\n        required: false\n      cache:\n        "
    "condition: service_started\n  db:\n    image: postgres\n    healthcheck:\n      test: "
    "[CMD, pg_isready]\n      interval: 5s\n      retries: 5\n  cache:\n    image: redis\n    "
    "healthcheck:\n      test: redis-cli ping\n      disable: false\n",
    "services:\n  web:\n    build: .\n  api:\n    build:\n      context: ./api\n      "
    "dockerfile: Dockerfile.dev\n      args:\n        VERSION: 1.2\n        FLAG: true\n        "
    "EMPTY:\n      target: dev\n      cache_from: [a, a]\n      ssh: [default]\n      "
    "x-b: 1\n",
    "services:\n  web:\n    image: a\n    cpus: ${CPUS:-0.5}\n    mem_limit: 512m\n    "
    "shm_size: 1073741824\n    cpu_count: 2\n    oom_score_adj: -500\n    privileged: "
    "${PRIV}\n    read_only: true\n    init: 'true'\n    scale: 2\n    pids_limit: -1\n",
    "services:\n  web:\n    image: a\n    networks:\n      front:\n      back:\n        "
    "aliases: [api]\n        ipv4_address: 10.0.0.5\n        priority: 10\nnetworks:\n  "
    "front:\n  back:\n    driver: bridge\n    ipam:\n      config:\n        - subnet: "
    "10.0.0.0/24\n    external: false\n",
    "services:\n  web:\n    image: a\n    volumes:\n      - data:/data\n      - ./src:/src:ro\n  "
    "    - type: bind\n        source: ./conf\n        target: /etc/conf\n        bind:\n       "
    "   create_host_path: true\n          selinux: z\n      - type: tmpfs\n        target: "
    "/tmp\n        tmpfs:\n          size: 64m\n      - type: volume\n        source: cache\n   "
    "     target: /cache\n        volume:\n          nocopy: true\nvolumes:\n  data:\n  "
    "cache:\n    external: true\n",
    "services:\n  web:\n    image: a\n    secrets:\n      - token\n      - source: cert\n        "
    "target: /run/cert\n        mode: 0440\n    configs: [app]\nsecrets:\n  token:\n    file: "
    "./token\n  cert:\n    environment: CERT\nconfigs:\n  app:\n    content: |\n      x=1\n",
    "services:\n  web:\n    image: a\n    deploy:\n      replicas: 2\n      resources:\n        "
    "limits:\n          cpus: '0.5'\n          memory: 50M\n        reservations:\n          "
    "devices:\n            - capabilities: [gpu]\n              count: all\n      "
    "restart_policy:\n        condition: on-failure\n        max_attempts: 3\n      "
    "update_config:\n        order: start-first\n    develop:\n      watch:\n        - path: "
    "./src\n          action: sync\n          target: /src\n          initial_sync: true\n",
    "include:\n  - ./other.yaml\n  - path: [a.yaml, b.yaml]\n    env_file: .env\nservices:\n  "
    "web:\n    extends: base\n  api:\n    extends:\n      file: common.yaml\n      service: "
    "api\n",
    "services:\n  web:\n    image: a\n    gpus: all\n    ulimits:\n      nproc: 65535\n      "
    "nofile:\n        soft: 20000\n        hard: 40000\n    command: null\n    entrypoint: [sh, "
    "-c]\n    env_file:\n      - .env\n      - path: ./opt.env\n        required: false\n    "
    "extra_hosts:\n      host.docker.internal: host-gateway\n    logging:\n      driver: "
    "json-file\n      options:\n        max-size: 10m\n        max-file: 3\n",
    "services:\n  web:\n    image: a\n    pre_start:\n      - command: [migrate, up]\n      - "
    "image: busybox\n        command: chown 1000 /data\n        user: root\n    post_start:\n "
    "     - command: ./ready.sh\n    models:\n      llm:\n        endpoint_var: URL\nmodels:\n "
    " llm:\n    model: ai/smollm2\n    context_size: 4096\n",
    "services:\n  web:\n    image: a\n    provider:\n      type: model\n      options:\n       "
    " model: ai/x\n        flags: [a, 1, true]\n",
};

static void
test_compose_good(void **state)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(good_files); i++)
        assert_valid(*state, good_files[i]);
}

static const struct doc_case bad_files[] = {
    { "services:\n  web:\n    imagee: nginx\n",
      "t.yaml:3:5: services.web: unknown key 'imagee' (did you mean 'image'?)" },
    { "servces:\n  web:\n    image: a\n",
      "t.yaml:1:1: unknown key 'servces' (did you mean 'services'?)" },
    { "services:\n  web:\n    image: a\n    ports:\n      - 80\n      - '443:443'\n      - [1]\n",
      "t.yaml:7:9: services.web.ports[2]: must be a number, a string or a mapping, got a "
      "sequence" },
    { "services:\n  web:\n    image: a\n    ports:\n      - target: 80\n        published: "
      "[1]\n",
      "t.yaml:6:20: services.web.ports[0].published: must be a string or an integer, got a "
      "sequence" },
    { "services:\n  web:\n    depends_on:\n      db:\n        condition: service_healty\n",
      "t.yaml:5:20: services.web.depends_on.db.condition: invalid value 'service_healty' (did "
      "you mean 'service_healthy'?): must be one of: service_started, service_healthy, "
      "service_completed_successfully" },
    { "services:\n  web:\n    depends_on:\n      db:\n        restart: true\n",
      "t.yaml:5:9: services.web.depends_on.db: missing required key 'condition'" },
    { "services:\n  web:\n    depends_on: db\n",
      "t.yaml:3:17: services.web.depends_on: must be a sequence or a mapping, got the string "
      "'db'" },
    { "services:\n  web:\n    depends_on: [db, db]\n",
      "t.yaml:3:22: services.web.depends_on[1]: duplicate value 'db' (same as [0])" },
    { "services:\n  my web:\n    image: a\n",
      "t.yaml:2:3: services: invalid key 'my web': must match '^[a-zA-Z0-9._-]+$'" },
    { "services:\n  web:\n    image: a\n    cpu_count: -1\n",
      "t.yaml:4:16: services.web.cpu_count: must be at least 0, got -1" },
    { "services:\n  web:\n    image: a\n    oom_score_adj: 2000\n",
      "t.yaml:4:20: services.web.oom_score_adj: must be at most 1000, got 2000" },
    { "services:\n  web:\n    image: a\n    volumes:\n      - source: ./a\n        target: /a\n",
      "t.yaml:5:9: services.web.volumes[0]: missing required key 'type'" },
    { "services:\n  web:\n    image: a\n    volumes:\n      - type: bnd\n        target: /a\n",
      "t.yaml:5:15: services.web.volumes[0].type: invalid value 'bnd' (did you mean 'bind'?): "
      "must be one of: bind, volume, tmpfs, cluster, npipe, image" },
    { "services:\n  web:\n    image: a\n    gpus: some\n",
      "t.yaml:4:11: services.web.gpus: invalid value 'some': must be 'all'" },
    { "services:\n  web:\n    image: a\n    gpus: 5\n",
      "t.yaml:4:11: services.web.gpus: must be a string or a sequence, got the integer 5" },
    { "services:\n  web:\n    build: [a]\n",
      "t.yaml:3:12: services.web.build: must be a string or a mapping, got a sequence" },
    { "services:\n  web:\n    build:\n      contxt: .\n",
      "t.yaml:4:7: services.web.build: unknown key 'contxt' (did you mean 'context'?)" },
    { "services:\n  web:\n    image: a\n    environment:\n      - A=1\n      - A=1\n",
      "t.yaml:6:9: services.web.environment[1]: duplicate value 'A=1' (same as [0])" },
    { "services:\n  web:\n    image: a\n    environment:\n      A: [1]\n",
      "t.yaml:5:10: services.web.environment.A: must be a string, a number, a boolean or null, "
      "got a sequence" },
    { "services:\n  web:\n    image: a\n    use_api_socket: 'true'\n",
      "t.yaml:4:21: services.web.use_api_socket: must be a boolean, got the string 'true'" },
    { "services:\n  web:\n    image: a\n    restart: 1\n",
      "t.yaml:4:14: services.web.restart: must be a string, got the integer 1" },
    { "services:\n  web:\n    image: a\n    pull_policy: sometimes\n",
      "t.yaml:4:18: services.web.pull_policy: invalid value 'sometimes': must match "
      "'always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+'" },
    { "services:\n  web:\n    extends:\n      file: base.yaml\n",
      "t.yaml:4:7: services.web.extends: missing required key 'service'" },
    { "services:\n  web:\n    image: a\n    networks:\n      front: 5\n",
      "t.yaml:5:14: services.web.networks.front: must be a mapping or null, got the integer 5" },
    { "services:\n  web:\n    image: a\n    healthcheck:\n      test: [CMD, 1]\n",
      "t.yaml:5:19: services.web.healthcheck.test[1]: must be a string, got the integer 1" },
    { "services:\n  web:\n    image: a\n    ulimits:\n      nofile:\n        soft: 1\n",
      "t.yaml:6:9: services.web.ulimits.nofile: missing required key 'hard'" },
    { "services:\n  web:\n    image: a\nvolumes:\n  data:\n    driver_opts:\n      o: [x]\n",
      "t.yaml:7:10: volumes.data.driver_opts.o: must be a string or a number, got a sequence" },
    { "services:\n  web:\n    image: a\nnetworks:\n  n:\n    ipam:\n      config:\n        - "
      "subnet: 10.0.0.0/8\n          gw: 10.0.0.1\n",
      "t.yaml:9:11: networks.n.ipam.config[0]: unknown key 'gw'" },
    { "secrets:\n  s: ~\n", "t.yaml:2:6: secrets.s: must be a mapping, got null" },
    { "models:\n  m:\n    name: x\n", "t.yaml:3:5: models.m: missing required key 'model'" },
    { "services:\n  web:\n    image: a\n    develop:\n      watch:\n        - path: .\n        "
      "  action: reload\n",
      "t.yaml:7:19: services.web.develop.watch[0].action: invalid value 'reload': must be one "
      "of: rebuild, sync, restart, sync+restart, sync+exec" },
    { "- a\n", "t.yaml:1:1: must be a mapping, got a sequence" },
    { "services: []\n", "t.yaml:1:11: services: must be a mapping, got a sequence" },
};

static void
test_compose_bad(void **state)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad_files); i++)
        assert_invalid(*state, bad_files[i].yaml, bad_files[i].want);
}

static void
test_compose_hints(void **state)
{
    char *hint = NULL;
    char *t = check_text(*state, "foo: 1\n", &hint);
    assert_string_equal(t, "t.yaml:1:1: unknown key 'foo'");
    assert_string_equal(hint, "known keys: version, name, include, services, models, networks, "
                              "volumes, secrets, configs; extension keys start with 'x-'");
    free(t);
    free(hint);
    t = check_text(*state, "services:\n  web:\n    wrongField: 1\n", &hint);
    assert_string_equal(t, "t.yaml:3:5: services.web: unknown key 'wrongField'");
    assert_string_equal(hint, "extension keys start with 'x-'");
    free(t);
    free(hint);
    t = check_text(*state, "services:\n  web:\n    depends_on:\n      db:\n        when: x\n",
                   &hint);
    assert_string_equal(t, "t.yaml:5:9: services.web.depends_on.db: unknown key 'when'");
    assert_string_equal(hint, "known keys: condition, required, restart; extension keys start "
                              "with 'x-'");
    free(t);
    free(hint);
}

/* ---- the shared corpus ---- */

/* Files that must be rejected, with a piece of the expected error and why. */
static const struct {
    const char *file; /* relative to corpus_dir() */
    const char *error;
    const char *reason;
} corpus_rejects[] = {
    { "compose/pkg__e2e__fixtures__wrong-composefile__compose.yaml",
      "services.simple: unknown key 'wrongField'",
      "docker compose's own negative test: an attribute that does not exist" },
    { "compose-go/loader__testdata__extends__base.yaml",
      "services.nil: must be a mapping, got null",
      "only ever loaded as the source of 'extends', which compose-go does not validate as a "
      "whole (it validates the merged result); as a compose file of its own the null service "
      "'nil' is invalid" },
};

static bool
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Validate one corpus file; returns the first error's text (caller frees) or NULL. */
static char *
corpus_check(const struct compose_schema *s, const char *path)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    char *text = NULL;
    if (compose_yaml_load_file(a, path, &docs, &n, &err) < 0) {
        text = bt_err_text(err);
        print_error("%s: does not parse: %s\n", path, text);
        fail();
    }
    for (size_t i = 0; i < n && !text; i++)
        if (compose_schema_validate(s, docs[i], &err) < 0)
            text = bt_err_text(err);
    bt_err_free(err);
    bt_arena_free(a);
    return text;
}

static void
test_corpus(void **state)
{
    static const char *const dirs[] = { "awesome-compose", "compose", "compose-go" };
    size_t files = 0, rejected = 0, seen_rejects = 0;
    for (size_t d = 0; d < BT_ARRAY_SIZE(dirs); d++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", corpus_dir(), dirs[d]);
        DIR *dh = opendir(dir);
        if (!dh) {
            if (d == 0)
                skip();
            continue;
        }
        struct dirent *e;
        while ((e = readdir(dh))) {
            if (!has_suffix(e->d_name, ".yml") && !has_suffix(e->d_name, ".yaml"))
                continue;
            char rel[512], path[1024];
            snprintf(rel, sizeof rel, "%s/%s", dirs[d], e->d_name);
            snprintf(path, sizeof path, "%s/%s", corpus_dir(), rel);
            files++;
            char *t = corpus_check(*state, path);
            const char *want = NULL;
            for (size_t i = 0; i < BT_ARRAY_SIZE(corpus_rejects); i++)
                if (strcmp(corpus_rejects[i].file, rel) == 0)
                    want = corpus_rejects[i].error;
            if (want) {
                seen_rejects++;
                if (!t || !strstr(t, want))
                    print_error("%s: expected an error with '%s', got %s\n", rel, want,
                                t ? t : "none");
                assert_non_null(t);
                assert_non_null(strstr(t, want));
                rejected++;
            } else if (t) {
                print_error("%s: unexpected error: %s\n", rel, t);
                fail();
            }
            free(t);
        }
        closedir(dh);
    }
    assert_int_equal(seen_rejects, BT_ARRAY_SIZE(corpus_rejects));
    assert_true(files >= 250);
    print_message("corpus: %zu files, %zu valid, %zu rejected as expected\n", files,
                  files - rejected, rejected);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_integer),
        cmocka_unit_test(test_type_scalars),
        cmocka_unit_test(test_enum_const),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_additional_and_pattern_properties),
        cmocka_unit_test(test_required_and_counts),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_unique_items),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_one_of_branches),
        cmocka_unit_test(test_any_of_branches),
        cmocka_unit_test(test_all_of_not),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_empty_document_and_aliases),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_builtin_schema_loads),
        cmocka_unit_test(test_regex_match),
        cmocka_unit_test(test_regex_errors),
        cmocka_unit_test(test_regex_linear),
        cmocka_unit_test(test_values),
        cmocka_unit_test_setup_teardown(test_compose_good, setup_compose, teardown_compose),
        cmocka_unit_test_setup_teardown(test_compose_bad, setup_compose, teardown_compose),
        cmocka_unit_test_setup_teardown(test_compose_hints, setup_compose, teardown_compose),
        cmocka_unit_test_setup_teardown(test_corpus, setup_compose, teardown_compose),
    };
    return cmocka_run_group_tests_name("test-compose-schema", tests, NULL, NULL);
}
