//! A scripted task invoker that records every call, shared by the integration tests.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gantry_asl::{async_trait, TaskFailure, TaskInvoker};
use serde_json::Value;
use tokio::time::Instant;

/// What the fake answers to one call.
pub enum Reply {
    Value(Value),
    Fail(String, String),
    /// Never answers: for timeouts.
    Hang,
}

pub fn fail(error: &str, cause: &str) -> Reply {
    Reply::Fail(error.to_string(), cause.to_string())
}

#[derive(Debug, Clone)]
pub struct Call {
    pub state: String,
    pub resource: String,
    pub parameters: Value,
    pub at: Instant,
}

type Respond = dyn Fn(&str, &Value, usize) -> Reply + Send + Sync;

/// Answers with `respond(state, parameters, n)`, where `n` counts earlier calls for the same state.
pub struct Fake {
    respond: Box<Respond>,
    calls: Mutex<Vec<Call>>,
    /// Calls whose future was dropped before it finished (timeouts).
    pub abandoned: Arc<AtomicUsize>,
}

impl Fake {
    pub fn new(respond: impl Fn(&str, &Value, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            respond: Box::new(respond),
            calls: Mutex::new(Vec::new()),
            abandoned: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn states(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.state).collect()
    }

    pub fn count(&self, state: &str) -> usize {
        self.calls().iter().filter(|c| c.state == state).count()
    }
}

struct Abandoned(Arc<AtomicUsize>, bool);

impl Drop for Abandoned {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl TaskInvoker for Fake {
    async fn invoke(&self, state: &str, resource: &str, parameters: Value) -> Result<Value, TaskFailure> {
        let nth = {
            let mut calls = self.calls.lock().unwrap();
            let nth = calls.iter().filter(|c| c.state == state).count();
            calls.push(Call {
                state: state.to_string(),
                resource: resource.to_string(),
                parameters: parameters.clone(),
                at: Instant::now(),
            });
            nth
        };
        let mut guard = Abandoned(self.abandoned.clone(), false);
        let reply = (self.respond)(state, &parameters, nth);
        let outcome = match reply {
            Reply::Value(v) => Ok(v),
            Reply::Fail(error, cause) => Err(TaskFailure::new(error, cause)),
            Reply::Hang => std::future::pending().await,
        };
        guard.1 = true;
        outcome
    }
}
