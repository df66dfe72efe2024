/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for compose/dotenv.c: the input as a .env file, parsed into an environment
 * that already holds a variable. Beyond not crashing, leaking or hanging, it checks what
 * dotenv.h promises: a failed parse changes nothing and says where, a successful one sets
 * non-empty names without NULs that compose_env_get() finds again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "compose/dotenv.h"
#include "engine/base/alloc.h"

#define MAX_INPUT (1 << 16)

static const char *
lookup(const char *name, void *ud)
{
    static const char *const vars[][2] = {
        { "HOME", "/root" }, { "A", "os-a" }, { "E", "" }, { "D", "$A" }, { "X", "x y # z" },
    };
    (void) ud;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strcmp(vars[i][0], name) == 0)
            return vars[i][1];
    return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    struct bt_arena *a = bt_arena_new();
    struct compose_env env;
    compose_env_init(&env, a);
    compose_env_set(&env, "PRESET", "p");
    struct compose_interp_warn w;
    compose_interp_warn_init(&w);
    struct bt_err *err = NULL;

    int r =
        compose_dotenv_parse("fuzz.env", (const char *) data, size, lookup, NULL, &w, &env, &err);
    if (r < 0) {
        CHECK(err && err->msg && err->msg[0] && r == -err->code);
        CHECK(err->file && strcmp(err->file, "fuzz.env") == 0 && err->line >= 1 && err->col >= 1);
        CHECK(env.n == 1 && strcmp(compose_env_get(&env, "PRESET"), "p") == 0);
    } else {
        CHECK(!err);
        CHECK(env.n >= 1);
        for (size_t i = 0; i < env.n; i++) {
            const struct compose_env_var *v = &env.vars[i];
            CHECK(v->name[0] != '\0' && !strchr(v->name, ' ') && !strchr(v->name, '='));
            CHECK(compose_env_get(&env, v->name) == v->value);
            CHECK(strlen(v->value) <= COMPOSE_DOTENV_MAX_VALUE);
        }
        /* The result works as a lookup for interpolation. */
        char *out = NULL;
        struct bt_err *e2 = NULL;
        int r2 = compose_interp_string(a, "${PRESET}-${A:-none}", compose_env_lookup, &env, NULL,
                                       NULL, NULL, &out, &e2);
        /* The file may redefine PRESET: the expansion starts with whatever PRESET holds. */
        const char *preset = compose_env_get(&env, "PRESET");
        CHECK(r2 == 0 && out && preset && strncmp(out, preset, strlen(preset)) == 0);
        bt_err_free(e2);
    }
    bt_err_free(err);
    compose_interp_warn_release(&w);
    bt_arena_free(a);
    return 0;
}
