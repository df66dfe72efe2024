#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The CLI front: help everywhere, docker compose's global flags, suggestions for typos, exit
# codes (0 ok, 1 failure, 2 usage). Usage errors and help never start a daemon.

load helpers

# Every command of the Foundation issue, as argument lists.
COMMANDS=("version" "system" "system info" "daemon" "daemon stop" "daemon status")

assert_no_daemon() {
    assert_file_absent "$SOCK"
    assert_equal "" "$(daemon_processes)" "berth daemon processes on this run root"
}

@test "berth --help and -h print the usage and the commands" {
    local h
    for h in --help -h; do
        RUN_BERTH_TIMEOUT=15 run_berth "$h"
        assert_match "$output" 'usage' "berth $h" -i
        assert_match "$output" '\bversion\b' "berth $h"
        assert_match "$output" '\bsystem\b' "berth $h"
        assert_match "$output" '\bdaemon\b' "berth $h"
    done
    assert_no_daemon
}

@test "--help and -h work on every command and start nothing" {
    local c h
    for c in "${COMMANDS[@]}"; do
        for h in --help -h; do
            # shellcheck disable=SC2086
            RUN_BERTH_TIMEOUT=15 run_berth $c $h
            assert_match "$output" 'usage' "berth $c $h" -i
            assert_contains "$output" "$c" "berth $c $h"
        done
    done
    assert_no_daemon
}

@test "an unknown command exits 2 and names the closest one" {
    run_berth -2 verison
    assert_contains "$output" "did you mean 'version'"
    run_berth -2 deamon status
    assert_contains "$output" "did you mean 'daemon'"
    run_berth -2 daemon stpo
    assert_contains "$output" "did you mean 'stop'"
    run_berth -2 system inof
    assert_contains "$output" "did you mean 'info'"
    assert_no_daemon
}

@test "an unknown flag exits 2 and names the closest one" {
    run_berth -2 version --fromat json
    assert_contains "$output" "did you mean '--format'"
    run_berth -2 --progres plain version
    assert_contains "$output" "did you mean '--progress'"
    run_berth -2 --projet-name demo version
    assert_contains "$output" "did you mean '--project-name'"
    run_berth -2 system info --formt json
    assert_contains "$output" "did you mean '--format'"
    assert_no_daemon
}

@test "a bad flag value exits 2 and names the valid values" {
    run_berth -2 --ansi sometimes version
    assert_contains "$output" "sometimes"
    local v
    for v in never always auto; do
        assert_contains "$output" "$v" "message for --ansi sometimes"
    done
    run_berth -2 --progress fancy version
    for v in auto tty plain json quiet; do
        assert_contains "$output" "$v" "message for --progress fancy"
    done
    run_berth -2 version --format yaml
    assert_contains "$output" "json" "message for --format yaml"
    assert_no_daemon
}

@test "a flag without its value exits 2" {
    run_berth -2 version --format
    run_berth -2 version -p
    run_berth -2 --ansi
    assert_no_daemon
}

@test "docker compose's global flags are accepted" {
    local dir="$TEST_DIR/proj"
    mkdir -p "$dir"
    printf 'services:\n  web:\n    image: busybox\n' >"$dir/compose.yaml"
    printf 'services:\n  web:\n    environment:\n      A: "1"\n' >"$dir/compose.override.yaml"
    printf 'A=1\n' >"$dir/.env"
    run_berth -f "$dir/compose.yaml" --file "$dir/compose.override.yaml" -p demo \
        --project-directory "$dir" --profile debug --profile tools --env-file "$dir/.env" \
        --ansi never --progress plain version
    assert_contains "$output" "client: "
    run_berth --ansi=always --progress=json --project-name=demo -pdemo version --short
    run_berth --ansi auto --progress quiet version --short
    run_berth --progress tty version --short
}

@test "--dry-run is rejected as not supported, and starts nothing" {
    run_berth '!' --dry-run version
    assert_match "$status" '^[12]$' "exit status"
    assert_contains "$output" "dry-run"
    assert_match "$output" 'not supported' "message" -i
    assert_no_daemon
}

@test "a runtime failure exits 1: --root pointing at a regular file" {
    local file="$TEST_DIR/not-a-dir"
    echo x >"$file"
    RUN_BERTH_TIMEOUT=40 run_berth -1 --root "$file" version
    # The message says what went wrong and names the path.
    assert_contains "$output" "$file"
    assert_equal "" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_file_absent "$SOCK"
    assert_equal x "$(cat "$file")" "content of the file given as --root"
}
