//! Embedded adapters for `gantry serve`: everything on one machine, in the data dir.

pub mod builds;
pub mod deploy;
pub mod files;
pub mod fs_objects;
pub mod publish;
pub mod rate_limit;
pub mod signer;
pub mod sqlite;

pub use builds::TrackedBuildRunner;
pub use deploy::LocalDeployer;
pub use files::LocalMissionFiles;
pub use fs_objects::FsObjectStore;
pub use publish::LocalGitPublisher;
pub use rate_limit::MemoryRateLimiter;
pub use sqlite::SqliteStore;
