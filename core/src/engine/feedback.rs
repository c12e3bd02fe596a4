//! Feedback, both ways. As a viewer I write into my own outbox for a contact: comments on their
//! panel (text, or a voice comment whose recording only they may fetch), viewing sessions and
//! per-entry signals — the last two only while read receipts are on, for everyone and for them;
//! when off, nothing about my viewing is written at all, while comments, being deliberate, still
//! go. As an author I read what they wrote into theirs about mine. The chat over the same two
//! documents is in [`super::chat`].

use std::collections::HashSet;
use std::path::Path;

use backstory_crdt::changes::heads_from_strings;
use backstory_crdt::feedback::{
    Comment, Feedback as FeedbackDoc, Session, Signal, add_comment, add_session_signal,
    next_instant, open_session, read_feedback, remove_comment, session, set_session_length,
};
use backstory_crdt::{Entry, EntryId, read_panel};
use base64::Engine as _;

use super::device::Device;
use super::documents::Documents;
use super::media::Media;
use super::panels::check_text;
use super::settings::Settings;
use crate::contact::Contact;
use crate::error::EngineError;
use crate::event::Event;
use crate::feedback::{
    AudioInput, CommentView, FeedbackView, FetchedAudio, ViewEnded, ViewStarted, comment_view,
    feedback_view,
};
use crate::net::Net;
use crate::net::blobs::Grant;

/// The feedback part (and the chat's); cheap to clone.
#[derive(Clone)]
pub(crate) struct Feedback {
    pub(super) device: Device,
    pub(super) docs: Documents,
    pub(super) settings: Settings,
    pub(super) media: Media,
}

/// Whether a contact may learn what I look at: receipts on for everyone, and not off for them.
pub(crate) async fn receipts_on(
    device: &Device,
    settings: &Settings,
    contact: &Contact,
) -> Result<bool, EngineError> {
    if !settings.receipts().await? {
        return Ok(false);
    }
    let id = contact.id.clone();
    Ok(!device.blocking(move |s| s.receipts_off(&id)).await?)
}

fn unshared(contact: &Contact) -> EngineError {
    EngineError::InvalidInput(format!(
        "{} has not shared a panel with you yet",
        contact.name
    ))
}

impl Feedback {
    pub(crate) fn new(device: Device, docs: Documents, settings: Settings, media: Media) -> Self {
        Self {
            device,
            docs,
            settings,
            media,
        }
    }

    /// Whether I turned receipts off for this contact alone.
    pub(crate) async fn receipts_for(&self, contact: &Contact) -> Result<bool, EngineError> {
        let id = contact.id.clone();
        Ok(!self.device.blocking(move |s| s.receipts_off(&id)).await?)
    }

    /// Turns read receipts off for one contact, or back on (the global setting still applies).
    pub(crate) async fn set_receipts_for(
        &self,
        contact: &Contact,
        on: bool,
    ) -> Result<(), EngineError> {
        let id = contact.id.clone();
        self.device
            .blocking(move |s| s.set_receipts_off(&id, !on))
            .await?;
        self.device.emit(Event::ReceiptsChanged {
            contact: contact.id.clone(),
            on,
        });
        Ok(())
    }

    /// What they wrote into their outbox about mine (nothing when it has not arrived).
    pub(super) async fn theirs(&self, contact: &Contact) -> Result<FeedbackDoc, EngineError> {
        let Some(id) = contact.inbound.as_deref() else {
            return Ok(FeedbackDoc::default());
        };
        let Some(handle) = self.docs.find(id).await? else {
            return Ok(FeedbackDoc::default());
        };
        Ok(handle.with_document_async(|d| read_feedback(d)).await??)
    }

    /// What I wrote into my outbox about theirs.
    pub(super) async fn mine(&self, contact: &Contact) -> Result<FeedbackDoc, EngineError> {
        let handle = self.docs.get(&contact.outbox).await?;
        Ok(handle.with_document_async(|d| read_feedback(d)).await??)
    }

    /// The entries of their panel for me, as published (none before it arrives).
    pub(super) async fn their_entries(&self, contact: &Contact) -> Result<Vec<Entry>, EngineError> {
        let Some(id) = contact.inbound.as_deref() else {
            return Ok(Vec::new());
        };
        let Some(handle) = self.docs.find(id).await? else {
            return Ok(Vec::new());
        };
        Ok(handle
            .with_document_async(|d| read_panel(d))
            .await??
            .entries)
    }

    /// Every entry of my panel for them, hidden ones included.
    pub(super) async fn my_entries(&self, contact: &Contact) -> Result<Vec<Entry>, EngineError> {
        let id = contact.id.clone();
        let master = self.device.blocking(move |s| s.master(&id)).await?;
        Ok(master
            .entries
            .into_iter()
            .map(|e| std::sync::Arc::unwrap_or_clone(e.entry))
            .collect())
    }

    /// Lets a contact fetch the recordings of my comments on their panel, and nothing else of
    /// mine that the panel does not grant.
    pub(crate) async fn grant(&self, contact: &Contact) -> Result<(), EngineError> {
        if contact.peer.is_none() {
            return Ok(());
        }
        let audio = super::marks::comment_audio(&self.mine(contact).await?);
        self.grant_recordings(contact, audio);
        Ok(())
    }

    /// Lets the contact fetch these recordings of my comments (and no others).
    pub(crate) fn grant_recordings(
        &self,
        contact: &Contact,
        recordings: impl IntoIterator<Item = String>,
    ) {
        let Some(peer) = contact.peer.as_deref().and_then(|p| p.parse().ok()) else {
            return;
        };
        let hashes: HashSet<iroh_blobs::Hash> = recordings
            .into_iter()
            .filter_map(|h| h.parse().ok())
            .collect();
        self.media.grants().set_for(peer, Grant::Comments, hashes);
    }

    async fn audio(&self, input: AudioInput) -> Result<backstory_crdt::MediaRef, EngineError> {
        match input {
            AudioInput::File { path } => {
                EngineError::unless_absolute(&path)?;
                match self.media.import(&path).await? {
                    backstory_crdt::Kind::Audio { media } => Ok(media),
                    _ => Err(EngineError::InvalidInput(format!(
                        "{} is not a sound file",
                        path.display()
                    ))),
                }
            }
            AudioInput::Recording { mime, base64 } => {
                let mime = mime.split(';').next().unwrap_or("").trim().to_string();
                let ext = match mime.as_str() {
                    "audio/webm" => "webm",
                    "audio/ogg" => "ogg",
                    "audio/mp4" => "m4a",
                    "audio/wav" | "audio/x-wav" => "wav",
                    "audio/mpeg" => "mp3",
                    _ => {
                        return Err(EngineError::InvalidInput(format!(
                            "a recording must be a sound (audio/webm, ogg, mp4, wav or mpeg), not `{mime}`"
                        )));
                    }
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(base64.trim())
                    .map_err(|e| {
                        EngineError::InvalidInput(format!("the recording is not base64: {e}"))
                    })?;
                if bytes.is_empty() {
                    return Err(EngineError::InvalidInput("the recording is empty".into()));
                }
                self.media
                    .import_bytes(bytes, &mime, &format!("voice comment.{ext}"))
                    .await
            }
        }
    }

    /// Comments on their panel (an entry of it, or the whole of it); answers once it is durable.
    pub(crate) async fn comment(
        &self,
        contact: &Contact,
        entry: Option<EntryId>,
        text: String,
        audio: Option<AudioInput>,
    ) -> Result<CommentView, EngineError> {
        self.docs.check_health()?;
        check_text(&text)?;
        if text.trim().is_empty() && audio.is_none() {
            return Err(EngineError::InvalidInput(
                "a comment needs text or a recording".into(),
            ));
        }
        if contact.inbound.is_none() {
            return Err(unshared(contact));
        }
        let theirs = self.their_entries(contact).await?;
        if let Some(e) = &entry
            && !theirs.iter().any(|t| t.id == *e)
        {
            return Err(EngineError::UnknownEntry(e.clone()));
        }
        let audio = match audio {
            Some(a) => Some(self.audio(a).await?),
            None => None,
        };
        let now = self.device.now();
        let id = self.device.new_id("m", 8);
        let entry = entry.map(|e| e.to_string());
        let handle = self.docs.get(&contact.outbox).await?;
        // What the outbox's mark says of my recordings changes: it is forgotten before, and
        // again after, so no mark made meanwhile outlives the change.
        let recorded = audio.is_some();
        if recorded {
            self.docs.marks().forget(&contact.id).await?;
        }
        let comment = self
            .docs
            .write_durably(&handle, move |d| {
                let comment = Comment {
                    id,
                    entry,
                    text,
                    at: next_instant(d, now)?.millis(),
                    audio,
                };
                add_comment(d, comment.clone(), now)?;
                Ok::<_, backstory_crdt::DocError>(comment)
            })
            .await?;
        if recorded {
            self.docs.marks().forget(&contact.id).await?;
        }
        let view = comment_view(&comment, &theirs);
        self.grant(contact).await?;
        self.chat_changed(contact).await?;
        Ok(view)
    }

    /// Removes one of my comments on their panel (copies they already have stay in the
    /// document's history, as with any edit).
    pub(crate) async fn remove_comment(
        &self,
        contact: &Contact,
        comment: &str,
    ) -> Result<(), EngineError> {
        self.docs.check_health()?;
        let now = self.device.now();
        let handle = self.docs.get(&contact.outbox).await?;
        let id = comment.to_string();
        // The comment may have been a recording the outbox's mark lists (see `comment`).
        self.docs.marks().forget(&contact.id).await?;
        let found = self
            .docs
            .write_durably(&handle, move |d| remove_comment(d, &id, now))
            .await?;
        self.docs.marks().forget(&contact.id).await?;
        if !found {
            return Err(EngineError::InvalidInput(format!(
                "no comment `{comment}` of yours on {}'s panel",
                contact.name
            )));
        }
        self.grant(contact).await?;
        self.chat_changed(contact).await
    }

    /// Starts a viewing session of their panel with `heads` on screen — unless receipts are off,
    /// and then nothing is written.
    pub(crate) async fn begin_view(
        &self,
        contact: &Contact,
        heads: Vec<String>,
    ) -> Result<ViewStarted, EngineError> {
        if heads_from_strings(&heads).len() != heads.len() {
            return Err(EngineError::InvalidInput(
                "heads must be change hashes".into(),
            ));
        }
        if contact.inbound.is_none() {
            return Err(unshared(contact));
        }
        if !receipts_on(&self.device, &self.settings, contact).await? {
            return Ok(ViewStarted { session: None });
        }
        self.docs.check_health()?;
        let now = self.device.now();
        let id = self.device.new_id("v", 8);
        let sid = id.clone();
        let handle = self.docs.get(&contact.outbox).await?;
        handle
            .with_document_async(move |d| {
                let s = Session {
                    id: sid,
                    heads,
                    opened: next_instant(d, now)?.millis(),
                    open_for: 0,
                    entries: Vec::new(),
                };
                open_session(d, s, now)
            })
            .await??;
        Ok(ViewStarted { session: Some(id) })
    }

    /// Counts one signal for an entry of their panel within a session (an entry counts as
    /// viewed once per session) — unless receipts are off.
    pub(crate) async fn signal(
        &self,
        contact: &Contact,
        session_id: &str,
        entry: &EntryId,
        signal: Signal,
    ) -> Result<(), EngineError> {
        if !receipts_on(&self.device, &self.settings, contact).await? {
            return Ok(());
        }
        if !self
            .their_entries(contact)
            .await?
            .iter()
            .any(|e| e.id == *entry)
        {
            return Err(EngineError::UnknownEntry(entry.clone()));
        }
        self.docs.check_health()?;
        let now = self.device.now();
        let handle = self.docs.get(&contact.outbox).await?;
        let (sid, e) = (session_id.to_string(), entry.clone());
        let found = handle
            .with_document_async(move |d| add_session_signal(d, &sid, &e, signal, now))
            .await??;
        if found {
            Ok(())
        } else {
            Err(no_session(session_id))
        }
    }

    /// Records how long a session has been in front, on the engine's clock: from its start to
    /// now. May be called again while it stays open; the last call counts.
    pub(crate) async fn end_view(
        &self,
        contact: &Contact,
        session_id: &str,
    ) -> Result<ViewEnded, EngineError> {
        let handle = self.docs.get(&contact.outbox).await?;
        let sid = session_id.to_string();
        let s = handle
            .with_document_async(move |d| session(d, &sid))
            .await??
            .ok_or_else(|| no_session(session_id))?;
        let now = self.device.now();
        let open_for = now.millis().saturating_sub(s.opened).max(0);
        let open_for_ms = u64::try_from(open_for).unwrap_or(0);
        if !receipts_on(&self.device, &self.settings, contact).await? {
            return Ok(ViewEnded {
                open_for_ms,
                recorded: false,
            });
        }
        self.docs.check_health()?;
        let sid = session_id.to_string();
        handle
            .with_document_async(move |d| set_session_length(d, &sid, open_for, now))
            .await??;
        Ok(ViewEnded {
            open_for_ms,
            recorded: true,
        })
    }

    /// Feedback on my panel for a contact, ranked, and my comments on theirs.
    pub(crate) async fn view(&self, contact: &Contact) -> Result<FeedbackView, EngineError> {
        let theirs = self.theirs(contact).await?;
        let mine = self.my_entries(contact).await?;
        let sent = self.mine(contact).await?.comments;
        let their_entries = self.their_entries(contact).await?;
        let threshold = u64::from(self.settings.view_threshold_secs().await?) * 1000;
        Ok(feedback_view(
            contact.clone(),
            &theirs,
            &mine,
            &sent,
            &their_entries,
            threshold,
        ))
    }

    /// Fetches a voice comment's recording — theirs from their device, mine from here — and
    /// saves it to `out` (absolute), or to the copy the windows may play.
    pub(crate) async fn fetch_audio(
        &self,
        net: Option<&Net>,
        contact: &Contact,
        comment: &str,
        out: Option<&Path>,
    ) -> Result<FetchedAudio, EngineError> {
        let find = |f: FeedbackDoc| {
            f.comments
                .into_iter()
                .find(|c| c.id == comment)
                .and_then(|c| c.audio)
        };
        let media = match find(self.theirs(contact).await?) {
            Some(m) => m,
            None => find(self.mine(contact).await?).ok_or_else(|| {
                EngineError::InvalidInput(format!("no voice comment `{comment}`"))
            })?,
        };
        let hash = self
            .media
            .fetch(net, contact, &EntryId::new(comment), &media)
            .await?;
        let path = match out {
            Some(out) => {
                self.media.export(hash, out).await?;
                out.to_path_buf()
            }
            None => self.media.viewing_copy(hash, &media.mime).await?,
        };
        Ok(FetchedAudio {
            comment: comment.to_string(),
            hash: hash.to_hex(),
            size: media.size,
            mime: media.mime,
            path,
        })
    }
}

fn no_session(id: &str) -> EngineError {
    EngineError::InvalidInput(format!("no viewing session `{id}`"))
}
