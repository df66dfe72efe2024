#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The control socket under abuse: garbage, oversized lines, half messages, many idle clients,
# protocol misuse. Each answer must be the contract's error, and afterwards the same daemon
# (same pid) must still serve "berth version". Only the UNIX socket is touched; every loop and
# wait in tools/proto_abuse.py is bounded.

load helpers

setup() {
    berth_setup
    start_daemon
}

# proto_abuse.py on this test's socket; same -N / ! convention as run_tool.
abuse() {
    local st=()
    case "${1:-}" in -[0-9]* | '!') st=("$1"); shift ;; esac
    run_tool "${st[@]}" proto_abuse.py --sock "$SOCK" --wait 10 "$@"
}

# The daemon is the one the test started, alive, and serves a normal command.
assert_daemon_serves() {
    pid_alive "$DAEMON_PID" || { echo "daemon $DAEMON_PID died"; return 1; }
    local out=$output
    run_berth --separate-stderr version --format json
    assert_equal "$DAEMON_PID" "$(json_get daemon.pid <<<"$output")" \
        "daemon pid after the abuse (a restarted daemon would differ)"
    assert_equal "$DAEMON_PID" "$(daemon_pid)" "pid file"
    output=$out
}

# The first "recv" line as canonical JSON.
first_recv() {
    printf '%s\n' "$output" | sed -n 's/^recv //p' | head -1
}

@test "a well-formed session works (baseline for the abuse tool)" {
    abuse call ping
    assert_contains "$output" '"type":"hello"'
    assert_contains "$output" '"pid":'"$DAEMON_PID"
    assert_contains "$output" '"id":1,"result":{},"type":"reply"'
    abuse call version
    assert_contains "$output" '"type":"reply"'
    assert_daemon_serves
}

@test "random bytes get bad_message and the connection is closed" {
    local round
    for round in 1 2 3; do
        abuse random --bytes 4096
        local msg
        msg=$(first_recv)
        assert_equal error "$(json_get type <<<"$msg")" "type of the answer"
        assert_equal bad_message "$(json_get code <<<"$msg")" "error code"
        # "reset": the daemon closed with the rest of our bytes unread, which is fine.
        assert_match "${lines[-1]}" '^(closed|reset)$' "end of the connection"
    done
    assert_daemon_serves
}

@test "valid JSON that is not an object, or lacks fields, gets bad_message and a close" {
    abuse not-object
    assert_equal bad_message "$(first_recv | json_get code)" "error code for '[1,2,3]'"
    assert_equal closed "${lines[-1]}" "end of the connection"
    abuse missing-fields
    # The first recv is the daemon's hello.
    local err
    err=$(printf '%s\n' "$output" | sed -n 's/^recv //p' | sed -n 2p)
    assert_equal bad_message "$(json_get code <<<"$err")" "error code for a request without op"
    assert_equal closed "${lines[-1]}" "end of the connection"
    assert_daemon_serves
}

@test "a 100 MB line without newline gets message_too_large, a close, and no RSS growth" {
    local rss0 hwm0 rss1 hwm1
    rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
    hwm0=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
    RUN_TOOL_TIMEOUT=150 abuse too-large --mib 100
    assert_contains "$output" '"code":"message_too_large"'
    assert_match "$output" '^(closed|reset)$' "end of the connection"
    # It must have stopped reading long before 100 MB.
    local sent
    sent=$(sed -n 's/^sent \([0-9]*\) bytes.*/\1/p' <<<"$output")
    if [ "${sent:-0}" -gt $((32 * 1024 * 1024)) ]; then
        echo "the daemon took $sent bytes of one line before closing (expected about 8 MiB)"
        false
    fi
    rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
    hwm1=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
    echo "sent $sent bytes; VmRSS ${rss0} -> ${rss1} kB; VmHWM ${hwm0} -> ${hwm1} kB"
    # An 8 MiB message is legal, so the daemon may buffer 8 MiB once; it must not keep it nor
    # buffer the 100 MB. ASan's quarantine and shadow memory keep more.
    local rss_limit=$((10 * 1024)) hwm_limit=$((24 * 1024))
    if [ "$BERTH_FLAVOUR" = asan ]; then
        rss_limit=$((40 * 1024)) hwm_limit=$((64 * 1024))
    fi
    if [ $((rss1 - rss0)) -gt "$rss_limit" ]; then
        echo "VmRSS grew by $((rss1 - rss0)) kB (limit $rss_limit kB)"
        false
    fi
    if [ $((hwm1 - hwm0)) -gt "$hwm_limit" ]; then
        echo "VmHWM (peak RSS) grew by $((hwm1 - hwm0)) kB (limit $hwm_limit kB)"
        false
    fi
    assert_daemon_serves
}

@test "a connection closed mid-message does not disturb the daemon" {
    local i
    for i in 1 2 3 4 5; do
        abuse mid-close
    done
    assert_daemon_serves
}

@test "500 idle connections do not stop a normal command" {
    local ready="$TEST_DIR/idle.ready" stop="$TEST_DIR/idle.stop"
    "$PYTHON" "$TOOLS_SRC/proto_abuse.py" --sock "$SOCK" --wait 20 --max-seconds 90 \
        idle --count 500 --ready "$ready" --stop "$stop" >"$TEST_DIR/idle.out" 2>&1 &
    local job=$!
    if ! wait_for "[ -e '$ready' ] || ! kill -0 $job" 60 || [ ! -e "$ready" ]; then
        cat "$TEST_DIR/idle.out"
        touch "$stop"
        wait "$job" || true
        echo "the idle clients did not get ready"
        false
    fi
    cat "$ready"
    assert_contains "$(cat "$ready")" "ready 500 hello_ok 250"
    local t0 t1
    t0=${EPOCHREALTIME/./}
    RUN_BERTH_TIMEOUT=20 run_berth version
    t1=${EPOCHREALTIME/./}
    echo "berth version took $(((t1 - t0) / 1000)) ms with 500 idle connections"
    assert_contains "$output" "pid $DAEMON_PID"
    touch "$stop"
    local rc=0
    wait "$job" || rc=$?
    cat "$TEST_DIR/idle.out"
    assert_equal 0 "$rc" "exit status of the idle clients"
    assert_daemon_serves
}

@test "a request before hello gets handshake_required" {
    abuse before-hello
    local msg
    msg=$(first_recv)
    assert_equal error "$(json_get type <<<"$msg")" "type of the answer"
    assert_equal handshake_required "$(json_get code <<<"$msg")" "error code"
    assert_equal 1 "$(json_get id <<<"$msg")" "id of the error (the request's)"
    assert_daemon_serves
}

@test "an unknown op gets unknown_op with a hint, and the connection keeps serving" {
    abuse unknown-op --op verison
    local err
    err=$(printf '%s\n' "$output" | grep '"type":"error"' | head -1 | sed 's/^recv //')
    [ -n "$err" ] || { echo "no error received"; false; }
    assert_equal unknown_op "$(json_get code <<<"$err")" "error code"
    assert_equal 1 "$(json_get id <<<"$err")" "id of the error"
    assert_contains "$(json_get hint <<<"$err")" "version" "hint (closest op)"
    # Not a connection-level error: a ping on the same connection is answered.
    assert_contains "$output" '"id":2,"result":{},"type":"reply"'
    assert_equal open "${lines[-1]}" "state after the ping"
    assert_daemon_serves
}

@test "a hello with another protocol gets protocol_mismatch and a close" {
    abuse mismatch --proto 999
    local msg
    msg=$(first_recv)
    assert_equal protocol_mismatch "$(json_get code <<<"$msg")" "error code"
    assert_equal closed "${lines[-1]}" "end of the connection"
    assert_daemon_serves
}

@test "all the abuse in a row leaves the same daemon serving" {
    abuse random --bytes 65536
    abuse not-object
    abuse mid-close
    abuse before-hello
    abuse unknown-op --op nope
    abuse mismatch --proto 0
    RUN_TOOL_TIMEOUT=60 abuse too-large --mib 12
    assert_contains "$output" '"code":"message_too_large"'
    assert_daemon_serves
}
