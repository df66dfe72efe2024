/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every libFuzzer harness shares: the entry point's prototype (the harnesses are built
 * with -Wmissing-prototypes) and CHECK, an assertion that stays on in every build and reports
 * through bt_assert_fail so the fuzzer records the input.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "engine/base/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr))                                                                               \
            bt_assert_fail(#expr, __FILE__, __LINE__, __func__);                                   \
    } while (0)
