/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: accepting clients, reading newline-delimited JSON with a ceiling, the
 * hello handshake, dispatching requests, and writing replies (with descriptors when a message
 * carries them). A client that breaks the protocol gets one error message and loses its
 * connection; nothing it sends can disturb the daemon or other clients.
 */
#define LOG_TAG "control"

#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>

#include "engine/base/alloc.h"
#include "engine/base/fdpass.h"
#include "engine/base/log.h"
#include "orchestrator/daemon/daemon.h"

/* A reader that stops reading has this much queued output at most before it is dropped. */
#define CONN_OUT_MAX (64u << 20)
#define READ_CHUNK 65536

/* Descriptors to send with the byte at offset off of the output buffer. */
struct out_mark {
    size_t off;
    int fds[BT_FDPASS_MAX];
    size_t nfds;
};

struct orch_conn {
    struct orch_daemon *d;
    struct orch_conn *prev, *next;
    unsigned refs;
    unsigned serial; /* for log lines */
    int fd;
    uid_t uid;
    pid_t peer_pid;
    bool hello;   /* handshake done */
    bool closing; /* close once output is flushed */
    bool dead;    /* socket closed, off the daemon's list */
    struct event *ev_read, *ev_write;
    struct evbuffer *in, *out;
    size_t scanned; /* bytes of in known to hold no newline */
    struct out_mark *marks;
    size_t nmarks, marks_cap;
    /* Descriptors received and not yet claimed by a request that announced them. */
    int in_fds[BT_FDPASS_MAX];
    size_t nin_fds;
};

static unsigned conn_serial;

struct orch_conn *
orch_conn_ref(struct orch_conn *c, const char *caller)
{
    c->refs++;
    bt_log_debug("conn %u: ref %u (%s)", c->serial, c->refs, caller);
    return c;
}

static void
marks_drop_first(struct orch_conn *c)
{
    for (size_t i = 0; i < c->marks[0].nfds; i++)
        (void) close(c->marks[0].fds[i]);
    memmove(c->marks, c->marks + 1, (c->nmarks - 1) * sizeof *c->marks);
    c->nmarks--;
}

void
orch_conn_unref(struct orch_conn *c, const char *caller)
{
    if (!c)
        return;
    BT_ASSERT(c->refs > 0);
    c->refs--;
    bt_log_debug("conn %u: unref %u (%s)", c->serial, c->refs, caller);
    if (c->refs > 0)
        return;
    BT_ASSERT(c->dead);
    for (size_t i = 0; i < c->nin_fds; i++)
        (void) close(c->in_fds[i]);
    while (c->nmarks)
        marks_drop_first(c);
    free(c->marks);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    free(c);
}

/* Close the socket and leave the daemon's list; the memory goes with the last reference. */
static void
conn_shutdown(struct orch_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    event_free(c->ev_read);
    event_free(c->ev_write);
    c->ev_read = c->ev_write = NULL;
    BT_CLOSE(c->fd);
    size_t big = evbuffer_get_length(c->in) + evbuffer_get_length(c->out);
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
    struct orch_daemon *d = c->d;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nconns--;
    bt_log_debug("conn %u: closed (%u open)", c->serial, d->nconns);
    /* A client that sent a huge message made the heap grow; give the memory back. */
    if (big > (1u << 20))
        (void) malloc_trim(0);
    orch_conn_unref(c, __func__);
}

size_t
orch_conn_queued(const struct orch_conn *c)
{
    return evbuffer_get_length(c->out);
}

bool
orch_conn_is_dead(const struct orch_conn *c)
{
    return c->dead;
}

void
orch_conn_close_after_flush(struct orch_conn *c)
{
    if (c->dead)
        return;
    c->closing = true;
    event_del(c->ev_read);
    if (evbuffer_get_length(c->out) == 0)
        conn_shutdown(c);
}

int
orch_conn_send(struct orch_conn *c, const json_t *msg, const int *fds, size_t nfds)
{
    if (c->dead)
        return -EPIPE;
    if (nfds > BT_FDPASS_MAX)
        return -EINVAL;
    size_t len;
    bt_autofree char *line = orch_msg_encode(msg, &len);
    if (!line)
        return -E2BIG;
    if (evbuffer_get_length(c->out) + len > CONN_OUT_MAX) {
        bt_log_debug("conn %u: client does not read its replies, dropping it", c->serial);
        conn_shutdown(c);
        return -ENOBUFS;
    }
    if (nfds > 0) {
        struct out_mark m = { .off = evbuffer_get_length(c->out), .nfds = 0 };
        for (size_t i = 0; i < nfds; i++) {
            int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                int r = -errno;
                for (size_t j = 0; j < m.nfds; j++)
                    (void) close(m.fds[j]);
                return r;
            }
            m.fds[m.nfds++] = fd;
        }
        c->marks = bt_xgrow(c->marks, &c->marks_cap, c->nmarks + 1, sizeof *c->marks);
        c->marks[c->nmarks++] = m;
    }
    bool was_empty = evbuffer_get_length(c->out) == 0;
    if (evbuffer_add(c->out, line, len) < 0)
        return -ENOMEM;
    /* A reply to an idle connection goes out now rather than at the loop's next turn: the
     * work that follows it in the same callback (a container's removal) need not delay it.
     * Errors and what does not fit are left to the write event. */
    if (was_empty && c->nmarks == 0) {
        int n = evbuffer_write(c->out, c->fd);
        (void) n;
    }
    if (evbuffer_get_length(c->out) > 0)
        event_add(c->ev_write, NULL);
    return 0;
}

static void
marks_shift(struct orch_conn *c, size_t n)
{
    for (size_t i = 0; i < c->nmarks; i++)
        c->marks[i].off -= n;
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
    (void) what;
    struct orch_conn *c = arg;
    while (evbuffer_get_length(c->out) > 0) {
        if (c->nmarks > 0 && c->marks[0].off == 0) {
            /* The descriptors ride on the first byte of their message. */
            struct evbuffer_iovec v;
            if (evbuffer_peek(c->out, -1, NULL, &v, 1) < 1)
                break;
            size_t chunk = v.iov_len;
            if (c->nmarks > 1 && c->marks[1].off < chunk)
                chunk = c->marks[1].off;
            ssize_t n = bt_fd_send(fd, v.iov_base, chunk, c->marks[0].fds, c->marks[0].nfds);
            if (n == -EAGAIN || n == -EINTR)
                return;
            if (n <= 0)
                goto fail;
            marks_drop_first(c);
            evbuffer_drain(c->out, (size_t) n);
            marks_shift(c, (size_t) n);
        } else {
            ev_ssize_t limit = c->nmarks > 0 ? (ev_ssize_t) c->marks[0].off : -1;
            int n = evbuffer_write_atmost(c->out, fd, limit);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (n <= 0)
                goto fail;
            marks_shift(c, (size_t) n);
        }
    }
    event_del(c->ev_write);
    if (c->closing)
        conn_shutdown(c);
    return;
fail:
    bt_log_debug("conn %u: write failed, closing", c->serial);
    conn_shutdown(c);
}

/* Send a connection-level error and close once it is written. */
static void
conn_fail(struct orch_conn *c, json_int_t id, enum orch_errc code, const char *msg,
          const char *hint)
{
    bt_log_debug("conn %u: %s: %s", c->serial, orch_errc_str(code), msg);
    json_t *m = orch_msg_error(id, code, msg, hint);
    (void) orch_conn_send(c, m, NULL, 0);
    json_decref(m);
    orch_conn_close_after_flush(c);
}

static void
handle_hello(struct orch_conn *c, const struct orch_msg *m)
{
    json_int_t proto = json_integer_value(json_object_get(m->root, "protocol"));
    if (proto != ORCH_PROTO_VERSION) {
        char msg[128];
        snprintf(msg, sizeof msg, "client speaks protocol %lld, daemon speaks protocol %d",
                 (long long) proto, ORCH_PROTO_VERSION);
        conn_fail(c, -1, ORCH_E_PROTO_MISMATCH, msg,
                  "use a berth CLI of the daemon's version, or restart the daemon: "
                  "berth daemon stop");
        return;
    }
    c->hello = true;
    json_t *reply = orch_msg_hello_daemon(getpid());
    (void) orch_conn_send(c, reply, NULL, 0);
    json_decref(reply);
}

static void
handle_line(struct orch_conn *c, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return; /* blank lines are harmless keep-alives */
    struct orch_msg m = { 0 };
    bt_autoerr struct bt_err *err = NULL;
    if (orch_msg_decode(line, len, &m, &err) < 0) {
        conn_fail(c, -1, ORCH_E_BAD_MESSAGE, err->msg,
                  "messages are JSON objects, one per line; see schemas/protocol.schema.json");
        return;
    }
    if (m.type == ORCH_MSG_HELLO) {
        if (c->hello)
            conn_fail(c, -1, ORCH_E_BAD_MESSAGE, "'hello' sent twice", NULL);
        else
            handle_hello(c, &m);
    } else if (!c->hello) {
        conn_fail(c, m.id, ORCH_E_HANDSHAKE, "the first message must be 'hello'",
                  "send {\"type\":\"hello\",\"protocol\":1} first");
    } else if (m.type == ORCH_MSG_REQUEST) {
        json_t *args = json_object_get(m.root, "args");
        json_t *empty = args ? NULL : json_object();
        struct orch_req req = {
            .d = c->d,
            .conn = c,
            .id = m.id,
            .op = json_string_value(json_object_get(m.root, "op")),
            .args = args ? args : empty,
        };
        json_int_t nfds = json_integer_value(json_object_get(m.root, "fds"));
        if (nfds < 0 || (size_t) nfds > c->nin_fds) {
            conn_fail(c, m.id, ORCH_E_BAD_MESSAGE,
                      "the request announces more descriptors than arrived with it", NULL);
        } else {
            /* The request owns its descriptors from here; dispatch closes what no op took. */
            req.nfds = (size_t) nfds;
            memcpy(req.fds, c->in_fds, req.nfds * sizeof *req.fds);
            c->nin_fds -= req.nfds;
            memmove(c->in_fds, c->in_fds + req.nfds, c->nin_fds * sizeof *c->in_fds);
            orch_ops_dispatch(&req);
            orch_req_close_fds(&req);
        }
        json_decref(empty);
    } else {
        conn_fail(c, m.id, ORCH_E_BAD_MESSAGE, "clients send only 'hello' and 'request'", NULL);
    }
    orch_msg_release(&m);
}

static void
process_input(struct orch_conn *c)
{
    while (!c->closing && !c->dead) {
        size_t have = evbuffer_get_length(c->in);
        struct evbuffer_ptr start;
        if (evbuffer_ptr_set(c->in, &start, c->scanned, EVBUFFER_PTR_SET) < 0)
            start.pos = -1;
        struct evbuffer_ptr nl = start.pos < 0 ? start : evbuffer_search(c->in, "\n", 1, &start);
        if (nl.pos < 0) {
            c->scanned = have;
            if (have > ORCH_PROTO_MAX_MSG) {
                evbuffer_drain(c->in, have);
                conn_fail(c, -1, ORCH_E_TOO_LARGE, "message exceeds 8 MiB without a newline",
                          "messages are single lines of at most 8 MiB");
            }
            return;
        }
        size_t len = (size_t) nl.pos;
        c->scanned = 0;
        if (len > ORCH_PROTO_MAX_MSG) {
            evbuffer_drain(c->in, have);
            conn_fail(c, -1, ORCH_E_TOO_LARGE, "message exceeds 8 MiB",
                      "messages are single lines of at most 8 MiB");
            return;
        }
        const char *line = (const char *) evbuffer_pullup(c->in, (ev_ssize_t) len + 1);
        if (!line) {
            conn_shutdown(c);
            return;
        }
        handle_line(c, line, len);
        if (!c->dead)
            evbuffer_drain(c->in, len + 1);
    }
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
    (void) what;
    struct orch_conn *c = orch_conn_ref(arg, __func__);
    char chunk[READ_CHUNK];
    size_t nfds = BT_FDPASS_MAX - c->nin_fds;
    ssize_t n = bt_fd_recv(fd, chunk, sizeof chunk, c->in_fds + c->nin_fds, &nfds);
    if (n == -EAGAIN || n == -EINTR)
        goto out;
    c->nin_fds += n > 0 ? nfds : 0;
    if (n > 0 && c->nin_fds == BT_FDPASS_MAX) {
        /* A client that sends descriptors no request claims is not speaking the protocol. */
        conn_fail(c, -1, ORCH_E_BAD_MESSAGE, "too many descriptors sent without a request", NULL);
        goto out;
    }
    if (n > 0 && evbuffer_add(c->in, chunk, (size_t) n) < 0)
        n = -ENOMEM;
    if (n <= 0) {
        size_t left = evbuffer_get_length(c->in);
        if (left > 0)
            bt_log_debug("conn %u: closed by the client mid-message (%zu bytes)", c->serial, left);
        conn_shutdown(c);
        goto out;
    }
    process_input(c);
out:
    orch_conn_unref(c, __func__);
}

static void
conn_new(struct orch_daemon *d, int fd)
{
    struct orch_conn *c = bt_xcalloc(1, sizeof *c);
    c->d = d;
    c->fd = fd;
    c->refs = 1; /* the daemon's list */
    c->serial = ++conn_serial;
    c->uid = (uid_t) -1;
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->ev_read = event_new(d->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->ev_write = event_new(d->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    BT_ASSERT(c->in && c->out && c->ev_read && c->ev_write);
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
    d->nconns++;

    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
        c->uid = cred.uid;
        c->peer_pid = cred.pid;
    }
    bt_log_debug("conn %u: accepted (pid %d, uid %d, %u open)", c->serial, (int) c->peer_pid,
                 (int) c->uid, d->nconns);
    /* The socket is mode 0600; checking the peer as well keeps that true if the mode slips. */
    if (c->uid != 0)
        conn_fail(c, -1, ORCH_E_PERMISSION, "only root may use the berth daemon",
                  "run berth as root (sudo)");
    else if (d->nconns > ORCH_MAX_CONNS)
        conn_fail(c, -1, ORCH_E_TOO_MANY, "too many connections to the daemon", NULL);
    else if (d->stopping)
        conn_fail(c, -1, ORCH_E_SHUTTING_DOWN, "the daemon is shutting down", NULL);
    else
        event_add(c->ev_read, NULL);
}

static void
on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct orch_daemon *d = arg;
    event_add(d->ev_listen, NULL);
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void) what;
    struct orch_daemon *d = arg;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_new(d, fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors: pause accepting instead of spinning on the listener. */
            bt_log_warn("cannot accept connections: %s, pausing for 200 ms, continuing",
                        strerror(errno));
            event_del(d->ev_listen);
            struct timeval tv = { 0, 200000 };
            evtimer_add(d->ev_accept_pause, &tv);
        } else if (errno != EAGAIN && errno != EINTR) {
            bt_log_debug_errno(-errno, "accept");
        }
        return;
    }
}

int
orch_control_listen(struct orch_daemon *d, struct bt_err **err)
{
    const char *path = d->paths.sock;
    /* We hold the pid lock: any socket file here is a dead daemon's and ours to replace. */
    if (unlink(path) < 0 && errno != ENOENT)
        return bt_err_errno(err, -errno, "cannot remove stale socket '%s'", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    /* Created 0600 from the start: no window in which others could connect. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
    umask(old);
    if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 511) < 0) {
        r = -errno;
        (void) close(fd);
        return bt_err_errno(err, r, "cannot listen on '%s'", path);
    }
    d->listen_fd = fd;
    d->ev_listen = event_new(d->base, fd, EV_READ | EV_PERSIST, on_accept, d);
    d->ev_accept_pause = evtimer_new(d->base, on_accept_resume, d);
    BT_ASSERT(d->ev_listen && d->ev_accept_pause);
    event_add(d->ev_listen, NULL);
    return 0;
}

void
orch_control_close(struct orch_daemon *d)
{
    if (d->ev_listen) {
        event_free(d->ev_listen);
        d->ev_listen = NULL;
    }
    if (d->ev_accept_pause) {
        event_free(d->ev_accept_pause);
        d->ev_accept_pause = NULL;
    }
    if (d->listen_fd >= 0) {
        (void) unlink(d->paths.sock);
        BT_CLOSE(d->listen_fd);
    }
    /* Flush what is queued (replies are small and the socket buffers empty), then close. */
    while (d->conns) {
        struct orch_conn *c = d->conns;
        if (evbuffer_get_length(c->out) > 0 && c->nmarks == 0)
            (void) evbuffer_write(c->out, c->fd);
        conn_shutdown(c);
    }
}
