//! The AWS shape's wiring: each entry point's typed config, read from the environment once, and
//! (with the default `adapters` feature) the adapters built from it. Handlers never read env vars.

pub mod config;
#[cfg(feature = "adapters")]
pub mod stand_ins;
#[cfg(feature = "adapters")]
pub mod wiring;

pub use config::{ApiLambdaConfig, BuilderTaskConfig, CleanupLambdaConfig, ConfigError, StepsLambdaConfig};

/// JSON logs on stderr (CloudWatch keeps them per invocation), filtered by `GANTRY_LOG`
/// (default `info`). Call once, first thing in `main`.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GANTRY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(true)
        .try_init();
}
