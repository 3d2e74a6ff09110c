//! What the user typed: skopeo-style transports (`docker-archive:app.tar`, `oci:DIR:TAG`).

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::ImageRef;
use std::path::{Path, PathBuf};

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An image in a registry (Docker Hub when the reference names none).
    Registry(ImageRef),
    /// A `docker save` tarball; `None` is standard input.
    DockerArchive(Option<PathBuf>),
    /// An OCI image layout directory and an optional tag.
    OciLayout(PathBuf, Option<String>),
    /// An OCI image layout in a tar file and an optional tag.
    OciArchive(PathBuf, Option<String>),
    /// An image in the local Docker Engine, by name (a missing tag means `latest`, as in Docker).
    DockerDaemon(ImageRef),
    /// An image in the local Docker Engine, by image ID (`sha256:<hex>`, the config digest).
    DockerDaemonId(Digest),
}

impl Source {
    /// Parses `TRANSPORT:DETAILS`, or a registry reference (`docker://` optional).
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Reference {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(reference) = input.strip_prefix("docker://") {
            return ImageRef::parse(reference).map(Source::Registry);
        }
        let transport = input.split_once(':').map(|(t, _)| t);
        let known = [
            "docker-archive",
            "oci",
            "oci-archive",
            "docker-daemon",
            "docker",
        ];
        let Some((transport, rest)) = input
            .split_once(':')
            .filter(|_| transport.is_some_and(|t| known.contains(&t)))
        else {
            // A file named without a transport is a slip, not a Docker Hub repository.
            let looks_like_a_file = [".tar", ".tar.gz", ".tgz", ".tar.zst"]
                .iter()
                .any(|ext| input.ends_with(ext));
            if looks_like_a_file || Path::new(input).exists() {
                return Err(bad(&format!(
                    "{input} looks like a local path; name its format, such as docker-archive:{input} or \
                     oci:{input}"
                )));
            }
            return ImageRef::parse(input).map(Source::Registry);
        };
        if rest.is_empty() {
            return Err(bad("nothing after the transport"));
        }
        match transport {
            "docker-archive" => Ok(Source::DockerArchive(
                (rest != "-").then(|| PathBuf::from(rest)),
            )),
            "oci" => {
                let (p, t) = split_path_tag(rest);
                Ok(Source::OciLayout(p, t))
            }
            "oci-archive" => {
                let (p, t) = split_path_tag(rest);
                Ok(Source::OciArchive(p, t))
            }
            "docker-daemon" if rest.starts_with("sha256:") => rest
                .parse()
                .map(Source::DockerDaemonId)
                .map_err(|e: crate::digest::ParseDigest| bad(&e.to_string())),
            "docker-daemon" => {
                let mut reference = ImageRef::parse(rest)?;
                if reference.tag.is_none() && reference.digest.is_none() {
                    reference.tag = Some("latest".into());
                }
                Ok(Source::DockerDaemon(reference))
            }
            "docker" => Err(bad("a registry reference is docker://REGISTRY/REPO[:TAG]")),
            other => Err(bad(&format!("unknown transport {other:?}"))),
        }
    }
}

/// `path[:reference]`. The reference is a tag or a whole reference with colons of its own
/// (`oci:dir:registry.example.com/app:1.2`), so, as skopeo does, the path ends at the first colon
/// — unless a longer prefix names a path that exists, which a path with colons in it needs.
fn split_path_tag(rest: &str) -> (PathBuf, Option<String>) {
    if Path::new(rest).exists() {
        return (PathBuf::from(rest), None);
    }
    let colons: Vec<usize> = rest.match_indices(':').map(|(i, _)| i).collect();
    let existing = colons
        .iter()
        .rev()
        .find(|&&i| Path::new(&rest[..i]).exists());
    match existing.or(colons.first()) {
        Some(&i) if i + 1 < rest.len() => {
            (PathBuf::from(&rest[..i]), Some(rest[i + 1..].to_owned()))
        }
        _ => (PathBuf::from(rest), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_parse_and_unknown_ones_list_the_forms() {
        assert_eq!(
            Source::parse("docker-archive:-").unwrap(),
            Source::DockerArchive(None)
        );
        assert_eq!(
            Source::parse("oci:/nonexistent/dir:v1").unwrap(),
            Source::OciLayout("/nonexistent/dir".into(), Some("v1".into()))
        );
        assert_eq!(
            Source::parse("oci:/nonexistent/dir:registry.example.com/app:1.2").unwrap(),
            Source::OciLayout(
                "/nonexistent/dir".into(),
                Some("registry.example.com/app:1.2".into())
            )
        );
        let Source::DockerDaemon(r) = Source::parse("docker-daemon:team/app").unwrap() else {
            panic!("a daemon name")
        };
        assert_eq!(r.to_string(), "team/app:latest", "Docker's default tag");
        let id = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(
            Source::parse(&format!("docker-daemon:{id}")).unwrap(),
            Source::DockerDaemonId(d) if d.to_string() == id
        ));
        assert!(Source::parse("docker-daemon:sha256:abc").is_err());
        let err = Source::parse("ftp:Not A Reference")
            .unwrap_err()
            .to_string();
        assert!(err.contains("docker-archive:PATH"), "{err}");
        let Source::Registry(r) = Source::parse("127.0.0.1:5000/team/app:1.2").unwrap() else {
            panic!("a registry reference")
        };
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert!(matches!(
            Source::parse("docker://alpine").unwrap(),
            Source::Registry(r) if r.repository.as_deref() == Some("alpine")
        ));
        let here = std::env::current_dir().unwrap().join("Cargo.toml");
        let err = Source::parse(here.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("docker-archive:"), "{err}");
        let err = Source::parse("app.tar").unwrap_err().to_string();
        assert!(err.contains("docker-archive:app.tar"), "{err}");
    }
}
