//! distroless' dpkg metadata, made by real tools in testdata/images/distroless: packages built by
//! `dpkg-deb`, laid out as distroless lays them out (`status.d/<package>` from `dpkg-deb --field`,
//! `status.d/<package>.md5sums` from the package's control archive, written by `md5sum`).

use crate::support::*;
use serde_json::Value;

#[test]
fn md5sums_tell_packaged_binaries_from_copied_ones() {
    let s = scan(&fixture("docker-archive", "distroless.tar"), &[]);
    assert!(s.json.is_object(), "{}", s.stderr);
    assert_eq!(s.json["warnings"], Value::Array(Vec::new()), "{}", s.stderr);
    assert_eq!(s.owner("/bin/busybox"), "lg-busybox");
    assert_eq!(s.owner("/usr/bin/busybox"), &Value::Null);
    assert_eq!(s.owner("/usr/local/bin/busybox"), &Value::Null);
    // The copy under /usr/bin lies where the distribution installs, yet the md5sums say no
    // package owns it: its match is kept, and only the packaged file's is dropped.
    assert_eq!(
        s.package_paths("binary", "busybox"),
        ["/usr/bin/busybox", "/usr/local/bin/busybox"]
    );
    let debs: Vec<(&Value, &Value)> = s.json["inventory"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| (&p["name"], &p["files"]))
        .collect();
    assert_eq!(
        debs,
        [
            (&Value::from("lg-busybox"), &Value::from(2)),
            (&Value::from("lg-meta"), &Value::from(0))
        ]
    );
}
