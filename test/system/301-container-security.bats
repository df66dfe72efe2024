#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The isolation and the defaults a container gets, each checked from inside a real container:
# namespaces, capabilities, seccomp, masked and read-only paths, devices, read-only root, and a
# hostile image whose symlinks aim mounts at host paths.

load helpers
load helpers-registry
load helpers-container

# in_ctr [FLAGS...] -- CMD: run CMD with sh -c in a fresh container; $output ends with
# "rc=N", CMD's exit status.
in_ctr() {
    local flags=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        flags+=("$1")
        shift
    done
    shift
    run_berth container run --rm "${flags[@]}" busybox sh -c "$*; echo rc=\$?"
}

@test "host processes are invisible; the command is PID 1 of its own namespaces" {
    run_berth container run --rm busybox sh -c 'echo $$; ls /proc | grep -c "^[0-9]"'
    [ "${lines[0]}" = 1 ]
    [ "${lines[1]}" -le 3 ] || { echo "sees ${lines[1]} processes"; return 1; }
    for ns in pid mnt uts ipc net cgroup; do
        host=$(readlink /proc/self/ns/$ns)
        run_berth container run --rm busybox readlink /proc/self/ns/$ns
        [ "$output" != "$host" ] || { echo "$ns namespace is the host's"; return 1; }
    done
    run_berth container run --rm busybox cat /proc/self/cgroup
    [[ "$output" != *berth* ]] || { echo "the cgroup namespace shows host paths: $output"; return 1; }
}

@test "capabilities are exactly Docker's default set, in every set that matters" {
    run_berth container run --rm busybox grep -E '^Cap(Eff|Bnd|Prm|Inh|Amb)' /proc/self/status
    printf '%s\n' "$output"
    [[ "$output" == *"CapEff:	00000000a80425fb"* ]]
    [[ "$output" == *"CapBnd:	00000000a80425fb"* ]]
    [[ "$output" == *"CapPrm:	00000000a80425fb"* ]]
    [[ "$output" == *"CapAmb:	0000000000000000"* ]]
    run_berth container run --rm -u nobody busybox grep ^CapEff /proc/self/status
    [[ "$output" == *"0000000000000000"* ]] || { echo "a non-root user keeps capabilities"; return 1; }
    run_berth container run --rm --cap-add NET_ADMIN --cap-drop CHOWN busybox grep ^CapEff /proc/self/status
    [[ "$output" == *"00000000a80435fa"* ]] || { echo "cap-add/cap-drop not applied"; return 1; }
    run_berth container run --rm --cap-drop ALL busybox grep ^CapBnd /proc/self/status
    [[ "$output" == *"0000000000000000"* ]]
}

@test "mount, module load, /proc/sys writes and raw sockets without NET_RAW are refused" {
    in_ctr -- 'mount -t tmpfs none /mnt'
    [[ "$output" == *"rc=1"* || "$output" == *"rc=255"* ]] || { echo "mount worked: $output"; return 1; }
    in_ctr -- 'echo 1 > /proc/sys/kernel/sysrq'
    [[ "$output" != *"rc=0"* ]] || { echo "/proc/sys is writable"; return 1; }
    in_ctr -- 'insmod /nonexistent.ko'
    [[ "$output" != *"rc=0"* ]]
    in_ctr -- 'echo 1 > /proc/sysrq-trigger'
    [[ "$output" != *"rc=0"* ]]
    # Docker keeps NET_RAW by default; without it a raw socket is refused.
    in_ctr --cap-drop NET_RAW -- 'ping -c 1 -W 1 127.0.0.1 2>&1'
    [[ "$output" == *"permitted"* || "$output" == *"rc=1"* ]] || { echo "$output"; return 1; }
}

@test "seccomp is in filter mode and blocks what Docker's profile blocks" {
    run_berth container run --rm busybox grep ^Seccomp: /proc/self/status
    [[ "$output" == *"2"* ]] || { echo "seccomp not in filter mode: $output"; return 1; }
    in_ctr -- 'unshare -U true'
    [[ "$output" != *"rc=0"* ]] || { echo "a user namespace could be made"; return 1; }
    run_berth container run --rm --security-opt seccomp=unconfined busybox grep ^Seccomp: /proc/self/status
    [[ "$output" == *"0"* ]]
    # A profile of our own: everything allowed but mkdir.
    cat >"$TEST_DIR/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
    run_berth '!' container run --rm --security-opt "seccomp=$TEST_DIR/profile.json" busybox mkdir /x
    [[ "$output" == *"not permitted"* ]] || { echo "got: $output"; return 1; }
    # Docker ignores AppArmor options on a host without AppArmor; berth says so.
    run_berth container run --rm --security-opt apparmor=foo busybox true
    [[ "$output" == *"WARNING"*apparmor* ]]
}

@test "masked paths read empty, read-only paths refuse writes, only default devices exist" {
    # Each masked path the host has reads empty in the container (this kernel may lack some).
    for p in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts /proc/sched_debug; do
        [ -e "$p" ] || continue
        run_berth container run --rm busybox sh -c "cat $p | wc -c"
        [ "$output" = 0 ] || { echo "$p reads $output bytes"; return 1; }
    done
    for d in /proc/acpi /sys/firmware /proc/scsi; do
        [ -e "$d" ] || continue
        run_berth container run --rm busybox sh -c "ls $d | wc -l"
        [ "$output" = 0 ] || { echo "$d lists $output entries"; return 1; }
    done
    run_berth container run --rm busybox ls /dev
    want="console fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
    got=$(printf '%s\n' "$output" | tr '\n' ' ' | sed 's/ $//')
    # /dev/console only exists with a tty.
    want_notty=${want/console /}
    [ "$got" = "$want_notty" ] || { echo "want: $want_notty"; echo "got:  $got"; return 1; }
    in_ctr -- 'mknod /dev/sdx b 8 0 && head -c 1 /dev/sdx'
    [[ "$output" != *"rc=0"* ]] || { echo "a block device was readable"; return 1; }
    run_berth container run --rm busybox sh -c 'grep -E " /sys | /proc/sys " /proc/self/mountinfo'
    [[ "$output" == *" /sys "*"ro,"* ]] || { echo "/sys not read-only: $output"; return 1; }
}

@test "read_only root, tmpfs, ulimits, sysctls and shm size" {
    in_ctr --read-only -- 'touch /x'
    [[ "$output" != *"rc=0"* ]]
    run_berth container run --rm --read-only --tmpfs /scratch busybox sh -c 'touch /scratch/x && echo ok'
    [ "$output" = ok ]
    run_berth container run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn'
    [ "${lines[0]}" = 100 ] && [ "${lines[1]}" = 200 ]
    run_berth container run --rm --sysctl net.ipv4.ip_forward=1 busybox cat /proc/sys/net/ipv4/ip_forward
    [ "$output" = 1 ]
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" != x ] # the host's is untouched (any value)
    run_berth '!' container run --rm --sysctl vm.swappiness=1 busybox true
    [[ "$output" == *namespaced* ]] || { echo "got: $output"; return 1; }
    run_berth container run --rm --shm-size 1m busybox df -k /dev/shm
    [[ "$output" == *" 1024 "* ]] || { echo "got: $output"; return 1; }
}

@test "a hostile image cannot redirect a mount to a host path" {
    canary="$TEST_DIR/canary"
    mkdir -p "$canary" "$TEST_DIR/src"
    echo original >"$canary/file"
    echo payload >"$TEST_DIR/src/file"
    # An image whose /data and /etc/hosts are symlinks to host paths.
    "$PYTHON" - "$TEST_DIR/hostile.tar" "$canary" <<'PY'
import io, sys, tarfile
out, canary = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w") as t:
    for name, target in (("data", canary), ("etc", canary), ("up", "../../../../../../" + canary)):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
PY
    run_berth image import --change 'CMD ["/x"]' "$TEST_DIR/hostile.tar" hostile:1
    # No shell inside: the run fails at exec, after every mount was made.
    run_berth '!' container run --rm -v "$TEST_DIR/src:/data" -v "$TEST_DIR/src:/up" hostile:1
    [ "$(cat "$canary/file")" = original ] || { echo "the host's canary changed"; return 1; }
    [ "$(ls "$canary")" = file ] || { echo "something was created in the canary dir: $(ls "$canary")"; return 1; }
    ! grep -qF "$canary" /proc/self/mountinfo
    assert_no_mounts
}

@test "devices: a host device appears with its numbers and the device cgroup allows it" {
    [ -c /dev/fuse ] || skip "this host has no /dev/fuse (the fuse module is not loaded)"
    # Without it, the same node made inside is refused by the device cgroup.
    in_ctr -- 'mknod /dev/f c 10 229 && dd if=/dev/f of=/dev/null count=0'
    [[ "$output" != *"rc=0"* ]] || { echo "/dev/fuse opened without --device"; return 1; }
    run_berth container run --rm --device /dev/fuse:/dev/myfuse busybox sh -c 'stat -c "%t:%T %F" /dev/myfuse; dd if=/dev/myfuse of=/dev/null count=0 2>/dev/null && echo opened'
    [ "${lines[0]}" = "a:e5 character special file" ] || { echo "got: $output"; return 1; }
    [ "${lines[1]}" = opened ]
    run_berth '!' container run --rm --device /etc/passwd busybox true
    [[ "$output" == *"not a device"* ]]
}

@test "a mount target behind a dangling symlink is made inside the root, never on the host" {
    mkdir -p "$TEST_DIR/src"
    echo payload >"$TEST_DIR/src/file"
    escape="/tmp/berth-escape-$$"
    rm -rf "$escape"
    "$PYTHON" - "$TEST_DIR/links.tar" "$escape" <<'PY'
import sys, tarfile
out, escape = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w") as t:
    t.add("/bin/busybox", "bin/busybox")
    def link(name, target):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
    link("bin/sh", "busybox")
    link("data", "/srv/real/data")        # absolute, dangling
    link("rel", "store/x")                # relative, dangling
    link("up", "../../../.." + escape)    # climbs above the root: stays inside it
    link("loop", "loop")
PY
    run_berth image import --change 'CMD ["/bin/sh"]' "$TEST_DIR/links.tar" links:1
    run_berth container run --rm -v "$TEST_DIR/src:/data" -v "$TEST_DIR/src:/rel" \
        -v "$TEST_DIR/src:/up" links:1 /bin/busybox sh -c \
        "/bin/busybox cat /srv/real/data/file /store/x/file $escape/file"
    [ "$output" = "$(printf 'payload\npayload\npayload')" ] || { echo "got: $output"; return 1; }
    [ ! -e "$escape" ] || { rm -rf "$escape"; echo "a mount reached the host's $escape"; return 1; }
    run_berth '!' container run --rm -v "$TEST_DIR/src:/loop" links:1 /bin/busybox true
    [[ "$output" == *"Too many levels of symbolic links"* ]] || { echo "got: $output"; return 1; }
    assert_no_mounts
}
