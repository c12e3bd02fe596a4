//! The baselines of the network: a plain QUIC connection between two endpoints on the same
//! machine, kept open through the run, for round trips and for bulk streams.

use std::time::Instant;

use iroh::endpoint::{Connection, presets};
use iroh::{Endpoint, EndpointAddr, RelayMode};

const ALPN: &[u8] = b"bench";

/// Two endpoints and a connection between them for round trips; a bulk stream gets a connection
/// of its own, as a media fetch does.
pub struct Raw {
    conn: Connection,
    addr: EndpointAddr,
    client: Endpoint,
    server: Endpoint,
}

/// Echoes a stream that starts with `p` byte for byte, and answers one that starts with `b`,
/// once it ends, with how many bytes followed.
async fn serve(conn: Connection) {
    while let Ok((mut s, mut r)) = conn.accept_bi().await {
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            r.read_exact(&mut byte).await.unwrap();
            if byte[0] == b'p' {
                while r.read_exact(&mut byte).await.is_ok() {
                    s.write_all(&byte).await.unwrap();
                }
            } else {
                let mut total = 0u64;
                let mut buf = vec![0u8; 1 << 16];
                while let Some(n) = r.read(&mut buf).await.unwrap() {
                    total += n as u64;
                }
                s.write_all(&total.to_be_bytes()).await.unwrap();
                s.finish().unwrap();
            }
        });
    }
}

async fn endpoint(alpns: Vec<Vec<u8>>) -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .alpns(alpns)
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

impl Raw {
    pub async fn start() -> Self {
        let a = endpoint(vec![ALPN.to_vec()]).await;
        let b = endpoint(Vec::new()).await;
        let addr = a.addr();
        let server = a.clone();
        tokio::spawn(async move {
            while let Some(incoming) = a.accept().await {
                let Ok(conn) = incoming.await else { continue };
                tokio::spawn(serve(conn));
            }
        });
        let conn = b.connect(addr.clone(), ALPN).await.unwrap();
        Self {
            conn,
            addr,
            client: b,
            server,
        }
    }

    /// `n` round trips of one byte, in ms, sorted.
    pub async fn rtts(&self, n: usize) -> Vec<f64> {
        let (mut s, mut r) = self.conn.open_bi().await.unwrap();
        s.write_all(b"p").await.unwrap();
        let mut rtts = Vec::new();
        let mut byte = [7u8; 1];
        for _ in 0..n {
            let t = Instant::now();
            s.write_all(&byte).await.unwrap();
            r.read_exact(&mut byte).await.unwrap();
            rtts.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        s.finish().unwrap();
        rtts.sort_by(f64::total_cmp);
        rtts
    }

    /// Connects, sends `payload` on a stream and waits for the other side to have read all of
    /// it; MB/s.
    pub async fn bulk(&self, payload: &[u8]) -> f64 {
        let t = Instant::now();
        let conn = self.client.connect(self.addr.clone(), ALPN).await.unwrap();
        let (mut s, mut r) = conn.open_bi().await.unwrap();
        s.write_all(b"b").await.unwrap();
        s.write_all(payload).await.unwrap();
        s.finish().unwrap();
        let mut got = [0u8; 8];
        r.read_exact(&mut got).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(u64::from_be_bytes(got), payload.len() as u64);
        conn.close(0u32.into(), b"done");
        payload.len() as f64 / 1e6 / secs
    }

    pub async fn close(self) {
        self.conn.close(0u32.into(), b"done");
        self.client.close().await;
        self.server.close().await;
    }
}
