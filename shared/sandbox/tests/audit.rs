//! Runs and reports: what a passing and a failing audit produce, the log bounds, and the work
//! dir a build gets.

mod common;

use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::{limits, manifest, options, text, work, MODES};
use gantry_domain::MissionId;
use gantry_ports::{BuildJob, BuildRunner, PortError};
use gantry_sandbox::{
    bwrap_usable, materialise, run_audit, work_dir, Isolation, LocalBuildRunner, SandboxOptions,
    LOG_CAP_BYTES, LOG_TAIL_BYTES, TMP_DIR_NAME, WORK_DIR_MARKER,
};
use sha2::{Digest, Sha256};

fn job(manifest: gantry_domain::GantryManifest, design_image: Option<(String, Vec<u8>)>) -> BuildJob {
    BuildJob {
        mission: MissionId::generate(),
        attempt: 1,
        manifest,
        design_image,
        limits: limits(256, 30, 64),
    }
}

#[tokio::test]
async fn a_passing_audit_reports_exit_zero_and_its_log() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let command =
            r#"echo to-stdout; echo to-stderr >&2; echo "env=$HOME|$TMPDIR|$LANG|$CI"; test -d "$TMPDIR""#;
        let used = limits(256, 30, 64);
        let outcome = run_audit(&dir, command, used, &options(mode)).await.expect("run");
        let report = &outcome.report;
        let log = text(&outcome.log);

        assert!(report.passed, "{mode:?}: {report:?}");
        assert_eq!((report.exit_code, report.timed_out, report.oom), (Some(0), false, false));
        assert!(log.contains("to-stdout") && log.contains("to-stderr"), "{log}");
        let home = dir.display().to_string();
        assert!(log.contains(&format!("env={home}|{home}/{TMP_DIR_NAME}|C.UTF-8|true")), "{mode:?}: {log}");
        assert_eq!(report.log_sha256, hex::encode(Sha256::digest(&outcome.log)));
        assert_eq!(report.log_tail, log);
        assert_eq!(report.limits, used);
        assert!(
            report.isolation.contains("rlimit") || report.isolation.contains("cgroup"),
            "{}",
            report.isolation
        );
        let bwrap = mode == Isolation::Auto && bwrap_usable(&SandboxOptions::default()).await;
        assert_eq!(report.isolation.starts_with("bwrap"), bwrap, "{}", report.isolation);
        assert!(!dir.join(TMP_DIR_NAME).exists(), "the audit's TMPDIR is removed after the run");
    }
}

#[tokio::test]
async fn a_failing_audit_is_a_report_not_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    let outcome =
        run_audit(&dir, "echo broken build; exit 3", limits(256, 30, 64), &SandboxOptions::default())
            .await
            .expect("a failing audit is still Ok");

    assert!(!outcome.report.passed);
    assert_eq!(outcome.report.exit_code, Some(3));
    assert!(!outcome.report.timed_out && !outcome.report.oom);
    assert!(outcome.report.log_tail.contains("broken build"));
}

#[tokio::test]
async fn a_flood_of_output_is_stored_bounded_and_its_tail_kept() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    let command = "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END-MARK";
    let outcome =
        run_audit(&dir, command, limits(256, 30, 64), &SandboxOptions::default()).await.expect("run");
    let report = &outcome.report;

    assert!(report.passed, "{report:?}");
    assert!(outcome.log.len() <= LOG_CAP_BYTES + 200, "stored {} bytes", outcome.log.len());
    assert!(text(&outcome.log).contains("log truncated"));
    assert!(report.log_tail.len() <= LOG_TAIL_BYTES, "tail of {} bytes", report.log_tail.len());
    assert!(report.log_tail.ends_with("END-MARK\n"), "{:?}", &report.log_tail[report.log_tail.len() - 40..]);
    assert_eq!(report.log_sha256, hex::encode(Sha256::digest(&outcome.log)));
}

#[tokio::test]
async fn a_build_gets_its_files_and_the_design_image_in_an_emptied_work_dir() {
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().to_path_buf());
    let image = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let job = job(
        manifest(
            &[("index.html", "<h1>hi</h1>"), ("src/app/main.js", "console.log(1)")],
            "test -f index.html && test -f src/app/main.js && test -s public/design-reference.png && \
             test ! -e stale.txt",
        ),
        Some(("png".to_owned(), image.clone())),
    );
    let dir = work_dir(root.path(), &job.mission, job.attempt);
    std::fs::create_dir_all(&dir).expect("stale dir");
    std::fs::write(dir.join("stale.txt"), "from an earlier attempt").expect("stale file");

    let outcome = runner.run(&job).await.expect("run");

    assert!(outcome.report.passed, "{:?}", outcome.report);
    assert_eq!(std::fs::read(dir.join("public/design-reference.png")).ok(), Some(image));
    assert_eq!(std::fs::read_to_string(dir.join("src/app/main.js")).ok().as_deref(), Some("console.log(1)"));
    assert!(!dir.join("stale.txt").exists());
}

#[tokio::test]
async fn a_manifest_path_escaping_the_work_dir_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().to_path_buf());
    for bad in ["../escaped.txt", "/tmp/gantry-escaped.txt", "a/../../escaped.txt"] {
        let job = job(manifest(&[("index.html", "ok"), (bad, "pwned")], "true"), None);
        let mission_dir = root.path().join(job.mission.as_str());

        let result = runner.run(&job).await;

        assert!(matches!(result, Err(PortError::Invalid(_))), "{bad}: {result:?}");
        assert!(!mission_dir.join("escaped.txt").exists() && !root.path().join("escaped.txt").exists());
        assert!(!work_dir(root.path(), &job.mission, 1).join("index.html").exists(), "{bad}: partial tree");
    }
    assert!(!std::path::Path::new("/tmp/gantry-escaped.txt").exists());
}

#[tokio::test]
async fn a_dir_not_made_by_materialise_or_shared_with_others_is_never_handed_over() {
    let root = tempfile::tempdir().expect("tempdir");
    let owner = std::fs::metadata(root.path()).expect("meta").uid();

    // Not materialised: refused, and the files keep their owner.
    let plain = root.path().join("plain");
    std::fs::create_dir_all(&plain).expect("dir");
    std::fs::write(plain.join("mine.txt"), "mine").expect("file");
    let refused = run_audit(&plain, "true", limits(256, 30, 64), &SandboxOptions::default()).await;
    assert_eq!(refused.err().map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    assert_eq!(std::fs::metadata(plain.join("mine.txt")).expect("meta").uid(), owner);

    // Shared (sticky, world-writable, like /tmp): refused even with the marker planted.
    let shared = root.path().join("shared");
    std::fs::create_dir_all(&shared).expect("dir");
    std::fs::write(shared.join(WORK_DIR_MARKER), "").expect("marker");
    std::fs::write(shared.join("theirs.txt"), "theirs").expect("file");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let refused = run_audit(&shared, "true", limits(256, 30, 64), &SandboxOptions::default()).await;
    assert_eq!(refused.err().map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    assert_eq!(std::fs::metadata(shared.join("theirs.txt")).expect("meta").uid(), owner);

    // materialise will not empty a shared dir either.
    assert!(materialise(&shared, &manifest(&[], "true"), None).is_err());
    assert!(shared.join("theirs.txt").exists());

    // The clean case: the same content, materialised, runs.
    let dir = work(root.path(), "w", &[("mine.txt", "mine")]);
    let outcome = run_audit(&dir, "cat mine.txt", limits(256, 30, 64), &SandboxOptions::default()).await;
    assert!(outcome.expect("run").report.passed);
}

#[tokio::test]
async fn a_work_dir_behind_a_private_directory_still_builds() {
    // Under a 0700 directory the sandbox user cannot reach the work dir by its path; the run
    // must still see and write it.
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for mode in MODES {
        let check = "import os\nassert open(os.path.abspath('input.txt')).read() == 'in'\n";
        let dir = work(root.path(), &format!("{mode:?}"), &[("input.txt", "in"), ("check.py", check)]);
        // python3 opens its script by an absolute path made from the cwd: that path too must work.
        let command = r#"cat input.txt && python3 check.py && echo built > out.txt && touch "$HOME/home-ok" "$TMPDIR/tmp-ok""#;
        let outcome = run_audit(&dir, command, limits(256, 30, 64), &options(mode)).await.expect("run");

        assert!(outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        assert_eq!(std::fs::read_to_string(dir.join("out.txt")).ok().as_deref(), Some("built\n"));
        assert!(dir.join("home-ok").exists(), "{mode:?}");
    }
}

#[tokio::test]
async fn requiring_bubblewrap_where_it_is_unusable_is_an_error_not_a_silent_downgrade() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    let options = SandboxOptions::default().with_isolation(Isolation::Bwrap);
    let result = run_audit(&dir, "true", limits(256, 30, 64), &options).await;
    if bwrap_usable(&SandboxOptions::default()).await {
        assert!(result.expect("run").report.isolation.starts_with("bwrap"));
    } else {
        assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Unsupported));
    }
}
