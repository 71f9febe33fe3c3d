//! Writing a manifest into an empty work dir.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use gantry_domain::GantryManifest;

use crate::error::SandboxError;

/// Where the design image lands, relative to the work dir, without its extension.
pub const DESIGN_REFERENCE_STEM: &str = "public/design-reference";

/// Marks a dir that `materialise` made. `run_audit` hands only such dirs to the sandbox user,
/// so a wrong path can never give someone else's files away.
pub const WORK_DIR_MARKER: &str = ".gantry-work";

/// Replaces `dir` with an empty directory holding the manifest's files and the design image
/// (as `public/design-reference.<ext>`). Every path is checked before anything is written, so a
/// refused manifest leaves no partial tree behind.
pub fn materialise(
    dir: &Path,
    manifest: &GantryManifest,
    design_image: Option<(&str, &[u8])>,
) -> Result<(), SandboxError> {
    let io = |source| SandboxError::WorkDir { path: dir.to_path_buf(), source };
    let dir = std::path::absolute(dir).map_err(io)?;
    let mut writes: Vec<(PathBuf, &[u8])> = Vec::with_capacity(manifest.files.len() + 1);
    for file in &manifest.files {
        writes.push((contained_path(&dir, &file.path)?, file.content.as_bytes()));
    }
    if let Some((ext, bytes)) = design_image {
        let ext = image_extension(ext)?;
        writes.push((dir.join(format!("{DESIGN_REFERENCE_STEM}.{ext}")), bytes));
    }

    refuse_shared_dir(&dir).map_err(io)?;
    reset_dir(&dir).map_err(io)?;
    fs::write(dir.join(WORK_DIR_MARKER), b"").map_err(io)?;
    for (path, bytes) in writes {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        fs::write(&path, bytes).map_err(io)?;
    }
    Ok(())
}

/// Refuses dirs no build may own: the filesystem root and top-level dirs, and shared dirs such
/// as /tmp (sticky or world-writable), which hold other people's files.
pub(crate) fn refuse_shared_dir(dir: &Path) -> io::Result<()> {
    let depth = dir.components().filter(|c| matches!(c, Component::Normal(_))).count();
    if depth < 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is too close to the filesystem root to be a work dir", dir.display()),
        ));
    }
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() && meta.permissions().mode() & 0o1002 != 0 => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a shared directory, not a work dir", dir.display()),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `dir` joined with a relative path made only of plain names. Absolute paths, `..`, empty
/// paths and NUL bytes are refused rather than cleaned up: a manifest that needs cleaning
/// was never validated.
fn contained_path(dir: &Path, raw: &str) -> Result<PathBuf, SandboxError> {
    let refuse = || SandboxError::PathEscapes(raw.to_owned());
    if raw.contains('\0') {
        return Err(refuse());
    }
    let mut path = dir.to_path_buf();
    let mut depth = 0;
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(name) => {
                path.push(name);
                depth += 1;
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(refuse()),
        }
    }
    if depth == 0 {
        return Err(refuse());
    }
    Ok(path)
}

fn image_extension(ext: &str) -> Result<String, SandboxError> {
    let ext = ext.trim_start_matches('.').to_ascii_lowercase();
    let plain = !ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    if plain {
        Ok(ext)
    } else {
        Err(SandboxError::BadImageExtension(ext))
    }
}

/// Removes whatever is at `dir` (a previous attempt, or a symlink planted there) and
/// creates it empty.
fn reset_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(dir)?,
        Ok(_) => fs::remove_file(dir)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_stay_inside() {
        let dir = Path::new("/w");
        assert_eq!(contained_path(dir, "src/app/main.js").ok(), Some(PathBuf::from("/w/src/app/main.js")));
        assert_eq!(contained_path(dir, "./index.html").ok(), Some(PathBuf::from("/w/index.html")));
    }

    #[test]
    fn escaping_paths_are_refused() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "", ".", "a\0b"] {
            assert!(
                matches!(contained_path(Path::new("/w"), bad), Err(SandboxError::PathEscapes(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn image_extensions_must_be_plain() {
        assert_eq!(image_extension("PNG").ok(), Some("png".to_owned()));
        assert_eq!(image_extension(".webp").ok(), Some("webp".to_owned()));
        for bad in ["", "../png", "p/g", "toolongext"] {
            assert!(image_extension(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn top_level_and_shared_dirs_are_never_work_dirs() {
        for bad in ["/", "/root", "/tmp", "/gantry-surely-absent"] {
            assert!(refuse_shared_dir(Path::new(bad)).is_err(), "{bad}");
        }
        let base = std::env::temp_dir().join(format!("gantry-shared-{}", std::process::id()));
        let shared = base.join("shared");
        let private = base.join("private");
        fs::create_dir_all(&shared).ok();
        fs::create_dir_all(&private).ok();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).ok();
        fs::set_permissions(&private, fs::Permissions::from_mode(0o755)).ok();
        let verdicts = (refuse_shared_dir(&shared).is_err(), refuse_shared_dir(&private).is_ok());
        fs::remove_dir_all(&base).ok();
        assert_eq!(verdicts, (true, true));
    }
}
