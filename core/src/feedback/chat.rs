//! The chat with a contact as one list: my messages and theirs, my comments on their panel, and
//! their comments on mine and views of it as notices — views a few minutes apart making one.

use std::collections::HashSet;

use backstory_crdt::feedback::{Comment, Feedback, Message, Session};
use backstory_crdt::{Entry, EntryId, MediaRef, Timestamp};
use serde::{Deserialize, Serialize};

use super::{GROUP_GAP_MS, MAX_TEXT, comment_view, cut, newest, session_length};
use crate::contact::Contact;

/// What a chat item says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatBody {
    /// A message.
    Message {
        /// Its text.
        text: String,
    },
    /// A comment on a panel (theirs on mine, or mine on theirs).
    Comment {
        /// The entry; none for the panel as a whole.
        entry: Option<EntryId>,
        /// A short label of the entry, when it is still there.
        entry_label: Option<String>,
        /// The text.
        text: String,
        /// A voice comment's recording.
        audio: Option<MediaRef>,
    },
    /// They looked at my panel: one session, or several a few minutes apart.
    Viewed {
        /// How long it was in front, all sessions together, in milliseconds.
        open_for_ms: u64,
        /// Whether one session reached the threshold.
        definitely: bool,
        /// How many sessions this notice stands for.
        sessions: u32,
        /// How many different entries were in view.
        entries: u32,
    },
}

/// One item of the chat with a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatItem {
    /// Its id (a message's, a comment's, or the first session's of a view notice).
    pub id: String,
    /// Whether I wrote or did it.
    pub from_me: bool,
    /// When (on the writer's clock).
    pub at: Timestamp,
    /// What it says.
    #[serde(flatten)]
    pub body: ChatBody,
    /// For my messages: whether their device has it.
    pub delivered: Option<bool>,
    /// For their items: whether I have not read it yet.
    pub unread: bool,
}

/// The chat with a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatView {
    /// The contact.
    pub contact: Contact,
    /// Messages and feedback notices, oldest first.
    pub items: Vec<ChatItem>,
    /// Their items I have not read.
    pub unread: u32,
}

/// The chat as a contact's row shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatSummary {
    /// Their items I have not read.
    pub unread: u32,
    /// Their latest item, if any.
    pub latest: Option<ChatItem>,
}

/// Sessions a few minutes apart, as one notice each: the id of the group's first session, when
/// it began, and the notice.
pub fn view_notices(sessions: &[Session], threshold_ms: u64) -> Vec<(String, Timestamp, ChatBody)> {
    struct Group {
        id: String,
        opened: i64,
        end: i64,
        total: i64,
        definitely: bool,
        sessions: u32,
        entries: HashSet<String>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for s in newest(sessions) {
        let length = session_length(s);
        let definitely = u64::try_from(length).unwrap_or(0) >= threshold_ms;
        let end = s.opened.saturating_add(length);
        match groups.last_mut() {
            Some(g) if s.opened.saturating_sub(g.end) <= GROUP_GAP_MS && s.opened >= g.opened => {
                g.end = g.end.max(end);
                g.total = g.total.saturating_add(length);
                g.definitely |= definitely;
                g.sessions = g.sessions.saturating_add(1);
                g.entries.extend(s.entries.iter().cloned());
            }
            _ => groups.push(Group {
                id: cut(&s.id, 64),
                opened: s.opened,
                end,
                total: length,
                definitely,
                sessions: 1,
                entries: s.entries.iter().cloned().collect(),
            }),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            (
                g.id,
                Timestamp(g.opened),
                ChatBody::Viewed {
                    open_for_ms: u64::try_from(g.total).unwrap_or(0),
                    definitely: g.definitely,
                    sessions: g.sessions,
                    entries: u32::try_from(g.entries.len()).unwrap_or(u32::MAX),
                },
            )
        })
        .collect()
}

/// Everything the chat with a contact holds, before read marks: my side and theirs.
pub struct ChatSources<'a> {
    /// My messages to them.
    pub my_messages: &'a [Message],
    /// How many of my messages their device says it holds.
    pub delivered: u64,
    /// My comments on their panel.
    pub my_comments: &'a [Comment],
    /// The entries of their panel (labels for my comments).
    pub their_entries: &'a [Entry],
    /// Their messages to me.
    pub their_messages: &'a [Message],
    /// What they said and did on my panel.
    pub their_feedback: &'a Feedback,
    /// The entries of my panel (labels for their comments).
    pub my_entries: &'a [Entry],
    /// The threshold for "definitely viewed", in milliseconds.
    pub threshold_ms: u64,
}

/// Their items (messages, comments and view notices), in the order they were made.
pub fn their_items(src: &ChatSources<'_>) -> Vec<ChatItem> {
    let mut items: Vec<ChatItem> = newest(src.their_messages)
        .iter()
        .map(|m| ChatItem {
            id: cut(&m.id, 64),
            from_me: false,
            at: Timestamp(m.at),
            body: ChatBody::Message {
                text: cut(&m.text, MAX_TEXT),
            },
            delivered: None,
            unread: false,
        })
        .collect();
    items.extend(
        newest(&src.their_feedback.comments)
            .iter()
            .map(|c| comment_item(c, src.my_entries, false)),
    );
    items.extend(
        view_notices(&src.their_feedback.sessions, src.threshold_ms)
            .into_iter()
            .map(|(id, at, body)| ChatItem {
                id,
                from_me: false,
                at,
                body,
                delivered: None,
                unread: false,
            }),
    );
    items.sort_by_key(|i| i.at);
    items
}

fn comment_item(c: &Comment, entries: &[Entry], from_me: bool) -> ChatItem {
    let v = comment_view(c, entries);
    ChatItem {
        id: v.id,
        from_me,
        at: v.at,
        body: ChatBody::Comment {
            entry: v.entry,
            entry_label: v.entry_label,
            text: v.text,
            audio: v.audio,
        },
        delivered: None,
        unread: false,
    }
}

/// The whole chat, oldest first, with unread marks from `read` (ids of their items I have read).
pub fn chat_items(src: &ChatSources<'_>, read: &HashSet<String>) -> (Vec<ChatItem>, u32) {
    let delivered = usize::try_from(src.delivered).unwrap_or(usize::MAX);
    let mut items: Vec<ChatItem> = src
        .my_messages
        .iter()
        .enumerate()
        .map(|(i, m)| ChatItem {
            id: m.id.clone(),
            from_me: true,
            at: Timestamp(m.at),
            body: ChatBody::Message {
                text: m.text.clone(),
            },
            delivered: Some(i < delivered),
            unread: false,
        })
        .collect();
    items.extend(
        src.my_comments
            .iter()
            .map(|c| comment_item(c, src.their_entries, true)),
    );
    let mut unread = 0u32;
    for mut item in their_items(src) {
        item.unread = !read.contains(&item.id);
        unread += u32::from(item.unread);
        items.push(item);
    }
    // Stable: items made at the same instant keep mine before theirs, each in its order.
    items.sort_by_key(|i| i.at);
    (items, unread)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::tests::{entry, session};
    use super::*;

    #[test]
    fn views_a_few_minutes_apart_make_one_notice() {
        let min = 60_000;
        let sessions = [
            session("s1", 0, 3_000, &["a"]),
            session("s2", 2 * min, 11_000, &["a", "b"]),
            session("s3", 4 * min, 1_000, &[]),
            // Twenty minutes later: a notice of its own.
            session("s4", 24 * min, 2_000, &["b"]),
        ];
        let notices = view_notices(&sessions, 10_000);
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[0].0, "s1");
        assert_eq!(
            notices[0].2,
            ChatBody::Viewed {
                open_for_ms: 15_000,
                definitely: true,
                sessions: 3,
                entries: 2
            }
        );
        assert_eq!(
            notices[1].2,
            ChatBody::Viewed {
                open_for_ms: 2_000,
                definitely: false,
                sessions: 1,
                entries: 1
            }
        );
    }

    #[test]
    fn the_chat_merges_both_sides_in_time_order_with_delivery_and_unread_marks() {
        let msg = |id: &str, at| Message {
            id: id.into(),
            text: id.into(),
            at,
        };
        let mine = [msg("m1", 10), msg("m2", 30)];
        let theirs = [msg("t1", 20)];
        let mut feedback = Feedback::default();
        feedback.comments.push(Comment {
            id: "k1".into(),
            entry: Some("a".into()),
            text: "nice".into(),
            at: 25,
            audio: None,
        });
        feedback.sessions.push(session("s1", 22, 12_000, &["a"]));
        let my_entries = [entry("a", "Alps trip\nsecond line", 1)];
        let src = ChatSources {
            my_messages: &mine,
            delivered: 1,
            my_comments: &[],
            their_entries: &[],
            their_messages: &theirs,
            their_feedback: &feedback,
            my_entries: &my_entries,
            threshold_ms: 10_000,
        };
        let read: HashSet<String> = ["t1".to_string()].into();
        let (items, unread) = chat_items(&src, &read);
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["m1", "t1", "s1", "k1", "m2"]);
        assert_eq!(items[0].delivered, Some(true));
        assert_eq!(items[4].delivered, Some(false));
        assert_eq!(unread, 2);
        assert!(!items[1].unread && items[2].unread && items[3].unread);
        match &items[3].body {
            ChatBody::Comment { entry_label, .. } => {
                assert_eq!(entry_label.as_deref(), Some("Alps trip"))
            }
            other => panic!("{other:?}"),
        }
    }
}
