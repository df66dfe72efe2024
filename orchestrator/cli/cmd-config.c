/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth config: parse, resolve and print the project's model, or parts of it. Runs in the CLI
 * alone: no daemon needed.
 */
#include <fcntl.h>
#include <string.h>

#include "compose/compose.h"
#include "compose/node.h"
#include "engine/base/alloc.h"
#include "engine/base/fileio.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

static const char *const formats[] = { "yaml", "json", NULL };

static const struct cli_opt opts[] = {
    { "format", 0, "FORMAT", "Format the output", formats, 0 },
    { "output", 'o', "FILE", "Write the model to FILE instead of standard output", NULL, 0 },
    { "quiet", 'q', NULL, "Only validate the configuration, print nothing", NULL, 0 },
    { "services", 0, NULL, "Print the service names, one per line", NULL, 0 },
    { "volumes", 0, NULL, "Print the volume names, one per line", NULL, 0 },
    { "networks", 0, NULL, "Print the network names, one per line", NULL, 0 },
    { "profiles", 0, NULL, "Print the profile names, one per line", NULL, 0 },
    { "images", 0, NULL, "Print the image names, one per line", NULL, 0 },
    { "no-interpolate", 0, NULL, "Don't interpolate environment variables", NULL, 0 },
    { "no-normalize", 0, NULL, "Don't normalize the model", NULL, 0 },
    { "no-path-resolution", 0, NULL, "Don't resolve file paths", NULL, 0 },
    { "no-consistency", 0, NULL,
      "Don't check model consistency (services without an image, exclusive attributes)", NULL, 0 },
    { "hash", 0, "SERVICES", "Print the configuration hash of services ('*' for all)", NULL, 0 },
};

static const struct cli_usage usage = { "config", "[OPTIONS] [SERVICE...]",
                                        "Parse, resolve and render the compose file in "
                                        "canonical format" };

static void
print_keys(const struct compose_node *m)
{
    for (size_t i = 0; m && m->kind == COMPOSE_NODE_MAP && i < m->n; i++)
        printf("%s\n", m->pairs[i].key->str);
}

/* Profile names in first-seen order, each once. */
static void
print_profiles(const struct compose_node *services)
{
    const char *seen[256];
    size_t n = 0;
    for (size_t i = 0; services && services->kind == COMPOSE_NODE_MAP && i < services->n; i++) {
        const struct compose_node *p = compose_map_get(services->pairs[i].val, "profiles");
        for (size_t k = 0; p && p->kind == COMPOSE_NODE_SEQ && k < p->n; k++) {
            size_t j = 0;
            while (j < n && strcmp(seen[j], p->items[k]->str) != 0)
                j++;
            if (j == n && n < BT_ARRAY_SIZE(seen)) {
                seen[n++] = p->items[k]->str;
                printf("%s\n", p->items[k]->str);
            }
        }
    }
}

/* A service's image, or the name docker compose gives a built one: <project>-<service>. */
static void
print_images(const struct compose_project *p, const struct compose_node *services)
{
    for (size_t i = 0; services && services->kind == COMPOSE_NODE_MAP && i < services->n; i++) {
        const struct compose_node *img = compose_map_get(services->pairs[i].val, "image");
        if (img && img->kind == COMPOSE_NODE_SCALAR)
            printf("%s\n", img->str);
        else
            printf("%s-%s\n", p->name, services->pairs[i].key->str);
    }
}

static int
write_model(const struct compose_project *p, bool json, const char *output, struct bt_err **err)
{
    bt_autofree char *text =
        compose_project_format(p, json ? COMPOSE_FORMAT_JSON : COMPOSE_FORMAT_YAML);
    if (!output) {
        fputs(text, stdout);
        return 0;
    }
    bt_autoclose int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return bt_err_errno(err, -errno, "cannot create '%s'", output);
    int r = bt_write_all(fd, text, strlen(text));
    if (r < 0)
        return bt_err_errno(err, r, "cannot write '%s'", output);
    return 0;
}

static int
print_hashes(const struct compose_project *p, const char *which, struct bt_err **err)
{
    const char **lines;
    size_t n;
    compose_project_hashes(p, &lines, &n);
    /* Every name given must be a service. */
    for (const char *s = which; strcmp(which, "*") != 0 && *s;) {
        size_t l = strcspn(s, ","), i = 0;
        while (i < n && !(strncmp(lines[i], s, l) == 0 && lines[i][l] == ' '))
            i++;
        if (i == n)
            return bt_err_set(err, BT_EINVALID, "no such service: '%.*s'", (int) l, s);
        s += l + (s[l] == ',');
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(lines[i], " ");
        bool all = strcmp(which, "*") == 0;
        for (const char *s = which; !all && *s;) {
            size_t l = strcspn(s, ",");
            all = l == len && strncmp(s, lines[i], len) == 0;
            s += l + (s[l] == ',');
        }
        if (all)
            printf("%s\n", lines[i]);
    }
    return 0;
}

int
cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv, struct bt_err **err)
{
    struct cli_args a;
    int r = cli_args_parse_project(ctx, &a, opts, BT_ARRAY_SIZE(opts), argc, argv, 0, &usage, err);
    if (r != 0) {
        cli_args_release(&a);
        return r < 0 ? r : 0;
    }
    const char *hash = cli_args_get(&a, "hash");
    struct cli_project_opts po = {
        .no_interpolate = cli_args_has(&a, "no-interpolate"),
        .no_normalize = cli_args_has(&a, "no-normalize"),
        .no_path_resolution = cli_args_has(&a, "no-path-resolution"),
        .no_consistency = cli_args_has(&a, "no-consistency"),
        .services = (const char *const *) a.pos,
        .nservices = a.npos,
    };
    struct compose_project *p = NULL;
    if (cli_project_load(ctx, &po, &p, err) < 0) {
        cli_args_release(&a);
        return -1;
    }
    r = compose_project_select(p, po.services, po.nservices, err);
    const struct compose_node *services = p->model ? compose_map_get(p->model, "services") : NULL;
    if (r < 0 || cli_args_has(&a, "quiet"))
        ;
    else if (hash)
        r = print_hashes(p, hash, err);
    else if (cli_args_has(&a, "services"))
        print_keys(services);
    else if (cli_args_has(&a, "volumes"))
        print_keys(p->model ? compose_map_get(p->model, "volumes") : NULL);
    else if (cli_args_has(&a, "networks"))
        print_keys(p->model ? compose_map_get(p->model, "networks") : NULL);
    else if (cli_args_has(&a, "profiles"))
        print_profiles(services);
    else if (cli_args_has(&a, "images"))
        print_images(p, services);
    else
        r = write_model(p, bt_streq(cli_args_get(&a, "format"), "json"), cli_args_get(&a, "output"),
                        err);
    cli_args_release(&a);
    compose_project_free(p);
    return r;
}
