#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Validate protocol messages, one JSON object per line, against schemas/protocol.schema.json.

Usage: validate_schema.py SCHEMA FILE...

Each line must be one JSON object valid against the schema's root (one of the message types).
A reply's result is also checked against $defs/results/<op>, the op being taken from the
request with the same id earlier in the same session; a client hello starts a new session
(trace files hold many CLI runs). A reply whose request is not in the file is checked against
the root only.

Prints one line per message: "ok FILE:LINE TYPE [op=OP|code=CODE]" or "invalid FILE:LINE ..."
with the validator's reasons; exits 0 when every line is valid and there was at least one,
1 otherwise, 2 when the schema itself is broken.
Uses Debian's python3-jsonschema (Draft 2020-12).
"""
import json
import sys

import jsonschema


def sub_schema(schema, pointer):
    """A schema that is just "$ref": pointer, with the document's $defs so refs resolve."""
    s = {"$ref": pointer, "$defs": schema.get("$defs", {})}
    if "$schema" in schema:
        s["$schema"] = schema["$schema"]
    return jsonschema.Draft202012Validator(s)


def reasons(validator, obj):
    out = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append(f"    at {path}: {e.message[:300]}")
        for c in (e.context or [])[:12]:
            cpath = "/".join(str(p) for p in c.absolute_path) or "(root)"
            out.append(f"      - {cpath}: {c.message[:200]}")
    return out


def load_schema(path):
    """The schema in the file and its validator; (None, None), once said why, when it is not a
    valid Draft 2020-12 schema. validate_model.py uses it too."""
    with open(path) as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"schema {path} is not a valid Draft 2020-12 schema: {e.message}")
        return None, None
    return schema, jsonschema.Draft202012Validator(schema)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema, root = load_schema(argv[0])
    if root is None:
        return 2
    results = schema.get("$defs", {}).get("results", {})
    result_validators = {op: sub_schema(schema, f"#/$defs/results/{op}") for op in results}
    count = bad = 0
    for fname in argv[1:]:
        ops = {}
        with open(fname, "rb") as f:
            data = f.read()
        for n, raw in enumerate(data.split(b"\n"), 1):
            if raw == b"":
                continue
            where = f"{fname}:{n}"
            count += 1
            try:
                obj = json.loads(raw)
            except ValueError as e:
                print(f"invalid {where} not JSON ({e}): {raw[:200]!r}")
                bad += 1
                continue
            if not isinstance(obj, dict):
                print(f"invalid {where} not an object: {raw[:200]!r}")
                bad += 1
                continue
            typ = obj.get("type")
            errs = reasons(root, obj)
            extra = ""
            if typ == "hello" and "daemon" not in obj:
                ops = {}
            elif typ == "request":
                ops[obj.get("id")] = obj.get("op")
                extra = f" op={obj.get('op')}"
            elif typ == "reply":
                op = ops.get(obj.get("id"))
                if op is not None:
                    extra = f" op={op}"
                    v = result_validators.get(op)
                    if v is None:
                        errs.append(f"    no $defs/results/{op} in the schema for this reply")
                    else:
                        errs += [r.replace("at ", "at result/", 1)
                                 for r in reasons(v, obj.get("result"))]
            elif typ == "error":
                extra = f" code={obj.get('code')}"
            if errs:
                bad += 1
                print(f"invalid {where} {typ}{extra}: {raw[:300].decode(errors='replace')}")
                print("\n".join(errs))
            else:
                print(f"ok {where} {typ}{extra}")
    if count == 0:
        print("no messages to validate")
        return 1
    print(f"{count} messages, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
