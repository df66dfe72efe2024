#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The semantic checks of berth config: each mistake gives one positioned error, a hint, and
# exit code 1; the valid counterparts pass.

load helpers

setup() {
    berth_setup
    mkdir -p "$TEST_DIR/p"
    cd "$TEST_DIR/p"
}

config_fails() { # config_fails TEXT... : config exits 1 and its output contains every TEXT
    run_berth -1 config -q
    local t
    for t in "$@"; do
        assert_contains "$output" "$t"
    done
}

@test "an unknown dependency names the place and the closest service" {
    printf 'services:\n  db: {image: pg}\n  web:\n    image: w\n    depends_on: [dbb]\n' >compose.yaml
    config_fails "compose.yaml:5:18" "services.web.depends_on: unknown service 'dbb'" \
        "did you mean 'db'?"
}

@test "an optional dependency (required: false) may be missing" {
    printf 'services:\n  web:\n    image: w\n    depends_on:\n      cache: {condition: service_started, required: false}\n' >compose.yaml
    run_berth config -q
}

@test "unknown services in links, network_mode and volumes_from are errors" {
    printf 'services:\n  a: {image: x, links: ["nope:alias"]}\n' >compose.yaml
    config_fails "services.a.links: unknown service 'nope'"
    printf 'services:\n  a: {image: x, network_mode: "service:nope"}\n' >compose.yaml
    config_fails "services.a.network_mode: unknown service 'nope'"
    printf 'services:\n  a: {image: x, volumes_from: ["nope:ro", "container:other"]}\n' >compose.yaml
    config_fails "services.a.volumes_from: unknown service 'nope'"
}

@test "a dependency cycle names every service of it" {
    printf 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, links: [c]}\n  c: {image: x, network_mode: "service:a"}\n' >compose.yaml
    config_fails "dependency cycle: a -> b -> c -> a"
}

@test "networks, volumes, secrets and configs must be defined" {
    printf 'services:\n  a: {image: x, networks: [front]}\n' >compose.yaml
    config_fails "compose.yaml:2:28" "network 'front' is not defined" "top-level 'networks:'"
    printf 'services:\n  a: {image: x, networks: [default]}\n' >compose.yaml
    run_berth config -q
    printf 'services:\n  a: {image: x, volumes: ["data:/data", "./src:/src", "/abs:/abs"]}\n' >compose.yaml
    config_fails "volume 'data' is not defined"
    printf 'services:\n  a: {image: x, volumes: ["data:/data"]}\nvolumes: {data: {}}\n' >compose.yaml
    run_berth config -q
    printf 'services:\n  a: {image: x, secrets: [{source: token}]}\n' >compose.yaml
    config_fails "secret 'token' is not defined"
    printf 'services:\n  a: {image: x, configs: [app]}\n' >compose.yaml
    config_fails "config 'app' is not defined"
}

@test "a container name or a host port used twice is an error" {
    printf 'services:\n  a: {image: x, container_name: same}\n  b: {image: y, container_name: same}\n' >compose.yaml
    config_fails "services.b.container_name: 'same' is also the container name of service 'a'"
    printf 'services:\n  a: {image: x, ports: ["8080:80"]}\n  b: {image: y, ports: ["127.0.0.1:8080:81"]}\n' >compose.yaml
    config_fails "host port 8080/tcp is also published by service 'a'"
    printf 'services:\n  a: {image: x, ports: ["8080:80"]}\n  b: {image: y, ports: ["8080:80/udp", "8081:80"]}\n' >compose.yaml
    run_berth config -q
}

@test "a malformed short volume is a positioned error naming the valid options" {
    printf 'services:\n  a: {image: x, volumes: ["data:/d:bogus"]}\nvolumes: {data: {}}\n' >compose.yaml
    config_fails "compose.yaml:2:27" "invalid volume 'data:/d:bogus'" "unknown option 'bogus'"
}

@test "what docker compose finds inconsistent is an error, unless --no-consistency" {
    printf 'services:\n  a: {environment: [A=1]}\n' >compose.yaml
    config_fails "compose.yaml:2:6" "services.a: neither an image nor a build context"
    run_berth config -q --no-consistency
    printf 'services:\n  a: {image: x, network_mode: host, networks: [n]}\nnetworks: {n: {}}\n' >compose.yaml
    config_fails "services.a: network_mode and networks exclude each other"
    printf 'services:\n  a: {build: {context: ., dockerfile: D, dockerfile_inline: "FROM x"}}\n' >compose.yaml
    config_fails "services.a.build: dockerfile and dockerfile_inline exclude each other"
    printf 'services:\n  a: {image: x, healthcheck: {test: [curl, -f, http://x]}}\n' >compose.yaml
    config_fails "compose.yaml:2:38" "services.a.healthcheck.test: must start with CMD, CMD-SHELL or NONE, not 'curl'"
    printf 'services:\n  a: {image: x, scale: 2, deploy: {replicas: 3}}\n' >compose.yaml
    config_fails "services.a: scale (2) and deploy.replicas (3) differ"
    printf 'services:\n  a: {image: x, container_name: one, deploy: {replicas: 2}}\n' >compose.yaml
    config_fails "services.a: container_name 'one' cannot name 2 containers"
    printf 'services:\n  a: {image: x, secrets: [s]}\nsecrets: {s: {labels: {a: b}}}\n' >compose.yaml
    config_fails "secrets.s: nothing says where its content comes from"
    printf 'services:\n  a: {image: x, secrets: [s]}\nsecrets: {s: {external: true}}\n' >compose.yaml
    run_berth config -q
}
