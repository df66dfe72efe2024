/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merge rules of several Compose documents, written as YAML: each case merges a base and an
 * override and compares a compact rendering of the result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "compose/merge.h"
#include "engine/base/buf.h"
#include "test/unit/compose-tree.h"

/* Merge base and over, finish, and compare the rendering of the service "s". */
static void
check(const char *base, const char *over, const char *want)
{
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m = NULL;
    struct bt_err *err = NULL;
    if (compose_merge(a, tree_parse(a, "base.yaml", base), tree_parse(a, "over.yaml", over), &m,
                      &err) < 0 ||
        compose_merge_finish(a, m, &m, &err) < 0)
        fail_msg("merge: %s", err->msg);
    struct bt_buf b;
    bt_buf_init(&b, 1 << 20);
    tree_dump(&b, compose_map_get(compose_map_get(m, "services"), "s"));
    if (strcmp(bt_buf_str(&b), want) != 0)
        fail_msg("\n  want %s\n  got  %s", want, bt_buf_str(&b));
    bt_buf_release(&b);
    bt_arena_free(a);
}

static void
test_mapping_and_sequence(void **state)
{
    (void) state;
    check("services: {s: {key1: value1, key2: value2}}",
          "services: {s: {key2: VALUE, key3: value3}}", "{key1:value1,key2:VALUE,key3:value3}");
    check("services: {s: {dns: [1.1.1.1]}}", "services: {s: {dns: [8.8.8.8]}}",
          "{dns:[1.1.1.1,8.8.8.8]}");
    check("services: {s: {cap_add: [A, B]}}", "services: {s: {cap_add: [B, C]}}",
          "{cap_add:[A,B,C]}");
}

static void
test_replace(void **state)
{
    (void) state;
    check("services: {s: {command: [echo, foo], entrypoint: a}}",
          "services: {s: {command: [echo, bar], entrypoint: [b, c]}}",
          "{command:[echo,bar],entrypoint:[b,c]}");
    check("services: {s: {healthcheck: {test: [CMD, a], retries: 3}}}",
          "services: {s: {healthcheck: {test: [CMD, b]}}}",
          "{healthcheck:{test:[CMD,b],retries:3}}");
    check("services: {s: {ulimits: {nofile: {soft: 1, hard: 2}}}}",
          "services: {s: {ulimits: {nofile: 5}}}", "{ulimits:{nofile:5}}");
}

static void
test_environment_forms(void **state)
{
    (void) state;
    check("services: {s: {environment: {B: 2, A: 1}}}", "services: {s: {environment: [B=3, C]}}",
          "{environment:[A=1,B=3,C]}");
    check("services: {s: {labels: [x=1]}}", "services: {s: {labels: {x: 2, y: 3}}}",
          "{labels:[x=2,y=3]}");
}

static void
test_unique_resources(void **state)
{
    (void) state;
    check("services: {s: {ports: ['8080:80', '9090:90']}}", "services: {s: {ports: ['8080:80']}}",
          "{ports:[8080:80,9090:90]}");
    check("services: {s: {volumes: ['foo:/work', '/data']}}",
          "services: {s: {volumes: ['bar:/work:ro']}}", "{volumes:[bar:/work:ro,/data]}");
    check("services: {s: {volumes: [{type: volume, source: a, target: /t}]}}",
          "services: {s: {volumes: [{type: bind, source: ./b, target: /t}]}}",
          "{volumes:[{type:bind,source:./b,target:/t}]}");
    check("services: {s: {secrets: [a, {source: b, target: /run/secrets/a}]}}",
          "services: {s: {secrets: [c]}}", "{secrets:[{source:b,target:/run/secrets/a},c]}");
    check("services: {s: {ports: [{target: 80, published: '8080'}]}}",
          "services: {s: {ports: [{target: 80, published: '8080', protocol: tcp}]}}",
          "{ports:[{target:80,published:8080,protocol:tcp}]}");
    check("services: {s: {devices: ['/dev/a:/dev/x']}}",
          "services: {s: {devices: ['/dev/b:/dev/x']}}", "{devices:[/dev/b:/dev/x]}");
    check("services: {s: {extra_hosts: ['a=1.2.3.4']}}",
          "services: {s: {extra_hosts: ['a=1.2.3.4', 'b=5.6.7.8']}}",
          "{extra_hosts:[a=1.2.3.4,b=5.6.7.8]}");
}

static void
test_converted_forms(void **state)
{
    (void) state;
    check("services: {s: {depends_on: [db]}}",
          "services: {s: {depends_on: {db: {condition: service_healthy}}}}",
          "{depends_on:{db:{condition:service_healthy,required:true}}}");
    check("services: {s: {networks: [front]}}", "services: {s: {networks: {back: {}}}}",
          "{networks:{front:,back:{}}}");
    check("services: {s: {build: ./app}}", "services: {s: {build: {dockerfile: D}}}",
          "{build:{context:./app,dockerfile:D}}");
    check("services: {s: {logging: {driver: syslog, options: {a: 1}}}}",
          "services: {s: {logging: {driver: json-file, options: {b: 2}}}}",
          "{logging:{driver:json-file,options:{b:2}}}");
    check("services: {s: {logging: {driver: syslog, options: {a: 1}}}}",
          "services: {s: {logging: {options: {b: 2}}}}",
          "{logging:{driver:syslog,options:{a:1,b:2}}}");
}

static void
test_reset_and_override(void **state)
{
    (void) state;
    check("services: {s: {image: app, ports: ['8080:80'], environment: {FOO: BAR, K: v}}}",
          "services:\n  s:\n    ports: !reset []\n    environment:\n      FOO: !reset null\n",
          "{image:app,environment:[K=v]}");
    check("services: {s: {image: app, ports: ['8080:80']}}",
          "services:\n  s:\n    ports: !override\n      - '8443:443'\n",
          "{image:app,ports:[8443:443]}");
    check("services: {s: {image: app, build: {context: .}}}",
          "services:\n  s:\n    build: !reset\n", "{image:app}");
}

static void
test_ipam_by_subnet(void **state)
{
    (void) state;
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m = NULL;
    const char *base =
        "networks: {n: {ipam: {config: [{subnet: 10.1.0.0/16, gateway: 10.1.0.1}]}}}";
    const char *over = "networks: {n: {ipam: {config: [{subnet: 10.1.0.0/16, ip_range: "
                       "10.1.5.0/24}, {subnet: 10.2.0.0/16}]}}}";
    assert_int_equal(compose_merge(a, tree_parse(a, "b", base), tree_parse(a, "o", over), &m, NULL),
                     0);
    const struct compose_node *cfg = compose_map_get(
        compose_map_get(compose_map_get(compose_map_get(m, "networks"), "n"), "ipam"), "config");
    struct bt_buf b;
    bt_buf_init(&b, 4096);
    tree_dump(&b, cfg);
    assert_string_equal(bt_buf_str(&b), "[{subnet:10.1.0.0/16,gateway:10.1.0.1,ip_range:"
                                        "10.1.5.0/24},{subnet:10.2.0.0/16}]");
    bt_buf_release(&b);
    bt_arena_free(a);
}

static void
test_type_mismatch_is_positioned(void **state)
{
    (void) state;
    struct bt_arena *a = bt_arena_new();
    struct compose_node *m = NULL;
    struct bt_err *err = NULL;
    assert_true(compose_merge(a,
                              tree_parse(a, "base.yaml", "services: {s: {deploy: {replicas: 2}}}"),
                              tree_parse(a, "over.yaml", "services:\n  s:\n    deploy: oops\n"), &m,
                              &err) < 0);
    assert_string_equal(err->file, "over.yaml");
    assert_int_equal(err->line, 3);
    assert_non_null(strstr(err->msg, "services.s.deploy"));
    bt_err_free(err);
    bt_arena_free(a);
}

static void
test_inputs_untouched(void **state)
{
    (void) state;
    /* A shared (aliased) base stays as it was: merge builds new nodes. */
    struct bt_arena *a = bt_arena_new();
    struct compose_node *base = tree_parse(a, "b", "services: {s: {dns: [a]}}");
    struct compose_node *m = NULL;
    assert_int_equal(
        compose_merge(a, base, tree_parse(a, "o", "services: {s: {dns: [b]}}"), &m, NULL), 0);
    const struct compose_node *dns =
        compose_map_get(compose_map_get(compose_map_get(base, "services"), "s"), "dns");
    assert_int_equal(dns->n, 1);
    bt_arena_free(a);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_and_sequence),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_environment_forms),
        cmocka_unit_test(test_unique_resources),
        cmocka_unit_test(test_converted_forms),
        cmocka_unit_test(test_reset_and_override),
        cmocka_unit_test(test_ipam_by_subnet),
        cmocka_unit_test(test_type_mismatch_is_positioned),
        cmocka_unit_test(test_inputs_untouched),
    };
    return cmocka_run_group_tests_name("test-compose-merge", tests, NULL, NULL);
}
