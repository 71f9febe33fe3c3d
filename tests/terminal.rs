//! Build output never reaches the operator's terminal raw: an audit that prints an OSC title,
//! a screen clear, a colour, a C1 CSI and a carriage return is shown as visible text by
//! `gantry build` and `gantry status --steps`, in their text and their JSON forms.

mod support;

use std::path::Path;

use serde_json::Value;

use support::gantry;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The repository's policy with no heals, so the one failing build ends the mission.
fn no_heal_policy(dir: &Path) -> String {
    let policy = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy.yaml"))
        .expect("policy.yaml");
    let policy = policy.replace("max_heals: 3", "max_heals: 0");
    assert!(policy.contains("max_heals: 0"), "the policy's max_heals line moved");
    let path = dir.join("policy.yaml");
    std::fs::write(&path, policy).expect("policy copy");
    path.to_string_lossy().into_owned()
}

/// Fails naming the first byte a terminal would obey: C0 controls but newline and tab, DEL,
/// and C1 controls (U+0080..=U+009F, which UTF-8 encodes as 0xC2 0x80..=0x9F).
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let raw = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t');
    assert_eq!(raw, None, "{what} printed a raw control character: {text:?}");
}

#[tokio::test]
async fn escape_sequences_from_a_build_are_printed_as_visible_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let policy = no_heal_policy(dir.path());
    let build = gantry(
        &data,
        &[
            "--policy-file",
            &policy,
            "build",
            "a page titled \u{1b}]0;pwned\u{7}",
            "--manifest",
            &fixture("escape-manifest.json"),
            "--no-deploy",
            "--no-publish",
        ],
    );
    assert_eq!(build.status.code(), Some(1), "the audit fails: {build:?}");
    assert_terminal_safe("gantry build (stdout)", &build.stdout);
    assert_terminal_safe("gantry build (stderr)", &build.stderr);
    let said = String::from_utf8_lossy(&build.stderr);
    assert!(said.contains("␛]0;title␇␛[2J␛[32mALL TESTS PASSED \\u{9b}2J done␍OK"), "{said}");
    let stdout = String::from_utf8_lossy(&build.stdout);
    assert!(stdout.contains("a page titled ␛]0;pwned␇"), "the title is shown, escaped: {stdout}");

    let id = stdout
        .lines()
        .find_map(|line| line.strip_prefix("mission"))
        .map(|rest| rest.trim().to_owned())
        .expect("the summary names the mission");
    let status = gantry(&data, &["status", &id, "--steps"]);
    assert!(status.status.success(), "{status:?}");
    assert_terminal_safe("gantry status --steps", &status.stdout);
    let timeline = String::from_utf8_lossy(&status.stdout);
    assert!(timeline.contains("␛[32mALL TESTS PASSED"), "{timeline}");

    let json = gantry(&data, &["status", &id, "--json"]);
    assert_terminal_safe("gantry status --json", &json.stdout);
    let view: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let detail = view["steps"].as_array().and_then(|steps| {
        steps.iter().find(|s| s["name"] == "build").and_then(|s| s["detail"].as_str().map(str::to_owned))
    });
    assert!(
        detail.is_some_and(|d| d.contains("\u{1b}]0;title\u{7}") && d.contains('\u{9b}')),
        "the JSON keeps the text itself, escaped as JSON: {view:#}"
    );
}
