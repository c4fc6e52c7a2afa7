//! The cloud's DNS server, as a pure function from a query to its answer.
//!
//! It answers A questions for the names the cloud knows (machines,
//! services, granted imports) and nothing else: AAAA and other types for a
//! known name get an empty answer (NOERROR, so resolvers fall back to A),
//! unknown names under `internal` get NXDOMAIN, and every other name is
//! REFUSED (a cloud has no recursive resolver).

use smoltcp::wire::Ipv4Address;

/// What the cloud knows of a name.
pub enum Lookup {
    /// The name's addresses.
    Found(Vec<Ipv4Address>),
    /// No such name in a zone the cloud serves.
    NoSuchName,
    /// Not a name the cloud serves.
    NotOurs,
}

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
const RCODE_FORMERR: u16 = 1;
const RCODE_NXDOMAIN: u16 = 3;
const RCODE_NOTIMP: u16 = 4;
const RCODE_REFUSED: u16 = 5;
/// Seconds an answer may be cached: machines come and go.
const TTL: u32 = 5;
const MAX_NAME: usize = 253;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the question name at `at` (no compression: questions never need
/// it): the lowercased dotted name and where the name ends.
fn read_name(b: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        let len = *b.get(at)? as usize;
        at += 1;
        if len == 0 {
            return Some((name, at));
        }
        if len > 63 {
            return None;
        }
        let label = b.get(at..at + len)?;
        if !name.is_empty() {
            name.push('.');
        }
        for &c in label {
            if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                return None;
            }
            name.push(c.to_ascii_lowercase() as char);
        }
        if name.len() > MAX_NAME {
            return None;
        }
        at += len;
    }
}

/// The answer to the DNS message `query`, or None when it deserves none
/// (too short to carry an id, or itself a response).
pub fn answer(query: &[u8], lookup: &dyn Fn(&str) -> Lookup) -> Option<Vec<u8>> {
    let id = be16(query, 0)?;
    let flags = be16(query, 2)?;
    if flags & 0x8000 != 0 {
        return None;
    }
    let opcode = (flags >> 11) & 0xf;
    let rd = flags & 0x0100;
    let reply = |rcode: u16, question: &[u8], answers: &[Ipv4Address]| {
        let mut out = Vec::with_capacity(12 + question.len() + answers.len() * 16);
        out.extend_from_slice(&id.to_be_bytes());
        // QR, the opcode, AA, RD as asked, RA, the code.
        let f = 0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080 | rcode;
        out.extend_from_slice(&f.to_be_bytes());
        let qd = if question.is_empty() { 0u16 } else { 1 };
        for n in [qd, answers.len() as u16, 0, 0] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out.extend_from_slice(question);
        for a in answers {
            out.extend_from_slice(&[0xc0, 12]); // the question's name
            out.extend_from_slice(&TYPE_A.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&TTL.to_be_bytes());
            out.extend_from_slice(&4u16.to_be_bytes());
            out.extend_from_slice(&a.octets());
        }
        out
    };
    if opcode != 0 {
        return Some(reply(RCODE_NOTIMP, &[], &[]));
    }
    if be16(query, 4)? != 1 {
        return Some(reply(RCODE_FORMERR, &[], &[]));
    }
    let Some((name, end)) = read_name(query, 12) else {
        return Some(reply(RCODE_FORMERR, &[], &[]));
    };
    let (Some(qtype), Some(qclass)) = (be16(query, end), be16(query, end + 2)) else {
        return Some(reply(RCODE_FORMERR, &[], &[]));
    };
    let question = &query[12..end + 4];
    match lookup(&name) {
        Lookup::Found(addrs) if qtype == TYPE_A && qclass == CLASS_IN => {
            Some(reply(0, question, &addrs[..addrs.len().min(16)]))
        }
        Lookup::Found(_) => Some(reply(0, question, &[])),
        Lookup::NoSuchName => Some(reply(RCODE_NXDOMAIN, question, &[])),
        Lookup::NotOurs => Some(reply(RCODE_REFUSED, question, &[])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0]);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    fn cloud(name: &str) -> Lookup {
        match name {
            "web.internal" => Lookup::Found(vec![Ipv4Address::new(100, 64, 0, 2)]),
            n if n.ends_with(".internal") => Lookup::NoSuchName,
            _ => Lookup::NotOurs,
        }
    }

    fn rcode(r: &[u8]) -> u16 {
        be16(r, 2).unwrap() & 0xf
    }

    #[test]
    fn answers_known_names_and_refuses_the_rest() {
        let r = answer(&query(7, "Web.Internal", TYPE_A), &cloud).unwrap();
        assert_eq!(be16(&r, 0), Some(7), "the id is echoed");
        assert_eq!(rcode(&r), 0);
        assert_eq!(be16(&r, 6), Some(1), "one answer");
        assert_eq!(&r[r.len() - 4..], &[100, 64, 0, 2]);
        let aaaa = answer(&query(8, "web.internal", 28), &cloud).unwrap();
        assert_eq!((rcode(&aaaa), be16(&aaaa, 6)), (0, Some(0)), "AAAA of a known name: no records");
        let nx = answer(&query(9, "nope.internal", TYPE_A), &cloud).unwrap();
        assert_eq!(rcode(&nx), RCODE_NXDOMAIN);
        let out = answer(&query(10, "example.com", TYPE_A), &cloud).unwrap();
        assert_eq!(rcode(&out), RCODE_REFUSED);
    }

    #[test]
    fn garbage_never_panics_and_gets_formerr_or_nothing() {
        assert!(answer(&[], &cloud).is_none());
        assert!(answer(&[1], &cloud).is_none());
        let mut q = query(1, "web.internal", TYPE_A);
        q[2] |= 0x80;
        assert!(answer(&q, &cloud).is_none(), "responses are not answered");
        let mut seed = 0x1234_5678u32;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            if let Some(r) = answer(&bytes, &cloud) {
                assert!(r.len() >= 12);
            }
        }
        let full = query(3, "web.internal", TYPE_A);
        for cut in 0..full.len() {
            let _ = answer(&full[..cut], &cloud);
        }
        let mut loopy = query(4, "web.internal", TYPE_A);
        loopy[12] = 0xc0; // a compression pointer in a question
        assert_eq!(rcode(&answer(&loopy, &cloud).unwrap()), RCODE_FORMERR);
    }
}
