/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container store and lifecycle steps (container.h). Start turns a spec into a struct
 * eng_launch (every string made here, before the clone) and hands it to spawn.c; the cgroup is
 * made first and the child is cloned straight into it where the host has cgroup v2.
 */
#define LOG_TAG "ctr"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/base/path.h"
#include "engine/base/rmtree.h"
#include "engine/base/sha256.h"
#include "engine/base/strv.h"
#include "engine/container/caps.h"
#include "engine/container/cgroup.h"
#include "engine/container/config.h"
#include "engine/container/container.h"
#include "engine/container/spawn.h"
#include "engine/container/volcopy.h"
#include "engine/image/cas.h"

#define CONFIG_MAX (4 << 20)

struct eng_ctr_store {
    char *root;    /* <root>/containers */
    char *volumes; /* <root>/volumes */
    int dirfd;
    struct eng_cas *cas;
    struct eng_cgroup_host *cg;
    struct eng_ctr **ctrs;
    size_t n, cap;
};

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *
eng_ctr_status_str(enum eng_ctr_status st)
{
    static const char *const names[] = {
        [ENG_CTR_CREATED] = "created", [ENG_CTR_RUNNING] = "running", [ENG_CTR_PAUSED] = "paused",
        [ENG_CTR_EXITED] = "exited",   [ENG_CTR_DEAD] = "dead",
    };
    return (size_t) st < BT_ARRAY_SIZE(names) ? names[st] : "unknown";
}

static int
status_parse(const char *s, enum eng_ctr_status *ret)
{
    for (int i = ENG_CTR_CREATED; i <= ENG_CTR_DEAD; i++)
        if (bt_streq(s, eng_ctr_status_str((enum eng_ctr_status) i))) {
            *ret = (enum eng_ctr_status) i;
            return 0;
        }
    return -EINVAL;
}

static struct eng_ctr *
ctr_free(struct eng_ctr *c)
{
    if (!c)
        return NULL;
    if (c->pidfd >= 0)
        close(c->pidfd);
    free(c->name);
    free(c->dir);
    free(c->error);
    json_decref(c->config);
    eng_cgroup_free(c->cgroup);
    free(c);
    return NULL;
}

static int
state_save(struct eng_ctr_store *s, struct eng_ctr *c, struct bt_err **err)
{
    json_t *st =
        json_pack("{s:s, s:i, s:I, s:I, s:i, s:b, s:i}", "status", eng_ctr_status_str(c->status),
                  "pid", (int) c->pid, "started_at", (json_int_t) c->started_ns, "finished_at",
                  (json_int_t) c->finished_ns, "exit_code", c->exit_code, "oom_killed",
                  c->oom_killed, "restart_count", (int) c->restart_count);
    if (c->error)
        json_object_set_new(st, "error", json_string(c->error));
    bt_autofree char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    bt_autoclose int dfd = openat(s->dirfd, c->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s/%s'", s->root, c->id);
    /* Runtime state: after a host crash every container is stopped whatever this says. */
    return bt_file_replace_at(dfd, "state.json", text, strlen(text), 0600, err);
}

static void
store_add(struct eng_ctr_store *s, struct eng_ctr *c)
{
    s->ctrs = bt_xgrow(s->ctrs, &s->cap, s->n + 1, sizeof *s->ctrs);
    s->ctrs[s->n++] = c;
}

/* Load one container directory; a directory without a readable config is skipped. */
static void
load_one(struct eng_ctr_store *s, const char *id)
{
    bt_autoclose int dfd = openat(s->dirfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bt_autofree char *text = NULL;
    bt_autoerr struct bt_err *e = NULL;
    if (dfd < 0 || bt_file_read_at(dfd, "config.json", CONFIG_MAX, &text, NULL, &e) < 0) {
        bt_log_warn("container '%s' has no readable config, ignoring", id);
        return;
    }
    json_t *config = json_loads(text, 0, NULL);
    const char *name = json_string_value(json_object_get(config, "name"));
    if (!name || strlen(id) != 64) {
        json_decref(config);
        bt_log_warn("container '%s' has a broken config, ignoring", id);
        return;
    }
    struct eng_ctr *c = bt_xcalloc(1, sizeof *c);
    memcpy(c->id, id, 64); /* checked: 64 characters */
    c->name = bt_xstrdup(name);
    c->dir = bt_path_join(s->root, id);
    c->config = config;
    c->pidfd = -1;
    c->created_ns = json_integer_value(json_object_get(config, "created"));
    bt_autofree char *st_text = NULL;
    json_t *st = NULL;
    if (bt_file_read_at(dfd, "state.json", 1 << 16, &st_text, NULL, NULL) == 0)
        st = json_loads(st_text, 0, NULL);
    const char *status = json_string_value(json_object_get(st, "status"));
    if (!status || status_parse(status, &c->status) < 0)
        c->status = ENG_CTR_CREATED;
    c->started_ns = json_integer_value(json_object_get(st, "started_at"));
    c->finished_ns = json_integer_value(json_object_get(st, "finished_at"));
    c->exit_code = (int) json_integer_value(json_object_get(st, "exit_code"));
    c->oom_killed = json_is_true(json_object_get(st, "oom_killed"));
    c->restart_count = (unsigned) json_integer_value(json_object_get(st, "restart_count"));
    const char *error = json_string_value(json_object_get(st, "error"));
    c->error = error ? bt_xstrdup(error) : NULL;
    json_decref(st);
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED) {
        /* The daemon that started it is gone, and with it the process's pipes: whatever is
         * left of it is killed, as Docker does without live-restore. */
        struct eng_cgroup *cg = NULL;
        if (eng_cgroup_open(s->cg, "berth", c->id, &cg, NULL) == 0) {
            (void) eng_cgroup_freeze(cg, false, NULL);
            (void) eng_cgroup_kill_all(cg, SIGKILL, NULL);
            c->cgroup = cg;
        }
        c->status = ENG_CTR_EXITED;
        c->exit_code = 255;
        c->finished_ns = now_ns();
        free(c->error);
        c->error = bt_xstrdup("the daemon stopped while the container ran");
        (void) state_save(s, c, NULL);
    }
    if (json_is_true(json_object_get(config, "auto_remove")) && c->status != ENG_CTR_RUNNING) {
        /* docker run --rm whose exit the previous daemon did not see through. */
        eng_cgroup_free(c->cgroup);
        c->cgroup = NULL;
        char gone[80];
        snprintf(gone, sizeof gone, "removing-%s", c->id);
        if (renameat(s->dirfd, c->id, s->dirfd, gone) == 0)
            (void) bt_rm_tree_at(s->dirfd, gone, NULL);
        ctr_free(c);
        return;
    }
    store_add(s, c);
}

int
eng_ctr_store_open(const char *root, struct eng_cas *cas, struct eng_cgroup_host *cg,
                   struct eng_ctr_store **ret, struct bt_err **err)
{
    struct eng_ctr_store *s = bt_xcalloc(1, sizeof *s);
    s->root = bt_path_join(root, "containers");
    s->volumes = bt_path_join(root, "volumes");
    s->cas = cas;
    s->cg = cg;
    s->dirfd = -1;
    int r = bt_mkdir_p(s->root, 0700, err);
    if (r < 0 || (r = bt_mkdir_p(s->volumes, 0700, err)) < 0) {
        eng_ctr_store_free(s);
        return r;
    }
    s->dirfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        r = bt_err_errno(err, -errno, "cannot open '%s'", s->root);
        eng_ctr_store_free(s);
        return r;
    }
    (void) bt_dir_clean_tmp(s->dirfd);
    DIR *dir = fdopendir(fcntl(s->dirfd, F_DUPFD_CLOEXEC, 3));
    if (!dir) {
        r = bt_err_errno(err, -errno, "cannot read '%s'", s->root);
        eng_ctr_store_free(s);
        return r;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        if (bt_startswith(de->d_name, "removing-")) {
            /* A removal that a crash interrupted. */
            (void) bt_rm_tree_at(s->dirfd, de->d_name, NULL);
            continue;
        }
        load_one(s, de->d_name);
    }
    closedir(dir);
    *ret = s;
    return 0;
}

struct eng_ctr_store *
eng_ctr_store_free(struct eng_ctr_store *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        ctr_free(s->ctrs[i]);
    free(s->ctrs);
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->root);
    free(s->volumes);
    free(s);
    return NULL;
}

struct eng_ctr *const *
eng_ctr_list(struct eng_ctr_store *s, size_t *ret_n)
{
    *ret_n = s->n;
    return s->ctrs;
}

struct eng_ctr *
eng_ctr_find(struct eng_ctr_store *s, const char *name, struct bt_err **err)
{
    struct eng_ctr *found = NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < s->n; i++)
        if (bt_streq(s->ctrs[i]->name, name) || bt_streq(s->ctrs[i]->id, name))
            return s->ctrs[i];
    if (len >= 1 && len < 64 && strspn(name, "0123456789abcdef") == len) {
        for (size_t i = 0; i < s->n; i++) {
            if (strncmp(s->ctrs[i]->id, name, len) != 0)
                continue;
            if (found) {
                bt_err_set(err, BT_ECONFLICT, "'%s' names more than one container", name);
                return NULL;
            }
            found = s->ctrs[i];
        }
    }
    if (!found)
        bt_err_set(err, ENOENT, "no such container: '%s'", name);
    return found;
}

bool
eng_ctr_store_uses_image(struct eng_ctr_store *s, const char *image_id)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *id =
            json_string_value(json_object_get(json_object_get(s->ctrs[i]->config, "image"), "id"));
        if (id && bt_streq(id, image_id))
            return true;
    }
    return false;
}

bool
eng_ctr_store_runs_image(struct eng_ctr_store *s, const char *image_id)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct eng_ctr *c = s->ctrs[i];
        const char *id =
            json_string_value(json_object_get(json_object_get(c->config, "image"), "id"));
        if (id && bt_streq(id, image_id) &&
            (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED))
            return true;
    }
    return false;
}

bool
eng_ctr_store_uses_layer(struct eng_ctr_store *s, const char *chain_id)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(s->ctrs[i]->config, "layers"), k, l) {
            if (bt_streq(json_string_value(l), chain_id))
                return true;
        }
    }
    return false;
}

static void
random_hex(char out[65])
{
    uint8_t b[32];
    if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
        BT_ASSERT(!"getrandom failed");
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- mounts: the binds and volumes a container gets, fixed at create ---- */

/* A target without its trailing slashes ("/" stays). */
static char *
target_norm(const char *t)
{
    char *n = bt_xstrdup(t);
    size_t len = strlen(n);
    while (len > 1 && n[len - 1] == '/')
        n[--len] = '\0';
    return n;
}

static bool
rec_covers(const json_t *rec, const char *target)
{
    size_t i;
    const json_t *m;
    json_array_foreach(rec, i, m) {
        if (bt_streq(json_string_value(json_object_get(m, "target")), target))
            return true;
    }
    return false;
}

/* An anonymous volume's name: stable per container and target, so a restart finds its data. */
static char *
anon_name(const char *id, const char *target)
{
    bt_autofree char *key = bt_xasprintf("%s%s", id, target);
    char hex[BT_SHA256_HEX_LEN];
    bt_sha256_hex(key, strlen(key), hex);
    return bt_xstrdup(hex);
}

static bool
volume_name_ok(const char *name)
{
    return name && *name && name[0] != '.' && !strchr(name, '/') && strlen(name) < 256;
}

/* volumes_from "NAME[:ro|:rw]": the other container's binds and volumes, read-only with :ro,
 * as they are with no mode. Targets this container mounts itself are skipped. */
static int
rec_add_from(struct eng_ctr_store *s, const char *ref, json_t *rec, const json_t *own,
             struct bt_err **err)
{
    bt_autofree char *name = bt_xstrdup(ref);
    int mode = 0; /* 0: as the other's; 1: ro; 2: rw */
    char *colon = strrchr(name, ':');
    if (colon && (bt_streq(colon, ":ro") || bt_streq(colon, ":rw"))) {
        mode = colon[1] == 'r' && colon[2] == 'o' ? 1 : 2;
        *colon = '\0';
    }
    struct eng_ctr *other = eng_ctr_find(s, name, err);
    if (!other)
        return bt_err_wrap(err, "volumes_from");
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(other->config, "mounts"), i, m) {
        const char *t = json_string_value(json_object_get(m, "target"));
        if (!t || rec_covers(own, t) || rec_covers(rec, t))
            continue;
        json_t *copy = json_deep_copy(m);
        json_object_del(copy, "anonymous"); /* the other's to remove, not ours */
        json_object_set_new(copy, "from", json_string(other->name));
        if (mode)
            json_object_set_new(copy, "rw", json_boolean(mode == 2));
        json_array_append_new(rec, copy);
    }
    return 0;
}

/* The record: the spec's binds and volumes (anonymous ones named), then volumes_from's, then
 * an anonymous volume for each of the image's VOLUMEs no mount covers. tmpfs mounts stay in
 * the spec but count as covering their target. */
static int
mounts_record(struct eng_ctr_store *s, const char *id, const struct eng_ctr_spec *spec,
              const json_t *img_config, json_t **ret, struct bt_err **err)
{
    json_t *rec = json_array();
    json_t *tmpfs = json_array(); /* targets only */
    for (size_t i = 0; i < spec->nmounts; i++) {
        const struct eng_mount *m = &spec->mounts[i];
        bt_autofree char *t = target_norm(m->target);
        if (m->type == ENG_MOUNT_TMPFS) {
            json_array_append_new(tmpfs, json_pack("{s:s}", "target", t));
            continue;
        }
        json_t *e =
            json_pack("{s:s, s:s, s:b}", "type", m->type == ENG_MOUNT_BIND ? "bind" : "volume",
                      "target", t, "rw", !m->read_only);
        if (m->type == ENG_MOUNT_BIND) {
            json_object_set_new(e, "source", json_string(m->source));
            json_object_set_new(e, "propagation", json_integer((json_int_t) m->propagation));
            json_object_set_new(e, "create_host_path", json_boolean(m->create_host_path));
        } else {
            bt_autofree char *anon = m->source ? NULL : anon_name(id, t);
            const char *vname = m->source ? m->source : anon;
            if (!volume_name_ok(vname)) {
                json_decref(e);
                json_decref(rec);
                json_decref(tmpfs);
                return bt_err_set(err, BT_EINVALID, "invalid volume name '%s'", vname);
            }
            json_object_set_new(e, "source", json_string(vname));
            json_object_set_new(e, "nocopy", json_boolean(m->nocopy));
            if (!m->source)
                json_object_set_new(e, "anonymous", json_true());
        }
        json_array_append_new(rec, e);
    }
    json_array_extend(tmpfs, rec);
    int r = 0;
    json_t *from = json_array();
    for (size_t i = 0; r == 0 && spec->volumes_from && spec->volumes_from[i]; i++)
        r = rec_add_from(s, spec->volumes_from[i], from, tmpfs, err);
    json_array_extend(rec, from);
    json_array_extend(tmpfs, from);
    json_decref(from);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *) json_object_get(img_config, "Volumes"), key, v) {
        if (r < 0 || key[0] != '/')
            continue;
        bt_autofree char *t = target_norm(key);
        if (rec_covers(tmpfs, t))
            continue;
        bt_autofree char *anon = anon_name(id, t);
        json_t *e = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "type", "volume", "source", anon,
                              "target", t, "rw", 1, "nocopy", 0, "anonymous", 1);
        json_array_append(rec, e);
        json_array_append_new(tmpfs, e);
    }
    json_decref(tmpfs);
    if (r < 0) {
        json_decref(rec);
        return r;
    }
    *ret = rec;
    return 0;
}

/* Whether a container other than except records the volume name. */
static bool
volume_in_use(struct eng_ctr_store *s, const struct eng_ctr *except, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ctrs[i] == except)
            continue;
        size_t j;
        const json_t *m;
        json_array_foreach(json_object_get(s->ctrs[i]->config, "mounts"), j, m) {
            if (bt_streq(json_string_value(json_object_get(m, "type")), "volume") &&
                bt_streq(json_string_value(json_object_get(m, "source")), name))
                return true;
        }
    }
    return false;
}

/* rm -v: the anonymous volumes the container made (not those it has from volumes_from), unless
 * another container uses them. */
static int
remove_anon_volumes(struct eng_ctr_store *s, const struct eng_ctr *c, const json_t *rec,
                    struct bt_err **err)
{
    bt_autoclose int vfd = open(s->volumes, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (vfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", s->volumes);
    size_t i;
    const json_t *m;
    int r = 0;
    json_array_foreach(rec, i, m) {
        const char *name = json_string_value(json_object_get(m, "source"));
        if (!json_is_true(json_object_get(m, "anonymous")) || !volume_name_ok(name))
            continue;
        if (volume_in_use(s, c, name)) {
            bt_log_debug("volume %.12s is in use by another container, keeping it", name);
            continue;
        }
        struct stat st;
        if (fstatat(vfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* never made (the container never started) */
        int q = bt_rm_tree_at(vfd, name, r == 0 ? err : NULL);
        if (q < 0 && r == 0)
            r = q;
    }
    return r;
}

int
eng_ctr_create(struct eng_ctr_store *s, const struct eng_ctr_spec *spec, const json_t *spec_json,
               const struct eng_ctr_image *img, const struct eng_ctr_proc *proc,
               struct eng_ctr **ret, struct bt_err **err)
{
    char id[65];
    random_hex(id);
    const char *name = spec->name;
    char short_name[20];
    if (!name) {
        snprintf(short_name, sizeof short_name, "berth-%.12s", id);
        name = short_name;
    }
    for (size_t i = 0; i < s->n; i++)
        if (bt_streq(s->ctrs[i]->name, name)) {
            int r =
                bt_err_set(err, BT_ECONFLICT, "the container name '%s' is already in use", name);
            bt_err_hint(err,
                        "remove that container (berth container rm %s) or choose "
                        "another name",
                        name);
            return r;
        }
    json_t *mounts = NULL;
    int r = mounts_record(s, id, spec, img->config, &mounts, err);
    if (r < 0)
        return r;
    if (mkdirat(s->dirfd, id, 0700) < 0) {
        json_decref(mounts);
        return bt_err_errno(err, -errno, "cannot create '%s/%s'", s->root, id);
    }
    struct eng_ctr *c = bt_xcalloc(1, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->name = bt_xstrdup(name);
    c->dir = bt_path_join(s->root, id);
    c->pidfd = -1;
    c->status = ENG_CTR_CREATED;
    c->created_ns = now_ns();
    json_t *layers = json_array();
    for (size_t i = 0; i < img->nlayers; i++)
        json_array_append_new(layers, json_string(img->layers[i]));
    c->config = json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:O?}, s:o, s:O}", "id", id, "name", name,
                          "created", (json_int_t) c->created_ns, "image", "id", img->id, "ref",
                          img->ref, "config", img->config, "layers", layers, "spec", spec_json);
    json_object_set_new(c->config, "mounts", mounts);
    json_t *argv = json_array();
    for (size_t i = 0; proc->argv && proc->argv[i]; i++)
        json_array_append_new(argv, json_string(proc->argv[i]));
    json_object_set_new(c->config, "argv", argv);
    bt_autoclose int dfd = openat(s->dirfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    static const char *const dirs[] = { "upper", "work", "rootfs" };
    for (size_t i = 0; dfd >= 0 && r == 0 && i < BT_ARRAY_SIZE(dirs); i++)
        if (mkdirat(dfd, dirs[i], 0755) < 0)
            r = bt_err_errno(err, -errno, "cannot create '%s/%s'", c->dir, dirs[i]);
    if (dfd < 0)
        r = bt_err_errno(err, -errno, "cannot open '%s'", c->dir);
    if (spec->auto_remove)
        json_object_set_new(c->config, "auto_remove", json_true());
    if (r == 0) {
        /* A container removed at its exit has no future after a host crash: its config
         * needs no fsync (two of them cost a --rm run a millisecond here). */
        bt_autofree char *text = json_dumps(c->config, JSON_COMPACT);
        r = (spec->auto_remove ? bt_file_replace_at : bt_file_write_atomic_at)(
            dfd, "config.json", text, strlen(text), 0600, err);
    }
    if (r == 0)
        r = state_save(s, c, err);
    if (r < 0) {
        (void) bt_rm_tree_at(s->dirfd, id, NULL);
        ctr_free(c);
        return r;
    }
    store_add(s, c);
    *ret = c;
    return 0;
}

/* ---- start ---- */

/* Everything a launch points at, freed together after the spawn. */
struct prep {
    struct eng_launch l;
    const struct eng_ctr_proc *proc; /* the caller's */
    char *overlay_opts, *layers_dir, *rootfs, *hosts, *hostname_file, *resolv;
    char **env;
    char **init_argv;
    struct eng_lmount *mounts;
    char **strs; /* owned strings the mounts point at */
    size_t nstrs, strs_cap;
    struct eng_lrlimit *rlimits;
    struct eng_lsysctl *sysctls;
    struct eng_ldevice *devices;
    char **device_rules; /* the spec's, plus one per device */
};

static const char *
prep_own(struct prep *p, char *s)
{
    p->strs = bt_xgrow(p->strs, &p->strs_cap, p->nstrs + 1, sizeof *p->strs);
    p->strs[p->nstrs++] = s;
    return s;
}

static void
prep_release(struct prep *p)
{
    free(p->overlay_opts);
    free(p->layers_dir);
    free(p->rootfs);
    free(p->hosts);
    free(p->hostname_file);
    free(p->resolv);
    bt_strv_free(p->env);
    free(p->init_argv);
    free(p->mounts);
    for (size_t i = 0; i < p->nstrs; i++)
        free(p->strs[i]);
    free(p->strs);
    free(p->rlimits);
    free(p->sysctls);
    free(p->devices);
    bt_strv_free(p->device_rules);
}

static int
write_etc(struct eng_ctr *c, const char *hostname, const struct eng_ctr_spec *spec, struct prep *p,
          struct bt_err **err)
{
    bt_autoclose int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", c->dir);
    bt_autofree char *hosts =
        bt_xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n%s%s%s",
                     spec->net_mode == ENG_NS_MODE_HOST ? "" : "127.0.1.1\t",
                     spec->net_mode == ENG_NS_MODE_HOST ? "" : hostname,
                     spec->net_mode == ENG_NS_MODE_HOST ? "" : "\n");
    bt_autofree char *hn = bt_xasprintf("%s\n", hostname);
    /* The host's resolvers, without loopback ones a private network cannot reach. */
    bt_autofree char *host_resolv = NULL;
    struct bt_buf rb;
    bt_buf_init(&rb, 1 << 16);
    if (bt_file_read_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &host_resolv, NULL, NULL) == 0) {
        for (char *line = host_resolv, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            const char *ns = bt_startswith(line, "nameserver");
            if (ns && spec->net_mode != ENG_NS_MODE_HOST) {
                ns += strspn(ns, " \t");
                if (bt_startswith(ns, "127.") || bt_streq(ns, "::1"))
                    continue;
            }
            (void) bt_buf_printf(&rb, "%s\n", line);
        }
    }
    int r = bt_file_replace_at(dfd, "hosts", hosts, strlen(hosts), 0644, err);
    if (r == 0)
        r = bt_file_replace_at(dfd, "hostname", hn, strlen(hn), 0644, err);
    if (r == 0)
        r = bt_file_replace_at(dfd, "resolv.conf", bt_buf_str(&rb), rb.len, 0644, err);
    bt_buf_release(&rb);
    if (r < 0)
        return r;
    p->hosts = bt_path_join(c->dir, "hosts");
    p->hostname_file = bt_path_join(c->dir, "hostname");
    p->resolv = bt_path_join(c->dir, "resolv.conf");
    return 0;
}

static size_t
target_depth(const char *t)
{
    size_t n = 0;
    for (const char *q = t; *q; q++)
        if (*q == '/' && q[1] && q[1] != '/')
            n++;
    return n;
}

static int
prep_bind(const char *source, bool create_host_path, struct eng_lmount *lm, struct bt_err **err)
{
    lm->kind = ENG_LMOUNT_BIND;
    lm->source = source;
    struct stat st;
    if (stat(source, &st) < 0) {
        if (errno != ENOENT || !create_host_path)
            return bt_err_errno(err, -errno, "bind mount source '%s'", source);
        int r = bt_mkdir_p(source, 0755, err);
        if (r < 0)
            return r;
        st.st_mode = S_IFDIR;
    }
    lm->file = !S_ISDIR(st.st_mode);
    return 0;
}

/* A volume's <root>/volumes/NAME/_data, made on first use; an empty one is filled in the
 * child unless nocopy. */
static int
prep_volume(struct eng_ctr_store *s, const char *name, bool nocopy, struct prep *p,
            struct eng_lmount *lm, struct bt_err **err)
{
    if (!volume_name_ok(name))
        return bt_err_set(err, BT_EINVALID, "invalid volume name '%s'", name ? name : "");
    const char *data = prep_own(p, bt_xasprintf("%s/%s/_data", s->volumes, name));
    int r = bt_mkdir_p(data, 0755, err);
    if (r < 0)
        return r;
    lm->kind = ENG_LMOUNT_BIND;
    lm->source = data;
    if (!nocopy) {
        bt_autoclose int fd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        lm->fill = fd >= 0 && eng_vol_is_empty(fd);
    }
    return 0;
}

/* The launch's mounts: the spec's tmpfs and the recorded binds and volumes, parents before
 * what is mounted inside them (as Docker sorts them). */
static int
prep_mounts(struct eng_ctr_store *s, struct eng_ctr *c, const struct eng_ctr_spec *spec,
            struct prep *p, struct bt_err **err)
{
    const json_t *rec = json_object_get(c->config, "mounts");
    if (!json_is_array(rec)) {
        /* A container created before mounts were recorded. */
        json_t *made = NULL;
        int r = mounts_record(s, c->id, spec,
                              json_object_get(json_object_get(c->config, "image"), "config"), &made,
                              err);
        if (r < 0)
            return r;
        json_object_set_new(c->config, "mounts", made);
        rec = made;
    }
    p->mounts = bt_xcalloc(json_array_size(rec) + spec->nmounts + 1, sizeof *p->mounts);
    size_t n = 0;
    for (size_t i = 0; i < spec->nmounts; i++) {
        const struct eng_mount *m = &spec->mounts[i];
        if (m->type != ENG_MOUNT_TMPFS)
            continue;
        struct eng_lmount *lm = &p->mounts[n++];
        lm->kind = ENG_LMOUNT_TMPFS;
        lm->target = m->target;
        lm->read_only = m->read_only;
        char data[96] = "";
        int k = snprintf(data, sizeof data, "mode=%o", m->tmpfs_mode ? m->tmpfs_mode : 01777);
        if (m->tmpfs_size)
            snprintf(data + k, sizeof data - (size_t) k, ",size=%llu",
                     (unsigned long long) m->tmpfs_size);
        lm->data = prep_own(p, bt_xstrdup(data));
    }
    size_t i;
    const json_t *e;
    json_array_foreach(rec, i, e) {
        struct eng_lmount *lm = &p->mounts[n];
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *source = json_string_value(json_object_get(e, "source"));
        lm->target = json_string_value(json_object_get(e, "target"));
        lm->read_only = !json_is_true(json_object_get(e, "rw"));
        if (!type || !source || !lm->target || lm->target[0] != '/')
            return bt_err_set(err, BT_EINVALID, "container '%s' has a broken mount record",
                              c->name);
        int r;
        if (bt_streq(type, "bind")) {
            lm->propagation = (unsigned long) json_integer_value(json_object_get(e, "propagation"));
            r = prep_bind(source, json_is_true(json_object_get(e, "create_host_path")), lm, err);
        } else {
            r = prep_volume(s, source, json_is_true(json_object_get(e, "nocopy")), p, lm, err);
        }
        if (r < 0)
            return r;
        n++;
    }
    /* Insertion sort, stable: few mounts. */
    for (size_t j = 1; j < n; j++) {
        struct eng_lmount cur = p->mounts[j];
        size_t d = target_depth(cur.target), k = j;
        for (; k > 0 && target_depth(p->mounts[k - 1].target) > d; k--)
            p->mounts[k] = p->mounts[k - 1];
        p->mounts[k] = cur;
    }
    p->l.mounts = p->mounts;
    p->l.nmounts = n;
    return 0;
}

/* devices: each host node is made in the container with the same numbers, and the device
 * cgroup allows it with the given permissions. */
static int
prep_devices(const struct eng_ctr_spec *spec, struct prep *p, struct bt_err **err)
{
    p->devices = bt_xcalloc(spec->ndevices + 1, sizeof *p->devices);
    size_t nrules = bt_strv_len(spec->device_cgroup_rules);
    p->device_rules = bt_xcalloc(nrules + spec->ndevices + 1, sizeof *p->device_rules);
    for (size_t i = 0; i < nrules; i++)
        p->device_rules[i] = bt_xstrdup(spec->device_cgroup_rules[i]);
    for (size_t i = 0; i < spec->ndevices; i++) {
        const struct eng_device *d = &spec->devices[i];
        struct stat st;
        if (stat(d->host_path, &st) < 0)
            return bt_err_errno(err, -errno, "device '%s'", d->host_path);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            return bt_err_set(err, BT_EINVALID, "device '%s' is not a device node", d->host_path);
        const char *target = d->ctr_path ? d->ctr_path : d->host_path;
        if (target[0] != '/' || bt_startswith(target, "/dev/pts/") || bt_streq(target, "/dev"))
            return bt_err_set(err, BT_EINVALID, "device '%s': invalid path in the container",
                              target);
        p->devices[i] =
            (struct eng_ldevice){ target, st.st_mode, st.st_rdev, st.st_uid, st.st_gid };
        p->device_rules[nrules + i] =
            bt_xasprintf("%c %u:%u %s", S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev),
                         minor(st.st_rdev), d->perms[0] ? d->perms : "rwm");
    }
    p->l.devices = p->devices;
    p->l.ndevices = spec->ndevices;
    return 0;
}

static int
prep_launch(struct eng_ctr_store *s, struct eng_ctr *c, const struct eng_ctr_spec *spec,
            const struct eng_ctr_start_opts *o, struct prep *p, struct bt_err **err)
{
    struct eng_launch *l = &p->l;
    int r;
    p->proc = o->proc;
    static const char *const ns_names[] = { "pid", "ipc", "network" };
    const enum eng_ns_mode modes[] = { spec->pid_mode, spec->ipc_mode, spec->net_mode };
    const int joins[] = { o->join_pid_fd, o->join_ipc_fd, o->join_net_fd };
    for (size_t i = 0; i < 3; i++)
        if (modes[i] == ENG_NS_MODE_SHARE && joins[i] < 0)
            return bt_err_set(err, BT_EINVALID,
                              "the container to share the %s namespace with is not running",
                              ns_names[i]);
    l->join_pid_fd = spec->pid_mode == ENG_NS_MODE_SHARE ? o->join_pid_fd : -1;
    l->join_ipc_fd = spec->ipc_mode == ENG_NS_MODE_SHARE ? o->join_ipc_fd : -1;
    l->join_net_fd = spec->net_mode == ENG_NS_MODE_SHARE ? o->join_net_fd : -1;
    if ((r = prep_devices(spec, p, err)) < 0)
        return r;
    l->clone_flags = CLONE_NEWUTS;
    if (spec->pid_mode == ENG_NS_MODE_PRIVATE)
        l->clone_flags |= CLONE_NEWPID;
    if (spec->ipc_mode == ENG_NS_MODE_PRIVATE)
        l->clone_flags |= CLONE_NEWIPC;
    if (spec->net_mode == ENG_NS_MODE_PRIVATE || spec->net_mode == ENG_NS_MODE_NONE)
        l->clone_flags |= CLONE_NEWNET;
    /* The lower dirs, top layer first, relative to the layers directory. */
    const json_t *layers = json_object_get(c->config, "layers");
    struct bt_buf b;
    bt_buf_init(&b, 1 << 16);
    (void) bt_buf_puts(&b, "lowerdir=");
    size_t n = json_array_size(layers);
    if (n == 0) {
        /* overlayfs wants a lower dir: an empty one. */
        (void) bt_buf_printf(&b, "%s/rootfs", c->dir);
    }
    for (size_t i = n; i-- > 0;) {
        bt_autofree char *rel =
            eng_cas_layer_diff_rel(json_string_value(json_array_get(layers, i)));
        if (!rel || !eng_cas_layer_has(s->cas, json_string_value(json_array_get(layers, i)))) {
            bt_buf_release(&b);
            int e = bt_err_set(err, ENOENT, "a layer of the container's image is missing");
            bt_err_hint(err, "pull or load the image again");
            return e;
        }
        (void) bt_buf_printf(&b, "%s%s", i + 1 == n ? "" : ":", rel);
    }
    (void) bt_buf_printf(&b, ",upperdir=%s/upper,workdir=%s/work", c->dir, c->dir);
    if (b.len >= 4000) {
        bt_buf_release(&b);
        return bt_err_set(err, BT_ETOOBIG, "the image has too many layers (%zu)", n);
    }
    p->overlay_opts = bt_buf_steal(&b);
    p->layers_dir = eng_cas_layers_dir(s->cas);
    p->rootfs = bt_path_join(c->dir, "rootfs");
    l->rootfs = p->rootfs;
    l->layers_dir = p->layers_dir;
    l->overlay_opts = p->overlay_opts;
    l->read_only = spec->read_only;
    l->privileged = spec->privileged;
    /* Docker's default hostname: the id's first 12 characters. */
    const char *hn = spec->hostname ? spec->hostname : prep_own(p, bt_xasprintf("%.12s", c->id));
    l->hostname = hn;
    l->domainname = spec->domainname;
    l->shm_size = spec->shm_size;
    if ((r = write_etc(c, hn, spec, p, err)) < 0)
        return r;
    l->etc_hosts = p->hosts;
    l->etc_hostname = p->hostname_file;
    l->etc_resolv = p->resolv;
    if ((r = prep_mounts(s, c, spec, p, err)) < 0)
        return r;
    p->sysctls = bt_xcalloc(spec->nsysctls + 1, sizeof *p->sysctls);
    for (size_t i = 0; i < spec->nsysctls; i++) {
        char *path = bt_xasprintf("/proc/sys/%s", spec->sysctls[i].key);
        for (char *q = path + 10; *q; q++)
            if (*q == '.')
                *q = '/';
        p->sysctls[i] = (struct eng_lsysctl){ prep_own(p, path), spec->sysctls[i].value };
    }
    l->sysctls = p->sysctls;
    l->nsysctls = spec->nsysctls;
    /* Environment: HOSTNAME (the service may set its own), then the merged one. */
    char *host_env[] = { (char *) prep_own(p, bt_xasprintf("HOSTNAME=%s", hn)), NULL };
    p->env = bt_strv_env_merge(host_env, p->proc->env);
    l->argv = p->proc->argv;
    l->envp = p->env;
    l->cwd = p->proc->cwd;
    l->user = p->proc->user;
    l->group_add = spec->group_add;
    p->rlimits = bt_xcalloc(spec->nulimits + 1, sizeof *p->rlimits);
    for (size_t i = 0; i < spec->nulimits; i++)
        p->rlimits[i] = (struct eng_lrlimit){ spec->ulimits[i].resource,
                                              { spec->ulimits[i].soft, spec->ulimits[i].hard } };
    l->rlimits = p->rlimits;
    l->nrlimits = spec->nulimits;
    l->oom_score_adj = spec->oom_score_adj;
    l->oom_score_adj_set = spec->oom_score_adj_set;
    l->caps = p->proc->caps;
    l->caps_last = eng_caps_last();
    l->no_new_privs = spec->no_new_privileges;
    l->seccomp = o->seccomp;
    l->tty = spec->tty;
    l->init_fd = spec->init ? o->init_fd : -1;
    if (l->init_fd >= 0) {
        size_t na = 0;
        while (p->proc->argv[na])
            na++;
        p->init_argv = bt_xcalloc(na + 3, sizeof *p->init_argv);
        p->init_argv[0] = (char *) "berth-init";
        p->init_argv[1] = (char *) "--";
        memcpy(p->init_argv + 2, p->proc->argv, na * sizeof *p->init_argv);
        l->init_argv = p->init_argv;
    }
    c->stop_signal = p->proc->stop_signal;
    c->stop_grace_ns = spec->stop_grace_ns >= 0 ? spec->stop_grace_ns : 10LL * 1000000000;
    return 0;
}

static int attach_cgroup(void *ud, pid_t pid, struct bt_err **err);

int
eng_ctr_exec(struct eng_ctr *c, const struct eng_ctr_spec *spec, const struct eng_ctr_exec_opts *o,
             struct eng_ctr_exec_proc *ret, struct bt_err **err)
{
    if (c->status != ENG_CTR_RUNNING)
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is %s", c->name,
                          c->status == ENG_CTR_PAUSED ? "paused" : "not running");
    if (!o->argv || !o->argv[0])
        return bt_err_set(err, BT_EUSAGE, "no command given to exec");
    const struct eng_ctr_proc *proc = o->proc;
    int r;
    /* Docker's exec environment: the container's, HOSTNAME, then the exec's own. */
    char hn[80];
    snprintf(hn, sizeof hn, "HOSTNAME=%s", spec->hostname ? spec->hostname : "");
    if (!spec->hostname)
        snprintf(hn, sizeof hn, "HOSTNAME=%.12s", c->id);
    char *const host_env[] = { hn, NULL };
    char **env1 = bt_strv_env_merge(host_env, proc->env);
    char **env = bt_strv_env_merge(env1, o->env);
    bt_strv_free(env1);
    struct eng_lrlimit *rl = bt_xcalloc(spec->nulimits + 1, sizeof *rl);
    for (size_t i = 0; i < spec->nulimits; i++)
        rl[i] = (struct eng_lrlimit){ spec->ulimits[i].resource,
                                      { spec->ulimits[i].soft, spec->ulimits[i].hard } };
    int join =
        CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
    struct eng_launch l = {
        .argv = o->argv,
        .envp = env,
        .cwd = o->workdir ? o->workdir : proc->cwd,
        .user = o->user ? o->user : proc->user,
        .group_add = spec->group_add,
        .rlimits = rl,
        .nrlimits = spec->nulimits,
        .caps = o->privileged ? eng_caps_all() : proc->caps,
        .caps_last = eng_caps_last(),
        .no_new_privs = spec->no_new_privileges,
        .seccomp = o->privileged ? NULL : o->seccomp,
        .tty = o->tty,
        .stdio = { o->stdio[0], o->stdio[1], o->stdio[2] },
        .init_fd = -1,
        .cgroup_fd = c->cgroup ? eng_cgroup_v2_dirfd(c->cgroup) : -1,
        .attach = c->cgroup ? attach_cgroup : NULL,
        .attach_ud = c->cgroup,
        .join_pidfd = c->pidfd,
        .join_ns = join,
        .join_pid_fd = -1,
        .join_ipc_fd = -1,
        .join_net_fd = -1,
    };
    struct eng_spawned sp;
    r = eng_ctr_exec_spawn(&l, c->pid, &sp, err);
    bt_strv_free(env);
    free(rl);
    if (r < 0)
        return r;
    *ret = (struct eng_ctr_exec_proc){ sp.pid, sp.pidfd, sp.pty_master };
    return 0;
}

static int
attach_cgroup(void *ud, pid_t pid, struct bt_err **err)
{
    return eng_cgroup_attach(ud, pid, err);
}

/* A start in progress (container.h). */
struct eng_ctr_starting {
    struct eng_spawn *sp;
    int out_fd, err_fd; /* the read ends of the pipes (no tty) */
    bool tty;
};

static void
starting_free(struct eng_ctr_starting *st)
{
    eng_spawn_free(st->sp);
    if (st->out_fd >= 0)
        close(st->out_fd);
    if (st->err_fd >= 0)
        close(st->err_fd);
    free(st);
}

int
eng_ctr_start_begin(struct eng_ctr_store *s, struct eng_ctr *c, const struct eng_ctr_spec *spec,
                    const struct eng_ctr_start_opts *o, struct eng_ctr_starting **ret,
                    struct bt_err **err)
{
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED)
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is already running", c->name);
    struct prep p = { 0 };
    int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    struct eng_spawn *sp = NULL;
    int r = prep_launch(s, c, spec, o, &p, err);
    if (r < 0)
        goto out;
    struct eng_cgroup_limits lim = {
        .mem_limit = spec->mem_limit,
        .mem_reservation = spec->mem_reservation,
        .memswap_limit = spec->memswap_limit,
        .cpus = spec->cpus,
        .cpu_shares = spec->cpu_shares,
        .cpuset = spec->cpuset,
        .pids_limit = spec->pids_limit,
        .blkio_weight = spec->blkio_weight,
        .oom_kill_disable = spec->oom_kill_disable,
        .device_rules = (const char *const *) p.device_rules,
        .privileged = spec->privileged,
    };
    /* A cgroup left by a crash has the same name: remove it first. */
    struct eng_cgroup *old = NULL;
    if (eng_cgroup_open(s->cg, "berth", c->id, &old, NULL) == 0) {
        (void) eng_cgroup_kill_all(old, SIGKILL, NULL);
        (void) eng_cgroup_remove(old, NULL);
        eng_cgroup_free(old);
    }
    eng_cgroup_free(c->cgroup);
    c->cgroup = NULL;
    if ((r = eng_cgroup_create(s->cg, "berth", c->id, &lim, &c->cgroup, err)) < 0)
        goto out;
    p.l.cgroup_fd = eng_cgroup_v2_dirfd(c->cgroup);
    p.l.attach = attach_cgroup;
    p.l.attach_ud = c->cgroup;
    if (!spec->tty) {
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
            r = bt_err_errno(err, -errno, "cannot create pipes");
            goto out;
        }
        /* A fast writer fills a bigger buffer before it waits on the daemon. */
        (void) fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
        (void) fcntl(errp[1], F_SETPIPE_SZ, 1 << 20);
    }
    p.l.stdio[0] = o->stdin_fd;
    p.l.stdio[1] = out[1];
    p.l.stdio[2] = errp[1];
    if ((r = eng_ctr_spawn_begin(&p.l, &sp, err)) < 0)
        goto out;
    struct eng_ctr_starting *st = bt_xcalloc(1, sizeof *st);
    *st = (struct eng_ctr_starting){
        .sp = sp, .out_fd = out[0], .err_fd = errp[0], .tty = spec->tty
    };
    out[0] = errp[0] = -1;
    *ret = st;
out:
    /* The child has its copies of the write ends; the launch is its own too. */
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    if (r < 0 && c->cgroup) {
        (void) eng_cgroup_remove(c->cgroup, NULL);
        c->cgroup = eng_cgroup_free(c->cgroup);
    }
    prep_release(&p);
    return r;
}

int
eng_ctr_starting_fd(const struct eng_ctr_starting *st)
{
    return eng_spawn_fd(st->sp);
}

pid_t
eng_ctr_starting_pid(const struct eng_ctr_starting *st)
{
    return eng_spawn_pid(st->sp);
}

int
eng_ctr_start_step(struct eng_ctr_store *s, struct eng_ctr *c, struct eng_ctr_starting *st,
                   struct eng_ctr_io *ret_io, struct bt_err **err)
{
    struct eng_spawned sp;
    int r = eng_ctr_spawn_step(st->sp, &sp, err);
    if (r > 0)
        return 1;
    if (r < 0)
        return r;
    c->pid = sp.pid;
    c->pidfd = sp.pidfd;
    c->status = ENG_CTR_RUNNING;
    c->started_ns = now_ns();
    c->finished_ns = 0;
    c->exit_code = 0;
    c->oom_killed = false;
    free(c->error);
    c->error = NULL;
    if (st->tty) {
        *ret_io = (struct eng_ctr_io){ sp.pty_master, -1 };
    } else {
        *ret_io = (struct eng_ctr_io){ st->out_fd, st->err_fd };
        st->out_fd = st->err_fd = -1;
    }
    starting_free(st);
    (void) state_save(s, c, NULL);
    return 0;
}

void
eng_ctr_start_abort(struct eng_ctr *c, struct eng_ctr_starting *st, bool reap)
{
    if (!st)
        return;
    pid_t pid = eng_spawn_pid(st->sp);
    starting_free(st); /* kills the child */
    if (reap)
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
    if (c->cgroup) {
        /* Whatever else the setup left in the cgroup goes with it. */
        (void) eng_cgroup_kill_all(c->cgroup, SIGKILL, NULL);
        if (eng_cgroup_remove(c->cgroup, NULL) == 0)
            c->cgroup = eng_cgroup_free(c->cgroup);
    }
}

void
eng_ctr_exited(struct eng_ctr_store *s, struct eng_ctr *c, int status)
{
    c->status = ENG_CTR_EXITED;
    c->finished_ns = now_ns();
    c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (c->pidfd >= 0)
        close(c->pidfd);
    c->pidfd = -1;
    c->pid = 0;
    if (c->cgroup) {
        uint64_t ooms = 0;
        if (eng_cgroup_oom_kills(c->cgroup, &ooms) == 0 && ooms > 0)
            c->oom_killed = true;
        /* PID 1 is gone, so the kernel killed the rest of its pid namespace; with a shared
         * pid namespace stragglers may remain. */
        (void) eng_cgroup_kill_all(c->cgroup, SIGKILL, NULL);
        bt_autoerr struct bt_err *e = NULL;
        if (eng_cgroup_remove(c->cgroup, &e) < 0)
            bt_log_debug("container %.12s: %s", c->id, e ? e->msg : "cgroup busy");
        else
            c->cgroup = eng_cgroup_free(c->cgroup);
    }
    (void) state_save(s, c, NULL);
}

int
eng_ctr_kill(struct eng_ctr *c, int sig, struct bt_err **err)
{
    if (c->status != ENG_CTR_RUNNING && c->status != ENG_CTR_PAUSED)
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is not running", c->name);
    if (sig == SIGKILL && c->cgroup) {
        /* A paused container cannot die frozen. */
        (void) eng_cgroup_kill_all(c->cgroup, SIGKILL, NULL);
        (void) eng_cgroup_freeze(c->cgroup, false, NULL);
    }
    if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
        return bt_err_errno(err, -errno, "cannot signal container '%s'", c->name);
    return 0;
}

bool
eng_ctr_catches(const struct eng_ctr *c, int sig)
{
    if (c->pid <= 0 || sig <= 0 || sig > 64)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int) c->pid);
    bt_autofree char *text = NULL;
    if (bt_file_read_at(AT_FDCWD, path, 1 << 16, &text, NULL, NULL) < 0)
        return false;
    const char *cgt = strstr(text, "\nSigCgt:");
    if (!cgt)
        return true; /* unknown: wait, to be safe */
    unsigned long long mask = strtoull(cgt + 8, NULL, 16);
    return (mask >> (sig - 1)) & 1;
}

int
eng_ctr_pause(struct eng_ctr *c, bool pause, struct bt_err **err)
{
    if (c->status != (pause ? ENG_CTR_RUNNING : ENG_CTR_PAUSED))
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is %s", c->name,
                          eng_ctr_status_str(c->status));
    int r = eng_cgroup_freeze(c->cgroup, pause, err);
    if (r == 0)
        c->status = pause ? ENG_CTR_PAUSED : ENG_CTR_RUNNING;
    return r;
}

int
eng_ctr_remove(struct eng_ctr_store *s, struct eng_ctr *c, bool volumes, struct bt_err **err)
{
    if (c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED)
        return bt_err_set(err, BT_ECONFLICT, "container '%s' is running", c->name);
    if (c->cgroup) {
        int r = eng_cgroup_remove(c->cgroup, err);
        if (r < 0)
            return r;
        c->cgroup = eng_cgroup_free(c->cgroup);
    }
    /* One rename makes it gone; the tree is removed after (at start if we crash). */
    char gone[80];
    snprintf(gone, sizeof gone, "removing-%s", c->id);
    if (renameat(s->dirfd, c->id, s->dirfd, gone) < 0)
        return bt_err_errno(err, -errno, "cannot remove container '%s'", c->name);
    int r = bt_rm_tree_at(s->dirfd, gone, err);
    for (size_t i = 0; i < s->n; i++)
        if (s->ctrs[i] == c) {
            s->ctrs[i] = s->ctrs[--s->n];
            break;
        }
    if (volumes) {
        /* The container is out of the store: only others can hold its volumes now. */
        int q = remove_anon_volumes(s, c, json_object_get(c->config, "mounts"), r < 0 ? NULL : err);
        if (r == 0)
            r = q;
    }
    ctr_free(c);
    return r;
}

static json_t *
time_json(int64_t ns)
{
    if (ns <= 0)
        return json_string("0001-01-01T00:00:00Z");
    time_t sec = (time_t) (ns / 1000000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%09lldZ", (long long) (ns % 1000000000));
    return json_string(buf);
}

json_t *
eng_ctr_inspect(const struct eng_ctr *c)
{
    const json_t *image = json_object_get(c->config, "image");
    json_t *state =
        json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "Status",
                  eng_ctr_status_str(c->status), "Running",
                  c->status == ENG_CTR_RUNNING || c->status == ENG_CTR_PAUSED, "Paused",
                  c->status == ENG_CTR_PAUSED, "Restarting", 0, "OOMKilled", c->oom_killed, "Dead",
                  c->status == ENG_CTR_DEAD, "Pid", (int) c->pid, "ExitCode", c->exit_code, "Error",
                  c->error ? c->error : "", "StartedAt", time_json(c->started_ns), "FinishedAt",
                  time_json(c->finished_ns));
    return json_pack("{s:s, s:s, s:o, s:O, s:O, s:o, s:i, s:O, s:O*}", "Id", c->id, "Name", c->name,
                     "Created", time_json(c->created_ns), "Image", json_object_get(image, "id"),
                     "ImageRef", json_object_get(image, "ref"), "State", state, "RestartCount",
                     (int) c->restart_count, "Spec", json_object_get(c->config, "spec"), "Mounts",
                     json_object_get(c->config, "mounts"));
}
