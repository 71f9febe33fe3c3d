//! One audit run: `sh -c <audit_command>` in a prepared work dir, bounded and isolated.
//! Knows nothing of missions or manifests, so the Fargate builder runs audits the same way.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::oneshot;

use gantry_domain::report::BuildLimits;
use gantry_domain::BuildReport;
use gantry_ports::BuildOutcome;

use crate::bwrap;
use crate::cgroup::RunCgroup;
use crate::deps::DEPS_MOUNT;
use crate::log::{shows_memory_exhaustion, tail_text, LogSink};
use crate::materialise::{refuse_shared_dir, WORK_DIR_MARKER};
use crate::options::{Isolation, SandboxOptions, SandboxUser, FIXED_ENV};
use crate::process::{chown_tree, kill_group, kill_tree, reachable_by, sweep_session, tasks_of, ChildSetup};
use crate::supervisor::{Kill, MemoryWatch};

pub(crate) const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// The audit's TMPDIR, inside the work dir (hidden, so deployers skip it) and removed after.
pub const TMP_DIR_NAME: &str = ".gantry-tmp";
/// How long output may trail the audit's end before the pipe is abandoned (a process that
/// escaped the kill may still hold it).
const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// How long the killed reaper may take to be reaped before it is left to the runtime.
const REAPER_GRACE: Duration = Duration::from_secs(5);
const MIB: u64 = 1024 * 1024;

/// Runs `command` with `sh -c` in `work_dir` under `limits`. The work dir must come from
/// [`materialise`](crate::materialise): when the server is root the whole tree is handed to the
/// sandbox user, which must never happen to a dir the build does not own.
///
/// A failing, timed-out or out-of-memory audit is `Ok` with `passed == false`; `Err` means the
/// sandbox itself could not start (work dir not materialised or shared, bubblewrap required
/// but unusable, spawn failure).
pub async fn run_audit(
    work_dir: &Path,
    command: &str,
    limits: BuildLimits,
    options: &SandboxOptions,
) -> io::Result<BuildOutcome> {
    let work_dir = std::path::absolute(work_dir)?;
    let user = options.effective_user();
    let bwrap = match options.isolation {
        Isolation::Process => false,
        Isolation::Auto => bwrap::usable(user).await,
        Isolation::Bwrap if bwrap::usable(user).await => true,
        Isolation::Bwrap => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "bubblewrap is required but cannot create a sandbox on this host",
            ))
        }
    };
    let prepared = {
        let work_dir = work_dir.clone();
        tokio::task::spawn_blocking(move || prepare(&work_dir, user)).await.map_err(io::Error::other)??
    };
    let cgroup =
        if options.cgroup { CgroupSlot::create(options.cgroup_parent.as_deref(), limits) } else { None };
    let deps = match &options.deps {
        Some(dir) => Some(DepsPlan::new(&work_dir, dir, bwrap, user)?),
        None => None,
    };
    let plan = Plan { bwrap, user, cgroup, stage: prepared, deps };

    let outcome = execute(&work_dir, command, limits, options, plan).await;
    let tmp = work_dir.join(TMP_DIR_NAME);
    let _ = tokio::task::spawn_blocking(move || fs::remove_dir_all(tmp)).await;
    outcome
}

/// Whether bubblewrap can sandbox audits on this host with these options.
pub async fn bwrap_usable(options: &SandboxOptions) -> bool {
    bwrap::usable(options.effective_user()).await
}

/// Everything decided before the child starts.
struct Plan {
    bwrap: bool,
    user: Option<SandboxUser>,
    cgroup: Option<CgroupSlot>,
    stage: Option<StageDir>,
    deps: Option<DepsPlan>,
}

/// How the deps dir reaches `<work dir>/.gantry-deps`, read-only.
enum DepsPlan {
    /// A root server binds it in the child's own mount namespace before giving up root (and
    /// before the stage, which carries it); bubblewrap's bind of the work dir keeps it, still
    /// read-only: a mount locked by a less privileged namespace cannot be made writable.
    Mount { dir: CString, mount: CString },
    /// A non-root server's bubblewrap binds it by path.
    Bind(PathBuf),
    /// A plain child of a non-root server can mount nothing: the mount point becomes a link,
    /// and only the set's file modes (read-only since its fetch) keep the audit from writing.
    Link,
}

impl DepsPlan {
    fn new(work_dir: &Path, dir: &Path, bwrap: bool, user: Option<SandboxUser>) -> io::Result<Self> {
        let mount = work_dir.join(DEPS_MOUNT);
        let empty =
            fs::symlink_metadata(&mount).is_ok_and(|m| m.is_dir()) && fs::read_dir(&mount)?.next().is_none();
        if !empty {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} must be an empty dir for the deps to be mounted on", mount.display()),
            ));
        }
        let dir = fs::canonicalize(dir)?;
        if user.is_some() {
            return Ok(DepsPlan::Mount { dir: c_path(&dir)?, mount: c_path(&fs::canonicalize(&mount)?)? });
        }
        if bwrap {
            return Ok(DepsPlan::Bind(dir));
        }
        fs::remove_dir(&mount)?;
        std::os::unix::fs::symlink(&dir, &mount)?;
        Ok(DepsPlan::Link)
    }
}

impl Plan {
    /// The layers, e.g. `bwrap+supervisor+rlimit+uid`. The memory cap is always watched by the
    /// `supervisor`; `cgroup` means the kernel holds it too, else per-process `rlimit`s back it.
    fn isolation(&self) -> String {
        let mut parts = Vec::new();
        if self.bwrap {
            parts.push("bwrap");
        }
        parts.push(if self.cgroup.is_some() { "cgroup+supervisor" } else { "supervisor+rlimit" });
        if self.user.is_some() {
            parts.push("uid");
        }
        parts.join("+")
    }
}

/// A run cgroup with its `cgroup.procs` already open, so the child can join it by a write.
struct CgroupSlot {
    cgroup: RunCgroup,
    procs: fs::File,
}

impl CgroupSlot {
    fn create(parent: Option<&Path>, limits: BuildLimits) -> Option<Self> {
        let cgroup = RunCgroup::create(parent, limits)?;
        let procs = cgroup.procs_file().ok()?;
        Some(Self { cgroup, procs })
    }
}

/// An empty mount point the work dir is bound onto inside the child's own mount namespace;
/// removed after the run (on the host it never stops being empty).
struct StageDir(PathBuf);

impl Drop for StageDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

/// Makes the work dir usable by the sandbox user: a TMPDIR inside it, the tree handed over,
/// and a stage dir when the user cannot reach the work dir through its ancestors.
fn prepare(work_dir: &Path, user: Option<SandboxUser>) -> io::Result<Option<StageDir>> {
    if !fs::symlink_metadata(work_dir)?.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the work dir is not a directory"));
    }
    refuse_shared_dir(work_dir)?;
    let marked = fs::symlink_metadata(work_dir.join(WORK_DIR_MARKER)).is_ok_and(|meta| meta.is_file());
    if !marked {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} was not prepared by `materialise`", work_dir.display()),
        ));
    }
    fs::create_dir_all(work_dir.join(TMP_DIR_NAME))?;
    let Some(user) = user else { return Ok(None) };
    chown_tree(work_dir, user)?;
    if reachable_by(&fs::canonicalize(work_dir)?, user)? {
        return Ok(None);
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let stage = std::env::temp_dir().join(format!("gantry-stage-{}-{n}", std::process::id()));
    fs::create_dir(&stage)?;
    let stage = StageDir(stage);
    fs::set_permissions(&stage.0, fs::Permissions::from_mode(0o755))?;
    Ok(Some(stage))
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)
}

/// A pipe whose ends are not inherited by anything else the server spawns.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both fds are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Kills everything below the reaper, then the reaper and its process group, when dropped,
/// so a cancelled run leaves nothing behind.
struct TreeGuard(u32);

impl Drop for TreeGuard {
    fn drop(&mut self) {
        kill_tree(self.0);
        kill_group(self.0);
    }
}

/// The audit's wait status as the reaper reports it; `None` when the reaper ended without
/// reporting one.
async fn audit_status(pipe: OwnedFd) -> Option<ExitStatus> {
    let mut pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(pipe).ok()?;
    let mut raw = [0u8; 4];
    pipe.read_exact(&mut raw).await.ok()?;
    Some(ExitStatus::from_raw(i32::from_ne_bytes(raw)))
}

async fn execute(
    work_dir: &Path,
    command: &str,
    limits: BuildLimits,
    options: &SandboxOptions,
    plan: Plan,
) -> io::Result<BuildOutcome> {
    let isolation = plan.isolation();
    let stage = plan.stage.as_ref().map(|stage| stage.0.clone());
    // The path under which the audit sees its work dir: bubblewrap mounts it at its own path.
    let visible = match &stage {
        Some(stage) if !plan.bwrap => stage.clone(),
        _ => work_dir.to_path_buf(),
    };
    let rlimited = plan.cgroup.is_none();
    // RLIMIT_NPROC counts every task of the uid, so the cap is headroom over what it runs now.
    // SAFETY: getuid cannot fail.
    let counted_uid = plan.user.map_or_else(|| unsafe { libc::getuid() }, |user| user.uid);
    let mut setup = ChildSetup {
        cgroup_procs: plan.cgroup.as_ref().map(|slot| slot.procs.as_raw_fd()),
        stage: match &stage {
            Some(stage) => Some((c_path(&fs::canonicalize(work_dir)?)?, c_path(stage)?)),
            None => None,
        },
        // DATA, not AS: V8 and the JVM reserve far more address space than they ever touch.
        data_bytes: rlimited.then(|| limits.memory_mb.saturating_mul(MIB)),
        max_tasks: rlimited.then(|| tasks_of(counted_uid).saturating_add(limits.max_pids)),
        deps_mount: match &plan.deps {
            Some(DepsPlan::Mount { dir, mount }) => Some((dir.clone(), mount.clone())),
            _ => None,
        },
        // A root server can give a plain child a network namespace of its own; bubblewrap
        // makes one anyway.
        new_net: !plan.bwrap && plan.user.is_some(),
        user: plan.user,
        no_new_privs: !plan.bwrap,
        reaper_status: None,
    };

    let (status_reader, status_writer) = pipe()?;
    setup.reaper_status = Some(status_writer.as_raw_fd());
    let (reader, writer) = pipe()?;
    let mut cmd = if plan.bwrap {
        let mut cmd = Command::new("bwrap");
        let source = stage.as_deref().unwrap_or(work_dir);
        let tmpfs_bytes = limits.memory_mb.saturating_mul(MIB);
        let deps = match &plan.deps {
            Some(DepsPlan::Bind(dir)) => Some(dir.as_path()),
            _ => None,
        };
        cmd.args(bwrap::args(work_dir, source, &options.extra_ro_binds, tmpfs_bytes, deps)).arg("sh");
        cmd
    } else {
        Command::new("sh")
    };
    let extra_env = options.extra_env.iter().filter(|(name, _)| !FIXED_ENV.contains(&name.as_str()));
    cmd.arg("-c")
        .arg(command)
        .current_dir(work_dir)
        .env_clear()
        .envs(extra_env.map(|(name, value)| (name, value)))
        .env("PATH", SANDBOX_PATH)
        .env("HOME", &visible)
        .env("LANG", "C.UTF-8")
        .env("TMPDIR", visible.join(TMP_DIR_NAME))
        .env("CI", "true")
        .env("NO_COLOR", "1")
        // npm never reaches a registry from here: fail at once instead of retrying for minutes,
        // run no install scripts, and keep its cache in the build's TMPDIR.
        .env("npm_config_offline", "true")
        .env("npm_config_fetch_retries", "0")
        .env("npm_config_cache", visible.join(TMP_DIR_NAME).join("npm-cache"))
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_ignore_scripts", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer));
    // SAFETY: `apply` makes only async-signal-safe system calls (see ChildSetup).
    unsafe {
        cmd.pre_exec(move || setup.apply());
    }

    let started = Instant::now();
    let mut child = cmd.spawn()?;
    // Our copies of the write ends must close, or the output never reaches end of file.
    drop(cmd);
    drop(status_writer);
    // The spawned process is the run's reaper; the audit runs below it.
    let reaper = child.id().ok_or_else(|| io::Error::other("the audit exited before it could be tracked"))?;
    let guard = TreeGuard(reaper);
    // Also under a cgroup: TMPDIR on disk is no memory to the kernel, but counts against the cap.
    let watch = MemoryWatch::start(reaper, limits.memory_mb.saturating_mul(MIB), work_dir.join(TMP_DIR_NAME));
    let (stop_reading, stop) = oneshot::channel();
    let mut output = tokio::spawn(read_output(reader, stop));

    let ended = tokio::time::timeout(Duration::from_secs(limits.timeout_seconds), async {
        match audit_status(status_reader).await {
            Some(status) => Ok(status),
            None => child.wait().await,
        }
    })
    .await;
    let duration = started.elapsed();
    let (status, timed_out) = match ended {
        Ok(status) => (Some(status?), false),
        Err(_) => (None, true),
    };
    let memory_killed = watch.stop();
    // Whatever the audit left running in the background goes too, then the reaper.
    drop(guard);
    if tokio::time::timeout(REAPER_GRACE, child.wait()).await.is_err() {
        tracing::warn!(reaper, "the run's reaper outlived its kill");
    }
    sweep_session(reaper);
    let cgroup_oom = match plan.cgroup {
        Some(slot) => slot.cgroup.finish().await,
        None => false,
    };
    drop(plan.stage);

    let mut sink = match tokio::time::timeout(OUTPUT_GRACE, &mut output).await {
        Ok(joined) => joined,
        Err(_) => {
            let _ = stop_reading.send(());
            output.await
        }
    }
    .map_err(io::Error::other)?;
    if timed_out {
        sink.note(&format!(
            "timed out after {} s; every process of the audit was killed",
            limits.timeout_seconds
        ));
    }
    if cgroup_oom {
        sink.note(&format!(
            "killed: the build reached its {} MiB cap; the kernel's OOM killer fired in its cgroup",
            limits.memory_mb
        ));
    }
    match memory_killed {
        Some(Kill::OverCap(bytes)) => sink.note(&format!(
            "killed: the build used {} MiB, over its {} MiB cap",
            bytes.div_ceil(MIB),
            limits.memory_mb
        )),
        Some(Kill::Unmeasurable) => {
            sink.note("killed: the build's memory could not be measured (a sample of it did not finish)")
        }
        None => {}
    }
    let log = sink.into_log();

    // Under bubblewrap a command killed by signal n shows as exit 128 + n (bwrap's own
    // convention, like a shell's); only a killed bwrap itself has no code.
    let exit_code = status.and_then(|status| status.code());
    let oom = cgroup_oom
        || matches!(memory_killed, Some(Kill::OverCap(_)))
        || (!timed_out && exit_code != Some(0) && shows_memory_exhaustion(&log));
    let report = BuildReport {
        passed: exit_code == Some(0) && !timed_out && !oom,
        exit_code,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        timed_out,
        oom,
        log_tail: tail_text(&log),
        log_sha256: hex::encode(Sha256::digest(&log)),
        isolation,
        limits,
        features: Vec::new(),
        install: None,
        output: None,
    };
    Ok(BuildOutcome { report, log, output: Vec::new() })
}

async fn read_output(pipe: OwnedFd, mut stop: oneshot::Receiver<()>) -> LogSink {
    let mut sink = LogSink::default();
    let mut pipe = match tokio::net::unix::pipe::Receiver::from_owned_fd(pipe) {
        Ok(pipe) => pipe,
        Err(error) => {
            sink.note(&format!("the audit's output could not be read: {error}"));
            return sink;
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = pipe.read(&mut buf) => match read {
                Ok(0) => break,
                Ok(n) => sink.push(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            },
            _ = &mut stop => {
                sink.note("output was still open after the audit ended; stopped reading");
                break;
            }
        }
    }
    sink
}
