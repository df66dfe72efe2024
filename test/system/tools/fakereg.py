#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Test helper of 202-registry-client.bats.

  fakereg.py mklayout DIR
      Write a minimal one-layer OCI image layout into DIR (a gzipped tar of two files, one of
      them 3 MiB of pseudo-random bytes) tagged "latest"; print the digests of layer, config and
      manifest as "layer sha256:...", etc.

  fakereg.py serve PORTFILE LOG MODE [--user U --password P --identity-token T]
      A fake registry on 127.0.0.1 (a free port, written to PORTFILE once listening) for what a
      real registry will not do on demand. One repository "fake/repo" with tag "v1" and one
      2 MiB blob (its digest is served at /digest). Every request is logged to LOG as
      "METHOD PATH range=RANGE auth=SCHEME". MODE, comma-separated:
        flaky5xx   the first manifest and blob GET answer 500
        429        the first manifest GET answers 429 with Retry-After: 1
        drop       the first blob GET sends half its body and closes the connection
        drop200    like drop, and Range requests are answered 200 with the whole body
        bearer     every /v2/ call needs a bearer token from /token (basic credentials, or the
                   identity token as an OAuth2 refresh token)
        redirect   blob GETs are redirected to http://localhost:PORT/storage/..., which refuses
                   requests carrying Authorization
"""
import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import random
import socket
import sys
import tarfile
import threading
import urllib.parse

SERVICE = 'fake "registry", with commas'
TOKEN = "tok-" + "x" * 20
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def blob_bytes():
    rnd = random.Random(202)
    return rnd.randbytes(2 << 20)


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def mklayout(d):
    rnd = random.Random(7)
    big = rnd.randbytes(3 << 20)
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in (("hello.txt", b"hello from berth\n"), ("big.bin", big)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            tar.addfile(ti, io.BytesIO(data))
    layer = gzip.compress(tbuf.getvalue(), mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(tbuf.getvalue())]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(layer), "size": len(layer)}],
    }, sort_keys=True).encode()
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    for data in (layer, config, manifest):
        with open(os.path.join(d, "blobs", "sha256", sha(data)[7:]), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": MANIFEST_TYPE, "digest": sha(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)
    print("layer", sha(layer))
    print("config", sha(config))
    print("manifest", sha(manifest))


class State:
    def __init__(self, modes, creds):
        self.modes = modes
        self.creds = creds
        self.blob = blob_bytes()
        self.digest = sha(self.blob)
        self.manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                                    "layers": [{"digest": self.digest,
                                                "size": len(self.blob)}]}).encode()
        self.counts = {}
        self.lock = threading.Lock()

    def first(self, what):
        with self.lock:
            n = self.counts.get(what, 0)
            self.counts[what] = n + 1
            return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, ecode, msg, headers=()):
        body = json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode()
        self.send(code, body, headers=headers)

    def authorized(self):
        st = self.server.state
        if "bearer" not in st.modes:
            return True
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        port = self.server.server_address[1]
        esc = SERVICE.replace("\\", "\\\\").replace('"', '\\"')
        chal = ('Bearer realm="http://127.0.0.1:%d/token",service="%s",'
                'scope="repository:fake/repo:pull"' % (port, esc))
        self.error(401, "UNAUTHORIZED", "authentication required",
                   headers=[("WWW-Authenticate", chal)])
        return False

    def do_token(self, query, form):
        st = self.server.state
        q = form if form is not None else query
        if q.get("service") != [SERVICE]:
            return self.send(400, b'{"details":"bad service"}')
        if form is not None:
            ok = (q.get("grant_type") == ["refresh_token"] and
                  q.get("refresh_token") == [st.creds.get("identity_token")])
        else:
            want = "Basic " + base64.b64encode(
                ("%s:%s" % (st.creds.get("user"), st.creds.get("password"))).encode()).decode()
            ok = self.headers.get("Authorization") == want
        if not ok:
            return self.send(401, b'{"details":"incorrect username or password"}')
        self.send(200, json.dumps({"access_token": TOKEN, "expires_in": 300}).encode())

    def handle_any(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        form = None
        if self.command in ("POST", "PUT", "PATCH"):
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n)
            if url.path == "/token":
                form = urllib.parse.parse_qs(data.decode())
        auth = (self.headers.get("Authorization") or "none").split(" ")[0]
        with open(self.server.log, "a") as f:
            f.write("%s %s range=%s auth=%s\n" % (self.command, url.path,
                                                 self.headers.get("Range") or "-", auth))
        if url.path == "/digest":
            return self.send(200, st.digest.encode(), "text/plain")
        if url.path == "/token":
            return self.do_token(urllib.parse.parse_qs(url.query), form)
        if url.path.startswith("/storage/"):
            if self.headers.get("Authorization"):
                return self.send(400, b"credentials sent to the storage host")
            return self.send_blob()
        if not url.path.startswith("/v2/"):
            return self.send(404)
        if not self.authorized():
            return
        if url.path == "/v2/":
            return self.send(200, b"{}")
        if url.path.startswith("/v2/fake/repo/manifests/"):
            ref = url.path.rsplit("/", 1)[1]
            if "flaky5xx" in st.modes and st.first("manifest5xx"):
                return self.error(500, "UNKNOWN", "try again later")
            if "429" in st.modes and st.first("manifest429"):
                return self.error(429, "TOOMANYREQUESTS", "slow down",
                                  headers=[("Retry-After", "1")])
            if ref not in ("v1", sha(st.manifest)):
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.send(200, st.manifest, MANIFEST_TYPE,
                             [("Docker-Content-Digest", sha(st.manifest))])
        if url.path == "/v2/fake/repo/blobs/" + st.digest:
            if "flaky5xx" in st.modes and st.first("blob5xx"):
                return self.error(500, "UNKNOWN", "try again later")
            if "redirect" in st.modes:
                port = self.server.server_address[1]
                loc = "http://localhost:%d/storage/%s" % (port, st.digest[7:])
                return self.send(307, b"", headers=[("Location", loc)])
            return self.send_blob()
        return self.error(404, "BLOB_UNKNOWN", "blob unknown")

    def send_blob(self):
        st = self.server.state
        data = st.blob
        rng = self.headers.get("Range")
        drop = ("drop" in st.modes or "drop200" in st.modes) and st.first("drop")
        if rng and "drop200" not in st.modes and self.command == "GET":
            start = int(rng.split("=")[1].split("-")[0])
            body = data[start:]
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1,
                                                                  len(data)))
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Content-Digest", st.digest)
        self.end_headers()
        if self.command == "HEAD":
            return
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = handle_any


def serve(argv):
    portfile, log, modes = argv[0], argv[1], set(argv[2].split(","))
    creds = {}
    rest = argv[3:]
    for i in range(0, len(rest) - 1, 2):
        creds[rest[i].lstrip("-").replace("-", "_")] = rest[i + 1]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(modes, creds)
    srv.log = log
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "mklayout":
        mklayout(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
