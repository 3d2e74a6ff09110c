//! A bearer-token realm for `docker-registry`'s `auth: token`, the flow Docker Hub and most
//! hosted registries use: the registry answers 401 with `WWW-Authenticate: Bearer realm=…`, the
//! client fetches a JWT here and retries with it. Anyone gets the scope they ask for; the point
//! is the flow, and that no token is ever printed.

use super::run;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "layerguard-test-registry";
pub const ISSUER: &str = "layerguard-test-token-issuer";

/// The realm; tokens are RS256 JWTs whose `x5c` is a self-signed certificate the registry
/// trusts (`rootcertbundle`).
pub struct TokenServer {
    addr: SocketAddr,
    cert: PathBuf,
    issued: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    /// Makes the signing key and certificate in `dir` and starts answering on 127.0.0.1.
    pub fn start(dir: &Path) -> TokenServer {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args(["-subj", "/CN=layerguard test token signer"])
            .args(["-addext", "keyUsage=critical,digitalSignature,keyCertSign"]));
        let der = run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert));
        let x5c = STANDARD.encode(der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let issued = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&issued);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (key, x5c, record) = (key.clone(), x5c.clone(), Arc::clone(&record));
                std::thread::spawn(move || {
                    let _ = answer(stream, &key, &x5c, &record);
                });
            }
        });
        TokenServer { addr, cert, issued }
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The PEM certificate the registry must trust to accept the tokens.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// Every token handed out so far.
    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }
}

fn answer(
    stream: TcpStream,
    key: &Path,
    x5c: &str,
    issued: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    // The rest of the head is not needed: anyone may have any scope.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let access: Vec<serde_json::Value> = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("scope="))
        .filter_map(|scope| {
            // `repository:team/app:pull,push`; a name never holds a colon.
            let scope = percent_decode(scope);
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(serde_json::json!({
                "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()
            }))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({ "typ": "JWT", "alg": "RS256", "x5c": [x5c] });
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "", "aud": SERVICE, "exp": now + 600, "nbf": now - 60,
        "iat": now, "jti": format!("{now}-{}", issued.lock().unwrap().len()), "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let token = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sign(key, signing_input.as_bytes())?)
    );
    issued.lock().unwrap().push(token.clone());
    let body = serde_json::json!({
        "token": token, "access_token": token, "expires_in": 600
    })
    .to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// PKCS#1 v1.5 SHA-256 signature: what RS256 is.
fn sign(key: &Path, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(data)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(std::io::Error::other("openssl dgst -sign failed"));
    }
    Ok(out.stdout)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
