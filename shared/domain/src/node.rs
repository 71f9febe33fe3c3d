//! The curated node dependency set: the packages an app of the `node` stack may use. The files
//! in `shared/node-deps` are data; this module embeds them so every shape (Lambda, `gantry serve`,
//! the builder) agrees on one set, and names the set by a hash of its lock. It also reads an
//! app's `package.json` against the set (the policy gate's node rules build on it) and writes an
//! app's `package-lock.json` from the set's lock, since no model can write integrity hashes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::OnceLock;

use nodejs_semver::{Range, Version};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::manifest::{normalise_path, GantryManifest, ManifestFile, Stack};

/// The set's `package.json`: its top-level packages and their ranges.
pub const SET_PACKAGE_JSON: &str = include_str!("../../node-deps/package.json");
/// The set's `package-lock.json`: every package of the tree, pinned with its integrity hash.
pub const SET_LOCK: &str = include_str!("../../node-deps/package-lock.json");

/// The dependency sections of a `package.json`, in the order npm reads them.
pub const DEPENDENCY_SECTIONS: [&str; 4] =
    ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];

/// Lifecycle scripts npm runs on install; an app may not have them (the set is installed with
/// `--ignore-scripts` and a build must not run code at install time).
pub const INSTALL_SCRIPTS: [&str; 6] =
    ["preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"];

/// The set's id: the first 16 hex digits of the sha256 of its lock. A fetched set lives in a
/// dir of this name, so a changed set is fetched anew instead of mixing with an old one.
pub fn set_id() -> String {
    set_id_of(SET_LOCK)
}

pub fn set_id_of(lock: &str) -> String {
    let digest = hex::encode(Sha256::digest(lock.as_bytes()));
    digest[..16].to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeSetError {
    #[error("the set's {file} is not JSON: {reason}")]
    Json { file: &'static str, reason: String },
    #[error("the set's lock is not a lockfileVersion 2 or 3 lock with a `packages` object")]
    NotALock,
    #[error("the set's lock entry `{0}` has no version")]
    NoVersion(String),
}

/// One package of the set's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePackage {
    /// Its path in the lock, e.g. `node_modules/vitest/node_modules/magic-string`.
    pub path: String,
    pub name: String,
    pub version: String,
    pub integrity: Option<String>,
    pub resolved: Option<String>,
    pub dependencies: BTreeMap<String, String>,
    pub optional_dependencies: BTreeMap<String, String>,
    pub peer_dependencies: BTreeMap<String, String>,
    pub optional: bool,
    pub has_install_script: bool,
}

impl NodePackage {
    /// Every dependency npm would place for it: regular, optional and peer.
    fn wants(&self) -> impl Iterator<Item = &str> {
        self.dependencies
            .keys()
            .chain(self.optional_dependencies.keys())
            .chain(self.peer_dependencies.keys())
            .map(String::as_str)
    }
}

/// The curated set: every package of its lock by path, and the names its `package.json` offers
/// to apps. Only offered packages may be an app's direct dependencies; the rest of the tree
/// comes along as their dependencies.
#[derive(Debug, Clone)]
pub struct NodeSet {
    packages: BTreeMap<String, NodePackage>,
    entries: Map<String, Value>,
    offered: BTreeSet<String>,
}

impl NodeSet {
    pub fn parse(lock: &str, package_json: &str) -> Result<NodeSet, NodeSetError> {
        let lock: Value = serde_json::from_str(lock)
            .map_err(|e| NodeSetError::Json { file: "package-lock.json", reason: e.to_string() })?;
        let manifest: Value = serde_json::from_str(package_json)
            .map_err(|e| NodeSetError::Json { file: "package.json", reason: e.to_string() })?;
        let entries = lock_packages(&lock).ok_or(NodeSetError::NotALock)?.clone();
        let mut packages = BTreeMap::new();
        for (path, entry) in entries.iter().filter(|(path, _)| !path.is_empty()) {
            let package = read_entry(path, entry).ok_or_else(|| NodeSetError::NoVersion(path.clone()))?;
            packages.insert(path.clone(), package);
        }
        let offered = ["dependencies", "devDependencies"]
            .iter()
            .filter_map(|section| manifest.get(section).and_then(Value::as_object))
            .flat_map(|deps| deps.keys().cloned())
            .collect();
        Ok(NodeSet { packages, entries, offered })
    }

    /// The package at a lock path.
    pub fn package(&self, path: &str) -> Option<&NodePackage> {
        self.packages.get(path)
    }

    /// The offered package called `name` (its top-level entry), if the set offers it.
    pub fn offered(&self, name: &str) -> Option<&NodePackage> {
        self.offered.contains(name).then(|| self.packages.get(&format!("node_modules/{name}"))).flatten()
    }

    /// The names of the packages apps may depend on, sorted.
    pub fn offered_names(&self) -> impl Iterator<Item = &str> {
        self.offered.iter().map(String::as_str)
    }

    /// The offered packages with their versions, e.g. `react@19.3.1`, for prompts and messages.
    pub fn offered_with_versions(&self) -> Vec<String> {
        self.offered_names()
            .filter_map(|name| self.offered(name).map(|p| format!("{name}@{}", p.version)))
            .collect()
    }

    /// Every entry of the lock for `name` at `version`, wherever it sits in the tree.
    pub fn entries_of<'s>(
        &'s self,
        name: &'s str,
        version: &'s str,
    ) -> impl Iterator<Item = &'s NodePackage> {
        self.packages.values().filter(move |p| p.name == name && p.version == version)
    }

    /// Where npm finds `dep` for the package at `from` ("" for the app): `from/node_modules/dep`,
    /// then the same under each ancestor, then `node_modules/dep`.
    pub fn resolve(&self, from: &str, dep: &str) -> Option<&NodePackage> {
        let mut base = from;
        loop {
            let candidate = if base.is_empty() {
                format!("node_modules/{dep}")
            } else {
                format!("{base}/node_modules/{dep}")
            };
            if let Some(package) = self.packages.get(&candidate) {
                return Some(package);
            }
            if base.is_empty() {
                return None;
            }
            base = base.rfind("/node_modules/").map_or("", |at| &base[..at]);
        }
    }

    /// The lock paths an app depending on `roots` installs: the roots resolved from the app, then
    /// every regular, optional and peer dependency of each, resolved as npm does. Optional peers
    /// the set leaves out are simply not there.
    pub fn closure<'a>(&self, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<&NodePackage> =
            roots.into_iter().filter_map(|d| self.resolve("", d)).collect();
        while let Some(package) = queue.pop_front() {
            if !seen.insert(package.path.clone()) {
                continue;
            }
            queue.extend(package.wants().filter_map(|dep| self.resolve(&package.path, dep)));
        }
        seen
    }
}

/// The set, parsed once. The files are ours and a test parses them, so a failure here is a bug
/// caught before release; should it happen anyway, the set is empty and every dependency is
/// refused (the gate fails closed).
pub fn set() -> &'static NodeSet {
    static SET: OnceLock<NodeSet> = OnceLock::new();
    SET.get_or_init(|| {
        NodeSet::parse(SET_LOCK, SET_PACKAGE_JSON).unwrap_or_else(|_| NodeSet {
            packages: BTreeMap::new(),
            entries: Map::new(),
            offered: BTreeSet::new(),
        })
    })
}

fn lock_packages(lock: &Value) -> Option<&Map<String, Value>> {
    let version = lock.get("lockfileVersion").and_then(Value::as_u64)?;
    if !(2..=3).contains(&version) {
        return None;
    }
    lock.get("packages").and_then(Value::as_object)
}

/// The package name a lock path stands for: what follows its last `node_modules/`.
pub fn name_of_path(path: &str) -> &str {
    path.rsplit_once("node_modules/").map_or(path, |(_, name)| name)
}

fn read_entry(path: &str, entry: &Value) -> Option<NodePackage> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let map = |key: &str| -> BTreeMap<String, String> {
        entry
            .get(key)
            .and_then(Value::as_object)
            .map(|deps| {
                deps.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
            })
            .unwrap_or_default()
    };
    let flag = |key: &str| entry.get(key).and_then(Value::as_bool).unwrap_or(false);
    Some(NodePackage {
        path: path.to_owned(),
        name: text("name").unwrap_or_else(|| name_of_path(path).to_owned()),
        version: text("version")?,
        integrity: text("integrity"),
        resolved: text("resolved"),
        dependencies: map("dependencies"),
        optional_dependencies: map("optionalDependencies"),
        peer_dependencies: map("peerDependencies"),
        optional: flag("optional"),
        has_install_script: flag("hasInstallScript"),
    })
}

/// What an app's `package.json` says, as far as the set is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPackage {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Every declared dependency, section by section, in the file's (sorted) order.
    pub dependencies: Vec<Dependency>,
    pub scripts: BTreeMap<String, String>,
    raw: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub section: &'static str,
    pub name: String,
    pub spec: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageJsonError {
    #[error("package.json is not JSON: {0}")]
    NotJson(String),
    #[error("package.json is not a JSON object")]
    NotAnObject,
    #[error("`{0}` in package.json is not an object")]
    SectionNotAnObject(&'static str),
    #[error("`{section}.{name}` in package.json is not a string")]
    NotAString { section: &'static str, name: String },
}

impl AppPackage {
    pub fn parse(text: &str) -> Result<AppPackage, PackageJsonError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PackageJsonError::NotJson(e.to_string()))?;
        let Value::Object(raw) = value else {
            return Err(PackageJsonError::NotAnObject);
        };
        let mut dependencies = Vec::new();
        for section in DEPENDENCY_SECTIONS {
            for (name, spec) in string_map(&raw, section)? {
                dependencies.push(Dependency { section, name, spec });
            }
        }
        let scripts = string_map(&raw, "scripts")?.into_iter().collect();
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(AppPackage { name: text("name"), version: text("version"), dependencies, scripts, raw })
    }

    /// The lifecycle scripts npm would run on install, by name.
    pub fn install_scripts(&self) -> impl Iterator<Item = &str> {
        self.scripts.keys().map(String::as_str).filter(|name| INSTALL_SCRIPTS.contains(name))
    }
}

fn string_map(
    raw: &Map<String, Value>,
    section: &'static str,
) -> Result<Vec<(String, String)>, PackageJsonError> {
    let Some(value) = raw.get(section) else {
        return Ok(Vec::new());
    };
    let object = value.as_object().ok_or(PackageJsonError::SectionNotAnObject(section))?;
    object
        .iter()
        .map(|(name, spec)| match spec.as_str() {
            Some(spec) => Ok((name.clone(), spec.to_owned())),
            None => Err(PackageJsonError::NotAString { section, name: name.clone() }),
        })
        .collect()
}

/// A dependency specifier that does not name a version of a registry package: npm would fetch
/// it from elsewhere (a path, git, a URL) or under another name. Returns what kind it is.
pub fn foreign_specifier(spec: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 14] = [
        ("file:", "a local path"),
        ("link:", "a local link"),
        ("portal:", "a local link"),
        ("git:", "a git repository"),
        ("git+", "a git repository"),
        ("github:", "a GitHub repository"),
        ("gitlab:", "a GitLab repository"),
        ("bitbucket:", "a Bitbucket repository"),
        ("gist:", "a gist"),
        ("http:", "a URL"),
        ("https:", "a URL"),
        ("npm:", "an alias of another package"),
        ("workspace:", "a workspace package"),
        ("patch:", "a patched package"),
    ];
    let spec = spec.trim();
    let lower = spec.to_ascii_lowercase();
    if let Some((_, kind)) = PREFIXES.iter().find(|(prefix, _)| lower.starts_with(prefix)) {
        return Some(kind);
    }
    // No range holds `/` or `:`: npm reads such a value as a path, `user/repo` or a URL.
    if spec.starts_with('.') || spec.starts_with('/') || spec.starts_with("~/") {
        Some("a local path")
    } else if spec.contains(':') {
        Some("a URL")
    } else if spec.contains('/') {
        Some("a GitHub repository (`user/repo`)")
    } else {
        None
    }
}

/// Why the set cannot provide a dependency, if it cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// Not a registry version: a path, git, a URL, an alias or a workspace.
    Specifier(&'static str),
    /// The set does not offer a package of that name.
    OutsideSet,
    /// The set offers it, at a version the range does not allow (or under a dist-tag other than
    /// `latest`).
    Unsatisfied { set_version: String },
}

impl Shortfall {
    /// Whether a heal can repair it by editing package.json within the set.
    pub fn repairable(&self) -> bool {
        !matches!(self, Shortfall::Specifier(_))
    }
}

/// Checks one dependency against the set. Ranges follow npm (`^19`, `~5.9.0`, `>=4 <5`,
/// `19 || 20`, `*`, the empty string); a pre-release satisfies only a range that names a
/// pre-release of the same version.
/// A value that is no range is a dist-tag: `latest` is the set's version, since the set is what
/// every build installs; any other tag (`next`, `beta`) is unsatisfied.
pub fn check(set: &NodeSet, name: &str, spec: &str) -> Option<Shortfall> {
    if let Some(kind) = foreign_specifier(spec) {
        return Some(Shortfall::Specifier(kind));
    }
    let Some(package) = set.offered(name) else {
        return Some(Shortfall::OutsideSet);
    };
    let spec = spec.trim();
    let satisfied = match Range::parse(spec) {
        Ok(range) => Version::parse(&package.version).is_ok_and(|v| range.satisfies(&v)),
        Err(_) => spec == "latest",
    };
    (!satisfied).then(|| Shortfall::Unsatisfied { set_version: package.version.clone() })
}

/// The range a repaired dependency gets: a caret on the set's version.
pub fn range_for(version: &str) -> String {
    format!("^{version}")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    PackageJson(#[from] PackageJsonError),
    #[error("the set cannot provide {}", .0.join(", "))]
    NotInSet(Vec<String>),
    #[error("the lock could not be written: {0}")]
    Write(String),
}

/// The `package-lock.json` (lockfileVersion 3) npm would write for an app of the set: the root
/// entry from the app's package.json, then every package of its closure with the set's entry
/// copied as it is. Fails when package.json is broken or asks for anything the set cannot give.
pub fn lock_for(package_json: &str) -> Result<String, LockError> {
    lock_from(set(), package_json)
}

pub fn lock_from(set: &NodeSet, package_json: &str) -> Result<String, LockError> {
    let app = AppPackage::parse(package_json)?;
    let refused: Vec<String> = app
        .dependencies
        .iter()
        .filter(|d| check(set, &d.name, &d.spec).is_some())
        .map(|d| format!("{}@{}", d.name, d.spec))
        .collect();
    if !refused.is_empty() {
        return Err(LockError::NotInSet(refused));
    }
    let name = app.name.clone().unwrap_or_else(|| "app".to_owned());
    let mut root = Map::new();
    root.insert("name".into(), Value::String(name.clone()));
    if let Some(version) = &app.version {
        root.insert("version".into(), Value::String(version.clone()));
    }
    for section in DEPENDENCY_SECTIONS {
        if let Some(deps) = app.raw.get(section).filter(|d| d.as_object().is_some_and(|o| !o.is_empty())) {
            root.insert(section.into(), deps.clone());
        }
    }
    let mut packages = Map::new();
    packages.insert(String::new(), Value::Object(root));
    for path in set.closure(app.dependencies.iter().map(|d| d.name.as_str())) {
        if let Some(entry) = set.entries.get(&path) {
            packages.insert(path, entry.clone());
        }
    }
    let mut lock = Map::new();
    lock.insert("name".into(), Value::String(name));
    if let Some(version) = app.version {
        lock.insert("version".into(), Value::String(version));
    }
    lock.insert("lockfileVersion".into(), Value::from(3));
    lock.insert("requires".into(), Value::Bool(true));
    lock.insert("packages".into(), Value::Object(packages));
    let mut text =
        serde_json::to_string_pretty(&Value::Object(lock)).map_err(|e| LockError::Write(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// The app's files npm reads, at the root of a node manifest.
pub const PACKAGE_JSON_PATH: &str = "package.json";
pub const LOCK_PATH: &str = "package-lock.json";

/// The root file at `path` of a manifest, however its path is spelt (`./package.json`).
pub fn root_file<'m>(manifest: &'m GantryManifest, path: &str) -> Option<&'m ManifestFile> {
    manifest.files.iter().find(|f| normalise_path(&f.path).is_ok_and(|p| p == path))
}

/// Gives a node manifest without `package-lock.json` the lock the set implies for its
/// package.json, and says so. Any other manifest, or one whose package.json is broken or asks
/// for what the set cannot give, is left as it is: the gate names what is wrong.
pub fn add_lock(manifest: &mut GantryManifest) -> Option<String> {
    if manifest.stack != Stack::Node || root_file(manifest, LOCK_PATH).is_some() {
        return None;
    }
    let lock = lock_for(&root_file(manifest, PACKAGE_JSON_PATH)?.content).ok()?;
    let packages = serde_json::from_str::<Value>(&lock)
        .ok()
        .and_then(|l| l.get("packages").and_then(Value::as_object).map(|p| p.len().saturating_sub(1)))
        .unwrap_or_default();
    manifest.files.push(ManifestFile { path: LOCK_PATH.to_owned(), content: lock });
    Some(format!("wrote package-lock.json from the curated node set {} ({packages} packages)", set_id()))
}

/// What a repair of package.json changed, one sentence part per dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub package_json: String,
    pub changes: Vec<String>,
}

/// Repairs what a heal may repair in package.json: a dependency outside the set is dropped, one
/// whose range the set cannot satisfy gets the set's version. Specifiers and scripts are left
/// for the gate to refuse. `None` when there is nothing to repair or the file is not readable.
pub fn repair_package_json(set: &NodeSet, text: &str) -> Option<Repair> {
    let app = AppPackage::parse(text).ok()?;
    let mut raw = app.raw.clone();
    let mut changes = Vec::new();
    for dependency in &app.dependencies {
        let Some(shortfall) = check(set, &dependency.name, &dependency.spec) else {
            continue;
        };
        let Some(deps) = raw.get_mut(dependency.section).and_then(Value::as_object_mut) else {
            continue;
        };
        match shortfall {
            Shortfall::OutsideSet => {
                deps.remove(&dependency.name);
                changes.push(format!("removed {} (not in the curated set)", dependency.name));
            }
            Shortfall::Unsatisfied { set_version } => {
                let range = range_for(&set_version);
                changes.push(format!("set {} from `{}` to `{range}`", dependency.name, dependency.spec));
                deps.insert(dependency.name.clone(), Value::String(range));
            }
            Shortfall::Specifier(_) => {}
        }
    }
    if changes.is_empty() {
        return None;
    }
    let mut package_json = serde_json::to_string_pretty(&Value::Object(raw)).ok()?;
    package_json.push('\n');
    Some(Repair { package_json, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_follows_the_lock() {
        assert_eq!(set_id().len(), 16);
        assert_ne!(set_id_of("{}"), set_id_of("{ }"));
        assert_eq!(set_id(), set_id_of(SET_LOCK));
    }

    #[test]
    fn the_embedded_set_is_a_v3_lock_of_its_package_json() {
        let lock: serde_json::Value = serde_json::from_str(SET_LOCK).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(SET_PACKAGE_JSON).unwrap();
        assert_eq!(lock["lockfileVersion"], 3);
        assert_eq!(lock["packages"][""]["dependencies"], manifest["dependencies"]);
        assert_eq!(lock["packages"][""]["devDependencies"], manifest["devDependencies"]);
        for (path, entry) in lock["packages"].as_object().unwrap() {
            // Bundled packages ship inside their parent's tarball, which carries the hash.
            if path.is_empty() || entry["inBundle"] == true {
                continue;
            }
            assert!(entry["integrity"].as_str().is_some_and(|i| i.starts_with("sha512-")), "{path}");
            assert!(entry.get("hasInstallScript").is_none(), "{path} has an install script");
        }
    }
}

#[cfg(test)]
mod set_tests {
    use super::*;

    /// The React + Vite + TypeScript app the offline brain and the tests build.
    pub(crate) const TALLY_PACKAGE_JSON: &str = r#"{
  "name": "tally",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": { "build": "tsc --noEmit && vite build", "test": "vitest run" },
  "dependencies": { "react": "^19", "react-dom": "^19" },
  "devDependencies": {
    "@testing-library/react": "^16",
    "@testing-library/user-event": "^14",
    "@types/react": "^19",
    "@types/react-dom": "^19",
    "@vitejs/plugin-react": "^6",
    "jsdom": "^29",
    "typescript": "^5",
    "vite": "^8",
    "vitest": "^4"
  }
}"#;

    #[test]
    fn the_embedded_set_parses_and_offers_its_package_json() {
        let set = NodeSet::parse(SET_LOCK, SET_PACKAGE_JSON).expect("the set's files are ours and parse");
        assert!(set.offered("react").is_some_and(|p| p.version.starts_with("19.")));
        assert!(set.offered("vite").is_some());
        // In the tree, but only as a dependency of an offered package.
        assert!(set.package("node_modules/scheduler").is_some());
        assert!(set.offered("scheduler").is_none());
        assert!(super::set().offered_with_versions().iter().any(|p| p.starts_with("react-dom@19.")));
        assert_eq!(super::set().offered_names().count(), 21);
    }

    #[test]
    fn a_dependency_resolves_as_npm_places_it() {
        let set = set();
        let nested = set.resolve("node_modules/vitest", "magic-string").unwrap();
        assert_eq!(nested.path, "node_modules/vitest/node_modules/magic-string");
        let hoisted = set.resolve("node_modules/react-dom", "scheduler").unwrap();
        assert_eq!(hoisted.path, "node_modules/scheduler");
        let from_deep = set
            .resolve(
                "node_modules/@tailwindcss/oxide-wasm32-wasi/node_modules/@napi-rs/wasm-runtime",
                "@emnapi/core",
            )
            .unwrap();
        assert_eq!(from_deep.path, "node_modules/@tailwindcss/oxide-wasm32-wasi/node_modules/@emnapi/core");
        assert!(set.resolve("", "left-pad").is_none());
    }

    #[test]
    fn ranges_are_read_as_npm_reads_them() {
        let set = set();
        let version = set.offered("react").unwrap().version.clone();
        for ok in ["^19", "^19.0.0", "19", "19.x", ">=18 <20", "18 || 19", "*", "", "latest", &version] {
            assert_eq!(check(set, "react", ok), None, "{ok}");
        }
        let unsatisfied = Shortfall::Unsatisfied { set_version: version.clone() };
        for bad in ["^18", "~18.2.0", "<19", "20 || 21", "next", "canary", "18.2.0"] {
            assert_eq!(check(set, "react", bad), Some(unsatisfied.clone()), "{bad}");
        }
        assert_eq!(check(set, "left-pad", "^1.3.0"), Some(Shortfall::OutsideSet));
        assert_eq!(check(set, "scheduler", "*"), Some(Shortfall::OutsideSet));
        assert!(check(set, "react", "file:../react").is_some_and(|s| !s.repairable()));
    }

    #[test]
    fn foreign_specifiers_are_recognised_and_ranges_are_not() {
        for spec in [
            "file:../lib",
            "link:../lib",
            "git://github.com/a/b.git",
            "git+ssh://git@github.com/a/b.git",
            "github:facebook/react",
            "facebook/react",
            "https://example.com/react.tgz",
            "npm:preact@10",
            "workspace:*",
            "./vendor/react",
            "~/react",
        ] {
            assert!(foreign_specifier(spec).is_some(), "{spec}");
        }
        for range in ["^19", "~5.9.0", ">=4 <5", "19 || 20", "*", "latest", "1.2.3 - 2.3.4", "~1.2"] {
            assert_eq!(foreign_specifier(range), None, "{range}");
        }
    }

    #[test]
    fn the_lock_of_react_dom_holds_its_scheduler() {
        let lock =
            lock_for(r#"{"name":"x","version":"1.0.0","dependencies":{"react":"^19","react-dom":"^19"}}"#)
                .unwrap();
        let lock: Value = serde_json::from_str(&lock).unwrap();
        let packages = lock["packages"].as_object().unwrap();
        let paths: Vec<&str> = packages.keys().map(String::as_str).collect();
        assert_eq!(paths, vec!["", "node_modules/react", "node_modules/react-dom", "node_modules/scheduler"]);
        assert_eq!(lock["lockfileVersion"], 3);
        assert_eq!(packages[""]["dependencies"]["react-dom"], "^19");
    }

    #[test]
    fn the_lock_of_the_tally_app_copies_its_closure_from_the_set() {
        let text = lock_for(TALLY_PACKAGE_JSON).unwrap();
        let lock: Value = serde_json::from_str(&text).unwrap();
        let packages = lock["packages"].as_object().unwrap();
        assert!(packages.contains_key("node_modules/rolldown"));
        assert!(packages.keys().any(|p| p == "node_modules/@rolldown/binding-linux-x64-gnu"));
        assert!(packages.contains_key("node_modules/vitest/node_modules/magic-string"));
        assert!(!packages.contains_key("node_modules/recharts"));
        assert!(!packages.contains_key("node_modules/tailwindcss"));
        assert_eq!(lock["name"], "tally");
        assert_eq!(packages[""]["devDependencies"]["vite"], "^8");
        assert!(packages[""].get("scripts").is_none());
        let set_lock: Value = serde_json::from_str(SET_LOCK).unwrap();
        for (path, entry) in packages.iter().filter(|(path, _)| !path.is_empty()) {
            assert_eq!(entry, &set_lock["packages"][path], "{path} is copied as it is");
        }
    }

    #[test]
    fn no_lock_is_written_for_what_the_set_cannot_give() {
        assert!(matches!(lock_for("{"), Err(LockError::PackageJson(PackageJsonError::NotJson(_)))));
        assert!(matches!(
            lock_for(r#"{"dependencies":{"react":19}}"#),
            Err(LockError::PackageJson(PackageJsonError::NotAString { .. }))
        ));
        let refused = lock_for(r#"{"dependencies":{"react":"^19","left-pad":"^1"}}"#).unwrap_err();
        assert_eq!(refused, LockError::NotInSet(vec!["left-pad@^1".to_owned()]));
    }

    fn node_manifest(package_json: &str) -> GantryManifest {
        GantryManifest {
            project_name: "tally".to_owned(),
            stack: Stack::Node,
            files: vec![ManifestFile { path: "./package.json".to_owned(), content: package_json.to_owned() }],
            audit_command: "npm run build && npm test".to_owned(),
            run_command: None,
            output_dir: Some("dist".to_owned()),
        }
    }

    #[test]
    fn a_lock_is_added_only_to_a_node_manifest_without_one_that_the_set_can_serve() {
        let mut manifest = node_manifest(TALLY_PACKAGE_JSON);
        let note = add_lock(&mut manifest).expect("a lock is written");
        assert!(note.contains(&set_id()), "{note}");
        assert_eq!(root_file(&manifest, LOCK_PATH).unwrap().content, lock_for(TALLY_PACKAGE_JSON).unwrap());
        assert_eq!(add_lock(&mut manifest), None, "a manifest with a lock keeps it");
        assert_eq!(manifest.files.len(), 2);

        for mut untouched in [
            node_manifest(r#"{"dependencies":{"left-pad":"^1"}}"#),
            node_manifest("not json"),
            GantryManifest { stack: Stack::Static, ..node_manifest(TALLY_PACKAGE_JSON) },
            GantryManifest { files: Vec::new(), ..node_manifest(TALLY_PACKAGE_JSON) },
        ] {
            let before = untouched.clone();
            assert_eq!(add_lock(&mut untouched), None);
            assert_eq!(untouched, before);
        }
    }

    #[test]
    fn a_repair_drops_what_the_set_lacks_and_moves_ranges_to_the_set() {
        let text = r#"{"name":"x","dependencies":{"react":"^18","left-pad":"^1","react-dom":"^19"},
                       "devDependencies":{"vite":"git+https://example.com/vite.git"}}"#;
        let repair = repair_package_json(set(), text).unwrap();
        let repaired = AppPackage::parse(&repair.package_json).unwrap();
        let react = set().offered("react").unwrap().version.clone();
        let deps: Vec<(&str, &str)> =
            repaired.dependencies.iter().map(|d| (d.name.as_str(), d.spec.as_str())).collect();
        assert_eq!(
            deps,
            vec![
                ("react", format!("^{react}").as_str()),
                ("react-dom", "^19"),
                ("vite", "git+https://example.com/vite.git")
            ]
        );
        assert_eq!(repair.changes.len(), 2);
        assert!(repair.changes.iter().any(|c| c.contains("left-pad")));
        assert_eq!(repair_package_json(set(), TALLY_PACKAGE_JSON), None);
    }
}
