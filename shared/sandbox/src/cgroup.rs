//! A cgroup v2 per run: a hard memory cap for the whole audit (not per process, as rlimits
//! are), a pids cap that does not care about uids, and a kill switch for everything inside.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gantry_domain::report::BuildLimits;

static NEXT_RUN: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
pub(crate) struct RunCgroup {
    dir: PathBuf,
}

impl RunCgroup {
    /// A fresh cgroup holding `limits`, or `None` when this host offers no usable cgroup v2
    /// (no unified hierarchy, no memory/pids controller, or no right to delegate them).
    pub(crate) fn create(parent: Option<&Path>, limits: BuildLimits) -> Option<Self> {
        let parent = match parent {
            Some(dir) => dir.to_path_buf(),
            None => own_cgroup_dir()?,
        };
        if let Err(error) = enable_controllers(&parent) {
            tracing::debug!(parent = %parent.display(), %error, "cgroup v2 controllers unavailable");
            return None;
        }
        let name = format!("gantry-{}-{}", std::process::id(), NEXT_RUN.fetch_add(1, Ordering::Relaxed));
        let cgroup = RunCgroup { dir: parent.join(name) };
        match cgroup.configure(limits) {
            Ok(()) => Some(cgroup),
            Err(error) => {
                tracing::debug!(dir = %cgroup.dir.display(), %error, "cannot create a run cgroup");
                let _ = fs::remove_dir(&cgroup.dir);
                None
            }
        }
    }

    fn configure(&self, limits: BuildLimits) -> io::Result<()> {
        fs::create_dir(&self.dir)?;
        fs::write(self.dir.join("memory.max"), (limits.memory_mb * 1024 * 1024).to_string())?;
        match fs::write(self.dir.join("memory.swap.max"), "0") {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // One OOM kill takes the whole audit down rather than leaving it half alive.
        let _ = fs::write(self.dir.join("memory.oom.group"), "1");
        fs::write(self.dir.join("pids.max"), limits.max_pids.to_string())
    }

    pub(crate) fn procs_file(&self) -> io::Result<fs::File> {
        fs::OpenOptions::new().write(true).open(self.dir.join("cgroup.procs"))
    }

    /// Kills everything left inside, waits for it to go, removes the cgroup and says whether
    /// the kernel's OOM killer fired in it.
    pub(crate) async fn finish(self) -> bool {
        self.kill_all();
        for _ in 0..200 {
            if !self.populated() {
                break;
            }
            self.kill_all();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let oom = fs::read_to_string(self.dir.join("memory.events"))
            .map(|events| oom_kills(&events) > 0)
            .unwrap_or(false);
        if let Err(error) = fs::remove_dir(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot remove a run cgroup");
        }
        oom
    }

    fn kill_all(&self) {
        if fs::write(self.dir.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        // Kernels before 5.14 have no cgroup.kill.
        let procs = fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|line| line.trim().parse::<libc::pid_t>().ok()) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    fn populated(&self) -> bool {
        fs::read_to_string(self.dir.join("cgroup.events"))
            .map(|events| events.lines().any(|line| line.trim() == "populated 1"))
            .unwrap_or(false)
    }
}

impl Drop for RunCgroup {
    /// A cancelled run still leaves nothing running; `finish` has usually done this already.
    fn drop(&mut self) {
        if self.dir.exists() {
            self.kill_all();
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

fn enable_controllers(parent: &Path) -> io::Result<()> {
    let available = fs::read_to_string(parent.join("cgroup.controllers"))?;
    if !has_controllers(&available) {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "memory and pids controllers missing"));
    }
    let enabled = fs::read_to_string(parent.join("cgroup.subtree_control"))?;
    if !has_controllers(&enabled) {
        fs::write(parent.join("cgroup.subtree_control"), "+memory +pids")?;
    }
    Ok(())
}

fn has_controllers(list: &str) -> bool {
    let names: Vec<&str> = list.split_whitespace().collect();
    names.contains(&"memory") && names.contains(&"pids")
}

/// The server's own cgroup in the unified hierarchy, wherever that is mounted.
fn own_cgroup_dir() -> Option<PathBuf> {
    let mount = cgroup2_mount(&fs::read_to_string("/proc/self/mounts").ok()?)?;
    let path = unified_path(&fs::read_to_string("/proc/self/cgroup").ok()?)?;
    Some(mount.join(path.trim_start_matches('/')))
}

fn cgroup2_mount(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_source, target, fstype) = (fields.next()?, fields.next()?, fields.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(target.replace("\\040", " ")))
    })
}

/// The `0::<path>` entry; a path that climbs out of the namespace's view is not usable.
fn unified_path(cgroups: &str) -> Option<String> {
    let path = cgroups.lines().find_map(|line| line.strip_prefix("0::"))?;
    (!path.split('/').any(|part| part == "..")).then(|| path.to_owned())
}

fn oom_kills(events: &str) -> u64 {
    events
        .lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_unified_hierarchy_in_hybrid_and_pure_layouts() {
        let hybrid = "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n\
                      cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
        assert_eq!(cgroup2_mount(hybrid), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(
            cgroup2_mount("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        assert_eq!(cgroup2_mount("cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n"), None);
    }

    #[test]
    fn reads_the_unified_path_and_refuses_escapes() {
        assert_eq!(
            unified_path("4:memory:/x\n0::/system.slice/gantry.service\n").as_deref(),
            Some("/system.slice/gantry.service")
        );
        assert_eq!(unified_path("0::/../../outside\n"), None);
        assert_eq!(unified_path("4:memory:/x\n"), None);
    }

    #[test]
    fn counts_oom_kills_not_oom_events() {
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n"), 2);
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n"), 0);
    }

    #[test]
    fn controllers_must_both_be_present() {
        assert!(has_controllers("cpuset cpu io memory hugetlb pids"));
        assert!(!has_controllers("cpu io memory"));
        assert!(!has_controllers("hugetlb"));
    }
}
