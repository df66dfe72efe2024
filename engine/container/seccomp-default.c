/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth's default seccomp profile, written as rule groups with their conditions. It has the
 * same effect as Docker's default profile (moby/profiles seccomp/default.json, v0.2.3): what
 * an unprivileged process needs is allowed everywhere; what a capability grants is allowed
 * only when the container holds it; everything else fails with EPERM. test-engine-seccomp.c
 * proves the equivalence against the reference file for many capability sets, architectures
 * and kernels. When Docker's profile changes, change the groups here and run that test.
 */
#include <errno.h>
#include <linux/capability.h>

#include "engine/base/macro.h"
#include "engine/container/seccomp-int.h"

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CAP(c) (UINT64_C(1) << (c))
#define ARG1(i, o, v)                                                                              \
    .args = (const struct scmp_arg[]){ { .index = (i), .op = (o), .value = (v) } }, .nargs = 1

/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
 * CLONE_NEWNET: clone may not create namespaces without CAP_SYS_ADMIN. */
#define CLONE_NS_FLAGS 0x7e020000

static const struct scmp_rule default_rules[] = {
    /* What any unprivileged process may do: files, memory, signals, time, sockets, IPC. */
    { .names = NAMES(
          "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
          "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
          "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
          "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
          "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
          "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
          "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
          "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
          "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
          "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
          "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
          "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
          "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
          "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
          "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
          "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
          "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
          "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
          "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
          "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
          "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc",
          "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
          "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount", "listxattr",
          "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
          "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
          "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
          "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
          "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
          "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
          "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
          "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
          "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
          "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
          "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
          "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
          "removexattr", "removexattrat", "rename", "renameat", "renameat2", "restart_syscall",
          "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
          "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
          "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
          "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
          "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
          "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
          "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
          "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
          "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
          "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
          "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
          "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
          "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl",
          "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
          "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
          "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
          "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
          "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
          "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
          "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
          "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
          "wait4", "waitid", "waitpid", "write", "writev"),
      .action = SCMP_ACT_ALLOW },
    /* Since 4.8 seccomp filters cannot be bypassed with ptrace: harmless there. */
    { .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .has_min_kernel = true, .min_major = 4, .min_minor = 8 } },
    /* Every socket family but AF_ALG (38) and AF_VSOCK (40). */
    { .names = NAMES("socket"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_LT, 38) },
    { .names = NAMES("socket"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 39) },
    { .names = NAMES("socket"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_GT, 40) },
    /* personality: PER_LINUX, PER_LINUX32, UNAME26 variants and the query (0xffffffff). */
    { .names = NAMES("personality"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 0) },
    { .names = NAMES("personality"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 8) },
    { .names = NAMES("personality"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 0x20000) },
    { .names = NAMES("personality"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 0x20008) },
    { .names = NAMES("personality"), .action = SCMP_ACT_ALLOW, ARG1(0, SCMP_CMP_EQ, 0xffffffff) },
    /* Architecture-specific calls, only where they exist. */
    { .names = NAMES("sync_file_range2", "swapcontext"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_PPC64LE, .has_arches = true } },
    { .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                     "cacheflush", "set_tls"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_ARM | SCMP_A_ARM64, .has_arches = true } },
    { .names = NAMES("arch_prctl"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_AMD64 | SCMP_A_X32, .has_arches = true } },
    { .names = NAMES("modify_ldt"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_AMD64 | SCMP_A_X32 | SCMP_A_X86, .has_arches = true } },
    { .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_S390 | SCMP_A_S390X, .has_arches = true } },
    { .names = NAMES("riscv_flush_icache"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .arches = SCMP_A_RISCV64, .has_arches = true } },
    /* What a capability grants, only with that capability. */
    { .names = NAMES("open_by_handle_at"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_DAC_READ_SEARCH) } },
    { .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                     "fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules",
                     "lsm_set_self_attr", "mount", "mount_setattr", "move_mount", "open_tree",
                     "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
                     "setns", "syslog", "umount", "umount2", "unshare"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_ADMIN) } },
    /* Without CAP_SYS_ADMIN: clone without namespace flags; clone3 (flags in memory, out of
     * BPF's reach) says ENOSYS so that libcs fall back to clone. */
    { .names = NAMES("clone"),
      .action = SCMP_ACT_ALLOW,
      ARG1(0, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS),
      .exc = { .caps = CAP(CAP_SYS_ADMIN),
               .arches = SCMP_A_S390 | SCMP_A_S390X,
               .has_arches = true } },
    { .names = NAMES("clone"),
      .action = SCMP_ACT_ALLOW,
      ARG1(1, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS),
      .inc = { .arches = SCMP_A_S390 | SCMP_A_S390X, .has_arches = true },
      .exc = { .caps = CAP(CAP_SYS_ADMIN) } },
    { .names = NAMES("clone3"),
      .action = SCMP_ACT_ERRNO(ENOSYS),
      .exc = { .caps = CAP(CAP_SYS_ADMIN) } },
    { .names = NAMES("reboot"), .action = SCMP_ACT_ALLOW, .inc = { .caps = CAP(CAP_SYS_BOOT) } },
    { .names = NAMES("chroot"), .action = SCMP_ACT_ALLOW, .inc = { .caps = CAP(CAP_SYS_CHROOT) } },
    { .names = NAMES("delete_module", "init_module", "finit_module"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_MODULE) } },
    { .names = NAMES("acct"), .action = SCMP_ACT_ALLOW, .inc = { .caps = CAP(CAP_SYS_PACCT) } },
    { .names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                     "process_vm_writev", "ptrace"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_PTRACE) } },
    { .names = NAMES("iopl", "ioperm"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_RAWIO) } },
    { .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_TIME) } },
    { .names = NAMES("vhangup"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_TTY_CONFIG) } },
    { .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_SYS_NICE) } },
    { .names = NAMES("syslog"), .action = SCMP_ACT_ALLOW, .inc = { .caps = CAP(CAP_SYSLOG) } },
    { .names = NAMES("bpf"), .action = SCMP_ACT_ALLOW, .inc = { .caps = CAP(CAP_BPF) } },
    { .names = NAMES("perf_event_open"),
      .action = SCMP_ACT_ALLOW,
      .inc = { .caps = CAP(CAP_PERFMON) } },
};

static const struct scmp_archmap default_archmap[] = {
    { "SCMP_ARCH_X86_64", NAMES("SCMP_ARCH_X86", "SCMP_ARCH_X32") },
    { "SCMP_ARCH_AARCH64", NAMES("SCMP_ARCH_ARM") },
    { "SCMP_ARCH_MIPS64", NAMES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32") },
    { "SCMP_ARCH_MIPS64N32", NAMES("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64") },
    { "SCMP_ARCH_MIPSEL64", NAMES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32") },
    { "SCMP_ARCH_MIPSEL64N32", NAMES("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64") },
    { "SCMP_ARCH_S390X", NAMES("SCMP_ARCH_S390") },
    { "SCMP_ARCH_RISCV64", NULL },
    { "SCMP_ARCH_LOONGARCH64", NULL },
};

static const struct eng_seccomp_profile default_profile = {
    .is_static = true,
    .default_action = SCMP_ACT_ERRNO(EPERM),
    .archmap = default_archmap,
    .narchmap = BT_ARRAY_SIZE(default_archmap),
    .rules = default_rules,
    .nrules = BT_ARRAY_SIZE(default_rules),
};

const struct eng_seccomp_profile *
eng_seccomp_profile_default(void)
{
    return &default_profile;
}
