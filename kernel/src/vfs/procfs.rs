//! The synthetic /proc. Content is produced from the machine's own state when a
//! file is opened; nothing here ever reads the host's /proc.

use super::file::{SynthDir, SynthFile};
use super::{Node, synth_stat};
use crate::errno::Errno;

/// What /proc shows about another process of the machine.
#[derive(Clone, Debug, Default)]
pub struct ProcSummary {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub state: char,
    pub threads: usize,
    pub comm: String,
    pub cmdline: Vec<u8>,
}

impl ProcSummary {
    fn stat(&self) -> String {
        format!(
            "{} ({}) {} {} {} {} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 0 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
            self.pid, self.comm, self.state, self.ppid, self.pgid, self.sid, self.threads
        )
    }

    fn status(&self) -> String {
        let (uid, gid) = crate::host::ids();
        format!(
            "Name:\t{}\nState:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nThreads:\t{}\n",
            self.comm, self.state, self.pid, self.pid, self.ppid, self.threads
        )
    }
}

/// What /proc shows about the machine's process. Implemented by the task layer.
pub trait ProcView {
    fn pid(&self) -> i32;
    fn exe(&self) -> String;
    fn cwd(&self) -> String;
    fn maps(&self) -> String;
    fn status(&self) -> String;
    fn stat(&self) -> String;
    fn statm(&self) -> String;
    fn cmdline(&self) -> Vec<u8>;
    fn environ(&self) -> Vec<u8>;
    fn comm(&self) -> String;
    /// Open descriptors and the guest path each refers to.
    fn fds(&self) -> Vec<(i32, String)>;
    /// The descriptor the next open will get (listed in /proc/self/fd, as the
    /// listing's own descriptor is on Linux).
    fn next_fd(&self) -> Option<i32>;
    /// `stat` of what a descriptor refers to.
    fn fd_stat(&self, fd: i32) -> Result<crate::vfs::file::Stat, Errno>;
    fn meminfo(&self) -> String;
    fn cpuinfo(&self) -> String;
    fn uptime(&self) -> String;
    fn mounts(&self) -> String;
    /// The machine's other processes (for `ps`); empty when unknown.
    fn others(&self) -> Vec<ProcSummary> {
        Vec::new()
    }
}

const PID_FILES: [&str; 12] =
    ["exe", "cwd", "root", "fd", "maps", "status", "stat", "statm", "cmdline", "environ", "comm", "mounts"];
const TOP_FILES: [&str; 8] = ["self", "cpuinfo", "meminfo", "uptime", "version", "loadavg", "mounts", "filesystems"];

fn file(path: String, data: Vec<u8>) -> Node {
    let st = synth_stat(&path, libc::S_IFREG | 0o444);
    Node::File(Box::new(SynthFile::new(path, data, st)))
}

fn dir(path: String, names: Vec<(String, u8)>) -> Node {
    let st = synth_stat(&path, libc::S_IFDIR | 0o555);
    let entries = names.into_iter().map(|(n, t)| (n.into_bytes(), t, 0)).collect();
    Node::File(Box::new(SynthDir::new(path, entries, st)))
}

/// Looks up `rel` (relative to /proc).
pub fn lookup(view: &dyn ProcView, rel: &str) -> Result<Node, Errno> {
    let pid = view.pid().to_string();
    let mut parts = rel.split('/').filter(|p| *p != ".");
    let Some(first) = parts.next() else {
        let mut names: Vec<(String, u8)> = TOP_FILES.iter().map(|n| (n.to_string(), libc::DT_REG)).collect();
        names.push((pid.clone(), libc::DT_DIR));
        names.extend(view.others().into_iter().map(|o| (o.pid.to_string(), libc::DT_DIR)));
        return Ok(dir("/proc".into(), names));
    };
    let rest: Vec<&str> = parts.collect();
    let rest_str = rest.join("/");
    let top = |data: String| -> Result<Node, Errno> {
        if rest.is_empty() { Ok(file(format!("/proc/{first}"), data.into_bytes())) } else { Err(Errno::ENOTDIR) }
    };
    match first {
        "self" => Ok(Node::Link(pid, rest_str)),
        p if p == pid => pid_lookup(view, &rest),
        "cpuinfo" => top(view.cpuinfo()),
        "meminfo" => top(view.meminfo()),
        "uptime" => top(view.uptime()),
        "version" => top("Linux version 6.1.0-wisp (wisp) #1 SMP\n".into()),
        "loadavg" => top("0.00 0.00 0.00 1/1 1\n".into()),
        "mounts" => top(view.mounts()),
        "filesystems" => top("nodev\tproc\nnodev\ttmpfs\n\text4\n".into()),
        other => {
            let n: i32 = other.parse().map_err(|_| Errno::ENOENT)?;
            let o = view.others().into_iter().find(|o| o.pid == n).ok_or(Errno::ENOENT)?;
            other_lookup(&o, &rest)
        }
    }
}

/// /proc/<pid> of another process: what `ps` reads.
fn other_lookup(o: &ProcSummary, rest: &[&str]) -> Result<Node, Errno> {
    let base = format!("/proc/{}", o.pid);
    let Some((name, tail)) = rest.split_first() else {
        let names = ["stat", "status", "cmdline", "comm"].iter().map(|n| (n.to_string(), libc::DT_REG)).collect();
        return Ok(dir(base, names));
    };
    if !tail.is_empty() {
        return Err(Errno::ENOTDIR);
    }
    let data = match *name {
        "stat" => o.stat().into_bytes(),
        "status" => o.status().into_bytes(),
        "cmdline" => o.cmdline.clone(),
        "comm" => format!("{}\n", o.comm).into_bytes(),
        "exe" | "cwd" | "root" | "fd" | "maps" | "environ" | "mem" => return Err(Errno::EACCES),
        _ => return Err(Errno::ENOENT),
    };
    Ok(file(format!("{base}/{name}"), data))
}

fn pid_lookup(view: &dyn ProcView, rest: &[&str]) -> Result<Node, Errno> {
    let base = format!("/proc/{}", view.pid());
    let Some((name, tail)) = rest.split_first() else {
        let names = PID_FILES
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    if matches!(*n, "exe" | "cwd" | "root") {
                        libc::DT_LNK
                    } else if *n == "fd" {
                        libc::DT_DIR
                    } else {
                        libc::DT_REG
                    },
                )
            })
            .collect();
        return Ok(dir(base, names));
    };
    let tail_str = tail.join("/");
    let leaf = |data: Vec<u8>| -> Result<Node, Errno> {
        if tail.is_empty() { Ok(file(format!("{base}/{name}"), data)) } else { Err(Errno::ENOTDIR) }
    };
    match *name {
        "exe" => Ok(Node::Link(view.exe(), tail_str)),
        "cwd" => Ok(Node::Link(view.cwd(), tail_str)),
        "root" => Ok(Node::Link("/".into(), tail_str)),
        "fd" => fd_lookup(view, &base, tail),
        "maps" => leaf(view.maps().into_bytes()),
        "status" => leaf(view.status().into_bytes()),
        "stat" => leaf(view.stat().into_bytes()),
        "statm" => leaf(view.statm().into_bytes()),
        "cmdline" => leaf(view.cmdline()),
        "environ" => leaf(view.environ()),
        "comm" => leaf(format!("{}\n", view.comm()).into_bytes()),
        "mounts" => leaf(view.mounts().into_bytes()),
        _ => Err(Errno::ENOENT),
    }
}

fn fd_lookup(view: &dyn ProcView, base: &str, tail: &[&str]) -> Result<Node, Errno> {
    let Some((n, more)) = tail.split_first() else {
        let mut fds: Vec<i32> = view.fds().into_iter().map(|(fd, _)| fd).collect();
        fds.extend(view.next_fd());
        fds.sort_unstable();
        let names = fds.into_iter().map(|fd| (fd.to_string(), libc::DT_LNK)).collect();
        return Ok(dir(format!("{base}/fd"), names));
    };
    let fd: i32 = n.parse().map_err(|_| Errno::ENOENT)?;
    let (_, path) = view.fds().into_iter().find(|(f, _)| *f == fd).ok_or(Errno::ENOENT)?;
    if more.is_empty() { Ok(Node::Fd(fd, path)) } else { Ok(Node::Link(path, more.join("/"))) }
}
