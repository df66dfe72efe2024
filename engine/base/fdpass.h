/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Passing file descriptors over a UNIX stream socket (SCM_RIGHTS), so a pty or pipe can be
 * handed to the CLI and bytes never travel through the daemon. Descriptors ride on the first
 * byte of the data they are sent with; received ones are close-on-exec.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define BT_FDPASS_MAX 16

/* Send len bytes (len >= 1) with nfds descriptors. Returns bytes sent (may be short) or -errno. */
ssize_t bt_fd_send(int sock, const void *data, size_t len, const int *fds, size_t nfds);
/* Receive up to len bytes and any descriptors that came with them: *nfds is the capacity in,
 * the count out. A truncated set of descriptors closes what arrived and returns -EPROTO.
 * Returns bytes read (0 at EOF) or -errno. */
ssize_t bt_fd_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds);
