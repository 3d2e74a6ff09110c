//! The HTTP side of a registry: one repository, its base URL (HTTPS, plain HTTP for loopback and
//! `--insecure-registry` hosts, or a mirror), the login dance, and retries.
//!
//! Every request goes through [`Client::get`], which answers a `401` by logging in once as the
//! challenge asks and retries `5xx`, `429` (after `Retry-After`) and dropped connections with
//! backoff. Errors name the registry, the repository, what was asked and the status — never a
//! URL's query (presigned blob URLs carry signatures) nor a credential.

use super::auth::{Challenge, Credential, Secret};
use super::{RegistryOptions, is_loopback};
use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RANGE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use std::sync::Mutex;
use std::time::Duration;

/// Attempts per request before giving up (the first try and the retries).
const ATTEMPTS: u32 = 5;
/// Longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A stalled connection or body is given up after this long unless the options say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong talking to the registry, in one sentence without the registry's name (the
/// caller adds it).
#[derive(Debug, Clone)]
pub struct Failure {
    /// What was asked and what came back.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// One repository on one registry.
pub struct Client {
    http: reqwest::Client,
    /// `https://host[:port]` or a mirror's URL, without a trailing slash.
    base: String,
    repository: String,
    credential: Option<Credential>,
    /// The `Authorization` header the last login produced.
    authorization: Mutex<Option<HeaderValue>>,
}

impl Client {
    /// Builds the client and decides how to reach `registry`.
    pub async fn connect(
        registry: &str,
        repository: &str,
        credential: Option<Credential>,
        options: &RegistryOptions,
    ) -> Result<Client, Failure> {
        let timeout = options.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .read_timeout(timeout)
            .user_agent(concat!("layerguard/", env!("CARGO_PKG_VERSION")));
        for (path, pem) in &options.ca_certs {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| Failure {
                reason: format!("--ca-cert {}: not a PEM certificate: {}", path.display(), e),
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| Failure {
            reason: format!("cannot set up HTTPS: {}", e.without_url()),
        })?;
        let mirror = options
            .mirrors
            .iter()
            .find(|(host, _)| host.eq_ignore_ascii_case(registry))
            .map(|(_, url)| url.trim_end_matches('/').to_owned());
        let api_host = if registry == crate::reference::DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            registry
        };
        let base = match mirror {
            Some(url) => url,
            None => {
                let plain_allowed = is_loopback(api_host)
                    || options
                        .insecure
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(api_host));
                let https = format!("https://{api_host}");
                if plain_allowed && !speaks_https(&http, &https).await {
                    format!("http://{api_host}")
                } else {
                    https
                }
            }
        };
        Ok(Client {
            http,
            base,
            repository: repository.to_owned(),
            credential,
            authorization: Mutex::new(None),
        })
    }

    /// The repository's URL for `kind` (`manifests`, `blobs`) and `reference`.
    fn url(&self, kind: &str, reference: &str) -> String {
        format!("{}/v2/{}/{kind}/{reference}", self.base, self.repository)
    }

    /// GETs `kind/reference` from the repository: logs in when asked, retries what can be
    /// retried, and returns a successful response or why there is none.
    pub async fn get(
        &self,
        kind: &str,
        reference: &str,
        accept: Option<&str>,
        from: Option<u64>,
    ) -> Result<Response, Failure> {
        let url = self.url(kind, reference);
        let what = format!("GET {kind}/{reference}");
        let mut logged_in = false;
        loop {
            let mut request = self.http.get(&url);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            if let Some(offset) = from.filter(|&o| o > 0) {
                request = request.header(RANGE, format!("bytes={offset}-"));
            }
            if let Some(auth) = self.current_authorization() {
                request = request.header(AUTHORIZATION, auth);
            }
            let response = send_retrying(request).await.map_err(|e| Failure {
                reason: format!("{what}: {}", describe(&e)),
            })?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED && !logged_in {
                logged_in = true;
                self.log_in(&response, &what).await?;
                continue;
            }
            let detail = error_detail(response).await;
            let hint = match status {
                _ if is_retryable(status) => format!(" after {ATTEMPTS} attempts"),
                StatusCode::UNAUTHORIZED => match &self.credential {
                    Some(_) => "; the credentials were refused".into(),
                    None => {
                        "; log in first (docker login, or --username with --password-stdin)".into()
                    }
                },
                StatusCode::FORBIDDEN => "; the credentials may not pull this repository".into(),
                _ => String::new(),
            };
            return Err(Failure {
                reason: format!("{what}: HTTP {status}{detail}{hint}"),
            });
        }
    }

    /// GETs a small document whole (a manifest, a config), at most `max` bytes; a body cut short
    /// is fetched again. Returns the bytes and the response's media type.
    pub async fn get_small(
        &self,
        kind: &str,
        reference: &str,
        accept: Option<&str>,
        max: u64,
    ) -> Result<(Vec<u8>, Option<String>), Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = self.get(kind, reference, accept, None).await?;
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").trim().to_owned());
            match read_limited(response, max).await {
                Ok(bytes) => return Ok((bytes, content_type)),
                Err(ReadError::TooLarge) => {
                    return Err(Failure {
                        reason: format!(
                            "GET {kind}/{reference}: larger than the {max}-byte limit \
                             (max_json_bytes)"
                        ),
                    });
                }
                Err(ReadError::Body(reason)) if attempt >= ATTEMPTS => {
                    return Err(Failure {
                        reason: format!("GET {kind}/{reference}: {reason} ({ATTEMPTS} attempts)"),
                    });
                }
                Err(ReadError::Body(_)) => tokio::time::sleep(backoff(attempt)).await,
            }
        }
    }

    fn current_authorization(&self) -> Option<HeaderValue> {
        self.authorization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answers a `401`'s challenge: Basic sends the credential as it is, Bearer trades it (or
    /// nothing, for an anonymous pull) for a token from the realm.
    async fn log_in(&self, response: &Response, what: &str) -> Result<(), Failure> {
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(Challenge::parse);
        let header = match (challenge, &self.credential) {
            (Some(Challenge::Basic), Some(Credential::Basic { username, password })) => {
                basic(username, password)
            }
            (Some(Challenge::Basic), _) | (None, None) => {
                return Err(Failure {
                    reason: format!(
                        "{what}: HTTP 401 Unauthorized; log in first (docker login, or \
                         --username with --password-stdin)"
                    ),
                });
            }
            (None, Some(Credential::Basic { username, password })) => basic(username, password),
            (None, Some(Credential::IdentityToken(_))) => {
                return Err(Failure {
                    reason: format!("{what}: HTTP 401 Unauthorized without a usable challenge"),
                });
            }
            (
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope: _,
                }),
                credential,
            ) => {
                let token = self
                    .bearer_token(&realm, service.as_deref(), credential.as_ref())
                    .await?;
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    Failure {
                        reason: "the token endpoint sent a token that is not a header value".into(),
                    }
                })?
            }
        };
        let mut header = header;
        header.set_sensitive(true);
        *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = Some(header);
        Ok(())
    }

    /// Docker's token flow: GET the realm with the scope (and Basic credentials when we have
    /// them), or POST an identity token as a refresh token.
    async fn bearer_token(
        &self,
        realm: &str,
        service: Option<&str>,
        credential: Option<&Credential>,
    ) -> Result<Secret, Failure> {
        let scope = format!("repository:{}:pull", self.repository);
        let mut params = vec![("scope", scope.as_str())];
        if let Some(service) = service {
            params.push(("service", service));
        }
        let mut url = reqwest::Url::parse(realm).map_err(|_| Failure {
            reason: "the registry's token realm is not a URL".into(),
        })?;
        let realm_host = url.host_str().unwrap_or("").to_owned();
        let request = match credential {
            Some(Credential::IdentityToken(token)) => {
                let mut form = reqwest::Url::parse("form:").expect("static URL");
                form.query_pairs_mut()
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", token.expose())
                    .append_pair("client_id", "layerguard")
                    .extend_pairs(&params);
                self.http
                    .post(url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.query().unwrap_or("").to_owned())
            }
            other => {
                url.query_pairs_mut().extend_pairs(&params);
                let mut request = self.http.get(url);
                if let Some(Credential::Basic { username, password }) = other {
                    request = request.header(AUTHORIZATION, basic(username, password));
                }
                request
            }
        };
        let response = send_retrying(request).await;
        let response = response.map_err(|e| Failure {
            reason: format!("login at {realm_host}: {}", describe(&e)),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(Failure {
                reason: format!(
                    "login at {realm_host}: HTTP {status}{}",
                    if credential.is_some() {
                        "; the credentials were refused"
                    } else {
                        ""
                    }
                ),
            });
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_limited(response, 1 << 20)
            .await
            .map_err(|reason| Failure {
                reason: format!("login at {realm_host}: {reason}"),
            })?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| Failure {
            reason: format!("login at {realm_host}: the answer is not a token document"),
        })?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| Failure {
                reason: format!("login at {realm_host}: the answer holds no token"),
            })
    }
}

/// True when `base` speaks TLS: it answered over HTTPS, or its certificate was refused (a
/// registry with a private CA must get `--ca-cert`, not a silent downgrade to plain HTTP).
async fn speaks_https(http: &reqwest::Client, base: &str) -> bool {
    match http
        .get(format!("{base}/v2/"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => chain_text(&e).to_ascii_lowercase().contains("certificate"),
    }
}

fn basic(username: &str, password: &Secret) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

/// `5xx` and `429`: the registry may answer differently in a moment.
fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Sends `request`, again after `Retry-After` or a growing wait while the answer is retryable or
/// the connection failed in a way that may mend, up to [`ATTEMPTS`] times. Returns the last
/// answer, retryable or not, or the last connection error; a request that cannot be copied
/// (a streamed body) is sent once.
async fn send_retrying(request: reqwest::RequestBuilder) -> reqwest::Result<Response> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(this) = request.try_clone() else {
            return request.send().await;
        };
        let wait = match this.send().await {
            Ok(r) if is_retryable(r.status()) && attempt < ATTEMPTS => {
                retry_after(&r).unwrap_or_else(|| backoff(attempt))
            }
            Err(e) if attempt < ATTEMPTS && is_transient(&e) => backoff(attempt),
            other => return other,
        };
        tokio::time::sleep(wait).await;
    }
}

/// Waits a little longer each time: 0.5 s, 1 s, 2 s, 4 s.
fn backoff(attempt: u32) -> Duration {
    (Duration::from_millis(500) * 2u32.saturating_pow(attempt.saturating_sub(1))).min(MAX_BACKOFF)
}

/// `Retry-After` in seconds (the HTTP-date form is rare from registries and treated as absent).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_BACKOFF))
}

/// Connection trouble worth another try: refused or reset connections, timeouts, bodies cut
/// short. Not TLS or certificate errors, which will not mend themselves.
pub fn is_transient(e: &reqwest::Error) -> bool {
    if e.is_timeout() {
        return true;
    }
    if is_tls_problem(e) {
        return false;
    }
    e.is_connect() || e.is_request() || e.is_body() || e.is_decode()
}

fn is_tls_problem(e: &reqwest::Error) -> bool {
    let text = chain_text(e).to_ascii_lowercase();
    text.contains("certificate") || text.contains("tls") || text.contains("handshake")
}

/// A reqwest error as one line without the URL (a presigned blob URL's query is a credential).
pub fn describe(e: &reqwest::Error) -> String {
    let text = chain_text(e);
    if e.is_timeout() {
        format!("timed out ({text})")
    } else if is_tls_problem(e) {
        format!("TLS failed ({text}); for a private CA pass --ca-cert FILE")
    } else {
        text
    }
}

fn chain_text(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(
            e.to_string()
                .split(" for url (")
                .next()
                .unwrap_or("")
                .to_owned(),
        );
    }
    parts.join(": ")
}

/// The registry's error code and message from an error body (`{"errors":[{"code":…}]}`), as
/// ` (CODE: message)`; nothing when the body says nothing useful. Bodies are bounded and never
/// echoed raw.
async fn error_detail(response: Response) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let Ok(body) = read_limited(response, 64 << 10).await else {
        return String::new();
    };
    let Ok(parsed) = serde_json::from_slice::<Errors>(&body) else {
        return String::new();
    };
    let Some(first) = parsed.errors.into_iter().next() else {
        return String::new();
    };
    let text = match (first.code, first.message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => return String::new(),
    };
    format!(" ({})", crate::text::clip(&text))
}

/// Why a whole body could not be read.
#[derive(Debug)]
enum ReadError {
    /// More than the limit.
    TooLarge,
    /// The connection failed mid-body.
    Body(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge => f.write_str("larger than the limit"),
            ReadError::Body(reason) => f.write_str(reason),
        }
    }
}

/// Reads a whole body, refusing more than `max` bytes.
async fn read_limited(response: Response, max: u64) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > max) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk: Bytes = chunk.map_err(|e| ReadError::Body(describe(&e)))?;
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
