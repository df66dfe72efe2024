/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/container/config.c and caps.c: argv merged from spec and image in
 * every combination Docker distinguishes, the environment merge, working directory, stop
 * signal, capability masks (ALL, privileged, unknown names), sysctl rules, and, as root, the
 * capabilities a forked child really holds after eng_caps_apply().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/base/buf.h"
#include "engine/base/err.h"
#include "engine/container/caps.h"
#include "engine/container/config.h"

/* "a b c" → {"a","b","c",NULL}; NULL → NULL; "" → {NULL} (given, empty). */
static char **
words(const char *s)
{
    if (!s)
        return NULL;
    char **v = bt_xcalloc(16, sizeof *v);
    size_t n = 0;
    char *t = bt_xstrdup(s);
    for (char *w = t, *next; *w; w = next) {
        next = strchr(w, ' ');
        if (next)
            *next++ = 0;
        else
            next = w + strlen(w);
        v[n++] = bt_xstrdup(w);
    }
    free(t);
    return v;
}

static char *
joined(char **v)
{
    struct bt_buf b;
    bt_buf_init(&b, 1 << 16);
    for (size_t i = 0; v && v[i]; i++)
        assert_int_equal(bt_buf_printf(&b, "%s%s", i ? " " : "", v[i]), 0);
    char *s = bt_xstrdup(bt_buf_str(&b));
    bt_buf_release(&b);
    return s;
}

static void
strv_drop(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* compute with space-separated lists (NULL: none). */
static int
compute(bool priv, const char *add, const char *drop, uint64_t *m, struct bt_err **err)
{
    char **a = words(add), **d = words(drop);
    int r = eng_caps_compute(priv, a, d, m, err);
    strv_drop(a);
    strv_drop(d);
    return r;
}

static json_t *
load(const char *text)
{
    json_error_t je;
    json_t *v = text ? json_loads(text, 0, &je) : NULL;
    if (text && !v)
        fail_msg("bad test JSON '%s': %s", text, je.text);
    return v;
}

static void
test_argv(void **state)
{
    (void) state;
    /* spec entrypoint, spec command, image config → argv (NULL: "no command specified"). */
    static const struct {
        const char *ep, *cmd, *image, *want;
    } cases[] = {
        { NULL, NULL, "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\",\"c2\"]}", "/e c1 c2" },
        { NULL, "x y", "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "/e x y" },
        { "/my", NULL, "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "/my" },
        { "/my", "a", "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "/my a" },
        { "", NULL, "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "c1" },
        { "", "a b", "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "a b" },
        { NULL, "", "{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c1\"]}", "/e c1" },
        { NULL, NULL, "{\"Cmd\":[\"sh\"]}", "sh" },
        { NULL, NULL, "{\"Entrypoint\":[\"/e\"]}", "/e" },
        { NULL, NULL, "{\"Entrypoint\":null,\"Cmd\":null}", NULL },
        { NULL, NULL, NULL, NULL },
        { "", "", "{\"Entrypoint\":[\"/e\"]}", NULL },
        { "", NULL, "{\"Entrypoint\":[\"/e\"]}", NULL },
        { NULL, "run", NULL, "run" },
        { "/bin/sh -c", "echo hi", "{\"Cmd\":[\"bash\"]}", "/bin/sh -c echo hi" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct eng_ctr_spec s = { .entrypoint = words(cases[i].ep),
                                  .command = words(cases[i].cmd) };
        json_t *img = load(cases[i].image);
        struct eng_ctr_proc p = { 0 };
        struct bt_err *err = NULL;
        int r = eng_ctr_proc_make(&s, img, &p, &err);
        if (!cases[i].want) {
            if (r >= 0)
                fail_msg("case %zu: expected an error", i);
            assert_string_equal(err->msg, "no command specified");
        } else {
            if (r < 0)
                fail_msg("case %zu: %s", i, err->msg);
            char *got = joined(p.argv);
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].want, got);
            free(got);
        }
        bt_err_free(err);
        json_decref(img);
        eng_ctr_proc_release(&p);
        eng_ctr_spec_release(&s);
    }
}

static void
make_ok(struct eng_ctr_spec *s, const char *image, struct eng_ctr_proc *p)
{
    json_t *img = load(image);
    struct bt_err *err = NULL;
    if (!s->command)
        s->command = words("true");
    if (eng_ctr_proc_make(s, img, p, &err) < 0)
        fail_msg("unexpected error: %s", err->msg);
    json_decref(img);
}

static void
test_env(void **state)
{
    (void) state;
    struct eng_ctr_spec s = { .name = bt_xstrdup("web-1"), .env = words("B=spec C=3 PATH=/x D") };
    struct eng_ctr_proc p = { 0 };
    make_ok(&s, "{\"Env\":[\"A=1\",\"B=img\",\"D=gone\"]}", &p);
    char *got = joined(p.env);
    assert_string_equal(got, "PATH=/x A=1 B=spec C=3");
    free(got);
    eng_ctr_proc_release(&p);
    eng_ctr_spec_release(&s);

    struct eng_ctr_spec t = { .hostname = bt_xstrdup("h"), .tty = true };
    make_ok(&t, "{\"Env\":[\"PATH=/img\",\"TERM=linux\"]}", &p);
    got = joined(p.env);
    assert_string_equal(got, "PATH=/img HOSTNAME=h TERM=linux");
    free(got);
    eng_ctr_proc_release(&p);
    eng_ctr_spec_release(&t);

    struct eng_ctr_spec u = { .tty = true };
    make_ok(&u, NULL, &p);
    got = joined(p.env);
    assert_string_equal(got, "PATH=" ENG_DEFAULT_PATH " TERM=xterm");
    free(got);
    eng_ctr_proc_release(&p);
    eng_ctr_spec_release(&u);
}

static void
test_cwd_user_signal(void **state)
{
    (void) state;
    struct eng_ctr_proc p = { 0 };
    struct eng_ctr_spec s = { 0 };
    make_ok(&s, NULL, &p);
    assert_string_equal(p.cwd, "/");
    assert_null(p.user);
    assert_int_equal(p.stop_signal, SIGTERM);
    assert_int_equal(p.caps, ENG_CAPS_DEFAULT & eng_caps_all());
    eng_ctr_proc_release(&p);

    make_ok(&s, "{\"WorkingDir\":\"/srv\",\"User\":\"app\",\"StopSignal\":\"SIGQUIT\"}", &p);
    assert_string_equal(p.cwd, "/srv");
    assert_string_equal(p.user, "app");
    assert_int_equal(p.stop_signal, SIGQUIT);
    eng_ctr_proc_release(&p);

    s.working_dir = bt_xstrdup("/w");
    s.user = bt_xstrdup("1:2");
    s.stop_signal = SIGINT;
    make_ok(&s, "{\"WorkingDir\":\"/srv\",\"User\":\"app\",\"StopSignal\":\"9\"}", &p);
    assert_string_equal(p.cwd, "/w");
    assert_string_equal(p.user, "1:2");
    assert_int_equal(p.stop_signal, SIGINT);
    eng_ctr_proc_release(&p);

    free(s.working_dir);
    s.working_dir = bt_xstrdup("rel");
    struct bt_err *err = NULL;
    json_t *img = load("{}");
    assert_true(eng_ctr_proc_make(&s, img, &p, &err) < 0);
    assert_non_null(strstr(err->msg, "'rel'"));
    err = bt_err_free(err);
    free(s.working_dir);
    s.working_dir = NULL;
    s.stop_signal = 0;
    json_decref(img);
    img = load("{\"StopSignal\":\"SIGNOPE\"}");
    assert_true(eng_ctr_proc_make(&s, img, &p, &err) < 0);
    assert_string_equal(err->msg, "image config: invalid StopSignal 'SIGNOPE'");
    bt_err_free(err);
    json_decref(img);
    eng_ctr_spec_release(&s);
}

static void
test_signal_parse(void **state)
{
    (void) state;
    static const struct {
        const char *s;
        int want; /* -1: error */
    } cases[] = {
        { "SIGTERM", SIGTERM }, { "TERM", SIGTERM }, { "term", SIGTERM }, { "sigkill", SIGKILL },
        { "15", 15 },           { "9", 9 },          { "64", 64 },        { "RTMIN", 32 },
        { "SIGRTMIN+3", 35 },   { "RTMAX-1", 63 },   { "RTMAX", 64 },     { "0", -1 },
        { "65", -1 },           { "", -1 },          { "SIG", -1 },       { "TERMX", -1 },
        { "-9", -1 },           { "RTMIN+40", -1 },  { "RTMIN-1", -1 },   { "USR1", SIGUSR1 },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        int n = 0;
        int r = bt_signal_parse(cases[i].s, &n);
        if (cases[i].want < 0 ? r == 0 : (r < 0 || n != cases[i].want))
            fail_msg("'%s': expected %d, got r=%d n=%d", cases[i].s, cases[i].want, r, n);
    }
}

static uint64_t
bit(int c)
{
    return UINT64_C(1) << c;
}

static void
test_caps(void **state)
{
    (void) state;
    uint64_t all = eng_caps_all(), m = 0;
    struct bt_err *err = NULL;
    assert_int_equal(ENG_CAPS_DEFAULT, UINT64_C(0xa80425fb));
    assert_int_equal(eng_cap_from_name("NET_ADMIN"), 12);
    assert_int_equal(eng_cap_from_name("cap_sys_admin"), 21);
    assert_int_equal(eng_cap_from_name("Cap_Chown"), 0);
    assert_int_equal(eng_cap_from_name("NOPE"), -1);
    assert_string_equal(eng_cap_name(13), "NET_RAW");
    assert_null(eng_cap_name(200));
    assert_true(eng_caps_last() >= 36);

    assert_int_equal(compute(false, "NET_ADMIN cap_sys_ptrace", "MKNOD net_raw", &m, &err), 0);
    assert_int_equal(m, (ENG_CAPS_DEFAULT & ~bit(27) & ~bit(13)) | bit(12) | bit(19));
    assert_int_equal(compute(false, "ALL", "CHOWN", &m, &err), 0);
    assert_int_equal(m, all & ~bit(0));
    assert_int_equal(compute(false, "CHOWN", "all", &m, &err), 0);
    assert_int_equal(m, bit(0));
    assert_int_equal(compute(false, NULL, "ALL", &m, &err), 0);
    assert_int_equal(m, 0);
    assert_int_equal(compute(true, NULL, "ALL", &m, &err), 0);
    assert_int_equal(m, all);
    assert_int_equal(compute(false, NULL, NULL, &m, &err), 0);
    assert_int_equal(m, ENG_CAPS_DEFAULT);
    /* Add wins over drop, as moby appends cap_add after dropping. */
    assert_int_equal(compute(false, "CHOWN", "CHOWN", &m, &err), 0);
    assert_int_equal(m, ENG_CAPS_DEFAULT);

    assert_true(compute(false, "SYS_ADMIN NET_ADMN", NULL, &m, &err) < 0);
    assert_string_equal(err->msg, "cap_add[1]: unknown capability 'NET_ADMN'");
    assert_string_equal(err->hint, "did you mean 'NET_ADMIN'?");
    err = bt_err_free(err);
    assert_true(compute(false, NULL, "cap_chwn", &m, &err) < 0);
    assert_string_equal(err->msg, "cap_drop[0]: unknown capability 'cap_chwn'");
    assert_string_equal(err->hint, "did you mean 'CHOWN'?");
    bt_err_free(err);
}

static void
test_sysctls(void **state)
{
    (void) state;
    static const struct {
        const char *key;
        bool net, ipc, uts, ok;
    } cases[] = {
        { "kernel.shmmax", true, true, true, true },
        { "kernel.shmmax", true, false, true, false },
        { "kernel.msgmnb", false, true, false, true },
        { "fs.mqueue.msg_max", false, true, false, true },
        { "net.core.somaxconn", true, false, false, true },
        { "net.core.somaxconn", false, true, true, false },
        { "kernel.domainname", true, true, true, true },
        { "kernel.domainname", true, true, false, false },
        { "kernel.hostname", true, true, true, false },
        { "vm.swappiness", true, true, true, false },
        { "kernel.pid_max", true, true, true, false },
        { "net..x", true, true, true, false },
        { "net.ipv4/../../x", true, true, true, false },
        { "", true, true, true, false },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct bt_err *err = NULL;
        int r = eng_sysctl_check(cases[i].key, cases[i].net, cases[i].ipc, cases[i].uts, &err);
        if ((r == 0) != cases[i].ok)
            fail_msg("case %zu '%s': expected %s", i, cases[i].key, cases[i].ok ? "ok" : "error");
        bt_err_free(err);
    }
    struct bt_err *err = NULL;
    assert_true(eng_sysctl_check("vm.x", true, true, true, &err) < 0);
    assert_string_equal(err->msg, "sysctl 'vm.x' is not namespaced: it would change the host");
    bt_err_free(err);
}

/* CapXxx: from /proc/self/status, or UINT64_MAX. */
static uint64_t
status_caps(const char *field)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    uint64_t v = UINT64_MAX;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            v = strtoull(line + fl + 1, NULL, 16);
    }
    if (f)
        fclose(f);
    return v;
}

/* In a child: apply, then report through the exit code which check failed. */
static void
caps_apply_child(uint64_t caps)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (eng_caps_apply(caps) < 0)
            _exit(10);
        if (status_caps("CapEff") != caps)
            _exit(11);
        if (status_caps("CapPrm") != caps)
            _exit(12);
        if (status_caps("CapBnd") != caps)
            _exit(13);
        if (status_caps("CapInh") != 0)
            _exit(14);
        if (status_caps("CapAmb") != 0)
            _exit(15);
        /* Idempotent: a second call (after a setuid) must not need CAP_SETPCAP again. */
        if (eng_caps_apply(caps) < 0)
            _exit(16);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("caps 0x%llx: child check %d failed", (unsigned long long) caps, WEXITSTATUS(st));
}

static void
test_caps_apply(void **state)
{
    (void) state;
    /* Needs CAP_SETPCAP and the capabilities asked for (a sandbox may lack a few). */
    uint64_t have = status_caps("CapEff");
    if (geteuid() != 0 || have == UINT64_MAX || !(have & bit(8)) ||
        (have & ENG_CAPS_DEFAULT) != ENG_CAPS_DEFAULT ||
        (have & (bit(12) | bit(21))) != (bit(12) | bit(21)))
        skip();
    caps_apply_child(ENG_CAPS_DEFAULT);
    caps_apply_child(0);
    caps_apply_child(bit(12) | bit(21));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_cwd_user_signal),
        cmocka_unit_test(test_signal_parse),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_sysctls),
        cmocka_unit_test(test_caps_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
