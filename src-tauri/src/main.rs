//! `backstory-app`: the desktop app.

fn main() {
    backstory_app::windows::prepare_environment();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,backstory=info".into()),
        )
        .init();
    if let Err(e) = backstory_app::run() {
        eprintln!("backstory-app: {e:#}");
        std::process::exit(1);
    }
}
