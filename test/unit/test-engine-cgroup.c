/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of container cgroups against fake cgroupfs trees in a temp dir (pure v2, v1,
 * hybrid): the layout from a mountinfo text, what each limit writes, errors for controllers the
 * host lacks, readings from fake stat files, OOM counts, freeze, list and remove. A fake tree
 * holds the files the kernel would show, so a missing file is a missing feature, as on a host.
 * One test runs on the real host when root on a hybrid or v2 machine: limits read back, the
 * device allowlist refuses a block device the process mknods, an OOM kill is counted, and kill,
 * remove leave nothing behind.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/container/cgroup.h"
#include "engine/engine.h"
#include "test/unit/tmpdir.h"

static int
setup(void **state)
{
    return tmpdir_setup_named(state, "test-engine-cgroup");
}

/* Write rel (parents made) under the temp dir. */
static void
put(void **state, const char *rel, const char *content)
{
    struct tmpdir *t = *state;
    bt_autofree char *path = bt_xasprintf("%s/%s", t->path, rel);
    bt_autofree char *dir = bt_xstrdup(path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(bt_mkdir_p(dir, 0755, NULL), 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(bt_write_all(fd, content, strlen(content)), 0);
    close(fd);
}

/* The same files (empty) in dir, as the kernel shows them in a new cgroup. */
static void
put_files(void **state, const char *dir, const char *const *files)
{
    for (; *files; files++) {
        bt_autofree char *rel = bt_xasprintf("%s/%s", dir, *files);
        put(state, rel, "");
    }
}

static char *
get(void **state, const char *rel)
{
    struct tmpdir *t = *state;
    bt_autofree char *path = bt_xasprintf("%s/%s", t->path, rel);
    char *data = NULL;
    if (bt_file_read_at(AT_FDCWD, path, 1 << 20, &data, NULL, NULL) < 0)
        return bt_xstrdup("<missing>");
    return data;
}

#define assert_file(state, rel, want)                                                              \
    do {                                                                                           \
        bt_autofree char *_got = get(state, rel);                                                  \
        assert_string_equal(_got, want);                                                           \
    } while (0)

static bool
exists(void **state, const char *rel)
{
    struct tmpdir *t = *state;
    bt_autofree char *path = bt_xasprintf("%s/%s", t->path, rel);
    return access(path, F_OK) == 0;
}

/* The kernel drops a cgroup's files with it; a fake tree needs them gone before rmdir. */
static void
drop_files(void **state, const char *dir)
{
    struct tmpdir *t = *state;
    bt_autofree char *path = bt_xasprintf("%s/%s", t->path, dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type == DT_REG)
            assert_int_equal(unlinkat(dirfd(d), de->d_name, 0), 0);
    }
    closedir(d);
}

static struct eng_cgroup_host *
open_host(void **state, const char *mountinfo)
{
    struct tmpdir *t = *state;
    put(state, "mountinfo", mountinfo);
    bt_autofree char *mi = bt_xasprintf("%s/mountinfo", t->path);
    struct eng_cgroup_host *h = NULL;
    struct bt_err *err = NULL;
    int r = eng_cgroup_host_open(mi, t->path, &h, &err);
    if (r < 0)
        fail_msg("%s", err->msg);
    return h;
}

/* ---- pure v2 ---- */

static const char v2_mountinfo[] =
    "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n";

static const char *const v2_files[] = {
    "cgroup.procs",
    "cgroup.subtree_control",
    "cgroup.freeze",
    "cgroup.kill",
    "memory.max",
    "memory.low",
    "memory.swap.max",
    "cpu.max",
    "cpu.weight",
    "cpuset.cpus",
    "pids.max",
    "io.weight",
    NULL,
};

static void
v2_tree(void **state, const char *controllers)
{
    put(state, "sys/fs/cgroup/cgroup.controllers", controllers);
    put(state, "sys/fs/cgroup/cgroup.subtree_control", "cpu memory\n");
    put(state, "sys/fs/cgroup/berth/cgroup.subtree_control", "");
    put_files(state, "sys/fs/cgroup/berth/web", v2_files);
}

static void
test_v2_limits(void **state)
{
    v2_tree(state, "cpuset cpu io memory hugetlb pids rdma misc\n");
    struct eng_cgroup_host *h = open_host(state, v2_mountinfo);
    assert_true(eng_cgroup_host_has(h, "memory"));
    assert_true(eng_cgroup_host_has(h, "io"));
    assert_true(eng_cgroup_host_has(h, "freezer"));
    assert_true(eng_cgroup_host_has(h, "devices")); /* a BPF program */
    const char *const rules[] = { "c 10:229 rwm", NULL };
    struct eng_cgroup_limits l = {
        .mem_limit = 256 << 20,
        .mem_reservation = 128 << 20,
        .memswap_limit = 512 << 20,
        .cpus = 1.5,
        .cpu_shares = 512,
        .cpuset = "0-1",
        .pids_limit = 100,
        .blkio_weight = 500,
        .device_rules = rules,
    };
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    if (eng_cgroup_create(h, "berth", "web", &l, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    /* Only what is not on yet, in the root and in the parent. */
    assert_file(state, "sys/fs/cgroup/cgroup.subtree_control", "+cpuset +io +pids");
    assert_file(state, "sys/fs/cgroup/berth/cgroup.subtree_control",
                "+cpu +cpuset +memory +io +pids");
    assert_file(state, "sys/fs/cgroup/berth/web/memory.max", "268435456");
    assert_file(state, "sys/fs/cgroup/berth/web/memory.low", "134217728");
    assert_file(state, "sys/fs/cgroup/berth/web/memory.swap.max", "268435456");
    assert_file(state, "sys/fs/cgroup/berth/web/cpu.max", "150000 100000");
    assert_file(state, "sys/fs/cgroup/berth/web/cpu.weight", "20");
    assert_file(state, "sys/fs/cgroup/berth/web/cpuset.cpus", "0-1");
    assert_file(state, "sys/fs/cgroup/berth/web/pids.max", "100");
    assert_file(state, "sys/fs/cgroup/berth/web/io.weight", "default 4950");
    assert_true(eng_cgroup_v2_dirfd(cg) >= 0);

    assert_int_equal(eng_cgroup_attach(cg, 4242, &err), 0);
    assert_file(state, "sys/fs/cgroup/berth/web/cgroup.procs", "4242");
    assert_false(eng_cgroup_is_empty(cg));
    put(state, "sys/fs/cgroup/berth/web/cgroup.procs", "");
    assert_true(eng_cgroup_is_empty(cg));

    put(state, "sys/fs/cgroup/berth/web/cgroup.events", "populated 1\nfrozen 1\n");
    assert_int_equal(eng_cgroup_freeze(cg, true, &err), 0);
    assert_file(state, "sys/fs/cgroup/berth/web/cgroup.freeze", "1");
    assert_int_equal(eng_cgroup_kill_all(cg, SIGKILL, &err), 0);
    assert_file(state, "sys/fs/cgroup/berth/web/cgroup.kill", "1");

    char **names = NULL;
    assert_int_equal(eng_cgroup_list(h, "berth", &names, &err), 0);
    assert_non_null(names[0]);
    assert_string_equal(names[0], "web");
    assert_null(names[1]);
    free(names[0]);
    free(names);

    drop_files(state, "sys/fs/cgroup/berth/web");
    assert_int_equal(eng_cgroup_remove(cg, &err), 0);
    assert_false(exists(state, "sys/fs/cgroup/berth/web"));
    assert_int_equal(eng_cgroup_remove(cg, &err), 0); /* twice is fine */
    eng_cgroup_free(cg);
    eng_cgroup_host_free(h);
}

static void
test_v2_swap_and_weights(void **state)
{
    v2_tree(state, "cpu io memory pids\n");
    put(state, "sys/fs/cgroup/berth/web/io.bfq.weight", "");
    struct eng_cgroup_host *h = open_host(state, v2_mountinfo);
    struct bt_err *err = NULL;
    struct eng_cgroup *cg = NULL;
    /* Unset memswap: as much swap as memory (Docker). bfq's weight takes blkio's scale. */
    struct eng_cgroup_limits l = {
        .mem_limit = 1000, .blkio_weight = 300, .cpu_shares = 2, .pids_limit = -1
    };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l, &cg, &err), 0);
    assert_file(state, "sys/fs/cgroup/berth/web/memory.swap.max", "1000");
    assert_file(state, "sys/fs/cgroup/berth/web/io.bfq.weight", "300");
    assert_file(state, "sys/fs/cgroup/berth/web/io.weight", "");
    assert_file(state, "sys/fs/cgroup/berth/web/cpu.weight", "1");
    assert_file(state, "sys/fs/cgroup/berth/web/pids.max", "max");
    cg = eng_cgroup_free(cg);
    /* -1: unlimited swap; the largest shares give the largest weight. */
    struct eng_cgroup_limits l2 = {
        .mem_limit = 1000, .memswap_limit = -1, .cpu_shares = 262144, .cpus = 0.001
    };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l2, &cg, &err), 0);
    assert_file(state, "sys/fs/cgroup/berth/web/memory.swap.max", "max");
    assert_file(state, "sys/fs/cgroup/berth/web/cpu.weight", "10000");
    assert_file(state, "sys/fs/cgroup/berth/web/cpu.max", "1000 100000");
    cg = eng_cgroup_free(cg);
    /* No swap accounting: an explicit memswap is an error, the implicit one is dropped. */
    struct tmpdir *t = *state;
    bt_autofree char *swap = bt_xasprintf("%s/sys/fs/cgroup/berth/web/memory.swap.max", t->path);
    assert_int_equal(unlink(swap), 0);
    struct eng_cgroup_limits l3 = { .mem_limit = 1000, .memswap_limit = 3000 };
    assert_true(eng_cgroup_create(h, "berth", "web", &l3, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "swap accounting"));
    err = bt_err_free(err);
    l3.memswap_limit = 0;
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l3, &cg, &err), 0);
    cg = eng_cgroup_free(cg);
    /* memswap below memory is refused before anything is made. */
    struct eng_cgroup_limits l4 = { .mem_limit = 1000, .memswap_limit = 500 };
    assert_true(eng_cgroup_create(h, "berth", "web", &l4, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "below mem_limit"));
    err = bt_err_free(err);
    /* oom_kill_disable does not exist on v2: said, not ignored. */
    struct eng_cgroup_limits l5 = { .oom_kill_disable = true };
    assert_true(eng_cgroup_create(h, "berth", "web", &l5, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "cgroup v2 has no such setting"));
    err = bt_err_free(err);
    eng_cgroup_host_free(h);
}

static void
test_v2_missing_controller(void **state)
{
    v2_tree(state, "cpu pids\n");
    struct eng_cgroup_host *h = open_host(state, v2_mountinfo);
    assert_false(eng_cgroup_host_has(h, "memory"));
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    struct eng_cgroup_limits l = { .mem_limit = 1 << 20 };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l, &cg, &err), -BT_EUNSUPPORTED);
    assert_string_equal(err->msg, "cgroup 'web': memory limit needs the memory cgroup controller, "
                                  "which this host lacks");
    err = bt_err_free(err);
    struct eng_cgroup_limits l2 = { .cpuset = "0" };
    assert_true(eng_cgroup_create(h, "berth", "web", &l2, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "cpuset needs the cpuset cgroup controller"));
    err = bt_err_free(err);
    /* Names are single components. */
    assert_int_equal(eng_cgroup_create(h, "berth", "../x", NULL, &cg, &err), -BT_EINVALID);
    err = bt_err_free(err);
    const char *const bad[] = { "c 1:3 rwx", NULL };
    struct eng_cgroup_limits l3 = { .device_rules = bad };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l3, &cg, &err), -BT_EINVALID);
    err = bt_err_free(err);
    eng_cgroup_host_free(h);
}

static void
test_v2_stats(void **state)
{
    v2_tree(state, "cpu io memory pids\n");
    put(state, "sys/fs/cgroup/berth/web/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
    put(state, "sys/fs/cgroup/berth/web/memory.current", "4096\n");
    put(state, "sys/fs/cgroup/berth/web/memory.max", "max\n");
    put(state, "sys/fs/cgroup/berth/web/memory.stat", "anon 5\nactive_file 9\ninactive_file 300\n");
    put(state, "sys/fs/cgroup/berth/web/pids.current", "3\n");
    put(state, "sys/fs/cgroup/berth/web/io.stat",
        "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
        "259:0 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0\n");
    put(state, "sys/fs/cgroup/berth/web/memory.events",
        "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n");
    struct eng_cgroup_host *h = open_host(state, v2_mountinfo);
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cgroup_open(h, "berth", "web", &cg, &err), 0);
    struct eng_cgroup_stats s;
    assert_int_equal(eng_cgroup_stats(cg, &s, &err), 0);
    assert_int_equal(s.have, ENG_CGROUP_STAT_CPU | ENG_CGROUP_STAT_MEM | ENG_CGROUP_STAT_PIDS |
                                 ENG_CGROUP_STAT_BLKIO);
    assert_int_equal(s.cpu_ns, 1500000);
    assert_int_equal(s.mem_usage, 4096);
    assert_true(s.mem_limit == UINT64_MAX);
    assert_int_equal(s.mem_inactive_file, 300);
    assert_int_equal(s.pids, 3);
    assert_int_equal(s.blk_read, 105);
    assert_int_equal(s.blk_write, 207);
    uint64_t n = 0;
    assert_int_equal(eng_cgroup_oom_kills(cg, &n), 0);
    assert_int_equal(n, 1);
    eng_cgroup_free(cg);
    /* Opening one that is not there is ENOENT. */
    assert_int_equal(eng_cgroup_open(h, "berth", "nope", &cg, &err), -ENOENT);
    err = bt_err_free(err);
    eng_cgroup_host_free(h);
}

/* ---- v1 ---- */

static const char v1_mountinfo[] =
    "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "41 30 0:38 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,net_cls\n"
    "42 34 0:31 / /mnt/memory\\040again rw - cgroup cgroup rw,memory\n";

static const char *const v1_hiers[] = { "cpu,cpuacct", "cpuset", "memory", "devices",
                                        "freezer",     "blkio",  "pids",   NULL };

static void
v1_tree(void **state, const char *prefix)
{
    static const char *const files[] = {
        "cgroup.procs",
        "memory.limit_in_bytes",
        "memory.soft_limit_in_bytes",
        "memory.memsw.limit_in_bytes",
        "memory.oom_control",
        "cpu.cfs_period_us",
        "cpu.cfs_quota_us",
        "cpu.shares",
        "cpuset.cpus",
        "cpuset.mems",
        "pids.max",
        "blkio.bfq.weight",
        "devices.allow",
        "devices.deny",
        "freezer.state",
        NULL,
    };
    for (const char *const *hier = v1_hiers; *hier; hier++) {
        bt_autofree char *dir = bt_xasprintf("%s/%s/berth/web", prefix, *hier);
        put_files(state, dir, files);
    }
    bt_autofree char *cpus = bt_xasprintf("%s/cpuset/cpuset.cpus", prefix);
    bt_autofree char *mems = bt_xasprintf("%s/cpuset/cpuset.mems", prefix);
    put(state, cpus, "0-3\n");
    put(state, mems, "0\n");
    bt_autofree char *pcpus = bt_xasprintf("%s/cpuset/berth/cpuset.cpus", prefix);
    bt_autofree char *pmems = bt_xasprintf("%s/cpuset/berth/cpuset.mems", prefix);
    put(state, pcpus, "");
    put(state, pmems, "");
}

static void
test_v1_limits(void **state)
{
    v1_tree(state, "sys/fs/cgroup");
    struct eng_cgroup_host *h = open_host(state, v1_mountinfo);
    assert_true(eng_cgroup_host_has(h, "devices"));
    assert_true(eng_cgroup_host_has(h, "blkio"));
    const char *const rules[] = { "c 10:229 rwm", NULL };
    struct eng_cgroup_limits l = {
        .mem_limit = 256 << 20,
        .mem_reservation = 64 << 20,
        .oom_kill_disable = true,
        .cpus = 0.5,
        .cpu_shares = 512,
        .cpuset = "1",
        .pids_limit = -1,
        .blkio_weight = 300,
        .device_rules = rules,
    };
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    if (eng_cgroup_create(h, "berth", "web", &l, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(eng_cgroup_v2_dirfd(cg), -1);
    const char *m = "sys/fs/cgroup/memory/berth/web/";
    bt_autofree char *p1 = bt_xasprintf("%smemory.limit_in_bytes", m);
    bt_autofree char *p2 = bt_xasprintf("%smemory.soft_limit_in_bytes", m);
    bt_autofree char *p3 = bt_xasprintf("%smemory.memsw.limit_in_bytes", m);
    bt_autofree char *p4 = bt_xasprintf("%smemory.oom_control", m);
    assert_file(state, p1, "268435456");
    assert_file(state, p2, "67108864");
    assert_file(state, p3, "536870912"); /* unset: memory + as much swap */
    assert_file(state, p4, "1");
    assert_file(state, "sys/fs/cgroup/cpu,cpuacct/berth/web/cpu.cfs_period_us", "100000");
    assert_file(state, "sys/fs/cgroup/cpu,cpuacct/berth/web/cpu.cfs_quota_us", "50000");
    assert_file(state, "sys/fs/cgroup/cpu,cpuacct/berth/web/cpu.shares", "512");
    /* cpuset: the parent copies the root's mems and cpus, the container then narrows. */
    assert_file(state, "sys/fs/cgroup/cpuset/berth/cpuset.cpus", "0-3");
    assert_file(state, "sys/fs/cgroup/cpuset/berth/cpuset.mems", "0");
    assert_file(state, "sys/fs/cgroup/cpuset/berth/web/cpuset.mems", "0");
    assert_file(state, "sys/fs/cgroup/cpuset/berth/web/cpuset.cpus", "1");
    assert_file(state, "sys/fs/cgroup/pids/berth/web/pids.max", "max");
    assert_file(state, "sys/fs/cgroup/blkio/berth/web/blkio.bfq.weight", "300");
    /* Deny all, then the defaults, then the service's rules (the last write shows). */
    assert_file(state, "sys/fs/cgroup/devices/berth/web/devices.deny", "a");
    assert_file(state, "sys/fs/cgroup/devices/berth/web/devices.allow", "c 10:229 rwm");
    /* Named and unused hierarchies are not joined; a second mount of memory is ignored. */
    assert_false(exists(state, "sys/fs/cgroup/systemd/berth"));
    assert_false(exists(state, "sys/fs/cgroup/net_cls/berth"));
    assert_false(exists(state, "mnt/memory again/berth"));

    assert_int_equal(eng_cgroup_attach(cg, 77, &err), 0);
    for (const char *const *hier = v1_hiers; *hier; hier++) {
        bt_autofree char *rel = bt_xasprintf("sys/fs/cgroup/%s/berth/web/cgroup.procs", *hier);
        assert_file(state, rel, "77");
    }
    assert_false(eng_cgroup_is_empty(cg));
    assert_int_equal(eng_cgroup_freeze(cg, true, &err), 0);
    assert_file(state, "sys/fs/cgroup/freezer/berth/web/freezer.state", "FROZEN");
    assert_int_equal(eng_cgroup_freeze(cg, false, &err), 0);
    assert_file(state, "sys/fs/cgroup/freezer/berth/web/freezer.state", "THAWED");
    /* Still holds a process: remove is refused by the kernel (ENOTEMPTY in a fake tree). */
    assert_true(eng_cgroup_remove(cg, &err) < 0);
    err = bt_err_free(err);
    for (const char *const *hier = v1_hiers; *hier; hier++) {
        bt_autofree char *rel = bt_xasprintf("sys/fs/cgroup/%s/berth/web", *hier);
        drop_files(state, rel);
    }
    assert_int_equal(eng_cgroup_remove(cg, &err), 0);
    for (const char *const *hier = v1_hiers; *hier; hier++) {
        bt_autofree char *rel = bt_xasprintf("sys/fs/cgroup/%s/berth/web", *hier);
        assert_false(exists(state, rel));
    }
    eng_cgroup_free(cg);
    eng_cgroup_host_free(h);
}

static void
test_v1_privileged_and_errors(void **state)
{
    v1_tree(state, "sys/fs/cgroup");
    struct eng_cgroup_host *h = open_host(state, v1_mountinfo);
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    struct eng_cgroup_limits l = { .privileged = true, .memswap_limit = -1, .mem_limit = 10 };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l, &cg, &err), 0);
    assert_file(state, "sys/fs/cgroup/devices/berth/web/devices.allow", "a");
    assert_file(state, "sys/fs/cgroup/devices/berth/web/devices.deny", "");
    assert_file(state, "sys/fs/cgroup/memory/berth/web/memory.memsw.limit_in_bytes", "");
    cg = eng_cgroup_free(cg);
    /* No swap accounting, no blkio weight file: explicit limits fail with a reason. */
    struct tmpdir *t = *state;
    bt_autofree char *memsw =
        bt_xasprintf("%s/sys/fs/cgroup/memory/berth/web/memory.memsw.limit_in_bytes", t->path);
    bt_autofree char *bfq =
        bt_xasprintf("%s/sys/fs/cgroup/blkio/berth/web/blkio.bfq.weight", t->path);
    assert_int_equal(unlink(memsw), 0);
    assert_int_equal(unlink(bfq), 0);
    struct eng_cgroup_limits l2 = { .mem_limit = 10, .memswap_limit = 20 };
    assert_true(eng_cgroup_create(h, "berth", "web", &l2, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "swapaccount") ? err->msg : err->hint);
    err = bt_err_free(err);
    struct eng_cgroup_limits l3 = { .blkio_weight = 500 };
    assert_true(eng_cgroup_create(h, "berth", "web", &l3, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "no blkio.weight nor blkio.bfq.weight"));
    err = bt_err_free(err);
    /* A leftover holding a process is never taken over. */
    put(state, "sys/fs/cgroup/pids/berth/web/cgroup.procs", "5\n");
    assert_int_equal(eng_cgroup_create(h, "berth", "web", NULL, &cg, &err), -BT_ECONFLICT);
    err = bt_err_free(err);
    eng_cgroup_host_free(h);
}

static void
test_v1_stats(void **state)
{
    v1_tree(state, "sys/fs/cgroup");
    put(state, "sys/fs/cgroup/cpu,cpuacct/berth/web/cpuacct.usage", "123456\n");
    put(state, "sys/fs/cgroup/memory/berth/web/memory.usage_in_bytes", "4096\n");
    put(state, "sys/fs/cgroup/memory/berth/web/memory.limit_in_bytes", "9223372036854771712\n");
    put(state, "sys/fs/cgroup/memory/berth/web/memory.stat",
        "cache 1\ninactive_file 9\ntotal_inactive_file 77\n");
    put(state, "sys/fs/cgroup/memory/berth/web/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    put(state, "sys/fs/cgroup/pids/berth/web/pids.current", "2\n");
    put(state, "sys/fs/cgroup/blkio/berth/web/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Async 0\n8:0 Total 30\n"
        "8:16 Read 1\n8:16 Write 2\n8:16 Total 3\nTotal 33\n");
    struct eng_cgroup_host *h = open_host(state, v1_mountinfo);
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cgroup_open(h, "berth", "web", &cg, &err), 0);
    struct eng_cgroup_stats s;
    assert_int_equal(eng_cgroup_stats(cg, &s, &err), 0);
    assert_int_equal(s.have, ENG_CGROUP_STAT_CPU | ENG_CGROUP_STAT_MEM | ENG_CGROUP_STAT_PIDS |
                                 ENG_CGROUP_STAT_BLKIO);
    assert_int_equal(s.cpu_ns, 123456);
    assert_int_equal(s.mem_usage, 4096);
    assert_true(s.mem_limit == UINT64_MAX);
    assert_int_equal(s.mem_inactive_file, 77);
    assert_int_equal(s.pids, 2);
    assert_int_equal(s.blk_read, 11);
    assert_int_equal(s.blk_write, 22);
    uint64_t n = 0;
    assert_int_equal(eng_cgroup_oom_kills(cg, &n), 0);
    assert_int_equal(n, 4);
    eng_cgroup_free(cg);
    eng_cgroup_host_free(h);
}

/* ---- hybrid: v1 controllers, an empty v2 tree beside them ---- */

static void
test_hybrid(void **state)
{
    v1_tree(state, "sys/fs/cgroup");
    put(state, "sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    put(state, "sys/fs/cgroup/unified/cgroup.subtree_control", "");
    bt_autofree char *mi = bt_xasprintf(
        "%s40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", v1_mountinfo);
    struct eng_cgroup_host *h = open_host(state, mi);
    assert_true(eng_cgroup_host_has(h, "memory"));
    assert_true(eng_cgroup_host_has(h, "devices"));
    struct eng_cgroup *cg = NULL;
    struct bt_err *err = NULL;
    struct eng_cgroup_limits l = { .mem_limit = 1 << 20, .pids_limit = 9 };
    assert_int_equal(eng_cgroup_create(h, "berth", "web", &l, &cg, &err), 0);
    /* The v2 side gets a directory (for freeze, kill, clone3) but no controllers. */
    assert_true(exists(state, "sys/fs/cgroup/unified/berth/web"));
    assert_true(eng_cgroup_v2_dirfd(cg) >= 0);
    assert_file(state, "sys/fs/cgroup/unified/cgroup.subtree_control", "");
    assert_file(state, "sys/fs/cgroup/memory/berth/web/memory.limit_in_bytes", "1048576");
    assert_file(state, "sys/fs/cgroup/pids/berth/web/pids.max", "9");
    /* A leftover in one hierarchy only still shows in the list. */
    put(state, "sys/fs/cgroup/pids/berth/old/cgroup.procs", "");
    char **names = NULL;
    assert_int_equal(eng_cgroup_list(h, "berth", &names, &err), 0);
    assert_string_equal(names[0], "old");
    assert_string_equal(names[1], "web");
    assert_null(names[2]);
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
    for (const char *const *hier = v1_hiers; *hier; hier++) {
        bt_autofree char *rel = bt_xasprintf("sys/fs/cgroup/%s/berth/web", *hier);
        drop_files(state, rel);
    }
    assert_int_equal(eng_cgroup_remove(cg, &err), 0);
    assert_false(exists(state, "sys/fs/cgroup/unified/berth/web"));
    assert_false(exists(state, "sys/fs/cgroup/memory/berth/web"));
    eng_cgroup_free(cg);
    eng_cgroup_host_free(h);
}

static void
test_no_cgroups(void **state)
{
    struct tmpdir *t = *state;
    put(state, "mountinfo", "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n");
    bt_autofree char *mi = bt_xasprintf("%s/mountinfo", t->path);
    struct eng_cgroup_host *h = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cgroup_host_open(mi, t->path, &h, &err), -BT_EUNSUPPORTED);
    assert_non_null(strstr(err->msg, "no cgroup filesystem"));
    bt_err_free(err);
}

/* ---- the real host ---- */

static char *
real_path(struct eng_host_info *hi, const char *ctrl, const char *rel)
{
    if (hi->cgroup_mode == ENG_CGROUP_V2)
        return bt_xasprintf("/sys/fs/cgroup/%s", rel);
    return bt_xasprintf("/sys/fs/cgroup/%s/%s", ctrl, rel);
}

/* In the cgroup: mknod a block device and try to open it; exit with the open's errno. */
static int
child_mknod_block(int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1)
        return 100;
    char path[64];
    snprintf(path, sizeof path, "/tmp/test-engine-cgroup-blk.%d", (int) getpid());
    if (mknod(path, S_IFBLK | 0600, makedev(7, 0)) < 0)
        return 101;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    (void) unlink(path);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0)
        return 102;
    return e;
}

static pid_t
fork_waiting(int *ret_go, int (*fn)(int))
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        _exit(fn(p[0]));
    }
    close(p[0]);
    *ret_go = p[1];
    return pid;
}

static int
child_hog(int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1)
        return 100;
    for (size_t i = 0; i < 256; i++) {
        char *m = malloc(1 << 20);
        if (!m)
            return 101;
        memset(m, 1, 1 << 20);
    }
    return 0;
}

static int
child_sleep(int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1)
        return 100;
    pause();
    return 0;
}

static void
test_real_host(void **state)
{
    (void) state;
    struct eng_host_info hi;
    eng_host_probe(&hi);
    if (getuid() != 0 || (hi.cgroup_mode != ENG_CGROUP_HYBRID && hi.cgroup_mode != ENG_CGROUP_V2))
        skip();
    struct eng_cgroup_host *h = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cgroup_host_open("/proc/self/mountinfo", "", &h, &err), 0);
    char parent[64];
    snprintf(parent, sizeof parent, "berth-test-%d", (int) getpid());
    struct eng_cgroup_limits l = { .mem_limit = 32 << 20,
                                   .memswap_limit = 32 << 20,
                                   .pids_limit = 50 };
    struct eng_cgroup *cg = NULL;
    if (eng_cgroup_create(h, parent, "x", &l, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    bool v2 = hi.cgroup_mode == ENG_CGROUP_V2;
    bt_autofree char *rel_mem =
        bt_xasprintf("%s/x/%s", parent, v2 ? "memory.max" : "memory.limit_in_bytes");
    bt_autofree char *rel_pids = bt_xasprintf("%s/x/pids.max", parent);
    bt_autofree char *p_mem = real_path(&hi, "memory", rel_mem);
    bt_autofree char *p_pids = real_path(&hi, "pids", rel_pids);
    bt_autofree char *mem = NULL, *pids = NULL;
    assert_int_equal(bt_file_read_at(AT_FDCWD, p_mem, 4096, &mem, NULL, NULL), 0);
    assert_int_equal(bt_file_read_at(AT_FDCWD, p_pids, 4096, &pids, NULL, NULL), 0);
    assert_string_equal(mem, "33554432\n");
    assert_string_equal(pids, "50\n");
    if (!v2) {
        bt_autofree char *rel = bt_xasprintf("%s/x/devices.list", parent);
        bt_autofree char *p = real_path(&hi, "devices", rel);
        bt_autofree char *list = NULL;
        assert_int_equal(bt_file_read_at(AT_FDCWD, p, 1 << 16, &list, NULL, NULL), 0);
        assert_non_null(strstr(list, "c 1:3 rwm"));
        assert_non_null(strstr(list, "b *:* m"));
        assert_null(strstr(list, "a *:* rwm"));

        /* A block device made inside is refused on open (EPERM), /dev/null works. */
        int go;
        pid_t pid = fork_waiting(&go, child_mknod_block);
        assert_int_equal(eng_cgroup_attach(cg, pid, &err), 0);
        assert_int_equal(write(go, "g", 1), 1);
        close(go);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), EPERM);
    }

    /* A memory hog is OOM-killed and counted. */
    uint64_t before = 0, after = 0;
    assert_int_equal(eng_cgroup_oom_kills(cg, &before), 0);
    int go;
    pid_t hog = fork_waiting(&go, child_hog);
    assert_int_equal(eng_cgroup_attach(cg, hog, &err), 0);
    assert_int_equal(write(go, "g", 1), 1);
    close(go);
    int st;
    assert_int_equal(waitpid(hog, &st, 0), hog);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    assert_int_equal(eng_cgroup_oom_kills(cg, &after), 0);
    assert_true(after > before);

    /* A sleeper: counted, frozen, thawed, killed; then nothing remains. */
    pid_t sl = fork_waiting(&go, child_sleep);
    assert_int_equal(eng_cgroup_attach(cg, sl, &err), 0);
    assert_int_equal(write(go, "g", 1), 1);
    close(go);
    assert_false(eng_cgroup_is_empty(cg));
    struct eng_cgroup_stats s;
    assert_int_equal(eng_cgroup_stats(cg, &s, &err), 0);
    assert_true(s.have & ENG_CGROUP_STAT_PIDS);
    assert_int_equal(s.pids, 1);
    assert_int_equal(s.mem_limit, 32 << 20);
    assert_int_equal(eng_cgroup_freeze(cg, true, &err), 0);
    assert_int_equal(eng_cgroup_freeze(cg, false, &err), 0);
    assert_int_equal(eng_cgroup_kill_all(cg, SIGKILL, &err), 0);
    assert_int_equal(waitpid(sl, &st, 0), sl);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_true(eng_cgroup_is_empty(cg));
    if (eng_cgroup_remove(cg, &err) < 0)
        fail_msg("%s", err->msg);
    eng_cgroup_free(cg);
    char **names = NULL;
    assert_int_equal(eng_cgroup_list(h, parent, &names, &err), 0);
    assert_null(names[0]);
    free(names);
    if (eng_cgroup_parent_remove(h, parent, &err) < 0)
        fail_msg("%s", err->msg);
    static const char *const ctrls[] = { "memory",  "pids",    "cpu",   "cpuacct", "cpuset",
                                         "devices", "freezer", "blkio", "unified" };
    for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
        bt_autofree char *p = real_path(&hi, ctrls[i], parent);
        assert_int_equal(access(p, F_OK), -1);
    }
    eng_cgroup_host_free(h);
}

/* The v2 device filter, on this host's real v2 tree: a mountinfo naming only that tree makes
 * a pure v2 host without controllers, where devices are a BPF program. */
static void
test_real_v2_devices(void **state)
{
    struct eng_host_info hi;
    eng_host_probe(&hi);
    if (getuid() != 0 || !hi.cgroup_v2_path[0])
        skip();
    struct tmpdir *t = *state;
    bt_autofree char *line =
        bt_xasprintf("40 30 0:37 / %s rw - cgroup2 cgroup2 rw\n", hi.cgroup_v2_path);
    put(state, "mountinfo", line);
    bt_autofree char *mi = bt_xasprintf("%s/mountinfo", t->path);
    struct eng_cgroup_host *h = NULL;
    struct bt_err *err = NULL;
    assert_int_equal(eng_cgroup_host_open(mi, "", &h, &err), 0);
    char parent[64];
    snprintf(parent, sizeof parent, "berth-test-%d", (int) getpid());
    struct eng_cgroup *cg = NULL;
    if (eng_cgroup_create(h, parent, "dev", NULL, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    int go, st;
    pid_t pid = fork_waiting(&go, child_mknod_block);
    assert_int_equal(eng_cgroup_attach(cg, pid, &err), 0);
    assert_int_equal(write(go, "g", 1), 1);
    close(go);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), EPERM);
    assert_int_equal(eng_cgroup_remove(cg, &err), 0);
    eng_cgroup_free(cg);
    assert_int_equal(eng_cgroup_parent_remove(h, parent, &err), 0);
    eng_cgroup_host_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v2_limits, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v2_swap_and_weights, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v2_missing_controller, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v2_stats, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v1_limits, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v1_privileged_and_errors, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_v1_stats, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_hybrid, setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_no_cgroups, setup, tmpdir_teardown),
        cmocka_unit_test(test_real_host),
        cmocka_unit_test_setup_teardown(test_real_v2_devices, setup, tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
