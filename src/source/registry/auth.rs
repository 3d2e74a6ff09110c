//! Who we are to a registry: credentials from the command line, from Docker's `config.json`
//! (`auths`, `credsStore`, `credHelpers`, run as Docker runs them) or from ECR, and the
//! `WWW-Authenticate` challenge that says how to present them.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` never show them.

use crate::finding::redact;
use std::fmt;

/// A password or token: printed only in redacted form.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", redact(&self.0))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// How to log in to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or an ECR token as the password of user `AWS`).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An identity token (`docker login` with an OAuth flow), exchanged for a bearer token.
    IdentityToken(Secret),
}

/// The key Docker files Docker Hub's credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The credential `config.json` holds for `registry`, if any. A helper that fails is reported
/// by name only: its output may hold anything.
pub fn from_docker_config(registry: &str) -> Result<Option<Credential>, String> {
    lookup(registry, docker_credential::get_credential)
}

fn lookup(
    registry: &str,
    get: impl Fn(
        &str,
    ) -> Result<
        docker_credential::DockerCredential,
        docker_credential::CredentialRetrievalError,
    >,
) -> Result<Option<Credential>, String> {
    let keys: Vec<String> = if registry == crate::reference::DOCKER_HUB {
        vec![
            DOCKER_HUB_KEY.to_owned(),
            "index.docker.io".to_owned(),
            "docker.io".to_owned(),
        ]
    } else {
        vec![
            registry.to_owned(),
            format!("https://{registry}"),
            format!("http://{registry}"),
            format!("https://{registry}/v1/"),
            format!("https://{registry}/v2/"),
        ]
    };
    for key in &keys {
        match get(key) {
            Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
                return Ok(Some(Credential::Basic {
                    username,
                    password: Secret(password),
                }));
            }
            Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
                return Ok(Some(Credential::IdentityToken(Secret(token))));
            }
            Err(
                docker_credential::CredentialRetrievalError::NoCredentialConfigured
                | docker_credential::CredentialRetrievalError::ConfigNotFound,
            ) => {}
            // No config file at all is the common case on CI machines.
            Err(docker_credential::CredentialRetrievalError::ConfigReadError) => return Ok(None),
            Err(docker_credential::CredentialRetrievalError::HelperFailure { helper, .. }) => {
                return Err(format!(
                    "the credential helper docker-credential-{helper} failed for {registry}"
                ));
            }
            Err(docker_credential::CredentialRetrievalError::HelperCommunicationError) => {
                return Err(format!(
                    "the credential helper configured for {registry} could not be run"
                ));
            }
            Err(other) => {
                return Err(format!(
                    "the Docker config's credential for {registry} is unusable: {other}"
                ));
            }
        }
    }
    Ok(None)
}

/// What a `401` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=…`: send the user name and password with every request.
    Basic,
    /// `Bearer realm=…,service=…,scope=…`: ask the realm for a token.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The service name to ask for.
        service: Option<String>,
        /// The scope the registry suggested.
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` header value; `None` for schemes we do not speak.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parse_params(params);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }
}

/// `key="value", key=value` pairs; commas inside quotes (scopes list actions) do not split.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            Challenge::parse(r#"bearer realm=https://r.example/t, service=r"#),
            Some(Challenge::Bearer {
                realm: "https://r.example/t".into(),
                service: Some("r".into()),
                scope: None,
            })
        );
        assert_eq!(Challenge::parse("Negotiate abc"), None);
        assert_eq!(Challenge::parse("Bearer service=x"), None, "no realm");
    }

    #[test]
    fn secrets_never_print() {
        let c = Credential::Basic {
            username: "AWS".into(),
            password: Secret::new("eyJwYXlsb2FkIjoic2VjcmV0LXRva2VuLXZhbHVlIn0"),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("AWS"));
    }

    #[test]
    fn docker_config_auths_are_read() {
        // "user:pa:ss": a colon in the password survives.
        let json = br#"{"auths":{"registry.example.com:5000":{"auth":"dXNlcjpwYTpzcw=="},
                        "https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="}}}"#;
        let get = |key: &str| docker_credential::get_credential_from_reader(&json[..], key);
        assert_eq!(
            lookup("registry.example.com:5000", get).unwrap(),
            Some(Credential::Basic {
                username: "user".into(),
                password: Secret::new("pa:ss"),
            })
        );
        assert_eq!(lookup("other.example.com", get).unwrap(), None);
        assert!(matches!(
            lookup(crate::reference::DOCKER_HUB, get).unwrap(),
            Some(Credential::Basic { username, .. }) if username == "hub"
        ));
    }
}
