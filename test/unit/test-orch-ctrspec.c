/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for orchestrator/daemon/ctr-spec.c: canonical service JSON (as `berth config
 * --format json` prints it) to struct eng_ctr_spec, and the errors, each naming its key.
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
#include <sys/mount.h>
#include <sys/resource.h>

#include <jansson.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "orchestrator/daemon/ctr-spec.h"

static char *
name_of(const char *service, void *userdata)
{
    (void) userdata;
    return strcmp(service, "db") == 0 ? bt_xstrdup("proj-db-1") : NULL;
}

static const struct orch_ctr_spec_ctx ctx = { .container_name = name_of, .project_dir = "/tmp" };

static int
conv(const char *text, const struct orch_ctr_spec_ctx *c, struct eng_ctr_spec *s,
     struct bt_err **err)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("bad test JSON '%s': %s", text, je.text);
    int r = orch_ctr_spec_from_json(v, "proj-web-1", c, s, err);
    json_decref(v);
    return r;
}

static void
test_full(void **state)
{
    (void) state;
    static const char text[] =
        "{\"image\":\"busybox\",\"cap_add\":[\"NET_ADMIN\"],\"cap_drop\":[\"ALL\"],"
        "\"command\":[\"echo\",\"hi\"],\"entrypoint\":\"run it\",\"cpus\":0.5,"
        "\"depends_on\":{\"db\":{\"condition\":\"service_started\"}},"
        "\"device_cgroup_rules\":[\"c 1:3 mr\"],"
        "\"devices\":[{\"permissions\":\"rwm\",\"source\":\"/dev/fuse\",\"target\":\"/dev/fuse\"},"
        "\"/dev/null:/dev/n2:r\",\"/dev/zero:rw\"],"
        "\"domainname\":\"d.example\",\"environment\":{\"A\":\"1\",\"B\":null},"
        "\"group_add\":[\"audio\",44],\"hostname\":\"h\",\"init\":true,\"ipc\":\"service:db\","
        "\"labels\":{\"a\":\"b\"},\"logging\":{\"driver\":\"json-file\",\"options\":"
        "{\"max-file\":\"3\",\"max-size\":\"10m\"}},\"mem_limit\":\"1073741824\","
        "\"oom_kill_disable\":true,\"oom_score_adj\":100,\"pid\":\"host\",\"privileged\":false,"
        "\"read_only\":true,\"security_opt\":[\"no-new-privileges:true\",\"seccomp=unconfined\","
        "\"label=disable\"],\"shm_size\":\"134217728\",\"stdin_open\":true,"
        "\"stop_grace_period\":\"1m30s\",\"stop_signal\":\"SIGINT\","
        "\"sysctls\":{\"net.core.somaxconn\":\"1024\"},\"tmpfs\":[\"/run:size=64k,mode=1777\","
        "\"/tmp\"],\"tty\":true,\"ulimits\":{\"nofile\":{\"hard\":2048,\"soft\":1024},"
        "\"nproc\":65535},\"user\":\"1000:1000\",\"volumes\":[{\"bind\":{\"create_host_path\":"
        "true,\"propagation\":\"rshared\"},\"read_only\":true,\"source\":\"/src\",\"target\":"
        "\"/src\",\"type\":\"bind\"},{\"source\":\"data\",\"target\":\"/data\",\"type\":"
        "\"volume\",\"volume\":{\"nocopy\":true}},{\"target\":\"/anon\",\"type\":\"volume\"},"
        "{\"target\":\"/t\",\"type\":\"tmpfs\",\"tmpfs\":{\"size\":\"1m\",\"mode\":448}}],"
        "\"working_dir\":\"/app\",\"networks\":{\"default\":null},\"ports\":[],"
        "\"x-custom\":1,\"volumes_from\":[\"db:ro\",\"container:other\"]}";
    struct eng_ctr_spec s;
    struct bt_err *err = NULL;
    if (conv(text, &ctx, &s, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(s.name, "proj-web-1");
    assert_string_equal(s.image, "busybox");
    assert_string_equal(s.command[1], "hi");
    assert_string_equal(s.entrypoint[0], "/bin/sh");
    assert_string_equal(s.entrypoint[2], "run it");
    assert_null(s.entrypoint[3]);
    assert_string_equal(s.env[0], "A=1");
    assert_null(s.env[1]);
    assert_string_equal(s.group_add[1], "44");
    assert_string_equal(s.labels[0], "a=b");
    assert_true(s.tty && s.stdin_open && s.init && s.read_only && s.no_new_privileges);
    assert_false(s.privileged);
    assert_int_equal(s.seccomp, ENG_SECCOMP_UNCONFINED);
    assert_string_equal(s.security_opt_unsupported[0], "label=disable");
    assert_int_equal(s.ndevices, 3);
    assert_string_equal(s.devices[1].ctr_path, "/dev/n2");
    assert_string_equal(s.devices[1].perms, "r");
    assert_string_equal(s.devices[2].ctr_path, "/dev/zero");
    assert_string_equal(s.devices[2].perms, "rw");
    assert_int_equal(s.pid_mode, ENG_NS_MODE_HOST);
    assert_int_equal(s.ipc_mode, ENG_NS_MODE_SHARE);
    assert_string_equal(s.ipc_with, "proj-db-1");
    assert_int_equal(s.oom_score_adj, 100);
    assert_true(s.oom_score_adj_set && s.oom_kill_disable);
    assert_int_equal(s.stop_signal, SIGINT);
    assert_int_equal(s.stop_grace_ns, 90000000000LL);
    assert_int_equal(s.shm_size, 134217728);
    assert_int_equal(s.mem_limit, 1073741824);
    assert_int_equal(s.log_max_size, 10485760);
    assert_int_equal(s.log_max_file, 3);
    assert_int_equal(s.nsysctls, 1);
    assert_string_equal(s.sysctls[0].key, "net.core.somaxconn");
    assert_string_equal(s.sysctls[0].value, "1024");
    assert_int_equal(s.nulimits, 2);
    assert_int_equal(s.ulimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(s.ulimits[0].soft, 1024);
    assert_int_equal(s.ulimits[1].hard, 65535);
    assert_int_equal(s.nmounts, 6);
    assert_int_equal(s.mounts[0].type, ENG_MOUNT_TMPFS);
    assert_string_equal(s.mounts[0].target, "/run");
    assert_int_equal(s.mounts[0].tmpfs_size, 65536);
    assert_int_equal(s.mounts[0].tmpfs_mode, 01777);
    assert_int_equal(s.mounts[2].type, ENG_MOUNT_BIND);
    assert_int_equal(s.mounts[2].propagation, MS_SHARED | MS_REC);
    assert_true(s.mounts[2].read_only && s.mounts[2].create_host_path);
    assert_string_equal(s.mounts[3].source, "data");
    assert_true(s.mounts[3].nocopy);
    assert_null(s.mounts[4].source);
    assert_int_equal(s.mounts[5].tmpfs_size, 1048576);
    assert_int_equal(s.mounts[5].tmpfs_mode, 0700);
    assert_string_equal(s.volumes_from[0], "proj-db-1:ro");
    assert_string_equal(s.volumes_from[1], "other");
    assert_true(s.cpus == 0.5);
    eng_ctr_spec_release(&s);
}

static void
test_defaults(void **state)
{
    (void) state;
    struct eng_ctr_spec s;
    struct bt_err *err = NULL;
    assert_int_equal(conv("{\"image\":\"x\"}", NULL, &s, &err), 0);
    assert_null(s.command);
    assert_null(s.entrypoint);
    assert_int_equal(s.stop_grace_ns, -1);
    assert_int_equal(s.net_mode, ENG_NS_MODE_PRIVATE);
    assert_int_equal(s.seccomp, ENG_SECCOMP_DEFAULT);
    eng_ctr_spec_release(&s);
    assert_int_equal(
        conv("{\"image\":\"x\",\"entrypoint\":[],\"network_mode\":\"none\"}", NULL, &s, &err), 0);
    assert_non_null(s.entrypoint);
    assert_null(s.entrypoint[0]);
    assert_int_equal(s.net_mode, ENG_NS_MODE_NONE);
    eng_ctr_spec_release(&s);
}

static void
test_seccomp_file(void **state)
{
    (void) state;
    char path[] = "/tmp/berth-seccomp.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}", 34), 34);
    close(fd);
    char *text = bt_xasprintf("{\"image\":\"x\",\"security_opt\":[\"seccomp=%s\"]}", path + 5);
    struct eng_ctr_spec s;
    struct bt_err *err = NULL;
    if (conv(text, &ctx, &s, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(s.seccomp, ENG_SECCOMP_PROFILE);
    assert_string_equal(s.seccomp_profile, "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}");
    eng_ctr_spec_release(&s);
    assert_true(conv(text, NULL, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "security_opt[0]"));
    err = bt_err_free(err);
    free(text);
    unlink(path);
    assert_true(conv("{\"image\":\"x\",\"security_opt\":[\"seccomp=/nonexistent.json\"]}", &ctx, &s,
                     &err) < 0);
    assert_non_null(strstr(err->msg, "security_opt[0]: seccomp profile"));
    bt_err_free(err);
}

static void
test_errors(void **state)
{
    (void) state;
    static const struct {
        const char *json, *msg, *hint;
    } cases[] = {
        { "{\"image\":\"x\",\"cap_add\":[\"SYS_ADMIN\",\"NET_ADMN\"]}",
          "cap_add[1]: unknown capability 'NET_ADMN'", "did you mean 'NET_ADMIN'?" },
        { "{\"image\":\"x\",\"sysctls\":{\"vm.swappiness\":\"1\"}}",
          "sysctls: sysctl 'vm.swappiness' is not namespaced: it would change the host", NULL },
        { "{\"image\":\"x\",\"network_mode\":\"host\",\"sysctls\":[\"net.core.somaxconn=1\"]}",
          "sysctls: sysctl 'net.core.somaxconn' is not allowed with the host's network namespace",
          NULL },
        { "{\"image\":\"x\",\"ipc\":\"service:db\"}",
          "ipc: 'service:db' needs the project to find the service", NULL },
        { "{\"image\":\"x\",\"pid\":\"service:nope\"}", "pid: unknown service 'nope'", NULL },
        { "{\"image\":\"x\",\"pid\":\"weird\"}", "pid: invalid mode 'weird'", NULL },
        { "{\"image\":\"x\",\"security_opt\":[\"apparmor=x\",\"systempaths=unconfined\"]}",
          "security_opt[1]: security option 'systempaths=unconfined' is not supported", NULL },
        { "{\"image\":\"x\",\"logging\":{\"driver\":\"syslog\"}}",
          "logging.driver: log driver 'syslog' is not supported", NULL },
        { "{\"image\":\"x\",\"stop_signal\":\"SIGNOPE\"}", "stop_signal: invalid signal 'SIGNOPE'",
          NULL },
        { "{\"image\":\"x\",\"stop_grace_period\":\"10\"}", "stop_grace_period: ", NULL },
        { "{\"image\":\"x\",\"ulimits\":{\"nofiel\":1}}", "ulimits: unknown ulimit 'nofiel'",
          "did you mean 'nofile'?" },
        { "{\"image\":\"x\",\"ulimits\":{\"nofile\":{\"soft\":5,\"hard\":1}}}",
          "ulimits.nofile: soft limit 5 is above the hard limit 1", NULL },
        { "{\"image\":\"x\",\"devices\":[\"/dev/fuse:/dev/fuse:rwx\"]}",
          "devices[0]: invalid device permissions 'rwx'", NULL },
        { "{\"image\":\"x\",\"device_cgroup_rules\":[\"z 1:3 r\"]}",
          "device_cgroup_rules[0]: invalid rule 'z 1:3 r'", NULL },
        { "{\"image\":\"x\",\"oom_score_adj\":2000}", "oom_score_adj: 2000 is out of range", NULL },
        { "{\"image\":\"x\",\"working_dir\":\"rel\"}", "working_dir: 'rel' must be an absolute",
          NULL },
        { "{\"image\":\"x\",\"volumes\":[{\"type\":\"bind\",\"source\":\"rel\",\"target\":\"/"
          "x\"}]}",
          "volumes[0].source: a bind mount needs an absolute source", NULL },
        { "{\"image\":\"x\",\"volumes\":[{\"type\":\"volume\",\"target\":\"/x\",\"volume\":"
          "{\"subpath\":\"a\"}}]}",
          "volumes[0].volume.subpath: not supported by berth yet", NULL },
        { "{\"image\":\"x\",\"tmpfs\":\"/t:exec\"}", "tmpfs[0]: tmpfs option 'exec'", NULL },
        { "{\"image\":\"x\",\"userns_mode\":\"host\"}", "userns_mode: not supported by berth yet",
          NULL },
        { "{\"image\":\"x\",\"secrets\":[\"a\"]}", "secrets: not supported by berth yet", NULL },
        { "{\"image\":\"x\",\"tty\":\"maybe\"}", "tty: must be a boolean", NULL },
        { "{\"build\":\".\"}", "image: missing", NULL },
        { "{\"image\":\"x\",\"network_mode\":\"service:db\",\"hostname\":\"h\"}",
          "hostname: cannot be set with network_mode", NULL },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(cases); i++) {
        struct eng_ctr_spec s;
        struct bt_err *err = NULL;
        if (conv(cases[i].json, i == 3 ? NULL : &ctx, &s, &err) == 0)
            fail_msg("case %zu: expected an error", i);
        if (strncmp(err->msg, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].msg, err->msg);
        if (cases[i].hint && (!err->hint || strcmp(err->hint, cases[i].hint)))
            fail_msg("case %zu: expected hint '%s', got '%s'", i, cases[i].hint,
                     err->hint ? err->hint : "(none)");
        bt_err_free(err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_seccomp_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
