//! `backstory node`: the engine in the foreground until SIGINT or SIGTERM.

use std::path::Path;

use backstory_core::Engine;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub async fn run(dir: &Path, json: bool) -> anyhow::Result<()> {
    let engine = Engine::open(dir).await?;
    let server = backstory_core::control::bind(engine.clone())?;
    let (stop, stopped) = watch::channel(false);
    let serving = tokio::spawn(server.run(stopped));
    let profile = engine.profile().await?;
    if json {
        println!("{}", serde_json::to_string(&profile)?);
    } else {
        println!(
            "Backstory node {} running on {}",
            profile.id,
            profile.data_dir.display()
        );
    }
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    stop.send_replace(true);
    serving.await?;
    engine.shutdown().await;
    Ok(())
}
