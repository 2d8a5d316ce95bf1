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

/// One journal line, as [`read_fates`] needs it.
#[derive(serde::Deserialize)]
struct Line {
    t: u64,
    ev: String,
    id: Option<u64>,
    src: Option<String>,
    dest: Option<String>,
    why: Option<String>,
}

/// Recorded fates of a journal's messages per (source, destination) id pair, in sending
/// order: how long each took to arrive, or whether it was lost or cut off. Messages that
/// neither arrived nor were dropped (the run ended first) end their link's record.
pub fn read_fates(
    path: &Path,
) -> io::Result<
    std::collections::BTreeMap<(String, String), std::collections::VecDeque<crate::net::Fate>>,
> {
    use crate::net::Fate;
    use std::collections::{BTreeMap, VecDeque};
    use std::io::BufRead;
    let file = std::io::BufReader::new(File::open(path)?);
    // Per message id: its link and send time; then its fate.
    let mut sent: BTreeMap<u64, (String, String, u64)> = BTreeMap::new();
    let mut order: Vec<u64> = Vec::new();
    let mut fates: BTreeMap<u64, Fate> = BTreeMap::new();
    for (k, line) in file.lines().enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(&line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: line {}: not a journal line ({e})",
                    path.display(),
                    k + 1
                ),
            )
        })?;
        let Some(id) = l.id else { continue };
        match l.ev.as_str() {
            "send" => {
                if let (Some(src), Some(dest)) = (l.src, l.dest) {
                    sent.insert(id, (src, dest, l.t));
                    order.push(id);
                }
            }
            "deliver" => {
                if let Some((_, _, t0)) = sent.get(&id) {
                    fates.insert(
                        id,
                        Fate::After(std::time::Duration::from_nanos(l.t.saturating_sub(*t0))),
                    );
                }
            }
            "drop" => {
                let fate = match l.why.as_deref() {
                    Some("loss") => Fate::Lost,
                    Some("partition") => Fate::Cut,
                    _ => match sent.get(&id) {
                        Some((_, _, t0)) => {
                            Fate::After(std::time::Duration::from_nanos(l.t.saturating_sub(*t0)))
                        }
                        None => continue,
                    },
                };
                fates.insert(id, fate);
            }
            _ => {}
        }
    }
    let mut out: BTreeMap<(String, String), VecDeque<Fate>> = BTreeMap::new();
    let mut ended: std::collections::BTreeSet<(String, String)> = Default::default();
    for id in order {
        let (src, dest, _) = sent.remove(&id).expect("recorded");
        let link = (src, dest);
        if ended.contains(&link) {
            continue;
        }
        match fates.get(&id) {
            Some(f) => out.entry(link).or_default().push_back(*f),
            None => {
                ended.insert(link);
            }
        }
    }
    Ok(out)
}
