#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Build layer archives for the system tests of layer unpacking, hostile ones included.

Usage: mktar.py [--gzip | --gzip-multi | --zstd] [--pad N] KIND OUT
       mktar.py bench OUT_DIR_OR_TAR MEGABYTES   a big layer for the benchmark (plain tar)
       mktar.py --list                           the kinds

KIND names one of the archives below (see KINDS). The tar is PAX (xattrs go in SCHILY.xattr
records). --gzip compresses it as one gzip member, --gzip-multi as two members (one stream),
--zstd with the zstd command; --pad N appends N zero bytes to the tar (padding that counts in
the diff_id). OUT.tar gets the plain tar as well, so a test can compare the diff_id with
sha256sum.
"""
import gzip
import io
import os
import random
import subprocess
import sys
import tarfile

CAP_NET_RAW = 13
# struct vfs_cap_data, revision 2, effective: permitted = CAP_NET_RAW.
CAP_BYTES = (0x02000001).to_bytes(4, "little") + (1 << CAP_NET_RAW).to_bytes(4, "little") + \
    bytes(12)


def info(name, kind=tarfile.REGTYPE, mode=0o644, data=b"", link="", uid=0, gid=0,
         mtime=1600000000, xattrs=None, dev=(0, 0)):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.uid, t.gid = uid, gid
    t.mtime = mtime
    t.linkname = link
    t.devmajor, t.devminor = dev
    if xattrs:
        t.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                         for k, v in xattrs.items()}
    if kind == tarfile.REGTYPE:
        t.size = len(data)
    return (t, data)


def f(name, data=b"x", **kw):
    return info(name, data=data, **kw)


def d(name, mode=0o755, **kw):
    return info(name, kind=tarfile.DIRTYPE, mode=mode, **kw)


def sym(name, target, **kw):
    return info(name, kind=tarfile.SYMTYPE, mode=0o777, link=target, **kw)


def hard(name, target, **kw):
    return info(name, kind=tarfile.LNKTYPE, link=target, **kw)


# Hostile archives. The test unpacks into DIR/layer; DIR/canary holds files that must survive.
KINDS = {
    # ".." components are refused, even though RESOLVE_IN_ROOT would contain them.
    "dotdot": [f("ok.txt", b"ok"), f("../canary/pwned", b"pwned")],
    "dotdot-deep": [d("a"), f("a/../../canary/pwned", b"pwned")],
    # Absolute names mean inside the layer.
    "absolute": [f("/etc/x", b"abs"), f("/canary/pwned", b"inside")],
    # A symlink out of the tree, then a file through it: resolved in the root, i.e. into the
    # layer's own canary/ directory (made first), never DIR/canary.
    "symlink-escape": [d("canary"), sym("evil", "../canary"), f("evil/pwned", b"pwned"),
                       sym("evil2", "/canary"), f("evil2/pwned2", b"pwned2")],
    # The same without a canary/ in the layer: the link dangles inside the root: refused.
    "symlink-dangling": [sym("evil", "../../canary"), f("evil/pwned", b"pwned")],
    # "../../.." from the root is the root.
    "symlink-updots": [sym("up", "../../../../.."), f("up/pwned", b"pwned")],
    # Hard links out of the tree.
    "hardlink-dotdot": [hard("hl", "../../canary/keep")],
    "hardlink-absolute": [hard("hl", "/etc/passwd")],
    "hardlink-missing": [f("a", b"a"), hard("hl", "nothere")],
    # Symlink chains: a -> b, b -> /, then a/x.
    "chain": [sym("b", "/"), sym("a", "b"), f("a/pwned", b"chain"),
              sym("c", "../.."), sym("e", "c/canary"), d("canary"), f("e/pwned", b"chain2")],
    # A directory replaced by a symlink between two entries.
    "dir-swap": [d("d"), f("d/first", b"1"), sym("d", "../canary"), f("d/pwned", b"pwned")],
    "dir-swap-root": [d("d"), f("d/first", b"1"), sym("d", "/"), f("d/second", b"2")],
    # Whiteouts that try to delete outside.
    "whiteout-dotdot": [f("a", b"a"), f(".wh...", b"")],
    "whiteout-dot": [f(".wh..", b"")],
    "whiteout-symlink": [sym("evil", "../canary"), f("evil/.wh.keep", b"")],
    "whiteout-dotdot-path": [f("../canary/.wh.keep", b"")],
    # Positive archives.
    "whiteouts": [d("dir"), f("dir/.wh.gone", b""), d("opq"), f("opq/.wh..wh..opq", b""),
                  f("opq/kept", b"k"), d(".wh..wh.plnk"), f(".wh..wh.plnk/123.4", b"aufs"),
                  f(".wh.topfile", b"")],
    "hardlinks": [f("f", b"shared"), hard("hl", "f"), d("sub"), hard("sub/hl2", "/f"),
                  hard("hl3", "./sub/hl2")],
    "modes": [f("suid", b"s", mode=0o4755), f("sgid", b"g", mode=0o2755),
              d("sticky", mode=0o1777), f("ro", b"r", mode=0o444), d("closed", mode=0o500),
              f("closed/inner", b"i", mode=0o600), f("suid-owned", b"o", mode=0o4750,
                                                        uid=1234, gid=1234)],
    "owners": [d("home", uid=1234, gid=5678), f("home/file", b"o", uid=1234, gid=5678),
               sym("home/link", "file", uid=1234, gid=5678)],
    "mtimes": [d("d", mtime=1234567890), f("d/f", b"t", mtime=1000000000),
               f("d/g", b"t", mtime=1000000001), sym("d/l", "f", mtime=1100000000),
               d("./", mtime=1300000000, mode=0o750)],
    "xattrs": [f("ping", b"\x7fELF", mode=0o755, xattrs={"security.capability": CAP_BYTES,
                                                        "user.berth": b"hello"}),
               d("xd", xattrs={"user.dir": b"d"})],
    "devices": [d("dev"), info("dev/null", tarfile.CHRTYPE, 0o666, dev=(1, 3)),
                info("dev/loop9", tarfile.BLKTYPE, 0o660, dev=(7, 9)),
                info("dev/fifo", tarfile.FIFOTYPE, 0o600), f("dev/file", b"f")],
    "symlinks": [sym("rel", "target/x"), sym("abs", "/etc/passwd"),
                 sym("dots", "../../../../etc/shadow")],
    "replace": [d("a"), f("a/inner", b"1"), f("a", b"now a file"), f("b", b"1"), d("b"),
                f("b/inner", b"2"), f("c", b"old"), f("c", b"new"), sym("s", "a"),
                f("s", b"file over link")],
    "implicit-parents": [f("x/y/z/file", b"deep")],
    "names": [f("caf\u00e9/\u00fcber.txt", b"utf8"), f("./a/./b//c", b"clean"),
              f("sp ace", b"sp")],
}


def build(members, pad):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue() + bytes(pad)


def bench(out, megabytes):
    """A layer of about MEGABYTES: a few thousand files of compressible text in a tree, plus
    some big files. Deterministic."""
    rng = random.Random(42)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(4000)]

    def text(n):
        parts, size = [], 0
        while size < n:
            w = rng.choice(words)
            parts.append(w)
            size += len(w) + 1
        return b" ".join(parts)[:n]

    total = megabytes * 1024 * 1024
    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as t:
        size, i = 0, 0
        big = [16 * 1024 * 1024] * max(1, total // (4 * 16 * 1024 * 1024))
        chunk = text(1024 * 1024) + bytes(rng.getrandbits(8) for _ in range(256 * 1024))
        for j, n in enumerate(big):
            data = (chunk * (n // len(chunk) + 1))[:n]
            ti, _ = f("big/blob%d" % j, data)
            t.addfile(ti, io.BytesIO(data))
            size += n
        while size < total:
            dname = "tree/d%03d/s%02d" % (i // 200, (i // 20) % 10)
            n = int(rng.expovariate(1 / 24000)) + 1
            data = text(n)
            ti, _ = f("%s/file%05d.txt" % (dname, i), data, mode=0o644)
            t.addfile(ti, io.BytesIO(data))
            size += n
            i += 1


def main(argv):
    if argv[1:2] == ["--list"]:
        print("\n".join(sorted(KINDS)))
        return 0
    if argv[1:2] == ["bench"]:
        bench(argv[2], int(argv[3]))
        return 0
    comp, pad, args = None, 0, argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt in ("--gzip", "--gzip-multi", "--zstd"):
            comp = opt
        elif opt == "--pad":
            pad = int(args.pop(0))
        else:
            print("mktar: unknown option " + opt, file=sys.stderr)
            return 2
    if len(args) != 2 or args[0] not in KINDS:
        print(__doc__, file=sys.stderr)
        return 2
    kind, out = args
    tar = build(KINDS[kind], pad)
    with open(out + ".tar" if comp else out, "wb") as fh:
        fh.write(tar)
    if comp == "--gzip":
        data = gzip.compress(tar, mtime=0)
    elif comp == "--gzip-multi":
        half = len(tar) // 2
        data = gzip.compress(tar[:half], mtime=0) + gzip.compress(tar[half:], mtime=0)
    elif comp == "--zstd":
        data = subprocess.run(["zstd", "-q", "-c", "-3"], input=tar, check=True,
                              stdout=subprocess.PIPE).stdout
    else:
        return 0
    with open(out, "wb") as fh:
        fh.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
