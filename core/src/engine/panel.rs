//! My panels: entries and categories, always written to the master first (durably), then
//! published.

use std::path::PathBuf;

use backstory_crdt::{
    CategoryId, DefaultCategory, Entry, EntryId, Kind, MasterEntry, MasterPanel, PanelView, Source,
    Visibility, read_panel,
};
use serde::{Deserialize, Serialize};

use super::{Engine, now};
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;

/// What a new entry holds besides its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "content", rename_all = "snake_case")]
pub enum Content {
    /// Text only.
    Text,
    /// A web link (http or https).
    Link {
        /// The address.
        url: String,
    },
    /// A file to attach: image, audio and video files become entries of those kinds.
    File {
        /// Where the file is now; it is copied into the data directory.
        path: PathBuf,
    },
    /// A video I watched.
    WatchedVideo {
        /// The player program.
        player: String,
        /// The URL or path played.
        location: String,
        /// The title, if known.
        title: Option<String>,
    },
}

/// A new entry for one of my panels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEntry {
    /// The category; the first category of the panel when absent.
    pub category: Option<CategoryId>,
    /// What it holds.
    #[serde(flatten)]
    pub content: Content,
    /// Body of a text entry, caption of the others.
    pub text: String,
    /// Who may see it, and when.
    pub visibility: Visibility,
    /// Where it came from.
    pub source: Source,
}

impl NewEntry {
    /// A visible text entry, written by hand, in the panel's first category.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            category: None,
            content: Content::Text,
            text: text.into(),
            visibility: Visibility::Visible,
            source: Source::Manual,
        }
    }
}

/// Changes to an entry; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EntryEdit {
    /// New text (body or caption).
    pub text: Option<String>,
    /// New category.
    pub category: Option<CategoryId>,
    /// New visibility rule.
    pub visibility: Option<Visibility>,
}

/// The longest text an entry may hold, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

fn check_text(text: &str) -> Result<(), EngineError> {
    if text.len() > MAX_TEXT {
        return Err(EngineError::InvalidInput(format!(
            "text is {} bytes, over the {MAX_TEXT}-byte limit",
            text.len()
        )));
    }
    Ok(())
}

fn new_entry_id() -> EntryId {
    EntryId::new(format!("e{}", hex::encode(rand::random::<[u8; 8]>())))
}

impl Engine {
    /// Loads a master panel, changes it, saves it durably and publishes it, all under the write
    /// gate. `added`/`removed` keep the entry index in step.
    async fn change_master<T: Send + 'static>(
        &self,
        contact: &Contact,
        f: impl FnOnce(&mut MasterPanel) -> Result<(T, Option<EntryId>, Option<EntryId>), EngineError>
        + Send
        + 'static,
    ) -> Result<T, EngineError> {
        self.check_health()?;
        let gate = self.inner.writes.lock().await;
        let id = contact.id.clone();
        let out = self
            .blocking(move |s| {
                let mut master = s.master(&id)?;
                let (out, added, removed) = f(&mut master)?;
                s.save_master(&id, &master, added.as_ref(), removed.as_ref())?;
                Ok::<_, EngineError>(out)
            })
            .await?;
        self.publish_contact(&gate, contact).await?;
        Ok(out)
    }

    /// The contact whose panel holds an entry.
    async fn owner_of(&self, entry: &EntryId) -> Result<Contact, EngineError> {
        let e = entry.clone();
        let id = self
            .blocking(move |s| s.contact_of_entry(&e))
            .await?
            .ok_or_else(|| EngineError::UnknownEntry(entry.clone()))?;
        self.contact(id.as_str()).await
    }

    /// Adds an entry to my panel for a contact. Returns once the entry is durable.
    pub async fn post(&self, contact: &str, new: NewEntry) -> Result<EntryId, EngineError> {
        let contact = self.contact(contact).await?;
        check_text(&new.text)?;
        let kind = match new.content {
            Content::Text => {
                if new.text.trim().is_empty() {
                    return Err(EngineError::InvalidInput(
                        "a text entry cannot be empty".into(),
                    ));
                }
                Kind::Text
            }
            Content::Link { url } => {
                let parsed = url::Url::parse(url.trim())
                    .map_err(|e| EngineError::InvalidInput(format!("bad link `{url}`: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(EngineError::InvalidInput(format!(
                        "bad link `{url}`: only http and https links can be shared"
                    )));
                }
                Kind::Link {
                    url: parsed.to_string(),
                    snapshot: None,
                }
            }
            Content::File { path } => {
                let limit = self.media_limit().await?;
                let p = path.clone();
                let checked = tokio::task::spawn_blocking(move || crate::media::check(&p, limit))
                    .await
                    .map_err(|_| EngineError::Stopped)??;
                let tag = self
                    .inner
                    .blobs
                    .add_path(&path)
                    .await
                    .map_err(|e| EngineError::Io {
                        path: path.clone(),
                        source: std::io::Error::other(e.to_string()),
                    })?;
                crate::media::kind_for(backstory_crdt::MediaRef {
                    hash: tag.hash.to_hex(),
                    size: checked.size,
                    mime: checked.mime,
                    name: checked.name,
                })
            }
            Content::WatchedVideo {
                player,
                location,
                title,
            } => Kind::WatchedVideo {
                player,
                location,
                title,
            },
        };
        let t = now();
        let id = new_entry_id();
        let entry_id = id.clone();
        let category = new.category;
        let text = new.text;
        let visibility = new.visibility;
        let source = new.source;
        self.change_master(&contact, move |m| {
            let category = match category {
                Some(c) => c,
                None => m
                    .categories
                    .first()
                    .map(|c| c.id.clone())
                    .unwrap_or_else(|| DefaultCategory::Activities.id()),
            };
            m.add_entry(MasterEntry {
                entry: Entry {
                    id: entry_id.clone(),
                    category,
                    kind,
                    text,
                    created: t,
                    edited: t,
                    source,
                },
                visibility,
            })?;
            Ok(((), Some(entry_id), None))
        })
        .await?;
        self.emit(Event::EntryPosted {
            contact: contact.id.clone(),
            entry: id.clone(),
        });
        Ok(id)
    }

    /// Edits an entry of one of my panels.
    pub async fn edit_entry(&self, entry: &EntryId, edit: EntryEdit) -> Result<(), EngineError> {
        if let Some(text) = &edit.text {
            check_text(text)?;
        }
        let contact = self.owner_of(entry).await?;
        let id = entry.clone();
        self.change_master(&contact, move |m| {
            let t = now();
            if let Some(text) = edit.text {
                m.set_text(&id, text, t)?;
            }
            if let Some(category) = edit.category {
                m.move_entry(&id, category, t)?;
            }
            if let Some(rule) = edit.visibility {
                m.set_visibility(&id, rule)?;
            }
            Ok(((), None, None))
        })
        .await?;
        self.emit(Event::EntryEdited {
            contact: contact.id.clone(),
            entry: entry.clone(),
        });
        Ok(())
    }

    /// Deletes an entry of one of my panels.
    pub async fn delete_entry(&self, entry: &EntryId) -> Result<(), EngineError> {
        let contact = self.owner_of(entry).await?;
        let id = entry.clone();
        self.change_master(&contact, move |m| {
            m.remove_entry(&id)?;
            Ok(((), None, Some(id)))
        })
        .await?;
        self.emit(Event::EntryDeleted {
            contact: contact.id.clone(),
            entry: entry.clone(),
        });
        Ok(())
    }

    /// Adds a category to my panel for a contact; returns its id.
    pub async fn add_category(&self, contact: &str, name: &str) -> Result<CategoryId, EngineError> {
        let contact = self.contact(contact).await?;
        let id = CategoryId::new(format!("k{}", hex::encode(rand::random::<[u8; 6]>())));
        let (cid, name) = (id.clone(), name.to_string());
        self.change_master(&contact, move |m| {
            m.add_category(cid, &name)?;
            Ok(((), None, None))
        })
        .await?;
        self.categories_changed(&contact.id);
        Ok(id)
    }

    /// Renames a category.
    pub async fn rename_category(
        &self,
        contact: &str,
        category: &CategoryId,
        name: &str,
    ) -> Result<(), EngineError> {
        let contact = self.contact(contact).await?;
        let (cid, name) = (category.clone(), name.to_string());
        self.change_master(&contact, move |m| {
            m.rename_category(&cid, &name)?;
            Ok(((), None, None))
        })
        .await?;
        self.categories_changed(&contact.id);
        Ok(())
    }

    /// Moves a category to a position (0 is first).
    pub async fn move_category(
        &self,
        contact: &str,
        category: &CategoryId,
        position: usize,
    ) -> Result<(), EngineError> {
        let contact = self.contact(contact).await?;
        let cid = category.clone();
        self.change_master(&contact, move |m| {
            let mut order: Vec<CategoryId> = m.categories.iter().map(|c| c.id.clone()).collect();
            let from = order
                .iter()
                .position(|c| *c == cid)
                .ok_or_else(|| backstory_crdt::PanelError::UnknownCategory(cid.clone()))?;
            let moved = order.remove(from);
            order.insert(position.min(order.len()), moved);
            m.reorder_categories(&order)?;
            Ok(((), None, None))
        })
        .await?;
        self.categories_changed(&contact.id);
        Ok(())
    }

    /// Removes a category; its entries move to the first remaining one, which is returned.
    pub async fn remove_category(
        &self,
        contact: &str,
        category: &CategoryId,
    ) -> Result<CategoryId, EngineError> {
        let contact = self.contact(contact).await?;
        let cid = category.clone();
        let fallback = self
            .change_master(&contact, move |m| {
                Ok((m.remove_category(&cid, now())?, None, None))
            })
            .await?;
        self.categories_changed(&contact.id);
        Ok(fallback)
    }

    fn categories_changed(&self, contact: &ContactId) {
        self.emit(Event::CategoriesChanged {
            contact: contact.clone(),
        });
    }

    /// My master panel for a contact: every entry, with its rule.
    pub async fn my_panel(&self, contact: &str) -> Result<(Contact, MasterPanel), EngineError> {
        let contact = self.contact(contact).await?;
        let id = contact.id.clone();
        let master = self.blocking(move |s| s.master(&id)).await?;
        Ok((contact, master))
    }

    /// What the contact can see of my panel right now, read from the outbox itself.
    pub async fn preview(&self, contact: &str) -> Result<(Contact, PanelView), EngineError> {
        let contact = self.contact(contact).await?;
        let handle = self.doc(&contact.outbox).await?;
        let view = handle.with_document_async(|doc| read_panel(doc)).await??;
        Ok((contact, view))
    }

    pub(super) async fn media_limit(&self) -> Result<u64, EngineError> {
        Ok(self
            .blocking(|s| s.setting("media_limit"))
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::media::DEFAULT_LIMIT))
    }
}
