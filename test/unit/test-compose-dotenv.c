/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for compose/dotenv.c: the .env syntax as compose-go parses it (its own fixtures,
 * read from the shared corpus, with the values its tests expect), the other .env files of the
 * corpus, escapes, quoting, interpolation order, errors with positions, limits and the ordered
 * struct compose_env.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/dotenv.h"
#include "engine/base/alloc.h"
#include "engine/base/buf.h"

/* The shared corpus, from the repository's top (where the tests run). */
#define CORPUS_DEFAULT "../shared/corpus"

struct fx {
    struct bt_arena *a;
    struct compose_env env;
    struct compose_interp_warn warn;
    struct bt_err *err;
    const char *const (*os)[2]; /* the "process environment" for lookups */
    size_t nos;
};

static const char *
os_lookup(const char *name, void *ud)
{
    struct fx *f = ud;
    for (size_t i = 0; i < f->nos; i++)
        if (strcmp(f->os[i][0], name) == 0)
            return f->os[i][1];
    return NULL;
}

static int
setup(void **state)
{
    struct fx *f = bt_xcalloc(1, sizeof *f);
    f->a = bt_arena_new();
    compose_env_init(&f->env, f->a);
    compose_interp_warn_init(&f->warn);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    bt_arena_free(f->a);
    compose_interp_warn_release(&f->warn);
    bt_err_free(f->err);
    free(f);
    return 0;
}

static void
reset(struct fx *f)
{
    compose_env_init(&f->env, f->a);
    compose_interp_warn_release(&f->warn);
    f->err = bt_err_free(f->err);
}

static int
parse(struct fx *f, const char *text)
{
    f->err = bt_err_free(f->err);
    int r =
        compose_dotenv_parse(".env", text, strlen(text), os_lookup, f, &f->warn, &f->env, &f->err);
    if (r < 0) {
        assert_non_null(f->err);
        assert_int_equal(r, -f->err->code);
    } else {
        assert_null(f->err);
    }
    return r;
}

static void
parse_ok(struct fx *f, const char *text)
{
    if (parse(f, text) < 0)
        fail_msg("'%s': unexpected error: %s", text, f->err->msg);
}

/* The env holds exactly these pairs, in this order. */
static void
expect_env(const struct fx *f, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *name = va_arg(ap, const char *);
        const char *value = va_arg(ap, const char *);
        if (i >= f->env.n)
            fail_msg("expected %zu variables, got %zu", n, f->env.n);
        if (strcmp(f->env.vars[i].name, name) != 0)
            fail_msg("variable %zu: expected name '%s', got '%s'", i, name, f->env.vars[i].name);
        if (strcmp(f->env.vars[i].value, value) != 0)
            fail_msg("%s: expected '%s', got '%s'", name, value, f->env.vars[i].value);
        assert_string_equal(compose_env_get(&f->env, name), value);
    }
    va_end(ap);
    if (f->env.n != n)
        fail_msg("expected %zu variables, got %zu", n, f->env.n);
}

/* text fails with this message at line:col of ".env". */
static void
expect_error(struct fx *f, const char *text, int code, int line, int col, const char *msg)
{
    size_t before = f->env.n;
    if (parse(f, text) == 0)
        fail_msg("'%s': expected an error", text);
    if (strcmp(f->err->msg, msg) != 0)
        fail_msg("'%s': expected '%s', got '%s'", text, msg, f->err->msg);
    assert_int_equal(f->err->code, code);
    assert_string_equal(f->err->file, ".env");
    assert_int_equal(f->err->line, line);
    assert_int_equal(f->err->col, col);
    assert_int_equal(f->env.n, before); /* nothing set from a file that fails */
}

/* ---- compose-go's fixtures */

static const char *
corpus_dir(void)
{
    const char *d = getenv("BERTH_CORPUS_DIR");
    return d && *d ? d : CORPUS_DEFAULT;
}

/* Load a corpus file into f->env (reset first); skips the test when the corpus is absent. */
static int
load(struct fx *f, const char *rel)
{
    reset(f);
    bt_autofree char *path = bt_xasprintf("%s/%s", corpus_dir(), rel);
    struct stat st;
    if (stat(path, &st) < 0) {
        print_message("corpus file '%s' not found (set BERTH_CORPUS_DIR)\n", path);
        skip();
    }
    return compose_dotenv_load_file(path, os_lookup, f, &f->warn, &f->env, &f->err);
}

static void
load_ok(struct fx *f, const char *rel)
{
    if (load(f, rel) < 0)
        fail_msg("%s: %s", rel, f->err->msg);
}

static void
test_fixture_plain(void **state)
{
    struct fx *f = *state;
    static const char *const files[] = { "compose-go/dotenv__fixtures__plain.env",
                                         "compose-go/dotenv__fixtures__utf8-bom.env" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(files); i++) {
        load_ok(f, files[i]);
        expect_env(f, 9, "OPTION_A", "1", "OPTION_B", "2", "OPTION_C", "3", "OPTION_D", "4",
                   "OPTION_E", "5", "456", "ABC", "OPTION_F", "", "OPTION_G", "", "OPTION_H",
                   "my string");
    }
}

static void
test_fixture_quoted(void **state)
{
    struct fx *f = *state;
    load_ok(f, "compose-go/dotenv__fixtures__quoted.env");
    expect_env(f, 12, "OPTION_A", "1", "OPTION_B", "2", "OPTION_C", "", "OPTION_D", "\\n",
               "OPTION_E", "1", "OPTION_F", "2", "OPTION_G", "", "OPTION_H", "\n", "OPTION_I",
               "echo 'asd'", "OPTION_J", "first line\nsecond line\nthird line\nand so on",
               "OPTION_K", "Let's go!", "OPTION_Z", "last value");
}

static void
test_fixture_misc(void **state)
{
    struct fx *f = *state;
    load_ok(f, "compose-go/dotenv__fixtures__exported.env");
    expect_env(f, 2, "OPTION_A", "2", "OPTION_B", "\\n");
    load_ok(f, "compose-go/dotenv__fixtures__equals.env");
    expect_env(f, 1, "OPTION_A", "postgres://localhost:5432/database?sslmode=disable");
    load_ok(f, "compose-go/dotenv__fixtures__special.env");
    expect_env(f, 3, "VAR.WITH.DOTS", "dots", "VAR_WITH_UNDERSCORES", "underscores",
               "VAR-WITH-DASHES", "dashes");
    load_ok(f, "compose-go/dotenv__fixtures__unquoted.env");
    expect_env(f, 5, "OPTION_A", "some quoted phrase", "OPTION_B",
               "first one with an unquoted phrase", "OPTION_C",
               "then another one with an unquoted phrase", "OPTION_D",
               "then another one with an unquoted phrase special \xc3\xa8 char", "OPTION_E",
               "then another one quoted phrase");
}

static void
test_fixture_substitutions(void **state)
{
    struct fx *f = *state;
    static const char *const files[] = { "compose-go/dotenv__fixtures__substitutions.env",
                                         "compose-go/dotenv__fixtures__substitutions-default.env" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(files); i++) {
        load_ok(f, files[i]);
        expect_env(f, 5, "OPTION_A", "1", "OPTION_B", "1", "OPTION_C", "1", "OPTION_D", "1_1",
                   "OPTION_E", "");
        assert_int_equal(f->warn.n, 1);
        assert_string_equal(f->warn.names[0], "OPTION_NOT_DEFINED");
    }
    /* The process environment wins where the file asks it first... */
    static const char *const os[][2] = { { "OPTION_A", "5" } };
    f->os = os;
    f->nos = 1;
    load_ok(f, "compose-go/dotenv__fixtures__substitutions-default.env");
    expect_env(f, 5, "OPTION_A", "5", "OPTION_B", "5", "OPTION_C", "5", "OPTION_D", "5_5",
               "OPTION_E", "");
    /* ...but the file's own earlier variables come before it. */
    load_ok(f, "compose-go/dotenv__fixtures__substitutions.env");
    expect_env(f, 5, "OPTION_A", "1", "OPTION_B", "1", "OPTION_C", "1", "OPTION_D", "1_1",
               "OPTION_E", "");
}

static void
test_fixture_inherited(void **state)
{
    struct fx *f = *state;
    load_ok(f, "compose-go/dotenv__fixtures__inherited-not-found.env");
    expect_env(f, 0);
    load_ok(f, "compose-go/dotenv__fixtures__inherited-single-var.env");
    expect_env(f, 0);
    load_ok(f, "compose-go/dotenv__fixtures__inherited-multi-var.env");
    expect_env(f, 2, "foo", "bar", "bar", "baz");

    static const char *const os[][2] = { { "VAR_TO_BE_LOADED_FROM_OS_ENV", "from os" } };
    f->os = os;
    f->nos = 1;
    load_ok(f, "compose-go/dotenv__fixtures__inherited-single-var.env");
    expect_env(f, 1, "VAR_TO_BE_LOADED_FROM_OS_ENV", "from os");
    load_ok(f, "compose-go/dotenv__fixtures__inherited-multi-var.env");
    expect_env(f, 3, "foo", "bar", "VAR_TO_BE_LOADED_FROM_OS_ENV", "from os", "bar", "baz");
    load_ok(f, "compose-go/dotenv__fixtures__inherited-not-found.env");
    expect_env(f, 0);
}

static void
test_fixture_invalid(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "compose-go/dotenv__fixtures__invalid1.env"), -BT_EPARSE);
    assert_int_equal(f->err->line, 7);
    assert_int_equal(f->err->col, 1);
    assert_string_equal(f->err->msg,
                        "invalid variable name 'INVALID LINE': a name cannot contain spaces");
    bt_autofree char *want =
        bt_xasprintf("%s/compose-go/dotenv__fixtures__invalid1.env", corpus_dir());
    assert_string_equal(f->err->file, want);
    expect_env(f, 0);
}

/* Every other .env file of the corpus parses. */
static void
test_corpus_all(void **state)
{
    struct fx *f = *state;
    static const char *const dirs[] = { "awesome-compose", "compose", "compose-go" };
    size_t seen = 0;
    for (size_t i = 0; i < BT_ARRAY_SIZE(dirs); i++) {
        bt_autofree char *dir = bt_xasprintf("%s/%s", corpus_dir(), dirs[i]);
        DIR *d = opendir(dir);
        if (!d)
            skip();
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *n = de->d_name;
            size_t len = strlen(n);
            bool env = strstr(n, ".env") || (len > 3 && strcmp(n + len - 3, "env") == 0);
            if (!env || strstr(n, ".yaml") || strstr(n, "invalid1"))
                continue;
            bt_autofree char *rel = bt_xasprintf("%s/%s", dirs[i], n);
            load_ok(f, rel);
            seen++;
        }
        closedir(d);
    }
    assert_true(seen >= 50);

    /* A few values. */
    load_ok(f, "compose/pkg__e2e__testdata__TestCommentsInEnvFile__.env");
    expect_env(f, 2, "COMMENT", "1234#5", "NO_COMMENT", "1234#5");
    load_ok(f, "awesome-compose/wireguard__.env");
    expect_env(f, 2, "TIMEZONE", "Etc/UTC", "VPN_SERVER_URL", "your-domain.dyndns.com");
    load_ok(f, "compose/pkg__e2e__fixtures__dotenv__.env");
    expect_env(f, 3, "COMPOSE_FILE", "development/compose.yaml", "IMAGE_NAME", "test",
               "COMPOSE_PROFILES", "test");
    load_ok(f, "compose/pkg__e2e__testdata__TestEnvInterpolation__.env");
    expect_env(f, 2, "WHEREAMI", "EnvFile", "IMAGE", "default_env:EnvFile");
    load_ok(f, "compose/pkg__e2e__testdata__TestEnvInterpolationDefaultValue__.env");
    expect_env(f, 1, "IMAGE", "default_env:EnvFileDefaultValue");
    load_ok(f, "compose/pkg__e2e__testdata__TestSecretFromEnv__secret.env");
    expect_env(f, 1, "MY_SECRET", "this-is-secret");
    load_ok(f, "compose/pkg__e2e__testdata__TestRawEnvFile__.env.raw");
    expect_env(f, 1, "TEST_VAR", "{\"key\": \"value\"}");
    load_ok(f, "compose/pkg__e2e__testdata__TestEnvPriority__.env.override.with.default");
    expect_env(f, 1, "WHEREAMI", "EnvFileDefaultValue");
    load_ok(f, "compose-go/loader__example1.env");
    expect_env(f, 5, "FOO", "foo_from_env_file", "ENV.WITH.DOT", "ok", "ENV_WITH_UNDERSCORE", "ok",
               "BAR", "bar_from_env_file", "BAZ", "baz_from_env_file");
}

/* ---- the syntax, inline */

static void
test_lines(void **state)
{
    struct fx *f = *state;
    parse_ok(f, "# comment\n\n  \t\nA=1\n   # indented comment\nB=2 # trailing\n#C=3");
    expect_env(f, 2, "A", "1", "B", "2");
    reset(f);
    /* CRLF line ends, no newline at the end, spaces around the separator. */
    parse_ok(f, "A=1\r\nB = 2 \r\nC\t=\t3\r\n\r\nD=4");
    expect_env(f, 4, "A", "1", "B", "2", "C", "3", "D", "4");
    reset(f);
    /* The YAML-like separator. */
    parse_ok(f, "A: one\nB:two\nC: http://x:80\n");
    expect_env(f, 3, "A", "one", "B", "two", "C", "http://x:80");
    reset(f);
    /* export, with blanks; a bare export does nothing. */
    parse_ok(f, "export A=1\nexport\tB=2\nexport   C = 3\nexport\nexport  \nexportD=4\nexport");
    expect_env(f, 4, "A", "1", "B", "2", "C", "3", "exportD", "4");
    reset(f);
    /* Values keep '=' and inner spaces; the first separator splits. */
    parse_ok(f, "URL=a=b=c\nS=a  b\t c\nK:=x\nE=\nF= \n");
    expect_env(f, 5, "URL", "a=b=c", "S", "a  b\t c", "K", "=x", "E", "", "F", "");
    reset(f);
    /* Names: letters, digits, _ . - [ ] and non-ASCII. */
    parse_ok(f, "a.b-c_d[0]=1\n9=nine\n\xc3\xa9t\xc3\xa9=summer\n");
    expect_env(f, 3, "a.b-c_d[0]", "1", "9", "nine", "\xc3\xa9t\xc3\xa9", "summer");
    reset(f);
    /* Later definitions win, in place. */
    parse_ok(f, "A=1\nB=2\nA=3\n");
    expect_env(f, 2, "A", "3", "B", "2");
}

static void
test_inline_comments(void **state)
{
    struct fx *f = *state;
    parse_ok(f, "A=a #c\nB=a#c\nC=a\t#c\nD=a  # c # d\nE=#c\nF= #c\nG='a' # c\nH=\"a\" #c\n");
    /* "F= #c": the blanks after '=' go first, so the '#' has no space before it (compose-go). */
    expect_env(f, 8, "A", "a", "B", "a#c", "C", "a\t#c", "D", "a", "E", "#c", "F", "#c", "G", "a",
               "H", "a");
}

static void
test_single_quotes(void **state)
{
    struct fx *f = *state;
    parse_ok(f, "A='a\\nb'\nB='it\\'s'\nC='$X ${Y:?no}'\nD='a\\\\b'\nE='x\"y'\n"
                "F='multi\nline'\nG = ' pad '\n");
    expect_env(f, 7, "A", "a\\nb", "B", "it's", "C", "$X ${Y:?no}", "D", "a\\\\b", "E", "x\"y", "F",
               "multi\nline", "G", " pad ");
    assert_int_equal(f->warn.n, 0);
}

static void
test_double_quotes(void **state)
{
    struct fx *f = *state;
    parse_ok(f, "A=\"a\\tb\\\\c\\\"d\\$e\"\n"
                "B=\"\\a\\b\\f\\n\\r\\v\"\n"
                "C=\"\\x41 \\c \\u00e9 \\q\"\n"
                "D=\"\\0101\\0102\"\n"
                "E=\"\\0377\"\n"
                "F=\"\\012 \\08 \\0 \\0400\"\n"
                "G=\"it's\"\n"
                "H=\"multi\nline\\\nend\"\n"
                "I=\"\\01234\"\n");
    expect_env(f, 9, "A", "a\tb\\c\"d$e", "B", "\a\b\f\n\r\v", "C", "\\x41 \\c \\u00e9 \\q", "D",
               "AB", "E", "\xc3\xbf", "F", "\\012 \\08 \\0 \\0400", "G", "it's", "H",
               "multi\nline\\\nend", "I", "S4");
    expect_error(f, "A=\"\\0000\"", BT_EINVALID, 1, 3,
                 "escape '\\0000' in a quoted value makes a NUL character, which a variable "
                 "cannot hold");
}

static void
test_after_quotes(void **state)
{
    struct fx *f = *state;
    /* As compose-go: after the closing quote, whatever follows starts the next statement. */
    static const char *const os[][2] = { { "TAIL", "from os" } };
    f->os = os;
    f->nos = 1;
    parse_ok(f, "A=\"x\"B=2\nC='y' D=3\nE=\"z\"TAIL\nF='w'NOT_IN_OS\n");
    expect_env(f, 7, "A", "x", "B", "2", "C", "y", "D", "3", "E", "z", "TAIL", "from os", "F", "w");
    reset(f);
    parse_ok(f, "E=\"z\"TAIL");
    expect_env(f, 2, "E", "z", "TAIL", "from os");
}

static void
test_interpolation(void **state)
{
    struct fx *f = *state;
    static const char *const os[][2] = { { "HOME", "/root" }, { "A", "os-a" }, { "EMPTY", "" } };
    f->os = os;
    f->nos = BT_ARRAY_SIZE(os);
    parse_ok(f, "P=$HOME/x\n"
                "Q=${A}\n"
                "A=file-a\n"
                "R=${A}\n"
                "S=\"${A} and $HOME\"\n"
                "T='${A}'\n"
                "U=\"\\${A} $$A\"\n"
                "V=${UNSET:-def}\n"
                "W=${EMPTY-def}\n"
                "X=$UNSET1 $UNSET2 $UNSET1\n"
                "Y=${R:+set}\n"
                "Z=\\$A\n");
    expect_env(f, 12, "P", "/root/x", "Q", "os-a", "A", "file-a", "R", "file-a", "S",
               "file-a and /root", "T", "${A}", "U", "${A} $A", "V", "def", "W", "", "X", "  ", "Y",
               "set", "Z", "\\file-a");
    assert_int_equal(f->warn.n, 2);
    assert_string_equal(f->warn.names[0], "UNSET1");
    assert_string_equal(f->warn.names[1], "UNSET2");
    /* An inherited KEY comes from the lookup only, not from the file. */
    reset(f);
    parse_ok(f, "B=1\nB\nHOME\n");
    expect_env(f, 2, "B", "1", "HOME", "/root");
    /* Appending to an env that already has variables: they are not used for lookups. */
    reset(f);
    compose_env_set(&f->env, "OLD", "old");
    compose_env_set(&f->env, "B", "0");
    parse_ok(f, "B=${OLD:-none}\nC=2\n");
    expect_env(f, 3, "OLD", "old", "B", "none", "C", "2");
}

static void
test_interpolation_errors(void **state)
{
    struct fx *f = *state;
    expect_error(f, "A=1\nKEY=ab${X:?need X}\n", BT_EINVALID, 2, 7,
                 "KEY: required variable 'X' is missing a value: need X");
    expect_error(f, "A=1\n  KEY = ${\n", BT_EPARSE, 2, 9,
                 "KEY: invalid interpolation format '${': missing closing '}'");
    /* Quoted values point at the opening quote. */
    expect_error(f, "A=1\nK=\"x\ny${-}\"\n", BT_EPARSE, 2, 3,
                 "K: invalid interpolation format '${-}': expected a variable name after '${'");
    /* Positions after a multi-line value are right. */
    expect_error(f, "A='1\n2\n3'\nB=\"4\n5\"\nC D=1\n", BT_EPARSE, 6, 1,
                 "invalid variable name 'C D': a name cannot contain spaces");
}

static void
test_errors(void **state)
{
    struct fx *f = *state;
    expect_error(f, "A=1\nINVALID LINE\n", BT_EPARSE, 2, 1,
                 "invalid variable name 'INVALID LINE': a name cannot contain spaces");
    expect_error(f, "A B=1", BT_EPARSE, 1, 1,
                 "invalid variable name 'A B': a name cannot contain spaces");
    expect_error(f, "=x\n", BT_EPARSE, 1, 1, "invalid variable name: nothing before '='");
    expect_error(f, "\n  : x\n", BT_EPARSE, 2, 3, "invalid variable name: nothing before ':'");
    expect_error(f, "A!=1\n", BT_EPARSE, 1, 2, "unexpected character '!' in variable name 'A!=1'");
    assert_non_null(f->err->hint);
    expect_error(f, "ok=1\nA\x01=1\n", BT_EPARSE, 2, 2,
                 "unexpected character '\\x01' in variable name 'A?=1'");
    expect_error(f, "export # x\n", BT_EPARSE, 1, 8,
                 "unexpected character '#' in variable name '# x'");
    expect_error(f, "A=\"abc\nB=1\n", BT_EPARSE, 1, 3, "unterminated quoted value '\"abc'");
    assert_string_equal(f->err->hint,
                        "end the value with a double quote; write \\\" for a quote inside it");
    expect_error(f, "\n\nA = 'abc\\'", BT_EPARSE, 3, 5, "unterminated quoted value ''abc\\''");
    expect_error(f, "A=\"abc\\\"", BT_EPARSE, 1, 3, "unterminated quoted value '\"abc\\\"'");
    /* NUL bytes (strlen would stop at them: give the length). */
    f->err = bt_err_free(f->err);
    assert_int_equal(
        compose_dotenv_parse(".env", "A=1\nB=\0x\n", 8, os_lookup, f, NULL, &f->env, &f->err),
        -BT_EPARSE);
    assert_string_equal(f->err->msg, "unexpected NUL byte");
    assert_int_equal(f->err->line, 2);
    assert_int_equal(f->err->col, 3);
    /* A NULL err is fine. */
    assert_int_equal(compose_dotenv_parse(".env", "A B=1", 5, NULL, NULL, NULL, &f->env, NULL),
                     -BT_EPARSE);
    assert_int_equal(f->env.n, 0);
}

static void
test_limits(void **state)
{
    struct fx *f = *state;
    /* File size. */
    size_t n = COMPOSE_DOTENV_MAX_SIZE + 1;
    char *big = bt_xmalloc(n + 1);
    memset(big, '#', n);
    big[n] = '\0';
    f->err = bt_err_free(f->err);
    assert_int_equal(compose_dotenv_parse(".env", big, n, NULL, NULL, NULL, &f->env, &f->err),
                     -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "larger than 1 MiB");
    /* One value: doubling past 1 MiB. */
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    assert_int_equal(bt_buf_puts(&b, "V0=0123456789abcdef\n"), 0);
    for (int i = 1; i <= 20; i++)
        assert_int_equal(bt_buf_printf(&b, "V%d=$V%d$V%d\n", i, i - 1, i - 1), 0);
    assert_int_equal(parse(f, bt_buf_str(&b)), -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "V17: interpolated value is larger than 1 MiB");
    assert_int_equal(f->err->line, 18);
    /* All values of the file. */
    bt_buf_reset(&b);
    memset(big, 'x', 60000);
    big[60000] = '\0';
    assert_int_equal(bt_buf_printf(&b, "V0=%s\n", big), 0);
    for (int i = 1; i <= 18; i++) {
        assert_int_equal(bt_buf_printf(&b, "V%d=", i), 0);
        for (int j = 0; j < 16; j++)
            assert_int_equal(bt_buf_puts(&b, "$V0"), 0);
        assert_int_equal(bt_buf_puts(&b, "\n"), 0);
    }
    assert_int_equal(parse(f, bt_buf_str(&b)), -BT_ETOOBIG);
    assert_string_equal(f->err->msg, "values add up to more than 16 MiB");
    bt_buf_release(&b);
    free(big);
    assert_int_equal(f->env.n, 0);
}

static void
test_env(void **state)
{
    struct fx *f = *state;
    assert_null(compose_env_get(&f->env, "A"));
    assert_null(compose_env_lookup("A", &f->env));
    compose_env_set(&f->env, "A", "1");
    compose_env_set(&f->env, "B", "");
    char name[32], value[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "N%d", i);
        snprintf(value, sizeof value, "v%d", i);
        compose_env_set(&f->env, name, value);
    }
    compose_env_set(&f->env, "A", "2");
    assert_int_equal(f->env.n, 5002);
    assert_string_equal(f->env.vars[0].name, "A");
    assert_string_equal(f->env.vars[0].value, "2");
    assert_string_equal(compose_env_get(&f->env, "B"), "");
    assert_string_equal(compose_env_get(&f->env, "N4999"), "v4999");
    assert_string_equal(f->env.vars[5001].name, "N4999");
    assert_null(compose_env_get(&f->env, "N5000"));
    /* Copies: changing the caller's buffer changes nothing. */
    snprintf(value, sizeof value, "changed");
    assert_string_equal(compose_env_get(&f->env, "N4999"), "v4999");
    /* As a lookup for another file. */
    struct compose_env other;
    compose_env_init(&other, f->a);
    f->err = bt_err_free(f->err);
    const char *text = "X=${N7}-${A}\n";
    assert_int_equal(compose_dotenv_parse("x.env", text, strlen(text), compose_env_lookup, &f->env,
                                          NULL, &other, &f->err),
                     0);
    assert_string_equal(compose_env_get(&other, "X"), "v7-2");
}

static void
test_load_file(void **state)
{
    struct fx *f = *state;
    char dir[] = "/tmp/test-dotenv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    bt_autofree char *path = bt_xasprintf("%s/.env", dir);
    const char *text = "\xef\xbb\xbf# bom\nA=1\nB=\"two\"\n";
    FILE *fp = fopen(path, "we");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(compose_dotenv_load_file(path, NULL, NULL, NULL, &f->env, &f->err), 0);
    expect_env(f, 2, "A", "1", "B", "two");
    /* A missing file. */
    bt_autofree char *missing = bt_xasprintf("%s/nope.env", dir);
    assert_int_equal(compose_dotenv_load_file(missing, NULL, NULL, NULL, &f->env, &f->err),
                     -ENOENT);
    bt_autofree char *want = bt_xasprintf("cannot open '%s': No such file or directory", missing);
    assert_string_equal(f->err->msg, want);
    f->err = bt_err_free(f->err);
    /* Errors name the file. */
    fp = fopen(path, "we");
    assert_non_null(fp);
    assert_int_equal(fputs("A=1\nB C\n", fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(compose_dotenv_load_file(path, NULL, NULL, NULL, &f->env, &f->err),
                     -BT_EPARSE);
    bt_autofree char *t = bt_err_text(f->err);
    bt_autofree char *want2 =
        bt_xasprintf("%s:2:1: invalid variable name 'B C': a name cannot contain spaces", path);
    assert_string_equal(t, want2);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_quoted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_misc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_substitutions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_inherited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interpolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interpolation_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("test-compose-dotenv", tests, NULL, NULL);
}
