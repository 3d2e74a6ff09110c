//! An HTTP/1.1 proxy in front of a plain registry that breaks blob downloads on purpose, the
//! way networks and overloaded registries do. Everything else (and `Range` headers) is relayed
//! unchanged, one request per connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What happens to the first `times` GETs of each blob (counted per blob, so every layer and the
/// config meet the fault); later GETs are relayed unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Relay everything.
    None,
    /// `500 Internal Server Error` without asking the registry.
    ServerError { times: usize },
    /// `429 Too Many Requests` with `Retry-After: <retry_after>` (seconds).
    TooManyRequests { times: usize, retry_after: u64 },
    /// The registry's headers and the first half of its body, then the connection is closed.
    CutHalfway { times: usize },
    /// The headers and the first half of the body, then silence for `secs` before closing.
    Stall { times: usize, secs: u64 },
    /// The whole body with its middle byte inverted: right length, wrong bytes.
    FlipByte { times: usize },
    /// `307` to the blob's "storage" on another host name (`localhost` for `127.0.0.1`), with a
    /// signature in the query as ECR's S3 URLs have; the storage answers `storage_status`, or
    /// the blob itself when that is 200.
    Redirect { times: usize, storage_status: u16 },
}

/// The query the redirect adds: what must never reach a terminal.
pub const REDIRECT_SIGNATURE: &str = "X-Amz-Signature=f00dfeedsignature";

impl Fault {
    fn times(self) -> usize {
        match self {
            Fault::None => 0,
            Fault::ServerError { times }
            | Fault::TooManyRequests { times, .. }
            | Fault::CutHalfway { times }
            | Fault::Stall { times, .. }
            | Fault::FlipByte { times }
            | Fault::Redirect { times, .. } => times,
        }
    }
}

/// One request the proxy answered.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target, e.g. `/v2/app/blobs/sha256:…`.
    pub path: String,
    /// The `Range` header the client sent.
    pub range: Option<String>,
    /// The status sent back (the registry's, or the injected one).
    pub status: u16,
    /// Whether the fault was applied to this request.
    pub faulted: bool,
    /// Whether it carried an `Authorization` header.
    pub authorized: bool,
}

impl Request {
    pub fn is_blob_get(&self) -> bool {
        self.method == "GET" && is_blob_path(&self.path)
    }
}

struct Shared {
    upstream: SocketAddr,
    fault: Mutex<Fault>,
    /// GETs seen so far per blob path.
    seen: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Request>>,
    stop: AtomicBool,
    /// Ask for Basic credentials (any will do) before relaying registry requests, so the client
    /// has a credential it must not send elsewhere.
    challenge: bool,
}

/// The proxy; its threads end on drop (a stalled response within 100 ms).
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and relays to `upstream`.
    pub fn start(upstream: SocketAddr, fault: Fault) -> FaultProxy {
        FaultProxy::start_with(upstream, fault, false)
    }

    /// [`FaultProxy::start`], asking for Basic credentials first when `challenge` is set.
    pub fn start_with(upstream: SocketAddr, fault: Fault, challenge: bool) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            fault: Mutex::new(fault),
            seen: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            challenge,
        });
        let accept = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let shared = Arc::clone(&accept);
                std::thread::spawn(move || {
                    // A client that goes away mid-answer is what several faults provoke.
                    let _ = serve(&shared, client);
                });
            }
        });
        FaultProxy { addr, shared }
    }

    /// `127.0.0.1:PORT`, the registry part of a reference through the proxy.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the fault and starts counting each blob's GETs afresh.
    pub fn set_fault(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
        self.shared.seen.lock().unwrap().clear();
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The blob GETs answered so far.
    pub fn blob_gets(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(Request::is_blob_get)
            .collect()
    }

    /// How many requests got the fault.
    pub fn faults_injected(&self) -> usize {
        self.requests().iter().filter(|r| r.faulted).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn is_blob_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    path.starts_with("/v2/") && path.contains("/blobs/sha256:") && !path.contains("/uploads/")
}

struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(Some(Head {
        method,
        target,
        headers,
    }))
}

fn serve(shared: &Shared, mut client: TcpStream) -> std::io::Result<()> {
    // Clients try HTTPS first on a loopback registry; answer as a plain HTTP server does, at
    // once, so they fall back instead of waiting for a handshake.
    let mut first = [0u8; 1];
    if client.peek(&mut first)? == 1 && first[0] == 0x16 {
        client.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")?;
        return client.shutdown(Shutdown::Both);
    }
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(head) = read_head(&mut reader)? else {
        return Ok(());
    };
    let mut body = Vec::new();
    if let Some(len) = head
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok())
    {
        reader.by_ref().take(len).read_to_end(&mut body)?;
    }

    let authorized = head.header("authorization").is_some();
    // The storage a redirect sent the client to: the blob from the registry, unless the test
    // wants the storage to refuse.
    if let Some(blob) = head.target.strip_prefix("/storage") {
        let blob = blob.split('?').next().unwrap_or(blob).to_owned();
        let storage_status = match *shared.fault.lock().unwrap() {
            Fault::Redirect { storage_status, .. } => storage_status,
            _ => 200,
        };
        shared.log.lock().unwrap().push(Request {
            method: head.method.clone(),
            path: head.target.clone(),
            range: head.header("range").map(str::to_owned),
            status: storage_status,
            faulted: false,
            authorized,
        });
        if storage_status != 200 {
            return write_error(&mut client, &format!("{storage_status} Refused"), &[]);
        }
        let relayed = Head {
            method: head.method.clone(),
            target: blob,
            headers: head.headers.clone(),
        };
        let (_, response_head, response_body) = forward(shared.upstream, &relayed, &body)?;
        client.write_all(&response_head)?;
        client.write_all(&response_body)?;
        return client.flush();
    }
    if shared.challenge && !authorized && head.target.starts_with("/v2/") {
        shared.log.lock().unwrap().push(Request {
            method: head.method.clone(),
            path: head.target.clone(),
            range: None,
            status: 401,
            faulted: false,
            authorized,
        });
        return write_error(
            &mut client,
            "401 Unauthorized",
            &[("WWW-Authenticate", "Basic realm=\"test\"")],
        );
    }

    let blob_get = head.method == "GET" && is_blob_path(&head.target);
    let fault = *shared.fault.lock().unwrap();
    let faulted = blob_get && {
        let mut seen = shared.seen.lock().unwrap();
        let n = seen.entry(head.target.clone()).or_default();
        *n += 1;
        *n <= fault.times()
    };
    let fault = if faulted { fault } else { Fault::None };
    let record = |status: u16| {
        shared.log.lock().unwrap().push(Request {
            method: head.method.clone(),
            path: head.target.clone(),
            range: head.header("range").map(str::to_owned),
            status,
            faulted,
            authorized,
        });
    };

    match fault {
        Fault::ServerError { .. } => {
            record(500);
            return write_error(&mut client, "500 Internal Server Error", &[]);
        }
        Fault::Redirect { .. } => {
            record(307);
            let port = client.local_addr()?.port();
            let location = format!(
                "http://localhost:{port}/storage{}?{REDIRECT_SIGNATURE}",
                head.target
            );
            let redirect = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Docker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n\r\n"
            );
            client.write_all(redirect.as_bytes())?;
            return client.flush();
        }
        Fault::TooManyRequests { retry_after, .. } => {
            record(429);
            let after = retry_after.to_string();
            return write_error(
                &mut client,
                "429 Too Many Requests",
                &[("Retry-After", after.as_str())],
            );
        }
        _ => {}
    }

    let (status, response_head, response_body) = forward(shared.upstream, &head, &body)?;
    record(status);
    let has_body = matches!(status, 200 | 206) && !response_body.is_empty();
    match fault {
        Fault::CutHalfway { .. } if has_body => {
            client.write_all(&response_head)?;
            client.write_all(&response_body[..response_body.len() / 2])?;
            client.flush()?;
            client.shutdown(Shutdown::Both)
        }
        Fault::Stall { secs, .. } if has_body => {
            client.write_all(&response_head)?;
            client.write_all(&response_body[..response_body.len() / 2])?;
            client.flush()?;
            let until = Instant::now() + Duration::from_secs(secs);
            while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            client.shutdown(Shutdown::Both)
        }
        Fault::FlipByte { .. } if has_body => {
            let mut wrong = response_body;
            let middle = wrong.len() / 2;
            wrong[middle] ^= 0xff;
            client.write_all(&response_head)?;
            client.write_all(&wrong)?;
            client.flush()
        }
        _ => {
            client.write_all(&response_head)?;
            client.write_all(&response_body)?;
            client.flush()
        }
    }
}

/// Sends the request upstream with `Connection: close` and reads the whole answer. Returns the
/// status, the head to send on (ending in the blank line, with `Connection: close`) and the
/// body bytes as they came (chunked stays chunked).
fn forward(
    upstream: SocketAddr,
    head: &Head,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>, Vec<u8>)> {
    let mut up = TcpStream::connect(upstream)?;
    let mut request = format!("{} {} HTTP/1.1\r\n", head.method, head.target);
    for (name, value) in &head.headers {
        if !is_hop_by_hop(name) {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    up.write_all(request.as_bytes())?;
    up.write_all(body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;

    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no response head from the registry"))?;
    let head_text = String::from_utf8_lossy(&answer[..split]).into_owned();
    let response_body = answer[split + 4..].to_vec();
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut out = format!("{status_line}\r\n");
    for line in lines {
        let name = line.split(':').next().unwrap_or_default();
        if !is_hop_by_hop(name) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    Ok((status, out.into_bytes(), response_body))
}

fn is_hop_by_hop(name: &str) -> bool {
    ["connection", "keep-alive", "proxy-connection"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// An error in the registry's JSON error format.
fn write_error(
    client: &mut TcpStream,
    status: &str,
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let body =
        r#"{"errors":[{"code":"UNAVAILABLE","message":"fault injected by the test proxy"}]}"#;
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Docker-Distribution-Api-Version: registry/2.0\r\nConnection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    client.write_all(body.as_bytes())?;
    client.flush()
}
