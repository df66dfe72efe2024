#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build.sh OUTDIR: builds the standard test images into OUTDIR with mkimage.py, from Debian's
# busybox-static. Cached: a hash of every input (these scripts, the busybox binary, zstd's and
# python's versions, SOURCE_DATE_EPOCH) is kept in OUTDIR/.stamp and a second run with the
# same inputs does nothing. Concurrent runs on one OUTDIR wait for each other (flock).
#
# OUTDIR afterwards holds (see README.md):
#   busybox/            OCI layout, gzip layers, OCI media types, tag "latest"
#   busybox-zstd/       the same image with zstd layers
#   busybox-docker/     the same image with Docker schema 2 media types
#   multi/              an OCI index: this host's platform plus two others (marker /platform)
#   busybox.docker.tar  `docker save` tar of busybox (RepoTags busybox:latest)
#   busybox.oci.tar     OCI archive (the busybox/ layout tarred)
#   multi.oci.tar       OCI archive of multi/
#   digests.json        mkimage.py's JSON for each of them, keyed by the names above
# and prints OUTDIR's absolute path.
set -euo pipefail

prog=${0##*/}
die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}
{ [ $# -eq 1 ] && [ -n "$1" ]; } || die "usage: $prog OUTDIR"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
mkimage=("$python" "$here/mkimage.py")
busybox=${BUSYBOX:-/bin/busybox}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
[ -x "$busybox" ] || die "no '$busybox'"$'\n'"  hint: apt-get install busybox-static"
command -v zstd >/dev/null || die "no zstd"$'\n'"  hint: apt-get install zstd"

mkdir -p -- "$1"
out=$(cd -- "$1" && pwd)
exec 9>"$out/.lock"
flock 9

stamp=$({
	sha256sum "$here/build.sh" "$here/mkimage.py" "$here/busybox-rootfs.sh" "$busybox" |
		cut -d' ' -f1
	zstd --version
	"$python" --version
	echo "$SOURCE_DATE_EPOCH"
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/digests.json" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
	printf '%s\n' "$out"
	exit 0
fi
rm -f "$out/.stamp"

work="$out/.work"
rm -rf -- "$work"
mkdir -p "$work"
trap 'rm -rf -- "$work"' EXIT

# Layer 1: the busybox tree, plus a file the next layer deletes (whiteout), a directory it
# makes opaque and a hard link.
l1="$work/l1"
BUSYBOX=$busybox "$here/busybox-rootfs.sh" "$l1"
install -d -m 0755 "$l1/usr" "$l1/usr/share" "$l1/usr/share/berth-test" "$l1/var" \
	"$l1/var/cache" "$l1/var/cache/old"
printf 'this file is deleted by a whiteout in layer 2\n' >"$l1/usr/share/berth-test/doomed"
printf 'a\n' >"$l1/var/cache/old/a"
printf 'b\n' >"$l1/var/cache/old/b"
printf 'hello from layer 1\n' >"$l1/usr/share/berth-test/hello"
ln "$l1/usr/share/berth-test/hello" "$l1/usr/share/berth-test/hello.link"
chmod 0644 "$l1/usr/share/berth-test/doomed" "$l1/var/cache/old/a" "$l1/var/cache/old/b" \
	"$l1/usr/share/berth-test/hello"

# Layer 2: a new file, the whiteout, the opaque directory with a new entry.
l2="$work/l2"
install -d -m 0755 "$l2" "$l2/etc" "$l2/usr" "$l2/usr/share" "$l2/usr/share/berth-test" \
	"$l2/var" "$l2/var/cache" "$l2/var/cache/old"
printf 'berth test image\n' >"$l2/etc/motd"
: >"$l2/usr/share/berth-test/.wh.doomed"
: >"$l2/var/cache/old/.wh..wh..opq"
printf 'new\n' >"$l2/var/cache/old/new"
chmod 0644 "$l2/etc/motd" "$l2/usr/share/berth-test/.wh.doomed" \
	"$l2/var/cache/old/.wh..wh..opq" "$l2/var/cache/old/new"

config=(--layer-cache "$work/cache" --cmd '["sh"]' --env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	--label org.berth.test=busybox --name busybox --tag latest)

declare -A res
build() {
	local name=$1
	shift
	res[$name]=$("${mkimage[@]}" "$@") || die "mkimage.py $* failed"
}

build busybox image --layer "$l1" --layer "$l2" "${config[@]}" \
	-o "$out/busybox" --oci-archive "$out/busybox.oci.tar" \
	--docker-archive "$out/busybox.docker.tar"
res[busybox.oci.tar]=${res[busybox]}
res[busybox.docker.tar]=${res[busybox]}
build busybox-zstd image --layer "$l1" --layer "$l2" "${config[@]}" --compression zstd \
	-o "$out/busybox-zstd"
build busybox-docker image --layer "$l1" --layer "$l2" "${config[@]}" \
	--manifest-format docker -o "$out/busybox-docker"

# multi: this host's platform first, then two others; each with a /platform marker layer.
host=$("$python" -c '
import platform
m = {"x86_64": "linux/amd64", "aarch64": "linux/arm64/v8", "armv7l": "linux/arm/v7"}
print(m.get(platform.machine(), "linux/" + platform.machine()))')
platforms=("$host")
for p in linux/amd64 linux/arm64/v8 linux/arm/v7; do
	[ "$p" = "$host" ] || platforms+=("$p")
done
platforms=("${platforms[@]:0:3}")
singles=()
for p in "${platforms[@]}"; do
	m="$work/marker-${p//\//-}"
	install -d -m 0755 "$m"
	printf '%s\n' "$p" >"$m/platform"
	chmod 0644 "$m/platform"
	"${mkimage[@]}" image --layer "$l1" --layer "$l2" --layer "$m" "${config[@]}" \
		--platform "$p" -o "$work/single-${p//\//-}" >/dev/null || die "mkimage.py for $p failed"
	singles+=("$work/single-${p//\//-}")
done
build multi index "${singles[@]}" --tag latest -o "$out/multi" --oci-archive "$out/multi.oci.tar"
res[multi.oci.tar]=${res[multi]}

{
	printf '{'
	sep=
	for k in $(printf '%s\n' "${!res[@]}" | sort); do
		printf '%s"%s":%s' "$sep" "$k" "${res[$k]}"
		sep=,
	done
	printf '}\n'
} | jq -S . >"$out/digests.json.tmp"
mv -f "$out/digests.json.tmp" "$out/digests.json"
printf '%s\n' "$stamp" >"$out/.stamp"
printf '%s\n' "$out"
