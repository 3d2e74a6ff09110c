#!/usr/bin/env python3
"""Wraps ready-made layer tars into a `docker save`-style archive (what `docker save` of
Docker 20.10 writes), without going through the Docker daemon.

Why not `docker import` + `docker build` + `docker save`: this machine's daemon runs on
fuse-overlayfs, where committing and exporting ~2 GB is slow and leaves a large image in
the daemon's store. The archive written here has the same shape as `docker save`:

    manifest.json            [{"Config": "<cfg>.json", "RepoTags": [...], "Layers": ["<id>/layer.tar", ...]}]
    repositories             {"layerguard-bench": {"big": "<last layer id>"}}
    <cfg>.json               image config; rootfs.diff_ids = sha256 of each layer.tar
    <id>/VERSION, json, layer.tar

usage: mkimage.py OUT.tar LAYER.tar[=created_by] ...
"""
import hashlib
import json
import os
import sys
import tarfile


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    tar.addfile(info, __import__("io").BytesIO(data))


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    layers = []
    for spec in specs:
        path, _, created_by = spec.partition("=")
        layers.append((path, created_by or f"ADD {os.path.basename(path)} /", sha256_file(path)))

    created = "2024-01-01T00:00:00Z"
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            # No "User": the image runs as root, which is what a hardening scanner should flag.
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for _, _, d in layers]},
        "history": [{"created": created, "created_by": c} for _, c, _ in layers],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()

    # Docker's legacy layer ids: a chain of hashes; any stable unique hex name will do.
    ids, parent = [], ""
    for _, _, diff in layers:
        lid = hashlib.sha256(f"{parent}\n{diff}".encode()).hexdigest()
        ids.append(lid)
        parent = lid

    manifest = [{
        "Config": f"{config_hex}.json",
        "RepoTags": ["layerguard-bench:big"],
        "Layers": [f"{lid}/layer.tar" for lid in ids],
    }]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for (path, _, _), lid in zip(layers, ids):
            add_bytes(tar, f"{lid}/VERSION", b"1.0")
            add_bytes(tar, f"{lid}/json", json.dumps({"id": lid}).encode())
            info = tar.gettarinfo(path, arcname=f"{lid}/layer.tar")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            with open(path, "rb") as f:
                tar.addfile(info, f)
        add_bytes(tar, f"{config_hex}.json", config_bytes)
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        add_bytes(tar, "repositories", json.dumps({"layerguard-bench": {"big": ids[-1]}}).encode())
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
