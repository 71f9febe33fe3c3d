//! The audit's process: what happens between fork and exec, and making sure none of it outlives
//! the run.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::{lchown, MetadataExt};
use std::path::Path;

use crate::options::SandboxUser;

/// Everything the child does to itself before exec. Built in the parent so that the child
/// only makes system calls (no allocation, no locks: it is a fork of a threaded process).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildSetup {
    /// An open `cgroup.procs` of the run's cgroup: writing to it moves the child in.
    pub cgroup_procs: Option<RawFd>,
    /// (work dir, stage dir): bind the work dir onto the stage dir in a private mount namespace,
    /// for when the sandbox user cannot traverse the work dir's ancestors.
    pub stage: Option<(CString, CString)>,
    /// (deps dir, mount point in the work dir): bind the deps read-only, in a private mount
    /// namespace, before the stage (so the stage carries it). Needs root.
    pub deps_mount: Option<(CString, CString)>,
    /// A network namespace of its own, with nothing in it but a downed loopback. Needs root;
    /// bubblewrap makes its own.
    pub new_net: bool,
    pub data_bytes: Option<u64>,
    pub max_tasks: Option<u64>,
    pub user: Option<SandboxUser>,
    /// Set no_new_privs (bubblewrap sets it itself, and would break if installed setuid).
    pub no_new_privs: bool,
    /// The write end of the reaper's status pipe: when set, the spawned process stays behind as
    /// the run's reaper (see [`split_off_reaper`]) and the audit runs in a child of it.
    pub reaper_status: Option<RawFd>,
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: `limit` is a valid rlimit for the duration of the call.
    check(unsafe { libc::setrlimit(resource, &limit) })
}

impl ChildSetup {
    /// Runs in the forked child. The order matters: join the cgroup and mount while still
    /// privileged, set limits, then give up the uid (NPROC is checked against the new uid).
    pub(crate) fn apply(&self) -> io::Result<()> {
        // SAFETY: plain system calls on values owned by `self`, which outlives them; nothing
        // here allocates or takes a lock, as required between fork and exec.
        unsafe {
            // Own session and process group: the whole audit can be killed as one.
            check(libc::setsid())?;
            if let Some(fd) = self.cgroup_procs {
                let pid = b"0";
                if libc::write(fd, pid.as_ptr().cast(), pid.len()) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if self.new_net {
                check(libc::unshare(libc::CLONE_NEWNET))?;
            }
            if self.stage.is_some() || self.deps_mount.is_some() {
                check(libc::unshare(libc::CLONE_NEWNS))?;
                let root = c"/";
                check(libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ))?;
            }
            if let Some((deps, mount)) = &self.deps_mount {
                check(libc::mount(
                    deps.as_ptr(),
                    mount.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ))?;
                check(libc::mount(
                    std::ptr::null(),
                    mount.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
                    std::ptr::null(),
                ))?;
            }
            if let Some((work, stage)) = &self.stage {
                check(libc::mount(
                    work.as_ptr(),
                    stage.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ))?;
                // Work from the stage, not the real path: a program that resolves its cwd to an
                // absolute path (python3 does for its script) must not walk the private ancestors.
                check(libc::chdir(stage.as_ptr()))?;
            }
        }
        set_limit(libc::RLIMIT_CORE, 0)?;
        if let Some(bytes) = self.data_bytes {
            set_limit(libc::RLIMIT_DATA, bytes)?;
        }
        if let Some(tasks) = self.max_tasks {
            set_limit(libc::RLIMIT_NPROC, tasks)?;
        }
        if let Some(fd) = self.reaper_status {
            // Before the uid changes: the reaper stays root, out of reach of the audit's signals.
            split_off_reaper(fd)?;
        }
        // SAFETY: as above.
        unsafe {
            if let Some(user) = self.user {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setresgid(user.gid, user.gid, user.gid))?;
                check(libc::setresuid(user.uid, user.uid, user.uid))?;
            }
            if self.no_new_privs {
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            }
        }
        Ok(())
    }
}

/// Forks the audit off and turns the calling process into the run's reaper: a child
/// subreaper, so everything the audit starts (double forks and `setsid` included) stays below
/// it, however its parents die. Returns only in the audit's process; the reaper closes every
/// fd but `status_fd`, reaps all it is handed, writes the audit's raw wait status (4 bytes,
/// native order) to `status_fd` when the audit ends, and exits once it has no child left.
/// Only system calls here, as between fork and exec.
fn split_off_reaper(status_fd: RawFd) -> io::Result<()> {
    // SAFETY: plain system calls on local values; nothing allocates or takes a lock.
    unsafe {
        check(libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))?;
        let audit = libc::fork();
        if audit < 0 {
            return Err(io::Error::last_os_error());
        }
        if audit == 0 {
            return Ok(());
        }
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        // The server stops listening on a timeout: a write then must fail, not kill the reaper
        // while the tree below it is still being killed.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        close_all_but(status_fd);
        loop {
            let mut status: libc::c_int = 0;
            let pid = libc::waitpid(-1, &mut status, 0);
            if pid == audit {
                let bytes = status.to_ne_bytes();
                libc::write(status_fd, bytes.as_ptr().cast(), bytes.len());
            } else if pid < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        libc::_exit(0)
    }
}

/// Closes every fd except `keep`, so the reaper holds neither the audit's output pipe nor the
/// spawner's exec-error pipe open.
fn close_all_but(keep: RawFd) {
    let keep = keep.max(0) as libc::c_uint;
    // SAFETY: closing fds has no memory-safety preconditions.
    unsafe {
        let below = keep == 0 || libc::syscall(libc::SYS_close_range, 0, keep - 1, 0) == 0;
        let above = libc::syscall(libc::SYS_close_range, keep + 1, libc::c_uint::MAX, 0) == 0;
        if below && above {
            return;
        }
        // Kernels before 5.9 have no close_range.
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        let highest = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1 << 20) as libc::c_int
        } else {
            1024
        };
        for fd in (0..highest).filter(|fd| *fd as libc::c_uint != keep) {
            libc::close(fd);
        }
    }
}

/// Kills every process below `root` until none is left: the reaper keeps the tree connected
/// (an orphan is handed to it), and a process forking while being killed is caught on the next
/// pass. `root` itself is left alone.
pub(crate) fn kill_tree(root: u32) {
    let Ok(root) = i32::try_from(root) else { return };
    for _ in 0..50 {
        let below = descendants(root);
        if below.is_empty() {
            return;
        }
        for pid in below {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Live processes below `root`, from one scan of `/proc`.
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    let stats: Vec<ProcStat> = proc_stats().collect();
    tree_below(root, &stats)
}

/// The pids below `root` in the parent links of `stats`, `root` excluded.
pub(crate) fn tree_below(root: i32, stats: &[ProcStat]) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for stat in stats {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let mut found = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            // A pid loop cannot happen in /proc, but a torn read must not spin forever.
            if seen.insert(child) {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}

/// SIGKILL to a process group; a group that is already gone is not an error.
pub(crate) fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return };
    if pgid > 1 {
        // SAFETY: killpg has no memory-safety preconditions.
        unsafe { libc::killpg(pgid, libc::SIGKILL) };
    }
}

/// Kills every process still in the audit's session or process group, until none is left
/// (a process forking while being swept is caught on the next pass). Processes that made a
/// session of their own escape this; bubblewrap's pid namespace and the cgroup do not let them.
pub(crate) fn sweep_session(leader: u32) {
    for _ in 0..20 {
        let stragglers: Vec<i32> = proc_stats()
            .filter(|stat| stat.session == leader as i32 || stat.pgrp == leader as i32)
            .map(|stat| stat.pid)
            .collect();
        if stragglers.is_empty() {
            return;
        }
        for pid in stragglers {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
}

/// Parses `/proc/<pid>/stat`; the command name may hold spaces and parentheses, so the fields
/// are read after its last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcStat> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcStat { pid, state, ppid, pgrp, session })
}

/// Live (non-zombie) processes, as far as they can be read.
fn proc_stats() -> impl Iterator<Item = ProcStat> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|entry| fs::read_to_string(entry.path().join("stat")).ok())
        .filter_map(|text| parse_stat(&text))
        .filter(|stat| stat.state != 'Z' && stat.state != 'X')
}

/// How many tasks (threads included, as RLIMIT_NPROC counts them) `uid` runs right now.
pub(crate) fn tasks_of(uid: u32) -> u64 {
    let mut total = 0;
    for entry in fs::read_dir("/proc").into_iter().flatten().filter_map(Result::ok) {
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else { continue };
        let field = |name: &str| {
            status.lines().find_map(|line| line.strip_prefix(name)).and_then(|v| v.split_whitespace().next())
        };
        if field("Uid:").and_then(|v| v.parse::<u32>().ok()) == Some(uid) {
            total += field("Threads:").and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
        }
    }
    total
}

/// Hands the tree to the sandbox user, without following symlinks or crossing into another
/// filesystem (a mount inside the work dir is not the build's to give away).
pub(crate) fn chown_tree(path: &Path, user: SandboxUser) -> io::Result<()> {
    let device = fs::symlink_metadata(path)?.dev();
    chown_within(path, user, device)
}

fn chown_within(path: &Path, user: SandboxUser, device: u64) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.dev() != device {
        return Ok(());
    }
    lchown(path, Some(user.uid), Some(user.gid))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_within(&entry?.path(), user, device)?;
        }
    }
    Ok(())
}

/// Whether `user` may search every ancestor of `dir` (by mode bits; ACLs are not consulted).
pub(crate) fn reachable_by(dir: &Path, user: SandboxUser) -> io::Result<bool> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor)?;
        let mode = meta.mode();
        let searchable = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_awkward_names_parse() {
        let stat = parse_stat("4242 (sh -c (x)) S 1 4240 4239 0 -1 4194560 0 0")
            .map(|s| (s.pid, s.ppid, s.pgrp, s.session));
        assert_eq!(stat, Some((4242, 1, 4240, 4239)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_tree_below_a_root_follows_parent_links_only() {
        let stat = |pid, ppid| ProcStat { pid, state: 'S', ppid, pgrp: pid, session: pid };
        // 10 is the root; 11 and 12 are its children, 13 a grandchild; 20 and 21 are strangers.
        let stats =
            [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 10), stat(13, 12), stat(20, 1), stat(21, 20)];
        let mut below = tree_below(10, &stats);
        below.sort_unstable();
        assert_eq!(below, vec![11, 12, 13]);
        assert_eq!(tree_below(13, &stats), Vec::<i32>::new());
    }

    #[test]
    fn this_process_is_counted_among_its_uid_tasks() {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        assert!(tasks_of(uid) >= 1);
        assert_eq!(tasks_of(4_000_000_000), 0);
    }

    #[test]
    fn a_private_ancestor_makes_a_dir_unreachable() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("gantry-reach-{}", std::process::id()));
        let inner = base.join("inner");
        fs::create_dir_all(&inner).ok();
        let stranger = SandboxUser { uid: 4_000_000_001, gid: 4_000_000_001 };
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).ok();
        let open = reachable_by(&inner, stranger).ok();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o700)).ok();
        let closed = reachable_by(&inner, stranger).ok();
        fs::remove_dir_all(&base).ok();
        assert_eq!((open, closed), (Some(true), Some(false)));
    }
}
