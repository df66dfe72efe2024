/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers in the daemon: the loop half of their lifecycle. The engine (engine/container/)
 * makes and starts them; here their output is read into the json-file logs, their exits are
 * reaped, stops are timed (stop signal, grace period, SIGKILL) and requests that wait for an
 * exit (run, wait, stop, rm -f) are answered when it comes.
 */
#define LOG_TAG "containers"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/base64.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/strv.h"
#include "engine/container/cgroup.h"
#include "engine/container/config.h"
#include "engine/container/container.h"
#include "engine/container/logfile.h"
#include "engine/container/seccomp.h"
#include "engine/image/plugin.h"
#include "engine/image/store.h"
#include "orchestrator/daemon/containers.h"
#include "orchestrator/daemon/ctr-spec.h"
#include "orchestrator/daemon/daemon.h"

#define READ_CHUNK 65536

/* A request waiting on a container: for its start, its exit, or following its logs. */
struct waiter {
    struct orch_req *req;
    enum { WAIT_EXIT, WAIT_FOLLOW, WAIT_REMOVE, WAIT_START } kind;
    bool stream; /* run: the output goes to the client as it comes */
    /* WAIT_START: what to answer once it runs: {id} (start), the container and warnings
     * (run -d), or those as progress and then the exit (run). */
    enum { STARTED_ID, STARTED_RUN_DETACHED, STARTED_RUN_ATTACHED } then;
    json_t *warnings;
    struct waiter *next;
};

/* The daemon's side of one container (eng_ctr.owner points here). */
struct rt {
    struct orch_daemon *d;
    struct eng_ctr *c;
    struct eng_log_writer *log;
    struct event *ev_out, *ev_err;
    int out_fd, err_fd;
    struct event *ev_stop; /* grace period of a stop */
    struct waiter *waiters;
    bool reaped, auto_remove;
    /* A start in progress: the setup's socket is watched on the loop. */
    struct eng_ctr_starting *starting;
    struct event *ev_start, *ev_start_timeout;
    pid_t start_pid;
    bool exited_early; /* reaped before its start completed (a very short command) */
    int early_status;
    uint64_t log_max_size;
    unsigned log_max_file;
};

/* One compiled seccomp program: the default profile (profile NULL) or a custom one's text,
 * for one capability set. */
#define SECCOMP_CACHE 8
struct filter {
    bool used;
    char *profile;
    uint64_t caps;
    struct eng_bpf bpf;
};

struct orch_ctrs {
    struct eng_cgroup_host *cg;
    struct eng_ctr_store *store;
    int init_fd; /* berth-init in a sealed memfd, made on first use */
    /* Compiled seccomp programs (a compile costs ~10 ms; the kernel still checks each load). */
    struct filter filters[SECCOMP_CACHE];
    size_t next_filter;
    struct exec_wait *execs; /* exec processes not reaped yet */
    struct logs_job *logs;   /* logs requests still reading */
};

static void start_abort(struct orch_daemon *d, struct rt *rt);
static void start_answer(struct rt *rt, const struct bt_err *err);

/* A start given up (rm -f, the daemon stopping): its process is gone, who waited is told. */
static void
start_cancel(struct orch_daemon *d, struct rt *rt, const char *why)
{
    if (!rt->starting)
        return;
    start_abort(d, rt);
    struct bt_err *err = NULL;
    (void) bt_err_set(&err, ECANCELED, "container '%s': %s while it started", rt->c->name, why);
    start_answer(rt, err);
    bt_err_free(err);
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct rt *
rt_of(struct orch_daemon *d, struct eng_ctr *c)
{
    if (!c->owner) {
        struct rt *rt = bt_xcalloc(1, sizeof *rt);
        rt->d = d;
        rt->c = c;
        rt->out_fd = rt->err_fd = -1;
        c->owner = rt;
    }
    return c->owner;
}

/* ---- output ---- */

static void
send_output(struct rt *rt, const char *stream, const void *data, size_t len)
{
    for (struct waiter *w = rt->waiters; w; w = w->next) {
        if (!w->stream)
            continue;
        bt_autofree char *b64 = bt_base64_encode(data, len);
        orch_req_progress(w->req, json_pack("{s:s, s:s}", "stream", stream, "data", b64));
    }
}

/* Followers (logs -f) get entries as they are written, so they see what the file holds. */
/* One log entry as a progress message of a logs request. */
static void
send_entry(struct orch_req *req, const struct eng_log_entry *e)
{
    bt_autofree char *b64 = bt_base64_encode(e->data, e->len);
    orch_req_progress(req, json_pack("{s:s, s:s, s:I}", "stream", eng_log_stream_str(e->stream),
                                     "data", b64, "time", (json_int_t) e->time_ns));
}

static void
on_log_entry(void *ud, const struct eng_log_entry *e)
{
    struct rt *rt = ud;
    for (struct waiter *w = rt->waiters; w; w = w->next)
        if (w->kind == WAIT_FOLLOW)
            send_entry(w->req, e);
}

static void
close_stream(struct rt *rt, bool out)
{
    struct event **ev = out ? &rt->ev_out : &rt->ev_err;
    int *fd = out ? &rt->out_fd : &rt->err_fd;
    if (*ev) {
        event_free(*ev);
        *ev = NULL;
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Read what is there; false once the stream is closed. */
static bool
drain(struct rt *rt, bool out)
{
    int fd = out ? rt->out_fd : rt->err_fd;
    char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        if (n <= 0) {
            /* EOF, or EIO on a pty whose last holder went away. */
            close_stream(rt, out);
            return false;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (rt->log) {
            bt_autoerr struct bt_err *e = NULL;
            if (eng_log_writer_write(rt->log, out ? ENG_LOG_STDOUT : ENG_LOG_STDERR, buf,
                                     (size_t) n, &ts, &e) < 0)
                bt_log_warn("container %.12s: cannot write its log: %s, continuing", rt->c->id,
                            e ? e->msg : "?");
        }
        send_output(rt, out ? "stdout" : "stderr", buf, (size_t) n);
    }
    return true; /* more may be waiting: the next loop turn reads it */
}

static void finish_exit(struct rt *rt);

static void
on_output(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct rt *rt = arg;
    bool out = fd == rt->out_fd;
    if (!drain(rt, out) && rt->reaped && rt->out_fd < 0 && rt->err_fd < 0)
        finish_exit(rt);
}

/* ---- exit ---- */

static void
waiter_free_all(struct rt *rt, int kind_mask)
{
    struct waiter **pw = &rt->waiters;
    while (*pw) {
        struct waiter *w = *pw;
        if (!(kind_mask & (1 << w->kind))) {
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        json_decref(w->warnings);
        free(w);
    }
}

static void
rt_forget(struct rt *rt)
{
    close_stream(rt, true);
    close_stream(rt, false);
    if (rt->ev_stop)
        event_free(rt->ev_stop);
    rt->ev_stop = NULL;
    rt->log = eng_log_writer_free(rt->log);
}

static char *
image_of(const struct eng_ctr *c)
{
    const char *id = json_string_value(json_object_get(json_object_get(c->config, "image"), "id"));
    return id ? bt_xstrdup(id) : NULL;
}

/* The layers of an image removed (rm -f) while this container used them can go now. */
static void
sweep_orphan_layers(struct orch_daemon *d, const char *image_id)
{
    if (image_id && !eng_img_store_find(d->images, image_id, NULL))
        orch_images_sweep(d);
}

static void
remove_now(struct orch_daemon *d, struct rt *rt, struct orch_req *req)
{
    struct eng_ctr *c = rt->c;
    bt_autoerr struct bt_err *e = NULL;
    char id[65];
    snprintf(id, sizeof id, "%s", c->id);
    bt_autofree char *name = bt_xstrdup(c->name);
    bt_autofree char *image_id = image_of(c);
    start_cancel(d, rt, "removed");
    /* Requests still waiting on it (logs -f) end now. */
    for (struct waiter *w = rt->waiters; w; w = w->next)
        if (w->req != req)
            orch_req_finish(w->req, 0, NULL, NULL);
    waiter_free_all(rt, ~0);
    rt_forget(rt);
    c->owner = NULL;
    /* rm -v, and run --rm, which also removes the anonymous volumes (as Docker). */
    bool volumes = rt->auto_remove || (req && json_is_true(json_object_get(req->args, "volumes")));
    int r = eng_ctr_remove(d->ctrs->store, c, volumes, &e);
    if (r < 0) {
        c->owner = rt;
        if (req)
            orch_req_finish(req, r, NULL, BT_TAKE_PTR(e));
        return;
    }
    free(rt);
    sweep_orphan_layers(d, image_id);
    if (req)
        orch_req_finish(req, 0, json_pack("{s:s, s:s}", "id", id, "name", name), NULL);
}

/* The process is reaped and its streams are closed: the exit is complete. */
static void
finish_exit(struct rt *rt)
{
    if (rt->log) {
        (void) eng_log_writer_flush(rt->log, NULL);
        rt->log = eng_log_writer_free(rt->log);
    }
    if (rt->ev_stop) {
        event_free(rt->ev_stop);
        rt->ev_stop = NULL;
    }
    struct eng_ctr *c = rt->c;
    bt_log_info("container %s (%.12s) exited with %d%s", c->name, c->id, c->exit_code,
                c->oom_killed ? " (OOM killed)" : "");
    struct waiter *ws = rt->waiters;
    rt->waiters = NULL;
    struct orch_req *remove_req = NULL;
    for (struct waiter *w = ws, *next; w; w = next) {
        next = w->next;
        if (w->kind == WAIT_REMOVE)
            remove_req = w->req;
        else
            orch_req_finish(w->req, 0,
                            json_pack("{s:s, s:i, s:b}", "id", c->id, "exit_code", c->exit_code,
                                      "oom_killed", c->oom_killed),
                            NULL);
        json_decref(w->warnings);
        free(w);
    }
    if (remove_req || rt->auto_remove)
        remove_now(rt->d, rt, remove_req);
}

static void
on_reaped(struct orch_daemon *d, pid_t pid, int status, void *ud)
{
    (void) pid;
    struct rt *rt = ud;
    if (rt->starting) {
        /* Its setup's answer (execve, or an error) is still to be read: finish that first. */
        rt->exited_early = true;
        rt->early_status = status;
        return;
    }
    eng_ctr_exited(d->ctrs->store, rt->c, status);
    rt->reaped = true;
    /* PID 1's end killed its namespace: the pipes close soon. Read what is left now; a
     * stream some process outside holds open (a shared pid namespace) is not waited for. */
    if (rt->out_fd >= 0)
        (void) drain(rt, true);
    if (rt->err_fd >= 0)
        (void) drain(rt, false);
    close_stream(rt, true);
    close_stream(rt, false);
    finish_exit(rt);
}

/* ---- start ---- */

static int
init_memfd(struct orch_ctrs *cs, struct bt_err **err)
{
    if (cs->init_fd >= 0)
        return cs->init_fd;
    char path[PATH_MAX + 32];
    int r = eng_plugin_file_path("berth-init", path, sizeof path, err);
    if (r < 0)
        return r;
    bt_autofree char *data = NULL;
    size_t len = 0;
    if ((r = bt_file_read_at(AT_FDCWD, path, 16 << 20, &data, &len, err)) < 0)
        return r;
    int fd = memfd_create("berth-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create a memfd for berth-init");
    /* Sealed: no process, in a container or not, can change what later containers run. */
    if (bt_write_all(fd, data, len) < 0 || fchmod(fd, 0555) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        r = bt_err_errno(err, -errno, "cannot seal berth-init");
        close(fd);
        return r;
    }
    cs->init_fd = fd;
    return fd;
}

/* The seccomp program for a spec: compiled once per profile and capability set, then cached
 * (the cache also bounds what libseccomp loses on some custom profiles). */
static int
seccomp_for(struct orch_ctrs *cs, const struct eng_ctr_spec *spec, uint64_t caps,
            const struct eng_bpf **ret, struct bt_err **err)
{
    *ret = NULL;
    if (spec->seccomp == ENG_SECCOMP_UNCONFINED || spec->privileged)
        return 0;
    const char *text = spec->seccomp == ENG_SECCOMP_PROFILE ? spec->seccomp_profile : NULL;
    for (size_t i = 0; i < SECCOMP_CACHE; i++) {
        struct filter *f = &cs->filters[i];
        if (f->used && f->caps == caps && bt_streq(f->profile, text)) {
            *ret = &f->bpf;
            return 0;
        }
    }
    struct eng_seccomp_env env;
    int r = eng_seccomp_env_host(caps, &env, err);
    if (r < 0)
        return r;
    struct eng_seccomp_profile *own = NULL;
    if (text && (r = eng_seccomp_profile_parse(text, strlen(text), &own, err)) < 0)
        return bt_err_wrap(err, "security_opt seccomp profile");
    struct eng_bpf bpf = { 0 };
    r = eng_seccomp_compile(own ? own : eng_seccomp_profile_default(), &env, &bpf, err);
    eng_seccomp_profile_free(own);
    if (r < 0)
        return r;
    /* The oldest entry makes room. */
    struct filter *f = &cs->filters[cs->next_filter];
    cs->next_filter = (cs->next_filter + 1) % SECCOMP_CACHE;
    eng_bpf_release(&f->bpf);
    free(f->profile);
    *f = (struct filter){
        .used = true, .caps = caps, .bpf = bpf, .profile = text ? bt_xstrdup(text) : NULL
    };
    *ret = &f->bpf;
    return 0;
}

static int
spec_of(struct eng_ctr *c, struct eng_ctr_spec *ret, struct bt_err **err)
{
    /* service:X forms need the project: they come with the orchestrator. */
    return orch_ctr_spec_from_json(json_object_get(c->config, "spec"), c->name, NULL, ret, err);
}

static void on_start_ready(evutil_socket_t fd, short what, void *arg);
static void on_start_timeout(evutil_socket_t fd, short what, void *arg);
/* A container's setup (mounts, a volume's copy-up) gets this long. */
#define START_TIMEOUT_S 120

/* Begin a start; what waits for it adds a WAIT_START waiter. */
static int
start_one(struct orch_daemon *d, struct eng_ctr *c, int stdin_fd, struct bt_err **err)
{
    struct rt *rt = rt_of(d, c);
    if (rt->starting)
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is starting", c->name);
    struct orch_ctrs *cs = d->ctrs;
    struct eng_ctr_spec spec = { 0 };
    int r = spec_of(c, &spec, err);
    struct eng_ctr_proc proc = { 0 };
    const struct eng_bpf *filter = NULL;
    if (r == 0)
        r = eng_ctr_proc_make(&spec, json_object_get(json_object_get(c->config, "image"), "config"),
                              &proc, err);
    if (r == 0)
        r = seccomp_for(cs, &spec, proc.caps, &filter, err);
    int init_fd = -1;
    if (r == 0 && spec.init && (init_fd = init_memfd(cs, err)) < 0)
        r = init_fd;
    /* container:NAME: the other container's PID 1 names its namespaces. */
    int joins[3] = { -1, -1, -1 };
    const char *withs[3] = { spec.pid_with, spec.ipc_with, spec.net_with };
    const enum eng_ns_mode modes[3] = { spec.pid_mode, spec.ipc_mode, spec.net_mode };
    for (size_t i = 0; r == 0 && i < 3; i++) {
        if (modes[i] != ENG_NS_MODE_SHARE)
            continue;
        struct eng_ctr *other = eng_ctr_find(cs->store, withs[i], err);
        if (!other)
            r = -1;
        else if (other == c)
            r = bt_err_set(err, BT_EINVALID, "a container cannot share its own namespaces");
        else if (other->status == ENG_CTR_RUNNING || other->status == ENG_CTR_PAUSED)
            joins[i] = other->pidfd;
    }
    if (r == 0) {
        struct eng_ctr_start_opts o = { .proc = &proc,
                                        .seccomp = filter,
                                        .init_fd = init_fd,
                                        .stdin_fd = stdin_fd,
                                        .join_pid_fd = joins[0],
                                        .join_ipc_fd = joins[1],
                                        .join_net_fd = joins[2] };
        r = eng_ctr_start_begin(cs->store, c, &spec, &o, &rt->starting, err);
    }
    if (r == 0) {
        /* From the clone on, the process is ours to reap. */
        rt->start_pid = eng_ctr_starting_pid(rt->starting);
        rt->exited_early = false;
        rt->log_max_size = spec.log_max_size;
        rt->log_max_file = spec.log_max_file;
        orch_children_watch(d, rt->start_pid, on_reaped, rt);
        rt->ev_start = event_new(d->base, eng_ctr_starting_fd(rt->starting), EV_READ | EV_PERSIST,
                                 on_start_ready, rt);
        event_add(rt->ev_start, NULL);
        /* A setup stuck in the kernel (a hung network bind, say) must not wait for ever. */
        rt->ev_start_timeout = evtimer_new(d->base, on_start_timeout, rt);
        struct timeval tv = { START_TIMEOUT_S, 0 };
        evtimer_add(rt->ev_start_timeout, &tv);
    }
    eng_ctr_proc_release(&proc);
    eng_ctr_spec_release(&spec);
    return r;
}

/* The process runs: its streams into the log, its exit watched. */
static void
start_finish(struct orch_daemon *d, struct rt *rt, const struct eng_ctr_io *io)
{
    struct eng_ctr *c = rt->c;
    rt->reaped = false;
    bt_autoerr struct bt_err *e = NULL;
    bt_autoclose int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char name[80];
    snprintf(name, sizeof name, "%s-json.log", c->id);
    if (dfd < 0 ||
        eng_log_writer_open(dfd, name, rt->log_max_size, rt->log_max_file, &rt->log, &e) < 0)
        bt_log_warn("container %.12s: no log file: %s, continuing", c->id,
                    e ? e->msg : strerror(errno));
    else
        eng_log_writer_set_tap(rt->log, on_log_entry, rt);
    rt->out_fd = io->out_fd;
    rt->err_fd = io->err_fd;
    if (rt->out_fd >= 0) {
        (void) fcntl(rt->out_fd, F_SETFL, O_NONBLOCK);
        rt->ev_out = event_new(d->base, rt->out_fd, EV_READ | EV_PERSIST, on_output, rt);
        event_add(rt->ev_out, NULL);
    }
    if (rt->err_fd >= 0) {
        (void) fcntl(rt->err_fd, F_SETFL, O_NONBLOCK);
        rt->ev_err = event_new(d->base, rt->err_fd, EV_READ | EV_PERSIST, on_output, rt);
        event_add(rt->ev_err, NULL);
    }
    bt_log_info("container %s (%.12s) started, pid %d", c->name, c->id, (int) c->pid);
}

/* Give up a start in progress: the process is killed and reaped here (the loop's reaper must
 * not see it, the container may be gone by then). */
static void
start_abort(struct orch_daemon *d, struct rt *rt)
{
    if (!rt->starting)
        return;
    event_free(rt->ev_start);
    rt->ev_start = NULL;
    if (rt->ev_start_timeout)
        event_free(rt->ev_start_timeout);
    rt->ev_start_timeout = NULL;
    orch_children_forget(d, rt->start_pid);
    eng_ctr_start_abort(rt->c, rt->starting, !rt->exited_early);
    rt->starting = NULL;
    rt->exited_early = false;
}

/* Answer what waited for the start: the result, or the error. */
static void
start_answer(struct rt *rt, const struct bt_err *err)
{
    struct eng_ctr *c = rt->c;
    for (struct waiter **pw = &rt->waiters; *pw;) {
        struct waiter *w = *pw;
        if (w->kind != WAIT_START) {
            pw = &w->next;
            continue;
        }
        if (err) {
            orch_req_finish(w->req, -err->code, NULL, bt_err_copy(err));
        } else if (w->then == STARTED_ID) {
            orch_req_finish(w->req, 0, json_pack("{s:s}", "id", c->id), NULL);
        } else if (w->then == STARTED_RUN_DETACHED) {
            orch_req_finish(
                w->req, 0,
                json_pack("{s:s, s:s, s:O}", "id", c->id, "name", c->name, "warnings", w->warnings),
                NULL);
        } else {
            /* Attached: the output streams from now on, the reply comes at the exit. */
            orch_req_progress(w->req, json_pack("{s:s, s:s, s:O}", "id", c->id, "name", c->name,
                                                "warnings", w->warnings));
            w->kind = WAIT_EXIT;
            w->stream = true;
            json_decref(w->warnings);
            w->warnings = NULL;
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        json_decref(w->warnings);
        free(w);
    }
}

static void remove_now(struct orch_daemon *d, struct rt *rt, struct orch_req *req);

static void
on_start_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct rt *rt = arg;
    struct orch_daemon *d = rt->d;
    struct bt_err *err = NULL;
    (void) bt_err_set(&err, ETIMEDOUT, "container '%s': its setup took over %d s", rt->c->name,
                      START_TIMEOUT_S);
    start_abort(d, rt);
    start_answer(rt, err);
    bt_err_free(err);
    if (rt->auto_remove)
        remove_now(d, rt, NULL);
}

static void
on_start_ready(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct rt *rt = arg;
    struct orch_daemon *d = rt->d;
    struct eng_ctr_io io = { -1, -1 };
    bt_autoerr struct bt_err *err = NULL;
    int r = eng_ctr_start_step(d->ctrs->store, rt->c, rt->starting, &io, &err);
    if (r > 0)
        return;
    if (r < 0) {
        (void) bt_err_wrap(&err, "container '%s'", rt->c->name);
        start_abort(d, rt);
        start_answer(rt, err);
        if (rt->auto_remove)
            remove_now(d, rt, NULL);
        return;
    }
    event_free(rt->ev_start);
    rt->ev_start = NULL;
    event_free(rt->ev_start_timeout);
    rt->ev_start_timeout = NULL;
    rt->starting = NULL; /* freed by the step */
    start_finish(d, rt, &io);
    start_answer(rt, NULL);
    if (rt->exited_early) {
        /* A short command ended before its start was read: its exit comes now. */
        rt->exited_early = false;
        on_reaped(d, rt->start_pid, rt->early_status, rt);
    }
}

/* ---- stop ---- */

static void
on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct rt *rt = arg;
    bt_log_info("container %s did not stop in time: killing it", rt->c->name);
    (void) eng_ctr_kill(rt->c, SIGKILL, NULL);
}

/* Stop signal, then SIGKILL after the grace period (at once when PID 1 does not catch it). */
static void
stop_begin(struct orch_daemon *d, struct rt *rt, int64_t timeout_ns)
{
    struct eng_ctr *c = rt->c;
    int sig = c->stop_signal > 0 ? c->stop_signal : SIGTERM;
    if (timeout_ns < 0)
        timeout_ns = c->stop_grace_ns > 0 ? c->stop_grace_ns : 10LL * 1000000000;
    if (c->status == ENG_CTR_PAUSED)
        (void) eng_ctr_pause(c, false, NULL);
    if (timeout_ns == 0 || !eng_ctr_catches(c, sig)) {
        (void) eng_ctr_kill(c, SIGKILL, NULL);
        return;
    }
    (void) eng_ctr_kill(c, sig, NULL);
    if (!rt->ev_stop) {
        rt->ev_stop = evtimer_new(d->base, on_stop_timeout, rt);
        struct timeval tv = { (time_t) (timeout_ns / 1000000000),
                              (suseconds_t) (timeout_ns % 1000000000 / 1000) };
        evtimer_add(rt->ev_stop, &tv);
    }
}

static struct waiter *
wait_add(struct rt *rt, struct orch_req *req, int kind, bool stream)
{
    struct waiter *w = bt_xcalloc(1, sizeof *w);
    w->req = orch_req_defer(req);
    w->kind = kind;
    w->stream = stream;
    w->next = rt->waiters;
    rt->waiters = w;
    return w;
}

/* ---- operations ---- */

static int
find(struct orch_req *req, struct eng_ctr **ret, struct bt_err **err)
{
    const char *name = json_string_value(json_object_get(req->args, "name"));
    if (!name)
        return bt_err_set(err, BT_EUSAGE, "argument 'name' is missing");
    *ret = eng_ctr_find(req->d->ctrs->store, name, err);
    return *ret ? 0 : -1;
}

static int
create_one(struct orch_req *req, bool auto_remove, json_t *warnings, struct eng_ctr **ret,
           struct bt_err **err)
{
    struct orch_daemon *d = req->d;
    const json_t *sj = json_object_get(req->args, "spec");
    const char *name = json_string_value(json_object_get(req->args, "name"));
    if (!json_is_object(sj))
        return bt_err_set(err, BT_EUSAGE, "argument 'spec' is missing");
    struct eng_ctr_spec spec = { 0 };
    int r = orch_ctr_spec_from_json(sj, name, NULL, &spec, err);
    if (r < 0)
        return r;
    spec.auto_remove = auto_remove;
    if (!spec.image) {
        eng_ctr_spec_release(&spec);
        return bt_err_set(err, BT_EUSAGE, "the container has no image");
    }
    const json_t *rec = eng_img_store_find(d->images, spec.image, err);
    json_t *insp = NULL;
    if (!rec || eng_img_store_inspect(d->images, rec, &insp, err) < 0) {
        if (err && *err && (*err)->code == ENOENT)
            bt_err_hint(err, "pull it first: berth image pull %s", spec.image);
        eng_ctr_spec_release(&spec);
        return -1;
    }
    const json_t *layers = json_object_get(rec, "layers");
    size_t nl = json_array_size(layers);
    const char **chain = bt_xcalloc(nl + 1, sizeof *chain);
    for (size_t i = 0; i < nl; i++)
        chain[i] = json_string_value(json_object_get(json_array_get(layers, i), "chain_id"));
    struct eng_ctr_image img = {
        .id = json_string_value(json_object_get(rec, "id")),
        .ref = spec.image,
        .config = json_object_get(insp, "Config"),
        .layers = chain,
        .nlayers = nl,
    };
    /* The image's config is checked now, so a bad command fails at create. */
    struct eng_ctr_proc proc = { 0 };
    r = eng_ctr_proc_make(&spec, img.config, &proc, err);
    if (r == 0)
        r = eng_ctr_create(d->ctrs->store, &spec, sj, &img, &proc, ret, err);
    eng_ctr_proc_release(&proc);
    /* Options for security modules this host does not run: told, never dropped silently. */
    for (size_t i = 0; r == 0 && spec.security_opt_unsupported && spec.security_opt_unsupported[i];
         i++)
        json_array_append_new(warnings,
                              json_sprintf("security_opt '%s' has no effect: berth does not "
                                           "apply AppArmor or SELinux labels",
                                           spec.security_opt_unsupported[i]));
    free(chain);
    json_decref(insp);
    eng_ctr_spec_release(&spec);
    return r;
}

static int
op_create(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    json_t *warnings = json_array();
    if (create_one(req, false, warnings, &c, err) < 0) {
        json_decref(warnings);
        return -1;
    }
    *ret = json_pack("{s:s, s:s, s:o}", "id", c->id, "name", c->name, "warnings", warnings);
    return 0;
}

static int
op_start(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) {
        *ret = json_pack("{s:s}", "id", c->id); /* docker start of a running one is fine */
        return 0;
    }
    if (start_one(req->d, c, -1, err) < 0)
        return bt_err_wrap(err, "container '%s'", c->name);
    wait_add(rt_of(req->d, c), req, WAIT_START, false)->then = STARTED_ID;
    return ORCH_OP_PENDING;
}

/* create + start; unless detached, the output streams to the client and the reply carries
 * the exit code. A client that goes away does not stop the container (docker run does not
 * either), but with rm it is removed when it exits. */
static int
op_run(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) ret; /* the reply comes once it runs (detached) or has ended */
    struct eng_ctr *c;
    json_t *warnings = json_array();
    bool detach = json_is_true(json_object_get(req->args, "detach"));
    bool rm = json_is_true(json_object_get(req->args, "rm"));
    if (create_one(req, rm, warnings, &c, err) < 0) {
        json_decref(warnings);
        return -1;
    }
    int stdin_fd = orch_req_take_fd(req, 0);
    int r = start_one(req->d, c, stdin_fd, err);
    if (stdin_fd >= 0)
        close(stdin_fd);
    struct rt *rt = rt_of(req->d, c);
    if (r < 0) {
        json_decref(warnings);
        (void) bt_err_wrap(err, "container '%s'", c->name);
        if (rm) {
            rt_forget(rt);
            c->owner = NULL;
            free(rt);
            (void) eng_ctr_remove(req->d->ctrs->store, c, true, NULL);
        }
        return r;
    }
    rt->auto_remove = rm;
    struct waiter *w = wait_add(rt, req, WAIT_START, false);
    w->then = detach ? STARTED_RUN_DETACHED : STARTED_RUN_ATTACHED;
    w->warnings = warnings;
    return ORCH_OP_PENDING;
}

static int
op_wait(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    if (c->status != ENG_CTR_RUNNING && c->status != ENG_CTR_PAUSED) {
        *ret = json_pack("{s:s, s:i, s:b}", "id", c->id, "exit_code", c->exit_code, "oom_killed",
                         c->oom_killed);
        return 0;
    }
    wait_add(rt_of(req->d, c), req, WAIT_EXIT, false);
    return ORCH_OP_PENDING;
}

static int
op_stop(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    if (c->status != ENG_CTR_RUNNING && c->status != ENG_CTR_PAUSED) {
        *ret = json_pack("{s:s, s:i}", "id", c->id, "exit_code", c->exit_code);
        return 0;
    }
    json_t *t = json_object_get(req->args, "timeout");
    int64_t timeout = json_is_integer(t) ? json_integer_value(t) * 1000000000 : -1;
    struct rt *rt = rt_of(req->d, c);
    wait_add(rt, req, WAIT_EXIT, false);
    stop_begin(req->d, rt, timeout);
    return ORCH_OP_PENDING;
}

static int
op_kill(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    const char *s = json_string_value(json_object_get(req->args, "signal"));
    int sig = SIGKILL;
    if (s && bt_signal_parse(s, &sig) < 0)
        return bt_err_set(err, BT_EINVALID, "invalid signal '%s'", s);
    if (eng_ctr_kill(c, sig, err) < 0)
        return -1;
    *ret = json_pack("{s:s}", "id", c->id);
    return 0;
}

static int
op_pause(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    bool pause = bt_streq(req->op, "container.pause");
    if (eng_ctr_pause(c, pause, err) < 0)
        return -1;
    *ret = json_pack("{s:s}", "id", c->id);
    return 0;
}

static int
op_rm(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    bool force = json_is_true(json_object_get(req->args, "force"));
    struct rt *rt = rt_of(req->d, c);
    if (rt->starting) {
        if (!force)
            return bt_err_set(err, BT_ECONFLICT, "container '%s' is starting", c->name);
        start_cancel(req->d, rt, "removed");
    }
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) {
        if (!force) {
            int r = bt_err_set(err, BT_ECONFLICT, "container '%s' is running", c->name);
            bt_err_hint(err, "stop it first, or use rm -f");
            return r;
        }
        wait_add(rt, req, WAIT_REMOVE, false);
        (void) eng_ctr_kill(c, SIGKILL, NULL);
        return ORCH_OP_PENDING;
    }
    char id[65];
    snprintf(id, sizeof id, "%s", c->id);
    bt_autofree char *name = bt_xstrdup(c->name);
    rt_forget(rt);
    for (struct waiter *w = rt->waiters; w; w = w->next)
        orch_req_finish(w->req, 0, NULL, NULL);
    waiter_free_all(rt, ~0);
    c->owner = NULL;
    free(rt);
    bt_autofree char *image_id = image_of(c);
    bool volumes = json_is_true(json_object_get(req->args, "volumes"));
    if (eng_ctr_remove(req->d->ctrs->store, c, volumes, err) < 0)
        return -1;
    sweep_orphan_layers(req->d, image_id);
    *ret = json_pack("{s:s, s:s}", "id", id, "name", name);
    return 0;
}

static json_t *
summary(const struct eng_ctr *c)
{
    const json_t *image = json_object_get(c->config, "image");
    /* What runs, as create worked it out from the spec and the image. */
    json_t *argv = json_object_get(c->config, "argv");
    json_t *cmd = json_is_array(argv) ? json_incref(argv) : json_array();
    return json_pack("{s:s, s:s, s:O, s:O, s:o, s:I, s:s, s:i, s:I, s:I, s:b}", "id", c->id, "name",
                     c->name, "image", json_object_get(image, "ref"), "image_id",
                     json_object_get(image, "id"), "command", cmd, "created",
                     (json_int_t) c->created_ns, "state", eng_ctr_status_str(c->status),
                     "exit_code", c->exit_code, "started_at", (json_int_t) c->started_ns,
                     "finished_at", (json_int_t) c->finished_ns, "oom_killed", c->oom_killed);
}

static int
op_list(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    (void) err;
    bool all = json_is_true(json_object_get(req->args, "all"));
    size_t n;
    struct eng_ctr *const *cs = eng_ctr_list(req->d->ctrs->store, &n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        if (all || cs[i]->status == ENG_CTR_RUNNING || cs[i]->status == ENG_CTR_PAUSED)
            json_array_append_new(out, summary(cs[i]));
    *ret = json_pack("{s:o, s:I}", "containers", out, "now", (json_int_t) now_ns());
    return 0;
}

static int
op_inspect(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    *ret = eng_ctr_inspect(c);
    return 0;
}

/* A logs request reading the files: a slice per loop turn, so a long log never holds the loop,
 * and none while the client has not read what is queued for it. */
#define LOGS_SLICE 256
#define LOGS_QUEUED_MAX (4u << 20)
struct logs_job {
    struct orch_daemon *d;
    struct orch_req *req;
    struct eng_log_reader *reader;
    struct event *ev;
    char id[65];
    bool follow;
    struct logs_job *next; /* orch_ctrs.logs */
};

static void
logs_job_end(struct logs_job *job, struct bt_err *err)
{
    for (struct logs_job **pj = &job->d->ctrs->logs; *pj; pj = &(*pj)->next)
        if (*pj == job) {
            *pj = job->next;
            break;
        }
    eng_log_reader_free(job->reader);
    event_free(job->ev);
    if (job->req)
        orch_req_done(job->req, err, json_object());
    free(job);
}

static void
on_logs_turn(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    struct logs_job *job = arg;
    if (orch_req_client_gone(job->req)) {
        logs_job_end(job, NULL);
        return;
    }
    if (orch_req_queued(job->req) > LOGS_QUEUED_MAX) {
        /* The client reads slower than the disk: look again shortly. */
        struct timeval tv = { 0, 20000 };
        event_add(job->ev, &tv);
        return;
    }
    struct bt_err *err = NULL;
    struct eng_log_entry e;
    int k = 1;
    for (int n = 0; n < LOGS_SLICE && (k = eng_log_reader_next(job->reader, &e, &err)) > 0; n++)
        send_entry(job->req, &e);
    if (k > 0) {
        event_active(job->ev, 0, 0);
        return;
    }
    /* Everything written so far is sent; a follower gets what comes next from the writer,
     * from this same loop turn on, so nothing is lost or sent twice. */
    struct eng_ctr *c = k == 0 ? eng_ctr_find(job->d->ctrs->store, job->id, NULL) : NULL;
    if (job->follow && c && (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED)) {
        struct rt *rt = rt_of(job->d, c);
        struct waiter *w = bt_xcalloc(1, sizeof *w);
        w->req = BT_TAKE_PTR(job->req);
        w->kind = WAIT_FOLLOW;
        w->next = rt->waiters;
        rt->waiters = w;
    }
    logs_job_end(job, err);
}

static int
op_logs(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    struct eng_log_read_opts o = { .tail = -1 };
    json_t *tail = json_object_get(req->args, "tail");
    if (json_is_integer(tail))
        o.tail = json_integer_value(tail);
    const char *since = json_string_value(json_object_get(req->args, "since"));
    const char *until = json_string_value(json_object_get(req->args, "until"));
    int64_t now = now_ns();
    if (since && eng_log_time_parse(since, now, &o.since_ns, err) < 0)
        return bt_err_wrap(err, "--since");
    if (until && eng_log_time_parse(until, now, &o.until_ns, err) < 0)
        return bt_err_wrap(err, "--until");
    bt_autoclose int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", c->dir);
    char name[80];
    snprintf(name, sizeof name, "%s-json.log", c->id);
    struct logs_job *job = bt_xcalloc(1, sizeof *job);
    if (eng_log_reader_open(dfd, name, &o, &job->reader, err) < 0) {
        free(job);
        return -1;
    }
    (void) ret; /* the reply comes once everything asked for was sent */
    job->d = req->d;
    snprintf(job->id, sizeof job->id, "%s", c->id);
    job->follow = json_is_true(json_object_get(req->args, "follow")) && !o.until_ns;
    job->req = orch_req_defer(req);
    job->ev = event_new(req->d->base, -1, 0, on_logs_turn, job);
    job->next = req->d->ctrs->logs;
    req->d->ctrs->logs = job;
    event_active(job->ev, 0, 0);
    return ORCH_OP_PENDING;
}

/* ---- exec ---- */

/* One exec process: its reply goes out when it is reaped. */
struct exec_wait {
    struct orch_req *req;
    int pidfd;
    pid_t pid;
    struct exec_wait *next; /* orch_ctrs.execs */
};

static void
on_exec_reaped(struct orch_daemon *d, pid_t pid, int status, void *ud)
{
    (void) pid;
    struct exec_wait *w = ud;
    for (struct exec_wait **pw = &d->ctrs->execs; *pw; pw = &(*pw)->next)
        if (*pw == w) {
            *pw = w->next;
            break;
        }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (w->req)
        orch_req_finish(w->req, 0, json_pack("{s:i}", "exit_code", code), NULL);
    close(w->pidfd);
    free(w);
}

static char **
strv_from_json(const json_t *arr)
{
    size_t n = json_array_size(arr);
    char **v = bt_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        v[i] = bt_xstrdup(s ? s : "");
    }
    return v;
}

/* docker exec. Without a tty the client's own stdin (when interactive), stdout and stderr
 * come with the request and become the process's: its bytes never pass through the daemon.
 * With a tty the pty's master goes back to the client in a progress message. The reply
 * carries the exit code (at once with detach). */
static int
op_exec(struct orch_req *req, json_t **ret, struct bt_err **err)
{
    struct eng_ctr *c;
    if (find(req, &c, err) < 0)
        return -1;
    const json_t *cmd = json_object_get(req->args, "cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return bt_err_set(err, BT_EUSAGE, "argument 'cmd' is missing");
    bool tty = json_is_true(json_object_get(req->args, "tty"));
    bool detach = json_is_true(json_object_get(req->args, "detach"));
    bool with_stdin = json_is_true(json_object_get(req->args, "stdin"));
    struct eng_ctr_spec spec = { 0 };
    if (spec_of(c, &spec, err) < 0)
        return -1;
    char **argv = strv_from_json(cmd);
    char **env = strv_from_json(json_object_get(req->args, "env"));
    struct eng_ctr_exec_opts o = {
        .argv = argv,
        .env = env,
        .user = json_string_value(json_object_get(req->args, "user")),
        .workdir = json_string_value(json_object_get(req->args, "workdir")),
        .tty = tty,
        .privileged = json_is_true(json_object_get(req->args, "privileged")),
        .stdio = { -1, -1, -1 },
    };
    if (!tty) {
        size_t k = 0;
        if (with_stdin)
            o.stdio[0] = orch_req_take_fd(req, k++);
        o.stdio[1] = orch_req_take_fd(req, k++);
        o.stdio[2] = orch_req_take_fd(req, k++);
    }
    int r = 0;
    if (o.workdir && o.workdir[0] != '/')
        r = bt_err_set(err, BT_EUSAGE, "the working directory '%s' is not absolute", o.workdir);
    const struct eng_bpf *filter = NULL;
    struct eng_ctr_proc proc = { 0 };
    if (r == 0)
        r = eng_ctr_proc_make(&spec, json_object_get(json_object_get(c->config, "image"), "config"),
                              &proc, err);
    if (r == 0 && !o.privileged)
        r = seccomp_for(req->d->ctrs, &spec, proc.caps, &filter, err);
    o.seccomp = filter;
    o.proc = &proc;
    struct eng_ctr_exec_proc p = { .pty_master = -1 };
    if (r == 0)
        r = eng_ctr_exec(c, &spec, &o, &p, err);
    for (int i = 0; i < 3; i++)
        if (o.stdio[i] >= 0)
            close(o.stdio[i]);
    eng_ctr_proc_release(&proc);
    eng_ctr_spec_release(&spec);
    bt_strv_free(argv);
    bt_strv_free(env);
    if (r < 0)
        return bt_err_wrap(err, "exec in container '%s'", c->name);
    struct exec_wait *w = bt_xcalloc(1, sizeof *w);
    w->pidfd = p.pidfd;
    w->pid = p.pid;
    w->next = req->d->ctrs->execs;
    req->d->ctrs->execs = w;
    orch_children_watch(req->d, p.pid, on_exec_reaped, w);
    if (p.pty_master >= 0) {
        orch_req_progress_fds(req, json_pack("{s:i}", "pid", (int) p.pid), &p.pty_master, 1);
        close(p.pty_master);
    }
    if (detach) {
        *ret = json_pack("{s:i}", "pid", (int) p.pid);
        return 0;
    }
    w->req = orch_req_defer(req);
    return ORCH_OP_PENDING;
}

const struct orch_op orch_container_ops[] = {
    { "container.create", op_create },   { "container.exec", op_exec },
    { "container.inspect", op_inspect }, { "container.kill", op_kill },
    { "container.list", op_list },       { "container.logs", op_logs },
    { "container.pause", op_pause },     { "container.rm", op_rm },
    { "container.run", op_run },         { "container.start", op_start },
    { "container.stop", op_stop },       { "container.unpause", op_pause },
    { "container.wait", op_wait },
};
const size_t orch_ncontainer_ops = BT_ARRAY_SIZE(orch_container_ops);

/* ---- the module ---- */

bool
orch_containers_use_image(struct orch_daemon *d, const char *image_id)
{
    return d->ctrs && eng_ctr_store_uses_image(d->ctrs->store, image_id);
}

bool
orch_containers_run_image(struct orch_daemon *d, const char *image_id)
{
    return d->ctrs && eng_ctr_store_runs_image(d->ctrs->store, image_id);
}

static bool
layer_used(void *ud, const char *chain_id)
{
    struct orch_daemon *d = ud;
    return d->ctrs && d->ctrs->store && eng_ctr_store_uses_layer(d->ctrs->store, chain_id);
}

int
orch_containers_open(struct orch_daemon *d, struct bt_err **err)
{
    struct orch_ctrs *cs = bt_xcalloc(1, sizeof *cs);
    cs->init_fd = -1;
    int r = eng_cgroup_host_open("/proc/self/mountinfo", "", &cs->cg, err);
    if (r == 0)
        r = eng_ctr_store_open(d->paths.root, d->cas, cs->cg, &cs->store, err);
    d->ctrs = cs;
    if (r == 0)
        eng_img_store_set_layer_used(d->images, layer_used, d);
    if (r < 0)
        orch_containers_close(d);
    return r;
}

static bool
is_up(const struct eng_ctr *c)
{
    return c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED;
}

/* At daemon stop, as Docker without live-restore: every running container gets its stop
 * signal at once, they have the longest of their grace periods (at most SHUTDOWN_MAX_S) to
 * exit while their output is still logged, and what is left is killed. Blocking: the loop has
 * stopped. */
#define SHUTDOWN_MAX_S 30
static void
stop_all(struct orch_daemon *d)
{
    struct orch_ctrs *cs = d->ctrs;
    size_t n = 0;
    struct eng_ctr *const *all = eng_ctr_list(cs->store, &n);
    int64_t grace_ns = 0;
    size_t up = 0;
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = all[i];
        if (!is_up(c))
            continue;
        up++;
        if (c->status == ENG_CTR_PAUSED)
            (void) eng_ctr_pause(c, false, NULL);
        int sig = c->stop_signal > 0 ? c->stop_signal : SIGTERM;
        if (!eng_ctr_catches(c, sig)) {
            (void) eng_ctr_kill(c, SIGKILL, NULL);
            continue;
        }
        (void) eng_ctr_kill(c, sig, NULL);
        int64_t g = c->stop_grace_ns > 0 ? c->stop_grace_ns : 10LL * 1000000000;
        grace_ns = g > grace_ns ? g : grace_ns;
    }
    if (up == 0)
        return;
    bt_log_info("stopping %zu running containers", up);
    if (grace_ns > (int64_t) SHUTDOWN_MAX_S * 1000000000)
        grace_ns = (int64_t) SHUTDOWN_MAX_S * 1000000000;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pollfd *pfd = bt_xcalloc(3 * n + 1, sizeof *pfd);
    for (;;) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
            struct rt *rt = all[i]->owner;
            if (!is_up(all[i]))
                continue;
            pfd[np++] = (struct pollfd){ .fd = all[i]->pidfd, .events = POLLIN };
            if (rt && rt->out_fd >= 0)
                pfd[np++] = (struct pollfd){ .fd = rt->out_fd, .events = POLLIN };
            if (rt && rt->err_fd >= 0)
                pfd[np++] = (struct pollfd){ .fd = rt->err_fd, .events = POLLIN };
        }
        if (np == 0)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left =
            grace_ns - ((now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec));
        if (left <= 0)
            break;
        if (poll(pfd, np, (int) (left / 1000000) + 1) < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < n; i++) {
            struct eng_ctr *c = all[i];
            struct rt *rt = c->owner;
            if (!is_up(c))
                continue;
            if (rt && rt->out_fd >= 0)
                (void) drain(rt, true);
            if (rt && rt->err_fd >= 0)
                (void) drain(rt, false);
            int status;
            if (waitpid(c->pid, &status, WNOHANG) == c->pid)
                eng_ctr_exited(cs->store, c, status);
        }
    }
    free(pfd);
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = all[i];
        if (!is_up(c))
            continue;
        (void) eng_ctr_kill(c, SIGKILL, NULL);
        int status = 0;
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        eng_ctr_exited(cs->store, c, status);
    }
}

void
orch_containers_close(struct orch_daemon *d)
{
    struct orch_ctrs *cs = d->ctrs;
    if (!cs)
        return;
    size_t n = 0;
    if (cs->store)
        stop_all(d);
    struct eng_ctr *const *all = cs->store ? eng_ctr_list(cs->store, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct eng_ctr *c = all[i];
        struct rt *rt = c->owner;
        if (rt) {
            start_cancel(d, rt, "the daemon stopped");
            for (struct waiter *w = rt->waiters; w; w = w->next)
                orch_req_finish(w->req, 0, NULL, NULL);
            waiter_free_all(rt, ~0);
            rt_forget(rt);
            free(rt);
            c->owner = NULL;
        }
    }
    while (cs->logs)
        logs_job_end(cs->logs, NULL);
    /* Exec processes died with their containers' pid namespaces; reap and answer them. */
    while (cs->execs) {
        struct exec_wait *w = cs->execs;
        (void) syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
        int status = 0;
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
            ;
        on_exec_reaped(d, w->pid, status, w);
    }
    cs->store = eng_ctr_store_free(cs->store);
    cs->cg = eng_cgroup_host_free(cs->cg);
    if (cs->init_fd >= 0)
        close(cs->init_fd);
    for (size_t i = 0; i < SECCOMP_CACHE; i++) {
        eng_bpf_release(&cs->filters[i].bpf);
        free(cs->filters[i].profile);
    }
    free(cs);
    d->ctrs = NULL;
}
