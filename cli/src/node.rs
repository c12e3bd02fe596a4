//! `backstory node`: the engine in the foreground until SIGINT or SIGTERM.

use std::path::Path;

use backstory_core::{Engine, Options};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub async fn run(dir: &Path, json: bool) -> anyhow::Result<()> {
    // A test clock when BACKSTORY_TEST_CLOCK says so, else the system's.
    let clock = backstory_core::clock::from_env()?;
    let engine = Engine::open_with(dir, Options::default().clock(clock)).await?;
    let server = backstory_core::control::bind(engine.clone())?;
    let (stop, stopped) = watch::channel(false);
    let serving = tokio::spawn(server.run(stopped));
    let profile = engine.run(backstory_core::op::Profile {}).await?;
    if json {
        println!("{}", serde_json::to_string(&profile)?);
    } else {
        println!(
            "Backstory node {} running on {}",
            profile.id, profile.data_dir
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
