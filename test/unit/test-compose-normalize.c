/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalisation of each short syntax to the long one, the defaults docker compose injects, path
 * resolution, env_file folding, errors with their position and path, and idempotence (a
 * normalised model normalises to itself).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/normalize.h"
#include "engine/base/buf.h"
#include "test/unit/compose-tree.h"

static const char *
fake_env(const char *name, void *userdata)
{
    (void) userdata;
    if (strcmp(name, "FROM_ENV") == 0)
        return "env-value";
    if (strcmp(name, "HOMEDIR") == 0)
        return "/home/u";
    return NULL;
}

static struct compose_normalize_opts
opts(const char *dir)
{
    return (struct compose_normalize_opts){
        .project_name = "proj",
        .working_dir = dir ? dir : "/work/proj",
        .home = "/home/u",
        .lookup = fake_env,
        .resolve_paths = true,
        .defaults = true,
    };
}

/* Normalise yaml with o and render the node at path ("services.s", "networks"). */
static char *
run(const struct compose_normalize_opts *o, const char *yaml, const char *path, struct bt_err **err)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m = tree_parse(a, "compose.yaml", yaml);
    char *out = NULL;
    if (compose_normalize(a, m, o, err) == 0) {
        const struct compose_node *n = m;
        char key[64];
        for (const char *p = path; n && *p;) {
            size_t len = strcspn(p, ".");
            snprintf(key, sizeof key, "%.*s", (int) len, p);
            n = compose_map_get(n, key);
            p += len + (p[len] == '.');
        }
        struct bt_buf b;
        bt_buf_init(&b, 1 << 20);
        tree_dump(&b, n);
        out = strdup(bt_buf_str(&b));
        bt_buf_release(&b);
    }
    bt_arena_free(a);
    return out;
}

static void
check_at(const char *yaml, const char *path, const char *want)
{
    struct compose_normalize_opts o = opts(NULL);
    struct bt_err *err = NULL;
    char *got = run(&o, yaml, path, &err);
    if (!got)
        fail_msg("normalise %s: %s", yaml, err->msg);
    if (strcmp(got, want) != 0)
        fail_msg("\n  in   %s\n  want %s\n  got  %s", yaml, want, got);
    free(got);
}

/* The service "s" of services: {s: {...}} given as its attributes. */
static void
check(const char *attrs, const char *want)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "services:\n  s: {%s}\n", attrs);
    check_at(yaml, "services.s", want);
}

static void
check_error(const char *yaml, const char *want_msg, int line, int col)
{
    struct compose_normalize_opts o = opts(NULL);
    struct bt_err *err = NULL;
    char *got = run(&o, yaml, "", &err);
    if (got)
        fail_msg("normalised but should not have: %s", yaml);
    if (!strstr(err->msg, want_msg))
        fail_msg("\n  want message with %s\n  got  %s", want_msg, err->msg);
    assert_string_equal(err->file, "compose.yaml");
    assert_int_equal(err->line, line);
    assert_int_equal(err->col, col);
    bt_err_free(err);
}

#define NET "networks:{default:null}"

static void
test_ports(void **state)
{
    (void) state;
    check("ports: ['8080:80', 53/udp]",
          "{ports:[{mode:ingress,target:80,published:8080,protocol:tcp},"
          "{mode:ingress,target:53,protocol:udp}]," NET "}");
    check("ports: ['127.0.0.1:8000-8001:80-81']",
          "{ports:[{mode:ingress,target:80,published:8000,protocol:tcp,host_ip:127.0.0.1},"
          "{mode:ingress,target:81,published:8001,protocol:tcp,host_ip:127.0.0.1}]," NET "}");
    check("ports: ['[::1]:53:53/udp', 9000]",
          "{ports:[{mode:ingress,target:53,published:53,protocol:udp,host_ip:::1},"
          "{mode:ingress,target:9000,protocol:tcp}]," NET "}");
    /* The long form gets its defaults; published becomes a string. */
    check("ports: [{target: 443, published: 8443}]",
          "{ports:[{target:443,published:8443,protocol:tcp,mode:ingress}]," NET "}");
}

static void
test_volumes(void **state)
{
    (void) state;
    check("volumes: ['./src:/app:ro', 'data:/data:nocopy', /anon]",
          "{volumes:[{type:bind,source:/work/proj/src,target:/app,read_only:true,"
          "bind:{create_host_path:true}},"
          "{type:volume,source:data,target:/data,volume:{nocopy:true}},"
          "{type:volume,target:/anon,volume:{}}]," NET "}");
    check("volumes: ['~/cache:/cache:rshared', '../up:/up/./x/']",
          "{volumes:[{type:bind,source:/home/u/cache,target:/cache,"
          "bind:{create_host_path:true,propagation:rshared}},"
          "{type:bind,source:/work/up,target:/up/x,bind:{create_host_path:true}}]," NET "}");
    check("volumes: [{type: bind, source: ./x, target: /x/}, "
          "{type: tmpfs, target: /t, tmpfs: {size: 1m}}]",
          "{volumes:[{type:bind,source:/work/proj/x,target:/x},"
          "{type:tmpfs,target:/t,tmpfs:{size:1048576}}]," NET "}");
}

static void
test_depends_on(void **state)
{
    (void) state;
    check("depends_on: [a, b]",
          "{depends_on:{a:{condition:service_started,required:true,restart:false},"
          "b:{condition:service_started,required:true,restart:false}}," NET "}");
    check("depends_on: {a: {condition: service_healthy, restart: true}}",
          "{depends_on:{a:{condition:service_healthy,restart:true,required:true}}," NET "}");
    /* links, service: namespaces and volumes_from imply dependencies. */
    check("links: ['db:database'], ipc: 'service:shm', volumes_from: ['v:ro', 'container:c']",
          "{links:[db:database],ipc:service:shm,volumes_from:[v:ro,container:c],"
          "depends_on:{db:{condition:service_started,required:true,restart:true},"
          "shm:{condition:service_started,required:true,restart:true},"
          "v:{condition:service_started,required:true,restart:false}}," NET "}");
    /* A service sharing another's network has no networks of its own. */
    check("network_mode: 'service:db'",
          "{network_mode:service:db,"
          "depends_on:{db:{condition:service_started,required:true,restart:true}}}");
}

static void
test_environment_and_labels(void **state)
{
    (void) state;
    check("environment: [A=1, 'B=x=y', FROM_ENV, UNSET]",
          "{environment:{A:1,B:x=y,FROM_ENV:env-value,UNSET:null}," NET "}");
    check("environment: {N: 1, T: true, E: '', FROM_ENV: null}",
          "{environment:{N:1,T:true,E:,FROM_ENV:env-value}," NET "}");
    check("labels: [a=1, b]", "{labels:{a:1,b:}," NET "}");
    check("annotations: [a=1], sysctls: ['net.core.somaxconn=1024']",
          "{annotations:{a:1},sysctls:{net.core.somaxconn:1024}," NET "}");
}

static void
test_env_file(void **state)
{
    (void) state;
    char dir[] = "/tmp/berth-unit-norm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.env", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("X=from-file\nY=\"quoted ${FROM_ENV}\"\nZ=file\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/raw.env", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("R=\"kept as is\" ${X}\n", f);
    fclose(f);
    struct compose_normalize_opts o = opts(dir);
    struct bt_err *err = NULL;
    /* Explicit environment entries win over the files; the files go. */
    char *got = run(&o,
                    "services:\n  s:\n    env_file: [a.env, {path: raw.env, format: raw}, "
                    "{path: missing.env, required: false}]\n    environment: {Z: explicit}\n",
                    "services.s", &err);
    assert_non_null(got);
    assert_string_equal(got, "{environment:{X:from-file,Y:quoted env-value,R:\"kept as is\" "
                             "${X},Z:explicit}," NET "}");
    free(got);
    /* A missing required file is an error at its entry. */
    got = run(&o, "services:\n  s: {env_file: nope.env}\n", "", &err);
    assert_null(got);
    assert_non_null(strstr(err->msg, "services.s.env_file: env file"));
    assert_non_null(strstr(err->msg, "nope.env' not found"));
    assert_int_equal(err->line, 2);
    err = bt_err_free(err);
    snprintf(path, sizeof path, "%s/a.env", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/raw.env", dir);
    unlink(path);
    rmdir(dir);
}

static void
test_durations_and_sizes(void **state)
{
    (void) state;
    check("stop_grace_period: 90s, mem_limit: 512m, memswap_limit: -1, shm_size: 1073741824",
          "{stop_grace_period:1m30s,mem_limit:536870912,memswap_limit:-1,shm_size:1073741824," NET
          "}");
    check("healthcheck: {test: 'curl -f http://x', interval: 1m, timeout: 1500ms, "
          "start_period: 0s, retries: 3}",
          "{healthcheck:{test:[CMD-SHELL,curl -f http://x],interval:1m0s,timeout:1.5s,"
          "start_period:0s,retries:3}," NET "}");
    check("deploy: {resources: {limits: {cpus: '0.5', memory: 1g}}, "
          "restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}}",
          "{deploy:{resources:{limits:{cpus:0.5,memory:1073741824}},"
          "restart_policy:{condition:on-failure,max_attempts:3,delay:5s}}," NET
          ",restart:on-failure:3}");
    check("deploy: {restart_policy: {condition: any}}",
          "{deploy:{restart_policy:{condition:any}}," NET ",restart:always}");
    check_error("services:\n  s: {stop_grace_period: 10}\n", "services.s.stop_grace_period", 2, 26);
    check_error("services:\n  s:\n    healthcheck: {interval: 5 minutes}\n",
                "services.s.healthcheck.interval", 3, 29);
    check_error("services:\n  s: {mem_limit: lots}\n", "services.s.mem_limit", 2, 18);
}

static void
test_command_and_build(void **state)
{
    (void) state;
    check("command: sh -c 'echo \"a b\"', entrypoint: [tini, --]",
          "{command:[sh,-c,echo \"a b\"],entrypoint:[tini,--]," NET "}");
    check("build: ./app", "{build:{context:/work/proj/app,dockerfile:Dockerfile}," NET "}");
    check("build: {context: https://github.com/x/y.git, dockerfile_inline: 'FROM a', "
          "args: [A=1, FROM_ENV, UNSET], labels: [l=1], shm_size: 1k}",
          "{build:{context:https://github.com/x/y.git,dockerfile_inline:FROM a,"
          "args:{A:1,FROM_ENV:env-value},labels:{l:1},shm_size:1024}," NET "}");
    check_error("services:\n  s: {command: \"echo 'unterminated\"}\n", "services.s.command", 2, 16);
}

static void
test_lists_and_maps(void **state)
{
    (void) state;
    check("networks: [front, back]", "{networks:{front:null,back:null}}");
    check("networks: {}", "{networks:{default:null}}");
    check("secrets: [s, {source: t, target: /run/t}], configs: [c]",
          "{secrets:[{source:s},{source:t,target:/run/t}],configs:[{source:c}]," NET "}");
    check("ulimits: {nofile: 1024, nproc: {soft: 1, hard: 2}}",
          "{ulimits:{nofile:{soft:1024,hard:1024},nproc:{soft:1,hard:2}}," NET "}");
    check("extra_hosts: ['b:10.0.0.2', 'a=::1', 'c:[fe80::1]']",
          "{extra_hosts:[a=::1,b=10.0.0.2,c=fe80::1]," NET "}");
    check("extra_hosts: {h: [10.0.0.1, 10.0.0.2], g: 1.2.3.4}",
          "{extra_hosts:[g=1.2.3.4,h=10.0.0.1,h=10.0.0.2]," NET "}");
    check("devices: [/dev/fuse, '/dev/a:/dev/b', '/dev/c:/dev/d:r', '/dev/e:rw']",
          "{devices:[{source:/dev/fuse,target:/dev/fuse,permissions:rwm},"
          "{source:/dev/a,target:/dev/b,permissions:rwm},"
          "{source:/dev/c,target:/dev/d,permissions:r},"
          "{source:/dev/e,target:/dev/e,permissions:rw}]," NET "}");
    check("dns: 8.8.8.8, tmpfs: /run, expose: [80, '90-91'], pull_policy: if_not_present",
          "{dns:[8.8.8.8],tmpfs:[/run],expose:[80,90-91],pull_policy:missing," NET "}");
}

static void
test_resources(void **state)
{
    (void) state;
    const char *yaml = "services:\n  s: {networks: [front]}\n  t: {image: x}\n"
                       "networks:\n  front:\n  old: {external: {name: real}}\n"
                       "  ext: {external: true}\n"
                       "volumes:\n  data: {labels: [a=b]}\n"
                       "  dev: {driver: local, driver_opts: {o: bind, device: ./d, type: none}}\n"
                       "secrets:\n  s: {file: ./s.txt}\n";
    check_at(yaml, "networks",
             "{front:{name:proj_front},old:{external:true,name:real},"
             "ext:{external:true,name:ext},default:{name:proj_default}}");
    check_at(yaml, "volumes",
             "{data:{labels:{a:b},name:proj_data},"
             "dev:{driver:local,driver_opts:{o:bind,device:/work/proj/d,type:none},"
             "name:proj_dev}}");
    check_at(yaml, "secrets", "{s:{file:/work/proj/s.txt,name:proj_s}}");
    /* No service on the default network: none is added. */
    check_at("services:\n  s: {network_mode: host}\n", "networks", "~");
    check_error("networks:\n  n: {name: a, external: {name: b}}\n", "networks.n.external.name", 2,
                33);
}

static void
test_paths_left_alone(void **state)
{
    (void) state;
    struct compose_normalize_opts o = opts(NULL);
    o.resolve_paths = false;
    struct bt_err *err = NULL;
    char *got =
        run(&o, "services:\n  s: {build: ., volumes: ['./a:/a', '~/b:/b']}\n", "services.s", &err);
    assert_non_null(got);
    assert_string_equal(got,
                        "{build:{context:.,dockerfile:Dockerfile},volumes:["
                        "{type:bind,source:./a,target:/a,bind:{create_host_path:true}},"
                        "{type:bind,source:~/b,target:/b,bind:{create_host_path:true}}]," NET "}");
    free(got);
}

/* Normalising the rendering of a normalised model changes nothing: what `config` prints reads
 * back to the same model. */
static void
test_idempotent(void **state)
{
    (void) state;
    const char *yaml =
        "services:\n  s:\n    ports: ['80', '1.2.3.4:81:81/udp']\n    volumes: ['./a:/a:ro', "
        "'vol:/v']\n    depends_on: [t]\n    environment: [A=1]\n    command: echo hi\n"
        "    extra_hosts: [h:1.1.1.1]\n    ulimits: {nofile: 5}\n    build: .\n"
        "    healthcheck: {test: x, interval: 90s}\n    mem_limit: 1g\n    networks: [n]\n"
        "  t: {image: x}\nnetworks: {n: {}}\nvolumes: {vol: {}}\n";
    struct compose_normalize_opts o = opts(NULL);
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m = tree_parse(a, "compose.yaml", yaml);
    struct bt_err *err = NULL;
    if (compose_normalize(a, m, &o, &err) < 0)
        fail_msg("first pass: %s", err->msg);
    struct bt_buf once, twice;
    bt_buf_init(&once, 1 << 20);
    bt_buf_init(&twice, 1 << 20);
    tree_dump(&once, m);
    if (compose_normalize(a, m, &o, &err) < 0)
        fail_msg("second pass: %s", err->msg);
    tree_dump(&twice, m);
    assert_string_equal(bt_buf_str(&once), bt_buf_str(&twice));
    bt_buf_release(&once);
    bt_buf_release(&twice);
    bt_arena_free(a);
}

/* Nodes shared through YAML aliases are not changed in place. */
static void
test_aliases_untouched(void **state)
{
    (void) state;
    struct compose_normalize_opts o = opts(NULL);
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m =
        tree_parse(a, "compose.yaml",
                   "x-ports: &p ['8080:80']\nservices:\n  s: {ports: *p}\n  t: {ports: *p}\n");
    const struct compose_node *shared = compose_map_get(m, "x-ports");
    struct bt_err *err = NULL;
    assert_int_equal(compose_normalize(a, m, &o, &err), 0);
    assert_int_equal(shared->kind, COMPOSE_NODE_SEQ);
    assert_string_equal(shared->items[0]->str, "8080:80");
    bt_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_volumes),
        cmocka_unit_test(test_depends_on),
        cmocka_unit_test(test_environment_and_labels),
        cmocka_unit_test(test_env_file),
        cmocka_unit_test(test_durations_and_sizes),
        cmocka_unit_test(test_command_and_build),
        cmocka_unit_test(test_lists_and_maps),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_paths_left_alone),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_aliases_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
