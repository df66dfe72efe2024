# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the system tests: a private temp dir and private roots per test, run_berth,
# assertions that print expected and actual, wait_for, and a teardown that stops the daemon,
# kills and reports anything the test left running, checks for sanitizer reports and removes
# the temp dir. Never touches /var/lib/berth or /run/berth.
#
# A .bats file loads this with `load helpers`. It may define its own setup/teardown; they must
# call berth_setup / berth_teardown.

BERTH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BERTH_FLAVOUR:=release}"
: "${BERTH:=$BERTH_TOP/build/$BERTH_FLAVOUR/berth}"
: "${BERTH_TOOLS:=$BERTH_TOP/build/$BERTH_FLAVOUR/test/tools}"
export BERTH BERTH_TOOLS BERTH_FLAVOUR
# The python scripts in tools/ and Debian's python3-jsonschema (not whatever python3 is first
# in PATH).
TOOLS_SRC="$BERTH_TOP/test/system/tools"
PYTHON=/usr/bin/python3
# Seconds one berth command may take before run_berth kills it and fails.
: "${RUN_BERTH_TIMEOUT:=60}"

setup() {
    berth_setup
}

teardown() {
    berth_teardown
}

# ---------------------------------------------------------------------------------------------
# Per-test directory and roots

berth_setup() {
    if [ "$(id -u)" -ne 0 ]; then
        skip "system tests run as root"
    fi
    [ -x "$BERTH" ] || {
        echo "BERTH='$BERTH' is not an executable; build it: make build/$BERTH_FLAVOUR/berth"
        return 1
    }
    # Short path under /tmp: the socket path must fit in sun_path (108 bytes).
    TEST_DIR=$(mktemp -d /tmp/berth-test.XXXXXX)
    export TEST_DIR
    export BERTH_ROOT="$TEST_DIR/root"
    export BERTH_RUN_ROOT="$TEST_DIR/run"
    SOCK="$BERTH_RUN_ROOT/berth.sock"
    PIDFILE="$BERTH_RUN_ROOT/berth.pid"
    DAEMON_LOG="$BERTH_ROOT/daemon.log"
    unset BERTH_PROTO_TRACE
    sanitizer_reports >"$TEST_DIR/.sanitizer-before"
}

# The sanitizer report files present now, one per line (none outside the asan flavour).
sanitizer_reports() {
    [ "$BERTH_FLAVOUR" = asan ] || return 0
    local opt dir
    for opt in "${ASAN_OPTIONS:-}" "${UBSAN_OPTIONS:-}"; do
        dir=$(printf '%s\n' "$opt" | tr ':' '\n' | sed -n 's/^log_path=//p' | tail -1)
        [ -n "$dir" ] || continue
        dir=$(dirname "$dir")
        [ -d "$dir" ] || continue
        find "$dir" -maxdepth 1 -type f \( -name 'asan.*' -o -name 'ubsan.*' \) 2>/dev/null
    done | sort -u
}

# True when the process does not exist or is a zombie (it has exited; its parent has not
# reaped it yet).
pid_gone() {
    local pid=$1 state
    [ -r "/proc/$pid/stat" ] || return 0
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 0
    [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

pid_alive() {
    ! pid_gone "$1"
}

# True when the process's command line mentions this test's temp dir (so it is ours to kill).
pid_is_ours() {
    local pid=$1
    [ -n "${TEST_DIR:-}" ] && grep -qsF -- "$TEST_DIR" "/proc/$pid/cmdline" "/proc/$pid/environ"
}

# Processes whose command line or environment refers to this test's temp dir, except the
# shell running the test. Prints "PID CMDLINE" lines.
leftover_processes() {
    local f pid
    # One grep over all of /proc; the glob is expanded before grep exists, so it never sees
    # itself. Forked subshells keep this shell's original environment, which predates TEST_DIR.
    grep -lsF -- "$TEST_DIR" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' | sort -un | while read -r pid; do
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
        pid_gone "$pid" && continue
        f=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")
        echo "$pid $f"
    done
}

# SIGTERM, wait up to $2 seconds (default 10) for it to go, then SIGKILL. Returns 1 when
# SIGKILL was needed.
stop_pid() {
    local pid=$1 limit=${2:-10} i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < limit * 20; i++)); do
        pid_gone "$pid" && return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        pid_gone "$pid" && break
        sleep 0.05
    done
    return 1
}

berth_teardown() {
    local problems=() pid left line before new i
    if [ -z "${TEST_DIR:-}" ] || [ ! -d "$TEST_DIR" ]; then
        return 0
    fi
    # 1. The daemon, by its pid file; only when that pid really is one of ours (a stale pid
    #    file after kill -9 may name a reused pid).
    if [ -f "$PIDFILE" ]; then
        pid=$(head -c 32 "$PIDFILE" 2>/dev/null | tr -dc '0-9')
        if [ -n "$pid" ] && pid_alive "$pid" && pid_is_ours "$pid"; then
            if ! stop_pid "$pid" 10; then
                problems+=("daemon pid $pid ignored SIGTERM for 10 s and was killed")
            fi
        fi
    fi
    # 1b. Registries a test started (helpers-registry.bash), stopped by their pids.
    if declare -F registry_teardown >/dev/null; then
        registry_teardown || problems+=("registry_teardown failed")
    fi
    # 2. Anything else still running that refers to this test's dir: kill it, then fail.
    left=$(leftover_processes)
    if [ -n "$left" ]; then
        while read -r line; do
            problems+=("process left running: $line")
            kill -KILL "${line%% *}" 2>/dev/null || true
        done <<<"$left"
        # Give the kernel a moment so the dir can be removed.
        for ((i = 0; i < 40; i++)); do
            [ -z "$(leftover_processes)" ] && break
            sleep 0.05
        done
    fi
    # 3. Hooks of the .bats file (users, ...), before the dir goes.
    if declare -F test_cleanup >/dev/null; then
        test_cleanup || problems+=("test_cleanup failed")
    fi
    # 4. Sanitizer reports written during this test.
    if [ "$BERTH_FLAVOUR" = asan ]; then
        before="$TEST_DIR/.sanitizer-before"
        new=$(sanitizer_reports | comm -13 "$before" - 2>/dev/null)
        if [ -n "$new" ]; then
            while read -r line; do
                problems+=("sanitizer report: $line")
                echo "== $line"
                head -60 "$line"
            done <<<"$new"
        fi
    fi
    # 5. The dir itself.
    chattr -R -i "$TEST_DIR" >/dev/null 2>&1 || true
    rm -rf "$TEST_DIR" || problems+=("cannot remove $TEST_DIR")
    [ ! -e "$TEST_DIR" ] || problems+=("$TEST_DIR still exists")
    if [ "${#problems[@]}" -gt 0 ]; then
        echo "teardown found problems:"
        printf '  %s\n' "${problems[@]}"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# Running berth

# run_berth [-N | !] [--separate-stderr] ARGS...
# Runs $BERTH ARGS (stdin /dev/null, killed after RUN_BERTH_TIMEOUT seconds), sets $status,
# $output (stdout and stderr, or only stdout with --separate-stderr, then $stderr) and $lines,
# logs the command, its output and status (bats shows them when the test fails), and fails
# unless the status is N (default 0); "!" accepts any non-zero status.
# RUN_BERTH_USER=name runs it as that user (setpriv, environment kept).
run_berth() {
    local expected=0 separate=0 prefix=()
    while [ $# -gt 0 ]; do
        case "$1" in
        -[0-9]*) expected=${1#-}; shift ;;
        '!') expected='!'; shift ;;
        --separate-stderr) separate=1; shift ;;
        *) break ;;
        esac
    done
    if [ -n "${RUN_BERTH_USER:-}" ]; then
        prefix=(setpriv --reuid="$RUN_BERTH_USER" --regid="$RUN_BERTH_USER" --init-groups)
    fi
    local errf="$TEST_DIR/.run_berth.$BASHPID.stderr"
    status=0
    stderr=
    if [ "$separate" = 1 ]; then
        output=$(timeout -k 5 "$RUN_BERTH_TIMEOUT" "${prefix[@]}" "$BERTH" "$@" \
            </dev/null 2>"$errf") || status=$?
        stderr=$(cat "$errf")
    else
        output=$(timeout -k 5 "$RUN_BERTH_TIMEOUT" "${prefix[@]}" "$BERTH" "$@" \
            </dev/null 2>&1) || status=$?
    fi
    rm -f "$errf"
    mapfile -t lines <<<"$output"
    {
        echo "\$ ${RUN_BERTH_USER:+[as $RUN_BERTH_USER] }berth $*"
        [ -n "$output" ] && printf '%s\n' "$output"
        [ -n "$stderr" ] && printf '[stderr]\n%s\n' "$stderr"
        echo "[exit status $status]"
    } | sed 's/^/    /'
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "berth $* did not finish within $RUN_BERTH_TIMEOUT s (timeout)"
        return 1
    fi
    if [ "$expected" = '!' ]; then
        if [ "$status" -eq 0 ]; then
            echo "berth $*: expected a non-zero exit status, got 0"
            return 1
        fi
    elif [ "$status" -ne "$expected" ]; then
        echo "berth $*: expected exit status $expected, got $status"
        return 1
    fi
    return 0
}

# Run one of the python tools with Debian's python: run_tool NAME.py ARGS...; same contract as
# run_berth for -N / ! and the logging; stderr is kept apart in $stderr.
run_tool() {
    local expected=0
    case "${1:-}" in
    -[0-9]*) expected=${1#-}; shift ;;
    '!') expected='!'; shift ;;
    esac
    local name=$1
    shift
    local errf="$TEST_DIR/.run_tool.$BASHPID.stderr" prefix=()
    if [ -n "${RUN_BERTH_USER:-}" ]; then
        prefix=(setpriv --reuid="$RUN_BERTH_USER" --regid="$RUN_BERTH_USER" --init-groups)
    fi
    status=0
    output=$(timeout -k 5 "${RUN_TOOL_TIMEOUT:-120}" "${prefix[@]}" "$PYTHON" \
        "$TOOLS_SRC/$name" "$@" </dev/null 2>"$errf") || status=$?
    stderr=$(cat "$errf")
    rm -f "$errf"
    mapfile -t lines <<<"$output"
    {
        echo "\$ ${RUN_BERTH_USER:+[as $RUN_BERTH_USER] }$name $*"
        [ -n "$output" ] && printf '%s\n' "$output" | head -200
        [ -n "$stderr" ] && printf '[stderr]\n%s\n' "$stderr" | head -100
        echo "[exit status $status]"
    } | sed 's/^/    /'
    if [ "$expected" = '!' ]; then
        [ "$status" -ne 0 ] || { echo "$name: expected a non-zero exit status, got 0"; return 1; }
    elif [ "$status" -ne "$expected" ]; then
        echo "$name $*: expected exit status $expected, got $status"
        return 1
    fi
    return 0
}

# A C tool built by `make build/FLAVOUR/tests`.
tool_path() {
    local t="$BERTH_TOOLS/$1"
    if [ ! -x "$t" ]; then
        echo "test tool '$t' is missing; build it: make build/$BERTH_FLAVOUR/tests" >&2
        return 1
    fi
    printf '%s\n' "$t"
}

# Print the value at a dotted path of the JSON document on stdin ("daemon.pid").
json_get() {
    "$PYTHON" "$TOOLS_SRC/jsonq.py" "$@"
}

# ---------------------------------------------------------------------------------------------
# Assertions: each prints what was expected and what it got.

assert_equal() {
    local expected=$1 actual=$2 what=${3:-value}
    if [ "$expected" != "$actual" ]; then
        printf '%s differs\n  expected: %s\n  actual:   %s\n' "$what" "$expected" "$actual"
        return 1
    fi
}

assert_contains() {
    local haystack=$1 needle=$2 what=${3:-output}
    if [[ "$haystack" != *"$needle"* ]]; then
        printf '%s does not contain the expected text\n  expected: %s\n  actual:\n%s\n' \
            "$what" "$needle" "$(printf '%s\n' "$haystack" | sed 's/^/    /')"
        return 1
    fi
}

assert_not_contains() {
    local haystack=$1 needle=$2 what=${3:-output}
    if [[ "$haystack" == *"$needle"* ]]; then
        printf '%s contains unexpected text\n  unexpected: %s\n  actual:\n%s\n' \
            "$what" "$needle" "$(printf '%s\n' "$haystack" | sed 's/^/    /')"
        return 1
    fi
}

# Extended regular expression (grep -E), case-insensitive with -i as 4th argument.
assert_match() {
    local haystack=$1 re=$2 what=${3:-output} flags=-qE
    [ "${4:-}" = -i ] && flags=-qiE
    if ! printf '%s\n' "$haystack" | grep $flags -- "$re"; then
        printf '%s does not match\n  expected (regex): %s\n  actual:\n%s\n' \
            "$what" "$re" "$(printf '%s\n' "$haystack" | sed 's/^/    /')"
        return 1
    fi
}

assert_file_exists() {
    [ -e "$1" ] || { printf 'expected %s to exist; it does not\n' "$1"; return 1; }
}

assert_file_absent() {
    if [ -e "$1" ] || [ -L "$1" ]; then
        printf 'expected %s to be absent; it exists: %s\n' "$1" "$(ls -ld "$1" 2>&1)"
        return 1
    fi
}

# assert_mode PATH OCTAL: permission bits as stat %a prints them ("700").
assert_mode() {
    local actual
    actual=$(stat -c %a "$1") || return 1
    assert_equal "$2" "$actual" "mode of $1"
}

# ---------------------------------------------------------------------------------------------
# Waiting

# run_berth_stdin [-N | !] FILE ARGS...: like run_berth (status 0 unless -N or ! says
# otherwise), with stdin from FILE (run_berth's is /dev/null): login --password-stdin, import -.
run_berth_stdin() {
    local expected=0
    case "$1" in
    -[0-9]*) expected=${1#-}; shift ;;
    '!') expected='!'; shift ;;
    esac
    local in=$1
    shift
    status=0
    output=$(timeout -k 5 "$RUN_BERTH_TIMEOUT" "$BERTH" "$@" <"$in" 2>&1) || status=$?
    mapfile -t lines <<<"$output"
    {
        echo "\$ berth $* <$in"
        [ -n "$output" ] && printf '%s\n' "$output"
        echo "[exit status $status]"
    } | sed 's/^/    /'
    if [ "$expected" = '!' ]; then
        [ "$status" -ne 0 ] || { echo "berth $*: expected a non-zero exit status, got 0"; return 1; }
    elif [ "$status" -ne "$expected" ]; then
        echo "berth $*: expected exit status $expected, got $status"
        return 1
    fi
}

# wait_for CONDITION TIMEOUT_SECONDS: evaluates CONDITION (a shell command string) every 50 ms
# until it succeeds; fails with a message when TIMEOUT_SECONDS pass first.
wait_for() {
    local cond=$1 limit=$2 start now
    start=${EPOCHREALTIME/./}
    while :; do
        if eval "$cond" >/dev/null 2>&1; then
            return 0
        fi
        now=${EPOCHREALTIME/./}
        if ((now - start > limit * 1000000)); then
            echo "timed out after $limit s waiting for: $cond"
            return 1
        fi
        sleep 0.05
    done
}

# ---------------------------------------------------------------------------------------------
# The daemon

# The pid in the pid file (empty when there is none).
daemon_pid() {
    [ -f "$PIDFILE" ] && head -c 32 "$PIDFILE" | tr -dc '0-9'
    return 0
}

# Pids of live "berth ... daemon" processes using this test's run root.
daemon_processes() {
    local pid
    grep -lsF -- "$BERTH_RUN_ROOT" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' | sort -un | while read -r pid; do
        tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF daemon || continue
        pid_alive "$pid" && echo "$pid"
    done
    return 0
}

# Lines of the daemon log that announce a start.
daemon_start_count() {
    [ -f "$DAEMON_LOG" ] || { echo 0; return 0; }
    grep -ci 'daemon started' "$DAEMON_LOG" || true
}

# Start the daemon through the CLI and check it is up; sets DAEMON_PID.
start_daemon() {
    run_berth version
    DAEMON_PID=$(daemon_pid)
    [ -n "$DAEMON_PID" ] || { echo "no pid in $PIDFILE after 'berth version'"; return 1; }
    pid_alive "$DAEMON_PID" || { echo "daemon pid $DAEMON_PID is not alive"; return 1; }
}
