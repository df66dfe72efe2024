#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth config: finding files, .env and interpolation, merging -f files, the canonical output
# and its round trip, and clear errors (file:line:col, exit 1) for bad input. No daemon needed.

load helpers

setup() {
    berth_setup
    PROJ="$TEST_DIR/My Proj.1"
    mkdir -p "$PROJ/sub"
    cd "$PROJ"
}

write() { # write FILE, content on stdin
    cat >"$1"
}

@test "config finds compose.yaml in a parent, names the project after its directory" {
    write compose.yaml <<'YAML'
services:
  web:
    image: nginx:${TAG:-1.25}
    ports: ["8080:80"]
YAML
    cd sub
    run_berth config
    assert_contains "$output" "name: myproj1"
    assert_contains "$output" "image: nginx:1.25"
    assert_file_absent "$SOCK" # config needs no daemon
}

@test "-p, COMPOSE_PROJECT_NAME and name: set the project name, in that order" {
    write compose.yaml <<'YAML'
name: fromfile
services: {web: {image: a}}
YAML
    run_berth config
    assert_contains "$output" "name: fromfile"
    COMPOSE_PROJECT_NAME=fromenv run_berth config
    assert_contains "$output" "name: fromenv"
    COMPOSE_PROJECT_NAME=fromenv run_berth -p fromflag config
    assert_contains "$output" "name: fromflag"
    run_berth -2 -p Bad.Name config # a bad flag value is a usage error
    assert_contains "$output" "invalid project name 'Bad.Name'"
}

@test ".env and the environment interpolate; the environment wins; unset warns once" {
    write .env <<'ENV'
TAG=from-dotenv
PORT=9000
ENV
    write compose.yaml <<'YAML'
services:
  web:
    image: app:$TAG
    ports: ["${PORT}:80"]
    environment:
      A: ${MISSING}
      B: ${MISSING}
      C: $$literal
YAML
    PORT=7000 run_berth config
    assert_contains "$output" "image: app:from-dotenv"
    assert_contains "$output" 'published: "7000"'
    assert_contains "$output" 'C: $$literal'
    local warns
    warns=$(grep -c 'MISSING' <<<"$output")
    assert_equal 1 "$warns" "warnings about MISSING"
}

@test "-f files merge in order, override files load by default" {
    write compose.yaml <<'YAML'
services:
  web:
    image: a
    ports: ["80:80"]
    environment: {X: "1"}
YAML
    write compose.override.yaml <<'YAML'
services:
  web:
    environment: {Y: "2"}
YAML
    write prod.yaml <<'YAML'
services:
  web:
    image: b
    ports: ["80:80", "443:443"]
YAML
    run_berth config
    assert_contains "$output" '"Y": "2"' # quoted: YAML 1.1 reads Y as a boolean
    run_berth -f compose.yaml -f prod.yaml config --format json
    assert_contains "$output" '"image": "b"'
    assert_contains "$output" '"published": "80"'
    assert_contains "$output" '"published": "443"'
    assert_not_contains "$output" '"Y"'
}

@test "config output reads back to the same bytes, through a file and through stdin" {
    local src="$BATS_TEST_DIRNAME/../../../shared/corpus/awesome-compose/nginx-flask-mysql__compose.yaml"
    [ -f "$src" ] || skip "the shared corpus is not beside the repository (../shared)"
    cp "$src" compose.yaml
    run_berth config -o first.yaml
    run_berth -f first.yaml config
    assert_equal "$(cat first.yaml)" "$output" "config of config"
    # -f - reads standard input (run_berth gives /dev/null as stdin, so pipe by hand).
    local piped
    piped=$(timeout 30 "$BERTH" config | timeout 30 "$BERTH" -f - config)
    assert_equal "$(cat first.yaml)" "$piped" "berth config | berth config -f -"
}

@test "a value that is not UTF-8 prints as U+FFFD in both formats and reads back" {
    write compose.yaml <<'YAML'
services:
  web:
    image: ${IMAGE}
YAML
    IMAGE=$'ng\x86inx' run_berth config -o first.yaml
    assert_contains "$(cat first.yaml)" $'image: ng\xef\xbf\xbdinx'
    run_berth -f first.yaml config
    assert_equal "$(cat first.yaml)" "$output" "config of config"
    IMAGE=$'ng\x86inx' run_berth config --format json
    assert_contains "$output" $'"image": "ng\xef\xbf\xbdinx"'
}

@test "--services, --volumes, --networks, --images, --profiles list names" {
    write compose.yaml <<'YAML'
services:
  web: {image: nginx, profiles: [front]}
  app: {build: ., volumes: ["data:/data"], networks: [back]}
volumes: {data: {}, unused: {}}
networks: {back: {}}
YAML
    run_berth config --services
    assert_equal "app" "$output"
    run_berth --profile front config --services
    assert_contains "$output" "web"
    run_berth config --volumes
    assert_equal "data" "$output"
    run_berth config --networks
    assert_equal "back" "$output"
    run_berth config --images
    assert_equal "myproj1-app" "$output"
    run_berth --profile '*' config --profiles
    assert_equal "front" "$output"
}

@test "bad YAML is reported with file:line:col and exit code 1" {
    printf 'services:\n  web:\n\timage: x\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "compose.yaml:3:"
    assert_contains "$output" "tab"

    printf 'services:\n  web:\n    image: a\n    image: b\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "compose.yaml:4:5"
    assert_contains "$output" "duplicate key 'image'"

    printf 'services:\n  web:\n    image: "${TAG"\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "compose.yaml:3:"

    printf 'services:\n  web:\n    image: ${TAG:?set TAG please}\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "set TAG please"

    head -c 4096 /dev/urandom >compose.yaml
    run_berth -1 config
    assert_contains "$output" "compose.yaml"
}

@test "missing files are clear errors" {
    run_berth -1 config
    assert_contains "$output" "no configuration file provided"
    run_berth -1 -f nope.yaml config
    assert_contains "$output" "'nope.yaml'"
    echo 'services: {}' >compose.yaml
    run_berth -1 --env-file missing.env config
    assert_contains "$output" "missing.env"
}

@test "a billion-laughs file is refused quickly, not expanded" {
    {
        echo 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
        local prev=a
        for l in b c d e f g h i; do
            echo "x-$l: &$l [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
            prev=$l
        done
        echo "services: {web: {image: x, labels: *$prev}}"
    } >compose.yaml
    RUN_BERTH_TIMEOUT=20 run_berth -1 config
    assert_contains "$output" "alias"
}

@test "interpolated values are cast where the format wants a number or a boolean, only there" {
    write compose.yaml <<'YAML'
services:
  web:
    image: x
    privileged: ${PRIV}
    user: ${UID_}
    deploy: {replicas: "${N}"}
    environment: {COUNT: "${N}"}
YAML
    PRIV=true UID_=1000 N=3 run_berth config --format json
    assert_contains "$output" '"privileged": true'
    assert_contains "$output" '"user": "1000"'
    assert_contains "$output" '"replicas": 3'
    assert_contains "$output" '"COUNT": "3"'
    PRIV=maybe UID_=1 N=3 run_berth -1 config
    assert_contains "$output" "services.web.privileged"
}

@test "!reset removes what an override names, even where the schema does not take null" {
    write compose.yaml <<'YAML'
services:
  web:
    image: x
    build: .
    ports: ["80:80"]
    healthcheck: {test: [CMD, "true"]}
YAML
    write reset.yaml <<'YAML'
services:
  web:
    build: !reset null
    ports: !reset null
    healthcheck: !reset null
YAML
    run_berth -f compose.yaml -f reset.yaml config
    assert_contains "$output" "image: x"
    assert_not_contains "$output" "build"
    assert_not_contains "$output" "ports"
    assert_not_contains "$output" "healthcheck"
}
