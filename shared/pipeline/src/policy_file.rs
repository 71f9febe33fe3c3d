//! Reading the policy an entry point runs with: the file it names, or the policy.yaml compiled in.
//! One reader for every shape, so a bad file is refused with the same words everywhere.

use std::path::{Path, PathBuf};

use gantry_domain::policy::{Policy, PolicyError};

#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    // `cause`, not `source`: the cause is part of the message, so no chain repeats it.
    #[error("cannot read the policy {path}: {cause}", path = path.display())]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("the policy {path} is not valid: {cause}", path = path.display())]
    Invalid { path: PathBuf, cause: PolicyError },
    #[error("the compiled-in policy is not valid: {0}")]
    Default(PolicyError),
}

pub fn load_policy(path: Option<&Path>) -> Result<Policy, PolicyFileError> {
    let Some(path) = path else { return Policy::default_policy().map_err(PolicyFileError::Default) };
    let text = std::fs::read_to_string(path)
        .map_err(|cause| PolicyFileError::Read { path: path.to_path_buf(), cause })?;
    Policy::from_yaml(&text).map_err(|cause| PolicyFileError::Invalid { path: path.to_path_buf(), cause })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_is_read_and_a_bad_one_is_refused_naming_it() {
        assert!(load_policy(None).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.yaml");
        let error = load_policy(Some(&missing)).unwrap_err().to_string();
        assert!(error.starts_with("cannot read the policy") && error.contains("absent.yaml"), "{error}");
        assert!(std::error::Error::source(&load_policy(Some(&missing)).unwrap_err()).is_none());
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "version: [").unwrap();
        let error = load_policy(Some(&bad)).unwrap_err().to_string();
        assert!(error.contains("bad.yaml") && error.contains("is not valid"), "{error}");
        let good = dir.path().join("good.yaml");
        std::fs::write(&good, include_str!("../../../policy.yaml")).unwrap();
        assert_eq!(load_policy(Some(&good)).unwrap().build, load_policy(None).unwrap().build);
    }
}
