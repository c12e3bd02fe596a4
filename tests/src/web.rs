//! A small HTTP/1.1 server on 127.0.0.1 for link snapshots: real sockets and hyper, answering
//! each path with a page, a picture, a file, a redirect, or a body that trickles in.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// What a path answers.
#[derive(Clone)]
pub enum Answer {
    /// 200 with this content type and body.
    Body(&'static str, Bytes),
    /// 302 to this location.
    Redirect(String),
    /// 200 HTML whose bytes arrive one a second.
    Trickle,
}

type Reply = Response<UnsyncBoxBody<Bytes, Infallible>>;

fn reply(answer: Option<Answer>) -> Reply {
    let full = |b: Bytes| Full::new(b).boxed_unsync();
    match answer {
        Some(Answer::Body(kind, body)) => {
            let mut r = Response::new(full(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
            r
        }
        Some(Answer::Redirect(to)) => {
            let mut r = Response::new(full(Bytes::new()));
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        Some(Answer::Trickle) => {
            let bytes = futures::stream::unfold(0u32, |n| async move {
                if n > 600 {
                    return None;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                Some((
                    Ok::<_, Infallible>(Frame::data(Bytes::from_static(b" "))),
                    n + 1,
                ))
            });
            let mut r = Response::new(StreamBody::new(bytes).boxed_unsync());
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            r
        }
        None => {
            let mut r = Response::new(full(Bytes::new()));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

/// A running server on a thread of its own (with its own runtime, so it can be started and
/// stopped from synchronous and asynchronous tests alike); it stops when dropped.
pub struct Site {
    /// Where it listens.
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    /// Serves `routes` (path → answer) on a free port of 127.0.0.1.
    pub fn start(routes: HashMap<String, Answer>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("its address");
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let routes = Arc::new(routes);
        let seen = hits.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the site");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("the listener in tokio");
                loop {
                    let stream = tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => match accepted {
                            Ok((stream, _)) => stream,
                            Err(_) => break,
                        },
                    };
                    let (routes, seen) = (routes.clone(), seen.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                            let path = request.uri().path().to_string();
                            seen.lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(path.clone());
                            let answer = routes.get(&path).cloned();
                            async move { Ok::<_, Infallible>(reply(answer)) }
                        });
                        // A client hanging up early is part of several scenarios.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
            // Dropping the runtime here ends every connection still open.
        });
        Self {
            addr,
            hits,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The full address of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The paths asked for so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops serving: the port refuses connections from now on.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `width`×`height` PNG of two colours, so it is not blank.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("a PNG header");
        let pixels: Vec<u8> = (0..width * height)
            .flat_map(|i| {
                if (i % width) < width / 2 {
                    [200, 60, 40]
                } else {
                    [30, 90, 200]
                }
            })
            .collect();
        writer.write_image_data(&pixels).expect("PNG pixels");
    }
    out
}
