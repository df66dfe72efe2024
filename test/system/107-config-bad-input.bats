#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Bad input to berth config: each mistake is one clear error with exit status 1, never a crash;
# the message gives file:line:col where the input has a position, and names the offending path,
# key, variable or file. What 101-103 already check is not repeated here: this covers the
# positions they leave out, unknown keys, wrong types, cycles across files, missing env files,
# binary garbage, oversized files and bombs. No daemon needed.

load helpers

setup() {
    berth_setup
    PROJ="$TEST_DIR/p"
    mkdir -p "$PROJ/lib"
    cd "$PROJ" || return 1
}

# config_fails TEXT...: berth config exits 1 and its output contains every TEXT.
config_fails() {
    run_berth -1 config
    local t
    for t in "$@"; do
        assert_contains "$output" "$t"
    done
}

@test "a tab in the indentation is refused at its line and column" {
    printf 'services:\n  web:\n    image: x\n    \tports: ["80:80"]\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:4:5: " "tabs are not allowed"
}

@test "a duplicate key is refused at any level, with the first one's line" {
    printf 'services:\n  web: {image: a}\nservices:\n  db: {image: b}\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:3:1: " "duplicate key 'services'" "line 1"
    printf 'services:\n  web:\n    image: a\n    healthcheck:\n      test: ["CMD", "true"]\n      test: ["NONE"]\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:6:7: " "duplicate key 'test'"
}

@test "an unknown key names its path and the closest known key" {
    printf 'services:\n  web:\n    image: a\n    enviroment: {A: b}\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:4:5: " "services.web: unknown key 'enviroment'" \
        "did you mean 'environment'?"
    printf 'services:\n  web:\n    image: a\n    healthcheck:\n      test: ["CMD", "true"]\n      intervall: 5s\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:6:7: " "services.web.healthcheck: unknown key 'intervall'" \
        "did you mean 'interval'?"
    printf 'services:\n  web: {image: a}\nvolume:\n  data: {}\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:3:1: " "unknown key 'volume'" "did you mean 'volumes'?"
}

@test "a value of the wrong type names its path and what is expected" {
    printf 'services:\n  - web\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:2:3: " "services: must be a mapping, got a sequence"
    printf 'services:\n  web:\n    image: [nginx]\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:3:12: " "services.web.image: must be a string, got a sequence"
    printf 'services:\n  web:\n    image: a\n    ports:\n      http: 80\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:5:7: " "services.web.ports: must be a sequence, got a mapping"
    printf 'services:\n  web:\n    image: a\n    deploy:\n      replicas: "many"\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:5:17: " "services.web.deploy.replicas: 'many' is not an integer"
    printf 'services:\n  web:\n    image: a\n    deploy:\n      replicas: 1.5\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:5:17: " "services.web.deploy.replicas" "1.5"
    printf 'services:\n  web:\n    image: a\n    ports: ["99999:80"]\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:4:13: " "services.web.ports" "'99999'"
}

@test "a plain word where a number is wanted is refused" {
    local k
    for k in "cpu_shares: many" "pids_limit: many" "scale: many" "oom_score_adj: many" \
        "healthcheck: {retries: many}" "deploy: {replicas: many}"; do
        printf 'services:\n  web:\n    image: a\n    %s\n' "$k" >compose.yaml
        config_fails "$PROJ/compose.yaml:4:" "services.web.${k%%:*}" "'many'"
    done
}

@test "an unterminated \${ is refused at the value, naming its path" {
    printf 'services:\n  web:\n    image: app\n    environment:\n      A: "x ${TAG:-y"\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:5:10: " "services.web.environment.A" "'\${TAG:-y'" \
        "missing closing '}'"
}

@test "\${X:?message} with X unset shows the message at the value, naming X" {
    printf 'services:\n  web:\n    image: app\n    ports:\n      - "${HTTP_PORT:?set HTTP_PORT to the port to publish}:80"\n' >compose.yaml
    unset HTTP_PORT
    config_fails "$PROJ/compose.yaml:5:9: " "services.web.ports" "'HTTP_PORT'" \
        "set HTTP_PORT to the port to publish"
    # Set but empty is missing too for ':?'; '?' alone only wants it set.
    HTTP_PORT='' run_berth -1 config
    assert_contains "$output" "set HTTP_PORT to the port to publish"
    printf 'services:\n  web:\n    image: "app:${TAG?TAG must be set}"\n' >compose.yaml
    TAG='' run_berth config -q
}

@test "an include cycle across files names every file of it, at the include" {
    printf 'include: [lib/a.yaml]\nservices: {a: {image: a}}\n' >compose.yaml
    printf 'include:\n  - b.yaml\nservices: {b: {image: b}}\n' >lib/a.yaml
    printf 'include:\n  - a.yaml\nservices: {c: {image: c}}\n' >lib/b.yaml
    config_fails "$PROJ/lib/b.yaml:2:5: " "include cycle" "'$PROJ/compose.yaml'" \
        "'$PROJ/lib/a.yaml'" "'$PROJ/lib/b.yaml'"
}

@test "an extends cycle across files names each service and its file" {
    printf 'services:\n  a:\n    extends: {file: other.yaml, service: o}\n' >compose.yaml
    printf 'services:\n  o:\n    extends: {file: compose.yaml, service: a}\n' >other.yaml
    config_fails "$PROJ/compose.yaml:3:14: " "services.a.extends: extends cycle" \
        "'a' ($PROJ/compose.yaml)" "'o' ($PROJ/other.yaml)"
}

@test "an extends cycle through another directory is named as a cycle" {
    printf 'services:\n  a:\n    extends: {file: lib/other.yaml, service: o}\n' >compose.yaml
    printf 'services:\n  o:\n    extends: {file: ../compose.yaml, service: a}\n' >lib/other.yaml
    config_fails "$PROJ/compose.yaml:3:14: " "services.a.extends: extends cycle" \
        "'a' ($PROJ/compose.yaml)" "'o' ($PROJ/lib/other.yaml)"
}

@test "a missing env_file is refused at its entry, in both syntaxes; an optional one is not" {
    touch ok.env
    printf 'services:\n  a:\n    image: x\n    env_file: [ok.env, missing.env]\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:4:24: " "services.a.env_file[1]" "'$PROJ/missing.env' not found"
    printf 'services:\n  a:\n    image: x\n    env_file:\n      - ok.env\n      - path: lib/missing.env\n        required: true\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:6:9: " "services.a.env_file[1]" \
        "'$PROJ/lib/missing.env' not found"
    printf 'services:\n  a:\n    image: x\n    env_file:\n      - path: lib/missing.env\n        required: false\n' >compose.yaml
    run_berth config -q
}

@test "a missing -f file among several is named, and nothing is printed for the others" {
    printf 'services:\n  a: {image: x}\n' >compose.yaml
    run_berth -1 -f compose.yaml -f lib/override.yaml config
    assert_contains "$output" "cannot open compose file 'lib/override.yaml'"
    assert_contains "$output" "No such file or directory"
    assert_not_contains "$output" "services:"
}

@test "binary garbage, NUL bytes and invalid UTF-8 are refused at the first bad byte" {
    # Fixed bytes (not /dev/urandom) so every run sees the same input.
    printf 'services:\n  web:\n    image: a\000b\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:3:13: " "control characters are not allowed (U+0000)"
    printf '\000\000\000\000services: {}\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:1:1: " "(U+0000)"
    printf 'services:\n  web:\n    image: \303\050\n' >compose.yaml
    config_fails "$PROJ/compose.yaml:3:13: " "UTF-8"
    # Every byte value once, in a scrambled order: "\ooo" escapes that printf expands.
    local i oct bytes=
    for ((i = 0; i < 256; i++)); do
        printf -v oct '\\%03o' $(((i * 7 + 3) % 256))
        bytes+=$oct
    done
    # shellcheck disable=SC2059 # the format is the data
    printf "$bytes" >compose.yaml
    run_berth -1 config
    assert_match "$output" "$PROJ/compose.yaml:[0-9]+:[0-9]+: "
    assert_not_contains "$output" "AddressSanitizer"
    # A .env with a NUL byte.
    printf 'services:\n  a: {image: x}\n' >compose.yaml
    printf 'A=x\000y\n' >.env
    config_fails "$PROJ/.env:1:4: " "NUL"
}

# elapsed_ms COMMAND...: runs it (a run_berth call) and sets $ms to the wall time it took.
elapsed_ms() {
    local start=${EPOCHREALTIME/./}
    "$@"
    ms=$(((${EPOCHREALTIME/./} - start) / 1000))
}

@test "a 50 MB compose file is refused quickly, saying how large a file may be" {
    {
        printf 'services:\n  web:\n    image: x\n    labels:\n'
        seq -f '      label%.0f: some value' 1 3000000
    } | head -c 52428800 >compose.yaml
    local ms
    RUN_BERTH_TIMEOUT=20 elapsed_ms run_berth -1 config
    assert_contains "$output" "'$PROJ/compose.yaml' is larger than"
    [ "$ms" -lt 5000 ] || { echo "took $ms ms to refuse a 50 MB file"; return 1; }
    # The same for an env_file and for .env.
    printf 'services:\n  a:\n    image: x\n    env_file: big.env\n' >lib/compose.yaml
    seq -f 'VAR%.0f=some value' 1 3000000 | head -c 52428800 >lib/big.env
    RUN_BERTH_TIMEOUT=20 elapsed_ms run_berth -1 -f lib/compose.yaml config
    assert_contains "$output" "$PROJ/lib/compose.yaml:4:15: services.a.env_file"
    assert_contains "$output" "'$PROJ/lib/big.env' is larger than"
    [ "$ms" -lt 5000 ] || { echo "took $ms ms to refuse a 50 MB env_file"; return 1; }
    mv lib/big.env .env
    printf 'services:\n  a: {image: x}\n' >compose.yaml
    RUN_BERTH_TIMEOUT=20 run_berth -1 config
    assert_contains "$output" "'$PROJ/.env' is larger than"
}

@test "bombs are refused quickly: aliases of mappings, merge keys, deep nesting, interpolation" {
    # Nine mappings of nine aliases, eight levels deep, pulled in by a merge key.
    local prev=a l i items ms
    {
        echo 'x-a: &a {a0: lol, a1: lol, a2: lol, a3: lol, a4: lol, a5: lol, a6: lol, a7: lol, a8: lol}'
        for l in b c d e f g h i; do
            items=
            for i in 0 1 2 3 4 5 6 7 8; do items+="${items:+, }$l$i: *$prev"; done
            echo "x-$l: &$l {$items}"
            prev=$l
        done
        echo "services: {web: {image: x, labels: {<<: *$prev}}}"
    } >compose.yaml
    RUN_BERTH_TIMEOUT=20 elapsed_ms run_berth -1 config
    assert_match "$output" "$PROJ/compose.yaml:[0-9]+:[0-9]+: aliases expand to more than"
    [ "$ms" -lt 5000 ] || { echo "took $ms ms to refuse a mapping bomb"; return 1; }

    { printf 'services: '; printf '%.0s[' {1..100000}; printf '%.0s]' {1..100000}; echo; } \
        >compose.yaml
    config_fails "$PROJ/compose.yaml:1:" "nest deeper than"

    # One variable of almost 1 MB used over and over: the values would add up to gigabytes.
    printf 'A=%s\n' "$(head -c 1000000 /dev/zero | tr '\0' x)" >.env
    local value
    printf -v value '%.0s${A}' {1..15}
    {
        printf 'services:\n  web:\n    image: x\n    labels:\n'
        for ((i = 1; i <= 1000; i++)); do printf '      l%d: "%s"\n' "$i" "$value"; done
    } >compose.yaml
    RUN_BERTH_TIMEOUT=20 elapsed_ms run_berth -1 config
    assert_match "$output" "$PROJ/compose.yaml:[0-9]+:11: services.web.labels.l[0-9]+: interpolated value"
    [ "$ms" -lt 5000 ] || { echo "took $ms ms to refuse an interpolation bomb"; return 1; }
}
