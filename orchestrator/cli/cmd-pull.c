/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth image pull, berth login, berth logout. Credentials live in the Docker CLI's
 * config.json (so an existing `docker login` works); the CLI reads them and hands them to the
 * daemon with the request, as the Docker CLI does, and the daemon never writes them anywhere.
 * Progress: one line per layer, redrawn on a terminal; plain lines otherwise; JSON lines with
 * --progress json.
 */
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/image/dockercfg.h"
#include "engine/image/ref.h"
#include "orchestrator/cli/cli.h"

/* The credentials config.json has for host, as the request's "auth" object; NULL if none. */
static int
auth_for(const char *host, json_t **ret, struct bt_err **err)
{
    *ret = NULL;
    bt_autofree char *path = eng_dockercfg_default_path();
    if (!path)
        return 0;
    struct eng_dockercfg *cfg = NULL;
    if (eng_dockercfg_load(path, &cfg, err) < 0)
        return -1;
    struct eng_dockercfg_auth a = { 0 };
    /* A credential helper first, as the Docker CLI; the file's auths when it has nothing. */
    const char *helper = eng_dockercfg_helper(cfg, host);
    int r = helper ? cli_credhelper_get(helper, eng_dockercfg_key(host), &a, err) : 0;
    if (r == 0 && !a.found) {
        eng_dockercfg_auth_release(&a);
        r = eng_dockercfg_lookup(cfg, host, &a, err);
    }
    eng_dockercfg_free(cfg);
    if (r < 0)
        return r;
    if (a.found)
        *ret = json_pack("{s:s?, s:s?, s:s?}", "username", a.username, "password", a.password,
                         "identitytoken", a.identity_token);
    eng_dockercfg_auth_release(&a);
    return 0;
}

/* What pull and push say about a name: its familiar form, its repository without tag or digest
 * (as docker names it in "Pulling from"), whether it has a tag, and the credentials for its
 * registry (NULL when none). */
struct named {
    char *familiar;
    char *repo;
    bool tagged;
    json_t *auth;
};

static int
named_init(struct named *n, const char *name, struct bt_err **err)
{
    struct eng_img_ref ref;
    *n = (struct named){ 0 };
    if (eng_img_ref_parse(name, &ref, err) < 0)
        return -1;
    int r = auth_for(ref.domain, &n->auth, err);
    n->familiar = eng_img_ref_familiar(&ref);
    n->tagged = ref.tag != NULL;
    struct eng_img_ref bare = ref;
    bare.tag = bare.digest = NULL;
    n->repo = eng_img_ref_familiar(&bare);
    eng_img_ref_release(&ref);
    return r;
}

static void
named_release(struct named *n)
{
    free(n->familiar);
    free(n->repo);
    json_decref(n->auth);
}

struct pull_view {
    bool tty, json, quiet;
    json_t *rows; /* id -> line, in order of arrival */
    size_t drawn; /* lines on screen to redraw */
};

static void
bar(char *out, size_t n, json_int_t cur, json_int_t total)
{
    int width = 30, fill = total > 0 ? (int) (cur * width / total) : 0;
    if (fill > width)
        fill = width;
    char b[40];
    memset(b, '=', (size_t) fill);
    b[fill] = fill < width ? '>' : '\0';
    b[fill < width ? fill + 1 : fill] = '\0';
    snprintf(out, n, "[%-30s] %.1fMB/%.1fMB", b, (double) cur / 1e6, (double) total / 1e6);
}

static void
on_progress(const struct orch_msg *m, void *ud)
{
    struct pull_view *v = ud;
    json_t *data = json_object_get(m->root, "data");
    if (v->quiet)
        return;
    if (v->json) {
        cli_print_json(data);
        return;
    }
    const char *id = json_string_value(json_object_get(data, "id"));
    const char *status = json_string_value(json_object_get(data, "status"));
    json_int_t cur = json_integer_value(json_object_get(data, "current"));
    json_int_t total = json_integer_value(json_object_get(data, "total"));
    if (!id || !status)
        return;
    char line[160];
    char b[96] = "";
    if (total > 0 && v->tty)
        bar(b, sizeof b, cur, total);
    snprintf(line, sizeof line, "%s%s%s %s", id, *id ? ": " : "", status, b);
    if (!v->tty) {
        /* Plain output: state changes only, not every byte count. */
        if (strcmp(status, "Downloading") != 0)
            printf("%s\n", line);
        fflush(stdout);
        return;
    }
    json_object_set_new(v->rows, *id ? id : "-", json_string(line));
    if (v->drawn)
        printf("\033[%zuA", v->drawn);
    const char *k;
    json_t *val;
    json_object_foreach(v->rows, k, val) {
        printf("\033[2K%s\n", json_string_value(val));
    }
    v->drawn = json_object_size(v->rows);
    fflush(stdout);
}

/* Send a pull or push with its progress shown as --progress says; banner (a line) goes first in
 * the human forms. *ret_json tells the caller which form was used. */
static int
transfer(struct cli_ctx *ctx, const char *op, json_t *args_steal, bool quiet, const char *banner,
         json_t **ret, bool *ret_json, struct bt_err **err)
{
    struct pull_view v = { .tty = isatty(1) && !bt_streq(ctx->progress, "plain"),
                           .json = bt_streq(ctx->progress, "json"),
                           .quiet = quiet || bt_streq(ctx->progress, "quiet"),
                           .rows = json_object() };
    *ret_json = v.json;
    if (!v.quiet && !v.json) {
        printf("%s\n", banner);
        fflush(stdout);
    }
    struct cli_client *c = NULL;
    int r = cli_client_open(ctx, true, &c, err);
    if (r == 0)
        r = cli_client_call(c, op, args_steal, on_progress, &v, ret, err);
    else
        json_decref(args_steal);
    cli_client_free(c);
    json_decref(v.rows);
    return r;
}

static const struct cli_opt pull_opts[] = {
    { "platform", 0, "PLATFORM", "Set platform if server is multi-platform capable", NULL, 0 },
    { "quiet", 'q', NULL, "Suppress verbose output", NULL, 0 },
    { "all-tags", 'a', NULL, "Download all tagged images (not supported)", NULL, 0 },
};
static const struct cli_usage pull_usage = { "image pull", "[OPTIONS] NAME[:TAG|@DIGEST]",
                                             "Download an image from a registry" };

static int
cmd_pull(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, pull_opts, BT_ARRAY_SIZE(pull_opts), argc, argv, 0, &pull_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bt_autofree char *platform =
        cli_args_get(&a, "platform") ? bt_xstrdup(cli_args_get(&a, "platform")) : NULL;
    bool quiet = cli_args_has(&a, "quiet"), all = cli_args_has(&a, "all-tags");
    bt_autofree char *name = a.npos == 1 ? bt_xstrdup(a.pos[0]) : NULL;
    cli_args_release(&a);
    if (!name)
        return bt_err_set(err, BT_EUSAGE, "'berth image pull' takes exactly one image");
    if (all)
        return bt_err_set(err, BT_EUNSUPPORTED, "--all-tags is not supported yet");
    struct named n;
    if (named_init(&n, name, err) < 0) {
        named_release(&n);
        return -1;
    }
    bt_autofree char *banner = bt_xasprintf(
        "%s: Pulling from %s", n.tagged ? strrchr(n.familiar, ':') + 1 : "digest", n.repo);
    json_t *res = NULL;
    bool json = false;
    r = transfer(ctx, "image.pull",
                 json_pack("{s:s, s:s*, s:O*}", "ref", name, "platform", platform, "auth", n.auth),
                 quiet, banner, &res, &json, err);
    if (r < 0) {
        named_release(&n);
        return -1;
    }
    bool human = !json && !quiet && !bt_streq(ctx->progress, "quiet");
    if (human) {
        printf("Digest: %s\n", json_string_value(json_object_get(res, "digest")));
        printf(json_is_true(json_object_get(res, "downloaded"))
                   ? "Status: Downloaded newer image for %s\n"
                   : "Status: Image is up to date for %s\n",
               n.familiar);
    }
    if (!json)
        printf("%s\n", n.familiar);
    named_release(&n);
    json_decref(res);
    return 0;
}

int
cli_cmd_image_pull(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return cmd_pull(ctx, argc, argv, err);
}

static const struct cli_opt push_opts[] = {
    { "quiet", 'q', NULL, "Suppress verbose output", NULL, 0 },
};
static const struct cli_usage push_usage = { "image push", "[OPTIONS] NAME[:TAG]",
                                             "Upload an image to a registry" };

int
cli_cmd_image_push(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, push_opts, BT_ARRAY_SIZE(push_opts), argc, argv, 0, &push_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool quiet = cli_args_has(&a, "quiet");
    bt_autofree char *name = a.npos == 1 ? bt_xstrdup(a.pos[0]) : NULL;
    cli_args_release(&a);
    if (!name)
        return bt_err_set(err, BT_EUSAGE, "'berth image push' takes exactly one image");
    struct named n;
    if (named_init(&n, name, err) < 0) {
        named_release(&n);
        return -1;
    }
    json_t *res = NULL;
    bool json = false;
    bt_autofree char *banner = bt_xasprintf("The push refers to repository [%s]", n.repo);
    r = transfer(ctx, "image.push", json_pack("{s:s, s:O*}", "ref", name, "auth", n.auth), quiet,
                 banner, &res, &json, err);
    if (r < 0) {
        named_release(&n);
        return -1;
    }
    if (!json)
        printf("%s: digest: %s size: %lld\n", n.familiar,
               json_string_value(json_object_get(res, "digest")),
               (long long) json_integer_value(json_object_get(res, "size")));
    json_decref(res);
    named_release(&n);
    return 0;
}

/* ---- login / logout ---- */

static const struct cli_opt login_opts[] = {
    { "username", 'u', "USERNAME", "Username", NULL, 0 },
    { "password", 'p', "PASSWORD", "Password", NULL, 0 },
    { "password-stdin", 0, NULL, "Take the password from stdin", NULL, 0 },
};
static const struct cli_usage login_usage = { "login", "[OPTIONS] [SERVER]",
                                              "Log in to a registry" };

/* A line from stdin (the password), without its newline; echo off on a terminal. */
static char *
read_secret(const char *prompt)
{
    struct termios old, quiet;
    bool tty = isatty(0) && tcgetattr(0, &old) == 0;
    if (prompt && tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        (void) tcsetattr(0, TCSANOW, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (prompt && tty) {
        (void) tcsetattr(0, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

int
cli_cmd_login(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, login_opts, BT_ARRAY_SIZE(login_opts), argc, argv, 0, &login_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bt_autofree char *host = eng_dockercfg_host(a.npos ? a.pos[0] : "docker.io");
    bt_autofree char *user =
        cli_args_get(&a, "username") ? bt_xstrdup(cli_args_get(&a, "username")) : NULL;
    bt_autofree char *pass =
        cli_args_get(&a, "password") ? bt_xstrdup(cli_args_get(&a, "password")) : NULL;
    bool from_stdin = cli_args_has(&a, "password-stdin");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos > 1)
        return bt_err_set(err, BT_EUSAGE, "'berth login' takes at most one server");
    if (pass && from_stdin)
        return bt_err_set(err, BT_EUSAGE, "--password and --password-stdin are mutually exclusive");
    if (from_stdin && !user)
        return bt_err_set(err, BT_EUSAGE, "must provide --username with --password-stdin");
    if (pass)
        fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
                        "--password-stdin.\n");
    if (!user) {
        if (!isatty(0))
            return bt_err_set(err, BT_EUSAGE,
                              "cannot ask for a username: stdin is not a "
                              "terminal; use --username");
        fprintf(stderr, "Username: ");
        user = read_secret(NULL);
    }
    if (!pass)
        pass = read_secret(from_stdin ? NULL : "Password: ");
    if (!user || !*user || !pass || !*pass)
        return bt_err_set(err, BT_EUSAGE, "a username and a password are needed");
    json_t *res = NULL;
    if (cli_call(ctx, "registry.login",
                 json_pack("{s:s, s:{s:s, s:s}}", "host", host, "auth", "username", user,
                           "password", pass),
                 &res, err) < 0)
        return -1;
    json_decref(res);
    bt_autofree char *path = eng_dockercfg_default_path();
    if (!path)
        return bt_err_set(err, ENOENT, "cannot find a home directory for config.json");
    struct eng_dockercfg *cfg = NULL;
    if (eng_dockercfg_load(path, &cfg, err) < 0)
        return -1;
    /* With a credential helper the secret goes there, as docker login puts it. */
    const char *helper = eng_dockercfg_helper(cfg, host);
    if (helper) {
        r = cli_credhelper_store(helper, eng_dockercfg_key(host), user, pass, err);
    } else {
        eng_dockercfg_set(cfg, host, user, pass);
        r = eng_dockercfg_save(cfg, err);
    }
    eng_dockercfg_free(cfg);
    if (r < 0)
        return r;
    printf("Login Succeeded\n");
    return 0;
}

static const struct cli_usage logout_usage = { "logout", "[SERVER]", "Log out from a registry" };

int
cli_cmd_logout(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    (void) ctx;
    struct cli_args a;
    int r = cli_args_parse(&a, NULL, 0, argc, argv, 0, &logout_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bt_autofree char *host = eng_dockercfg_host(a.npos ? a.pos[0] : "docker.io");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos > 1)
        return bt_err_set(err, BT_EUSAGE, "'berth logout' takes at most one server");
    bt_autofree char *path = eng_dockercfg_default_path();
    struct eng_dockercfg *cfg = NULL;
    if (!path || eng_dockercfg_load(path, &cfg, err) < 0)
        return path ? -1 : 0;
    const char *helper = eng_dockercfg_helper(cfg, host);
    bool in_helper = false;
    r = helper ? cli_credhelper_erase(helper, eng_dockercfg_key(host), &in_helper, err) : 0;
    bool had = eng_dockercfg_remove(cfg, host);
    if (r == 0 && had)
        r = eng_dockercfg_save(cfg, err);
    had |= in_helper;
    eng_dockercfg_free(cfg);
    if (r < 0)
        return r;
    if (had)
        printf("Removing login credentials for %s\n", host);
    else
        printf("Not logged in to %s\n", host);
    return 0;
}
