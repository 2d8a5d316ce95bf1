//! [`FileWal`]: durable state on disk as a checkpoint plus an append-only log of journal records.
//!
//! The data directory holds two files:
//!
//! * `checkpoint`: one whole value, `SYNODCP1 | generation u64 | len u32 | crc32 u32 | payload`
//!   (integers big-endian, the CRC covering the generation and the payload). It is replaced
//!   atomically: written to `checkpoint.tmp`, fsynced, renamed over, and the directory fsynced.
//! * `wal`: `SYNODWL1 | generation u64`, then one entry per persist:
//!   `len u32 | crc32 u32 | payload`, the payload being the postcard encoding of the
//!   `Vec<D::Record>` that [`Journal::diff`] returned. Each entry is written with one `write`
//!   and made durable with `fdatasync` before [`Storage::persist`] returns.
//!
//! The log file is preallocated: it is extended [`WalOptions::preallocate_bytes`] at a time
//! with zeros that are written and synced once, the way etcd preallocates its WAL segments.
//! Each persist then overwrites zeros inside the file, so its `fdatasync` flushes the entry's
//! data only; appending to a growing file instead makes every `fdatasync` also commit the
//! new file size through the file system's journal (on ext4 a second, serialised write per
//! persist, done by a kernel thread). An entry's length is never 0 (a persist writes at least
//! one record), so a zero length marks the end of the log.
//!
//! One entry per persist, not per record, makes a persist atomic: a crash in the middle of the
//! write leaves a torn or bad-CRC entry, which recovery drops *whole* (the persist never
//! returned, so no effect that depended on it was released), rather than half of a persist's
//! records.
//!
//! The log's generation ties it to its checkpoint. A new checkpoint takes the next generation
//! and only then resets the log; if a crash falls between the two, the old log's generation
//! no longer matches and recovery ignores it: its records are already in the new checkpoint.

use crate::storage::{Storage, Written};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use synod_core::Journal;

const CHECKPOINT_MAGIC: &[u8; 8] = b"SYNODCP1";
const LOG_MAGIC: &[u8; 8] = b"SYNODWL1";
const LOG_HEADER: u64 = 16;

/// When [`FileWal`] syncs and checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// Whether every persist ends with an fsync (default true; turn off only to measure what
    /// durability costs).
    pub fsync: bool,
    /// The log is folded into a new checkpoint once it exceeds both this many bytes and four
    /// times the checkpoint's size (default 1 MiB)...
    pub checkpoint_min_bytes: u64,
    /// ...or, whatever the checkpoint's size, once it exceeds this many bytes (default 64 MiB).
    pub checkpoint_max_bytes: u64,
    /// The log file grows by this many zero bytes at a time, written and synced once, so that
    /// a persist never changes the file's size (default 4 MiB; 0 appends to a growing file).
    pub preallocate_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> WalOptions {
        WalOptions {
            fsync: true,
            checkpoint_min_bytes: 1 << 20,
            checkpoint_max_bytes: 64 << 20,
            preallocate_bytes: 4 << 20,
        }
    }
}

/// Durable state in a data directory (see the [module documentation](self) for the format).
///
/// It keeps the last persisted value in memory, to compute the next [`Journal::diff`].
#[derive(Debug)]
pub struct FileWal<D> {
    dir: PathBuf,
    opts: WalOptions,
    /// The open log, positioned at its end; `None` before the first checkpoint.
    log: Option<File>,
    generation: u64,
    /// Where the log's entries end (the next entry's offset).
    log_bytes: u64,
    /// The log file's length: `log_bytes` plus preallocated zeros.
    log_allocated: u64,
    checkpoint_bytes: u64,
    last: Option<D>,
    _records: PhantomData<fn() -> D>,
}

impl<D: Journal> FileWal<D> {
    /// Storage in `dir` (created if missing). Nothing is read until [`Storage::load`].
    pub fn open(dir: impl AsRef<Path>, opts: WalOptions) -> io::Result<FileWal<D>> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| with_path(e, "cannot create", &dir))?;
        Ok(FileWal {
            dir,
            opts,
            log: None,
            generation: 0,
            log_bytes: 0,
            log_allocated: 0,
            checkpoint_bytes: 0,
            last: None,
            _records: PhantomData,
        })
    }

    fn checkpoint_path(&self) -> PathBuf {
        self.dir.join("checkpoint")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("wal")
    }

    /// Reads the checkpoint: `None` if there is none.
    fn read_checkpoint(&self) -> io::Result<Option<(u64, D, u64)>> {
        let path = self.checkpoint_path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(with_path(e, "cannot read", &path)),
        };
        let corrupt = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt checkpoint {}: {why}", path.display()),
            )
        };
        if bytes.len() < 24 || &bytes[..8] != CHECKPOINT_MAGIC {
            return Err(corrupt("bad header"));
        }
        let generation = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let len = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let payload = &bytes[24..];
        if payload.len() != len {
            return Err(corrupt("wrong length"));
        }
        if crc32(&[&bytes[8..16], payload]) != crc {
            return Err(corrupt("bad checksum"));
        }
        let value = postcard::from_bytes(payload).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some((generation, value, bytes.len() as u64)))
    }

    /// Writes `value` as the new checkpoint and starts an empty log for it.
    fn checkpoint(&mut self, value: D) -> io::Result<Written> {
        let generation = self.generation + 1;
        let payload = postcard::to_stdvec(&value)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let gen_bytes = generation.to_be_bytes();
        let mut bytes = Vec::with_capacity(24 + payload.len());
        bytes.extend_from_slice(CHECKPOINT_MAGIC);
        bytes.extend_from_slice(&gen_bytes);
        bytes.extend_from_slice(&frame_len(payload.len())?.to_be_bytes());
        bytes.extend_from_slice(&crc32(&[&gen_bytes, &payload]).to_be_bytes());
        bytes.extend_from_slice(&payload);

        let tmp = self.dir.join("checkpoint.tmp");
        let mut file = File::create(&tmp).map_err(|e| with_path(e, "cannot create", &tmp))?;
        file.write_all(&bytes)?;
        if self.opts.fsync {
            file.sync_all()?;
        }
        fs::rename(&tmp, self.checkpoint_path())?;
        if self.opts.fsync {
            File::open(&self.dir)?.sync_all()?;
        }
        self.generation = generation;
        self.checkpoint_bytes = bytes.len() as u64;
        self.reset_log()?;
        self.last = Some(value);
        Ok(Written {
            bytes: bytes.len() as u64 + LOG_HEADER,
            checkpoint: true,
            synced: self.opts.fsync,
        })
    }

    /// Empties the log and stamps it with the current generation.
    fn reset_log(&mut self) -> io::Result<()> {
        let path = self.log_path();
        let mut log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| with_path(e, "cannot open", &path))?;
        log.set_len(0)?;
        log.write_all(LOG_MAGIC)?;
        log.write_all(&self.generation.to_be_bytes())?;
        let allocated = self.preallocate(&mut log, LOG_HEADER, 0)?;
        if self.opts.fsync {
            log.sync_all()?;
        }
        log.seek(SeekFrom::Start(LOG_HEADER))?;
        self.log = Some(log);
        self.log_bytes = LOG_HEADER;
        self.log_allocated = allocated;
        Ok(())
    }

    /// Writes zeros after `end` (where the file's written bytes end, the cursor being there)
    /// until the file holds at least `need` bytes more, in whole preallocation steps; returns
    /// the file's new length. The caller syncs.
    fn preallocate(&self, log: &mut File, end: u64, need: u64) -> io::Result<u64> {
        let step = self.opts.preallocate_bytes;
        if step == 0 {
            return Ok(end);
        }
        let target = (end + need).div_ceil(step).max(1) * step;
        let zeros = vec![0u8; (target - end).min(1 << 20) as usize];
        let mut at = end;
        while at < target {
            let n = (target - at).min(zeros.len() as u64) as usize;
            log.write_all(&zeros[..n])?;
            at += n as u64;
        }
        Ok(target)
    }

    /// Opens the log of the loaded checkpoint and replays its entries over `value`, truncating
    /// a torn tail. A log of another generation is stale and is reset.
    fn replay(&mut self, value: &mut D) -> io::Result<()> {
        let path = self.log_path();
        let mut log = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.reset_log(),
            Err(e) => return Err(with_path(e, "cannot open", &path)),
        };
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes)?;
        let stamped = bytes.len() >= LOG_HEADER as usize
            && &bytes[..8] == LOG_MAGIC
            && bytes[8..16] == self.generation.to_be_bytes();
        if !stamped {
            return self.reset_log();
        }
        let (entries, good_end) = replay_entries(&bytes[LOG_HEADER as usize..], value);
        let good_end = LOG_HEADER + good_end as u64;
        // A torn tail is whatever is not zero after the intact entries: cut it off, and zero
        // the preallocated space again so that the next entries are followed by zeros.
        let dropped = bytes[good_end as usize..]
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |last| last as u64 + 1);
        let mut allocated = bytes.len() as u64;
        if dropped > 0 {
            log.set_len(good_end)?;
            log.seek(SeekFrom::Start(good_end))?;
            allocated = self.preallocate(&mut log, good_end, 0)?;
            log.sync_all()?;
        }
        log.seek(SeekFrom::Start(good_end))?;
        eprintln!(
            "synod wal {}: checkpoint generation {}, replayed {entries} log entries, dropped a \
             torn tail of {dropped} bytes",
            self.dir.display(),
            self.generation
        );
        self.log = Some(log);
        self.log_bytes = good_end;
        self.log_allocated = allocated.max(good_end);
        Ok(())
    }

    fn log_is_full(&self) -> bool {
        let o = &self.opts;
        self.log_bytes > o.checkpoint_max_bytes
            || (self.log_bytes > o.checkpoint_min_bytes
                && self.log_bytes > 4 * self.checkpoint_bytes)
    }
}

/// Applies every intact entry of `entries` to `value`; returns how many, and where the intact
/// prefix ends.
fn replay_entries<D: Journal>(entries: &[u8], value: &mut D) -> (usize, usize) {
    let (mut count, mut pos) = (0, 0);
    while let Some(head) = entries.get(pos..pos + 8) {
        let len = u32::from_be_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(head[4..].try_into().expect("4 bytes"));
        if len == 0 {
            break; // preallocated zeros: the end of the log
        }
        let Some(payload) = entries.get(pos + 8..pos + 8 + len) else {
            break; // torn: the write stopped inside the payload
        };
        if crc32(&[payload]) != crc {
            break;
        }
        let Ok(records) = postcard::from_bytes::<Vec<D::Record>>(payload) else {
            break;
        };
        for r in records {
            value.apply(r);
        }
        count += 1;
        pos += 8 + len;
    }
    (count, pos)
}

impl<D: Journal> Storage<D> for FileWal<D> {
    fn load(&mut self) -> io::Result<Option<D>> {
        let Some((generation, mut value, size)) = self.read_checkpoint()? else {
            return Ok(None);
        };
        self.generation = generation;
        self.checkpoint_bytes = size;
        self.replay(&mut value)?;
        self.last = Some(value.clone());
        Ok(Some(value))
    }

    fn persist(&mut self, value: D) -> io::Result<Written> {
        let records = match (&self.last, &self.log) {
            (Some(old), Some(_)) if !self.log_is_full() => D::diff(old, &value),
            _ => None,
        };
        let Some(records) = records else {
            return self.checkpoint(value);
        };
        if records.is_empty() {
            return Ok(Written::default()); // by the Journal law, nothing changed
        }
        let payload = postcard::to_stdvec(&records)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut entry = Vec::with_capacity(8 + payload.len());
        entry.extend_from_slice(&frame_len(payload.len())?.to_be_bytes());
        entry.extend_from_slice(&crc32(&[&payload]).to_be_bytes());
        entry.extend_from_slice(&payload);
        let mut log = self.log.take().expect("a log exists after a checkpoint");
        let end = self.log_bytes + entry.len() as u64;
        let written = log.write_all(&entry).and_then(|()| {
            if end <= self.log_allocated {
                // Inside the preallocated zeros: the file's size does not change.
                return if self.opts.fsync {
                    log.sync_data()
                } else {
                    Ok(())
                };
            }
            // Past them: grow the file by whole steps of zeros, and sync its new size too.
            let allocated = self.preallocate(&mut log, end, 0)?;
            log.seek(SeekFrom::Start(end))?;
            if self.opts.fsync {
                log.sync_all()?;
            }
            self.log_allocated = allocated.max(end);
            Ok(())
        });
        self.log = Some(log);
        written?;
        self.log_bytes = end;
        self.last = Some(value);
        Ok(Written {
            bytes: entry.len() as u64,
            checkpoint: false,
            synced: self.opts.fsync,
        })
    }

    fn blocks(&self) -> bool {
        true
    }
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn frame_len(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a durable value of {len} bytes is too large to write (4 GiB at most)"),
        )
    })
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    /// A term and an append-only list: records for appends and term changes, a checkpoint for
    /// anything else.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct Log {
        term: u64,
        items: Vec<u64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    enum Rec {
        Term(u64),
        Push(u64),
    }

    impl Journal for Log {
        type Record = Rec;
        fn diff(old: &Log, new: &Log) -> Option<Vec<Rec>> {
            let tail = new.items.strip_prefix(&old.items[..])?;
            let mut recs: Vec<Rec> = tail.iter().map(|&x| Rec::Push(x)).collect();
            if new.term != old.term {
                recs.push(Rec::Term(new.term));
            }
            Some(recs)
        }
        fn apply(&mut self, r: Rec) {
            match r {
                Rec::Term(t) => self.term = t,
                Rec::Push(x) => self.items.push(x),
            }
        }
    }

    fn log(term: u64, items: &[u64]) -> Log {
        Log {
            term,
            items: items.to_vec(),
        }
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "synod-wal-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
        fn wal(&self) -> FileWal<Log> {
            self.wal_with(WalOptions::default())
        }
        fn wal_with(&self, opts: WalOptions) -> FileWal<Log> {
            FileWal::open(&self.0, opts).unwrap()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_empty_directory_loads_nothing() {
        let dir = TempDir::new("empty");
        assert_eq!(dir.wal().load().unwrap(), None);
    }

    #[test]
    fn persisted_values_reload_from_checkpoint_and_records() {
        let dir = TempDir::new("reload");
        let mut w = dir.wal();
        assert_eq!(w.load().unwrap(), None);
        let first = w.persist(log(1, &[10])).unwrap();
        assert!(first.checkpoint && first.synced);
        let second = w.persist(log(2, &[10, 11, 12])).unwrap();
        assert!(!second.checkpoint && second.synced);
        assert_eq!(
            w.persist(log(2, &[10, 11, 12])).unwrap(),
            Written::default()
        );
        w.persist(log(2, &[10, 11, 12, 13])).unwrap();
        drop(w);
        // Independent check: the log holds exactly two entries after its header, then only
        // the preallocated zeros, in one whole preallocation step.
        let raw = fs::read(dir.0.join("wal")).unwrap();
        let (entries, end) = replay_entries(&raw[16..], &mut log(1, &[10]));
        assert_eq!(entries, 2);
        assert!(raw[16 + end..].iter().all(|&b| b == 0));
        assert_eq!(raw.len() as u64, WalOptions::default().preallocate_bytes);

        let mut again = dir.wal();
        assert_eq!(again.load().unwrap(), Some(log(2, &[10, 11, 12, 13])));
        // Appending continues where the log ended.
        again.persist(log(3, &[10, 11, 12, 13])).unwrap();
        assert_eq!(dir.wal().load().unwrap(), Some(log(3, &[10, 11, 12, 13])));
    }

    #[test]
    fn a_torn_tail_is_dropped_whole_and_truncated() {
        let dir = TempDir::new("torn");
        let mut w = dir.wal();
        w.load().unwrap();
        w.persist(log(1, &[1])).unwrap();
        w.persist(log(1, &[1, 2])).unwrap();
        drop(w);
        let path = dir.0.join("wal");
        let intact = fs::read(&path).unwrap();
        let end = 16 + replay_entries(&intact[16..], &mut log(0, &[])).1;
        // A torn write lands where the intact entries end, over the preallocated zeros.
        let tear = |bytes: &[u8]| {
            let mut f = OpenOptions::new().write(true).open(&path).unwrap();
            f.seek(SeekFrom::Start(end as u64)).unwrap();
            f.write_all(bytes).unwrap();
        };
        // Half of an entry: a length announcing 100 bytes, a checksum, and 5 bytes of payload.
        tear(&[0, 0, 0, 100, 1, 2, 3, 4, 9, 9, 9, 9, 9]);
        assert_eq!(dir.wal().load().unwrap(), Some(log(1, &[1, 2])));
        assert_eq!(fs::read(&path).unwrap(), intact, "torn tail zeroed");

        // A complete entry with a wrong checksum is dropped too.
        tear(&[0, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef, 1, 7]);
        let mut w = dir.wal();
        assert_eq!(w.load().unwrap(), Some(log(1, &[1, 2])));
        assert_eq!(fs::read(&path).unwrap(), intact);
        // The next entry goes where the torn one was, and reloads.
        w.persist(log(1, &[1, 2, 3])).unwrap();
        drop(w);
        assert_eq!(dir.wal().load().unwrap(), Some(log(1, &[1, 2, 3])));

        // Without preallocation, the torn tail is cut off the end of the file.
        let dir = TempDir::new("torn-unallocated");
        let opts = WalOptions {
            preallocate_bytes: 0,
            ..WalOptions::default()
        };
        let mut w = dir.wal_with(opts);
        w.load().unwrap();
        w.persist(log(1, &[1])).unwrap();
        w.persist(log(1, &[1, 2])).unwrap();
        drop(w);
        let path = dir.0.join("wal");
        let intact = fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0, 0, 0, 100, 1, 2, 3, 4, 9]).unwrap();
        drop(f);
        assert_eq!(dir.wal_with(opts).load().unwrap(), Some(log(1, &[1, 2])));
        assert_eq!(fs::metadata(&path).unwrap().len(), intact, "tail truncated");
    }

    #[test]
    fn the_log_grows_by_whole_preallocation_steps() {
        let dir = TempDir::new("grow");
        let opts = WalOptions {
            preallocate_bytes: 64,
            ..WalOptions::default()
        };
        let mut w = dir.wal_with(opts);
        w.load().unwrap();
        let mut value = log(1, &[]);
        for i in 0..50 {
            value.items.push(1000 + i);
            assert!(!w.persist(value.clone()).unwrap().checkpoint || i == 0);
            let len = fs::metadata(dir.0.join("wal")).unwrap().len();
            assert_eq!(len % 64, 0, "length {len} after {i}");
        }
        drop(w);
        let raw = fs::read(dir.0.join("wal")).unwrap();
        let (entries, end) = replay_entries(&raw[16..], &mut log(0, &[]));
        assert_eq!(entries, 49, "one checkpoint, then one entry per persist");
        assert!(16 + end <= raw.len() && raw[16 + end..].iter().all(|&b| b == 0));
        assert_eq!(dir.wal_with(opts).load().unwrap(), Some(value));
    }

    #[test]
    fn a_value_the_journal_cannot_diff_is_checkpointed() {
        let dir = TempDir::new("diff-none");
        let mut w = dir.wal();
        w.load().unwrap();
        w.persist(log(1, &[1, 2, 3])).unwrap();
        w.persist(log(1, &[1, 2, 3, 4])).unwrap();
        let rewritten = w.persist(log(2, &[1, 9])).unwrap(); // not an append: diff says None
        assert!(rewritten.checkpoint);
        drop(w);
        let raw = fs::read(dir.0.join("wal")).unwrap();
        assert!(
            raw[16..].iter().all(|&b| b == 0),
            "the new checkpoint starts an empty log"
        );
        assert_eq!(&raw[8..16], &2u64.to_be_bytes(), "of the next generation");
        assert_eq!(dir.wal().load().unwrap(), Some(log(2, &[1, 9])));
    }

    #[test]
    fn a_stale_log_from_before_a_checkpoint_is_ignored() {
        let dir = TempDir::new("stale");
        let mut w = dir.wal();
        w.load().unwrap();
        w.persist(log(1, &[1])).unwrap();
        w.persist(log(1, &[1, 2])).unwrap();
        drop(w);
        let old_log = fs::read(dir.0.join("wal")).unwrap();
        let mut w = dir.wal();
        w.load().unwrap();
        w.persist(log(5, &[7])).unwrap(); // checkpoint, generation 2
        drop(w);
        // A crash between the checkpoint's rename and the log's reset leaves the old log.
        fs::write(dir.0.join("wal"), old_log).unwrap();
        assert_eq!(dir.wal().load().unwrap(), Some(log(5, &[7])));
    }

    #[test]
    fn a_long_log_is_folded_into_a_checkpoint() {
        let dir = TempDir::new("fold");
        let opts = WalOptions {
            checkpoint_min_bytes: 64,
            checkpoint_max_bytes: 1 << 20,
            ..WalOptions::default()
        };
        let mut w = dir.wal_with(opts);
        w.load().unwrap();
        let mut value = log(1, &[]);
        let mut checkpoints = 0;
        for i in 0..40 {
            value.items.push(i);
            checkpoints += u32::from(w.persist(value.clone()).unwrap().checkpoint);
        }
        assert!(checkpoints >= 2, "only {checkpoints} checkpoints");
        drop(w);
        assert_eq!(dir.wal_with(opts).load().unwrap(), Some(value));
    }

    #[test]
    fn a_corrupt_checkpoint_is_an_error_naming_the_file() {
        let dir = TempDir::new("corrupt");
        let mut w = dir.wal();
        w.load().unwrap();
        w.persist(log(1, &[1])).unwrap();
        drop(w);
        let path = dir.0.join("checkpoint");
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 0xff;
        fs::write(&path, bytes).unwrap();
        let err = dir.wal().load().unwrap_err().to_string();
        assert!(
            err.contains("corrupt checkpoint") && err.contains("checksum"),
            "{err}"
        );
    }

    #[test]
    fn fsync_can_be_turned_off() {
        let dir = TempDir::new("nosync");
        let mut w = dir.wal_with(WalOptions {
            fsync: false,
            ..WalOptions::default()
        });
        w.load().unwrap();
        assert!(!w.persist(log(1, &[1])).unwrap().synced);
        assert!(!w.persist(log(1, &[1, 2])).unwrap().synced);
    }
}
