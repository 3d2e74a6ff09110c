#!/usr/bin/env python3
"""Writes an OCI image layout with a single gzip layer of this machine's real /usr files, for
the one-big-layer measurements of run.sh (hashing on a second core, gzip backends).

Files are taken in sorted order (deterministic, owner 0:0, fixed mtime) until the gzip blob
reaches MIN_MB compressed megabytes (10^6 bytes); the tar is then closed where it stands, so
the layer is a valid archive of whole files. Real executables, libraries and text compress
like a real layer does, which random bytes would not. gzip level 6, as `gzip` and Docker use.

usage: onelayer.py OUT_DIR MIN_MB   (the image is tagged "1": oci:OUT_DIR:1)
"""
import gzip
import hashlib
import json
import os
import shutil
import stat
import sys
import tarfile

ROOT = "/usr"


class Counting:
    """A file wrapper that hashes and counts what is written through it."""

    def __init__(self, f):
        self.f, self.n, self.h = f, 0, hashlib.sha256()

    def write(self, b):
        self.n += len(b)
        self.h.update(b)
        return self.f.write(b)

    def tell(self):
        return self.n

    def flush(self):
        self.f.flush()


def paths():
    for top, dirs, files in os.walk(ROOT):
        dirs.sort()
        yield top
        for name in sorted(files):
            yield os.path.join(top, name)


def normalise(info):
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 1704067200
    return info


def write_blob(path, min_bytes):
    with open(path, "wb") as raw:
        blob = Counting(raw)
        with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=6, mtime=0) as gz:
            tar_out = Counting(gz)
            with tarfile.open(fileobj=tar_out, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for p in paths():
                    if blob.n >= min_bytes:
                        break
                    try:
                        st = os.lstat(p)
                        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                            continue
                        tar.add(p, arcname=p.lstrip("/"), recursive=False, filter=normalise)
                    except OSError:
                        continue  # unreadable or vanished: not needed
    if blob.n < min_bytes:
        sys.exit(f"{ROOT} gives only {blob.n / 1e6:.0f} MB of gzip, less than {min_bytes / 1e6:.0f}")
    return blob.h.hexdigest(), blob.n, tar_out.h.hexdigest(), tar_out.n


def put(out, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main():
    out, min_mb = sys.argv[1], float(sys.argv[2])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    tmp = os.path.join(out, "layer.tmp")
    blob_hex, blob_size, diff_hex, tar_size = write_blob(tmp, int(min_mb * 1e6))
    os.rename(tmp, os.path.join(out, "blobs", "sha256", blob_hex))
    created = "2024-01-01T00:00:00Z"
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_hex}"]},
        "history": [{"created": created, "created_by": "ADD usr.tar.gz /"}],
    }
    cfg = put(out, json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": f"sha256:{blob_hex}",
            "size": blob_size,
        }],
    }
    man = put(out, json.dumps(manifest, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **man,
            "annotations": {"org.opencontainers.image.ref.name": "1"},
        }],
    }
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(f"one layer: {blob_size / 1e6:.1f} MB gzip, {tar_size / 1e6:.1f} MB tar")


if __name__ == "__main__":
    main()
