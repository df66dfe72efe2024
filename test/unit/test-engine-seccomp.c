/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for engine/container/seccomp: the parser's errors and their JSON paths, Docker's
 * evaluation of includes/excludes, the equivalence of berth's default profile with Docker's
 * (the reference file, for many capability sets, architectures and kernels), compilation, and
 * a real filter in a forked child (needs a kernel with seccomp; no root).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/container/seccomp.h"
#include <linux/seccomp.h>

#define REFERENCE "../shared/reference/docker-seccomp-default.json"

#define BIT(c) (UINT64_C(1) << (c))
/* Docker's default capability set. */
#define DOCKER_CAPS                                                                                \
    (BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_KILL) |  \
     BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |            \
     BIT(CAP_NET_RAW) | BIT(CAP_SYS_CHROOT) | BIT(CAP_MKNOD) | BIT(CAP_AUDIT_WRITE) |              \
     BIT(CAP_SETFCAP))
#define ALL_CAPS ((UINT64_C(1) << (CAP_CHECKPOINT_RESTORE + 1)) - 1)

static struct eng_seccomp_profile *
parse_ok(const char *json)
{
    struct eng_seccomp_profile *p = NULL;
    bt_autoerr struct bt_err *err = NULL;
    int r = eng_seccomp_profile_parse(json, strlen(json), &p, &err);
    if (r < 0)
        fail_msg("parse failed: %s", err->msg);
    return p;
}

static void
test_parse_errors(void **state)
{
    (void) state;
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        { "", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "{\"defaultAction\":\"SCMP_ACT_FOO\"}", "defaultAction: unknown action 'SCMP_ACT_FOO'" },
        { "{\"defaultAction\":3}", "defaultAction: not a string" },
        { "{\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
          "defaultAction: missing" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\"},{},{},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_FOO\"}]}",
          "syscalls[1].action: missing" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_FOO\"}]}",
          "syscalls[1].action: unknown action 'SCMP_ACT_FOO'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
          "syscalls[0].action: action 'SCMP_ACT_NOTIFY' is unsupported" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\", 4],"
          "\"action\":\"SCMP_ACT_ALLOW\"}]}",
          "syscalls[0].names[1]: not a string" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"a\",\"names\":[\"b\"],"
          "\"action\":\"SCMP_ACT_ALLOW\"}]}",
          "syscalls[0]: both 'name' and 'names'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"
          "]}]}",
          "syscalls[0].args[0].index: 6 is out of range (0-5)" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}"
          "]}]}",
          "syscalls[0].args[0].op: unknown operator 'SCMP_CMP_XX'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}",
          "syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
          "defaultErrnoRet: 70000 is out of range (0-4095)" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"four\"}}]}",
          "syscalls[0].includes.minKernel: invalid kernel version 'four'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":\"CAP_SYS_ADMIN\"}}]}",
          "syscalls[0].excludes.caps: not an array" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"subArchitectures\":[]}]}",
          "archMap[0].architecture: missing" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"],"
          "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
          "both 'architectures' and 'archMap'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
          "flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_NOPE'" },
        { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"listenerPath\":\"/run/agent.sock\"}",
          "listenerPath: seccomp notification is unsupported" },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct eng_seccomp_profile *p = NULL;
        bt_autoerr struct bt_err *err = NULL;
        int r = eng_seccomp_profile_parse(cases[i].json, strlen(cases[i].json), &p, &err);
        if (r >= 0 || !err || err->code != -r || !strstr(err->msg, cases[i].want))
            fail_msg("case %zu: want '%s', got r=%d '%s'", i, cases[i].want, r,
                     err ? err->msg : "(no error)");
        assert_null(p);
    }
}

static void
test_parse_limits(void **state)
{
    (void) state;
    size_t len = ENG_SECCOMP_MAX_JSON + 1;
    bt_autofree char *big = bt_xmalloc(len);
    memset(big, ' ', len);
    struct eng_seccomp_profile *p = NULL;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_seccomp_profile_parse(big, len, &p, &err), -BT_ETOOBIG);

    /* 4097 rules. */
    struct bt_buf b;
    bt_buf_init(&b, SIZE_MAX);
    bt_buf_puts(&b, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[");
    for (unsigned i = 0; i <= ENG_SECCOMP_MAX_RULES; i++)
        bt_buf_puts(&b, i ? ",{}" : "{}");
    bt_buf_puts(&b, "]}");
    bt_autoerr struct bt_err *err2 = NULL;
    assert_int_equal(eng_seccomp_profile_parse(b.data, b.len, &p, &err2), -BT_ETOOBIG);
    assert_non_null(strstr(err2->msg, "syscalls: 4097 rules"));
    bt_buf_release(&b);
}

static void
test_unconfined_profile(void **state)
{
    (void) state;
    struct eng_seccomp_profile *p = parse_ok("{}");
    struct eng_seccomp_env env = { .arch = "x86_64", .kernel_major = 6, .kernel_minor = 1 };
    struct eng_bpf b = { 0 };
    assert_int_equal(eng_seccomp_compile(p, &env, &b, NULL), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(eng_seccomp_load(&b), 0); /* installs nothing */
    eng_bpf_release(&b);
    eng_seccomp_profile_free(p);
}

/* Does the evaluated text hold "rule NAME"? */
static bool
has_rule(const char *text, const char *name)
{
    bt_autofree char *needle = bt_xasprintf("\nrule %s ", name);
    return strstr(text, needle) != NULL;
}

static void
test_conditions(void **state)
{
    (void) state;
    struct eng_seccomp_profile *p = parse_ok(
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
        "{\"names\":[\"inc_both_caps\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"includes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_SYS_TIME\"]}},"
        "{\"names\":[\"exc_any_cap\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\",\"CAP_SYS_TIME\"]}},"
        "{\"names\":[\"inc_unknown_cap\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"includes\":{\"caps\":[\"SYS_ADMIN\"]}},"
        "{\"names\":[\"exc_unknown_cap\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"excludes\":{\"caps\":[\"CAP_NOPE\"]}},"
        "{\"names\":[\"inc_amd64\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"includes\":{\"arches\":[\"amd64\",\"x32\"]}},"
        "{\"names\":[\"exc_arm64\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"excludes\":{\"arches\":[\"arm64\"]}},"
        "{\"names\":[\"inc_bogus_arch\"],\"action\":\"SCMP_ACT_ALLOW\","
        "  \"includes\":{\"arches\":[\"vax\"]}},"
        "{\"name\":\"inc_5_4\",\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"5.4\"}},"
        "{\"name\":\"exc_5_4\",\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"5.4\"}},"
        "{\"name\":\"plain\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}"
        "]}");
    struct eng_seccomp_env env = {
        .caps = BIT(CAP_SYS_ADMIN), .arch = "x86_64", .kernel_major = 5, .kernel_minor = 4
    };
    bt_autofree char *t1 = eng_seccomp_profile_eval_text(p, &env);
    assert_false(has_rule(t1, "inc_both_caps"));
    assert_false(has_rule(t1, "exc_any_cap"));
    assert_false(has_rule(t1, "inc_unknown_cap"));
    assert_true(has_rule(t1, "exc_unknown_cap"));
    assert_true(has_rule(t1, "inc_amd64"));
    assert_true(has_rule(t1, "exc_arm64"));
    assert_false(has_rule(t1, "inc_bogus_arch"));
    assert_true(has_rule(t1, "inc_5_4"));
    assert_false(has_rule(t1, "exc_5_4"));
    assert_non_null(strstr(t1, "\nrule plain 0x00050026\n"));

    env = (struct eng_seccomp_env){ .caps = BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_TIME),
                                    .arch = "aarch64",
                                    .kernel_major = 4,
                                    .kernel_minor = 19 };
    bt_autofree char *t2 = eng_seccomp_profile_eval_text(p, &env);
    assert_true(has_rule(t2, "inc_both_caps"));
    assert_false(has_rule(t2, "inc_amd64"));
    assert_false(has_rule(t2, "exc_arm64"));
    assert_false(has_rule(t2, "inc_5_4"));
    assert_true(has_rule(t2, "exc_5_4"));

    env = (struct eng_seccomp_env){ .arch = "amd64", .kernel_major = 10, .kernel_minor = 0 };
    bt_autofree char *t3 = eng_seccomp_profile_eval_text(p, &env);
    assert_true(has_rule(t3, "exc_any_cap"));
    assert_true(has_rule(t3, "inc_amd64"));
    assert_true(has_rule(t3, "inc_5_4"));
    eng_seccomp_profile_free(p);
}

static char *
read_reference(void)
{
    char *data = NULL;
    size_t len = 0;
    if (bt_file_read_at(AT_FDCWD, REFERENCE, ENG_SECCOMP_MAX_JSON, &data, &len, NULL) < 0)
        return NULL;
    return data;
}

static void
test_default_equals_docker(void **state)
{
    (void) state;
    bt_autofree char *json = read_reference();
    if (!json) {
        print_message("skipped: %s is absent (run from the repository root)\n", REFERENCE);
        skip();
    }
    struct eng_seccomp_profile *docker = parse_ok(json);
    const struct eng_seccomp_profile *berth = eng_seccomp_profile_default();
    static const uint64_t capsets[] = {
        DOCKER_CAPS,
        0,
        ALL_CAPS,
        DOCKER_CAPS | BIT(CAP_SYS_ADMIN),
        DOCKER_CAPS | BIT(CAP_SYS_PTRACE),
        DOCKER_CAPS | BIT(CAP_SYS_TIME),
        DOCKER_CAPS | BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_RAWIO) | BIT(CAP_SYS_BOOT),
        DOCKER_CAPS | BIT(CAP_SYS_NICE) | BIT(CAP_SYSLOG) | BIT(CAP_BPF) | BIT(CAP_PERFMON),
        BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_SYS_PACCT) | BIT(CAP_SYS_TTY_CONFIG),
        DOCKER_CAPS & ~BIT(CAP_SYS_CHROOT),
    };
    static const char *const arches[] = { "x86_64", "aarch64", "s390x", "riscv64", "ppc64le" };
    static const unsigned kernels[][2] = { { 4, 8 }, { 4, 7 }, { 5, 4 }, { 6, 1 } };
    unsigned checked = 0;
    for (size_t c = 0; c < BT_ARRAY_SIZE(capsets); c++) {
        for (size_t a = 0; a < BT_ARRAY_SIZE(arches); a++) {
            for (size_t k = 0; k < BT_ARRAY_SIZE(kernels); k++) {
                struct eng_seccomp_env env = { .caps = capsets[c],
                                               .arch = arches[a],
                                               .kernel_major = kernels[k][0],
                                               .kernel_minor = kernels[k][1] };
                bt_autofree char *want = eng_seccomp_profile_eval_text(docker, &env);
                bt_autofree char *got = eng_seccomp_profile_eval_text(berth, &env);
                if (strcmp(want, got) != 0)
                    fail_msg("caps %#" PRIx64 " %s %u.%u: berth's default differs from Docker's",
                             capsets[c], arches[a], kernels[k][0], kernels[k][1]);
                checked++;
            }
        }
    }
    assert_int_equal(checked, BT_ARRAY_SIZE(capsets) * BT_ARRAY_SIZE(arches) * 4);
    eng_seccomp_profile_free(docker);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void
test_compile(void **state)
{
    (void) state;
    struct eng_seccomp_env host;
    bt_autoerr struct bt_err *herr = NULL;
    if (eng_seccomp_env_host(DOCKER_CAPS, &host, &herr) < 0) {
        print_message("skipped: %s\n", herr->msg);
        skip();
    }
    static const uint64_t capsets[] = { DOCKER_CAPS, 0, ALL_CAPS };
    for (size_t c = 0; c < BT_ARRAY_SIZE(capsets); c++) {
        struct eng_seccomp_env env = host;
        env.caps = capsets[c];
        struct eng_bpf b = { 0 };
        bt_autoerr struct bt_err *err = NULL;
        double t0 = now_ms();
        int r = eng_seccomp_compile(eng_seccomp_profile_default(), &env, &b, &err);
        double t1 = now_ms();
        if (r < 0)
            fail_msg("caps %#" PRIx64 ": %s", capsets[c], err->msg);
        assert_true(b.len > 10 && b.len <= BPF_MAXINSNS);
        print_message("default profile, %s, caps %#" PRIx64 ": %u instructions in %.2f ms\n",
                      env.arch, capsets[c], b.len, t1 - t0);
        eng_bpf_release(&b);
    }
    /* Only the running machine: libseccomp cannot build another's filter faithfully. */
    struct eng_seccomp_env other = host;
    other.arch = strcmp(host.arch, "aarch64") == 0 ? "x86_64" : "aarch64";
    struct eng_bpf ob = { 0 };
    bt_autoerr struct bt_err *oerr = NULL;
    assert_int_equal(eng_seccomp_compile(eng_seccomp_profile_default(), &other, &ob, &oerr),
                     -BT_EUNSUPPORTED);
    struct eng_seccomp_profile *p = parse_ok(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":["
        "{\"names\":[\"mkdir\",\"no_such_call\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
        "{\"name\":\"kill\",\"action\":\"SCMP_ACT_KILL_PROCESS\","
        "  \"args\":[{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"},"
        "           {\"index\":1,\"value\":15,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"name\":\"mmap\",\"action\":\"SCMP_ACT_LOG\","
        "  \"args\":[{\"index\":2,\"value\":4,\"valueTwo\":4,\"op\":\"SCMP_CMP_MASKED_EQ\"},"
        "           {\"index\":3,\"value\":0,\"op\":\"SCMP_CMP_NE\"}]},"
        "{\"name\":\"getpid\",\"action\":\"SCMP_ACT_ALLOW\"},"
        "{\"name\":\"ptrace\",\"action\":\"SCMP_ACT_TRAP\"},"
        "{\"name\":\"reboot\",\"action\":\"SCMP_ACT_TRACE\"},"
        "{\"name\":\"swapon\",\"action\":\"SCMP_ACT_KILL\"}]}");
    struct eng_seccomp_env env = host;
    struct eng_bpf b = { 0 };
    bt_autoerr struct bt_err *err = NULL;
    if (eng_seccomp_compile(p, &env, &b, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(b.len > 5);
    assert_int_equal(b.flags, SECCOMP_FILTER_FLAG_LOG);
    eng_bpf_release(&b);
    eng_seccomp_profile_free(p);

    /* An architecture this libseccomp does not know. */
    p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_VAX\"]}");
    bt_autoerr struct bt_err *err2 = NULL;
    assert_int_equal(eng_seccomp_compile(p, &env, &b, &err2), -BT_EUNSUPPORTED);
    assert_non_null(strstr(err2->msg, "'SCMP_ARCH_VAX'"));
    eng_seccomp_profile_free(p);
}

/* The child's checks: each failure exits with its own code. */
static int
child_checks(const struct eng_bpf *b)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 10;
    if (eng_seccomp_load(b) < 0)
        return 11;
    if (syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0) != -1 || errno != EPERM)
        return 12;
    if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
        return 13;
    if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
        return 14;
    if (syscall(SYS_getpid) != getpid())
        return 15;
    if (write(STDOUT_FILENO, "", 0) != 0)
        return 16;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 17;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 18;
    buf[n] = '\0';
    if (!strstr(buf, "\nSeccomp:\t2\n"))
        return 19;
    return 0;
}

static void
test_kernel_filter(void **state)
{
    (void) state;
    struct eng_seccomp_env env;
    bt_autoerr struct bt_err *err = NULL;
    if (eng_seccomp_env_host(DOCKER_CAPS, &env, &err) < 0) {
        print_message("skipped: %s\n", err->msg);
        skip();
    }
    struct eng_bpf b = { 0 };
    if (eng_seccomp_compile(eng_seccomp_profile_default(), &env, &b, &err) < 0)
        fail_msg("%s", err->msg);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_checks(&b));
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("child check %d failed (see child_checks)", WEXITSTATUS(st));
    eng_bpf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),          cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_unconfined_profile),    cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_default_equals_docker), cmocka_unit_test(test_compile),
        cmocka_unit_test(test_kernel_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
