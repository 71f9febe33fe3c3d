//! `gantry`: run the factory on one machine, and inspect what it did.

mod aws;
mod commands;
mod local;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "gantry", version, about = "A self-hosted AI software factory")]
struct Cli {
    /// Where missions, objects, evidence, previews and keys live.
    #[arg(long, global = true, env = "GANTRY_DATA_DIR", default_value = ".gantry")]
    data_dir: PathBuf,
    /// The policy file (defaults to the policy.yaml compiled into this binary).
    #[arg(long = "policy-file", global = true, env = "GANTRY_POLICY", hide = true)]
    policy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web chat and the HTTP API, and run missions in-process.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        #[arg(long, value_enum, default_value = "local")]
        backend: serve::Backend,
        /// The base URL people reach this server at (previews and upload links use it).
        #[arg(long, env = "GANTRY_PUBLIC_URL")]
        public_url: Option<String>,
        /// Where previews are served, each on its own origin: a template with `{id}` as the first
        /// label of the host (default `http://{id}.localhost:<port>`).
        #[arg(long, env = "GANTRY_PREVIEW_URL")]
        preview_url: Option<String>,
        #[command(flatten)]
        cleanup: CleanupArgs,
        /// How often the background cleanup runs.
        #[arg(long, env = "GANTRY_CLEANUP_INTERVAL_SECS", default_value_t = 300)]
        cleanup_interval_secs: u64,
    },
    /// Build an app from a prompt, without consultation, and wait for the result.
    Build {
        /// What to build; optional with --manifest (the title is then the manifest's project name).
        #[arg(required_unless_present = "manifest")]
        prompt: Option<String>,
        /// Skip drafting: build this GantryManifest (JSON) instead.
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[arg(long)]
        no_deploy: bool,
        #[arg(long)]
        no_publish: bool,
        /// Print the final status object (as `GET /gantry/status/{id}`).
        #[arg(long)]
        json: bool,
        /// Where `gantry serve` will be reached, to print the preview's link; without it the
        /// summary says how to open the preview instead.
        #[arg(long)]
        addr: Option<String>,
    },
    /// Show a mission's status.
    Status {
        id: String,
        /// Print the step timeline.
        #[arg(long)]
        steps: bool,
        #[arg(long)]
        json: bool,
    },
    /// List missions, newest first.
    Missions,
    /// Long-lived API tokens (e.g. for Siri).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Verify a mission's evidence pack: every hash, the chain, every artifact, the signature.
    Verify {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        file: Option<PathBuf>,
        /// With --file: the directory holding the pack's artifacts (by name or key).
        #[arg(long, requires = "file")]
        artifacts: Option<PathBuf>,
    },
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Run the cleanup rules once and print what was done as JSON.
    Cleanup {
        #[command(flatten)]
        cleanup: CleanupArgs,
    },
    /// Print an argon2id hash of a password (read from GANTRY_PASSWORD or standard input).
    HashPassword,
    /// The curated node dependency set that node apps build with, offline.
    Deps {
        #[command(subcommand)]
        action: DepsAction,
    },
}

#[derive(Subcommand)]
enum DepsAction {
    /// Install the set once (npm ci from the registry, outside any sandbox); does nothing when
    /// it is already here. The dir is GANTRY_NODE_DEPS, else <data dir>/deps/node.
    Fetch,
    /// Say whether the set is here; exits 1 when it is not.
    Status,
}

/// The settings of the cleanup rules (see docs/operations.md).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct CleanupArgs {
    /// A consultation awaiting input longer than this becomes EXPIRED.
    #[arg(long, env = "GANTRY_CONSULTATION_IDLE_SECS", default_value_t = gantry_pipeline::CleanupConfig::DEFAULT_CONSULTATION_IDLE_SECS)]
    pub consultation_idle_secs: u64,
    /// Previews and work dirs of final missions older than this are pruned (evidence never).
    #[arg(long, env = "GANTRY_RETENTION_DAYS", default_value_t = gantry_pipeline::CleanupConfig::DEFAULT_RETENTION_DAYS)]
    pub retention_days: u64,
}

impl CleanupArgs {
    /// The cleanup rules' config, with the build deadline derived from the policy in force.
    pub fn config(self, policy: &gantry_domain::policy::Policy) -> gantry_pipeline::CleanupConfig {
        gantry_pipeline::CleanupConfig::new(
            self.consultation_idle_secs,
            self.retention_days,
            policy.build.timeout_seconds,
        )
    }
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
    },
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Check a manifest (JSON) against the policy; prints a JSON report, exits 1 on violations.
    Check {
        manifest: PathBuf,
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GANTRY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        // The spans list already holds the current span: a second copy would name the mission twice.
        builder.json().with_current_span(false).init();
    } else {
        builder.compact().init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = !matches!(cli.command, Command::Serve { .. });
    let json_logs = std::env::var("GANTRY_LOG_FORMAT").is_ok_and(|f| f == "json");
    if !quiet || std::env::var_os("GANTRY_LOG").is_some() {
        init_tracing(json_logs);
    }
    // CloudWatch-style metric lines belong with machine-read logs, never on a terminal; standard
    // output stays the commands' answer.
    gantry_pipeline::metrics::set_sink(if json_logs {
        gantry_pipeline::metrics::MetricsSink::Stderr
    } else {
        gantry_pipeline::metrics::MetricsSink::Off
    });
    let result = match cli.command {
        Command::Serve { addr, backend, public_url, preview_url, cleanup, cleanup_interval_secs } => {
            let background = serve::BackgroundCleanup {
                settings: cleanup,
                interval: std::time::Duration::from_secs(cleanup_interval_secs.max(1)),
            };
            serve::run(
                &cli.data_dir,
                cli.policy.as_deref(),
                addr,
                backend,
                public_url,
                preview_url,
                background,
            )
            .await
        }
        Command::Build { prompt, manifest, no_deploy, no_publish, json, addr } => {
            let options =
                commands::BuildOptions { manifest, deploy: !no_deploy, publish: !no_publish, json, addr };
            commands::build(&cli.data_dir, cli.policy.as_deref(), prompt.as_deref(), options).await
        }
        Command::Status { id, steps, json } => commands::status(&cli.data_dir, &id, steps, json).await,
        Command::Missions => commands::missions(&cli.data_dir).await,
        Command::Token { action: TokenAction::Create { name } } => {
            commands::token_create(&cli.data_dir, &name).await
        }
        Command::Token { action: TokenAction::Revoke { name } } => {
            commands::token_revoke(&cli.data_dir, &name).await
        }
        Command::Verify { id, file, artifacts } => commands::verify(&cli.data_dir, id, file, artifacts).await,
        Command::Policy { action: PolicyAction::Check { manifest, policy } } => {
            commands::policy_check(&manifest, policy.or(cli.policy).as_deref())
        }
        Command::Cleanup { cleanup } => {
            commands::cleanup(&cli.data_dir, cli.policy.as_deref(), cleanup).await
        }
        Command::HashPassword => commands::hash_password(),
        Command::Deps { action: DepsAction::Fetch } => commands::deps_fetch(&cli.data_dir).await,
        Command::Deps { action: DepsAction::Status } => commands::deps_status(&cli.data_dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gantry: {}", gantry_domain::terminal::terminal_safe(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
