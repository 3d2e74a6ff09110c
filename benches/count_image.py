#!/usr/bin/env python3
"""Counts what the benchmark image holds, reading the docker-archive's layer tars.

Prints one line: layers, uncompressed layer bytes, tar entries, regular files, ELF files
(regular files whose first 4 bytes are b"\\x7fELF"), summed over all layers (a file that a
later layer replaces counts once per layer, as a scanner reads it once per layer).
usage: count_image.py IMAGE.tar
"""
import json
import sys
import tarfile

outer = tarfile.open(sys.argv[1], "r:")
manifest = json.load(outer.extractfile("manifest.json"))[0]
entries = files = elf = size = 0
for name in manifest["Layers"]:
    member = outer.getmember(name)
    size += member.size
    with tarfile.open(fileobj=outer.extractfile(member), mode="r:") as layer:
        for m in layer:
            entries += 1
            if m.isreg():
                files += 1
                if m.size >= 4 and layer.extractfile(m).read(4) == b"\x7fELF":
                    elf += 1
print(f"layers={len(manifest['Layers'])} uncompressed_bytes={size} "
      f"uncompressed_gb={size / 1e9:.2f} entries={entries} files={files} elf={elf}")
