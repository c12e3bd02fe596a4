//! A small HTTP/1.1 server on 127.0.0.1 for the snapshot tests: real sockets, real hyper, and
//! handlers that answer the way hostile or broken sites do.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A response the handlers build.
pub type Reply = Response<UnsyncBoxBody<Bytes, Infallible>>;

/// What the handler is given: the request's path (with query) and the server's counters.
pub type Handler = Arc<dyn Fn(&str, &Counters) -> Reply + Send + Sync>;

/// What the server saw and sent.
#[derive(Default)]
pub struct Counters {
    hits: Mutex<Vec<String>>,
    streamed: Arc<AtomicU64>,
}

impl Counters {
    /// The bytes produced so far by [`stream`] bodies.
    pub fn streamed(&self) -> Arc<AtomicU64> {
        self.streamed.clone()
    }
}

/// A running server; it stops when dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Server {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start(handler: impl Fn(&str, &Counters) -> Reply + Send + Sync + 'static) -> Self {
        let handler: Handler = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let counters = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let path = request
                            .uri()
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default();
                        counters.hits.lock().unwrap().push(path.clone());
                        let reply = handler(&path, &counters);
                        async move { Ok::<_, Infallible>(reply) }
                    });
                    // Errors here are the client hanging up, which several tests provoke.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            counters,
            task,
        }
    }

    /// The full address of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The paths requested so far, in order.
    pub fn hits(&self) -> Vec<String> {
        self.counters.hits.lock().unwrap().clone()
    }

    /// The body bytes produced so far by streamed responses.
    pub fn streamed(&self) -> u64 {
        self.counters.streamed.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn full(body: impl Into<Bytes>) -> UnsyncBoxBody<Bytes, Infallible> {
    Full::new(body.into()).boxed_unsync()
}

/// A 200 response with this content type and body.
pub fn ok(content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(full(body));
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
    reply
}

/// An HTML page in UTF-8, declared in the header.
pub fn html(body: &str) -> Reply {
    ok("text/html; charset=utf-8", body.to_owned())
}

/// A 302 to `location`.
pub fn redirect(location: &str) -> Reply {
    let mut reply = Response::new(full(Bytes::new()));
    *reply.status_mut() = StatusCode::FOUND;
    reply
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_str(location).unwrap());
    reply
}

/// An empty response with this status.
pub fn status(code: u16) -> Reply {
    let mut reply = Response::new(full(Bytes::new()));
    *reply.status_mut() = StatusCode::from_u16(code).unwrap();
    reply
}

/// A body produced chunk by chunk: `head` first, then `filler` repeated until `total` bytes,
/// with a pause before each chunk, counting every produced byte. Declares `Content-Length:
/// total` when asked.
pub fn stream(
    counters: &Counters,
    content_type: &str,
    head: Bytes,
    filler: Bytes,
    total: u64,
    pause: Duration,
    declare_length: bool,
) -> Reply {
    let produced = counters.streamed();
    let chunks = futures::stream::unfold(0u64, move |sent| {
        let head = head.clone();
        let filler = filler.clone();
        let produced = produced.clone();
        async move {
            if sent >= total {
                return None;
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            let chunk = if sent == 0 { head } else { filler };
            let chunk = chunk.slice(..chunk.len().min((total - sent) as usize));
            produced.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            let next = sent + chunk.len() as u64;
            Some((Ok::<_, Infallible>(Frame::data(chunk)), next))
        }
    });
    let mut reply = Response::new(StreamBody::new(chunks).boxed_unsync());
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
    if declare_length {
        reply.headers_mut().insert(CONTENT_LENGTH, total.into());
    }
    reply
}
