//! What the in-process engine tests share: an engine on loopback with a name, and a pairing.
#![allow(dead_code)] // each test file uses what it needs

use std::path::Path;

use backstory_core::net::NetworkMode;
use backstory_core::{Engine, Options, op};

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
