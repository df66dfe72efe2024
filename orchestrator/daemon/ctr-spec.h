/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One service of the resolved project (the canonical JSON `berth config --format json` prints
 * under services.NAME) turned into the engine's struct eng_ctr_spec. Every key that matters to
 * a container is read and checked here, with errors that name the key ("cap_add[1]: unknown
 * capability 'NET_ADMN'"); keys that belong to other layers (networks, ports, depends_on,
 * healthcheck, build, deploy...) are ignored; container keys berth does not implement yet are
 * refused with a clear message rather than dropped. Reads one file (a seccomp profile); never
 * blocks otherwise.
 */
#pragma once

#include <jansson.h>

#include "engine/base/err.h"
#include "engine/container/spec.h"

/* The container name of service in this project (a new string, caller frees), or NULL when
 * the project has no such service. */
typedef char *(*orch_ctr_name_fn)(const char *service, void *userdata);

struct orch_ctr_spec_ctx {
    orch_ctr_name_fn container_name; /* for "service:X" forms */
    void *userdata;
    const char *project_dir; /* relative seccomp profiles are read from here */
};

/* Fill *ret from service; name (may be NULL) becomes ret->name. ctx may be NULL (then "service:X"
 * forms and relative seccomp paths are errors). *ret is written only on success; the caller
 * releases it with eng_ctr_spec_release(). */
int orch_ctr_spec_from_json(const json_t *service, const char *name,
                            const struct orch_ctr_spec_ctx *ctx, struct eng_ctr_spec *ret,
                            struct bt_err **err);
