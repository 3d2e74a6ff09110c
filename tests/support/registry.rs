//! Real OCI distribution registries for the registry-source tests: Debian's `docker-registry`
//! on 127.0.0.1: plain HTTP and anonymous, TLS with a CA made here and htpasswd basic auth, or
//! plain HTTP behind a bearer-token realm.
//! Images go in with `skopeo copy` and `docker push`, as users put them there.

use super::run;
use super::token_auth::{self, TokenServer};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The account of the TLS registry.
pub const USERNAME: &str = "lgreg-user";
/// Distinctive, so a test can prove it never reaches any output.
pub const PASSWORD: &str = "Pw-lgreg-9c4e1f77-never-print";

/// Media types a pull asks for, so the registry returns the manifest as pushed.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
                      application/vnd.oci.image.manifest.v1+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json, \
                      application/vnd.docker.distribution.manifest.v2+json";

/// A running registry; stopped (and waited for) on drop.
pub struct Registry {
    /// The login htpasswd accepts (TLS registries only).
    login: (String, String),
    addr: SocketAddr,
    tls: Option<Tls>,
    token: Option<TokenServer>,
    process: Process,
    dir: tempfile::TempDir,
}

/// What a client needs to reach the TLS registry.
pub struct Tls {
    /// PEM file of the CA that signed the server certificate.
    pub ca_cert: PathBuf,
    /// A directory holding only `ca.crt`, in the form `skopeo --*-cert-dir` wants.
    pub cert_dir: PathBuf,
}

/// `docker-registry` under a wrapper shell in its own process group. The shell stops the
/// registry when its standard input closes, which happens on drop and also when the test binary
/// dies without unwinding (a registry in a `static` is never dropped), so no registry outlives
/// the tests.
struct Process {
    shell: Child,
    lifeline: Option<ChildStdin>,
}

impl Process {
    fn spawn(config: &Path, log: &Path) -> Process {
        let mut shell = Command::new("sh")
            .args([
                "-c",
                r#"docker-registry serve "$1" </dev/null >"$2" 2>&1 & pid=$!
                   read -r _ || true
                   kill "$pid" 2>/dev/null
                   wait "$pid""#,
                "sh",
            ])
            .arg(config)
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start docker-registry (Debian package docker-registry)");
        let lifeline = shell.stdin.take();
        Process { shell, lifeline }
    }

    fn exited(&mut self) -> bool {
        matches!(self.shell.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exited() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The group id is the shell's pid (process_group(0)); the registry is in it.
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(format!("-{}", self.shell.id()))
            .status();
        let _ = self.shell.wait();
    }
}

impl Registry {
    /// A plain-HTTP registry without authentication.
    pub fn plain() -> Registry {
        Registry::start(Kind::Plain)
    }

    /// A registry behind TLS (a certificate for 127.0.0.1 and `localhost` from a fresh CA)
    /// that requires basic auth as [`USERNAME`] / [`PASSWORD`] (bcrypt htpasswd).
    pub fn tls_basic_auth() -> Registry {
        Registry::tls_basic_auth_as(USERNAME, PASSWORD)
    }

    /// The same with another login: ECR's data plane is user `AWS` with the token as password.
    pub fn tls_basic_auth_as(username: &str, password: &str) -> Registry {
        Registry::start_with(
            Kind::TlsBasicAuth,
            (username.to_owned(), password.to_owned()),
        )
    }

    /// A plain-HTTP registry that wants a bearer token from [`Registry::token_server`], which
    /// hands one to anybody, as Docker Hub does for public images.
    pub fn plain_token() -> Registry {
        Registry::start(Kind::Token)
    }

    fn start(kind: Kind) -> Registry {
        Registry::start_with(kind, (USERNAME.to_owned(), PASSWORD.to_owned()))
    }

    fn start_with(kind: Kind, login: (String, String)) -> Registry {
        let mut dir = tempfile::tempdir().unwrap();
        let mut token = (kind == Kind::Token).then(|| TokenServer::start(dir.path()));
        let mut tls = (kind == Kind::TlsBasicAuth).then(|| {
            write_certificates(dir.path());
            let htpasswd = run(Command::new("htpasswd").args(["-Bbn", &login.0, &login.1]));
            std::fs::write(dir.path().join("htpasswd"), htpasswd).unwrap();
            let cert_dir = dir.path().join("certs.d");
            std::fs::create_dir(&cert_dir).unwrap();
            std::fs::copy(dir.path().join("ca.crt"), cert_dir.join("ca.crt")).unwrap();
            Tls {
                ca_cert: dir.path().join("ca.crt"),
                cert_dir,
            }
        });
        let config = dir.path().join("config.yml");
        let log = dir.path().join("registry.log");
        // A free port is found by binding and releasing it, so another process may take it
        // first: then the registry cannot listen and starts again on another port.
        let mut last_log = String::new();
        for _ in 0..5 {
            let addr = free_port();
            std::fs::write(&config, config_yaml(dir.path(), addr, kind, token.as_ref())).unwrap();
            let _ = std::fs::remove_file(&log);
            let process = Process::spawn(&config, &log);
            let mut registry = Registry {
                login: login.clone(),
                addr,
                tls,
                token,
                process,
                dir,
            };
            if registry.wait_ready() {
                return registry;
            }
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                last_log.contains("address already in use"),
                "docker-registry did not start:\n{last_log}"
            );
            let Registry {
                tls: t,
                token: k,
                dir: d,
                ..
            } = registry;
            (tls, token, dir) = (t, k, d);
        }
        panic!("docker-registry found no free port:\n{last_log}");
    }

    /// Polls `/v2/` until it answers: 200 when anonymous, 401 with auth.
    fn wait_ready(&mut self) -> bool {
        let log = self.dir.path().join("registry.log");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.process.exited() {
                return false;
            }
            let code = self.status("GET", "/v2/", false);
            if code == 200 || code == 401 {
                return true;
            }
            if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("address already in use")) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// `127.0.0.1:PORT`, the registry part of a reference.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `host/repository[:tag|@digest]`.
    pub fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.host())
    }

    /// The base URL, `http://…` or `https://…`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }

    /// The realm of a [`Registry::plain_token`] registry.
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// The registry's own log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// curl set up to trust this registry's CA and, when `auth`, to log in.
    fn curl(&self, auth: bool) -> Command {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--max-time", "10"]);
        if let Some(tls) = &self.tls {
            cmd.arg("--cacert").arg(&tls.ca_cert);
            if auth {
                cmd.args(["--user", &format!("{}:{}", self.login.0, self.login.1)]);
            }
        }
        cmd
    }

    /// The HTTP status of one request to `path` (0 when there was no answer).
    pub fn status(&self, method: &str, path: &str, auth: bool) -> u16 {
        let out = self
            .curl(auth)
            .args(["-o", "/dev/null", "-w", "%{http_code}", "-X", method])
            .args(["-H", &format!("Accept: {ACCEPT}")])
            .arg(self.url(path))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0)
    }

    /// The body of a successful GET of `path`.
    pub fn get(&self, path: &str) -> Vec<u8> {
        run(self
            .curl(true)
            .args(["--fail", "-H", &format!("Accept: {ACCEPT}")])
            .arg(self.url(path)))
    }

    /// The manifest (or index) `reference` (a tag or digest) of `repository`, as JSON.
    pub fn manifest(&self, repository: &str, reference: &str) -> Value {
        let body = self.get(&format!("/v2/{repository}/manifests/{reference}"));
        serde_json::from_slice(&body).expect("manifest JSON")
    }

    /// The `Docker-Content-Digest` the registry answers for `repository:reference`.
    pub fn manifest_digest(&self, repository: &str, reference: &str) -> String {
        let headers = run(self
            .curl(true)
            .args(["--fail", "-I", "-H", &format!("Accept: {ACCEPT}")])
            .arg(self.url(&format!("/v2/{repository}/manifests/{reference}"))));
        String::from_utf8_lossy(&headers)
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("docker-content-digest")
                    .then(|| value.trim().to_owned())
            })
            .expect("Docker-Content-Digest header")
    }

    /// `skopeo copy [extra…] SOURCE docker://HOST/DEST` (`DEST` is `repository:tag`), with the
    /// TLS and credential flags this registry needs. Returns the pushed manifest's digest.
    /// `extra` takes e.g. `--all`, `--format oci`, `--dest-compress-format zstd`.
    pub fn skopeo_copy(&self, source: &str, dest: &str, extra: &[&str]) -> String {
        let digest_file = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--quiet", "--retry-times", "2"])
            .arg("--digestfile")
            .arg(digest_file.path());
        match &self.tls {
            None => {
                cmd.arg("--dest-tls-verify=false");
            }
            Some(tls) => {
                cmd.arg("--dest-cert-dir").arg(&tls.cert_dir).args([
                    "--dest-creds",
                    &format!("{}:{}", self.login.0, self.login.1),
                ]);
            }
        }
        cmd.args(extra)
            .arg(source)
            .arg(format!("docker://{}", self.reference(dest)));
        run(&mut cmd);
        let digest = std::fs::read_to_string(digest_file.path()).unwrap();
        let digest = digest.trim().to_owned();
        assert!(
            digest.starts_with("sha256:"),
            "skopeo digest file: {digest:?}"
        );
        digest
    }

    /// `docker tag LOCAL HOST/DEST`, `docker push`, `docker rmi` of that tag: the Docker Engine
    /// pushes to a loopback registry over plain HTTP without any configuration. Only for
    /// [`Registry::plain`]. Returns the pushed manifest's digest.
    pub fn docker_push(&self, local: &str, dest: &str) -> String {
        assert!(self.tls.is_none(), "docker push needs the plain registry");
        let (repository, tag) = dest.rsplit_once(':').expect("DEST is repository:tag");
        let target = self.reference(dest);
        run(Command::new("docker").args(["tag", local, &target]));
        let pushed = Command::new("docker")
            .args(["push", "--quiet", &target])
            .output()
            .expect("run docker push");
        run(Command::new("docker").args(["rmi", &target]));
        assert!(
            pushed.status.success(),
            "docker push {target}: {}",
            String::from_utf8_lossy(&pushed.stderr)
        );
        self.manifest_digest(repository, tag)
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    TlsBasicAuth,
    Token,
}

fn config_yaml(dir: &Path, addr: SocketAddr, kind: Kind, token: Option<&TokenServer>) -> String {
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\n  secret: layerguard-test-secret\n",
        root = dir.join("storage").display(),
    );
    if let Some(token) = token {
        yaml.push_str(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    \
             rootcertbundle: {cert}\n",
            realm = token.realm(),
            service = token_auth::SERVICE,
            issuer = token_auth::ISSUER,
            cert = token.cert().display(),
        ));
    }
    if kind == Kind::TlsBasicAuth {
        yaml.push_str(&format!(
            "  tls:\n    certificate: {cert}\n    key: {key}\n\
             auth:\n  htpasswd:\n    realm: layerguard-test\n    path: {htpasswd}\n",
            cert = dir.join("server.crt").display(),
            key = dir.join("server.key").display(),
            htpasswd = dir.join("htpasswd").display(),
        ));
    }
    yaml
}

/// `ca.crt`/`ca.key` and a `server.crt`/`server.key` for 127.0.0.1 and localhost signed by it.
/// P-256 keys: quick to make, and every TLS stack takes them.
fn write_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        run(Command::new("openssl").current_dir(dir).args(args));
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let ca = format!("req -x509 {ec} -keyout ca.key -out ca.crt -days 7");
    let mut args: Vec<&str> = ca.split(' ').collect();
    args.extend([
        "-subj",
        "/CN=layerguard test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&args);
    let csr = format!("req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1");
    openssl(&csr.split(' ').collect::<Vec<_>>());
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    let sign = "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 7 \
                -extfile server.ext -out server.crt";
    openssl(&sign.split_whitespace().collect::<Vec<_>>());
}
