//! What the user typed: skopeo-style transports (`docker-archive:app.tar`, `oci:DIR:TAG`).

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
    /// An image in the local Docker Engine.
    DockerDaemon(ImageRef),
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
            "docker-daemon" => Ok(Source::DockerDaemon(ImageRef::parse(rest)?)),
            "docker" => Err(bad("registry pulls (docker://) are not supported yet")),
            other => Err(bad(&format!("unknown transport {other:?}"))),
        }
    }
}

/// `path[:tag]`, where the path itself may contain ':' if it exists as written.
fn split_path_tag(rest: &str) -> (PathBuf, Option<String>) {
    if Path::new(rest).exists() {
        return (PathBuf::from(rest), None);
    }
    match rest.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') && !t.is_empty() => (PathBuf::from(p), Some(t.to_owned())),
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
        let err = Source::parse("ftp:thing").unwrap_err().to_string();
        assert!(err.contains("docker-archive:PATH"), "{err}");
        assert!(Source::parse("app.tar").is_err());
    }
}
