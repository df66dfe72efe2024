/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker's credential helpers (docker-credential-NAME get | store | erase), run by the CLI with
 * the user's environment, as the Docker CLI runs them: the server name on stdin for get and
 * erase, {"ServerURL","Username","Secret"} for store; get answers with the same object, or
 * fails with "credentials not found in native keychain". The daemon never runs them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/fileio.h"
#include "engine/image/dockercfg.h"
#include "orchestrator/cli/cli.h"

extern char **environ;

#define HELPER_OUT_MAX (64u << 10)

/* Run docker-credential-NAME VERB with input on its stdin; its stdout in *out (NUL-terminated,
 * at most HELPER_OUT_MAX). Returns the exit status (0 success), or a negative error. */
static int
run_helper(const char *name, const char *verb, const char *input, struct bt_buf *out,
           struct bt_err **err)
{
    if (!*name || strchr(name, '/'))
        return bt_err_set(err, BT_EINVALID, "invalid credential helper name '%s'", name);
    bt_autofree char *prog = bt_xasprintf("docker-credential-%s", name);
    int in[2], outp[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return bt_err_errno(err, -errno, "cannot create a pipe");
    if (pipe2(outp, O_CLOEXEC) < 0) {
        int e = -errno;
        close(in[0]);
        close(in[1]);
        return bt_err_errno(err, e, "cannot create a pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    char *const argv[] = { prog, (char *) verb, NULL };
    pid_t pid;
    int r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(outp[1]);
    if (r != 0) {
        close(in[1]);
        close(outp[0]);
        int e = bt_err_errno(err, -r, "cannot run the credential helper '%s'", prog);
        bt_err_hint(err, "install %s, or remove it from ~/.docker/config.json", prog);
        return e;
    }
    /* The input is small: one write, then EOF. A helper that exits early makes it EPIPE. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    (void) bt_write_all(in[1], input, strlen(input));
    close(in[1]);
    sigaction(SIGPIPE, &old, NULL);
    char buf[4096];
    for (;;) {
        ssize_t n = read(outp[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (bt_buf_append(out, buf, (size_t) n) < 0) {
            r = bt_err_set(err, BT_ETOOBIG, "%s printed over %u bytes", prog, HELPER_OUT_MAX);
            break;
        }
    }
    close(outp[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return r;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
cli_credhelper_get(const char *helper, const char *server, struct eng_dockercfg_auth *ret,
                   struct bt_err **err)
{
    struct bt_buf out;
    bt_buf_init(&out, HELPER_OUT_MAX);
    int st = run_helper(helper, "get", server, &out, err);
    if (st < 0) {
        bt_buf_release(&out);
        return st;
    }
    *ret = (struct eng_dockercfg_auth){ .uses_helper = true };
    if (st != 0) {
        /* "credentials not found in native keychain": nothing stored for this server. */
        bool not_found = out.len && strstr(bt_buf_str(&out), "not found");
        bt_buf_release(&out);
        if (not_found)
            return 0;
        return bt_err_set(err, EIO, "the credential helper docker-credential-%s failed (exit %d)",
                          helper, st);
    }
    json_t *j = json_loadb(bt_buf_str(&out), out.len, 0, NULL);
    explicit_bzero(out.data, out.len);
    bt_buf_release(&out);
    const char *user = json_string_value(json_object_get(j, "Username"));
    const char *secret = json_string_value(json_object_get(j, "Secret"));
    if (!user || !secret) {
        json_decref(j);
        return bt_err_set(err, BT_EPARSE,
                          "docker-credential-%s get: the answer has no Username and Secret",
                          helper);
    }
    ret->found = true;
    /* The Docker CLI's convention: an identity token is stored under the user "<token>". */
    if (strcmp(user, "<token>") == 0) {
        ret->identity_token = bt_xstrdup(secret);
    } else {
        ret->username = bt_xstrdup(user);
        ret->password = bt_xstrdup(secret);
    }
    json_decref(j);
    return 0;
}

int
cli_credhelper_store(const char *helper, const char *server, const char *user, const char *secret,
                     struct bt_err **err)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s}", "ServerURL", server, "Username", user, "Secret", secret);
    bt_autofree char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct bt_buf out;
    bt_buf_init(&out, HELPER_OUT_MAX);
    int st = run_helper(helper, "store", text, &out, err);
    explicit_bzero(text, strlen(text));
    bt_buf_release(&out);
    if (st > 0)
        return bt_err_set(err, EIO,
                          "the credential helper docker-credential-%s could not store "
                          "the credentials (exit %d)",
                          helper, st);
    return st;
}

int
cli_credhelper_erase(const char *helper, const char *server, bool *ret_had, struct bt_err **err)
{
    struct bt_buf out;
    bt_buf_init(&out, HELPER_OUT_MAX);
    int st = run_helper(helper, "erase", server, &out, err);
    bool not_found = st > 0 && out.len && strstr(bt_buf_str(&out), "not found");
    bt_buf_release(&out);
    if (st < 0)
        return st;
    if (st > 0 && !not_found)
        return bt_err_set(err, EIO, "the credential helper docker-credential-%s failed (exit %d)",
                          helper, st);
    *ret_had = st == 0;
    return 0;
}
