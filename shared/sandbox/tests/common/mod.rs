//! Helpers shared by the sandbox tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_domain::report::BuildLimits;
use gantry_domain::{GantryManifest, ManifestFile, Stack};
use gantry_sandbox::{bwrap_usable, materialise, Isolation, SandboxOptions};

pub fn limits(memory_mb: u64, timeout_seconds: u64, max_pids: u64) -> BuildLimits {
    BuildLimits { memory_mb, timeout_seconds, max_pids }
}

pub fn options(isolation: Isolation) -> SandboxOptions {
    SandboxOptions::default().with_isolation(isolation)
}

/// The plain-process fallback and whatever this host gives by default (bubblewrap if usable).
pub const MODES: [Isolation; 2] = [Isolation::Process, Isolation::Auto];

pub fn manifest(files: &[(&str, &str)], audit_command: &str) -> GantryManifest {
    GantryManifest {
        project_name: "sandbox-test".to_owned(),
        stack: Stack::Static,
        files: files
            .iter()
            .map(|(path, content)| ManifestFile { path: (*path).to_owned(), content: (*content).to_owned() })
            .collect(),
        audit_command: audit_command.to_owned(),
        run_command: None,
        output_dir: None,
    }
}

/// A work dir inside `root`, prepared the way builds prepare one, holding `files`.
pub fn work(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    materialise(&dir, &manifest(files, "true"), None).expect("materialise");
    dir
}

/// Whether bubblewrap tests can run; in CI (which installs bubblewrap) its absence is a failure.
pub async fn bwrap_or_skip() -> bool {
    if bwrap_usable(&SandboxOptions::default()).await {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "bubblewrap must be usable in CI");
    println!("SKIPPED: bwrap unavailable");
    false
}

/// Live processes whose command line contains `marker` (zombies excluded).
pub fn processes_with(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
        if matches!(state, Some("Z") | Some("X") | None) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

/// Waits briefly for killed processes to be reaped, then returns any that are still alive.
pub async fn survivors(marker: &str) -> Vec<String> {
    for _ in 0..30 {
        if processes_with(marker).is_empty() {
            return Vec::new();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    processes_with(marker)
}

pub fn text(log: &[u8]) -> String {
    String::from_utf8_lossy(log).into_owned()
}
