//! What the in-process engine tests share: an engine on loopback with a name, and a pairing.
#![allow(dead_code)] // each test file uses what it needs

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use backstory_core::net::NetworkMode;
use backstory_core::{Engine, Options, op, stage};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// An engine on `dir` in local network mode, named `name`.
pub async fn engine(dir: &Path, name: &str) -> Engine {
    let e = Engine::open_with(dir, Options::default().network(NetworkMode::Local))
        .await
        .expect("engine");
    e.run(op::SetName { name: name.into() })
        .await
        .expect("name");
    e
}

/// Pairs `viewer` with `author` through a ticket of the author's.
pub async fn pair(author: &Engine, viewer: &Engine) {
    let invite = author
        .run(op::Invite {
            ttl_secs: 600,
            approval: false,
        })
        .await
        .expect("invite");
    viewer
        .run(op::Join {
            ticket: invite.ticket,
        })
        .await
        .expect("join");
}

static OPENED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every document the engines of this process open (reported under
/// `stage::WORK_TARGET`); once per test binary.
pub fn count_openings() {
    let only_work = tracing_subscriber::filter::Targets::new()
        .with_target(stage::WORK_TARGET, tracing::Level::TRACE);
    tracing_subscriber::registry()
        .with(Counter.with_filter(only_work))
        .init();
}

/// How many times each document was opened since the last call.
pub fn opened() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in OPENED.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
        *out.entry(d).or_default() += 1;
    }
    out
}

struct Counter;

struct Doc(Option<String>);

impl Visit for Doc {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "doc" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut doc = Doc(None);
        event.record(&mut doc);
        if let Some(d) = doc.0 {
            OPENED.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        }
    }
}

/// Copies a data directory (a backup, or a second device's copy), without the control socket.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else if item.file_name() != "control.sock" {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// The texts of the entries `e` sees on `of`'s panel, oldest first.
pub async fn sees(e: &Engine, of: &str) -> Vec<String> {
    e.run(op::TheirPanel { contact: of.into() })
        .await
        .unwrap()
        .changes
        .entries
        .iter()
        .map(|c| c.entry.text.clone())
        .collect()
}

/// Waits until `f` returns true, for up to 30 s.
pub async fn until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !f().await {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
