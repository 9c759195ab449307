//! A tiny threaded HTTP/1.1 server on 127.0.0.1 for the identity provider and the echo origin:
//! one thread per connection, keep-alive honoured, stopped on drop.

use crate::wire::{self, Head};
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// A request as it arrived: request line split into its three parts, headers lowercased.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// What a handler wants done with a request.
pub(crate) enum Reply {
    /// Send this serialized response.
    Bytes(Vec<u8>),
    /// Close the connection without answering (a dead upstream).
    Hangup,
    /// Let this function write the whole response (for bodies too large to build first, or
    /// sent in pieces), then close the connection. Writes time out after 10 s, so a peer that
    /// stops reading ends it.
    Stream(WriteResponse),
}

/// Writes a whole response to the connection.
pub(crate) type WriteResponse = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

pub(crate) type Handler = dyn Fn(Incoming) -> Reply + Send + Sync;

/// A running server; dropping it stops accepting connections.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves `handler` on background threads.
    pub(crate) fn start(name: &str, handler: Arc<Handler>) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let handler = Arc::clone(&handler);
                    // A failed connection only affects the request that used it.
                    let _ = thread::Builder::new()
                        .name("conn".into())
                        .spawn(move || serve(conn, &*handler));
                }
            })?;
        Ok(Self { addr, stop })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(conn: TcpStream, handler: &Handler) {
    // An idle keep-alive connection must not pin a thread forever.
    let _ = conn.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let Ok(Some(head)) = wire::read_head(&mut reader) else {
            return;
        };
        let Ok(body) = wire::read_body(&mut reader, &head, false) else {
            return;
        };
        let close = wants_close(&head);
        let head_request = head.first_line.starts_with("HEAD ");
        let Some(incoming) = split(head, body) else {
            return;
        };
        match handler(incoming) {
            Reply::Hangup => return,
            Reply::Stream(write) => {
                let _ = writer.set_write_timeout(Some(Duration::from_secs(10)));
                let _ = write(&mut writer);
                return;
            }
            Reply::Bytes(bytes) => {
                // A response to HEAD has no body (RFC 9110 §9.3.2); bytes after the head would
                // be read as the start of the next response on a kept-alive connection.
                let bytes = if head_request {
                    head_only(&bytes)
                } else {
                    &bytes
                };
                if writer.write_all(bytes).is_err() || close {
                    return;
                }
            }
        }
    }
}

/// The status line and headers of a serialized response, without its body.
fn head_only(response: &[u8]) -> &[u8] {
    match response.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => response.get(..end + 4).unwrap_or(response),
        None => response,
    }
}

fn wants_close(head: &Head) -> bool {
    head.header("connection")
        .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        || head.first_line.ends_with("HTTP/1.0")
}

fn split(head: Head, body: Vec<u8>) -> Option<Incoming> {
    let mut parts = head.first_line.splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    Some(Incoming {
        method,
        target,
        headers: head.headers,
        body,
    })
}
