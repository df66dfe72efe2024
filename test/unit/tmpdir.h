/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fresh directory per test for the unit tests that need files: tmpdir_setup makes
 * /tmp/<name>.XXXXXX (the state is a struct tmpdir), tmpdir_teardown removes it whole.
 */
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/base/alloc.h"

struct tmpdir {
    char path[96];
    int dfd;
};

static inline int
tmpdir_setup_named(void **state, const char *name)
{
    struct tmpdir *t = bt_xcalloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(t->path) || (t->dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static inline int
tmpdir_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    /* Read-only directories (a layer's) must become writable before their entries go. */
    if (type == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

static inline int
tmpdir_teardown(void **state)
{
    struct tmpdir *t = *state;
    close(t->dfd);
    int r = nftw(t->path, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return r;
}
