#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Layer unpacking (engine/image/unpack.h) through the test tool tools/unpack-layer.c, on
# archives built by tools/mktar.py. Hostile archives must fail with a message naming the entry
# or stay inside the target, leaving the canary directory beside it untouched; the positive
# ones check whiteouts, hard links, modes, owners, mtimes, xattrs, devices and the diff_id.

load helpers

setup() {
    berth_setup
    UNPACK=$(tool_path unpack-layer)
    LAYER="$TEST_DIR/layer"
    CANARY="$TEST_DIR/canary"
    mkdir -p "$LAYER" "$CANARY/sub"
    echo keep >"$CANARY/keep"
    echo "root:x:0:0" >"$CANARY/passwd"
    echo inner >"$CANARY/sub/inner"
    CANARY_BEFORE=$(canary_state)
}

# Everything about the canary that an escape could change: names, types, modes, sizes,
# mtimes, link counts, contents.
canary_state() {
    (cd "$CANARY" && find . -printf '%p %y %m %s %n %T@\n' | sort && cat keep passwd sub/inner)
}

assert_canary() {
    assert_equal "$CANARY_BEFORE" "$(canary_state)" "the canary directory"
    local stray
    stray=$(find "$TEST_DIR" -path "$LAYER" -prune -o -name 'pwned*' -print)
    assert_equal "" "$stray" "files named pwned* outside the layer"
}

# mk [mktar options] KIND: builds $TEST_DIR/KIND.tar (and KIND.tar.tar, the plain tar, when
# compressed).
mk() {
    local kind=${*: -1}
    run_tool mktar.py "${@:1:$#-1}" "$kind" "$TEST_DIR/$kind.tar"
}

# run_unpack [-N | !] ARGS...: the unpack-layer tool, with run_tool's contract: $status,
# $output (stdout), $stderr; fails unless the status is N (default 0).
run_unpack() {
    local expected=0
    case "${1:-}" in
    -[0-9]*) expected=${1#-}; shift ;;
    '!') expected='!'; shift ;;
    esac
    local errf="$TEST_DIR/.unpack.stderr"
    status=0
    output=$(timeout -k 5 60 "$UNPACK" "$@" 2>"$errf") || status=$?
    stderr=$(cat "$errf")
    rm -f "$errf"
    {
        echo "\$ unpack-layer $*"
        [ -n "$output" ] && printf '%s\n' "$output"
        [ -n "$stderr" ] && printf '[stderr]\n%s\n' "$stderr"
        echo "[exit status $status]"
    } | sed 's/^/    /'
    if [ "$expected" = '!' ]; then
        [ "$status" -ne 0 ] || { echo "unpack-layer: expected a non-zero exit status, got 0"; return 1; }
    elif [ "$status" -ne "$expected" ]; then
        echo "unpack-layer $*: expected exit status $expected, got $status"
        return 1
    fi
}

# Build KIND, unpack it into a fresh layer dir (with the extra tool options) and expect the
# error text; then the canary must be untouched.
expect_refused() {
    local kind=$1 text=$2
    shift 2
    rm -rf "$LAYER" && mkdir "$LAYER"
    mk "$kind"
    run_unpack -1 "$@" "$TEST_DIR/$kind.tar" "$LAYER"
    assert_contains "$stderr" "$text" "the error for '$kind'"
    assert_canary
}

unpack_kind() {
    local kind=${*: -1}
    rm -rf "$LAYER" && mkdir "$LAYER"
    mk "$kind"
    run_unpack "${@:1:$#-1}" "$TEST_DIR/$kind.tar" "$LAYER"
    assert_canary
}

xattr_hex() {
    "$PYTHON" -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())' "$1" "$2"
}

# ---- hostile archives -------------------------------------------------------------------

@test "'..' components are refused with the entry's name, with or without openat2" {
    for walk in "" --walk; do
        expect_refused dotdot "layer entry '../canary/pwned': '..' components are not allowed" $walk
        expect_refused dotdot-deep "layer entry 'a/../../canary/pwned': '..' components" $walk
        expect_refused whiteout-dotdot-path "layer entry '../canary/.wh.keep': '..' components" $walk
    done
}

@test "absolute names land inside the layer" {
    for walk in "" --walk; do
        unpack_kind $walk absolute
        assert_equal abs "$(cat "$LAYER/etc/x")"
        assert_equal inside "$(cat "$LAYER/canary/pwned")"
    done
}

@test "a file written through a symlink out of the tree stays inside the layer" {
    unpack_kind symlink-escape
    assert_equal "../canary" "$(readlink "$LAYER/evil")"
    assert_equal "/canary" "$(readlink "$LAYER/evil2")"
    assert_equal pwned "$(cat "$LAYER/canary/pwned")"
    assert_equal pwned2 "$(cat "$LAYER/canary/pwned2")"
    # Without openat2 the walk refuses to go through the symlink at all.
    expect_refused symlink-escape "layer entry 'evil/pwned': cannot open directory 'evil'" --walk
}

@test "a symlink that dangles inside the root is refused as a parent" {
    expect_refused symlink-dangling "layer entry 'evil/pwned': cannot open directory 'evil'"
    expect_refused symlink-dangling "layer entry 'evil/pwned': cannot open directory 'evil'" --walk
}

@test "'../../..' from the layer root is the layer root" {
    unpack_kind symlink-updots
    assert_equal pwned "$(cat "$LAYER/pwned")"
}

@test "hard links out of the tree or to missing paths are refused" {
    for walk in "" --walk; do
        expect_refused hardlink-dotdot "layer entry 'hl': hard link target '../../canary/keep' has a '..' component" $walk
        expect_refused hardlink-absolute "layer entry 'hl': hard link target '/etc/passwd' does not exist in this layer" $walk
        expect_refused hardlink-missing "layer entry 'hl': hard link target 'nothere' does not exist in this layer" $walk
    done
}

@test "symlink chains resolve inside the root" {
    unpack_kind chain
    assert_equal chain "$(cat "$LAYER/pwned")"
    assert_equal chain2 "$(cat "$LAYER/canary/pwned")"
    expect_refused chain "layer entry 'a/pwned': cannot open directory 'a'" --walk
}

@test "a directory replaced by a symlink between two entries" {
    expect_refused dir-swap "layer entry 'd/pwned': cannot open directory 'd'"
    unpack_kind dir-swap-root
    assert_equal "/" "$(readlink "$LAYER/d")"
    assert_equal 2 "$(cat "$LAYER/second")"
    assert_file_absent "$LAYER/first"
}

@test "whiteouts that try to reach outside are refused" {
    for walk in "" --walk; do
        expect_refused whiteout-dotdot "layer entry '.wh...': invalid whiteout name" $walk
        expect_refused whiteout-dot "layer entry '.wh..': invalid whiteout name" $walk
        expect_refused whiteout-symlink "layer entry 'evil/.wh.keep': cannot open directory 'evil'" $walk
    done
}

# ---- what a layer holds -----------------------------------------------------------------

@test "whiteouts become 0:0 character devices, opaque dirs get the xattr, aufs metadata is skipped" {
    unpack_kind whiteouts
    assert_equal "character special file 0:0" "$(stat -c '%F %t:%T' "$LAYER/dir/gone")"
    assert_equal "character special file 0:0" "$(stat -c '%F %t:%T' "$LAYER/topfile")"
    assert_file_absent "$LAYER/dir/.wh.gone"
    assert_equal 79 "$(xattr_hex "$LAYER/opq" trusted.overlay.opaque)" # "y"
    assert_file_absent "$LAYER/opq/.wh..wh..opq"
    assert_equal k "$(cat "$LAYER/opq/kept")"
    assert_file_absent "$LAYER/.wh..wh.plnk"
}

@test "hard links share an inode" {
    unpack_kind hardlinks
    local ino
    ino=$(stat -c %i "$LAYER/f")
    for p in hl sub/hl2 hl3; do
        assert_equal "$ino 4" "$(stat -c '%i %h' "$LAYER/$p")" "inode and links of $p"
    done
    assert_equal shared "$(cat "$LAYER/sub/hl2")"
}

@test "modes are kept, setuid, setgid and sticky included" {
    unpack_kind modes
    assert_mode "$LAYER/suid" 4755
    assert_mode "$LAYER/sgid" 2755
    assert_mode "$LAYER/sticky" 1777
    assert_mode "$LAYER/ro" 444
    assert_mode "$LAYER/closed" 500
    assert_mode "$LAYER/closed/inner" 600
    # setuid survives the chown that would clear it.
    assert_equal "4750 1234:1234" "$(stat -c '%a %u:%g' "$LAYER/suid-owned")"
}

@test "owners are kept as root, and not with --no-owners" {
    unpack_kind owners
    assert_equal 1234:5678 "$(stat -c %u:%g "$LAYER/home")"
    assert_equal 1234:5678 "$(stat -c %u:%g "$LAYER/home/file")"
    assert_equal 1234:5678 "$(stat -c %u:%g "$LAYER/home/link")"
    unpack_kind --no-owners owners
    assert_equal 0:0 "$(stat -c %u:%g "$LAYER/home/file")"
}

@test "mtimes are kept, the directories' set after their children" {
    unpack_kind mtimes
    assert_equal 1234567890 "$(stat -c %Y "$LAYER/d")"
    assert_equal 1000000000 "$(stat -c %Y "$LAYER/d/f")"
    assert_equal 1000000001 "$(stat -c %Y "$LAYER/d/g")"
    assert_equal 1100000000 "$(stat -c %Y "$LAYER/d/l")"
    assert_equal "1300000000 750" "$(stat -c '%Y %a' "$LAYER")"
}

@test "xattrs are kept, file capabilities included" {
    unpack_kind xattrs
    # struct vfs_cap_data revision 2, effective, permitted CAP_NET_RAW.
    assert_equal 0100000200200000000000000000000000000000 \
        "$(xattr_hex "$LAYER/ping" security.capability)"
    assert_equal "$(printf hello | od -An -tx1 | tr -d ' \n')" "$(xattr_hex "$LAYER/ping" user.berth)"
    assert_equal 64 "$(xattr_hex "$LAYER/xd" user.dir)"
    assert_mode "$LAYER/ping" 755
}

@test "devices are made as root; with --no-devices they are skipped, fifos kept" {
    unpack_kind devices
    assert_equal "character special file 1:3 666" "$(stat -c '%F %t:%T %a' "$LAYER/dev/null")"
    assert_equal "block special file 7:9 660" "$(stat -c '%F %t:%T %a' "$LAYER/dev/loop9")"
    assert_equal fifo "$(stat -c %F "$LAYER/dev/fifo")"
    unpack_kind --no-devices devices
    assert_file_absent "$LAYER/dev/null"
    assert_file_absent "$LAYER/dev/loop9"
    assert_equal fifo "$(stat -c %F "$LAYER/dev/fifo")"
    assert_equal f "$(cat "$LAYER/dev/file")"
}

@test "symlink targets are stored as they are" {
    unpack_kind symlinks
    assert_equal target/x "$(readlink "$LAYER/rel")"
    assert_equal /etc/passwd "$(readlink "$LAYER/abs")"
    assert_equal ../../../../etc/shadow "$(readlink "$LAYER/dots")"
}

@test "later entries replace earlier ones; missing parents are made; names are cleaned" {
    unpack_kind replace
    assert_equal "now a file" "$(cat "$LAYER/a")"
    assert_equal 2 "$(cat "$LAYER/b/inner")"
    assert_equal new "$(cat "$LAYER/c")"
    assert_equal "file over link" "$(cat "$LAYER/s")"
    [ ! -L "$LAYER/s" ] || { echo "s is still a symlink"; false; }
    unpack_kind implicit-parents
    assert_equal deep "$(cat "$LAYER/x/y/z/file")"
    assert_mode "$LAYER/x/y" 755
    unpack_kind names
    assert_equal utf8 "$(cat "$LAYER/café/über.txt")"
    assert_equal clean "$(cat "$LAYER/a/b/c")"
}

# ---- the stream -------------------------------------------------------------------------

@test "the diff_id is the sha256 of the uncompressed tar (gzip, multi-member gzip, zstd, padding)" {
    local comp sum size
    for comp in "" --gzip --gzip-multi --zstd; do
        rm -rf "$LAYER" && mkdir "$LAYER"
        mk $comp --pad 7000 hardlinks
        local plain="$TEST_DIR/hardlinks.tar"
        [ -z "$comp" ] || plain="$TEST_DIR/hardlinks.tar.tar"
        sum=$(sha256sum "$plain" | cut -d' ' -f1)
        size=$(stat -c %s "$plain")
        run_unpack "$TEST_DIR/hardlinks.tar" "$LAYER"
        assert_equal "sha256:$sum" "$(json_get diff_id <<<"$output")" "diff_id of ${comp:-plain}"
        assert_equal "$size" "$(json_get tar_size <<<"$output")" "tar_size of ${comp:-plain}"
        assert_equal 5 "$(json_get entries <<<"$output")"
        # The same from a pipe.
        rm -rf "$LAYER" && mkdir "$LAYER"
        output=$(cat "$TEST_DIR/hardlinks.tar" | "$UNPACK" - "$LAYER")
        assert_equal "sha256:$sum" "$(json_get diff_id <<<"$output")" "diff_id of ${comp:-plain} from a pipe"
        assert_equal shared "$(cat "$LAYER/sub/hl2")"
    done
}

@test "corrupt and truncated streams fail with the decompressor's error" {
    mk --gzip mtimes
    local gz="$TEST_DIR/mtimes.tar" size
    size=$(stat -c %s "$gz")
    head -c $((size - 10)) "$gz" >"$TEST_DIR/trunc.gz"
    run_unpack -1 "$TEST_DIR/trunc.gz" "$LAYER"
    assert_contains "$stderr" "cannot decompress the layer: gzip: unexpected end of the compressed stream"
    "$PYTHON" -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-6] ^= 0xff; open(sys.argv[2], "wb").write(d)' "$gz" "$TEST_DIR/crc.gz"
    rm -rf "$LAYER" && mkdir "$LAYER"
    run_unpack -1 "$TEST_DIR/crc.gz" "$LAYER"
    assert_contains "$stderr" "cannot decompress the layer: gzip: incorrect"
    { cat "$gz"; echo junk; } >"$TEST_DIR/junk.gz"
    rm -rf "$LAYER" && mkdir "$LAYER"
    run_unpack -1 "$TEST_DIR/junk.gz" "$LAYER"
    assert_contains "$stderr" "unexpected data after the end of the stream"
    mk --zstd mtimes
    size=$(stat -c %s "$TEST_DIR/mtimes.tar")
    head -c $((size - 10)) "$TEST_DIR/mtimes.tar" >"$TEST_DIR/trunc.zst"
    rm -rf "$LAYER" && mkdir "$LAYER"
    run_unpack -1 "$TEST_DIR/trunc.zst" "$LAYER"
    assert_contains "$stderr" "cannot decompress the layer: zstd:"
    head -c 3000 /dev/urandom | tr '\037\050' 'xy' >"$TEST_DIR/noise"
    run_unpack -1 "$TEST_DIR/noise" "$LAYER"
    assert_contains "$stderr" "not a tar archive"
}
