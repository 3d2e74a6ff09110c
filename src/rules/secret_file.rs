//! LG009 secret-file: credential files in any layer, including ones a later layer deleted.

use super::{Rule, RuleMeta};
use crate::event::{FileEvent, FileKind, FileMeta, Interest};
use crate::finding::{Findings, Location, Severity, redact};
use crate::signatures::find_secrets;

/// Reports key files, registry credentials and `.env` files that hold a secret.
pub struct SecretFile;

static META: RuleMeta = RuleMeta {
    code: "LG009",
    name: "secret-file",
    severity: Severity::Critical,
    summary: "A layer holds a private key or credentials file",
    rationale: "Every layer is part of the image, so a key or token file copied in and deleted \
                later is still readable by anyone who can pull the image. The ECS best-practice \
                guide (secrets management) says never to bake secrets into images: keep them in \
                AWS Secrets Manager or SSM Parameter Store, or mount them at run time.",
    remediation: "Rotate the credential now. Then keep it out of the build context \
                  (`.dockerignore`), pass build-time credentials with `RUN --mount=type=secret` \
                  or `--mount=type=ssh`, and give the running task its secrets through the task \
                  definition's `secrets`.",
};

/// Name suffixes of key stores and certificates that may hold a private key.
const KEY_SUFFIXES: &[&str] = &[".pem", ".key", ".p12", ".pfx", ".kdbx"];

/// File names that only ever hold credentials.
const SECRET_NAMES: &[&str] = &[
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".netrc",
    ".env",
    ".dockercfg",
];

/// KeePass 2 databases start with these bytes.
const KDBX_MAGIC: &[u8] = &[0x03, 0xD9, 0xA2, 0x9A];

const SECRETS_SHOWN: usize = 5;

impl Rule for SecretFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.size > 0 && is_candidate(file) {
            Interest::Content
        } else {
            Interest::None
        }
    }

    fn check_file(&self, event: &FileEvent<'_>, out: &mut Findings) {
        let Some(content) = event.content else {
            return;
        };
        let path = &event.meta.path;
        // Binary key stores have no text to match: their format is the evidence.
        let binary = if path.ends_with(".kdbx") && content.starts_with(KDBX_MAGIC) {
            Some("KeePass password database")
        } else if (path.ends_with(".p12") || path.ends_with(".pfx"))
            && content.first() == Some(&0x30)
        {
            Some("PKCS#12 key store")
        } else {
            None
        };
        if let Some(kind) = binary {
            out.push(
                &META,
                Location::path(path),
                format!("{path} is a {kind} ({} bytes)", content.len()),
            );
            return;
        }

        let text = String::from_utf8_lossy(content);
        let found = find_secrets(&text);
        let Some(severity) = found.iter().map(|m| m.pattern.severity).max() else {
            return;
        };
        let mut evidence: Vec<String> = found
            .iter()
            .take(SECRETS_SHOWN)
            .map(|m| format!("{} {}", m.title(), redact(m.secret)))
            .collect();
        if found.len() > SECRETS_SHOWN {
            evidence.push(format!("{} more", found.len() - SECRETS_SHOWN));
        }
        out.push_with(
            &META,
            severity,
            Location::path(path),
            format!("{path} holds {}", evidence.join(", ")),
        );
    }
}

/// True for file names that credentials live in. Runs for every file, so it only compares strings.
fn is_candidate(file: &FileMeta) -> bool {
    let name = file.file_name();
    SECRET_NAMES.contains(&name)
        || name.starts_with(".env.")
        || KEY_SUFFIXES.iter().any(|s| name.ends_with(s))
        || (name == "credentials" && file.path.ends_with("/.aws/credentials"))
        || (name == "config.json" && file.path.ends_with("/.docker/config.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn run(path: &str, content: &str) -> Vec<String> {
        check_file(
            &SecretFile,
            &file(path, 0o600, content.len() as u64),
            content.as_bytes(),
        )
        .into_iter()
        .map(|f| f.message)
        .collect()
    }

    #[test]
    fn credential_files_with_secrets_are_reported_redacted() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAxxxxxxxxxxxxxxxx\n-----END OPENSSH PRIVATE KEY-----\n";
        assert_eq!(
            run("/root/.ssh/id_ed25519", key),
            ["/root/.ssh/id_ed25519 holds private key b3Bl***(40 chars)"]
        );
        let aws = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
        assert_eq!(
            run("/root/.aws/credentials", aws),
            [
                "/root/.aws/credentials holds AWS access key ID AKIA***(20 chars), AWS secret access key wJal***(40 chars)"
            ]
        );
        let npmrc = "//registry.npmjs.org/:_authToken=00000000-xxxx-xxxx-xxxx-000000000000\n";
        assert_eq!(run("/app/.npmrc", npmrc).len(), 1);
        assert_eq!(
            run("/app/.env.production", "DB_PASSWORD=hunter22\n").len(),
            1
        );
        assert_eq!(
            run(
                "/root/.docker/config.json",
                r#"{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNzd29yZA=="}}}"#
            )
            .len(),
            1
        );
    }

    #[test]
    fn certificates_public_keys_and_other_files_are_not() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIExxxxxxxxxxxxxxxx\n-----END CERTIFICATE-----\n";
        assert!(run("/etc/ssl/certs/ca.pem", cert).is_empty());
        assert!(
            run(
                "/app/server.key",
                "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFxxxxxxxxxxxx\n"
            )
            .is_empty()
        );
        assert!(
            run(
                "/root/.npmrc",
                "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
            )
            .is_empty()
        );
        assert!(
            run("/app/config.py", "PASSWORD = 'hunter22'\n").is_empty(),
            "not a credentials file name"
        );
        assert!(
            run(
                "/home/app/.config/credentials",
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            )
            .is_empty()
        );
    }
}
