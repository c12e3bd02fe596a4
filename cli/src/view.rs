//! `backstory view`: a viewing session of a contact's panel, recorded exactly as the viewer
//! window records one — begun with the heads on screen, the entries in view each counted once,
//! marked seen after the same three seconds, and timed on the engine's clock (so on a test clock
//! it lasts until `backstory clock advance` moves it, not a wall-clock second longer).

use std::time::Duration;

use anyhow::Context;
use backstory_core::control::Client;
use backstory_core::crdt::EntryId;
use backstory_core::crdt::feedback::Signal;
use backstory_core::op;

use crate::render::Out;

/// How long the window must be in front before what it shows is marked seen.
const LOOK: Duration = Duration::from_secs(3);

/// Records one viewing session of `contact`'s panel lasting `duration`.
pub async fn run(
    c: &mut Client,
    out: &Out,
    contact: String,
    duration: &str,
    entries: Vec<String>,
) -> anyhow::Result<()> {
    let length = backstory_core::when::parse_duration(duration)?;
    let length_ms = i64::try_from(length.as_millis()).context("that is too long")?;
    let panel = c
        .call(op::TheirPanel {
            contact: contact.clone(),
        })
        .await?;
    if !panel.shared {
        anyhow::bail!("{} has not shared a panel with you yet", panel.contact.name);
    }
    let heads = panel.changes.heads.clone();
    let started = c
        .call(op::BeginView {
            contact: contact.clone(),
            heads: heads.clone(),
        })
        .await?;
    let begun = c.call(op::Clock {}).await?;
    if let Some(session) = &started.session {
        for entry in entries {
            c.call(op::ViewSignal {
                contact: contact.clone(),
                session: session.clone(),
                entry: EntryId::new(entry),
                signal: Signal::Viewed,
            })
            .await?;
        }
    }
    // Wait on the engine's clock, asking it rather than counting here.
    let until = begun.plus_millis(length_ms);
    loop {
        let now = c.call(op::Clock {}).await?;
        let left = until.millis().saturating_sub(now.millis());
        if left <= 0 {
            break;
        }
        let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
        tokio::time::sleep(left.min(Duration::from_millis(200))).await;
    }
    if length >= LOOK {
        c.call(op::MarkSeen {
            contact: contact.clone(),
            heads,
        })
        .await?;
    }
    let ended = match &started.session {
        Some(session) => Some(
            c.call(op::EndView {
                contact,
                session: session.clone(),
            })
            .await?,
        ),
        None => None,
    };
    out.viewed(
        &panel.contact.name,
        started.session.as_deref(),
        ended.as_ref(),
    )
}
