//! Amazon ECR: the registry login and the repository's posture, through the AWS SDK.
//!
//! The registry source calls in here when an image's host is an ECR registry
//! ([`EcrHost::parse`]): [`login`] turns AWS credentials into the registry's Basic-auth user and
//! password, [`posture`] reads the repository's settings for the `ecr-*` rules. Credentials come
//! from the SDK's standard chain and endpoints from its standard overrides (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_KMS`), so VPC endpoints and test servers need no
//! flag of ours.

use crate::error::{Error, Result};
use crate::posture::{Encryption, RepositoryPolicy, RepositoryPosture};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::types::{
    RegistryScanningConfiguration, Repository, RepositoryScanningConfiguration, ScanFrequency,
    ScanType,
};
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// An ECR registry host, `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    /// The registry's 12-digit AWS account.
    pub account: String,
    /// The region the registry lives in, which is where its API is.
    pub region: String,
    /// True for a FIPS endpoint (`dkr.ecr-fips`); the ECR and KMS APIs are then called on their
    /// FIPS endpoints too.
    pub fips: bool,
    /// The host as the registry source should name it in messages, lowercase, without `:443`.
    pub host: String,
}

impl EcrHost {
    /// Recognises an ECR registry host, with or without the `:443` port; `None` for any other.
    pub fn parse(host: &str) -> Option<EcrHost> {
        let host = host.to_ascii_lowercase();
        let host = host.strip_suffix(":443").unwrap_or(&host);
        let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
            Some(rest) => (rest, true),
            None => (host.strip_suffix(".amazonaws.com")?, false),
        };
        let mut labels = rest.split('.');
        let (account, dkr, service, region) = (
            labels.next()?,
            labels.next()?,
            labels.next()?,
            labels.next()?,
        );
        let fips = match service {
            "ecr" => false,
            "ecr-fips" => true,
            _ => return None,
        };
        let region_ok = region.split('-').count() >= 3
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        // China's regions are only reached under .amazonaws.com.cn, and only they are.
        if labels.next().is_some()
            || dkr != "dkr"
            || account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
            || !region_ok
            || china != region.starts_with("cn-")
        {
            return None;
        }
        Some(EcrHost {
            account: account.to_owned(),
            region: region.to_owned(),
            fips,
            host: host.to_owned(),
        })
    }

    /// The ARN `repository` has in this registry.
    pub fn arn(&self, repository: &str) -> String {
        let partition = if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        format!(
            "arn:{partition}:ecr:{}:{}:repository/{repository}",
            self.region, self.account
        )
    }

    fn error(&self, repository: &str, reason: String) -> Error {
        Error::Registry {
            registry: self.host.clone(),
            repository: repository.to_owned(),
            reason,
        }
    }
}

/// The SDK configuration for `region`: the standard credential chain (environment, profiles,
/// SSO, web identity, the ECS container credentials endpoint, IMDS), the standard endpoint
/// overrides, and the standard retry mode, which retries throttling with backoff (three
/// attempts unless `AWS_MAX_ATTEMPTS` or a profile says otherwise).
pub async fn sdk_config(region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .load()
        .await
}

/// The registry's Basic-auth credentials, valid for 12 hours.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// Always `AWS` for ECR.
    pub username: String,
    /// The registry token.
    pub password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &crate::finding::redact(&self.password))
            .finish()
    }
}

/// Gets a registry token for `host` with `GetAuthorizationToken`. An error names the registry,
/// the AWS error code and AWS's message, never a credential.
// No `registryIds`: AWS deprecated it, as the token opens every registry the caller may use.
pub async fn login(host: &EcrHost, sdk: &SdkConfig) -> Result<Login> {
    let out = ecr_client(host, sdk)
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| {
            host.error(
                "",
                format!("ecr:GetAuthorizationToken failed: {}", Failure::of(&e)),
            )
        })?;
    let token = out
        .authorization_data()
        .iter()
        .find_map(|d| d.authorization_token())
        .ok_or_else(|| {
            host.error(
                "",
                "ecr:GetAuthorizationToken returned no authorization data".into(),
            )
        })?;
    decode_token(token).map_err(|reason| host.error("", reason))
}

/// `base64("AWS:password")` split into user and password.
fn decode_token(token: &str) -> Result<Login, String> {
    let bad = |why: &str| format!("ecr:GetAuthorizationToken returned a token that {why}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| bad("is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("is not UTF-8"))?;
    let (username, password) = text
        .split_once(':')
        .filter(|(u, p)| !u.is_empty() && !p.is_empty())
        .ok_or_else(|| bad("is not `user:password`"))?;
    Ok(Login {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// Reads `repository`'s settings. Never fails: whatever could not be read (a missing IAM
/// permission, a throttled call that ran out of retries) is `None` with a warning naming the
/// permission, so the image scan goes on.
pub async fn posture(host: &EcrHost, repository: &str, sdk: &SdkConfig) -> RepositoryPosture {
    let described = ecr_client(host, sdk)
        .describe_repositories()
        .registry_id(&host.account)
        .repository_names(repository)
        .send()
        .await
        .map(|out| out.repositories().first().cloned())
        .map_err(|e| Failure::of(&e));
    let keys: Vec<&str> = described
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .and_then(customer_key)
        .into_iter()
        .collect();
    let registry = read_registry(host, &[repository], &keys, sdk).await;
    assemble(host, repository, described, &registry, sdk).await
}

/// What the repositories of one registry share, read once for all of them: the registry's
/// scanning configuration, the scanning ECR applies to each repository (asked 25 at a time)
/// and whether each KMS key they name is customer-managed. A sweep asks this once per
/// registry rather than once per repository.
pub struct RegistryReads {
    scanning: Result<RegistryScanning, Failure>,
    applied: HashMap<String, Result<Option<RepositoryScanningConfiguration>, Failure>>,
    keys: HashMap<String, Result<Option<bool>, Failure>>,
}

/// The registry-level scanning settings.
struct RegistryScanning {
    /// The account the answer is for: settings of another account say nothing about ours.
    registry_id: Option<String>,
    configuration: Option<RegistryScanningConfiguration>,
}

/// `BatchGetRepositoryScanningConfiguration` takes at most this many names.
const SCANNING_BATCH: usize = 25;

/// Reads what `repositories` of `host` share; `keys` are the KMS keys their encryption names.
pub async fn read_registry(
    host: &EcrHost,
    repositories: &[&str],
    keys: &[&str],
    sdk: &SdkConfig,
) -> RegistryReads {
    use futures_util::StreamExt;
    let ecr = ecr_client(host, sdk);
    let kms = kms_client(host, sdk);
    let scanning = async {
        ecr.get_registry_scanning_configuration()
            .send()
            .await
            .map(|out| RegistryScanning {
                registry_id: out.registry_id().map(str::to_owned),
                configuration: out.scanning_configuration().cloned(),
            })
            .map_err(|e| Failure::of(&e))
    };
    let applied = futures_util::stream::iter(repositories.chunks(SCANNING_BATCH))
        .map(|names| {
            let ecr = &ecr;
            async move {
                let answer = ecr
                    .batch_get_repository_scanning_configuration()
                    .set_repository_names(Some(names.iter().map(|n| n.to_string()).collect()))
                    .send()
                    .await;
                names
                    .iter()
                    .map(|name| {
                        let found = match &answer {
                            Ok(out) => Ok(out
                                .scanning_configurations()
                                .iter()
                                .find(|c| {
                                    c.repository_name() == Some(*name)
                                        && c.repository_arn()
                                            .and_then(arn_account)
                                            .is_none_or(|a| a == host.account)
                                })
                                .cloned()),
                            Err(e) => Err(Failure::of(e)),
                        };
                        (name.to_string(), found)
                    })
                    .collect::<Vec<_>>()
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    let mut distinct: Vec<&str> = keys.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let keys = futures_util::stream::iter(distinct)
        .map(|key| {
            let kms = &kms;
            async move {
                let managed = kms
                    .describe_key()
                    .key_id(key)
                    .send()
                    .await
                    .map(|out| {
                        out.key_metadata()
                            .and_then(|m| m.key_manager())
                            .map(|m| m.as_str() == "CUSTOMER")
                    })
                    .map_err(|e| Failure::of(&e));
                (key.to_owned(), managed)
            }
        })
        .buffer_unordered(8)
        .collect::<HashMap<_, _>>();
    let (scanning, applied, keys) = tokio::join!(scanning, applied, keys);
    RegistryReads {
        scanning,
        applied: applied.into_iter().flatten().collect(),
        keys,
    }
}

/// The KMS key a repository's encryption names, when only `kms:DescribeKey` can tell whether
/// it is customer-managed (no key, or the alias, is ECR's own AWS-managed key).
pub fn customer_key(repository: &Repository) -> Option<&str> {
    let config = repository.encryption_configuration()?;
    if config.encryption_type().as_str() == "AES256" {
        return None;
    }
    config.kms_key().filter(|key| *key != "alias/aws/ecr")
}

/// A repository's posture from its listing (`described`, as `DescribeRepositories` gave it),
/// what its registry shares, and the two settings only a per-repository call gives: its
/// lifecycle policy and its repository policy.
pub async fn assemble(
    host: &EcrHost,
    repository: &str,
    described: Result<Option<Repository>, Failure>,
    registry: &RegistryReads,
    sdk: &SdkConfig,
) -> RepositoryPosture {
    let ecr = ecr_client(host, sdk);
    let (lifecycle, policy) = tokio::join!(
        ecr.get_lifecycle_policy()
            .registry_id(&host.account)
            .repository_name(repository)
            .send(),
        ecr.get_repository_policy()
            .registry_id(&host.account)
            .repository_name(repository)
            .send(),
    );

    let mut warnings = Vec::new();
    let mut skipped = |permission: &str, checks: &str, failure: &Failure| {
        warnings.push(failure.warning(permission, checks));
    };

    let described = match described {
        Ok(found) => found,
        Err(failure) => {
            skipped(
                "ecr:DescribeRepositories",
                "the tag-mutability, scan-on-push and encryption checks were",
                &failure,
            );
            None
        }
    };
    let arn = described
        .as_ref()
        .and_then(|r| r.repository_arn())
        .map(str::to_owned);

    let mutable_tags =
        described
            .as_ref()
            .and_then(|r| match r.image_tag_mutability().map(|m| m.as_str()) {
                Some("MUTABLE" | "MUTABLE_WITH_EXCLUSION") => Some(true),
                Some("IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION") => Some(false),
                _ => None,
            });

    // The registry-level settings are the caller's own registry's: for a repository in another
    // account they say nothing about it.
    let registry_level = match &registry.scanning {
        Ok(out)
            if out
                .registry_id
                .as_deref()
                .is_some_and(|a| a != host.account) =>
        {
            skipped(
                "ecr:GetRegistryScanningConfiguration",
                "the registry-level scanning check was",
                &Failure::other("the registry belongs to another account"),
            );
            None
        }
        Ok(out) => {
            let config = out.configuration.as_ref();
            let enhanced = config.and_then(|c| c.scan_type()) == Some(&ScanType::Enhanced);
            let rules_cover = config.is_some_and(|c| {
                c.rules().iter().any(|rule| {
                    scans(rule.scan_frequency())
                        && rule
                            .repository_filters()
                            .iter()
                            .any(|f| wildcard_matches(f.filter(), repository))
                })
            });
            Some((enhanced, rules_cover))
        }
        Err(failure) => {
            skipped(
                "ecr:GetRegistryScanningConfiguration",
                "the registry-level scanning check was",
                failure,
            );
            None
        }
    };
    let applied = match registry.applied.get(repository) {
        Some(Ok(found)) => found.clone(),
        Some(Err(failure)) => {
            skipped(
                "ecr:BatchGetRepositoryScanningConfiguration",
                "the repository's scanning check was",
                failure,
            );
            None
        }
        None => None,
    };
    let scanning = Scanning {
        enhanced: registry_level.map(|(enhanced, _)| enhanced),
        rules_cover: registry_level.map(|(_, covered)| covered),
        applied_frequency: applied
            .as_ref()
            .map(|c| c.scan_frequency().is_some_and(scans)),
        // BatchGetRepositoryScanningConfiguration reports scan-on-push too, but not every
        // implementation fills it in; DescribeRepositories always does.
        scan_on_push: described
            .as_ref()
            .map(|r| {
                r.image_scanning_configuration()
                    .is_some_and(|c| c.scan_on_push())
            })
            .or(applied.as_ref().map(|c| c.scan_on_push())),
    }
    .verdict();

    let lifecycle_policy = match lifecycle {
        Ok(_) => Some(true),
        Err(e) if e.code() == Some("LifecyclePolicyNotFoundException") => Some(false),
        Err(e) => {
            skipped(
                "ecr:GetLifecyclePolicy",
                "the lifecycle-policy check was",
                &Failure::of(&e),
            );
            None
        }
    };

    let policy = match policy {
        Ok(out) => match public_statement(out.policy_text().unwrap_or("{}")) {
            Ok(Some(statement)) => Some(RepositoryPolicy::Public { statement }),
            Ok(None) => Some(RepositoryPolicy::NotPublic),
            Err(reason) => {
                skipped(
                    "ecr:GetRepositoryPolicy",
                    "the public-policy check was",
                    &Failure::other(&format!("the policy is not valid: {reason}")),
                );
                None
            }
        },
        Err(e) if e.code() == Some("RepositoryPolicyNotFoundException") => {
            Some(RepositoryPolicy::Absent)
        }
        Err(e) => {
            skipped(
                "ecr:GetRepositoryPolicy",
                "the public-policy check was",
                &Failure::of(&e),
            );
            None
        }
    };

    let encryption = match described
        .as_ref()
        .and_then(|r| r.encryption_configuration())
    {
        None => None,
        Some(c) if c.encryption_type().as_str() == "AES256" => Some(Encryption::Aes256),
        Some(c) => {
            let key = c.kms_key().map(str::to_owned);
            let customer_managed = match key.as_deref() {
                None | Some("alias/aws/ecr") => Some(false),
                Some(key) => match registry.keys.get(key) {
                    Some(Ok(managed)) => *managed,
                    Some(Err(failure)) => {
                        skipped(
                            "kms:DescribeKey",
                            "whether the KMS key is customer-managed was",
                            failure,
                        );
                        None
                    }
                    None => None,
                },
            };
            Some(Encryption::Kms {
                key,
                customer_managed,
            })
        }
    };

    RepositoryPosture {
        service: "ecr".into(),
        repository: arn.unwrap_or_else(|| host.arn(repository)),
        mutable_tags,
        scanning,
        encryption,
        lifecycle_policy,
        policy,
        warnings,
    }
}

/// One repository of a registry, as `DescribeRepositories` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRepository {
    /// The account that owns it.
    pub registry_id: String,
    /// The repository name (`team/app`).
    pub name: String,
    /// Everything the listing says of it: tag mutability, scan-on-push, encryption, so that
    /// judging it needs no second `DescribeRepositories`.
    pub description: Repository,
}

/// One image of a repository, as `DescribeImages` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedImage {
    /// The manifest digest (`sha256:…`).
    pub digest: String,
    /// Its tags, if any.
    pub tags: Vec<String>,
    /// When it was pushed, seconds since the epoch.
    pub pushed_at: Option<i64>,
}

/// Every repository of `host`'s registry, all pages; with an empty `host.account`, the
/// caller's own registry in `host.region`.
pub async fn list_repositories(host: &EcrHost, sdk: &SdkConfig) -> Result<Vec<ListedRepository>> {
    let mut request = ecr_client(host, sdk).describe_repositories();
    if !host.account.is_empty() {
        request = request.registry_id(&host.account);
    }
    let mut pages = request.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            host.error(
                "",
                format!("ecr:DescribeRepositories failed: {}", Failure::of(&e)),
            )
        })?;
        out.extend(page.repositories().iter().filter_map(|r| {
            Some(ListedRepository {
                registry_id: r.registry_id()?.to_owned(),
                name: r.repository_name()?.to_owned(),
                description: r.clone(),
            })
        }));
    }
    Ok(out)
}

/// Every image of `repository`, all pages.
pub async fn list_images(
    host: &EcrHost,
    repository: &str,
    sdk: &SdkConfig,
) -> Result<Vec<ListedImage>> {
    let mut pages = ecr_client(host, sdk)
        .describe_images()
        .registry_id(&host.account)
        .repository_name(repository)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            host.error(
                repository,
                format!("ecr:DescribeImages failed: {}", Failure::of(&e)),
            )
        })?;
        out.extend(page.image_details().iter().filter_map(|d| {
            Some(ListedImage {
                digest: d.image_digest()?.to_owned(),
                tags: d.image_tags().to_vec(),
                pushed_at: d.image_pushed_at().map(|t| t.secs()),
            })
        }));
    }
    Ok(out)
}

/// The ECR client for `host`: its region whatever `sdk` says, since a token or a setting from
/// another region's registry is someone else's, and FIPS endpoints for a FIPS host.
fn ecr_client(host: &EcrHost, sdk: &SdkConfig) -> aws_sdk_ecr::Client {
    let mut config =
        aws_sdk_ecr::config::Builder::from(sdk).region(Region::new(host.region.clone()));
    if host.fips {
        config = config.use_fips(true);
    }
    aws_sdk_ecr::Client::from_conf(config.build())
}

/// ECR only accepts keys in the repository's region.
fn kms_client(host: &EcrHost, sdk: &SdkConfig) -> aws_sdk_kms::Client {
    let mut config =
        aws_sdk_kms::config::Builder::from(sdk).region(Region::new(host.region.clone()));
    if host.fips {
        config = config.use_fips(true);
    }
    aws_sdk_kms::Client::from_conf(config.build())
}

/// The account in an ARN, `arn:PARTITION:SERVICE:REGION:ACCOUNT:…`.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

fn scans(frequency: &ScanFrequency) -> bool {
    matches!(
        frequency,
        ScanFrequency::ScanOnPush | ScanFrequency::ContinuousScan
    )
}

/// What the scanning settings say, each `None` when it could not be read.
#[derive(Debug, Clone, Copy, Default)]
struct Scanning {
    /// The registry scans with Amazon Inspector (enhanced) rather than basic scanning.
    enhanced: Option<bool>,
    /// A registry-level rule that scans matches the repository.
    rules_cover: Option<bool>,
    /// The scan frequency ECR applies to the repository scans.
    applied_frequency: Option<bool>,
    /// The repository's own scan-on-push.
    scan_on_push: Option<bool>,
}

impl Scanning {
    /// True when pushes are scanned, false only when every setting that could scan them was
    /// read and none does.
    fn verdict(self) -> Option<bool> {
        let rules = or(self.rules_cover, self.applied_frequency);
        match self.enhanced {
            // Enhanced scanning ignores the repository's scan-on-push: only rules count.
            Some(true) => rules,
            Some(false) => or(rules, self.scan_on_push),
            None => rules.filter(|&covered| covered),
        }
    }
}

/// Three-valued or: true wins, false needs both known.
fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// ECR's `WILDCARD` scan filter: `*` matches any run of characters, the rest literally, the
/// whole name.
fn wildcard_matches(filter: &str, name: &str) -> bool {
    let mut parts = filter.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The first `Allow` statement that anyone may use: a `*` principal (or `NotPrincipal`) and no
/// condition that narrows who. `Err` when the policy is not a policy document.
fn public_statement(text: &str) -> Result<Option<String>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        None => Vec::new(),
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err("`Statement` is neither an object nor a list".into()),
    };
    for (i, statement) in statements.iter().enumerate() {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let anyone = statement.get("NotPrincipal").is_some()
            || statement.get("Principal").is_some_and(names_anyone);
        if allows && anyone && !statement.get("Condition").is_some_and(narrows) {
            let sid = statement.get("Sid").and_then(Value::as_str);
            return Ok(Some(match sid {
                Some(sid) if !sid.is_empty() => sid.to_owned(),
                _ => format!("statement {}", i + 1),
            }));
        }
    }
    Ok(None)
}

/// `"*"`, `{"AWS": "*"}` or `{"AWS": [..., "*"]}`.
fn names_anyone(principal: &Value) -> bool {
    let star = |v: &Value| v.as_str() == Some("*");
    match principal {
        Value::Object(map) => map.get("AWS").is_some_and(|aws| match aws {
            Value::Array(all) => all.iter().any(star),
            one => star(one),
        }),
        other => star(other),
    }
}

/// Condition keys that, matched positively, restrict a statement to an organisation, an
/// account, a network path or a calling resource.
const NARROWING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
];

/// True when a `Condition` block holds a narrowing key under an operator that requires the
/// key to be present and to match (negated and `…IfExists` operators let an absent key
/// through), with no value that matches everything.
fn narrows(condition: &Value) -> bool {
    let Some(operators) = condition.as_object() else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let operator = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
        let positive = matches!(
            operator,
            "StringEquals"
                | "StringEqualsIgnoreCase"
                | "StringLike"
                | "ArnEquals"
                | "ArnLike"
                | "IpAddress"
        );
        positive
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, values)| {
                    let values: Vec<&Value> = match values {
                        Value::Array(all) => all.iter().collect(),
                        one => vec![one],
                    };
                    NARROWING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                        && !values.is_empty()
                        && values.iter().all(|v| {
                            v.as_str().is_some_and(|s| {
                                !s.is_empty()
                                    && !s.chars().all(|c| c == '*' || c == '?')
                                    && s != "0.0.0.0/0"
                                    && s != "::/0"
                            })
                        })
                })
            })
    })
}

/// Why a call gave no answer, for a warning or an error.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The AWS error code, like `AccessDeniedException`.
    code: Option<String>,
    /// What to tell the user.
    text: String,
}

impl Failure {
    /// What an SDK call's error says.
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // A 403 whose body the SDK could not read (some ECR-compatible endpoints answer a JSON
        // API with an XML error) is still a refusal.
        let forbidden = err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 403);
        match (err.code(), err.message()) {
            (None, _) if forbidden => Failure {
                code: Some("AccessDenied".into()),
                text: "AccessDenied: HTTP 403 Forbidden".into(),
            },
            (Some(code), Some(message)) => Failure {
                code: Some(code.to_owned()),
                text: format!("{code}: {message}"),
            },
            (Some(code), None) => Failure {
                code: Some(code.to_owned()),
                text: code.to_owned(),
            },
            _ => Failure::other(&DisplayErrorContext(err).to_string()),
        }
    }

    fn other(text: &str) -> Failure {
        Failure {
            code: None,
            text: text.to_owned(),
        }
    }

    /// `PERMISSION denied; CHECKS skipped`, or the error itself when it is not a denial.
    fn warning(&self, permission: &str, checks: &str) -> String {
        match self.code.as_deref() {
            Some("AccessDeniedException" | "AccessDenied") => {
                format!("{permission} denied; {checks} skipped")
            }
            _ => format!("{permission} failed ({}); {checks} skipped", self.text),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts_parse_and_others_do_not() {
        let host = EcrHost::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(
            host,
            EcrHost {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                fips: false,
                host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com".into(),
            }
        );
        let fips =
            EcrHost::parse("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com:443").unwrap();
        assert!(fips.fips);
        assert_eq!(fips.region, "us-gov-west-1");
        assert_eq!(
            fips.host,
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"
        );
        let china = EcrHost::parse("123456789012.DKR.ECR.cn-north-1.amazonaws.com.cn").unwrap();
        assert_eq!(
            (china.region.as_str(), china.host.as_str()),
            (
                "cn-north-1",
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
            )
        );
        assert_eq!(
            china.arn("team/app"),
            "arn:aws-cn:ecr:cn-north-1:123456789012:repository/team/app"
        );
        for other in [
            "docker.io",
            "ghcr.io",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000",
            "12345678901.dkr.ecr.eu-west-1.amazonaws.com",
            "12345678901x.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
            "evil.123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn",
            "123456789012.dkr.s3.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.amazonaws.com",
            "api.ecr.eu-west-1.amazonaws.com",
            "public.ecr.aws",
        ] {
            assert_eq!(EcrHost::parse(other), None, "{other}");
        }
    }

    #[test]
    fn tokens_decode_and_the_password_never_prints() {
        let login = decode_token("QVdTOmV5SndZWGxzYjJGa0lqb2lZV0pqSW4wPQ==").unwrap();
        assert_eq!(login.username, "AWS");
        assert_eq!(login.password, "eyJwYXlsb2FkIjoiYWJjIn0=");
        let shown = format!("{login:?}");
        assert!(
            shown.contains("AWS") && !shown.contains("eyJwYXlsb2FkIjoiYWJj"),
            "{shown}"
        );
        assert!(
            decode_token("not base64!")
                .unwrap_err()
                .contains("not base64")
        );
        assert!(decode_token("QVdT").unwrap_err().contains("user:password"));
    }

    #[test]
    fn denials_become_one_sentence_naming_the_permission() {
        let denied = Failure {
            code: Some("AccessDeniedException".into()),
            text: "AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized".into(),
        };
        assert_eq!(
            denied.warning("ecr:GetLifecyclePolicy", "the lifecycle-policy check was"),
            "ecr:GetLifecyclePolicy denied; the lifecycle-policy check was skipped"
        );
        let throttled = Failure {
            code: Some("ThrottlingException".into()),
            text: "ThrottlingException: Rate exceeded".into(),
        };
        assert_eq!(
            throttled.warning(
                "kms:DescribeKey",
                "whether the KMS key is customer-managed was"
            ),
            "kms:DescribeKey failed (ThrottlingException: Rate exceeded); whether the KMS key is \
             customer-managed was skipped"
        );
    }

    #[test]
    fn scanning_is_off_only_when_every_setting_says_so() {
        let basic = Scanning {
            enhanced: Some(false),
            rules_cover: Some(false),
            applied_frequency: Some(false),
            scan_on_push: Some(false),
        };
        assert_eq!(basic.verdict(), Some(false));
        let pushed = Scanning {
            scan_on_push: Some(true),
            ..basic
        };
        assert_eq!(pushed.verdict(), Some(true));
        assert_eq!(
            Scanning {
                enhanced: Some(true),
                ..pushed
            }
            .verdict(),
            Some(false),
            "enhanced scanning ignores the repository's scan-on-push"
        );
        assert_eq!(
            Scanning {
                applied_frequency: Some(true),
                enhanced: Some(true),
                ..basic
            }
            .verdict(),
            Some(true)
        );
        assert_eq!(
            Scanning {
                scan_on_push: None,
                ..basic
            }
            .verdict(),
            None
        );
        assert_eq!(
            Scanning {
                enhanced: None,
                rules_cover: None,
                ..basic
            }
            .verdict(),
            None,
            "without the registry's scan type a repository setting proves nothing"
        );
        assert_eq!(
            Scanning {
                rules_cover: Some(true),
                ..Scanning::default()
            }
            .verdict(),
            Some(true)
        );
    }

    #[test]
    fn wildcard_filters_match_whole_names() {
        for (filter, name, expected) in [
            ("*", "team/app", true),
            ("team/*", "team/app", true),
            ("team/*", "other/app", false),
            ("app", "app", true),
            ("app", "team/app", false),
            ("*app", "team/app", true),
            ("t*m/*p", "team/app", true),
            ("t*m/*x", "team/app", false),
            ("prod-*-api", "prod-eu-api", true),
            ("prod-*-api", "prod-eu-api-2", false),
        ] {
            assert_eq!(wildcard_matches(filter, name), expected, "{filter} {name}");
        }
    }

    #[test]
    fn public_statements_are_found_and_narrowed_ones_are_not() {
        let policy =
            |statement: &str| format!(r#"{{"Version":"2012-10-17","Statement":{statement}}}"#);
        let public = policy(
            r#"[{"Sid":"Mine","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"},
                {"Sid":"PullForAll","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]"#,
        );
        assert_eq!(
            public_statement(&public).unwrap().as_deref(),
            Some("PullForAll")
        );
        let unnamed = policy(
            r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"ecr:*"}"#,
        );
        assert_eq!(
            public_statement(&unnamed).unwrap().as_deref(),
            Some("statement 1")
        );
        for narrowed in [
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}"#,
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:*","Condition":{"StringEquals":{"aws:sourcevpce":["vpce-1"]}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:123456789012:function:*"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a/r-b/*"}}}"#,
            r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*"}"#,
            r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:*"}"#,
        ] {
            assert_eq!(
                public_statement(&policy(narrowed)).unwrap(),
                None,
                "{narrowed}"
            );
        }
        for still_public in [
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringLike":{"aws:PrincipalOrgID":"*"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEqualsIfExists":{"aws:SourceAccount":"123456789012"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#,
            r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"ecr:*"}"#,
        ] {
            assert!(
                public_statement(&policy(still_public)).unwrap().is_some(),
                "{still_public}"
            );
        }
        assert!(public_statement("not json").is_err());
        assert!(public_statement(r#"{"Statement":3}"#).is_err());
    }

    #[tokio::test]
    async fn the_sdk_config_has_the_region_and_retries_throttling() {
        let sdk = sdk_config("eu-central-1").await;
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-central-1"));
        let retry = sdk.retry_config().expect("a retry config");
        assert!(retry.max_attempts() > 1, "{retry:?}");
    }
}
