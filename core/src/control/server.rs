//! The engine side of the control socket.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::{Reply, Request, SOCKET_FILE};
use crate::engine::Engine;
use crate::error::{ApiError, EngineError, ErrorCode};

/// The longest request line accepted.
const MAX_LINE: usize = 1024 * 1024;

/// A bound control socket, ready to serve.
pub struct Server {
    engine: Engine,
    listener: UnixListener,
    path: std::path::PathBuf,
}

/// Binds the control socket of a running engine. The engine holds the data directory's lock, so a
/// socket file left behind by a killed engine is stale and is replaced.
pub fn bind(engine: Engine) -> Result<Server, EngineError> {
    let path = engine.data_dir().join(SOCKET_FILE);
    let io = |source| EngineError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(&path).map_err(io)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(Server {
        engine,
        listener,
        path,
    })
}

impl Server {
    /// Serves requests until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Server {
            engine,
            listener,
            path,
        } = self;
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tasks.spawn(connection(engine.clone(), stream, stop.clone()));
                    }
                    Err(e) => tracing::warn!("control socket accept failed: {e}"),
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tasks.abort_all();
        let _already_gone = std::fs::remove_file(&path);
    }
}

fn error_reply(code: ErrorCode, message: String) -> Reply {
    Reply::Err(ApiError { code, message })
}

async fn connection(engine: Engine, stream: UnixStream, mut stop: watch::Receiver<bool>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        let n = tokio::select! {
            biased;
            _ = stop.changed() => return,
            n = lines.read_line(&mut line) => n,
        };
        match n {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let reply = if line.len() > MAX_LINE {
            error_reply(ErrorCode::InvalidInput, "request too long".into())
        } else {
            match serde_json::from_str::<Request>(&line) {
                Ok(Request::Events) => {
                    stream_events(&engine, &mut write, &mut stop).await;
                    return;
                }
                Ok(req) => handle(&engine, req).await,
                Err(e) => error_reply(ErrorCode::InvalidInput, format!("bad request: {e}")),
            }
        };
        if send(&mut write, &reply).await.is_err() {
            return;
        }
    }
}

async fn send<T: Serialize>(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    value: &T,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await
}

async fn stream_events(
    engine: &Engine,
    write: &mut tokio::net::unix::OwnedWriteHalf,
    stop: &mut watch::Receiver<bool>,
) {
    let mut events = engine.subscribe();
    if send(write, &Reply::Ok(serde_json::Value::Null))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let event = tokio::select! {
            biased;
            _ = stop.changed() => return,
            e = events.recv() => e,
        };
        match event {
            Ok(e) => {
                if send(write, &e).await.is_err() {
                    return;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("event subscriber lagged by {n} events");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn ok<T: Serialize>(value: Result<T, EngineError>) -> Reply {
    match value {
        Ok(v) => match serde_json::to_value(v) {
            Ok(v) => Reply::Ok(v),
            Err(e) => error_reply(ErrorCode::Internal, e.to_string()),
        },
        Err(e) => Reply::Err(e.into()),
    }
}

fn absolute(path: &Path) -> Result<(), EngineError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(format!(
            "{} must be an absolute path",
            path.display()
        )))
    }
}

async fn handle(engine: &Engine, req: Request) -> Reply {
    match req {
        Request::Profile => ok(engine.profile().await),
        Request::SetName { name } => ok(engine.set_name(&name).await),
        Request::AddContact { name } => ok(engine.add_contact(&name).await),
        Request::Contacts => ok(engine.contacts().await),
        Request::Post { contact, entry } => ok(engine.post(&contact, entry).await),
        Request::Edit { entry, edit } => ok(engine.edit_entry(&entry, edit).await),
        Request::Remove { entry } => ok(engine.delete_entry(&entry).await),
        Request::Panel { contact } => ok(engine.my_panel(&contact).await),
        Request::Preview { contact } => ok(engine.preview(&contact).await),
        Request::Show { contact } => ok(engine.their_panel(&contact).await),
        Request::MarkViewed { contact, heads } => ok(engine.mark_viewed(&contact, heads).await),
        Request::AddCategory { contact, name } => ok(engine.add_category(&contact, &name).await),
        Request::RenameCategory {
            contact,
            category,
            name,
        } => ok(engine.rename_category(&contact, &category, &name).await),
        Request::MoveCategory {
            contact,
            category,
            position,
        } => ok(engine.move_category(&contact, &category, position).await),
        Request::RemoveCategory { contact, category } => {
            ok(engine.remove_category(&contact, &category).await)
        }
        Request::Export { contact, path } => match absolute(&path) {
            Ok(()) => ok(engine.export(&contact, &path).await),
            Err(e) => ok::<()>(Err(e)),
        },
        Request::Import { contact, path } => match absolute(&path) {
            Ok(()) => ok(engine.import(&contact, &path).await),
            Err(e) => ok::<()>(Err(e)),
        },
        Request::Invite { ttl_secs, approval } => ok(engine
            .invite(std::time::Duration::from_secs(ttl_secs), approval)
            .await),
        Request::Join { ticket } => ok(engine.join(&ticket).await),
        Request::Pending => ok(Ok::<_, EngineError>(engine.pending())),
        Request::Decide { id, approve } => ok(engine.decide_join(id, approve)),
        Request::RemoveContact { contact } => ok(engine.remove_contact(&contact).await),
        Request::Fetch {
            contact,
            entry,
            out,
        } => match out.as_deref().map(absolute).transpose() {
            Ok(_) => ok(engine.fetch_media(&contact, &entry, out.as_deref()).await),
            Err(e) => ok::<()>(Err(e)),
        },
        Request::Inspect => ok(engine.inspect().await),
        Request::Open { link } => ok(engine.request_open(link)),
        Request::Events => error_reply(ErrorCode::InvalidInput, "events is a stream".into()),
    }
}
