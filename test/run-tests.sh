#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the unit tests, the fuzz smoke runs and the system tests for each build flavour given
# (release, asan) and ends with one line: "N passed, N failed, N skipped".
# Usage: test/run-tests.sh FLAVOUR...   (the binaries must be built: make build/FLAVOUR/tests)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0 failed=0 skipped=0
failures=()

# Count a TAP stream read on stdin; echo it through so the log shows every test. Feed it with a
# redirection, not a pipe: a pipeline would run it in a subshell and lose the counts.
count_tap() {
    local suite=$1 line p=0 f=0 s=0
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case "$line" in
            "not ok "*) f=$((f + 1)); failures+=("$suite: ${line#not ok }") ;;
            "ok "*"# skip"*|"ok "*"# SKIP"*) s=$((s + 1)) ;;
            "ok "*) p=$((p + 1)) ;;
        esac
    done
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    printf '[%s] %d ok, %d not ok, %d skipped\n' "$suite" "$p" "$f" "$s"
}

# A suite that died without saying "not ok" still failed.
suite_crashed() {
    failed=$((failed + 1))
    failures+=("$1: exited with status $2 ($3)")
    printf '[%s] crashed: exit status %d\n' "$1" "$2"
}

run_units() {
    local flavour=$1 t name rc out
    for t in "build/$flavour/test/unit"/test-*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out=$(mktemp)
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
        rc=$?
        count_tap "$flavour unit $name" <"$out"
        if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
            suite_crashed "$flavour unit $name" "$rc" "see the output above"
        fi
        rm -f "$out"
    done
}

# Seconds of each fuzz smoke run: the loader and the interpolator get 60 s in full (what CI
# promises for them); the others 20 s, or 100000 runs if that comes first.
declare -A fuzz_seconds=([fuzz-compose-load]=60 [fuzz-compose-interp]=60)
# libFuzzer is single-threaded: run as many harnesses at once as there are cores (at most 4).
fuzz_jobs=$(nproc 2>/dev/null || echo 1)
[ "$fuzz_jobs" -le 4 ] || fuzz_jobs=4

# One harness: its log goes to WORK.log and its exit status to WORK.rc. New inputs go to WORK,
# the seeds in the repository are only read; a harness's own temp files go under WORK.tmp.
fuzz_one() {
    local f=$1 work=$2 name secs runs seeds=()
    name=$(basename "$f")
    [ -d "test/fuzz/corpus/$name" ] && seeds=("test/fuzz/corpus/$name")
    secs=${fuzz_seconds[$name]:-20}
    runs=100000
    [ -z "${fuzz_seconds[$name]:-}" ] || runs=-1
    mkdir -p "$work.tmp"
    TMPDIR="$work.tmp" "$f" -runs="$runs" -max_total_time="$secs" -rss_limit_mb=1024 \
        -artifact_prefix=build/fuzz-artifacts/ "$work" "${seeds[@]}" >"$work.log" 2>&1
    echo $? >"$work.rc"
}

run_fuzz() {
    local f i rc running=0 names=() works=()
    mkdir -p build/fuzz-artifacts
    for f in build/fuzz/fuzz-*; do
        [ -x "$f" ] || continue
        if [ "$running" -ge "$fuzz_jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
        names+=("$(basename "$f")")
        works+=("$(mktemp -d)")
        fuzz_one "$f" "${works[-1]}" &
        running=$((running + 1))
    done
    wait
    for i in "${!names[@]}"; do
        rc=$(cat "${works[$i]}.rc" 2>/dev/null || echo 255)
        if [ "$rc" -eq 0 ]; then
            count_tap "fuzz ${names[$i]}" <<<"ok - fuzz ${names[$i]}"
        else
            # What the harness said (before the sanitizer's stack), the end of the log, and the
            # input that failed, so a CI failure can be reproduced from its output alone.
            grep -v -e '^#' -e '^INFO:' -e '^    #' "${works[$i]}.log" | head -60
            tail -15 "${works[$i]}.log"
            local art
            art=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "${works[$i]}.log" | tail -1)
            if [ -n "$art" ] && [ -f "$art" ]; then
                echo "failing input ($art), base64:"
                base64 -w 100 "$art" | head -200
            fi
            count_tap "fuzz ${names[$i]}" <<<"not ok - fuzz ${names[$i]} (exit $rc)"
        fi
        rm -rf "${works[$i]}" "${works[$i]}.log" "${works[$i]}.rc" "${works[$i]}.tmp"
    done
}

run_system() {
    local flavour=$1 out rc logs
    if [ "$(id -u)" -ne 0 ]; then
        count_tap "$flavour system" \
            <<<"ok 1 # skip system tests need root (they create namespaces, users, sockets)"
        return
    fi
    logs="$top/build/$flavour/sanitizer-logs"
    rm -rf "$logs" && mkdir -p "$logs"
    export BERTH="$top/build/$flavour/berth"
    export BERTH_TOOLS="$top/build/$flavour/test/tools"
    export BERTH_FLAVOUR="$flavour"
    export BERTH_SANITIZER_LOGS="$logs"
    if [ "$flavour" = asan ]; then
        export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
    fi
    out=$(mktemp)
    bats --tap test/system >"$out" 2>&1 </dev/null
    rc=$?
    count_tap "$flavour system" <"$out"
    if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
        suite_crashed "$flavour system" "$rc" "bats failed to run"
    fi
    rm -f "$out"
    if compgen -G "$logs/*" >/dev/null; then
        for f in "$logs"/*; do echo "== $f"; head -60 "$f"; done
        suite_crashed "$flavour sanitizers" 1 "reports in $logs"
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS
}

[ $# -gt 0 ] || set -- release
fuzzed=0
for flavour in "$@"; do
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
    run_units "$flavour"
    unset ASAN_OPTIONS UBSAN_OPTIONS
    if [ "$fuzzed" -eq 0 ] && [ "$flavour" = release ]; then
        run_fuzz
        fuzzed=1
    fi
    run_system "$flavour"
done

if [ "${#failures[@]}" -gt 0 ]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
