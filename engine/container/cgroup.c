/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroups of containers: the host layout read from mountinfo, a container's cgroup in every
 * hierarchy (create, open, attach, remove, list), freeze, kill of every process and the
 * version-independent parts of limits and readings. What each version writes and reads is in
 * cgroup-v1.c and cgroup-v2.c.
 */
#define LOG_TAG "cgroup"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/macro.h"
#include "engine/base/parse.h"
#include "engine/base/path.h"
#include "engine/container/cgroup-int.h"

#define MOUNTINFO_MAX (4 << 20)
#define CG_FILE_MAX (64 << 10)
#define CG_PROCS_MAX (4 << 20)

static const char *const ctrl_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",       [CG_CPUACCT] = "cpuacct", [CG_CPUSET] = "cpuset",
    [CG_MEMORY] = "memory", [CG_DEVICES] = "devices", [CG_FREEZER] = "freezer",
    [CG_BLKIO] = "blkio",   [CG_PIDS] = "pids",
};

/* The same controllers in v2's cgroup.controllers; NULL: not a v2 controller. */
static const char *const v2_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",  [CG_CPUSET] = "cpuset", [CG_MEMORY] = "memory",
    [CG_BLKIO] = "io", [CG_PIDS] = "pids",
};

const char *
cg_ctrl_name(enum cg_ctrl c)
{
    BT_ASSERT((size_t) c < CG_NCTRL);
    return ctrl_names[c];
}

/* ---- small file helpers ---- */

int
cg_write(const char *dir, const char *file, const char *val, struct bt_err **err)
{
    bt_autofree char *path = bt_path_join(dir, file);
    bt_autoclose int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", path);
    size_t len = strlen(val);
    /* One write: cgroupfs takes each write as one command. */
    ssize_t n = write(fd, val, len);
    if (n < 0)
        return bt_err_errno(err, -errno, "cannot write '%s' to '%s'", val, path);
    if ((size_t) n != len)
        return bt_err_set(err, EIO, "short write of '%s' to '%s'", val, path);
    return 0;
}

int
cg_write_i64(const char *dir, const char *file, int64_t v, struct bt_err **err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cg_write(dir, file, buf, err);
}

int
cg_read(const char *dir, const char *file, char **ret)
{
    bt_autofree char *path = bt_path_join(dir, file);
    return bt_file_read_at(AT_FDCWD, path, CG_FILE_MAX, ret, NULL, NULL);
}

bool
cg_has_file(const char *dir, const char *file)
{
    bt_autofree char *path = bt_path_join(dir, file);
    return access(path, F_OK) == 0;
}

static int
parse_u64_or_max(const char *s, uint64_t *ret)
{
    if (bt_streq(s, "max")) {
        *ret = UINT64_MAX;
        return 0;
    }
    return bt_parse_u64(s, ret);
}

int
cg_read_u64(const char *dir, const char *file, uint64_t *ret)
{
    bt_autofree char *data = NULL;
    int r = cg_read(dir, file, &data);
    if (r < 0)
        return r;
    data[strcspn(data, "\n")] = '\0';
    return parse_u64_or_max(data, ret);
}

int
cg_keyed_u64(const char *text, const char *key, uint64_t *ret)
{
    size_t klen = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, klen) != 0 || l[klen] != ' ')
            continue;
        char num[32];
        size_t n = strcspn(l + klen + 1, "\n");
        if (n >= sizeof num)
            return -ERANGE;
        memcpy(num, l + klen + 1, n);
        num[n] = '\0';
        return parse_u64_or_max(num, ret);
    }
    return -ENOENT;
}

/* ---- the host layout ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. In place. */
static void
unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static unsigned
v1_ctrls_of(const char *superopts)
{
    unsigned mask = 0;
    const char *p = superopts;
    while (*p) {
        size_t n = strcspn(p, ",");
        for (size_t c = 0; c < CG_NCTRL; c++) {
            if (strlen(ctrl_names[c]) == n && strncmp(p, ctrl_names[c], n) == 0)
                mask |= CG_BIT(c);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return mask;
}

static unsigned
v2_ctrls_of(const char *list)
{
    unsigned mask = 0;
    const char *p = list;
    while (*p) {
        p += strspn(p, " \n");
        size_t n = strcspn(p, " \n");
        for (size_t c = 0; c < CG_NCTRL && n; c++) {
            if (v2_names[c] && strlen(v2_names[c]) == n && strncmp(p, v2_names[c], n) == 0)
                mask |= CG_BIT(c);
        }
        p += n;
    }
    return mask;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype source
 * superopts". Only cgroup and cgroup2 mounts matter; the first mount of a hierarchy wins. */
static void
host_add_mount(struct eng_cgroup_host *h, char *line, const char *prefix)
{
    char *fields[6] = { 0 };
    char *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(line, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
        fields[n++] = t;
    if (n < 5)
        return;
    char *t;
    while ((t = strtok_r(NULL, " ", &save)) && !bt_streq(t, "-")) {
    }
    char *fstype = strtok_r(NULL, " ", &save);
    (void) strtok_r(NULL, " ", &save); /* source */
    char *superopts = strtok_r(NULL, " ", &save);
    if (!fstype || !superopts)
        return;
    char *mnt = fields[4];
    unescape_octal(mnt);
    if (bt_streq(fstype, "cgroup2")) {
        if (!h->v2)
            h->v2 = bt_xasprintf("%s%s", prefix, mnt);
        return;
    }
    if (!bt_streq(fstype, "cgroup"))
        return;
    unsigned mask = v1_ctrls_of(superopts);
    for (size_t i = 0; i < h->nv1; i++) {
        if (h->v1[i].ctrls & mask)
            return; /* a second mount of a hierarchy we have */
    }
    if (!mask || h->nv1 == CG_MAX_V1)
        return; /* named hierarchies (name=systemd) and unknown controllers are not joined */
    h->v1[h->nv1].mnt = bt_xasprintf("%s%s", prefix, mnt);
    h->v1[h->nv1].ctrls = mask;
    for (size_t c = 0; c < CG_NCTRL; c++) {
        if (mask & CG_BIT(c))
            h->v1_of[c] = (int) h->nv1;
    }
    h->nv1++;
}

int
eng_cgroup_host_open(const char *mountinfo_path, const char *root_prefix,
                     struct eng_cgroup_host **ret, struct bt_err **err)
{
    bt_autofree char *data = NULL;
    int r = bt_file_read_at(AT_FDCWD, mountinfo_path, MOUNTINFO_MAX, &data, NULL, err);
    if (r < 0)
        return r;
    struct eng_cgroup_host *h = bt_xcalloc(1, sizeof *h);
    for (size_t c = 0; c < CG_NCTRL; c++)
        h->v1_of[c] = -1;
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        host_add_mount(h, l, root_prefix ? root_prefix : "");
    if (!h->v2 && h->nv1 == 0) {
        eng_cgroup_host_free(h);
        return bt_err_set(err, BT_EUNSUPPORTED, "no cgroup filesystem is mounted (read '%s')",
                          mountinfo_path);
    }
    if (h->v2) {
        bt_autofree char *list = NULL;
        if (cg_read(h->v2, "cgroup.controllers", &list) == 0)
            h->v2_ctrls = v2_ctrls_of(list);
        /* A controller bound to a v1 hierarchy cannot be in v2 (hybrid hosts). */
        for (size_t c = 0; c < CG_NCTRL; c++) {
            if (h->v1_of[c] >= 0)
                h->v2_ctrls &= ~CG_BIT(c);
        }
    }
    bt_log_debug("cgroup layout: v2 %s, %zu v1 hierarchies", h->v2 ? h->v2 : "none", h->nv1);
    *ret = h;
    return 0;
}

struct eng_cgroup_host *
eng_cgroup_host_free(struct eng_cgroup_host *h)
{
    if (!h)
        return NULL;
    free(h->v2);
    for (size_t i = 0; i < h->nv1; i++)
        free(h->v1[i].mnt);
    free(h);
    return NULL;
}

static bool
host_has(const struct eng_cgroup_host *h, enum cg_ctrl c)
{
    if (h->v1_of[c] >= 0)
        return true;
    if (!h->v2)
        return false;
    switch (c) {
    case CG_CPUACCT: /* cpu.stat is in every v2 cgroup */
    case CG_FREEZER: /* cgroup.freeze (5.2) is core */
        return true;
    case CG_DEVICES: /* a BPF program on the cgroup */
        return true;
    default:
        return (h->v2_ctrls & CG_BIT(c)) != 0;
    }
}

bool
eng_cgroup_host_has(const struct eng_cgroup_host *h, const char *controller)
{
    for (size_t c = 0; c < CG_NCTRL; c++) {
        if (bt_streq(controller, ctrl_names[c]))
            return host_has(h, c);
    }
    if (bt_streq(controller, "io"))
        return host_has(h, CG_BLKIO);
    return false;
}

/* ---- checks before anything is made ---- */

static bool
name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 200 || bt_streq(s, ".") || bt_streq(s, "..") ||
        bt_startswith(s, "cgroup."))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
           strlen(s);
}

static int
need(const struct eng_cgroup_host *h, enum cg_ctrl c, const char *what, struct bt_err **err)
{
    if (host_has(h, c))
        return 0;
    return bt_err_set(err, BT_EUNSUPPORTED,
                      "%s needs the %s cgroup controller, which this host "
                      "lacks",
                      what, ctrl_names[c]);
}

static int
check_limits(const struct eng_cgroup_host *h, const struct eng_cgroup_limits *l,
             struct bt_err **err)
{
    if (l->mem_limit < 0 || l->mem_reservation < 0 || l->memswap_limit < -1 || l->cpus < 0 ||
        l->pids_limit < -1)
        return bt_err_set(err, BT_EINVALID, "negative resource limit");
    if (l->blkio_weight && (l->blkio_weight < 10 || l->blkio_weight > 1000))
        return bt_err_set(err, BT_EINVALID, "blkio weight %u out of range (10-1000)",
                          l->blkio_weight);
    if (l->memswap_limit > 0 && l->mem_limit == 0)
        return bt_err_set(err, BT_EINVALID, "memswap_limit needs mem_limit");
    if (l->memswap_limit > 0 && l->memswap_limit < l->mem_limit)
        return bt_err_set(err, BT_EINVALID,
                          "memswap_limit (%lld) is below mem_limit (%lld): "
                          "it counts memory and swap together",
                          (long long) l->memswap_limit, (long long) l->mem_limit);
    int r = 0;
    if (l->mem_limit && (r = need(h, CG_MEMORY, "memory limit", err)) < 0)
        return r;
    if (l->mem_reservation && (r = need(h, CG_MEMORY, "memory reservation", err)) < 0)
        return r;
    if (l->memswap_limit && (r = need(h, CG_MEMORY, "memswap limit", err)) < 0)
        return r;
    if (l->oom_kill_disable && (r = need(h, CG_MEMORY, "oom_kill_disable", err)) < 0)
        return r;
    if (l->oom_kill_disable && h->v1_of[CG_MEMORY] < 0) {
        r = bt_err_set(err, BT_EUNSUPPORTED,
                       "oom_kill_disable needs cgroup v1's memory "
                       "controller: cgroup v2 has no such setting");
        bt_err_hint(err, "remove oom_kill_disable, or set a memory limit high enough");
        return r;
    }
    if (l->cpus > 0 && (r = need(h, CG_CPU, "cpus", err)) < 0)
        return r;
    if (l->cpu_shares && (r = need(h, CG_CPU, "cpu_shares", err)) < 0)
        return r;
    if (l->cpuset && (r = need(h, CG_CPUSET, "cpuset", err)) < 0)
        return r;
    if (l->pids_limit && (r = need(h, CG_PIDS, "pids_limit", err)) < 0)
        return r;
    if (l->blkio_weight && (r = need(h, CG_BLKIO, "blkio weight", err)) < 0)
        return r;
    for (const char *const *d = l->device_rules; d && *d; d++) {
        if (!cg_device_rule_ok(*d))
            return bt_err_set(err, BT_EINVALID,
                              "invalid device cgroup rule '%s' (want "
                              "'c|b|a MAJOR:MINOR rwm', '*' for any number)",
                              *d);
    }
    return 0;
}

/* ---- lifecycle ---- */

static struct eng_cgroup *
cg_new(struct eng_cgroup_host *h, const char *parent, const char *name)
{
    struct eng_cgroup *cg = bt_xcalloc(1, sizeof *cg);
    cg->h = h;
    cg->name = bt_xstrdup(name);
    cg->v2_fd = -1;
    if (h->v2)
        cg->v2_path = bt_xasprintf("%s/%s/%s", h->v2, parent, name);
    for (size_t i = 0; i < h->nv1; i++)
        cg->v1_path[i] = bt_xasprintf("%s/%s/%s", h->v1[i].mnt, parent, name);
    return cg;
}

struct eng_cgroup *
eng_cgroup_free(struct eng_cgroup *cg)
{
    if (!cg)
        return NULL;
    BT_CLOSE(cg->v2_fd);
    free(cg->name);
    free(cg->v2_path);
    for (size_t i = 0; i < CG_MAX_V1; i++)
        free(cg->v1_path[i]);
    free(cg);
    return NULL;
}

static int
mkdir_ok_exists(const char *path, bool *ret_made, struct bt_err **err)
{
    if (mkdir(path, 0755) == 0) {
        if (ret_made)
            *ret_made = true;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    return bt_err_errno(err, -errno, "cannot create cgroup '%s'", path);
}

/* The processes of one directory's cgroup.procs: true when it lists none. */
static bool
procs_empty(const char *dir)
{
    bt_autofree char *path = bt_path_join(dir, "cgroup.procs");
    bt_autofree char *data = NULL;
    if (bt_file_read_at(AT_FDCWD, path, CG_PROCS_MAX, &data, NULL, NULL) < 0)
        return true;
    return data[strspn(data, " \n")] == '\0';
}

/* A leftover with processes in it belongs to something alive: never take it over. */
static int
make_leaf(const char *path, bool *ret_made, struct bt_err **err)
{
    int r = mkdir_ok_exists(path, ret_made, err);
    if (r < 0)
        return r;
    if (!*ret_made && !procs_empty(path))
        return bt_err_set(err, BT_ECONFLICT, "cgroup '%s' exists and holds processes", path);
    return 0;
}

/* v2 controllers the container's tree needs enabled in the subtree_control of dir. */
static int
v2_enable(const char *dir, unsigned want, struct bt_err **err)
{
    bt_autofree char *have = NULL;
    unsigned on = cg_read(dir, "cgroup.subtree_control", &have) == 0 ? v2_ctrls_of(have) : 0;
    char buf[128] = "";
    size_t len = 0;
    for (size_t c = 0; c < CG_NCTRL; c++) {
        if (!v2_names[c] || !(want & CG_BIT(c)) || (on & CG_BIT(c)))
            continue;
        int n = snprintf(buf + len, sizeof buf - len, "%s+%s", len ? " " : "", v2_names[c]);
        BT_ASSERT(n > 0 && (size_t) n < sizeof buf - len);
        len += (size_t) n;
    }
    if (!len)
        return 0;
    return cg_write(dir, "cgroup.subtree_control", buf, err);
}

static int
create_v2(struct eng_cgroup *cg, const char *parent, struct bt_err **err)
{
    struct eng_cgroup_host *h = cg->h;
    bt_autofree char *pdir = bt_path_join(h->v2, parent);
    int r;
    if ((r = v2_enable(h->v2, h->v2_ctrls, err)) < 0 ||
        (r = mkdir_ok_exists(pdir, NULL, err)) < 0 || (r = v2_enable(pdir, h->v2_ctrls, err)) < 0)
        return r;
    if ((r = make_leaf(cg->v2_path, &cg->created[CG_MAX_V1], err)) < 0)
        return r;
    cg->v2_fd = open(cg->v2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->v2_fd < 0)
        return bt_err_errno(err, -errno, "cannot open cgroup '%s'", cg->v2_path);
    return 0;
}

static int
create_v1(struct eng_cgroup *cg, const char *parent, struct bt_err **err)
{
    struct eng_cgroup_host *h = cg->h;
    for (size_t i = 0; i < h->nv1; i++) {
        bt_autofree char *pdir = bt_path_join(h->v1[i].mnt, parent);
        bool made = false;
        int r = mkdir_ok_exists(pdir, &made, err);
        if (r < 0)
            return r;
        bool cpuset = h->v1[i].ctrls & CG_BIT(CG_CPUSET);
        if (cpuset && (r = cg_v1_cpuset_init(h->v1[i].mnt, pdir, err)) < 0)
            return r;
        if ((r = make_leaf(cg->v1_path[i], &cg->created[i], err)) < 0)
            return r;
        if (cpuset && (r = cg_v1_cpuset_init(pdir, cg->v1_path[i], err)) < 0)
            return r;
    }
    return 0;
}

/* Undo a failed create: only what this create made. */
static void
create_undo(struct eng_cgroup *cg)
{
    if (cg->created[CG_MAX_V1])
        (void) rmdir(cg->v2_path);
    for (size_t i = 0; i < cg->h->nv1; i++) {
        if (cg->created[i])
            (void) rmdir(cg->v1_path[i]);
    }
}

int
eng_cgroup_create(struct eng_cgroup_host *h, const char *parent, const char *name,
                  const struct eng_cgroup_limits *l, struct eng_cgroup **ret, struct bt_err **err)
{
    static const struct eng_cgroup_limits none = { 0 };
    if (!l)
        l = &none;
    if (!name_ok(parent) || !name_ok(name))
        return bt_err_set(err, BT_EINVALID, "invalid cgroup name '%s/%s'", parent ? parent : "",
                          name ? name : "");
    int r = check_limits(h, l, err);
    if (r < 0)
        return bt_err_wrap(err, "cgroup '%s'", name);
    struct eng_cgroup *cg = cg_new(h, parent, name);
    if ((h->v2 && (r = create_v2(cg, parent, err)) < 0) || (r = create_v1(cg, parent, err)) < 0 ||
        (h->v2 && (r = cg_v2_apply(cg, l, err)) < 0) || (r = cg_v1_apply(cg, l, err)) < 0) {
        create_undo(cg);
        eng_cgroup_free(cg);
        return bt_err_wrap(err, "cgroup '%s'", name);
    }
    *ret = cg;
    return 0;
}

int
eng_cgroup_open(struct eng_cgroup_host *h, const char *parent, const char *name,
                struct eng_cgroup **ret, struct bt_err **err)
{
    if (!name_ok(parent) || !name_ok(name))
        return bt_err_set(err, BT_EINVALID, "invalid cgroup name '%s/%s'", parent ? parent : "",
                          name ? name : "");
    struct eng_cgroup *cg = cg_new(h, parent, name);
    struct stat st;
    for (size_t i = 0; i < h->nv1; i++) {
        if (stat(cg->v1_path[i], &st) < 0) {
            int r = bt_err_errno(err, -errno, "cannot open cgroup '%s'", cg->v1_path[i]);
            eng_cgroup_free(cg);
            return r;
        }
    }
    if (cg->v2_path) {
        cg->v2_fd = open(cg->v2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_fd < 0) {
            int r = bt_err_errno(err, -errno, "cannot open cgroup '%s'", cg->v2_path);
            eng_cgroup_free(cg);
            return r;
        }
    }
    *ret = cg;
    return 0;
}

int
eng_cgroup_attach(struct eng_cgroup *cg, pid_t pid, struct bt_err **err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int) pid);
    int r;
    for (size_t i = 0; i < cg->h->nv1; i++) {
        if ((r = cg_write(cg->v1_path[i], "cgroup.procs", buf, err)) < 0)
            return r;
    }
    if (cg->v2_path && (r = cg_write(cg->v2_path, "cgroup.procs", buf, err)) < 0)
        return r;
    return 0;
}

int
eng_cgroup_v2_dirfd(const struct eng_cgroup *cg)
{
    return cg->v2_fd;
}

/* ---- freeze, kill ---- */

static void
nap_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    (void) nanosleep(&ts, NULL);
}

/* Freezing is asynchronous in both versions: wait (bounded) until the kernel says it is done. */
static int
freeze_v2(struct eng_cgroup *cg, bool frozen, struct bt_err **err)
{
    int r = cg_write(cg->v2_path, "cgroup.freeze", frozen ? "1" : "0", err);
    if (r < 0)
        return r;
    for (int i = 0; i < 1000; i++) {
        bt_autofree char *ev = NULL;
        uint64_t v;
        if (cg_read(cg->v2_path, "cgroup.events", &ev) < 0 || cg_keyed_u64(ev, "frozen", &v) < 0)
            return 0; /* no report of the state: the write is all we can do */
        if ((v != 0) == frozen)
            return 0;
        nap_ms(1);
    }
    return bt_err_set(err, ETIMEDOUT, "cgroup '%s' did not %s within a second", cg->v2_path,
                      frozen ? "freeze" : "thaw");
}

static int
freeze_v1(struct eng_cgroup *cg, const char *dir, bool frozen, struct bt_err **err)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    for (int i = 0; i < 1000; i++) {
        int r = cg_write(dir, "freezer.state", want, err);
        if (r < 0)
            return r;
        bt_autofree char *state = NULL;
        if (cg_read(dir, "freezer.state", &state) < 0)
            return 0;
        state[strcspn(state, "\n")] = '\0';
        if (bt_streq(state, want))
            return 0;
        nap_ms(1);
    }
    return bt_err_set(err, ETIMEDOUT, "cgroup '%s' did not %s within a second", cg->name,
                      frozen ? "freeze" : "thaw");
}

int
eng_cgroup_freeze(struct eng_cgroup *cg, bool frozen, struct bt_err **err)
{
    if (cg->v2_path && cg_has_file(cg->v2_path, "cgroup.freeze"))
        return freeze_v2(cg, frozen, err);
    const char *dir = cg_v1_dir(cg, CG_FREEZER);
    if (dir)
        return freeze_v1(cg, dir, frozen, err);
    return bt_err_set(err, BT_EUNSUPPORTED,
                      "pause needs the freezer cgroup controller, which "
                      "this host lacks");
}

/* The directory whose cgroup.procs lists the container's processes. */
static const char *
procs_dir(const struct eng_cgroup *cg)
{
    if (cg->v2_path)
        return cg->v2_path;
    return cg->h->nv1 ? cg->v1_path[0] : NULL;
}

static int
signal_each(struct eng_cgroup *cg, int sig, struct bt_err **err)
{
    const char *dir = procs_dir(cg);
    if (!dir)
        return 0;
    bt_autofree char *path = bt_path_join(dir, "cgroup.procs");
    bt_autofree char *data = NULL;
    int r = bt_file_read_at(AT_FDCWD, path, CG_PROCS_MAX, &data, NULL, err);
    if (r < 0)
        return r;
    char *save = NULL;
    for (char *t = strtok_r(data, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        int pid;
        if (bt_parse_int(t, &pid) < 0 || pid <= 0)
            continue;
        if (kill(pid, sig) < 0 && errno != ESRCH)
            return bt_err_errno(err, -errno, "cannot signal process %d of cgroup '%s'", pid,
                                cg->name);
    }
    return 0;
}

int
eng_cgroup_kill_all(struct eng_cgroup *cg, int sig, struct bt_err **err)
{
    if (sig == SIGKILL && cg->v2_path && cg_has_file(cg->v2_path, "cgroup.kill"))
        return cg_write(cg->v2_path, "cgroup.kill", "1", err);
    if (sig != SIGKILL)
        return signal_each(cg, sig, err);
    /* Frozen, nothing forks between the read of the list and the kills; a frozen task still
     * dies of SIGKILL once thawed, and the thaw comes right after. */
    bt_autoerr struct bt_err *ferr = NULL;
    bool frozen = eng_cgroup_freeze(cg, true, &ferr) == 0;
    int r = signal_each(cg, sig, err);
    if (frozen)
        (void) eng_cgroup_freeze(cg, false, NULL);
    return r;
}

bool
eng_cgroup_is_empty(struct eng_cgroup *cg)
{
    if (cg->v2_path && !procs_empty(cg->v2_path))
        return false;
    for (size_t i = 0; i < cg->h->nv1; i++) {
        if (!procs_empty(cg->v1_path[i]))
            return false;
    }
    return true;
}

/* ---- readings ---- */

int
eng_cgroup_oom_kills(struct eng_cgroup *cg, uint64_t *ret)
{
    const char *dir = cg_v1_dir(cg, CG_MEMORY);
    const char *file = "memory.oom_control";
    if (!dir && cg->v2_path && (cg->h->v2_ctrls & CG_BIT(CG_MEMORY))) {
        dir = cg->v2_path;
        file = "memory.events";
    }
    if (!dir)
        return -ENOENT;
    bt_autofree char *data = NULL;
    int r = cg_read(dir, file, &data);
    if (r < 0)
        return r;
    return cg_keyed_u64(data, "oom_kill", ret);
}

int
eng_cgroup_stats(struct eng_cgroup *cg, struct eng_cgroup_stats *ret, struct bt_err **err)
{
    struct eng_cgroup_stats s = { .mem_limit = UINT64_MAX };
    int r;
    if (cg->v2_path && (r = cg_v2_stats(cg, &s)) < 0)
        return bt_err_errno(err, r, "cannot read the usage of cgroup '%s'", cg->name);
    if ((r = cg_v1_stats(cg, &s)) < 0)
        return bt_err_errno(err, r, "cannot read the usage of cgroup '%s'", cg->name);
    *ret = s;
    return 0;
}

/* ---- removal and leftovers ---- */

static int
rmdir_cg(const char *path, struct bt_err **err)
{
    if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    if (errno == EBUSY)
        return bt_err_set(err, EBUSY,
                          "cannot remove cgroup '%s': it still holds processes or "
                          "child cgroups",
                          path);
    return bt_err_errno(err, -errno, "cannot remove cgroup '%s'", path);
}

int
eng_cgroup_remove(struct eng_cgroup *cg, struct bt_err **err)
{
    int r;
    for (size_t i = 0; i < cg->h->nv1; i++) {
        if ((r = rmdir_cg(cg->v1_path[i], err)) < 0)
            return r;
    }
    if (cg->v2_path) {
        BT_CLOSE(cg->v2_fd);
        if ((r = rmdir_cg(cg->v2_path, err)) < 0)
            return r;
    }
    return 0;
}

int
eng_cgroup_parent_remove(struct eng_cgroup_host *h, const char *parent, struct bt_err **err)
{
    if (!name_ok(parent))
        return bt_err_set(err, BT_EINVALID, "invalid cgroup name '%s'", parent ? parent : "");
    int r;
    for (size_t i = 0; i < h->nv1; i++) {
        bt_autofree char *p = bt_path_join(h->v1[i].mnt, parent);
        if ((r = rmdir_cg(p, err)) < 0)
            return r;
    }
    if (h->v2) {
        bt_autofree char *p = bt_path_join(h->v2, parent);
        if ((r = rmdir_cg(p, err)) < 0)
            return r;
    }
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
list_dir(const char *dir, char ***names, size_t *n, size_t *cap, struct bt_err **err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : bt_err_errno(err, -errno, "cannot list cgroup '%s'", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || !name_ok(de->d_name))
            continue;
        *names = bt_xgrow(*names, cap, *n + 2, sizeof **names);
        (*names)[(*n)++] = bt_xstrdup(de->d_name);
    }
    closedir(d);
    return 0;
}

int
eng_cgroup_list(struct eng_cgroup_host *h, const char *parent, char ***ret_names,
                struct bt_err **err)
{
    if (!name_ok(parent))
        return bt_err_set(err, BT_EINVALID, "invalid cgroup name '%s'", parent ? parent : "");
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (size_t i = 0; i <= h->nv1 && r == 0; i++) {
        const char *mnt = i < h->nv1 ? h->v1[i].mnt : h->v2;
        if (!mnt)
            continue;
        bt_autofree char *p = bt_path_join(mnt, parent);
        r = list_dir(p, &names, &n, &cap, err);
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return r;
    }
    names = bt_xgrow(names, &cap, n + 1, sizeof *names);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && bt_streq(names[w - 1], names[i]))
            free(names[i]);
        else
            names[w++] = names[i];
    }
    names[w] = NULL;
    *ret_names = names;
    return 0;
}
