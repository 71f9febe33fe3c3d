//! The limits hold: time, memory and process count, and nothing outlives a run.

mod common;

use std::time::{Duration, Instant};

use common::{limits, options, survivors, text, work, MODES};
use gantry_sandbox::run_audit;

#[tokio::test]
async fn a_sleeper_past_the_timeout_is_killed_with_its_whole_group() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let marker = "31.7031";
        let command = format!("sleep {marker} & sleep {marker}; echo finished");
        let started = Instant::now();
        let outcome = run_audit(&dir, &command, limits(256, 2, 64), &options(mode)).await.expect("run");
        let report = &outcome.report;

        assert!(report.timed_out, "{mode:?}: {report:?}");
        assert!(!report.passed && report.exit_code.is_none() && !report.oom, "{mode:?}: {report:?}");
        assert!(started.elapsed() < Duration::from_secs(8), "{mode:?} took {:?}", started.elapsed());
        assert!(!text(&outcome.log).contains("finished"));
        assert!(report.log_tail.contains("timed out after 2 s"), "{mode:?}: {}", report.log_tail);
        assert_eq!(survivors(marker).await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_memory_hog_is_stopped_and_reported_as_oom() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        // Writing the bytes (not just reserving them) makes the allocation count everywhere.
        let command = r#"python3 -c "b = b'x' * (1 << 30); print('allocated', len(b))""#;
        let outcome = run_audit(&dir, command, limits(128, 60, 64), &options(mode)).await.expect("run");
        let report = &outcome.report;

        assert!(report.oom, "{mode:?}: {report:?}");
        assert!(!report.passed && !report.timed_out, "{mode:?}: {report:?}");
        assert!(!text(&outcome.log).contains("allocated"), "{mode:?}");
    }
}

#[tokio::test]
async fn a_fork_bomb_hits_the_pids_cap_and_leaves_no_survivor() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        // dash runs the builtin `:` rather than a function of that name, so the bomb is named.
        let command = "bomb_c4f3() { bomb_c4f3 | bomb_c4f3; }; bomb_c4f3";
        let started = Instant::now();
        let outcome = run_audit(&dir, command, limits(256, 4, 32), &options(mode)).await.expect("run");
        let report = &outcome.report;

        assert!(!report.passed, "{mode:?}: {report:?}");
        assert!(started.elapsed() < Duration::from_secs(12), "{mode:?} took {:?}", started.elapsed());
        assert!(
            text(&outcome.log).contains("Cannot fork"),
            "{mode:?}: the cap never bit: {}",
            report.log_tail
        );
        assert_eq!(survivors("bomb_c4f3").await, Vec::<String>::new(), "{mode:?}");
        let healthy = tokio::process::Command::new("true").status().await.expect("spawn after the bomb");
        assert!(healthy.success());
    }
}

#[tokio::test]
async fn the_classic_background_fork_bomb_is_contained() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    // The bomb's orphans outlive the shell that started them; the run must still take them down.
    let command = "bash -c ':(){ :|:& };:'; sleep 3; echo still-here";
    let started = Instant::now();
    let outcome = run_audit(&dir, command, limits(256, 6, 32), &options(MODES[1])).await.expect("run");

    assert!(started.elapsed() < Duration::from_secs(14), "took {:?}", started.elapsed());
    assert!(
        text(&outcome.log).to_lowercase().contains("fork"),
        "the cap never bit: {}",
        outcome.report.log_tail
    );
    assert_eq!(survivors(":|:&").await, Vec::<String>::new());
    let healthy = tokio::process::Command::new("true").status().await.expect("spawn after the bomb");
    assert!(healthy.success());
}
