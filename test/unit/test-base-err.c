/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for struct bt_err: creation, one layer of context per wrap, hints, positions,
 * errno text, a NULL err pointer, and the names of codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/err.h"

/* bt_err_text() of e equals want. */
static void
assert_text(const struct bt_err *e, const char *want)
{
    char *t = bt_err_text(e);
    assert_non_null(t);
    assert_string_equal(t, want);
    free(t);
}

static void
test_set(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, EINVAL, "invalid port '%s' (%d-%d)", "70000", 1, 65535),
                     -EINVAL);
    assert_non_null(e);
    assert_int_equal(e->code, EINVAL);
    assert_string_equal(e->msg, "invalid port '70000' (1-65535)");
    assert_null(e->hint);
    assert_null(e->file);
    assert_int_equal(e->line, 0);
    assert_int_equal(e->col, 0);
    assert_null(e->subject);
    assert_null(e->remote);
    assert_text(e, "invalid port '70000' (1-65535)");
}

static void
test_set_berth_code(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, BT_ETOOBIG, "manifest over %d MiB", 4), -BT_ETOOBIG);
    assert_int_equal(e->code, BT_ETOOBIG);
    assert_string_equal(e->msg, "manifest over 4 MiB");
    /* berth's codes sit above the errno range. */
    assert_true(BT_EUSAGE > 133);
}

static void
test_set_replaces(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, ENOENT, "first"), -ENOENT);
    bt_err_hint(&e, "old hint");
    /* A second set replaces the first error whole (the old one is freed, ASan checks). */
    assert_int_equal(bt_err_set(&e, EACCES, "second"), -EACCES);
    assert_int_equal(e->code, EACCES);
    assert_string_equal(e->msg, "second");
    assert_null(e->hint);
}

static void
test_set_percent_in_argument(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, EINVAL, "bad value '%s'", "100%s%n"), -EINVAL);
    assert_string_equal(e->msg, "bad value '100%s%n'");
    /* Wrapping must not reinterpret the message as a format. */
    assert_int_equal(bt_err_wrap(&e, "key '%s'", "x%d"), -EINVAL);
    assert_string_equal(e->msg, "key 'x%d': bad value '100%s%n'");
}

static void
test_wrap(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, ENOSPC, "cannot create '%s'", "/v/db"), -ENOSPC);
    assert_int_equal(bt_err_wrap(&e, "volume '%s'", "data"), -ENOSPC);
    assert_string_equal(e->msg, "volume 'data': cannot create '/v/db'");
    assert_int_equal(bt_err_wrap(&e, "service '%s'", "web"), -ENOSPC);
    /* One layer per call, outermost first, the code untouched. */
    assert_string_equal(e->msg, "service 'web': volume 'data': cannot create '/v/db'");
    assert_int_equal(e->code, ENOSPC);
    assert_text(e, "service 'web': volume 'data': cannot create '/v/db'");
}

static void
test_wrap_berth_code(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, BT_EPARSE, "unexpected token"), -BT_EPARSE);
    assert_int_equal(bt_err_wrap(&e, "reply"), -BT_EPARSE);
    assert_string_equal(e->msg, "reply: unexpected token");
}

static void
test_wrap_keeps_hint_and_position(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set_at(&e, "compose.yaml", 3, 5, BT_EINVALID, "unknown service 'dbb'"),
                     -BT_EINVALID);
    bt_err_hint(&e, "did you mean '%s'?", "db");
    assert_int_equal(bt_err_wrap(&e, "services.web.depends_on"), -BT_EINVALID);
    assert_string_equal(e->hint, "did you mean 'db'?");
    assert_string_equal(e->file, "compose.yaml");
    assert_int_equal(e->line, 3);
    assert_int_equal(e->col, 5);
    assert_text(e, "compose.yaml:3:5: services.web.depends_on: unknown service 'dbb'");
}

static void
test_hint(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, BT_EUSAGE, "unknown command '%s'", "verison"), -BT_EUSAGE);
    bt_err_hint(&e, "did you mean '%s'?", "version");
    assert_string_equal(e->hint, "did you mean 'version'?");
    /* The hint is a separate line: not part of the message or the text. */
    assert_string_equal(e->msg, "unknown command 'verison'");
    assert_text(e, "unknown command 'verison'");
    /* A second hint replaces the first. */
    bt_err_hint(&e, "run '%s'", "berth help");
    assert_string_equal(e->hint, "run 'berth help'");
    assert_int_equal(e->code, BT_EUSAGE);
}

static void
test_hint_without_error(void **state)
{
    (void) state;
    struct bt_err *e = NULL;
    bt_err_hint(&e, "nothing to attach to");
    assert_null(e);
    bt_err_hint(NULL, "nothing to attach to");
}

static void
test_set_at(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_set_at(&e, "compose.yaml", 14, 9, BT_EINVALID,
                                   "services.web.ports[0]: invalid port '%s' (1-65535)", "70000"),
                     -BT_EINVALID);
    assert_int_equal(e->code, BT_EINVALID);
    assert_string_equal(e->file, "compose.yaml");
    assert_int_equal(e->line, 14);
    assert_int_equal(e->col, 9);
    assert_string_equal(e->msg, "services.web.ports[0]: invalid port '70000' (1-65535)");
    assert_text(e, "compose.yaml:14:9: services.web.ports[0]: invalid port '70000' (1-65535)");
}

static void
test_set_at_file_only(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    /* Without a line there is no line:col to print. */
    assert_int_equal(bt_err_set_at(&e, ".env", 0, 0, BT_EPARSE, "not UTF-8"), -BT_EPARSE);
    assert_text(e, ".env: not UTF-8");
    /* A NULL file is just a message. */
    assert_int_equal(bt_err_set_at(&e, NULL, 4, 2, BT_EPARSE, "no file"), -BT_EPARSE);
    assert_null(e->file);
    assert_text(e, "no file");
}

static void
test_errno(void **state)
{
    (void) state;
    bt_autoerr struct bt_err *e = NULL;
    assert_int_equal(bt_err_errno(&e, -ENOENT, "cannot open '%s'", "/etc/berth.conf"), -ENOENT);
    assert_int_equal(e->code, ENOENT);
    char want[256];
    int n = snprintf(want, sizeof want, "cannot open '/etc/berth.conf': %s", strerror(ENOENT));
    assert_true(n > 0 && (size_t) n < sizeof want);
    assert_string_equal(e->msg, want);
    assert_string_equal(e->msg, "cannot open '/etc/berth.conf': No such file or directory");

    assert_int_equal(bt_err_errno(&e, -ENOSPC, "cannot create '%s'", "/var/lib/berth/volumes/db"),
                     -ENOSPC);
    assert_string_equal(e->msg, "cannot create '/var/lib/berth/volumes/db': "
                                "No space left on device");
    assert_int_equal(bt_err_wrap(&e, "volume 'db'"), -ENOSPC);
    assert_text(e, "volume 'db': cannot create '/var/lib/berth/volumes/db': "
                   "No space left on device");
}

static void
test_null_err_pointer(void **state)
{
    (void) state;
    /* Callers that do not want details pass NULL: the codes still come back. */
    assert_int_equal(bt_err_set(NULL, EEXIST, "volume '%s' exists", "db"), -EEXIST);
    assert_int_equal(bt_err_set(NULL, BT_ECONFLICT, "in use"), -BT_ECONFLICT);
    assert_int_equal(bt_err_set_at(NULL, "f.yaml", 1, 2, BT_EPARSE, "bad"), -BT_EPARSE);
    assert_int_equal(bt_err_errno(NULL, -EACCES, "cannot open '%s'", "x"), -EACCES);
    bt_err_hint(NULL, "no-op");
    /* Wrapping nothing still reports a failure. */
    assert_true(bt_err_wrap(NULL, "ctx") < 0);
    struct bt_err *e = NULL;
    assert_true(bt_err_wrap(&e, "ctx") < 0);
    assert_null(e);
}

static void
test_free_and_text_null(void **state)
{
    (void) state;
    assert_null(bt_err_free(NULL));
    struct bt_err *e = NULL;
    assert_int_equal(bt_err_set(&e, EIO, "x"), -EIO);
    e = bt_err_free(e);
    assert_null(e);
    assert_text(NULL, "unknown error");
}

static void
test_code_str(void **state)
{
    (void) state;
    assert_string_equal(bt_err_code_str(ENOENT), "ENOENT");
    assert_string_equal(bt_err_code_str(EACCES), "EACCES");
    assert_string_equal(bt_err_code_str(EXDEV), "EXDEV");
    assert_string_equal(bt_err_code_str(E2BIG), "E2BIG");
    assert_string_equal(bt_err_code_str(BT_EUSAGE), "usage");
    assert_string_equal(bt_err_code_str(BT_EPARSE), "parse");
    assert_string_equal(bt_err_code_str(BT_EINVALID), "invalid");
    assert_string_equal(bt_err_code_str(BT_ETOOBIG), "too_big");
    assert_string_equal(bt_err_code_str(BT_EPROTO), "protocol");
    assert_string_equal(bt_err_code_str(BT_EVERSION), "version");
    assert_string_equal(bt_err_code_str(BT_ECONFLICT), "conflict");
    assert_string_equal(bt_err_code_str(BT_EUNSUPPORTED), "unsupported");
    assert_string_equal(bt_err_code_str(BT_EDAEMON), "daemon");
    /* Every berth code has a distinct name. */
    for (int a = BT_EBASE + 1; a < BT_EMAX; a++) {
        assert_non_null(bt_err_code_str(a));
        assert_string_not_equal(bt_err_code_str(a), "unknown");
        for (int b = a + 1; b < BT_EMAX; b++)
            assert_string_not_equal(bt_err_code_str(a), bt_err_code_str(b));
    }
    /* Not codes at all. */
    assert_string_equal(bt_err_code_str(BT_EBASE), "unknown");
    assert_string_equal(bt_err_code_str(BT_EMAX), "unknown");
    assert_string_equal(bt_err_code_str(-1), "unknown");
    assert_string_equal(bt_err_code_str(99999), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_berth_code),
        cmocka_unit_test(test_set_replaces),
        cmocka_unit_test(test_set_percent_in_argument),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_wrap_berth_code),
        cmocka_unit_test(test_wrap_keeps_hint_and_position),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_hint_without_error),
        cmocka_unit_test(test_set_at),
        cmocka_unit_test(test_set_at_file_only),
        cmocka_unit_test(test_errno),
        cmocka_unit_test(test_null_err_pointer),
        cmocka_unit_test(test_free_and_text_null),
        cmocka_unit_test(test_code_str),
    };
    return cmocka_run_group_tests_name("test-base-err", tests, NULL, NULL);
}
