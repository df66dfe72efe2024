#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Smoke: the binary runs, the CLI starts the daemon on demand, and the daemon reports itself and
# the host truthfully. Fail fast: if these fail, nothing after them can pass.

load helpers

# The host's cgroup mode, as the contract defines it.
host_cgroup_mode() {
    local top unified
    top=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)
    case "$top" in
    cgroup2fs) echo v2 ;;
    tmpfs)
        unified=$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true)
        if [ "$unified" = cgroup2fs ]; then echo hybrid; else echo v1; fi
        ;;
    *) echo none ;;
    esac
}

@test "berth --version prints the client version without a daemon" {
    run_berth --version
    assert_match "$output" '[0-9]+\.[0-9]+\.[0-9]+'
    run_berth version --short
    local short=$output
    assert_match "$short" '^[0-9]+\.[0-9]+\.[0-9]+$' "version --short"
    run_berth --version
    assert_contains "$output" "$short"
    # Neither started a daemon nor created the runtime files.
    assert_file_absent "$SOCK"
    assert_file_absent "$PIDFILE"
    assert_equal "" "$(daemon_processes)" "berth daemon processes"
}

@test "berth version starts the daemon and reports client and daemon" {
    assert_file_absent "$SOCK"
    run_berth version --short
    local v=$output
    run_berth version
    local pid
    pid=$(daemon_pid)
    [ -n "$pid" ] || { echo "no pid file after berth version"; false; }
    assert_contains "$output" "client: $v (protocol 1)"
    assert_contains "$output" "daemon: $v (protocol 1, pid $pid)"

    run_berth --separate-stderr version --format json
    assert_equal "$v" "$(json_get client.version <<<"$output")" "client.version"
    assert_equal 1 "$(json_get client.protocol <<<"$output")" "client.protocol"
    assert_equal "$v" "$(json_get daemon.version <<<"$output")" "daemon.version"
    assert_equal 1 "$(json_get daemon.protocol <<<"$output")" "daemon.protocol"
    assert_equal "$pid" "$(json_get daemon.pid <<<"$output")" "daemon.pid"
}

@test "system info --format json reports the daemon and the host" {
    run_berth --separate-stderr system info --format json
    local info=$output pid
    pid=$(daemon_pid)
    local field
    for field in version protocol pid uptime_seconds root run_root kernel cgroup overlayfs \
        seccomp namespaces; do
        json_get --type "$field" <<<"$info" >/dev/null || {
            echo "field '$field' missing in: $info"
            false
        }
    done
    assert_equal integer "$(json_get --type pid <<<"$info")" "type of pid"
    assert_equal "$pid" "$(json_get pid <<<"$info")" "pid"
    assert_equal 1 "$(json_get protocol <<<"$info")" "protocol"
    run_berth version --short
    assert_equal "$output" "$(json_get version <<<"$info")" "version"
    assert_match "$(json_get --type uptime_seconds <<<"$info")" '^(integer|number)$' \
        "type of uptime_seconds"
    assert_match "$(json_get uptime_seconds <<<"$info")" '^[0-9]+(\.[0-9]+)?$' "uptime_seconds"
    assert_equal "$BERTH_ROOT" "$(json_get root <<<"$info")" "root"
    assert_equal "$BERTH_RUN_ROOT" "$(json_get run_root <<<"$info")" "run_root"
    assert_equal "$(uname -r)" "$(json_get kernel <<<"$info")" "kernel"
    assert_equal "$(host_cgroup_mode)" "$(json_get cgroup.mode <<<"$info")" \
        "cgroup.mode (host: /sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup))"
    assert_equal boolean "$(json_get --type overlayfs <<<"$info")" "type of overlayfs"
    assert_equal boolean "$(json_get --type seccomp <<<"$info")" "type of seccomp"
    if grep -qw overlay /proc/filesystems; then
        assert_equal true "$(json_get overlayfs <<<"$info")" "overlayfs (in /proc/filesystems)"
    fi
    if grep -q '^Seccomp:' /proc/self/status; then
        assert_equal true "$(json_get seccomp <<<"$info")" "seccomp (kernel has it)"
    fi
    local ns
    for ns in cgroup ipc mnt net pid time user uts; do
        assert_equal boolean "$(json_get --type "namespaces.$ns" <<<"$info")" \
            "type of namespaces.$ns"
        if [ -e "/proc/self/ns/$ns" ]; then
            assert_equal true "$(json_get "namespaces.$ns" <<<"$info")" \
                "namespaces.$ns (/proc/self/ns/$ns exists)"
        fi
    done
}

@test "the daemon creates the state layout with mode 700" {
    start_daemon
    local d
    for d in images containers volumes projects networks; do
        [ -d "$BERTH_ROOT/$d" ] || { echo "$BERTH_ROOT/$d is not a directory"; false; }
        assert_mode "$BERTH_ROOT/$d" 700
    done
    assert_file_exists "$DAEMON_LOG"
}

@test "the socket is a socket with mode 600" {
    start_daemon
    [ -S "$SOCK" ] || { echo "$SOCK is not a socket: $(ls -l "$SOCK" 2>&1)"; false; }
    assert_mode "$SOCK" 600
    assert_equal "0 0" "$(stat -c '%u %g' "$SOCK")" "owner of the socket"
}

@test "the pid file names a live, detached daemon" {
    start_daemon
    local pid=$DAEMON_PID
    assert_match "$(cat "$PIDFILE")" '^[0-9]+$' "pid file content"
    # The daemon is berth itself, in its daemon role, on this test's run root.
    assert_equal "$(readlink -f "$BERTH")" "$(readlink -f "/proc/$pid/exe")" "daemon executable"
    assert_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" daemon "daemon command line"
    assert_equal "$pid" "$(daemon_processes)" "daemon processes on this run root"
    # Detached: its parent is init or a subreaper above us (the CLI that spawned it is gone),
    # in a session of its own, without a controlling terminal.
    local ppid anc ok=0
    ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
    if [ "$ppid" = 1 ]; then
        ok=1
    else
        anc=$$
        while [ -n "$anc" ] && [ "$anc" != 0 ]; do
            [ "$anc" = "$ppid" ] && ok=1 && break
            anc=$(awk '/^PPid:/ { print $2 }' "/proc/$anc/status" 2>/dev/null)
        done
    fi
    [ "$ok" = 1 ] || {
        echo "daemon $pid has parent $ppid ($(cat "/proc/$ppid/comm" 2>/dev/null)):" \
            "neither init nor a subreaper above the test"
        false
    }
    local sid tty mysid
    sid=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $4 }')
    tty=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $5 }')
    mysid=$(sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $4 }')
    if [ "$sid" = "$mysid" ]; then
        echo "daemon $pid is in the test's session $mysid: not detached (setsid)"
        false
    fi
    assert_equal 0 "$tty" "controlling terminal of the daemon"
}
