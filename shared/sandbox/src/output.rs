//! Reading what a build left in its work dir. The build controls that tree, so it is hostile:
//! every step is an `openat` relative to an already-open directory with `O_NOFOLLOW`, no
//! symlink is ever followed, and a file is taken only when the descriptor actually opened is a
//! regular file with a single link (a hard link could name a file from outside the tree).
//! Everything else is skipped and reported. Sizes and counts are bounded.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use gantry_domain::manifest::normalise_path;
pub use gantry_ports::{OutputFile, OUTPUT_MAX_BYTES, OUTPUT_MAX_FILES};
/// How deep directories may nest below the output dir.
const MAX_DEPTH: usize = 64;

/// Why an entry of the output was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Symlink,
    HardLink,
    /// A device, fifo or socket.
    Special,
    /// Not UTF-8, or holding a control character: no deployer could name it safely.
    UnsafeName,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Symlink => "symlink",
            SkipReason::HardLink => "hard link",
            SkipReason::Special => "device, fifo or socket",
            SkipReason::UnsafeName => "unsafe name",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Relative to the output dir, '/'-separated.
    pub path: String,
    pub reason: SkipReason,
}

/// A build's output: the regular files taken, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOutput {
    pub files: Vec<OutputFile>,
    pub skipped: Vec<Skipped>,
}

impl BuildOutput {
    /// One line for the build log, or `None` when nothing was skipped.
    pub fn skipped_summary(&self) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        let shown: Vec<String> =
            self.skipped.iter().take(5).map(|s| format!("{} ({})", s.path, s.reason.as_str())).collect();
        let more = self.skipped.len().saturating_sub(shown.len());
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        Some(format!(
            "{} output entr{} not taken: {}{more}",
            self.skipped.len(),
            if self.skipped.len() == 1 { "y was" } else { "ies were" },
            shown.join(", ")
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("the output dir {0:?} is not a plain relative path")]
    BadPath(String),
    #[error("the output dir {0:?} is a symlink or passes through one; it was not followed")]
    Symlinked(String),
    #[error("the output dir {0:?} is not a directory")]
    NotADirectory(String),
    #[error("the output is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the output has more than {limit} files")]
    TooManyFiles { limit: usize },
    #[error("the output nests deeper than {MAX_DEPTH} directories")]
    TooDeep,
    #[error("cannot read the build's output: {0}")]
    Io(#[from] io::Error),
}

/// Reads the regular files under `output_dir` (relative to `work_dir`, `.` for the whole dir).
/// `Ok(None)` when the output dir does not exist. Names starting with `.` (build plumbing such
/// as the sandbox's tmp dir and marker) are not output.
pub fn read_build_output(work_dir: &Path, output_dir: &str) -> Result<Option<BuildOutput>, OutputError> {
    let mut dir = open_dir_at(None, work_dir.as_os_str())?;
    for name in relative_names(output_dir)? {
        match open_dir_at(Some(dir.as_raw_fd()), name) {
            Ok(next) => dir = next,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(OutputError::Symlinked(output_dir.to_owned()))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(if is_symlink_at(dir.as_raw_fd(), name) {
                    OutputError::Symlinked(output_dir.to_owned())
                } else {
                    OutputError::NotADirectory(output_dir.to_owned())
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut walk = Walk { output: BuildOutput::default(), bytes: 0 };
    walk.dir(&dir, "", 0)?;
    walk.output.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Some(walk.output))
}

/// Reads one regular, singly-linked file at `relative` under `work_dir` without following any
/// symlink on the way, up to `max_bytes` (more is an error). `Ok(None)` when it does not exist
/// or is not such a file (a symlink, hard link, dir, device, fifo or socket).
pub fn read_work_file(
    work_dir: &Path,
    relative: &str,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, OutputError> {
    let names = relative_names(relative)?;
    let Some((file, dirs)) = names.split_last() else {
        return Err(OutputError::BadPath(relative.to_owned()));
    };
    let mut dir = open_dir_at(None, work_dir.as_os_str())?;
    for name in dirs {
        match open_dir_at(Some(dir.as_raw_fd()), name) {
            Ok(next) => dir = next,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ELOOP | libc::ENOTDIR)) => {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        }
    }
    match open_file_at(dir.as_raw_fd(), file)? {
        Opened::File(handle, size) => {
            if size > max_bytes {
                return Err(OutputError::TooLarge { limit: max_bytes });
            }
            Ok(Some(read_bounded(handle, max_bytes)?))
        }
        Opened::Missing | Opened::Skip(_) | Opened::Dir(_) => Ok(None),
    }
}

/// The plain names of a relative path; `.` and empty mean the dir itself.
fn relative_names(raw: &str) -> Result<Vec<&OsStr>, OutputError> {
    let refuse = || OutputError::BadPath(raw.to_owned());
    if raw.contains('\0') {
        return Err(refuse());
    }
    let mut names = Vec::new();
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(name) => names.push(name),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(refuse()),
        }
    }
    Ok(names)
}

struct Walk {
    output: BuildOutput,
    bytes: u64,
}

impl Walk {
    fn dir(&mut self, dir: &OwnedFd, prefix: &str, depth: usize) -> Result<(), OutputError> {
        if depth > MAX_DEPTH {
            return Err(OutputError::TooDeep);
        }
        for name in list_dir(dir)? {
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let shown = String::from_utf8_lossy(name.as_bytes());
            let path = if prefix.is_empty() { shown.into_owned() } else { format!("{prefix}/{shown}") };
            let plain = std::str::from_utf8(name.as_bytes()).is_ok()
                && normalise_path(&path).is_ok_and(|p| p == path);
            if !plain {
                let path = path.escape_debug().to_string();
                self.output.skipped.push(Skipped { path, reason: SkipReason::UnsafeName });
                continue;
            }
            match open_file_at(dir.as_raw_fd(), OsStr::from_bytes(name.as_bytes()))? {
                Opened::Missing => {}
                Opened::Skip(reason) => self.output.skipped.push(Skipped { path, reason }),
                Opened::Dir(child) => self.dir(&child, &path, depth + 1)?,
                Opened::File(handle, size) => {
                    if self.output.files.len() >= OUTPUT_MAX_FILES {
                        return Err(OutputError::TooManyFiles { limit: OUTPUT_MAX_FILES });
                    }
                    let room = OUTPUT_MAX_BYTES - self.bytes;
                    if size > room {
                        return Err(OutputError::TooLarge { limit: OUTPUT_MAX_BYTES });
                    }
                    let bytes = read_bounded(handle, room).map_err(|e| match e.kind() {
                        io::ErrorKind::InvalidData => OutputError::TooLarge { limit: OUTPUT_MAX_BYTES },
                        _ => OutputError::Io(e),
                    })?;
                    self.bytes += bytes.len() as u64;
                    self.output.files.push(OutputFile { path, bytes });
                }
            }
        }
        Ok(())
    }
}

/// What `open_file_at` found, judged on the opened descriptor, never on the name.
enum Opened {
    Missing,
    Dir(OwnedFd),
    Skip(SkipReason),
    File(File, u64),
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Opens a directory with `O_NOFOLLOW`: relative to `at`, or (for the root) by absolute path,
/// whose last component must not be a symlink either.
fn open_dir_at(at: Option<RawFd>, name: &OsStr) -> io::Result<OwnedFd> {
    let name = c_name(name)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY;
    // SAFETY: `name` is a valid NUL-terminated string; the returned fd is owned below.
    let fd = unsafe { libc::openat(at.unwrap_or(libc::AT_FDCWD), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat succeeded, so `fd` is an open descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn is_symlink_at(dir: RawFd, name: &OsStr) -> bool {
    let Ok(name) = c_name(name) else { return false };
    stat_at(dir, &name).is_ok_and(|stat| stat.st_mode & libc::S_IFMT == libc::S_IFLNK)
}

fn stat_at(dir: RawFd, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: `stat` is plain old data that fstatat fills.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated and `dir` an open directory descriptor.
    if unsafe { libc::fstatat(dir, name.as_ptr(), &mut stat, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat)
}

fn stat_fd(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: `stat` is plain old data that fstat fills.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open descriptor.
    if unsafe { libc::fstat(fd, &mut stat) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat)
}

/// What an entry is, by its own metadata (a symlink is not followed).
fn classify(stat: &libc::stat) -> Result<bool, SkipReason> {
    match stat.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Ok(true),
        libc::S_IFREG if stat.st_nlink == 1 => Ok(false),
        libc::S_IFREG => Err(SkipReason::HardLink),
        libc::S_IFLNK => Err(SkipReason::Symlink),
        _ => Err(SkipReason::Special),
    }
}

/// Classifies `name` in `dir` without following it, opens only a dir or a singly-linked
/// regular file (never a fifo or device), with `O_NOFOLLOW`, and checks that the descriptor
/// opened is the entry that was classified: a swap in between is skipped, not followed.
fn open_file_at(dir: RawFd, name: &OsStr) -> io::Result<Opened> {
    let cname = c_name(name)?;
    let before = match stat_at(dir, &cname) {
        Ok(stat) => stat,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Opened::Missing),
        Err(e) => return Err(e),
    };
    let is_dir = match classify(&before) {
        Ok(is_dir) => is_dir,
        Err(reason) => return Ok(Opened::Skip(reason)),
    };
    let mut flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    if is_dir {
        flags |= libc::O_DIRECTORY;
    }
    // SAFETY: `cname` is NUL-terminated and `dir` an open directory descriptor.
    let fd = unsafe { libc::openat(dir, cname.as_ptr(), flags) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ENOENT) => Ok(Opened::Missing),
            Some(libc::ELOOP | libc::ENOTDIR) => Ok(Opened::Skip(SkipReason::Symlink)),
            _ => Err(error),
        };
    }
    // SAFETY: openat succeeded, so `fd` is an open descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let after = stat_fd(fd.as_raw_fd())?;
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino) {
        return Ok(Opened::Skip(SkipReason::Symlink));
    }
    Ok(match classify(&after) {
        Ok(true) => Opened::Dir(fd),
        Ok(false) => Opened::File(File::from(fd), u64::try_from(after.st_size).unwrap_or(u64::MAX)),
        Err(reason) => Opened::Skip(reason),
    })
}

/// Reads at most `limit` bytes; a file that grew past it is an error, not a silent cut.
fn read_bounded(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the file grew past the output bound"));
    }
    Ok(bytes)
}

/// The names in an open directory, without `.` and `..`.
fn list_dir(dir: &OwnedFd) -> io::Result<Vec<CString>> {
    // fdopendir takes ownership of the descriptor it is given, so it gets a duplicate.
    // SAFETY: `dir` is an open descriptor; dup returns a new one or -1.
    let dup = unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `dup` is an open directory descriptor that only this stream will own.
    let stream = unsafe { libc::fdopendir(dup) };
    if stream.is_null() {
        let error = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so `dup` is still ours to close.
        unsafe { libc::close(dup) };
        return Err(error);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: `stream` is a valid DIR* until closedir below.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    // SAFETY: `stream` is valid and closed exactly once.
    unsafe { libc::closedir(stream) };
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_must_be_plain_and_relative() {
        for bad in ["../x", "/etc", "a/../../b", "a\0b"] {
            assert!(matches!(relative_names(bad), Err(OutputError::BadPath(_))), "{bad:?}");
        }
        assert_eq!(relative_names(".").ok().map(|n| n.len()), Some(0));
        assert_eq!(relative_names("dist/app").ok().map(|n| n.len()), Some(2));
    }

    #[test]
    fn skipped_entries_are_summarised_in_one_bounded_line() {
        let output = BuildOutput {
            files: Vec::new(),
            skipped: (0..8).map(|i| Skipped { path: format!("f{i}"), reason: SkipReason::Symlink }).collect(),
        };
        let line = output.skipped_summary().unwrap_or_default();
        assert!(line.starts_with("8 output entries were not taken: f0 (symlink)"), "{line}");
        assert!(line.ends_with("and 3 more"), "{line}");
        assert_eq!(BuildOutput::default().skipped_summary(), None);
    }
}
