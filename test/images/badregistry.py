#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""badregistry.py: a read-only OCI distribution registry that misbehaves on purpose, for the
negative tests of berth's registry client. It serves every repository name from one OCI image
layout directory (tags are the layout's org.opencontainers.image.ref.name annotations; any
blob of the layout is a manifest or a blob by digest), on 127.0.0.1 (or ::1) only, on a free
port it prints on stdout, alone on a line, when it is ready.

Modes (--mode):
  ok            behaves (the reference the others are compared with)
  bad-digest    layer blobs are served with one byte changed: same length, wrong sha256
                (--bad-blob DIGEST picks one blob instead of every layer)
  slow          blobs are sent at --rate bytes per second (default 1 MiB/s)
  fail-then-ok  the first --count requests (default 2) of each blob fail, as --fail-how says:
                500 (a 500 answer), drop (headers and half the body, then the connection is
                closed), mixed (default: 500 first, then drop, alternating); then it serves
  ratelimit     the first --count requests (default 2; -1: all) of each manifest and blob get
                429 Too Many Requests with Retry-After: 1
  auth-bearer   every /v2/ request needs "Authorization: Bearer TOKEN"; without one the answer
                is 401 with WWW-Authenticate: Bearer realm="http://HOST:PORT/token",
                service="badreg",scope="repository:NAME:pull"; GET /token?service=..&scope=..
                with basic credentials --user/--password (default berth/secret) returns
                {"token": ..., "access_token": ...} valid for that scope only
Range requests on blobs are honoured (206 with Content-Range) in every mode. --log FILE gets
one JSON line per request (method, path, range, auth: the Authorization scheme or null,
status, sent: body bytes sent, dropped: true when the connection was cut), so a test can check
what the client asked for.
"""

import argparse
import base64
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
NAME_RE = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
PATH_RE = re.compile(r"^/v2/(" + NAME_RE + r")/(manifests|blobs)/([A-Za-z0-9_.:+=-]+)$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class Layout:
    def __init__(self, top):
        self.top = top
        with open(os.path.join(top, "index.json"), "rb") as f:
            idx = json.load(f)
        self.tags = {}
        for d in idx.get("manifests", []):
            name = (d.get("annotations") or {}).get("org.opencontainers.image.ref.name")
            if name:
                self.tags[name] = d
        self.layers = set()
        self.media = {}
        for d in idx.get("manifests", []):
            self._walk(d)

    def _walk(self, desc):
        self.media[desc["digest"]] = desc["mediaType"]
        if desc["mediaType"] not in MANIFEST_TYPES:
            return
        doc = json.loads(self.read(desc["digest"]))
        for d in doc.get("manifests", []):
            self._walk(d)
        if "config" in doc:
            self.media[doc["config"]["digest"]] = doc["config"]["mediaType"]
        for d in doc.get("layers", []):
            self.media[d["digest"]] = d["mediaType"]
            self.layers.add(d["digest"])

    def path(self, digest):
        if not DIGEST_RE.match(digest):
            return None
        p = os.path.join(self.top, "blobs", "sha256", digest[7:])
        return p if os.path.isfile(p) else None

    def read(self, digest):
        with open(self.path(digest), "rb") as f:
            return f.read()


class State:
    def __init__(self, args, layout):
        self.args = args
        self.layout = layout
        self.lock = threading.Lock()
        self.counts = {}
        self.tokens = {}  # token -> repository it allows
        self.logf = open(args.log, "a", buffering=1) if args.log else None

    def bump(self, key):
        with self.lock:
            n = self.counts.get(key, 0) + 1
            self.counts[key] = n
            return n

    def log(self, rec):
        if self.logf:
            with self.lock:
                self.logf.write(json.dumps(rec, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "badregistry"
    sys_version = ""

    def log_message(self, fmt, *a):  # quiet; --log has the useful record
        pass

    @property
    def st(self):
        return self.server.state

    def _finish(self, status, sent=0, dropped=False):
        auth = self.headers.get("Authorization", "")
        self.st.log({"method": self.command, "path": self.path, "status": status,
                     "range": self.headers.get("Range"), "sent": sent, "dropped": dropped,
                     "auth": auth.split(" ", 1)[0].lower() if auth else None})

    def _reply(self, status, body=b"", ctype="application/json", headers=None, head=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)
        self._finish(status, 0 if head else len(body))

    def _error(self, status, code, msg, headers=None, head=False):
        body = json.dumps({"errors": [{"code": code, "message": msg}]}).encode()
        self._reply(status, body, headers=headers, head=head)

    # --- auth-bearer

    def _token_endpoint(self):
        a = self.st.args
        q = parse_qs(urlsplit(self.path).query)
        want = f"{a.user}:{a.password}".encode()
        got = self.headers.get("Authorization", "")
        ok = got.startswith("Basic ") and base64.b64decode(got[6:] + "==") == want
        if not ok:
            self._error(401, "UNAUTHORIZED", "bad credentials",
                        {"WWW-Authenticate": 'Basic realm="badreg"'})
            return
        repo = None
        for s in q.get("scope", []):
            m = re.match(r"^repository:([^:]+):(.*)$", s)
            if m and "pull" in m.group(2).split(","):
                repo = m.group(1)
        tok = secrets.token_hex(16)
        with self.st.lock:
            self.st.tokens[tok] = repo
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300,
                           "issued_at": "1970-01-01T00:00:00Z"}).encode()
        self._reply(200, body)

    def _authorized(self, repo, head):
        if self.st.args.mode != "auth-bearer":
            return True
        got = self.headers.get("Authorization", "")
        if got.startswith("Bearer "):
            with self.st.lock:
                allowed = self.st.tokens.get(got[7:], False)
            if allowed is not False and (repo is None or allowed == repo):
                return True
        host, port = self.server.server_address[:2]
        hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        chal = f'Bearer realm="http://{hostport}/token",service="badreg"'
        if repo:
            chal += f',scope="repository:{repo}:pull"'
        self._error(401, "UNAUTHORIZED", "authentication required",
                    {"WWW-Authenticate": chal}, head=head)
        return False

    # --- serving

    def do_HEAD(self):
        self._route(head=True)

    def do_GET(self):
        self._route(head=False)

    def _refuse(self):
        self._error(405, "UNSUPPORTED", "this registry is read-only")

    do_PUT = do_POST = do_PATCH = do_DELETE = _refuse

    def _route(self, head):
        try:
            self._route2(head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route2(self, head):
        path = urlsplit(self.path).path
        if path == "/token" and self.st.args.mode == "auth-bearer":
            self._token_endpoint()
            return
        if path in ("/v2", "/v2/"):
            if self._authorized(None, head):
                self._reply(200, b"{}", head=head)
            return
        m = PATH_RE.match(path)
        if not m:
            self._error(404, "NOT_FOUND", "no such endpoint", head=head)
            return
        repo, kind, ref = m.groups()
        if not self._authorized(repo, head):
            return
        a = self.st.args
        if a.mode == "ratelimit":
            n = self.st.bump((kind, ref))
            if a.count < 0 or n <= a.count:
                self._error(429, "TOOMANYREQUESTS", "slow down", {"Retry-After": "1"},
                            head=head)
                return
        if kind == "manifests":
            self._manifest(ref, head)
        else:
            self._blob(ref, head)

    def _manifest(self, ref, head):
        lay = self.st.layout
        if DIGEST_RE.match(ref):
            digest = ref if lay.path(ref) else None
        else:
            d = lay.tags.get(ref)
            digest = d["digest"] if d else None
        if not digest:
            self._error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {ref}", head=head)
            return
        body = lay.read(digest)
        try:
            ctype = json.loads(body).get("mediaType") or lay.media.get(digest)
        except ValueError:
            ctype = None
        self._reply(200, body, ctype or "application/octet-stream",
                    {"Docker-Content-Digest": digest}, head=head)

    def _blob(self, digest, head):
        a = self.st.args
        lay = self.st.layout
        if not lay.path(digest):
            self._error(404, "BLOB_UNKNOWN", f"blob unknown: {digest}", head=head)
            return
        data = lay.read(digest)
        if a.mode == "bad-digest" and (digest == a.bad_blob
                                       or (a.bad_blob is None and digest in lay.layers)):
            b = bytearray(data)
            b[len(b) // 2] ^= 0xFF
            data = bytes(b)
        fail = None
        if a.mode == "fail-then-ok" and not head:
            n = self.st.bump(("blob", digest))
            if n <= a.count:
                fail = a.fail_how
                if fail == "mixed":
                    fail = "500" if n % 2 else "drop"
        if fail == "500":
            self._error(500, "UNKNOWN", "injected failure")
            return
        start, end = 0, len(data)
        status = 200
        headers = {"Docker-Content-Digest": digest, "Accept-Ranges": "bytes"}
        rng = self.headers.get("Range")
        if rng:
            m = re.match(r"^bytes=(\d+)-(\d*)$", rng.strip())
            if not m or int(m.group(1)) >= len(data) and len(data) > 0:
                self._reply(416, b"", headers={"Content-Range": f"bytes */{len(data)}"},
                            head=head)
                return
            start = int(m.group(1))
            if m.group(2):
                end = min(len(data), int(m.group(2)) + 1)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        body = data[start:end]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            self._finish(status)
            return
        if fail == "drop":
            half = body[: len(body) // 2]
            self.wfile.write(half)
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._finish(status, len(half), dropped=True)
            return
        sent = 0
        if a.mode == "slow":
            step = max(1, a.rate // 20)
            t0 = time.monotonic()
            while sent < len(body):
                chunk = body[sent : sent + step]
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
                delay = t0 + sent / a.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        else:
            self.wfile.write(body)
            sent = len(body)
        self._finish(status, sent)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


class Server6(Server):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser(prog="badregistry.py", description=__doc__.split("\n")[0])
    ap.add_argument("--layout", required=True, help="OCI image layout directory to serve")
    ap.add_argument("--mode", default="ok", choices=("ok", "bad-digest", "slow", "fail-then-ok",
                                                     "ratelimit", "auth-bearer"))
    ap.add_argument("--host", default="127.0.0.1", choices=("127.0.0.1", "::1"))
    ap.add_argument("--port", type=int, default=0, help="default: a free one")
    ap.add_argument("--rate", type=int, default=1 << 20, help="slow: bytes per second")
    ap.add_argument("--count", type=int, default=2,
                    help="fail-then-ok, ratelimit: failures per blob (ratelimit: -1 = always)")
    ap.add_argument("--fail-how", default="mixed", choices=("500", "drop", "mixed"))
    ap.add_argument("--bad-blob", metavar="DIGEST", help="bad-digest: only this blob")
    ap.add_argument("--user", default="berth")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--log", metavar="FILE", help="one JSON line per request")
    args = ap.parse_args()
    if args.rate <= 0:
        ap.error("--rate must be positive")
    try:
        layout = Layout(args.layout)
    except (OSError, ValueError, KeyError) as e:
        print(f"badregistry.py: cannot read layout '{args.layout}': {e}", file=sys.stderr)
        return 1
    cls = Server6 if args.host == "::1" else Server
    srv = cls((args.host, args.port), Handler)
    srv.state = State(args, layout)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
