//! Printing replies: JSON for scripts, plain text for people.

use backstory_core::engine::{ContactSummary, ImportSummary, Invite, Paired, PendingJoin};
use backstory_core::{Contact, Profile, TheirPanel};
use backstory_crdt::{
    Category, ChangedEntry, Entry, EntryState, Kind, MasterPanel, PanelView, Timestamp, Visibility,
};
use chrono::{Local, TimeZone};
use serde::Serialize;

pub struct Out {
    pub json: bool,
}

fn when(t: Timestamp) -> String {
    Local
        .timestamp_millis_opt(t.millis())
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.millis().to_string())
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
fn describe(e: &Entry) -> String {
    let extra = match &e.kind {
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
        } => format!(
            "{} via {player} <{location}>",
            title.as_deref().unwrap_or("video")
        ),
    };
    match (e.text.is_empty(), extra.is_empty()) {
        (_, true) => e.text.clone(),
        (true, false) => extra,
        (false, false) => format!("{extra} — {}", e.text),
    }
}

fn by_category<'a, T>(
    categories: &'a [Category],
    items: &'a [T],
    category_of: impl Fn(&T) -> &backstory_crdt::CategoryId + 'a,
) -> impl Iterator<Item = (&'a Category, Vec<&'a T>)> + 'a {
    categories.iter().map(move |c| {
        let in_it = items.iter().filter(|i| *category_of(i) == c.id).collect();
        (c, in_it)
    })
}

impl Out {
    fn json<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }

    pub fn profile(&self, p: &Profile) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        println!("id:   {}", p.id);
        println!(
            "name: {}",
            if p.name.is_empty() {
                "(not set)"
            } else {
                &p.name
            }
        );
        println!("data: {}", p.data_dir.display());
        Ok(())
    }

    pub fn contacts(&self, list: &Vec<ContactSummary>) -> anyhow::Result<()> {
        if self.json {
            return self.json(&list);
        }
        if list.is_empty() {
            println!("No contacts yet. Add one with `backstory contacts add NAME`.");
        }
        for c in list {
            let state = match (&c.contact.peer, c.state) {
                (None, _) => "local",
                (Some(_), backstory_core::net::PeerState::Online) => "online",
                (Some(_), backstory_core::net::PeerState::Offline) => "offline",
                (Some(_), backstory_core::net::PeerState::Syncing) => "syncing",
            };
            println!(
                "{}  {}  [{state}]  ({} entries, {} visible to them)",
                c.contact.id, c.contact.name, c.entries, c.visible,
            );
            if !c.words.is_empty() {
                println!("    safety words: {}", c.words);
            }
        }
        Ok(())
    }

    pub fn contact(&self, c: &Contact) -> anyhow::Result<()> {
        if self.json {
            return self.json(c);
        }
        println!("{}  {}", c.id, c.name);
        Ok(())
    }

    pub fn id(&self, id: &str) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "id": id }));
        }
        println!("{id}");
        Ok(())
    }

    pub fn done(&self, what: &str) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "ok": true }));
        }
        println!("{what}");
        Ok(())
    }

    pub fn master(&self, (contact, m): &(Contact, MasterPanel)) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "contact": contact, "panel": m }));
        }
        let visible = backstory_crdt::publish(m, backstory_core::now())
            .entries
            .len();
        println!(
            "My panel for {} — {} entries, {} visible to them now",
            contact.name,
            m.entries.len(),
            visible
        );
        for (c, entries) in by_category(&m.categories, &m.entries, |e| &e.entry.category) {
            println!("\n{} [{}]", c.display_name(), c.id);
            if entries.is_empty() {
                println!("  (empty)");
            }
            for e in entries {
                println!(
                    "  {}  {:<13} {}  [{}; edited {}]",
                    e.entry.id,
                    e.entry.kind.name(),
                    describe(&e.entry),
                    rule(e.visibility),
                    when(e.entry.edited)
                );
            }
        }
        Ok(())
    }

    pub fn preview(&self, (contact, view): &(Contact, PanelView)) -> anyhow::Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "contact": contact, "panel": view }));
        }
        println!("What {} sees of my panel now", contact.name);
        for (c, entries) in by_category(&view.categories, &view.entries, |e| &e.category) {
            if entries.is_empty() {
                continue;
            }
            println!("\n{}", c.display_name());
            for e in entries {
                println!("  {}  {}", e.id, describe(e));
            }
        }
        Ok(())
    }

    pub fn categories(&self, contact: &Contact, m: &MasterPanel) -> anyhow::Result<()> {
        if self.json {
            return self.json(&m.categories);
        }
        println!("Categories of my panel for {}", contact.name);
        for c in &m.categories {
            let n = m
                .entries
                .iter()
                .filter(|e| e.entry.category == c.id)
                .count();
            println!("  {:<14} {}  ({n})", c.id.to_string(), c.display_name());
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
                    .collect();
                return self.json(&serde_json::json!({
                    "contact": p.contact, "shared": p.shared, "entries": changed,
                    "removed": p.changes.removed, "heads": p.changes.heads,
                }));
            }
            return self.json(p);
        }
        let name = &p.contact.name;
        if !p.shared {
            println!("{name} has not shared a panel with you yet.");
            return Ok(());
        }
        let unseen = p.changes.unseen();
        println!(
            "{name}'s panel for you — {}",
            match unseen {
                0 => "nothing new since you last looked".to_string(),
                1 => "1 update since you last looked".to_string(),
                n => format!("{n} updates since you last looked"),
            }
        );
        let shown = |e: &&ChangedEntry| !(since_last && e.state == EntryState::Seen);
        for (c, entries) in by_category(&p.changes.categories, &p.changes.entries, |e| {
            &e.entry.category
        }) {
            let entries: Vec<_> = entries.into_iter().filter(shown).collect();
            if entries.is_empty() {
                continue;
            }
            println!("\n{}", c.display_name());
            for e in entries {
                let mark = match e.state {
                    EntryState::New => "NEW     ",
                    EntryState::Edited => "EDITED  ",
                    EntryState::Seen => "        ",
                };
                println!("  {mark}{}  {}", e.entry.id, spans(e));
            }
        }
        if !p.changes.removed.is_empty() {
            println!();
        }
        for r in &p.changes.removed {
            println!("  REMOVED {}  {}", r.id, describe(r));
        }
        Ok(())
    }

    pub fn invite(&self, i: &Invite) -> anyhow::Result<()> {
        if self.json {
            return self.json(i);
        }
        println!("{}", i.qr);
        println!("Ticket (one use, valid until {}):", when(i.expires));
        println!("{}", i.ticket);
        println!("\nOr open: {}", i.link);
        if i.approval {
            println!("\nJoins wait for your approval: `backstory pending`.");
        }
        Ok(())
    }

    pub fn paired(&self, p: &Paired) -> anyhow::Result<()> {
        if self.json {
            return self.json(p);
        }
        println!("Paired with {} ({}).", p.contact.name, p.contact.id);
        println!("Safety words: {}", p.words);
        println!("Check that {} sees the same words.", p.contact.name);
        Ok(())
    }

    pub fn pending(&self, list: &Vec<PendingJoin>) -> anyhow::Result<()> {
        if self.json {
            return self.json(list);
        }
        if list.is_empty() {
            println!("No joins are waiting.");
        }
        for p in list {
            println!(
                "{}  {}  safety words: {}  (since {})",
                p.id,
                p.name,
                p.words,
                when(p.since)
            );
        }
        Ok(())
    }

    pub fn fetched(&self, f: &backstory_core::engine::Fetched) -> anyhow::Result<()> {
        if self.json {
            return self.json(f);
        }
        match &f.path {
            Some(p) => println!(
                "saved {} ({} bytes, BLAKE3 {} verified)",
                p.display(),
                f.size,
                f.hash
            ),
            None => println!("fetched {} bytes, BLAKE3 {} verified", f.size, f.hash),
        }
        Ok(())
    }

    pub fn inspect(&self, docs: &Vec<backstory_core::engine::InspectedDoc>) -> anyhow::Result<()> {
        if self.json {
            return self.json(docs);
        }
        for d in docs {
            println!("document {} — {}", d.id, d.role);
            println!("  heads: {}", d.heads.join(", "));
            for c in &d.changes {
                let time = c["time"].as_i64().unwrap_or(0);
                let ops = c["ops"].as_array().map(Vec::len).unwrap_or(0);
                println!(
                    "  change {} by {} #{} at {} ({ops} ops)",
                    c["hash"].as_str().unwrap_or("?"),
                    c["actor"].as_str().unwrap_or("?"),
                    c["seq"],
                    when(Timestamp(time.saturating_mul(1000)))
                );
                for op in c["ops"].as_array().into_iter().flatten() {
                    println!("    {op}");
                }
            }
            println!();
        }
        Ok(())
    }

    pub fn imported(&self, s: &ImportSummary) -> anyhow::Result<()> {
        if self.json {
            return self.json(s);
        }
        println!(
            "Imported {}'s panel: {} update(s) you have not seen",
            s.contact.name, s.unseen
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
    let mut entry = e.entry.clone();
    entry.text = text;
    describe(&entry)
}
