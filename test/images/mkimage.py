#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""mkimage.py: builds OCI and Docker images for berth's tests, reproducibly.

Same inputs give byte-identical output, so digests are stable: tar entries sorted by name,
mtime fixed (SOURCE_DATE_EPOCH, else 0), owner 0:0 with empty user and group names, gzip
with mtime 0 and no file name, zstd through the `zstd` command at a fixed level, JSON written
with a fixed key order and no whitespace.

Subcommands (run with --help for the options):
  image   one image from layer directories or tars, written as an OCI layout directory, an
          OCI archive (that directory tarred) and/or a `docker save` tar
  index   a multi-platform index made of images built by `image` (OCI layouts)
  big     a big image for benchmarks: N layers of generated data, reproducible from a seed

Each subcommand prints one JSON object on stdout: the manifest digest, the config digest
(= the image id), the layers, diff ids and chain ids; for an index also each platform's.
stdlib only; run it with Debian's /usr/bin/python3.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import platform as pyplatform
import random
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"

REF_NAME = "org.opencontainers.image.ref.name"
ZSTD_LEVEL = 3
GZIP_LEVEL = 6
CHUNK = 1 << 20

# Layer media types by manifest format and compression.
LAYER_TYPES = {
    ("oci", "none"): MT_OCI_LAYER,
    ("oci", "gzip"): MT_OCI_LAYER + "+gzip",
    ("oci", "zstd"): MT_OCI_LAYER + "+zstd",
    ("docker", "none"): MT_DOCKER_LAYER,
    ("docker", "gzip"): MT_DOCKER_LAYER + ".gzip",
}

# uname -m -> (GOARCH, variant)
HOST_ARCHES = {
    "x86_64": ("amd64", ""),
    "aarch64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i686": ("386", ""),
    "i386": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


class Fail(Exception):
    pass


def epoch():
    v = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return int(v)
    except ValueError:
        raise Fail(f"SOURCE_DATE_EPOCH='{v}' is not a number")


def rfc3339(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def host_platform():
    arch, variant = HOST_ARCHES.get(pyplatform.machine(), (pyplatform.machine(), ""))
    return "linux", arch, variant


def parse_platform(s):
    parts = s.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise Fail(f"platform '{s}' is not OS/ARCH[/VARIANT]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Layers


def tar_directory(src, out):
    """Writes the tree under src as a tar to the binary file out: entries sorted, no root
    entry, owner 0:0, fixed mtime; hard links kept (second and later names become links to
    the first); sockets skipped. Whiteouts are plain files named .wh.* in the tree already."""
    mtime = epoch()
    seen = {}
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        entries = []
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(dirs + files):
                entries.append(os.path.join(root, name))
        entries.sort(key=lambda p: os.path.relpath(p, src).split(os.sep))
        for path in entries:
            rel = os.path.relpath(path, src)
            st = os.lstat(path)
            ti = tarfile.TarInfo(rel)
            ti.mode = stat.S_IMODE(st.st_mode)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mtime = mtime
            data = None
            if stat.S_ISDIR(st.st_mode):
                ti.type = tarfile.DIRTYPE
            elif stat.S_ISLNK(st.st_mode):
                ti.type = tarfile.SYMTYPE
                ti.linkname = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    ti.type = tarfile.LNKTYPE
                    ti.linkname = seen[key]
                else:
                    seen[key] = rel
                    ti.type = tarfile.REGTYPE
                    ti.size = st.st_size
                    data = path
            elif stat.S_ISFIFO(st.st_mode):
                ti.type = tarfile.FIFOTYPE
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                ti.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
                ti.devmajor = os.major(st.st_rdev)
                ti.devminor = os.minor(st.st_rdev)
            else:
                continue
            if data is None:
                tf.addfile(ti)
            else:
                with open(data, "rb") as f:
                    tf.addfile(ti, f)


def decompress_to(path, out):
    """Copies the tar at path to out, decompressing gzip or zstd; the tar bytes themselves
    are kept as they are (crafted tars stay crafted)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as f:
            shutil.copyfileobj(f, out, CHUNK)
    elif magic == b"\x28\xb5\x2f\xfd":
        out.flush()
        subprocess.run(["zstd", "-q", "-d", "-c", path], stdout=out, check=True)
    else:
        with open(path, "rb") as f:
            shutil.copyfileobj(f, out, CHUNK)


def compress(src, dst, how):
    if how == "none":
        shutil.copyfile(src, dst)
    elif how == "gzip":
        with open(src, "rb") as fi, open(dst, "wb") as fo:
            # mtime 0 and an empty name keep the header fixed; GzipFile writes OS=255.
            with gzip.GzipFile(filename="", mode="wb", fileobj=fo, mtime=0,
                               compresslevel=GZIP_LEVEL) as gz:
                shutil.copyfileobj(fi, gz, CHUNK)
    elif how == "zstd":
        with open(dst, "wb") as fo:
            subprocess.run(["zstd", "-q", f"-{ZSTD_LEVEL}", "-T1", "-c", src], stdout=fo,
                           check=True)
    else:
        raise Fail(f"unknown compression '{how}'")


class Blobs:
    """The blobs/sha256 directory of a layout being built."""

    def __init__(self, top):
        self.dir = os.path.join(top, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)
        # Fixed modes: an OCI archive tars these, and the umask must not change its bytes.
        for d in (top, os.path.join(top, "blobs"), self.dir):
            os.chmod(d, 0o755)
        self.tmp = top

    def add_file(self, path):
        """Moves path into the store; returns (digest, size)."""
        d = sha256_file(path)
        size = os.path.getsize(path)
        os.chmod(path, 0o644)  # mkstemp made it 0600
        os.replace(path, os.path.join(self.dir, d[7:]))
        return d, size

    def add_bytes(self, data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.dir, d[7:]), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(self.dir, d[7:]), 0o644)
        return d, len(data)

    def path(self, digest):
        return os.path.join(self.dir, digest.split(":", 1)[1])

    def read(self, digest):
        with open(self.path(digest), "rb") as f:
            return f.read()


def make_layer(src, how, blobs, work, cache=None):
    """Builds one layer from a directory or a tar; returns a dict with the uncompressed tar's
    path (kept in work for docker archives), diff_id, and the blob's digest and size. With a
    cache directory, a tar already compressed the same way is not compressed again."""
    fd, raw = tempfile.mkstemp(dir=work, suffix=".tar")
    with os.fdopen(fd, "wb") as out:
        if os.path.isdir(src):
            tar_directory(src, out)
        elif os.path.isfile(src):
            decompress_to(src, out)
        else:
            raise Fail(f"layer '{src}' is neither a directory nor a file")
    diff_id = sha256_file(raw)
    fd, comp = tempfile.mkstemp(dir=work, suffix=".blob")
    os.close(fd)
    level = {"gzip": GZIP_LEVEL, "zstd": ZSTD_LEVEL}.get(how, 0)
    cached = os.path.join(cache, f"{diff_id[7:]}.{how}{level}") if cache else None
    if cached and os.path.isfile(cached):
        shutil.copyfile(cached, comp)
    else:
        compress(raw, comp, how)
        if cached:
            os.makedirs(cache, exist_ok=True)
            shutil.copyfile(comp, cached + ".tmp")
            os.replace(cached + ".tmp", cached)
    digest, size = blobs.add_file(comp)
    return {"raw": raw, "diff_id": diff_id, "digest": digest, "size": size, "compression": how}


def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


# ---------------------------------------------------------------------------------------------
# Image config and manifest


def shell_or_json(s):
    if s.lstrip().startswith("["):
        v = json.loads(s)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise Fail(f"'{s}' is not a JSON array of strings")
        return v
    return ["/bin/sh", "-c", s]


def kv_list(items, what):
    out = {}
    for it in items or []:
        if "=" not in it:
            raise Fail(f"{what} '{it}' is not KEY=VALUE")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def image_config(args, os_, arch, variant, layers):
    cfg = {}
    if args.user:
        cfg["User"] = args.user
    if args.expose:
        cfg["ExposedPorts"] = {(p if "/" in p else p + "/tcp"): {} for p in args.expose}
    if args.env:
        cfg["Env"] = list(args.env)
    if args.entrypoint is not None:
        cfg["Entrypoint"] = shell_or_json(args.entrypoint)
    if args.cmd is not None:
        cfg["Cmd"] = shell_or_json(args.cmd)
    if args.volume:
        cfg["Volumes"] = {v: {} for v in args.volume}
    if args.workdir:
        cfg["WorkingDir"] = args.workdir
    if args.label:
        cfg["Labels"] = kv_list(args.label, "label")
    if args.stop_signal:
        cfg["StopSignal"] = args.stop_signal
    if args.healthcheck:
        hc = json.loads(args.healthcheck)
        if not isinstance(hc, dict) or not isinstance(hc.get("Test"), list):
            raise Fail("--healthcheck wants a JSON object with a Test array")
        cfg["Healthcheck"] = hc
    created = rfc3339(epoch())
    doc = {"created": created, "architecture": arch, "os": os_}
    if variant:
        doc["variant"] = variant
    doc["config"] = cfg
    doc["rootfs"] = {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]}
    doc["history"] = [{"created": created, "created_by": f"mkimage.py layer {i + 1}"}
                      for i in range(len(layers))]
    return doc


def build_image(args, blobs, work):
    """Builds layers, config and manifest into blobs; returns a summary dict."""
    fmt = args.manifest_format
    comps = args.compression.split(",")
    for c in comps:
        if (fmt, c) not in LAYER_TYPES:
            raise Fail(f"compression '{c}' does not exist in {fmt} manifests"
                       + ("; use --manifest-format oci" if c == "zstd" else ""))
    if not args.layer:
        raise Fail("an image needs at least one --layer")
    os_, arch, variant = parse_platform(args.platform) if args.platform else host_platform()
    layers = []
    for i, src in enumerate(args.layer):
        how = comps[min(i, len(comps) - 1)]
        layers.append(make_layer(src, how, blobs, work, args.layer_cache))
    cfg_doc = image_config(args, os_, arch, variant, layers)
    cfg_bytes = jdump(cfg_doc)
    cfg_digest, cfg_size = blobs.add_bytes(cfg_bytes)
    docker = fmt == "docker"
    manifest = {"schemaVersion": 2,
                "mediaType": MT_DOCKER_MANIFEST if docker else MT_OCI_MANIFEST,
                "config": {"mediaType": MT_DOCKER_CONFIG if docker else MT_OCI_CONFIG,
                           "digest": cfg_digest, "size": cfg_size},
                "layers": [{"mediaType": LAYER_TYPES[(fmt, l["compression"])],
                            "digest": l["digest"], "size": l["size"]} for l in layers]}
    ann = kv_list(args.annotation, "annotation")
    if ann:
        if docker:
            raise Fail("Docker schema 2 manifests have no annotations")
        manifest["annotations"] = ann
    m_bytes = jdump(manifest)
    m_digest, m_size = blobs.add_bytes(m_bytes)
    plat = {"architecture": arch, "os": os_}
    if variant:
        plat["variant"] = variant
    return {
        "media_type": manifest["mediaType"],
        "manifest": m_digest,
        "manifest_size": m_size,
        "config": cfg_digest,
        "image_id": cfg_digest,
        "platform": plat,
        "layers": [l["digest"] for l in layers],
        "layer_media_types": [d["mediaType"] for d in manifest["layers"]],
        "layer_sizes": [l["size"] for l in layers],
        "diff_ids": [l["diff_id"] for l in layers],
        "chain_ids": chain_ids([l["diff_id"] for l in layers]),
        "_raw": [l["raw"] for l in layers],
        "_config_bytes": cfg_bytes,
    }


# ---------------------------------------------------------------------------------------------
# Outputs


def write_layout_files(top, desc):
    with open(os.path.join(top, "oci-layout"), "wb") as f:
        f.write(b'{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(top, "index.json"), "wb") as f:
        f.write(jdump({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": [desc]}))
    for name in ("oci-layout", "index.json"):
        os.chmod(os.path.join(top, name), 0o644)


def tar_tree_to(top, dest):
    """An OCI archive: the layout directory tarred, reproducibly."""
    tmp = dest + ".tmp"
    with open(tmp, "wb") as out:
        tar_directory(top, out)
    os.replace(tmp, dest)


def install_dir(staged, dest):
    """Replaces dest with the staged directory (rename; the old one removed after)."""
    dest = os.path.abspath(dest)
    if os.path.lexists(dest):
        if not os.path.isdir(dest) or os.path.islink(dest):
            raise Fail(f"'{dest}' exists and is not a directory")
        old = dest + ".old." + str(os.getpid())
        os.rename(dest, old)
        os.rename(staged, dest)
        shutil.rmtree(old)
    else:
        os.rename(staged, dest)


def v1_ids(diff_ids):
    """Legacy per-layer ids of a docker save tar: derived from the chain, stable."""
    out = []
    parent = ""
    for c in chain_ids(diff_ids):
        h = hashlib.sha256(f"{parent} {c}".encode()).hexdigest()
        out.append(h)
        parent = h
    return out


def write_docker_archive(img, dest, repo_tag, work):
    """The legacy `docker save` layout: manifest.json, repositories, <id>.json and one
    directory per layer with VERSION, json and an uncompressed layer.tar."""
    mtime = epoch()
    ids = v1_ids(img["diff_ids"])
    cfg_name = img["config"][7:] + ".json"
    members = []  # (name, bytes or path)
    layer_paths = []
    for i, (lid, raw) in enumerate(zip(ids, img["_raw"])):
        v1 = {"id": lid, "created": rfc3339(mtime)}
        if i:
            v1["parent"] = ids[i - 1]
        members.append((lid + "/", None))
        members.append((lid + "/VERSION", b"1.0"))
        members.append((lid + "/json", jdump(v1)))
        members.append((lid + "/layer.tar", raw))
        layer_paths.append(lid + "/layer.tar")
    members.append((cfg_name, img["_config_bytes"]))
    manifest = [{"Config": cfg_name, "RepoTags": [repo_tag] if repo_tag else None,
                 "Layers": layer_paths}]
    members.append(("manifest.json", jdump(manifest)))
    if repo_tag:
        repo, tag = repo_tag.rsplit(":", 1)
        members.append(("repositories", jdump({repo: {tag: ids[-1]}})))
    members.sort(key=lambda m: m[0])
    tmp = dest + ".tmp"
    with open(tmp, "wb") as out, tarfile.open(fileobj=out, mode="w",
                                              format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name.rstrip("/"))
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mtime = mtime
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            elif isinstance(data, bytes):
                ti.mode = 0o644
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                ti.mode = 0o644
                ti.size = os.path.getsize(data)
                with open(data, "rb") as f:
                    tf.addfile(ti, f)
    os.replace(tmp, dest)


def public(summary):
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def check_outputs(args):
    if not (args.out or args.oci_archive or getattr(args, "docker_archive", None)):
        raise Fail("no output: give -o DIR, --oci-archive FILE or --docker-archive FILE")


def finish_layout(staged, args, desc):
    write_layout_files(staged, desc)
    if args.oci_archive:
        tar_tree_to(staged, os.path.abspath(args.oci_archive))
    if args.out:
        install_dir(staged, args.out)


def staging_dir(args):
    # Next to the output so the final rename stays on one file system.
    base = os.path.dirname(os.path.abspath(args.out or args.oci_archive or args.docker_archive))
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=".mkimage.", dir=base)


def cmd_image(args):
    check_outputs(args)
    work = staging_dir(args)
    try:
        staged = os.path.join(work, "layout")
        blobs = Blobs(staged)
        img = build_image(args, blobs, work)
        desc = {"mediaType": img["media_type"], "digest": img["manifest"],
                "size": img["manifest_size"], "annotations": {REF_NAME: args.tag},
                "platform": img["platform"]}
        if args.docker_archive:
            write_docker_archive(img, os.path.abspath(args.docker_archive),
                                 f"{args.name}:{args.tag}" if args.name else None, work)
        if args.out or args.oci_archive:
            finish_layout(staged, args, desc)
        out = public(img)
        out["tag"] = args.tag
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_layout_image(src):
    """The single manifest descriptor of a layout made by `image`, and its config."""
    with open(os.path.join(src, "index.json"), "rb") as f:
        idx = json.load(f)
    ms = idx.get("manifests") or []
    if len(ms) != 1:
        raise Fail(f"'{src}' holds {len(ms)} manifests; `index` wants one image per layout")
    desc = ms[0]
    with open(os.path.join(src, "blobs", "sha256", desc["digest"][7:]), "rb") as f:
        man = json.load(f)
    if man.get("mediaType") not in (MT_OCI_MANIFEST, MT_DOCKER_MANIFEST):
        raise Fail(f"'{src}' holds a {man.get('mediaType')}, not an image manifest")
    with open(os.path.join(src, "blobs", "sha256", man["config"]["digest"][7:]), "rb") as f:
        cfg = json.load(f)
    return desc, man, cfg


def cmd_index(args):
    check_outputs(args)
    work = staging_dir(args)
    try:
        staged = os.path.join(work, "layout")
        blobs = Blobs(staged)
        docker = args.manifest_format == "docker"
        entries = []
        summary = []
        for src in args.images:
            desc, man, cfg = read_layout_image(src)
            if docker and man["mediaType"] != MT_DOCKER_MANIFEST:
                raise Fail(f"'{src}' is an OCI image; a Docker manifest list wants Docker ones")
            for name in os.listdir(os.path.join(src, "blobs", "sha256")):
                dst = os.path.join(blobs.dir, name)
                if not os.path.exists(dst):
                    shutil.copyfile(os.path.join(src, "blobs", "sha256", name), dst)
                    os.chmod(dst, 0o644)
            plat = {"architecture": cfg["architecture"], "os": cfg["os"]}
            if cfg.get("variant"):
                plat["variant"] = cfg["variant"]
            entries.append({"mediaType": man["mediaType"], "digest": desc["digest"],
                            "size": desc["size"], "platform": plat})
            summary.append({"platform": plat, "manifest": desc["digest"],
                            "config": man["config"]["digest"],
                            "layers": [l["digest"] for l in man["layers"]],
                            "diff_ids": cfg["rootfs"]["diff_ids"]})
        index = {"schemaVersion": 2,
                 "mediaType": MT_DOCKER_LIST if docker else MT_OCI_INDEX,
                 "manifests": entries}
        i_bytes = jdump(index)
        i_digest, i_size = blobs.add_bytes(i_bytes)
        desc = {"mediaType": index["mediaType"], "digest": i_digest, "size": i_size,
                "annotations": {REF_NAME: args.tag}}
        finish_layout(staged, args, desc)
        return {"media_type": index["mediaType"], "manifest": i_digest, "index": i_digest,
                "tag": args.tag, "manifests": summary}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Big images for benchmarks

WORDS = ("container image layer registry digest manifest index config compose service "
         "network volume health restart daemon kernel namespace cgroup mount overlay bridge "
         "veth route socket signal process thread memory page cache file inode block "
         "the a of to and in is it that for on with as was at by from").split()


def gen_chunk(rng, kind, size, busybox):
    if kind == "random":
        return rng.randbytes(size)
    if kind == "base64":
        return base64.b64encode(rng.randbytes(size * 3 // 4 + 3))[:size]
    if kind == "zeros":
        return bytes(size)
    if kind == "text":
        lines = []
        n = 0
        while n < size:
            line = (f"{rng.randrange(1 << 30):09d} "
                    + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 14))) + "\n")
            lines.append(line)
            n += len(line)
        return "".join(lines).encode()[:size]
    if kind == "binary":
        # Copies of busybox with a few bytes changed per copy: compresses like real programs.
        out = bytearray()
        while len(out) < size:
            b = bytearray(busybox)
            for _ in range(16):
                b[rng.randrange(len(b))] = rng.randrange(256)
            out += b
        return bytes(out[:size])
    raise Fail(f"unknown data kind '{kind}'")


def fill_layer_dir(d, rng, nbytes, busybox, index):
    """Files of mixed content in d adding up to about nbytes."""
    kinds = ["binary", "text", "random", "base64", "zeros", "binary", "text", "zeros"]
    done = 0
    n = 0
    while done < nbytes:
        kind = kinds[n % len(kinds)]
        size = min(nbytes - done, rng.randrange(256 << 10, 4 << 20))
        top = os.path.join(d, f"data{index}")
        sub = os.path.join(top, f"d{n // 16:03d}")
        os.makedirs(sub, exist_ok=True)
        os.chmod(top, 0o755)  # modes go into the tar: not the umask's business
        os.chmod(sub, 0o755)
        path = os.path.join(sub, f"f{n:04d}.{kind}")
        with open(path, "wb") as f:
            f.write(gen_chunk(rng, kind, size, busybox))
        os.chmod(path, 0o644)
        done += size
        n += 1


def cmd_big(args):
    check_outputs(args)
    rng = random.Random(args.seed)
    with open(args.busybox, "rb") as f:
        busybox = f.read()
    total = args.size_mb << 20
    work = staging_dir(args)
    try:
        dirs = []
        for i in range(args.layers):
            d = os.path.join(work, f"src{i}")
            os.makedirs(d)
            fill_layer_dir(d, rng, total // args.layers, busybox, i)
            dirs.append(d)
        # The generated files are the only inputs; the rest is `image`.
        args.layer = dirs
        ns = argparse.Namespace(**vars(args))
        if ns.cmd is None:
            ns.cmd = '["/bin/true"]'
        staged = os.path.join(work, "layout")
        blobs = Blobs(staged)
        img = build_image(ns, blobs, work)
        for d in dirs:
            shutil.rmtree(d)
        desc = {"mediaType": img["media_type"], "digest": img["manifest"],
                "size": img["manifest_size"], "annotations": {REF_NAME: args.tag},
                "platform": img["platform"]}
        if args.docker_archive:
            write_docker_archive(img, os.path.abspath(args.docker_archive),
                                 f"{args.name}:{args.tag}" if args.name else None, work)
        if args.out or args.oci_archive:
            finish_layout(staged, args, desc)
        out = public(img)
        out["tag"] = args.tag
        out["uncompressed_bytes"] = sum(os.path.getsize(p) for p in img["_raw"])
        out["compressed_bytes"] = sum(img["layer_sizes"])
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------


def add_output_opts(p, docker=True):
    p.add_argument("-o", "--out", metavar="DIR", help="write an OCI image layout directory")
    p.add_argument("--oci-archive", metavar="FILE", help="write the layout as a tar")
    if docker:
        p.add_argument("--docker-archive", metavar="FILE",
                       help="write a `docker save` tar (legacy layout, uncompressed layers)")
    p.add_argument("--tag", default="latest",
                   help="ref name in the layout's index.json (default: latest)")
    p.add_argument("--manifest-format", choices=("oci", "docker"), default="oci",
                   help="OCI or Docker schema 2 media types (default: oci)")


def add_image_opts(p):
    add_output_opts(p)
    p.add_argument("--name", default="test/image",
                   help="repository of the docker archive's RepoTags, '' for none")
    p.add_argument("--compression", default="gzip",
                   help="gzip|zstd|none, or a comma list, one per layer (the last repeats)")
    p.add_argument("--platform", help="OS/ARCH[/VARIANT] (default: this host's)")
    p.add_argument("--layer-cache", metavar="DIR",
                   help="keep compressed layers here by diff_id and reuse them")
    p.add_argument("--cmd", help="JSON array, or a string run with /bin/sh -c")
    p.add_argument("--entrypoint", help="JSON array, or a string run with /bin/sh -c")
    p.add_argument("--env", action="append", metavar="K=V")
    p.add_argument("--workdir")
    p.add_argument("--user")
    p.add_argument("--expose", action="append", metavar="PORT[/PROTO]")
    p.add_argument("--volume", action="append", metavar="PATH")
    p.add_argument("--label", action="append", metavar="K=V")
    p.add_argument("--annotation", action="append", metavar="K=V",
                   help="manifest annotation (OCI only)")
    p.add_argument("--stop-signal")
    p.add_argument("--healthcheck", metavar="JSON",
                   help='{"Test":["CMD","true"],"Interval":1000000000,...}')


def main():
    ap = argparse.ArgumentParser(prog="mkimage.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    p = sub.add_parser("image", help="one image from layer directories or tars")
    p.add_argument("--layer", action="append", metavar="DIR|TAR", required=True,
                   help="a directory (tarred reproducibly) or a tar, optionally gzip or zstd "
                        "compressed (taken byte for byte); repeat, lowest layer first")
    add_image_opts(p)
    p.set_defaults(fn=cmd_image)
    p = sub.add_parser("index", help="a multi-platform index of images made by `image`")
    p.add_argument("images", nargs="+", metavar="LAYOUT")
    add_output_opts(p, docker=False)
    p.set_defaults(fn=cmd_index)
    p = sub.add_parser("big", help="a big reproducible image for benchmarks")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size-mb", type=int, default=200, help="uncompressed size (default 200)")
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--busybox", default=os.environ.get("BUSYBOX", "/bin/busybox"))
    add_image_opts(p)
    p.set_defaults(fn=cmd_big)
    args = ap.parse_args()
    try:
        result = args.fn(args)
    except (Fail, OSError, json.JSONDecodeError, subprocess.CalledProcessError) as e:
        print(f"mkimage.py: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
