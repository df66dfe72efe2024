/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's heavy half (the registry client, hashing writers, layer unpacking, archives)
 * links libcurl, OpenSSL, libarchive, zlib and libzstd: loading those and what they pull in
 * (about 40 shared objects with Debian's libcurl) costs a process tens of milliseconds and
 * megabytes before main(). So that half is built as berth-engine.so beside the berth binary
 * and loaded on first use, by the processes that need it: the daemon when it first talks to a
 * registry, and the workers. The CLI and an idle daemon never load it.
 *
 * The berth binary calls the heavy functions through wrappers with the same names and
 * signatures (plugin.c), which load the plugin on the first call that can report an error and
 * then call through struct eng_plugin_api. Tests, tools and fuzz harnesses link the heavy code
 * directly and never see the plugin.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/base/err.h"
#include "engine/image/cas.h"
#include "engine/image/registry.h"

/* Bumped whenever struct eng_plugin_api changes: a plugin from another build is refused. */
#define ENG_PLUGIN_ABI 1

struct eng_plugin_api {
    unsigned abi;
    const char *version;
    int (*reg_new)(struct event_base *, const struct eng_reg_opts *, struct eng_reg **,
                   struct bt_err **);
    struct eng_reg *(*reg_free)(struct eng_reg *);
    struct eng_reg_repo *(*reg_repo_new)(struct eng_reg *, const char *, const char *,
                                         const struct eng_reg_auth *, bool);
    struct eng_reg_repo *(*reg_repo_ref)(struct eng_reg_repo *);
    void (*reg_repo_unref)(struct eng_reg_repo *);
    struct eng_reg_req *(*reg_manifest_get)(struct eng_reg_repo *, const char *,
                                            eng_reg_manifest_fn, void *);
    struct eng_reg_req *(*reg_blob_get)(struct eng_reg_repo *, const char *, uint64_t,
                                        eng_reg_sink_fn, eng_reg_done_fn, void *);
    struct eng_reg_req *(*reg_blob_exists)(struct eng_reg_repo *, const char *, eng_reg_done_fn,
                                           void *);
    struct eng_reg_req *(*reg_blob_put)(struct eng_reg_repo *, const char *, int, uint64_t,
                                        const char *, uint64_t, eng_reg_done_fn, void *);
    struct eng_reg_req *(*reg_manifest_put)(struct eng_reg_repo *, const char *, const char *,
                                            size_t, const char *, eng_reg_done_fn, void *);
    struct eng_reg_req *(*reg_check)(struct eng_reg *, const char *, const struct eng_reg_auth *,
                                     eng_reg_done_fn, void *);
    void (*reg_req_cancel)(struct eng_reg_req *);
    int (*writer_new)(struct eng_cas *, const char *, bool, struct eng_cas_writer **,
                      struct bt_err **);
    int (*writer_write)(struct eng_cas_writer *, const void *, size_t, struct bt_err **);
    uint64_t (*writer_offset)(const struct eng_cas_writer *);
    int (*writer_restart)(struct eng_cas_writer *, struct bt_err **);
    int (*writer_commit)(struct eng_cas_writer *, char *, struct bt_err **);
    void (*writer_abort)(struct eng_cas_writer *, bool);
    int (*layer_unpack)(struct eng_cas *, const char *, const char *, const char *, const char *,
                        char *, struct bt_err **);
    int (*img_commit)(struct eng_cas *, const char *, const char *, json_t **, struct bt_err **);
    int (*img_import)(struct eng_cas *, int, const char *const *, size_t, const char *, json_t **,
                      struct bt_err **);
    int (*img_load)(struct eng_cas *, int, json_t **, struct bt_err **);
    int (*img_save)(struct eng_cas *, const json_t *, int, struct bt_err **);
};

/* Load the plugin if not yet loaded. Errors name the file and what dlopen said. */
int eng_plugin_load(struct bt_err **err);
/* A file berth installs with its binary (berth-engine.so, berth-init): beside the binary in a
 * build tree, else in <prefix>/lib/berth/. Fills out with its path. */
int eng_plugin_file_path(const char *name, char *out, size_t n, struct bt_err **err);
