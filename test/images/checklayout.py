#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""checklayout.py: checks an OCI image layout directory, an OCI archive or a `docker save` tar.

Layout: oci-layout names version 1.0.0; every file in blobs/sha256 hashes to its name; every
descriptor reachable from index.json (indexes, manifests, configs, layers) names a blob that
exists with the descriptor's size, and the document's mediaType agrees with the descriptor's;
each image config's rootfs.diff_ids are the sha256 of its layers once decompressed (gzip, zstd
or none, by media type). Docker save tar: manifest.json's Config and Layers exist, the config
file is named by its own sha256, the layers hash to the diff_ids. Prints a JSON summary
(the digests it walked) on stdout; exit status 1 with one line per problem on stderr.
"""

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}
MANIFEST_TYPES = {"application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json"}


class Checker:
    def __init__(self, top):
        self.top = top
        self.problems = []
        self.summary = {"indexes": [], "manifests": [], "configs": [], "layers": []}

    def bad(self, msg):
        self.problems.append(msg)

    def blob_path(self, digest):
        if not digest.startswith("sha256:") or len(digest) != 71:
            self.bad(f"digest '{digest}' is not sha256:<64 hex>")
            return None
        return os.path.join(self.top, "blobs", "sha256", digest[7:])

    def check_blobs(self):
        d = os.path.join(self.top, "blobs", "sha256")
        for name in sorted(os.listdir(d)):
            h = hashlib.sha256()
            with open(os.path.join(d, name), "rb") as f:
                for b in iter(lambda: f.read(1 << 20), b""):
                    h.update(b)
            if h.hexdigest() != name:
                self.bad(f"blob {name} hashes to {h.hexdigest()}")

    def desc(self, d, where):
        p = self.blob_path(d["digest"])
        if p is None:
            return None
        if not os.path.isfile(p):
            self.bad(f"{where}: blob {d['digest']} is missing")
            return None
        if os.path.getsize(p) != d["size"]:
            self.bad(f"{where}: {d['digest']} has {os.path.getsize(p)} bytes, descriptor says "
                     f"{d['size']}")
        return p

    def doc(self, d, where):
        p = self.desc(d, where)
        if p is None:
            return None
        with open(p, "rb") as f:
            doc = json.load(f)
        mt = doc.get("mediaType")
        if mt and mt != d["mediaType"]:
            self.bad(f"{where}: document says {mt}, descriptor {d['mediaType']}")
        return doc

    def walk(self, d, where):
        mt = d.get("mediaType")
        if mt in INDEX_TYPES:
            doc = self.doc(d, where)
            if doc is None:
                return
            self.summary["indexes"].append(d["digest"])
            for i, m in enumerate(doc.get("manifests", [])):
                if "platform" not in m:
                    self.bad(f"{where}.manifests[{i}]: no platform")
                self.walk(m, f"{where}.manifests[{i}]")
        elif mt in MANIFEST_TYPES:
            doc = self.doc(d, where)
            if doc is None:
                return
            self.summary["manifests"].append(d["digest"])
            self.image(doc, where)
        else:
            self.bad(f"{where}: unknown media type {mt}")

    def image(self, man, where):
        cp = self.desc(man["config"], where + ".config")
        if cp is None:
            return
        self.summary["configs"].append(man["config"]["digest"])
        with open(cp, "rb") as f:
            cfg = json.load(f)
        diff_ids = cfg.get("rootfs", {}).get("diff_ids", [])
        if len(diff_ids) != len(man["layers"]):
            self.bad(f"{where}: {len(man['layers'])} layers, {len(diff_ids)} diff_ids")
        for i, l in enumerate(man["layers"]):
            p = self.desc(l, f"{where}.layers[{i}]")
            if p is None:
                continue
            self.summary["layers"].append(l["digest"])
            got = uncompressed_sha256(p, l["mediaType"])
            if i < len(diff_ids) and got != diff_ids[i]:
                self.bad(f"{where}.layers[{i}]: uncompressed {got}, diff_id {diff_ids[i]}")

    def run(self):
        try:
            with open(os.path.join(self.top, "oci-layout")) as f:
                v = json.load(f).get("imageLayoutVersion")
            if v != "1.0.0":
                self.bad(f"oci-layout: imageLayoutVersion {v}")
            with open(os.path.join(self.top, "index.json")) as f:
                idx = json.load(f)
        except (OSError, ValueError) as e:
            self.bad(str(e))
            return
        self.check_blobs()
        for i, d in enumerate(idx.get("manifests", [])):
            where = f"index.json.manifests[{i}]"
            try:
                self.walk(d, where)
            except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
                self.bad(f"{where}: {type(e).__name__}: {e}")


def uncompressed_sha256(path, media_type):
    h = hashlib.sha256()
    if media_type.endswith("gzip"):
        f = gzip.open(path, "rb")
    elif media_type.endswith("zstd"):
        p = subprocess.Popen(["zstd", "-q", "-d", "-c", path], stdout=subprocess.PIPE)
        f = p.stdout
    else:
        f = open(path, "rb")
    with f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return "sha256:" + h.hexdigest()


def check_docker_archive(path):
    problems = []
    with tarfile.open(path) as tf:
        def read(name):
            return tf.extractfile(name).read()
        man = json.loads(read("manifest.json"))
        out = {"images": []}
        for img in man:
            cfgb = read(img["Config"])
            cid = hashlib.sha256(cfgb).hexdigest()
            if os.path.basename(img["Config"]) != cid + ".json":
                problems.append(f"config {img['Config']} hashes to {cid}")
            diff_ids = json.loads(cfgb)["rootfs"]["diff_ids"]
            if len(diff_ids) != len(img["Layers"]):
                problems.append(f"{len(img['Layers'])} layers, {len(diff_ids)} diff_ids")
            for l, want in zip(img["Layers"], diff_ids):
                got = "sha256:" + hashlib.sha256(read(l)).hexdigest()
                if got != want:
                    problems.append(f"layer {l} hashes to {got}, diff_id {want}")
            out["images"].append({"image_id": "sha256:" + cid, "repo_tags": img.get("RepoTags"),
                                  "diff_ids": diff_ids})
    return out, problems


def extract_layout(src, dest):
    """Regular files and directories only, names without '..' or a leading '/'."""
    with tarfile.open(src) as tf:
        for m in tf:
            parts = m.name.split("/")
            if m.name.startswith("/") or ".." in parts:
                raise ValueError(f"unsafe name '{m.name}' in '{src}'")
            p = os.path.join(dest, *parts)
            if m.isdir():
                os.makedirs(p, exist_ok=True)
            elif m.isfile():
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with tf.extractfile(m) as fi, open(p, "wb") as fo:
                    fo.write(fi.read())


def main():
    if len(sys.argv) != 2:
        print("usage: checklayout.py LAYOUT_DIR|OCI_ARCHIVE|DOCKER_SAVE_TAR", file=sys.stderr)
        return 2
    src = sys.argv[1]
    try:
        summary, problems = check(src)
    except (OSError, ValueError, KeyError, TypeError, EOFError, tarfile.TarError) as e:
        summary, problems = {}, [f"{type(e).__name__}: {e}"]
    for p in problems:
        print(f"checklayout.py: {src}: {p}", file=sys.stderr)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 1 if problems else 0


def check(src):
    if os.path.isdir(src):
        c = Checker(src)
        c.run()
        summary, problems = c.summary, c.problems
    else:
        with tarfile.open(src) as tf:
            names = tf.getnames()
        if "oci-layout" in names:
            with tempfile.TemporaryDirectory() as tmp:
                extract_layout(src, tmp)
                c = Checker(tmp)
                c.run()
                summary, problems = c.summary, c.problems
        elif "manifest.json" in names:
            summary, problems = check_docker_archive(src)
        else:
            summary, problems = {}, [f"'{src}' is neither an OCI archive nor a docker save tar"]
    return summary, problems


if __name__ == "__main__":
    sys.exit(main())
