/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/image/dockercfg.c: the default path, a missing file, lookups under each
 * key form the Docker CLI writes, credential helpers reported, broken entries and files refused
 * naming the file, and set/remove/save keeping every other key, with modes 0600 and 0700. Each
 * test works in its own mkdtemp directory.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/base/fileio.h"
#include "engine/image/dockercfg.h"

struct tmpdir {
    char path[64];
    char *cfg; /* <path>/config.json */
};

static int
setup(void **state)
{
    struct tmpdir *t = bt_xcalloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/test-engine-dockercfg.XXXXXX");
    if (!mkdtemp(t->path)) {
        free(t);
        return -1;
    }
    t->cfg = bt_xasprintf("%s/config.json", t->path);
    *state = t;
    return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int
teardown(void **state)
{
    struct tmpdir *t = *state;
    int r = nftw(t->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t->cfg);
    free(t);
    return r == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static struct eng_dockercfg *
load_ok(const char *path)
{
    struct eng_dockercfg *c = NULL;
    bt_autoerr struct bt_err *err = NULL;
    if (eng_dockercfg_load(path, &c, &err) < 0) {
        fprintf(stderr, "unexpected error: %s\n", err->msg);
        fail();
    }
    return c;
}

static bool
streq_or_null(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Look host up and compare: user/pass/token NULL mean absent. */
static void
expect_auth(const struct eng_dockercfg *c, const char *host, const char *key, const char *user,
            const char *pass, const char *token, bool helper)
{
    struct eng_dockercfg_auth a;
    bt_autoerr struct bt_err *err = NULL;
    if (eng_dockercfg_lookup(c, host, &a, &err) < 0) {
        fprintf(stderr, "'%s': unexpected error: %s\n", host, err->msg);
        fail();
    }
    if (!streq_or_null(a.key, key) || !streq_or_null(a.username, user) ||
        !streq_or_null(a.password, pass) || !streq_or_null(a.identity_token, token) ||
        a.uses_helper != helper || a.found != (pass || token)) {
        fprintf(stderr, "'%s': got key=%s user=%s token=%s helper=%d found=%d\n", host,
                a.key ? a.key : "-", a.username ? a.username : "-",
                a.identity_token ? a.identity_token : "-", a.uses_helper, a.found);
        fail();
    }
    eng_dockercfg_auth_release(&a);
}

/* base64("hubuser:hub:pass"), base64("u:p") */
#define B64_HUB "aHVidXNlcjpodWI6cGFzcw=="
#define B64_UP "dTpw"

static const char full_cfg[] =
    "{\n"
    "\t\"auths\": {\n"
    "\t\t\"https://index.docker.io/v1/\": {\"auth\": \"" B64_HUB "\"},\n"
    "\t\t\"127.0.0.1:5000\": {\"auth\": \"" B64_UP "\", \"email\": \"x@y\"},\n"
    "\t\t\"http://legacy.example.com/v1/\": {\"username\": \"lu\", \"password\": \"lp\"},\n"
    "\t\t\"https://tok.example.com\": {\"identitytoken\": \"TOKEN\"},\n"
    "\t\t\"empty.example.com\": {}\n"
    "\t},\n"
    "\t\"credHelpers\": {\"gcr.io\": \"gcloud\"},\n"
    "\t\"HttpHeaders\": {\"User-Agent\": \"Docker-Client/x\"},\n"
    "\t\"psFormat\": \"table {{.ID}}\",\n"
    "\t\"experimental\": \"enabled\"\n"
    "}\n";

static void
test_default_path(void **state)
{
    (void) state;
    char *old_dc = getenv("DOCKER_CONFIG") ? bt_xstrdup(getenv("DOCKER_CONFIG")) : NULL;
    char *old_home = getenv("HOME") ? bt_xstrdup(getenv("HOME")) : NULL;
    assert_int_equal(setenv("DOCKER_CONFIG", "/etc/dc/", 1), 0);
    char *p = eng_dockercfg_default_path();
    assert_string_equal(p, "/etc/dc/config.json");
    free(p);
    assert_int_equal(unsetenv("DOCKER_CONFIG"), 0);
    assert_int_equal(setenv("HOME", "/home/me", 1), 0);
    p = eng_dockercfg_default_path();
    assert_string_equal(p, "/home/me/.docker/config.json");
    free(p);
    /* No HOME: the passwd entry's home. */
    assert_int_equal(unsetenv("HOME"), 0);
    p = eng_dockercfg_default_path();
    if (p)
        assert_non_null(strstr(p, "/.docker/config.json"));
    free(p);
    if (old_dc)
        assert_int_equal(setenv("DOCKER_CONFIG", old_dc, 1), 0);
    if (old_home)
        assert_int_equal(setenv("HOME", old_home, 1), 0);
    free(old_dc);
    free(old_home);
}

static void
test_missing_file(void **state)
{
    struct tmpdir *t = *state;
    struct eng_dockercfg *c = load_ok(t->cfg);
    expect_auth(c, "docker.io", NULL, NULL, NULL, NULL, false);
    expect_auth(c, "127.0.0.1:5000", NULL, NULL, NULL, NULL, false);
    /* Loading created nothing. */
    assert_int_equal(access(t->cfg, F_OK), -1);
    eng_dockercfg_free(c);
}

static void
test_lookup_key_forms(void **state)
{
    struct tmpdir *t = *state;
    write_file(t->cfg, full_cfg);
    struct eng_dockercfg *c = load_ok(t->cfg);
    const char *hub = ENG_DOCKERCFG_HUB_KEY;
    expect_auth(c, "docker.io", hub, "hubuser", "hub:pass", NULL, false);
    expect_auth(c, "index.docker.io", hub, "hubuser", "hub:pass", NULL, false);
    expect_auth(c, "registry-1.docker.io", hub, "hubuser", "hub:pass", NULL, false);
    expect_auth(c, "https://index.docker.io/v1/", hub, "hubuser", "hub:pass", NULL, false);
    expect_auth(c, "127.0.0.1:5000", "127.0.0.1:5000", "u", "p", NULL, false);
    expect_auth(c, "http://127.0.0.1:5000/v2/", "127.0.0.1:5000", "u", "p", NULL, false);
    expect_auth(c, "legacy.example.com", "http://legacy.example.com/v1/", "lu", "lp", NULL, false);
    expect_auth(c, "tok.example.com", "https://tok.example.com", NULL, NULL, "TOKEN", false);
    /* An empty entry (what Docker leaves when a helper holds the secret): nothing found. */
    expect_auth(c, "empty.example.com", "empty.example.com", NULL, NULL, NULL, false);
    expect_auth(c, "gcr.io", NULL, NULL, NULL, NULL, true);
    expect_auth(c, "127.0.0.1:5001", NULL, NULL, NULL, NULL, false);
    expect_auth(c, "example.com", NULL, NULL, NULL, NULL, false);
    eng_dockercfg_free(c);
}

static void
test_lookup_hub_short_keys(void **state)
{
    struct tmpdir *t = *state;
    /* Without the canonical key, any key naming Docker Hub serves; the smallest wins. */
    write_file(t->cfg, "{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"" B64_UP "\"},"
                       "\"docker.io\":{\"auth\":\"" B64_HUB "\"}},\"credsStore\":\"desktop\"}");
    struct eng_dockercfg *c = load_ok(t->cfg);
    expect_auth(c, "docker.io", "docker.io", "hubuser", "hub:pass", NULL, true);
    /* credsStore: every host is said to use a helper. */
    expect_auth(c, "quay.io", NULL, NULL, NULL, NULL, true);
    eng_dockercfg_free(c);
}

static void
test_helper_names(void **state)
{
    struct tmpdir *t = *state;
    /* As the Docker CLI: credHelpers for the registry itself, else credsStore, else none;
     * helpers are asked with Docker Hub's long key. */
    write_file(t->cfg, "{\"credsStore\":\"desktop\",\"credHelpers\":{\"https://quay.io\":\"q\","
                       "\"empty.io\":\"\"}}");
    struct eng_dockercfg *c = load_ok(t->cfg);
    assert_string_equal(eng_dockercfg_helper(c, "quay.io"), "q");
    assert_string_equal(eng_dockercfg_helper(c, "ghcr.io"), "desktop");
    assert_string_equal(eng_dockercfg_helper(c, "empty.io"), "desktop");
    assert_string_equal(eng_dockercfg_key("docker.io"), ENG_DOCKERCFG_HUB_KEY);
    assert_string_equal(eng_dockercfg_key("h.io:5000"), "h.io:5000");
    eng_dockercfg_free(c);
    write_file(t->cfg, "{\"auths\":{}}");
    c = load_ok(t->cfg);
    assert_null(eng_dockercfg_helper(c, "quay.io"));
    eng_dockercfg_free(c);
}

static void
test_broken_entries(void **state)
{
    struct tmpdir *t = *state;
    static const struct {
        const char *entry, *msg;
    } v[] = {
        { "[]", "auths entry 'h.io': not an object" },
        { "{\"auth\":5}", "auths entry 'h.io': field 'auth' is not a string" },
        { "{\"auth\":\"!!!!\"}", "auths entry 'h.io': field 'auth' is not base64" },
        /* base64("nocolon") */
        { "{\"auth\":\"bm9jb2xvbg==\"}", "field 'auth' is not base64 of user:password" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        bt_autofree char *text = bt_xasprintf("{\"auths\":{\"h.io\":%s}}", v[i].entry);
        write_file(t->cfg, text);
        struct eng_dockercfg *c = load_ok(t->cfg);
        struct eng_dockercfg_auth a = { .key = NULL };
        bt_autoerr struct bt_err *err = NULL;
        assert_int_equal(eng_dockercfg_lookup(c, "h.io", &a, &err), -BT_EINVALID);
        if (!strstr(err->msg, v[i].msg) || !strstr(err->msg, t->cfg)) {
            fprintf(stderr, "expected '%s', got '%s'\n", v[i].msg, err->msg);
            fail();
        }
        assert_null(a.key);
        /* Other hosts still work. */
        expect_auth(c, "other.io", NULL, NULL, NULL, NULL, false);
        eng_dockercfg_free(c);
    }
}

static void
test_garbage_files(void **state)
{
    struct tmpdir *t = *state;
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } v[] = {
        { "not json", BT_EPARSE, "is not valid JSON" },
        { "", BT_EPARSE, "is not valid JSON" },
        { "[1]", BT_EPARSE, "is not a JSON object" },
        { "{\"auths\":[]}", BT_EINVALID, "field 'auths' is not an object" },
        { "{\"credHelpers\":\"x\"}", BT_EINVALID, "field 'credHelpers' is not an object" },
        { "{\"credsStore\":1}", BT_EINVALID, "field 'credsStore' is not a string" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        write_file(t->cfg, v[i].text);
        struct eng_dockercfg *c = NULL;
        bt_autoerr struct bt_err *err = NULL;
        assert_int_equal(eng_dockercfg_load(t->cfg, &c, &err), -v[i].code);
        assert_null(c);
        if (!strstr(err->msg, v[i].msg) || !strstr(err->msg, t->cfg)) {
            fprintf(stderr, "expected '%s', got '%s'\n", v[i].msg, err->msg);
            fail();
        }
    }
    /* Over 1 MiB. */
    FILE *f = fopen(t->cfg, "we");
    assert_non_null(f);
    assert_int_equal(fputs("{\"x\":\"", f) >= 0, 1);
    for (size_t i = 0; i < ENG_DOCKERCFG_MAX; i++)
        assert_int_equal(fputc('a', f), 'a');
    assert_int_equal(fputs("\"}", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    struct eng_dockercfg *c = NULL;
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_dockercfg_load(t->cfg, &c, &err), -BT_ETOOBIG);
    assert_non_null(strstr(err->msg, t->cfg));
    /* A directory where the file should be. */
    bt_autoerr struct bt_err *err2 = NULL;
    assert_int_equal(eng_dockercfg_load(t->path, &c, &err2), -EISDIR);
    assert_non_null(strstr(err2->msg, t->path));
}

static void
assert_mode(const char *path, mode_t want)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, want);
}

static void
test_set_remove_save_keeps_other_keys(void **state)
{
    struct tmpdir *t = *state;
    write_file(t->cfg, full_cfg);
    assert_int_equal(chmod(t->cfg, 0644), 0);
    struct eng_dockercfg *c = load_ok(t->cfg);
    eng_dockercfg_set(c, "127.0.0.1:5000", "new", "s3cr:et");
    eng_dockercfg_set(c, "registry-1.docker.io", "hub2", "pw2");
    eng_dockercfg_set(c, "https://fresh.example.com/v1/", "f", "g");
    assert_true(eng_dockercfg_remove(c, "legacy.example.com"));
    assert_false(eng_dockercfg_remove(c, "legacy.example.com"));
    bt_autoerr struct bt_err *err = NULL;
    assert_int_equal(eng_dockercfg_save(c, &err), 0);
    eng_dockercfg_free(c);
    assert_mode(t->cfg, 0600);

    c = load_ok(t->cfg);
    expect_auth(c, "127.0.0.1:5000", "127.0.0.1:5000", "new", "s3cr:et", NULL, false);
    expect_auth(c, "docker.io", ENG_DOCKERCFG_HUB_KEY, "hub2", "pw2", NULL, false);
    expect_auth(c, "fresh.example.com", "fresh.example.com", "f", "g", NULL, false);
    expect_auth(c, "legacy.example.com", NULL, NULL, NULL, NULL, false);
    expect_auth(c, "tok.example.com", "https://tok.example.com", NULL, NULL, "TOKEN", false);
    eng_dockercfg_free(c);

    /* Every key but auths is as it was; auths lost only the removed entry's key. */
    json_t *before = json_loads(full_cfg, 0, NULL);
    json_t *after = json_load_file(t->cfg, 0, NULL);
    assert_non_null(before);
    assert_non_null(after);
    const char *key;
    json_t *v;
    json_object_foreach(before, key, v) {
        if (strcmp(key, "auths") != 0)
            assert_true(json_equal(v, json_object_get(after, key)));
    }
    assert_int_equal(json_object_size(after), json_object_size(before));
    json_t *auths = json_object_get(after, "auths");
    assert_int_equal(json_object_size(auths), 5);
    json_t *empty = json_object_get(auths, "empty.example.com");
    assert_true(json_is_object(empty) && json_object_size(empty) == 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(auths, ENG_DOCKERCFG_HUB_KEY), "auth")),
        "aHViMjpwdzI=");
    /* The replaced entry is the CLI's form: auth only. */
    assert_null(json_object_get(json_object_get(auths, "127.0.0.1:5000"), "email"));
    json_decref(before);
    json_decref(after);
}

static void
test_save_creates_directory(void **state)
{
    struct tmpdir *t = *state;
    bt_autofree char *dir = bt_xasprintf("%s/home/.docker", t->path);
    bt_autofree char *path = bt_xasprintf("%s/config.json", dir);
    struct eng_dockercfg *c = load_ok(path);
    /* Removing from an empty file is a no-op. */
    assert_false(eng_dockercfg_remove(c, "docker.io"));
    eng_dockercfg_set(c, "docker.io", "me", "pw");
    bt_autoerr struct bt_err *err = NULL;
    mode_t old = umask(022);
    assert_int_equal(eng_dockercfg_save(c, &err), 0);
    (void) umask(old);
    eng_dockercfg_free(c);
    assert_mode(dir, 0700);
    assert_mode(path, 0600);
    c = load_ok(path);
    expect_auth(c, "docker.io", ENG_DOCKERCFG_HUB_KEY, "me", "pw", NULL, false);
    assert_true(eng_dockercfg_remove(c, "index.docker.io"));
    assert_int_equal(eng_dockercfg_save(c, &err), 0);
    eng_dockercfg_free(c);
    c = load_ok(path);
    expect_auth(c, "docker.io", NULL, NULL, NULL, NULL, false);
    eng_dockercfg_free(c);
}

static void
test_save_error(void **state)
{
    struct tmpdir *t = *state;
    /* The directory cannot be made: a file took its place after the load. */
    bt_autofree char *file = bt_xasprintf("%s/sub", t->path);
    bt_autofree char *path = bt_xasprintf("%s/config.json", file);
    struct eng_dockercfg *c = load_ok(path);
    write_file(file, "x");
    eng_dockercfg_set(c, "docker.io", "me", "pw");
    bt_autoerr struct bt_err *err = NULL;
    assert_true(eng_dockercfg_save(c, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->msg, file));
    eng_dockercfg_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_key_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_hub_short_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_helper_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_remove_save_keeps_other_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_creates_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
