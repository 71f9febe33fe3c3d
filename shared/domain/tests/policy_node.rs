//! The gate's node rules, which come from the curated dependency set: each with a manifest that
//! breaks it and a clean one, each violation naming its package or script, and only a dependency
//! outside the set or a range it cannot meet counted as repairable.

use std::collections::BTreeSet;

use gantry_domain::node::{self, lock_for};
use gantry_domain::policy::{Policy, PolicyVerdict, Violation};
use gantry_domain::{GantryManifest, ManifestFile, Stack};

fn policy() -> Policy {
    Policy::default_policy().expect("the embedded policy.yaml loads")
}

/// The React + Vite + TypeScript tally app: everything it uses is in the set.
fn package_json(dependencies: &str, dev_dependencies: &str, scripts: &str) -> String {
    format!(
        r#"{{
  "name": "tally",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {{ "build": "tsc --noEmit && vite build", "test": "vitest run"{scripts} }},
  "dependencies": {{ "react": "^19", "react-dom": "^19"{dependencies} }},
  "devDependencies": {{
    "@testing-library/react": "^16",
    "@testing-library/user-event": "^14",
    "@types/react": "^19",
    "@types/react-dom": "^19",
    "@vitejs/plugin-react": "^6",
    "jsdom": "^29",
    "typescript": "^5",
    "vite": "^8",
    "vitest": "^4"{dev_dependencies}
  }}
}}
"#
    )
}

fn clean_package_json() -> String {
    package_json("", "", "")
}

fn node_manifest(files: Vec<(&str, String)>) -> GantryManifest {
    GantryManifest {
        project_name: "tally".to_owned(),
        stack: Stack::Node,
        files: files
            .into_iter()
            .map(|(path, content)| ManifestFile { path: path.to_owned(), content })
            .chain([ManifestFile {
                path: "src/App.tsx".to_owned(),
                content: "export function App() { return <button>+1</button>; }\n".to_owned(),
            }])
            .collect(),
        audit_command: "npm run build && npm test".to_owned(),
        run_command: None,
        output_dir: Some("dist".to_owned()),
    }
}

fn with_package_json(content: String) -> GantryManifest {
    node_manifest(vec![("package.json", content)])
}

fn only(verdict: &PolicyVerdict, rule: &str) -> Vec<Violation> {
    verdict.violations.iter().filter(|v| v.rule == rule).cloned().collect()
}

fn assert_clean(manifest: &GantryManifest) {
    let verdict = policy().evaluate(manifest);
    assert!(verdict.allowed, "{:?}", verdict.violations);
    assert!(!verdict.repairable);
}

#[test]
fn the_clean_app_passes_with_and_without_the_lock_gantry_writes() {
    assert_clean(&with_package_json(clean_package_json()));
    let lock = lock_for(&clean_package_json()).expect("the set holds the app's dependencies");
    assert_clean(&node_manifest(vec![("package.json", clean_package_json()), ("package-lock.json", lock)]));
}

#[test]
fn package_json_must_be_there_and_readable() {
    let missing = policy().evaluate(&node_manifest(Vec::new()));
    assert_eq!(only(&missing, "node.package_json").len(), 1, "{:?}", missing.violations);
    assert!(!missing.repairable);

    for (broken, names) in [
        ("{ \"dependencies\": ", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ("{\"dependencies\": [\"react\"]}", "`dependencies`"),
        ("{\"devDependencies\": {\"vite\": 8}}", "`devDependencies.vite`"),
    ] {
        let verdict = policy().evaluate(&with_package_json(broken.to_owned()));
        let found = only(&verdict, "node.package_json");
        assert_eq!(found.len(), 1, "{broken}: {:?}", verdict.violations);
        assert!(found[0].message.contains(names), "{}", found[0].message);
        assert!(!verdict.repairable);
    }
    assert_clean(&with_package_json(clean_package_json()));
}

#[test]
fn a_dependency_outside_the_set_is_named_repairable_and_offered_an_alternative() {
    let manifest = with_package_json(package_json(", \"moment\": \"^2.30.0\"", ", \"left-pad\": \"^1\"", ""));
    let verdict = policy().evaluate(&manifest);
    let found = only(&verdict, "node.outside_set");
    assert_eq!(found.len(), 2, "{:?}", verdict.violations);
    assert!(found[0].message.starts_with("`moment` (dependencies)"), "{}", found[0].message);
    assert!(found[0].message.contains("it has date-fns"), "{}", found[0].message);
    assert!(found[0].message.contains("the set holds: "), "{}", found[0].message);
    assert!(found[0].message.contains("react-dom"), "{}", found[0].message);
    assert!(found[1].message.starts_with("`left-pad` (devDependencies)"), "{}", found[1].message);
    assert_eq!(found[0].file.as_deref(), Some("package.json"));
    assert_eq!(found[0].line, Some(7));
    assert!(found.iter().all(|v| v.repairable));
    assert!(!verdict.allowed && verdict.repairable);

    // A package only in the set's tree, not offered by it, is outside too.
    let transitive = policy().evaluate(&with_package_json(package_json(", \"scheduler\": \"*\"", "", "")));
    assert_eq!(only(&transitive, "node.outside_set").len(), 1);
    assert_clean(&with_package_json(package_json(", \"date-fns\": \"^4\"", "", "")));
}

#[test]
fn a_range_the_set_cannot_meet_is_named_with_the_sets_version() {
    let react_dom = node::set().offered("react-dom").expect("offered").version.clone();
    let manifest = with_package_json(
        clean_package_json().replace("\"react-dom\": \"^19\"", "\"react-dom\": \"^18.2.0\""),
    );
    let verdict = policy().evaluate(&manifest);
    let found = only(&verdict, "node.version_unsatisfied");
    assert_eq!(found.len(), 1, "{:?}", verdict.violations);
    assert!(found[0].message.contains("`react-dom@^18.2.0`"), "{}", found[0].message);
    assert!(found[0].message.contains(&format!("react-dom@{react_dom}")), "{}", found[0].message);
    assert!(found[0].repairable && verdict.repairable);

    let tag = with_package_json(clean_package_json().replace("\"vite\": \"^8\"", "\"vite\": \"beta\""));
    assert_eq!(only(&policy().evaluate(&tag), "node.version_unsatisfied").len(), 1);
    for ok in [
        "\"react-dom\": \"latest\"",
        "\"react-dom\": \"*\"",
        "\"react-dom\": \">=18 <20\"",
        "\"react-dom\": \"18 || 19\"",
    ] {
        assert_clean(&with_package_json(clean_package_json().replace("\"react-dom\": \"^19\"", ok)));
    }
}

#[test]
fn specifiers_that_fetch_from_elsewhere_are_refused_and_not_repairable() {
    for spec in [
        "file:../react",
        "link:../react",
        "git+https://github.com/facebook/react.git",
        "github:facebook/react",
        "facebook/react",
        "https://example.com/react.tgz",
        "npm:preact@10",
        "workspace:*",
    ] {
        let manifest = with_package_json(
            clean_package_json().replace("\"react\": \"^19\"", &format!("\"react\": \"{spec}\"")),
        );
        let verdict = policy().evaluate(&manifest);
        let found = only(&verdict, "node.specifier");
        assert_eq!(found.len(), 1, "{spec}: {:?}", verdict.violations);
        assert!(found[0].message.starts_with("`react` (dependencies)"), "{}", found[0].message);
        assert!(!verdict.repairable, "{spec}");
    }
    assert_clean(&with_package_json(
        clean_package_json().replace("\"react\": \"^19\"", "\"react\": \"~19.0.0 || ^19.1\""),
    ));
}

#[test]
fn install_scripts_are_refused_by_name() {
    for script in ["preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"] {
        let manifest = with_package_json(package_json("", "", &format!(", \"{script}\": \"node setup.js\"")));
        let verdict = policy().evaluate(&manifest);
        let found = only(&verdict, "node.install_script");
        assert_eq!(found.len(), 1, "{script}: {:?}", verdict.violations);
        assert!(found[0].message.contains(&format!("`{script}`")), "{}", found[0].message);
        assert!(!verdict.repairable);
    }
    // Other script names are the app's own business.
    assert_clean(&with_package_json(package_json(
        "",
        "",
        ", \"preview\": \"vite preview\", \"lint\": \"tsc\"",
    )));
}

#[test]
fn a_shipped_lock_must_be_the_sets() {
    let clean = clean_package_json();
    let lock = lock_for(&clean).expect("lock");
    let refused = |lock: String| {
        let verdict = policy()
            .evaluate(&node_manifest(vec![("package.json", clean.clone()), ("package-lock.json", lock)]));
        assert!(!verdict.repairable);
        only(&verdict, "node.lockfile_mismatch")
    };

    assert!(refused("not json".to_owned())[0].message.contains("not JSON"));
    assert!(refused(lock.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": 1"))[0]
        .message
        .contains("lockfileVersion 2 or 3"));

    let mut value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let integrity = value["packages"]["node_modules/scheduler"]["integrity"].as_str().unwrap().to_owned();
    value["packages"]["node_modules/scheduler"]["integrity"] =
        format!("{}AAAA", &integrity[..integrity.len() - 4]).into();
    let tampered = refused(serde_json::to_string_pretty(&value).unwrap());
    assert_eq!(tampered.len(), 1);
    assert!(tampered[0].message.starts_with("`scheduler@"), "{}", tampered[0].message);

    let mut value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    value["packages"]["node_modules/left-pad"] = serde_json::json!({"version": "1.3.0", "resolved": "https://registry.example/left-pad/-/left-pad-1.3.0.tgz"});
    let foreign = refused(serde_json::to_string_pretty(&value).unwrap());
    assert!(foreign[0].message.contains("does not hold `left-pad@1.3.0`"), "{}", foreign[0].message);

    let mut value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    for resolved in [
        "https://example.com/scheduler.tgz",
        "https://registry.example/scheduler/-/scheduler-0.0.1.tgz",
        "http://registry.example/scheduler/-/scheduler-{v}.tgz",
    ] {
        let version = value["packages"]["node_modules/scheduler"]["version"].as_str().unwrap().to_owned();
        value["packages"]["node_modules/scheduler"]["resolved"] = resolved.replace("{v}", &version).into();
        let found = refused(serde_json::to_string_pretty(&value).unwrap());
        assert!(found[0].message.starts_with("`scheduler@"), "{resolved}: {found:?}");
    }

    let mut value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    value["packages"][""]["dependencies"]["react-dom"] = "^18".into();
    assert!(refused(serde_json::to_string_pretty(&value).unwrap())[0].message.contains("`react-dom`"));

    // A registry's tarball URL of the set's version is what npm writes: it matches.
    let mut value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let scheduler = value["packages"]["node_modules/scheduler"]["version"].as_str().unwrap().to_owned();
    value["packages"]["node_modules/scheduler"]["resolved"] =
        format!("https://registry.example/scheduler/-/scheduler-{scheduler}.tgz").into();
    assert_clean(&node_manifest(vec![
        ("package.json", clean.clone()),
        ("package-lock.json", serde_json::to_string_pretty(&value).unwrap()),
    ]));
}

#[test]
fn a_lock_entry_with_an_install_script_is_refused_by_name() {
    let clean = clean_package_json();
    let mut value: serde_json::Value = serde_json::from_str(&lock_for(&clean).unwrap()).unwrap();
    value["packages"]["node_modules/scheduler"]["hasInstallScript"] = true.into();
    let verdict = policy().evaluate(&node_manifest(vec![
        ("package.json", clean),
        ("package-lock.json", serde_json::to_string_pretty(&value).unwrap()),
    ]));
    let found = only(&verdict, "node.install_script");
    assert_eq!(found.len(), 1, "{:?}", verdict.violations);
    assert!(found[0].message.contains("`scheduler`"));
}

#[test]
fn node_modules_may_not_be_shipped() {
    let mut manifest = with_package_json(clean_package_json());
    manifest
        .files
        .push(ManifestFile { path: "node_modules/react/index.js".to_owned(), content: String::new() });
    let verdict = policy().evaluate(&manifest);
    assert_eq!(only(&verdict, "path.node_modules").len(), 1);
    assert!(!verdict.repairable);
}

#[test]
fn a_repairable_violation_with_any_other_is_not_repairable() {
    let mut manifest = with_package_json(package_json(", \"left-pad\": \"^1\"", "", ""));
    manifest.files.push(ManifestFile { path: "scripts/x.sh".to_owned(), content: "rm -rf /\n".to_owned() });
    let verdict = policy().evaluate(&manifest);
    assert!(!verdict.allowed);
    assert!(verdict.violations.iter().any(|v| v.repairable));
    assert!(!verdict.repairable);
}

#[test]
fn node_rules_apply_to_node_manifests_only() {
    let mut manifest = with_package_json(package_json(", \"left-pad\": \"^1\"", "", ""));
    manifest.stack = Stack::Static;
    manifest.audit_command = "python3 audit.py".to_owned();
    assert_clean(&manifest);
}

#[test]
fn every_node_rule_has_an_example_here_and_is_listed() {
    let listed: BTreeSet<&str> = Policy::node_rule_ids().iter().copied().collect();
    let tested: BTreeSet<&str> = [
        "node.package_json",
        "node.outside_set",
        "node.version_unsatisfied",
        "node.specifier",
        "node.install_script",
        "node.lockfile_mismatch",
    ]
    .into_iter()
    .collect();
    assert_eq!(listed, tested);
}

#[test]
fn the_verdict_carries_repairable() {
    let verdict = policy().evaluate(&with_package_json(package_json(", \"left-pad\": \"^1\"", "", "")));
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["repairable"], true);
    assert_eq!(json["violations"][0]["repairable"], true);
    let clean = serde_json::to_value(policy().evaluate(&with_package_json(clean_package_json()))).unwrap();
    assert_eq!(clean["repairable"], false);
}

#[test]
fn a_lock_of_every_offered_package_passes_every_rule() {
    // The set's hashes and names must not trip a content or secret rule.
    let dependencies: Vec<String> =
        node::set().offered_names().map(|name| format!("\"{name}\": \"*\"")).collect();
    let package_json =
        format!("{{\"name\": \"everything\", \"dependencies\": {{ {} }}}}", dependencies.join(", "));
    let lock = lock_for(&package_json).expect("the set serves its own packages");
    let lock_value: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let set_lock: serde_json::Value = serde_json::from_str(node::SET_LOCK).unwrap();
    assert_eq!(
        lock_value["packages"].as_object().unwrap().len(),
        set_lock["packages"].as_object().unwrap().len(),
        "every package of the set is reachable from what it offers"
    );
    assert_clean(&node_manifest(vec![("package.json", package_json), ("package-lock.json", lock)]));
}
