#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cgroup limits on real containers: a memory hog is OOM-killed and reported, a fork bomb stops
# at pids_limit, the limits are in the container's cgroup, and the cgroup goes with it.

load helpers
load helpers-registry
load helpers-container

setup() {
    berth_setup
    load_busybox
}

teardown() {
    berth_teardown
}

# The host's cgroup directory of a running container for one controller (v1) or the v2 tree.
cgroup_dir() {
    local id=$1 ctrl=$2 d
    for d in "/sys/fs/cgroup/$ctrl/berth/$id" "/sys/fs/cgroup/berth/$id"; do
        [ -d "$d" ] && { echo "$d"; return 0; }
    done
    return 1
}

@test "a memory hog is OOM-killed: exit 137 and OOMKilled true" {
    run_berth -137 container run --name hog -m 16m --memory-swap 16m busybox sh -c 'x=$(head -c 200m /dev/zero | tr "\0" a); echo survived'
    [ "$(container_field hog .State.OOMKilled)" = true ] || { echo "not reported as an OOM kill"; return 1; }
    run_berth container rm hog
}

@test "a fork bomb stops at pids_limit" {
    run_berth container run --rm --pids-limit 20 busybox sh -c 'n=0; for i in $(seq 60); do sleep 5 & n=$((n+1)); done 2>/dev/null; echo started; ls /proc | grep -c "^[0-9]"'
    count=${lines[-1]}
    [ "$count" -le 20 ] || { echo "$count processes ran under a limit of 20"; return 1; }
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
