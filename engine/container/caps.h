/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux capabilities as Docker hands them out: names and numbers, the kernel's set, Docker's
 * default 14, cap_add/cap_drop/privileged folded into one mask, and applying a mask to the
 * calling process. A mask is a uint64_t with bit N for capability N.
 *
 * eng_caps_apply() runs in the container's child between clone and execve: it never
 * allocates and takes no locks. Everything else may allocate and never blocks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/base/err.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
 * SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP: moby's oci/caps DefaultCapabilities(). */
#define ENG_CAPS_DEFAULT UINT64_C(0x00000000a80425fb)

/* The number of the capability named name ("NET_ADMIN", "cap_net_admin"), or -1. Names known
 * to berth, whether or not the running kernel has them. */
int eng_cap_from_name(const char *name);
/* "NET_ADMIN" (without the CAP_ prefix), or NULL for a number berth has no name for. */
const char *eng_cap_name(int cap);
/* The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap; berth's own
 * highest when that file cannot be read). */
int eng_caps_last(void);
/* Every capability the kernel has that this process may still hold (its bounding set). */
uint64_t eng_caps_all(void);

/* The mask a container gets, with moby's TweakCapabilities rules: privileged → every
 * capability (add and drop ignored); "ALL" in add → all but drop; "ALL" in drop → only add;
 * else the default set minus drop plus add (add wins over drop). Names are case-insensitive,
 * CAP_ optional. add and drop are NULL-terminated (NULL: none). Errors name the list and
 * index: "cap_add[1]: unknown capability 'NET_ADMN'" with a hint when a name is close. */
int eng_caps_compute(bool privileged, char *const *add, char *const *drop, uint64_t *ret,
                     struct bt_err **err);

/* Make caps the calling process's capabilities: every capability not in caps leaves the
 * bounding set (PR_CAPBSET_DROP, skipped for bits already gone), the ambient set is cleared
 * (Docker gives none), and permitted = effective = caps, inheritable = none (capset). As
 * runc does for a non-root user: set PR_SET_KEEPCAPS, call this, change uid/gid, call this
 * again (setuid cleared the effective set; the bounding set is already right). After execve a
 * non-root user then has no effective capabilities, root has caps. Does not allocate.
 * Returns 0 or -errno. */
int eng_caps_apply(uint64_t caps);
