#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Print values from the JSON document on stdin, for the system tests.

Usage: jsonq.py PATH...      PATH is dotted ("daemon.pid", "namespaces.user"); "." is the
                             document itself.
       jsonq.py --type PATH  prints the JSON type instead: object array string integer number
                             boolean null.
       jsonq.py --keys PATH  prints the keys of an object, sorted, one per line.

Strings print raw, booleans as true/false, null as null, objects and arrays as compact JSON.
A missing path prints "jsonq: missing PATH" on stderr and exits 1; input that is not exactly one
JSON document exits 2.
"""
import json
import sys


def lookup(doc, path):
    if path == ".":
        return doc
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise KeyError(path)
    return cur


def type_name(v):
    if isinstance(v, bool):
        return "boolean"
    if v is None:
        return "null"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def show(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return str(v)


def main(argv):
    mode = "value"
    if argv and argv[0] in ("--type", "--keys"):
        mode = argv.pop(0)[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print(f"jsonq: input is not one JSON document: {e}", file=sys.stderr)
        return 2
    for path in argv:
        try:
            v = lookup(doc, path)
        except KeyError:
            print(f"jsonq: missing {path}", file=sys.stderr)
            return 1
        if mode == "type":
            print(type_name(v))
        elif mode == "keys":
            if not isinstance(v, dict):
                print(f"jsonq: {path} is not an object", file=sys.stderr)
                return 1
            for k in sorted(v):
                print(k)
        else:
            print(show(v))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
