#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1.
# Builds small rpms with rpmbuild and records them with `rpm -i --justdb` in three databases:
#   rpm/rpmdb.sqlite      rpm's SQLite backend                     (sq-* packages; sq-busybox
#                         owns /usr/bin/busybox, which packaged/ holds for the image)
#   rpm/Packages          Berkeley DB hash, written by db5.3_load   (bdb-* packages) from the
#                         header blobs of an rpm-made SQLite database, keyed by the instance
#                         number as rpm's bdb backend keys them (plus its instance-0 counter)
#   sysimage/Packages.db  ndb                                       (ndb-* packages), laid out
#                         as lib/backend/ndb/rpmpkg.c writes it (Debian's rpm has no ndb
#                         backend), from the header blobs of an rpm-made SQLite database
# and what `rpm -qa` says about each in expected/{sqlite,bdb,ndb}.txt (for the Berkeley DB, rpm's
# own bdb_ro backend reads the file db5.3_load wrote).
set -euo pipefail
ctx=$1
for tool in rpm rpmbuild db5.3_load python3; do
    command -v "$tool" >/dev/null || {
        echo "rpmdb/prepare.sh: $tool not found (needs Debian packages rpm and db5.3-util)" >&2
        exit 1
    }
done
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

# spec NAME EPOCH(or -) ARCH(noarch or -) LICENSE FILES
spec() {
    local name=$1 epoch=$2 arch=$3 license=$4 files=$5
    {
        echo "Name: $name"
        echo "Version: 1.$files.0"
        echo "Release: 3.lg"
        [[ $epoch == - ]] || echo "Epoch: $epoch"
        [[ $arch == - ]] || echo "BuildArch: $arch"
        echo "Summary: layerguard rpmdb fixture"
        echo "License: $license"
        echo "%description"
        echo "Fixture package."
        echo "%install"
        echo "mkdir -p %{buildroot}/usr/share/$name"
        echo "for i in \$(seq $files); do echo \$i > %{buildroot}/usr/share/$name/file-with-a-long-name-\$i.txt; done"
        echo "%files"
        echo "/usr/share/$name"
    } >"$w/$name.spec"
    rpmbuild -bb --quiet --define "_topdir $w/top" --define 'debug_package %{nil}' \
        --define '__os_install_post %{nil}' "$w/$name.spec" >/dev/null
}

# A package that owns a real binary: the image holds the same file at /usr/bin/busybox, beside
# the base image's /bin/busybox that no package owns.
: "${BUSYBOX:?rpmdb/prepare.sh: BUSYBOX (a static busybox) not set}"
cat >"$w/sq-busybox.spec" <<EOF
Name: sq-busybox
Version: 1.0.0
Release: 3.lg
Summary: layerguard rpmdb fixture
License: GPL-2.0-only
%description
Fixture package owning an executable.
%install
mkdir -p %{buildroot}/usr/bin
cp $BUSYBOX %{buildroot}/usr/bin/busybox
%files
/usr/bin/busybox
EOF
rpmbuild -bb --quiet --define "_topdir $w/top" --define 'debug_package %{nil}' \
    --define '__os_install_post %{nil}' --define '_build_id_links none' \
    "$w/sq-busybox.spec" >/dev/null

spec sq-alpha 2 noarch 'MIT and BSD' 2
spec sq-bravo - noarch 'GPL-2.0-or-later' 1
spec bdb-alpha 1 noarch 'MIT' 2
spec bdb-bravo - - 'Apache-2.0' 300 # a header over several overflow pages
spec bdb-charlie - noarch 'BSD' 1
spec ndb-alpha 3 noarch 'ISC' 2
spec ndb-bravo - - 'Zlib' 200

# install DIR PACKAGES...: record the packages in a new SQLite database.
install() {
    local dir=$1
    shift
    mkdir -p "$dir"
    rpm --dbpath "$dir" --initdb 2>/dev/null
    rpm -i --justdb --nodeps --noscripts --notriggers --nosignature --nodigest --ignorearch \
        --ignoreos --dbpath "$dir" "$@" 2>/dev/null
}
rpms=$(find "$w/top/RPMS" -name '*.rpm')
pick() { grep "/$1-" <<<"$rpms"; }
install "$w/sq" $(pick sq-alpha) $(pick sq-bravo) $(pick sq-busybox)
install "$w/bdbsrc" $(pick bdb-alpha) $(pick bdb-bravo) $(pick bdb-charlie)
install "$w/ndbsrc" $(pick ndb-alpha) $(pick ndb-bravo)

mkdir -p "$ctx/rpm" "$ctx/sysimage" "$ctx/expected" "$ctx/packaged" "$w/bdb"
cp "$BUSYBOX" "$ctx/packaged/busybox"
cp "$w/sq/rpmdb.sqlite" "$ctx/rpm/rpmdb.sqlite"

python3 - "$w/bdbsrc/rpmdb.sqlite" "$w/bdb.dump" "$w/ndbsrc/rpmdb.sqlite" "$ctx/sysimage/Packages.db" <<'PY'
import sqlite3, struct, sys, zlib

def headers(path):
    return [(n, bytes(b)) for n, b in
            sqlite3.connect(path).execute("SELECT hnum, blob FROM Packages ORDER BY hnum")]

# db_dump "bytevalue" format for db_load: keys are the instance numbers in host byte order.
bdb = headers(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n")
    f.write(" %s\n %s\n" % (struct.pack("=I", 0).hex(), struct.pack("=I", bdb[-1][0] + 1).hex()))
    for n, blob in bdb:
        f.write(" %s\n %s\n" % (struct.pack("=I", n).hex(), blob.hex()))
    f.write("DATA=END\n")

# ndb: one 4 KiB slot page (database header in its first 32 bytes), blobs after it in 16-byte
# blocks: head (BlbS, index, generation, length), blob, zero padding, tail (Adler-32, length, BlbE).
ndb = headers(sys.argv[3])
page = bytearray(4096)
struct.pack_into("<4sIII", page, 0, b"RpmP", 0, 1, 1)
struct.pack_into("<I", page, 16, ndb[-1][0] + 1)  # next package index
blobs, block = b"", 4096 // 16
for i in range(2, 4096 // 16):
    struct.pack_into("<4sIII", page, i * 16, b"Slot", 0, 0, 0)
for slot, (n, blob) in enumerate(ndb, start=2):
    count = (16 + len(blob) + 12 + 15) // 16
    body = struct.pack("<4sIII", b"BlbS", n, 1, len(blob)) + blob
    body += bytes(count * 16 - 12 - len(body))
    body += struct.pack("<II4s", zlib.adler32(body), len(blob), b"BlbE")
    struct.pack_into("<4sIII", page, slot * 16, b"Slot", n, block, count)
    blobs += body
    block += count
with open(sys.argv[4], "wb") as f:
    f.write(bytes(page) + blobs)
PY
db5.3_load -f "$w/bdb.dump" "$w/bdb/Packages"
cp "$w/bdb/Packages" "$ctx/rpm/Packages"

qf='%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{SOURCERPM}\n'
rpm -qa --dbpath "$w/sq" --qf "$qf" 2>/dev/null | LC_ALL=C sort >"$ctx/expected/sqlite.txt"
rpm -qa --dbpath "$w/bdb" --define '_db_backend bdb_ro' --qf "$qf" 2>/dev/null |
    LC_ALL=C sort >"$ctx/expected/bdb.txt"
rpm -qa --dbpath "$w/ndbsrc" --qf "$qf" 2>/dev/null | LC_ALL=C sort >"$ctx/expected/ndb.txt"
for f in sqlite:3 bdb:3 ndb:2; do
    n=$(wc -l <"$ctx/expected/${f%:*}.txt")
    [[ $n -eq ${f#*:} ]] || { echo "rpmdb/prepare.sh: rpm lists $n packages in ${f%:*}" >&2; exit 1; }
done
