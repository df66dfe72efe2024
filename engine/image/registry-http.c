/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl's multi interface on the daemon's libevent loop: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION, one persistent event per socket) and when to wake it
 * (CURLMOPT_TIMERFUNCTION, one timer); we hand events back with curl_multi_socket_action and
 * complete finished exchanges from curl_multi_info_read. One struct reg_xfer is one HTTP
 * exchange; what the exchanges mean (auth, retries, steps) is registry.c's.
 */
#define LOG_TAG "registry"

#include <event2/event.h>
#include <strings.h>

#include "engine/base/alloc.h"
#include "engine/base/log.h"
#include "engine/image/registry-int.h"

/* The event curl asked us to watch on one socket. */
struct reg_sock {
    curl_socket_t fd;
    struct event *ev;
    struct eng_reg *reg;
    struct reg_sock *next;
};

static void
drain_done(struct eng_reg *reg)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(reg->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct reg_xfer *x = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
        CURLcode code = msg->data.result;
        (void) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        char *redirect = NULL;
        if (x->status / 100 == 3 &&
            curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
            x->redirect = bt_xstrdup(redirect);
        (void) curl_multi_remove_handle(reg->multi, x->easy);
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        x->done(x, code);
    }
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct eng_reg *reg = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    (void) curl_multi_socket_action(reg->multi, fd, flags, &running);
    drain_done(reg);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct eng_reg *reg = arg;
    int running;
    (void) fd;
    (void) what;
    (void) curl_multi_socket_action(reg->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_done(reg);
}

static int
curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct eng_reg *reg = userp;
    (void) multi;
    if (timeout_ms < 0)
        return evtimer_del(reg->timer);
    /* Also 0: curl must not be re-entered from inside its callback, so it runs on the loop. */
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return evtimer_add(reg->timer, &tv);
}

static void
sock_free(struct eng_reg *reg, struct reg_sock *s)
{
    for (struct reg_sock **pp = &reg->socks; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    event_free(s->ev);
    free(s);
}

static int
curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct eng_reg *reg = userp;
    struct reg_sock *s = socketp;
    (void) easy;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_free(reg, s);
        (void) curl_multi_assign(reg->multi, fd, NULL);
        return 0;
    }
    short events =
        EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!s) {
        s = bt_xcalloc(1, sizeof *s);
        s->fd = fd;
        s->reg = reg;
        s->next = reg->socks;
        reg->socks = s;
        (void) curl_multi_assign(reg->multi, fd, s);
    } else {
        event_free(s->ev);
    }
    s->ev = event_new(reg->base, fd, events, on_socket_event, reg);
    return s->ev && event_add(s->ev, NULL) == 0 ? 0 : -1;
}

int
eng_reg_new(struct event_base *base, const struct eng_reg_opts *opts, struct eng_reg **ret,
            struct bt_err **err)
{
    static const struct eng_reg_opts none = { 0 };
    if (!opts)
        opts = &none;
    /* Process-wide and idempotent; the daemon starts no threads before this runs. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return bt_err_set(err, EIO, "cannot initialise libcurl");
    struct eng_reg *reg = bt_xcalloc(1, sizeof *reg);
    reg->base = base;
    reg->multi = curl_multi_init();
    reg->timer = evtimer_new(base, on_timer, reg);
    if (!reg->multi || !reg->timer) {
        eng_reg_free(reg);
        return bt_err_set(err, ENOMEM, "cannot create the registry client");
    }
    long parallel = opts->max_parallel ? (long) opts->max_parallel : 6;
    (void) curl_multi_setopt(reg->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_SOCKETDATA, reg);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_TIMERDATA, reg);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, parallel);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_MAX_HOST_CONNECTIONS, parallel);
    (void) curl_multi_setopt(reg->multi, CURLMOPT_MAXCONNECTS, parallel * 2);
    reg->insecure = bt_xcalloc(opts->ninsecure + 1, sizeof *reg->insecure);
    for (size_t i = 0; i < opts->ninsecure; i++)
        reg->insecure[i] = bt_xstrdup(opts->insecure[i]);
    reg->ninsecure = opts->ninsecure;
    reg->certs_dir = bt_xstrdup(opts->certs_dir ? opts->certs_dir : "/etc/berth/certs.d");
    reg->user_agent =
        opts->user_agent ? bt_xstrdup(opts->user_agent) : bt_xstrdup("berth/" BERTH_VERSION);
    *ret = reg;
    return 0;
}

/* Free the transport; registry.c has cancelled the requests first. */
void
reg_transport_free(struct eng_reg *reg)
{
    if (reg->multi)
        (void) curl_multi_cleanup(reg->multi); /* may still report sockets to remove */
    while (reg->socks)
        sock_free(reg, reg->socks);
    if (reg->timer)
        event_free(reg->timer);
    for (size_t i = 0; i < reg->ninsecure; i++)
        free(reg->insecure[i]);
    free(reg->insecure);
    free(reg->certs_dir);
    free(reg->user_agent);
    free(reg);
    curl_global_cleanup(); /* pairs with eng_reg_new's init; libcurl counts them */
}

/* ---- one exchange ---- */

void
reg_xfer_init(struct reg_xfer *x, struct eng_reg *reg, void *owner, const char *method, char *url)
{
    *x = (struct reg_xfer){ .reg = reg,
                            .owner = owner,
                            .method = method,
                            .url = url,
                            .send_fd = -1,
                            .body_max = REG_SMALL_BODY_MAX };
}

void
reg_xfer_header(struct reg_xfer *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bt_autofree char *h = bt_xvasprintf(fmt, ap);
    va_end(ap);
    struct curl_slist *l = curl_slist_append(x->headers, h);
    BT_ASSERT(l);
    x->headers = l;
}

static bool
is_2xx(const struct reg_xfer *x)
{
    return x->status >= 200 && x->status < 300;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct reg_xfer *x = userp;
    size_t len = size * nmemb;
    (void) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (is_2xx(x) && x->data) {
        if (x->data(x, data, len) < 0) {
            x->data_failed = true;
            return CURL_WRITEFUNC_ERROR;
        }
        return len;
    }
    size_t max = is_2xx(x) ? x->body_max : REG_SMALL_BODY_MAX;
    if (x->body.len + len > max) {
        if (is_2xx(x)) {
            x->body_too_big = true;
            return CURL_WRITEFUNC_ERROR;
        }
        len = max - x->body.len; /* an error page: the start of it is enough */
        (void) bt_buf_append(&x->body, data, len);
        return size * nmemb;
    }
    (void) bt_buf_append(&x->body, data, len);
    return len;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct reg_xfer *x = userp;
    size_t len = size * nmemb;
    static const struct reg_field keep[] = {
        { "content-type", offsetof(struct reg_xfer, content_type) },
        { "docker-content-digest", offsetof(struct reg_xfer, digest) },
        { "location", offsetof(struct reg_xfer, location) },
        { "www-authenticate", offsetof(struct reg_xfer, www_auth) },
        { "retry-after", offsetof(struct reg_xfer, retry_after) },
        { "content-range", offsetof(struct reg_xfer, content_range) },
    };
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new answer (after a 100 Continue): forget the headers of the one before. */
        for (size_t i = 0; i < BT_ARRAY_SIZE(keep); i++) {
            char **slot = (char **) ((char *) x + keep[i].off);
            free(*slot);
            *slot = NULL;
        }
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t) (colon - data);
    const char *v = colon + 1, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    char **slot = reg_field_find(x, keep, BT_ARRAY_SIZE(keep), data, nlen);
    if (!slot)
        return len;
    size_t old = *slot ? strlen(*slot) : 0;
    if (old + (size_t) (end - v) + 2 > REG_HEADER_MAX)
        return CURL_WRITEFUNC_ERROR;
    /* Repeated (WWW-Authenticate): one list, as HTTP allows. */
    char *joined =
        bt_xasprintf("%s%s%.*s", *slot ? *slot : "", *slot ? ", " : "", (int) (end - v), v);
    free(*slot);
    *slot = joined;
    return len;
}

static size_t
on_send(char *buf, size_t size, size_t nmemb, void *userp)
{
    struct reg_xfer *x = userp;
    size_t want = size * nmemb;
    uint64_t left = x->send_len - x->send_pos;
    if (want > left)
        want = (size_t) left;
    if (want == 0)
        return 0;
    if (x->send_mem) {
        memcpy(buf, x->send_mem + x->send_pos, want);
    } else {
        ssize_t n = pread(x->send_fd, buf, want, (off_t) (x->send_off + x->send_pos));
        if (n <= 0) /* a file that shrank under us: the size we announced is a lie now */
            return CURL_READFUNC_ABORT;
        want = (size_t) n;
    }
    x->send_pos += want;
    return want;
}

static int
on_seek(void *userp, curl_off_t offset, int origin)
{
    struct reg_xfer *x = userp;
    if (origin != SEEK_SET || offset < 0 || (uint64_t) offset > x->send_len)
        return CURL_SEEKFUNC_FAIL;
    x->send_pos = (uint64_t) offset;
    return CURL_SEEKFUNC_OK;
}

int
reg_xfer_start(struct reg_xfer *x, const char *ca, size_t ca_len, bool verify, struct bt_err **err)
{
    struct eng_reg *reg = x->reg;
    BT_ASSERT(!x->easy);
    x->easy = curl_easy_init();
    if (!x->easy)
        return bt_err_set(err, ENOMEM, "cannot create a transfer");
    CURL *e = x->easy;
    bt_buf_init(&x->body, x->body_max);
    (void) curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    (void) curl_easy_setopt(e, CURLOPT_URL, x->url);
    (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    (void) curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* registry.c follows, see there */
    (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
    (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
    (void) curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    (void) curl_easy_setopt(e, CURLOPT_USERAGENT, reg->user_agent);
    (void) curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    (void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    (void) curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    /* Ask curl not to wait for "100 Continue" before an upload: registries do not need it. */
    reg_xfer_header(x, "Expect:");
    if (strcmp(x->method, "HEAD") == 0) {
        (void) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(x->method, "POST") == 0) {
        (void) curl_easy_setopt(e, CURLOPT_POST, 1L);
        (void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) x->send_len);
    } else if (x->has_body) {
        (void) curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        (void) curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) x->send_len);
        if (strcmp(x->method, "PUT") != 0)
            (void) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
    } else if (strcmp(x->method, "GET") != 0) {
        (void) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
    }
    if (x->has_body || strcmp(x->method, "POST") == 0) {
        (void) curl_easy_setopt(e, CURLOPT_READFUNCTION, on_send);
        (void) curl_easy_setopt(e, CURLOPT_READDATA, x);
        (void) curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        (void) curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
    }
    (void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (ca) {
        /* Extra CAs of certs.d on top of the system store. */
        struct curl_blob blob = { .data = (void *) ca, .len = ca_len, .flags = CURL_BLOB_COPY };
        (void) curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        /* The blob replaces the bundle; the hashed directory keeps the system's CAs (OpenSSL
         * consults both), which redirects to storage hosts need. */
        (void) curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    bt_log_debug("%s %s", x->method, x->url);
    CURLMcode mc = curl_multi_add_handle(x->reg->multi, x->easy);
    if (mc != CURLM_OK)
        return bt_err_set(err, EIO, "cannot start a transfer: %s", curl_multi_strerror(mc));
    return 0;
}

void
reg_xfer_release(struct reg_xfer *x)
{
    if (x->easy) {
        (void) curl_multi_remove_handle(x->reg->multi, x->easy);
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->url);
    free(x->content_type);
    free(x->digest);
    free(x->location);
    free(x->www_auth);
    free(x->retry_after);
    free(x->content_range);
    free(x->redirect);
    bt_buf_release(&x->body);
    struct eng_reg *reg = x->reg;
    void *owner = x->owner;
    reg_xfer_init(x, reg, owner, "GET", NULL);
}

/* ---- URLs and curl's errors ---- */

static CURLU *
url_parse(const char *url)
{
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

bool
reg_url_same_origin(const char *a, const char *b)
{
    static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
    CURLU *ua = url_parse(a), *ub = url_parse(b);
    bool same = ua && ub;
    for (size_t i = 0; same && i < BT_ARRAY_SIZE(parts); i++) {
        char *pa = NULL, *pb = NULL;
        (void) curl_url_get(ua, parts[i], &pa, CURLU_DEFAULT_PORT);
        (void) curl_url_get(ub, parts[i], &pb, CURLU_DEFAULT_PORT);
        same = pa && pb && strcasecmp(pa, pb) == 0;
        curl_free(pa);
        curl_free(pb);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

static char *
url_get(CURLU *u)
{
    char *s = NULL;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        return NULL;
    char *ret = bt_xstrdup(s);
    curl_free(s);
    return ret;
}

char *
reg_url_resolve(const char *base, const char *location)
{
    CURLU *u = url_parse(base);
    char *ret = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK)
        ret = url_get(u);
    curl_url_cleanup(u);
    return ret;
}

char *
reg_url_add_query(const char *url, const char *name, const char *value)
{
    CURLU *u = url_parse(url);
    bt_autofree char *q = bt_xasprintf("%s=%s", name, value);
    char *ret = NULL;
    if (u && curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK)
        ret = url_get(u);
    curl_url_cleanup(u);
    return ret;
}

bool
reg_curl_is_retryable(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

int
reg_curl_error(CURLcode code, const char *errbuf, const char **ret_msg)
{
    *ret_msg = errbuf && *errbuf ? errbuf : curl_easy_strerror(code);
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
        return ETIMEDOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        return EPROTO;
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return ECONNRESET;
    default:
        return EIO;
    }
}
