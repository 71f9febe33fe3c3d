//! How a run is sandboxed. Chosen once at start-up by the entry point.

use std::path::PathBuf;

/// Which wrapper holds the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// bubblewrap when it can create a sandbox here, else a plain child process.
    #[default]
    Auto,
    /// bubblewrap or nothing: a run is refused when bubblewrap is unusable.
    Bwrap,
    /// Never bubblewrap (the fallback path, forced; hosts where bubblewrap misbehaves).
    Process,
}

/// The uid and gid an audit runs as when the server runs as root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SandboxUser {
    pub uid: u32,
    pub gid: u32,
}

impl SandboxUser {
    /// `nobody:nogroup`: owns no files, so the audit can read only what is world-readable.
    pub const NOBODY: SandboxUser = SandboxUser { uid: 65534, gid: 65534 };
}

/// Variables every audit gets; `SandboxOptions::extra_env` cannot override them.
pub(crate) const FIXED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "TMPDIR",
    "CI",
    "NO_COLOR",
    "npm_config_offline",
    "npm_config_fetch_retries",
    "npm_config_cache",
    "npm_config_audit",
    "npm_config_fund",
    "npm_config_update_notifier",
    "npm_config_ignore_scripts",
];

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub isolation: Isolation,
    /// Use a cgroup v2 child for memory and pids when one can be created; else rlimits.
    pub cgroup: bool,
    /// A delegated cgroup v2 directory to create run cgroups under; by default the server's own.
    pub cgroup_parent: Option<PathBuf>,
    /// Who the audit runs as when the server is root (`None`: stay root, losing the pids cap
    /// and the `/proc` barrier; only for hosts that forbid changing uid).
    pub sandbox_user: Option<SandboxUser>,
    /// Extra variables for the audit (e.g. a registry mirror). Secrets do not belong here.
    pub extra_env: Vec<(String, String)>,
    /// Extra host paths made visible read-only inside bubblewrap (e.g. a toolchain in /opt).
    pub extra_ro_binds: Vec<PathBuf>,
    /// A dir mounted read-only at `<work dir>/.gantry-deps` (the curated node set of a node
    /// build; see `deps`). The work dir must hold that name as an empty dir.
    pub deps: Option<PathBuf>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            isolation: Isolation::Auto,
            cgroup: true,
            cgroup_parent: None,
            sandbox_user: Some(SandboxUser::NOBODY),
            extra_env: Vec::new(),
            extra_ro_binds: Vec::new(),
            deps: None,
        }
    }
}

impl SandboxOptions {
    pub fn with_deps(mut self, dir: PathBuf) -> Self {
        self.deps = Some(dir);
        self
    }

    pub fn with_isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Passes the named variables of the current process through to every audit, with the
    /// values they have now. Meant to be called once at start-up from an explicit allow-list;
    /// names unset here, and the fixed variables, are skipped.
    pub fn allow_env<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for name in names {
            let name = name.as_ref();
            if FIXED_ENV.contains(&name) {
                continue;
            }
            if let Ok(value) = std::env::var(name) {
                self.extra_env.push((name.to_owned(), value));
            }
        }
        self
    }

    /// The user to switch to: only a root server can, and must, change uid.
    pub(crate) fn effective_user(&self) -> Option<SandboxUser> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        self.sandbox_user.filter(|_| root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_env_never_overrides_fixed_variables() {
        let options = SandboxOptions::default().allow_env(["PATH", "GANTRY_SURELY_UNSET_VARIABLE"]);
        assert!(options.extra_env.is_empty(), "{:?}", options.extra_env);
    }

    #[test]
    fn allow_env_copies_named_variables() {
        // Cargo sets this for every test run.
        let options = SandboxOptions::default().allow_env(["CARGO_PKG_NAME"]);
        assert_eq!(options.extra_env, vec![("CARGO_PKG_NAME".to_owned(), "gantry-sandbox".to_owned())]);
    }
}
