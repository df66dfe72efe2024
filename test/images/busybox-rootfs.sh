#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# busybox-rootfs.sh DIR: makes DIR a minimal root filesystem from Debian's busybox-static:
# bin/busybox with a symlink per applet, etc/passwd and etc/group (root, nobody), and empty
# proc, sys, dev and tmp. Running it again on the same DIR changes nothing. It only builds the
# tree; turning it into an image (tar, import) is the caller's business.
set -euo pipefail

prog=${0##*/}
die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $prog DIR"
dir=$1
[ -n "$dir" ] || die "refusing an empty DIR"
real=$(realpath -m -- "$dir")
[ "$real" != / ] || die "refusing to build a rootfs over '/'"
if [ -e "$real" ] && [ ! -d "$real" ]; then
	die "'$dir' exists and is not a directory"
fi

# BUSYBOX may name another static busybox; a dynamic one would not run inside the rootfs.
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "no '$busybox'"$'\n'"  hint: apt-get install busybox-static"
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
	die "'$busybox' is dynamically linked"$'\n'"  hint: apt-get install busybox-static"
fi

mkdir -p -- "$real"
cd -- "$real"
mkdir -p bin etc proc sys dev tmp
chmod 0755 bin etc proc sys dev
chmod 1777 tmp

if ! cmp -s -- "$busybox" bin/busybox; then
	install -m 0755 -- "$busybox" bin/.busybox.new
	mv -f bin/.busybox.new bin/busybox
fi

# Applets all in bin/, relative links so the tree works wherever it is mounted. One perl (Debian's
# perl-base is essential) rather than a readlink and an ln per applet: 400 forks cost seconds.
mapfile -t applets < <(bin/busybox --list)
perl -e '
	for my $a (@ARGV) {
		next if $a eq "" || $a eq "busybox" || $a =~ m{/};
		my $p = "bin/$a";
		my $t = readlink $p;
		next if defined $t && $t eq "busybox";
		unlink $p;
		symlink "busybox", $p or die "cannot create symlink $p: $!\n";
	}' -- "${applets[@]}"

# Replaced whole, through a temp file, so a reader never sees half a file.
write_file() {
	local path=$1 content=$2
	if [ ! -f "$path" ] || [ "$(cat "$path")" != "$content" ]; then
		printf '%s\n' "$content" >"$path.new"
		chmod 0644 "$path.new"
		mv -f "$path.new" "$path"
	fi
}
write_file etc/passwd "root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false"
write_file etc/group "root:x:0:
nobody:x:65534:"
