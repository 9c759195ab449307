//! The load generator: `concurrency` keep-alive HTTP/1.1 connections on std threads, each
//! sending the next pre-serialized request of a shared list as soon as the previous answer
//! is read in full. Latency is measured from the write to the last byte of the body.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// No single request may take longer than this (then it is a transport error).
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on requests per connection and phase, so no loop is unbounded even if the clock
/// misbehaves.
const MAX_REQUESTS_PER_CONNECTION: u64 = 50_000_000;

/// What to send.
#[derive(Clone)]
pub(crate) struct Load {
    pub(crate) addr: SocketAddr,
    /// Whole requests; connection `k` starts at a different offset and every request takes
    /// the next one (wrapping), so consecutive requests carry different tokens.
    pub(crate) requests: Arc<Vec<Vec<u8>>>,
    pub(crate) expected_status: u16,
    pub(crate) concurrency: usize,
    pub(crate) duration: Duration,
    /// Index of the first request to send (phases continue where the previous one stopped).
    pub(crate) start: usize,
}

/// What came back.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Responses with the expected status.
    pub(crate) expected: u64,
    /// Other statuses and how often.
    pub(crate) unexpected: BTreeMap<u16, u64>,
    /// Connections that failed (connect, write, read, malformed or timed-out responses).
    pub(crate) transport_errors: u64,
    /// Latency of every complete response, microseconds, sorted.
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) elapsed: Duration,
    /// Index after the last request taken (for the next phase's `start`).
    pub(crate) next: usize,
}

impl Outcome {
    /// Every complete response.
    pub(crate) fn responses(&self) -> u64 {
        self.expected + self.unexpected.values().sum::<u64>()
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.responses() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0..=1) of latency, in microseconds.
    pub(crate) fn quantile_us(&self, q: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.latencies_us
            .get(rank)
            .map_or(f64::NAN, |v| f64::from(*v))
    }
}

/// Runs `load` for its duration and returns what every connection saw.
pub(crate) fn run(load: &Load) -> Outcome {
    let next = Arc::new(AtomicUsize::new(load.start));
    let started = Instant::now();
    let deadline = started + load.duration;
    let handles: Vec<_> = (0..load.concurrency)
        .map(|_| {
            let load = load.clone();
            let next = Arc::clone(&next);
            thread::spawn(move || connection(&load, &next, deadline))
        })
        .collect();
    let mut total = Outcome::default();
    for handle in handles {
        match handle.join() {
            Ok(part) => {
                total.expected += part.expected;
                for (status, n) in part.unexpected {
                    *total.unexpected.entry(status).or_default() += n;
                }
                total.transport_errors += part.transport_errors;
                total.latencies_us.extend(part.latencies_us);
            }
            Err(_) => total.transport_errors += 1,
        }
    }
    total.elapsed = started.elapsed();
    total.next = next.load(Ordering::Relaxed);
    total.latencies_us.sort_unstable();
    total
}

fn connection(load: &Load, next: &AtomicUsize, deadline: Instant) -> Outcome {
    let mut out = Outcome::default();
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut sent = 0u64;
    while Instant::now() < deadline && sent < MAX_REQUESTS_PER_CONNECTION {
        sent += 1;
        let index = next.fetch_add(1, Ordering::Relaxed) % load.requests.len().max(1);
        let Some(request) = load.requests.get(index) else {
            break;
        };
        let reader = match conn.take() {
            Some(reader) => reader,
            None => match connect(load.addr) {
                Ok(reader) => reader,
                Err(_) => {
                    out.transport_errors += 1;
                    // Do not spin on a refused connection.
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        let begin = Instant::now();
        match exchange(reader, request) {
            Ok((status, reader)) => {
                let micros = u32::try_from(begin.elapsed().as_micros()).unwrap_or(u32::MAX);
                out.latencies_us.push(micros);
                if status == load.expected_status {
                    out.expected += 1;
                } else {
                    *out.unexpected.entry(status).or_default() += 1;
                }
                conn = reader;
            }
            Err(_) => out.transport_errors += 1,
        }
    }
    out
}

fn connect(addr: SocketAddr) -> io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(BufReader::with_capacity(16 * 1024, stream))
}

/// Sends one request and reads its response in full; returns the status and the connection
/// if it may be reused.
fn exchange(
    mut reader: BufReader<TcpStream>,
    request: &[u8],
) -> io::Result<(u16, Option<BufReader<TcpStream>>)> {
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no status line"))?;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut close = false;
    for _ in 0..200 {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the head"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| bad("bad content-length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if chunked {
        read_chunked(&mut reader, &mut line)?;
    } else if let Some(n) = length {
        io::copy(&mut (&mut reader).take(n), &mut io::sink())?;
    } else {
        io::copy(&mut reader, &mut io::sink())?;
        close = true;
    }
    Ok((status, if close { None } else { Some(reader) }))
}

fn read_chunked(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<()> {
    for _ in 0..100_000 {
        line.clear();
        reader.read_line(line)?;
        let size_text = line.trim_end().split(';').next().unwrap_or("");
        let size = u64::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line.
            for _ in 0..200 {
                line.clear();
                if reader.read_line(line)? == 0 || line.trim_end().is_empty() {
                    return Ok(());
                }
            }
            return Err(bad("too many trailers"));
        }
        io::copy(&mut reader.by_ref().take(size), &mut io::sink())?;
        line.clear();
        reader.read_line(line)?;
    }
    Err(bad("too many chunks"))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}
