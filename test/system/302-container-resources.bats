#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cgroup limits on real containers: a memory hog is OOM-killed and reported, a fork bomb stops
# at pids_limit, the limits are in the container's cgroup, and the cgroup goes with it.

load helpers
load helpers-registry
load helpers-container

# The host's cgroup directory of a running container for one controller (v1) or the v2 tree.
cgroup_dir() {
    local id=$1 ctrl=$2 d
    for d in "/sys/fs/cgroup/$ctrl/berth/$id" "/sys/fs/cgroup/berth/$id"; do
        [ -d "$d" ] && { echo "$d"; return 0; }
    done
    return 1
}

@test "a memory hog is OOM-killed: exit 137 and OOMKilled true" {
    run_berth container run -d --name hog -m 16m --memory-swap 16m busybox sh -c 'x=$(head -c 200m /dev/zero | tr "\0" a); echo survived'
    run_berth container wait hog
    [ "$output" = 137 ] || { echo "exit code $output, not 137"; return 1; }
    [ "$(container_field hog .State.OOMKilled)" = true ] || { echo "not reported as an OOM kill"; return 1; }
    run_berth container logs hog
    [[ "$output" != *survived* ]]
    run_berth container rm hog
}

@test "a fork bomb stops at pids_limit" {
    run_berth container run -d --name bomb --pids-limit 20 busybox sh -c '(i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done); exec sleep 1000'
    id=$output
    pids=$(cgroup_dir "$id" pids)
    # The kernel refused forks past the limit (pids.events counts them) and never more ran.
    wait_for "grep -q '^max [1-9]' '$pids/pids.events'" 20
    [ "$(cat "$pids/pids.current")" -le 20 ] || { echo "$(cat "$pids/pids.current") pids under a limit of 20"; return 1; }
    run_berth container rm -f bomb
    assert_no_cgroup "$id"
}

@test "limits land in the container's cgroup and the cgroup goes with it" {
    run_berth container run -d --name limited -m 64m --cpus 0.5 --pids-limit 50 --cpu-shares 512 busybox sleep 1000
    id=$output
    mem=$(cgroup_dir "$id" memory)
    if [ -f "$mem/memory.limit_in_bytes" ]; then
        [ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ]
    else
        [ "$(cat "$mem/memory.max")" = 67108864 ]
    fi
    pids=$(cgroup_dir "$id" pids)
    [ "$(cat "$pids/pids.max")" = 50 ]
    cpu=$(cgroup_dir "$id" cpu)
    if [ -f "$cpu/cpu.cfs_quota_us" ]; then
        [ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ]
        [ "$(cat "$cpu/cpu.shares")" = 512 ]
    else
        [ "$(cat "$cpu/cpu.max")" = "50000 100000" ]
    fi
    run_berth container rm -f limited
    assert_no_cgroup "$id"
}
