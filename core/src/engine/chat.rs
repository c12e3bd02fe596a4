//! The chat with a contact, over the two outboxes: my messages in mine, theirs in theirs, each
//! side saying how many of the other's its device holds ("delivered"). Their comments on my panel
//! and their views of it show as items of their own; each new item is announced once, in the
//! order it was made, even when it arrives long after (I was offline), and counts as unread until
//! the chat is opened.

use std::collections::HashSet;

use backstory_crdt::feedback::{
    Feedback as FeedbackDoc, Message, add_message, next_instant, read_chat, read_chat_delivered,
    set_chat_delivered,
};
use backstory_crdt::{Entry, Timestamp};

use super::feedback::Feedback;
use super::panels::check_text;
use crate::contact::Contact;
use crate::error::EngineError;
use crate::event::Event;
use crate::feedback::{
    ChatBody, ChatItem, ChatSources, ChatSummary, ChatView, chat_items, their_items,
};

/// What the chat is computed from, read from both documents.
struct Loaded {
    my_messages: Vec<Message>,
    delivered: u64,
    my_comments: Vec<backstory_crdt::feedback::Comment>,
    their_entries: Vec<Entry>,
    their_messages: Vec<Message>,
    their_feedback: FeedbackDoc,
    my_entries: Vec<Entry>,
    threshold_ms: u64,
}

impl Loaded {
    fn sources(&self) -> ChatSources<'_> {
        ChatSources {
            my_messages: &self.my_messages,
            delivered: self.delivered,
            my_comments: &self.my_comments,
            their_entries: &self.their_entries,
            their_messages: &self.their_messages,
            their_feedback: &self.their_feedback,
            my_entries: &self.my_entries,
            threshold_ms: self.threshold_ms,
        }
    }
}

impl Feedback {
    async fn load(&self, contact: &Contact) -> Result<Loaded, EngineError> {
        let mine = self.docs.get(&contact.outbox).await?;
        let (my_messages, my_comments) = mine
            .with_document_async(|d| {
                Ok::<_, backstory_crdt::DocError>((
                    read_chat(d)?,
                    backstory_crdt::feedback::read_feedback(d)?.comments,
                ))
            })
            .await??;
        // Their panel labels my comments on it, if there are any.
        let their_entries = if my_comments.is_empty() {
            Vec::new()
        } else {
            self.their_entries(contact).await?
        };
        Ok(Loaded {
            my_messages,
            my_comments,
            their_entries,
            ..self.load_theirs(contact).await?
        })
    }

    /// What they wrote, and what labels it: all their items need (my outbox and their panel stay
    /// closed; my panel is read only when they commented on it).
    async fn load_theirs(&self, contact: &Contact) -> Result<Loaded, EngineError> {
        let (their_messages, delivered) = match contact.inbound.as_deref() {
            Some(id) => match self.docs.find(id).await? {
                Some(h) => {
                    h.with_document_async(|d| {
                        Ok::<_, backstory_crdt::DocError>((read_chat(d)?, read_chat_delivered(d)?))
                    })
                    .await??
                }
                None => (Vec::new(), 0),
            },
            None => (Vec::new(), 0),
        };
        let their_feedback = self.theirs(contact).await?;
        let my_entries = if their_feedback.comments.is_empty() {
            Vec::new()
        } else {
            self.my_entries(contact).await?
        };
        Ok(Loaded {
            my_messages: Vec::new(),
            delivered,
            my_comments: Vec::new(),
            their_entries: Vec::new(),
            their_messages,
            their_feedback,
            my_entries,
            threshold_ms: u64::from(self.settings.view_threshold_secs().await?) * 1000,
        })
    }

    async fn read_marks(&self, contact: &Contact) -> Result<HashSet<String>, EngineError> {
        let id = contact.id.clone();
        Ok(self.device.blocking(move |s| s.chat_marks(&id)).await?.read)
    }

    /// The chat with a contact, oldest first.
    pub(crate) async fn chat(&self, contact: &Contact) -> Result<ChatView, EngineError> {
        let loaded = self.load(contact).await?;
        let read = self.read_marks(contact).await?;
        let (items, unread) = chat_items(&loaded.sources(), &read);
        Ok(ChatView {
            contact: contact.clone(),
            items,
            unread,
        })
    }

    /// The chat as the contact's row shows it: unread count and their latest item.
    pub(crate) async fn summary(&self, contact: &Contact) -> Result<ChatSummary, EngineError> {
        if contact.inbound.is_none() {
            // Nothing of theirs has arrived: nothing to count.
            return Ok(ChatSummary::default());
        }
        let loaded = self.load_theirs(contact).await?;
        let read = self.read_marks(contact).await?;
        let items = their_items(&loaded.sources());
        let unread = items.iter().filter(|i| !read.contains(&i.id)).count();
        let latest = items.into_iter().last().map(|mut i| {
            i.unread = !read.contains(&i.id);
            i
        });
        Ok(ChatSummary {
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
            latest,
        })
    }

    /// Sends a chat message; answers once it is durable.
    pub(crate) async fn send(
        &self,
        contact: &Contact,
        text: &str,
    ) -> Result<ChatItem, EngineError> {
        self.docs.check_health()?;
        check_text(text)?;
        if text.trim().is_empty() {
            return Err(EngineError::InvalidInput("a message needs text".into()));
        }
        if contact.peer.is_none() {
            return Err(EngineError::InvalidInput(format!(
                "{} is not paired: chat needs their device",
                contact.name
            )));
        }
        let now = self.device.now();
        let id = self.device.new_id("t", 8);
        let body = text.to_string();
        let handle = self.docs.get(&contact.outbox).await?;
        let message = self
            .docs
            .write_durably(&handle, move |d| {
                let message = Message {
                    id,
                    text: body,
                    at: next_instant(d, now)?.millis(),
                };
                add_message(d, message.clone(), now)?;
                Ok::<_, backstory_crdt::DocError>(message)
            })
            .await?;
        let item = ChatItem {
            id: message.id.clone(),
            from_me: true,
            at: Timestamp(message.at),
            body: ChatBody::Message {
                text: message.text.clone(),
            },
            delivered: Some(false),
            unread: false,
        };
        self.chat_changed(contact).await?;
        Ok(item)
    }

    /// Marks everything they wrote or did so far as read.
    pub(crate) async fn mark_read(&self, contact: &Contact) -> Result<(), EngineError> {
        let loaded = self.load_theirs(contact).await?;
        let ids: Vec<String> = their_items(&loaded.sources())
            .into_iter()
            .map(|i| i.id)
            .collect();
        let id = contact.id.clone();
        self.device
            .blocking(move |s| s.mark_chat(&id, &ids, true))
            .await?;
        self.chat_changed(contact).await
    }

    /// Tells the windows the chat changed, with the unread count.
    pub(super) async fn chat_changed(&self, contact: &Contact) -> Result<(), EngineError> {
        let unread = self.summary(contact).await?.unread;
        self.device.emit(Event::ChatChanged {
            contact: contact.id.clone(),
            unread,
        });
        Ok(())
    }

    /// Their document changed: say how many of their messages this device holds, and announce
    /// what is new in the chat, oldest first, once each.
    pub(crate) async fn inbound_changed(&self, contact: &Contact) -> Result<(), EngineError> {
        let loaded = self.load_theirs(contact).await?;
        if contact.peer.is_some() {
            let held = u64::try_from(loaded.their_messages.len()).unwrap_or(u64::MAX);
            let now = self.device.now();
            let handle = self.docs.get(&contact.outbox).await?;
            handle
                .with_document_async(move |d| set_chat_delivered(d, held, now))
                .await??;
        }
        let id = contact.id.clone();
        let marks = self.device.blocking(move |s| s.chat_marks(&id)).await?;
        let items = their_items(&loaded.sources());
        let unread = u32::try_from(items.iter().filter(|i| !marks.read.contains(&i.id)).count())
            .unwrap_or(u32::MAX);
        let fresh: Vec<ChatItem> = items
            .into_iter()
            .filter(|i| !marks.notified.contains(&i.id))
            .map(|mut i| {
                i.unread = !marks.read.contains(&i.id);
                i
            })
            .collect();
        if fresh.is_empty() {
            self.device.emit(Event::ChatChanged {
                contact: contact.id.clone(),
                unread,
            });
            return Ok(());
        }
        let ids: Vec<String> = fresh.iter().map(|i| i.id.clone()).collect();
        let id = contact.id.clone();
        self.device
            .blocking(move |s| s.mark_chat(&id, &ids, false))
            .await?;
        self.device.emit(Event::ChatReceived {
            contact: contact.id.clone(),
            items: fresh,
            unread,
        });
        Ok(())
    }
}
