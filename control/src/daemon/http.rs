//! A small, strict HTTP/1.1 server side: one request at a time per
//! connection, keep-alive, bodies by Content-Length only, hard limits on
//! every part of a request. Streaming answers use chunked encoding.

use std::io::{BufRead, BufReader, Read, Write};

/// Most bytes of request line plus headers.
const MAX_HEAD: usize = 16 << 10;
const MAX_HEADERS: usize = 64;

pub struct Request {
    pub method: String,
    /// The path without the query, percent-decoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read; `status` is what to answer (0: the
/// peer went away, answer nothing).
#[derive(Debug)]
pub struct ReadError {
    pub status: u16,
    pub message: String,
}

fn bad(status: u16, message: impl Into<String>) -> ReadError {
    ReadError { status, message: message.into() }
}

/// Reads one request; Ok(None) when the peer closed the connection between
/// requests. `max_body` bounds the body.
pub fn read_request(r: &mut BufReader<impl Read>, max_body: usize) -> Result<Option<Request>, ReadError> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = r.by_ref().take((MAX_HEAD + 1 - head.len()) as u64).read_until(b'\n', &mut line);
        let n = n.map_err(|_| bad(0, "read failed"))?;
        if n == 0 {
            return if head.is_empty() { Ok(None) } else { Err(bad(400, "truncated request")) };
        }
        if !line.ends_with(b"\n") {
            return Err(bad(431, "request head too large"));
        }
        if head.is_empty() && (line == b"\r\n" || line == b"\n") {
            continue; // tolerated blank lines before a request
        }
        let end = line == b"\r\n" || line == b"\n";
        head.extend_from_slice(&line);
        if end {
            break;
        }
    }
    let text = std::str::from_utf8(&head).map_err(|_| bad(400, "request head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let start = lines.next().unwrap_or("");
    let mut parts = start.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && t.starts_with('/') => (m, t, v),
        _ => return Err(bad(400, "malformed request line")),
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(bad(505, "only HTTP/1.1 is served"));
    }
    let mut headers = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once(':').ok_or_else(|| bad(400, "malformed header line"))?;
        if k.is_empty() || k.contains(' ') {
            return Err(bad(400, "malformed header name"));
        }
        headers.push((k.to_string(), v.trim().to_string()));
        if headers.len() > MAX_HEADERS {
            return Err(bad(431, "too many headers"));
        }
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    if find("transfer-encoding").is_some() {
        return Err(bad(411, "send the body with Content-Length (chunked requests are not accepted)"));
    }
    let lengths: Vec<&(String, String)> =
        headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).collect();
    if lengths.len() > 1 {
        return Err(bad(400, "more than one Content-Length"));
    }
    let len = match lengths.first() {
        None => 0,
        Some((_, v)) => v.parse::<usize>().map_err(|_| bad(400, "bad Content-Length"))?,
    };
    if len > max_body {
        return Err(bad(413, format!("body of {len} bytes is past the limit of {max_body}")));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).map_err(|_| bad(400, "body shorter than its Content-Length"))?;
    let conn = find("connection").unwrap_or_default().to_ascii_lowercase();
    let keep_alive = if version == "HTTP/1.0" { conn == "keep-alive" } else { conn != "close" };
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(raw_path).ok_or_else(|| bad(400, "bad percent-encoding in the path"))?;
    let mut query = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| percent_decode(&s.replace('+', " ")).ok_or_else(|| bad(400, "bad percent-encoding"));
        query.push((dec(k)?, dec(v)?));
    }
    Ok(Some(Request { method: method.to_string(), path, query, headers, body, keep_alive }))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Writes a whole answer.
pub fn write_response(
    w: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n",
        reason(status),
        body.len(),
        if keep_alive { "" } else { "Connection: close\r\n" }
    );
    let mut all = head.into_bytes();
    all.extend_from_slice(body);
    w.write_all(&all)?;
    w.flush()
}

/// An answer sent in pieces as they come (chunked encoding).
pub struct Chunked<'a, W: Write> {
    w: &'a mut W,
}

impl<'a, W: Write> Chunked<'a, W> {
    pub fn start(w: &'a mut W, status: u16, content_type: &str) -> std::io::Result<Self> {
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\
             Cache-Control: no-cache\r\n\r\n",
            reason(status)
        );
        w.write_all(head.as_bytes())?;
        w.flush()?;
        Ok(Chunked { w })
    }

    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let mut b = format!("{:x}\r\n", data.len()).into_bytes();
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
        self.w.write_all(&b)?;
        self.w.flush()
    }

    pub fn finish(self) -> std::io::Result<()> {
        self.w.write_all(b"0\r\n\r\n")?;
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<Request>, ReadError> {
        read_request(&mut BufReader::new(raw), 1024)
    }

    #[test]
    fn requests_parse_and_limits_hold() {
        let r = parse(b"POST /v1/a%20b?path=%2Fetc%2Fx&f=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}").unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.body.as_slice()), ("POST", "/v1/a b", &b"{}"[..]));
        assert_eq!(r.query("path"), Some("/etc/x"));
        assert!(r.keep_alive);
        assert!(parse(b"").unwrap().is_none(), "a closed connection is not an error");
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n").err().unwrap().status, 413);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").err().unwrap().status, 411);
        assert_eq!(parse(b"GET /\r\n\r\n").err().unwrap().status, 400);
        assert_eq!(parse(b"GET / HTTP/2\r\n\r\n").err().unwrap().status, 505);
        assert_eq!(parse(b"GET /%zz HTTP/1.1\r\n\r\n").err().unwrap().status, 400);
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        huge.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&huge).err().unwrap().status, 431);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab").err().unwrap().status, 400);
        let two = parse(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na");
        assert_eq!(two.err().unwrap().status, 400);
    }
}
