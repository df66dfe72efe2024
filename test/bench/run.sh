#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh BERTH: berth's benchmarks. Each scenario measures berth and its anchor (Docker from
# Debian's docker.io, or the kernel's own floor) side by side in this one run and prints one
# row: the two numbers, their ratio and berth's goal. Everything it starts (a private dockerd,
# berth's daemon) lives under one temp dir and is stopped by pid on any exit; it never touches
# /var/lib/berth, /var/lib/docker, the host's docker, firewall rules or the network.
#
# Adding a scenario: write scenario_NAME (measure with `measure`, report with `row`) and add
# NAME to SCENARIOS. BENCH_ONLY="rtt idle_rss" runs a subset; see README.md for the knobs.
set -euo pipefail

SCENARIOS=(
	rtt
	socket_rtt
	exec_floor
	idle_rss
	container_floor
	container_run
	container_rss
	compose_load
	compose_load_rss
	image_pull
	image_pull_floor
	layer_extract
)

prog=bench
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Knobs, from the environment.
: "${BENCH_RTT_N:=1000}"      # berth version calls
: "${BENCH_DOCKER_N:=200}"    # docker version calls
: "${BENCH_FLOOR_N:=1000}"    # busybox true execs
: "${BENCH_CTR_N:=200}"       # unshare+chroot runs
: "${BENCH_COMPOSE_SERVICES:=500}" # services in the generated project
: "${BENCH_COMPOSE_N:=20}"    # berth config runs (docker-compose: 5)
: "${BENCH_SETTLE_S:=2}"      # idle time before memory is read
: "${BENCH_ONLY:=}"           # scenario names to run, space separated; empty: all
: "${BENCH_STRICT:=0}"        # 1: a goal not met fails the run too
: "${BENCH_DIR:=$top/build/bench}"
# Debian's docker.io by full path: another docker earlier in PATH is not the yardstick.
: "${BENCH_DOCKER:=/usr/bin/docker}"
: "${BENCH_DOCKERD:=/usr/sbin/dockerd}"
: "${BENCH_BUSYBOX:=/bin/busybox}"

BENCH_EXEC=$BENCH_DIR/bench-exec
RESULTS=$BENCH_DIR/results.jsonl

log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ $# -eq 1 ] || die "usage: test/bench/run.sh BERTH_BINARY"
BERTH=$(realpath -m -- "$1")
[ "$(id -u)" = 0 ] || die "needs root (namespaces, dockerd)"
[ -x "$BENCH_EXEC" ] || die "no '$BENCH_EXEC'"$'\n'"  hint: make bench builds it"
[ -x "$BENCH_BUSYBOX" ] || die "no '$BENCH_BUSYBOX'"$'\n'"  hint: apt-get install busybox-static"

# Nothing from the caller's docker or berth setup leaks in.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH BERTH_ROOT BERTH_RUN_ROOT

TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
ROWS=$TMP/rows.tsv
RUN_ID=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FAILED=0
UNMET=0

# --- process helpers --------------------------------------------------------------------------

# starttime PID: field 22 of /proc/PID/stat; with the pid it names one process for good. Fails
# for a zombie too: it has ended, whether or not its parent has reaped it yet.
starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	[ "$1" != Z ] || return 1
	printf '%s\n' "${20}"
}

# alive PID START: the process that had this start time is still running.
alive() {
	[ -n "$1" ] && [ "$(starttime "$1" 2>/dev/null)" = "$2" ]
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds or the time is up.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

gone() { ! alive "$1" "$2"; }

# stop_pid PID START NAME GRACE: SIGTERM, up to GRACE seconds, then SIGKILL. Only that process.
stop_pid() {
	local pid=$1 start=$2 name=$3 grace=$4
	alive "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_for "$grace" gone "$pid" "$start"; then
		log "$name (pid $pid) still there after ${grace} s, killing it"
		kill -KILL "$pid" 2>/dev/null || true
		wait_for 5 gone "$pid" "$start" || log "$name (pid $pid) survives SIGKILL"
	fi
}

# tree_pids PID: PID and its descendants, comma separated.
tree_pids() {
	local line
	line=$("$BENCH_EXEC" --rss --tree "$1" 2>/dev/null) || return 1
	field pids "$line"
}

# --- measuring and reporting ------------------------------------------------------------------

# field KEY LINE: the value of KEY=value in a bench-exec line.
field() {
	local rest=" $2 "
	case $rest in
	*" $1="*) ;;
	*) return 1 ;;
	esac
	rest=${rest#*" $1="}
	printf '%s\n' "${rest%% *}"
}

# measure VAR N WARMUP CMD...: times CMD with bench-exec; its result line goes into VAR. When a
# run fails it says which and how, runs CMD once more with its output kept, shows the end of it,
# and returns 1. bench-exec runs in the background so that a signal to this script is handled
# at once (bash runs traps only between foreground commands); the cleanup stops it.
MEASURE_PID=
MEASURE_START=
measure() {
	local var=$1 n=$2 warmup=$3 rc=0
	shift 3
	"$BENCH_EXEC" -n "$n" -w "$warmup" -t 60 -- "$@" >"$TMP/measure.out" 2>"$TMP/measure.err" &
	MEASURE_PID=$!
	MEASURE_START=$(starttime "$MEASURE_PID") || true
	wait "$MEASURE_PID" || rc=$?
	MEASURE_PID=
	if [ "$rc" = 0 ]; then
		log "$*: $(cat "$TMP/measure.out")"
		printf -v "$var" '%s' "$(cat "$TMP/measure.out")"
		return 0
	fi
	log "$(cat "$TMP/measure.err")"
	timeout 60 "$@" </dev/null >"$TMP/measure.out" 2>&1 || true
	log "one more run of '$*' said:"
	tail -n 10 "$TMP/measure.out" | sed 's/^/    /' >&2
	return 1
}

json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	printf '"%s"' "$s"
}

# Numbers as JSON numbers; "-", "n/a" and "FAIL" as strings.
json_val() {
	if [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else json_str "$1"; fi
}

is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# row SCENARIO METRIC UNIT BERTH ANCHOR ANCHOR_IS GOAL [BERTH_DETAIL [ANCHOR_DETAIL]]
#   BERTH, ANCHOR: a number, "-" (not measured here), "n/a" (anchor not installed), "FAIL"
#   GOAL: "<= N" in UNIT, "ratio <= R" on berth/anchor, or "-" for a row that is there for
#   information
row() {
	local scenario=$1 metric=$2 unit=$3 berth=$4 anchor=$5 anchor_is=$6 goal=$7
	local bdetail=${8:-} adetail=${9:-} ratio=- met=- limit
	if is_num "$berth" && is_num "$anchor" && [ "$anchor" != 0 ]; then
		ratio=$(awk -v b="$berth" -v a="$anchor" 'BEGIN { printf "%.2f", b / a }')
	fi
	if [[ $goal == "ratio <= "* ]]; then
		limit=${goal#ratio <= }
		if is_num "$ratio"; then
			met=$(awk -v r="$ratio" -v l="$limit" 'BEGIN { print (r <= l) ? "yes" : "no" }')
		elif [ "$berth" = FAIL ]; then
			met=no
		fi
	elif [[ $goal == "<= "* ]]; then
		limit=${goal#<= }
		if is_num "$berth"; then
			met=$(awk -v b="$berth" -v l="$limit" 'BEGIN { print (b <= l) ? "yes" : "no" }')
		elif [ "$berth" = FAIL ]; then
			met=no
		fi
	fi
	[ "$berth" != FAIL ] && [ "$anchor" != FAIL ] || FAILED=1
	[ "$met" != no ] || UNMET=1

	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$metric" "$unit" "$berth" "$anchor" "$ratio" \
		"$goal" "$met" "$anchor_is" >>"$ROWS"
	{
		printf '{"run":%s,"scenario":%s,"metric":%s,"unit":%s' "$(json_str "$RUN_ID")" \
			"$(json_str "$scenario")" "$(json_str "$metric")" "$(json_str "$unit")"
		printf ',"berth":%s,"anchor":%s,"anchor_is":%s,"ratio":%s,"goal":%s' \
			"$(json_val "$berth")" "$(json_val "$anchor")" "$(json_str "$anchor_is")" \
			"$(json_val "$ratio")" "$(json_str "$goal")"
		case $met in
		yes) printf ',"met":true' ;;
		no) printf ',"met":false' ;;
		*) printf ',"met":null' ;;
		esac
		printf ',"berth_detail":%s,"anchor_detail":%s}\n' "$(json_str "$bdetail")" \
			"$(json_str "$adetail")"
	} >>"$RESULTS"
}

# The rows as an aligned table: text columns to the left, numbers to the right.
print_table() {
	{
		printf 'metric\tunit\tberth\tanchor\tratio\tgoal\tmet\tanchor is\n'
		cat "$ROWS"
	} | awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
		END {
			right[3] = right[4] = right[5] = 1
			for (r = 1; r <= NR; r++) {
				line = ""
				for (i = 1; i <= 8; i++) {
					fmt = "%" (right[i] ? "" : "-") w[i] "s"
					line = line (i > 1 ? "  " : "") sprintf(fmt, cell[r, i])
				}
				sub(/ +$/, "", line)
				out[r] = line
				if (length(line) > max) max = length(line)
			}
			sep = ""
			for (i = 0; i < max; i++) sep = sep "-"
			print out[1]
			print sep
			for (r = 2; r <= NR; r++) print out[r]
		}'
}

# --- the anchors: a private dockerd -----------------------------------------------------------

DOCKER_STATE=      # "", up, absent
DOCKERD_PID=
DOCKERD_START=
DOCKERD_TREE=      # pid:start pairs of what dockerd started (containerd), for the cleanup
DOCKER_SOCK=

# docker_answers: true once dockerd serves `docker version`; stops waiting if dockerd died.
docker_answers() {
	alive "$DOCKERD_PID" "$DOCKERD_START" || DOCKERD_DIED=1
	[ -z "${DOCKERD_DIED:-}" ] || return 0
	"$BENCH_DOCKER" -H "$DOCKER_SOCK" version >/dev/null 2>&1
}

# need_docker: starts the bench's own dockerd once; returns 1 when docker is not installed.
need_docker() {
	local d=$TMP/docker pid
	case $DOCKER_STATE in
	up) return 0 ;;
	absent) return 1 ;;
	esac
	if [ ! -x "$BENCH_DOCKERD" ] || [ ! -x "$BENCH_DOCKER" ]; then
		log "no '$BENCH_DOCKERD' or '$BENCH_DOCKER': Docker anchors are n/a (make bench-deps installs docker.io)"
		DOCKER_STATE=absent
		return 1
	fi
	mkdir -p "$d/data" "$d/exec" "$d/client"
	# The trust key would go to /etc/docker otherwise.
	printf '{"deprecated-key-path": %s}\n' "$(json_str "$d/key.json")" >"$d/daemon.json"
	DOCKER_SOCK=unix://$d/docker.sock
	export DOCKER_CONFIG=$d/client
	log "starting a private dockerd in $d"
	# Its own config file, state, socket and pid file; no bridge, no firewall rules, no
	# ip_forward change. It runs in a mount namespace of its own with a fresh /run: what dockerd
	# and containerd write to fixed paths there (/run/docker/plugins, /run/containerd) stays
	# private, a system containerd is not seen (so dockerd starts its own as its child), and
	# whatever they mount goes away with them. sh and unshare exec, so $! is dockerd's pid.
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	unshare --mount --propagation private -- /bin/sh -c \
		'mount -t tmpfs -o mode=0755,size=64m bench-run /run && exec "$0" "$@"' \
		"$BENCH_DOCKERD" --config-file "$d/daemon.json" --data-root "$d/data" \
		--exec-root "$d/exec" --pidfile "$d/dockerd.pid" -H "$DOCKER_SOCK" \
		--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
		>"$d/dockerd.log" 2>&1 </dev/null &
	DOCKERD_PID=$!
	DOCKERD_START=$(starttime "$DOCKERD_PID") || true
	if ! wait_for 30 docker_answers || [ -n "${DOCKERD_DIED:-}" ]; then
		if [ -n "${DOCKERD_DIED:-}" ]; then
			log "dockerd exited before it answered; the end of its log:"
		else
			log "dockerd did not answer on $DOCKER_SOCK within 30 s; the end of its log:"
		fi
		tail -n 20 "$d/dockerd.log" | sed 's/^/    /' >&2
		exit 1
	fi
	for pid in $(tree_pids "$DOCKERD_PID" | tr , ' '); do
		[ "$pid" = "$DOCKERD_PID" ] || DOCKERD_TREE+=" $pid:$(starttime "$pid" || true)"
	done
	log "dockerd is up: pid $DOCKERD_PID, children:${DOCKERD_TREE:- none}"
	DOCKER_STATE=up
}

stop_docker() {
	local p pid
	[ -n "$DOCKERD_PID" ] || return 0
	# What it started since (shims, later), then dockerd, then whatever of it outlived dockerd.
	for pid in $(tree_pids "$DOCKERD_PID" | tr , ' '); do
		[ "$pid" = "$DOCKERD_PID" ] || DOCKERD_TREE+=" $pid:$(starttime "$pid" || true)"
	done
	stop_pid "$DOCKERD_PID" "$DOCKERD_START" dockerd 20
	wait "$DOCKERD_PID" 2>/dev/null || true
	for p in $DOCKERD_TREE; do
		stop_pid "${p%%:*}" "${p#*:}" "dockerd's child" 10
	done
	DOCKERD_PID=
}

# --- berth -------------------------------------------------------------------------------------

BERTH_STATE=       # "", up, failed
BERTH_DAEMON_PID=
BERTH_DAEMON_START=

berth_pid_file_ready() { [ -s "$BERTH_RUN_ROOT/berth.pid" ]; }

# need_berth: the first `berth version` auto-starts the daemon under the bench's own roots.
need_berth() {
	local pid
	case $BERTH_STATE in
	up) return 0 ;;
	failed) return 1 ;;
	esac
	BERTH_STATE=failed
	export BERTH_ROOT=$TMP/berth-root BERTH_RUN_ROOT=$TMP/berth-run
	if [ ! -x "$BERTH" ]; then
		log "no berth binary '$BERTH'"
		return 1
	fi
	log "starting berth's daemon through the first 'berth version'"
	if ! timeout 30 "$BERTH" version </dev/null >"$TMP/berth-first.out" 2>&1; then
		log "the first 'berth version' failed:"
		tail -n 10 "$TMP/berth-first.out" | sed 's/^/    /' >&2
		return 1
	fi
	if ! wait_for 5 berth_pid_file_ready; then
		log "no daemon pid in '$BERTH_RUN_ROOT/berth.pid' after 'berth version'"
		return 1
	fi
	pid=$(cat "$BERTH_RUN_ROOT/berth.pid")
	pid=${pid//[[:space:]]/}
	if ! [[ $pid =~ ^[0-9]+$ ]] || ! BERTH_DAEMON_START=$(starttime "$pid"); then
		log "'$BERTH_RUN_ROOT/berth.pid' names no running process ('$pid')"
		return 1
	fi
	BERTH_DAEMON_PID=$pid
	log "berth daemon is up: pid $pid"
	BERTH_STATE=up
}

stop_berth() {
	local pid start
	[ -n "${BERTH_RUN_ROOT:-}" ] || return 0
	pid=$BERTH_DAEMON_PID
	start=$BERTH_DAEMON_START
	# A daemon that came up although the first call failed is ours too: it wrote our pid file.
	if [ -z "$pid" ] && [ -s "$BERTH_RUN_ROOT/berth.pid" ]; then
		pid=$(tr -dc 0-9 <"$BERTH_RUN_ROOT/berth.pid")
		start=$(starttime "$pid" 2>/dev/null) || pid=
		if [ -n "$pid" ] && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) != "$BERTH"* ]]; then
			pid=
		fi
	fi
	if [ -S "$BERTH_RUN_ROOT/berth.sock" ] || [ -n "$pid" ]; then
		if ! timeout 10 "$BERTH" daemon stop </dev/null >"$TMP/berth-stop.out" 2>&1; then
			log "'berth daemon stop' failed, stopping pid ${pid:-?} by signal:"
			tail -n 5 "$TMP/berth-stop.out" | sed 's/^/    /' >&2
		fi
	fi
	if [ -n "$pid" ] && ! wait_for 5 gone "$pid" "$start"; then
		stop_pid "$pid" "$start" "berth daemon" 5
	fi
	BERTH_DAEMON_PID=
}

# --- the kernel floor ---------------------------------------------------------------------------

ROOTFS=

need_rootfs() {
	[ -z "$ROOTFS" ] || return 0
	ROOTFS=$TMP/rootfs
	"$top/test/images/busybox-rootfs.sh" "$ROOTFS"
}

# floor_container_argv ROOTFS: sets FLOOR_ARGV to the command prefix that starts a process the
# way a container starts at the least: new pid, mount, uts, ipc, net and cgroup namespaces, a
# fresh /proc, chrooted into ROOTFS. Append the command: "${FLOOR_ARGV[@]}" /bin/true. The
# proc mount lives in the private mount namespace and goes with it.
floor_container_argv() {
	FLOOR_ARGV=(unshare --fork --pid --mount --uts --ipc --net --cgroup
		"--mount-proc=$1/proc" chroot "$1")
}

# floor_run_container ROOTFS CMD...: runs CMD once that way, output and status as they come.
floor_run_container() {
	local rootfs=$1
	shift
	floor_container_argv "$rootfs"
	"${FLOOR_ARGV[@]}" "$@"
}

# --- scenarios ----------------------------------------------------------------------------------

RTT_SERVED=

scenario_rtt() {
	local b=FAIL a=n/a bl='' al=''
	if need_berth && measure bl "$BENCH_RTT_N" 20 "$BERTH" version; then
		b=$(field median_us "$bl")
	fi
	if need_docker; then
		a=FAIL
		if measure al "$BENCH_DOCKER_N" 10 "$BENCH_DOCKER" -H "$DOCKER_SOCK" version; then
			a=$(field median_us "$al")
		fi
	fi
	RTT_SERVED=1
	row rtt "cli round trip (berth version)" us "$b" "$a" "docker version" "<= 1000" "$bl" "$al"
}

# The same call without the CLI's process start: bench-rtt speaks the protocol on the socket.
scenario_socket_rtt() {
	local b=FAIL bl=''
	if [ ! -x "$BENCH_DIR/bench-rtt" ]; then
		log "no '$BENCH_DIR/bench-rtt' (make bench builds it)"
		b=n/a
	elif need_berth; then
		if bl=$(timeout 300 "$BENCH_DIR/bench-rtt" -n "$BENCH_RTT_N" \
			"$BERTH_RUN_ROOT/berth.sock" 2>"$TMP/bench-rtt.err"); then
			b=$(field median_us "$bl")
			log "bench-rtt: $bl"
		else
			log "bench-rtt failed: $(cat "$TMP/bench-rtt.err")"
		fi
	fi
	row socket_rtt "daemon round trip (socket only, no exec)" us "$b" - - - "$bl"
}

scenario_exec_floor() {
	local a=FAIL al=''
	if measure al "$BENCH_FLOOR_N" 20 "$BENCH_BUSYBOX" true; then
		a=$(field median_us "$al")
	fi
	row exec_floor "process start floor (busybox true)" us - "$a" "exec busybox true" - "" "$al"
}

scenario_idle_rss() {
	# shellcheck disable=SC2034 # ignored is written by measure
	local b=FAIL a=n/a bl='' al='' ignored=''
	# Both daemons are read after they have served calls, as after a day of use.
	if [ -z "$RTT_SERVED" ]; then
		if need_berth; then measure ignored 100 0 "$BERTH" version || true; fi
		if need_docker; then measure ignored 100 0 "$BENCH_DOCKER" -H "$DOCKER_SOCK" version || true; fi
		RTT_SERVED=1
	fi
	sleep "$BENCH_SETTLE_S"
	if [ "$BERTH_STATE" = up ]; then
		if alive "$BERTH_DAEMON_PID" "$BERTH_DAEMON_START" &&
			bl=$("$BENCH_EXEC" --rss --tree "$BERTH_DAEMON_PID"); then
			b=$(field rss_kb "$bl")
			log "berth daemon: $bl"
		else
			log "berth daemon (pid $BERTH_DAEMON_PID) is gone"
		fi
	fi
	if [ "$DOCKER_STATE" = up ]; then
		a=FAIL
		if al=$("$BENCH_EXEC" --rss --tree "$DOCKERD_PID"); then
			a=$(field rss_kb "$al")
			log "dockerd tree: $al"
		fi
	fi
	row idle_rss "idle daemon RSS" kB "$b" "$a" "dockerd+containerd tree" "<= 4096" "$bl" "$al"
}

# The generated project (base + 3 overrides + extends); made once per run.
compose_project() {
	COMPOSE_DIR=$TMP/compose-project
	[ -d "$COMPOSE_DIR" ] || /usr/bin/python3 "$top/test/bench/gen-project.py" "$COMPOSE_DIR" \
		"$BENCH_COMPOSE_SERVICES"
	COMPOSE_ARGS=(-f "$COMPOSE_DIR/compose.yaml" -f "$COMPOSE_DIR/override1.yaml"
		-f "$COMPOSE_DIR/override2.yaml" -f "$COMPOSE_DIR/override3.yaml")
}

# Peak RSS in kB of one run of a command (its own maximum, from the kernel).
peak_rss() {
	/usr/bin/python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sys.exit(1) if r.returncode else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

scenario_compose_load() {
	compose_project
	local b=FAIL a=n/a bl='' al=''
	if measure bl "$BENCH_COMPOSE_N" 2 "$BERTH" "${COMPOSE_ARGS[@]}" config -q; then
		b=$(awk -v us="$(field median_us "$bl")" 'BEGIN { printf "%.1f", us / 1000 }')
	fi
	if [ -x /usr/bin/docker-compose ]; then
		a=FAIL
		if measure al 5 1 /usr/bin/docker-compose "${COMPOSE_ARGS[@]}" config -q; then
			a=$(awk -v us="$(field median_us "$al")" 'BEGIN { printf "%.1f", us / 1000 }')
		fi
	fi
	row compose_load "load+merge+validate ${BENCH_COMPOSE_SERVICES} services, 4 files" ms \
		"$b" "$a" "docker-compose config" "<= 50" "$bl" "$al"
}

scenario_compose_load_rss() {
	compose_project
	local b=FAIL a=n/a
	b=$(peak_rss "$BERTH" "${COMPOSE_ARGS[@]}" config -q) || b=FAIL
	if [ -x /usr/bin/docker-compose ]; then
		a=$(peak_rss /usr/bin/docker-compose "${COMPOSE_ARGS[@]}" config -q) || a=FAIL
	fi
	row compose_load_rss "peak RSS of that load" kB "$b" "$a" "docker-compose config" \
		"<= 30720"
}

scenario_container_floor() {
	local a=FAIL al=''
	need_rootfs
	floor_container_argv "$ROOTFS"
	if measure al "$BENCH_CTR_N" 5 "${FLOOR_ARGV[@]}" /bin/true; then
		a=$(field median_us "$al")
	fi
	row container_floor "container start floor (unshare+chroot busybox true)" us - "$a" \
		"unshare+chroot" - "" "$al"
}


# --- containers -----------------------------------------------------------------------------------

: "${BENCH_RUN_N:=50}"       # berth container run --rm calls
: "${BENCH_IDLE_CTRS:=100}"  # idle containers for the memory scenario
BUSYBOX_LOADED=

need_busybox_image() {
	[ -z "$BUSYBOX_LOADED" ] || return 0
	local imgs
	imgs=$("$top/test/images/build.sh" "$top/build/test-images") || return 1
	timeout 60 "$BERTH" image load -i "$imgs/busybox.docker.tar" >/dev/null || return 1
	BUSYBOX_LOADED=1
}

# The whole of `docker run --rm` in berth: CLI start, create, namespaces, overlayfs root, cgroup,
# seccomp, exec, exit, removal. Anchored on the unshare+chroot floor measured in this run.
scenario_container_run() {
	local b=FAIL a=FAIL bl='' al=''
	need_rootfs
	floor_container_argv "$ROOTFS"
	if measure al "$BENCH_RUN_N" 5 "${FLOOR_ARGV[@]}" /bin/true; then
		a=$(awk -v us="$(field median_us "$al")" 'BEGIN { printf "%.2f", us / 1000 }')
	fi
	if need_berth && need_busybox_image &&
		measure bl "$BENCH_RUN_N" 5 "$BERTH" container run --rm --network none busybox true; then
		b=$(awk -v us="$(field median_us "$bl")" 'BEGIN { printf "%.2f", us / 1000 }')
	fi
	row container_run "container run --rm --network none busybox true" ms "$b" "$a" \
		"unshare+chroot" "<= 15" "$bl" "$al"
}

# The daemon's memory for each running idle container, with BENCH_IDLE_CTRS of them.
scenario_container_rss() {
	local b=FAIL before after i ids=() id
	if need_berth && need_busybox_image; then
		sleep "$BENCH_SETTLE_S"
		before=$(field rss_kb "$("$BENCH_EXEC" --rss "$BERTH_DAEMON_PID")")
		for ((i = 0; i < BENCH_IDLE_CTRS; i++)); do
			id=$(timeout 30 "$BERTH" container run -d --network none busybox sleep 100000) || break
			ids+=("$id")
		done
		sleep "$BENCH_SETTLE_S"
		after=$(field rss_kb "$("$BENCH_EXEC" --rss "$BERTH_DAEMON_PID")")
		if [ "${#ids[@]}" = "$BENCH_IDLE_CTRS" ]; then
			b=$(awk -v a="$after" -v b="$before" -v n="$BENCH_IDLE_CTRS" \
				'BEGIN { printf "%.1f", (a - b) / n }')
		fi
		for id in "${ids[@]}"; do
			timeout 30 "$BERTH" container rm -f "$id" >/dev/null || true
		done
	fi
	row container_rss "daemon memory per idle container (${BENCH_IDLE_CTRS} running)" kB "$b" - \
		- "<= 256" "before ${before:-?} kB, after ${after:-?} kB"
}

# --- images: a registry on loopback and the 200 MB benchmark image ------------------------------

: "${BENCH_PULL_N:=3}" # pulls of the big image per tool (the median counts)
REGISTRY_PID=
REGISTRY_START=
REGISTRY=
BIG=

# need_registry: Debian's docker-registry on a free 127.0.0.1 port under $TMP, holding the
# ~200 MB, 5-layer image of test/images/mkbig.sh (built once, cached in build/bench/images).
need_registry() {
	[ -z "$REGISTRY" ] || return 0
	local d=$TMP/registry port out
	mkdir -p "$d"
	out=$("$top/test/images/mkbig.sh" "$BENCH_DIR/images") || die "mkbig.sh failed"
	BIG=$BENCH_DIR/images/big
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$d/config.yml" <<-EOC
		version: 0.1
		storage:
		  filesystem:
		    rootdirectory: $d/data
		http:
		  addr: 127.0.0.1:$port
		log:
		  level: error
	EOC
	docker-registry serve "$d/config.yml" >"$d/log" 2>&1 </dev/null &
	REGISTRY_PID=$!
	REGISTRY_START=$(starttime "$REGISTRY_PID") || true
	REGISTRY=127.0.0.1:$port
	wait_for 10 curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "docker-registry did not start"
	skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$BIG:latest" \
		"docker://$REGISTRY/bench/big:latest" >&2 || die "skopeo could not push the big image"
	log "registry $REGISTRY holds bench/big ($(printf '%s' "$out" | tr -d '\n' | head -c 160)...)"
}

stop_registry() {
	[ -n "$REGISTRY_PID" ] || return 0
	stop_pid "$REGISTRY_PID" "$REGISTRY_START" docker-registry 10
	REGISTRY_PID=
}

# time_runs VAR N PREPARE CMD...: runs PREPARE (untimed) then CMD (timed), N times; VAR gets
# the median seconds (3 decimals). Returns 1 when a run fails.
time_runs() {
	local var=$1 n=$2 prep=$3 i t0 t1 times=()
	shift 3
	for ((i = 0; i < n; i++)); do
		"$prep" || return 1
		t0=$EPOCHREALTIME
		"$@" </dev/null >"$TMP/run.out" 2>&1 || {
			log "'$*' failed:"
			tail -n 10 "$TMP/run.out" | sed 's/^/    /' >&2
			return 1
		}
		t1=$EPOCHREALTIME
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	done
	log "$1 ...: ${times[*]} s"
	printf -v "$var" '%s' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

berth_forget_big() {
	"$BERTH" image rm -f "$REGISTRY/bench/big:latest" >/dev/null 2>&1 || true
	"$BERTH" image prune -a >/dev/null 2>&1 || true
	# Removed layers go to a trash a worker empties; a pull must not race with that.
	wait_for 30 berth_no_trash
	sync
}
berth_no_trash() { ! compgen -G "$BERTH_ROOT/images/layers/.trash-*" >/dev/null; }

docker_forget_big() {
	"$BENCH_DOCKER" -H "$DOCKER_SOCK" rmi -f "$REGISTRY/bench/big:latest" >/dev/null 2>&1 || true
	sync
}

scenario_image_pull() {
	local b=FAIL a=n/a
	need_registry
	if need_berth; then
		time_runs b "$BENCH_PULL_N" berth_forget_big "$BERTH" --progress quiet image pull \
			"$REGISTRY/bench/big:latest" || b=FAIL
	fi
	if need_docker; then
		a=FAIL
		time_runs a "$BENCH_PULL_N" docker_forget_big "$BENCH_DOCKER" -H "$DOCKER_SOCK" pull -q \
			"$REGISTRY/bench/big:latest" || a=FAIL
	fi
	row image_pull "pull 200 MB, 5 layers, loopback registry" s "$b" "$a" "docker pull" \
		"ratio <= 0.5"
}

# The same work by hand: each layer fetched, hashed and unpacked by GNU tar, one after another.
FLOOR_DIR=
floor_prepare() {
	rm -rf "$TMP/floor"
	mkdir -p "$TMP/floor"
	sync
}
floor_pull() {
	local digest i=0
	for digest in $(/usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(l["digest"] for l in m["layers"]))' "$TMP/big-manifest.json"); do
		mkdir -p "$TMP/floor/$i"
		curl -fsS "http://$REGISTRY/v2/bench/big/blobs/$digest" |
			tee >(sha256sum >"$TMP/floor/$i.sha") | tar -xzf - -C "$TMP/floor/$i" || return 1
		i=$((i + 1))
	done
}

scenario_image_pull_floor() {
	local b=FAIL a=FAIL
	need_registry
	curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REGISTRY/v2/bench/big/manifests/latest" >"$TMP/big-manifest.json"
	if need_berth; then
		time_runs b "$BENCH_PULL_N" berth_forget_big "$BERTH" --progress quiet image pull \
			"$REGISTRY/bench/big:latest" || b=FAIL
	fi
	time_runs a "$BENCH_PULL_N" floor_prepare floor_pull || a=FAIL
	rm -rf "$TMP/floor"
	row image_pull_floor "pull 200 MB vs curl|sha256sum|tar -xz per layer" s "$b" "$a" \
		"curl+sha256+GNU tar" "ratio <= 1.3"
}

# One ~100 MB gzip layer (a one-layer image of mkbig.sh, ~220 MB unpacked): berth's unpacker
# (the unpack-layer tool, the code a pull runs) against tar -xzf, both onto the same disk.
extract_prepare() {
	rm -rf "$TMP/x"
	mkdir -p "$TMP/x"
	sync
}
scenario_layer_extract() {
	local b=FAIL a=FAIL layer tool=$top/build/release/test/tools/unpack-layer
	"$top/test/images/mkbig.sh" "$BENCH_DIR/images-one" --layers 1 --size-mb 220 >/dev/null ||
		die "mkbig.sh failed"
	layer=$(ls -S "$BENCH_DIR/images-one/big/blobs/sha256/"* | head -1)
	log "layer: $layer ($(stat -c %s "$layer") bytes)"
	if [ -x "$tool" ]; then
		time_runs b 5 extract_prepare "$tool" "$layer" "$TMP/x" || b=FAIL
	else
		log "no '$tool': make build/release/tests first"
	fi
	time_runs a 5 extract_prepare tar -xzf "$layer" -C "$TMP/x" || a=FAIL
	rm -rf "$TMP/x"
	row layer_extract "unpack one gzip layer ($(($(stat -c %s "$layer") / 1000000)) MB)" s \
		"$b" "$a" "tar -xzf" "ratio <= 1.2"
}

# --- main ---------------------------------------------------------------------------------------

cleanup() {
	local rc=$? m
	set +e
	# Interrupting the cleanup would leave daemons behind: it runs to its end.
	trap - EXIT
	trap '' INT TERM
	if [ -n "$MEASURE_PID" ]; then
		stop_pid "$MEASURE_PID" "$MEASURE_START" bench-exec 10
	fi
	stop_berth
	stop_registry
	stop_docker
	# Deepest first; dockerd and berth may leave mounts (overlays, netns handles) behind.
	awk -v p="$TMP" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || log "cannot unmount '$m'"
	done
	rm -rf --one-file-system "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$BENCH_DIR"
: >"$RESULTS"
: >"$ROWS"

for s in $BENCH_ONLY; do
	[[ " ${SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' in BENCH_ONLY (${SCENARIOS[*]})"
done
for s in "${SCENARIOS[@]}"; do
	if [ -n "$BENCH_ONLY" ] && [[ " $BENCH_ONLY " != *" $s "* ]]; then
		continue
	fi
	log "scenario $s"
	"scenario_$s"
done

printf '\nberth bench %s: %s, kernel %s, %s cpus. Read each row as a ratio within this run.\n\n' \
	"$RUN_ID" "$(hostname)" "$(uname -r)" "$(nproc)"
print_table
printf '\nrows as JSON lines: %s\n' "${RESULTS#"$top"/}"

if [ "$FAILED" = 1 ]; then
	log "some measurements failed (FAIL above); see the messages before the table"
	exit 1
fi
if [ "$BENCH_STRICT" = 1 ] && [ "$UNMET" = 1 ]; then
	log "some goals are not met (BENCH_STRICT=1)"
	exit 1
fi
