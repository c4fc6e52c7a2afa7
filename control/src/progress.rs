//! Progress of long operations: a bar on a terminal, plain lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    tty: bool,
    last: Instant,
    /// Last tenth reported as a plain line.
    last_tenth: u64,
}

impl Progress {
    /// Tracks `total` units of work (0 when unknown). Off a terminal, work of
    /// 1000 units or more reports every tenth on a line of its own.
    pub fn new(label: &str, total: u64) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
            last: Instant::now() - Duration::from_secs(1),
            last_tenth: 0,
        }
    }

    pub fn add(&mut self, n: u64) {
        self.done += n;
        let tenth = (self.done * 10).checked_div(self.total).unwrap_or(0).min(10);
        if self.tty && self.last.elapsed() >= Duration::from_millis(100) {
            self.last = Instant::now();
            self.draw();
        } else if !self.tty && self.total >= 1000 && tenth > self.last_tenth && tenth < 10 {
            self.last_tenth = tenth;
            eprintln!("{}: {}%", self.label, tenth * 10);
        }
    }

    fn draw(&self) {
        let width = 30u64;
        let filled = (self.done * width).checked_div(self.total).unwrap_or(0).min(width) as usize;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width as usize - filled));
        let pct = (self.done * 100).checked_div(self.total).unwrap_or(0).min(100);
        let mut err = std::io::stderr();
        let _ = write!(err, "\r{} [{bar}] {pct:3}% ({}/{})", self.label, self.done, self.total);
        let _ = err.flush();
    }

    /// Ends the display with a final line.
    pub fn finish(self, summary: &str) {
        if self.tty {
            self.draw();
            eprintln!();
        }
        eprintln!("{}: {summary}", self.label);
    }
}
