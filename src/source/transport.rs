//! What the user typed: skopeo-style transports (`docker-archive:app.tar`, `oci:DIR:TAG`).

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::ImageRef;
use std::path::{Path, PathBuf};

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
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
    /// Parses `TRANSPORT:DETAILS`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Reference {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let Some((transport, rest)) = input.split_once(':') else {
            return Err(bad("no transport given"));
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
            "docker" => Err(bad("registry pulls (docker://) are not supported yet")),
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
        let err = Source::parse("ftp:thing").unwrap_err().to_string();
        assert!(err.contains("docker-archive:PATH"), "{err}");
        assert!(Source::parse("app.tar").is_err());
    }
}
