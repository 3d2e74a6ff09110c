//! Docker image references (`registry.example.com/team/app:1.2@sha256:…`): common vocabulary
//! for sources, rules, reports and, later, task definitions, which name images the same way.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Docker Hub, the registry an unqualified reference means.
pub const DOCKER_HUB: &str = "docker.io";

/// A Docker image reference. The registry is `None` when the reference did not name one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// The registry host (and port) when written explicitly.
    pub registry: Option<String>,
    /// The repository path, like `team/app` (`None` for an OCI layout's bare tag).
    pub repository: Option<String>,
    /// The tag.
    pub tag: Option<String>,
    /// A pinned digest, like `sha256:…`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a Docker reference such as `nginx`, `nginx:1.25`, `ghcr.io/o/r@sha256:…`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Reference {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                d.parse::<crate::digest::Digest>()
                    .map_err(|e| bad(&e.to_string()))?;
                (r, Some(d.to_owned()))
            }
            None => (input, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (rest, None),
        };
        if name.is_empty()
            || name
                .chars()
                .any(|c| c.is_whitespace() || c.is_ascii_uppercase())
            || name.starts_with('/')
            || name.ends_with('/')
        {
            return Err(bad("repository names are lowercase with no spaces"));
        }
        if let Some(t) = &tag
            && (t.is_empty()
                || t.len() > 128
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
        {
            return Err(bad("a tag is up to 128 letters, digits, '.', '_' or '-'"));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_owned()), path.to_owned())
            }
            _ => (None, name.to_owned()),
        };
        Ok(ImageRef {
            registry,
            repository: Some(repository),
            tag,
            digest,
        })
    }

    /// `registry/repository` as written, without tag or digest (`localhost:5000/app`); `None`
    /// for an OCI layout's bare tag, which names no repository.
    pub fn repository_name(&self) -> Option<String> {
        let repository = self.repository.as_deref()?;
        Some(match &self.registry {
            Some(r) => format!("{r}/{repository}"),
            None => repository.to_owned(),
        })
    }

    /// The name as Docker shows it: Docker Hub's host and its `library/` prefix dropped
    /// (`docker.io/library/nginx:1` → `nginx:1`, `docker.io/team/app` → `team/app`). skopeo
    /// writes archive tags fully qualified and `docker save` does not; one image read from
    /// either must be reported the same.
    pub fn familiar(mut self) -> Self {
        if self
            .registry
            .as_deref()
            .is_some_and(|r| normalise_registry(r) == DOCKER_HUB)
        {
            self.registry = None;
            if let Some(repo) = &self.repository
                && let Some(short) = repo.strip_prefix("library/")
                && !short.contains('/')
            {
                self.repository = Some(short.to_owned());
            }
        }
        self
    }

    /// The registry, defaulting to Docker Hub for a named repository.
    pub fn registry_or_hub(&self) -> Option<&str> {
        match (&self.registry, &self.repository) {
            (Some(r), _) => Some(normalise_registry(r)),
            (None, Some(_)) => Some(DOCKER_HUB),
            (None, None) => None,
        }
    }
}

/// Docker Hub has several names.
pub fn normalise_registry(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB,
        other => other,
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        if let Some(r) = &self.repository {
            f.write_str(r)?;
        }
        if let Some(t) = &self.tag {
            if self.repository.is_some() {
                f.write_str(":")?;
            }
            f.write_str(t)?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// True when an `allowed_registries` entry (a host or host glob, optionally with a path prefix)
/// covers `reference`, whose registry (Docker Hub's names made one) is `registry`.
pub fn allowed_by(entry: &str, registry: &str, reference: &ImageRef) -> bool {
    let entry = entry.trim_end_matches('/');
    let (host, prefix) = entry.split_once('/').unwrap_or((entry, ""));
    // `*.dkr.ecr.*.amazonaws.com` allows every ECR registry: a host may be a glob.
    let host_matches = if host.contains(['*', '?', '[']) {
        globset::GlobBuilder::new(host)
            .case_insensitive(true)
            .build()
            .is_ok_and(|g| g.compile_matcher().is_match(registry))
    } else {
        normalise_registry(host).eq_ignore_ascii_case(registry)
    };
    if !host_matches {
        return false;
    }
    let repository = reference.repository.as_deref().unwrap_or("");
    prefix.is_empty()
        || repository == prefix
        || repository
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.registry_or_hub(), r.tag.as_deref()),
            (Some(DOCKER_HUB), None)
        );
        let r = ImageRef::parse("localhost:5000/team/app:1.2").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.repository.as_deref(), Some("team/app"));
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("ghcr.io/o/r@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("ghcr.io/o/r@{d}"));
        assert!(ImageRef::parse("Bad Name").is_err());
        let familiar = |s: &str| ImageRef::parse(s).unwrap().familiar().to_string();
        assert_eq!(familiar("docker.io/library/nginx:1"), "nginx:1");
        assert_eq!(familiar("docker.io/team/app:1.0"), "team/app:1.0");
        assert_eq!(familiar("index.docker.io/library/a/b"), "library/a/b");
        assert_eq!(familiar("ghcr.io/library/x"), "ghcr.io/library/x");
        let name = |s: &str| ImageRef::parse(s).unwrap().repository_name().unwrap();
        assert_eq!(name("alpine:3.20"), "alpine");
        assert_eq!(
            name(&format!("localhost:5000/app:1@{d}")),
            "localhost:5000/app"
        );
        assert!(ImageRef::parse("app@sha256:zz").is_err());
    }
}
