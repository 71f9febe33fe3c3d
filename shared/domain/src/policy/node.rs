//! The gate's rules for a `node` manifest. They are not in policy.yaml: they come from the curated
//! dependency set (`crate::node`), which is what every node build installs. Each violation names
//! the package or script it is about, so a person or a heal knows what to change.

use serde_json::Value;

use crate::manifest::{GantryManifest, ManifestFile};
use crate::node::{self, AppPackage, NodeSet, Shortfall};

use super::rules::line_at;
use super::{Collector, Violation};

pub(super) const PACKAGE_JSON: &str = "node.package_json";
pub(super) const OUTSIDE_SET: &str = "node.outside_set";
pub(super) const VERSION_UNSATISFIED: &str = "node.version_unsatisfied";
pub(super) const SPECIFIER: &str = "node.specifier";
pub(super) const INSTALL_SCRIPT: &str = "node.install_script";
pub(super) const LOCKFILE_MISMATCH: &str = "node.lockfile_mismatch";

pub(super) const RULE_IDS: [&str; 6] =
    [PACKAGE_JSON, OUTSIDE_SET, VERSION_UNSATISFIED, SPECIFIER, INSTALL_SCRIPT, LOCKFILE_MISMATCH];

const PACKAGE_FILE: &str = node::PACKAGE_JSON_PATH;
const LOCK_FILE: &str = node::LOCK_PATH;

/// Popular packages outside the set, and what the set offers for the same purpose.
const SIMILAR: [(&[&str], &str); 9] = [
    (&["react-router-dom", "@tanstack/react-router", "wouter"], "react-router"),
    (&["moment", "dayjs", "luxon"], "date-fns"),
    (&["chart.js", "react-chartjs-2", "d3", "victory", "nivo", "@nivo/core"], "recharts"),
    (&["redux", "@reduxjs/toolkit", "react-redux", "jotai", "mobx", "recoil", "valtio"], "zustand"),
    (&["classnames"], "clsx"),
    (&["react-icons", "@heroicons/react", "@fortawesome/react-fontawesome", "lucide"], "lucide-react"),
    (&["jest", "mocha", "@jest/globals"], "vitest"),
    (&["happy-dom", "jsdom-global"], "jsdom"),
    (&["webpack", "parcel", "react-scripts", "esbuild"], "vite"),
];

pub(super) fn check(set: &NodeSet, manifest: &GantryManifest, out: &mut Collector) {
    let at_root = |name: &str| node::root_file(manifest, name);
    let app = match at_root(PACKAGE_FILE) {
        None => {
            out.push(violation(
                PACKAGE_JSON,
                PACKAGE_FILE,
                None,
                "a node app needs package.json at its root".to_owned(),
            ));
            None
        }
        Some(file) => check_package_json(set, file, out),
    };
    if let Some(lock) = at_root(LOCK_FILE) {
        check_lock(set, lock, app.as_ref(), out);
    }
}

fn violation(rule: &str, file: &str, line: Option<u32>, message: String) -> Violation {
    let repairable = rule == OUTSIDE_SET || rule == VERSION_UNSATISFIED;
    Violation { rule: rule.to_owned(), file: Some(file.to_owned()), line, message, repairable }
}

/// The line of the first `"key":` in a JSON text, if it is there.
fn line_of_key(text: &str, key: &str) -> Option<u32> {
    let quoted = format!("\"{key}\"");
    let mut from = 0;
    while let Some(at) = text[from..].find(&quoted) {
        let start = from + at;
        let after = &text[start + quoted.len()..];
        if after.trim_start().starts_with(':') {
            return Some(line_at(text, start));
        }
        from = start + quoted.len();
    }
    None
}

fn check_package_json(set: &NodeSet, file: &ManifestFile, out: &mut Collector) -> Option<AppPackage> {
    let app = match AppPackage::parse(&file.content) {
        Ok(app) => app,
        Err(e) => {
            out.push(violation(PACKAGE_JSON, &file.path, None, e.to_string()));
            return None;
        }
    };
    for dependency in &app.dependencies {
        let Some(shortfall) = node::check(set, &dependency.name, &dependency.spec) else {
            continue;
        };
        let (name, spec, section) = (&dependency.name, &dependency.spec, dependency.section);
        let (rule, message) = match shortfall {
            Shortfall::Specifier(kind) => (
                SPECIFIER,
                format!(
                    "`{name}` ({section}) is `{spec}`, {kind}; a build installs only the curated set, so give it a version range"
                ),
            ),
            Shortfall::OutsideSet => (OUTSIDE_SET, outside_set_message(set, name, section)),
            Shortfall::Unsatisfied { set_version } => (
                VERSION_UNSATISFIED,
                format!(
                    "`{name}@{spec}` ({section}) cannot be met: the curated set holds {name}@{set_version}; use `{}`",
                    node::range_for(&set_version)
                ),
            ),
        };
        out.push(violation(rule, &file.path, line_of_key(&file.content, name), message));
    }
    for script in app.install_scripts() {
        out.push(violation(
            INSTALL_SCRIPT,
            &file.path,
            line_of_key(&file.content, script),
            format!("the `{script}` script would run at install time; install scripts are not allowed"),
        ));
    }
    Some(app)
}

fn outside_set_message(set: &NodeSet, name: &str, section: &str) -> String {
    let offered: Vec<&str> = set.offered_names().collect();
    let instead = SIMILAR
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, instead)| format!(" (for the same purpose it has {instead})"))
        .unwrap_or_default();
    format!(
        "`{name}` ({section}) is not in the curated dependency set{instead}; the set holds: {}",
        offered.join(", ")
    )
}

/// A shipped lock must be one npm would write from the set: every entry the set's own, byte for
/// byte in what identifies it (version, integrity, resolved), and its root in step with
/// package.json. Gantry writes the lock itself when a manifest has none.
fn check_lock(set: &NodeSet, file: &ManifestFile, app: Option<&AppPackage>, out: &mut Collector) {
    let path = file.path.as_str();
    let mismatch = |line: Option<u32>, message: String| violation(LOCKFILE_MISMATCH, path, line, message);
    let lock: Value = match serde_json::from_str(&file.content) {
        Ok(lock) => lock,
        Err(e) => {
            out.push(mismatch(None, format!("package-lock.json is not JSON: {e}")));
            return;
        }
    };
    let version = lock.get("lockfileVersion").and_then(Value::as_u64);
    let packages = lock.get("packages").and_then(Value::as_object);
    let (Some(2 | 3), Some(packages)) = (version, packages) else {
        out.push(mismatch(
            None,
            "package-lock.json is not a lockfileVersion 2 or 3 lock with a `packages` object".to_owned(),
        ));
        return;
    };
    if let (Some(app), Some(root)) = (app, packages.get("")) {
        if let Some(name) = root_difference(app, root) {
            out.push(mismatch(
                line_of_key(&file.content, ""),
                format!("the lock's root entry and package.json disagree about `{name}`"),
            ));
        }
    }
    for (entry_path, entry) in packages.iter().filter(|(p, _)| !p.is_empty()) {
        let line = line_of_key(&file.content, entry_path);
        let name =
            entry.get("name").and_then(Value::as_str).unwrap_or_else(|| node::name_of_path(entry_path));
        if entry.get("hasInstallScript").and_then(Value::as_bool) == Some(true) {
            out.push(violation(
                INSTALL_SCRIPT,
                path,
                line,
                format!("the lock says `{name}` has an install script; install scripts are not allowed"),
            ));
        }
        let Some(version) = entry.get("version").and_then(Value::as_str) else {
            out.push(mismatch(
                line,
                format!("`{name}` ({entry_path}) has no version: it is not a registry package"),
            ));
            continue;
        };
        let integrity = entry.get("integrity").and_then(Value::as_str);
        let resolved = entry.get("resolved").and_then(Value::as_str);
        let mut held = set.entries_of(name, version).peekable();
        if held.peek().is_none() {
            out.push(mismatch(line, format!("the curated set does not hold `{name}@{version}`")));
            continue;
        }
        let matches = held.any(|package| {
            package.integrity.as_deref() == integrity
                && match (resolved, package.resolved.as_deref()) {
                    (None, _) => true,
                    (Some(shipped), Some(ours)) => shipped == ours,
                    (Some(shipped), None) => is_registry_tarball(shipped, name, version),
                }
        });
        if !matches {
            out.push(mismatch(
                line,
                format!("`{name}@{version}` differs from the curated set's entry (integrity or resolved)"),
            ));
        }
    }
}

/// Whether `url` is a registry's tarball of `name@version` (`https://<registry>/<name>/-/<base>-<version>.tgz`),
/// as npm writes `resolved`. The host is not pinned: the integrity, which must match the set's,
/// pins the content, and a build installs from the set, never from `resolved`.
fn is_registry_tarball(url: &str, name: &str, version: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    url.starts_with("https://") && url.ends_with(&format!("/{name}/-/{base}-{version}.tgz"))
}

/// The first dependency the lock's root entry and package.json do not agree on.
fn root_difference(app: &AppPackage, root: &Value) -> Option<String> {
    let mut in_lock = Vec::new();
    for section in node::DEPENDENCY_SECTIONS {
        if let Some(deps) = root.get(section).and_then(Value::as_object) {
            for (name, spec) in deps {
                in_lock.push((section, name.as_str(), spec.as_str().unwrap_or_default()));
            }
        }
    }
    let in_app: Vec<(&str, &str, &str)> =
        app.dependencies.iter().map(|d| (d.section, d.name.as_str(), d.spec.as_str())).collect();
    in_app
        .iter()
        .find(|d| !in_lock.contains(d))
        .or_else(|| in_lock.iter().find(|d| !in_app.contains(d)))
        .map(|(_, name, _)| (*name).to_owned())
}
