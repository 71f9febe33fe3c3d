//! Manifest validation: the structural rules every manifest must meet before anything writes its
//! files to disk. The policy gate reports these as violations; the builder relies on them so that a
//! manifest path can never land outside the work dir or inside its `.git`.

use std::collections::HashSet;
use std::fmt;

use super::GantryManifest;

/// Longest accepted path, in bytes; well under PATH_MAX so the work dir prefix always fits.
const MAX_PATH_BYTES: usize = 1024;
/// Longest accepted path component, in bytes (NAME_MAX on common file systems).
const MAX_COMPONENT_BYTES: usize = 255;
/// Longest accepted project name: it becomes a deploy project name and a branch suffix.
const MAX_PROJECT_NAME_CHARS: usize = 64;

/// Which structural rule a manifest broke; each has a stable rule name the policy gate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestErrorKind {
    EmptyPath,
    Absolute,
    Backslash,
    Traversal,
    GitDir,
    ControlChar,
    TooLong,
    NotNormalised,
    Duplicate,
    /// One file's path is a directory of another's, so both cannot be written.
    Conflict,
    ProjectName,
    AuditCommand,
    OutputDir,
}

impl ManifestErrorKind {
    /// The rule name used in policy violations.
    pub fn rule(self) -> &'static str {
        match self {
            ManifestErrorKind::EmptyPath => "path.empty",
            ManifestErrorKind::Absolute => "path.absolute",
            ManifestErrorKind::Backslash => "path.backslash",
            ManifestErrorKind::Traversal => "path.traversal",
            ManifestErrorKind::GitDir => "path.git_dir",
            ManifestErrorKind::ControlChar => "path.control_char",
            ManifestErrorKind::TooLong => "path.too_long",
            ManifestErrorKind::NotNormalised => "path.not_normalised",
            ManifestErrorKind::Duplicate => "path.duplicate",
            ManifestErrorKind::Conflict => "path.conflict",
            ManifestErrorKind::ProjectName => "manifest.project_name",
            ManifestErrorKind::AuditCommand => "manifest.audit_command",
            ManifestErrorKind::OutputDir => "manifest.output_dir",
        }
    }

    /// Whether the error is about one file's path (as opposed to a manifest field).
    pub fn is_file_path(self) -> bool {
        !matches!(
            self,
            ManifestErrorKind::ProjectName | ManifestErrorKind::AuditCommand | ManifestErrorKind::OutputDir
        )
    }
}

impl fmt::Display for ManifestErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rule())
    }
}

/// One broken rule. `path` is the offending file path as written in the manifest, or the field
/// name (`project_name`, `audit_command`, `output_dir`) for manifest-level rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", path.escape_debug())]
pub struct ManifestError {
    pub path: String,
    pub reason: String,
    pub kind: ManifestErrorKind,
}

impl ManifestError {
    /// The rule name the policy gate reports for this error, e.g. `path.traversal`.
    pub fn rule(&self) -> &'static str {
        self.kind.rule()
    }

    fn new(kind: ManifestErrorKind, path: &str, reason: impl Into<String>) -> Self {
        Self { path: path.to_owned(), reason: reason.into(), kind }
    }
}

/// The canonical form of a manifest path: `./` segments, repeated and trailing slashes removed.
///
/// Anything that could escape the work dir or be read differently by another tool is refused
/// rather than repaired: absolute paths, `..`, backslashes, control characters and `.git`.
pub fn normalise_path(path: &str) -> Result<String, ManifestError> {
    use ManifestErrorKind as K;
    let fail = |kind, reason: &str| Err(ManifestError::new(kind, path, reason));

    if path.is_empty() {
        return fail(K::EmptyPath, "the path is empty");
    }
    if path.chars().any(char::is_control) {
        return fail(K::ControlChar, "the path contains a control character");
    }
    if path.contains('\\') {
        return fail(K::Backslash, "the path contains a backslash; use `/` as the separator");
    }
    if path.starts_with('/') || has_drive_prefix(path) {
        return fail(K::Absolute, "the path is absolute; paths are relative to the project root");
    }

    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    if components.contains(&"..") {
        return fail(K::Traversal, "the path has a `..` component");
    }
    // Case-insensitive because `.GIT` is the same directory on macOS and Windows file systems.
    if components.iter().any(|c| c.eq_ignore_ascii_case(".git")) {
        return fail(K::GitDir, "the path is inside `.git`, which only Gantry writes");
    }
    if components.is_empty() {
        return fail(K::EmptyPath, "the path names no file");
    }
    if components.iter().any(|c| c.len() > MAX_COMPONENT_BYTES) {
        return fail(K::TooLong, "a path component is longer than 255 bytes");
    }
    let normalised = components.join("/");
    if normalised.len() > MAX_PATH_BYTES {
        return fail(K::TooLong, "the path is longer than 1024 bytes");
    }
    Ok(normalised)
}

/// `C:` style prefixes: absolute on Windows, and never a sensible name on Linux either.
fn has_drive_prefix(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Checks the whole manifest and reports every broken rule, in manifest order.
pub fn validate(manifest: &GantryManifest) -> Result<(), Vec<ManifestError>> {
    let mut errors = Vec::new();

    if let Err(reason) = check_project_name(&manifest.project_name) {
        errors.push(ManifestError::new(ManifestErrorKind::ProjectName, "project_name", reason));
    }
    if manifest.audit_command.trim().is_empty() {
        errors.push(ManifestError::new(
            ManifestErrorKind::AuditCommand,
            "audit_command",
            "the audit command is empty; every build must prove itself with an audit",
        ));
    }
    if let Some(dir) = manifest.output_dir.as_deref() {
        if let Err(reason) = check_output_dir(dir) {
            errors.push(ManifestError::new(ManifestErrorKind::OutputDir, "output_dir", reason));
        }
    }

    let mut seen = HashSet::new();
    let mut accepted = Vec::new();
    for file in &manifest.files {
        match normalise_path(&file.path) {
            Err(error) => errors.push(error),
            Ok(normalised) => {
                if !seen.insert(normalised.clone()) {
                    errors.push(ManifestError::new(
                        ManifestErrorKind::Duplicate,
                        &file.path,
                        format!("another file already has the path `{normalised}`"),
                    ));
                } else if normalised != file.path {
                    errors.push(ManifestError::new(
                        ManifestErrorKind::NotNormalised,
                        &file.path,
                        format!("the path is not normalised; write it as `{normalised}`"),
                    ));
                } else {
                    accepted.push(normalised);
                }
            }
        }
    }
    for path in &accepted {
        if let Some(dir) = ancestors(path).find(|dir| seen.contains(*dir)) {
            errors.push(ManifestError::new(
                ManifestErrorKind::Conflict,
                dir,
                format!("`{dir}` is a file, but `{path}` needs it to be a directory"),
            ));
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The proper directory prefixes of a normalised path: `a/b/c` gives `a/b`, then `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.rmatch_indices('/').map(move |(at, _)| &path[..at])
}

/// A safe slug: it becomes a deploy project name, a directory and part of a branch name.
fn check_project_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the project name is empty".to_owned());
    }
    if name.chars().count() > MAX_PROJECT_NAME_CHARS {
        return Err(format!("the project name is longer than {MAX_PROJECT_NAME_CHARS} characters"));
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err("the project name may only hold lowercase letters, digits and hyphens".to_owned());
    }
    // A leading hyphen would read as an option to any command the name is passed to.
    if name.starts_with('-') {
        return Err("the project name may not start with a hyphen".to_owned());
    }
    Ok(())
}

/// `output_dir` is optional; empty or `.` mean the project root, as `GantryManifest::output_dir`.
fn check_output_dir(dir: &str) -> Result<(), String> {
    if dir.is_empty() || dir == "." {
        return Ok(());
    }
    match normalise_path(dir) {
        Err(error) => {
            Err(format!("`{}` is not a valid relative directory: {}", dir.escape_debug(), error.reason))
        }
        Ok(normalised) if normalised != dir => {
            Err(format!("`{dir}` is not normalised; write it as `{normalised}`"))
        }
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ManifestFile, Stack};

    fn manifest(paths: &[&str]) -> GantryManifest {
        GantryManifest {
            project_name: "todo-app".to_owned(),
            stack: Stack::Static,
            files: paths
                .iter()
                .map(|p| ManifestFile { path: (*p).to_owned(), content: String::new() })
                .collect(),
            audit_command: "python3 audit.py".to_owned(),
            run_command: None,
            output_dir: None,
        }
    }

    fn kinds(manifest: &GantryManifest) -> Vec<ManifestErrorKind> {
        match validate(manifest) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.kind).collect(),
        }
    }

    fn kind_of(path: &str) -> Option<ManifestErrorKind> {
        normalise_path(path).err().map(|e| e.kind)
    }

    #[test]
    fn normalise_strips_dot_segments_and_extra_slashes() {
        assert_eq!(normalise_path("./index.html").as_deref(), Ok("index.html"));
        assert_eq!(normalise_path("src//app.js").as_deref(), Ok("src/app.js"));
        assert_eq!(normalise_path("public/").as_deref(), Ok("public"));
        assert_eq!(normalise_path("a/./b/./c.txt").as_deref(), Ok("a/b/c.txt"));
        assert_eq!(normalise_path("css/style.css").as_deref(), Ok("css/style.css"));
    }

    #[test]
    fn normalise_keeps_dotted_names_that_are_not_traversal() {
        assert_eq!(normalise_path(".gitignore").as_deref(), Ok(".gitignore"));
        assert_eq!(normalise_path("a..b/file.txt").as_deref(), Ok("a..b/file.txt"));
        assert_eq!(normalise_path(".github/workflows/ci.yml").as_deref(), Ok(".github/workflows/ci.yml"));
        assert_eq!(normalise_path("docs/.gitkeep").as_deref(), Ok("docs/.gitkeep"));
    }

    #[test]
    fn empty_paths_are_refused() {
        assert_eq!(kind_of(""), Some(ManifestErrorKind::EmptyPath));
        assert_eq!(kind_of("./"), Some(ManifestErrorKind::EmptyPath));
        assert_eq!(kind_of("."), Some(ManifestErrorKind::EmptyPath));
        assert_eq!(kind_of("index.html"), None);
    }

    #[test]
    fn absolute_paths_are_refused() {
        assert_eq!(kind_of("/etc/passwd"), Some(ManifestErrorKind::Absolute));
        assert_eq!(kind_of("//server/share"), Some(ManifestErrorKind::Absolute));
        assert_eq!(kind_of("C:/Windows/win.ini"), Some(ManifestErrorKind::Absolute));
        assert_eq!(kind_of("etc/passwd"), None);
    }

    #[test]
    fn backslashes_are_refused() {
        assert_eq!(kind_of("src\\app.js"), Some(ManifestErrorKind::Backslash));
        assert_eq!(kind_of("..\\..\\etc"), Some(ManifestErrorKind::Backslash));
        assert_eq!(kind_of("src/app.js"), None);
    }

    #[test]
    fn traversal_is_refused_anywhere_in_the_path() {
        assert_eq!(kind_of("../outside.txt"), Some(ManifestErrorKind::Traversal));
        assert_eq!(kind_of("a/../../b"), Some(ManifestErrorKind::Traversal));
        assert_eq!(kind_of("a/b/.."), Some(ManifestErrorKind::Traversal));
        assert_eq!(kind_of("a/b/c"), None);
    }

    #[test]
    fn git_dir_is_refused_in_any_component_and_case() {
        assert_eq!(kind_of(".git/config"), Some(ManifestErrorKind::GitDir));
        assert_eq!(kind_of("sub/.git/hooks/pre-commit"), Some(ManifestErrorKind::GitDir));
        assert_eq!(kind_of(".GIT/HEAD"), Some(ManifestErrorKind::GitDir));
        assert_eq!(kind_of("vendor/.git"), Some(ManifestErrorKind::GitDir));
        assert_eq!(kind_of(".gitattributes"), None);
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(kind_of("index\0.html"), Some(ManifestErrorKind::ControlChar));
        assert_eq!(kind_of("a\nb.txt"), Some(ManifestErrorKind::ControlChar));
        assert_eq!(kind_of("tab\there"), Some(ManifestErrorKind::ControlChar));
        assert_eq!(kind_of("\u{7f}.txt"), Some(ManifestErrorKind::ControlChar));
        assert_eq!(kind_of("café/menü.html"), None);
    }

    #[test]
    fn overlong_paths_are_refused() {
        let long_component = "a".repeat(256);
        assert_eq!(kind_of(&long_component), Some(ManifestErrorKind::TooLong));
        let long_path = vec!["abcdefghij"; 100].join("/");
        assert_eq!(kind_of(&long_path), Some(ManifestErrorKind::TooLong));
        assert_eq!(kind_of(&"a".repeat(255)), None);
    }

    #[test]
    fn a_clean_manifest_validates() {
        let m = manifest(&["index.html", "css/style.css", "js/app.js", "audit.py", ".gitignore"]);
        assert_eq!(validate(&m), Ok(()));
    }

    #[test]
    fn unnormalised_paths_are_reported_with_their_normal_form() {
        let m = manifest(&["./index.html", "css//style.css", "js/"]);
        let errors = validate(&m).unwrap_err();
        assert_eq!(errors.len(), 3);
        assert!(errors.iter().all(|e| e.kind == ManifestErrorKind::NotNormalised));
        assert!(errors[0].reason.contains("`index.html`"), "{}", errors[0].reason);
        assert_eq!(errors[0].path, "./index.html");
    }

    #[test]
    fn duplicates_after_normalisation_are_reported() {
        let m = manifest(&["index.html", "./index.html"]);
        assert_eq!(kinds(&m), vec![ManifestErrorKind::Duplicate]);
        assert_eq!(kinds(&manifest(&["index.html", "index.htm"])), vec![]);
    }

    #[test]
    fn a_file_that_is_also_a_directory_is_a_conflict() {
        let m = manifest(&["assets", "assets/logo.svg"]);
        let errors = validate(&m).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, ManifestErrorKind::Conflict);
        assert_eq!(errors[0].path, "assets");
        assert_eq!(kinds(&manifest(&["assets.txt", "assets/logo.svg"])), vec![]);
    }

    #[test]
    fn every_error_is_reported_not_just_the_first() {
        let mut m = manifest(&["/etc/passwd", "../x", ".git/config", "ok.txt"]);
        m.project_name = String::new();
        m.audit_command = "  ".to_owned();
        assert_eq!(
            kinds(&m),
            vec![
                ManifestErrorKind::ProjectName,
                ManifestErrorKind::AuditCommand,
                ManifestErrorKind::Absolute,
                ManifestErrorKind::Traversal,
                ManifestErrorKind::GitDir,
            ]
        );
    }

    #[test]
    fn project_name_must_be_a_safe_slug() {
        for bad in ["", "Todo", "todo app", "todo_app", "../todo", "-rf", "tödo", "a".repeat(65).as_str()] {
            let mut m = manifest(&["index.html"]);
            m.project_name = bad.to_owned();
            assert_eq!(kinds(&m), vec![ManifestErrorKind::ProjectName], "{bad:?}");
        }
        for good in ["todo-app", "app2", "a", "a".repeat(64).as_str()] {
            let mut m = manifest(&["index.html"]);
            m.project_name = good.to_owned();
            assert_eq!(validate(&m), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn audit_command_must_not_be_blank() {
        let mut m = manifest(&["index.html"]);
        m.audit_command = String::new();
        assert_eq!(kinds(&m), vec![ManifestErrorKind::AuditCommand]);
    }

    #[test]
    fn output_dir_must_be_a_normalised_relative_dir() {
        for bad in ["/var/www", "../dist", "dist/", ".git", "a\\b", "./dist"] {
            let mut m = manifest(&["index.html"]);
            m.output_dir = Some(bad.to_owned());
            assert_eq!(kinds(&m), vec![ManifestErrorKind::OutputDir], "{bad:?}");
        }
        for good in ["dist", "build/public", ".", ""] {
            let mut m = manifest(&["index.html"]);
            m.output_dir = Some(good.to_owned());
            assert_eq!(validate(&m), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn rule_names_are_stable() {
        assert_eq!(ManifestErrorKind::Traversal.rule(), "path.traversal");
        assert_eq!(ManifestErrorKind::Absolute.rule(), "path.absolute");
        assert_eq!(ManifestErrorKind::GitDir.rule(), "path.git_dir");
        assert!(ManifestErrorKind::Duplicate.is_file_path());
        assert!(!ManifestErrorKind::OutputDir.is_file_path());
    }

    #[test]
    fn display_escapes_control_characters_in_the_path() {
        let error = normalise_path("a\nb").unwrap_err();
        assert_eq!(error.to_string(), "a\\nb: the path contains a control character");
    }
}
