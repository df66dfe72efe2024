/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copy-up: an empty volume is filled with what the image has at its mount point, as Docker
 * does. The copy runs in the container's setup process between clone and execve, so it never
 * allocates: fixed buffers on the stack, errors in a fixed struct, no logging. The source is
 * the container's root, which an image controls: nothing in it is followed (every entry is
 * opened with O_NOFOLLOW relative to its parent's fd), and the walk is bounded in depth and in
 * entries so a hostile tree cannot make it run away. Hard links become separate copies;
 * extended attributes are not copied.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Deeper trees fail with ELOOP; more entries fail with EFBIG. */
#define ENG_VOLCOPY_MAX_DEPTH 64
#define ENG_VOLCOPY_MAX_ENTRIES 200000

/* What failed: a positive errno and the path relative to the source ("" for the top). */
struct eng_copy_err {
    int err;
    char path[256];
};

/* Copy the tree under srcdir (an fd that can be read: O_RDONLY | O_DIRECTORY) into dstdir
 * (likewise, writable): directories, regular files (copy_file_range, else read/write),
 * symlinks as symlinks, fifos, sockets and device nodes (mknod), each with its mode, owner and
 * times; dstdir itself takes srcdir's mode, owner and times. Returns 0, or -errno with *ret
 * filled. Does not allocate. */
int eng_vol_copy_up(int srcdir, int dstdir, struct eng_copy_err *ret);
/* The same with another entry limit (tests). */
int eng_vol_copy_up_limit(int srcdir, int dstdir, size_t max_entries, struct eng_copy_err *ret);

/* Whether the directory dirfd holds nothing but "." and "..". A directory that cannot be read
 * counts as not empty. Does not allocate; dirfd's offset is rewound. */
bool eng_vol_is_empty(int dirfd);
