/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendmsg/recvmsg with SCM_RIGHTS.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/base/fdpass.h"

ssize_t
bt_fd_send(int sock, const void *data, size_t len, const int *fds, size_t nfds)
{
    if (len == 0 || nfds > BT_FDPASS_MAX)
        return -EINVAL;
    union {
        char buf[CMSG_SPACE(sizeof(int) * BT_FDPASS_MAX)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

ssize_t
bt_fd_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * BT_FDPASS_MAX)];
        struct cmsghdr align;
    } u;
    size_t cap = *nfds > BT_FDPASS_MAX ? BT_FDPASS_MAX : *nfds;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf
    };
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    size_t got = 0;
    int over = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int tmp[BT_FDPASS_MAX];
        memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
        for (size_t i = 0; i < k; i++) {
            if (got < cap)
                fds[got++] = tmp[i];
            else {
                (void) close(tmp[i]);
                over = 1;
            }
        }
    }
    if (over || (msg.msg_flags & MSG_CTRUNC)) {
        for (size_t i = 0; i < got; i++)
            (void) close(fds[i]);
        *nfds = 0;
        return -EPROTO;
    }
    *nfds = got;
    return n;
}
