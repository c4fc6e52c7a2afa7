//! Machine identity: short-lived tokens the daemon signs for a machine
//! (HMAC-SHA256 under a key only the daemon holds), served to the machine
//! by the metadata service at http://169.254.169.254/, and checked for
//! anyone through `POST /v1/identity/verify`.
//!
//! A token is `wisp1.PAYLOAD.MAC`: PAYLOAD is the hex of a JSON object
//! `{"cloud", "machine", "iat_ms", "exp_ms"}` and MAC the hex HMAC-SHA256
//! of `wisp1.PAYLOAD`. Cloud hosts never see the key: a compromised host
//! can ask only for its own cloud's machines' tokens.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How long a token is good for.
pub const TTL_MS: i64 = 10 * 60 * 1000;
/// Metadata connections served at once (more are refused).
pub const MAX_METADATA: usize = 64;

pub struct Identity {
    key: [u8; 32],
}

fn hmac(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new().chain_update(ipad).chain_update(msg).finalize();
    Sha256::new().chain_update(opad).chain_update(inner).finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Identity {
    /// The daemon's signing key in `path` (0600), made at first start.
    pub fn open(path: &Path) -> Result<Identity, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let key = match std::fs::read(path) {
            Ok(k) if k.len() == 32 => k,
            Ok(_) => return Err(format!("{}: not a 32-byte key", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = vec![0u8; 32];
                wisp_kernel::host::getrandom(&mut k).map_err(|e| format!("getrandom: {e}"))?;
                let tmp = super::write_secret_tmp(path, &k)?;
                std::fs::rename(&tmp, path).map_err(fail)?;
                k
            }
            Err(e) => return Err(fail(e)),
        };
        Ok(Identity { key: key.try_into().map_err(|_| "bad key".to_string())? })
    }

    pub fn sign(&self, cloud: &str, machine: &str, now_ms: i64) -> (String, i64) {
        let exp = now_ms + TTL_MS;
        let payload = json!({"cloud": cloud, "machine": machine, "iat_ms": now_ms, "exp_ms": exp}).to_string();
        let body = format!("wisp1.{}", hex(payload.as_bytes()));
        let mac = hex(&hmac(&self.key, body.as_bytes()));
        (format!("{body}.{mac}"), exp)
    }

    /// The claims of a valid, unexpired token; else why not.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Value, &'static str> {
        let (body, mac) = token.rsplit_once('.').ok_or("malformed")?;
        let payload = body.strip_prefix("wisp1.").ok_or("malformed")?;
        let want = hmac(&self.key, body.as_bytes());
        let got = unhex(mac).ok_or("malformed")?;
        // Compared in constant time.
        if got.len() != want.len() || got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return Err("bad signature");
        }
        let claims: Value = serde_json::from_slice(&unhex(payload).ok_or("malformed")?).map_err(|_| "malformed")?;
        if claims["exp_ms"].as_i64().is_none_or(|e| e <= now_ms) {
            return Err("expired");
        }
        Ok(claims)
    }
}

/// Serves one metadata connection for `machine` of `cloud`: a small HTTP
/// server (one request, then close).
pub fn serve(mut s: UnixStream, id: &Identity, cloud: &str, machine: &str, address: &str, now_ms: i64) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut b = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&b[..n]),
        }
        if head.len() > 8192 {
            let _ = s.write_all(b"HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    }
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (token, exp) = id.sign(cloud, machine, now_ms);
    let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/") => ("200 OK", "text/plain", "machine\ncloud\naddress\ntoken\nidentity\n".to_string()),
        ("GET", "/machine") => ("200 OK", "text/plain", format!("{machine}\n")),
        ("GET", "/cloud") => ("200 OK", "text/plain", format!("{cloud}\n")),
        ("GET", "/address") => ("200 OK", "text/plain", format!("{address}\n")),
        ("GET", "/token") => ("200 OK", "text/plain", format!("{token}\n")),
        ("GET", "/identity") => (
            "200 OK",
            "application/json",
            json!({"machine": machine, "cloud": cloud, "address": address, "token": token, "expires_ms": exp})
                .to_string(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".to_string()),
    };
    let reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(reply.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_after_tampering() {
        let id = Identity { key: [7; 32] };
        let other = Identity { key: [8; 32] };
        let (t, exp) = id.sign("c1", "web", 1000);
        let claims = id.verify(&t, 2000).unwrap();
        assert_eq!((claims["cloud"].as_str(), claims["machine"].as_str()), (Some("c1"), Some("web")));
        assert_eq!(id.verify(&t, exp), Err("expired"));
        assert_eq!(other.verify(&t, 2000), Err("bad signature"), "another key");
        // Another cloud's name spliced in keeps the old MAC: refused.
        let forged = t.replace(&hex(b"\"c1\""), &hex(b"\"c2\""));
        assert_ne!(forged, t);
        assert_eq!(id.verify(&forged, 2000), Err("bad signature"));
        for junk in ["", ".", "wisp1..", "wisp1.zz.zz", "x.y.z", &"a".repeat(10000)] {
            assert!(id.verify(junk, 2000).is_err(), "{junk:.20}");
        }
    }
}
