//! The daemon's side of cloud host processes: starting them (from one
//! long-lived thread, so their parent-death signal means the daemon died),
//! calling them, and hearing their unsolicited messages.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::proto::{Envelope, Message, ReplyBody, Request};

/// A request sent to a host, its reply not yet read.
pub struct Pending {
    id: u64,
    rx: mpsc::Receiver<Message>,
}

/// One running cloud host.
pub struct HostConn {
    pub cloud: String,
    writer: Mutex<UnixStream>,
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, mpsc::Sender<Message>>>,
    dead: AtomicBool,
    child: Mutex<Option<Child>>,
    /// The descriptor channel (proto::send_tagged).
    chan: OwnedFd,
}

/// A started host: its process, control socket and descriptor channel.
pub type Started = (Child, UnixStream, OwnedFd);
type Spawned = Result<Started, String>;

/// What the spawner thread is asked to do.
enum Job {
    /// Start a host for this cloud (no warm one was left) and answer.
    Cold(String, mpsc::Sender<Spawned>),
    /// A warm host was taken: make another.
    Refill,
}

/// Warm hosts: started and prepared, waiting for a `Bind`.
type Pool = Mutex<std::collections::VecDeque<(Child, UnixStream)>>;

/// Starts cloud hosts on its own thread, keeping `warm` of them started
/// ahead of need (prepared, not yet bound to a cloud), so that a cloud's
/// first machine does not wait for a process to start. A caller binds a
/// warm host itself, without waiting for that thread, which may be busy
/// making the next one.
pub struct Spawner {
    tx: Mutex<mpsc::Sender<Job>>,
    pool: Arc<Pool>,
}

impl Spawner {
    pub fn new(exe: PathBuf, state: PathBuf, warm: usize) -> Spawner {
        let (tx, rx) = mpsc::channel::<Job>();
        let pool = Arc::new(Pool::default());
        let filling = pool.clone();
        std::thread::Builder::new()
            .name("host-spawner".into())
            .spawn(move || {
                // Hosts are born in an empty network namespace of this
                // thread's (namespaces are per thread), where root may make one.
                let shared_netns = wisp_kernel::host::unshare(libc::CLONE_NEWNET).is_ok();
                // Warm hosts are made in the background: they must not take
                // CPU from machines being started. A host gets its normal
                // priority back once it is ready (where it may raise it).
                let _ = wisp_kernel::host::set_nice(0, 10);
                let (exe, state) = (exe.as_path(), state.as_path());
                let spawn = |cloud: Option<&str>| spawn(exe, state, cloud, shared_netns);
                let pool = || filling.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    // Refill while idle; a cold start comes first.
                    let job = if pool().len() < warm {
                        match rx.try_recv() {
                            Ok(j) => j,
                            Err(mpsc::TryRecvError::Empty) => {
                                match spawn(None) {
                                    Ok(h) => pool().push_back(h),
                                    Err(e) => {
                                        eprintln!("wisp daemon: warm host: {e}");
                                        std::thread::sleep(std::time::Duration::from_secs(1));
                                    }
                                }
                                continue;
                            }
                            Err(mpsc::TryRecvError::Disconnected) => return,
                        }
                    } else {
                        match rx.recv() {
                            Ok(j) => j,
                            Err(_) => return,
                        }
                    };
                    if let Job::Cold(cloud, reply) = job {
                        let _ = reply.send(spawn(Some(&cloud)).and_then(|(c, s)| channel(c, s)));
                    }
                }
            })
            .expect("the daemon cannot start its host-spawner thread");
        Spawner { tx: Mutex::new(tx), pool }
    }

    /// A host for `cloud`: a warm one bound to it, else one started now.
    pub fn start(&self, cloud: &str) -> Spawned {
        let gone = || "the host spawner is gone".to_string();
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let warm = take_warm(&self.pool, cloud);
        if let Some(started) = warm {
            let _ = tx.send(Job::Refill);
            return started;
        }
        let (reply, rx) = mpsc::channel();
        tx.send(Job::Cold(cloud.to_string(), reply)).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

/// A warm host bound to `cloud`, if one is alive: one that is ready (it
/// sent its descriptor channel when it had prepared itself) rather than one
/// still preparing, the oldest first.
fn take_warm(pool: &Pool, cloud: &str) -> Option<Spawned> {
    let ready = |sock: &UnixStream| wisp_kernel::host::poll_now(sock.as_fd(), libc::POLLIN).is_ok_and(|r| r != 0);
    loop {
        let (mut child, mut sock) = {
            let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
            let at = pool.iter().position(|(_, s)| ready(s)).unwrap_or(0);
            pool.remove(at)?
        };
        if child.try_wait().ok().flatten().is_some() {
            continue;
        }
        if crate::proto::send(&mut sock, &crate::proto::Bind { cloud: cloud.to_string() }).is_ok() {
            // Its channel is its last word of preparation (waited for if need be).
            return Some(channel(child, sock));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts a host for `cloud`, or a warm one (bound later) with None.
fn spawn(
    exe: &std::path::Path,
    state: &std::path::Path,
    cloud: Option<&str>,
    shared_netns: bool,
) -> Result<(Child, UnixStream), String> {
    let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let log_path = match cloud {
        Some(c) => state.join("clouds").join(c).join("host.log"),
        None => state.join("warm-hosts.log"),
    };
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log =
        std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| format!("host log: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("host log: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--state").arg(state).arg("cloud-host");
    if let Some(c) = cloud {
        cmd.args(["--cloud", c]);
    }
    if shared_netns {
        cmd.env("WISP_SHARED_NETNS", "1");
    } else {
        cmd.env_remove("WISP_SHARED_NETNS");
    }
    let child = cmd
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .env_remove("WISP_TOKEN")
        .spawn()
        .map_err(|e| format!("cannot start the cloud host: {e}"))?;
    Ok((child, ours))
}

/// Takes a started host's first word, its descriptor channel (sent as it
/// starts, so a warm host's is waiting already).
fn channel(mut child: Child, sock: UnixStream) -> Spawned {
    let chan = (|| {
        sock.set_read_timeout(Some(std::time::Duration::from_secs(20))).map_err(|e| e.to_string())?;
        let (_, fd) = wisp_kernel::host::recv_fd(sock.as_fd(), &mut [0u8; 1]).map_err(|e| e.to_string())?;
        sock.set_read_timeout(None).map_err(|e| e.to_string())?;
        fd.ok_or_else(|| "it closed its control socket".to_string())
    })();
    match chan {
        Ok(chan) => Ok((child, sock, chan)),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("the cloud host did not start: {e}"))
        }
    }
}

impl HostConn {
    /// Wraps a started host; `on_message` hears what the host says on its
    /// own (`Exited`), `on_death` runs once when its socket closes.
    pub fn new(
        cloud: &str,
        (child, sock, chan): Started,
        on_message: impl Fn(&str, Message) + Send + 'static,
        on_death: impl FnOnce(&str) + Send + 'static,
    ) -> Result<Arc<HostConn>, String> {
        let mut reader = sock.try_clone().map_err(|e| format!("host socket: {e}"))?;
        let conn = Arc::new(HostConn {
            cloud: cloud.to_string(),
            writer: Mutex::new(sock),
            next_id: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
            dead: AtomicBool::new(false),
            child: Mutex::new(Some(child)),
            chan,
        });
        let c = conn.clone();
        std::thread::Builder::new()
            .name(format!("host-{cloud}"))
            .spawn(move || {
                while let Ok(Some(m)) = crate::proto::recv::<Message>(&mut reader) {
                    let id = match &m {
                        Message::Reply { id, .. } | Message::Output { id, .. } => Some(*id),
                        Message::Exited { .. } | Message::Dial { .. } => None,
                    };
                    match id {
                        Some(id) => {
                            let waiting = c.waiting.lock().unwrap_or_else(|e| e.into_inner());
                            if let Some(tx) = waiting.get(&id) {
                                let _ = tx.send(m);
                            }
                        }
                        None => on_message(&c.cloud, m),
                    }
                }
                c.dead.store(true, Ordering::SeqCst);
                // Every caller still waiting hears that the host is gone.
                c.waiting.lock().unwrap_or_else(|e| e.into_inner()).clear();
                c.reap();
                on_death(&c.cloud);
            })
            .map_err(|e| format!("cannot start a thread for the host: {e}"))?;
        Ok(conn)
    }

    pub fn alive(&self) -> bool {
        !self.dead.load(Ordering::SeqCst)
    }

    /// Sends a request and waits for its reply; `on_output` gets exec
    /// output as it arrives.
    pub fn call(&self, request: Request, on_output: &mut dyn FnMut(bool, &[u8])) -> Result<ReplyBody, String> {
        let pending = self.send(request)?;
        self.finish(pending, on_output, None)
    }

    /// Sends a request whose reply nobody waits for.
    pub fn tell(&self, request: Request) -> Result<(), String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        crate::proto::send(&mut *w, &Envelope { id, request })
            .map_err(|e| format!("the cloud's host process is gone ({e})"))
    }

    /// Sends a request without waiting; `finish` collects the reply.
    pub fn send(&self, request: Request) -> Result<Pending, String> {
        self.send_with(|_| request, None)
    }

    /// Sends the request `make(tag)` with descriptor `fd` ahead of it on
    /// the descriptor channel under `tag`, and waits for the reply.
    pub fn call_with_fd(&self, make: impl FnOnce(u64) -> Request, fd: BorrowedFd<'_>) -> Result<ReplyBody, String> {
        let p = self.send_with(make, Some(fd))?;
        self.finish(p, &mut |_, _| {}, Some(std::time::Duration::from_secs(10)))
    }

    fn send_with(&self, make: impl FnOnce(u64) -> Request, fd: Option<BorrowedFd<'_>>) -> Result<Pending, String> {
        if !self.alive() {
            return Err("the cloud's host process is gone".into());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let request = make(id);
        let sent = {
            // The descriptor and its request go out together, in order.
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            match fd {
                Some(fd) => crate::proto::send_tagged(self.chan.as_fd(), id, fd).map_err(std::io::Error::other),
                None => Ok(()),
            }
            .and_then(|_| crate::proto::send(&mut *w, &Envelope { id, request }))
        };
        if let Err(e) = sent {
            self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            return Err(format!("the cloud's host process is gone ({e})"));
        }
        Ok(Pending { id, rx })
    }

    /// Waits (at most `limit`, if given) for the reply to a sent request.
    pub fn finish(
        &self,
        p: Pending,
        on_output: &mut dyn FnMut(bool, &[u8]),
        limit: Option<std::time::Duration>,
    ) -> Result<ReplyBody, String> {
        let deadline = limit.map(|l| std::time::Instant::now() + l);
        let result = loop {
            let got = match deadline {
                None => p.rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                Some(d) => p.rx.recv_timeout(d.saturating_duration_since(std::time::Instant::now())),
            };
            match got {
                Ok(Message::Output { stderr, data, .. }) => on_output(stderr, &data),
                Ok(Message::Reply { result, .. }) => break result,
                Ok(Message::Exited { .. } | Message::Dial { .. }) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break Err("the cloud's host did not answer in time".into()),
                Err(mpsc::RecvTimeoutError::Disconnected) => break Err("the cloud's host process is gone".into()),
            }
        };
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&p.id);
        result
    }

    /// Ends the host and everything in it.
    pub fn kill(&self) {
        if let Some(c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = c.kill();
        }
        let _ = self.writer.lock().unwrap_or_else(|e| e.into_inner()).shutdown(std::net::Shutdown::Both);
    }

    fn reap(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
