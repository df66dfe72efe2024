#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Containers through `berth container`: run with output and exit codes, the image's and the
# flags' configuration (command, entrypoint, env, user, workdir, hostname), detached runs, ls,
# inspect, stop/kill/pause/rm, and that nothing of a removed container stays behind.

load helpers
load helpers-registry
load helpers-container

@test "container run: output and exit code come back" {
    run_berth container run --rm busybox echo hello from berth
    [ "$output" = "hello from berth" ] || { echo "got '$output'"; return 1; }
    run_berth -3 container run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
    [[ "$output" == *out* ]] && [[ "$output" == *err* ]]
    # A command killed by a signal: 128 + the signal, as a shell reports it.
    run_berth -143 container run --rm busybox sh -c 'sleep 100 & kill -TERM $!; wait $!'
}

@test "container run: an unknown command fails with a clear message" {
    run_berth '!' container run --rm busybox no-such-command
    [[ "$output" == *"no-such-command"*"not found"* ]] || { echo "got: $output"; return 1; }
    run_berth '!' container run --rm no-such-image true
    [[ "$output" == *"no such image"* ]] || { echo "got: $output"; return 1; }
}

@test "container run: command, entrypoint, env, workdir, user and hostname" {
    run_berth container run --rm busybox pwd
    [ "$output" = / ]
    run_berth container run --rm -w /tmp busybox pwd
    [ "$output" = /tmp ]
    run_berth container run --rm -e FOO=bar -e EMPTY= busybox sh -c 'echo "$FOO|$EMPTY|$PATH"'
    [ "$output" = "bar||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ] ||
        { echo "got '$output'"; return 1; }
    run_berth container run --rm --entrypoint /bin/echo busybox a b
    [ "$output" = "a b" ]
    run_berth container run --rm -u nobody busybox id -u
    [ "$output" = 65534 ]
    run_berth container run --rm -u 1234:5678 busybox id
    [[ "$output" == "uid=1234 gid=5678"* ]] || { echo "got '$output'"; return 1; }
    run_berth container run --rm -h web.local busybox hostname
    [ "$output" = web.local ]
    run_berth container run --rm --name named busybox cat /etc/hostname
    [ "$output" != "" ]
}

@test "container run -d, ls, inspect, logs, stop and rm" {
    run_berth container run -d --name sleeper busybox sh -c 'echo started; exec sleep 1000'
    id=$output
    [ "${#id}" -eq 64 ] || { echo "not an id: '$id'"; return 1; }
    run_berth container ls
    [[ "$output" == *sleeper* ]] && [[ "$output" == *"Up "* ]]
    [ "$(container_field sleeper .State.Status)" = running ]
    pid=$(container_field sleeper .State.Pid)
    [ -d "/proc/$pid" ]
    wait_for "$BERTH container logs sleeper | grep -q started" 10
    # sleep as PID 1 has no SIGTERM handler: the kernel drops the signal, so stop kills at once
    # rather than waiting out the grace period (30 s here).
    start=$(date +%s)
    run_berth container stop -t 30 sleeper
    [ $(($(date +%s) - start)) -lt 10 ] || { echo "stop waited for the grace period"; return 1; }
    [ "$(container_field sleeper .State.Status)" = exited ]
    [ "$(container_field sleeper .State.ExitCode)" = 137 ]
    run_berth container ls
    [[ "$output" != *sleeper* ]]
    run_berth container ls -a
    [[ "$output" == *sleeper* ]] && [[ "$output" == *"Exited (137)"* ]]
    run_berth container rm sleeper
    run_berth '!' container inspect sleeper
    assert_no_mounts
    assert_no_cgroup "$id"
    [ ! -e "$BERTH_ROOT/containers/$id" ]
}

@test "container stop: a process that catches SIGTERM gets it; one that catches it and goes on waits the grace period" {
    run_berth container run -d --name polite busybox sh -c 'trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'
    wait_for "$BERTH container logs polite >/dev/null" 5
    run_berth container stop -t 20 polite
    [ "$(container_field polite .State.ExitCode)" = 0 ]
    run_berth container logs polite
    [[ "$output" == *bye* ]]
    # A handler that does not exit: the signal arrives and changes nothing, so stop waits.
    run_berth container run -d --name stubborn busybox sh -c 'trap "echo ignored" TERM; while :; do sleep 0.1; done'
    start=$(date +%s)
    run_berth container stop -t 2 stubborn
    [ $(($(date +%s) - start)) -ge 2 ] || { echo "stop did not wait the grace period"; return 1; }
    [ "$(container_field stubborn .State.ExitCode)" = 137 ]
    # SIG_IGN: the kernel drops the signal, so waiting is pointless and stop kills at once.
    run_berth container run -d --name deaf busybox sh -c 'trap "" TERM; while :; do sleep 0.1; done'
    start=$(date +%s)
    run_berth container stop -t 30 deaf
    [ $(($(date +%s) - start)) -lt 10 ] || { echo "stop waited for an ignored signal"; return 1; }
    run_berth container rm polite stubborn deaf
}

@test "container kill, pause and unpause, rm -f" {
    run_berth container run -d --name k busybox sh -c 'trap "exit 7" USR1; while :; do sleep 0.1; done'
    run_berth container kill -s USR1 k
    wait_for_state k exited
    [ "$(container_field k .State.ExitCode)" = 7 ]
    run_berth container start k
    wait_for_state k running
    run_berth container pause k
    [ "$(container_field k .State.Status)" = paused ]
    run_berth container unpause k
    [ "$(container_field k .State.Status)" = running ]
    run_berth '!' container rm k
    [[ "$output" == *running* ]]
    id=$(container_field k .Id)
    run_berth container rm -f k
    assert_no_mounts
    assert_no_cgroup "$id"
}

@test "container run --init: berth-init is PID 1, reaps and forwards signals" {
    run_berth container run --rm --init busybox sh -c 'cat /proc/1/comm; echo $$'
    [ "${lines[0]}" != sh ] || { echo "PID 1 is the command, not the init"; return 1; }
    [ "${lines[1]}" != 1 ]
    run_berth container run -d --init --name withinit busybox sleep 1000
    start=$(date +%s)
    run_berth container stop -t 20 withinit
    [ $(($(date +%s) - start)) -lt 10 ]
    # The init forwarded SIGTERM to sleep, which died of it: 128 + 15.
    [ "$(container_field withinit .State.ExitCode)" = 143 ]
    run_berth container rm withinit
}

@test "image rm refuses an image a container uses; -f removes it but the container keeps its layers" {
    run_berth container create --name user busybox sh -c 'echo still runs'
    run_berth '!' image rm busybox
    [[ "$output" == *container* ]] || { echo "got: $output"; return 1; }
    run_berth image rm -f busybox
    [[ "$output" == *Deleted* ]]
    # Docker keeps a container's layers when its image goes: it still starts.
    run_berth container start user
    run_berth container wait user
    run_berth container logs user
    [ "$output" = "still runs" ]
    # Its layers go with the container.
    run_berth container rm user
    [ -z "$(ls "$BERTH_ROOT/images/layers")" ] || { echo "layers left: $(ls "$BERTH_ROOT/images/layers")"; return 1; }
    # A running container's image cannot be removed, even with -f (untagging a second name can).
    load_busybox
    run_berth image tag busybox second:1
    run_berth container run -d --name running busybox sleep 1000
    run_berth image rm -f second:1
    [[ "$output" == *Untagged* ]]
    run_berth '!' image rm -f busybox
    [[ "$output" == *"cannot be forced"* ]]
    run_berth container rm -f running
    run_berth image rm busybox
}

@test "200 run/stop/rm cycles leave no mount, cgroup, process or directory" {
    local ids=() i
    for ((i = 0; i < 200; i++)); do
        run_berth container run --rm --network none busybox true
    done
    for ((i = 0; i < 10; i++)); do
        run_berth container run -d busybox sleep 1000
        ids+=("$output")
    done
    for id in "${ids[@]}"; do
        run_berth container rm -f "$id"
    done
    [ -z "$(container_ids)" ] || { echo "containers left: $(container_ids)"; return 1; }
    assert_no_mounts
    assert_no_cgroup "${ids[@]}"
}

@test "container exec: same namespaces, env, user, workdir, capabilities and seccomp; exit codes" {
    run_berth container run -d --name target -e FOO=bar -h box busybox sleep 1000
    run_berth container exec target sh -c 'echo "$FOO $(hostname) $(cat /proc/1/cmdline | tr "\0" " ")"'
    [ "$output" = "bar box sleep 1000 " ] || { echo "got '$output'"; return 1; }
    run_berth container exec target grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status
    [[ "$output" == *"CapEff:	00000000a80425fb"* ]] && [[ "$output" == *"Seccomp:	2"* ]]
    run_berth container exec -u nobody -w /tmp -e X=1 target sh -c 'id -u; pwd; echo $X $FOO'
    [ "${lines[0]}" = 65534 ] && [ "${lines[1]}" = /tmp ] && [ "${lines[2]}" = "1 bar" ]
    run_berth -5 container exec target sh -c 'exit 5'
    output=$(echo piped | "$BERTH" container exec -i target cat)
    [ "$output" = piped ]
    # With -t the process gets a terminal of the container's own devpts (script gives the CLI
    # one to relay to).
    output=$(timeout 30 script -qc "$BERTH container exec -t target sh -c 'tty; echo done'" /dev/null </dev/null | tr -d '\r')
    [[ "$output" == "/dev/pts/"*done* ]] || { echo "got: $output"; return 1; }
    run_berth container exec target cat /proc/self/cgroup
    [[ "$output" != *berth* ]] || { echo "exec is outside the container's cgroup namespace"; return 1; }
    run_berth container exec --privileged target grep ^Seccomp: /proc/self/status
    [[ "$output" == *0 ]]
    run_berth '!' container exec target no-such-command
    [[ "$output" == *no-such-command*"not found"* ]]
    run_berth container stop target
    run_berth '!' container exec target true
    [[ "$output" == *"not running"* ]]
    run_berth container rm target
}

@test "container:NAME shares another container's network, ipc and pid namespaces" {
    run_berth container run -d --name holder busybox sleep 1000
    holder_net=$("$BERTH" container exec holder readlink /proc/self/ns/net)
    run_berth container run --rm --network container:holder --ipc container:holder --pid container:holder busybox sh -c 'readlink /proc/self/ns/net; ps -o comm | grep -c sleep'
    [ "${lines[0]}" = "$holder_net" ] || { echo "not in holder's network namespace: $output"; return 1; }
    [ "${lines[1]}" -ge 1 ] || { echo "holder's processes are not visible"; return 1; }
    run_berth '!' container run --rm --network container:nobody-here busybox true
    [[ "$output" == *"no such container"* ]]
    run_berth container rm -f holder
}

@test "the container operations' messages match the protocol schema" {
    local trace="$TEST_DIR/trace.jsonl"
    export BERTH_PROTO_TRACE=$trace
    run_berth container create --name a busybox sh -c 'echo hi; sleep 1000'
    run_berth container start a
    run_berth container ls -a
    run_berth container exec a true
    run_berth container exec -d a true
    run_berth container pause a
    run_berth container unpause a
    run_berth container logs a
    run_berth container inspect a
    run_berth container kill a
    run_berth container wait a
    run_berth container stop a
    run_berth container rm a
    run_berth container run --rm busybox echo attached
    run_berth container run -d --name b busybox true
    run_berth container rm -f b
    unset BERTH_PROTO_TRACE
    run_tool validate_schema.py "$BERTH_TOP/schemas/protocol.schema.json" "$trace"
    local op
    for op in create start list exec pause unpause logs inspect kill wait stop rm run; do
        assert_match "$output" "^ok $trace:[0-9]+ reply op=container.$op\$" "validated lines"
    done
}

@test "container run -t gets a terminal, -i reads the caller's stdin" {
    run_berth container run --rm -t busybox sh -c 'tty; test -c /dev/console && echo console; echo $TERM'
    [[ "$output" == "/dev/pts/"*console*xterm* ]] || { echo "got: $output"; return 1; }
    output=$(echo piped-in | timeout 30 "$BERTH" container run --rm -i busybox cat)
    [ "$output" = piped-in ] || { echo "got: $output"; return 1; }
}

@test "daemon stop stops running containers gracefully; the next daemon finds them exited" {
    run_berth container run -d --name graceful busybox sh -c 'trap "echo bye; exit 0" TERM; echo up; while :; do sleep 0.1; done'
    run_berth container run -d --name plain busybox sleep 1000
    wait_for "$BERTH container logs graceful | grep -q up" 10
    run_berth daemon stop
    run_berth container ls -a
    [ "$(container_field graceful .State.Status)" = exited ]
    [ "$(container_field graceful .State.ExitCode)" = 0 ] || { echo "not stopped by its TERM handler"; return 1; }
    run_berth container logs graceful
    [[ "$output" == *bye* ]]
    [ "$(container_field plain .State.ExitCode)" = 137 ]
    id=$(container_field plain .Id)
    assert_no_cgroup "$id"
    # They start again under the new daemon.
    run_berth container start plain
    [ "$(container_field plain .State.Status)" = running ]
    run_berth container rm -f graceful plain
}
