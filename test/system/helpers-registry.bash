# SPDX-License-Identifier: Apache-2.0
# Registries for the image tests: Debian's docker-registry on 127.0.0.1 (plain, htpasswd auth,
# TLS with a CA made here), test/images/badregistry.py for misbehaviour, skopeo to push, curl
# to look. Load it after helpers: `load helpers; load helpers-registry`.
#
# Everything lives under $TEST_DIR and every process started here is stopped by pid in
# registry_teardown, which must run before berth_teardown (that one reports any process still
# naming $TEST_DIR as left running):
#     teardown() { registry_teardown; berth_teardown; }
# Call registry_start and badregistry_start directly, never through `run` or $(...): they
# record the pid in this shell for registry_teardown, and a subshell would lose it.
#
# Several registries in one test: each registry_start overwrites REGISTRY, REGISTRY_PID, ...
# so keep what you need before the next call, or give --var NAME to get NAME, NAME_PID,
# NAME_URL, ... as well. Helpers taking a reference (registry_push, registry_digest, ...) find
# the registry's TLS and credentials from the host:port in it, so any of them can be named:
#     registry_start;               plain=$REGISTRY
#     registry_start --tls --auth;  secure=$REGISTRY
#     registry_push "$TEST_IMAGES/busybox" "$plain/lib/busybox:1"
#     registry_push "$TEST_IMAGES/busybox" "$secure/lib/busybox:1"

REGISTRY_IMAGES_SRC="$BERTH_TOP/test/images"
# The standard images (test/images/build.sh), built once and cached under build/: a build
# product like the binary, not something a test makes, so no test removes it.
: "${TEST_IMAGES:=$BERTH_TOP/build/test-images}"

_REGISTRY_PIDS=()
_BADREG_PIDS=()
_REGISTRY_N=0
declare -gA _REGISTRY_INFO # host:port -> "tls=0|1 auth=0|1 dir=DIR"

# test_images: builds (or finds cached) the standard images; sets TEST_IMAGES to their
# directory. digests.json there has mkimage.py's JSON per image.
test_images() {
    local out
    out=$("$REGISTRY_IMAGES_SRC/build.sh" "$TEST_IMAGES") || {
        echo "test/images/build.sh $TEST_IMAGES failed"
        return 1
    }
    TEST_IMAGES=$out
    export TEST_IMAGES
}

# test_image_field NAME JQ_PATH: one value from digests.json ("busybox" ".manifest").
test_image_field() {
    jq -er --arg n "$1" ".[\$n]$2" "$TEST_IMAGES/digests.json"
}

# A free TCP port on 127.0.0.1 (the kernel's choice for port 0; the socket is closed before
# the caller binds, so the caller retries on collision).
free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# registry_make_certs DIR: ca.crt/ca.key (a self-signed CA) and server.crt/server.key for
# 127.0.0.1 and localhost (subjectAltName), EC P-256, valid two days.
registry_make_certs() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=berth test CA" -keyout "$d/ca.key" -out "$d/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >"$d/openssl.log" 2>&1 || {
        cat "$d/openssl.log"
        return 1
    }
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" \
        >>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log"; return 1; }
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -set_serial 2 \
        -days 2 -extfile "$d/server.ext" -out "$d/server.crt" >>"$d/openssl.log" 2>&1 || {
        cat "$d/openssl.log"
        return 1
    }
}

# registry_start [--auth] [--tls] [--var NAME]
# Starts docker-registry on 127.0.0.1 on a free port with its own storage, config and log under
# $TEST_DIR/registry.N, and waits until /v2/ answers. Sets and exports:
#   REGISTRY        host:port, for references: "$REGISTRY/lib/busybox:1"
#   REGISTRY_URL    http://host:port or https://host:port
#   REGISTRY_PID    the registry process
#   REGISTRY_DIR    its directory (config.yml, registry.log, storage/)
#   REGISTRY_CA     --tls: the CA certificate (curl --cacert); empty otherwise
#   REGISTRY_CERT_DIR  --tls: a directory holding only ca.crt (skopeo --*-cert-dir)
#   REGISTRY_CERTS_D   --tls: a certs.d root with <host:port>/ca.crt (Docker's layout, berth's)
#   REGISTRY_USER, REGISTRY_PASS  --auth: the htpasswd credentials; empty otherwise
# --var NAME also sets NAME, NAME_URL, NAME_PID, NAME_DIR, NAME_CA, NAME_CERT_DIR,
# NAME_CERTS_D, NAME_USER, NAME_PASS.
registry_start() {
    local auth=0 tls=0 var='' dir port cfg pid _ url scheme=http
    while [ $# -gt 0 ]; do
        case "$1" in
        --auth) auth=1 ;;
        --tls) tls=1 ;;
        --var) var=$2; shift ;;
        *) echo "registry_start: unknown option '$1'"; return 1 ;;
        esac
        shift
    done
    [ -n "${TEST_DIR:-}" ] || { echo "registry_start: no TEST_DIR (call berth_setup first)"; return 1; }
    dir="$TEST_DIR/registry.$_REGISTRY_N"
    _REGISTRY_N=$((_REGISTRY_N + 1))
    mkdir -p "$dir/storage"
    REGISTRY_CA='' REGISTRY_CERT_DIR='' REGISTRY_CERTS_D='' REGISTRY_USER='' REGISTRY_PASS=''
    if [ "$tls" = 1 ]; then
        registry_make_certs "$dir/certs" || return 1
        mkdir -p "$dir/cert-dir"
        cp "$dir/certs/ca.crt" "$dir/cert-dir/ca.crt"
        REGISTRY_CA="$dir/certs/ca.crt"
        REGISTRY_CERT_DIR="$dir/cert-dir"
        scheme=https
    fi
    if [ "$auth" = 1 ]; then
        REGISTRY_USER=berth
        REGISTRY_PASS="pw-$_REGISTRY_N-$RANDOM$RANDOM"
        htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" >"$dir/htpasswd" 2>"$dir/htpasswd.log" || {
            cat "$dir/htpasswd.log"
            return 1
        }
    fi
    for _ in 1 2 3 4 5; do
        port=$(free_port) || return 1
        cfg="$dir/config.yml"
        {
            printf '%s\n' "version: 0.1" "log:" "  level: warn" "  accesslog:" \
                "    disabled: true" "storage:" "  filesystem:" \
                "    rootdirectory: $dir/storage" "  delete:" "    enabled: true" \
                "  maintenance:" "    uploadpurging:" "      enabled: false" \
                "http:" "  addr: 127.0.0.1:$port" "  secret: berth-test-secret-$port"
            if [ "$tls" = 1 ]; then
                printf '%s\n' "  tls:" "    certificate: $dir/certs/server.crt" \
                    "    key: $dir/certs/server.key"
            fi
            if [ "$auth" = 1 ]; then
                printf '%s\n' "auth:" "  htpasswd:" "    realm: berth-test" \
                    "    path: $dir/htpasswd"
            fi
        } >"$cfg"
        # The registry reads REGISTRY_* variables as config overrides: start it without ours.
        # fd 3 is bats' own; a background process holding it makes bats wait for it.
        (
            for v in $(compgen -e | grep -E '^REGISTRY(_|$)'); do unset "$v"; done
            exec docker-registry serve "$cfg"
        ) </dev/null >"$dir/registry.log" 2>&1 3>&- &
        pid=$!
        _REGISTRY_PIDS+=("$pid")
        url="$scheme://127.0.0.1:$port"
        wait_for "pid_gone $pid || _registry_answers $url ${REGISTRY_CA:-none}" 15 || {
            cat "$dir/registry.log"
            return 1
        }
        if pid_alive "$pid"; then
            break
        fi
        wait "$pid" 2>/dev/null || true
        _registry_forget "$pid"
        if ! grep -q 'address already in use' "$dir/registry.log"; then
            echo "docker-registry exited at start:"
            cat "$dir/registry.log"
            return 1
        fi
        pid=
    done
    [ -n "$pid" ] || { echo "registry_start: no free port after 5 tries"; return 1; }
    REGISTRY="127.0.0.1:$port"
    REGISTRY_URL=$url
    REGISTRY_PID=$pid
    REGISTRY_DIR=$dir
    if [ "$tls" = 1 ]; then
        REGISTRY_CERTS_D="$dir/certs.d"
        mkdir -p "$REGISTRY_CERTS_D/$REGISTRY"
        cp "$REGISTRY_CA" "$REGISTRY_CERTS_D/$REGISTRY/ca.crt"
    fi
    _REGISTRY_INFO[$REGISTRY]="$tls $auth $dir ${REGISTRY_USER:--} ${REGISTRY_PASS:--}"
    export REGISTRY REGISTRY_URL REGISTRY_PID REGISTRY_DIR REGISTRY_CA REGISTRY_CERT_DIR \
        REGISTRY_CERTS_D REGISTRY_USER REGISTRY_PASS
    if [ -n "$var" ]; then
        local s src
        for s in "" _URL _PID _DIR _CA _CERT_DIR _CERTS_D _USER _PASS; do
            src="REGISTRY$s"
            printf -v "$var$s" '%s' "${!src}"
            export "${var?}$s"
        done
    fi
}

# True when GET URL/v2/ gets any HTTP answer (200, or 401 with auth).
_registry_answers() {
    local url=$1 ca=$2 code args=(-s -o /dev/null -w '%{http_code}' --max-time 2)
    [ "$ca" != none ] && args+=(--cacert "$ca")
    code=$(curl "${args[@]}" "$url/v2/") || return 1
    [ "$code" = 200 ] || [ "$code" = 401 ]
}

_registry_forget() {
    local p keep=()
    for p in "${_REGISTRY_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    _REGISTRY_PIDS=("${keep[@]}")
    keep=()
    for p in "${_BADREG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    _BADREG_PIDS=("${keep[@]}")
}

# _stop_and_reap PID: SIGTERM (SIGKILL after 10 s), reap, check it is gone.
_stop_and_reap() {
    local pid=$1 rc=0
    stop_pid "$pid" 10 || rc=1
    wait "$pid" 2>/dev/null || true
    if pid_alive "$pid"; then
        echo "process $pid is still running after SIGKILL"
        rc=1
    fi
    _registry_forget "$pid"
    return $rc
}

# registry_stop [PID]: stops a registry (default: $REGISTRY_PID) and checks it is gone.
registry_stop() {
    local pid=${1:-${REGISTRY_PID:-}}
    [ -n "$pid" ] || { echo "registry_stop: no registry pid"; return 1; }
    _stop_and_reap "$pid" || { echo "registry $pid did not stop on SIGTERM"; return 1; }
}

# registry_teardown: stops every registry and badregistry this test started. Call it from the
# .bats file's teardown before berth_teardown.
registry_teardown() {
    local pid rc=0
    for pid in "${_REGISTRY_PIDS[@]}" "${_BADREG_PIDS[@]}"; do
        _stop_and_reap "$pid" || { echo "registry process $pid needed SIGKILL"; rc=1; }
    done
    _REGISTRY_PIDS=()
    _BADREG_PIDS=()
    _REGISTRY_INFO=()
    return $rc
}

# _registry_split REF: sets _host (host:port, default $REGISTRY) and _rest (repo:tag or
# repo@digest). The first component is a host when it has a ':' or a '.'.
_registry_split() {
    local ref=$1 first=${1%%/*}
    if [ "$first" != "$ref" ] && [[ "$first" == *[:.]* ]]; then
        _host=$first
        _rest=${ref#*/}
    else
        _host=${REGISTRY:-}
        _rest=$ref
    fi
    [ -n "$_host" ] || { echo "no registry in '$ref' and none started"; return 1; }
}

# Sets _tls _auth _user _pass for host:port (plain, anonymous for unknown hosts: badregistry).
_registry_lookup() {
    local info=${_REGISTRY_INFO[$1]:-"0 0 - - -"} dir
    read -r _tls _auth dir _user _pass <<<"$info"
    _certdir="$dir/cert-dir"
    _ca="$dir/certs/ca.crt"
}

# registry_push SRC [HOST:PORT/]REPO:TAG [SKOPEO_ARGS...]
# Pushes with skopeo, keeping manifests byte for byte (--preserve-digests) and every platform
# of an index (--all). SRC: an OCI layout directory (its only image, or DIR:REF for a tagged
# one), an OCI archive or a `docker save` tar (for that one skopeo writes a new manifest, so
# its digest is not mkimage.py's). Prints skopeo's output.
registry_push() {
    local src=$1 dest=$2 _host _rest _tls _auth _user _pass _certdir _ca s args
    shift 2
    _registry_split "$dest" || return 1
    _registry_lookup "$_host"
    args=(--insecure-policy copy --all --retry-times 0)
    if [ -d "$src" ]; then
        s="oci:$src"
        args+=(--preserve-digests)
    elif [ -f "$src" ]; then
        if tar -tf "$src" 2>/dev/null | grep -qx 'oci-layout'; then
            s="oci-archive:$src"
            args+=(--preserve-digests)
        else
            s="docker-archive:$src"
        fi
    elif [ -d "${src%:*}" ]; then
        s="oci:$src"
        args+=(--preserve-digests)
    else
        echo "registry_push: '$src' is neither a layout directory nor an archive"
        return 1
    fi
    if [ "$_tls" = 1 ]; then
        args+=(--dest-cert-dir "$_certdir")
    else
        args+=(--dest-tls-verify=false)
    fi
    [ "$_auth" = 1 ] && args+=(--dest-creds "$_user:$_pass")
    if [ "$_auth" = 1 ]; then
        echo "\$ skopeo ${args[*]//$_pass/***} $* $s docker://$_host/$_rest"
    else
        echo "\$ skopeo ${args[*]} $* $s docker://$_host/$_rest"
    fi
    TMPDIR=$TEST_DIR timeout -k 5 120 skopeo "${args[@]}" "$@" "$s" "docker://$_host/$_rest" \
        </dev/null 2>&1 | sed 's/^/    /'
    return "${PIPESTATUS[0]}"
}

# registry_curl [--anon] HOST:PORT PATH [CURL_ARGS...]: curl against a registry started here
# (or a badregistry), with its CA and credentials unless --anon. Prints the body.
registry_curl() {
    local anon=0 host path scheme=http _tls _auth _user _pass _certdir _ca args=(-sS --max-time 30)
    [ "${1:-}" = --anon ] && { anon=1; shift; }
    host=$1 path=$2
    shift 2
    _registry_lookup "$host"
    if [ "$_tls" = 1 ]; then
        scheme=https
        args+=(--cacert "$_ca")
    fi
    [ "$_auth" = 1 ] && [ "$anon" = 0 ] && args+=(-u "$_user:$_pass")
    curl "${args[@]}" "$@" "$scheme://$host$path"
}

_MANIFEST_ACCEPT="application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json"

# registry_manifest [HOST:PORT/]REPO:TAG|REPO@DIGEST: the manifest's bytes as served.
registry_manifest() {
    local _host _rest repo ref
    _registry_split "$1" || return 1
    _registry_ref_parts
    registry_curl "$_host" "/v2/$repo/manifests/$ref" -f -H "Accept: $_MANIFEST_ACCEPT"
}

# registry_digest [HOST:PORT/]REPO:TAG: sha256 of the manifest bytes the registry serves,
# after checking it equals its Docker-Content-Digest header. Prints "sha256:HEX".
registry_digest() {
    local _host _rest repo ref hdr body sum header
    _registry_split "$1" || return 1
    _registry_ref_parts
    hdr="$TEST_DIR/.registry_digest.$BASHPID.h"
    body="$TEST_DIR/.registry_digest.$BASHPID.b"
    registry_curl "$_host" "/v2/$repo/manifests/$ref" -f -H "Accept: $_MANIFEST_ACCEPT" \
        -D "$hdr" -o "$body" || { rm -f "$hdr" "$body"; return 1; }
    sum="sha256:$(sha256sum <"$body" | cut -d' ' -f1)"
    header=$(tr -d '\r' <"$hdr" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' | tail -1)
    rm -f "$hdr" "$body"
    if [ -n "$header" ] && [ "$header" != "$sum" ]; then
        echo "registry_digest: body hashes to $sum, Docker-Content-Digest says $header" >&2
        return 1
    fi
    printf '%s\n' "$sum"
}

# From _rest ("repo:tag", "repo@sha256:..."), sets repo and ref (default tag latest).
_registry_ref_parts() {
    if [[ "$_rest" == *@* ]]; then
        repo=${_rest%%@*} ref=${_rest#*@}
    elif [[ "${_rest##*/}" == *:* ]]; then
        repo=${_rest%:*} ref=${_rest##*:}
    else
        repo=$_rest ref=latest
    fi
}

# badregistry_start MODE LAYOUT [BADREGISTRY_ARGS...]
# Starts test/images/badregistry.py (see its --help for modes and options) serving LAYOUT and
# waits for its port. Sets and exports BADREG (host:port), BADREG_URL, BADREG_PID, BADREG_LOG
# (its JSON-lines request log); in auth-bearer mode also BADREG_USER and BADREG_PASS.
badregistry_start() {
    local mode=$1 layout=$2 dir pid
    shift 2
    dir="$TEST_DIR/badregistry.$_REGISTRY_N"
    _REGISTRY_N=$((_REGISTRY_N + 1))
    mkdir -p "$dir"
    BADREG_USER=berth BADREG_PASS="pw-$RANDOM$RANDOM"
    "$PYTHON" "$REGISTRY_IMAGES_SRC/badregistry.py" --mode "$mode" --layout "$layout" \
        --log "$dir/requests.log" --user "$BADREG_USER" --password "$BADREG_PASS" "$@" \
        </dev/null >"$dir/port" 2>"$dir/stderr" 3>&- &
    pid=$!
    _BADREG_PIDS+=("$pid")
    wait_for "pid_gone $pid || [ -s '$dir/port' ]" 10 || { cat "$dir/stderr"; return 1; }
    if pid_gone "$pid"; then
        wait "$pid" 2>/dev/null || true
        _registry_forget "$pid"
        echo "badregistry.py exited at start:"
        cat "$dir/stderr"
        return 1
    fi
    if [[ " $* " == *" ::1 "* ]]; then
        BADREG="[::1]:$(head -1 "$dir/port")"
    else
        BADREG="127.0.0.1:$(head -1 "$dir/port")"
    fi
    BADREG_URL="http://$BADREG"
    BADREG_PID=$pid
    BADREG_LOG="$dir/requests.log"
    export BADREG BADREG_URL BADREG_PID BADREG_LOG BADREG_USER BADREG_PASS
}

# badregistry_stop [PID]: default $BADREG_PID.
badregistry_stop() {
    local pid=${1:-${BADREG_PID:-}}
    [ -n "$pid" ] || { echo "badregistry_stop: no pid"; return 1; }
    _stop_and_reap "$pid" || { echo "badregistry $pid did not stop on SIGTERM"; return 1; }
}
