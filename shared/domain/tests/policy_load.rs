//! Loading policy.yaml: the real file loads with the documented limits, and a broken file is a
//! clear error rather than a gate that lets everything through.

use gantry_domain::policy::{Policy, PolicyError, DEFAULT_POLICY_YAML};
use gantry_domain::Stack;

/// A small but complete policy, edited by each test to break one thing.
const MINIMAL: &str = r#"
version: 1
allowed_stacks: [static]
limits: { max_files: 10, max_file_bytes: 1000, max_total_bytes: 5000 }
build: { memory_mb: 64, timeout_seconds: 5, max_pids: 32, max_heals: 1 }
forbidden_paths:
  - { id: path.dotenv, pattern: '(^|/)\.env$', description: env files }
forbidden_content:
  - { id: content.miner, pattern: 'xmrig', description: a miner }
secrets:
  - { id: secret.token, pattern: 'tok_[a-z]{8}', description: a token }
audit_command:
  forbidden_metacharacters: [";"]
  allowed:
    - { id: python_script, pattern: 'python3 audit\.py', description: python3 audit.py }
"#;

#[test]
fn the_real_policy_loads_with_the_documented_build_limits() {
    let policy = Policy::default_policy().expect("policy.yaml loads");
    assert_eq!(policy.build.memory_mb, 512);
    assert_eq!(policy.build.timeout_seconds, 180);
    assert_eq!(policy.build.max_pids, 256);
    assert_eq!(policy.max_heals, 3);
    assert_eq!(policy.limits.max_files, 200);
    assert_eq!(policy.limits.max_file_bytes, 512 * 1024);
    assert_eq!(policy.limits.max_total_bytes, 5 * 1024 * 1024);
    assert_eq!(policy.allowed_stacks(), &[Stack::Static, Stack::Node, Stack::Python]);
}

#[test]
fn the_embedded_policy_is_the_repository_file() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy.yaml"))
        .expect("policy.yaml at the repository root");
    assert_eq!(DEFAULT_POLICY_YAML, on_disk);
}

#[test]
fn the_minimal_policy_loads() {
    let policy = Policy::from_yaml(MINIMAL).expect("minimal policy loads");
    assert_eq!(policy.build.memory_mb, 64);
    assert_eq!(policy.max_heals, 1);
    assert_eq!(policy.rule_ids().collect::<Vec<_>>(), vec!["path.dotenv", "content.miner", "secret.token"]);
}

#[test]
fn malformed_yaml_is_a_yaml_error() {
    let error = Policy::from_yaml("version: [1\nlimits: {").unwrap_err();
    assert!(matches!(error, PolicyError::Yaml(_)), "{error:?}");
    assert!(error.to_string().starts_with("policy.yaml"), "{error}");
}

#[test]
fn a_missing_section_is_named() {
    let text = MINIMAL
        .replace("secrets:\n  - { id: secret.token, pattern: 'tok_[a-z]{8}', description: a token }\n", "");
    let error = Policy::from_yaml(&text).unwrap_err();
    assert!(error.to_string().contains("secrets"), "{error}");
}

#[test]
fn a_misspelt_key_is_refused_rather_than_ignored() {
    let text = MINIMAL.replace("max_files:", "max_filez:");
    let error = Policy::from_yaml(&text).unwrap_err();
    assert!(error.to_string().contains("max_filez"), "{error}");
}

#[test]
fn an_unknown_stack_is_refused() {
    let error = Policy::from_yaml(&MINIMAL.replace("[static]", "[static, cobol]")).unwrap_err();
    assert!(error.to_string().contains("cobol"), "{error}");
}

#[test]
fn an_invalid_regex_names_its_rule() {
    let text = MINIMAL.replace("pattern: 'xmrig'", "pattern: 'xmrig(('");
    match Policy::from_yaml(&text) {
        Err(PolicyError::Regex { rule, .. }) => assert_eq!(rule, "content.miner"),
        other => panic!("expected a regex error, got {other:?}"),
    }
    let text = MINIMAL.replace("pattern: 'python3 audit\\.py'", "pattern: 'python3 [audit'");
    let error = Policy::from_yaml(&text).unwrap_err();
    assert!(error.to_string().contains("audit_command.python_script"), "{error}");
}

#[test]
fn an_invalid_allow_regex_names_its_rule() {
    let text = MINIMAL.replace("description: env files", "description: env files, allow: '[z-a]'");
    match Policy::from_yaml(&text) {
        Err(PolicyError::Regex { rule, .. }) => assert_eq!(rule, "path.dotenv"),
        other => panic!("expected a regex error, got {other:?}"),
    }
}

#[test]
fn duplicate_rule_ids_are_refused() {
    let text = MINIMAL.replace("id: secret.token", "id: content.miner");
    let error = Policy::from_yaml(&text).unwrap_err();
    assert!(matches!(error, PolicyError::Invalid(_)), "{error:?}");
    assert!(error.to_string().contains("content.miner"), "{error}");
}

#[test]
fn zero_limits_are_refused() {
    for (from, to, named) in [
        ("memory_mb: 64", "memory_mb: 0", "build.memory_mb"),
        ("timeout_seconds: 5", "timeout_seconds: 0", "build.timeout_seconds"),
        ("max_files: 10", "max_files: 0", "limits.max_files"),
    ] {
        let error = Policy::from_yaml(&MINIMAL.replace(from, to)).unwrap_err();
        assert!(error.to_string().contains(named), "{error}");
    }
}

#[test]
fn an_unsupported_version_is_refused() {
    let error = Policy::from_yaml(&MINIMAL.replace("version: 1", "version: 2")).unwrap_err();
    assert!(error.to_string().contains("version 2"), "{error}");
}

#[test]
fn no_stacks_or_no_audit_forms_is_refused() {
    assert!(Policy::from_yaml(&MINIMAL.replace("[static]", "[]")).is_err());
    let no_forms = MINIMAL.replace(
        "  allowed:\n    - { id: python_script, pattern: 'python3 audit\\.py', description: python3 audit.py }\n",
        "  allowed: []\n",
    );
    assert!(matches!(Policy::from_yaml(&no_forms), Err(PolicyError::Invalid(_))));
}

#[test]
fn rule_ids_must_be_plain() {
    let error = Policy::from_yaml(&MINIMAL.replace("id: content.miner", "id: 'Content Miner'")).unwrap_err();
    assert!(matches!(error, PolicyError::Invalid(_)), "{error:?}");
}
