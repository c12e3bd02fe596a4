//! Printing answers: JSON for scripts, plain text for people. Everything shown was computed by the
//! engine; text that came from a peer is printed without its control characters, so a contact
//! cannot move the cursor or recolour the terminal.

use std::io::Write;

use backstory_core::crdt::{
    Category, ChangedEntry, Entry, EntryState, Kind, PanelView, Timestamp, Visibility,
};
use backstory_core::draft::{Draft, DraftSource};
use backstory_core::pairing::PendingJoin;
use backstory_core::view::{
    ContactCard, Fetched, ImportSummary, InboxView, InspectedDoc, Invite, MyPanel, Paired,
    PanelProblem, Posted, Preferences, Preview, Profile, ScreenSources, TheirPanel,
};
use backstory_core::{Contact, Event, PeerState};
use chrono::{Local, TimeZone};
use serde::Serialize;

pub struct Out {
    json: bool,
}

/// Prints one line; a closed pipe surfaces as an error the caller ends quietly on.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

mod feedback;

fn when(t: Timestamp) -> String {
    Local
        .timestamp_millis_opt(t.millis())
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.millis().to_string())
}

/// Text as it may reach a terminal: no control characters but newlines and tabs.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

fn rule(v: Visibility) -> String {
    match v {
        Visibility::Visible => "visible".into(),
        Visibility::Hidden => "hidden".into(),
        Visibility::RevealAfter(t) => format!("hidden until {}", when(t)),
        Visibility::VisibleUntil(t) => format!("visible until {}", when(t)),
    }
}

/// One line describing an entry's content.
fn describe_kind(kind: &Kind, text: &str) -> String {
    let extra = match kind {
        Kind::Text => String::new(),
        Kind::Link { url, .. } => format!("<{url}>"),
        Kind::Image { media }
        | Kind::Audio { media }
        | Kind::Video { media }
        | Kind::File { media }
        | Kind::Screenshot { media } => {
            format!(
                "{} ({}, {} bytes, {})",
                media.name,
                media.mime,
                media.size,
                &media.hash[..12.min(media.hash.len())]
            )
        }
        Kind::WatchedVideo {
            player,
            location,
            title,
        } if location.is_empty() => format!("{} via {player}", title.as_deref().unwrap_or("video")),
        Kind::WatchedVideo {
            player,
            location,
            title,
        } => format!(
            "{} via {player} <{location}>",
            title.as_deref().unwrap_or("video")
        ),
    };
    let line = match (text.is_empty(), extra.is_empty()) {
        (_, true) => text.to_string(),
        (true, false) => extra,
        (false, false) => format!("{extra} — {text}"),
    };
    clean(&line)
}

fn describe(e: &Entry) -> String {
    describe_kind(&e.kind, &e.text)
}

/// The lines a link entry's snapshot adds under it: title and site, description, or what kind of
/// file the link is.
fn snapshot_lines(kind: &Kind) -> Vec<String> {
    let Kind::Link {
        snapshot: Some(s), ..
    } = kind
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    match (&s.title, &s.site) {
        (Some(t), Some(site)) => lines.push(format!("{t} — {site}")),
        (Some(t), None) => lines.push(t.clone()),
        (None, Some(site)) => lines.push(site.clone()),
        (None, None) => {}
    }
    if let Some(d) = &s.description {
        lines.push(d.clone());
    }
    if let Some(mime) = &s.content_type {
        let size = s.size.map(|n| format!(", {n} bytes")).unwrap_or_default();
        lines.push(format!("not a web page: {mime}{size}"));
    }
    if let Some(image) = &s.image {
        lines.push(format!("preview image: {} bytes", image.size));
    }
    lines.into_iter().map(|l| clean(&l)).collect()
}

fn by_category<'a, T>(
    categories: &'a [Category],
    items: &'a [T],
    category_of: impl Fn(&T) -> &backstory_core::crdt::CategoryId + 'a,
) -> impl Iterator<Item = (&'a Category, Vec<&'a T>)> + 'a {
    categories.iter().map(move |c| {
        let in_it = items.iter().filter(|i| *category_of(i) == c.id).collect();
        (c, in_it)
    })
}

impl Out {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    fn json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        say!("{text}");
        Ok(())
    }

    pub fn profile(&self, p: &Profile) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        say!("id:   {}", p.id);
        let name = if p.name.is_empty() {
            "(not set)"
        } else {
            &p.name
        };
        say!("name: {name}");
        say!("data: {}", p.data_dir);
        Ok(())
    }

    pub fn contacts(&self, list: &[ContactCard]) -> anyhow::Result<()> {
        if self.json {
            return self.json(list);
        }
        if list.is_empty() {
            say!("No contacts yet. Add one with `backstory contacts add NAME`.");
        }
        for c in list {
            let state = match (c.paired, c.state) {
                (false, _) => "local",
                (true, PeerState::Online) => "online",
                (true, PeerState::Offline) => "offline",
                (true, PeerState::Syncing) => "syncing",
            };
            say!(
                "{}  {}  [{state}]  ({} entries, {} visible to them)",
                c.id,
                clean(&c.name),
                c.mine.entries,
                c.mine.visible,
            );
            match c.theirs.problem {
                Some(PanelProblem::TooNew) => {
                    say!("    their panel needs a newer Backstory: update to read it")
                }
                Some(PanelProblem::Unreadable) => say!("    their panel could not be read"),
                Some(PanelProblem::TooLarge) => say!(
                    "    their panel grew past your limit: syncing it is paused (raise sync.panel_limit to resume)"
                ),
                None => {}
            }
            if c.theirs.unseen > 0 {
                say!(
                    "    {} update(s) from them you have not seen",
                    c.theirs.unseen
                );
            }
            if !c.words.is_empty() {
                say!("    safety words: {}", c.words);
            }
        }
        Ok(())
    }

    pub fn contact(&self, c: &Contact) -> anyhow::Result<()> {
        if self.json {
            return self.json(c);
        }
        say!("{}  {}", c.id, clean(&c.name));
        Ok(())
    }

    pub fn id(&self, id: &str) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "id": id }));
        }
        say!("{id}");
        Ok(())
    }

    /// A new entry's id; the note, if any, goes to the error stream (the id stays alone on
    /// standard output for scripts).
    pub fn posted(&self, p: &Posted) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "id": p.entry, "note": p.note }));
        }
        say!("{}", p.entry);
        if let Some(note) = &p.note {
            eprintln!("{}", clean(note));
        }
        Ok(())
    }

    /// What can be captured.
    pub fn screens(&self, s: &ScreenSources) -> anyhow::Result<()> {
        if self.json {
            return self.json(s);
        }
        for m in &s.monitors {
            let primary = if m.primary { ", primary" } else { "" };
            say!(
                "monitor {}  {} ({}×{}{primary})",
                m.index,
                clean(&m.name),
                m.width,
                m.height
            );
        }
        for w in &s.windows {
            say!("window {}  {} — {}", w.id, clean(&w.title), clean(&w.app));
        }
        if let Some(note) = &s.windows_note {
            say!("(no windows: {})", clean(note));
        }
        Ok(())
    }

    pub fn ids(&self, ids: &[backstory_core::crdt::EntryId]) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "ids": ids }));
        }
        for id in ids {
            say!("{id}");
        }
        Ok(())
    }

    pub fn value(&self, value: &str) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "value": value }));
        }
        say!("{value}");
        Ok(())
    }

    pub fn time(&self, t: Timestamp) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "now": t }));
        }
        say!("{} ({} ms)", when(t), t.millis());
        Ok(())
    }

    pub fn done(&self, what: &str) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "ok": true }));
        }
        say!("{what}");
        Ok(())
    }

    pub fn event(&self, e: &Event) -> anyhow::Result<()> {
        let line = serde_json::to_string(e)?;
        say!("{line}");
        Ok(())
    }

    pub fn settings(&self, p: &Preferences) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        let width = p.all.iter().map(|s| s.key.len()).max().unwrap_or(0);
        for s in &p.all {
            say!("{:<width$}  {}", s.key, s.value);
        }
        Ok(())
    }

    pub fn my_panel(&self, p: &MyPanel) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        say!(
            "My panel for {} — {} entries, {} visible to them now",
            clean(&p.contact.name),
            p.entries.len(),
            p.visible
        );
        if let Some(t) = p.next_change {
            say!("(what they see changes by itself at {})", when(t));
        }
        for (c, entries) in by_category(&p.categories, &p.entries, |e| &e.entry.category) {
            say!("\n{} [{}]", clean(&c.display_name()), c.id);
            if entries.is_empty() {
                say!("  (empty)");
            }
            for e in entries {
                say!(
                    "  {}  {:<13} {}  [{}; edited {}]",
                    e.entry.id,
                    e.entry.kind.name(),
                    describe(&e.entry),
                    rule(e.visibility),
                    when(e.entry.edited)
                );
                for line in snapshot_lines(&e.entry.kind) {
                    say!("      {line}");
                }
                if let Some(note) = &e.note {
                    say!("      ({})", clean(note));
                }
            }
        }
        Ok(())
    }

    pub fn preview(&self, p: &Preview) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        let view: &PanelView = &p.panel;
        say!("What {} sees of my panel now", clean(&p.contact.name));
        for (c, entries) in by_category(&view.categories, &view.entries, |e| &e.category) {
            if entries.is_empty() {
                continue;
            }
            say!("\n{}", clean(&c.display_name()));
            for e in entries {
                say!("  {}  {}", e.id, describe(e));
                for line in snapshot_lines(&e.kind) {
                    say!("      {line}");
                }
            }
        }
        Ok(())
    }

    pub fn categories(&self, p: &MyPanel) -> anyhow::Result<()> {
        if self.json {
            return self.json(&p.categories);
        }
        say!("Categories of my panel for {}", clean(&p.contact.name));
        for c in &p.categories {
            let n = p
                .entries
                .iter()
                .filter(|e| e.entry.category == c.id)
                .count();
            say!(
                "  {:<14} {}  ({n})",
                c.id.to_string(),
                clean(&c.display_name())
            );
        }
        Ok(())
    }

    pub fn their_panel(&self, p: &TheirPanel, since_last: bool) -> anyhow::Result<()> {
        if self.json {
            if since_last {
                let changed: Vec<&ChangedEntry> = p
                    .changes
                    .entries
                    .iter()
                    .filter(|e| e.state != EntryState::Seen)
                    .map(|e| &**e)
                    .collect();
                return self.json(&serde_json::json!({
                    "contact": p.contact, "shared": p.shared, "entries": changed,
                    "removed": p.changes.removed, "heads": p.changes.heads,
                }));
            }
            return self.json(p);
        }
        let name = clean(&p.contact.name);
        if !p.shared {
            say!("{name} has not shared a panel with you yet.");
            return Ok(());
        }
        let unseen = match p.changes.unseen() {
            0 => "nothing new since you last looked".to_string(),
            1 => "1 update since you last looked".to_string(),
            n => format!("{n} updates since you last looked"),
        };
        say!("{name}'s panel for you — {unseen}");
        let shown =
            |e: &&std::sync::Arc<ChangedEntry>| !(since_last && e.state == EntryState::Seen);
        for (c, entries) in by_category(&p.changes.categories, &p.changes.entries, |e| {
            &e.entry.category
        }) {
            let entries: Vec<_> = entries.into_iter().filter(shown).collect();
            if entries.is_empty() {
                continue;
            }
            say!("\n{}", clean(&c.display_name()));
            for e in entries {
                let mark = match e.state {
                    EntryState::New => "NEW     ",
                    EntryState::Edited => "EDITED  ",
                    EntryState::Seen => "        ",
                };
                say!("  {mark}{}  {}", e.entry.id, spans(e));
                for line in snapshot_lines(&e.entry.kind) {
                    say!("          {line}");
                }
            }
        }
        if !p.changes.removed.is_empty() {
            say!();
        }
        for r in &p.changes.removed {
            say!("  REMOVED {}  {}", r.id, describe(r));
        }
        Ok(())
    }

    pub fn invite(&self, i: &Invite) -> anyhow::Result<()> {
        if self.json {
            return self.json(i);
        }
        say!("{}", i.qr);
        say!("Ticket (one use, valid until {}):", when(i.expires));
        say!("{}", i.ticket);
        say!("\nOr open: {}", i.link);
        if i.approval {
            say!("\nJoins wait for your approval: `backstory pending`.");
        }
        Ok(())
    }

    pub fn paired(&self, p: &Paired) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        let name = clean(&p.contact.name);
        say!("Paired with {name} ({}).", p.contact.id);
        say!("Safety words: {}", p.words);
        say!("Check that {name} sees the same words.");
        Ok(())
    }

    pub fn pending(&self, list: &[PendingJoin]) -> anyhow::Result<()> {
        if self.json {
            return self.json(list);
        }
        if list.is_empty() {
            say!("No joins are waiting.");
        }
        for p in list {
            say!(
                "{}  {}  safety words: {}  (since {})",
                p.id,
                clean(&p.name),
                p.words,
                when(p.since)
            );
        }
        Ok(())
    }

    pub fn drafts(&self, list: &[Draft]) -> anyhow::Result<()> {
        if self.json {
            return self.json(list);
        }
        if list.is_empty() {
            say!("No drafts.");
        }
        for d in list {
            let from = match &d.source {
                DraftSource::Manual => "draft".to_string(),
                DraftSource::Watcher { player, .. } => format!("seen in {}", clean(player)),
                DraftSource::Screenshot => "screenshot".to_string(),
            };
            let to = d
                .contact
                .as_ref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default();
            say!(
                "{}  {:<13} {}  [{from}{to}; {}]",
                d.id,
                d.kind.name(),
                describe_kind(&d.kind, &d.text),
                when(d.created)
            );
        }
        Ok(())
    }

    pub fn inbox(&self, inbox: &InboxView) -> anyhow::Result<()> {
        if self.json {
            return self.json(inbox);
        }
        let w = &inbox.watcher;
        match (&w.message, w.running) {
            (_, true) => say!("The video watcher is running."),
            (Some(why), false) => say!("The video watcher is not running: {why}."),
            (None, false) => say!("The video watcher is not running."),
        }
        if inbox.suggestions.is_empty() {
            say!("No suggestions.");
        }
        for d in &inbox.suggestions {
            let (player, location, via) = match &d.source {
                DraftSource::Watcher {
                    player,
                    location,
                    via,
                    ..
                } => (player.as_str(), location.as_str(), via.as_str()),
                _ => ("", "", ""),
            };
            say!(
                "{}  {}  [{} via {via}, {}]",
                d.id,
                clean(&d.text),
                clean(player),
                when(d.created)
            );
            if !location.is_empty() {
                say!("    {}", clean(location));
            }
        }
        for r in &inbox.rules {
            let to: Vec<&str> = r.contacts.iter().map(|c| c.as_str()).collect();
            say!(
                "always allowed: {} → {} (since {})",
                clean(&r.player),
                to.join(", "),
                when(r.since)
            );
        }
        Ok(())
    }

    pub fn fetched(&self, f: &Fetched) -> anyhow::Result<()> {
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

    pub fn inspect(&self, docs: &[InspectedDoc]) -> anyhow::Result<()> {
        if self.json {
            return self.json(docs);
        }
        for d in docs {
            say!("document {} — {}", d.id, clean(&d.role));
            say!("  heads: {}", d.heads.join(", "));
            let content = serde_json::to_string_pretty(&d.content).unwrap_or_default();
            say!("  content now:");
            for line in content.lines() {
                say!("    {}", clean(line));
            }
            for c in &d.changes {
                let time = c["time"].as_i64().unwrap_or(0);
                let ops = c["ops"].as_array().map(Vec::len).unwrap_or(0);
                say!(
                    "  change {} by {} #{} at {} ({ops} ops)",
                    c["hash"].as_str().unwrap_or("?"),
                    c["actor"].as_str().unwrap_or("?"),
                    c["seq"],
                    when(Timestamp(time.saturating_mul(1000)))
                );
                for op in c["ops"].as_array().into_iter().flatten() {
                    say!("    {}", clean(&op.to_string()));
                }
            }
            say!();
        }
        Ok(())
    }

    pub fn imported(&self, s: &ImportSummary) -> anyhow::Result<()> {
        if self.json {
            return self.json(s);
        }
        say!(
            "Imported {}'s panel: {} update(s) you have not seen",
            clean(&s.contact.name),
            s.unseen
        );
        Ok(())
    }
}

/// An entry's text with each new edit session marked `[+text @time]`.
fn spans(e: &ChangedEntry) -> String {
    let text: String = e
        .spans
        .iter()
        .map(|s| {
            if s.new && e.state == EntryState::Edited {
                format!("[+{} @{}]", s.text, when(s.time))
            } else {
                s.text.clone()
            }
        })
        .collect();
    describe_kind(&e.entry.kind, &text)
}
