#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Golden outputs of berth config: each directory of golden/ is a project (compose files, .env,
# env files, extended and included files) with the output berth must print for it, byte for
# byte, reviewed line by line against what docker compose v2 prints (golden/README.md lists the
# known differences). Also the stability rules of --hash. No daemon needed.

load helpers

GOLDEN="$BATS_TEST_DIRNAME/golden"

# Clear the environment but for what berth, bats and the sanitizers need: a variable of the
# caller's shell (TAG, COMPOSE_FILE, LANG...) must not change an expected output. Each test runs
# in its own process, so nothing leaks to the next one.
golden_clear_env() {
    local v
    for v in $(compgen -e); do
        case "$v" in
        PATH | TMPDIR | TEST_DIR | BERTH | BERTH_* | BATS_* | ASAN_OPTIONS | UBSAN_OPTIONS | \
            LSAN_OPTIONS) ;;
        *) unset "$v" 2>/dev/null || true ;;
        esac
    done
}

# golden_compare EXPECTED ARGS...: berth ARGS writes EXPECTED (with @DIR@ standing for the test's
# temp dir) to a file byte for byte and to standard output; standard error stays empty.
golden_compare() {
    local expected=$1 want="$TEST_DIR/.want" got="$TEST_DIR/.got"
    shift
    if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
        run_berth --separate-stderr "$@" -o "$got"
        sed "s|${TEST_DIR//./\\.}|@DIR@|g" "$got" >"$expected"
        echo "# rewrote ${expected#"$GOLDEN"/}: review every line before committing it" >&3
    fi
    [ -f "$expected" ] || { echo "missing $expected"; return 1; }
    sed "s|@DIR@|$TEST_DIR|g" "$expected" >"$want"
    run_berth --separate-stderr "$@" -o "$got"
    assert_equal "" "$stderr" "standard error of berth $*"
    if ! cmp -s "$want" "$got"; then
        echo "berth $* differs from ${expected#"$GOLDEN"/} (- expected, + actual):"
        diff -u "$want" "$got" | tail -n +3
        return 1
    fi
    run_berth --separate-stderr "$@"
    assert_equal "$(cat "$want")" "$output" "standard output of berth $*"
    rm -f "$want" "$got"
}

# golden_case NAME: copies golden/NAME to $TEST_DIR/NAME (so the project is named NAME and
# @DIR@/NAME is its directory), sets HOME to @DIR@/home and the variables of NAME/environ
# (VAR=value lines), runs berth there with the arguments of NAME/args (one per line; default
# "config") and compares with NAME/expected.yaml, and with NAME/expected.json when there is one
# (the same arguments and --format json).
golden_case() {
    local src="$GOLDEN/$1" dir="$TEST_DIR/$1" args=(config) kv update=${GOLDEN_UPDATE:-0}
    [ -d "$src" ] || { echo "no golden case '$src'"; return 1; }
    cp -a "$src" "$dir"
    rm -f "$dir"/expected.* "$dir/args" "$dir/environ"
    mkdir -p "$TEST_DIR/home"
    if [ -f "$src/args" ]; then
        mapfile -t args <"$src/args"
    fi
    golden_clear_env
    export HOME="$TEST_DIR/home" GOLDEN_UPDATE="$update"
    if [ -f "$src/environ" ]; then
        while IFS= read -r kv; do
            [ -n "$kv" ] && export "${kv?}"
        done <"$src/environ"
    fi
    cd "$dir" || return 1
    golden_compare "$src/expected.yaml" "${args[@]}"
    if [ -f "$src/expected.json" ]; then
        golden_compare "$src/expected.json" "${args[@]}" --format json
    fi
}

@test "golden: a web stack with healthchecks and depends_on conditions" {
    golden_case web-db
}

@test "golden: ports in every short form and the long syntax" {
    golden_case ports
}

@test "golden: volumes short and long, binds, named, anonymous, tmpfs" {
    golden_case volumes
}

@test "golden: environment, env_file, labels and extra_hosts in their forms" {
    golden_case environment
}

@test "golden: build as a string and a mapping, command and entrypoint strings" {
    golden_case build-command
}

@test "golden: durations, sizes, ulimits and deploy resources" {
    golden_case units
}

@test "golden: -f files merged, with !reset and !override" {
    golden_case merge-reset
}

@test "golden: extends from another file and include" {
    golden_case extends-include
}

@test "golden: --profile enables a profile" {
    golden_case profiles
}

@test "golden: a service named on the command line is enabled whatever its profiles" {
    golden_case service-profile
}

@test "golden: links, service: namespaces and volumes_from imply dependencies" {
    golden_case implied-deps
}

@test "golden: top-level networks, volumes, secrets and configs; unused ones pruned" {
    golden_case resources
}

@test "golden: config SERVICE keeps the service, its dependencies and what they use" {
    golden_case select
}

@test "golden: --no-normalize" {
    golden_case no-normalize
}

@test "golden: --no-path-resolution" {
    golden_case no-path-resolution
}

# --hash follows docker compose's ServiceHash: the hash of the service's configuration without
# depends_on, build, profiles, scale, pull_policy and deploy.replicas.
hash_of() { # hash_of FILE SERVICE: sets $hash to the hash berth prints for SERVICE
    run_berth -p h -f "$1" --profile '*' config --hash '*'
    local line
    hash=
    for line in "${lines[@]}"; do
        if [ "${line%% *}" = "$2" ]; then
            hash=${line#* }
            return 0
        fi
    done
    echo "no hash for '$2' in: $output"
    return 1
}

@test "--hash is stable under key order and ignores what docker compose ignores" {
    cd "$TEST_DIR"
    cat >base.yaml <<'YAML'
services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    environment: {A: "1", B: "2"}
    depends_on: [db]
    build: ./web
    profiles: [front]
    scale: 2
    pull_policy: always
    deploy:
      replicas: 2
      resources: {limits: {memory: 64m}}
  db:
    image: postgres:16
YAML
    cat >reordered.yaml <<'YAML'
services:
  db:
    image: postgres:16
  web:
    deploy:
      resources: {limits: {memory: 64m}}
      replicas: 2
    pull_policy: always
    scale: 2
    profiles: [front]
    build: ./web
    depends_on: [db]
    environment: {B: "2", A: "1"}
    ports: ["8080:80"]
    image: nginx:1.25
YAML
    # The attributes ServiceHash leaves out, each changed.
    sed -e 's/depends_on: \[db\]/depends_on: {db: {condition: service_healthy, restart: true}}/' \
        -e 's|build: ./web|build: {context: ./other, args: {X: "1"}}|' \
        -e 's/profiles: \[front\]/profiles: [front, extra]/' -e 's/scale: 2/scale: 3/' \
        -e 's/pull_policy: always/pull_policy: missing/' -e 's/replicas: 2/replicas: 3/' \
        base.yaml >ignored.yaml
    assert_equal 6 "$(diff base.yaml ignored.yaml | grep -c '^>')" "lines changed in ignored.yaml"
    sed 's/B: "2"/B: "3"/' base.yaml >env-changed.yaml
    sed 's/memory: 64m/memory: 128m/' base.yaml >limit-changed.yaml

    run_berth -p h -f base.yaml --profile '*' config --hash '*'
    assert_match "$output" '^db [0-9a-f]{64}$'
    assert_match "$output" '^web [0-9a-f]{64}$'
    assert_equal "db web" "$(cut -d' ' -f1 <<<"$output" | tr '\n' ' ' | sed 's/ $//')" \
        "services, sorted by name"
    local hash web db
    hash_of base.yaml web
    web=$hash
    hash_of base.yaml db
    db=$hash
    run_berth -p h -f base.yaml --profile '*' config --hash web
    assert_equal "web $web" "$output" "--hash web"
    hash_of base.yaml web
    assert_equal "$web" "$hash" "the hash of the same file, again"
    hash_of reordered.yaml web
    assert_equal "$web" "$hash" "the hash with keys reordered"
    hash_of ignored.yaml web
    assert_equal "$web" "$hash" \
        "the hash when only depends_on, build, profiles, scale, pull_policy, deploy.replicas change"
    hash_of ignored.yaml db
    assert_equal "$db" "$hash" "another service's hash"
    hash_of env-changed.yaml web
    [ "$hash" != "$web" ] || { echo "an environment change kept the hash $web"; return 1; }
    hash_of limit-changed.yaml web
    [ "$hash" != "$web" ] || { echo "a deploy.resources change kept the hash $web"; return 1; }
    hash_of env-changed.yaml db
    assert_equal "$db" "$hash" "db's hash when only web changed"
}
