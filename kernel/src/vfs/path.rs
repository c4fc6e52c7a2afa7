//! Guest path arithmetic.

use crate::errno::Errno;

pub const PATH_MAX: usize = 4096;

/// Joins `path` to `base` (when relative) and removes `.`, `..` and repeated
/// slashes lexically. `..` at the root stays at the root. Returns the absolute
/// path and whether the input ended with a slash (it must name a directory).
pub fn normalize(base: &str, path: &[u8]) -> Result<(String, bool), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let path = std::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
    let trailing = path.ends_with('/') || path.ends_with("/.");
    let mut parts: Vec<&str> = Vec::new();
    let joined;
    let full = if path.starts_with('/') {
        path
    } else {
        joined = format!("{base}/{path}");
        &joined
    };
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c if c.len() > 255 => return Err(Errno::ENAMETOOLONG),
            c => parts.push(c),
        }
    }
    Ok((format!("/{}", parts.join("/")), trailing))
}

/// The part of `abs` below mount point `point`, as a relative path ("." for the
/// mount point itself), or None if `abs` is not under it.
pub fn strip_mount<'a>(abs: &'a str, point: &str) -> Option<&'a str> {
    if point == "/" {
        let rest = abs.trim_start_matches('/');
        return Some(if rest.is_empty() { "." } else { rest });
    }
    let rest = abs.strip_prefix(point)?;
    if rest.is_empty() { Some(".") } else { rest.strip_prefix('/') }
}

/// Directory part of an absolute path.
pub fn dirname(abs: &str) -> &str {
    match abs.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &abs[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_cases() {
        assert_eq!(normalize("/a/b", b"c").unwrap(), ("/a/b/c".into(), false));
        assert_eq!(normalize("/a/b", b"../../../../x").unwrap(), ("/x".into(), false));
        assert_eq!(normalize("/", b"/x//y/./z/").unwrap(), ("/x/y/z".into(), true));
        assert_eq!(normalize("/", b"/..").unwrap(), ("/".into(), false));
        assert_eq!(normalize("/", b""), Err(Errno::ENOENT));
        assert_eq!(normalize("/", &[b'a'; 5000]), Err(Errno::ENAMETOOLONG));
        assert_eq!(normalize("/", &[b'a'; 300]), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn mounts_and_dirname() {
        assert_eq!(strip_mount("/tmp/x", "/tmp"), Some("x"));
        assert_eq!(strip_mount("/tmp", "/tmp"), Some("."));
        assert_eq!(strip_mount("/tmpfoo", "/tmp"), None);
        assert_eq!(strip_mount("/", "/"), Some("."));
        assert_eq!(strip_mount("/etc/x", "/"), Some("etc/x"));
        assert_eq!(dirname("/a/b"), "/a");
        assert_eq!(dirname("/a"), "/");
    }
}
