//! `backstory node`: the engine in the foreground until SIGINT or SIGTERM.

use std::path::Path;

use backstory_core::{Engine, Options};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub async fn run(dir: &Path, json: bool) -> anyhow::Result<()> {
    // Listening before anything else: a SIGTERM that arrives while the engine opens (or right
    // after the control socket answers) still stops it cleanly instead of killing it.
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
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
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = term.recv() => {}
    }
    stop.send_replace(true);
    serving.await?;
    engine.shutdown().await;
    Ok(())
}
