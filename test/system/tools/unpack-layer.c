/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool for eng_layer_unpack(): unpacks a layer archive (a file, or standard input for
 * "-") into an existing empty directory and prints one JSON line with the diff_id, the size of
 * the uncompressed tar and the number of entries; on failure the error text on standard error
 * and exit status 1. Owners are kept and devices made when running as root.
 *
 *   unpack-layer [--walk] [--no-devices] [--no-owners] ARCHIVE|- DESTDIR
 *
 * --walk resolves paths with the O_NOFOLLOW walk used where openat2 is missing.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/err.h"
#include "engine/image/unpack.h"

static int
usage(void)
{
    fprintf(stderr,
            "usage: unpack-layer [--walk] [--no-devices] [--no-owners] ARCHIVE|- DESTDIR\n");
    return 2;
}

int
main(int argc, char **argv)
{
    struct eng_unpack_opts opts = {
        .keep_owners = geteuid() == 0,
        .allow_devices = geteuid() == 0,
    };
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--walk") == 0)
            opts.walk_only = true;
        else if (strcmp(argv[i], "--no-devices") == 0)
            opts.allow_devices = false;
        else if (strcmp(argv[i], "--no-owners") == 0)
            opts.keep_owners = false;
        else
            return usage();
    }
    if (argc - i != 2)
        return usage();
    const char *archive = argv[i], *dest = argv[i + 1];
    bt_autoclose int in = strcmp(archive, "-") == 0 ? -1 : open(archive, O_RDONLY | O_CLOEXEC);
    if (strcmp(archive, "-") != 0 && in < 0) {
        fprintf(stderr, "unpack-layer: cannot open '%s': %s\n", archive, strerror(errno));
        return 1;
    }
    bt_autoclose int dirfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        fprintf(stderr, "unpack-layer: cannot open '%s': %s\n", dest, strerror(errno));
        return 1;
    }
    bt_autoerr struct bt_err *err = NULL;
    struct eng_unpack_result res;
    if (eng_layer_unpack(in >= 0 ? in : STDIN_FILENO, dirfd, &opts, &res, &err) < 0) {
        char *text = bt_err_text(err);
        fprintf(stderr, "unpack-layer: %s\n", text);
        free(text);
        return 1;
    }
    printf("{\"diff_id\": \"%s\", \"tar_size\": %" PRIu64 ", \"entries\": %" PRIu64 "}\n",
           res.diff_id, res.tar_size, res.entries);
    return 0;
}
