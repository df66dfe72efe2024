/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for descriptor passing over a UNIX stream socketpair: descriptors arrive working and
 * close-on-exec, a set larger than the receiver's capacity is refused without leaking any.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/base/fdpass.h"

struct pair {
    int s[2];
};

static int
setup(void **state)
{
    static struct pair p;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p.s) < 0)
        return -1;
    *state = &p;
    return 0;
}

static int
teardown(void **state)
{
    struct pair *p = *state;
    close(p->s[0]);
    close(p->s[1]);
    return 0;
}

/* Open descriptors of this process. */
static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void
assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0);
    assert_true(fl & FD_CLOEXEC);
}

/* Bytes written to w come out of r. */
static void
assert_connected(int w, int r, const char *msg)
{
    size_t n = strlen(msg);
    assert_int_equal(write(w, msg, n), (ssize_t) n);
    char buf[64];
    assert_int_equal(read(r, buf, sizeof buf), (ssize_t) n);
    assert_memory_equal(buf, msg, n);
}

static void
test_send_one(void **state)
{
    struct pair *p = *state;
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

    assert_int_equal(bt_fd_send(p->s[0], "hello", 5, &pipefd[0], 1), 5);
    char buf[16];
    int fds[4] = { -1, -1, -1, -1 };
    size_t nfds = 4;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(nfds, 1);
    assert_true(fds[0] >= 0);
    assert_int_not_equal(fds[0], pipefd[0]);
    assert_int_equal(fds[1], -1);
    assert_cloexec(fds[0]);

    /* The received descriptor is the pipe's read end. */
    close(pipefd[0]);
    assert_connected(pipefd[1], fds[0], "through the pipe");
    close(fds[0]);
    close(pipefd[1]);
}

static void
test_send_three(void **state)
{
    struct pair *p = *state;
    int pipes[3][2];
    int wr[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pipe2(pipes[i], O_CLOEXEC), 0);
        wr[i] = pipes[i][1];
    }
    assert_int_equal(bt_fd_send(p->s[0], "stdio", 5, wr, 3), 5);

    char buf[16];
    int fds[3] = { -1, -1, -1 };
    size_t nfds = 3; /* exactly enough */
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 5);
    assert_memory_equal(buf, "stdio", 5);
    assert_int_equal(nfds, 3);
    /* In order: the i-th received fd writes into the i-th pipe. */
    static const char *const msgs[] = { "zero", "one", "two" };
    for (int i = 0; i < 3; i++) {
        assert_cloexec(fds[i]);
        close(pipes[i][1]);
        assert_connected(fds[i], pipes[i][0], msgs[i]);
        close(fds[i]);
        close(pipes[i][0]);
    }
}

static void
test_send_max(void **state)
{
    struct pair *p = *state;
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    int many[BT_FDPASS_MAX];
    for (size_t i = 0; i < BT_FDPASS_MAX; i++)
        many[i] = pipefd[0];
    int before = count_fds();
    assert_int_equal(bt_fd_send(p->s[0], "m", 1, many, BT_FDPASS_MAX), 1);

    char c;
    int fds[BT_FDPASS_MAX * 2];
    size_t nfds = BT_FDPASS_MAX * 2; /* more than the maximum: clamped */
    assert_int_equal(bt_fd_recv(p->s[1], &c, 1, fds, &nfds), 1);
    assert_int_equal(c, 'm');
    assert_int_equal(nfds, BT_FDPASS_MAX);
    assert_int_equal(count_fds(), before + BT_FDPASS_MAX);
    for (size_t i = 0; i < nfds; i++) {
        assert_cloexec(fds[i]);
        close(fds[i]);
    }
    assert_int_equal(count_fds(), before);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void
test_capacity_too_small(void **state)
{
    struct pair *p = *state;
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    int three[3] = { pipefd[0], pipefd[1], pipefd[0] };
    assert_int_equal(bt_fd_send(p->s[0], "abc", 3, three, 3), 3);

    int before = count_fds();
    char buf[8];
    int fds[2] = { -1, -1 };
    size_t nfds = 2;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), -EPROTO);
    assert_int_equal(nfds, 0);
    /* What arrived was closed: none leaked. */
    assert_int_equal(count_fds(), before);

    /* No capacity at all. */
    assert_int_equal(bt_fd_send(p->s[0], "d", 1, three, 1), 1);
    nfds = 0;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, NULL, &nfds), -EPROTO);
    assert_int_equal(nfds, 0);
    assert_int_equal(count_fds(), before);

    /* The connection still works afterwards. */
    assert_int_equal(bt_fd_send(p->s[0], "ok", 2, NULL, 0), 2);
    nfds = 2;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 2);
    assert_int_equal(nfds, 0);
    assert_memory_equal(buf, "ok", 2);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void
test_peer_sends_too_many(void **state)
{
    struct pair *p = *state;
    /* A peer that is not berth may send more than BT_FDPASS_MAX: the control data is truncated
     * by the kernel, and whatever did arrive must be closed. */
    enum { N = BT_FDPASS_MAX + 4 };
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    union {
        char buf[CMSG_SPACE(sizeof(int) * N)];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = { .iov_base = (void *) "z", .iov_len = 1 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * N);
    int *out = (int *) (void *) CMSG_DATA(c);
    for (int i = 0; i < N; i++)
        out[i] = pipefd[i % 2];
    assert_int_equal(sendmsg(p->s[0], &msg, MSG_NOSIGNAL), 1);

    int before = count_fds();
    char buf[4];
    int fds[BT_FDPASS_MAX];
    size_t nfds = BT_FDPASS_MAX;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), -EPROTO);
    assert_int_equal(nfds, 0);
    assert_int_equal(count_fds(), before);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void
test_no_fds(void **state)
{
    struct pair *p = *state;
    assert_int_equal(bt_fd_send(p->s[0], "plain data", 10, NULL, 0), 10);
    int dummy = 0;
    assert_int_equal(bt_fd_send(p->s[0], "!", 1, &dummy, 0), 1);
    char buf[32];
    int fds[4] = { -1, -1, -1, -1 };
    size_t nfds = 4;
    ssize_t n = bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds);
    assert_int_equal(n, 11);
    assert_memory_equal(buf, "plain data!", 11);
    assert_int_equal(nfds, 0);
    assert_int_equal(fds[0], -1);
}

static void
test_fds_ride_on_their_bytes(void **state)
{
    struct pair *p = *state;
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    /* Two messages with descriptors are not merged into one read. */
    assert_int_equal(bt_fd_send(p->s[0], "a", 1, &pipefd[0], 1), 1);
    assert_int_equal(bt_fd_send(p->s[0], "bc", 2, &pipefd[1], 1), 2);
    char buf[16];
    int fds[2] = { -1, -1 };
    size_t nfds = 2;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 1);
    assert_int_equal(buf[0], 'a');
    assert_int_equal(nfds, 1);
    int rd = fds[0];
    nfds = 2;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 2);
    assert_memory_equal(buf, "bc", 2);
    assert_int_equal(nfds, 1);
    int wr = fds[0];
    close(pipefd[0]);
    close(pipefd[1]);
    assert_connected(wr, rd, "pair");
    close(rd);
    close(wr);
}

static void
test_invalid_arguments(void **state)
{
    struct pair *p = *state;
    int fd = 0;
    assert_int_equal(bt_fd_send(p->s[0], "", 0, NULL, 0), -EINVAL);
    assert_int_equal(bt_fd_send(p->s[0], "x", 0, &fd, 1), -EINVAL);
    int many[BT_FDPASS_MAX + 1] = { 0 };
    assert_int_equal(bt_fd_send(p->s[0], "x", 1, many, BT_FDPASS_MAX + 1), -EINVAL);
    assert_int_equal(bt_fd_send(-1, "x", 1, NULL, 0), -EBADF);
    /* A closed descriptor cannot be sent. */
    int bad = 1000;
    assert_int_equal(fcntl(bad, F_GETFD), -1);
    assert_int_equal(bt_fd_send(p->s[0], "x", 1, &bad, 1), -EBADF);

    char buf[4];
    size_t nfds = 1;
    int fds[1];
    assert_int_equal(bt_fd_recv(-1, buf, sizeof buf, fds, &nfds), -EBADF);
    /* Nothing was queued by the refused sends. */
    assert_int_equal(recv(p->s[1], buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
}

static void
test_eof(void **state)
{
    struct pair *p = *state;
    assert_int_equal(shutdown(p->s[0], SHUT_WR), 0);
    char buf[4];
    int fds[2] = { -1, -1 };
    size_t nfds = 2;
    assert_int_equal(bt_fd_recv(p->s[1], buf, sizeof buf, fds, &nfds), 0);
    assert_int_equal(nfds, 0);
    /* Sending on a shut-down socket fails with EPIPE, without SIGPIPE killing us. */
    assert_int_equal(bt_fd_send(p->s[0], "x", 1, NULL, 0), -EPIPE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_send_one),
        T(test_send_three),
        T(test_send_max),
        T(test_capacity_too_small),
        T(test_peer_sends_too_many),
        T(test_no_fds),
        T(test_fds_ride_on_their_bytes),
        T(test_invalid_arguments),
        T(test_eof),
    };
    return cmocka_run_group_tests_name("test-base-fdpass", tests, NULL, NULL);
}
