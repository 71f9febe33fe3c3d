//! A router over the embedded adapters, and a recording orchestrator.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use gantry_api::{auth, router, ApiConfig, AppState, ClientIp, Mode};
use gantry_brain::OfflineBrain;
use gantry_domain::policy::Policy;
use gantry_domain::{Mission, MissionId};
use gantry_local::signer::Ed25519FileSigner;
use gantry_local::{FsObjectStore, MemoryRateLimiter, SqliteStore};
use gantry_ports::{Execution, ExecutionState, Orchestrator, PortResult};

pub const PASSWORD: &str = "correct horse battery staple";

/// Records every start; the second start of the same execution name starts nothing.
#[derive(Default)]
pub struct RecordingOrchestrator {
    pub started: Mutex<Vec<String>>,
    pub stopped: Mutex<Vec<String>>,
}

#[async_trait]
impl Orchestrator for RecordingOrchestrator {
    async fn start(&self, mission: &Mission) -> PortResult<Execution> {
        let name = gantry_pipeline::dispatch::execution_name(&mission.id, mission.dispatches);
        let mut started = self.started.lock().unwrap();
        let new = !started.contains(&name);
        if new {
            started.push(name.clone());
        }
        Ok(Execution { started: new, trace_url: Some(format!("local://executions/{name}")) })
    }

    async fn describe(&self, _mission: &MissionId) -> PortResult<ExecutionState> {
        Ok(ExecutionState::Running)
    }

    async fn stop(&self, mission: &MissionId, _reason: &str) -> PortResult<()> {
        self.stopped.lock().unwrap().push(mission.to_string());
        Ok(())
    }
}

pub struct TestApp {
    pub router: Router,
    pub orchestrator: Arc<RecordingOrchestrator>,
    pub store: SqliteStore,
    pub state: AppState,
}

pub fn password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(PASSWORD).unwrap()).clone()
}

pub fn app_in(dir: &Path, tweak: impl FnOnce(&mut ApiConfig)) -> TestApp {
    let store = SqliteStore::open(&dir.join("gantry.db")).unwrap();
    let objects =
        Arc::new(FsObjectStore::new(dir.join("objects"), "http://127.0.0.1:8080", b"upload-key".to_vec()));
    let orchestrator = Arc::new(RecordingOrchestrator::default());
    let mut config = ApiConfig::new(Mode::Local, password_hash(), b"token-key".to_vec());
    config.preview_root = Some(dir.join("previews"));
    tweak(&mut config);
    let state = AppState {
        store: Arc::new(store.clone()),
        tokens: Arc::new(store.clone()),
        objects: objects.clone(),
        evidence: objects,
        evidence_key: Arc::new(Ed25519FileSigner::open_or_create(dir).unwrap()),
        orchestrator: orchestrator.clone(),
        brain: Arc::new(OfflineBrain),
        limiter: Arc::new(MemoryRateLimiter::new()),
        policy: Arc::new(Policy::default_policy().unwrap()),
        config: Arc::new(config),
    };
    TestApp { router: router(state.clone()), orchestrator, store, state }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let mut request = request;
        request.extensions_mut().insert(ClientIp("127.0.0.1".into()));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)}));
        Reply { status, headers, body }
    }

    pub async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => {
                builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string()))
            }
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn login(&self) -> String {
        let reply = self.call("POST", "/gantry/auth", None, Some(json!({"password": PASSWORD}))).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn consult(&self, token: &str, body: Value) -> Reply {
        self.call("POST", "/gantry/consult", Some(token), Some(body)).await
    }
}
