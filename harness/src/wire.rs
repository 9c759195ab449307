//! HTTP/1.1 message framing shared by the raw client and the local servers: head parsing,
//! `Content-Length` and `chunked` bodies. Test tooling only: it assumes well-behaved peers and
//! reports anything else as an I/O error rather than guessing.

use std::io::{self, BufRead, Read};

/// Largest head (request/status line plus headers) accepted, so a confused peer cannot make a
/// test allocate without bound.
const MAX_HEAD: usize = 4 * 1024 * 1024;

/// A parsed message head: the first line and the headers, names lowercased, in order.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) first_line: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header (name case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The first value of `name` (case-insensitive) in a lowercased header list.
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one line ending in CRLF (or LF), without the line ending. `Ok(None)` at a clean EOF.
fn read_line(reader: &mut impl BufRead, budget: &mut usize) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(u64::try_from(*budget).unwrap_or(u64::MAX))
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    *budget = budget.saturating_sub(n);
    if buf.last() != Some(&b'\n') {
        return Err(bad("message head too long or truncated"));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    // Latin-1 keeps every byte visible, so a test can still see odd bytes a peer sent.
    Ok(Some(buf.iter().map(|&b| char::from(b)).collect()))
}

/// Reads a message head. `Ok(None)` when the peer closed before sending anything.
pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut budget = MAX_HEAD;
    let Some(first_line) = read_line(reader, &mut budget)? else {
        return Ok(None);
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut budget)?.ok_or_else(|| bad("EOF inside headers"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("header line without a colon: {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Some(Head {
        first_line,
        headers,
    }))
}

/// Reads the body that `head` announces: chunked, by `Content-Length`, or (when `to_eof`) all
/// that remains; otherwise none.
pub(crate) fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    to_eof: bool,
) -> io::Result<Vec<u8>> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(reader);
    }
    if let Some(len) = head.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| bad(format!("bad Content-Length {len:?}")))?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        return Ok(body);
    }
    let mut body = Vec::new();
    if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Decodes a `chunked` body, skipping chunk extensions and trailers.
pub(crate) fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut budget = MAX_HEAD;
    loop {
        let line = read_line(reader, &mut budget)?.ok_or_else(|| bad("EOF inside chunked body"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| bad(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while let Some(trailer) = read_line(reader, &mut budget)? {
                if trailer.is_empty() {
                    break;
                }
            }
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(body.get_mut(start..).unwrap_or_default())?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(bad("chunk not followed by CRLF"));
        }
    }
}

/// Serializes a response with a `Content-Length` body.
pub(crate) fn response_bytes(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serializes a response head announcing a `chunked` body (no `Content-Length`).
pub(crate) fn chunked_head(status: u16, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Transfer-Encoding: chunked\r\n\r\n");
    out.into_bytes()
}

/// One chunk of a `chunked` body; an empty `data` is the last chunk, which ends the body.
pub(crate) fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    // After the last chunk, the CRLF ends the (empty) trailer section.
    out.extend_from_slice(b"\r\n");
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn head_and_chunked_body() {
        let raw = b"POST /a?b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: t\r\n\r\nNEXT";
        let mut r = Cursor::new(&raw[..]);
        let head = read_head(&mut r).unwrap().unwrap();
        assert_eq!(head.first_line, "POST /a?b HTTP/1.1");
        assert_eq!(head.header("HOST"), Some("x"));
        assert_eq!(read_body(&mut r, &head, false).unwrap(), b"Wikipedia");
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "NEXT");
    }

    #[test]
    fn chunked_responses_read_back() {
        let mut raw = chunked_head(200, &[("X-A", "b".to_string())]);
        for data in [&b"Wiki"[..], b"pedia", b""] {
            raw.extend_from_slice(&chunk(data));
        }
        let mut r = Cursor::new(&raw[..]);
        let head = read_head(&mut r).unwrap().unwrap();
        assert_eq!(head.header("content-length"), None);
        assert_eq!(head.header("x-a"), Some("b"));
        assert_eq!(read_body(&mut r, &head, false).unwrap(), b"Wikipedia");
        assert_eq!(r.position() as usize, raw.len());
    }

    #[test]
    fn content_length_body_and_clean_eof() {
        let raw = b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabcdef";
        let mut r = Cursor::new(&raw[..]);
        let head = read_head(&mut r).unwrap().unwrap();
        assert_eq!(read_body(&mut r, &head, true).unwrap(), b"abc");
        assert!(read_head(&mut Cursor::new(&b""[..])).unwrap().is_none());
    }

    #[test]
    fn malformed_input_is_an_error() {
        let mut r = Cursor::new(&b"GET / HTTP/1.1\r\nno colon\r\n\r\n"[..]);
        assert!(read_head(&mut r).is_err());
        let mut r = Cursor::new(&b"zz\r\n"[..]);
        assert!(read_chunked(&mut r).is_err());
    }
}
