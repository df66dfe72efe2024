/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the control protocol decoder: whatever a client sends as a line, the
 * decoder returns a message or an error, and an accepted message re-encodes and decodes again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "orchestrator/proto/proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct orch_msg m = { 0 };
    struct bt_err *err = NULL;
    if (orch_msg_decode((const char *) data, size, &m, &err) < 0) {
        if (!err || !err->msg)
            abort();
        bt_err_free(err);
        return 0;
    }
    size_t len;
    char *line = orch_msg_encode(m.root, &len);
    if (line) {
        struct orch_msg again = { 0 };
        if (orch_msg_decode(line, len - 1, &again, NULL) < 0 || again.type != m.type ||
            again.id != m.id)
            abort();
        orch_msg_release(&again);
        free(line);
    }
    if (m.type == ORCH_MSG_ERROR) {
        struct bt_err *e = NULL;
        orch_msg_error_to(&m, &e);
        bt_err_free(e);
    }
    orch_msg_release(&m);
    return 0;
}
