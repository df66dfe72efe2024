#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The image tests' own tools: the images test/images builds are valid and reproducible, the
# registries helpers-registry.bash starts behave as the image tests expect (plain, TLS + auth),
# and badregistry.py misbehaves as asked. Checked with skopeo, curl, sha256sum and python,
# not with berth, so a failure here points at the tools, not at berth's image code.

load helpers
load helpers-registry

setup() {
    berth_setup
    test_images
}

teardown() {
    registry_teardown
    berth_teardown
}

mkimage() {
    "$PYTHON" "$REGISTRY_IMAGES_SRC/mkimage.py" "$@"
}

checklayout() {
    "$PYTHON" "$REGISTRY_IMAGES_SRC/checklayout.py" "$@"
}

sha256_of() {
    echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

@test "every standard image validates: blob hashes, descriptor sizes, diff_ids" {
    local x
    for x in busybox busybox-zstd busybox-docker multi busybox.oci.tar multi.oci.tar \
        busybox.docker.tar; do
        run checklayout "$TEST_IMAGES/$x"
        echo "$output"
        [ "$status" -eq 0 ] || { echo "checklayout $x failed"; return 1; }
    done
    # The digests build.sh printed are the ones in the layouts.
    for x in busybox busybox-zstd busybox-docker multi; do
        assert_equal "$(test_image_field "$x" .manifest)" \
            "$(jq -r '.manifests[0].digest' "$TEST_IMAGES/$x/index.json")" "$x manifest digest"
        assert_equal latest \
            "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' \
                "$TEST_IMAGES/$x/index.json")" "$x tag"
    done
    # busybox: two layers, the second with a whiteout and an opaque directory; a hard link in
    # the first; same config (image id) whatever the compression or media types.
    local l1 l2 id
    l1="$TEST_IMAGES/busybox/blobs/sha256/$(test_image_field busybox '.layers[0][7:]')"
    l2="$TEST_IMAGES/busybox/blobs/sha256/$(test_image_field busybox '.layers[1][7:]')"
    run tar -tvzf "$l2"
    assert_contains "$output" "usr/share/berth-test/.wh.doomed"
    assert_contains "$output" "var/cache/old/.wh..wh..opq"
    assert_contains "$output" "etc/motd"
    run tar -tvzf "$l1"
    assert_match "$output" '^h.* usr/share/berth-test/hello.link link to usr/share/berth-test/hello$'
    assert_match "$output" '^-rwxr-xr-x 0/0 .* 1970-01-01 00:00 bin/busybox$'
    id=$(test_image_field busybox .config)
    assert_equal "$id" "$(test_image_field busybox-zstd .config)" "zstd image id"
    assert_equal "$id" "$(test_image_field busybox-docker .config)" "docker image id"
    assert_equal "$(test_image_field busybox '.chain_ids | length')" 2 "chain ids"
}

@test "zstd layers have the tar+zstd media type and zstd bytes; docker ones schema 2 types" {
    local man l
    man="$TEST_IMAGES/busybox-zstd/blobs/sha256/$(test_image_field busybox-zstd '.manifest[7:]')"
    assert_equal "application/vnd.oci.image.layer.v1.tar+zstd" \
        "$(jq -r '.layers | map(.mediaType) | unique | .[]' "$man")" "zstd layer media types"
    l="$TEST_IMAGES/busybox-zstd/blobs/sha256/$(jq -r '.layers[0].digest[7:]' "$man")"
    assert_equal "28b52ffd" "$(head -c4 "$l" | od -An -tx1 | tr -d ' \n')" "zstd magic"
    assert_equal "$(test_image_field busybox-zstd '.diff_ids[0]')" \
        "sha256:$(zstd -q -d -c "$l" | sha256sum | cut -d' ' -f1)" "diff_id of zstd layer"

    man="$TEST_IMAGES/busybox-docker/blobs/sha256/$(test_image_field busybox-docker '.manifest[7:]')"
    assert_equal application/vnd.docker.distribution.manifest.v2+json "$(jq -r .mediaType "$man")"
    assert_equal application/vnd.docker.container.image.v1+json "$(jq -r .config.mediaType "$man")"
    assert_equal application/vnd.docker.image.rootfs.diff.tar.gzip \
        "$(jq -r '.layers | map(.mediaType) | unique | .[]' "$man")"
    # Docker schema 2 has no zstd layers: mkimage refuses rather than invent a type.
    run mkimage image --layer "$TEST_DIR" --manifest-format docker --compression zstd \
        -o "$TEST_DIR/x"
    [ "$status" -ne 0 ]
    assert_contains "$output" "zstd"
}

@test "multi is an index of three platforms, each with its /platform marker" {
    local idx n i digest man last plat
    idx="$TEST_IMAGES/multi/blobs/sha256/$(test_image_field multi '.manifest[7:]')"
    assert_equal application/vnd.oci.image.index.v1+json "$(jq -r .mediaType "$idx")"
    n=$(jq '.manifests | length' "$idx")
    assert_equal 3 "$n" "platforms in the index"
    run jq -r '.manifests[].platform | [.os, .architecture, .variant // empty] | join("/")' "$idx"
    assert_contains "$output" "linux/arm64/v8"
    assert_contains "$output" "linux/arm/v7"
    assert_contains "$output" "linux/amd64"
    for ((i = 0; i < n; i++)); do
        plat=$(jq -r ".manifests[$i].platform | [.os, .architecture, .variant // empty] | join(\"/\")" "$idx")
        digest=$(jq -r ".manifests[$i].digest[7:]" "$idx")
        man="$TEST_IMAGES/multi/blobs/sha256/$digest"
        last="$TEST_IMAGES/multi/blobs/sha256/$(jq -r '.layers[-1].digest[7:]' "$man")"
        assert_equal "$plat" "$(tar -xzOf "$last" platform)" "marker of $plat"
        # The config says the same platform as the index.
        assert_equal "$(jq -r ".manifests[$i].platform.architecture" "$idx")" \
            "$(jq -r .architecture "$TEST_IMAGES/multi/blobs/sha256/$(jq -r '.config.digest[7:]' "$man")")"
    done
}

@test "the docker save tar has the legacy layout skopeo reads, with mkimage's image id" {
    local tar=$TEST_IMAGES/busybox.docker.tar id
    id=$(test_image_field busybox.docker.tar .config)
    run tar -xOf "$tar" manifest.json
    assert_equal "${id#sha256:}.json" "$(jq -r '.[0].Config' <<<"$output")" "Config"
    assert_equal '["busybox:latest"]' "$(jq -c '.[0].RepoTags' <<<"$output")" "RepoTags"
    assert_equal 2 "$(jq '.[0].Layers | length' <<<"$output")" "layers"
    assert_match "$(jq -r '.[0].Layers[]' <<<"$output")" '^[0-9a-f]{64}/layer.tar$'
    run tar -xOf "$tar" repositories
    assert_equal busybox "$(jq -r 'keys[0]' <<<"$output")"
    run skopeo --insecure-policy inspect --config "docker-archive:$tar"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    assert_equal "$(test_image_field busybox '.diff_ids | join(",")')" \
        "$(jq -r '.rootfs.diff_ids | join(",")' <<<"$output")" "diff_ids seen by skopeo"
}

@test "two builds from the same inputs are byte-identical; input mtimes do not matter" {
    local a="$TEST_DIR/a" b="$TEST_DIR/b" x
    "$REGISTRY_IMAGES_SRC/build.sh" "$a" >/dev/null
    # The second build makes its layer trees anew, with other mtimes: they must not show.
    "$REGISTRY_IMAGES_SRC/build.sh" "$b" >/dev/null
    cmp "$a/digests.json" "$b/digests.json"
    cmp "$a/digests.json" "$TEST_IMAGES/digests.json"
    for x in busybox.docker.tar busybox.oci.tar multi.oci.tar; do
        cmp "$a/$x" "$b/$x"
    done
    # A second run is served from the cache: the layouts are not rewritten.
    local before after start
    before=$(stat -c %i "$a/busybox")
    start=${EPOCHREALTIME/./}
    "$REGISTRY_IMAGES_SRC/build.sh" "$a" >/dev/null
    after=$(stat -c %i "$a/busybox")
    assert_equal "$before" "$after" "inode of the cached layout"
    (( ${EPOCHREALTIME/./} - start < 1000000 )) || { echo "cached build.sh took over 1 s"; return 1; }

    # mkimage on a directory whose files changed times only: same digests.
    mkdir -p "$TEST_DIR/l/etc"
    echo hi >"$TEST_DIR/l/etc/hi"
    chmod 0644 "$TEST_DIR/l/etc/hi"
    chmod 0755 "$TEST_DIR/l/etc"
    run mkimage image --layer "$TEST_DIR/l" -o "$TEST_DIR/o1"
    local d1=$output
    touch -d '2010-01-01' "$TEST_DIR/l/etc/hi" "$TEST_DIR/l/etc"
    run mkimage image --layer "$TEST_DIR/l" -o "$TEST_DIR/o2"
    assert_equal "$(jq -r .manifest <<<"$d1")" "$(jq -r .manifest <<<"$output")" "manifest digest"
    SOURCE_DATE_EPOCH=86400 run mkimage image --layer "$TEST_DIR/l" -o "$TEST_DIR/o3"
    [ "$(jq -r .manifest <<<"$d1")" != "$(jq -r .manifest <<<"$output")" ] ||
        { echo "SOURCE_DATE_EPOCH did not change the digest"; return 1; }
}

@test "mkimage: config fields, tar layers taken byte for byte, mixed compression" {
    mkdir -p "$TEST_DIR/l"
    echo x >"$TEST_DIR/l/x"
    # A crafted tar (a '..' entry) is kept as it is: negative tests rely on it.
    "$PYTHON" - "$TEST_DIR/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tf:
    ti = tarfile.TarInfo("../escape")
    ti.size = 3
    tf.addfile(ti, io.BytesIO(b"bad"))
EOF
    run mkimage image --layer "$TEST_DIR/l" --layer "$TEST_DIR/evil.tar" \
        --compression gzip,none --platform linux/arm64/v8 \
        --cmd 'echo hi' --entrypoint '["/bin/tini","--"]' --env A=1 --env B=2 --workdir /srv \
        --user 65534:65534 --expose 80 --expose 53/udp --volume /data --label a=b \
        --stop-signal SIGINT --healthcheck '{"Test":["CMD","true"],"Interval":1000000000}' \
        --annotation org.example=1 --tag v1 -o "$TEST_DIR/img"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    local out=$output cfg man
    assert_equal "sha256:$(sha256sum <"$TEST_DIR/evil.tar" | cut -d' ' -f1)" \
        "$(jq -r '.diff_ids[1]' <<<"$out")" "diff_id of the verbatim tar"
    cfg="$TEST_DIR/img/blobs/sha256/$(jq -r '.config[7:]' <<<"$out")"
    man="$TEST_DIR/img/blobs/sha256/$(jq -r '.manifest[7:]' <<<"$out")"
    assert_equal '["/bin/sh","-c","echo hi"]' "$(jq -c .config.Cmd "$cfg")" Cmd
    assert_equal '["/bin/tini","--"]' "$(jq -c .config.Entrypoint "$cfg")" Entrypoint
    assert_equal '["A=1","B=2"]' "$(jq -c .config.Env "$cfg")" Env
    assert_equal /srv "$(jq -r .config.WorkingDir "$cfg")" WorkingDir
    assert_equal 65534:65534 "$(jq -r .config.User "$cfg")" User
    assert_equal '{"53/udp":{},"80/tcp":{}}' "$(jq -cS .config.ExposedPorts "$cfg")" ExposedPorts
    assert_equal '{"/data":{}}' "$(jq -c .config.Volumes "$cfg")" Volumes
    assert_equal '{"a":"b"}' "$(jq -c .config.Labels "$cfg")" Labels
    assert_equal SIGINT "$(jq -r .config.StopSignal "$cfg")" StopSignal
    assert_equal '["CMD","true"]' "$(jq -c .config.Healthcheck.Test "$cfg")" Healthcheck
    assert_equal arm64/v8 "$(jq -r '.architecture + "/" + .variant' "$cfg")" platform
    assert_equal '"1"' "$(jq -c '.annotations["org.example"]' "$man")" annotation
    assert_equal "application/vnd.oci.image.layer.v1.tar+gzip application/vnd.oci.image.layer.v1.tar" \
        "$(jq -r '[.layers[].mediaType] | join(" ")' "$man")" "layer media types"
    assert_equal v1 "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' \
        "$TEST_DIR/img/index.json")" tag
    checklayout "$TEST_DIR/img" >/dev/null
}

@test "a plain registry accepts pushes and serves back mkimage's manifest digests" {
    registry_start
    local x got want
    for x in busybox busybox-zstd busybox-docker multi; do
        registry_push "$TEST_IMAGES/$x" "lib/$x:1"
        got=$(registry_digest "lib/$x:1")
        want=$(test_image_field "$x" .manifest)
        assert_equal "$want" "$got" "digest of lib/$x:1 in the registry"
    done
    # The index's platform manifests are there by digest too; blobs answer with their digest.
    for x in $(test_image_field multi '.manifests[].manifest'); do
        assert_equal "$x" "$(registry_digest "lib/multi@$x")" "platform manifest"
    done
    x=$(test_image_field busybox '.layers[0]')
    registry_curl "$REGISTRY" "/v2/lib/busybox/blobs/$x" -f -o "$TEST_DIR/blob"
    assert_equal "$x" "$(sha256_of "$TEST_DIR/blob")" "layer blob from the registry"
    # From the OCI archive too, and skopeo reads the image back.
    registry_push "$TEST_IMAGES/busybox.oci.tar" "lib/fromarchive:2"
    assert_equal "$(test_image_field busybox .manifest)" "$(registry_digest lib/fromarchive:2)"
    # A docker save tar: skopeo writes its own manifest, but the config (image id) stays.
    registry_push "$TEST_IMAGES/busybox.docker.tar" "lib/fromdocker:3"
    registry_manifest lib/fromdocker:3 >"$TEST_DIR/m"
    assert_equal "$(test_image_field busybox .config)" "$(jq -r .config.digest "$TEST_DIR/m")" \
        "config of the image pushed from the docker save tar"
    run skopeo inspect --tls-verify=false "docker://$REGISTRY/lib/busybox-zstd:1"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    assert_equal "$(test_image_field busybox-zstd '.layers | join(",")')" \
        "$(jq -r '.Layers | join(",")' <<<"$output")" "layers seen by skopeo"
    # Unknown tags are 404.
    run registry_curl "$REGISTRY" /v2/lib/busybox/manifests/nosuchtag -o /dev/null -w '%{http_code}'
    assert_equal 404 "$output"
    # The registry listens on 127.0.0.1 only, on its own port.
    assert_match "$REGISTRY" '^127\.0\.0\.1:[0-9]+$'
    registry_stop
    pid_gone "$REGISTRY_PID"
    run curl -s -o /dev/null --max-time 2 "$REGISTRY_URL/v2/"
    [ "$status" -ne 0 ]
}

@test "a TLS registry with auth refuses without credentials and accepts with them" {
    registry_start --tls --auth
    assert_match "$REGISTRY_URL" '^https://127\.0\.0\.1:[0-9]+$'
    [ -n "$REGISTRY_USER" ] && [ -n "$REGISTRY_PASS" ] && [ -f "$REGISTRY_CA" ]
    assert_file_exists "$REGISTRY_CERTS_D/$REGISTRY/ca.crt"
    # No CA: the certificate is not trusted.
    run curl -sS -o /dev/null "$REGISTRY_URL/v2/"
    [ "$status" -ne 0 ] || { echo "curl trusted the test CA without --cacert"; return 1; }
    # CA, no credentials: 401 with a Basic challenge.
    run registry_curl --anon "$REGISTRY" /v2/ -o /dev/null -D - -w '%{http_code}\n'
    assert_contains "$output" 401
    assert_match "$output" 'WWW-Authenticate: Basic realm="berth-test"' "headers" -i
    # Wrong password: 401.
    run curl -sS --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:wrong" -o /dev/null \
        -w '%{http_code}' "$REGISTRY_URL/v2/"
    assert_equal 401 "$output"
    # Right ones: 200.
    run registry_curl "$REGISTRY" /v2/ -o /dev/null -w '%{http_code}'
    assert_equal 200 "$output"
    # skopeo without credentials is refused; with them it pushes and the digest holds.
    run skopeo --insecure-policy copy --retry-times 0 --dest-cert-dir "$REGISTRY_CERT_DIR" \
        "oci:$TEST_IMAGES/busybox" "docker://$REGISTRY/lib/busybox:1"
    [ "$status" -ne 0 ] || { echo "push without credentials succeeded"; return 1; }
    registry_push "$TEST_IMAGES/busybox" lib/busybox:1
    assert_equal "$(test_image_field busybox .manifest)" "$(registry_digest lib/busybox:1)"
}

@test "two registries at once (plain with auth, TLS without), addressed by host:port" {
    registry_start --auth --var PLAIN
    registry_start --tls --var SECURE
    [ "$PLAIN" != "$SECURE" ]
    [ "$PLAIN_PID" != "$SECURE_PID" ]
    registry_push "$TEST_IMAGES/busybox" "$PLAIN/a/b:1"
    registry_push "$TEST_IMAGES/multi" "$SECURE/c/d:2"
    assert_equal "$(test_image_field busybox .manifest)" "$(registry_digest "$PLAIN/a/b:1")"
    assert_equal "$(test_image_field multi .manifest)" "$(registry_digest "$SECURE/c/d:2")"
    run registry_curl "$PLAIN" /v2/c/d/manifests/2 -o /dev/null -w '%{http_code}'
    assert_equal 404 "$output" "the plain registry does not have the other's image"
    registry_stop "$PLAIN_PID"
    pid_alive "$SECURE_PID"
    # teardown stops SECURE.
}

@test "badregistry: ok serves the layout; bad-digest serves wrong bytes of the right size" {
    local l size
    l=$(test_image_field busybox '.layers[0]')
    size=$(stat -c %s "$TEST_IMAGES/busybox/blobs/sha256/${l#sha256:}")
    badregistry_start ok "$TEST_IMAGES/busybox"
    assert_match "$BADREG" '^127\.0\.0\.1:[0-9]+$'
    assert_equal "$(test_image_field busybox .manifest)" "$(registry_digest "$BADREG/any/name:latest")"
    curl -sSf -o "$TEST_DIR/good" "$BADREG_URL/v2/any/name/blobs/$l"
    assert_equal "$l" "$(sha256_of "$TEST_DIR/good")" "blob in ok mode"
    # skopeo pulls the whole image from it.
    run skopeo --insecure-policy copy --src-tls-verify=false "docker://$BADREG/x/y:latest" \
        "oci:$TEST_DIR/pulled:latest"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    badregistry_stop

    badregistry_start bad-digest "$TEST_IMAGES/busybox"
    curl -sSf -o "$TEST_DIR/bad" "$BADREG_URL/v2/any/name/blobs/$l"
    assert_equal "$size" "$(stat -c %s "$TEST_DIR/bad")" "size of the bad blob"
    [ "$(sha256_of "$TEST_DIR/bad")" != "$l" ] || { echo "bad-digest served good bytes"; return 1; }
    # The manifest and config are still right: only layers are spoiled.
    assert_equal "$(test_image_field busybox .manifest)" "$(registry_digest "$BADREG/any/name:latest")"
    local c
    c=$(test_image_field busybox .config)
    curl -sSf -o "$TEST_DIR/cfg" "$BADREG_URL/v2/any/name/blobs/$c"
    assert_equal "$c" "$(sha256_of "$TEST_DIR/cfg")" "config in bad-digest mode"
    run skopeo --insecure-policy copy --src-tls-verify=false "docker://$BADREG/x/y:latest" \
        "oci:$TEST_DIR/pulled2:latest"
    [ "$status" -ne 0 ] || { echo "skopeo accepted a corrupted layer"; return 1; }
    assert_match "$output" 'digest' "skopeo's complaint" -i
}

@test "badregistry: fail-then-ok fails, drops mid-body, then serves; Range gives 206" {
    local l size code
    l=$(test_image_field busybox '.layers[0]')
    size=$(stat -c %s "$TEST_IMAGES/busybox/blobs/sha256/${l#sha256:}")
    badregistry_start fail-then-ok "$TEST_IMAGES/busybox" --count 2
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BADREG_URL/v2/r/blobs/$l")
    assert_equal 500 "$code" "first request"
    run curl -sS -o "$TEST_DIR/part" "$BADREG_URL/v2/r/blobs/$l"
    [ "$status" -ne 0 ] || { echo "the dropped transfer looked complete"; return 1; }
    local got
    got=$(stat -c %s "$TEST_DIR/part")
    ((got > 0 && got < size)) || { echo "partial body of $got bytes (blob $size)"; return 1; }
    # Resume: the rest with a Range request.
    code=$(curl -sS -o "$TEST_DIR/rest" -w '%{http_code}' -H "Range: bytes=$got-" \
        "$BADREG_URL/v2/r/blobs/$l")
    assert_equal 206 "$code" "Range request"
    cat "$TEST_DIR/part" "$TEST_DIR/rest" >"$TEST_DIR/whole"
    assert_equal "$l" "$(sha256_of "$TEST_DIR/whole")" "resumed blob"
    # The request log tells what happened.
    assert_equal "500 200 206" "$(jq -r .status "$BADREG_LOG" | grep -v '^$' | tail -3 | xargs)"
    assert_equal true "$(jq -r 'select(.status == 200) | .dropped' "$BADREG_LOG" | head -1)"
    assert_equal "bytes=$got-" "$(jq -r 'select(.status == 206) | .range' "$BADREG_LOG")"
    run curl -s -o /dev/null -w '%{http_code}' -H "Range: bytes=$size-" "$BADREG_URL/v2/r/blobs/$l"
    assert_equal 416 "$output" "range past the end"
}

@test "badregistry: ratelimit answers 429, slow sends at the asked rate" {
    local l
    l=$(test_image_field busybox '.layers[1]')
    badregistry_start ratelimit "$TEST_IMAGES/busybox" --count 1
    run curl -s -D - -o /dev/null "$BADREG_URL/v2/r/manifests/latest"
    assert_contains "$output" " 429 "
    assert_match "$output" '^Retry-After: 1' "headers" -i
    run curl -s -o /dev/null -w '%{http_code}' "$BADREG_URL/v2/r/manifests/latest"
    assert_equal 200 "$output" "second manifest request"
    badregistry_stop

    # 300 KiB at 200 KiB/s: between 1 and 4 s.
    l=$(test_image_field busybox '.layers[0]')
    badregistry_start slow "$TEST_IMAGES/busybox" --rate 204800
    local t
    t=$(curl -sS -o "$TEST_DIR/slow" -r 0-307199 -w '%{time_total}' "$BADREG_URL/v2/r/blobs/$l")
    assert_equal 307200 "$(stat -c %s "$TEST_DIR/slow")" "bytes received"
    "$PYTHON" -c "import sys; t = float(sys.argv[1]); sys.exit(0 if 1.0 <= t <= 4.0 else 1)" "$t" ||
        { echo "300 KiB at 200 KiB/s took $t s"; return 1; }
}

@test "badregistry: auth-bearer challenges, issues a token for the scope, then serves" {
    badregistry_start auth-bearer "$TEST_IMAGES/busybox"
    run curl -s -D - -o /dev/null "$BADREG_URL/v2/lib/app/manifests/latest"
    assert_contains "$output" " 401 "
    assert_contains "$output" "WWW-Authenticate: Bearer realm=\"$BADREG_URL/token\",service=\"badreg\",scope=\"repository:lib/app:pull\""
    # Bad credentials: no token.
    run curl -s -o /dev/null -w '%{http_code}' -u "$BADREG_USER:nope" \
        "$BADREG_URL/token?service=badreg&scope=repository:lib/app:pull"
    assert_equal 401 "$output"
    local tok
    tok=$(curl -sSf -u "$BADREG_USER:$BADREG_PASS" \
        "$BADREG_URL/token?service=badreg&scope=repository:lib/app:pull" | jq -r .token)
    [ -n "$tok" ] && [ "$tok" != null ]
    run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        "$BADREG_URL/v2/lib/app/manifests/latest"
    assert_equal 200 "$output" "with the token"
    # The token is for lib/app only.
    run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        "$BADREG_URL/v2/lib/other/manifests/latest"
    assert_equal 401 "$output" "another repository"
    # skopeo does the whole dance.
    run skopeo --insecure-policy inspect --raw --tls-verify=false \
        --creds "$BADREG_USER:$BADREG_PASS" "docker://$BADREG/lib/app:latest"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    assert_equal "$(test_image_field busybox .manifest)" \
        "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)"
}

@test "mkimage big: reproducible from a seed, compresses about 2-3x" {
    # Small here (the benchmark uses the 200 MB default); same generator.
    run mkimage big --seed 7 --size-mb 12 --layers 3 -o "$TEST_DIR/big1"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    local a=$output
    run mkimage big --seed 7 --size-mb 12 --layers 3 -o "$TEST_DIR/big2"
    assert_equal "$(jq -r .manifest <<<"$a")" "$(jq -r .manifest <<<"$output")" "same seed"
    assert_equal 3 "$(jq '.layers | length' <<<"$a")"
    "$PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
r = d["uncompressed_bytes"] / d["compressed_bytes"]
print(f"ratio {r:.2f}")
sys.exit(0 if 1.6 <= r <= 4.0 else 1)' "$a"
    checklayout "$TEST_DIR/big1" >/dev/null
}
