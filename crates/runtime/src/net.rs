//! The socket types. This crate's own unit tests swap tokio's sockets for turmoil's simulated
//! ones (same API), so the real transport runs unchanged in a deterministic, seeded network.

#[cfg(not(test))]
pub(crate) use tokio::net::{
    tcp::{OwnedReadHalf, OwnedWriteHalf},
    TcpListener, TcpStream,
};
#[cfg(test)]
pub(crate) use turmoil::net::{
    tcp::{OwnedReadHalf, OwnedWriteHalf},
    TcpListener, TcpStream,
};
