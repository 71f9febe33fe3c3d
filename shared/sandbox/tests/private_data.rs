//! The build never reads the server's data dir: with the data dir private (0700, as
//! `gantry` makes it), an audit cannot read the keys, the database, stored objects or another
//! mission's work dir, under bubblewrap or as a plain child process; its own work dir still works.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{limits, options, text, work, MODES};
use gantry_sandbox::{make_private_dir, make_private_file, run_audit, Isolation};

const SECRETS: [&str; 5] =
    ["TOP-SECRET-KEY", "TOP-SECRET-PEM", "TOP-SECRET-DB", "TOP-SECRET-OBJECT", "OTHER-MISSION"];

fn private_file(path: &Path, content: &str) {
    fs::write(path, content).expect("write");
    // World-readable first, as a careless umask would leave it.
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).expect("chmod");
    make_private_file(path).expect("private file");
}

#[tokio::test]
async fn an_audit_cannot_read_the_keys_the_database_or_another_missions_work_dir() {
    let root = tempfile::tempdir().expect("tempdir");
    // Everything above the data dir is open, so only the data dir's own protection counts.
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let data = root.path().join("data");
    make_private_dir(&data).expect("data dir");
    make_private_dir(&data.join("keys")).expect("keys dir");
    private_file(&data.join("keys/server.key"), "TOP-SECRET-KEY");
    private_file(&data.join("keys/evidence-ed25519.pem"), "TOP-SECRET-PEM");
    private_file(&data.join("gantry.db"), "SQLite format 3 TOP-SECRET-DB");
    fs::create_dir(data.join("objects")).expect("objects");
    fs::set_permissions(data.join("objects"), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::write(data.join("objects/object.json"), "TOP-SECRET-OBJECT").expect("object");
    fs::set_permissions(data.join("objects/object.json"), fs::Permissions::from_mode(0o644)).expect("chmod");
    make_private_dir(&data.join("work")).expect("work root");

    // Another mission built before: its work dir was handed to the sandbox user.
    let other = work(&data.join("work/other"), "attempt-1", &[("index.html", "OTHER-MISSION")]);
    let handed =
        run_audit(&other, "true", limits(256, 30, 64), &options(Isolation::Process)).await.expect("run");
    assert!(handed.report.passed, "{:?}", handed.report);

    let targets = [
        data.join("keys/server.key"),
        data.join("keys/evidence-ed25519.pem"),
        data.join("gantry.db"),
        data.join("objects/object.json"),
        other.join("index.html"),
    ];
    let reads: Vec<String> = targets.iter().map(|t| format!("cat {} 2>&1", t.display())).collect();
    let command =
        format!("{}; cat own.txt; ls {} | sed 's/^/LISTED:/'; true", reads.join("; "), data.display());

    for mode in MODES {
        let dir = work(&data.join("work/this"), &format!("attempt-{mode:?}"), &[("own.txt", "OWN-FILE-OK")]);
        let outcome = run_audit(&dir, &command, limits(256, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);
        assert!(outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        assert!(log.contains("OWN-FILE-OK"), "{mode:?}: the audit reads its own work dir: {log}");
        for secret in SECRETS {
            assert!(!log.contains(secret), "{mode:?} read {secret}: {log}");
        }
        // Under bubblewrap the path down to the work dir exists, and nothing else of the data dir.
        for name in ["keys", "gantry.db", "objects"] {
            assert!(!log.contains(&format!("LISTED:{name}")), "{mode:?} listed the data dir: {log}");
        }
    }
}
