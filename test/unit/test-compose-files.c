/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding compose files and naming projects, on real temporary directory trees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/files.h"
#include "engine/base/alloc.h"

struct fx {
    char root[64];
    struct bt_arena *a;
};

static void
touch(const struct fx *f, const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", f->root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void
mkd(const struct fx *f, const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", f->root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static const char *
at(const struct fx *f, const char *rel)
{
    return bt_arena_printf(f->a, "%s%s%s", f->root, rel[0] ? "/" : "", rel);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int
setup(void **state)
{
    struct fx *f = bt_xcalloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/berth-files-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    f->a = bt_arena_new();
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    bt_arena_free(f->a);
    free(f);
    return 0;
}

static void
test_default_in_parent_with_override(void **state)
{
    struct fx *f = *state;
    mkd(f, "app");
    mkd(f, "app/sub");
    touch(f, "app/compose.yaml");
    touch(f, "app/compose.override.yml");
    struct compose_files_opts o = { .cwd = at(f, "app/sub") };
    struct compose_files r;
    assert_int_equal(compose_files_find(f->a, &o, &r, NULL), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.paths[0], at(f, "app/compose.yaml"));
    assert_string_equal(r.paths[1], at(f, "app/compose.override.yml"));
    assert_string_equal(r.project_dir, at(f, "app"));
    assert_null(r.warning);
}

static void
test_preference_and_warning(void **state)
{
    struct fx *f = *state;
    touch(f, "docker-compose.yml");
    touch(f, "compose.yml");
    struct compose_files_opts o = { .cwd = f->root };
    struct compose_files r;
    assert_int_equal(compose_files_find(f->a, &o, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.paths[0], at(f, "compose.yml"));
    assert_non_null(r.warning);
    assert_non_null(strstr(r.warning, "docker-compose.yml"));
}

static void
test_none_found(void **state)
{
    struct fx *f = *state;
    mkd(f, "empty");
    /* The search goes up to '/': only meaningful when no parent of /tmp holds a compose file. */
    struct compose_files_opts o = { .cwd = at(f, "empty") };
    struct compose_files r;
    struct bt_err *err = NULL;
    if (compose_files_find(f->a, &o, &r, &err) == 0)
        skip(); /* a compose file in /tmp or / would be found: nothing to assert */
    assert_int_equal(err->code, ENOENT);
    assert_non_null(strstr(err->msg, "no configuration file provided"));
    assert_non_null(err->hint);
    bt_err_free(err);
}

static void
test_explicit_files(void **state)
{
    struct fx *f = *state;
    mkd(f, "p");
    touch(f, "p/a.yaml");
    touch(f, "p/b.yaml");
    touch(f, "p/compose.override.yaml"); /* not loaded with -f */
    const char *files[] = { "p/a.yaml", "./p/../p/b.yaml", "-" };
    struct compose_files_opts o = { .files = files, .nfiles = 3, .cwd = f->root };
    struct compose_files r;
    assert_int_equal(compose_files_find(f->a, &o, &r, NULL), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.paths[0], at(f, "p/a.yaml"));
    assert_string_equal(r.paths[1], at(f, "p/b.yaml"));
    assert_string_equal(r.paths[2], "-");
    assert_string_equal(r.project_dir, at(f, "p"));

    const char *dash[] = { "-" };
    struct compose_files_opts o2 = {
        .files = dash, .nfiles = 1, .cwd = f->root, .project_dir = "p"
    };
    assert_int_equal(compose_files_find(f->a, &o2, &r, NULL), 0);
    assert_string_equal(r.project_dir, at(f, "p"));
}

static void
test_missing_explicit_file(void **state)
{
    struct fx *f = *state;
    const char *files[] = { "nope.yaml" };
    struct compose_files_opts o = { .files = files, .nfiles = 1, .cwd = f->root };
    struct compose_files r;
    struct bt_err *err = NULL;
    assert_int_equal(compose_files_find(f->a, &o, &r, &err), -ENOENT);
    assert_non_null(strstr(err->msg, "'nope.yaml'"));
    bt_err_free(err);
}

static void
test_compose_file_env(void **state)
{
    struct fx *f = *state;
    touch(f, "one.yml");
    touch(f, "two.yml");
    touch(f, "compose.override.yaml");
    struct compose_files_opts o = { .cwd = f->root,
                                    .compose_file = "one.yml;two.yml",
                                    .path_sep = ";" };
    struct compose_files r;
    assert_int_equal(compose_files_find(f->a, &o, &r, NULL), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.paths[1], at(f, "two.yml"));
    struct compose_files_opts o2 = { .cwd = f->root, .compose_file = "one.yml:two.yml" };
    assert_int_equal(compose_files_find(f->a, &o2, &r, NULL), 0);
    assert_int_equal(r.n, 2);
}

static void
test_project_dir_option(void **state)
{
    struct fx *f = *state;
    mkd(f, "proj");
    touch(f, "proj/docker-compose.yaml");
    struct compose_files_opts o = { .cwd = "/", .project_dir = f->root };
    o.project_dir = at(f, "proj");
    struct compose_files r;
    assert_int_equal(compose_files_find(f->a, &o, &r, NULL), 0);
    assert_string_equal(r.paths[0], at(f, "proj/docker-compose.yaml"));
    assert_string_equal(r.project_dir, at(f, "proj"));
}

static void
test_names(void **state)
{
    struct fx *f = *state;
    assert_true(compose_project_name_is_valid("web2_app-x"));
    assert_true(compose_project_name_is_valid("0abc"));
    assert_false(compose_project_name_is_valid(""));
    assert_false(compose_project_name_is_valid("_abc"));
    assert_false(compose_project_name_is_valid("-abc"));
    assert_false(compose_project_name_is_valid("My-App"));
    assert_false(compose_project_name_is_valid("a.b"));
    assert_false(compose_project_name_is_valid(NULL));
    assert_string_equal(compose_project_name_normalize(f->a, "My App.v2"), "myappv2");
    assert_string_equal(compose_project_name_normalize(f->a, "__-x_y"), "x_y");
    assert_string_equal(compose_project_name_normalize(f->a, "UNNORMALIZED PATH"),
                        "unnormalizedpath");
    assert_string_equal(compose_project_name_normalize(f->a, "..."), "");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    static const struct CMUnitTest tests[] = {
        T(test_default_in_parent_with_override),
        T(test_preference_and_warning),
        T(test_none_found),
        T(test_explicit_files),
        T(test_missing_explicit_file),
        T(test_compose_file_env),
        T(test_project_dir_option),
        T(test_names),
    };
    return cmocka_run_group_tests_name("test-compose-files", tests, NULL, NULL);
}
