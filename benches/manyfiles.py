#!/usr/bin/env python3
"""Writes one image layer tar holding N empty regular files in a node_modules-like tree:

    app/node_modules/package-0000/dist/lib/module-0000.js ... (PER_DIR files per package)

The tar is written straight from a generator and the files never exist on disk: a million
real files would cost minutes of filesystem work and inodes for a benchmark that only needs
their tar headers.
Paths are 50-odd bytes, as in real node_modules, so each entry is one 512-byte ustar header
and per-file memory in the scanner is measured with realistic path strings. The files are
empty so that what the scanner spends is per-entry cost, not content work. Output is
deterministic (sorted names, fixed mtime and owner), so the cached image is reproducible.

usage: manyfiles.py OUT.tar FILES [PER_DIR]   (PER_DIR default 1000)
"""
import sys
import tarfile

MTIME = 1704067200  # 2024-01-01, the same fixed mtime as the other bench layers


def header(name, kind, mode):
    """One ustar header, byte-identical to what tarfile writes for this entry (checked when
    the generator was written); done by hand because tarfile's per-entry overhead made the
    million-entry layer take over a minute to write."""
    name = name.encode()
    assert len(name) <= 100, name
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = h[116:124] = b"0000000\0"  # uid, gid
    h[124:136] = b"00000000000\0"             # size: every file is empty
    h[136:148] = b"%011o\0" % MTIME
    h[148:156] = b"        "                   # checksum is summed with this field as spaces
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    h[265:269] = h[297:301] = b"root"         # uname, gname
    h[148:155] = b"%06o\0" % sum(h)
    return h


def main():
    out, files = sys.argv[1], int(sys.argv[2])
    per_dir = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    packages = -(-files // per_dir)
    pw = max(4, len(str(packages - 1)))
    fw = max(4, len(str(per_dir - 1)))
    written = size = 0
    with open(out, "wb", buffering=1 << 20) as f:
        def put(name, kind, mode):
            nonlocal size
            size += f.write(header(name, kind, mode))
        for d in ("app/", "app/node_modules/"):
            put(d, tarfile.DIRTYPE, 0o755)
        for p in range(packages):
            pkg = f"app/node_modules/package-{p:0{pw}d}/"
            for d in (pkg, pkg + "dist/", pkg + "dist/lib/"):
                put(d, tarfile.DIRTYPE, 0o755)
            lib = pkg + "dist/lib/module-"
            n = min(per_dir, files - written)
            for i in range(n):
                put(f"{lib}{i:0{fw}d}.js", tarfile.REGTYPE, 0o644)
            written += n
        # End of archive: two zero blocks, then padding to a whole record, as tar(1) does.
        size += f.write(bytes(1024))
        f.write(bytes(-size % tarfile.RECORDSIZE))
    assert written == files, (written, files)


if __name__ == "__main__":
    main()
