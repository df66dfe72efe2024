#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# schemas/protocol.schema.json describes what really goes over the socket: real messages,
# traced by the CLI (BERTH_PROTO_TRACE) and received by the abuse tool, are validated against it
# with Debian's python3-jsonschema (tools/validate_schema.py), replies per operation.

load helpers

SCHEMA="$BERTH_TOP/schemas/protocol.schema.json"

validate() {
    run_tool "$@"
}

@test "the validator accepts valid messages and rejects invalid ones" {
    local good="$TEST_DIR/good.jsonl" bad="$TEST_DIR/bad.jsonl"
    cat >"$good" <<'EOF'
{"type":"hello","protocol":1,"client":"test"}
{"type":"hello","protocol":1,"daemon":"0.1.0","pid":42}
{"type":"request","id":1,"op":"ping"}
{"type":"reply","id":1,"result":{}}
{"type":"error","id":2,"code":"unknown_op","message":"unknown op 'x'","hint":"did you mean 'ping'?"}
EOF
    validate validate_schema.py "$SCHEMA" "$good"
    assert_contains "$output" "5 messages, 0 invalid"
    cat >"$bad" <<'EOF'
{"type":"hello","protocol":1,"client":"test"}
{"type":"error","code":"no_such_code","message":"x"}
{"type":"request","id":1,"op":"ping"}
{"type":"reply","id":1,"result":{"unexpected":true}}
not json
EOF
    validate -1 validate_schema.py "$SCHEMA" "$bad"
    assert_contains "$output" "invalid $bad:2"
    assert_contains "$output" "invalid $bad:4"
    assert_contains "$output" "invalid $bad:5"
    assert_contains "$output" "5 messages, 3 invalid"
}

@test "every message the CLI sends and receives matches the schema" {
    local trace="$TEST_DIR/trace.jsonl" raw="$TEST_DIR/raw.jsonl"
    BERTH_PROTO_TRACE=$trace run_berth version
    BERTH_PROTO_TRACE=$trace run_berth version --format json
    BERTH_PROTO_TRACE=$trace run_berth system info
    BERTH_PROTO_TRACE=$trace run_berth system info --format json
    BERTH_PROTO_TRACE=$trace run_berth daemon status
    # ping has no command: the tool speaks it and traces the same way.
    run_tool proto_abuse.py --sock "$SOCK" --trace "$raw" call ping
    run_tool proto_abuse.py --sock "$SOCK" --trace "$raw" call version
    run_tool proto_abuse.py --sock "$SOCK" --trace "$raw" call system.info
    BERTH_PROTO_TRACE=$trace run_berth daemon stop
    [ -s "$trace" ] || { echo "BERTH_PROTO_TRACE=$trace produced nothing"; false; }
    echo "== trace:"
    cat "$trace"
    validate validate_schema.py "$SCHEMA" "$trace" "$raw"
    # Both hellos, and a reply checked against its op's result schema for each op.
    assert_match "$output" "^ok $trace:[0-9]+ hello\$" "validated lines"
    local op
    for op in version system.info daemon.stop; do
        assert_match "$output" "^ok $trace:[0-9]+ request op=$op\$" "validated lines"
        assert_match "$output" "^ok $trace:[0-9]+ reply op=$op\$" "validated lines"
    done
    assert_match "$output" "^ok $raw:[0-9]+ reply op=ping\$" "validated lines"
    # Six CLI runs: six client hellos and six daemon hellos, nothing else half-traced.
    local hellos
    hellos=$(grep -c "^ok $trace:[0-9]* hello\$" <<<"$output")
    assert_equal 12 "$hellos" "hello messages in the CLI trace"
}

@test "the errors the daemon sends to a misbehaving client match the schema" {
    start_daemon
    local dump="$TEST_DIR/errors.jsonl"
    local a=(proto_abuse.py --sock "$SOCK" --dump "$dump")
    run_tool "${a[@]}" random --bytes 2048
    run_tool "${a[@]}" not-object
    run_tool "${a[@]}" missing-fields
    run_tool "${a[@]}" before-hello
    run_tool "${a[@]}" unknown-op --op verison
    run_tool "${a[@]}" mismatch --proto 7
    RUN_TOOL_TIMEOUT=60 run_tool "${a[@]}" too-large --mib 9
    echo "== received:"
    cat "$dump"
    validate validate_schema.py "$SCHEMA" "$dump"
    local code
    for code in bad_message handshake_required unknown_op protocol_mismatch message_too_large; do
        assert_contains "$output" "error code=$code" "validated lines"
    done
}
