/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control protocol's pure logic: decoding and shape checks, encoding, error mapping both
 * ways, and the CLI's option parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "orchestrator/cli/cli.h"
#include "orchestrator/proto/proto.h"

static int
decode(const char *s, struct orch_msg *m, struct bt_err **err)
{
    return orch_msg_decode(s, strlen(s), m, err);
}

static void
test_decode_valid(void **state)
{
    (void) state;
    struct orch_msg m = { 0 };
    assert_int_equal(decode("{\"type\":\"hello\",\"protocol\":1}", &m, NULL), 0);
    assert_int_equal(m.type, ORCH_MSG_HELLO);
    assert_int_equal(m.id, -1);
    orch_msg_release(&m);
    assert_int_equal(decode("{\"type\":\"request\",\"id\":7,\"op\":\"version\"}", &m, NULL), 0);
    assert_int_equal(m.type, ORCH_MSG_REQUEST);
    assert_int_equal(m.id, 7);
    orch_msg_release(&m);
}

static void
test_decode_rejects(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "\"hello\"",
        "{}",
        "{\"type\":5}",
        "{\"type\":\"bogus\"}",
        "{\"type\":\"hello\"}",
        "{\"type\":\"hello\",\"protocol\":\"1\"}",
        "{\"type\":\"request\",\"op\":\"version\"}",
        "{\"type\":\"request\",\"id\":-1,\"op\":\"version\"}",
        "{\"type\":\"request\",\"id\":1.5,\"op\":\"version\"}",
        "{\"type\":\"request\",\"id\":1,\"op\":7}",
        "{\"type\":\"request\",\"id\":1,\"op\":\"x\",\"args\":[]}",
        "{\"type\":\"error\",\"code\":\"x\"}",
        "{\"type\":\"hello\",\"protocol\":1,\"protocol\":2}",
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
        struct orch_msg m = { 0 };
        struct bt_err *err = NULL;
        int r = decode(bad[i], &m, &err);
        if (r >= 0)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(r, -BT_EPROTO);
        assert_non_null(err);
        assert_non_null(err->msg);
        assert_null(m.root);
        bt_err_free(err);
    }
}

static void
test_encode_roundtrip(void **state)
{
    (void) state;
    json_t *req = orch_msg_request(3, "system.info", json_pack("{s:s}", "k", "line\nbreak"));
    size_t len;
    char *line = orch_msg_encode(req, &len);
    assert_non_null(line);
    assert_int_equal(line[len - 1], '\n');
    /* A newline inside a string is escaped: the frame is one line. */
    assert_null(memchr(line, '\n', len - 1));
    struct orch_msg m = { 0 };
    assert_int_equal(orch_msg_decode(line, len - 1, &m, NULL), 0);
    assert_int_equal(m.id, 3);
    assert_string_equal(json_string_value(json_object_get(m.root, "op")), "system.info");
    orch_msg_release(&m);
    free(line);
    json_decref(req);
}

static void
test_error_mapping(void **state)
{
    (void) state;
    assert_string_equal(orch_errc_str(orch_errc_from_code(ENOENT)), "not_found");
    assert_string_equal(orch_errc_str(orch_errc_from_code(BT_EINVALID)), "bad_request");
    assert_string_equal(orch_errc_str(orch_errc_from_code(BT_ECONFLICT)), "conflict");
    assert_string_equal(orch_errc_str(orch_errc_from_code(EIO)), "failed");

    struct bt_err *e = NULL;
    bt_err_set_at(&e, "compose.yaml", 14, 9, BT_EINVALID, "invalid port '70000'");
    bt_err_hint(&e, "ports are 1-65535");
    json_t *msg = orch_msg_error_from(4, e);
    bt_err_free(e);
    size_t len;
    char *line = orch_msg_encode(msg, &len);
    struct orch_msg m = { 0 };
    assert_int_equal(orch_msg_decode(line, len - 1, &m, NULL), 0);
    assert_int_equal(m.type, ORCH_MSG_ERROR);
    struct bt_err *back = NULL;
    assert_int_equal(orch_msg_error_to(&m, &back), -BT_EDAEMON);
    assert_string_equal(back->remote, "bad_request");
    assert_string_equal(back->hint, "ports are 1-65535");
    char *text = bt_err_text(back);
    assert_string_equal(text, "compose.yaml:14:9: invalid port '70000'");
    free(text);
    bt_err_free(back);
    orch_msg_release(&m);
    free(line);
    json_decref(msg);
}

static const char *const modes[] = { "never", "always", "auto", NULL };
static const struct cli_opt opts[] = {
    { "file", 'f', "FILE", "files", NULL, CLI_OPT_REPEAT },
    { "detach", 'd', NULL, "detach", NULL, 0 },
    { "tty", 'T', NULL, "no tty", NULL, 0 },
    { "ansi", 0, "MODE", "ansi", modes, 0 },
};
static const struct cli_usage usage = { "up", "[OPTIONS]", "test" };

static int
parse(struct cli_args *a, unsigned flags, struct bt_err **err, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *s; (s = va_arg(ap, char *));)
        argv[argc++] = s;
    va_end(ap);
    return cli_args_parse(a, opts, BT_ARRAY_SIZE(opts), argc, argv, flags, &usage, err);
}

static void
test_args_forms(void **state)
{
    (void) state;
    struct cli_args a;
    assert_int_equal(parse(&a, 0, NULL, "-f", "a.yaml", "--file=b.yaml", "-fc.yaml", "-dT", "web",
                           "--ansi", "never", "--", "--not-a-flag", NULL),
                     0);
    assert_string_equal(cli_args_nth(&a, "file", 0), "a.yaml");
    assert_string_equal(cli_args_nth(&a, "file", 1), "b.yaml");
    assert_string_equal(cli_args_nth(&a, "file", 2), "c.yaml");
    assert_null(cli_args_nth(&a, "file", 3));
    assert_string_equal(cli_args_get(&a, "file"), "c.yaml");
    assert_true(cli_args_has(&a, "detach"));
    assert_true(cli_args_has(&a, "tty"));
    assert_string_equal(cli_args_get(&a, "ansi"), "never");
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "web");
    assert_string_equal(a.pos[1], "--not-a-flag");
    cli_args_release(&a);

    assert_int_equal(parse(&a, CLI_PARSE_STOP_AT_POSITIONAL, NULL, "-d", "cmd", "-T", NULL), 0);
    assert_false(cli_args_has(&a, "tty"));
    assert_int_equal(a.npos, 2);
    cli_args_release(&a);
}

static void
test_args_errors(void **state)
{
    (void) state;
    struct cli_args a;
    struct bt_err *err = NULL;
    assert_int_equal(parse(&a, 0, &err, "--detahc", NULL), -BT_EUSAGE);
    assert_non_null(strstr(err->hint, "did you mean '--detach'"));
    cli_args_release(&a);
    err = bt_err_free(err);

    assert_int_equal(parse(&a, 0, &err, "--ansi", "sometimes", NULL), -BT_EUSAGE);
    assert_non_null(strstr(err->hint, "never, always, auto"));
    cli_args_release(&a);
    err = bt_err_free(err);

    assert_int_equal(parse(&a, 0, &err, "--file", NULL), -BT_EUSAGE);
    assert_non_null(strstr(err->msg, "needs a value"));
    cli_args_release(&a);
    err = bt_err_free(err);

    assert_int_equal(parse(&a, 0, &err, "--detach=yes", NULL), -BT_EUSAGE);
    cli_args_release(&a);
    err = bt_err_free(err);

    assert_int_equal(parse(&a, 0, &err, "-x", NULL), -BT_EUSAGE);
    assert_non_null(strstr(err->msg, "'x'"));
    cli_args_release(&a);
    bt_err_free(err);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_valid),     cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_encode_roundtrip), cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_args_forms),       cmocka_unit_test(test_args_errors),
    };
    return cmocka_run_group_tests_name("test-orch-proto", tests, NULL, NULL);
}
