//! The server's own dirs (data dir, keys, work root) are private to the server's uid, so an
//! audit running as the sandbox user cannot reach the keys, the database or another mission's
//! work dir; its own work dir reaches it through the stage bind (see `audit::prepare`).
//!
//! This does nothing against an audit that runs as the server's own uid (a non-root server
//! without bubblewrap): only bubblewrap hides the data dir then.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (with any missing parents) and makes it mode 0700. An existing dir is
/// tightened when it is ours; a symlink in its place is refused.
pub fn make_private_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a symlink, not a private dir", dir.display()),
            ))
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a dir", dir.display()),
            ))
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        Err(e) => return Err(e),
    }
    let meta = fs::symlink_metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() == me && meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes an existing file of the server's (a key, the database) mode 0600.
pub fn make_private_file(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a file", path.display())));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs_are_created_or_tightened_to_0700_and_symlinks_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let fresh = root.path().join("a/b");
        make_private_dir(&fresh).expect("create");
        assert_eq!(fs::metadata(&fresh).expect("meta").mode() & 0o777, 0o700);

        let open = root.path().join("open");
        fs::create_dir(&open).expect("dir");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).expect("chmod");
        make_private_dir(&open).expect("tighten");
        assert_eq!(fs::metadata(&open).expect("meta").mode() & 0o777, 0o700);

        std::os::unix::fs::symlink(&open, root.path().join("link")).expect("symlink");
        assert!(make_private_dir(&root.path().join("link")).is_err());

        let file = root.path().join("db");
        fs::write(&file, "x").expect("file");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod");
        make_private_file(&file).expect("tighten");
        assert_eq!(fs::metadata(&file).expect("meta").mode() & 0o777, 0o600);
    }
}
