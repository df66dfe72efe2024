/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Users and groups from a container's own /etc/passwd and /etc/group (see user.h). The files
 * belong to the image, so they are treated as hostile input: opened inside the root, regular
 * files only, bounded in size, and a line that does not parse is skipped, never fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/base/path.h"
#include "engine/container/user.h"

/* Longer lines are skipped: no real account needs them. */
#define LINE_MAX_LEN 16384
/* runc's bound on ids: the kernel's uid_t is 32 bits, but -1 means "unchanged". */
#define ID_MAX UINT32_C(0x7fffffff)

/* Read etc/NAME inside rootfd into *ret (NUL-terminated); a missing file is empty. */
static int
read_root_file(int rootfd, const char *name, char **ret, struct bt_err **err)
{
    bt_autoerr struct bt_err *oerr = NULL;
    /* O_NONBLOCK: a FIFO planted there must not block the daemon. */
    bt_autoclose int fd =
        bt_openat_in_root(rootfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0, &oerr);
    if (fd < 0) {
        if (fd == -ENOENT || fd == -ENOTDIR) {
            *ret = bt_xstrdup("");
            return 0;
        }
        return bt_err_errno(err, fd, "cannot open '/%s' in the container", name);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return bt_err_errno(err, -errno, "cannot stat '/%s' in the container", name);
    if (!S_ISREG(st.st_mode))
        return bt_err_set(err, BT_EINVALID, "'/%s' in the container is not a regular file", name);
    if ((uint64_t) st.st_size > ENG_USER_FILE_MAX)
        return bt_err_set(err, BT_ETOOBIG, "'/%s' in the container is larger than %u bytes", name,
                          ENG_USER_FILE_MAX);
    bt_autofree char *data = bt_xmalloc(ENG_USER_FILE_MAX + 1);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, ENG_USER_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return bt_err_errno(err, -errno, "cannot read '/%s' in the container", name);
        if (n == 0)
            break;
        len += (size_t) n;
        if (len > ENG_USER_FILE_MAX)
            return bt_err_set(err, BT_ETOOBIG, "'/%s' in the container is larger than %u bytes",
                              name, ENG_USER_FILE_MAX);
    }
    data[len] = 0;
    *ret = bt_xrealloc(BT_TAKE_PTR(data), len + 1);
    return 0;
}

/* Split line (modified in place) at ':' into at most max fields; returns how many. */
static size_t
split_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == ':') {
            *p = 0;
            f[n++] = p + 1;
        }
    }
    return n;
}

static bool
parse_id(const char *s, uint32_t *ret)
{
    uint32_t v;
    if (bt_parse_u32(s, &v) < 0 || v > ID_MAX)
        return false;
    *ret = v;
    return true;
}

/* Next line of *cursor into buf (NUL-terminated); false at the end. Lines that are too long,
 * empty or comments come back as "" so callers skip them. */
static bool
next_line(const char **cursor, char *buf)
{
    const char *s = *cursor;
    if (!*s)
        return false;
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t) (nl - s) : strlen(s);
    *cursor = nl ? nl + 1 : s + len;
    if (len >= LINE_MAX_LEN || s[0] == '#') {
        buf[0] = 0;
        return true;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    if (len && buf[len - 1] == '\r')
        buf[len - 1] = 0;
    return true;
}

struct pw_match {
    bool found;
    char name[256];
    uint32_t uid, gid;
    char home[256];
};

/* First passwd entry named name (by_uid false) or with uid (by_uid true). */
static void
passwd_find(const char *data, const char *name, bool by_uid, uint32_t uid, char *line,
            struct pw_match *m)
{
    const char *cur = data;
    while (next_line(&cur, line)) {
        char *f[7];
        size_t n = split_fields(line, f, 7);
        uint32_t u, g;
        if (n < 4 || !*f[0] || !parse_id(f[2], &u) || !parse_id(f[3], &g))
            continue;
        if (by_uid ? u != uid : strcmp(f[0], name) != 0)
            continue;
        m->found = true;
        snprintf(m->name, sizeof m->name, "%s", f[0]);
        m->uid = u;
        m->gid = g;
        if (n >= 6 && *f[5] && strlen(f[5]) < sizeof m->home)
            snprintf(m->home, sizeof m->home, "%s", f[5]);
        return;
    }
}

/* First group named name (when not NULL) or with gid (when by_gid). */
static bool
group_find(const char *data, const char *name, bool by_gid, uint32_t gid, char *line, uint32_t *ret)
{
    const char *cur = data;
    while (next_line(&cur, line)) {
        char *f[4];
        uint32_t g;
        if (split_fields(line, f, 4) < 3 || !*f[0] || !parse_id(f[2], &g))
            continue;
        if ((by_gid && g == gid) || (name && strcmp(f[0], name) == 0)) {
            *ret = g;
            return true;
        }
    }
    return false;
}

static int
add_group(struct eng_ids *ids, uint32_t gid, struct bt_err **err)
{
    for (size_t i = 0; i < ids->ngroups; i++) {
        if (ids->groups[i] == gid)
            return 0;
    }
    if (ids->ngroups >= ENG_IDS_GROUPS_MAX)
        return bt_err_set(err, BT_ETOOBIG, "more than %d groups for the user", ENG_IDS_GROUPS_MAX);
    ids->groups[ids->ngroups++] = gid;
    return 0;
}

/* The groups whose member list names user. */
static int
add_member_groups(struct eng_ids *ids, const char *data, const char *user, char *line,
                  struct bt_err **err)
{
    const char *cur = data;
    while (next_line(&cur, line)) {
        char *f[4];
        uint32_t g;
        if (split_fields(line, f, 4) < 4 || !*f[0] || !parse_id(f[2], &g))
            continue;
        for (char *m = f[3], *next; m; m = next) {
            next = strchr(m, ',');
            if (next)
                *next++ = 0;
            if (strcmp(m, user) == 0) {
                int r = add_group(ids, g, err);
                if (r < 0)
                    return r;
                break;
            }
        }
    }
    return 0;
}

int
eng_user_resolve(int rootfd, const char *user, char *const *group_add, struct eng_ids *ret,
                 struct bt_err **err)
{
    bt_autofree char *passwd = NULL, *group = NULL;
    int r = read_root_file(rootfd, "etc/passwd", &passwd, err);
    if (r < 0)
        return r;
    r = read_root_file(rootfd, "etc/group", &group, err);
    if (r < 0)
        return r;
    bt_autofree char *line = bt_xmalloc(LINE_MAX_LEN);

    bt_autofree char *spec = bt_xstrdup(user ? user : "");
    char *group_arg = strchr(spec, ':');
    if (group_arg)
        *group_arg++ = 0;
    const char *user_arg = spec;

    struct eng_ids ids = { 0 };
    snprintf(ids.home, sizeof ids.home, "/");
    struct pw_match m = { 0 };
    uint32_t uid_arg = 0;
    bool user_numeric = *user_arg && parse_id(user_arg, &uid_arg);
    if (*user_arg && !user_numeric && strspn(user_arg, "0123456789") == strlen(user_arg))
        return bt_err_set(err, BT_EINVALID, "uid %s is out of range", user_arg);
    passwd_find(passwd, user_arg, !*user_arg || user_numeric, uid_arg, line, &m);
    if (m.found) {
        ids.uid = m.uid;
        ids.gid = m.gid;
        if (m.home[0])
            snprintf(ids.home, sizeof ids.home, "%s", m.home);
    } else if (user_numeric) {
        ids.uid = uid_arg;
    } else if (*user_arg) {
        return bt_err_set(err, BT_EINVALID,
                          "unable to find user %s: no matching entries in passwd file", user_arg);
    }

    if (group_arg && *group_arg) {
        uint32_t gid_arg = 0, g;
        bool numeric = parse_id(group_arg, &gid_arg);
        if (group_find(group, numeric ? NULL : group_arg, numeric, gid_arg, line, &g))
            ids.gid = g;
        else if (numeric)
            ids.gid = gid_arg;
        else
            return bt_err_set(err, BT_EINVALID,
                              "unable to find group %s: no matching entries in group file",
                              group_arg);
    }
    r = add_group(&ids, ids.gid, err);
    if (r < 0)
        return r;
    if (!(group_arg && *group_arg) && m.found) {
        r = add_member_groups(&ids, group, m.name, line, err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; group_add && group_add[i]; i++) {
        uint32_t gid_arg = 0, g;
        bool numeric = parse_id(group_add[i], &gid_arg);
        if (!group_find(group, group_add[i], numeric, gid_arg, line, &g)) {
            if (!numeric)
                return bt_err_set(err, BT_EINVALID,
                                  "group_add[%zu]: unable to find group %s: no matching entries "
                                  "in group file",
                                  i, group_add[i]);
            g = gid_arg;
        }
        r = add_group(&ids, g, err);
        if (r < 0)
            return r;
    }
    *ret = ids;
    return 0;
}
