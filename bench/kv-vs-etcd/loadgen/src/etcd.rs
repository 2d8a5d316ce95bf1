//! The etcd v3 target, over the `etcd-client` crate (tonic gRPC).

use std::time::Duration;

use crate::target::{Error, Target};

/// One etcd client: a balanced tonic channel over every endpoint given (one HTTP/2
/// connection per endpoint, requests spread over the ready ones). Clones share it.
#[derive(Clone)]
pub struct Etcd {
    kv: etcd_client::KvClient,
}

impl Target for Etcd {
    async fn connect(endpoints: &[String], request_timeout: Duration) -> Result<Self, Error> {
        let opts = etcd_client::ConnectOptions::new()
            .with_timeout(request_timeout)
            .with_connect_timeout(Duration::from_secs(2));
        let client = etcd_client::Client::connect(endpoints, Some(opts)).await?;
        Ok(Etcd {
            kv: client.kv_client(),
        })
    }

    async fn put(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        // `KvClient` is a cheap handle on the shared channel; `put` needs `&mut`.
        let mut kv = self.kv.clone();
        kv.put(key, value, None).await?;
        Ok(())
    }
}
