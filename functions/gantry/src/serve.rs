//! `gantry serve`: the router on hyper, with the pipeline running in-process.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;

use gantry_api::{auth, router, ApiConfig, AppState, ClientIp, Mode, PreviewOrigins};
use gantry_pipeline::{run_cleanup, CleanupConfig, CleanupDeps};

use crate::local::Local;
use crate::CleanupArgs;

/// The cleanup rules, run on an interval while the server is up.
#[derive(Debug, Clone, Copy)]
pub struct BackgroundCleanup {
    pub settings: CleanupArgs,
    pub interval: std::time::Duration,
}

/// The first run comes right after start-up (after recovery); then one per interval. Each run
/// logs its own actions and outcome.
async fn cleanup_loop(deps: CleanupDeps, config: CleanupConfig, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let run = run_cleanup(&deps, &config, chrono::Utc::now());
        tracing::Instrument::instrument(run, tracing::info_span!("cleanup")).await;
    }
}

/// A request's path without its query string: upload URLs carry their signature there, and
/// nothing secret may reach a log line.
pub(crate) fn redacted_uri(uri: &axum::http::Uri) -> String {
    match uri.query() {
        Some(_) => format!("{}?[redacted]", uri.path()),
        None => uri.path().to_owned(),
    }
}

pub(crate) fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), uri = %redacted_uri(request.uri()))
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Backend {
    Local,
    Aws,
}

/// The password hash from the environment, or a fresh password printed once.
pub(crate) fn password_hash() -> anyhow::Result<String> {
    if let Ok(hash) = std::env::var("GANTRY_PASSWORD_HASH") {
        if !hash.starts_with("$argon2id$") {
            bail!("GANTRY_PASSWORD_HASH must be an argon2id hash (see `gantry hash-password`)");
        }
        return Ok(hash);
    }
    if let Ok(password) = std::env::var("GANTRY_PASSWORD") {
        if password.is_empty() {
            bail!("GANTRY_PASSWORD is set but empty");
        }
        return auth::hash_password(&password).map_err(anyhow::Error::msg);
    }
    let password = auth::generate_password();
    eprintln!(
        "No GANTRY_PASSWORD or GANTRY_PASSWORD_HASH is set; this run's password is:\n\n    {password}\n"
    );
    auth::hash_password(&password).map_err(anyhow::Error::msg)
}

/// Per-client limits need the peer address; locally it comes from the socket.
pub(crate) async fn client_ip(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(ClientIp(peer.ip().to_string()));
    next.run(request).await
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// `scheme://host[:port]` of a URL: what a browser compares.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..].find('/').map_or(url, |i| &url[..after_scheme + i])
}

/// The previews' origins: `--preview-url` when given, else `http://{id}.localhost:{port}`. The
/// page may frame them from its public address, and from the loopback names of a local server.
fn preview_origins(
    template: Option<&str>,
    bound: SocketAddr,
    public_base: &str,
) -> anyhow::Result<PreviewOrigins> {
    let origins = match template {
        Some(template) => PreviewOrigins::parse(template).context("--preview-url (GANTRY_PREVIEW_URL)")?,
        None => PreviewOrigins::localhost(bound.port()),
    };
    let mut embedders = vec![origin_of(public_base).to_owned()];
    if bound.ip().is_loopback() || bound.ip().is_unspecified() {
        embedders.push(format!("http://127.0.0.1:{}", bound.port()));
        embedders.push(format!("http://localhost:{}", bound.port()));
    }
    Ok(origins.with_embedders(embedders))
}

pub async fn run(
    data_dir: &Path,
    policy: Option<&Path>,
    addr: SocketAddr,
    backend: Backend,
    public_url: Option<String>,
    preview_url: Option<String>,
    background: BackgroundCleanup,
) -> anyhow::Result<ExitCode> {
    if let Backend::Aws = backend {
        return crate::aws::run(addr, public_url).await;
    }
    let password_hash = password_hash()?;
    let (listener, bound, public_base) = bind(addr, public_url).await?;
    let local = Local::open_configured(data_dir, &public_base, policy).await?;

    let mut config = ApiConfig::new(Mode::Local, password_hash, local.secret.clone());
    config.preview_root = Some(local.data_dir.join("previews"));
    config.preview = Some(preview_origins(preview_url.as_deref(), bound, &public_base)?);
    let state = AppState {
        store: Arc::new(local.store.clone()),
        tokens: Arc::new(local.store.clone()),
        objects: local.objects.clone(),
        evidence: local.evidence.clone(),
        evidence_key: local.signer.clone(),
        orchestrator: local.orchestrator.clone(),
        brain: local.brain.clone(),
        limiter: local.limiter.clone(),
        policy: local.policy.clone(),
        config: Arc::new(config),
    };
    let recovered = local.orchestrator.recover().await?;
    if recovered > 0 {
        tracing::warn!(count = recovered, "recovered missions left in flight by an earlier run");
    }
    fetch_node_deps_in_background(&local.data_dir);
    let cleanup = background.settings.config(&local.policy);
    tokio::spawn(cleanup_loop(local.cleanup_deps()?, cleanup, background.interval));
    let banner =
        format!("Gantry is serving the web chat at {public_base}/ (data in {})", local.data_dir.display());
    serve_app(listener, state, &public_base, &banner).await
}

/// The first serve fetches the curated node set (`gantry deps fetch` does the same by hand),
/// in the background so the chat is up at once; node builds started before it is whole fail
/// saying so. `GANTRY_NODE_DEPS_FETCH=off` leaves it to the operator.
fn fetch_node_deps_in_background(data_dir: &Path) {
    let deps = crate::local::node_deps(data_dir);
    if deps.is_fetched() {
        tracing::info!(set = deps.id(), dir = %deps.dir().display(), "node dependency set ready");
        return;
    }
    if std::env::var("GANTRY_NODE_DEPS_FETCH").is_ok_and(|v| v == "off") {
        tracing::warn!(set = deps.id(), "node dependency set missing and GANTRY_NODE_DEPS_FETCH=off: node apps cannot build until `gantry deps fetch` runs");
        return;
    }
    tokio::spawn(async move {
        match deps.fetch(|line| tracing::info!("{line}")).await {
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "node apps cannot build until the node dependency set is fetched")
            }
        }
    });
}

/// Binds `addr` and names the address people reach it at: `public_url` when given, else the
/// bound address.
pub(crate) async fn bind(
    addr: SocketAddr,
    public_url: Option<String>,
) -> anyhow::Result<(tokio::net::TcpListener, SocketAddr, String)> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let public_base = public_url.unwrap_or_else(|| format!("http://{bound}"));
    Ok((listener, bound, public_base))
}

/// The one serve loop of both backends: the router with the client-address and request-span
/// layers, until a shutdown signal. The session cookie is `Secure` only behind HTTPS, since a
/// Secure cookie never comes back over plain http.
pub(crate) async fn serve_app(
    listener: tokio::net::TcpListener,
    mut state: AppState,
    public_base: &str,
    banner: &str,
) -> anyhow::Result<ExitCode> {
    let mut config = (*state.config).clone();
    config.secure_cookie = public_base.starts_with("https://");
    state.config = Arc::new(config);
    let bound = listener.local_addr()?;
    let app = router(state)
        .layer(axum::middleware::from_fn(client_ip))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span));
    eprintln!("{banner}");
    tracing::info!(%bound, "listening");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}
