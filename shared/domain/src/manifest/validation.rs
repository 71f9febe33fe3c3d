//! Manifest validation. (Placeholder API; rules being written.)

use super::GantryManifest;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ManifestError {
    pub path: String,
    pub reason: String,
}

pub fn normalise_path(path: &str) -> Result<String, ManifestError> {
    Ok(path.to_owned())
}

pub fn validate(_manifest: &GantryManifest) -> Result<(), Vec<ManifestError>> {
    Ok(())
}
