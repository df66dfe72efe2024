/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What berth-engine.so exports: one table of the heavy functions (see plugin.h). Built into
 * the plugin only; linked with -Bsymbolic so the plugin's own calls stay inside it.
 */
#include "engine/image/image.h"
#include "engine/image/plugin.h"

const struct eng_plugin_api eng_plugin_api = {
    .abi = ENG_PLUGIN_ABI,
    .version = BERTH_VERSION,
    .reg_new = eng_reg_new,
    .reg_free = eng_reg_free,
    .reg_repo_new = eng_reg_repo_new,
    .reg_repo_ref = eng_reg_repo_ref,
    .reg_repo_unref = eng_reg_repo_unref,
    .reg_manifest_get = eng_reg_manifest_get,
    .reg_blob_get = eng_reg_blob_get,
    .reg_blob_exists = eng_reg_blob_exists,
    .reg_blob_put = eng_reg_blob_put,
    .reg_manifest_put = eng_reg_manifest_put,
    .reg_check = eng_reg_check,
    .reg_req_cancel = eng_reg_req_cancel,
    .writer_new = eng_cas_writer_new,
    .writer_write = eng_cas_writer_write,
    .writer_offset = eng_cas_writer_offset,
    .writer_restart = eng_cas_writer_restart,
    .writer_commit = eng_cas_writer_commit,
    .writer_abort = eng_cas_writer_abort,
    .layer_unpack = eng_cas_layer_unpack,
    .img_commit = eng_img_commit,
    .img_import = eng_img_import,
    .img_load = eng_img_load,
    .img_save = eng_img_save,
};
