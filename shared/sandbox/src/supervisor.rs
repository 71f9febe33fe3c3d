//! The memory cap in user space, for hosts where no cgroup holds it (and alongside one where
//! a cgroup does): a watcher that every [`PERIOD`] adds up what the whole build holds and kills
//! the build past its cap. It counts the proportional set size of every process below the run's
//! reaper (a shared page counts once, split among its sharers), every tmpfs mounted only for
//! the build (bubblewrap's `/tmp` and `/dev/shm`, or one the audit mounted in a namespace of its
//! own), and the build's TMPDIR in the work dir.
//!
//! It samples, so it is not a hard limit: between two samples a build can go past the cap
//! (without a cgroup, RLIMIT_DATA still bounds each process's private memory). It does not see
//! kernel memory, System V shared memory or a memfd that no process maps; a cgroup does. A
//! sample that cannot finish (a build can stall a lookup in a FUSE mount of its own) kills the
//! build: memory that cannot be measured is not allowed.

use std::collections::HashSet;
use std::ffi::{CString, OsString};
use std::fs;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::process::{descendants, kill_tree};

/// How often the build's memory is added up.
pub(crate) const PERIOD: Duration = Duration::from_millis(100);
/// How long one sample may take (it usually takes milliseconds) before the build is killed.
const SAMPLE_DEADLINE: Duration = Duration::from_secs(5);
/// Bounds on the work of one sample, so a build cannot make the watcher's walk unbounded: TMPDIR
/// entries, mount namespaces inspected, bytes of one mount table.
const TMP_DIR_ENTRIES: usize = 20_000;
const MOUNT_NAMESPACES: usize = 64;
const MOUNTINFO_BYTES: u64 = 1 << 20;

/// What a build holds at one sample, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub processes: u64,
    pub tmpfs: u64,
    pub tmp_dir: u64,
}

impl Usage {
    pub(crate) fn total(&self) -> u64 {
        self.processes.saturating_add(self.tmpfs).saturating_add(self.tmp_dir)
    }
}

/// Why the watcher killed a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kill {
    /// It held this many bytes, over its cap.
    OverCap(u64),
    /// A sample did not finish within [`SAMPLE_DEADLINE`].
    Unmeasurable,
}

/// `killed_at` values: not killed, or killed unmeasured; any other value is the bytes held.
const NOT_KILLED: u64 = 0;
const UNMEASURED: u64 = u64::MAX;

struct Watch {
    reaper: u32,
    cap_bytes: u64,
    tmp_dir: PathBuf,
    /// tmpfs filesystems the server itself sees: the host's, not the build's.
    host_tmpfs: HashSet<u64>,
    killed_at: AtomicU64,
}

/// A running watcher; dropping it stops the watching (not the build).
pub(crate) struct MemoryWatch {
    watch: Arc<Watch>,
    task: JoinHandle<()>,
}

impl MemoryWatch {
    /// Watches everything below `reaper`, and `tmp_dir`, against `cap_bytes`.
    pub(crate) fn start(reaper: u32, cap_bytes: u64, tmp_dir: PathBuf) -> Self {
        let host_tmpfs = fs::read("/proc/self/mountinfo")
            .map(|info| tmpfs_mounts(&info).into_iter().map(|(dev, _)| dev).collect())
            .unwrap_or_default();
        let watch =
            Arc::new(Watch { reaper, cap_bytes, tmp_dir, host_tmpfs, killed_at: AtomicU64::new(NOT_KILLED) });
        let task = tokio::spawn(Arc::clone(&watch).run());
        Self { watch, task }
    }

    /// Stops watching; `Some` when the watcher killed the build.
    pub(crate) fn stop(self) -> Option<Kill> {
        self.task.abort();
        match self.watch.killed_at.load(Ordering::SeqCst) {
            NOT_KILLED => None,
            UNMEASURED => Some(Kill::Unmeasurable),
            bytes => Some(Kill::OverCap(bytes)),
        }
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watch {
    async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let watch = Arc::clone(&self);
            let sampled =
                tokio::time::timeout(SAMPLE_DEADLINE, tokio::task::spawn_blocking(move || watch.sample()));
            let killed_at = match sampled.await {
                Ok(Ok(usage)) if usage.total() <= self.cap_bytes => continue,
                Ok(Ok(usage)) => {
                    tracing::info!(
                        reaper = self.reaper,
                        ?usage,
                        cap = self.cap_bytes,
                        "build over its memory cap"
                    );
                    // Never UNMEASURED: that many bytes cannot be held.
                    usage.total().clamp(1, UNMEASURED - 1)
                }
                Ok(Err(_)) => return,
                Err(_) => {
                    tracing::warn!(reaper = self.reaper, "a memory sample did not finish; killing the build");
                    UNMEASURED
                }
            };
            // Recorded before the kill, so the run never sees the audit die without it.
            self.killed_at.store(killed_at, Ordering::SeqCst);
            let reaper = self.reaper;
            let _ = tokio::task::spawn_blocking(move || kill_tree(reaper)).await;
            return;
        }
    }

    fn sample(&self) -> Usage {
        let Ok(reaper) = i32::try_from(self.reaper) else { return Usage::default() };
        let pids = descendants(reaper);
        Usage {
            processes: pids.iter().filter_map(|pid| process_bytes(*pid)).fold(0, u64::saturating_add),
            tmpfs: private_tmpfs_bytes(&pids, &self.host_tmpfs),
            tmp_dir: dir_bytes(&self.tmp_dir, TMP_DIR_ENTRIES),
        }
    }
}

/// A process's proportional set size, or its resident size where the kernel has no
/// `smaps_rollup` (before 4.14; shared pages then count once per sharer).
fn process_bytes(pid: i32) -> Option<u64> {
    if let Ok(rollup) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
        return pss_bytes(&rollup);
    }
    let statm = fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let resident: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    Some(resident.saturating_mul(page))
}

/// The `Pss:` line of `smaps_rollup`, in bytes.
pub(crate) fn pss_bytes(rollup: &str) -> Option<u64> {
    let line = rollup.lines().find_map(|line| line.strip_prefix("Pss:"))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The bytes used on every tmpfs the build's processes see that the host does not, each
/// filesystem counted once however many namespaces or mount points show it.
fn private_tmpfs_bytes(pids: &[i32], host_tmpfs: &HashSet<u64>) -> u64 {
    let mut namespaces = HashSet::new();
    let mut counted = HashSet::new();
    let mut total = 0u64;
    for pid in pids {
        let Ok(namespace) = fs::read_link(format!("/proc/{pid}/ns/mnt")) else { continue };
        if namespaces.len() >= MOUNT_NAMESPACES {
            break;
        }
        if !namespaces.insert(namespace) {
            continue;
        }
        let Some(info) = read_bounded(&format!("/proc/{pid}/mountinfo"), MOUNTINFO_BYTES) else { continue };
        for (dev, mount_point) in tmpfs_mounts(&info) {
            if host_tmpfs.contains(&dev) || counted.contains(&dev) {
                continue;
            }
            let mut path = format!("/proc/{pid}/root").into_bytes();
            path.extend_from_slice(mount_point.as_os_str().as_bytes());
            if let Some(used) = used_bytes(Path::new(&OsString::from_vec(path)), dev) {
                counted.insert(dev);
                total = total.saturating_add(used);
            }
        }
    }
    total
}

/// The first `limit` bytes of a file.
fn read_bounded(path: &str, limit: u64) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path).ok()?.take(limit).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The bytes in use on the filesystem at `path`, if it is still the one with device `dev` (a
/// mount point hidden by a later mount shows another filesystem).
fn used_bytes(path: &Path, dev: u64) -> Option<u64> {
    if fs::metadata(path).ok()?.dev() != dev {
        return None;
    }
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain old data; all zeroes is a valid value for it to overwrite.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a valid C string and `stat` a valid statvfs for the call.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    Some(stat.f_blocks.saturating_sub(stat.f_bfree).saturating_mul(stat.f_frsize))
}

/// (device, mount point) of each tmpfs in a `/proc/<pid>/mountinfo`. Bytes, not text: a mount
/// point need not be UTF-8, and one that is not must not hide its mount.
pub(crate) fn tmpfs_mounts(mountinfo: &[u8]) -> Vec<(u64, PathBuf)> {
    let number = |field: &[u8]| std::str::from_utf8(field).ok()?.parse::<u32>().ok();
    mountinfo
        .split(|byte| *byte == b'\n')
        .filter_map(|line| {
            let fields: Vec<&[u8]> = line.split(|byte| *byte == b' ').collect();
            // Optional fields end at a lone "-"; the filesystem type comes right after it.
            let separator = fields.iter().position(|field| *field == b"-")?;
            if fields.get(separator + 1).copied() != Some(b"tmpfs".as_slice()) {
                return None;
            }
            let device = fields.get(2)?;
            let colon = device.iter().position(|byte| *byte == b':')?;
            let dev = libc::makedev(number(&device[..colon])?, number(&device[colon + 1..])?);
            Some((dev, PathBuf::from(OsString::from_vec(unescape_octal(fields.get(4)?)))))
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo`.
fn unescape_octal(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes.get(i + 1..i + 4).filter(|_| bytes[i] == b'\\').and_then(|digits| {
            let digits = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(digits, 8).ok()
        });
        match code {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// The bytes allocated to files under `dir` (symlinks not followed), walking at most `limit`
/// entries.
pub(crate) fn dir_bytes(dir: &Path, limit: usize) -> u64 {
    let mut total = 0u64;
    let mut seen = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = fs::read_dir(&next) else { continue };
        for entry in entries.filter_map(Result::ok) {
            seen += 1;
            if seen > limit {
                return total;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total = total.saturating_add(meta.blocks().saturating_mul(512));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_is_read_from_smaps_rollup_in_bytes() {
        let rollup = "55d0c0a00000-7ffc5a1f0000 ---p 00000000 00:00 0  [rollup]\n\
                      Rss:              409872 kB\nPss:              136624 kB\nPss_Anon:         409600 kB\n";
        assert_eq!(pss_bytes(rollup), Some(136_624 * 1024));
        assert_eq!(pss_bytes("Rss: 12 kB\n"), None);
    }

    #[test]
    fn only_tmpfs_mounts_are_listed_with_their_unescaped_paths() {
        let info = b"22 1 0:21 / /tmp rw,nosuid - tmpfs tmpfs rw,size=131072k\n\
                    23 1 254:1 / /work rw - ext4 /dev/vda rw\n\
                    24 22 0:22 / /dev/my\\040shm rw shared:5 master:1 - tmpfs tmpfs rw\n\
                    25 1 0:23 / /proc rw master:1 - proc proc rw\n\
                    26 1 0:24 / /x\xff\xfe rw - tmpfs tmpfs rw\n";
        assert_eq!(
            tmpfs_mounts(info),
            vec![
                (libc::makedev(0, 21), PathBuf::from("/tmp")),
                (libc::makedev(0, 22), PathBuf::from("/dev/my shm")),
                (libc::makedev(0, 24), PathBuf::from(OsString::from_vec(b"/x\xff\xfe".to_vec()))),
            ]
        );
    }

    #[test]
    fn a_backslash_not_followed_by_three_octal_digits_stays() {
        assert_eq!(unescape_octal(br"a\040b\\x\9"), b"a b\\\\x\\9".to_vec());
    }

    #[test]
    fn files_under_a_dir_are_counted_by_their_allocated_bytes_and_the_walk_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        fs::write(dir.path().join("a/b/big"), vec![1u8; 1 << 20]).expect("file");
        fs::write(dir.path().join("small"), b"x").expect("file");
        std::os::unix::fs::symlink("/usr", dir.path().join("link")).expect("symlink");
        let counted = dir_bytes(dir.path(), 100);
        assert!((1 << 20..(1 << 20) + 64 * 1024).contains(&counted), "{counted}");
        assert!(dir_bytes(dir.path(), 1) < 1 << 20);
    }

    #[test]
    fn the_total_adds_every_part() {
        let usage = Usage { processes: 3, tmpfs: 4, tmp_dir: 5 };
        assert_eq!(usage.total(), 12);
        assert_eq!(Usage { processes: u64::MAX, tmpfs: 1, tmp_dir: 0 }.total(), u64::MAX);
    }
}
