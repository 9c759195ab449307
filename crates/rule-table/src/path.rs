//! Request path normalization: one canonical form that is both matched and forwarded.
//!
//! The decoder is hand-written rather than built on `percent-encoding`: that crate is
//! deliberately lenient (it passes invalid escapes through and decodes everything), while
//! here every escape must be classified byte by byte (decode, keep, or reject) and
//! multi-byte escapes must be validated as UTF-8.

use std::fmt;

/// Longest raw or normalized path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 8 * 1024;

/// A request path in canonical form (see the crate docs for the rules).
///
/// It is what the rules are matched against and what gets forwarded to the origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedPath {
    /// Canonical text, e.g. `/admin/caf%C3%A9/`.
    text: String,
    /// Percent-decoded segment values joined by `/` (never contains an encoded `/`).
    decoded: String,
    /// Byte ranges of each segment in `decoded`, trailing empty segment excluded.
    segments: Vec<(usize, usize)>,
}

impl NormalizedPath {
    /// The canonical path text (forward exactly this).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of segments used for matching (a trailing slash adds none).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The percent-decoded value of segment `i` (0-based), if there is one.
    pub fn segment(&self, i: usize) -> Option<&str> {
        let &(start, end) = self.segments.get(i)?;
        self.decoded.get(start..end)
    }

    /// The canonical text after the first `n` segments: `""` or starting with `/` (a trailing
    /// slash kept). `/ai/chat` after 1 is `/chat`, `/ai` after 1 is `""`, `/ai/` after 1 is `/`.
    /// Segments are separated by `/` in the canonical text (an encoded `/` is refused).
    pub fn after_segments(&self, n: usize) -> &str {
        match self.text.match_indices('/').nth(n) {
            Some((i, _)) => self.text.get(i..).unwrap_or(""),
            None => "",
        }
    }

    /// Whether every decoded segment is ASCII (the common case: no look-alike check needed).
    pub(crate) fn decoded_is_ascii(&self) -> bool {
        self.decoded.is_ascii()
    }

    /// Iterates over the percent-decoded segment values.
    pub fn segments(&self) -> impl Iterator<Item = &str> + '_ {
        self.segments
            .iter()
            .map(|&(s, e)| self.decoded.get(s..e).unwrap_or(""))
    }
}

impl fmt::Display for NormalizedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a request path was rejected; the Worker answers 400 Bad Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Empty, or not starting with `/`.
    NotAbsolute,
    /// Longer than [`MAX_PATH_LEN`] before or after normalization.
    TooLong,
    /// Contained `?` or `#`: the caller passed more than the path component.
    QueryOrFragment,
    /// A raw character outside printable ASCII.
    NonAscii,
    /// A control character (raw or encoded), including DEL.
    ControlCharacter,
    /// A raw `\`.
    Backslash,
    /// A `;` (raw or `%3B`): path parameters are not accepted.
    Semicolon,
    /// `%2F` or `%5C`: an encoded separator.
    EncodedSeparator,
    /// `%25` followed by two hex digits: a double-encoded escape.
    DoubleEncoding,
    /// `%` not followed by two hex digits.
    InvalidEscape,
    /// Escaped bytes that are not valid (shortest-form) UTF-8.
    InvalidUtf8,
    /// A `..` segment that climbs above the root.
    AboveRoot,
    /// A decoded segment holds a character that Unicode case folding or NFKC turns into ASCII
    /// (`ı`, `ſ`, `K`, `ａ`, `ﬁ`, …), in a case-insensitive table. Never returned by
    /// [`normalize_path`]: the table's [`PathPolicy`](crate::PathPolicy) decides it.
    AsciiLookalike,
}

impl PathError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAbsolute => "path_not_absolute",
            Self::TooLong => "path_too_long",
            Self::QueryOrFragment => "path_query_or_fragment",
            Self::NonAscii => "path_non_ascii",
            Self::ControlCharacter => "path_control_character",
            Self::Backslash => "path_backslash",
            Self::Semicolon => "path_semicolon",
            Self::EncodedSeparator => "path_encoded_separator",
            Self::DoubleEncoding => "path_double_encoding",
            Self::InvalidEscape => "path_invalid_escape",
            Self::InvalidUtf8 => "path_invalid_utf8",
            Self::AboveRoot => "path_above_root",
            Self::AsciiLookalike => "path_ascii_lookalike",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::NotAbsolute => "the path must start with '/'",
            Self::TooLong => "the path is longer than 8 KiB; shorten it",
            Self::QueryOrFragment => {
                "the path contains '?' or '#'; pass only the path component, without query or fragment"
            }
            Self::NonAscii => "the path contains a raw non-ASCII character; percent-encode it as UTF-8",
            Self::ControlCharacter => "the path contains a control character (raw or percent-encoded); remove it",
            Self::Backslash => "the path contains '\\'; use '/' as the separator",
            Self::Semicolon => "the path contains ';' (raw or %3B); path parameters are not accepted",
            Self::EncodedSeparator => "the path contains an encoded '/' or '\\' (%2F or %5C); these are not accepted",
            Self::DoubleEncoding => "the path contains a double-encoded escape (%25 followed by two hex digits); encode once",
            Self::InvalidEscape => "the path contains '%' not followed by two hex digits; encode '%' itself as %25",
            Self::InvalidUtf8 => "the path contains percent-encoded bytes that are not valid UTF-8 (e.g. overlong forms); encode text as UTF-8",
            Self::AboveRoot => "the path has a '..' segment that climbs above the root; remove it",
            Self::AsciiLookalike => "the path holds a character that Unicode case folding or NFKC turns into ASCII (such as 'ı', 'ſ', 'K' or fullwidth letters), which an origin could read as a path the rules did not match; write the ASCII characters themselves",
        };
        f.write_str(msg)
    }
}

impl std::error::Error for PathError {}

/// One segment after escape processing.
struct Segment {
    text: String,
    decoded: String,
}

/// Normalizes a raw request path (the path component only).
///
/// Decodes escaped unreserved characters, upper-cases the hex of other escapes,
/// percent-encodes raw characters that are not allowed in a path segment, merges repeated
/// slashes and removes dot segments; rejects everything listed in [`PathError`].
/// A trailing slash is kept (it is forwarded) but ignored for matching.
pub fn normalize_path(raw: &str) -> Result<NormalizedPath, PathError> {
    if raw.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let raw_segments: Vec<&str> = rest.split('/').collect();
    let last = raw_segments.len().saturating_sub(1);
    let mut stack: Vec<Segment> = Vec::new();
    let mut trailing_slash = false;
    for (i, raw_segment) in raw_segments.iter().enumerate() {
        // Every segment is checked (even ones removed later), so errors do not depend on position.
        let seg = process_segment(raw_segment)?;
        let is_last = i == last;
        match seg.text.as_str() {
            "" => trailing_slash = is_last,
            "." => trailing_slash = is_last,
            ".." => {
                stack.pop().ok_or(PathError::AboveRoot)?;
                trailing_slash = is_last;
            }
            _ => {
                trailing_slash = false;
                stack.push(seg);
            }
        }
    }
    let mut text = String::with_capacity(raw.len());
    let mut decoded = String::with_capacity(raw.len());
    let mut segments = Vec::with_capacity(stack.len());
    for seg in &stack {
        text.push('/');
        text.push_str(&seg.text);
        let start = decoded.len();
        decoded.push_str(&seg.decoded);
        segments.push((start, decoded.len()));
        decoded.push('/');
    }
    if stack.is_empty() || trailing_slash {
        text.push('/');
    }
    if text.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    Ok(NormalizedPath {
        text,
        decoded,
        segments,
    })
}

/// How a raw printable ASCII character (not `%`, not `/`) is treated.
enum RawClass {
    Keep,
    Encode,
}

fn classify_raw(c: u8) -> Result<RawClass, PathError> {
    match c {
        b'?' | b'#' => Err(PathError::QueryOrFragment),
        b'\\' => Err(PathError::Backslash),
        b';' => Err(PathError::Semicolon),
        0x00..=0x1F | 0x7F => Err(PathError::ControlCharacter),
        0x80..=0xFF => Err(PathError::NonAscii),
        // RFC 3986 pchar: unreserved, sub-delims (minus ';'), ':' and '@'.
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => Ok(RawClass::Keep),
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@' => {
            Ok(RawClass::Keep)
        }
        // Space, '"', '<', '>', '[', ']', '^', '`', '{', '|', '}': encoded, as URL parsers do.
        _ => Ok(RawClass::Encode),
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn push_escape(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(
        HEX_UPPER.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
    ));
    out.push(char::from(
        HEX_UPPER
            .get(usize::from(b & 0x0F))
            .copied()
            .unwrap_or(b'0'),
    ));
}

/// A unit of a segment after decoding: a character written raw, or a byte kept escaped.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Raw(u8),
    Escaped(u8),
}

fn process_segment(raw: &str) -> Result<Segment, PathError> {
    let bytes = raw.as_bytes();
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_val);
            let lo = bytes.get(i + 2).copied().and_then(hex_val);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(PathError::InvalidEscape);
            };
            let v = (hi << 4) | lo;
            match v {
                b'/' | b'\\' => return Err(PathError::EncodedSeparator),
                b';' => return Err(PathError::Semicolon),
                0x00..=0x1F | 0x7F => return Err(PathError::ControlCharacter),
                _ if is_unreserved(v) => units.push(Unit::Raw(v)),
                _ => units.push(Unit::Escaped(v)),
            }
            i += 3;
        } else {
            match classify_raw(b)? {
                RawClass::Keep => units.push(Unit::Raw(b)),
                RawClass::Encode => units.push(Unit::Escaped(b)),
            }
            i += 1;
        }
    }
    check_double_encoding(&units)?;
    let mut text = String::with_capacity(bytes.len());
    let mut decoded_bytes = Vec::with_capacity(bytes.len());
    for unit in &units {
        match *unit {
            Unit::Raw(b) => text.push(char::from(b)),
            Unit::Escaped(b) => push_escape(&mut text, b),
        }
        let (Unit::Raw(b) | Unit::Escaped(b)) = *unit;
        decoded_bytes.push(b);
    }
    // Every other decoded byte is ASCII, which never occurs inside a multi-byte sequence,
    // so validating the whole segment validates each run of escaped bytes (overlong forms,
    // surrogates and stray continuation bytes are all rejected by the standard library).
    let decoded = String::from_utf8(decoded_bytes).map_err(|_| PathError::InvalidUtf8)?;
    Ok(Segment { text, decoded })
}

/// Rejects `%25` followed by two hex digits: an origin that decodes twice would see a
/// different path than the one the rules were matched against.
fn check_double_encoding(units: &[Unit]) -> Result<(), PathError> {
    for (i, unit) in units.iter().enumerate() {
        if *unit == Unit::Escaped(b'%') {
            let next = (units.get(i + 1), units.get(i + 2));
            if let (Some(Unit::Raw(a)), Some(Unit::Raw(b))) = next {
                if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() {
                    return Err(PathError::DoubleEncoding);
                }
            }
        }
    }
    Ok(())
}
