/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-exec: the benchmarks' stopwatch and scale. It runs one command many times and prints the
 * spread of its wall times, or sums the resident memory of processes, each as one line of
 * key=value pairs for run.sh to parse. It knows nothing of berth or Docker: run.sh decides what
 * is measured against what. Built alone (no libberth), so it uses libc only.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 10000000u
#define DEFAULT_WARMUP 3u
#define DEFAULT_TIMEOUT_S 60u
#define PROC_FILE_MAX 65536

extern char **environ;

static volatile sig_atomic_t alarm_fired;
static volatile sig_atomic_t stop_signal;

static void
usage(FILE *f)
{
    fputs("usage: bench-exec -n N [-w WARMUP] [-t TIMEOUT_S] -- CMD [ARG...]\n"
          "       bench-exec --rss [--tree] PID [[--tree] PID...]\n"
          "\n"
          "  -n N        timed runs of CMD (stdin, stdout, stderr on /dev/null)\n"
          "  -w WARMUP   untimed runs first (default 3)\n"
          "  -t SECONDS  limit for one run, then it is killed and counted as a failure "
          "(default 60)\n"
          "  prints: median_us= p10_us= p90_us= min_us= max_us= n=\n"
          "\n"
          "  --rss       sum VmRSS (and Pss) of the PIDs; --tree PID adds all its descendants\n"
          "  prints: rss_kb= pss_kb= nproc= pids=\n",
          f);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fputs("bench-exec: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Decimal only: no sign, no blanks, no junk after the digits, no overflow past max. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
    char *end = NULL;
    unsigned long long v;

    if (!s || !isdigit((unsigned char) s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

static uint64_t
parse_arg(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    uint64_t v = 0;

    if (parse_u64(s, max, &v) < 0 || v < min)
        fail("invalid %s '%s' (%" PRIu64 "-%" PRIu64 ")", opt, s ? s : "", min, max);
    return v;
}

static void
on_alarm(int sig)
{
    (void) sig;
    alarm_fired = 1;
}

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static uint64_t
ts_ns(const struct timespec *t)
{
    return (uint64_t) t->tv_sec * 1000000000u + (uint64_t) t->tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least pct percent of the samples at or below it. */
static uint64_t
percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
    size_t rank = ((size_t) pct * n + 99) / 100;

    return sorted[rank > 0 ? rank - 1 : 0];
}

static uint64_t
median(const uint64_t *sorted, size_t n)
{
    if (n % 2)
        return sorted[n / 2];
    return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static uint64_t
ns_to_us(uint64_t ns)
{
    return (ns + 500) / 1000;
}

struct runner {
    char *const *argv;
    const char *cmdline; /* for messages */
    unsigned timeout_s;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
};

static void
runner_init(struct runner *r, char *const *argv, unsigned timeout_s)
{
    static char cmdline[512];
    size_t off = 0;
    sigset_t none, dfl;
    struct sigaction sa;
    int devnull, fd, e;

    r->argv = argv;
    r->timeout_s = timeout_s;
    for (char *const *a = argv; *a && off < sizeof(cmdline) - 1; a++) {
        int w = snprintf(cmdline + off, sizeof(cmdline) - off, "%s%s", a == argv ? "" : " ", *a);
        if (w < 0)
            break;
        off += (size_t) w;
    }
    if (off >= sizeof(cmdline) - 1)
        memcpy(cmdline + sizeof(cmdline) - 4, "...", 4);
    r->cmdline = cmdline;

    /* Above 2 so that the dup2() actions below always clear close-on-exec on 0, 1 and 2. */
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        fail("cannot open '/dev/null': %s", strerror(errno));
    devnull = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (devnull < 0)
        fail("cannot duplicate '/dev/null': %s", strerror(errno));
    (void) close(fd);

    e = posix_spawn_file_actions_init(&r->fa);
    for (int i = 0; i < 3 && e == 0; i++)
        e = posix_spawn_file_actions_adddup2(&r->fa, devnull, i);
    if (e == 0)
        e = posix_spawnattr_init(&r->attr);
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGQUIT);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGHUP);
    if (e == 0)
        e = posix_spawnattr_setsigmask(&r->attr, &none);
    if (e == 0)
        e = posix_spawnattr_setsigdefault(&r->attr, &dfl);
    if (e == 0)
        e = posix_spawnattr_setflags(&r->attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (e != 0)
        fail("cannot prepare spawn attributes: %s", strerror(e));

    /*
     * No SA_RESTART: the alarm has to interrupt waitpid() of a run that hangs, and SIGINT or
     * SIGTERM has to end the run in flight rather than leave it behind.
     */
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_alarm;
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        fail("cannot set SIGALRM handler: %s", strerror(errno));
    sa.sa_handler = on_stop;
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        fail("cannot set SIGINT and SIGTERM handlers: %s", strerror(errno));
}

/* One run; returns its wall time in ns, or exits with a message when it does not succeed. */
static uint64_t
runner_run(struct runner *r, const char *what, unsigned i, unsigned n)
{
    struct timespec t0, t1;
    pid_t pid, w;
    int st = 0, e;
    bool search = strchr(r->argv[0], '/') == NULL;

    alarm_fired = 0;
    alarm(r->timeout_s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (search)
        e = posix_spawnp(&pid, r->argv[0], &r->fa, &r->attr, r->argv, environ);
    else
        e = posix_spawn(&pid, r->argv[0], &r->fa, &r->attr, r->argv, environ);
    if (e != 0)
        fail("cannot run '%s': %s", r->argv[0], strerror(e));
    for (;;) {
        w = waitpid(pid, &st, 0);
        if (w == pid)
            break;
        if (w < 0 && errno == EINTR && (alarm_fired || stop_signal)) {
            (void) kill(pid, SIGKILL);
            (void) waitpid(pid, &st, 0);
            if (stop_signal)
                fail("%s run %u/%u of '%s': interrupted by signal %d", what, i, n, r->cmdline,
                     (int) stop_signal);
            fail("%s run %u/%u of '%s': timed out after %u s", what, i, n, r->cmdline,
                 r->timeout_s);
        }
        if (w < 0 && errno != EINTR)
            fail("cannot wait for '%s': %s", r->cmdline, strerror(errno));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    alarm(0);
    if (stop_signal)
        fail("interrupted by signal %d after %s run %u/%u", (int) stop_signal, what, i, n);

    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        fail("%s run %u/%u of '%s': exited with status %d", what, i, n, r->cmdline,
             WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        fail("%s run %u/%u of '%s': killed by signal %d (%s)", what, i, n, r->cmdline, WTERMSIG(st),
             strsignal(WTERMSIG(st)));
    return ts_ns(&t1) - ts_ns(&t0);
}

static int
time_main(int argc, char **argv)
{
    uint64_t n = 0, warmup = DEFAULT_WARMUP, timeout_s = DEFAULT_TIMEOUT_S;
    struct runner r;
    uint64_t *ns;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-n") == 0)
            n = parse_arg("-n", argv[++i], 1, MAX_RUNS);
        else if (strcmp(a, "-w") == 0)
            warmup = parse_arg("-w", argv[++i], 0, MAX_RUNS);
        else if (strcmp(a, "-t") == 0)
            timeout_s = parse_arg("-t", argv[++i], 1, 86400);
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            fail("unknown option '%s'", a);
        }
    }
    if (n == 0 || i >= argc) {
        usage(stderr);
        fail("need -n N and a command after '--'");
    }

    runner_init(&r, argv + i, (unsigned) timeout_s);
    for (uint64_t k = 0; k < warmup; k++)
        (void) runner_run(&r, "warm-up", (unsigned) k + 1, (unsigned) warmup);

    ns = calloc(n, sizeof(*ns));
    if (!ns)
        fail("cannot allocate %" PRIu64 " samples", n);
    for (uint64_t k = 0; k < n; k++)
        ns[k] = runner_run(&r, "timed", (unsigned) k + 1, (unsigned) n);
    qsort(ns, n, sizeof(*ns), cmp_u64);

    printf("median_us=%" PRIu64 " p10_us=%" PRIu64 " p90_us=%" PRIu64 " min_us=%" PRIu64
           " max_us=%" PRIu64 " n=%" PRIu64 "\n",
           ns_to_us(median(ns, n)), ns_to_us(percentile(ns, n, 10)),
           ns_to_us(percentile(ns, n, 90)), ns_to_us(ns[0]), ns_to_us(ns[n - 1]), n);
    free(ns);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Reads a small /proc file whole; returns its length or -errno. */
static ssize_t
read_proc(const char *path, char *buf, size_t size)
{
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    while (len < size - 1) {
        ssize_t k = read(fd, buf + len, size - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            (void) close(fd);
            return -e;
        }
        if (k == 0)
            break;
        len += (size_t) k;
    }
    buf[len] = '\0';
    (void) close(fd);
    return (ssize_t) len;
}

/* The value in kB of "Key:   1234 kB" in a /proc file; -ENOENT when the key is absent. */
static int
proc_kb(pid_t pid, const char *file, const char *key, uint64_t *ret_kb)
{
    static char buf[PROC_FILE_MAX];
    char path[64];
    size_t klen = strlen(key);
    ssize_t len;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
    len = read_proc(path, buf, sizeof(buf));
    if (len < 0)
        return (int) len;
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');

        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            unsigned long long v;
            if (sscanf(line + klen + 1, " %llu", &v) != 1)
                return -EINVAL;
            *ret_kb = v;
            return 0;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    /* Kernel threads and zombies have no VmRSS line: they hold no user memory. */
    *ret_kb = 0;
    return -ENOENT;
}

static bool
pid_is_alive(pid_t pid)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d", (int) pid);
    return access(path, F_OK) == 0;
}

struct proc_link {
    pid_t pid, ppid;
};

/* Every process with its parent, from /proc/N/stat (field 4, after the comm in parentheses). */
static struct proc_link *
scan_procs(size_t *ret_n)
{
    struct proc_link *links = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d = opendir("/proc");

    if (!d)
        fail("cannot open '/proc': %s", strerror(errno));
    while ((de = readdir(d))) {
        char path[300], buf[1024], state, *p;
        uint64_t pid;
        int ppid;

        if (parse_u64(de->d_name, INT32_MAX, &pid) < 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        if (read_proc(path, buf, sizeof(buf)) < 0)
            continue; /* gone meanwhile */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            links = realloc(links, cap * sizeof(*links));
            if (!links)
                fail("out of memory");
        }
        links[n++] = (struct proc_link){ .pid = (pid_t) pid, .ppid = ppid };
    }
    (void) closedir(d);
    *ret_n = n;
    return links;
}

struct pidset {
    pid_t *v;
    size_t n, cap;
};

static bool
pidset_has(const struct pidset *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == pid)
            return true;
    return false;
}

static void
pidset_add(struct pidset *s, pid_t pid)
{
    if (pidset_has(s, pid))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v)
            fail("out of memory");
    }
    s->v[s->n++] = pid;
}

static int
rss_main(int argc, char **argv)
{
    struct pidset set = { 0 };
    struct proc_link *links = NULL;
    size_t nlinks = 0;
    uint64_t rss = 0, pss = 0;
    bool pss_ok = true;

    for (int i = 2; i < argc; i++) {
        bool tree = strcmp(argv[i], "--tree") == 0;
        size_t first;
        pid_t root;

        if (tree)
            i++;
        root = (pid_t) parse_arg("pid", argv[i], 1, INT32_MAX);
        if (!pid_is_alive(root))
            fail("no process %d", (int) root);
        first = set.n;
        pidset_add(&set, root);
        if (!tree)
            continue;
        if (!links)
            links = scan_procs(&nlinks);
        /* Breadth first: the set grows while it is walked, so grandchildren come in turn. */
        for (size_t k = first; k < set.n; k++)
            for (size_t j = 0; j < nlinks; j++)
                if (links[j].ppid == set.v[k])
                    pidset_add(&set, links[j].pid);
    }
    if (set.n == 0) {
        usage(stderr);
        fail("need at least one PID");
    }

    for (size_t k = 0; k < set.n; k++) {
        uint64_t kb = 0;
        int e = proc_kb(set.v[k], "status", "VmRSS", &kb);

        /* A descendant may exit between the scan and this read; a live one must be readable. */
        if (e < 0 && e != -ENOENT && pid_is_alive(set.v[k]))
            fail("cannot read '/proc/%d/status': %s", (int) set.v[k], strerror(-e));
        rss += kb;
        kb = 0;
        e = proc_kb(set.v[k], "smaps_rollup", "Pss", &kb);
        if (e < 0 && e != -ENOENT && pid_is_alive(set.v[k]))
            pss_ok = false;
        pss += kb;
    }

    printf("rss_kb=%" PRIu64, rss);
    if (pss_ok)
        printf(" pss_kb=%" PRIu64, pss);
    printf(" nproc=%zu pids=", set.n);
    for (size_t k = 0; k < set.n; k++)
        printf("%s%d", k ? "," : "", (int) set.v[k]);
    printf("\n");
    free(links);
    free(set.v);
    return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--rss") == 0)
        return rss_main(argc, argv);
    return time_main(argc, argv);
}
