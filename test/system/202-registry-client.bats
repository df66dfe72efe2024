#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The registry client (engine/image/registry.h) against Debian's real docker-registry on
# 127.0.0.1, filled with skopeo from a tiny OCI layout, and against tools/fakereg.py for what a
# real registry will not do on demand (bearer tokens, 5xx, 429, a connection dropped mid-body,
# a 200 answer to a Range request, redirects to a storage host). The C tool tools/regclient.c
# drives the client on its own event loop. Every server started here is stopped by its pid.

load helpers

MY_PIDS=()

teardown() {
    local pid
    for pid in "${MY_PIDS[@]}"; do
        stop_pid "$pid" 5 || true
    done
    berth_teardown
}

regclient() {
    local rc=0
    output=$(timeout -k 5 60 "$(tool_path regclient)" "$@" 2>&1) || rc=$?
    status=$rc
    printf '$ regclient %s\n%s\n[exit status %s]\n' "$*" "$output" "$status" | sed 's/^/    /'
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [htpasswd FILE | tls CERT KEY]: Debian's registry on a free port of
# 127.0.0.1, storage under $TEST_DIR/NAME; sets REG (host:port).
start_registry() {
    local name=$1 port dir="$TEST_DIR/$1" extra="" scheme=http
    port=$(free_port)
    mkdir -p "$dir/data"
    case "${2:-}" in
    htpasswd) extra=$(printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$3") ;;
    tls)
        extra=$(printf '  tls:\n    certificate: %s\n    key: %s\n' "$3" "$4")
        scheme=https
        ;;
    esac
    {
        printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
        printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$dir/data"
        printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
        [ "${2:-}" = tls ] && printf '%s\n' "$extra"
        [ "${2:-}" = htpasswd ] && printf '%s\n' "$extra"
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    MY_PIDS+=($!)
    REG=127.0.0.1:$port
    wait_for "curl -sk -o /dev/null $scheme://$REG/v2/" 10 || { cat "$dir/log"; return 1; }
}

# start_fake MODE [--user U --password P --identity-token T]: sets FAKE (host:port), FAKE_LOG
# and BLOB (the digest of its one blob).
start_fake() {
    FAKE_LOG="$TEST_DIR/fake.log"
    : >"$FAKE_LOG"
    "$PYTHON" "$TOOLS_SRC/fakereg.py" serve "$TEST_DIR/fake.port" "$FAKE_LOG" "$@" &
    MY_PIDS+=($!)
    wait_for "test -s $TEST_DIR/fake.port" 10
    FAKE=127.0.0.1:$(cat "$TEST_DIR/fake.port")
    BLOB=$(curl -s "http://$FAKE/digest")
    : >"$FAKE_LOG"
}

# make_image [SKOPEO_ARGS...]: the tiny layout pushed as test/img:v1 to $REG; sets LAYER,
# CONFIG, MANIFEST (from the layout) and PUSHED (skopeo's digest).
make_image() {
    local out
    out=$("$PYTHON" "$TOOLS_SRC/fakereg.py" mklayout "$TEST_DIR/layout")
    LAYER=$(awk '$1 == "layer" { print $2 }' <<<"$out")
    CONFIG=$(awk '$1 == "config" { print $2 }' <<<"$out")
    MANIFEST=$(awk '$1 == "manifest" { print $2 }' <<<"$out")
    skopeo --insecure-policy copy -q --preserve-digests --dest-tls-verify=false "$@" \
        --digestfile "$TEST_DIR/pushed" "oci:$TEST_DIR/layout:latest" \
        "docker://$REG/test/img:v1" >/dev/null
    PUSHED=$(cat "$TEST_DIR/pushed")
}

field() {
    sed -n "s/^$1: //p" <<<"$output" | head -1
}

@test "manifest by tag and by digest, blob streamed whole and from an offset" {
    start_registry plain
    make_image
    regclient manifest "$REG" test/img v1
    assert_equal 0 "$status" "exit status"
    assert_equal "$PUSHED" "$(field server-digest)" "server digest"
    assert_equal "$PUSHED" "$(field digest)" "computed digest"
    assert_equal application/vnd.oci.image.manifest.v1+json "$(field content-type)"
    assert_contains "$output" "$LAYER"

    regclient manifest "$REG" test/img "$PUSHED"
    assert_equal 0 "$status" "exit status"
    assert_equal "$PUSHED" "$(field digest)" "computed digest"

    regclient blob "$REG" test/img "$LAYER" "$TEST_DIR/layer"
    assert_equal 0 "$status" "exit status"
    assert_equal "$LAYER" "$(field digest)" "streamed digest"
    assert_equal "$LAYER" "sha256:$(sha256sum "$TEST_DIR/layer" | cut -d' ' -f1)" "file digest"

    local size want
    size=$(stat -c %s "$TEST_DIR/layer")
    want=$(tail -c +1001 "$TEST_DIR/layer" | sha256sum | cut -d' ' -f1)
    regclient blob "$REG" test/img "$LAYER" "$TEST_DIR/rest" 1000
    assert_equal 0 "$status" "exit status"
    assert_equal $((size - 1000)) "$(field bytes)" "bytes after the offset"
    assert_equal "sha256:$want" "$(field digest)" "digest of the rest"
}

@test "unknown tag, unknown blob and HEAD say so clearly" {
    start_registry plain
    make_image
    regclient manifest "$REG" test/img nosuchtag
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "manifest unknown: '$REG/test/img:nosuchtag' not found"
    assert_contains "$output" "ENOENT"

    local missing=sha256:0000000000000000000000000000000000000000000000000000000000000001
    regclient blob "$REG" test/img "$missing" "$TEST_DIR/x"
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "blob unknown: '$REG/test/img@$missing' not found"

    regclient exists "$REG" test/img "$LAYER"
    assert_equal yes "$output"
    regclient exists "$REG" test/img "$missing"
    assert_equal no "$output"

    regclient manifest "$REG" test/img 'bad tag'
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "invalid reference 'bad tag'"
}

@test "basic auth (htpasswd): right password, wrong password, none" {
    htpasswd -Bbn alice s3cret >"$TEST_DIR/htpasswd"
    start_registry auth htpasswd "$TEST_DIR/htpasswd"
    make_image --dest-creds alice:s3cret
    regclient --user alice --password s3cret manifest "$REG" test/img v1
    assert_equal 0 "$status" "exit status"
    assert_equal "$PUSHED" "$(field digest)"
    regclient --user alice --password s3cret blob "$REG" test/img "$LAYER" "$TEST_DIR/layer"
    assert_equal "$LAYER" "$(field digest)"
    regclient --user alice --password s3cret check "$REG"
    assert_equal ok "$output"

    regclient --user alice --password wrong manifest "$REG" test/img v1
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "unauthorized: incorrect username or password for $REG"
    regclient --user alice --password wrong check "$REG"
    assert_contains "$output" "unauthorized: incorrect username or password for $REG"

    regclient manifest "$REG" test/img v1
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "authentication required for $REG"
}

@test "bearer tokens: basic credentials or an identity token at the realm, token reused" {
    start_fake bearer --user alice --password s3cret --identity-token idtok
    regclient --user alice --password s3cret manifest "$FAKE" fake/repo v1
    assert_equal 0 "$status" "exit status"
    assert_equal "$(field server-digest)" "$(field digest)"
    run cat "$FAKE_LOG"
    assert_contains "$output" "GET /token range=- auth=Basic"
    assert_contains "$output" "GET /v2/fake/repo/manifests/v1 range=- auth=Bearer"

    regclient --identity-token idtok check "$FAKE"
    assert_equal ok "$output"
    run grep -c "POST /token" "$FAKE_LOG"
    assert_equal 1 "$output" "refresh-token POSTs"

    regclient --user alice --password wrong manifest "$FAKE" fake/repo v1
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "unauthorized: incorrect username or password for $FAKE"

    regclient manifest "$FAKE" fake/repo v1
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "pull access denied for '$FAKE/fake/repo'"
}

@test "5xx then success is retried; 429 waits for Retry-After" {
    start_fake flaky5xx,429
    local t0=$EPOCHREALTIME
    regclient manifest "$FAKE" fake/repo v1
    assert_equal 0 "$status" "exit status"
    run grep -c "GET /v2/fake/repo/manifests/v1" "$FAKE_LOG"
    assert_equal 3 "$output" "manifest GETs (500, 429, 200)"
    # 0.5 s backoff after the 500, then Retry-After: 1 s.
    local ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
    [ "$ms" -ge 1400 ] || { echo "retries took only $ms ms"; return 1; }

    regclient blob "$FAKE" fake/repo "$BLOB" "$TEST_DIR/blob"
    assert_equal 0 "$status" "exit status"
    assert_equal "$BLOB" "$(field digest)"
}

@test "a blob dropped mid-body resumes with Range (206 and 200 answers)" {
    start_fake drop
    regclient blob "$FAKE" fake/repo "$BLOB" "$TEST_DIR/blob"
    assert_equal 0 "$status" "exit status"
    assert_equal "$BLOB" "$(field digest)"
    assert_equal "$BLOB" "sha256:$(sha256sum "$TEST_DIR/blob" | cut -d' ' -f1)" "file digest"
    run cat "$FAKE_LOG"
    assert_match "$output" "range=bytes=[1-9][0-9]*-"
    stop_pid "${MY_PIDS[0]}" 5
    MY_PIDS=()
    rm -f "$TEST_DIR/fake.port"

    start_fake drop200
    regclient blob "$FAKE" fake/repo "$BLOB" "$TEST_DIR/blob2"
    assert_equal 0 "$status" "exit status"
    assert_equal "$BLOB" "$(field digest)"
    assert_equal 2097152 "$(field bytes)"
}

@test "redirects to a storage host never carry the Authorization header" {
    start_fake bearer,redirect --user alice --password s3cret
    regclient --user alice --password s3cret blob "$FAKE" fake/repo "$BLOB" "$TEST_DIR/blob"
    assert_equal 0 "$status" "exit status"
    assert_equal "$BLOB" "$(field digest)"
    run grep "/storage/" "$FAKE_LOG"
    assert_contains "$output" "auth=none"
    assert_not_contains "$output" "auth=Bearer"
}

@test "cancel stops a blob download with ECANCELED" {
    start_fake drop
    regclient --cancel-after 1 blob "$FAKE" fake/repo "$BLOB" "$TEST_DIR/blob"
    assert_equal 1 "$status" "exit status"
    assert_contains "$output" "request cancelled (ECANCELED)"
}

@test "push a blob (monolithic, chunked, mounted) and a manifest, read them back" {
    start_registry push
    make_image
    local dir="$TEST_DIR/layout/blobs/sha256"
    regclient push-blob "$REG" other/img "$dir/${CONFIG#sha256:}"
    assert_equal 0 "$status" "exit status"
    regclient --chunk 1000000 push-blob "$REG" other/img "$dir/${LAYER#sha256:}"
    assert_equal 0 "$status" "exit status"
    regclient exists "$REG" other/img "$LAYER"
    assert_equal yes "$output"
    regclient push-blob "$REG" third/img "$dir/${LAYER#sha256:}" test/img
    assert_equal 0 "$status" "exit status"
    regclient push-blob "$REG" third/img "$dir/${CONFIG#sha256:}"
    assert_equal 0 "$status" "exit status"

    local repo
    for repo in other/img third/img; do
        regclient put-manifest "$REG" "$repo" v2 "$dir/${MANIFEST#sha256:}" \
            application/vnd.oci.image.manifest.v1+json
        assert_equal ok "$output"
        regclient manifest "$REG" "$repo" v2
        assert_equal "$MANIFEST" "$(field server-digest)"
        assert_equal "$MANIFEST" "$(field digest)"
        regclient blob "$REG" "$repo" "$LAYER" "$TEST_DIR/back"
        assert_equal "$LAYER" "$(field digest)"
    done
}

@test "TLS with a CA from certs.d/HOST:PORT (its presence means HTTPS, loopback or not)" {
    local d="$TEST_DIR/tls"
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/srv.key" \
        -out "$d/srv.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
    start_registry tlsreg tls "$d/srv.crt" "$d/srv.key"
    make_image
    mkdir -p "$d/certs.d/$REG" "$d/other.d/$REG"
    # Two files: one unrelated CA first, the right one second (the blob holds both).
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout "$d/o.key" \
        -out "$d/certs.d/$REG/a-other.crt" 2>/dev/null
    cp "$d/ca.crt" "$d/certs.d/$REG/b-ca.crt"
    regclient --certs-dir "$d/certs.d" manifest "$REG" test/img v1
    assert_equal 0 "$status" "exit status"
    assert_equal "$PUSHED" "$(field digest)"

    cp "$d/certs.d/$REG/a-other.crt" "$d/other.d/$REG/"
    regclient --certs-dir "$d/other.d" manifest "$REG" test/img v1
    assert_equal 1 "$status" "exit status"
    assert_match "$output" "certificate|SSL" "error" -i

    # Without a certs.d directory loopback is plain HTTP; the TLS server answers so, and the
    # client goes on over HTTPS without checking the certificate, as Docker does for loopback.
    regclient --certs-dir "$d/none" manifest "$REG" test/img v1
    assert_equal 0 "$status" "exit status"
    assert_equal "$PUSHED" "$(field digest)"
}
