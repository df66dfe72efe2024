/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's user from its own /etc/passwd and /etc/group, as runc's libcontainer/user and
 * moby resolve it: "name", "uid", "name:group", "uid:gid", plus group_add. The files are read
 * through a directory fd of the container's root, which may be hostile: they are opened inside
 * that root (symlinks cannot leave it), must be regular files of bounded size, and lines that
 * do not parse are skipped. Reads files; does not change any ids (the container child does).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "engine/base/err.h"

#define ENG_IDS_GROUPS_MAX 64
/* /etc/passwd and /etc/group larger than this are refused. */
#define ENG_USER_FILE_MAX (4u << 20)

struct eng_ids {
    uid_t uid;
    gid_t gid;
    gid_t groups[ENG_IDS_GROUPS_MAX]; /* for setgroups(): gid first, then the rest, no repeats */
    size_t ngroups;
    char home[256]; /* from passwd; "/" when the user has no entry */
};

/* Resolve user (NULL or "": root) and group_add (names or numbers, NULL-terminated; NULL:
 * none) inside rootfd. A numeric uid or gid need not exist in the files (gid then 0, as
 * runc). Without an explicit group, the user's supplementary groups come from /etc/group
 * membership. A missing /etc/passwd or /etc/group reads as empty. */
int eng_user_resolve(int rootfd, const char *user, char *const *group_add, struct eng_ids *ret,
                     struct bt_err **err);
