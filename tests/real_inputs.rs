//! What first users feed layerguard, made by the tools that make it: `docker build`/`tag`/`save`,
//! `skopeo copy`, `gzip`. Local names are not deploy references, one image reads the same from
//! every tool's archive, and broken input is explained in a sentence.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The clean fixture image, as a scratch directory with copies made by real tools.
struct Copies {
    dir: tempfile::TempDir,
}

impl Copies {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

const LOCAL_NAME: &str = "layerguard-test/local-name";

fn copies() -> &'static Copies {
    static C: OnceLock<Copies> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let clean = fixtures().join("clean.tar");
        let c = Copies { dir };
        // What `docker build -t app .` leaves: a name whose tag is `latest`, plus a second tag.
        run(Command::new("docker").args(["tag", "layerguard-fixture/clean:1", LOCAL_NAME]));
        run(Command::new("docker").args([
            "tag",
            "layerguard-fixture/clean:1",
            &format!("{LOCAL_NAME}:1"),
        ]));
        run(Command::new("docker").args([
            "tag",
            "layerguard-fixture/clean:1",
            "layerguard-test/team-app:1.0",
        ]));
        run(Command::new("docker")
            .args(["save", "-o"])
            .arg(c.path("latest.tar"))
            .arg(format!("{LOCAL_NAME}:latest")));
        run(Command::new("docker")
            .args(["save", "-o"])
            .arg(c.path("docker.tar"))
            .arg("layerguard-test/team-app:1.0"));
        // skopeo writes the tag fully qualified and the layers as top-level `<hex>.tar`.
        run(Command::new("skopeo")
            .args(["copy", "-q"])
            .arg(format!("docker-archive:{}", c.path("docker.tar").display()))
            .arg(format!(
                "docker-archive:{}:layerguard-test/team-app:1.0",
                c.path("skopeo.tar").display()
            )));
        // One layout, two ref names: a bare tag and a whole reference.
        for reference in ["1.2.3", "registry.example.com/app:1.2"] {
            run(Command::new("skopeo")
                .args(["copy", "-q"])
                .arg(format!("docker-archive:{}", clean.display()))
                .arg(format!("oci:{}:{reference}", c.path("layout").display())));
        }
        let gz = std::fs::File::create(c.path("saved.tar.gz")).unwrap();
        let status = Command::new("gzip")
            .arg("-c")
            .arg(&clean)
            .stdout(gz)
            .status()
            .unwrap();
        assert!(status.success());
        c
    })
}

fn piped(image: &str, input: &Path, extra: &[&str]) -> Scan {
    let mut cmd = layerguard();
    cmd.pipe_stdin(input).unwrap();
    scan_with(cmd, image, extra)
}

fn severity_of(s: &Scan, rule: &str) -> Vec<String> {
    s.findings(rule)
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn oci_ref_names_are_tags_or_whole_references() {
    let layout = copies().path("layout");
    let tag = scan(&format!("oci:{}:1.2.3", layout.display()), &[]);
    assert_eq!(tag.code, 0, "{}", tag.stderr);
    assert_eq!(tag.json["image"]["reference"], "1.2.3");
    assert_eq!(severity_of(&tag, "mutable-tag"), ["low"]);
    let message = tag.findings("mutable-tag")[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("uses the tag `1.2.3`"), "{message}");

    let full = scan(
        &format!("oci:{}:registry.example.com/app:1.2", layout.display()),
        &[],
    );
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert_eq!(
        full.json["image"]["reference"],
        "registry.example.com/app:1.2"
    );
    assert!(full.findings("untrusted-registry").is_empty());
}

#[test]
fn a_local_build_passes_the_default_gate_with_the_advice() {
    let archive = scan(
        &format!("docker-archive:{}", copies().path("latest.tar").display()),
        &[],
    );
    assert_eq!(archive.code, 0, "{}", archive.stderr);
    assert_eq!(
        archive.json["image"]["reference"],
        format!("{LOCAL_NAME}:latest")
    );
    assert_eq!(severity_of(&archive, "mutable-tag"), ["low"]);
    let advice = archive.findings("mutable-tag")[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(advice.contains("deploy it by digest"), "{advice}");

    // No tag means `latest`, as in Docker, whatever order the image's tags come in.
    let daemon = scan(&format!("docker-daemon:{LOCAL_NAME}"), &[]);
    assert_eq!(daemon.code, 0, "{}", daemon.stderr);
    assert_eq!(
        daemon.json["image"]["reference"],
        format!("{LOCAL_NAME}:latest")
    );
    assert_eq!(severity_of(&daemon, "mutable-tag"), ["low"]);

    // An image ID cannot be moved.
    let id = String::from_utf8(run(
        Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", LOCAL_NAME])
    ))
    .unwrap();
    let by_id = scan(&format!("docker-daemon:{}", id.trim()), &[]);
    assert_eq!(by_id.code, 0, "{}", by_id.stderr);
    assert!(
        by_id.findings("mutable-tag").is_empty(),
        "{:?}",
        by_id.findings("mutable-tag")
    );
}

#[test]
fn docker_save_and_skopeo_archives_of_one_image_agree() {
    let docker = scan(
        &format!("docker-archive:{}", copies().path("docker.tar").display()),
        &["--fail-on", "never"],
    );
    let skopeo_path = copies().path("skopeo.tar");
    let skopeo = scan(
        &format!("docker-archive:{}", skopeo_path.display()),
        &["--fail-on", "never"],
    );
    assert_eq!(docker.code, 0, "{}", docker.stderr);
    assert_eq!(skopeo.code, 0, "{}", skopeo.stderr);
    assert_eq!(
        docker.json["image"]["reference"],
        "layerguard-test/team-app:1.0"
    );
    assert_eq!(
        skopeo.json["image"]["reference"],
        docker.json["image"]["reference"]
    );
    assert_eq!(skopeo.json["findings"], docker.json["findings"]);
    assert!(skopeo.findings("untrusted-registry").is_empty());

    // skopeo's top-level `<hex>.tar` layers read from standard input too.
    let piped = piped("docker-archive:-", &skopeo_path, &["--fail-on", "never"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.json["findings"], skopeo.json["findings"]);
}

#[test]
fn an_explicit_platform_must_match_a_single_platform_image() {
    let image = fixture("docker-archive", "clean.tar");
    let arm = scan(&image, &["--platform", "linux/arm64"]);
    assert_eq!(arm.code, 2);
    assert!(
        arm.stderr.contains("linux/arm64") && arm.stderr.contains("available: linux/amd64"),
        "{}",
        arm.stderr
    );
    assert_eq!(scan(&image, &["--platform", "linux/amd64"]).code, 0);
}

#[test]
fn a_gzipped_docker_save_reads_from_a_path_and_from_standard_input() {
    let plain = scan(
        &fixture("docker-archive", "clean.tar"),
        &["--fail-on", "never"],
    );
    let gz = copies().path("saved.tar.gz");
    let by_path = scan(
        &format!("docker-archive:{}", gz.display()),
        &["--fail-on", "never"],
    );
    let by_pipe = piped("docker-archive:-", &gz, &["--fail-on", "never"]);
    for s in [&by_path, &by_pipe] {
        assert_eq!(s.code, 0, "{}", s.stderr);
        assert_eq!(s.json["findings"], plain.json["findings"]);
        assert_eq!(s.json["image"]["layers"], plain.json["image"]["layers"]);
    }
}

/// One sentence on one line, in plain text: no raw bytes of the input.
fn plain_sentence(stderr: &str) -> bool {
    stderr.trim_end().lines().count() == 1
        && stderr
            .chars()
            .all(|c| c == '\n' || (' '..='~').contains(&c))
}

#[test]
fn broken_archives_are_explained_in_a_plain_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.bin");
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&random, &noise).unwrap();
    let s = scan(&format!("docker-archive:{}", random.display()), &[]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("not a tar archive"), "{}", s.stderr);
    assert!(plain_sentence(&s.stderr), "{:?}", s.stderr);

    let gz = copies().path("saved.tar.gz");
    let s = scan(&format!("oci-archive:{}", gz.display()), &[]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("gzip-compressed"), "{}", s.stderr);
    assert!(plain_sentence(&s.stderr), "{:?}", s.stderr);

    let whole = std::fs::read(copies().path("skopeo.tar")).unwrap();
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
    let s = scan(&format!("docker-archive:{}", cut.display()), &[]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("truncated"), "{}", s.stderr);
    assert!(plain_sentence(&s.stderr), "{:?}", s.stderr);
    let s = piped("docker-archive:-", &cut, &[]);
    assert_eq!(s.code, 2);
    assert!(
        s.stderr.contains("truncated") && s.stderr.contains(".tar"),
        "names the layer member: {}",
        s.stderr
    );
    assert!(plain_sentence(&s.stderr), "{:?}", s.stderr);

    let missing = scan("docker-archive:/nonexistent/app.tar", &[]);
    assert_eq!(
        missing.stderr.matches("No such file").count(),
        1,
        "{}",
        missing.stderr
    );
}
