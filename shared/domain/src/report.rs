//! The build report: what one sandboxed audit run produced. A failing audit is data, not an error.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    pub passed: bool,
    /// The audit's exit code; `None` when it was killed by a signal.
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    pub timed_out: bool,
    pub oom: bool,
    /// The last bytes of the combined stdout/stderr, bounded.
    pub log_tail: String,
    /// sha256 of the whole log, so the stored log artifact can be checked against the report.
    pub log_sha256: String,
    /// How the audit was isolated, e.g. `bwrap+supervisor+rlimit+uid`, `bwrap+cgroup+supervisor+uid`,
    /// `fargate`; `supervisor` alone (no `cgroup`) means the memory cap was held by the sandbox's
    /// sampling supervisor, not by the kernel.
    pub isolation: String,
    /// The limits the run was held to.
    #[serde(default)]
    pub limits: BuildLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLimits {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub max_pids: u64,
}

impl Default for BuildLimits {
    fn default() -> Self {
        Self { memory_mb: 512, timeout_seconds: 180, max_pids: 256 }
    }
}
