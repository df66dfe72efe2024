#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# State files are written atomically (engine/base/fileio.h): a writer killed with SIGKILL at any
# point leaves no file (before its first write) or one whole generation, never a torn one, and
# bt_dir_clean_tmp() removes the temp files such kills leave. The writer and checker are the C
# tool tools/atomic-writer.c, built with the engine's base library.

load helpers

@test "SIGKILL at random points leaves the state file absent or whole (200 runs)" {
    local w d="$TEST_DIR/atomic" runs=200 i ms rc st out g last=0 absent=0 kills=0
    w=$(tool_path atomic-writer)
    mkdir -p "$d"
    # The kills must land among the writes, whatever the writer's start-up costs here (ASan, a
    # loaded machine): measure how long its first write takes, and kill within that plus 20 ms.
    local probe="$TEST_DIR/probe" t0 start_ms=0 p
    mkdir -p "$probe"
    t0=$(date +%s%N)
    "$w" write "$probe" >/dev/null 2>&1 &
    p=$!
    while ! compgen -G "$probe/*" >/dev/null && [ $((($(date +%s%N) - t0) / 1000000)) -lt 5000 ]; do
        sleep 0.001
    done
    start_ms=$((($(date +%s%N) - t0) / 1000000))
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    rm -rf "$probe"
    for ((i = 0; i < runs; i++)); do
        ms=$((RANDOM % (start_ms + 21)))
        # In a subshell whose stderr is discarded, so bash's "Killed" job notice stays quiet;
        # it prints the writer's exit status. The random delay is the point of the test (where
        # the kill lands), not a wait for a condition.
        rc=$(
            "$w" write "$d" >/dev/null 2>"$TEST_DIR/writer.err" &
            pid=$!
            sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
            kill -KILL "$pid" 2>/dev/null || true
            st=0
            wait "$pid" || st=$?
            echo "$st"
        ) 2>/dev/null
        if [ "$rc" = 137 ]; then
            kills=$((kills + 1))
        else
            # It ended on its own: only an error (or a torn file found at start) does that.
            echo "run $i: the writer exited with status $rc before the kill ($ms ms):"
            cat "$TEST_DIR/writer.err"
            false
        fi
        rc=0
        out=$("$w" check "$d") || rc=$?
        if [ "$rc" -ne 0 ]; then
            echo "run $i, killed after $ms ms: $out"
            ls -la "$d"
            false
        fi
        case "$out" in
        absent)
            absent=$((absent + 1))
            ;;
        "gen "*)
            g=${out#gen }
            if [ "$g" -lt "$last" ]; then
                echo "run $i: generation went back from $last to $g"
                false
            fi
            last=$g
            ;;
        *)
            echo "run $i: unexpected checker output '$out'"
            false
            ;;
        esac
    done
    echo "$runs runs, $kills killed, $absent absent, last generation $last (first write after ${start_ms} ms)"
    # Not vacuous: the kills must have landed among many writes.
    if [ "$last" -lt 10 ]; then
        echo "only $last generations were written in $runs runs: the kills did not test writes"
        false
    fi

    # Kills mid-write leave ".state.json.tmp-*" files; clean removes them all and nothing else.
    local before after
    before=$(find "$d" -maxdepth 1 -name '.*.tmp-*' | wc -l)
    echo "$before temp files left by the kills"
    out=$("$w" clean "$d")
    assert_equal "removed $before" "$out" "output of atomic-writer clean"
    after=$(find "$d" -maxdepth 1 -name '.*.tmp-*')
    assert_equal "" "$after" "temp files after bt_dir_clean_tmp"
    out=$("$w" check "$d")
    assert_equal "gen $last" "$out" "state file after clean"
}

@test "bt_dir_clean_tmp removes the writer's temp files and nothing else" {
    local w d="$TEST_DIR/clean" out
    w=$(tool_path atomic-writer)
    mkdir -p "$d"
    out=$("$w" write "$d" 3)
    assert_equal "gen 3" "$out" "writer output"
    : >"$d/.state.json.tmp-0123456789abcdef"
    : >"$d/.other.json.tmp-00000000deadbeef"
    : >"$d/notes.txt"
    : >"$d/.hidden"
    : >"$d/plain.tmp-1"
    out=$("$w" clean "$d")
    assert_equal "removed 2" "$out" "output of atomic-writer clean"
    assert_equal "$(printf '%s\n' .hidden notes.txt plain.tmp-1 state.json written)" \
        "$(ls -A "$d" | LC_ALL=C sort)" "files left"
    out=$("$w" check "$d")
    assert_equal "gen 3" "$out" "state file after clean"
    # A second clean finds nothing.
    out=$("$w" clean "$d")
    assert_equal "removed 0" "$out" "second clean"
}

@test "a completed write is whole, with its mode, and leaves no temp file" {
    local w d="$TEST_DIR/whole" out
    w=$(tool_path atomic-writer)
    mkdir -p "$d"
    out=$("$w" check "$d")
    assert_equal absent "$out" "before any write"
    out=$("$w" write "$d" 50)
    assert_equal "gen 50" "$out" "writer output"
    out=$("$w" check "$d")
    assert_equal "gen 50" "$out" "checker"
    assert_mode "$d/state.json" 640
    assert_equal "" "$(find "$d" -maxdepth 1 -name '.*.tmp-*')" "temp files"
}
