//! What handlers are given: the adapters, built once by the entry point, and typed settings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::preview::PreviewOrigins;
use gantry_domain::policy::Policy;
use gantry_ports::{Brain, MissionStore, ObjectStore, Orchestrator, RateLimiter, TokenStore};

/// Which shape this router runs in; reported by `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Local,
    Aws,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Aws => "aws",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Consultation turns per subject per minute.
    pub consult_per_minute: u32,
    /// Builds dispatched per subject per hour (cost control).
    pub builds_per_hour: u32,
    /// Failed logins per client per minute before 429.
    pub login_failures_per_minute: u32,
    /// Largest request body, in bytes (a 5 MiB image in base64 fits).
    pub body_bytes: usize,
    /// Longest message, in characters.
    pub message_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            consult_per_minute: 30,
            builds_per_hour: 20,
            login_failures_per_minute: 5,
            body_bytes: 8 * 1024 * 1024,
            message_chars: 4000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub mode: Mode,
    pub version: String,
    /// argon2id PHC string of the owner's password.
    pub password_hash: String,
    /// Key for signing session tokens (HMAC-SHA256).
    pub token_key: Vec<u8>,
    pub session_ttl: Duration,
    /// Set `Secure` on the session cookie (behind HTTPS).
    pub secure_cookie: bool,
    pub limits: Limits,
    /// How recent a consultation must be for `/voice` to continue it without an id.
    pub voice_continuation: Duration,
    /// Local shape: where deployed previews live, served on their own origins (`preview`).
    pub preview_root: Option<PathBuf>,
    /// Local shape: the preview origins, `http://{id}.localhost:{port}` by default.
    pub preview: Option<PreviewOrigins>,
    /// Where the browser PUTs design images when that is not this server (the artifacts
    /// bucket's origin in AWS): the page's CSP must let it connect there.
    pub upload_origin: Option<String>,
}

impl ApiConfig {
    pub fn new(mode: Mode, password_hash: String, token_key: Vec<u8>) -> Self {
        Self {
            mode,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            password_hash,
            token_key,
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookie: mode == Mode::Aws,
            limits: Limits::default(),
            voice_continuation: Duration::from_secs(15 * 60),
            preview_root: None,
            preview: None,
            upload_origin: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn MissionStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub evidence: Arc<dyn ObjectStore>,
    pub orchestrator: Arc<dyn Orchestrator>,
    pub brain: Arc<dyn Brain>,
    pub limiter: Arc<dyn RateLimiter>,
    pub policy: Arc<Policy>,
    pub config: Arc<ApiConfig>,
}
