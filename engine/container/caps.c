/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capability names, masks and the syscalls that install a mask (see caps.h). The name table
 * follows <linux/capability.h>; the capset call is made raw because libcap allocates.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/container/caps.h"

static const char *const cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

#define CAP_KNOWN_LAST ((int) BT_ARRAY_SIZE(cap_names) - 1)

int
eng_cap_from_name(const char *name)
{
    if (strncasecmp(name, "CAP_", 4) == 0)
        name += 4;
    for (size_t i = 0; i < BT_ARRAY_SIZE(cap_names); i++) {
        if (strcasecmp(name, cap_names[i]) == 0)
            return (int) i;
    }
    return -1;
}

const char *
eng_cap_name(int cap)
{
    if (cap < 0 || cap > CAP_KNOWN_LAST)
        return NULL;
    return cap_names[cap];
}

static int read_last_cap(void);

int
eng_caps_last(void)
{
    /* A fact of the running kernel: read once (every container start asks). */
    static int cached = -1;
    if (cached >= 0)
        return cached;
    cached = read_last_cap();
    return cached;
}

static int
read_last_cap(void)
{
    bt_autoclose int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CAP_KNOWN_LAST;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return CAP_KNOWN_LAST;
    buf[n] = 0;
    if (buf[n - 1] == '\n')
        buf[n - 1] = 0;
    int last;
    if (bt_parse_int(buf, &last) < 0 || last < 0 || last > 63)
        return CAP_KNOWN_LAST;
    return last;
}

uint64_t
eng_caps_all(void)
{
    /* Every capability the kernel has that berth itself may still hold: a container cannot
     * get what its daemon's bounding set lacks (a nested or restricted host). Read once: the
     * daemon never drops from its own bounding set (only its children do, after they ask). */
    static bool known;
    static uint64_t all;
    if (known)
        return all;
    int last = eng_caps_last();
    for (int cap = 0; cap <= last && cap < 64; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0)
            all |= UINT64_C(1) << cap;
    known = true;
    return all;
}

static bool
is_all(const char *s)
{
    return strcasecmp(s, "ALL") == 0 || strcasecmp(s, "CAP_ALL") == 0;
}

/* Check one list and fold it into a mask; sets *ret_all when it names ALL. */
static int
caps_list(const char *key, char *const *list, uint64_t all, uint64_t *ret_mask, bool *ret_all,
          struct bt_err **err)
{
    uint64_t mask = 0;
    bool has_all = false;
    for (size_t i = 0; list && list[i]; i++) {
        const char *s = list[i];
        if (is_all(s)) {
            has_all = true;
            continue;
        }
        int c = eng_cap_from_name(s);
        if (c < 0) {
            int r = bt_err_set(err, BT_EINVALID, "%s[%zu]: unknown capability '%s'", key, i, s);
            const char *word = strncasecmp(s, "CAP_", 4) == 0 ? s + 4 : s;
            char up[72];
            size_t j = 0;
            for (; j < sizeof up - 1 && word[j]; j++)
                up[j] = (char) toupper((unsigned char) word[j]);
            up[j] = 0;
            const char *close = bt_str_closest(up, cap_names, BT_ARRAY_SIZE(cap_names));
            if (close)
                bt_err_hint(err, "did you mean '%s'?", close);
            return r;
        }
        if (!(all & (UINT64_C(1) << c)))
            return bt_err_set(err, BT_EUNSUPPORTED,
                              "%s[%zu]: capability '%s' is not supported by this kernel", key, i,
                              s);
        mask |= UINT64_C(1) << c;
    }
    *ret_mask = mask;
    *ret_all = has_all;
    return 0;
}

int
eng_caps_compute(bool privileged, char *const *add, char *const *drop, uint64_t *ret,
                 struct bt_err **err)
{
    uint64_t all = eng_caps_all();
    uint64_t addm, dropm;
    bool add_all, drop_all;
    int r = caps_list("cap_add", add, all, &addm, &add_all, err);
    if (r < 0)
        return r;
    r = caps_list("cap_drop", drop, all, &dropm, &drop_all, err);
    if (r < 0)
        return r;
    if (privileged)
        *ret = all;
    else if (add_all)
        *ret = all & ~dropm;
    else if (drop_all)
        *ret = addm;
    else
        *ret = ((ENG_CAPS_DEFAULT & all) & ~dropm) | addm;
    return 0;
}

int
eng_caps_apply(uint64_t caps)
{
    for (int c = 0; c < 64; c++) {
        int in = prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0);
        if (in < 0) {
            if (errno == EINVAL)
                break; /* past the kernel's last capability */
            return -errno;
        }
        if (in == 1 && !(caps & (UINT64_C(1) << c)) &&
            prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
            return -errno;
    }
    /* Kernels before 4.3 have no ambient set: nothing to clear there. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].permitted = data[0].effective = (uint32_t) caps;
    data[1].permitted = data[1].effective = (uint32_t) (caps >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -errno;
    return 0;
}
