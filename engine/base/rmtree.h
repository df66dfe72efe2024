/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Removing trees without following symlinks (see rmtree.c).
 */
#pragma once

#include "engine/base/err.h"

/* Remove name in dirfd, whatever it is; a directory with all it holds. Absent is fine. */
int bt_rm_at(int dirfd, const char *name, struct bt_err **err);
/* The same for one path component only ("." empties dirfd itself); a name with a '/' or ".."
 * is refused. */
int bt_rm_tree_at(int dirfd, const char *name, struct bt_err **err);
