//! The curated node dependency set on this machine: fetched once, outside the sandbox, then
//! offered read-only to every node build. A build never downloads anything.
//!
//! Layout under the deps root (`GANTRY_NODE_DEPS`): `{set_id}/node_modules`, the tree `npm ci`
//! installed from the set's lock, and `{set_id}/.complete`, written last. A fetch works in a
//! `.{set_id}.partial-*` dir and renames it into place, so a crash leaves no half set behind.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use gantry_domain::node::{set_id, SET_LOCK, SET_PACKAGE_JSON};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Where a build sees the set: a dir in its work dir, mounted read-only over the fetched set.
pub const DEPS_MOUNT: &str = ".gantry-deps";
/// Written last by a fetch: its presence means the set under it is whole.
const COMPLETE_MARKER: &str = ".complete";
/// A fetch that takes longer than this is stopped (a registry that trickles must not hang it).
const FETCH_TIMEOUT: Duration = Duration::from_secs(600);
/// How often a build waiting for a fetch under way looks again.
const FETCH_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    #[error("the node dependency set {id} is not fetched into {root}; run `gantry deps fetch` (it needs the npm registry once)")]
    NotFetched { id: String, root: PathBuf },
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("npm could not be started (is Node.js with npm installed?): {0}")]
    NoNpm(io::Error),
    #[error("`npm ci` failed (exit {code:?}); its last lines:\n{tail}")]
    Npm { code: Option<i32>, tail: String },
    #[error("`npm ci` did not finish within {} s", FETCH_TIMEOUT.as_secs())]
    Timeout,
    #[error("the work dir already holds {0}; a manifest may not ship it")]
    Shipped(&'static str),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DepsError + '_ {
    move |source| DepsError::Io { path: path.to_path_buf(), source }
}

/// The set this binary was built with, under a deps root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDeps {
    id: String,
    root: PathBuf,
    /// Extra variables for the fetch's npm (e.g. `npm_config_registry` for a mirror).
    npm_env: Vec<(String, String)>,
}

/// What a fetch found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    pub dir: PathBuf,
    pub already_there: bool,
    pub packages: usize,
    pub bytes: u64,
    pub duration: Duration,
}

impl NodeDeps {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { id: set_id(), root: root.into(), npm_env: Vec::new() }
    }

    /// Sets a variable for the npm that `fetch` runs (a registry mirror, a proxy, a cache dir).
    pub fn with_npm_env(mut self, name: &str, value: &str) -> Self {
        self.npm_env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The set's dir: what a build mounts at [`DEPS_MOUNT`].
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.id)
    }

    pub fn is_fetched(&self) -> bool {
        fs::symlink_metadata(self.dir().join(COMPLETE_MARKER)).is_ok_and(|m| m.is_file())
            && fs::symlink_metadata(self.dir().join("node_modules")).is_ok_and(|m| m.is_dir())
    }

    /// The set's dir when it is whole here, else the error a build reports.
    pub fn require(&self) -> Result<PathBuf, DepsError> {
        if self.is_fetched() {
            Ok(self.dir())
        } else {
            Err(DepsError::NotFetched { id: self.id.clone(), root: self.root.clone() })
        }
    }

    /// Whether a fetch of this set is under way (by this process or another): a partial dir
    /// whose fetching process is alive. A crashed fetch's leftover does not count.
    pub fn fetch_in_progress(&self) -> bool {
        self.partials().iter().any(|(_, pid)| process_alive(*pid))
    }

    /// The partial dirs of this set under the root, with the pid that made each.
    fn partials(&self) -> Vec<(PathBuf, u32)> {
        let prefix = format!(".{}.partial-", self.id);
        let Ok(entries) = fs::read_dir(&self.root) else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let pid = name.strip_prefix(&prefix)?.parse().ok()?;
                Some((entry.path(), pid))
            })
            .collect()
    }

    /// The set's dir, waiting up to `patience` for a fetch under way to finish (the first
    /// `gantry serve` fetches in the background, and a build may be asked for before it is
    /// done). Without a fetch under way, or when the wait runs out, the error says what to do.
    pub async fn require_within(&self, patience: Duration) -> Result<PathBuf, DepsError> {
        let deadline = Instant::now() + patience;
        while !self.is_fetched() && self.fetch_in_progress() && Instant::now() < deadline {
            tokio::time::sleep(FETCH_POLL).await;
        }
        self.require()
    }

    /// Installs the set with `npm ci --ignore-scripts` (integrity checked by npm against the
    /// lock), makes it read-only and marks it whole. Does nothing when it already is.
    /// `progress` gets a line now and then; npm's own output reaches it only on failure.
    pub async fn fetch(&self, mut progress: impl FnMut(&str)) -> Result<FetchReport, DepsError> {
        let started = Instant::now();
        let dir = self.dir();
        let already_there = || {
            let (packages, bytes) = measure(&dir.join("node_modules"));
            FetchReport {
                dir: dir.clone(),
                already_there: true,
                packages,
                bytes,
                duration: started.elapsed(),
            }
        };
        if self.is_fetched() {
            return Ok(already_there());
        }
        fs::create_dir_all(&self.root).map_err(io_at(&self.root))?;
        // What crashed fetches left behind goes; a live one's dir is not ours to touch.
        for (stale, pid) in self.partials() {
            if !process_alive(pid) {
                let _ = remove_tree(&stale);
            }
        }
        let partial = self.root.join(format!(".{}.partial-{}", self.id, std::process::id()));
        let _ = remove_tree(&partial);
        fs::create_dir(&partial).map_err(io_at(&partial))?;
        fs::write(partial.join("package.json"), SET_PACKAGE_JSON).map_err(io_at(&partial))?;
        fs::write(partial.join("package-lock.json"), SET_LOCK).map_err(io_at(&partial))?;
        let wanted = lock_packages();
        progress(&format!("fetching the node dependency set {} ({wanted} packages) with npm ci", self.id));

        let result =
            tokio::time::timeout(FETCH_TIMEOUT, npm_ci(&partial, &self.npm_env, wanted, &mut progress)).await;
        let installed = match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DepsError::Timeout),
        };
        if let Err(e) = installed {
            let _ = remove_tree(&partial);
            return Err(e);
        }
        let modules = partial.join("node_modules");
        let (packages, bytes) = measure(&modules);
        make_read_only(&modules).map_err(io_at(&modules))?;
        fs::write(partial.join(COMPLETE_MARKER), format!("{}\n", self.id)).map_err(io_at(&partial))?;
        if self.is_fetched() {
            // Another fetch finished first; builds may be using its set already, so it stays.
            let _ = remove_tree(&partial);
            return Ok(already_there());
        }
        if dir.exists() {
            // A dir without the marker is not whole (a copy made by hand, say): it goes.
            remove_tree(&dir).map_err(io_at(&dir))?;
        }
        fs::rename(&partial, &dir).map_err(io_at(&dir))?;
        let duration = started.elapsed();
        progress(&format!(
            "fetched {packages} packages ({} MiB) in {:.1} s into {}",
            bytes / (1024 * 1024),
            duration.as_secs_f64(),
            dir.display()
        ));
        Ok(FetchReport { dir, already_there: false, packages, bytes, duration })
    }
}

fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Packages in the set's lock, the root excluded.
fn lock_packages() -> usize {
    serde_json::from_str::<serde_json::Value>(SET_LOCK)
        .ok()
        .and_then(|lock| lock.get("packages")?.as_object().map(|p| p.len().saturating_sub(1)))
        .unwrap_or(0)
}

/// `npm ci` in `dir`, reporting every 25 tarballs fetched (npm logs an `http fetch` line for
/// each, and for each package's metadata).
async fn npm_ci(
    dir: &Path,
    env: &[(String, String)],
    wanted: usize,
    progress: &mut impl FnMut(&str),
) -> Result<(), DepsError> {
    let mut child = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=http"])
        .current_dir(dir)
        .env("npm_config_update_notifier", "false")
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(DepsError::NoNpm)?;
    let mut tail: Vec<String> = Vec::new();
    let mut fetched = 0usize;
    if let Some(stderr) = child.stderr.take() {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("http fetch GET 200") && line.contains(".tgz") {
                fetched += 1;
                if fetched.is_multiple_of(25) {
                    progress(&format!("  {fetched} of at most {wanted} packages downloaded"));
                }
            }
            tail.push(line);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait().await.map_err(DepsError::NoNpm)?;
    if status.success() {
        Ok(())
    } else {
        Err(DepsError::Npm { code: status.code(), tail: tail.join("\n") })
    }
}

/// Package dirs (those holding a package.json) and bytes under `dir`, without following links.
fn measure(dir: &Path) -> (usize, u64) {
    let mut packages = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = fs::read_dir(&next) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else { continue };
            if meta.is_dir() {
                if entry.path().join("package.json").is_file() {
                    packages += 1;
                }
                stack.push(entry.path());
            } else {
                bytes += meta.len();
            }
        }
    }
    (packages, bytes)
}

/// Files 0444, dirs 0555: a process of the same uid cannot write by accident. (The sandbox
/// mounts the set read-only on top; modes are the only guard when it cannot.)
fn make_read_only(dir: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        for entry in fs::read_dir(dir)? {
            make_read_only(&entry?.path())?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o555))
    } else {
        let mode = if meta.permissions().mode() & 0o111 != 0 { 0o555 } else { 0o444 };
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
    }
}

/// Removes a tree that `make_read_only` may have locked.
pub fn remove_tree(dir: &Path) -> io::Result<()> {
    fn unlock(dir: &Path) {
        if let Ok(meta) = fs::symlink_metadata(dir) {
            if meta.is_dir() {
                let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
                if let Ok(entries) = fs::read_dir(dir) {
                    for entry in entries.flatten() {
                        unlock(&entry.path());
                    }
                }
            }
        }
    }
    unlock(dir);
    fs::remove_dir_all(dir)
}

/// Prepares a node build in a materialised work dir: an empty [`DEPS_MOUNT`] dir for the set,
/// and `node_modules/` holding one relative link per top-level entry of the set (scopes as a
/// whole) plus `.bin/` links to the set's programs. Everything resolves through the mount, so
/// packages load from the read-only set while `node_modules` itself stays writable (Vite and
/// Vitest keep caches there). Returns how many entries were linked.
pub fn link_node_modules(work_dir: &Path, set_dir: &Path) -> Result<usize, DepsError> {
    let modules = work_dir.join("node_modules");
    let mount = work_dir.join(DEPS_MOUNT);
    if fs::symlink_metadata(&modules).is_ok() {
        return Err(DepsError::Shipped("node_modules"));
    }
    if fs::symlink_metadata(&mount).is_ok() {
        return Err(DepsError::Shipped(DEPS_MOUNT));
    }
    fs::create_dir(&mount).map_err(io_at(&mount))?;
    let set_modules = set_dir.join("node_modules");
    let bin = modules.join(".bin");
    fs::create_dir_all(&bin).map_err(io_at(&bin))?;
    let mut linked = 0;
    for entry in fs::read_dir(&set_modules).map_err(io_at(&set_modules))? {
        let name = entry.map_err(io_at(&set_modules))?.file_name();
        let Some(name) = name.to_str() else { continue };
        // npm's own bookkeeping (`.package-lock.json`, `.bin`) stays out.
        if name.starts_with('.') {
            continue;
        }
        let target = Path::new("..").join(DEPS_MOUNT).join("node_modules").join(name);
        symlink(&target, modules.join(name)).map_err(io_at(&modules))?;
        linked += 1;
    }
    let set_bin = set_modules.join(".bin");
    if let Ok(programs) = fs::read_dir(&set_bin) {
        for program in programs.flatten() {
            let name = program.file_name();
            // `.bin/vite -> ../vite/bin/vite.js`: the same file, reached through the mount.
            let Ok(points_to) = fs::read_link(program.path()) else { continue };
            let Ok(inside) = points_to.strip_prefix("..") else { continue };
            let target = Path::new("../..").join(DEPS_MOUNT).join("node_modules").join(inside);
            symlink(&target, bin.join(&name)).map_err(io_at(&bin))?;
        }
    }
    Ok(linked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_set(root: &Path) -> PathBuf {
        let set = root.join("set");
        fs::create_dir_all(set.join("node_modules/.bin")).unwrap();
        fs::create_dir_all(set.join("node_modules/vite/bin")).unwrap();
        fs::create_dir_all(set.join("node_modules/@types/react")).unwrap();
        fs::write(set.join("node_modules/vite/bin/vite.js"), "").unwrap();
        fs::write(set.join("node_modules/.package-lock.json"), "{}").unwrap();
        symlink("../vite/bin/vite.js", set.join("node_modules/.bin/vite")).unwrap();
        set
    }

    #[test]
    fn node_modules_links_every_package_and_program_through_the_mount() {
        let root = tempfile::tempdir().unwrap();
        let set = fake_set(root.path());
        let work = root.path().join("work");
        fs::create_dir(&work).unwrap();
        assert_eq!(link_node_modules(&work, &set).unwrap(), 2);
        let link = |p: &str| fs::read_link(work.join(p)).unwrap();
        assert_eq!(link("node_modules/vite"), Path::new("../.gantry-deps/node_modules/vite"));
        assert_eq!(link("node_modules/@types"), Path::new("../.gantry-deps/node_modules/@types"));
        assert_eq!(
            link("node_modules/.bin/vite"),
            Path::new("../../.gantry-deps/node_modules/vite/bin/vite.js")
        );
        assert!(!work.join("node_modules/.package-lock.json").exists());
        assert!(fs::read_dir(work.join(DEPS_MOUNT)).unwrap().next().is_none(), "the mount point is empty");
        // Through a link standing in for the mount, the program resolves.
        fs::remove_dir(work.join(DEPS_MOUNT)).unwrap();
        symlink(&set, work.join(DEPS_MOUNT)).unwrap();
        assert!(work.join("node_modules/.bin/vite").is_file());
    }

    #[test]
    fn a_shipped_node_modules_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let set = fake_set(root.path());
        let work = root.path().join("work");
        fs::create_dir_all(work.join("node_modules/react")).unwrap();
        assert!(matches!(link_node_modules(&work, &set), Err(DepsError::Shipped("node_modules"))));
    }

    #[test]
    fn a_set_without_its_marker_is_not_fetched() {
        let root = tempfile::tempdir().unwrap();
        let deps = NodeDeps::new(root.path());
        fs::create_dir_all(deps.dir().join("node_modules")).unwrap();
        assert!(matches!(deps.require(), Err(DepsError::NotFetched { .. })));
        fs::write(deps.dir().join(COMPLETE_MARKER), "x").unwrap();
        assert_eq!(deps.require().unwrap(), deps.dir());
    }

    #[tokio::test]
    async fn a_failed_fetch_says_why_and_leaves_no_partial_set() {
        let root = tempfile::tempdir().unwrap();
        // Offline with an empty cache: npm cannot get a single package, and must not try the network.
        let deps = NodeDeps::new(root.path().join("deps"))
            .with_npm_env("npm_config_offline", "true")
            .with_npm_env("npm_config_cache", &root.path().join("empty-cache").to_string_lossy());
        let mut lines = Vec::new();
        let error =
            deps.fetch(|line| lines.push(line.to_owned())).await.expect_err("nothing to install from");
        match &error {
            DepsError::Npm { tail, .. } => assert!(tail.contains("ENOTCACHED"), "{tail}"),
            other => panic!("{other}"),
        }
        assert!(lines.first().is_some_and(|l| l.contains(deps.id())), "{lines:?}");
        assert!(!deps.is_fetched());
        let left: Vec<_> = fs::read_dir(deps.root()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[tokio::test]
    async fn a_build_waits_for_a_fetch_under_way_and_not_for_one_that_is_not() {
        let root = tempfile::tempdir().unwrap();
        let deps = NodeDeps::new(root.path());
        // Nothing under way: the answer comes at once, however long the patience.
        let started = Instant::now();
        assert!(matches!(
            deps.require_within(Duration::from_secs(60)).await,
            Err(DepsError::NotFetched { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(5));

        // A crashed fetch's leftover (its process is gone) is no fetch under way.
        let stale = root.path().join(format!(".{}.partial-{}", deps.id(), u32::MAX));
        fs::create_dir(&stale).unwrap();
        assert!(!deps.fetch_in_progress());
        fs::remove_dir(&stale).unwrap();

        // A fetch under way that finishes: the wait ends with the set.
        let partial = root.path().join(format!(".{}.partial-{}", deps.id(), std::process::id()));
        fs::create_dir(&partial).unwrap();
        assert!(deps.fetch_in_progress());
        let finisher = {
            let (partial, dir) = (partial.clone(), deps.dir());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(600)).await;
                fs::create_dir(partial.join("node_modules")).unwrap();
                fs::write(partial.join(COMPLETE_MARKER), "x").unwrap();
                fs::rename(&partial, &dir).unwrap();
            })
        };
        assert_eq!(deps.require_within(Duration::from_secs(60)).await.unwrap(), deps.dir());
        finisher.await.unwrap();

        // A fetch that never finishes: the wait runs out and says how to fetch.
        let other = NodeDeps::new(root.path().join("other"));
        fs::create_dir_all(other.root().join(format!(".{}.partial-{}", other.id(), std::process::id())))
            .unwrap();
        assert!(matches!(
            other.require_within(Duration::from_millis(300)).await,
            Err(DepsError::NotFetched { .. })
        ));
    }

    #[test]
    fn read_only_trees_can_still_be_removed() {
        let root = tempfile::tempdir().unwrap();
        let set = fake_set(root.path());
        make_read_only(&set).unwrap();
        assert_eq!(
            fs::metadata(set.join("node_modules/vite/bin/vite.js")).unwrap().permissions().mode() & 0o777,
            0o444
        );
        remove_tree(&set).unwrap();
        assert!(!set.exists());
    }
}
