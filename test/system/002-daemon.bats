#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The daemon's life: started on demand (exactly once, even by racing CLIs), stopped by
# "daemon stop" and by signals with nothing left behind, restarted over a stale socket, never
# twice on one run root; "daemon status" never starts it.

load helpers

# The daemon with pid $1 has exited and removed its socket and pid file.
assert_daemon_gone_clean() {
    local pid=$1
    pid_gone "$pid" || { echo "daemon $pid is still running"; return 1; }
    assert_file_absent "$SOCK"
    assert_file_absent "$PIDFILE"
    assert_equal "" "$(daemon_processes)" "berth daemon processes on this run root"
}

@test "a command starts the daemon when none runs" {
    assert_file_absent "$SOCK"
    run_berth -1 daemon status
    assert_contains "$output" "not running"
    run_berth version
    local pid
    pid=$(daemon_pid)
    [ -n "$pid" ] && pid_alive "$pid" || { echo "no live daemon after 'berth version'"; false; }
    [ -S "$SOCK" ] || { echo "no socket at $SOCK"; false; }
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
    # A second command uses the same daemon.
    run_berth version
    assert_equal "$pid" "$(daemon_pid)" "daemon pid after a second command"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "8 CLIs racing on a fresh run root start exactly one daemon" {
    local n=8 i pids=() go="$TEST_DIR/go"
    for ((i = 0; i < n; i++)); do
        (
            # Start together: poll for the go file (bounded: 10 s).
            for ((k = 0; k < 1000; k++)); do
                [ -e "$go" ] && break
                sleep 0.01
            done
            run_berth --separate-stderr version --format json
            json_get daemon.pid <<<"$output" >"$TEST_DIR/pid.$i"
        ) >"$TEST_DIR/out.$i" 2>&1 &
        pids+=($!)
    done
    touch "$go"
    local failed=0
    for ((i = 0; i < n; i++)); do
        if ! wait "${pids[$i]}"; then
            failed=1
            echo "== CLI $i failed:"
            cat "$TEST_DIR/out.$i"
        fi
    done
    [ "$failed" = 0 ]
    local first
    first=$(cat "$TEST_DIR/pid.0")
    for ((i = 0; i < n; i++)); do
        assert_equal "$first" "$(cat "$TEST_DIR/pid.$i")" "daemon pid seen by CLI $i"
    done
    assert_equal "$first" "$(daemon_pid)" "pid file"
    assert_equal "$first" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "daemon stop stops it, cleans up, and the next command starts a new one" {
    start_daemon
    local old=$DAEMON_PID
    run_berth daemon stop
    # It returns only after the daemon has exited.
    assert_daemon_gone_clean "$old"
    run_berth daemon stop
    assert_contains "$output" "daemon is not running"
    assert_file_absent "$SOCK"
    run_berth version
    local new
    new=$(daemon_pid)
    [ -n "$new" ] && pid_alive "$new" || { echo "no live daemon after restart"; false; }
    [ "$new" != "$old" ] || { echo "the daemon pid did not change ($new)"; false; }
    assert_equal 2 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "SIGTERM and SIGINT shut the daemon down cleanly" {
    local sig
    for sig in TERM INT; do
        start_daemon
        kill -"$sig" "$DAEMON_PID"
        wait_for "pid_gone $DAEMON_PID" 10
        assert_daemon_gone_clean "$DAEMON_PID"
    done
}

@test "berth daemon --foreground exits 0 on SIGTERM" {
    # Run in the foreground as a child of the test so its exit status can be seen.
    (
        RUN_BERTH_TIMEOUT=30 run_berth daemon --foreground
        echo "$output" >"$TEST_DIR/fg.log"
    ) >"$TEST_DIR/fg.out" 2>&1 &
    local job=$!
    wait_for "[ -S '$SOCK' ] && [ -s '$PIDFILE' ]" 10
    local pid
    pid=$(daemon_pid)
    run_berth version
    assert_contains "$output" "pid $pid"
    kill -TERM "$pid"
    local rc=0
    wait "$job" || rc=$?
    cat "$TEST_DIR/fg.out"
    assert_equal 0 "$rc" "exit status of run_berth daemon --foreground (0: daemon exited 0)"
    assert_daemon_gone_clean "$pid"
}

@test "a stale socket left by kill -9 does not stop the next start" {
    start_daemon
    local old=$DAEMON_PID
    kill -KILL "$old"
    wait_for "pid_gone $old" 10
    # The daemon had no chance to clean up: socket and pid file are stale.
    [ -S "$SOCK" ] || { echo "expected a stale socket at $SOCK after kill -9"; false; }
    run_berth -1 daemon status
    assert_contains "$output" "not running"
    run_berth version
    local new
    new=$(daemon_pid)
    [ -n "$new" ] && [ "$new" != "$old" ] && pid_alive "$new" ||
        { echo "no new live daemon (old $old, pid file '$new')"; false; }
    assert_contains "$output" "pid $new"
    assert_equal "$new" "$(daemon_processes)" "berth daemon processes on this run root"
}

@test "a second daemon on the same run root is refused" {
    start_daemon
    local ino
    ino=$(stat -c %i "$SOCK")
    RUN_BERTH_TIMEOUT=15 run_berth -1 daemon --foreground
    assert_contains "$output" "already running"
    # The first one is untouched and still serves on the same socket.
    pid_alive "$DAEMON_PID" || { echo "the first daemon died"; false; }
    assert_equal "$DAEMON_PID" "$(daemon_pid)" "pid file"
    assert_equal "$ino" "$(stat -c %i "$SOCK")" "inode of the socket"
    run_berth version
    assert_contains "$output" "pid $DAEMON_PID"
    assert_equal "$DAEMON_PID" "$(daemon_processes)" "berth daemon processes on this run root"
}

@test "daemon status tells running or not and never starts it" {
    run_berth -1 daemon status
    assert_contains "$output" "not running"
    assert_file_absent "$SOCK"
    assert_file_absent "$PIDFILE"
    assert_equal "" "$(daemon_processes)" "berth daemon processes"
    start_daemon
    run_berth daemon status
    assert_contains "$output" "running (pid $DAEMON_PID"
    run_berth daemon stop
    run_berth -1 daemon status
    assert_contains "$output" "not running"
    assert_file_absent "$SOCK"
}
