//! The feature results an audit writes come back in the build report, and a results file the
//! audit tampered with is refused with a note, never followed or trusted.

mod common;

use common::{limits, manifest, text};
use gantry_domain::report::FeatureStatus;
use gantry_domain::MissionId;
use gantry_ports::{BuildJob, BuildRunner};
use gantry_sandbox::{work_dir, LocalBuildRunner};
use sha2::{Digest, Sha256};

fn job(audit_command: &str) -> BuildJob {
    BuildJob {
        mission: MissionId::generate(),
        attempt: 1,
        manifest: manifest(&[("index.html", "<h1>hi</h1>")], audit_command),
        design_image: None,
        limits: limits(256, 30, 64),
    }
}

#[tokio::test]
async fn the_audits_results_reach_the_report() {
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().to_path_buf());
    let outcome = runner
        .run(&job(
            r#"mkdir -p .gantry && printf '%s' '{"features":[{"name":"tags","status":"passed"},{"name":"friends","status":"not_built","detail":"needs a server"}]}' > .gantry/results.json"#,
        ))
        .await
        .expect("run");
    assert!(outcome.report.passed, "{:?}", outcome.report);
    let statuses: Vec<(&str, FeatureStatus)> =
        outcome.report.features.iter().map(|f| (f.name.as_str(), f.status)).collect();
    assert_eq!(statuses, [("tags", FeatureStatus::Passed), ("friends", FeatureStatus::NotBuilt)]);
    assert!(!text(&outcome.log).contains("[gantry sandbox]"), "{}", text(&outcome.log));
}

#[tokio::test]
async fn a_results_file_linked_elsewhere_is_refused_and_noted() {
    let root = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let planted = outside.path().join("planted.json");
    std::fs::write(&planted, r#"{"features":[{"name":"tags","status":"passed"}]}"#).expect("plant");
    let runner = LocalBuildRunner::new(root.path().to_path_buf());
    let outcome = runner
        .run(&job(&format!("mkdir -p .gantry && ln -s {} .gantry/results.json", planted.display())))
        .await
        .expect("run");
    assert!(outcome.report.features.is_empty(), "{:?}", outcome.report.features);
    let log = text(&outcome.log);
    assert!(log.contains("[gantry sandbox] .gantry/results.json is not a regular file"), "{log}");
    assert!(outcome.report.log_tail.contains("not a regular file"), "{}", outcome.report.log_tail);
    assert_eq!(outcome.report.log_sha256, hex::encode(Sha256::digest(&outcome.log)));
}

#[tokio::test]
async fn malformed_results_are_noted_and_absent_ones_claim_nothing() {
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().to_path_buf());
    let malformed = runner
        .run(&job(r#"mkdir -p .gantry && echo '{"features":"all of them"}' > .gantry/results.json"#))
        .await
        .expect("run");
    assert!(malformed.report.passed && malformed.report.features.is_empty());
    assert!(text(&malformed.log).contains(".gantry/results.json is malformed"), "{}", text(&malformed.log));

    let absent = job("true");
    let outcome = runner.run(&absent).await.expect("run");
    assert!(outcome.report.features.is_empty());
    // No results is no claim: every approved feature then reads "not checked" in the status, and
    // the audit's own last words stay the end of its log.
    assert!(!text(&outcome.log).contains("[gantry sandbox]"), "{}", text(&outcome.log));
    assert!(work_dir(root.path(), &absent.mission, 1).is_dir());
}
