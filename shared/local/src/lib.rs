//! Embedded adapters for `gantry serve`: everything on one machine, in the data dir.

pub mod fs_objects;
pub mod rate_limit;
pub mod signer;
pub mod sqlite;

pub use fs_objects::FsObjectStore;
pub use rate_limit::MemoryRateLimiter;
pub use sqlite::SqliteStore;
