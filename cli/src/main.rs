//! # backstory — the headless node and scripting CLI
//!
//! `backstory node` runs the engine in the foreground and serves its control socket; every other
//! command is a thin client that sends one request to that running engine and prints the reply,
//! as text for people or as JSON (`--json`) for scripts.
//!
//! Exit codes: 0 success, 1 the engine refused the request, 2 bad usage, 3 no engine running.

mod args;
mod node;
mod render;
use backstory_core::when as time;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backstory_core::control::{Client, ClientError, Request};
use backstory_core::{ApiError, ErrorCode};
use clap::Parser;

use args::{Cli, Cmd};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BACKSTORY_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, json),
    }
}

fn report(e: &anyhow::Error, json: bool) -> ExitCode {
    let (code, api) = match e.downcast_ref::<ClientError>() {
        Some(c) => (c.code(), true),
        None => (ErrorCode::Internal, false),
    };
    if json {
        let err = ApiError {
            code,
            message: format!("{e:#}"),
        };
        println!("{}", serde_json::json!({ "error": err }));
    }
    eprintln!("error: {e:#}");
    match code {
        ErrorCode::NoEngine => ExitCode::from(3),
        _ if api => ExitCode::from(1),
        _ => ExitCode::from(1),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = backstory_core::paths::resolve(cli.data_dir.as_deref())?;
    if let Cmd::Node = cli.cmd {
        return node::run(&dir, cli.json).await;
    }
    // Requests that can be checked without the engine are checked first.
    let early = match &cli.cmd {
        Cmd::Post(post) => Some(Request::Post {
            contact: post.to.clone(),
            entry: post.clone().into_entry(backstory_core::now())?,
        }),
        Cmd::Edit(edit) => Some(Request::Edit {
            entry: backstory_crdt::EntryId::new(edit.entry.clone()),
            edit: edit.clone().into_edit(backstory_core::now())?,
        }),
        _ => None,
    };
    let mut client = Client::connect(&dir).await?;
    let out = render::Out { json: cli.json };
    if let Some(request) = early {
        return match request {
            Request::Post { .. } => out.id(&client.call::<String>(&request).await?),
            _ => {
                client.call::<()>(&request).await?;
                out.done("edited")
            }
        };
    }
    match cli.cmd {
        Cmd::Id => out.profile(&client.call(&Request::Profile).await?),
        Cmd::Name { name } => out.profile(&client.call(&Request::SetName { name }).await?),
        Cmd::Contacts { action } => match action {
            None => out.contacts(&client.call(&Request::Contacts).await?),
            Some(args::ContactsCmd::Add { name }) => {
                out.contact(&client.call(&Request::AddContact { name }).await?)
            }
            Some(args::ContactsCmd::Rm { contact }) => {
                let c: backstory_core::Contact =
                    client.call(&Request::RemoveContact { contact }).await?;
                out.done(&format!("removed {}", c.name))
            }
        },
        Cmd::Node | Cmd::Post(_) | Cmd::Edit(_) => handled_early(),
        Cmd::Rm { entry } => {
            let entry = backstory_crdt::EntryId::new(entry);
            client.call::<()>(&Request::Remove { entry }).await?;
            out.done("deleted")
        }
        Cmd::Panel { contact, as_viewer } => {
            if as_viewer {
                out.preview(&client.call(&Request::Preview { contact }).await?)
            } else {
                out.master(&client.call(&Request::Panel { contact }).await?)
            }
        }
        Cmd::Show {
            contact,
            since_last,
            keep_unseen,
        } => {
            let panel: backstory_core::TheirPanel = client
                .call(&Request::Show {
                    contact: contact.clone(),
                })
                .await?;
            out.their_panel(&panel, since_last)?;
            if panel.shared && !keep_unseen {
                let heads = panel.changes.heads.clone();
                client
                    .call::<()>(&Request::MarkViewed { contact, heads })
                    .await?;
            }
            Ok(())
        }
        Cmd::Categories { contact, action } => categories(&mut client, &out, contact, action).await,
        Cmd::Export { to, file } => {
            let path = absolute(file)?;
            client
                .call::<()>(&Request::Export {
                    contact: to,
                    path: path.clone(),
                })
                .await?;
            out.done(&format!("wrote {}", path.display()))
        }
        Cmd::Import { from, file } => {
            let path = absolute(file)?;
            let summary: backstory_core::engine::ImportSummary = client
                .call(&Request::Import {
                    contact: from,
                    path,
                })
                .await?;
            out.imported(&summary)
        }
        Cmd::Invite {
            ttl,
            require_approval,
        } => {
            let ttl = time::parse_duration(&ttl)?;
            out.invite(
                &client
                    .call(&Request::Invite {
                        ttl_secs: ttl.as_secs().max(1),
                        approval: require_approval,
                    })
                    .await?,
            )
        }
        Cmd::Join { ticket } => out.paired(&client.call(&Request::Join { ticket }).await?),
        Cmd::Pending => out.pending(&client.call(&Request::Pending).await?),
        Cmd::Approve { id } => {
            client
                .call::<()>(&Request::Decide { id, approve: true })
                .await?;
            out.done("approved")
        }
        Cmd::Deny { id } => {
            client
                .call::<()>(&Request::Decide { id, approve: false })
                .await?;
            out.done("denied")
        }
        Cmd::Fetch {
            contact,
            entry,
            out: path,
        } => {
            let path = path.map(absolute).transpose()?;
            let fetched: backstory_core::engine::Fetched = client
                .call(&Request::Fetch {
                    contact,
                    entry: backstory_crdt::EntryId::new(entry),
                    out: path,
                })
                .await?;
            out.fetched(&fetched)
        }
        Cmd::Inspect => out.inspect(&client.call(&Request::Inspect).await?),
        Cmd::Events => {
            let mut events = client.events().await?;
            while let Some(e) = events.next().await? {
                println!("{}", serde_json::to_string(&e)?);
            }
            Ok(())
        }
    }
}

fn handled_early() -> anyhow::Result<()> {
    anyhow::bail!("this command was handled before connecting")
}

async fn categories(
    client: &mut Client,
    out: &render::Out,
    contact: String,
    action: Option<args::CategoriesCmd>,
) -> anyhow::Result<()> {
    use args::CategoriesCmd as C;
    use backstory_crdt::CategoryId;
    match action {
        None => {
            let (c, master): (backstory_core::Contact, backstory_crdt::MasterPanel) =
                client.call(&Request::Panel { contact }).await?;
            out.categories(&c, &master)
        }
        Some(C::Add { name }) => {
            let id: String = client.call(&Request::AddCategory { contact, name }).await?;
            out.id(&id)
        }
        Some(C::Rename { category, name }) => {
            let category = CategoryId::new(category);
            client
                .call::<()>(&Request::RenameCategory {
                    contact,
                    category,
                    name,
                })
                .await?;
            out.done("renamed")
        }
        Some(C::Move { category, position }) => {
            let category = CategoryId::new(category);
            client
                .call::<()>(&Request::MoveCategory {
                    contact,
                    category,
                    position,
                })
                .await?;
            out.done("moved")
        }
        Some(C::Rm { category }) => {
            let category = CategoryId::new(category);
            let fallback: String = client
                .call(&Request::RemoveCategory { contact, category })
                .await?;
            out.done(&format!("removed; its entries moved to {fallback}"))
        }
    }
}

/// Paths go to the engine, which has its own working directory: make them absolute here.
fn absolute(path: PathBuf) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}
