//! Embedded adapters for `gantry serve`: everything on one machine, in the data dir.

pub mod deploy;
pub mod fs_objects;
pub mod publish;
pub mod rate_limit;
pub mod signer;
pub mod sqlite;

pub use deploy::LocalDeployer;
pub use fs_objects::FsObjectStore;
pub use publish::LocalGitPublisher;
pub use rate_limit::MemoryRateLimiter;
pub use sqlite::SqliteStore;
