#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Container logs: Docker's json-file format on disk, logs with --tail/--since/-t, follow, and
# rotation by max-size/max-file.

load helpers
load helpers-registry
load helpers-container

@test "logs are json-file lines with stream and time, read back with tail and timestamps" {
    run_berth container run --name talk busybox sh -c 'for i in 1 2 3; do echo out$i; done; echo err1 >&2; printf partial'
    id=$(container_field talk .Id)
    f="$BERTH_ROOT/containers/$id/$id-json.log"
    [ -f "$f" ]
    jq -se 'any(.stream == "stdout" and .log == "out1\n" and (.time | test("^20.*Z$")))' "$f"
    jq -se 'any(.stream == "stderr" and .log == "err1\n")' "$f"
    jq -se 'any(.log == "partial")' "$f"
    run_berth container logs talk
    [[ "$output" == *out1*out2*out3* ]] && [[ "$output" == *err1* ]]
    run_berth --separate-stderr container logs --tail 2 talk
    [[ "$output" != *out1* ]] || { echo "--tail 2 printed the first line"; return 1; }
    run_berth container logs -t talk
    [[ "${lines[0]}" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T.*Z\ out1$ ]] || { echo "got: ${lines[0]}"; return 1; }
    run_berth container logs --since 1h talk
    [[ "$output" == *out1* ]]
    run_berth container logs --until 1h talk
    [ -z "$output" ]
    run_berth container rm talk
}

@test "logs -f follows a running container until it exits" {
    run_berth container run -d --name follow busybox sh -c 'echo one; sleep 1; echo two'
    run_berth container logs -f follow
    [[ "$output" == *one*two* ]] || { echo "got: $output"; return 1; }
    run_berth container rm follow
}

@test "logs rotate by max-size and max-file" {
    run_berth container run --name chatty --log-opt max-size=2k --log-opt max-file=3 busybox sh -c 'for i in $(seq 500); do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; done'
    id=$(container_field chatty .Id)
    d="$BERTH_ROOT/containers/$id"
    [ -f "$d/$id-json.log" ] && [ -f "$d/$id-json.log.1" ] && [ -f "$d/$id-json.log.2" ]
    [ ! -e "$d/$id-json.log.3" ]
    for f in "$d/$id-json.log" "$d/$id-json.log.1" "$d/$id-json.log.2"; do
        [ "$(stat -c %s "$f")" -le 4096 ] || { echo "$f too big"; return 1; }
    done
    run_berth container logs chatty
    [[ "${lines[-1]}" == line-500-* ]]
    run_berth container rm chatty
}
