//! Feedback (and, in [`chat`], the chat) as the front ends show them, computed from the two documents shared with a
//! contact: what they said and did on my panel (comments, viewing sessions, per-entry signals), my
//! comments on theirs, and the chat of both. Pure: the documents' contents and `now` come in, view
//! models go out, so grouping, ranking and unread counts are decided in one place and tested here.
//!
//! Everything read from the contact's document is treated as hostile: lists are cut to their
//! newest [`MAX_ITEMS`], texts to [`MAX_TEXT`] bytes, durations to a day.

use std::collections::HashMap;

use backstory_crdt::feedback::{Comment, Feedback, Session};
use backstory_crdt::{Entry, EntryId, Kind, MediaRef, Timestamp};
use serde::{Deserialize, Serialize};

use crate::contact::Contact;

mod chat;
pub use chat::{
    ChatBody, ChatItem, ChatSources, ChatSummary, ChatView, chat_items, their_items, view_notices,
};

/// The most items of one kind read from a contact's document: the newest ones.
pub const MAX_ITEMS: usize = 2000;
/// The longest text shown from a contact's document, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;
/// Views of one panel less than this far apart make one notice, in milliseconds (five minutes).
pub const GROUP_GAP_MS: i64 = 5 * 60 * 1000;
/// The longest a session can say it lasted, in milliseconds (a day).
const MAX_SESSION_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest entry label, in characters.
const LABEL_CHARS: usize = 48;

/// What a voice comment is made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum AudioInput {
    /// A sound file (absolute path).
    File {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A recording made in the viewer window.
    Recording {
        /// Its media type, e.g. `audio/webm`.
        mime: String,
        /// Its bytes, base64.
        base64: String,
    },
}

/// A comment, mine or theirs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CommentView {
    /// Its id.
    pub id: String,
    /// The entry it is about; none for the panel as a whole.
    pub entry: Option<EntryId>,
    /// A short label of that entry, when it is still there.
    pub entry_label: Option<String>,
    /// The text.
    pub text: String,
    /// When it was written (on the writer's clock).
    pub at: Timestamp,
    /// A voice comment's recording.
    pub audio: Option<MediaRef>,
}

/// One time they looked at my panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionView {
    /// Its id.
    pub id: String,
    /// When the panel came to the front (on their clock).
    pub opened: Timestamp,
    /// How long it stayed in front, in milliseconds.
    pub open_for_ms: u64,
    /// At or above the threshold: "definitely viewed"; below it: "viewed".
    pub definitely: bool,
    /// The entries that were in view for at least a second.
    pub entries: Vec<EntryId>,
}

/// What one entry of my panel drew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EntryStats {
    /// The entry.
    pub entry: EntryId,
    /// A short label of it.
    pub label: String,
    /// Sessions in which it was in view.
    pub views: u64,
    /// Times the pointer rested on it.
    pub hovers: u64,
    /// Times its link was opened.
    pub links_opened: u64,
    /// Times its media was played.
    pub plays: u64,
    /// Comments on it.
    pub comments: u32,
    /// Its place in the ranking by views (1 is the most viewed); none while nobody viewed it.
    pub rank: Option<u32>,
}

/// Feedback on my panel for a contact, and my comments on theirs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FeedbackView {
    /// The contact.
    pub contact: Contact,
    /// How long a session must last to count as "definitely viewed", in milliseconds.
    pub threshold_ms: u64,
    /// Their comments on my panel, oldest first.
    pub comments: Vec<CommentView>,
    /// Their viewing sessions of my panel, oldest first.
    pub sessions: Vec<SessionView>,
    /// Every entry of my panel, ranked: most viewed first, then by the other signals, then
    /// newest first.
    pub entries: Vec<EntryStats>,
    /// My comments on their panel, oldest first.
    pub sent: Vec<CommentView>,
}

/// A started viewing session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ViewStarted {
    /// The session to report signals and its end to; none when receipts are off for this contact,
    /// and then nothing about this viewing is written.
    pub session: Option<String>,
}

/// A session's length so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ViewEnded {
    /// How long it has been in front, in milliseconds, on the engine's clock.
    pub open_for_ms: u64,
    /// Whether it was written (receipts may have been turned off meanwhile).
    pub recorded: bool,
}

/// A voice comment's recording, fetched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FetchedAudio {
    /// The comment.
    pub comment: String,
    /// The verified BLAKE3 hash.
    pub hash: String,
    /// Its size.
    pub size: u64,
    /// Its media type.
    pub mime: String,
    /// The copy the windows may play.
    pub path: std::path::PathBuf,
}

/// Cuts text to at most `max` bytes, on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The newest `MAX_ITEMS` of a list, in their order.
pub(crate) fn newest<T>(items: &[T]) -> &[T] {
    &items[items.len().saturating_sub(MAX_ITEMS)..]
}

/// A short label for an entry: the first line of its text, else what it holds.
pub fn entry_label(entry: &Entry) -> String {
    let first = entry.text.lines().find(|l| !l.trim().is_empty());
    let base = match (first, &entry.kind) {
        (Some(line), _) => line.trim().to_string(),
        (None, Kind::Link { url, snapshot }) => snapshot
            .as_ref()
            .and_then(|s| s.title.clone())
            .unwrap_or_else(|| url.clone()),
        (
            None,
            Kind::WatchedVideo {
                title, location, ..
            },
        ) => title.clone().unwrap_or_else(|| location.clone()),
        (None, kind) => kind
            .media()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| kind.name().to_string()),
    };
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= LABEL_CHARS {
        clean
    } else {
        let mut s: String = clean.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

fn label_in(entries: &[Entry], id: &str) -> Option<String> {
    entries
        .iter()
        .find(|e| e.id.as_str() == id)
        .map(entry_label)
}

/// A comment as shown; `entries` is the panel it is about, for its label.
pub fn comment_view(c: &Comment, entries: &[Entry]) -> CommentView {
    CommentView {
        id: cut(&c.id, 64),
        entry: c.entry.as_ref().map(|e| EntryId::new(cut(e, 64))),
        entry_label: c.entry.as_deref().and_then(|e| label_in(entries, e)),
        text: cut(&c.text, MAX_TEXT),
        at: Timestamp(c.at),
        audio: c.audio.clone(),
    }
}

pub(crate) fn session_length(s: &Session) -> i64 {
    s.open_for.clamp(0, MAX_SESSION_MS)
}

/// A session as shown, judged against the threshold.
pub fn session_view(s: &Session, threshold_ms: u64) -> SessionView {
    let open_for_ms = u64::try_from(session_length(s)).unwrap_or(0);
    SessionView {
        id: cut(&s.id, 64),
        opened: Timestamp(s.opened),
        open_for_ms,
        definitely: open_for_ms >= threshold_ms,
        entries: newest(&s.entries)
            .iter()
            .map(|e| EntryId::new(cut(e, 64)))
            .collect(),
    }
}

/// Feedback on my panel: `feedback` read from their document, `mine` the entries of my panel,
/// `sent` my comments on their panel with `theirs` its entries.
pub fn feedback_view(
    contact: Contact,
    feedback: &Feedback,
    mine: &[Entry],
    sent: &[Comment],
    theirs: &[Entry],
    threshold_ms: u64,
) -> FeedbackView {
    let comments: Vec<CommentView> = newest(&feedback.comments)
        .iter()
        .map(|c| comment_view(c, mine))
        .collect();
    let mut per_entry: HashMap<&str, u32> = HashMap::new();
    for c in &comments {
        if let Some(e) = &c.entry {
            *per_entry.entry(e.as_str()).or_default() += 1;
        }
    }
    let mut entries: Vec<EntryStats> = mine
        .iter()
        .map(|e| {
            let s = feedback.signals.get(e.id.as_str());
            EntryStats {
                entry: e.id.clone(),
                label: entry_label(e),
                views: s.map_or(0, |s| s.views),
                hovers: s.map_or(0, |s| s.hovers),
                links_opened: s.map_or(0, |s| s.links_opened),
                plays: s.map_or(0, |s| s.plays),
                comments: per_entry.get(e.id.as_str()).copied().unwrap_or(0),
                rank: None,
            }
        })
        .collect();
    let created: HashMap<&str, Timestamp> =
        mine.iter().map(|e| (e.id.as_str(), e.created)).collect();
    entries.sort_by(|a, b| {
        let key = |s: &EntryStats| {
            (
                s.views,
                s.links_opened + s.plays,
                s.hovers,
                u64::from(s.comments),
            )
        };
        key(b).cmp(&key(a)).then_with(|| {
            created
                .get(b.entry.as_str())
                .cmp(&created.get(a.entry.as_str()))
        })
    });
    for (i, s) in entries.iter_mut().enumerate() {
        if s.views > 0 {
            s.rank = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
        }
    }
    FeedbackView {
        contact,
        threshold_ms,
        comments,
        sessions: newest(&feedback.sessions)
            .iter()
            .map(|s| session_view(s, threshold_ms))
            .collect(),
        entries,
        sent: newest(sent)
            .iter()
            .map(|c| comment_view(c, theirs))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use backstory_crdt::feedback::Signals;
    use backstory_crdt::{CategoryId, Source};

    /// A text entry, for this module's tests and the chat's.
    pub(super) fn entry(id: &str, text: &str, created: i64) -> Entry {
        Entry {
            id: EntryId::new(id),
            category: CategoryId::new("k"),
            kind: Kind::Text,
            text: text.into(),
            created: Timestamp(created),
            edited: Timestamp(created),
            source: Source::Manual,
        }
    }

    /// A viewing session, for this module's tests and the chat's.
    pub(super) fn session(id: &str, opened: i64, open_for: i64, entries: &[&str]) -> Session {
        Session {
            id: id.into(),
            heads: Vec::new(),
            opened,
            open_for,
            entries: entries.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn contact() -> Contact {
        Contact {
            id: crate::ContactId::new("c1"),
            name: "Bob".into(),
            created: Timestamp(0),
            outbox: "o".into(),
            inbound: None,
            peer: None,
        }
    }

    #[test]
    fn sessions_are_judged_against_the_threshold_and_hostile_lengths_are_cut() {
        assert!(session_view(&session("s", 0, 11_000, &[]), 10_000).definitely);
        assert!(session_view(&session("s", 0, 10_000, &[]), 10_000).definitely);
        assert!(!session_view(&session("s", 0, 3_000, &[]), 10_000).definitely);
        assert_eq!(
            session_view(&session("s", 0, -5, &[]), 10_000).open_for_ms,
            0
        );
        assert_eq!(
            session_view(&session("s", 0, i64::MAX, &[]), 10_000).open_for_ms,
            24 * 3_600_000
        );
    }

    #[test]
    fn entries_are_ranked_by_views() {
        let mine = [
            entry("a", "Alps", 1),
            entry("b", "Books", 2),
            entry("c", "Cats", 3),
        ];
        let mut feedback = Feedback::default();
        feedback.signals.insert(
            "b".into(),
            Signals {
                views: 3,
                hovers: 1,
                links_opened: 0,
                plays: 0,
            },
        );
        feedback.signals.insert(
            "a".into(),
            Signals {
                views: 1,
                ..Signals::default()
            },
        );
        feedback.comments.push(Comment {
            id: "m1".into(),
            entry: Some("a".into()),
            text: "wow".into(),
            at: 5,
            audio: None,
        });
        let v = feedback_view(contact(), &feedback, &mine, &[], &[], 10_000);
        let order: Vec<(&str, Option<u32>)> = v
            .entries
            .iter()
            .map(|e| (e.entry.as_str(), e.rank))
            .collect();
        assert_eq!(order, [("b", Some(1)), ("a", Some(2)), ("c", None)]);
        assert_eq!(v.entries[1].comments, 1);
        assert_eq!(v.comments[0].entry_label.as_deref(), Some("Alps"));
    }

    #[test]
    fn labels_are_short_and_free_of_control_characters() {
        let long = entry("a", &"x".repeat(100), 1);
        assert_eq!(entry_label(&long).chars().count(), LABEL_CHARS);
        assert_eq!(
            entry_label(&entry("b", "\n  hi\u{1b}[31m there", 1)),
            "hi[31m there"
        );
        assert_eq!(cut("héllo", 2), "h");
    }
}
