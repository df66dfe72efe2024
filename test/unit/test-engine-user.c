/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/container/user.c: users and groups resolved in a temporary rootfs's
 * /etc/passwd and /etc/group as runc does, and the hostile cases: a symlink to the host's
 * files stays inside the root, oversized and non-regular files are refused, junk is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/err.h"
#include "engine/container/user.h"
#include "tmpdir.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "\n"
                             "junk line without fields\n"
                             "bad:x:notanumber:1:::\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "app:x:1000:1000:App:/home/app:/bin/sh\r\n"
                             "nohome:x:1001:1001\n";
static const char group[] = "root:x:0:\n"
                            "daemon:x:1:\n"
                            "audio:x:29:app,other\n"
                            "junk\n"
                            "video:x:44:daemon,app\n"
                            "app:x:1000:\n"
                            "staff:x:50:\n";

static void
put(int dfd, const char *name, const char *text)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
}

static int
setup(void **state)
{
    if (tmpdir_setup_named(state, "berth-user") < 0)
        return -1;
    struct tmpdir *t = *state;
    mkdirat(t->dfd, "etc", 0755);
    put(t->dfd, "etc/passwd", passwd);
    put(t->dfd, "etc/group", group);
    return 0;
}

static void
check(int dfd, const char *user, char *const *add, unsigned uid, unsigned gid, const char *groups,
      const char *home)
{
    struct eng_ids ids;
    struct bt_err *err = NULL;
    if (eng_user_resolve(dfd, user, add, &ids, &err) < 0)
        fail_msg("'%s': %s", user ? user : "(null)", err->msg);
    char got[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < ids.ngroups; i++)
        len += (size_t) snprintf(got + len, sizeof got - len, "%s%u", i ? "," : "",
                                 (unsigned) ids.groups[i]);
    if (ids.uid != uid || ids.gid != gid || strcmp(got, groups) || strcmp(ids.home, home))
        fail_msg("'%s': expected %u:%u [%s] %s, got %u:%u [%s] %s", user ? user : "(null)", uid,
                 gid, groups, home, (unsigned) ids.uid, (unsigned) ids.gid, got, ids.home);
}

static void
check_err(int dfd, const char *user, char *const *add, const char *msg)
{
    struct eng_ids ids;
    struct bt_err *err = NULL;
    if (eng_user_resolve(dfd, user, add, &ids, &err) == 0)
        fail_msg("'%s': expected an error", user);
    if (!strstr(err->msg, msg))
        fail_msg("'%s': expected '%s' in '%s'", user, msg, err->msg);
    bt_err_free(err);
}

static void
test_resolve(void **state)
{
    struct tmpdir *t = *state;
    check(t->dfd, NULL, NULL, 0, 0, "0", "/root");
    check(t->dfd, "", NULL, 0, 0, "0", "/root");
    check(t->dfd, "root", NULL, 0, 0, "0", "/root");
    check(t->dfd, "app", NULL, 1000, 1000, "1000,29,44", "/home/app");
    check(t->dfd, "1000", NULL, 1000, 1000, "1000,29,44", "/home/app");
    check(t->dfd, "daemon", NULL, 1, 1, "1,44", "/usr/sbin");
    /* An explicit group: no supplementary groups from membership. */
    check(t->dfd, "app:staff", NULL, 1000, 50, "50", "/home/app");
    check(t->dfd, "app:44", NULL, 1000, 44, "44", "/home/app");
    check(t->dfd, "app:777", NULL, 1000, 777, "777", "/home/app");
    /* Numeric ids need no entry: gid 0 and home "/" then, as runc. */
    check(t->dfd, "4242", NULL, 4242, 0, "0", "/");
    check(t->dfd, "4242:4343", NULL, 4242, 4343, "4343", "/");
    check(t->dfd, "nohome", NULL, 1001, 1001, "1001", "/");
    char g1[] = "audio", g2[] = "99", g3[] = "staff", g4[] = "29";
    char *add[] = { g1, g2, g3, g4, NULL };
    check(t->dfd, "4242", add, 4242, 0, "0,29,99,50", "/");
    check(t->dfd, "app", add, 1000, 1000, "1000,29,44,99,50", "/home/app");

    check_err(t->dfd, "nobody", NULL,
              "unable to find user nobody: no matching entries in passwd file");
    check_err(t->dfd, "app:nogroup", NULL,
              "unable to find group nogroup: no matching entries in group file");
    char b2[] = "nosuch";
    char *bad[] = { g1, b2, NULL };
    check_err(t->dfd, "app", bad, "group_add[1]: unable to find group nosuch");
    check_err(t->dfd, "99999999999", NULL, "out of range");
    check_err(t->dfd, "4294967295", NULL, "out of range");
}

static void
test_hostile(void **state)
{
    struct tmpdir *t = *state;
    /* A link to an absolute path resolves inside the root, not on the host. */
    assert_int_equal(unlinkat(t->dfd, "etc/passwd", 0), 0);
    put(t->dfd, "etc/shadow", "app:x:7:7::/inside:/bin/sh\n");
    assert_int_equal(symlinkat("/etc/shadow", t->dfd, "etc/passwd"), 0);
    check(t->dfd, "app", NULL, 7, 7, "7,29,44", "/inside");
    check_err(t->dfd, "root", NULL, "unable to find user root");
    /* Escapes through .. stay inside too: the host's /etc/passwd is not read. */
    assert_int_equal(unlinkat(t->dfd, "etc/passwd", 0), 0);
    assert_int_equal(symlinkat("../../../../../../etc/shadow", t->dfd, "etc/passwd"), 0);
    check(t->dfd, "app", NULL, 7, 7, "7,29,44", "/inside");
    /* Missing files read as empty. */
    assert_int_equal(unlinkat(t->dfd, "etc/passwd", 0), 0);
    check(t->dfd, "12", NULL, 12, 0, "0", "/");
    check_err(t->dfd, "app", NULL, "unable to find user app");
    /* A FIFO must not block, a directory is refused. */
    assert_int_equal(mkfifoat(t->dfd, "etc/passwd", 0644), 0);
    check_err(t->dfd, "app", NULL, "is not a regular file");
    assert_int_equal(unlinkat(t->dfd, "etc/passwd", 0), 0);
    assert_int_equal(mkdirat(t->dfd, "etc/passwd", 0755), 0);
    check_err(t->dfd, "app", NULL, "is not a regular file");
    assert_int_equal(unlinkat(t->dfd, "etc/passwd", AT_REMOVEDIR), 0);
    /* Oversized files are refused (sparse: no real disk use). */
    int fd = openat(t->dfd, "etc/passwd", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, ENG_USER_FILE_MAX + 1), 0);
    close(fd);
    check_err(t->dfd, "app", NULL, "larger than");
    /* A very long line is skipped, the rest still parses. */
    size_t n = 20000;
    char *big = bt_xcalloc(1, n + 64);
    memset(big, 'a', n);
    memcpy(big + n, ":x:5:5::/l:\nlong:x:6:6::/ok:\n", 30);
    put(t->dfd, "etc/passwd", big);
    free(big);
    check(t->dfd, "long", NULL, 6, 6, "6", "/ok");
}

static void
test_too_many_groups(void **state)
{
    struct tmpdir *t = *state;
    char *add[ENG_IDS_GROUPS_MAX + 2];
    char names[ENG_IDS_GROUPS_MAX + 1][8];
    for (size_t i = 0; i <= ENG_IDS_GROUPS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "%zu", 2000 + i);
        add[i] = names[i];
    }
    add[ENG_IDS_GROUPS_MAX + 1] = NULL;
    check_err(t->dfd, "4242", add, "more than 64 groups");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolve, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_too_many_groups, setup, tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
