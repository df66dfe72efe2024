/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State files. bt_file_write_atomic_at() is the one way berth writes a state file: a temp file
 * beside the target, written whole, fsync, rename over the target, fsync of the directory. A
 * crash at any point leaves the old file or the new one, never a torn one; stray temp files are
 * named ".NAME.tmp-*" and removed by bt_dir_clean_tmp().
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "engine/base/err.h"

/* name: one path component not starting with '.', at most 233 bytes (the temp name adds 22). */
int bt_file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                            struct bt_err **err);
/* The same without the two fsyncs: a crash of berth still leaves the old file or the new one,
 * a crash of the host may leave either, or an empty file. For runtime state a reboot makes
 * stale anyway (a container's status, its /etc/hosts): each fsync costs a container start
 * about half a millisecond here. */
int bt_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct bt_err **err);
/* Read a whole file of at most max bytes; *ret_data is NUL-terminated, caller frees. */
int bt_file_read_at(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len,
                    struct bt_err **err);
/* Create a directory and its parents (mode for the ones created); existing ones are fine. */
int bt_mkdir_p(const char *path, mode_t mode, struct bt_err **err);
/* Remove temp files left by interrupted atomic writes in dirfd. Returns how many. */
int bt_dir_clean_tmp(int dirfd);
/* Write all of len bytes, retrying on EINTR and short writes. Returns 0 or -errno. */
int bt_write_all(int fd, const void *data, size_t len);
