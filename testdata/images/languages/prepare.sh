#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1.
# Builds the Java archives: demo.jar with `jar` (deflated entries with data descriptors, a nested
# library jar in BOOT-INF/lib) and shop.war with `zip` (sizes in the local headers, the library
# jar stored), plus broken.jar, which is not a zip at all.
set -euo pipefail
ctx=$1
for tool in jar zip python3; do
    command -v "$tool" >/dev/null || { echo "languages/prepare.sh: $tool not found (needs a JDK and zip)" >&2; exit 1; }
done
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

mkdir -p "$w/util/org/example/util"
echo 'not really a class' >"$w/util/org/example/util/Util.class"
printf 'Implementation-Title: demo-util\nImplementation-Version: 0.3.1\nImplementation-Vendor-Id: org.example\n' >"$w/util.mf"
jar --create --file "$w/demo-util-0.3.1.jar" --manifest "$w/util.mf" -C "$w/util" .

mkdir -p "$w/demo/META-INF/maven/org.example/demo" "$w/demo/BOOT-INF/lib" "$w/demo/BOOT-INF/classes"
printf '#Created by Apache Maven 3.9.6\ngroupId=org.example\nartifactId=demo\nversion=1.0.0\n' \
    >"$w/demo/META-INF/maven/org.example/demo/pom.properties"
echo 'not really a class' >"$w/demo/BOOT-INF/classes/Main.class"
cp "$w/demo-util-0.3.1.jar" "$w/demo/BOOT-INF/lib/"
jar --create --file "$ctx/demo.jar" -C "$w/demo" .

mkdir -p "$w/lang/org/apache/commons/lang3"
echo 'not really a class' >"$w/lang/org/apache/commons/lang3/StringUtils.class"
(cd "$w/lang" && zip -q -X -r "$w/commons-lang3-3.14.0.jar" .)
mkdir -p "$w/shop/META-INF/maven/org.example/shop" "$w/shop/WEB-INF/lib"
printf 'groupId=org.example\nartifactId=shop\nversion=2.0.0\n' \
    >"$w/shop/META-INF/maven/org.example/shop/pom.properties"
cp "$w/commons-lang3-3.14.0.jar" "$w/shop/WEB-INF/lib/"
echo '<web-app/>' >"$w/shop/WEB-INF/web.xml"
(cd "$w/shop" && zip -q -X -r -n .jar "$ctx/shop.war" .)

echo 'this is not a zip archive' >"$ctx/broken.jar"

# An rpm 4.16+ database (rpmdb.sqlite, WAL mode) with one package header, encoded as rpm stores
# it: entry count, data length, (tag, type, offset, count) entries, data; all big-endian.
mkdir -p "$ctx/rpmdb"
python3 - "$ctx/rpmdb/rpmdb.sqlite" <<'PY'
import sqlite3, struct, sys
INT16, INT32, STRING, STRING_ARRAY = 3, 4, 6, 8
tags = [
    (1000, STRING, b"zlib\0", 1),                          # NAME
    (1001, STRING, b"1.2.13\0", 1),                        # VERSION
    (1002, STRING, b"4.fc39\0", 1),                        # RELEASE
    (1014, STRING, b"zlib and Boost\0", 1),                # LICENSE
    (1022, STRING, b"x86_64\0", 1),                        # ARCH
    (1044, STRING, b"zlib-1.2.13-4.fc39.src.rpm\0", 1),    # SOURCERPM
    (1030, INT16, struct.pack(">3H", 0o100755, 0o120777, 0o040755), 3),  # FILEMODES
    (1116, INT32, struct.pack(">3I", 0, 0, 1), 3),        # DIRINDEXES
    (1117, STRING_ARRAY, b"libz.so.1.2.13\0libz.so.1\0zlib\0", 3),     # BASENAMES
    (1118, STRING_ARRAY, b"/usr/lib64/\0/usr/share/doc/\0", 2),         # DIRNAMES
]
index, data = b"", b""
for tag, kind, value, count in tags:
    if kind == INT32:
        data += bytes(-len(data) % 4)  # rpm aligns integers to their size
    index += struct.pack(">4I", tag, kind, len(data), count)
    data += value
blob = struct.pack(">2I", len(tags), len(data)) + index + data
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)")
db.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,))
db.commit()
db.close()
PY
