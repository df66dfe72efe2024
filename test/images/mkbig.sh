#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mkbig.sh OUTDIR [--seed N] [--size-mb N] [--layers N] [--compression gzip|zstd|none]
#          [--docker-archive]
# The benchmark image: OUTDIR/big, an OCI layout of N layers (default 5) of generated files
# (busybox copies, text, random bytes, base64 of random, zeros) adding up to --size-mb
# uncompressed (default 200), about 2-3x smaller gzipped; the same seed gives the same bytes.
# --docker-archive also writes OUTDIR/big.docker.tar (uncompressed layers, as docker save).
# Cached like build.sh: a second run with the same inputs does nothing. Prints mkimage.py's
# JSON (digests, uncompressed_bytes, compressed_bytes), kept in OUTDIR/big.json.
set -euo pipefail

prog=${0##*/}
die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}
{ [ $# -ge 1 ] && [ -n "$1" ]; } || die "usage: $prog OUTDIR [--seed N] [--size-mb N] [--layers N] [--compression C] [--docker-archive]"
outarg=$1
shift
seed=1 size=200 layers=5 comp=gzip docker=0
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) seed=$2; shift ;;
	--size-mb) size=$2; shift ;;
	--layers) layers=$2; shift ;;
	--compression) comp=$2; shift ;;
	--docker-archive) docker=1 ;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
busybox=${BUSYBOX:-/bin/busybox}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

mkdir -p -- "$outarg"
out=$(cd -- "$outarg" && pwd)
exec 9>"$out/.lock"
flock 9

stamp=$({
	sha256sum "$here/mkbig.sh" "$here/mkimage.py" "$busybox" | cut -d' ' -f1
	zstd --version
	"$python" --version
	echo "$seed $size $layers $comp $docker $SOURCE_DATE_EPOCH"
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/big.json" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
	cat "$out/big.json"
	exit 0
fi
rm -f "$out/.stamp" "$out/big.json" "$out/big.docker.tar"
args=(big --seed "$seed" --size-mb "$size" --layers "$layers" --compression "$comp"
	--busybox "$busybox" --name big --tag latest -o "$out/big")
[ "$docker" = 1 ] && args+=(--docker-archive "$out/big.docker.tar")
"$python" "$here/mkimage.py" "${args[@]}" >"$out/big.json.tmp" || die "mkimage.py big failed"
mv -f "$out/big.json.tmp" "$out/big.json"
printf '%s\n' "$stamp" >"$out/.stamp"
cat "$out/big.json"
