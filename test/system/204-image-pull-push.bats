#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# berth image pull / push / login / logout end to end: the real CLI and daemon against Debian's
# docker-registry (plain, TLS, htpasswd) and test/images/badregistry.py (wrong bytes, slow,
# failures, 429, bearer tokens), all on 127.0.0.1. Digests are compared with the ones
# test/images/build.sh wrote to digests.json; the store is checked on disk
# ($BERTH_ROOT/images: blobs/sha256, ingest, layers/<chain>/diff, records, refs.json).
# Credentials go to $DOCKER_CONFIG under $TEST_DIR, never to the real ~/.docker.

load helpers
load helpers-registry

setup() {
    berth_setup
    test_images
    export DOCKER_CONFIG="$TEST_DIR/docker"
    unset BERTH_DAEMON_CONFIG
    IMAGES="$BERTH_ROOT/images"
}

teardown() {
    registry_teardown
    berth_teardown
}

# ---------------------------------------------------------------------------------------------
# Helpers of this file

# hex of a digest
hex() {
    printf '%s\n' "${1#sha256:}"
}

# use_daemon_config JSON: writes the daemon settings file and restarts the daemon (if one
# runs) so that it reads them.
use_daemon_config() {
    export BERTH_DAEMON_CONFIG="$TEST_DIR/daemon.json"
    printf '%s\n' "$1" >"$BERTH_DAEMON_CONFIG"
    if [ -n "$(daemon_pid)" ] && pid_alive "$(daemon_pid)"; then
        run_berth daemon stop
    fi
}

# fresh_root NAME: stops this root's daemon and switches to new, empty roots under $TEST_DIR
# (the next berth command starts a daemon there; teardown stops it by the new pid file).
fresh_root() {
    if [ -n "$(daemon_pid)" ] && pid_alive "$(daemon_pid)"; then
        run_berth daemon stop
    fi
    export BERTH_ROOT="$TEST_DIR/$1" BERTH_RUN_ROOT="$TEST_DIR/$1-run"
    SOCK="$BERTH_RUN_ROOT/berth.sock"
    PIDFILE="$BERTH_RUN_ROOT/berth.pid"
    DAEMON_LOG="$BERTH_ROOT/daemon.log"
    IMAGES="$BERTH_ROOT/images"
}

# Every blob in the store hashes to its name.
assert_blobs_verify() {
    local f sum bad=0
    for f in "$IMAGES"/blobs/sha256/*; do
        [ -e "$f" ] || continue
        sum=$(sha256sum <"$f" | cut -d' ' -f1)
        if [ "$sum" != "${f##*/}" ]; then
            echo "blob $f hashes to $sum"
            bad=1
        fi
    done
    return $bad
}

# assert_image_complete NAME: the image inspect shows exists and every blob and layer its record
# names is in the store (manifest, config, layers; layers/<chain>/diff).
assert_image_complete() {
    local j d
    run_berth image inspect "$1"
    j=$output
    for d in $(jq -r '.[0] | .Manifest.digest, .Id, (.Layers[] | .digest)' <<<"$j"); do
        assert_file_exists "$IMAGES/blobs/sha256/$(hex "$d")"
    done
    for d in $(jq -r '.[0].Layers[].chain_id' <<<"$j"); do
        assert_file_exists "$IMAGES/layers/$(hex "$d")/diff"
    done
    assert_blobs_verify
}

# assert_image_count N: `image ls -q` lists N images.
assert_image_count() {
    local n
    run_berth image ls -q
    n=$(grep -c . <<<"$output" || true)
    assert_equal "$1" "$n" "images in image ls -q"
}

# assert_no_image: no record, no reference.
assert_no_image() {
    local n
    n=$(find "$IMAGES/records" -name '*.json' 2>/dev/null | wc -l)
    assert_equal 0 "$n" "records in $IMAGES/records"
    if [ -f "$IMAGES/refs.json" ]; then
        assert_equal 0 "$(jq 'length' "$IMAGES/refs.json")" "references in refs.json"
    fi
}

# The requests badregistry logged for a path matching a regex: "METHOD STATUS RANGE" lines.
badreg_requests() {
    jq -r --arg re "$1" 'select(.path | test($re)) | "\(.method) \(.status) \(.range)"' \
        "$BADREG_LOG"
}

# ---------------------------------------------------------------------------------------------
# 1. A single-platform image

@test "pull: digest, image id, RepoDigests and unpacked layers; again: already exists" {
    local manifest config l1 chain1 chain2 served
    manifest=$(test_image_field busybox .manifest)
    config=$(test_image_field busybox .config)
    l1=$(test_image_field busybox '.layers[0]')
    chain1=$(test_image_field busybox '.chain_ids[0]')
    chain2=$(test_image_field busybox '.chain_ids[1]')
    registry_start
    registry_push "$TEST_IMAGES/busybox" "$REGISTRY/lib/busybox:1"
    served=$(registry_digest "$REGISTRY/lib/busybox:1")
    assert_equal "$manifest" "$served" "digest the registry serves"

    run_berth --progress plain image pull "$REGISTRY/lib/busybox:1"
    assert_contains "$output" "Digest: $manifest"
    assert_equal "$REGISTRY/lib/busybox:1" "${lines[-1]}" "last line (the name)"
    assert_contains "$output" "$(hex "$l1" | cut -c1-12): Download complete"

    run_berth image inspect "$REGISTRY/lib/busybox:1"
    assert_equal "$config" "$(jq -r '.[0].Id' <<<"$output")" "Id"
    assert_equal "$REGISTRY/lib/busybox@$manifest" "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" \
        "RepoDigests[0]"
    assert_equal 1 "$(jq '.[0].RepoDigests | length' <<<"$output")" "number of RepoDigests"
    assert_equal "$REGISTRY/lib/busybox:1" "$(jq -r '.[0].RepoTags[0]' <<<"$output")" "RepoTags[0]"
    assert_equal "$(test_image_field busybox '.diff_ids | join(",")')" \
        "$(jq -r '.[0].RootFS.Layers | join(",")' <<<"$output")" "RootFS.Layers"
    assert_image_complete "$REGISTRY/lib/busybox:1"
    assert_file_exists "$IMAGES/records/$(hex "$config").json"
    assert_equal "$config" "$(jq -r --arg r "$REGISTRY/lib/busybox:1" '.[$r]' "$IMAGES/refs.json")" \
        "refs.json entry"
    # Layer 1 is the busybox tree; layer 2 adds etc/motd.
    [ -x "$IMAGES/layers/$(hex "$chain1")/diff/bin/busybox" ] || {
        echo "no bin/busybox in layers/$(hex "$chain1")/diff"
        return 1
    }
    assert_equal "berth test image" "$(cat "$IMAGES/layers/$(hex "$chain2")/diff/etc/motd")" \
        "etc/motd of layer 2"
    # Nothing half-done left behind.
    assert_equal "" "$(ls -A "$IMAGES/ingest")" "ingest/"

    # Again: nothing is downloaded or unpacked again.
    local inode_before inode_after
    inode_before=$(stat -c %i "$IMAGES/blobs/sha256/$(hex "$l1")" "$IMAGES/layers/$(hex "$chain1")/diff")
    run_berth --progress plain image pull "$REGISTRY/lib/busybox:1"
    assert_contains "$output" "$(hex "$l1" | cut -c1-12): Already exists"
    assert_contains "$output" "$(hex "$(test_image_field busybox '.layers[1]')" | cut -c1-12): Already exists"
    assert_not_contains "$output" "Download complete"
    assert_not_contains "$output" "Extracting"
    assert_contains "$output" "Digest: $manifest"
    inode_after=$(stat -c %i "$IMAGES/blobs/sha256/$(hex "$l1")" "$IMAGES/layers/$(hex "$chain1")/diff")
    assert_equal "$inode_before" "$inode_after" "inodes of the layer blob and diff"
    assert_image_count 1

    # -q prints only the name.
    run_berth image pull -q "$REGISTRY/lib/busybox:1"
    assert_equal "$REGISTRY/lib/busybox:1" "$output" "output of pull -q"
}

# ---------------------------------------------------------------------------------------------
# 2. A multi-platform index

@test "pull an index: the host's platform, --platform linux/arm64, an unoffered platform fails" {
    local index host_arch chain3 m
    index=$(test_image_field multi .index)
    registry_start
    registry_push "$TEST_IMAGES/multi" "$REGISTRY/lib/multi:1"
    host_arch=$(test_image_field multi '.manifests[0].platform.architecture')

    run_berth --progress plain image pull "$REGISTRY/lib/multi:1"
    assert_contains "$output" "Digest: $index"
    run_berth image inspect "$REGISTRY/lib/multi:1"
    assert_equal "$(test_image_field multi '.manifests[0].config')" "$(jq -r '.[0].Id' <<<"$output")" \
        "Id (the host's platform comes first in multi)"
    assert_equal "$host_arch" "$(jq -r '.[0].Architecture' <<<"$output")" "Architecture"
    # RepoDigests names the index, as docker does.
    assert_equal "$REGISTRY/lib/multi@$index" "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" \
        "RepoDigests[0]"
    chain3=$(jq -r '.[0].Layers[2].chain_id' <<<"$output")
    assert_equal "$(test_image_field multi '.manifests[0].platform | [.os, .architecture, .variant // empty] | join("/")')" \
        "$(cat "$IMAGES/layers/$(hex "$chain3")/diff/platform")" "/platform marker"

    run_berth --progress plain image pull --platform linux/arm64 "$REGISTRY/lib/multi:1"
    assert_contains "$output" "Digest: $index"
    m=$(jq -r '.multi.manifests[] | select(.platform.architecture == "arm64") | .config' \
        "$TEST_IMAGES/digests.json")
    run_berth image inspect "$REGISTRY/lib/multi:1"
    assert_equal "$m" "$(jq -r '.[0].Id' <<<"$output")" "Id after --platform linux/arm64"
    assert_equal "arm64" "$(jq -r '.[0].Architecture' <<<"$output")" "Architecture"
    assert_equal "v8" "$(jq -r '.[0].Variant' <<<"$output")" "Variant"
    chain3=$(jq -r '.[0].Layers[2].chain_id' <<<"$output")
    assert_equal "linux/arm64/v8" "$(cat "$IMAGES/layers/$(hex "$chain3")/diff/platform")" \
        "/platform marker"
    # The tag moved; the host's image stays, untagged.
    assert_image_count 2

    run_berth -1 image pull --platform linux/s390x "$REGISTRY/lib/multi:1"
    assert_contains "$output" "linux/s390x"
    assert_contains "$output" "linux/amd64"
    assert_contains "$output" "linux/arm64/v8"
    assert_contains "$output" "linux/arm/v7"
    assert_image_count 2
}

# ---------------------------------------------------------------------------------------------
# 3. zstd layers, Docker schema 2

@test "pull zstd layers (fresh root) and Docker schema 2 media types (another fresh root)" {
    local z d
    registry_start
    registry_push "$TEST_IMAGES/busybox-zstd" "$REGISTRY/lib/zstd:1"
    registry_push "$TEST_IMAGES/busybox-docker" "$REGISTRY/lib/docker:1"
    assert_equal "$(test_image_field busybox-docker .manifest)" \
        "$(registry_digest "$REGISTRY/lib/docker:1")" "digest of the docker manifest served"

    run_berth --progress plain image pull "$REGISTRY/lib/zstd:1"
    assert_contains "$output" "Digest: $(test_image_field busybox-zstd .manifest)"
    run_berth image inspect "$REGISTRY/lib/zstd:1"
    z=$output
    assert_equal "$(test_image_field busybox-zstd .config)" "$(jq -r '.[0].Id' <<<"$z")" "Id"
    assert_equal "application/vnd.oci.image.layer.v1.tar+zstd" \
        "$(jq -r '.[0].Layers | map(.mediaType) | unique | join(",")' <<<"$z")" "layer media types"
    assert_equal "$(test_image_field busybox-zstd '.layers | join(",")')" \
        "$(jq -r '.[0].Layers | map(.digest) | join(",")' <<<"$z")" "layer digests"
    assert_image_complete "$REGISTRY/lib/zstd:1"
    [ -x "$IMAGES/layers/$(hex "$(test_image_field busybox-zstd '.chain_ids[0]')")/diff/bin/busybox" ]

    fresh_root root-docker
    run_berth --progress plain image pull "$REGISTRY/lib/docker:1"
    assert_contains "$output" "Digest: $(test_image_field busybox-docker .manifest)"
    assert_contains "$output" "Download complete"
    run_berth image inspect "$REGISTRY/lib/docker:1"
    d=$output
    assert_equal "$(test_image_field busybox-docker .config)" "$(jq -r '.[0].Id' <<<"$d")" "Id"
    assert_equal "application/vnd.docker.distribution.manifest.v2+json" \
        "$(jq -r '.[0].Manifest.mediaType' <<<"$d")" "manifest media type"
    assert_equal "application/vnd.docker.image.rootfs.diff.tar.gzip" \
        "$(jq -r '.[0].Layers | map(.mediaType) | unique | join(",")' <<<"$d")" "layer media types"
    assert_image_complete "$REGISTRY/lib/docker:1"
    # The three busybox variants share one config, so one image id and the same chain ids.
    assert_equal "$(jq -r '.[0].Id' <<<"$z")" "$(jq -r '.[0].Id' <<<"$d")" "zstd and docker ids"
}

# Two manifests of one image (same config) with differently compressed layers: the second
# pull finds the layers unpacked ("Already exists") and must not leave a record naming blobs
# it never fetched.
@test "pull the same image id in another compression: the record names only blobs it has" {
    registry_start
    registry_push "$TEST_IMAGES/busybox-zstd" "$REGISTRY/lib/zstd:1"
    registry_push "$TEST_IMAGES/busybox-docker" "$REGISTRY/lib/docker:1"
    run_berth image pull "$REGISTRY/lib/zstd:1"
    run_berth image pull "$REGISTRY/lib/docker:1"
    assert_image_complete "$REGISTRY/lib/docker:1"
    assert_image_complete "$REGISTRY/lib/zstd:1"
    run_berth image push "$REGISTRY/lib/docker:1"
}

# ---------------------------------------------------------------------------------------------
# 4. By digest

@test "pull by digest; a digest the repository does not have fails" {
    local manifest other
    manifest=$(test_image_field busybox .manifest)
    other=$(test_image_field busybox-zstd .manifest)
    registry_start
    registry_push "$TEST_IMAGES/busybox" "$REGISTRY/lib/busybox:1"

    run_berth --progress plain image pull "$REGISTRY/lib/busybox@$manifest"
    assert_contains "$output" "Digest: $manifest"
    assert_equal "$REGISTRY/lib/busybox@$manifest" "${lines[-1]}" "last line (the name)"
    run_berth image inspect "$REGISTRY/lib/busybox@$manifest"
    assert_equal "$(test_image_field busybox .config)" "$(jq -r '.[0].Id' <<<"$output")" "Id"
    assert_equal "$REGISTRY/lib/busybox@$manifest" "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" \
        "RepoDigests[0]"
    # By digest there is no tag to record.
    assert_equal 0 "$(jq '.[0].RepoTags | length' <<<"$output")" "number of RepoTags"
    assert_image_complete "$REGISTRY/lib/busybox@$manifest"

    # A well-formed digest this repository does not have (busybox-zstd's was never pushed).
    run_berth -1 image pull "$REGISTRY/lib/busybox@$other"
    assert_contains "$output" "manifest unknown: '$REGISTRY/lib/busybox@$other' not found"
    assert_file_absent "$IMAGES/blobs/sha256/$(hex "$other")"
    # A malformed one is refused before any request.
    run_berth ! image pull "$REGISTRY/lib/busybox@sha256:1234"
    assert_match "$output" "digest|reference" "error" -i
    assert_image_count 1
}

# ---------------------------------------------------------------------------------------------
# 5. Wrong bytes

@test "a registry serving a layer with a wrong digest: the pull fails and stores nothing of it" {
    local l1 chain1
    l1=$(test_image_field busybox '.layers[0]')
    chain1=$(test_image_field busybox '.chain_ids[0]')
    badregistry_start bad-digest "$TEST_IMAGES/busybox" --bad-blob "$l1"

    run_berth -1 image pull "$BADREG/lib/busybox:latest"
    assert_contains "$output" "digest mismatch"
    assert_contains "$output" "$l1"
    assert_no_image
    assert_file_absent "$IMAGES/blobs/sha256/$(hex "$l1")"
    assert_file_absent "$IMAGES/ingest/$(hex "$l1").partial"
    assert_file_absent "$IMAGES/layers/$(hex "$chain1")"
    assert_blobs_verify
    assert_image_count 0

    # Every layer bad (the default): same story.
    badregistry_stop
    badregistry_start bad-digest "$TEST_IMAGES/busybox"
    run_berth -1 image pull "$BADREG/lib/busybox:latest"
    assert_contains "$output" "digest mismatch"
    assert_no_image
    assert_file_absent "$IMAGES/layers/$(hex "$chain1")"
    assert_blobs_verify

    # A good registry afterwards gets a complete image.
    badregistry_stop
    badregistry_start ok "$TEST_IMAGES/busybox"
    run_berth image pull "$BADREG/lib/busybox:latest"
    assert_image_complete "$BADREG/lib/busybox:latest"
}

# ---------------------------------------------------------------------------------------------
# 6. Interrupted and flaky downloads

@test "a pull whose daemon is killed mid-download resumes with a Range request" {
    local l1 partial size pid rc
    l1=$(test_image_field busybox '.layers[0]')
    partial="$IMAGES/ingest/$(hex "$l1").partial"
    badregistry_start slow "$TEST_IMAGES/busybox" --rate 100000
    start_daemon
    # The CLI in the background; its status goes to a file (bats' errexit is on in here).
    (
        rc=0
        timeout -k 5 60 "$BERTH" image pull "$BADREG/lib/busybox:latest" \
            >"$TEST_DIR/pull1.out" 2>&1 </dev/null || rc=$?
        echo "$rc" >"$TEST_DIR/pull1.rc"
    ) 3>&- &
    pid=$!
    wait_for "[ \$(stat -c %s '$partial' 2>/dev/null || echo 0) -gt 150000 ]" 30
    kill -KILL "$DAEMON_PID"
    wait "$pid" || true
    rc=$(cat "$TEST_DIR/pull1.rc")
    cat "$TEST_DIR/pull1.out"
    [ "$rc" -ne 0 ] || { echo "the interrupted pull exited 0"; return 1; }
    assert_contains "$(cat "$TEST_DIR/pull1.out")" "daemon"
    size=$(stat -c %s "$partial")
    [ "$size" -lt "$(test_image_field busybox '.layer_sizes[0]')" ]
    assert_no_image
    assert_file_absent "$IMAGES/blobs/sha256/$(hex "$l1")"

    # From a fast registry now: the next daemon goes on from the partial file.
    badregistry_stop
    badregistry_start ok "$TEST_IMAGES/busybox"
    run_berth --progress plain image pull "$BADREG/lib/busybox:latest"
    assert_contains "$output" "$(hex "$l1" | cut -c1-12): Resuming"
    assert_contains "$output" "Digest: $(test_image_field busybox .manifest)"
    # The registry was asked only for the rest, once.
    assert_equal "GET 206 bytes=$size-" "$(badreg_requests "/blobs/$l1")" "requests for layer 1"
    assert_file_absent "$partial"
    assert_equal "" "$(ls -A "$IMAGES/ingest")" "ingest/"
    assert_image_complete "$BADREG/lib/busybox:latest"
    assert_image_count 1
    run_berth image ls
    assert_equal 1 "$(grep -c "^$BADREG/lib/busybox " <<<"$output")" "lines for the image"
}

@test "a blob answering 500, then dropping mid-body, then serving: retried transparently" {
    local l1
    l1=$(test_image_field busybox '.layers[0]')
    badregistry_start fail-then-ok "$TEST_IMAGES/busybox" --count 2 --fail-how mixed
    run_berth --progress plain image pull "$BADREG/lib/busybox:latest"
    assert_contains "$output" "Digest: $(test_image_field busybox .manifest)"
    badreg_requests "/blobs/$l1"
    # 500, then a 200 cut in half, then the rest by Range.
    assert_equal "GET 500 null" "$(badreg_requests "/blobs/$l1" | sed -n 1p)" "1st request"
    assert_equal "GET 200 null" "$(badreg_requests "/blobs/$l1" | sed -n 2p)" "2nd request"
    assert_match "$(badreg_requests "/blobs/$l1" | sed -n 3p)" "^GET 206 bytes=[1-9][0-9]*-$" \
        "3rd request"
    assert_image_complete "$BADREG/lib/busybox:latest"
    assert_equal "" "$(ls -A "$IMAGES/ingest")" "ingest/"
}

# ---------------------------------------------------------------------------------------------
# 7. Auth and TLS

@test "TLS + htpasswd: certs-dir CA, login wrong and right, config.json, pull, logout" {
    local wrongca
    registry_start --tls --auth
    registry_push "$TEST_IMAGES/busybox" "$REGISTRY/lib/busybox:1"

    # No certs.d entry: loopback means plain HTTP; the registry answers that it speaks TLS, so
    # berth switches to HTTPS without checking the certificate (as Docker does for loopback),
    # and gets as far as the registry's demand for credentials.
    run_berth -1 image pull "$REGISTRY/lib/busybox:1"
    assert_match "$output" "authentication required|unauthorized" "error" -i
    assert_no_image

    # A certs.d entry with another CA: HTTPS, and the certificate does not verify.
    wrongca="$TEST_DIR/wrong-ca"
    registry_make_certs "$wrongca/certs"
    mkdir -p "$wrongca/certs.d/$REGISTRY"
    cp "$wrongca/certs/ca.crt" "$wrongca/certs.d/$REGISTRY/ca.crt"
    use_daemon_config "{\"certs-dir\": \"$wrongca/certs.d\"}"
    run_berth -1 image pull "$REGISTRY/lib/busybox:1"
    assert_match "$output" "certificate|SSL|TLS" "error" -i
    assert_no_image

    # The right CA: now the registry wants credentials.
    use_daemon_config "{\"certs-dir\": \"$REGISTRY_CERTS_D\"}"
    run_berth -1 image pull "$REGISTRY/lib/busybox:1"
    assert_match "$output" "authentication required|unauthorized" "error" -i
    assert_contains "$output" "$REGISTRY"
    assert_no_image

    # A wrong password: refused, nothing written.
    echo "not-$REGISTRY_PASS" >"$TEST_DIR/wrong-pw"
    run_berth_stdin -1 "$TEST_DIR/wrong-pw" login -u "$REGISTRY_USER" --password-stdin "$REGISTRY"
    assert_match "$output" "unauthorized|incorrect username or password" "error" -i
    assert_not_contains "$output" "Login Succeeded"
    assert_not_contains "$output" "not-$REGISTRY_PASS" "error (must not show the password)"
    assert_file_absent "$DOCKER_CONFIG/config.json"

    # The right one.
    echo "$REGISTRY_PASS" >"$TEST_DIR/pw"
    run_berth_stdin "$TEST_DIR/pw" login -u "$REGISTRY_USER" --password-stdin "$REGISTRY"
    assert_contains "$output" "Login Succeeded"
    assert_file_exists "$DOCKER_CONFIG/config.json"
    assert_mode "$DOCKER_CONFIG/config.json" 600
    assert_equal "$REGISTRY_USER:$REGISTRY_PASS" \
        "$(jq -r --arg h "$REGISTRY" '.auths[$h].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" \
        "auths entry"

    run_berth --progress plain image pull "$REGISTRY/lib/busybox:1"
    assert_contains "$output" "Digest: $(test_image_field busybox .manifest)"
    assert_image_complete "$REGISTRY/lib/busybox:1"

    run_berth logout "$REGISTRY"
    assert_contains "$output" "Removing login credentials for $REGISTRY"
    assert_equal "null" "$(jq -c --arg h "$REGISTRY" '.auths[$h]' "$DOCKER_CONFIG/config.json")" \
        "auths entry after logout"
    run_berth logout "$REGISTRY"
    assert_contains "$output" "Not logged in to $REGISTRY"
    # Logged out: the registry refuses again (the image stays).
    run_berth -1 image pull "$REGISTRY/lib/busybox:1"
    assert_match "$output" "authentication required|unauthorized" "error" -i
}

@test "bearer tokens: 401 without login; with login a token from the realm is used" {
    badregistry_start auth-bearer "$TEST_IMAGES/busybox"
    run_berth -1 image pull "$BADREG/lib/busybox:latest"
    assert_match "$output" "authentication required|unauthorized|access denied" "error" -i
    assert_no_image

    echo "$BADREG_PASS" >"$TEST_DIR/pw"
    run_berth_stdin "$TEST_DIR/pw" login -u "$BADREG_USER" --password-stdin "$BADREG"
    assert_contains "$output" "Login Succeeded"
    : >"$BADREG_LOG"
    run_berth --progress plain image pull "$BADREG/lib/busybox:latest"
    assert_contains "$output" "Digest: $(test_image_field busybox .manifest)"
    assert_image_complete "$BADREG/lib/busybox:latest"
    # The token came from /token with basic credentials for this repository's scope, and every
    # manifest and blob request that succeeded carried it.
    assert_match "$(badreg_requests '^/token')" "^GET 200 " "token request"
    assert_match "$(jq -r 'select(.path | startswith("/token")) | .path' "$BADREG_LOG")" \
        'scope=repository(%3A|:)lib(%2F|/)busybox(%3A|:)pull' "token request" -i
    assert_equal "bearer" \
        "$(jq -r 'select(.status == 200 and (.path | test("/(manifests|blobs)/"))) | .auth' \
            "$BADREG_LOG" | sort -u)" "auth scheme of the served requests"
    assert_equal "basic" "$(jq -r 'select(.path | startswith("/token")) | .auth' "$BADREG_LOG" | sort -u)" \
        "auth scheme at the token endpoint"
}

# ---------------------------------------------------------------------------------------------
# 8. Errors

@test "an unknown tag names the tag; 429 is retried, then reported as too many requests" {
    registry_start
    registry_push "$TEST_IMAGES/busybox" "$REGISTRY/lib/busybox:1"
    run_berth -1 image pull "$REGISTRY/lib/busybox:nosuchtag"
    assert_contains "$output" "manifest unknown"
    assert_contains "$output" "nosuchtag"
    assert_no_image

    # A few 429s: waited out (Retry-After: 1), the pull succeeds.
    badregistry_start ratelimit "$TEST_IMAGES/busybox" --count 1
    run_berth image pull "$BADREG/lib/busybox:latest"
    assert_image_complete "$BADREG/lib/busybox:latest"
    assert_equal "GET 429 null
GET 200 null" "$(badreg_requests '/manifests/latest$')" "manifest requests"

    # Always 429: a clear error after the retries.
    fresh_root root-429
    badregistry_start ratelimit "$TEST_IMAGES/busybox" --count -1
    run_berth -1 image pull "$BADREG/lib/busybox:latest"
    assert_match "$output" "too many requests" "error" -i
    assert_contains "$output" "$BADREG"
    local n
    n=$(badreg_requests '/manifests/latest$' | grep -c '^GET 429')
    [ "$n" -gt 1 ] || { echo "expected retries, got $n manifest requests"; return 1; }
    assert_no_image
}

# ---------------------------------------------------------------------------------------------
# 9. Push

@test "push, pull back by digest in a fresh root; blobs already there; auth registry" {
    local manifest config
    manifest=$(test_image_field busybox .manifest)
    config=$(test_image_field busybox .config)
    registry_start --var SRC
    registry_push "$TEST_IMAGES/busybox" "$SRC/lib/busybox:1"
    registry_start --var DST
    run_berth image pull "$SRC/lib/busybox:1"

    run_berth image tag "$SRC/lib/busybox:1" "$DST/team/copy:2"
    run_berth --progress plain image push "$DST/team/copy:2"
    assert_contains "$output" "Pushed"
    assert_contains "$output" "digest: $manifest size: $(test_image_field busybox .manifest_size)"
    assert_equal "$manifest" "$(registry_digest "$DST/team/copy:2")" "digest the registry serves"

    # Again: the registry has every blob.
    run_berth --progress plain image push "$DST/team/copy:2"
    assert_equal 3 "$(grep -c ': Layer already exists *$' <<<"$output")" "blobs already there"
    assert_not_contains "$output" "Pushed"
    assert_contains "$output" "digest: $manifest"

    fresh_root root-back
    run_berth --progress plain image pull "$DST/team/copy@$manifest"
    assert_contains "$output" "Digest: $manifest"
    run_berth image inspect "$DST/team/copy@$manifest"
    assert_equal "$config" "$(jq -r '.[0].Id' <<<"$output")" "Id pulled back"
    assert_image_complete "$DST/team/copy@$manifest"

    # An auth registry: refused without login, accepted after.
    registry_start --auth --var SEC
    run_berth image tag "$DST/team/copy@$manifest" "$SEC/team/secure:3"
    run_berth -1 image push "$SEC/team/secure:3"
    assert_match "$output" "authentication required|unauthorized" "error" -i
    assert_contains "$output" "$SEC"
    run_berth -1 image pull "$SEC/team/secure:3"
    echo "$SEC_PASS" >"$TEST_DIR/pw"
    run_berth_stdin "$TEST_DIR/pw" login -u "$SEC_USER" --password-stdin "$SEC"
    run_berth --progress plain image push "$SEC/team/secure:3"
    assert_contains "$output" "digest: $manifest"
    assert_equal "$manifest" "$(registry_digest "$SEC/team/secure:3")" "digest the auth registry serves"
    run_berth logout "$SEC"
}

@test "credential helpers: login stores in the helper, pull takes credentials from it, logout erases" {
    registry_start --auth
    registry_push "$TEST_IMAGES/busybox" "$REGISTRY/lib/busybox:1"
    # A helper of our own: keeps each server's JSON in a file, answers as Docker's helpers do.
    mkdir -p "$TEST_DIR/bin" "$TEST_DIR/store"
    cat >"$TEST_DIR/bin/docker-credential-bttest" <<SH
#!/bin/sh
set -e
store="$TEST_DIR/store"
case "\$1" in
store) cat >"\$store/entry.json" ;;
get) read -r server || true; f="\$store/entry.json"
     if [ -f "\$f" ] && grep -q "\"ServerURL\":\"\$server\"" "\$f"; then cat "\$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) read -r server || true; if [ -f "\$store/entry.json" ]; then rm "\$store/entry.json"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
SH
    chmod +x "$TEST_DIR/bin/docker-credential-bttest"
    mkdir -p "$DOCKER_CONFIG"
    echo '{"credsStore": "bttest"}' >"$DOCKER_CONFIG/config.json"
    export PATH="$TEST_DIR/bin:$PATH"

    echo "$REGISTRY_PASS" >"$TEST_DIR/pw"
    run_berth_stdin "$TEST_DIR/pw" login -u "$REGISTRY_USER" --password-stdin "$REGISTRY"
    assert_contains "$output" "Login Succeeded"
    assert_equal "$REGISTRY_USER" "$(jq -r .Username "$TEST_DIR/store/entry.json")" "helper's user"
    assert_equal "$REGISTRY" "$(jq -r .ServerURL "$TEST_DIR/store/entry.json")" "helper's server"
    # The secret went to the helper, not into config.json.
    run jq -e '.auths // {} | length == 0' "$DOCKER_CONFIG/config.json"
    [ "$status" -eq 0 ] || { echo "config.json got credentials: $(cat "$DOCKER_CONFIG/config.json")"; return 1; }

    run_berth image pull "$REGISTRY/lib/busybox:1"
    run_berth image rm "$REGISTRY/lib/busybox:1"

    run_berth logout "$REGISTRY"
    assert_contains "$output" "Removing login credentials"
    assert_file_absent "$TEST_DIR/store/entry.json"
    run_berth -1 image pull "$REGISTRY/lib/busybox:1"
    assert_match "$output" "authentication required|unauthorized" "error" -i
}
