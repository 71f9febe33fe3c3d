//! The memory cap holds for the whole build, not per process: memory spread over several
//! processes, shared between them, parked in a tmpfs or in TMPDIR, or held by processes that
//! left the audit's session all counts, and the build is killed and reported as out of memory.
//! Caps are small (128 MiB) to keep the tests light; every run is bounded by its timeout.

mod common;

use common::{bwrap_or_skip, limits, options, survivors, text, work, MODES};
use gantry_domain::report::BuildLimits;
use gantry_domain::BuildReport;
use gantry_sandbox::{run_audit, Isolation};

const CAP_MB: u64 = 128;

/// `python3 <name> MIB CHILDREN SECONDS`: forks CHILDREN processes that each write MIB MiB and
/// hold them SECONDS, then prints `all children ended` once they have.
const HOLD: &str = r#"import os, sys, time
mib, children, seconds = (int(arg) for arg in sys.argv[1:4])
for _ in range(children):
    if os.fork() == 0:
        data = b'\x01' * (mib << 20)
        print('child holds', len(data) >> 20, 'MiB', flush=True)
        time.sleep(seconds)
        os._exit(0)
for _ in range(children):
    os.wait()
print('all children ended', flush=True)
"#;

/// `python3 <name> MIB READERS`: one MAP_SHARED anonymous mapping of MIB MiB, every page written
/// by the parent and read by READERS forked children, which then hold it.
const SHARED: &str = r#"import mmap, os, sys, time
mib, readers = int(sys.argv[1]), int(sys.argv[2])
size = mib << 20
shared = mmap.mmap(-1, size, flags=mmap.MAP_SHARED)
for page in range(0, size, 4096):
    shared[page] = 1
for _ in range(readers):
    if os.fork() == 0:
        print('reader saw', sum(shared[page] for page in range(0, size, 4096)) >> 8, 'MiB', flush=True)
        time.sleep(30)
        os._exit(0)
for _ in range(readers):
    os.wait()
print('all readers ended', flush=True)
"#;

fn assert_killed_for_memory(report: &BuildReport, log: &str, context: &str) {
    assert!(report.oom && !report.passed && !report.timed_out, "{context}: {report:?}\n{log}");
    // The supervisor's line ("used N MiB, over its 128 MiB cap") or the cgroup's ("reached its").
    assert!(log.contains(&format!("its {CAP_MB} MiB cap")), "{context}: {log}");
    assert!(report.isolation.contains("supervisor"), "{context}: {}", report.isolation);
}

#[tokio::test]
async fn three_children_under_the_cap_each_are_killed_together() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[("hold_three.py", HOLD)]);
        // 3 × 100 MiB: each child alone is under the 128 MiB cap, together they are not.
        let command = "python3 hold_three.py 100 3 30";
        let outcome = run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert_killed_for_memory(&outcome.report, &log, &format!("{mode:?}"));
        assert!(!log.contains("all children ended"), "{mode:?}: {log}");
        assert_eq!(survivors("hold_three.py").await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_shared_mapping_read_by_forked_children_counts_once_and_is_killed() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[("shared_map.py", SHARED)]);
        // MAP_SHARED memory escapes RLIMIT_DATA entirely; 256 MiB is twice the cap.
        let command = "python3 shared_map.py 256 3";
        let outcome = run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert_killed_for_memory(&outcome.report, &log, &format!("{mode:?}"));
        assert!(!log.contains("all readers ended"), "{mode:?}: {log}");
        assert_eq!(survivors("shared_map.py").await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn bytes_written_to_tmpdir_count_against_the_cap() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let command = r#"head -c 300M /dev/zero > "$TMPDIR/fill"; echo wrote-all; sleep 30"#;
        let outcome = run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        // The supervisor samples, so a fast write may finish before it looks (see
        // docs/security-sandbox.md); what must hold is that the build is killed for it, not
        // left to run on holding the bytes.
        assert_killed_for_memory(&outcome.report, &log, &format!("{mode:?}"));
        assert!(outcome.report.duration_ms < 25_000, "{mode:?}: killed long before its sleep ended");
    }
}

#[tokio::test]
async fn the_sandbox_tmpfs_is_size_capped_and_what_it_holds_counts() {
    if !bwrap_or_skip().await {
        return;
    }
    // The rest of /dev is a tmpfs without a cap: it is read-only.
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    let command = "echo x > /dev/null && echo x > /dev/fill";
    let outcome =
        run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(Isolation::Bwrap)).await.expect("run");
    assert!(!outcome.report.passed, "{:?}", outcome.report);
    assert!(text(&outcome.log).contains("Read-only file system"), "{}", text(&outcome.log));

    for target in ["/tmp/fill", "/dev/shm/fill"] {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        // The tmpfs fills up at the cap (so `head` fails), and what it holds kills the build.
        let command = format!("head -c 300M /dev/zero > {target}; ls -l {target}; sleep 30");
        let outcome =
            run_audit(&dir, &command, limits(CAP_MB, 30, 64), &options(Isolation::Bwrap)).await.expect("run");
        let log = text(&outcome.log);

        assert_killed_for_memory(&outcome.report, &log, target);
        assert!(!log.contains("314572800"), "{target} took all 300 MiB: {log}");
    }
}

#[tokio::test]
async fn processes_that_left_the_session_are_counted_and_killed() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[("hold_setsid.py", HOLD)]);
        // Double fork and setsid: their parent is gone and they are in no group of the audit's.
        let command =
            "(setsid python3 hold_setsid.py 70 1 30 &); (setsid python3 hold_setsid.py 70 1 30 &); \
                       sleep 30";
        let outcome = run_audit(&dir, command, limits(CAP_MB, 20, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert_killed_for_memory(&outcome.report, &log, &format!("{mode:?}"));
        assert_eq!(survivors("hold_setsid.py").await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_process_that_left_the_session_does_not_outlive_a_passing_audit() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let marker = "31.7391";
        let command = format!("(setsid sleep {marker} &); echo started");
        let outcome = run_audit(&dir, &command, limits(CAP_MB, 20, 64), &options(mode)).await.expect("run");

        assert!(outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        assert_eq!(survivors(marker).await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_process_that_left_the_session_does_not_outlive_a_timeout() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let marker = "31.7392";
        let command = format!("(setsid sh -c 'sleep {marker} & sleep {marker}' &); sleep {marker}");
        let outcome = run_audit(&dir, &command, limits(CAP_MB, 2, 64), &options(mode)).await.expect("run");

        assert!(outcome.report.timed_out && !outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        assert_eq!(survivors(marker).await, Vec::<String>::new(), "{mode:?}");
    }
}

#[tokio::test]
async fn a_build_a_little_under_the_cap_passes() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[("hold_under.py", HOLD)]);
        // About 105 MiB of the 128 in all, interpreters and shells included, held for 20 samples.
        let command = r#"head -c 16M /dev/zero > "$TMPDIR/some" && python3 hold_under.py 40 2 2"#;
        let outcome = run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert!(outcome.report.passed && !outcome.report.oom, "{mode:?}: {:?}\n{log}", outcome.report);
        assert!(log.contains("all children ended"), "{mode:?}: {log}");
    }
}

#[tokio::test]
async fn a_tmpfs_the_audit_mounts_in_a_namespace_of_its_own_counts() {
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        // Where unprivileged user namespaces are allowed, the audit can mount a tmpfs of its own,
        // without any size cap; where they are not, there is nothing to count.
        let command =
            "mkdir m && unshare -rm sh -c 'mount -t tmpfs own m && head -c 300M /dev/zero > m/fill; \
                       sleep 30' || echo no-namespace";
        let outcome = run_audit(&dir, command, limits(CAP_MB, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        if log.contains("no-namespace") {
            assert!(!outcome.report.oom, "{mode:?}: {log}");
            println!("{mode:?}: user namespaces are refused here: {log}");
        } else {
            assert_killed_for_memory(&outcome.report, &log, &format!("{mode:?}"));
        }
    }
}

#[tokio::test]
async fn the_default_512_mib_cap_holds_for_three_400_mib_children() {
    // The reported case, at the real default: 1.2 GiB across three processes that each pass
    // a per-process limit of 512 MiB.
    let defaults = BuildLimits { timeout_seconds: 30, ..BuildLimits::default() };
    assert_eq!(defaults.memory_mb, 512);
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[("hold_default.py", HOLD)]);
        let outcome =
            run_audit(&dir, "python3 hold_default.py 400 3 30", defaults, &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert!(outcome.report.oom && !outcome.report.passed && !outcome.report.timed_out, "{mode:?}: {log}");
        assert!(log.contains("its 512 MiB cap"), "{mode:?}: {log}");
        assert_eq!(survivors("hold_default.py").await, Vec::<String>::new(), "{mode:?}");
    }
}
