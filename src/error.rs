//! The library's error type. Context travels in fields (image, layer index, path, digests) so that
//! the message a user reads names exactly what was wrong, without "failed to" chains.

use crate::digest::Digest;

/// Everything that makes a scan untrustworthy and therefore aborts it.
///
/// A problem with one file (an odd package database, an unparseable ELF) is not an `Error`: it is
/// a warning in the report (`ScanWarning`) and the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image reference could not be understood.
    #[error("invalid image reference {input:?}: {reason}\n{ACCEPTED_FORMS}")]
    Reference {
        /// What the user typed.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The source (archive, layout, daemon) is unreadable or structurally wrong.
    #[error("{image}: {reason}")]
    Source {
        /// The image being read.
        image: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON document in the image (manifest, index, config) is malformed.
    // The cause is in the message and deliberately not a `source()`: printed as a chain, it
    // would be said twice.
    #[error("{image}: malformed {what}: {cause}")]
    Json {
        /// The image being read.
        image: String,
        /// Which document.
        what: String,
        /// The parser's complaint.
        cause: serde_json::Error,
    },
    /// The requested platform is not in the image index.
    #[error("{image}: platform {wanted} not found; available: {available}")]
    Platform {
        /// The image being read.
        image: String,
        /// The platform asked for.
        wanted: String,
        /// The platforms the index lists.
        available: String,
    },
    /// Bytes did not hash to the digest the manifest or config promised.
    #[error("{image}: layer {layer}: {what} digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The image being read.
        image: String,
        /// 0-based layer index.
        layer: usize,
        /// `compressed` (manifest digest) or `uncompressed` (config diff_id).
        what: &'static str,
        /// The digest the image claims.
        expected: Digest,
        /// The digest of the bytes we read.
        actual: Digest,
    },
    /// A layer could not be read, decompressed or walked.
    #[error("{image}: layer {layer} ({digest}){}: {reason}", path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
    Layer {
        /// The image being read.
        image: String,
        /// 0-based layer index (or position in the archive when the index is not known yet).
        layer: usize,
        /// The layer's digest, or its name in the archive.
        digest: String,
        /// The tar path being read when it failed, when known.
        path: Option<String>,
        /// What went wrong.
        reason: String,
    },
    /// A layer of a single stream could not be read before the stream said which layer it is
    /// (Docker writes its manifest last); the member name is the layer's ID or digest.
    #[error("{image}: layer member {member}{}: {reason}", path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
    StreamLayer {
        /// The image being read.
        image: String,
        /// The archive member holding the layer.
        member: String,
        /// The tar path being read when it failed, when known.
        path: Option<String>,
        /// What went wrong.
        reason: String,
    },
    /// A registry refused or failed a request, or sent what it must not.
    // A login concerns the whole registry: no repository to name.
    #[error("registry {registry}{}: {reason}", if repository.is_empty() { String::new() } else { format!(", repository {repository}") })]
    Registry {
        /// The registry host as named in the reference.
        registry: String,
        /// The repository path.
        repository: String,
        /// What was asked, and the status or problem (never a credential).
        reason: String,
    },
    /// A configured safety limit was exceeded.
    #[error("{image}: layer {layer}: {reason}")]
    Limit {
        /// The image being read.
        image: String,
        /// 0-based layer index.
        layer: usize,
        /// Which limit and by how much.
        reason: String,
    },
    /// The configuration file is invalid.
    #[error("config {path}: {reason}")]
    Config {
        /// The config file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A task-definition file is not one, or not a valid one. The reason completes the
    /// sentence: `task.json is a CloudFormation template, not a task definition`.
    #[error("{file} {reason}")]
    TaskDefinition {
        /// The file, or `standard input`.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A registered task definition could not be described.
    #[error("task definition {name}: {reason}")]
    TaskDefinitionFetch {
        /// The task definition as the user named it (`ecs:web:3`, an ARN).
        name: String,
        /// The call, the region, the AWS error code and its message.
        reason: String,
    },
    /// An I/O error with the path it happened on.
    #[error("{path}: {cause}")]
    Io {
        /// The file or stream.
        path: String,
        /// The underlying error.
        cause: std::io::Error,
    },
}

/// The forms `scan` accepts, printed with every reference error.
pub const ACCEPTED_FORMS: &str = "accepted forms:
  REGISTRY/REPO[:TAG][@DIGEST]  an image in a registry (`alpine` is docker.io/library/alpine:latest;
                             `docker://` in front is accepted)
  docker-archive:PATH        a `docker save` tarball (`docker-archive:-` reads standard input)
  oci:DIR[:TAG]              an OCI image layout directory
  oci-archive:PATH[:TAG]     an OCI image layout in a tar file
  docker-daemon:NAME[:TAG]   an image in the local Docker Engine (honours DOCKER_HOST)";

/// The library's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<String>, cause: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }
}
