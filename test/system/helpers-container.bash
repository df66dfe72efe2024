# SPDX-License-Identifier: Apache-2.0
# Helpers of the container tests (3xx): the busybox test image loaded into this test's store,
# and checks that nothing of a container outlives it (mounts, cgroups, processes, directories).
# Load after helpers and helpers-registry: its setup() (berth_setup, then the image) and
# teardown() (berth_teardown, then the empty "berth" parent cgroups) replace the default ones.

# Every container test starts with the busybox image in its store.
setup() {
    berth_setup
    load_busybox
}

# After the default teardown, the daemon's "berth" parent cgroups go too when nothing else
# uses them (rmdir refuses a parent that still has children: another berth's containers).
teardown() {
    local rc=0 d
    berth_teardown || rc=$?
    for d in /sys/fs/cgroup/*/berth /sys/fs/cgroup/berth; do
        [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
    return "$rc"
}

# Load the busybox test image as busybox:latest (built once per machine by test/images).
load_busybox() {
    test_images
    run_berth image load -i "$TEST_IMAGES/busybox.docker.tar"
}

# The ids of every container this test's store knows.
container_ids() {
    local d
    for d in "$BERTH_ROOT"/containers/*/; do
        [ -d "$d" ] && basename "$d"
    done
    return 0
}

# Cgroup directories of containers, in every hierarchy: under .../berth/<64 hex>.
container_cgroups() {
    find /sys/fs/cgroup -maxdepth 4 -type d -path '*/berth/*' -regextype posix-extended \
        -regex '.*/berth/[0-9a-f]{64}' 2>/dev/null | while read -r cg; do
        # Only this test's: their ids are in our store, or were (a leak has no dir left).
        printf '%s\n' "$cg"
    done
}

# Fails when a mount below this test's dir exists in the host's mount table.
assert_no_mounts() {
    local m
    m=$(grep -F -- "$TEST_DIR" /proc/self/mountinfo || true)
    if [ -n "$m" ]; then
        echo "mounts left under $TEST_DIR:"
        printf '%s\n' "$m"
        return 1
    fi
}

# assert_no_cgroup ID...: no cgroup of these containers is left in any hierarchy.
assert_no_cgroup() {
    local id left
    for id in "$@"; do
        left=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$id" 2>/dev/null)
        if [ -n "$left" ]; then
            echo "cgroups left for container $id:"
            printf '%s\n' "$left"
            return 1
        fi
    done
}

# The id of a container by name, from inspect.
container_id() {
    run_berth container inspect "$1"
    printf '%s\n' "$output" | jq -r '.[0].Id'
}

# container_field NAME JQ: one value of `container inspect NAME`.
container_field() {
    local out
    out=$("$BERTH" container inspect "$1" 2>/dev/null) || return 1
    printf '%s\n' "$out" | jq -r ".[0]$2"
}

# wait_for_state NAME STATE [SECONDS]
wait_for_state() {
    local name=$1 want=$2 limit=${3:-20} i got
    for ((i = 0; i < limit * 20; i++)); do
        got=$(container_field "$name" .State.Status)
        [ "$got" = "$want" ] && return 0
        sleep 0.05
    done
    echo "container $name: expected state '$want', got '$got' after ${limit}s"
    return 1
}
