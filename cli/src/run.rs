//! Each command as the engine operations it sends, and the view it renders.

use std::path::PathBuf;

use anyhow::Context;
use backstory_core::control::Client;
use backstory_core::crdt::{CategoryId, EntryId, Visibility};
use backstory_core::draft::{DraftEdit, DraftId};
use backstory_core::feedback::AudioInput;
use backstory_core::op;
use backstory_core::view::{EntryEdit, NewEntry, ScreenTarget};

use crate::args::{
    CategoriesCmd, Cli, ClockCmd, Cmd, ContactsCmd, DraftsCmd, EditArgs, InboxCmd, PostArgs, Rule,
    ScreenshotArgs, SettingsCmd, SnapshotCmd,
};
use crate::render::Out;

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = backstory_core::paths::resolve(cli.data_dir.as_deref())?;
    if let Cmd::Node = cli.cmd {
        return crate::node::run(&dir, cli.json).await;
    }
    let mut client = Client::connect(&dir).await?;
    let out = Out::new(cli.json);
    let c = &mut client;
    match cli.cmd {
        Cmd::Node => Ok(()),
        Cmd::Id => out.profile(&c.call(op::Profile {}).await?),
        Cmd::Name { name } => out.profile(&c.call(op::SetName { name }).await?),
        Cmd::Contacts { action } => match action {
            None => out.contacts(&c.call(op::Contacts {}).await?),
            Some(ContactsCmd::Show { contact }) => {
                out.contacts(&[c.call(op::Contact { contact }).await?])
            }
            Some(ContactsCmd::Add { name }) => out.contact(&c.call(op::AddContact { name }).await?),
            Some(ContactsCmd::Remove { contact }) => {
                let gone = c.call(op::RemoveContact { contact }).await?;
                out.done(&format!("removed {}", gone.name))
            }
        },
        Cmd::Post(post) => self::post(c, &out, post).await,
        Cmd::Edit(edit) => self::edit(c, &out, edit).await,
        Cmd::Remove { entry } => {
            c.call(op::RemoveEntry {
                entry: EntryId::new(entry),
            })
            .await?;
            out.done("removed")
        }
        Cmd::Panel { contact, as_viewer } => {
            if as_viewer {
                out.preview(&c.call(op::Preview { contact }).await?)
            } else {
                out.my_panel(&c.call(op::MyPanel { contact }).await?)
            }
        }
        Cmd::Show {
            contact,
            since_last,
            keep_unseen,
        } => {
            let panel = c
                .call(op::TheirPanel {
                    contact: contact.clone(),
                })
                .await?;
            out.their_panel(&panel, since_last)?;
            if panel.shared && !keep_unseen {
                let heads = panel.changes.heads.clone();
                c.call(op::MarkSeen { contact, heads }).await?;
            }
            Ok(())
        }
        Cmd::Categories { contact, action } => categories(c, &out, contact, action).await,
        Cmd::Export { to, file } => {
            let path = absolute(file)?;
            c.call(op::ExportPanel {
                contact: to,
                path: path.clone(),
            })
            .await?;
            out.done(&format!("wrote {}", path.display()))
        }
        Cmd::Import { from, file } => {
            let path = absolute(file)?;
            out.imported(
                &c.call(op::ImportPanel {
                    contact: from,
                    path,
                })
                .await?,
            )
        }
        Cmd::Invite {
            ttl,
            require_approval,
        } => {
            let ttl = backstory_core::when::parse_duration(&ttl)?;
            out.invite(
                &c.call(op::Invite {
                    ttl_secs: ttl.as_secs().max(1),
                    approval: require_approval,
                })
                .await?,
            )
        }
        Cmd::Join { ticket } => out.paired(&c.call(op::Join { ticket }).await?),
        Cmd::Pending => out.pending(&c.call(op::PendingJoins {}).await?),
        Cmd::Approve { id } => {
            c.call(op::DecideJoin {
                id: pending_id(id)?,
                approve: true,
            })
            .await?;
            out.done("approved")
        }
        Cmd::Deny { id } => {
            c.call(op::DecideJoin {
                id: pending_id(id)?,
                approve: false,
            })
            .await?;
            out.done("denied")
        }
        Cmd::Fetch {
            contact,
            entry,
            out: path,
        } => {
            let path = path.map(absolute).transpose()?;
            let fetched = c
                .call(op::FetchMedia {
                    contact,
                    entry: EntryId::new(entry),
                    out: path,
                })
                .await?;
            out.fetched(&fetched)
        }
        Cmd::Inspect => out.inspect(&c.call(op::Inspect {}).await?),
        Cmd::Settings { action } => match action {
            None => out.settings(&c.call(op::Settings {}).await?),
            Some(SettingsCmd::Get { key }) => out.value(&c.call(op::GetSetting { key }).await?),
            Some(SettingsCmd::Set { key, value }) => {
                out.settings(&c.call(op::SetSetting { key, value }).await?)
            }
        },
        Cmd::Drafts { action } => drafts(c, &out, action).await,
        Cmd::Inbox { action } => inbox(c, &out, action).await,
        Cmd::Snapshot { action } => match action {
            SnapshotCmd::Refresh { entry } => out.posted(
                &c.call(op::RefreshSnapshot {
                    entry: EntryId::new(entry),
                })
                .await?,
            ),
            SnapshotCmd::Remove { entry } => {
                c.call(op::RemoveSnapshot {
                    entry: EntryId::new(entry),
                })
                .await?;
                out.done("the preview is gone; the entry is a plain link")
            }
        },
        Cmd::Screenshot(args) => screenshot(c, &out, args).await,
        Cmd::Clock { action } => match action {
            None => out.time(c.call(op::Clock {}).await?),
            Some(ClockCmd::Advance { by }) => {
                let by = backstory_core::when::parse_duration(&by)?;
                let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
                out.time(c.call(op::AdvanceClock { millis }).await?)
            }
        },
        Cmd::Comment {
            contact,
            entry,
            text,
            audio,
            remove,
        } => {
            if let Some(comment) = remove {
                c.call(op::RemoveComment { contact, comment }).await?;
                return out.done("removed");
            }
            let entry = entry.filter(|e| e != "panel" && e != "-").map(EntryId::new);
            let audio = audio
                .map(absolute)
                .transpose()?
                .map(|path| AudioInput::File { path });
            let made = c
                .call(op::Comment {
                    contact,
                    entry,
                    text: text.unwrap_or_default(),
                    audio,
                })
                .await?;
            out.comment(&made)
        }
        Cmd::Comments {
            contact,
            fetch,
            out: path,
        } => match fetch {
            Some(comment) => {
                let path = path.map(absolute).transpose()?;
                out.fetched_audio(
                    &c.call(op::FetchCommentAudio {
                        contact,
                        comment,
                        out: path,
                    })
                    .await?,
                )
            }
            None => out.comments(&c.call(op::Feedback { contact }).await?),
        },
        Cmd::Views { contact } => out.views(&c.call(op::Feedback { contact }).await?),
        Cmd::Chat { contact, text } => match text {
            Some(text) => out.chat_item(&c.call(op::SendMessage { contact, text }).await?),
            None => {
                let chat = c
                    .call(op::Chat {
                        contact: contact.clone(),
                    })
                    .await?;
                out.chat(&chat)?;
                if chat.unread > 0 {
                    c.call(op::MarkChatRead { contact }).await?;
                }
                Ok(())
            }
        },
        Cmd::Receipts { contact, state } => {
            let card = match state {
                Some(s) => {
                    c.call(op::SetContactReceipts {
                        contact,
                        on: s == "on",
                    })
                    .await?
                }
                None => c.call(op::Contact { contact }).await?,
            };
            let global = c.call(op::Settings {}).await?.receipts;
            out.receipts(&card, global)
        }
        Cmd::View {
            contact,
            duration,
            entries,
        } => crate::view::run(c, &out, contact, &duration, entries).await,
        Cmd::Events => {
            let mut events = client.events().await?;
            while let Some(e) = events.next().await? {
                out.event(&e)?;
            }
            Ok(())
        }
    }
}

fn pending_id(id: u64) -> anyhow::Result<u32> {
    u32::try_from(id).context("no such pending join")
}

/// A rule with its times read by the engine, on the engine's clock.
async fn rule(c: &mut Client, rule: Option<Rule>) -> anyhow::Result<Option<Visibility>> {
    let when = |text: String| op::ParseWhen { text };
    Ok(match rule {
        None => None,
        Some(Rule::Visible) => Some(Visibility::Visible),
        Some(Rule::Hidden) => Some(Visibility::Hidden),
        Some(Rule::RevealAfter(t)) => Some(Visibility::RevealAfter(c.call(when(t)).await?)),
        Some(Rule::VisibleUntil(t)) => Some(Visibility::VisibleUntil(c.call(when(t)).await?)),
    })
}

async fn post(c: &mut Client, out: &Out, post: PostArgs) -> anyhow::Result<()> {
    let visibility = rule(c, post.rule.rule())
        .await?
        .unwrap_or(Visibility::Visible);
    let entry = NewEntry {
        category: post.category.map(CategoryId::new),
        text: post.text.unwrap_or_default(),
        link: post.link,
        file: post.file.map(absolute).transpose()?,
        visibility,
    };
    if post.draft {
        let draft = c
            .call(op::PrepareEntry {
                contact: Some(post.to),
                entry,
            })
            .await?;
        return out.id(draft.id.as_str());
    }
    let posted = c
        .call(op::PostEntry {
            contact: post.to,
            entry,
        })
        .await?;
    out.posted(&posted)
}

async fn screenshot(c: &mut Client, out: &Out, args: ScreenshotArgs) -> anyhow::Result<()> {
    if args.list {
        return out.screens(&c.call(op::Screens {}).await?);
    }
    let target = match (args.monitor, args.window) {
        (Some(index), _) => ScreenTarget::Monitor { index },
        (None, Some(title)) => ScreenTarget::WindowTitled { title },
        (None, None) => ScreenTarget::Primary,
    };
    let visibility = rule(c, args.rule.rule()).await?;
    let mut shot = c
        .call(op::TakeScreenshot {
            contact: args.to.clone(),
            target,
            text: args.text,
        })
        .await?;
    if let Some(rect) = args.crop {
        shot = c
            .call(op::CropScreenshot {
                draft: shot.draft.id,
                rect,
            })
            .await?;
    }
    if args.draft {
        return out.id(shot.draft.id.as_str());
    }
    let ids = c
        .call(op::CommitDraft {
            draft: shot.draft.id,
            to: Vec::new(),
            edit: DraftEdit {
                visibility,
                ..DraftEdit::default()
            },
        })
        .await?;
    match ids.first() {
        Some(id) => out.id(id.as_str()),
        None => anyhow::bail!("the screenshot was not posted"),
    }
}

async fn edit(c: &mut Client, out: &Out, edit: EditArgs) -> anyhow::Result<()> {
    let visibility = rule(c, edit.rule.rule()).await?;
    let change = EntryEdit {
        text: edit.text,
        category: edit.category.map(CategoryId::new),
        visibility,
    };
    if change == EntryEdit::default() {
        // Caught by clap's rules in practice; kept for a clear message.
        anyhow::bail!("nothing to change: give --text, --category or a visibility rule");
    }
    c.call(op::EditEntry {
        entry: EntryId::new(edit.entry),
        edit: change,
    })
    .await?;
    out.done("edited")
}

async fn drafts(c: &mut Client, out: &Out, action: Option<DraftsCmd>) -> anyhow::Result<()> {
    match action {
        None => out.drafts(&c.call(op::Drafts {}).await?),
        Some(DraftsCmd::Post {
            draft,
            to,
            text,
            category,
            rule: r,
        }) => {
            let visibility = rule(c, r.rule()).await?;
            let ids = c
                .call(op::CommitDraft {
                    draft: DraftId::new(draft),
                    to,
                    edit: DraftEdit {
                        category: category.map(CategoryId::new),
                        text,
                        visibility,
                    },
                })
                .await?;
            out.ids(&ids)
        }
        Some(DraftsCmd::Remove { draft }) => {
            c.call(op::DiscardDraft {
                draft: DraftId::new(draft),
            })
            .await?;
            out.done("discarded")
        }
    }
}

async fn inbox(c: &mut Client, out: &Out, action: Option<InboxCmd>) -> anyhow::Result<()> {
    match action {
        None => out.inbox(&c.call(op::Inbox {}).await?),
        Some(InboxCmd::Approve {
            id,
            to,
            category,
            text,
            rule: r,
        }) => {
            let visibility = rule(c, r.rule()).await?;
            let ids = c
                .call(op::CommitDraft {
                    draft: DraftId::new(id),
                    to,
                    edit: DraftEdit {
                        category: category.map(CategoryId::new),
                        text,
                        visibility,
                    },
                })
                .await?;
            out.ids(&ids)
        }
        Some(InboxCmd::Reject { id }) => {
            c.call(op::RejectSuggestion {
                draft: DraftId::new(id),
            })
            .await?;
            out.done("rejected; that video will not be suggested again")
        }
        Some(InboxCmd::AlwaysAllow { player, to }) => {
            let rule = c.call(op::AllowPlayer { player, to }).await?;
            out.done(&format!(
                "{} is always allowed: its videos go to {} contact(s) without asking",
                rule.player,
                rule.contacts.len()
            ))
        }
        Some(InboxCmd::Disallow { player }) => {
            c.call(op::DisallowPlayer {
                player: player.clone(),
            })
            .await?;
            out.done(&format!("{player} is no longer always allowed"))
        }
    }
}

async fn categories(
    c: &mut Client,
    out: &Out,
    contact: String,
    action: Option<CategoriesCmd>,
) -> anyhow::Result<()> {
    match action {
        None => out.categories(&c.call(op::MyPanel { contact }).await?),
        Some(CategoriesCmd::Add { name }) => {
            let id = c.call(op::AddCategory { contact, name }).await?;
            out.id(id.as_str())
        }
        Some(CategoriesCmd::Rename { category, name }) => {
            c.call(op::RenameCategory {
                contact,
                category: CategoryId::new(category),
                name,
            })
            .await?;
            out.done("renamed")
        }
        Some(CategoriesCmd::Move { category, position }) => {
            c.call(op::MoveCategory {
                contact,
                category: CategoryId::new(category),
                position: u32::try_from(position).unwrap_or(u32::MAX),
            })
            .await?;
            out.done("moved")
        }
        Some(CategoriesCmd::Remove { category }) => {
            let fallback = c
                .call(op::RemoveCategory {
                    contact,
                    category: CategoryId::new(category),
                })
                .await?;
            out.done(&format!("removed; its entries moved to {fallback}"))
        }
    }
}

/// Paths go to the engine, which has its own working directory: make them absolute here.
pub fn absolute(path: PathBuf) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}
