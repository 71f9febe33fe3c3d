//! Node builds: the fixture React + Vite + TypeScript app (tests/fixtures/react-app) built and
//! tested through the real sandbox with the curated set, read-only and offline.
//!
//! The set must be fetched first (`tests/run.sh` does: `gantry deps fetch` with
//! `GANTRY_NODE_DEPS=$HOME/.cache/gantry/node-deps`); these tests never download anything.

mod common;

use std::path::{Path, PathBuf};

use common::{bwrap_or_skip, limits, options, survivors, text, MODES};
use gantry_domain::{GantryManifest, ManifestFile, MissionId, Stack};
use gantry_ports::{BuildJob, BuildRunner, PortError};
use gantry_sandbox::{link_node_modules, run_audit, Isolation, LocalBuildRunner, NodeDeps};

/// The fetched set, or a failure saying how to fetch it: a missing set must not pass quietly.
fn node_deps() -> NodeDeps {
    let root = std::env::var_os("GANTRY_NODE_DEPS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gantry/node-deps")
    });
    let deps = NodeDeps::new(root);
    assert!(
        deps.is_fetched(),
        "the node set {} is not in {}: run `GANTRY_NODE_DEPS={} gantry deps fetch` (tests/run.sh does)",
        deps.id(),
        deps.root().display(),
        deps.root().display()
    );
    deps
}

fn fixture() -> Vec<ManifestFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/react-app");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(&root).expect("inside").to_string_lossy().into_owned();
                files.push(ManifestFile {
                    path: relative,
                    content: std::fs::read_to_string(&path).expect("read"),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn node_manifest(files: Vec<ManifestFile>, audit_command: &str) -> GantryManifest {
    GantryManifest {
        project_name: "tally".to_owned(),
        stack: Stack::Node,
        files,
        audit_command: audit_command.to_owned(),
        run_command: None,
        output_dir: Some("dist".to_owned()),
    }
}

fn job(manifest: GantryManifest, timeout_seconds: u64) -> BuildJob {
    BuildJob {
        mission: MissionId::generate(),
        attempt: 1,
        manifest,
        design_image: None,
        limits: limits(512, timeout_seconds, 256),
    }
}

#[tokio::test]
async fn the_fixture_app_builds_and_its_component_tests_pass_offline() {
    let deps = node_deps();
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let runner = LocalBuildRunner::new(root.path().join("work"))
            .with_options(options(mode))
            .with_node_deps(deps.clone());
        let manifest = node_manifest(fixture(), "npm run build && npm test");
        let outcome = runner.run(&job(manifest, 180)).await.expect("run");
        let log = text(&outcome.log);
        assert!(outcome.report.passed, "{mode:?}: {}", outcome.report.log_tail);
        assert!(log.contains("built in"), "vite built: {log}");
        assert!(log.contains("Tests  2 passed") || log.contains("2 passed"), "vitest ran both tests: {log}");
        assert!(log.contains("installed from the curated set"), "{log}");
        let paths: Vec<&str> = outcome.output.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.contains(&"index.html"), "{paths:?}");
        let script = outcome.output.iter().find(|f| f.path.starts_with("assets/") && f.path.ends_with(".js"));
        let script = script.unwrap_or_else(|| panic!("no bundle in {paths:?}"));
        assert!(String::from_utf8_lossy(&script.bytes).contains("Add one"), "the bundle holds the app");
        assert!(!paths.iter().any(|p| p.contains("node_modules")), "{paths:?}");
        let reported = outcome.report.output.as_ref().expect("the report names the output");
        assert_eq!((reported.dir.as_str(), reported.files), ("dist", outcome.output.len()));
        assert_eq!(reported.bytes, outcome.output.iter().map(|f| f.bytes.len() as u64).sum::<u64>());
        let install = outcome.report.install.as_ref().expect("the report says how it installed");
        assert_eq!(install.set, deps.id());
        assert!(install.packages > 100, "{install:?}");
    }
}

#[tokio::test]
async fn a_node_build_without_the_set_fails_before_it_starts_and_says_how_to_fetch_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().join("work"))
        .with_node_deps(NodeDeps::new(root.path().join("empty")));
    let error = runner.run(&job(node_manifest(fixture(), "npm test"), 60)).await.expect_err("no set");
    assert!(matches!(&error, PortError::Failed(m) if m.contains("gantry deps fetch")), "{error}");
}

/// A work dir with the fixture and the set linked, ready for `run_audit`.
fn linked_work(root: &Path, deps: &NodeDeps) -> PathBuf {
    let dir = root.join("w");
    gantry_sandbox::materialise(&dir, &node_manifest(fixture(), "true"), None).expect("materialise");
    link_node_modules(&dir, &deps.dir()).expect("link");
    dir
}

#[tokio::test]
async fn npm_install_of_an_unknown_package_fails_inside_the_sandbox_without_waiting() {
    let deps = node_deps();
    if !bwrap_or_skip().await {
        return;
    }
    for mode in [Isolation::Auto, Isolation::Process] {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = linked_work(root.path(), &deps);
        let sandbox = options(mode).with_deps(deps.dir());
        // npm is told it is offline; and with that overridden, there is no network to reach.
        let installs = [
            ("npm install left-pad", &["ENOTCACHED"][..]),
            (
                "npm install --offline=false --prefer-online left-pad",
                &["EAI_AGAIN", "ENOTFOUND", "ENETUNREACH", "ECONNREFUSED"][..],
            ),
        ];
        for (install, errors) in installs {
            // In a dir of its own: the fixture's tree is not what is being tested.
            let command = format!("mkdir -p fresh && cd fresh && echo {{}} > package.json && {install}");
            let outcome = run_audit(&dir, &command, limits(512, 60, 256), &sandbox).await.expect("run");
            let log = text(&outcome.log);
            assert!(!outcome.report.passed, "{mode:?} {command}: {log}");
            assert!(!outcome.report.timed_out, "{mode:?} {command}: failed only at the 60 s limit: {log}");
            assert!(errors.iter().any(|e| log.contains(e)), "{mode:?} {command}: {log}");
        }
        let probe = "node -e \"require('net').connect(443, '104.16.0.34').on('connect', () => process.exit(0)).on('error', e => { console.log('no network:', e.code); process.exit(7) })\"";
        let outcome = run_audit(&dir, probe, limits(512, 60, 256), &sandbox).await.expect("run");
        assert_eq!(outcome.report.exit_code, Some(7), "{mode:?}: {}", text(&outcome.log));
        assert!(!dir.join("node_modules/left-pad").exists());
    }
}

#[tokio::test]
async fn a_node_build_cannot_write_the_shared_set() {
    let deps = node_deps();
    let react = deps.dir().join("node_modules/react/package.json");
    let before = std::fs::read(&react).expect("react in the set");
    for mode in MODES {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = linked_work(root.path(), &deps);
        let sandbox = options(mode).with_deps(deps.dir());
        let attempts = [
            "echo x >> node_modules/react/package.json",
            "echo x >> .gantry-deps/node_modules/react/package.json",
            "mkdir .gantry-deps/node_modules/evil",
            "rm -rf node_modules/react/",
            "chmod 777 .gantry-deps/node_modules/react",
        ];
        for attempt in attempts {
            let outcome = run_audit(&dir, attempt, limits(256, 30, 64), &sandbox).await.expect("run");
            assert!(!outcome.report.passed, "{mode:?}: `{attempt}` succeeded: {}", text(&outcome.log));
        }
        // Its own node_modules stays writable: Vite and Vitest keep caches there.
        let outcome = run_audit(
            &dir,
            "mkdir node_modules/.vite && test -d node_modules/.vite",
            limits(256, 30, 64),
            &sandbox,
        )
        .await
        .expect("run");
        assert!(outcome.report.passed, "{mode:?}: {}", text(&outcome.log));
    }
    assert_eq!(std::fs::read(&react).expect("still there"), before);
    assert!(!deps.dir().join("node_modules/evil").exists());
}

#[tokio::test]
async fn a_node_build_that_hangs_is_killed_at_the_time_limit() {
    let deps = node_deps();
    let marker = format!("gantry-hang-{}", std::process::id());
    let mut files = fixture();
    for file in files.iter_mut().filter(|f| f.path == "package.json") {
        file.content =
            file.content.replace("\"test\": \"vitest run\"", &format!("\"test\": \"node hang.js {marker}\""));
    }
    files.push(ManifestFile { path: "hang.js".into(), content: "setInterval(() => {}, 1000)\n".into() });
    let root = tempfile::tempdir().expect("tempdir");
    let runner = LocalBuildRunner::new(root.path().join("work")).with_node_deps(deps);
    let outcome = runner.run(&job(node_manifest(files, "npm test"), 5)).await.expect("run");
    assert!(outcome.report.timed_out && !outcome.report.passed, "{:?}", outcome.report);
    assert!(text(&outcome.log).contains("timed out after 5 s"), "{}", text(&outcome.log));
    assert!(survivors(&marker).await.is_empty(), "the hung node process was killed");
}
