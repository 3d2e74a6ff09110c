//! Amazon ECR: registry logins from `GetAuthorizationToken` and the repository's posture.

use crate::error::Result;
use crate::posture::RepositoryPosture;

/// An ECR registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    /// The account ID.
    pub account: String,
    /// The region.
    pub region: String,
    /// A FIPS endpoint.
    pub fips: bool,
}

impl EcrHost {
    /// Recognises ECR host names.
    pub fn parse(_host: &str) -> Option<EcrHost> {
        None
    }
}

/// A registry login.
pub struct Login {
    /// Always `AWS`.
    pub username: String,
    /// The token.
    pub password: String,
}

/// The AWS configuration for `region`.
pub async fn sdk_config(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .load()
        .await
}

/// Logs in to the registry.
pub async fn login(host: &EcrHost, _sdk: &aws_config::SdkConfig) -> Result<Login> {
    Err(crate::error::Error::Registry {
        registry: host.account.clone(),
        repository: String::new(),
        reason: "not available".into(),
    })
}

/// The repository's settings.
pub async fn posture(
    _host: &EcrHost,
    _repository: &str,
    _sdk: &aws_config::SdkConfig,
) -> RepositoryPosture {
    RepositoryPosture::default()
}
