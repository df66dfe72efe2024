/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Dockerfile instructions `berth image import --change` accepts, applied to an image
 * config's "config" object the way Docker's Dockerfile parser and builder apply them. Pure
 * JSON work, no I/O; the caller loads and stores the image config.
 */
#pragma once

#include <jansson.h>

#include "engine/base/err.h"

/* Apply one instruction to config, the "config" object of an image config (Docker's container
 * config: Cmd, Entrypoint, Env, WorkingDir, User, ExposedPorts, Labels, StopSignal, Volumes).
 *
 * Accepted, keyword case-insensitive: CMD, ENTRYPOINT (exec form: a JSON array of strings;
 * anything else is the shell form ["/bin/sh", "-c", text]), ENV and LABEL (`K=V K2="v 2"` or
 * the legacy `K the rest of the line`), WORKDIR (relative paths join the current one, then
 * '.', '..' and duplicate slashes are cleaned), USER name[:group], EXPOSE (ports, ranges,
 * /tcp /udp /sctp), STOPSIGNAL (name with or without SIG, or number), VOLUME (paths or a JSON
 * array of them).
 *
 * As in Dockerfiles, the arguments of ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL and VOLUME
 * (shell form) lose their quotes and backslash escapes, and $VAR, ${VAR}, ${VAR:-word},
 * ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg}, ${VAR?msg} expand from config's Env as it
 * was before the instruction (an unset variable expands to nothing). CMD and ENTRYPOINT are
 * kept as written.
 *
 * One instruction per call: a line break is refused. On error config is left unchanged and
 * *err (BT_EINVALID; BT_ETOOBIG for a value over 1 MiB) names the instruction and what is
 * wrong; an unknown instruction is refused naming the ones allowed. config is modified in place
 * (members are created as needed; a member of the wrong type is replaced). */
int eng_img_change_apply(json_t *config, const char *instruction, struct bt_err **err);
