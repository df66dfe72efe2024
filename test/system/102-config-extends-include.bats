#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# extends (same file, other files, chains, cycles) and include (own directory and .env,
# conflicts, cycles), through berth config.

load helpers

setup() {
    berth_setup
    PROJ="$TEST_DIR/app"
    mkdir -p "$PROJ/common" "$PROJ/lib"
    cd "$PROJ"
}

@test "extends in the same file and from another file, with paths rebased" {
    cat >common/base.yaml <<'YAML'
services:
  base:
    image: base:1
    env_file: [./base.env]
    environment: {A: "1"}
    volumes: ["./data:/data"]
YAML
    cat >compose.yaml <<'YAML'
services:
  mid:
    extends: {file: common/base.yaml, service: base}
    environment: {B: "2"}
  web:
    extends: mid
    image: web:2
YAML
    echo "FROM_FILE=yes" >common/base.env
    run_berth config
    assert_contains "$output" "image: web:2"
    assert_contains "$output" 'A: "1"'
    assert_contains "$output" 'B: "2"'
    assert_contains "$output" "FROM_FILE: \"yes\"" # read from common/, where base.yaml is
    assert_contains "$output" "source: $PROJ/common/data"
    assert_not_contains "$output" "extends"
    run_berth config --no-normalize
    assert_contains "$output" "source: $PROJ/common/data"
    assert_contains "$output" "FROM_FILE: \"yes\""
}

@test "an extends cycle is an error naming every service of it" {
    cat >compose.yaml <<'YAML'
services:
  a: {extends: b, image: x}
  b: {extends: c}
  c: {extends: a}
YAML
    run_berth -1 config
    assert_contains "$output" "compose.yaml:2:"
    assert_contains "$output" "extends cycle"
    assert_contains "$output" "'a'"
    assert_contains "$output" "'b'"
    assert_contains "$output" "'c'"
}

@test "extends of an unknown service is a positioned error" {
    printf 'services:\n  a:\n    extends: nope\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "compose.yaml:3:"
    assert_contains "$output" "service 'nope' not found"
}

@test "include loads a project with its own directory and .env" {
    cat >lib/compose.yaml <<'YAML'
services:
  db:
    image: postgres:${PG:-15}
    volumes: ["./init:/docker-entrypoint-initdb.d"]
YAML
    echo "PG=16" >lib/.env
    cat >compose.yaml <<'YAML'
include:
  - lib/compose.yaml
services:
  web: {image: "web:${PG:-none}", depends_on: [db]}
YAML
    run_berth config
    assert_contains "$output" "image: postgres:16"
    assert_contains "$output" "image: web:none" # the included .env is not the main one's
    assert_contains "$output" "source: $PROJ/lib/init"
    assert_not_contains "$output" "include"
}

@test "a resource defined by both the file and an include is an error" {
    echo 'services: {db: {image: a}}' >lib/compose.yaml
    printf 'include: [lib/compose.yaml]\nservices:\n  db: {image: b}\n' >compose.yaml
    run_berth -1 config
    assert_contains "$output" "services.db"
    assert_contains "$output" "lib/compose.yaml"
}

@test "an include cycle is an error" {
    printf 'include: [lib/compose.yaml]\nservices: {a: {image: a}}\n' >compose.yaml
    printf 'include: [../compose.yaml]\nservices: {b: {image: b}}\n' >lib/compose.yaml
    run_berth -1 config
    assert_contains "$output" "include cycle"
}
