/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI<->daemon round trip without process start-up: connect to the socket, "hello",
 * one "version" request, read the reply, close; N times. Prints the median and spread in
 * microseconds. Process creation is measured separately (bench-exec), since on some machines it
 * costs far more than anything berth does.
 * Usage: bench-rtt -n N SOCKET
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* Read until n newlines have arrived. */
static int
read_lines(int fd, int n)
{
    char buf[4096];
    while (n > 0) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0)
            return -1;
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] == '\n')
                n--;
    }
    return 0;
}

static double
one(const char *path)
{
    static const char req[] = "{\"type\":\"hello\",\"protocol\":1,\"client\":\"bench\"}\n"
                              "{\"type\":\"request\",\"id\":1,\"op\":\"version\"}\n";
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        fprintf(stderr, "bench-rtt: cannot connect to '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    if (write(fd, req, sizeof req - 1) != (ssize_t) sizeof req - 1 || read_lines(fd, 2) < 0) {
        fprintf(stderr, "bench-rtt: the daemon did not answer\n");
        exit(1);
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double) (b.tv_sec - a.tv_sec) * 1e6 + (double) (b.tv_nsec - a.tv_nsec) / 1e3;
}

int
main(int argc, char **argv)
{
    int n = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt == 'n') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v <= 0 || v > 10000000)
                return 2;
            n = (int) v;
        } else
            return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: bench-rtt [-n N] SOCKET\n");
        return 2;
    }
    double *t = calloc((size_t) n, sizeof *t);
    if (!t)
        return 1;
    for (int i = 0; i < 50; i++)
        one(argv[optind]);
    for (int i = 0; i < n; i++)
        t[i] = one(argv[optind]);
    qsort(t, (size_t) n, sizeof *t, cmp);
    printf("median_us=%.0f p10_us=%.0f p90_us=%.0f min_us=%.0f n=%d\n", t[n / 2], t[n / 10],
           t[n * 9 / 10], t[0], n);
    free(t);
    return 0;
}
