/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth image ls | inspect | tag | rm | prune | import | load | save: the image store as
 * `docker image` shows it. Archives travel as descriptors (the daemon reads and writes the
 * CLI's own file or pipe), so `-i -`, `-o -` and files only the caller can open all work.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "engine/image/ref.h"
#include "orchestrator/cli/cli.h"

static const char *const formats[] = { "table", "json", NULL };

/* "4.26MB" as Docker prints sizes (decimal units, three significant digits). */
static void
human_size(json_int_t n, char out[16])
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double) n;
    size_t u = 0;
    while (v >= 1000 && u + 1 < BT_ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(out, 16, "%.3g%s", v, units[u]);
}

/* "3 hours ago" from an RFC 3339 time. */
static void
human_ago(const char *rfc3339, char out[32])
{
    struct tm tm = { 0 };
    if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, 32, "N/A");
        return;
    }
    time_t then = timegm(&tm), now = time(NULL);
    long d = (long) difftime(now, then);
    static const struct {
        long secs;
        const char *unit;
    } steps[] = { { 365L * 86400, "year" }, { 30L * 86400, "month" }, { 7L * 86400, "week" },
                  { 86400, "day" },         { 3600, "hour" },         { 60, "minute" } };
    for (size_t i = 0; i < BT_ARRAY_SIZE(steps); i++)
        if (d >= steps[i].secs) {
            long n = d / steps[i].secs;
            snprintf(out, 32, "%ld %s%s ago", n, steps[i].unit, n == 1 ? "" : "s");
            return;
        }
    snprintf(out, 32, d < 2 ? "Less than a second ago" : "%ld seconds ago", d);
}

/* "docker.io/library/busybox:latest" -> repository "busybox", tag "latest". */
static void
split_ref(const char *full, char **ret_repo, char **ret_tag)
{
    struct eng_img_ref r;
    if (eng_img_ref_parse(full, &r, NULL) < 0) {
        *ret_repo = bt_xstrdup(full);
        *ret_tag = bt_xstrdup("<none>");
        return;
    }
    char *familiar = eng_img_ref_familiar(&r);
    char *colon = strrchr(familiar, ':');
    if (r.tag && colon && !strchr(colon, '/'))
        *colon = '\0';
    *ret_repo = familiar;
    *ret_tag = bt_xstrdup(r.tag ? r.tag : "<none>");
    eng_img_ref_release(&r);
}

static const struct cli_opt ls_opts[] = {
    { "all", 'a', NULL, "Show all images (berth has no intermediate images)", NULL, 0 },
    { "quiet", 'q', NULL, "Only display image IDs", NULL, 0 },
    { "no-trunc", 0, NULL, "Don't truncate output", NULL, 0 },
    { "digests", 0, NULL, "Show digests", NULL, 0 },
    { "format", 0, "FORMAT", "Format the output", formats, 0 },
};
static const struct cli_usage ls_usage = { "image ls", "[OPTIONS] [REPOSITORY[:TAG]]",
                                           "List images" };

static int
cmd_ls(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, ls_opts, BT_ARRAY_SIZE(ls_opts), argc, argv, 0, &ls_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool quiet = cli_args_has(&a, "quiet"), no_trunc = cli_args_has(&a, "no-trunc");
    bool json = bt_streq(cli_args_get(&a, "format"), "json");
    bool digests = cli_args_has(&a, "digests");
    bt_autofree char *filter = a.npos > 0 ? bt_xstrdup(a.pos[0]) : NULL;
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos > 1)
        return bt_err_set(err, BT_EUSAGE, "'berth image ls' takes at most one argument");
    json_t *res = NULL;
    if (cli_call(ctx, "image.list", NULL, &res, err) < 0)
        return -1;
    json_t *images = json_object_get(res, "images");
    if (!quiet && !json)
        printf(digests ? "%-40s %-20s %-72s %-13s %-24s %s\n" : "%-40s %-20s%.0s %-13s %-24s %s\n",
               "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        const char *id = json_string_value(json_object_get(img, "id"));
        json_t *refs = json_object_get(img, "refs");
        size_t nrefs = json_array_size(refs);
        for (size_t k = 0; k < (nrefs ? nrefs : 1); k++) {
            const char *full = nrefs ? json_string_value(json_array_get(refs, k)) : NULL;
            bt_autofree char *repo = NULL, *tag = NULL;
            if (full) {
                split_ref(full, &repo, &tag);
            } else {
                repo = bt_xstrdup("<none>");
                tag = bt_xstrdup("<none>");
            }
            if (filter && strcmp(filter, repo) != 0 && !bt_streq(filter, full)) {
                bt_autofree char *rt = bt_xasprintf("%s:%s", repo, tag);
                if (strcmp(filter, rt) != 0)
                    continue;
            }
            if (quiet) {
                printf("%.*s\n", no_trunc ? 71 : 12, no_trunc ? id : id + 7);
                break; /* one line per image */
            }
            if (json) {
                json_t *row = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O}", "Repository", repo, "Tag",
                                        tag, "ID", id, "CreatedAt", json_object_get(img, "created"),
                                        "Size", json_object_get(img, "size"), "Platform",
                                        json_object_get(img, "platform"));
                cli_print_json(row);
                json_decref(row);
                continue;
            }
            char size[16], ago[32];
            human_size(json_integer_value(json_object_get(img, "size")), size);
            human_ago(json_string_value(json_object_get(img, "created")), ago);
            const char *digest =
                json_string_value(json_array_get(json_object_get(img, "repo_digests"), 0));
            const char *at = digest ? strchr(digest, '@') : NULL;
            printf(digests ? "%-40s %-20s %-72s %-13.*s %-24s %s\n"
                           : "%-40s %-20s%.0s %-13.*s %-24s %s\n",
                   repo, tag, at ? at + 1 : "<none>", no_trunc ? 71 : 12, no_trunc ? id : id + 7,
                   ago, size);
        }
    }
    json_decref(res);
    return 0;
}

static const struct cli_opt inspect_opts[] = {
    { "format", 'f', "FORMAT", "Format the output (json)", formats, 0 },
};
static const struct cli_usage inspect_usage = { "image inspect", "[OPTIONS] IMAGE [IMAGE...]",
                                                "Display detailed information on images" };

static int
cmd_inspect(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, inspect_opts, BT_ARRAY_SIZE(inspect_opts), argc, argv, 0,
                           &inspect_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    json_t *names = json_array();
    for (size_t i = 0; i < a.npos; i++)
        json_array_append_new(names, json_string(a.pos[i]));
    cli_args_release(&a);
    if (json_array_size(names) == 0) {
        json_decref(names);
        return bt_err_set(err, BT_EUSAGE, "'berth image inspect' needs at least one image");
    }
    json_t *res = NULL;
    if (cli_call(ctx, "image.inspect", json_pack("{s:o}", "names", names), &res, err) < 0)
        return -1;
    bt_autofree char *text = json_dumps(json_object_get(res, "images"), JSON_INDENT(4));
    printf("%s\n", text);
    json_decref(res);
    return 0;
}

static const struct cli_usage tag_usage = { "image tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                            "Create a tag TARGET_IMAGE that refers to "
                                            "SOURCE_IMAGE" };

static int
cmd_tag(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, NULL, 0, argc, argv, 0, &tag_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos != 2) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth image tag' takes exactly two arguments");
    }
    json_t *args = json_pack("{s:s, s:s}", "source", a.pos[0], "target", a.pos[1]);
    cli_args_release(&a);
    json_t *res = NULL;
    if (cli_call(ctx, "image.tag", args, &res, err) < 0)
        return -1;
    json_decref(res);
    return 0;
}

static void
print_report(const json_t *report)
{
    size_t i;
    json_t *e;
    json_array_foreach(report, i, e) {
        const char *k = json_object_iter_key(json_object_iter((json_t *) e));
        printf("%s: %s\n", k, json_string_value(json_object_get(e, k)));
    }
}

static const struct cli_opt rm_opts[] = {
    { "force", 'f', NULL, "Force removal of the image", NULL, 0 },
    { "no-prune", 0, NULL, "Accepted for compatibility (berth has no untagged parents)", NULL, 0 },
};
static const struct cli_usage rm_usage = { "image rm", "[OPTIONS] IMAGE [IMAGE...]",
                                           "Remove one or more images" };

static int
cmd_rm(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, rm_opts, BT_ARRAY_SIZE(rm_opts), argc, argv, 0, &rm_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    json_t *names = json_array();
    for (size_t i = 0; i < a.npos; i++)
        json_array_append_new(names, json_string(a.pos[i]));
    bool force = cli_args_has(&a, "force");
    cli_args_release(&a);
    if (json_array_size(names) == 0) {
        json_decref(names);
        return bt_err_set(err, BT_EUSAGE, "'berth image rm' needs at least one image");
    }
    json_t *res = NULL;
    if (cli_call(ctx, "image.rm", json_pack("{s:o, s:b}", "names", names, "force", force), &res,
                 err) < 0)
        return -1;
    print_report(json_object_get(res, "report"));
    json_decref(res);
    return 0;
}

static const struct cli_opt prune_opts[] = {
    { "all", 'a', NULL, "Remove all unused images, not just dangling ones", NULL, 0 },
    { "force", 'f', NULL, "Do not prompt for confirmation", NULL, 0 },
};
static const struct cli_usage prune_usage = { "image prune", "[OPTIONS]", "Remove unused images" };

static int
cmd_prune(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, prune_opts, BT_ARRAY_SIZE(prune_opts), argc, argv, 0, &prune_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bool all = cli_args_has(&a, "all");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos)
        return bt_err_set(err, BT_EUSAGE, "'berth image prune' takes no arguments");
    json_t *res = NULL;
    if (cli_call(ctx, "image.prune", json_pack("{s:b}", "all", all), &res, err) < 0)
        return -1;
    print_report(json_object_get(res, "report"));
    json_decref(res);
    return 0;
}

/* Open FILE for the daemon, or stdin/stdout for "-". */
static int
open_arg(const char *path, bool write, struct bt_err **err)
{
    if (strcmp(path, "-") == 0)
        return fcntl(write ? 1 : 0, F_DUPFD_CLOEXEC, 3);
    int fd = write ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                   : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot open '%s'", path);
    return fd;
}

static int
call_with_fd(struct cli_ctx *ctx, const char *op, json_t *args, int fd, json_t **ret,
             struct bt_err **err)
{
    struct cli_client *c = NULL;
    if (cli_client_open(ctx, true, &c, err) < 0) {
        json_decref(args);
        return -1;
    }
    int r = cli_client_call_fds(c, op, args, &fd, 1, NULL, NULL, ret, err);
    cli_client_free(c);
    return r;
}

static void
print_loaded(const json_t *res)
{
    size_t i, k;
    json_t *img, *ref;
    json_array_foreach(json_object_get(res, "images"), i, img) {
        json_t *refs = json_object_get(img, "refs");
        json_array_foreach(refs, k, ref) {
            struct eng_img_ref r;
            if (eng_img_ref_parse(json_string_value(ref), &r, NULL) < 0)
                continue;
            bt_autofree char *familiar = eng_img_ref_familiar(&r);
            printf("Loaded image: %s\n", familiar);
            eng_img_ref_release(&r);
        }
        if (json_array_size(refs) == 0)
            printf("Loaded image ID: %s\n", json_string_value(json_object_get(img, "id")));
    }
}

static const struct cli_opt load_opts[] = {
    { "input", 'i', "FILE", "Read from tar archive file, instead of STDIN", NULL, 0 },
    { "quiet", 'q', NULL, "Suppress the load output", NULL, 0 },
};
static const struct cli_usage load_usage = { "image load", "[OPTIONS]",
                                             "Load an image from a tar archive or STDIN" };

static int
cmd_load(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, load_opts, BT_ARRAY_SIZE(load_opts), argc, argv, 0, &load_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bt_autofree char *input =
        bt_xstrdup(cli_args_get(&a, "input") ? cli_args_get(&a, "input") : "-");
    bool quiet = cli_args_has(&a, "quiet");
    size_t npos = a.npos;
    cli_args_release(&a);
    if (npos)
        return bt_err_set(err, BT_EUSAGE, "'berth image load' takes no arguments");
    if (strcmp(input, "-") == 0 && isatty(0)) {
        r = bt_err_set(err, BT_EUSAGE, "requested load from stdin, but stdin is empty");
        bt_err_hint(err, "give a file with -i, or pipe an archive in");
        return r;
    }
    bt_autoclose int fd = open_arg(input, false, err);
    if (fd < 0)
        return -1;
    json_t *res = NULL;
    if (call_with_fd(ctx, "image.load", json_object(), fd, &res, err) < 0)
        return -1;
    if (!quiet)
        print_loaded(res);
    json_decref(res);
    return 0;
}

static const struct cli_opt save_opts[] = {
    { "output", 'o', "FILE", "Write to a file, instead of STDOUT", NULL, 0 },
};
static const struct cli_usage save_usage = { "image save", "[OPTIONS] IMAGE [IMAGE...]",
                                             "Save one or more images to a tar archive" };

static int
cmd_save(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r =
        cli_args_parse(&a, save_opts, BT_ARRAY_SIZE(save_opts), argc, argv, 0, &save_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    bt_autofree char *output =
        bt_xstrdup(cli_args_get(&a, "output") ? cli_args_get(&a, "output") : "-");
    json_t *names = json_array();
    for (size_t i = 0; i < a.npos; i++)
        json_array_append_new(names, json_string(a.pos[i]));
    cli_args_release(&a);
    if (json_array_size(names) == 0) {
        json_decref(names);
        return bt_err_set(err, BT_EUSAGE, "'berth image save' needs at least one image");
    }
    if (strcmp(output, "-") == 0 && isatty(1)) {
        json_decref(names);
        r = bt_err_set(err, BT_EUSAGE, "refusing to write an archive to a terminal");
        bt_err_hint(err, "give a file with -o, or redirect the output");
        return r;
    }
    /* A file is written beside itself and renamed over on success, so a failed save neither
     * leaves half an archive nor destroys what the name held; anything else (stdout, a pipe, a
     * device) is written in place. */
    struct stat st;
    bool to_file = strcmp(output, "-") != 0 && (stat(output, &st) < 0 || S_ISREG(st.st_mode));
    bt_autofree char *tmp =
        to_file ? bt_xasprintf("%s.berth-save-%d", output, (int) getpid()) : NULL;
    bt_autoclose int fd = -1;
    if (tmp)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    else if (strcmp(output, "-") == 0)
        fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    else
        fd = open(output, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        json_decref(names);
        return bt_err_errno(err, -errno, "cannot write '%s'", output);
    }
    json_t *res = NULL;
    r = call_with_fd(ctx, "image.save", json_pack("{s:o}", "names", names), fd, &res, err);
    json_decref(res);
    if (tmp && r == 0 && rename(tmp, output) < 0)
        r = bt_err_errno(err, -errno, "cannot rename '%s' to '%s'", tmp, output);
    if (tmp && r < 0)
        (void) unlink(tmp);
    if (r < 0 && !to_file && strstr((*err)->msg, "cannot write"))
        bt_err_hint(err, "the output '%s' did not take the archive (full or not writable?)",
                    output);
    return r < 0 ? -1 : 0;
}

static const struct cli_opt import_opts[] = {
    { "change", 'c', "INSTRUCTION", "Apply Dockerfile instruction to the created image", NULL,
      CLI_OPT_REPEAT },
    { "message", 'm', "MESSAGE", "Set commit message for imported image", NULL, 0 },
    { "platform", 0, "PLATFORM", "Set platform (only this host's is supported)", NULL, 0 },
};
static const struct cli_usage import_usage = { "image import",
                                               "[OPTIONS] file|- [REPOSITORY[:TAG]]",
                                               "Import the contents from a tarball to create a "
                                               "filesystem image" };

static int
cmd_import(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse(&a, import_opts, BT_ARRAY_SIZE(import_opts), argc, argv, 0,
                           &import_usage, err);
    if (r != 0)
        return r < 0 ? r : 0;
    if (a.npos < 1 || a.npos > 2) {
        cli_args_release(&a);
        return bt_err_set(err, BT_EUSAGE, "'berth image import' takes a file and a name");
    }
    json_t *changes = json_array();
    const char *c;
    for (size_t i = 0; (c = cli_args_nth(&a, "change", i)); i++)
        json_array_append_new(changes, json_string(c));
    json_t *args = json_pack("{s:o, s:s?, s:s?}", "changes", changes, "message",
                             cli_args_get(&a, "message"), "ref", a.npos > 1 ? a.pos[1] : NULL);
    bt_autofree char *input = bt_xstrdup(a.pos[0]);
    cli_args_release(&a);
    bt_autoclose int fd = open_arg(input, false, err);
    if (fd < 0) {
        json_decref(args);
        return -1;
    }
    json_t *res = NULL;
    if (call_with_fd(ctx, "image.import", args, fd, &res, err) < 0)
        return -1;
    printf("%s\n", json_string_value(
                       json_object_get(json_array_get(json_object_get(res, "images"), 0), "id")));
    json_decref(res);
    return 0;
}

static const struct cli_cmd subs[] = {
    { "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
    { "inspect", cmd_inspect, "Display detailed information on one or more images" },
    { "load", cmd_load, "Load an image from a tar archive or STDIN" },
    { "ls", cmd_ls, "List images" },
    { "list", cmd_ls, "List images (alias of ls)" },
    { "prune", cmd_prune, "Remove unused images" },
    { "pull", cli_cmd_image_pull, "Download an image from a registry" },
    { "push", cli_cmd_image_push, "Upload an image to a registry" },
    { "rm", cmd_rm, "Remove one or more images" },
    { "remove", cmd_rm, "Remove one or more images (alias of rm)" },
    { "save", cmd_save, "Save one or more images to a tar archive" },
    { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
};

int
cli_cmd_image(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    return cli_subcmd_dispatch(ctx, "image", subs, BT_ARRAY_SIZE(subs), argc, argv, err);
}
