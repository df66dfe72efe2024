/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inside of a seccomp profile, shared by the parser (seccomp.c), the compiler
 * (seccomp-compile.c) and berth's default profile (seccomp-default.c), which is written
 * directly in this form. Not for use outside engine/container/.
 */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/container/seccomp.h"

#define SCMP_MAX_ARGS 6

/* Docker's names for architectures in includes/excludes "arches": one bit each. */
enum {
    SCMP_A_X86 = 1u << 0,
    SCMP_A_AMD64 = 1u << 1,
    SCMP_A_X32 = 1u << 2,
    SCMP_A_ARM = 1u << 3,
    SCMP_A_ARM64 = 1u << 4,
    SCMP_A_PPC = 1u << 5,
    SCMP_A_PPC64 = 1u << 6,
    SCMP_A_PPC64LE = 1u << 7,
    SCMP_A_S390 = 1u << 8,
    SCMP_A_S390X = 1u << 9,
    SCMP_A_RISCV64 = 1u << 10,
    SCMP_A_LOONG64 = 1u << 11,
    SCMP_A_MIPS64 = 1u << 12,
    SCMP_A_MIPSEL64 = 1u << 13,
};

/* One side of a rule's condition (includes or excludes). An empty side says nothing. */
struct scmp_cond {
    uint64_t caps;       /* capabilities listed, by number */
    bool caps_unknown;   /* a listed name is no capability: never in any set */
    uint32_t arches;     /* SCMP_A_* listed */
    bool has_arches;     /* arches listed (maybe only unknown ones) */
    bool has_min_kernel; /* minKernel given */
    unsigned min_major, min_minor;
};

struct scmp_arg {
    unsigned index; /* 0..5 */
    uint64_t value, value_two;
    enum scmp_compare op;
};

struct scmp_rule {
    const char *const *names; /* NULL-terminated */
    uint32_t action;          /* libseccomp action, errno or trace value included */
    const struct scmp_arg *args;
    unsigned nargs;
    struct scmp_cond inc, exc;
};

struct scmp_archmap {
    const char *arch;        /* "SCMP_ARCH_X86_64" */
    const char *const *subs; /* NULL-terminated, may be NULL */
};

struct eng_seccomp_profile {
    bool is_static;  /* the default profile: never freed */
    bool unconfined; /* no defaultAction and no syscalls: no filter (as Docker) */
    uint32_t default_action;
    unsigned flags;            /* SECCOMP_FILTER_FLAG_* */
    const char *const *arches; /* old "architectures" form, NULL-terminated, may be NULL */
    const struct scmp_archmap *archmap;
    unsigned narchmap;
    const struct scmp_rule *rules;
    unsigned nrules;
    void *doc; /* parsed profiles: the json_t the strings are borrowed from */
};

/* Does rule apply in env (Docker's includes/excludes evaluation)? */
bool scmp_rule_applies(const struct scmp_rule *r, const struct eng_seccomp_env *env);
/* The SCMP_A_* bit of env's architecture (0: unknown) and its libseccomp architecture name
 * ("SCMP_ARCH_X86_64"; NULL: unknown). */
uint32_t scmp_env_arch_bit(const struct eng_seccomp_env *env);
const char *scmp_env_arch_name(const struct eng_seccomp_env *env);
