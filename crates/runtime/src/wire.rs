//! The wire format: length-prefixed frames, postcard payloads and the connection handshake.
//!
//! Every TCP connection carries a sequence of *frames*: a `u32` big-endian payload length, then
//! that many payload bytes. Payloads are [postcard](https://docs.rs/postcard) encodings of serde
//! values. A reader refuses a length above its configured maximum *before* allocating anything,
//! so a hostile or corrupted length prefix costs nothing but the connection.
//!
//! A connection opens with one [`Hello`] frame from the connecting side, answered by one
//! [`HelloReply`] frame. After a [`HelloReply::Welcome`], a peer connection carries the sender's
//! protocol messages (one `P::Msg` per frame) in one direction only; a client connection carries
//! opaque application frames both ways.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::fmt;
use std::io;
use synod_core::NodeId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The first four bytes of every [`Hello`]: `SYND`.
pub const MAGIC: u32 = u32::from_be_bytes(*b"SYND");
/// The wire version this build speaks; a peer with another version is rejected.
pub const VERSION: u16 = 1;
/// The default largest payload a reader accepts: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// The first frame of every connection: who is calling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Always [`MAGIC`]; anything else is not a synod connection.
    pub magic: u32,
    /// The caller's [`VERSION`].
    pub version: u16,
    /// The cluster the caller belongs to: two clusters on one host never talk by mistake.
    pub cluster: u64,
    /// Peer node or client.
    pub role: Role,
}

impl Hello {
    /// A hello from this build for `cluster` in `role`.
    pub fn new(cluster: u64, role: Role) -> Hello {
        Hello {
            magic: MAGIC,
            version: VERSION,
            cluster,
            role,
        }
    }
}

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Node `id` of the cluster, which will send its protocol messages.
    Peer(NodeId),
    /// An application client, which will exchange opaque frames with the application.
    Client,
}

/// The acceptor's answer to a [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloReply {
    /// Accepted by node `node`.
    Welcome {
        /// The accepting node.
        node: NodeId,
    },
    /// Refused; the acceptor closes the connection after this frame.
    Reject {
        /// Why, for the caller's log.
        reason: String,
    },
}

/// Why an acceptor refused a connection. Each is counted in [`crate::Stats::rejected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The first frame was not a decodable [`Hello`] (or did not arrive in time).
    Malformed,
    /// The magic number was not [`MAGIC`].
    BadMagic(u32),
    /// The caller speaks another wire version.
    Version(u16),
    /// The caller belongs to another cluster.
    Cluster(u64),
    /// The caller claims a node id outside the configured cluster.
    UnknownPeer(NodeId),
    /// The caller claims to be the acceptor itself.
    OwnId(NodeId),
    /// A client called a node whose application takes no clients.
    NoClients,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::Malformed => write!(f, "the first frame is not a synod hello"),
            RejectReason::BadMagic(m) => write!(f, "bad magic {m:#010x}"),
            RejectReason::Version(v) => {
                write!(f, "wire version {v} is not this node's version {VERSION}")
            }
            RejectReason::Cluster(c) => write!(f, "cluster id {c} is not this node's cluster"),
            RejectReason::UnknownPeer(id) => write!(f, "{id} is not a node of this cluster"),
            RejectReason::OwnId(id) => write!(f, "the caller claims this node's own id {id}"),
            RejectReason::NoClients => write!(f, "this node takes no client connections"),
        }
    }
}

/// What an acceptor checks a [`Hello`] against.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// The accepting node.
    pub me: NodeId,
    /// The cluster's node count: peers are `n0..n{n-1}`.
    pub n: usize,
    /// The cluster id.
    pub cluster: u64,
    /// Whether the application takes client connections.
    pub clients: bool,
}

impl Expect {
    /// Accepts `hello` (returning the caller's role) or says why not.
    pub fn check(&self, hello: &Hello) -> Result<Role, RejectReason> {
        if hello.magic != MAGIC {
            return Err(RejectReason::BadMagic(hello.magic));
        }
        if hello.version != VERSION {
            return Err(RejectReason::Version(hello.version));
        }
        if hello.cluster != self.cluster {
            return Err(RejectReason::Cluster(hello.cluster));
        }
        match hello.role {
            Role::Peer(id) if id == self.me => Err(RejectReason::OwnId(id)),
            Role::Peer(id) if id.index() >= self.n => Err(RejectReason::UnknownPeer(id)),
            Role::Client if !self.clients => Err(RejectReason::NoClients),
            role => Ok(role),
        }
    }
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The length prefix exceeds the reader's maximum; nothing was allocated and the stream is
    /// out of sync, so the connection must be closed.
    Oversized {
        /// The announced payload length.
        len: usize,
        /// The reader's maximum.
        max: usize,
    },
    /// The stream failed or ended in the middle of a frame ([`io::ErrorKind::UnexpectedEof`]).
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Oversized { len, max } => {
                write!(f, "a frame of {len} bytes exceeds the limit of {max}")
            }
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> FrameError {
        FrameError::Io(e)
    }
}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> io::Error {
        match e {
            FrameError::Io(e) => e,
            oversized => io::Error::new(io::ErrorKind::InvalidData, oversized.to_string()),
        }
    }
}

/// Reads frames from a byte stream (buffered: a frame's length and payload cost one read call
/// when they are already in the kernel).
///
/// [`FrameReader::next_frame`] is not cancel-safe: do not race it in a `select!` against other
/// futures; give the reading its own task instead.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: BufReader<R>,
    max: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads frames from `inner`, refusing payloads above `max` bytes.
    pub fn new(inner: R, max: usize) -> FrameReader<R> {
        FrameReader {
            inner: BufReader::with_capacity(64 << 10, inner),
            max,
        }
    }

    /// The next frame's payload, or `None` when the stream ends cleanly between frames.
    pub async fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let mut len = [0u8; 4];
        let mut filled = 0;
        while filled < len.len() {
            let k = self.inner.read(&mut len[filled..]).await?;
            if k == 0 {
                if filled == 0 {
                    return Ok(None);
                }
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            filled += k;
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > self.max {
            return Err(FrameError::Oversized { len, max: self.max });
        }
        let mut payload = vec![0; len];
        self.inner.read_exact(&mut payload).await?;
        Ok(Some(payload))
    }
}

/// Writes frames to a byte stream, batching: [`push`](FrameWriter::push) any number of frames,
/// then [`flush`](FrameWriter::flush) them with one write call.
#[derive(Debug)]
pub struct FrameWriter<W> {
    inner: W,
    buf: Vec<u8>,
    max: usize,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Writes frames to `inner`, refusing payloads above `max` bytes.
    pub fn new(inner: W, max: usize) -> FrameWriter<W> {
        FrameWriter {
            inner,
            buf: Vec::new(),
            max,
        }
    }

    /// Queues one frame holding `payload`.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] if `payload` is longer than the maximum frame.
    pub fn push(&mut self, payload: &[u8]) -> io::Result<()> {
        check_len(payload.len(), self.max)?;
        self.buf
            .extend_from_slice(&(payload.len() as u32).to_be_bytes());
        self.buf.extend_from_slice(payload);
        Ok(())
    }

    /// Queues one frame holding the postcard encoding of `value`.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] if the encoding is longer than the maximum frame or
    /// `value` cannot be serialized.
    pub fn push_value<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        let mark = self.buf.len();
        let res = encode_frame(value, &mut self.buf).and_then(|len| check_len(len, self.max));
        if res.is_err() {
            self.buf.truncate(mark);
        }
        res
    }

    /// Bytes queued and not yet flushed.
    pub fn queued(&self) -> usize {
        self.buf.len()
    }

    /// Writes every queued frame, in one write call when the socket takes it all.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let res = self.inner.write_all(&self.buf).await;
            self.buf.clear();
            res?;
        }
        self.inner.flush().await
    }

    /// Queues one frame and flushes.
    pub async fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        self.push(payload)?;
        self.flush().await
    }
}

fn check_len(len: usize, max: usize) -> io::Result<()> {
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            FrameError::Oversized { len, max }.to_string(),
        ));
    }
    Ok(())
}

/// Appends one frame holding the postcard encoding of `value` to `out`; returns the payload
/// length.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] if `value` cannot be serialized or its encoding exceeds
/// `u32::MAX` bytes; `out` is then left as it was.
pub fn encode_frame<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> io::Result<usize> {
    let mark = out.len();
    out.extend_from_slice(&[0; 4]);
    let encoded = postcard::to_io(value, &mut *out)
        .map(|_| ())
        .map_err(|e| invalid(e.to_string()));
    let len = out.len() - mark - 4;
    match (encoded, u32::try_from(len)) {
        (Ok(()), Ok(len32)) => {
            out[mark..mark + 4].copy_from_slice(&len32.to_be_bytes());
            Ok(len)
        }
        (Err(e), _) => {
            out.truncate(mark);
            Err(e)
        }
        (Ok(()), Err(_)) => {
            out.truncate(mark);
            Err(invalid(format!(
                "a payload of {len} bytes does not fit a frame"
            )))
        }
    }
}

/// Decodes a frame's payload.
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] if the payload is not a postcard encoding of a `T`.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> io::Result<T> {
    postcard::from_bytes(payload)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(bytes: &[u8], max: usize) -> Vec<Result<Option<Vec<u8>>, String>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut r = FrameReader::new(bytes, max);
            let mut out = Vec::new();
            loop {
                let f = r.next_frame().await.map_err(|e| e.to_string());
                let done = !matches!(f, Ok(Some(_)));
                out.push(f);
                if done {
                    return out;
                }
            }
        })
    }

    #[test]
    fn frames_round_trip_through_a_batched_writer() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt.block_on(async {
            let mut w = FrameWriter::new(Vec::new(), 100);
            w.push(b"abc").unwrap();
            w.push(b"").unwrap();
            w.push_value(&(7u32, "x".to_string())).unwrap();
            w.flush().await.unwrap();
            w.inner
        });
        // Laid out by hand: 3 "abc", 0, then postcard (varint 7, len 1, 'x').
        assert_eq!(
            bytes,
            [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0, 0, 0, 3, 7, 1, b'x']
        );
        let frames = frames_of(&bytes, 100);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0], Ok(Some(b"abc".to_vec())));
        assert_eq!(frames[1], Ok(Some(Vec::new())));
        let third = frames[2].clone().unwrap().unwrap();
        assert_eq!(
            decode::<(u32, String)>(&third).unwrap(),
            (7, "x".to_string())
        );
        assert_eq!(frames[3], Ok(None), "a clean end between frames");
    }

    #[test]
    fn an_oversized_prefix_is_refused_before_allocating() {
        // A 4 GiB announcement with no payload: allocating it would abort the test process.
        let frames = frames_of(&[0xff, 0xff, 0xff, 0xff], 1024);
        assert_eq!(
            frames,
            vec![Err(format!(
                "a frame of {} bytes exceeds the limit of 1024",
                u32::MAX
            ))]
        );
        let mut w = FrameWriter::new(Vec::new(), 2);
        assert!(w.push(b"abc").is_err());
        assert!(w.push_value("abc").is_err());
        assert_eq!(w.queued(), 0, "a refused frame leaves nothing queued");
    }

    #[test]
    fn truncated_frames_are_errors_not_clean_ends() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for cut in [&[0u8, 0][..], &[0, 0, 0, 5, 1, 2]] {
            let res = rt.block_on(FrameReader::new(cut, 100).next_frame());
            assert!(
                matches!(&res, Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof),
                "{res:?}"
            );
        }
    }

    #[test]
    fn a_payload_of_the_wrong_type_does_not_decode() {
        assert!(decode::<Hello>(&[1, 2]).is_err());
        assert!(decode::<u64>(&[]).is_err());
    }

    #[test]
    fn hellos_are_checked_in_order() {
        let expect = Expect {
            me: NodeId(1),
            n: 3,
            cluster: 9,
            clients: false,
        };
        let ok = Hello::new(9, Role::Peer(NodeId(2)));
        assert_eq!(expect.check(&ok), Ok(Role::Peer(NodeId(2))));
        let cases = [
            (
                Hello {
                    magic: 1,
                    ..ok.clone()
                },
                RejectReason::BadMagic(1),
            ),
            (
                Hello {
                    version: 99,
                    ..ok.clone()
                },
                RejectReason::Version(99),
            ),
            (
                Hello {
                    cluster: 8,
                    ..ok.clone()
                },
                RejectReason::Cluster(8),
            ),
            (
                Hello::new(9, Role::Peer(NodeId(3))),
                RejectReason::UnknownPeer(NodeId(3)),
            ),
            (
                Hello::new(9, Role::Peer(NodeId(1))),
                RejectReason::OwnId(NodeId(1)),
            ),
            (Hello::new(9, Role::Client), RejectReason::NoClients),
        ];
        for (hello, reason) in cases {
            assert_eq!(expect.check(&hello), Err(reason), "{hello:?}");
        }
        let with_clients = Expect {
            clients: true,
            ..expect
        };
        assert_eq!(
            with_clients.check(&Hello::new(9, Role::Client)),
            Ok(Role::Client)
        );
    }
}
