//! A raw HTTP/1.1 client: writes the request line exactly as given (no path normalization, no
//! header rewriting), one request per connection (`Connection: close`), reads exactly the
//! response its framing announces, with a time limit so a hang fails instead of stalling.

use crate::keys;
use crate::origin::TRACE_HEADER;
use crate::wire;
use serde_json::Value;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a request may take in all before it counts as a hang (a failure, never a stall).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased, in order (repeated names kept).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The trace id the request carried, if it was sent with [`Request`].
    pub trace: Option<String>,
}

impl Response {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::find_header(&self.headers, name)
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `bytes` as they are and reads the response. A refusal to read everything (the peer
/// answering early and closing) still yields the response if one arrived.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> io::Result<Response> {
    send_raw_within(addr, bytes, TIMEOUT)
}

/// [`send_raw`] with another time limit per connect, write and read.
pub fn send_raw_within(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> io::Result<Response> {
    let head_only = bytes.starts_with(b"HEAD ");
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let write_result = stream.write_all(bytes).and_then(|()| stream.flush());
    // The response ends where its framing says, not at EOF: a runtime may keep the connection
    // open after answering while it finishes background work.
    match parse_response(&mut BufReader::new(&stream), head_only) {
        Ok(response) => Ok(response),
        // A peer that refused to read everything may have answered anyway; if not, the write
        // error is the better explanation.
        Err(read_error) => Err(write_result.err().unwrap_or(read_error)),
    }
}

fn parse_response(reader: &mut impl BufRead, head_only: bool) -> io::Result<Response> {
    let mut head = wire::read_head(reader)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "empty response"))?;
    // Skip interim 1xx responses.
    while head
        .first_line
        .split(' ')
        .nth(1)
        .is_some_and(|s| s.starts_with('1'))
    {
        head = wire::read_head(reader)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "only a 1xx response"))?;
    }
    let status = head
        .first_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {:?}", head.first_line),
            )
        })?;
    let body = if head_only || status == 204 || status == 304 {
        Vec::new()
    } else {
        wire::read_body(reader, &head, true)?
    };
    Ok(Response {
        status,
        headers: head.headers,
        body,
        trace: None,
    })
}

/// A request whose request line and headers go out exactly as given. Adds `Host` (unless
/// given), `Connection: close`, `Content-Length` (when there is a body) and a fresh trace id
/// header ([`TRACE_HEADER`]).
#[derive(Debug, Clone)]
pub struct Request {
    addr: SocketAddr,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Duration,
}

impl Request {
    /// A request for `target` (path and query, sent verbatim).
    pub fn new(addr: SocketAddr, method: &str, target: &str) -> Self {
        Self {
            addr,
            method: method.to_string(),
            target: target.to_string(),
            headers: Vec::new(),
            body: None,
            timeout: TIMEOUT,
        }
    }

    /// Sets the time limit (default [`TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds a header (name and value sent verbatim).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// Sets the body (sent with `Content-Length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The exact bytes this request sends, with `trace` as its trace id.
    pub fn to_bytes(&self, trace: &str) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("{TRACE_HEADER}: {trace}\r\nConnection: close\r\n"));
        if let Some(body) = &self.body {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_deref().unwrap_or_default());
        bytes
    }

    /// Sends the request; the response carries the trace id it was sent with.
    pub fn try_send(&self) -> io::Result<Response> {
        let trace = keys::random_id();
        let mut response = send_raw_within(self.addr, &self.to_bytes(&trace), self.timeout)?;
        response.trace = Some(trace);
        Ok(response)
    }

    /// Sends the request and reads only the response head, leaving the body to be read as it
    /// arrives ([`OpenResponse::read_until`]): for streamed responses.
    pub fn open(&self) -> io::Result<OpenResponse> {
        let trace = keys::random_id();
        let mut stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        stream.write_all(&self.to_bytes(&trace))?;
        stream.flush()?;
        let mut reader = BufReader::new(stream);
        let head = wire::read_head(&mut reader)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "empty response"))?;
        let status = head
            .first_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
        Ok(OpenResponse {
            status,
            headers: head.headers,
            trace,
            reader,
            received: Vec::new(),
        })
    }

    /// Sends the request; panics (failing the test) with the request line if no response came.
    pub fn send(&self) -> Response {
        match self.try_send() {
            Ok(response) => response,
            Err(e) => panic!("{} {}: no response: {e}", self.method, self.target),
        }
    }
}

/// A response whose body is read as it arrives (see [`Request::open`]).
#[derive(Debug)]
pub struct OpenResponse {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The trace id the request carried.
    pub trace: String,
    reader: BufReader<TcpStream>,
    received: Vec<u8>,
}

impl OpenResponse {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::find_header(&self.headers, name)
    }

    /// Reads the body as it comes (raw bytes: chunk framing included) until `needle` has been
    /// received; everything received so far. An error if the body ends or times out first.
    pub fn read_until(&mut self, needle: &[u8]) -> io::Result<&[u8]> {
        let mut buf = [0u8; 4096];
        while !self.received.windows(needle.len()).any(|w| w == needle) {
            let n = std::io::Read::read(&mut self.reader, &mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the body ended before {:?}; received {:?}",
                        String::from_utf8_lossy(needle),
                        String::from_utf8_lossy(&self.received)
                    ),
                ));
            }
            self.received
                .extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        Ok(&self.received)
    }
}

/// A `GET` with the given headers, sent verbatim.
pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> io::Result<Response> {
    request(addr, "GET", path, headers, None)
}

/// Any request, sent verbatim; `body` goes out with `Content-Length`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<Response> {
    let mut req = Request::new(addr, method, path);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    req.try_send()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::EchoOrigin;

    #[test]
    fn request_line_goes_out_verbatim_and_body_is_echoed() {
        let origin = EchoOrigin::start().unwrap();
        let r = Request::new(origin.addr(), "POST", "/x/../%2e%2e/a\\b?q=/health")
            .header("X-Odd", "v")
            .body("hello")
            .send();
        assert_eq!(r.status, 200);
        let seen = origin.traced(r.trace.as_deref().unwrap());
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, "/x/../%2e%2e/a\\b");
        assert_eq!(seen[0].query.as_deref(), Some("q=/health"));
        assert_eq!(seen[0].header("x-odd"), Some("v"));
        assert_eq!(seen[0].body, b"hello");
        assert_eq!(r.json()["path"], "/x/../%2e%2e/a\\b");
        assert_eq!(r.json()["body"], "hello");
    }

    #[test]
    fn chunked_request_bodies_are_read() {
        let origin = EchoOrigin::start().unwrap();
        let raw = b"PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = send_raw(origin.addr(), raw).unwrap();
        assert_eq!(r.json()["body"], "abcde");
        assert_eq!(origin.requests()[0].body, b"abcde");
        assert_eq!(origin.hits(), 1);
        origin.reset();
        assert_eq!(origin.hits(), 0);
    }

    #[test]
    fn parses_chunked_responses_and_head() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"x\"\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        let r = parse_response(&mut &raw[..], false).unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"x\""));
        assert_eq!(r.body, b"{}");
        let r = parse_response(
            &mut &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..],
            true,
        )
        .unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn a_response_ends_at_its_framing_even_if_the_connection_stays_open() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
            std::thread::sleep(Duration::from_secs(5));
        });
        let started = std::time::Instant::now();
        let r = get(addr, "/", &[]).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (401, &b"{}"[..]));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_silent_peer_is_an_error_not_a_stall() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            drop(conn);
        });
        assert!(get(addr, "/", &[]).is_err());
    }
}
