//! `inspect`: every document in the local store with its whole change history decoded — for
//! support, and so privacy can be checked on what a device actually holds.

use super::device::Device;
use super::documents::Documents;
use crate::error::EngineError;
use crate::view::InspectedDoc;

/// Every document in the store, decoded.
pub(crate) async fn inspect(
    device: &Device,
    docs: &Documents,
) -> Result<Vec<InspectedDoc>, EngineError> {
    let ids = device.blocking(|s| s.doc_ids()).await?;
    let contacts = device.blocking(|s| s.contacts()).await?;
    let mut out = Vec::new();
    for id in ids {
        let role = contacts
            .iter()
            .find_map(|c| {
                if c.outbox == id {
                    Some(format!("my panel for {} ({})", c.name, c.id))
                } else if c.inbound.as_deref() == Some(id.as_str()) {
                    Some(format!("{}'s panel for me ({})", c.name, c.id))
                } else {
                    None
                }
            })
            .unwrap_or_else(|| "not linked to a contact".into());
        let Some(handle) = docs.find(&id).await? else {
            continue;
        };
        let (heads, changes, content) = handle
            .with_document_async(|doc| {
                let heads = backstory_crdt::changes::heads_to_strings(&doc.get_heads());
                let changes: Vec<serde_json::Value> = doc
                    .get_changes(&[])
                    .iter()
                    .map(|c| serde_json::to_value(c.decode()).unwrap_or_default())
                    .collect();
                let content =
                    serde_json::to_value(automerge::AutoSerde::from(&*doc)).unwrap_or_default();
                (heads, changes, content)
            })
            .await?;
        out.push(InspectedDoc {
            id,
            role,
            heads,
            changes,
            content,
        });
    }
    Ok(out)
}
