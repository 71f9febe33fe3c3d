//! bubblewrap: a fresh root holding only the system's programs and the work dir, with no
//! network (not even loopback), its own pids, and nothing of the host's files beyond that.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::Command;

use crate::deps::DEPS_MOUNT;
use crate::options::SandboxUser;
use crate::process::{chown_tree, ChildSetup};

/// Top-level system dirs: bound read-only when they are dirs, recreated when they are the
/// merged-/usr symlinks.
const SYSTEM_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// The parts of /etc that programs need to start; no credentials, keys or host config.
const ETC_ENTRIES: &[&str] = &[
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
];

/// The arguments before the command: `source` (the host path of the work dir, or its stage)
/// appears read-write at `work_dir`, which is also the cwd. `/tmp` and `/dev/shm` are tmpfs
/// of at most `tmpfs_bytes` each (their contents are memory, counted against the build's cap);
/// the rest of `/dev` is read-only. `deps`, a dir, appears read-only at `<work_dir>/.gantry-deps`.
pub(crate) fn args(
    work_dir: &Path,
    source: &Path,
    extra_ro: &[PathBuf],
    tmpfs_bytes: u64,
    deps: Option<&Path>,
) -> Vec<OsString> {
    let size = OsString::from(tmpfs_bytes.to_string());
    let mut args: Vec<OsString> =
        ["--unshare-all", "--die-with-parent", "--new-session"].into_iter().map(OsString::from).collect();
    let mut push = |parts: &[&std::ffi::OsStr]| args.extend(parts.iter().map(OsString::from));

    push(&["--ro-bind".as_ref(), "/usr".as_ref(), "/usr".as_ref()]);
    for dir in SYSTEM_DIRS {
        match std::fs::read_link(dir) {
            Ok(target) => push(&["--symlink".as_ref(), target.as_os_str(), dir.as_ref()]),
            Err(_) if Path::new(dir).is_dir() => push(&["--ro-bind".as_ref(), dir.as_ref(), dir.as_ref()]),
            Err(_) => {}
        }
    }
    for entry in ETC_ENTRIES {
        push(&["--ro-bind-try".as_ref(), entry.as_ref(), entry.as_ref()]);
    }
    for extra in extra_ro {
        push(&["--ro-bind-try".as_ref(), extra.as_os_str(), extra.as_os_str()]);
    }
    // /tmp first: a work dir under /tmp must be bound on top of the empty tmpfs, not hidden by it.
    // /dev read-only: its own tmpfs has no size cap, so nothing may be written there.
    push(&[
        "--proc".as_ref(),
        "/proc".as_ref(),
        "--dev".as_ref(),
        "/dev".as_ref(),
        "--remount-ro".as_ref(),
        "/dev".as_ref(),
    ]);
    push(&["--size".as_ref(), size.as_os_str(), "--tmpfs".as_ref(), "/dev/shm".as_ref()]);
    push(&["--size".as_ref(), size.as_os_str(), "--tmpfs".as_ref(), "/tmp".as_ref()]);
    push(&["--bind".as_ref(), source.as_os_str(), work_dir.as_os_str()]);
    if let Some(deps) = deps {
        let mount = work_dir.join(DEPS_MOUNT);
        push(&["--ro-bind".as_ref(), deps.as_os_str(), mount.as_os_str()]);
    }
    push(&["--chdir".as_ref(), work_dir.as_os_str(), "--".as_ref()]);
    args
}

/// The probe's tmpfs size: any size proves bubblewrap takes `--size`.
const PROBE_TMPFS_BYTES: u64 = 1 << 20;

static PROBES: Mutex<Option<HashMap<Option<SandboxUser>, bool>>> = Mutex::new(None);

/// Whether bubblewrap can build our sandbox here, as `user`. Probed once per user per process:
/// installed is not enough, since a container may forbid the namespaces it needs.
pub(crate) async fn usable(user: Option<SandboxUser>) -> bool {
    if let Some(known) = PROBES.lock().ok().and_then(|probes| probes.as_ref()?.get(&user).copied()) {
        return known;
    }
    let works = probe(user).await;
    if !works {
        tracing::info!("bubblewrap is unavailable here; audits run as plain child processes");
    }
    if let Ok(mut probes) = PROBES.lock() {
        probes.get_or_insert_with(HashMap::new).insert(user, works);
    }
    works
}

async fn probe(user: Option<SandboxUser>) -> bool {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gantry-bwrap-probe-{}-{n}", std::process::id()));
    // create_dir, not create_dir_all: a path planted in the shared temp dir is refused (and
    // left alone, since it is not ours to remove).
    if std::fs::create_dir(&dir).is_err() {
        return false;
    }
    let handed_over = match user {
        Some(user) => chown_tree(&dir, user).is_ok(),
        None => true,
    };
    let works = handed_over && run_probe(&dir, user).await;
    let _ = std::fs::remove_dir_all(&dir);
    works
}

async fn run_probe(dir: &Path, user: Option<SandboxUser>) -> bool {
    let setup = ChildSetup { user, ..ChildSetup::default() };
    let mut command = Command::new("bwrap");
    command
        .args(args(dir, dir, &[], PROBE_TMPFS_BYTES, None))
        .args(["sh", "-c", "test -w ."])
        .current_dir(dir)
        .env_clear()
        .env("PATH", crate::audit::SANDBOX_PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    // SAFETY: `apply` makes only async-signal-safe system calls (see ChildSetup).
    unsafe {
        command.pre_exec(move || setup.apply());
    }
    match tokio::time::timeout(Duration::from_secs(10), command.status()).await {
        Ok(Ok(status)) => status.success(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_dir_is_bound_after_tmp_and_nothing_else_of_the_host_is() {
        let args: Vec<String> = args(Path::new("/tmp/w"), Path::new("/tmp/w"), &[], 128 << 20, None)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let tmpfs = args.iter().position(|a| a == "/tmp").map(|at| at - 1);
        let bind = args.iter().position(|a| a == "--bind");
        assert!(tmpfs < bind, "{args:?}");
        assert!(args.iter().any(|a| a == "--unshare-all") && args.iter().any(|a| a == "--die-with-parent"));
        for forbidden in ["/home", "/root", "/work", "/etc/shadow", "/etc"] {
            assert!(!args.iter().any(|a| a == forbidden), "{forbidden} is exposed: {args:?}");
        }
    }

    #[test]
    fn every_tmpfs_is_size_capped() {
        let args: Vec<String> =
            args(Path::new("/w"), Path::new("/w"), &[], 128 << 20, Some(Path::new("/set")))
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
        let mounts: Vec<&[String]> = args.windows(4).filter(|w| w[2] == "--tmpfs").collect();
        assert_eq!(mounts.len(), 2, "{args:?}");
        for mount in mounts {
            assert_eq!((mount[0].as_str(), mount[1].as_str()), ("--size", "134217728"), "{mount:?}");
        }
        assert!(
            args.windows(2).any(|w| w == ["--tmpfs", "/tmp"])
                && args.windows(2).any(|w| w == ["--tmpfs", "/dev/shm"])
        );
        assert!(args.windows(2).any(|w| w == ["--remount-ro", "/dev"]), "{args:?}");
        assert!(args.windows(3).any(|w| w == ["--ro-bind", "/set", "/w/.gantry-deps"]), "{args:?}");
    }
}
