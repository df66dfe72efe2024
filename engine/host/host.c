/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host probe: kernel release, cgroup layout (v1, v2 or hybrid), overlayfs, seccomp and the
 * namespace types. Reported by `berth system info` and consulted by the runtime before it
 * relies on a feature.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "engine/base/fileio.h"
#include "engine/base/macro.h"
#include "engine/engine.h"

static const char *const ns_names[] = {
    [ENG_NS_CGROUP] = "cgroup", [ENG_NS_IPC] = "ipc", [ENG_NS_MNT] = "mnt",
    [ENG_NS_NET] = "net",       [ENG_NS_PID] = "pid", [ENG_NS_TIME] = "time",
    [ENG_NS_USER] = "user",     [ENG_NS_UTS] = "uts",
};

const char *
eng_ns_str(enum eng_ns ns)
{
    BT_ASSERT((size_t) ns < BT_ARRAY_SIZE(ns_names));
    return ns_names[ns];
}

const char *
eng_cgroup_mode_str(enum eng_cgroup_mode m)
{
    switch (m) {
    case ENG_CGROUP_V1:
        return "v1";
    case ENG_CGROUP_HYBRID:
        return "hybrid";
    case ENG_CGROUP_V2:
        return "v2";
    case ENG_CGROUP_NONE:
        break;
    }
    return "none";
}

static bool
fs_is(const char *path, long magic)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (long) sf.f_type == magic;
}

static void
append_word(char *dst, size_t size, const char *word)
{
    size_t n = strlen(dst);
    snprintf(dst + n, size - n, "%s%s", n ? " " : "", word);
}

/* v1 hierarchies in use: /proc/cgroups lines "name hierarchy num enabled" with hierarchy > 0. */
static void
v1_controllers(char *dst, size_t size)
{
    bt_autofree char *data = NULL;
    if (bt_file_read_at(AT_FDCWD, "/proc/cgroups", 64 << 10, &data, NULL, NULL) < 0)
        return;
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[64];
        int hier, num, enabled;
        if (l[0] == '#' || sscanf(l, "%63s %d %d %d", name, &hier, &num, &enabled) != 4)
            continue;
        if (hier > 0 && enabled)
            append_word(dst, size, name);
    }
}

static void
probe_cgroups(struct eng_host_info *h)
{
    if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
        h->cgroup_mode = ENG_CGROUP_V2;
        snprintf(h->cgroup_v2_path, sizeof h->cgroup_v2_path, "/sys/fs/cgroup");
        bt_autofree char *data = NULL;
        if (bt_file_read_at(AT_FDCWD, "/sys/fs/cgroup/cgroup.controllers", 4096, &data, NULL,
                            NULL) == 0) {
            data[strcspn(data, "\n")] = '\0';
            snprintf(h->cgroup_controllers, sizeof h->cgroup_controllers, "%s", data);
        }
        return;
    }
    v1_controllers(h->cgroup_controllers, sizeof h->cgroup_controllers);
    if (fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
        h->cgroup_mode = ENG_CGROUP_HYBRID;
        snprintf(h->cgroup_v2_path, sizeof h->cgroup_v2_path, "/sys/fs/cgroup/unified");
    } else if (h->cgroup_controllers[0]) {
        h->cgroup_mode = ENG_CGROUP_V1;
    }
}

static bool
has_overlayfs(void)
{
    bt_autofree char *data = NULL;
    if (bt_file_read_at(AT_FDCWD, "/proc/filesystems", 64 << 10, &data, NULL, NULL) < 0)
        return false;
    return strstr(data, "\toverlay\n") != NULL;
}

static bool
has_seccomp_filter(void)
{
    /* Asking whether an action exists needs filter support and changes nothing. */
    unsigned action = SECCOMP_RET_KILL_PROCESS;
    return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

void
eng_host_probe(struct eng_host_info *ret)
{
    memset(ret, 0, sizeof *ret);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(ret->kernel, sizeof ret->kernel, "%s", u.release);
        snprintf(ret->arch, sizeof ret->arch, "%s", u.machine);
    }
    probe_cgroups(ret);
    ret->overlayfs = has_overlayfs();
    ret->seccomp = has_seccomp_filter();
    for (size_t i = 0; i < ENG_NS_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/ns/%s", ns_names[i]);
        ret->ns[i] = access(path, F_OK) == 0;
    }
}
