#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Validate project models (berth config --format json) against schemas/project.schema.json.

Usage: validate_model.py SCHEMA [--known REGEX]... [--all-known-used] FILE...

Each FILE holds one JSON document. Every schema error is written "/json/pointer: message";
an error that a --known regular expression matches from its start is a known gap of the
normaliser (it is reported as "known", not as invalid). With --all-known-used, a --known
expression that matched nothing is an error too: the gap was closed, so the list should lose it.

Prints "ok FILE", or "invalid FILE" followed by its errors, or "known FILE" with the known ones;
then "N documents, N invalid, N known". Exits 0 when every document is valid (known gaps aside),
1 otherwise, 2 when the schema or the arguments are broken.
Uses Debian's python3-jsonschema (Draft 2020-12).
"""
import json
import re
import sys

from validate_schema import load_schema


def errors(validator, doc):
    """Every error as "/pointer: message", in document order."""
    out = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        pointer = "/" + "/".join(str(p) for p in e.absolute_path)
        out.append(f"{pointer}: {e.message[:300]}")
    return out


def main(argv):
    known, files, all_used = [], [], False
    args = iter(argv[1:])
    for a in args:
        if a == "--known":
            known.append(re.compile(next(args, "")))
        elif a == "--all-known-used":
            all_used = True
        else:
            files.append(a)
    if not argv or not files:
        print(__doc__, file=sys.stderr)
        return 2
    validator = load_schema(argv[0])[1]
    if validator is None:
        return 2
    used = [0] * len(known)
    bad = gaps = 0
    for name in files:
        try:
            with open(name) as f:
                doc = json.load(f)
        except ValueError as e:
            print(f"invalid {name}\n    not JSON: {e}")
            bad += 1
            continue
        new, old = [], []
        for err in errors(validator, doc):
            hit = [i for i, k in enumerate(known) if k.match(err)]
            for i in hit:
                used[i] += 1
            (old if hit else new).append(err)
        if new:
            bad += 1
            print(f"invalid {name}")
            print("\n".join("    " + e for e in new))
        if old:
            gaps += len(old)
            print(f"known {name}")
            print("\n".join("    " + e for e in old))
        if not new and not old:
            print(f"ok {name}")
    print(f"{len(files)} documents, {bad} invalid, {gaps} known")
    unused = [k.pattern for k, n in zip(known, used) if n == 0]
    if all_used and unused:
        for p in unused:
            print(f"known gap matched nothing (fixed? drop it): {p}")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
