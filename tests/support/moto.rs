//! A real moto server for the ECR, ECS, KMS and S3 APIs (`tests/support/moto_server.py`), on a
//! free loopback port, stopped when dropped; repositories, buckets and task definitions are
//! created on it with boto3 (`tests/support/moto_setup.py`).

use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// The Python that has moto: `LAYERGUARD_MOTO_PYTHON` (`.ci/test` sets it), else the venv
/// `.ci/test` installs it into.
pub fn python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("LAYERGUARD_MOTO_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(python));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python");
    let has_moto = Command::new(&venv)
        .args(["-c", "import moto"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    has_moto.then_some(venv)
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

impl Moto {
    /// Starts moto, or says why not and returns `None` when no Python with moto is found
    /// outside CI (in CI that is a failure).
    pub fn start(test: &str) -> Option<Moto> {
        Moto::start_with(test, &[])
    }

    /// [`Moto::start`] with settings for the launcher (`LAYERGUARD_MOTO_THROTTLE`).
    #[allow(clippy::disallowed_macros)] // Says why it skipped, the one thing it prints.
    pub fn start_with(test: &str, env: &[(&str, &str)]) -> Option<Moto> {
        let Some(python) = python() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: no Python with moto (set LAYERGUARD_MOTO_PYTHON or run .ci/test)"
            );
            eprintln!(
                "SKIPPED {test}: no Python with moto (set LAYERGUARD_MOTO_PYTHON, or run \
                 .ci/test, which installs it from PyPI)"
            );
            return None;
        };
        // Free now; moto binds it a moment later, and a loser of that race fails loudly below.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut child = Command::new(&python)
            .arg(script("moto_server.py"))
            .arg(port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        // Generous: moto imports for seconds, and tests start several at once on a busy machine.
        let deadline = Instant::now() + Duration::from_secs(180);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = child.try_wait().expect("moto's status") {
                panic!("moto exited before listening on {addr}: {status}");
            }
            assert!(Instant::now() < deadline, "moto did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto {
            child,
            endpoint: format!("http://{addr}"),
        })
    }

    /// Creates what `spec` describes (see `moto_setup.py`) and returns what was created.
    pub fn setup(&self, spec: &Value) -> Value {
        let python = python().expect("moto is running, so its Python exists");
        let mut child = Command::new(python)
            .arg(script("moto_setup.py"))
            .arg(&self.endpoint)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run moto_setup.py");
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), spec.to_string().as_bytes())
            .unwrap();
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "moto_setup.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("moto_setup.py prints JSON")
    }

    /// Writes an object to moto's S3 with boto3, behind layerguard's back.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let script = "import sys, boto3
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',
                  aws_access_key_id='testing', aws_secret_access_key='testing')
s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=sys.stdin.buffer.read())";
        let mut child = Command::new(python().unwrap())
            .args(["-c", script, &self.endpoint, bucket, key])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), body).unwrap();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success(), "put {key}");
    }

    /// The binary under test with exactly this server's AWS environment (nothing of the
    /// developer's AWS or Docker login leaks in).
    pub fn layerguard(&self) -> assert_cmd::Command {
        let mut cmd = super::layerguard();
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "DOCKER_CONFIG",
                std::env::temp_dir().join("no-docker-config-here"),
            );
        cmd
    }

    /// The environment the AWS SDK needs to talk to this server and nothing else: test
    /// credentials and the endpoint override for every service.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }
}

/// The AWS variables of this process, for a child's environment to drop, and the settings that
/// keep the SDK in a child from reading the user's files or asking an instance for credentials.
pub fn aws_isolation() -> (Vec<std::ffi::OsString>, [(&'static str, &'static str); 3]) {
    let inherited = std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| key.to_string_lossy().starts_with("AWS_"))
        .collect();
    let isolation = [
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    (inherited, isolation)
}

/// Runs the ignored test `name` of this test binary in a child process whose AWS
/// environment is exactly `env`: the SDK reads its settings from the environment, and changing
/// this process' environment while other tests run is not safe. Panics with the child's
/// output when it fails.
pub fn run_test_with_env(name: &str, env: &[(&str, String)]) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args(["--ignored", "--exact", name, "--nocapture"]);
    let (inherited, isolation) = aws_isolation();
    for key in inherited {
        cmd.env_remove(key);
    }
    cmd.envs(isolation).envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in moto's environment:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
