//! The ECR login and repository posture against a real moto server, through the library API.
//! Each test starts moto, creates repositories in known postures, then runs an ignored test of
//! this binary in a child process whose environment points the AWS SDK at moto
//! (`AWS_ENDPOINT_URL…`, test credentials): the same settings a user's environment gives.

use crate::support::diff_ids;
use crate::support::moto::{Moto, run_test_with_env};
use layerguard::posture::{Encryption, RepositoryPolicy, RepositoryPosture};
use layerguard::source::ecr::{self, EcrHost};
use serde_json::{Value, json};

/// moto's default account and region.
const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/";

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef","size":32}]}"#;

fn spec() -> Value {
    json!({
        "registry_scanning": {
            "scanType": "BASIC",
            "rules": [{
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "ruled-*", "filterType": "WILDCARD"}]
            }]
        },
        "repositories": [
            {
                "name": "weak",
                "mutability": "MUTABLE",
                "policy": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "PullForAll", "Effect": "Allow", "Principal": "*",
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
                }]}
            },
            {
                "name": "strong",
                "mutability": "IMMUTABLE",
                "scan_on_push": true,
                "encryption": "customer-key",
                "lifecycle": true,
                "manifest": MANIFEST,
                "policy": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "PullForTheOrg", "Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "ecr:BatchGetImage",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
                }]}
            },
            {"name": "aws-key", "encryption": "KMS"},
            {"name": "ruled-app", "mutability": "IMMUTABLE"}
        ]
    })
}

/// Both ways of pointing the SDK at moto: the generic override, and the per-service ones,
/// which must win over a generic one that leads nowhere.
#[test]
fn login_and_posture_against_moto() {
    let Some(moto) = Moto::start("login_and_posture_against_moto") else {
        return;
    };
    let created = moto.setup(&spec());
    let digest = layerguard::digest::Digest::of(MANIFEST.as_bytes()).to_string();
    assert_eq!(
        created["repositories"]["strong"]["digest"], digest,
        "the launcher makes moto's image digest the manifest's"
    );
    let mut env = moto.env();
    env.push(("LAYERGUARD_MOTO_CREATED", created.to_string()));
    run_test_with_env("ecr::in_moto", &env);

    let per_service: Vec<(&str, String)> = env
        .iter()
        .map(|(k, v)| match *k {
            "AWS_ENDPOINT_URL" => (*k, "http://127.0.0.1:9".to_owned()),
            _ => (*k, v.clone()),
        })
        .chain([
            ("AWS_ENDPOINT_URL_ECR", moto.endpoint.clone()),
            ("AWS_ENDPOINT_URL_KMS", moto.endpoint.clone()),
        ])
        .collect();
    run_test_with_env("ecr::in_moto", &per_service);
}

#[test]
#[ignore = "run by login_and_posture_against_moto, in moto's environment"]
fn in_moto() {
    let created: Value =
        serde_json::from_str(&std::env::var("LAYERGUARD_MOTO_CREATED").unwrap()).unwrap();
    let key = |name: &str| {
        created["repositories"][name]["kms_key"]
            .as_str()
            .map(str::to_owned)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let host = EcrHost::parse(&format!("{HOST}:443")).unwrap();
        let sdk = ecr::sdk_config(&host.region).await;

        let login = ecr::login(&host, &sdk).await.unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("AWS", "123456789012-auth-token")
        );
        assert!(!format!("{login:?}").contains("auth-token"), "{login:?}");

        let posture = |name: &'static str| {
            let (host, sdk) = (&host, &sdk);
            async move { ecr::posture(host, name, sdk).await }
        };
        assert_eq!(
            posture("weak").await,
            RepositoryPosture {
                service: "ecr".into(),
                repository: format!("{ARN}weak"),
                mutable_tags: Some(true),
                scanning: Some(false),
                encryption: Some(Encryption::Aes256),
                lifecycle_policy: Some(false),
                policy: Some(RepositoryPolicy::Public {
                    statement: "PullForAll".into()
                }),
                warnings: vec![],
            }
        );
        assert_eq!(
            posture("strong").await,
            RepositoryPosture {
                service: "ecr".into(),
                repository: format!("{ARN}strong"),
                mutable_tags: Some(false),
                scanning: Some(true),
                encryption: Some(Encryption::Kms {
                    key: key("strong"),
                    customer_managed: Some(true),
                }),
                lifecycle_policy: Some(true),
                policy: Some(RepositoryPolicy::NotPublic),
                warnings: vec![],
            }
        );
        let aws_key = posture("aws-key").await;
        assert!(key("aws-key").is_some());
        assert_eq!(
            aws_key.encryption,
            Some(Encryption::Kms {
                key: key("aws-key"),
                customer_managed: Some(false),
            })
        );
        assert_eq!(aws_key.policy, Some(RepositoryPolicy::Absent));
        let ruled = posture("ruled-app").await;
        assert_eq!(
            (ruled.scanning, ruled.mutable_tags),
            (Some(true), Some(false)),
            "a registry scanning rule covers ruled-*"
        );

        let missing = posture("no-such-repository").await;
        assert_eq!(missing.mutable_tags, None);
        assert!(
            missing.warnings[0]
                .starts_with("ecr:DescribeRepositories failed (RepositoryNotFoundException"),
            "{:?}",
            missing.warnings
        );
    });
}

/// moto enforces IAM once told to: the scanner's user is denied two reads and the login.
#[test]
fn a_denied_permission_is_a_warning_and_a_denied_login_an_error() {
    let Some(moto) = Moto::start("a_denied_permission_is_a_warning_and_a_denied_login_an_error")
    else {
        return;
    };
    let created = moto.setup(&json!({
        "denied_user": ["ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:GetAuthorizationToken"],
        "repositories": [{"name": "app"}]
    }));
    let secret = created["access_key"]["secret"].as_str().unwrap().to_owned();
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        (
            "AWS_ACCESS_KEY_ID",
            created["access_key"]["id"].as_str().unwrap().to_owned(),
        ),
        ("AWS_SECRET_ACCESS_KEY", secret),
    ];
    run_test_with_env("ecr::in_moto_denied", &env);
}

#[test]
#[ignore = "run by a_denied_permission_is_a_warning_and_a_denied_login_an_error, in moto's environment"]
fn in_moto_denied() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let host = EcrHost::parse(HOST).unwrap();
        let sdk = ecr::sdk_config(&host.region).await;
        let error = ecr::login(&host, &sdk).await.unwrap_err().to_string();
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap();
        assert!(
            error.starts_with(&format!(
                "registry {HOST}: ecr:GetAuthorizationToken failed: AccessDenied"
            )),
            "{error}"
        );
        assert!(!error.contains(&secret), "{error}");

        let posture = ecr::posture(&host, "app", &sdk).await;
        assert_eq!(
            posture.mutable_tags,
            Some(true),
            "allowed reads still count"
        );
        assert_eq!((posture.lifecycle_policy, &posture.policy), (None, &None));
        assert_eq!(
            posture.warnings,
            [
                "ecr:GetLifecyclePolicy denied; the lifecycle-policy check was skipped",
                "ecr:GetRepositoryPolicy denied; the public-policy check was skipped"
            ]
        );
    });
}

/// An ECR reference scanned end to end: the login from moto's `GetAuthorizationToken`, the
/// layers from a local registry standing in for ECR's data plane (`--registry-mirror`, user
/// `AWS` with moto's token as its password, as ECR answers with a Basic challenge), and the
/// repository's posture as `ecr-*` findings beside the image's own.
#[test]
fn an_ecr_image_is_pulled_with_the_sdk_login_and_judged_with_its_repository() {
    let Some(moto) =
        Moto::start("an_ecr_image_is_pulled_with_the_sdk_login_and_judged_with_its_repository")
    else {
        return;
    };
    moto.setup(&spec());
    let registry =
        crate::support::registry::Registry::tls_basic_auth_as("AWS", "123456789012-auth-token");
    let clean = crate::support::fixture("oci", "clean.oci:1");
    registry.skopeo_copy(&clean, "weak:1", &[]);
    registry.skopeo_copy(&clean, "strong:1", &[]);
    let ca = registry.tls().expect("a TLS registry").ca_cert.clone();
    let scan = |repository: &str| {
        let cmd = moto.layerguard();
        crate::support::scan_with(
            cmd,
            &format!("{HOST}/{repository}:1"),
            &[
                "--registry-mirror",
                &format!("{HOST}={}", registry.base_url()),
                "--ca-cert",
                ca.to_str().unwrap(),
                "--fail-on",
                "never",
            ],
        )
    };
    let rules = |s: &crate::support::Scan| -> Vec<(String, String)> {
        s.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["rule"].as_str().unwrap().starts_with("ecr-") || f["rule"] == "mutable-tag"
            })
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let weak = scan("weak");
    assert_eq!(weak.code, 0, "{}", weak.stderr);
    assert!(!diff_ids(&weak).is_empty(), "the layers were read");
    let mut found = rules(&weak);
    found.sort();
    assert_eq!(
        found,
        [
            ("ecr-mutable-tags".to_owned(), "medium".to_owned()),
            ("ecr-no-lifecycle-policy".to_owned(), "low".to_owned()),
            ("ecr-not-kms-encrypted".to_owned(), "low".to_owned()),
            ("ecr-public-policy".to_owned(), "high".to_owned()),
            ("ecr-scanning-off".to_owned(), "medium".to_owned()),
            ("mutable-tag".to_owned(), "high".to_owned()),
        ],
        "{}",
        weak.json["findings"]
    );
    assert!(
        !weak.stderr.contains("123456789012-auth-token")
            && !weak.json.to_string().contains("auth-token"),
        "the token never shows"
    );

    // Immutable tags, scan on push, a customer key, a lifecycle policy, an org-only policy:
    // nothing from the repository, and the tag cannot move, so the tag is only low.
    let strong = scan("strong");
    assert_eq!(strong.code, 0, "{}", strong.stderr);
    assert_eq!(
        rules(&strong),
        [("mutable-tag".to_owned(), "low".to_owned())]
    );
}
