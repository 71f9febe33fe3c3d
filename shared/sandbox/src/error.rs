//! What can stop a build before its audit runs. A failing audit is never one of these.

use std::path::PathBuf;

use gantry_ports::PortError;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The manifest was validated upstream; reaching this means that validation was bypassed.
    #[error("manifest path {0:?} would land outside the work dir")]
    PathEscapes(String),
    #[error("design image extension {0:?} is not a plain file extension")]
    BadImageExtension(String),
    #[error("cannot prepare the work dir {path}: {source}")]
    WorkDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<SandboxError> for PortError {
    fn from(error: SandboxError) -> Self {
        match error {
            SandboxError::PathEscapes(_) | SandboxError::BadImageExtension(_) => {
                PortError::Invalid(error.to_string())
            }
            SandboxError::WorkDir { .. } => PortError::Failed(error.to_string()),
        }
    }
}
