#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Volumes of `berth container`: a named volume is filled from the image on first use (and not
# again), nocopy, anonymous volumes for the image's VOLUMEs that survive a restart of the same
# container and go with rm -v (not with rm), volumes_from with :ro, and a hostile image whose
# volume paths hold symlinks to a host canary.

load helpers
load helpers-registry
load helpers-container

# vol:1: busybox plus /data (a file with an owner and mode, a sub directory, a symlink) and
# VOLUME ["/data"].
make_vol_image() {
    local root="$TEST_DIR/rootfs"
    "$BERTH_TOP/test/images/busybox-rootfs.sh" "$root" >/dev/null
    mkdir -p "$root/data/sub"
    echo hello >"$root/data/hello"
    chown 1234:5678 "$root/data/hello"
    chmod 0640 "$root/data/hello"
    echo deep >"$root/data/sub/deep"
    ln -s /etc/passwd "$root/data/link"
    tar -C "$root" -cf "$TEST_DIR/vol.tar" .
    run_berth image import --change 'VOLUME ["/data"]' --change 'CMD ["sh"]' "$TEST_DIR/vol.tar" vol:1
}

# The name of a container's anonymous volume at a target.
anon_volume() {
    local id
    id=$(container_field "$1" .Id)
    printf '%s%s' "$id" "$2" | sha256sum | cut -d' ' -f1
}

@test "a named volume is filled from the image on first use, and not again" {
    make_vol_image
    run_berth container run --rm -v v1:/data vol:1 sh -c \
        'cat /data/hello; stat -c "%u:%g %a" /data/hello; cat /data/sub/deep; readlink /data/link; echo new >/data/new; rm /data/hello'
    [ "${lines[0]}" = hello ] && [ "${lines[1]}" = "1234:5678 640" ] && [ "${lines[2]}" = deep ] &&
        [ "${lines[3]}" = /etc/passwd ] || { echo "got: $output"; return 1; }
    [ -L "$BERTH_ROOT/volumes/v1/_data/link" ]
    # Not empty any more: the deleted file does not come back; what was written stays.
    run_berth container run --rm -v v1:/data vol:1 ls /data
    [ "$(printf '%s\n' "$output" | tr '\n' ' ')" = "link new sub " ] || { echo "got: $output"; return 1; }
    run_berth container run --rm -v v2:/data:nocopy vol:1 ls -A /data
    [ -z "$output" ] || { echo "nocopy, got: $output"; return 1; }
    assert_no_mounts
}

@test "an image VOLUME gets an anonymous volume: kept across starts and by rm, gone with rm -v" {
    make_vol_image
    run_berth container create --name a vol:1 sh -c 'echo run >>/data/log; cat /data/hello'
    run_berth container start a
    run_berth container wait a
    run_berth container start a
    run_berth container wait a
    vol=$(anon_volume a /data)
    data="$BERTH_ROOT/volumes/$vol/_data"
    [ "$(cat "$data/log")" = "run"$'\n'"run" ] || { echo "log: $(cat "$data/log")"; return 1; }
    [ -f "$data/hello" ]
    run_berth container rm a
    [ -d "$data" ] || { echo "rm removed the anonymous volume"; return 1; }
    # A spec volume without a name is anonymous too; rm -v removes both kinds.
    run_berth container create --name b -v /other vol:1 sh -c 'touch /other/x /data/y'
    run_berth container start b
    run_berth container wait b
    vb=$(anon_volume b /data)
    vo=$(anon_volume b /other)
    [ -f "$BERTH_ROOT/volumes/$vo/_data/x" ] && [ -f "$BERTH_ROOT/volumes/$vb/_data/y" ]
    run_berth container rm -v b
    [ ! -e "$BERTH_ROOT/volumes/$vb" ] && [ ! -e "$BERTH_ROOT/volumes/$vo" ] ||
        { echo "rm -v left: $(ls "$BERTH_ROOT/volumes")"; return 1; }
    # run --rm removes its anonymous volumes too, as Docker.
    before=$(ls "$BERTH_ROOT/volumes" | wc -l)
    run_berth container run --rm vol:1 true
    [ "$(ls "$BERTH_ROOT/volumes" | wc -l)" = "$before" ]
    assert_no_mounts
}

@test "volumes_from: the other container's volumes, read-only with :ro" {
    make_vol_image
    run_berth container create --name src -v named:/named vol:1 sh -c 'echo mine >/named/f'
    run_berth container start src
    run_berth container wait src
    run_berth container run --rm --volumes-from src vol:1 sh -c 'cat /named/f /data/hello; echo more >/data/more'
    [ "$output" = "mine"$'\n'"hello" ] || { echo "got: $output"; return 1; }
    # The writes went to src's anonymous volume, not to a new one.
    [ -f "$BERTH_ROOT/volumes/$(anon_volume src /data)/_data/more" ]
    run_berth '!' container run --rm --volumes-from src:ro vol:1 touch /named/g
    [[ "$output" == *"Read-only"* ]] || { echo "got: $output"; return 1; }
    run_berth '!' container run --rm --volumes-from nosuch vol:1 true
    [[ "$output" == *"no such container"* ]] || { echo "got: $output"; return 1; }
    # rm -v of a container that uses src's volumes leaves them to src.
    run_berth container create --name user --volumes-from src vol:1 true
    run_berth container rm -v user
    [ -d "$BERTH_ROOT/volumes/$(anon_volume src /data)" ]
    assert_no_mounts
}

@test "a hostile image: symlinks at and inside volume paths never reach the host" {
    canary="$TEST_DIR/canary"
    mkdir -p "$canary"
    echo original >"$canary/file"
    "$PYTHON" - "$TEST_DIR/hostile.tar" "$canary" <<'PY'
import sys, tarfile
out, canary = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w") as t:
    def link(name, target):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
    link("data", canary)             # the volume path itself
    d = tarfile.TarInfo("vol2"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    link("vol2/file", canary + "/file")
    link("vol2/dir", canary)
    link("vol2/up", "../../../../../../../" + canary)
PY
    run_berth image import --change 'VOLUME ["/data", "/vol2"]' --change 'CMD ["/x"]' \
        "$TEST_DIR/hostile.tar" hostile:1
    # /vol2 is mounted first (and filled); /data, a link to a path the root does not have,
    # then fails the start (berth does not create a symlink's target).
    run_berth '!' container run --rm -v h2:/vol2 -v h1:/data hostile:1
    [ "$(cat "$canary/file")" = original ] || { echo "the host's canary changed"; return 1; }
    [ "$(ls -A "$canary")" = file ] || { echo "the canary dir changed: $(ls -A "$canary")"; return 1; }
    # The links were copied as links, nothing was read through them.
    for l in file dir up; do
        [ -L "$BERTH_ROOT/volumes/h2/_data/$l" ] || { echo "$l is not a link"; return 1; }
    done
    [ -z "$(ls -A "$BERTH_ROOT/volumes/h1/_data")" ]
    ! grep -qF "$canary" /proc/self/mountinfo
    assert_no_mounts
}
