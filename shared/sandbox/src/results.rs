//! Reads back the per-feature results an audit wrote to `.gantry/results.json`.
//!
//! The file is the audit's, so it is untrusted: both path components are opened without
//! following symlinks, only a regular file of at most [`MAX_RESULTS_BYTES`] is read, and a
//! file that is not the documented shape is an error to report, never a crash.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use gantry_domain::report::{FeatureResult, ResultsFile, RESULTS_FILE};
use gantry_ports::BuildOutcome;
use sha2::{Digest, Sha256};

use crate::log::tail_text;

/// The most the results file may hold; far more than any honest list of features needs.
pub const MAX_RESULTS_BYTES: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("the audit wrote no {RESULTS_FILE}")]
    Missing,
    #[error("{RESULTS_FILE} is not a regular file (a symlink or something else); it was not read")]
    NotRegular,
    #[error("{RESULTS_FILE} is larger than {MAX_RESULTS_BYTES} bytes; it was not read")]
    TooLarge,
    #[error("{RESULTS_FILE} is malformed: {0}")]
    Malformed(String),
    #[error("{RESULTS_FILE} could not be read: {0}")]
    Unreadable(io::Error),
}

/// `outcome` with the feature results the audit in `work_dir` wrote. The features stay empty
/// when there are none to read, so nothing is claimed without a result; a results file that is
/// there but cannot be taken is said in a sandbox note at the end of the log (its tail and digest
/// follow). An audit that writes none (a build with no planned features) gets no note, so its own
/// last words stay the end of the log.
pub fn with_results(mut outcome: BuildOutcome, work_dir: &Path) -> BuildOutcome {
    match read_results(work_dir) {
        Ok(features) => outcome.report.features = features,
        Err(ResultsError::Missing) => {}
        Err(error) => {
            outcome.log.extend_from_slice(format!("\n[gantry sandbox] {error}\n").as_bytes());
            outcome.report.log_tail = tail_text(&outcome.log);
            outcome.report.log_sha256 = hex::encode(Sha256::digest(&outcome.log));
        }
    }
    outcome
}

/// The feature results the audit in `work_dir` wrote.
pub fn read_results(work_dir: &Path) -> Result<Vec<FeatureResult>, ResultsError> {
    let (dir_name, file_name) = RESULTS_FILE.split_once('/').unwrap_or((".", RESULTS_FILE));
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(work_dir.join(dir_name))
        .map_err(classify)?;
    let file = open_in(&dir, file_name).map_err(classify)?;
    let meta = file.metadata().map_err(ResultsError::Unreadable)?;
    if !meta.file_type().is_file() {
        return Err(ResultsError::NotRegular);
    }
    if meta.len() > MAX_RESULTS_BYTES {
        return Err(ResultsError::TooLarge);
    }
    let mut bytes = Vec::new();
    // The bound holds even if the file grows between the stat and the read.
    file.take(MAX_RESULTS_BYTES + 1).read_to_end(&mut bytes).map_err(ResultsError::Unreadable)?;
    if bytes.len() as u64 > MAX_RESULTS_BYTES {
        return Err(ResultsError::TooLarge);
    }
    let parsed: ResultsFile =
        serde_json::from_slice(&bytes).map_err(|e| ResultsError::Malformed(e.to_string()))?;
    Ok(parsed.features)
}

/// `name` inside `dir`, read-only, without following a symlink and without blocking on a FIFO.
fn open_in(dir: &File, name: &str) -> io::Result<File> {
    let name = CString::new(name).map_err(io::Error::other)?;
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
    // SAFETY: `dir` is an open directory fd and `name` a NUL-terminated string; the returned fd
    // is owned by the File alone.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat succeeded, so `fd` is open and owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn classify(error: io::Error) -> ResultsError {
    match error.raw_os_error() {
        Some(libc::ENOENT) => ResultsError::Missing,
        // O_NOFOLLOW on a symlink gives ELOOP; O_DIRECTORY on a non-directory, ENOTDIR.
        Some(libc::ELOOP | libc::ENOTDIR) => ResultsError::NotRegular,
        _ => ResultsError::Unreadable(error),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use gantry_domain::report::FeatureStatus;

    use super::*;

    fn work_dir_with(content: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".gantry")).unwrap();
        fs::write(dir.path().join(RESULTS_FILE), content).unwrap();
        dir
    }

    #[test]
    fn a_well_formed_file_reads_back() {
        let dir = work_dir_with(
            br#"{"features":[{"name":"tags","status":"passed"},{"name":"friends","status":"not_built","detail":"needs a server"}]}"#,
        );
        let results = read_results(dir.path()).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].status, FeatureStatus::Passed);
        assert_eq!(results[1].detail.as_deref(), Some("needs a server"));
    }

    #[test]
    fn no_file_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read_results(dir.path()), Err(ResultsError::Missing)));
    }

    #[test]
    fn a_symlinked_file_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.json");
        fs::write(&secret, br#"{"features":[]}"#).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".gantry")).unwrap();
        symlink(&secret, dir.path().join(RESULTS_FILE)).unwrap();
        assert!(matches!(read_results(dir.path()), Err(ResultsError::NotRegular)));
    }

    #[test]
    fn a_symlinked_directory_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("results.json"), br#"{"features":[]}"#).unwrap();
        let dir = tempfile::tempdir().unwrap();
        symlink(outside.path(), dir.path().join(".gantry")).unwrap();
        assert!(matches!(read_results(dir.path()), Err(ResultsError::NotRegular)));
    }

    #[test]
    fn a_directory_or_fifo_in_its_place_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(RESULTS_FILE)).unwrap();
        assert!(matches!(read_results(dir.path()), Err(ResultsError::NotRegular)));

        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".gantry")).unwrap();
        let fifo = CString::new(dir.path().join(RESULTS_FILE).to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(matches!(read_results(dir.path()), Err(ResultsError::NotRegular)));
    }

    #[test]
    fn an_oversize_file_is_refused() {
        let mut big = br#"{"features":[{"name":""#.to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_RESULTS_BYTES as usize));
        big.extend(br#"","status":"passed"}]}"#);
        let dir = work_dir_with(&big);
        assert!(matches!(read_results(dir.path()), Err(ResultsError::TooLarge)));
    }

    #[test]
    fn a_malformed_file_is_reported() {
        for bad in [&b"not json"[..], br#"{"features":[{"name":"x","status":"shipped"}]}"#, b"[]"] {
            let dir = work_dir_with(bad);
            let error = read_results(dir.path()).unwrap_err();
            assert!(matches!(error, ResultsError::Malformed(_)), "{error}");
            assert!(error.to_string().contains(RESULTS_FILE), "{error}");
        }
    }
}
