//! Gantry's domain: the rules of the product as pure functions over plain data.
//!
//! Nothing here performs I/O or knows about AWS, SQLite or HTTP; adapters and handlers call in,
//! never the other way round. Time is passed in by callers so that every rule is testable.

pub mod cleanup;
pub mod consultation;
pub mod evidence;
pub mod guardrails;
pub mod ids;
pub mod intent;
pub mod manifest;
pub mod mission;
pub mod node;
pub mod policy;
pub mod report;
pub mod status;
pub mod terminal;
pub mod themes;
pub mod words;

pub use ids::{MissionId, Subject};
pub use manifest::{GantryManifest, ManifestFile, Stack};
pub use mission::{Mission, Role, StepName, StepRecord, StepStatus, Turn};
pub use report::BuildReport;
pub use status::{MissionStatus, TransitionError};
