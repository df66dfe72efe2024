#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Only root may use the daemon. A throw-away system user runs the CLI and raw clients; the temp
# dirs are opened up (755) so that only the socket's mode, and then the daemon's SO_PEERCRED
# check, stand in the way. A non-root CLI must fail clearly and never start a daemon.

load helpers

setup() {
    berth_setup
    TEST_USER="berthtest$$"
    if id -u "$TEST_USER" >/dev/null 2>&1; then
        TEST_USER="berthtest$$r$RANDOM"
    fi
    # Written down first, so teardown removes the user even if useradd half-succeeds.
    echo "$TEST_USER" >"$TEST_DIR/.test-user"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --user-group "$TEST_USER"
    chmod 755 "$TEST_DIR"
}

teardown() {
    berth_teardown
}

# Called by berth_teardown after it killed what was left running, before the dir goes.
test_cleanup() {
    local u rc=0
    u=$(cat "$TEST_DIR/.test-user" 2>/dev/null) || return 0
    [ -n "$u" ] || return 0
    if id -u "$u" >/dev/null 2>&1; then
        # Anything still running as the user (nothing should be) blocks userdel.
        local pid
        for pid in $(ps -o pid= -u "$u" 2>/dev/null); do
            echo "process of $u left running: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
            kill -KILL "$pid" 2>/dev/null || true
            rc=1
        done
        userdel "$u" || rc=1
    fi
    if getent group "$u" >/dev/null; then
        groupdel "$u" || rc=1
    fi
    return $rc
}

# Make every directory on the way to the socket traversable and readable by anyone.
open_dirs() {
    mkdir -p "$BERTH_ROOT" "$BERTH_RUN_ROOT"
    chmod 755 "$TEST_DIR" "$BERTH_ROOT" "$BERTH_RUN_ROOT"
}

assert_permission_message() {
    assert_match "$output" 'permission|only root|as root' "message of the non-root CLI" -i
}

@test "a non-root CLI is refused by a running daemon and starts no other" {
    start_daemon
    open_dirs
    [ "$(stat -c %a "$SOCK")" = 600 ] || { echo "socket mode is not 600"; false; }
    local cmd
    for cmd in version "system info" "daemon status"; do
        # shellcheck disable=SC2086
        RUN_BERTH_USER=$TEST_USER run_berth -1 $cmd
        assert_match "$output" 'permission' "message of the non-root 'berth $cmd'" -i
    done
    pid_alive "$DAEMON_PID" || { echo "the root daemon died"; false; }
    assert_equal "$DAEMON_PID" "$(daemon_pid)" "pid file"
    assert_equal "$DAEMON_PID" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "a non-root CLI facing a stale root socket (EACCES) starts no daemon" {
    start_daemon
    kill -KILL "$DAEMON_PID"
    wait_for "pid_gone $DAEMON_PID" 10
    open_dirs
    [ -S "$SOCK" ] || { echo "expected the stale socket to remain"; false; }
    RUN_BERTH_USER=$TEST_USER run_berth -1 version
    assert_match "$output" 'permission' "message of the non-root CLI" -i
    assert_equal "" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
    assert_equal "$DAEMON_PID" "$(daemon_pid)" "the stale pid file, untouched"
}

@test "a non-root CLI with no daemon at all starts none" {
    open_dirs
    RUN_BERTH_USER=$TEST_USER run_berth -1 version
    assert_permission_message
    assert_file_absent "$SOCK"
    assert_file_absent "$PIDFILE"
    assert_equal "" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 0 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "a raw connect by a non-root user to the socket fails" {
    start_daemon
    open_dirs
    RUN_BERTH_USER=$TEST_USER run_tool -3 proto_abuse.py --sock "$SOCK" connect
    assert_contains "$output" "connect-error EACCES"
    pid_alive "$DAEMON_PID" || { echo "the root daemon died"; false; }
}

@test "with the socket opened up, the daemon still refuses non-root (SO_PEERCRED)" {
    start_daemon
    open_dirs
    chmod 666 "$SOCK"
    RUN_BERTH_USER=$TEST_USER run_tool -1 proto_abuse.py --sock "$SOCK" --wait 10 call version
    assert_contains "$output" '"code":"permission_denied"'
    assert_not_contains "$output" '"type":"hello"' "answers to the non-root client"
    assert_not_contains "$output" '"type":"reply"' "answers to the non-root client"
    chmod 600 "$SOCK"
    # Root is still served by the same daemon, and no other was started.
    run_berth version
    assert_contains "$output" "pid $DAEMON_PID"
    assert_equal "$DAEMON_PID" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}

@test "a non-root CLI refused by SO_PEERCRED says so, every time (20 tries)" {
    start_daemon
    open_dirs
    chmod 666 "$SOCK"
    # The daemon refuses at accept and closes; the CLI may still be sending its hello then.
    # Whatever the timing, it must report the daemon's refusal, not a broken pipe. Daemon and
    # CLI share one CPU here (the subshell is pinned, the CLIs inherit it) so that the daemon
    # usually wins the race: the test does not depend on luck.
    local cpu
    cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
    taskset -pc "$cpu" "$DAEMON_PID" >/dev/null
    (
        taskset -pc "$cpu" "$BASHPID" >/dev/null
        for ((i = 0; i < 20; i++)); do
            RUN_BERTH_USER=$TEST_USER run_berth -1 version
            assert_permission_message
            assert_not_contains "$output" "daemon: " "output of the non-root CLI"
        done
    )
    assert_equal "$DAEMON_PID" "$(daemon_processes)" "berth daemon processes on this run root"
    assert_equal 1 "$(daemon_start_count)" "'daemon started' lines in $DAEMON_LOG"
}
