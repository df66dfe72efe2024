/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a spec and its image's config to the process a container runs (struct eng_ctr_proc,
 * spec.h): argv, environment, working directory, user text, stop signal and capabilities,
 * merged exactly as Docker merges them. Also the checks a spec needs before it reaches the
 * kernel: signal names and namespaced sysctls. Pure functions: no I/O beyond reading the
 * kernel's last capability number; nothing blocks.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "engine/base/err.h"
#include "engine/container/spec.h"

/* The PATH a container gets when neither the image nor the spec sets one. */
#define ENG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Fill *ret from s and image_config (the OCI config's "config" object: Entrypoint, Cmd, Env,
 * WorkingDir, User, StopSignal; NULL: none). argv as moby's merge: the spec's entrypoint (when
 * given, even empty) replaces the image's, and a non-empty spec entrypoint drops the image's
 * Cmd; the spec's command, when non-empty, replaces the image's Cmd. env: PATH, HOSTNAME
 * (s->hostname, else s->name), TERM=xterm with a tty, then the image's Env, then the spec's,
 * each entry replacing the same key in place or appended. *ret is written only on success;
 * the caller releases it with eng_ctr_proc_release(). */
int eng_ctr_proc_make(const struct eng_ctr_spec *s, const json_t *image_config,
                      struct eng_ctr_proc *ret, struct bt_err **err);

/* Whether a sysctl may be set in a container with these namespaces private, as runc's
 * validation: the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) need a private
 * ipc namespace, net.* a private network namespace, kernel.domainname a private uts
 * namespace; kernel.hostname is refused (the hostname key sets it); anything else is refused
 * because it would change the host. */
int eng_sysctl_check(const char *key, bool net_private, bool ipc_private, bool uts_private,
                     struct bt_err **err);
