/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp for containers: Docker-format profiles (security_opt seccomp=FILE), berth's default
 * profile (same effect as Docker's), their evaluation against a container's capabilities, the
 * host architecture and kernel, compilation to a classic BPF program with libseccomp, and the
 * loader the container child calls just before execve.
 *
 * A profile is a template: each rule may be conditional (includes/excludes on capabilities,
 * architectures, kernel version). eng_seccomp_compile() evaluates those conditions as Docker
 * does, then hands the rules that apply to libseccomp. Compile in the daemon (it allocates);
 * the resulting program is plain memory that eng_seccomp_load() installs without allocating,
 * so it is safe between clone and execve.
 *
 * Order in the child: without no_new_privs, installing a filter needs CAP_SYS_ADMIN, so load
 * it before dropping capabilities (as runc does); with no_new_privs, load it last, after the
 * capability drop and setuid, right before execve. Either way the filter must allow what runs
 * after it (the default profile does: capset, setuid, prctl, execve).
 *
 * Ownership: a parsed profile is freed with eng_seccomp_profile_free(); the default one is
 * static and never freed. A compiled program is released with eng_bpf_release().
 */
#pragma once

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/err.h"

/* Ceilings on what a profile file may hold. */
#define ENG_SECCOMP_MAX_JSON (1u << 20) /* bytes */
#define ENG_SECCOMP_MAX_RULES 4096u     /* entries of syscalls[] */
#define ENG_SECCOMP_MAX_NAMES 16384u    /* syscall names over all rules */

struct eng_seccomp_profile;

/* What a profile's conditions are evaluated against. */
struct eng_seccomp_env {
    uint64_t caps;    /* bit n = capability n: the container's bounding set */
    const char *arch; /* uname machine ("x86_64", "aarch64") or Docker's name ("amd64") */
    unsigned kernel_major, kernel_minor;
};

/* A classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER). len 0: no filter at all. */
struct eng_bpf {
    struct sock_filter *insns;
    unsigned short len;
    unsigned flags; /* SECCOMP_FILTER_FLAG_* the profile asked for */
};

/* Parse a Docker-format profile (JSON text, at most ENG_SECCOMP_MAX_JSON bytes). Errors name
 * the JSON path: "syscalls[3].action: unknown action 'SCMP_ACT_FOO'". A profile with neither
 * defaultAction nor syscalls filters nothing, as in Docker. *ret is the caller's to free. */
int eng_seccomp_profile_parse(const char *json, size_t len, struct eng_seccomp_profile **ret,
                              struct bt_err **err);
/* berth's default profile: static, never freed. Same effect as Docker's default profile. */
const struct eng_seccomp_profile *eng_seccomp_profile_default(void);
/* Accepts NULL and the default profile (not freed); returns NULL. */
struct eng_seccomp_profile *eng_seccomp_profile_free(struct eng_seccomp_profile *p);

/* The running host: architecture (uname) and kernel version, with the given capability set.
 * Fails when the architecture is one berth has no seccomp mapping for. */
int eng_seccomp_env_host(uint64_t caps, struct eng_seccomp_env *ret, struct bt_err **err);

/* The profile as evaluated for env, as canonical text: the default action, the architectures,
 * then one line per (syscall name, action, argument conditions) that applies, sorted. Two
 * profiles with the same text give the same filter. Returns a new string, caller frees. */
char *eng_seccomp_profile_eval_text(const struct eng_seccomp_profile *p,
                                    const struct eng_seccomp_env *env);

/* Evaluate p for env and compile it to BPF for env's architecture plus the compat
 * architectures the profile's archMap lists for it. Names the architecture lacks are skipped,
 * as Docker does. *ret is the caller's to release. */
int eng_seccomp_compile(const struct eng_seccomp_profile *p, const struct eng_seccomp_env *env,
                        struct eng_bpf *ret, struct bt_err **err);
void eng_bpf_release(struct eng_bpf *b);

/* Install b on the calling thread: seccomp(SECCOMP_SET_MODE_FILTER). Does not allocate and
 * touches no lock: safe in a cloned child before execve. Needs no_new_privs or CAP_SYS_ADMIN.
 * A program of length 0 installs nothing. Returns 0 or -errno. */
int eng_seccomp_load(const struct eng_bpf *b);
