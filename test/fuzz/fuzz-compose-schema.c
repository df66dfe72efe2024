/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the schema validator: whatever YAML compose_yaml_parse() accepts, every
 * document is checked against the built-in Compose schema and gives a verdict, never a crash, a
 * leak or a hang; a rejection always carries a message and the position of a node of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "compose/node.h"
#include "compose/schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Loaded once, before the first input, so its memory is not charged to an input. */
static struct compose_schema *schema;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    struct bt_err *err = NULL;
    if (compose_schema_load_compose(&schema, &err) < 0)
        abort(); /* the built-in schema must load */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node **docs = NULL;
    size_t n = 0;
    struct bt_err *err = NULL;
    if (compose_yaml_parse(a, "fuzz.yaml", (const char *) data, size, &docs, &n, &err) < 0) {
        err = bt_err_free(err);
        bt_arena_free(a);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int r = compose_schema_validate(schema, docs[i], &err);
        if (r == 0 && err)
            abort();
        if (r < 0) {
            if (r != -BT_EINVALID || !err || !err->msg || !err->msg[0])
                abort();
            if (!err->file || strcmp(err->file, "fuzz.yaml") != 0 || err->line < 1 || err->col < 1)
                abort();
            err = bt_err_free(err);
        }
    }
    bt_arena_free(a);
    return 0;
}
