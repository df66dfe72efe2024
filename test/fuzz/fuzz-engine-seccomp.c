/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for engine/container/seccomp: the input as a Docker-format profile.
 * Beyond not crashing or leaking, it checks what seccomp.h promises: every failure carries a
 * message and its code, an accepted profile evaluates to canonical text for several
 * environments, and small ones compile (or fail with a message) for the running machine.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test/fuzz/fuzz.h"
#include "engine/base/alloc.h"
#include "engine/container/seccomp.h"

/* libseccomp 2.5.4 (Debian 12's) loses a few of its own tree nodes when rules for one syscall
 * overlap with different argument sets (found by this harness): memory berth never sees and
 * cannot free, so LeakSanitizer is told to leave libseccomp's allocations out. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:libseccomp.so\n";
}

/* Compiling costs milliseconds: only small profiles, to keep the fuzzer fast. */
#define MAX_COMPILE 4096

static void
check_failed(int r, struct bt_err *err)
{
    CHECK(r < 0 && err && err->msg && err->code == -r);
    bt_err_free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eng_seccomp_profile *p = NULL;
    struct bt_err *err = NULL;
    int r = eng_seccomp_profile_parse((const char *) data, size, &p, &err);
    if (r < 0) {
        check_failed(r, err);
        CHECK(p == NULL);
        return 0;
    }
    static const struct eng_seccomp_env envs[] = {
        { .caps = 0, .arch = "x86_64", .kernel_major = 4, .kernel_minor = 8 },
        { .caps = UINT64_MAX, .arch = "aarch64", .kernel_major = 6, .kernel_minor = 1 },
        { .caps = 1u << 21, .arch = "s390x", .kernel_major = 5, .kernel_minor = 4 },
        { .caps = 0, .arch = "vax", .kernel_major = 0, .kernel_minor = 0 },
    };
    for (size_t i = 0; i < BT_ARRAY_SIZE(envs); i++) {
        char *text = eng_seccomp_profile_eval_text(p, &envs[i]);
        CHECK(text && *text);
        free(text);
    }
    struct eng_seccomp_env host;
    if (size <= MAX_COMPILE && eng_seccomp_env_host(UINT64_C(0xa80425fb), &host, NULL) == 0) {
        struct eng_bpf b = { 0 };
        err = NULL;
        r = eng_seccomp_compile(p, &host, &b, &err);
        if (r < 0)
            check_failed(r, err);
        else
            CHECK(b.len <= 4096 && (b.len == 0) == (b.insns == NULL));
        eng_bpf_release(&b);
    }
    eng_seccomp_profile_free(p);
    return 0;
}
