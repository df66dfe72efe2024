/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process a container runs, merged from its spec and its image's config as Docker merges
 * them (moby's daemon merge() and CreateDaemonEnvironment), and the release functions of
 * spec.h. It does not resolve users (user.c) or apply anything to the kernel (caps.c).
 */
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/base/strv.h"
#include "engine/container/caps.h"
#include "engine/container/config.h"

void
eng_ctr_spec_release(struct eng_ctr_spec *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->image);
    bt_strv_free(s->entrypoint);
    bt_strv_free(s->command);
    bt_strv_free(s->env);
    free(s->working_dir);
    free(s->user);
    bt_strv_free(s->group_add);
    free(s->hostname);
    free(s->domainname);
    bt_strv_free(s->labels);
    bt_strv_free(s->cap_add);
    bt_strv_free(s->cap_drop);
    free(s->seccomp_profile);
    bt_strv_free(s->security_opt_unsupported);
    for (size_t i = 0; s->devices && i < s->ndevices; i++) {
        free(s->devices[i].host_path);
        free(s->devices[i].ctr_path);
    }
    free(s->devices);
    bt_strv_free(s->device_cgroup_rules);
    for (size_t i = 0; s->sysctls && i < s->nsysctls; i++) {
        free(s->sysctls[i].key);
        free(s->sysctls[i].value);
    }
    free(s->sysctls);
    free(s->ulimits);
    free(s->pid_with);
    free(s->ipc_with);
    free(s->net_with);
    for (size_t i = 0; s->mounts && i < s->nmounts; i++) {
        free(s->mounts[i].source);
        free(s->mounts[i].target);
    }
    free(s->mounts);
    bt_strv_free(s->volumes_from);
    free(s->cpuset);
    *s = (struct eng_ctr_spec){ 0 };
}

void
eng_ctr_proc_release(struct eng_ctr_proc *p)
{
    if (!p)
        return;
    bt_strv_free(p->argv);
    bt_strv_free(p->env);
    free(p->cwd);
    free(p->user);
    *p = (struct eng_ctr_proc){ 0 };
}

/* A JSON array of strings from the image config: 1 when present (possibly empty), 0 when
 * absent or null, negative when malformed. */
static int
image_strv(const json_t *config, const char *key, char *const **ret_v,
           struct bt_strv_builder *store, struct bt_err **err)
{
    const json_t *a = config ? json_object_get(config, key) : NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return bt_err_set(err, BT_EINVALID, "image config: %s is not an array", key);
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return bt_err_set(err, BT_EINVALID, "image config: %s[%zu] is not a string", key, i);
        bt_strv_builder_push(store, bt_xstrdup(json_string_value(v)));
    }
    *ret_v = store->v;
    return 1;
}

static const char *
image_str(const json_t *config, const char *key)
{
    const json_t *v = config ? json_object_get(config, key) : NULL;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s && *s ? s : NULL;
}

static int
make_argv(const struct eng_ctr_spec *s, const json_t *image_config, char ***ret,
          struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder img_ep = { 0 }, img_cmd = { 0 };
    char *const *image_ep = NULL, *const *image_cmd = NULL;
    int r = image_strv(image_config, "Entrypoint", &image_ep, &img_ep, err);
    if (r < 0)
        return r;
    r = image_strv(image_config, "Cmd", &image_cmd, &img_cmd, err);
    if (r < 0)
        return r;

    /* moby's merge(): a non-empty entrypoint keeps only the spec's command; an empty or
     * absent one takes the image's Cmd when the spec gives none, and the image's entrypoint
     * when the spec does not mention one at all. */
    char *const *ep = s->entrypoint;
    char *const *cmd = s->command;
    if (bt_strv_len(ep) == 0) {
        if (bt_strv_len(cmd) == 0)
            cmd = image_cmd;
        if (!ep)
            ep = image_ep;
    }
    bt_autostrv_builder struct bt_strv_builder argv = { 0 };
    for (size_t i = 0; ep && ep[i]; i++)
        bt_strv_builder_push(&argv, bt_xstrdup(ep[i]));
    for (size_t i = 0; cmd && cmd[i]; i++)
        bt_strv_builder_push(&argv, bt_xstrdup(cmd[i]));
    if (argv.n == 0)
        return bt_err_set(err, BT_EINVALID, "no command specified");
    *ret = bt_strv_builder_steal(&argv);
    return 0;
}

static size_t
env_keylen(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq ? (size_t) (eq - e) : strlen(e);
}

/* moby's ReplaceOrAppendEnvValues: same key replaced in place, else appended; an entry
 * without '=' removes the key. */
static void
env_set(struct bt_strv_builder *env, const char *entry)
{
    size_t kl = env_keylen(entry);
    bool unset = entry[kl] != '=';
    for (size_t i = 0; i < env->n; i++) {
        if (env_keylen(env->v[i]) == kl && strncmp(env->v[i], entry, kl) == 0) {
            free(env->v[i]);
            if (unset) {
                memmove(&env->v[i], &env->v[i + 1], (env->n - i) * sizeof *env->v);
                env->n--;
            } else {
                env->v[i] = bt_xstrdup(entry);
            }
            return;
        }
    }
    if (!unset)
        bt_strv_builder_push(env, bt_xstrdup(entry));
}

static int
make_env(const struct eng_ctr_spec *s, const json_t *image_config, char ***ret, struct bt_err **err)
{
    bt_autostrv_builder struct bt_strv_builder img = { 0 };
    char *const *image_env = NULL;
    int r = image_strv(image_config, "Env", &image_env, &img, err);
    if (r < 0)
        return r;
    bt_autostrv_builder struct bt_strv_builder env = { 0 };
    bt_strv_builder_push(&env, bt_xstrdup("PATH=" ENG_DEFAULT_PATH));
    /* Without a hostname the engine adds HOSTNAME: the default is the container's id. */
    if (s->hostname)
        bt_strv_builder_push(&env, bt_xasprintf("HOSTNAME=%s", s->hostname));
    if (s->tty)
        bt_strv_builder_push(&env, bt_xstrdup("TERM=xterm"));
    for (size_t i = 0; image_env && image_env[i]; i++) {
        if (env_keylen(image_env[i]) == 0)
            return bt_err_set(err, BT_EINVALID, "image config: Env[%zu]: empty variable name", i);
        env_set(&env, image_env[i]);
    }
    for (size_t i = 0; s->env && s->env[i]; i++) {
        if (env_keylen(s->env[i]) == 0)
            return bt_err_set(err, BT_EINVALID, "environment: empty variable name in '%s'",
                              s->env[i]);
        env_set(&env, s->env[i]);
    }
    *ret = bt_strv_builder_steal(&env);
    return 0;
}

int
eng_ctr_proc_make(const struct eng_ctr_spec *s, const json_t *image_config,
                  struct eng_ctr_proc *ret, struct bt_err **err)
{
    if (image_config && !json_is_object(image_config))
        return bt_err_set(err, BT_EINVALID, "image config is not an object");
    struct eng_ctr_proc p = { 0 };
    int r = make_argv(s, image_config, &p.argv, err);
    if (r < 0)
        goto fail;
    r = make_env(s, image_config, &p.env, err);
    if (r < 0)
        goto fail;

    const char *cwd =
        s->working_dir && *s->working_dir ? s->working_dir : image_str(image_config, "WorkingDir");
    if (!cwd)
        cwd = "/";
    if (cwd[0] != '/') {
        r = bt_err_set(err, BT_EINVALID,
                       "the working directory '%s' is invalid: it must be an absolute path", cwd);
        goto fail;
    }
    p.cwd = bt_xstrdup(cwd);

    const char *user = s->user && *s->user ? s->user : image_str(image_config, "User");
    p.user = user ? bt_xstrdup(user) : NULL;

    p.stop_signal = s->stop_signal;
    const char *sig = image_str(image_config, "StopSignal");
    if (p.stop_signal == 0 && sig && bt_signal_parse(sig, &p.stop_signal) < 0) {
        r = bt_err_set(err, BT_EINVALID, "image config: invalid StopSignal '%s'", sig);
        goto fail;
    }
    if (p.stop_signal == 0)
        p.stop_signal = SIGTERM;

    r = eng_caps_compute(s->privileged, s->cap_add, s->cap_drop, &p.caps, err);
    if (r < 0)
        goto fail;
    *ret = p;
    return 0;
fail:
    eng_ctr_proc_release(&p);
    return r;
}

static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* Dotted names of letters, digits, '_' and '-' (net ones may also name an interface, which
 * may hold '.' only as a component separator here: a "/" would reach another file). */
static bool
sysctl_key_ok(const char *key)
{
    if (!*key || *key == '.' || strlen(key) > 255)
        return false;
    for (const char *p = key; *p; p++) {
        if (*p == '.' && (p[1] == '.' || p[1] == 0))
            return false;
        if (!isalnum((unsigned char) *p) && *p != '.' && *p != '_' && *p != '-')
            return false;
    }
    return true;
}

int
eng_sysctl_check(const char *key, bool net_private, bool ipc_private, bool uts_private,
                 struct bt_err **err)
{
    if (!sysctl_key_ok(key))
        return bt_err_set(err, BT_EINVALID, "invalid sysctl name '%s'", key);
    bool ipc = bt_startswith(key, "fs.mqueue.") != NULL;
    for (size_t i = 0; !ipc && i < BT_ARRAY_SIZE(ipc_sysctls); i++)
        ipc = strcmp(key, ipc_sysctls[i]) == 0;
    if (ipc) {
        if (!ipc_private)
            return bt_err_set(err, BT_EINVALID,
                              "sysctl '%s' is not allowed with the host's ipc namespace", key);
        return 0;
    }
    if (bt_startswith(key, "net.")) {
        if (!net_private)
            return bt_err_set(err, BT_EINVALID,
                              "sysctl '%s' is not allowed with the host's network namespace", key);
        return 0;
    }
    if (strcmp(key, "kernel.domainname") == 0 && uts_private)
        return 0;
    if (strcmp(key, "kernel.hostname") == 0 && uts_private) {
        int r = bt_err_set(err, BT_EINVALID, "sysctl '%s' is not allowed", key);
        bt_err_hint(err, "set the container's hostname with the 'hostname' key");
        return r;
    }
    return bt_err_set(err, BT_EINVALID, "sysctl '%s' is not namespaced: it would change the host",
                      key);
}
