//! Printing feedback and chat: comments, views with the ranking, the chat, receipts.

use std::io::Write;

use backstory_core::feedback::{
    ChatBody, ChatItem, ChatView, CommentView, FeedbackView, FetchedAudio, ViewEnded,
};
use backstory_core::view::ContactCard;

use super::{Out, clean, when};

/// Seconds, as people read them: `34 s`, `2 min 5 s` (to the nearest second).
fn seconds(ms: u64) -> String {
    let s = ms.saturating_add(500) / 1000;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

fn about(entry_label: Option<&str>, entry: Option<&str>) -> String {
    match (entry_label, entry) {
        (Some(l), _) => format!("“{}”", clean(l)),
        (None, Some(_)) => "an entry that is gone".into(),
        (None, None) => "the panel".into(),
    }
}

fn comment_line(c: &CommentView) -> String {
    let voice = c
        .audio
        .as_ref()
        .map(|m| format!(" [voice comment, {} bytes]", m.size))
        .unwrap_or_default();
    format!(
        "{}  {}  on {}: {}{voice}",
        c.id,
        when(c.at),
        about(
            c.entry_label.as_deref(),
            c.entry.as_ref().map(|e| e.as_str())
        ),
        clean(&c.text)
    )
}

impl Out {
    pub fn comment(&self, c: &CommentView) -> anyhow::Result<()> {
        if self.json {
            return self.json(c);
        }
        say!("{}", c.id);
        Ok(())
    }

    pub fn fetched_audio(&self, f: &FetchedAudio) -> anyhow::Result<()> {
        if self.json {
            return self.json(f);
        }
        say!(
            "saved {} ({} bytes, BLAKE3 {} verified)",
            f.path.display(),
            f.size,
            f.hash
        );
        Ok(())
    }

    pub fn comments(&self, f: &FeedbackView) -> anyhow::Result<()> {
        if self.json {
            return self.json(f);
        }
        let name = clean(&f.contact.name);
        if f.comments.is_empty() {
            say!("{name} has not commented on your panel.");
        } else {
            say!("{name}'s comments on your panel:");
        }
        for c in &f.comments {
            say!("  {}", comment_line(c));
        }
        if !f.sent.is_empty() {
            say!("\nYour comments on {name}'s panel:");
            for c in &f.sent {
                say!("  {}", comment_line(c));
            }
        }
        Ok(())
    }

    pub fn views(&self, f: &FeedbackView) -> anyhow::Result<()> {
        if self.json {
            return self.json(f);
        }
        let name = clean(&f.contact.name);
        if f.sessions.is_empty() {
            say!("{name} has not looked at your panel (or has read receipts off).");
            return Ok(());
        }
        let times = match f.sessions.len() {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        say!(
            "{name} looked at your panel {times} (definitely viewed from {}):",
            seconds(f.threshold_ms)
        );
        for s in &f.sessions {
            say!(
                "  {}  for {:<10} {:<17} {} entr{} in view",
                when(s.opened),
                seconds(s.open_for_ms),
                if s.definitely {
                    "definitely viewed"
                } else {
                    "viewed"
                },
                s.entries.len(),
                if s.entries.len() == 1 { "y" } else { "ies" }
            );
        }
        say!("\nEntries by views:");
        for e in &f.entries {
            let rank = e
                .rank
                .map(|r| format!("{r}."))
                .unwrap_or_else(|| "-".into());
            say!(
                "  {rank:<4} {}  {}  views {}, hovers {}, links opened {}, plays {}, comments {}",
                e.entry,
                clean(&e.label),
                e.views,
                e.hovers,
                e.links_opened,
                e.plays,
                e.comments
            );
        }
        Ok(())
    }

    fn item_line(&self, name: &str, i: &ChatItem) -> String {
        let who = if i.from_me { "you" } else { name };
        let text = match &i.body {
            ChatBody::Message { text } => {
                let state = match i.delivered {
                    Some(true) => " (delivered)",
                    Some(false) => " (not delivered yet)",
                    None => "",
                };
                format!("{who}: {}{state}", clean(text))
            }
            ChatBody::Comment {
                entry,
                entry_label,
                text,
                audio,
            } => {
                let voice = if audio.is_some() { " [voice]" } else { "" };
                format!(
                    "{who} commented on {}: {}{voice}",
                    about(entry_label.as_deref(), entry.as_ref().map(|e| e.as_str())),
                    clean(text)
                )
            }
            ChatBody::Viewed {
                open_for_ms,
                definitely,
                sessions,
                ..
            } => {
                let times = if *sessions > 1 {
                    format!(" ({sessions} times)")
                } else {
                    String::new()
                };
                let how = if *definitely {
                    "definitely viewed"
                } else {
                    "viewed"
                };
                format!(
                    "{who} looked at your panel for {}{times} — {how}",
                    seconds(*open_for_ms)
                )
            }
        };
        let mark = if i.unread { "* " } else { "  " };
        format!("{mark}{}  {text}", when(i.at))
    }

    pub fn chat(&self, c: &ChatView) -> anyhow::Result<()> {
        if self.json {
            return self.json(c);
        }
        let name = clean(&c.contact.name);
        if c.items.is_empty() {
            say!("Nothing yet with {name}. Write with `backstory chat {name} TEXT`.");
        }
        for i in &c.items {
            let line = self.item_line(&name, i);
            say!("{line}");
        }
        if c.unread > 0 {
            say!("({} unread, marked *)", c.unread);
        }
        Ok(())
    }

    pub fn chat_item(&self, i: &ChatItem) -> anyhow::Result<()> {
        if self.json {
            return self.json(i);
        }
        say!("{}", i.id);
        Ok(())
    }

    pub fn receipts(&self, card: &ContactCard, global: bool) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({
                "contact": card.id, "receipts": card.receipts, "global": global,
                "effective": card.receipts && global,
            }));
        }
        let name = clean(&card.name);
        match (card.receipts, global) {
            (true, true) => say!("{name} learns what you look at of their panel."),
            (false, _) => {
                say!("Receipts are off for {name}: they learn nothing of what you look at.")
            }
            (true, false) => say!(
                "Receipts are on for {name}, but off for everyone (`backstory settings set receipts on`)."
            ),
        }
        Ok(())
    }

    pub fn viewed(
        &self,
        name: &str,
        session: Option<&str>,
        ended: Option<&ViewEnded>,
    ) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({
                "session": session,
                "open_for_ms": ended.map(|e| e.open_for_ms),
                "recorded": ended.is_some_and(|e| e.recorded),
            }));
        }
        let name = clean(name);
        match ended {
            Some(e) if e.recorded => say!(
                "Looked at {name}'s panel for {} (session {}).",
                seconds(e.open_for_ms),
                session.unwrap_or("?")
            ),
            _ => say!("Looked at {name}'s panel; receipts are off, so nothing was sent."),
        }
        Ok(())
    }
}
