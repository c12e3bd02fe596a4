//! # backstory — the headless node and scripting CLI
//!
//! `backstory node` runs the engine in the foreground and serves its control socket; every other
//! command is a thin client that sends the engine's typed operations ([`backstory_core::api`]) to
//! that running engine and prints the answers, as text for people or as JSON (`--json`) for
//! scripts. Nothing is computed here that the engine computes: the CLI renders.
//!
//! Exit codes: 0 success, 1 the engine refused the request, 2 bad usage, 3 no engine running.

mod args;
mod node;
mod render;
mod run;
mod view;

use std::process::ExitCode;

use backstory_core::control::ClientError;
use backstory_core::{ApiError, ErrorCode};
use clap::Parser;

use args::Cli;

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
    match runtime.block_on(run::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`backstory inspect | head`): nothing more to say.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => report(&e, json),
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn report(e: &anyhow::Error, json: bool) -> ExitCode {
    let code = match e.downcast_ref::<ClientError>() {
        Some(c) => c.code(),
        None => ErrorCode::Internal,
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
        _ => ExitCode::from(1),
    }
}
