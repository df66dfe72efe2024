#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile rootfs tars for `berth image import`, aimed at a canary directory outside the store.

Usage: img-store-hostile.py KIND OUT CANARY UP
       img-store-hostile.py --list

The layer is unpacked in BERTH_ROOT/images/layers/.tmp-*/diff; CANARY is the absolute path of a
directory outside the store and UP the number of '..' that lead from that diff directory to
CANARY's parent, so every relative escape below would hit CANARY itself if it were followed on
the host. Every hostile write is a file named pwned*. The kinds whose escape the unpacker
contains (the link resolves inside the layer's root) carry the in-layer directory it resolves
to, so they succeed and the file lands inside the layer.
"""
import io
import sys
import tarfile


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.mtime = 1600000000
    t.linkname = link
    if kind == tarfile.REGTYPE:
        t.size = len(data)
    return (t, data)


def f(name, data=b"pwned"):
    return entry(name, data=data)


def d(name):
    return entry(name, tarfile.DIRTYPE, mode=0o755)


def sym(name, target):
    return entry(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name, target):
    return entry(name, tarfile.LNKTYPE, link=target)


def kinds(canary, up):
    ups = "../" * up
    rel = canary.lstrip("/")
    # The parents of CANARY inside the layer, for the kinds that resolve an absolute link there.
    parts = rel.split("/")
    abs_dirs = [d("/".join(parts[:i + 1])) for i in range(len(parts))]
    return {
        # A name with '..' components reaching the canary: refused.
        "dotdot": [f("ok", b"ok"), f(ups + "canary/pwned")],
        # An absolute symlink to the canary, then a write through it: the link resolves in the
        # layer's root, where nothing is: refused.
        "abs-symlink": [sym("evil", canary), f("evil/pwned")],
        # The same with the canary's path made inside the layer: contained, the file lands there.
        "abs-symlink-inside": abs_dirs + [sym("evil", canary), f("evil/pwned")],
        # A relative symlink up and over to the canary: '..' stops at the layer's root.
        "rel-symlink-inside": [d("canary"), sym("evil", ups + "canary"), f("evil/pwned")],
        # Hard links to the canary's file: refused, by '..' or because the target is not in
        # the layer.
        "hardlink-dotdot": [f("a", b"a"), hard("hl", ups + "canary/keep")],
        "hardlink-absolute": [f("a", b"a"), hard("hl", canary + "/keep")],
        # A chain: e -> c/canary, c -> the ups; resolved inside, the layer's canary/.
        "chain": [sym("b", "/"), sym("a", "b"), f("a/pwned-a", b"chain"), sym("c", ups),
                  sym("e", "c/canary"), d("canary"), f("e/pwned", b"chain2")],
        # A chain with nothing at its end inside the layer: refused.
        "chain-dangling": [sym("c", ups), sym("e", "c/canary"), f("e/pwned", b"chain")],
        # A directory replaced by a symlink to the canary between two entries: refused.
        "dir-swap": [d("dd"), f("dd/first", b"1"), sym("dd", ups + "canary"), f("dd/pwned")],
        "dir-swap-abs": [d("dd"), f("dd/first", b"1"), sym("dd", canary), f("dd/pwned")],
    }


def main(argv):
    if argv[1:2] == ["--list"]:
        print("\n".join(sorted(kinds("/x", 1))))
        return 0
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    kind, out, canary, up = argv[1], argv[2], argv[3], int(argv[4])
    table = kinds(canary, up)
    if kind not in table:
        print("img-store-hostile: unknown kind '%s'" % kind, file=sys.stderr)
        return 2
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in table[kind]:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    with open(out, "wb") as fh:
        fh.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
