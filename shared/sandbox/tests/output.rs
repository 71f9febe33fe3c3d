//! A build's output is read without following any link: an audit that swaps its output dir for
//! a symlink to a secret dir, or plants symlinks, hard links and fifos in it, gets none of the
//! secret into `BuildOutcome::output`. The audits here run in the most exposed mode (no
//! bubblewrap, no uid change), where they can reach the secret, so only the reader stands in
//! the way.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{limits, text};
use gantry_domain::{GantryManifest, ManifestFile, MissionId, Stack};
use gantry_ports::{BuildJob, BuildOutcome, BuildRunner};
use gantry_sandbox::{
    read_build_output, read_work_file, Isolation, LocalBuildRunner, OutputError, SandboxOptions, SkipReason,
    OUTPUT_MAX_FILES,
};

const SECRET: &str = "TOP-SECRET-KEY";

/// A dir of secrets outside the work root, like `<data-dir>/keys`.
fn secret_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("keys");
    std::fs::create_dir(&dir).expect("keys dir");
    std::fs::write(dir.join("server.key"), SECRET).expect("secret");
    std::fs::write(dir.join("evidence-ed25519.pem"), format!("-----{SECRET}-----")).expect("secret");
    dir
}

fn exposed() -> SandboxOptions {
    SandboxOptions { sandbox_user: None, cgroup: false, ..SandboxOptions::default() }
        .with_isolation(Isolation::Process)
}

async fn build(root: &Path, output_dir: Option<&str>, audit_command: &str) -> BuildOutcome {
    let manifest = GantryManifest {
        project_name: "output-test".into(),
        stack: Stack::Static,
        files: vec![
            ManifestFile { path: "public/index.html".into(), content: "<h1>hi</h1>".into() },
            ManifestFile { path: "public/css/app.css".into(), content: "h1{}".into() },
            ManifestFile { path: "README.md".into(), content: "readme".into() },
        ],
        audit_command: audit_command.into(),
        run_command: None,
        output_dir: output_dir.map(str::to_owned),
    };
    let runner = LocalBuildRunner::new(root.join("work")).with_options(exposed());
    let job = BuildJob {
        mission: MissionId::generate(),
        attempt: 1,
        manifest,
        design_image: None,
        limits: limits(256, 30, 64),
    };
    runner.run(&job).await.expect("the sandbox runs")
}

fn assert_no_secret(outcome: &BuildOutcome) {
    for file in &outcome.output {
        assert!(!String::from_utf8_lossy(&file.bytes).contains(SECRET), "{} leaked the secret", file.path);
    }
    assert!(!text(&outcome.log).contains(SECRET), "{}", text(&outcome.log));
}

fn paths(outcome: &BuildOutcome) -> Vec<&str> {
    outcome.output.iter().map(|f| f.path.as_str()).collect()
}

#[tokio::test]
async fn a_passed_build_carries_its_output_dir_relative_and_without_plumbing() {
    let root = tempfile::tempdir().expect("tempdir");
    let outcome =
        build(root.path(), Some("public"), "echo ok > public/built.txt && mkdir -p public/.cache").await;
    assert!(outcome.report.passed, "{:?}", outcome.report);
    assert_eq!(paths(&outcome), ["built.txt", "css/app.css", "index.html"]);
    assert_eq!(outcome.output[0].bytes, b"ok\n");

    // The whole work dir as output: the sandbox's marker and tmp dir are not part of it.
    let whole = build(root.path(), None, "true").await;
    assert_eq!(paths(&whole), ["README.md", "public/css/app.css", "public/index.html"]);
}

#[tokio::test]
async fn an_output_dir_swapped_for_a_symlink_to_a_secret_dir_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = secret_dir(root.path());
    let command = format!(
        "python3 -c \"import os; os.rename('public', 'x'); os.symlink('{}', 'public')\"",
        keys.display()
    );
    let outcome = build(root.path(), Some("public"), &command).await;

    assert!(!outcome.report.passed, "a build whose output cannot be taken safely did not pass");
    assert!(outcome.output.is_empty(), "{:?}", paths(&outcome));
    assert!(outcome.report.log_tail.contains("output refused"), "{}", outcome.report.log_tail);
    assert_no_secret(&outcome);

    // A symlink higher up (the output dir's parent) is refused the same way.
    let nested = build(
        root.path(),
        Some("public/css"),
        &format!("mv public y && mkdir -p {}/css && ln -s {} public", keys.display(), keys.display()),
    )
    .await;
    assert!(!nested.report.passed && nested.output.is_empty(), "{:?}", paths(&nested));
    assert_no_secret(&nested);
}

#[tokio::test]
async fn symlinks_hard_links_and_fifos_inside_the_output_are_skipped_and_reported() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = secret_dir(root.path());
    let key = keys.join("server.key");
    let command = format!(
        "ln -s {key} public/key.txt && ln {key} public/linked.txt && ln -s {keys} public/keys \
         && mkfifo public/pipe && ln -s /etc/passwd public/passwd",
        key = key.display(),
        keys = keys.display()
    );
    let outcome = build(root.path(), Some("public"), &command).await;

    assert!(outcome.report.passed, "{:?}", outcome.report);
    assert_eq!(paths(&outcome), ["css/app.css", "index.html"]);
    assert_no_secret(&outcome);
    let log = text(&outcome.log);
    assert!(log.contains("5 output entries were not taken"), "{log}");
    assert!(log.contains("linked.txt (hard link)") && log.contains("key.txt (symlink)"), "{log}");
    assert!(outcome.report.log_tail.contains("not taken"), "the tail shows the note too");
}

#[tokio::test]
async fn an_output_past_its_bounds_fails_the_build() {
    let root = tempfile::tempdir().expect("tempdir");
    let command = format!("i=0; while [ $i -le {OUTPUT_MAX_FILES} ]; do : > public/f$i; i=$((i+1)); done");
    let outcome = build(root.path(), Some("public"), &command).await;
    assert!(!outcome.report.passed);
    assert!(outcome.output.is_empty());
    assert!(
        text(&outcome.log).contains(&format!("more than {OUTPUT_MAX_FILES} files")),
        "{}",
        text(&outcome.log)
    );
}

#[tokio::test]
async fn a_missing_output_dir_is_an_empty_output_not_a_failure() {
    let root = tempfile::tempdir().expect("tempdir");
    let outcome = build(root.path(), Some("dist"), "true").await;
    assert!(outcome.report.passed);
    assert!(outcome.output.is_empty());
    assert!(text(&outcome.log).contains("\"dist\" does not exist"), "{}", text(&outcome.log));
}

#[test]
fn the_reader_refuses_a_work_dir_or_output_dir_that_is_a_symlink() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = secret_dir(root.path());
    let work = root.path().join("work");
    std::fs::create_dir(&work).expect("work");
    std::os::unix::fs::symlink(&keys, work.join("out")).expect("symlink");
    std::os::unix::fs::symlink(&keys, root.path().join("linked-work")).expect("symlink");

    assert!(matches!(read_build_output(&work, "out"), Err(OutputError::Symlinked(_))));
    assert!(read_build_output(&root.path().join("linked-work"), ".").is_err());
    assert!(matches!(read_build_output(&work, "../keys"), Err(OutputError::BadPath(_))));
    assert!(matches!(read_build_output(&work, "absent"), Ok(None)));
}

#[test]
fn a_hard_link_is_skipped_even_when_it_is_the_only_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = secret_dir(root.path());
    let out = root.path().join("work").join("out");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::hard_link(keys.join("server.key"), out.join("index.html")).expect("hard link");
    std::fs::write(out.join("ok.txt"), "fine").expect("file");

    let output = read_build_output(&root.path().join("work"), "out").expect("read").expect("exists");
    assert_eq!(output.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["ok.txt"]);
    assert_eq!(output.skipped.len(), 1);
    assert_eq!(output.skipped[0].reason, SkipReason::HardLink);
}

#[test]
fn single_files_are_read_only_when_regular_unlinked_and_bounded() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = secret_dir(root.path());
    let work = root.path().join("work");
    std::fs::create_dir_all(work.join("dir")).expect("work");
    std::fs::write(work.join("dir/results.json"), "{}").expect("file");
    std::os::unix::fs::symlink(keys.join("server.key"), work.join("dir/link.json")).expect("symlink");
    std::os::unix::fs::symlink(&keys, work.join("linked")).expect("symlink");
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    assert_eq!(read_work_file(&work, "dir/results.json", 10).expect("read"), Some(b"{}".to_vec()));
    assert_eq!(read_work_file(&work, "dir/link.json", 1000).expect("read"), None);
    assert_eq!(read_work_file(&work, "linked/server.key", 1000).expect("read"), None);
    assert_eq!(read_work_file(&work, "dir/absent", 1000).expect("read"), None);
    assert!(matches!(read_work_file(&work, "dir/results.json", 1), Err(OutputError::TooLarge { .. })));
}
