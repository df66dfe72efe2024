/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths. Anything inside a container rootfs, an image layer or a volume is opened through
 * these resolvers, never by string concatenation: the kernel (openat2) refuses any resolution
 * that would leave the tree, whatever "..", absolute symlinks or link chains say.
 */
#pragma once

#include <sys/types.h>

#include "engine/base/err.h"

/* a + "/" + b with duplicate slashes collapsed at the seam; b alone when a is "".
 * Returns a new string, caller frees. */
char *bt_path_join(const char *a, const char *b);
/* Open path below rootfd; fails with EXDEV if resolution would escape it. Magic links refused. */
int bt_openat_beneath(int rootfd, const char *path, int flags, mode_t mode, struct bt_err **err);
/* Open path as if rootfd were "/": ".." and absolute symlinks stay inside (like a chroot). */
int bt_openat_in_root(int rootfd, const char *path, int flags, mode_t mode, struct bt_err **err);
