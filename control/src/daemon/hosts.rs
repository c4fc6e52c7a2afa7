//! The daemon's side of cloud host processes: starting them (from one
//! long-lived thread, so their parent-death signal means the daemon died),
//! calling them, and hearing their unsolicited messages.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::proto::{Envelope, Message, ReplyBody, Request};

/// One running cloud host.
pub struct HostConn {
    pub cloud: String,
    writer: Mutex<UnixStream>,
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, mpsc::Sender<Message>>>,
    dead: AtomicBool,
    child: Mutex<Option<Child>>,
}

type Spawned = Result<(Child, UnixStream), String>;

/// Starts cloud hosts on its own thread.
pub struct Spawner {
    tx: Mutex<mpsc::Sender<(String, mpsc::Sender<Spawned>)>>,
}

impl Spawner {
    pub fn new(exe: PathBuf, state: PathBuf) -> Spawner {
        let (tx, rx) = mpsc::channel::<(String, mpsc::Sender<Spawned>)>();
        std::thread::Builder::new()
            .name("host-spawner".into())
            .spawn(move || {
                for (cloud, reply) in rx {
                    let _ = reply.send(spawn(&exe, &state, &cloud));
                }
            })
            .expect("the daemon cannot start its host-spawner thread");
        Spawner { tx: Mutex::new(tx) }
    }

    pub fn start(&self, cloud: &str) -> Spawned {
        let (tx, rx) = mpsc::channel();
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send((cloud.to_string(), tx))
            .map_err(|_| "the host spawner is gone".to_string())?;
        rx.recv().map_err(|_| "the host spawner is gone".to_string())?
    }
}

fn spawn(exe: &std::path::Path, state: &std::path::Path, cloud: &str) -> Spawned {
    let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let log_dir = state.join("clouds").join(cloud);
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join("host.log"))
        .map_err(|e| format!("host log: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("host log: {e}"))?;
    let child = Command::new(exe)
        .arg("--state")
        .arg(state)
        .args(["cloud-host", "--cloud", cloud])
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .env_remove("WISP_TOKEN")
        .spawn()
        .map_err(|e| format!("cannot start the cloud host: {e}"))?;
    Ok((child, ours))
}

impl HostConn {
    /// Wraps a started host; `on_message` hears what the host says on its
    /// own (`Exited`), `on_death` runs once when its socket closes.
    pub fn new(
        cloud: &str,
        child: Child,
        sock: UnixStream,
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
        });
        let c = conn.clone();
        std::thread::Builder::new()
            .name(format!("host-{cloud}"))
            .spawn(move || {
                while let Ok(Some(m)) = crate::proto::recv::<Message>(&mut reader) {
                    let id = match &m {
                        Message::Reply { id, .. } | Message::Output { id, .. } => Some(*id),
                        Message::Exited { .. } => None,
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
        if !self.alive() {
            return Err("the cloud's host process is gone".into());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let sent = {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            crate::proto::send(&mut *w, &Envelope { id, request })
        };
        let result = match sent {
            Err(e) => Err(format!("the cloud's host process is gone ({e})")),
            Ok(()) => loop {
                match rx.recv() {
                    Ok(Message::Output { stderr, data, .. }) => on_output(stderr, &data),
                    Ok(Message::Reply { result, .. }) => break result,
                    Ok(Message::Exited { .. }) => {}
                    Err(_) => break Err("the cloud's host process is gone".into()),
                }
            },
        };
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
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
