/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/image/change.c: every instruction `import --change` accepts, in each of
 * its forms, the Dockerfile quoting, escaping and $VAR rules, and the errors (with their
 * messages) for what Docker refuses or berth refuses earlier.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/base/alloc.h"
#include "engine/base/err.h"
#include "engine/image/change.h"

static json_t *
load(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("bad test JSON '%s': %s", text, je.text);
    return v;
}

/* Apply the instructions in order to the config `before` and compare with `after`. */
static void
check_seq(const char *before, const char *const *ins, size_t n, const char *after)
{
    json_t *config = load(before);
    json_t *want = load(after);
    for (size_t i = 0; i < n; i++) {
        struct bt_err *err = NULL;
        int r = eng_img_change_apply(config, ins[i], &err);
        if (r != 0)
            fail_msg("'%s': unexpected error %d: %s", ins[i], r, err ? err->msg : "(none)");
        assert_null(err);
    }
    if (!json_equal(config, want)) {
        char *got = json_dumps(config, JSON_SORT_KEYS | JSON_COMPACT);
        char *exp = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("'%s'\n expected %s\n got      %s\n", ins[n - 1], exp, got);
        free(got);
        free(exp);
        fail();
    }
    json_decref(config);
    json_decref(want);
}

static void
check(const char *before, const char *in, const char *after)
{
    check_seq(before, &in, 1, after);
}

/* The instruction fails with code and message, and leaves the config as it was. */
static void
check_error(const char *before, const char *in, int code, const char *msg)
{
    json_t *config = load(before);
    json_t *orig = json_deep_copy(config);
    struct bt_err *err = NULL;
    int r = eng_img_change_apply(config, in, &err);
    if (r == 0)
        fail_msg("'%s': expected an error", in);
    assert_non_null(err);
    if (r != -code || err->code != code)
        fail_msg("'%s': expected code %d, got %d (%s)", in, code, -r, err->msg);
    if (strcmp(err->msg, msg) != 0)
        fail_msg("'%s':\n expected '%s'\n got      '%s'", in, msg, err->msg);
    if (!json_equal(config, orig))
        fail_msg("'%s': the config changed on error", in);
    err = bt_err_free(err);
    json_decref(config);
    json_decref(orig);
}

static void
test_cmd(void **state)
{
    (void) state;
    check("{}", "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
          "{\"Cmd\": [\"nginx\", \"-g\", \"daemon off;\"]}");
    check("{}", "CMD echo \"$HOME\"  &&  ls",
          "{\"Cmd\": [\"/bin/sh\", \"-c\", \"echo \\\"$HOME\\\"  &&  ls\"]}");
    check("{\"Cmd\": [\"a\"]}", "CMD []", "{\"Cmd\": []}");
    check("{}", "  cmd\t [ \"a\" ,\"b\" ]  ", "{\"Cmd\": [\"a\", \"b\"]}");
    check("{}", "Cmd [\"\\u00e9\\t\"]", "{\"Cmd\": [\"\\u00e9\\t\"]}");
    /* Not JSON (single quotes, unclosed, trailing text): the shell form, as Docker reads it. */
    check("{}", "CMD ['a']", "{\"Cmd\": [\"/bin/sh\", \"-c\", \"['a']\"]}");
    check("{}", "CMD [\"a\"", "{\"Cmd\": [\"/bin/sh\", \"-c\", \"[\\\"a\\\"\"]}");
    check("{}", "CMD [oops", "{\"Cmd\": [\"/bin/sh\", \"-c\", \"[oops\"]}");
    /* Variables and quotes are the shell's business in CMD. */
    check("{\"Env\": [\"A=1\"]}", "CMD echo '$A'",
          "{\"Env\": [\"A=1\"], \"Cmd\": [\"/bin/sh\", \"-c\", \"echo '$A'\"]}");
    check_error("{}", "CMD [\"a\", 1]", BT_EINVALID,
                "CMD: exec form must be a JSON array of strings, not '[\"a\", 1]'");
    check_error("{}", "CMD [[\"a\"]]", BT_EINVALID,
                "CMD: exec form must be a JSON array of strings, not '[[\"a\"]]'");
    check_error("{}", "CMD", BT_EINVALID, "CMD: missing argument");
    check_error("{}", "  CMD   ", BT_EINVALID, "CMD: missing argument");
}

static void
test_entrypoint(void **state)
{
    (void) state;
    check("{\"Cmd\": [\"x\"]}", "ENTRYPOINT [\"/docker-entrypoint.sh\"]",
          "{\"Cmd\": [\"x\"], \"Entrypoint\": [\"/docker-entrypoint.sh\"]}");
    check("{}", "entrypoint exec   top -b",
          "{\"Entrypoint\": [\"/bin/sh\", \"-c\", \"exec   top -b\"]}");
    check("{\"Entrypoint\": [\"a\"]}", "ENTRYPOINT []", "{\"Entrypoint\": []}");
    check_error("{}", "ENTRYPOINT [true]", BT_EINVALID,
                "ENTRYPOINT: exec form must be a JSON array of strings, not '[true]'");
    check_error("{}", "ENTRYPOINT", BT_EINVALID, "ENTRYPOINT: missing argument");
}

static void
test_env_forms(void **state)
{
    (void) state;
    check("{}", "ENV A=1", "{\"Env\": [\"A=1\"]}");
    check("{}", "ENV A=1 B=\"two words\"   C='x y' D=",
          "{\"Env\": [\"A=1\", \"B=two words\", "
          "\"C=x y\", \"D=\"]}");
    check("{}", "ENV A=a\\ b B=\"q\\\"uote\" C='back\\slash' D=\\\"",
          "{\"Env\": [\"A=a b\", \"B=q\\\"uote\", \"C=back\\\\slash\", \"D=\\\"\"]}");
    /* In double quotes a backslash escapes only '"', '$' and itself. */
    check("{}", "ENV A=\"a\\nb\\\\c\\$d\"", "{\"Env\": [\"A=a\\\\nb\\\\c$d\"]}");
    /* Quotes join with what is around them; '=' in the value stays. */
    check("{}", "ENV A=pre\"mid dle\"post B=x=y", "{\"Env\": [\"A=premid dlepost\", \"B=x=y\"]}");
    check("{}", "env PATH=/usr/bin:/bin", "{\"Env\": [\"PATH=/usr/bin:/bin\"]}");
    /* Legacy: the name, then the rest of the line (inner blanks kept, quotes removed). */
    check("{}", "ENV MSG hello   big world", "{\"Env\": [\"MSG=hello   big world\"]}");
    check("{}", "ENV MSG \"quoted value\"", "{\"Env\": [\"MSG=quoted value\"]}");
    check("{}", "ENV\tK\t v=1 w", "{\"Env\": [\"K=v=1 w\"]}");
    /* Replacing keeps the place; new ones go last. */
    check("{\"Env\": [\"PATH=/bin\", \"A=1\", \"HOME=/root\"]}", "ENV A=2 Z=26",
          "{\"Env\": [\"PATH=/bin\", \"A=2\", \"HOME=/root\", \"Z=26\"]}");
    check("{\"Env\": [\"A=1\"]}", "ENV A=2 A=3", "{\"Env\": [\"A=3\"]}");
    /* Names compare whole: AB is not A. */
    check("{\"Env\": [\"AB=1\"]}", "ENV A=2", "{\"Env\": [\"AB=1\", \"A=2\"]}");
    /* A member of the wrong type is replaced. */
    check("{\"Env\": null, \"User\": \"x\"}", "ENV A=1", "{\"Env\": [\"A=1\"], \"User\": \"x\"}");
    check("{}", "ENV A=\"\"", "{\"Env\": [\"A=\"]}");
}

static void
test_env_expand(void **state)
{
    (void) state;
    const char *env = "{\"Env\": [\"A=1\", \"E=\"]}";
    check(env, "ENV B=$A C=${A}x D=$Ax", "{\"Env\": [\"A=1\", \"E=\", \"B=1\", \"C=1x\", \"D=\"]}");
    check(env, "ENV B='$A' C=\"$A\" D=\\$A F=$ G=a$-b H=$1",
          "{\"Env\": [\"A=1\", \"E=\", \"B=$A\", \"C=1\", \"D=$A\", \"F=$\", \"G=a$-b\", "
          "\"H=\"]}");
    /* Modifiers: ':' also treats empty as unset. */
    check(env, "ENV B=${A:-d} C=${U:-d} D=${E:-d} F=${E-d} G=${U-d}",
          "{\"Env\": [\"A=1\", \"E=\", \"B=1\", \"C=d\", \"D=d\", \"F=\", \"G=d\"]}");
    check(env, "ENV B=${A:+s} C=${U:+s} D=${E:+s} F=${E+s} G=${A?x}",
          "{\"Env\": [\"A=1\", \"E=\", \"B=s\", \"C=\", \"D=\", \"F=s\", \"G=1\"]}");
    check(env, "ENV B=${U:-\"a b\"}${U:-$A}", "{\"Env\": [\"A=1\", \"E=\", \"B=a b1\"]}");
    /* Every value sees the Env from before the instruction; the next one sees the change. */
    const char *const seq[] = { "ENV A=2 B=$A", "ENV C=$A" };
    check_seq(env, seq, 2, "{\"Env\": [\"A=2\", \"E=\", \"B=1\", \"C=2\"]}");
    check("{\"Env\": [\"A=1\"]}", "ENV A=${A}:more", "{\"Env\": [\"A=1:more\"]}");
    /* Names expand too, and the legacy form expands its value. */
    check("{\"Env\": [\"N=X\"]}", "ENV ${N}Y=1", "{\"Env\": [\"N=X\", \"XY=1\"]}");
    check("{\"Env\": [\"N=X\"]}", "ENV K $N and ${N}", "{\"Env\": [\"N=X\", \"K=X and X\"]}");
}

static void
test_env_errors(void **state)
{
    (void) state;
    check_error("{}", "ENV", BT_EINVALID, "ENV: missing argument");
    check_error("{}", "ENV K", BT_EINVALID, "ENV: 'K' has no value (NAME=VALUE or NAME VALUE)");
    check_error("{}", "ENV A=1 B", BT_EINVALID, "ENV: 'B' is not NAME=VALUE");
    check_error("{}", "ENV =1", BT_EINVALID, "ENV: empty name in '=1'");
    check_error("{}", "ENV A=1 \"\"=2", BT_EINVALID, "ENV: empty name in 'A=1 \"\"=2'");
    check_error("{\"Env\": [\"E=a=b\"]}", "ENV ${E}=1", BT_EINVALID,
                "ENV: variable name 'a=b' contains '='");
    check_error("{}", "ENV A=\"open", BT_EINVALID, "ENV: missing closing double quote in '\"open'");
    check_error("{}", "ENV A='open", BT_EINVALID, "ENV: missing closing single quote in ''open'");
    check_error("{}", "ENV A=${B", BT_EINVALID, "ENV: missing '}' in '${B'");
    check_error("{}", "ENV A=${B:-x", BT_EINVALID, "ENV: missing '}' in '${B:-x'");
    check_error("{}", "ENV A=${}", BT_EINVALID, "ENV: bad substitution in '${}'");
    check_error("{}", "ENV A=${:-x}", BT_EINVALID, "ENV: bad substitution in '${:-x}'");
    check_error("{}", "ENV A=${B%x}", BT_EINVALID,
                "ENV: unsupported modifier '%' in '${B' of '${B%x}'");
    check_error("{}", "ENV A=${B:=x}", BT_EINVALID,
                "ENV: unsupported modifier ':=' in '${B' of '${B:=x}'");
    check_error("{}", "ENV A=${B?}", BT_EINVALID, "ENV: B: is not allowed to be unset");
    check_error("{\"Env\": [\"B=\"]}", "ENV A=${B:?}", BT_EINVALID,
                "ENV: B: is not allowed to be unset or empty");
    check_error("{}", "ENV A=\"${B:?set B first}\"", BT_EINVALID, "ENV: B: set B first");
}

static void
test_env_too_big(void **state)
{
    (void) state;
    size_t n = 600 * 1024;
    char *big = bt_xmalloc(n + 3);
    memcpy(big, "B=", 2);
    memset(big + 2, 'x', n);
    big[n + 2] = '\0';
    json_t *config = json_pack("{s:[s]}", "Env", big);
    free(big);
    struct bt_err *err = NULL;
    assert_int_equal(eng_img_change_apply(config, "ENV A=$B", &err), 0);
    assert_null(err);
    assert_int_equal(eng_img_change_apply(config, "ENV C=$B$B", &err), -BT_ETOOBIG);
    assert_non_null(err);
    assert_string_equal(err->msg, "ENV: value over 1048576 bytes");
    err = bt_err_free(err);
    assert_int_equal(json_array_size(json_object_get(config, "Env")), 2);
    json_decref(config);
}

static void
test_workdir(void **state)
{
    (void) state;
    check("{}", "WORKDIR /app", "{\"WorkingDir\": \"/app\"}");
    check("{}", "WORKDIR app", "{\"WorkingDir\": \"/app\"}");
    check("{\"WorkingDir\": \"/srv\"}", "WORKDIR app/./x/", "{\"WorkingDir\": \"/srv/app/x\"}");
    check("{\"WorkingDir\": \"/srv/a\"}", "WORKDIR ../b", "{\"WorkingDir\": \"/srv/b\"}");
    check("{\"WorkingDir\": \"/srv\"}", "WORKDIR //x//y/../z", "{\"WorkingDir\": \"/x/z\"}");
    check("{}", "WORKDIR ../../..", "{\"WorkingDir\": \"/\"}");
    check("{}", "WORKDIR /", "{\"WorkingDir\": \"/\"}");
    check("{}", "WORKDIR .", "{\"WorkingDir\": \"/\"}");
    check("{\"WorkingDir\": \"rel\"}", "WORKDIR x", "{\"WorkingDir\": \"/rel/x\"}");
    check("{}", "workdir \"/my app\"", "{\"WorkingDir\": \"/my app\"}");
    check("{}", "WORKDIR /a b", "{\"WorkingDir\": \"/a b\"}");
    check("{}", "WORKDIR /a..b/.c", "{\"WorkingDir\": \"/a..b/.c\"}");
    check("{\"Env\": [\"D=/opt\"]}", "WORKDIR ${D}/app",
          "{\"Env\": [\"D=/opt\"], \"WorkingDir\": \"/opt/app\"}");
    const char *const seq[] = { "WORKDIR /a", "WORKDIR b", "WORKDIR c" };
    check_seq("{}", seq, 3, "{\"WorkingDir\": \"/a/b/c\"}");
    check_error("{}", "WORKDIR", BT_EINVALID, "WORKDIR: missing argument");
    check_error("{}", "WORKDIR \"\"", BT_EINVALID, "WORKDIR: empty path in '\"\"'");
    check_error("{}", "WORKDIR $UNSET", BT_EINVALID, "WORKDIR: empty path in '$UNSET'");
}

static void
test_user(void **state)
{
    (void) state;
    check("{}", "USER nginx", "{\"User\": \"nginx\"}");
    check("{}", "user app:staff", "{\"User\": \"app:staff\"}");
    check("{}", "USER 1000:1000", "{\"User\": \"1000:1000\"}");
    check("{\"Env\": [\"U=me\"]}", "USER ${U}", "{\"Env\": [\"U=me\"], \"User\": \"me\"}");
    check("{}", "USER \"www-data\"", "{\"User\": \"www-data\"}");
    check_error("{}", "USER", BT_EINVALID, "USER: missing argument");
    check_error("{}", "USER :staff", BT_EINVALID,
                "USER: invalid user ':staff' (NAME[:GROUP], names or ids)");
    check_error("{}", "USER app:", BT_EINVALID,
                "USER: invalid user 'app:' (NAME[:GROUP], names or ids)");
    check_error("{}", "USER a:b:c", BT_EINVALID,
                "USER: invalid user 'a:b:c' (NAME[:GROUP], names or ids)");
    check_error("{}", "USER a b", BT_EINVALID,
                "USER: invalid user 'a b' (NAME[:GROUP], names or ids)");
    check_error("{}", "USER ''", BT_EINVALID, "USER: invalid user '' (NAME[:GROUP], names or ids)");
}

static void
test_expose(void **state)
{
    (void) state;
    check("{}", "EXPOSE 80 443/tcp 53/udp 9/SCTP 8000-8002",
          "{\"ExposedPorts\": {\"80/tcp\": {}, \"443/tcp\": {}, \"53/udp\": {}, \"9/sctp\": {}, "
          "\"8000/tcp\": {}, \"8001/tcp\": {}, \"8002/tcp\": {}}}");
    check("{\"ExposedPorts\": {\"22/tcp\": {}}}", "expose 7-8/udp 1 65535 80/",
          "{\"ExposedPorts\": {\"22/tcp\": {}, \"7/udp\": {}, \"8/udp\": {}, \"1/tcp\": {}, "
          "\"65535/tcp\": {}, \"80/tcp\": {}}}");
    check("{}", "EXPOSE 5-5", "{\"ExposedPorts\": {\"5/tcp\": {}}}");
    check("{\"Env\": [\"P=8080\"]}", "EXPOSE $P/udp",
          "{\"Env\": [\"P=8080\"], \"ExposedPorts\": {\"8080/udp\": {}}}");
    check_error("{}", "EXPOSE", BT_EINVALID, "EXPOSE: missing argument");
    check_error("{}", "EXPOSE 0", BT_EINVALID, "EXPOSE: invalid port '0' in '0' (1-65535)");
    check_error("{}", "EXPOSE 80 65536", BT_EINVALID,
                "EXPOSE: invalid port '65536' in '65536' (1-65535)");
    check_error("{}", "EXPOSE http", BT_EINVALID,
                "EXPOSE: invalid port 'http' in 'http' (1-65535)");
    check_error("{}", "EXPOSE -80", BT_EINVALID, "EXPOSE: invalid port '' in '-80' (1-65535)");
    check_error("{}", "EXPOSE /tcp", BT_EINVALID, "EXPOSE: invalid port '' in '/tcp' (1-65535)");
    check_error("{}", "EXPOSE 80-", BT_EINVALID, "EXPOSE: invalid port '' in '80-' (1-65535)");
    check_error("{}", "EXPOSE 80/http", BT_EINVALID,
                "EXPOSE: invalid protocol 'http' in '80/http' (tcp, udp or sctp)");
    check_error("{}", "EXPOSE 80/tcp/x", BT_EINVALID,
                "EXPOSE: invalid protocol 'tcp/x' in '80/tcp/x' (tcp, udp or sctp)");
    check_error("{}", "EXPOSE 9-3", BT_EINVALID,
                "EXPOSE: invalid port range '9-3' (end before start)");
    check_error("{}", "EXPOSE 8080:80", BT_EINVALID,
                "EXPOSE: '8080:80' maps a host port: EXPOSE takes container ports "
                "(PORT[-END][/PROTO])");
    /* Nothing is applied when one port is wrong. */
    check_error("{\"ExposedPorts\": {\"22/tcp\": {}}}", "EXPOSE 80 0", BT_EINVALID,
                "EXPOSE: invalid port '0' in '0' (1-65535)");
}

static void
test_label(void **state)
{
    (void) state;
    check("{}", "LABEL a=1 b=\"two words\" c='it''s' \"d e\"=f",
          "{\"Labels\": {\"a\": \"1\", \"b\": \"two words\", \"c\": \"its\", \"d e\": \"f\"}}");
    check("{\"Labels\": {\"a\": \"0\", \"z\": \"26\"}}", "label a=1 org.opencontainers.x=y",
          "{\"Labels\": {\"a\": \"1\", \"z\": \"26\", \"org.opencontainers.x\": \"y\"}}");
    check("{}", "LABEL maintainer Jane Doe <jane@example.com>",
          "{\"Labels\": {\"maintainer\": \"Jane Doe <jane@example.com>\"}}");
    check("{}", "LABEL empty=", "{\"Labels\": {\"empty\": \"\"}}");
    check("{\"Env\": [\"V=2\"]}", "LABEL version=$V",
          "{\"Env\": [\"V=2\"], \"Labels\": {\"version\": \"2\"}}");
    check("{\"Labels\": []}", "LABEL a=b", "{\"Labels\": {\"a\": \"b\"}}");
    check_error("{}", "LABEL", BT_EINVALID, "LABEL: missing argument");
    check_error("{}", "LABEL a", BT_EINVALID, "LABEL: 'a' has no value (NAME=VALUE or NAME VALUE)");
    check_error("{}", "LABEL =x", BT_EINVALID, "LABEL: empty name in '=x'");
    check_error("{}", "LABEL a=1 b", BT_EINVALID, "LABEL: 'b' is not NAME=VALUE");
    check_error("{}", "LABEL a=\"x", BT_EINVALID, "LABEL: missing closing double quote in '\"x'");
}

static void
test_stopsignal(void **state)
{
    (void) state;
    check("{}", "STOPSIGNAL SIGTERM", "{\"StopSignal\": \"SIGTERM\"}");
    check("{}", "STOPSIGNAL TERM", "{\"StopSignal\": \"TERM\"}");
    check("{}", "STOPSIGNAL 15", "{\"StopSignal\": \"15\"}");
    check("{}", "stopsignal sigquit", "{\"StopSignal\": \"sigquit\"}");
    check("{}", "STOPSIGNAL SIGRTMIN+3", "{\"StopSignal\": \"SIGRTMIN+3\"}");
    check("{}", "STOPSIGNAL RTMAX-14", "{\"StopSignal\": \"RTMAX-14\"}");
    check("{}", "STOPSIGNAL 64", "{\"StopSignal\": \"64\"}");
    check("{\"Env\": [\"S=SIGINT\"]}", "STOPSIGNAL $S",
          "{\"Env\": [\"S=SIGINT\"], \"StopSignal\": \"SIGINT\"}");
    static const char *const bad[] = { "0",      "65",     "-1",        "+15",
                                       "SIG",    "SIGFOO", "RTMIN+16",  "RTMAX-15",
                                       "RTMIN+", "15x",    "TERM KILL", "SIGSIGTERM" };
    for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
        char in[64], msg[128];
        snprintf(in, sizeof in, "STOPSIGNAL %s", bad[i]);
        snprintf(msg, sizeof msg,
                 "STOPSIGNAL: invalid signal '%s' (a name such as SIGTERM or TERM, or 1-64)",
                 bad[i]);
        check_error("{}", in, BT_EINVALID, msg);
    }
    check_error("{}", "STOPSIGNAL", BT_EINVALID, "STOPSIGNAL: missing argument");
}

static void
test_volume(void **state)
{
    (void) state;
    check("{}", "VOLUME /data", "{\"Volumes\": {\"/data\": {}}}");
    check("{\"Volumes\": {\"/old\": {}}}", "volume /a  /b",
          "{\"Volumes\": {\"/old\": {}, \"/a\": {}, \"/b\": {}}}");
    check("{}", "VOLUME [\"/a\", \" /b c \"]", "{\"Volumes\": {\"/a\": {}, \"/b c\": {}}}");
    check("{}", "VOLUME \"/x\"", "{\"Volumes\": {\"/x\": {}}}");
    check("{\"Env\": [\"D=/var/lib\"]}", "VOLUME $D/db",
          "{\"Env\": [\"D=/var/lib\"], \"Volumes\": {\"/var/lib/db\": {}}}");
    /* Not JSON: blank-separated paths. */
    check_error("{}", "VOLUME [\"/a\"", BT_EINVALID, "VOLUME: path '[/a' is not absolute");
    check_error("{}", "VOLUME", BT_EINVALID, "VOLUME: missing argument");
    check_error("{}", "VOLUME data", BT_EINVALID, "VOLUME: path 'data' is not absolute");
    check_error("{}", "VOLUME []", BT_EINVALID, "VOLUME: no path in '[]'");
    check_error("{}", "VOLUME [\"/a\", \"\"]", BT_EINVALID,
                "VOLUME: empty path in '[\"/a\", \"\"]'");
    check_error("{}", "VOLUME [\"/a\", 2]", BT_EINVALID,
                "VOLUME: '[\"/a\", 2]' is not a JSON array of strings");
    check_error("{\"Volumes\": {\"/old\": {}}}", "VOLUME /a b", BT_EINVALID,
                "VOLUME: path 'b' is not absolute");
}

static void
test_errors(void **state)
{
    (void) state;
    check_error("{}", "", BT_EINVALID, "empty instruction");
    check_error("{}", " \t\n ", BT_EINVALID, "empty instruction");
    check_error("{}", NULL, BT_EINVALID, "empty instruction");
    check_error("{}", "RUN apt-get update", BT_EINVALID,
                "instruction 'RUN' is not accepted (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, "
                "LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)");
    check_error("{}", "from scratch", BT_EINVALID,
                "instruction 'from' is not accepted (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, "
                "LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)");
    check_error("{}", "CMD\nRUN x", BT_EINVALID,
                "line break in 'CMD\nRUN x' (one instruction per --change)");
    check_error("{}", "LABEL a=\xff", BT_EINVALID, "instruction is not valid UTF-8");
    check_error("{}", "CMD=1", BT_EINVALID,
                "instruction 'CMD=1' is not accepted (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, "
                "LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)");

    /* A near miss gets a hint. */
    json_t *config = json_object();
    struct bt_err *err = NULL;
    assert_int_equal(eng_img_change_apply(config, "ENTRYPONT [\"a\"]", &err), -BT_EINVALID);
    assert_non_null(err);
    assert_non_null(err->hint);
    assert_string_equal(err->hint, "did you mean 'ENTRYPOINT'?");
    err = bt_err_free(err);
    /* Not an object. */
    json_t *arr = json_array();
    assert_int_equal(eng_img_change_apply(arr, "CMD a", &err), -BT_EINVALID);
    assert_string_equal(err->msg, "the image's config is not a JSON object");
    err = bt_err_free(err);
    /* err may be NULL; the code stays. */
    assert_int_equal(eng_img_change_apply(config, "EXPOSE 0", NULL), -BT_EINVALID);
    assert_int_equal(json_object_size(config), 0);
    json_decref(arr);
    json_decref(config);
}

static void
test_all_together(void **state)
{
    (void) state;
    const char *const seq[] = {
        "ENV APP=/srv/app PORT=8080",
        "WORKDIR $APP",
        "USER app",
        "EXPOSE ${PORT}",
        "LABEL org.opencontainers.image.title=\"my app\"",
        "VOLUME [\"/data\"]",
        "STOPSIGNAL SIGINT",
        "ENTRYPOINT [\"/srv/app/run\"]",
        "CMD --port $PORT",
    };
    check_seq("{}", seq, BT_ARRAY_SIZE(seq),
              "{\"Env\": [\"APP=/srv/app\", \"PORT=8080\"], \"WorkingDir\": \"/srv/app\", "
              "\"User\": \"app\", \"ExposedPorts\": {\"8080/tcp\": {}}, "
              "\"Labels\": {\"org.opencontainers.image.title\": \"my app\"}, "
              "\"Volumes\": {\"/data\": {}}, \"StopSignal\": \"SIGINT\", "
              "\"Entrypoint\": [\"/srv/app/run\"], "
              "\"Cmd\": [\"/bin/sh\", \"-c\", \"--port $PORT\"]}");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd),        cmocka_unit_test(test_entrypoint),
        cmocka_unit_test(test_env_forms),  cmocka_unit_test(test_env_expand),
        cmocka_unit_test(test_env_errors), cmocka_unit_test(test_env_too_big),
        cmocka_unit_test(test_workdir),    cmocka_unit_test(test_user),
        cmocka_unit_test(test_expose),     cmocka_unit_test(test_label),
        cmocka_unit_test(test_stopsignal), cmocka_unit_test(test_volume),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_all_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
