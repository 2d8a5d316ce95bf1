//! The message journal: every message sent, delivered or dropped, and every phase change and
//! fault, one JSON object per line (`messages.jsonl` in the run folder).
//!
//! ```text
//! {"t":1523000,"ev":"send","id":17,"src":"n1","dest":"n2","body":{"type":"gossip",...}}
//! {"t":1601000,"ev":"deliver","id":17}
//! {"t":1601000,"ev":"drop","id":18,"why":"partition"}
//! {"t":2000000000,"ev":"note","note":"nemesis: partition (halves)"}
//! ```
//!
//! `t` is nanoseconds since the nodes were started. With the run's seed and options (in
//! `results.json`), a journal shows exactly which message each latency and loss decision went
//! to: the network draws per directed link, so the same seed gives the same k-th decision on
//! each link.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A journal file being written.
#[derive(Debug)]
pub struct Journal {
    out: BufWriter<File>,
    failed: bool,
}

impl Journal {
    /// Creates (truncates) the journal at `path`.
    pub fn create(path: &Path) -> io::Result<Journal> {
        Ok(Journal {
            out: BufWriter::with_capacity(1 << 20, File::create(path)?),
            failed: false,
        })
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        if !self.failed && self.out.write_fmt(args).is_err() {
            self.failed = true; // a full disk must not stop the run; the report says so
        }
    }

    /// A message sent.
    pub fn send(&mut self, t: u64, id: u64, src: &str, dest: &str, body: &str) {
        let src = serde_json::Value::from(src);
        let dest = serde_json::Value::from(dest);
        self.line(format_args!(
            "{{\"t\":{t},\"ev\":\"send\",\"id\":{id},\"src\":{src},\"dest\":{dest},\"body\":{body}}}\n"
        ));
    }

    /// A message delivered.
    pub fn deliver(&mut self, t: u64, id: u64) {
        self.line(format_args!(
            "{{\"t\":{t},\"ev\":\"deliver\",\"id\":{id}}}\n"
        ));
    }

    /// A message dropped.
    pub fn drop_msg(&mut self, t: u64, id: u64, why: &str) {
        self.line(format_args!(
            "{{\"t\":{t},\"ev\":\"drop\",\"id\":{id},\"why\":\"{why}\"}}\n"
        ));
    }

    /// A phase change or fault.
    pub fn note(&mut self, t: u64, note: &str) {
        let note = serde_json::Value::from(note);
        self.line(format_args!(
            "{{\"t\":{t},\"ev\":\"note\",\"note\":{note}}}\n"
        ));
    }

    /// Flushes to disk; false if any write failed.
    pub fn flush(&mut self) -> bool {
        if self.out.flush().is_err() {
            self.failed = true;
        }
        !self.failed
    }
}
