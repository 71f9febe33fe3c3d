//! What an audit cannot see or reach: the server's secrets, the network, the host's files.

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{bwrap_or_skip, limits, options, text, work, MODES};
use gantry_sandbox::{run_audit, Isolation};

const SECRET_VAR: &str = "GANTRY_TEST_SECRET";

/// `/proc/<pid>/environ` shows the environment a process was started with, so the secret has
/// to be there at exec: the test runs itself again with the secret set, and the inner run
/// makes the assertions.
#[tokio::test]
async fn the_servers_secrets_are_invisible_to_the_audit() {
    let Ok(secret) = std::env::var(SECRET_VAR) else {
        let exe = std::env::current_exe().expect("test binary");
        let output = Command::new(exe)
            .args(["--exact", "the_servers_secrets_are_invisible_to_the_audit", "--nocapture"])
            .env(SECRET_VAR, format!("s3cr3t-{}-value", std::process::id()))
            .output()
            .expect("re-run the test with a secret");
        let report = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "{report}");
        assert!(report.contains("1 passed"), "the inner run did not run: {report}");
        return;
    };
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = work(root.path(), "w", &[]);
        let command = "env; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\" 2>/dev/null \
                       | sed 's/^/ENVIRON:/'; done; true";
        let outcome = run_audit(&dir, command, limits(256, 30, 64), &options(mode)).await.expect("run");
        let log = text(&outcome.log);

        assert!(outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        // The probe works: it reads the environment of the audit's own processes.
        assert!(log.contains("ENVIRON:CI=true"), "{mode:?}: {log}");
        assert!(!log.contains(&secret), "{mode:?} leaked the secret: {log}");
        assert!(!log.contains(SECRET_VAR), "{mode:?} leaked the variable: {log}");
    }
}

#[tokio::test]
async fn the_audit_cannot_reach_a_server_on_loopback() {
    let script = |port: u16| {
        format!(
            "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); \
             print('connected-to-host')\""
        )
    };
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);
    // Control: a plain child that keeps the server's uid keeps its network too, so the checks
    // below can fail.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let mut same_uid = options(Isolation::Process);
    same_uid.sandbox_user = None;
    let plain = run_audit(&dir, &script(port), limits(256, 30, 64), &same_uid).await.expect("run");
    assert!(plain.report.passed && text(&plain.log).contains("connected-to-host"), "{:?}", plain.report);

    // SAFETY: geteuid cannot fail.
    let root_server = unsafe { libc::geteuid() } == 0;
    let mut isolated = Vec::new();
    // A root server gives even a plain child a network namespace of its own.
    if root_server {
        isolated.push(Isolation::Process);
    }
    if bwrap_or_skip().await {
        isolated.push(Isolation::Bwrap);
    }
    for mode in isolated {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let outcome = run_audit(&dir, &script(port), limits(256, 30, 64), &options(mode)).await.expect("run");

        assert!(!outcome.report.passed, "{mode:?}: {:?}", outcome.report);
        assert!(!text(&outcome.log).contains("connected-to-host"), "{mode:?}");
        assert_eq!(listener.accept().err().map(|e| e.kind()), Some(ErrorKind::WouldBlock), "{mode:?}");
    }
}

#[tokio::test]
async fn the_audit_cannot_read_host_files_outside_its_work_dir() {
    let outside = std::env::temp_dir().join(format!("gantry-outside-{}.txt", std::process::id()));
    std::fs::write(&outside, "HOST-ONLY-CONTENT").expect("outside file");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let command = format!("cat {}", outside.display());
    let root = tempfile::tempdir().expect("tempdir");
    let dir = work(root.path(), "w", &[]);

    // Control: the file is world-readable, so a plain child process reads it.
    let plain = run_audit(&dir, &command, limits(256, 30, 64), &options(Isolation::Process)).await;
    let plain_read = plain.map(|o| text(&o.log).contains("HOST-ONLY-CONTENT")).unwrap_or(false);

    let mut sandboxed = None;
    if bwrap_or_skip().await {
        // Host paths that must not exist inside (except on the way to the work dir itself).
        let hidden: Vec<String> = ["/home", "/root", "/work", "/etc/shadow", "/etc/hostname"]
            .into_iter()
            .filter(|path| !dir.starts_with(path))
            .map(|path| format!("test ! -e {path}"))
            .collect();
        let hidden = hidden.join(" && ");
        let outcome = run_audit(
            &dir,
            &format!("{command}; {hidden} && echo host-hidden"),
            limits(256, 30, 64),
            &options(Isolation::Bwrap),
        )
        .await
        .expect("run");
        sandboxed = Some(text(&outcome.log));
    }
    std::fs::remove_file(&outside).ok();

    assert!(plain_read, "the control could not read the file");
    if let Some(log) = sandboxed {
        assert!(!log.contains("HOST-ONLY-CONTENT"), "{log}");
        assert!(log.contains("host-hidden"), "{log}");
    }
}
