//! The mission pipeline: step handlers (shared by the `steps` Lambdas and the local executor),
//! the evidence log, and the in-process orchestrator for the local shape.

pub mod cleanup;
pub mod contract;
pub mod direct;
pub mod dispatch;
pub mod evidence_log;
pub mod local;
pub mod metrics;
pub mod output_bundle;
pub mod policy_file;
pub mod state;
pub mod steps;

pub use cleanup::{run_cleanup, CleanupConfig, CleanupDeps, CleanupSummary};
pub use contract::{ErrorName, Outcome};
pub use direct::direct_build;
pub use evidence_log::{verify_mission_evidence, EvidenceLog, MissionEvidence};
pub use local::LocalOrchestrator;
pub use policy_file::{load_policy, PolicyFileError};
pub use state::PipelineState;
pub use steps::{Step, StepError, Steps};
