//! The dispatcher: one match from each request to the parts of the engine that answer it.

use std::time::Duration;

use super::{Op, Request, Response};
use crate::engine::Engine;
use crate::error::{ApiError, EngineError, ErrorCode};
use crate::view::{ImportSummary, Posted, Profile};

impl Engine {
    /// Runs one operation, typed: the desktop app's commands and the tests call this.
    pub async fn run<O: Op>(&self, op: O) -> Result<O::Output, ApiError> {
        let response = self.call(op.request()).await?;
        let name = response.name();
        O::output(response).ok_or_else(|| ApiError {
            code: ErrorCode::Internal,
            message: format!("{} was answered as {name}", O::NAME),
        })
    }

    /// Runs one request: the control socket calls this.
    pub async fn call(&self, request: Request) -> Result<Response, ApiError> {
        let name = request.name();
        tracing::debug!(op = name, "request");
        let answer = self.dispatch(request).await;
        if let Err(e) = &answer {
            tracing::debug!(op = name, "refused: {e}");
        }
        answer.map_err(ApiError::from)
    }

    async fn profile(&self) -> Result<Profile, EngineError> {
        let p = self.parts();
        let (network, addrs) = p.network.describe();
        Ok(Profile {
            id: p.device.id(),
            name: p.settings.name().await?,
            data_dir: p.device.dir().display().to_string(),
            network,
            addrs: addrs.iter().map(ToString::to_string).collect(),
        })
    }

    async fn remove_contact(&self, query: &str) -> Result<crate::contact::Contact, EngineError> {
        let p = self.parts();
        let contact = p.contacts.find(query).await?;
        {
            let _gate = p.panels.hold().await;
            let id = contact.id.clone();
            p.device.blocking(move |s| s.remove_contact(&id)).await?;
            p.received.forget(&contact.id);
        }
        p.network.refresh_access(&p.contacts.all().await?);
        p.network.disconnect(&contact);
        p.device.emit(crate::event::Event::ContactRemoved {
            contact: contact.id.clone(),
        });
        Ok(contact)
    }

    async fn dispatch(&self, request: Request) -> Result<Response, EngineError> {
        let p = self.parts();
        let find = |q: String| async move { p.contacts.find(&q).await };
        Ok(match request {
            Request::Profile(_) => Response::Profile(self.profile().await?),
            Request::SetName(r) => {
                p.settings.set_name(&r.name).await?;
                Response::SetName(self.profile().await?)
            }
            Request::Settings(_) => Response::Settings(p.settings.preferences().await?),
            Request::GetSetting(r) => Response::GetSetting(p.settings.get(&r.key).await?),
            Request::SetSetting(r) => {
                let prefs = p.settings.set(&r.key, &r.value).await?;
                if r.key.starts_with("watcher.") {
                    p.inbox.apply_settings().await?;
                }
                Response::SetSetting(prefs)
            }
            Request::Contacts(_) => Response::Contacts(p.contacts.cards().await?),
            Request::Contact(r) => {
                let c = find(r.contact).await?;
                Response::Contact(p.contacts.card(&c).await?)
            }
            Request::AddContact(r) => Response::AddContact(p.contacts.add(&r.name).await?),
            Request::RemoveContact(r) => {
                Response::RemoveContact(self.remove_contact(&r.contact).await?)
            }
            Request::MyPanel(r) => {
                let c = find(r.contact).await?;
                Response::MyPanel(p.panels.my_panel(&c).await?)
            }
            Request::Preview(r) => {
                let c = find(r.contact).await?;
                Response::Preview(p.panels.preview(&c).await?)
            }
            Request::PostEntry(r) => {
                let c = find(r.contact).await?;
                let prepared = p.drafts.prepare(r.entry).await?;
                let note = prepared.note.clone();
                let entry = p.panels.add(&c, prepared).await?;
                Response::PostEntry(Posted { entry, note })
            }
            Request::EditEntry(r) => {
                p.panels.edit(&r.entry, r.edit).await?;
                Response::EditEntry(())
            }
            Request::RemoveEntry(r) => {
                p.panels.remove(&r.entry).await?;
                Response::RemoveEntry(())
            }
            Request::RefreshSnapshot(r) => {
                let c = self.owner_of(&r.entry).await?;
                let url = self.link_of(&c, &r.entry).await?;
                let taken = p.snapshots.take(&url).await?;
                let note = taken.note.clone();
                p.panels.set_snapshot(&c, &r.entry, taken).await?;
                Response::RefreshSnapshot(Posted {
                    entry: r.entry,
                    note,
                })
            }
            Request::RemoveSnapshot(r) => {
                let c = self.owner_of(&r.entry).await?;
                self.link_of(&c, &r.entry).await?;
                p.panels
                    .set_snapshot(&c, &r.entry, Default::default())
                    .await?;
                Response::RemoveSnapshot(())
            }
            Request::Screens(_) => Response::Screens(p.screens.sources().await?),
            Request::TakeScreenshot(r) => {
                let c = match r.contact {
                    Some(q) => Some(find(q).await?),
                    None => None,
                };
                Response::TakeScreenshot(p.screens.take(c.as_ref(), r.target, r.text).await?)
            }
            Request::CropScreenshot(r) => {
                Response::CropScreenshot(p.screens.crop(&r.draft, r.rect).await?)
            }
            Request::AddCategory(r) => {
                let c = find(r.contact).await?;
                Response::AddCategory(p.panels.add_category(&c, &r.name).await?)
            }
            Request::RenameCategory(r) => {
                let c = find(r.contact).await?;
                p.panels.rename_category(&c, &r.category, &r.name).await?;
                Response::RenameCategory(())
            }
            Request::MoveCategory(r) => {
                let c = find(r.contact).await?;
                let to = usize::try_from(r.position).unwrap_or(usize::MAX);
                p.panels.move_category(&c, &r.category, to).await?;
                Response::MoveCategory(())
            }
            Request::RemoveCategory(r) => {
                let c = find(r.contact).await?;
                Response::RemoveCategory(p.panels.remove_category(&c, &r.category).await?)
            }
            Request::PrepareEntry(r) => {
                let c = match r.contact {
                    Some(q) => Some(find(q).await?),
                    None => None,
                };
                Response::PrepareEntry(p.drafts.save(c.as_ref(), r.entry).await?)
            }
            Request::Drafts(_) => Response::Drafts(p.drafts.list().await?),
            Request::CommitDraft(r) => {
                Response::CommitDraft(self.commit_draft(&r.draft, r.to, &r.edit).await?)
            }
            Request::DiscardDraft(r) => {
                p.drafts.discard(&r.draft).await?;
                Response::DiscardDraft(())
            }
            Request::Inbox(_) => Response::Inbox(p.inbox.view().await?),
            Request::RejectSuggestion(r) => {
                let d = p.drafts.get(&r.draft).await?;
                p.inbox.reject(&d).await?;
                p.drafts.discard(&r.draft).await?;
                Response::RejectSuggestion(())
            }
            Request::AllowPlayer(r) => {
                let to = self.contacts_of(r.to).await?;
                Response::AllowPlayer(p.inbox.allow(&r.player, &to).await?)
            }
            Request::DisallowPlayer(r) => {
                p.inbox.disallow(&r.player).await?;
                Response::DisallowPlayer(())
            }
            Request::TheirPanel(r) => {
                let c = find(r.contact).await?;
                Response::TheirPanel(p.received.panel(&c).await?)
            }
            Request::MarkSeen(r) => {
                let c = find(r.contact).await?;
                p.received.mark_seen(&c, r.heads).await?;
                Response::MarkSeen(())
            }
            Request::FetchMedia(r) => {
                if let Some(out) = &r.out {
                    EngineError::unless_absolute(out)?;
                }
                let c = find(r.contact).await?;
                let net = p.network.net().ok();
                Response::FetchMedia(
                    p.received
                        .fetch(net.as_ref(), &c, &r.entry, r.out.as_deref())
                        .await?,
                )
            }
            Request::ExportPanel(r) => {
                EngineError::unless_absolute(&r.path)?;
                let c = find(r.contact).await?;
                crate::engine::transfer::export(&p.device, &p.docs, &c, &r.path).await?;
                Response::ExportPanel(())
            }
            Request::ImportPanel(r) => {
                EngineError::unless_absolute(&r.path)?;
                let c = find(r.contact).await?;
                Response::ImportPanel(self.import_panel(&c, &r.path).await?)
            }
            Request::Invite(r) => Response::Invite(
                p.pairing
                    .invite(Duration::from_secs(r.ttl_secs), r.approval)
                    .await?,
            ),
            Request::Join(r) => Response::Join(p.pairing.join(&r.ticket).await?),
            Request::PendingJoins(_) => Response::PendingJoins(p.pairing.pending()),
            Request::DecideJoin(r) => {
                p.pairing.decide(u64::from(r.id), r.approve)?;
                Response::DecideJoin(())
            }
            Request::ParseWhen(r) => Response::ParseWhen(
                crate::when::parse(&r.text, p.device.now())
                    .map_err(|e| EngineError::InvalidInput(e.to_string()))?,
            ),
            Request::Clock(_) => Response::Clock(p.device.now()),
            Request::AdvanceClock(r) => {
                Response::AdvanceClock(p.device.clock().advance(Duration::from_millis(r.millis))?)
            }
            Request::Inspect(_) => Response::Inspect(self.inspect().await?),
            Request::Comment(r) => {
                let c = find(r.contact).await?;
                Response::Comment(p.feedback.comment(&c, r.entry, r.text, r.audio).await?)
            }
            Request::RemoveComment(r) => {
                let c = find(r.contact).await?;
                p.feedback.remove_comment(&c, &r.comment).await?;
                Response::RemoveComment(())
            }
            Request::Feedback(r) => {
                let c = find(r.contact).await?;
                Response::Feedback(p.feedback.view(&c).await?)
            }
            Request::FetchCommentAudio(r) => {
                if let Some(out) = &r.out {
                    EngineError::unless_absolute(out)?;
                }
                let c = find(r.contact).await?;
                let net = p.network.net().ok();
                Response::FetchCommentAudio(
                    p.feedback
                        .fetch_audio(net.as_ref(), &c, &r.comment, r.out.as_deref())
                        .await?,
                )
            }
            Request::BeginView(r) => {
                let c = find(r.contact).await?;
                Response::BeginView(p.feedback.begin_view(&c, r.heads).await?)
            }
            Request::ViewSignal(r) => {
                let c = find(r.contact).await?;
                p.feedback
                    .signal(&c, &r.session, &r.entry, r.signal)
                    .await?;
                Response::ViewSignal(())
            }
            Request::EndView(r) => {
                let c = find(r.contact).await?;
                Response::EndView(p.feedback.end_view(&c, &r.session).await?)
            }
            Request::SetContactReceipts(r) => {
                let c = find(r.contact).await?;
                p.feedback.set_receipts_for(&c, r.on).await?;
                Response::SetContactReceipts(p.contacts.card(&c).await?)
            }
            Request::Chat(r) => {
                let c = find(r.contact).await?;
                Response::Chat(p.feedback.chat(&c).await?)
            }
            Request::SendMessage(r) => {
                let c = find(r.contact).await?;
                Response::SendMessage(p.feedback.send(&c, &r.text).await?)
            }
            Request::MarkChatRead(r) => {
                let c = find(r.contact).await?;
                p.feedback.mark_read(&c).await?;
                Response::MarkChatRead(())
            }
        })
    }

    /// The address of a link entry of my panel for `contact`.
    async fn link_of(
        &self,
        contact: &crate::contact::Contact,
        entry: &backstory_crdt::EntryId,
    ) -> Result<String, EngineError> {
        let master = self.parts().panels.master(contact).await?;
        match master.entry(entry).map(|e| &e.entry.kind) {
            Some(backstory_crdt::Kind::Link { url, .. }) => Ok(url.clone()),
            Some(_) => Err(EngineError::InvalidInput(format!(
                "entry {entry} is not a link"
            ))),
            None => Err(EngineError::UnknownEntry(entry.clone())),
        }
    }

    async fn owner_of(
        &self,
        entry: &backstory_crdt::EntryId,
    ) -> Result<crate::contact::Contact, EngineError> {
        let p = self.parts();
        let e = entry.clone();
        p.device
            .blocking(move |s| s.contact_holding(&e))
            .await?
            .ok_or_else(|| EngineError::UnknownEntry(entry.clone()))
    }

    async fn commit_draft(
        &self,
        draft: &crate::draft::DraftId,
        to: Vec<String>,
        edit: &crate::draft::DraftEdit,
    ) -> Result<Vec<backstory_crdt::EntryId>, EngineError> {
        let p = self.parts();
        let d = p.drafts.get(draft).await?;
        let targets = match (to.is_empty(), &d.contact) {
            (false, _) => to,
            (true, Some(c)) => vec![c.to_string()],
            (true, None) if d.source.is_suggestion() => p
                .inbox
                .default_to()
                .await?
                .into_iter()
                .map(|c| c.to_string())
                .collect(),
            (true, None) => Vec::new(),
        };
        if targets.is_empty() {
            return Err(EngineError::InvalidInput(
                "say which contacts this goes to".into(),
            ));
        }
        let contacts = self.contacts_of(targets).await?;
        let prepared = crate::engine::drafts::prepared(&d, edit)?;
        let mut ids = Vec::new();
        for c in &contacts {
            ids.push(p.panels.add(c, prepared.clone()).await?);
        }
        p.drafts.discard(draft).await?;
        if d.source.is_suggestion() {
            p.inbox.approved(&contacts).await?;
        }
        Ok(ids)
    }

    /// Contacts named by ids or names, each once.
    async fn contacts_of(
        &self,
        names: Vec<String>,
    ) -> Result<Vec<crate::contact::Contact>, EngineError> {
        let mut contacts: Vec<crate::contact::Contact> = Vec::new();
        for name in names {
            let c = self.parts().contacts.find(&name).await?;
            if !contacts.iter().any(|x| x.id == c.id) {
                contacts.push(c);
            }
        }
        Ok(contacts)
    }

    async fn import_panel(
        &self,
        contact: &crate::contact::Contact,
        path: &std::path::Path,
    ) -> Result<ImportSummary, EngineError> {
        let p = self.parts();
        {
            let _gate = p.panels.hold().await;
            crate::engine::transfer::import(&p.device, &p.docs, contact, path).await?;
        }
        let contact = p.contacts.find(contact.id.as_str()).await?;
        let (_, unseen, _) = p.received.unseen(&contact).await?;
        p.device.emit(crate::event::Event::PanelReceived {
            contact: contact.id.clone(),
            unseen: unseen as usize,
        });
        Ok(ImportSummary { contact, unseen })
    }

    async fn inspect(&self) -> Result<Vec<crate::view::InspectedDoc>, EngineError> {
        crate::engine::inspect::inspect(&self.parts().device, &self.parts().docs).await
    }
}
