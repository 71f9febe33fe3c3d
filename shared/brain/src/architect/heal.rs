//! Healing: reading a failed build's report and producing a manifest that should pass.
//!
//! A draft of ours is redrafted from the brief with only what the report blames taken out, and
//! the README says what was set aside. Somebody else's static app is kept and given what it
//! lacks (missing referenced files, our audit); anything we cannot repair gets a fresh draft.

use std::collections::BTreeSet;

use gantry_domain::consultation::{AppKind, Brief};
use gantry_domain::{node, BuildReport, GantryManifest, ManifestFile, Stack};

use super::blueprint::{self, Blueprint};
use super::features::{self, Feature};
use super::spec::{self, Origin, PriorSpec};
use super::template::escape_html;
use super::AUDIT_COMMAND;

/// Longest excerpt of an audit message quoted in the notes.
const QUOTE_CHARS: usize = 160;

/// One failed check, as audit.py prints it: `FAIL [check] message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub check: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    TimedOut,
    OutOfMemory,
    /// The audit ran and named what failed.
    ChecksFailed,
    /// The audit script itself was not there to run.
    AuditMissing,
    /// The audit script crashed before it could report.
    AuditCrashed,
    /// Anything else: the command failed without a message we know.
    Exited(Option<i32>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    pub cause: Cause,
    pub failures: Vec<Failure>,
}

impl Diagnosis {
    pub fn read(report: &BuildReport) -> Diagnosis {
        let log = &report.log_tail;
        let failures: Vec<Failure> = log.lines().filter_map(parse_failure).collect();
        let cause = if report.timed_out {
            Cause::TimedOut
        } else if report.oom {
            Cause::OutOfMemory
        } else if !failures.is_empty() {
            Cause::ChecksFailed
        } else if log.contains("can't open file")
            || (log.contains("No such file") && log.contains("audit.py"))
        {
            Cause::AuditMissing
        } else if log.contains("Traceback (most recent call last)") {
            Cause::AuditCrashed
        } else {
            Cause::Exited(report.exit_code)
        };
        Diagnosis { cause, failures }
    }

    /// One plain sentence on what failed.
    fn summary(&self, report: &BuildReport) -> String {
        match self.cause {
            Cause::TimedOut => {
                format!("The build timed out after {} seconds.", report.limits.timeout_seconds)
            }
            Cause::OutOfMemory => {
                format!("The build ran out of its {} MiB of memory.", report.limits.memory_mb)
            }
            Cause::AuditMissing => "The audit could not run because its script was missing.".to_owned(),
            Cause::AuditCrashed => "The audit script crashed before it could report.".to_owned(),
            Cause::Exited(Some(code)) => {
                format!("The audit exited with code {code} without naming a failed check.")
            }
            Cause::Exited(None) => "The audit was killed before it finished.".to_owned(),
            Cause::ChecksFailed => {
                let Some(first) = self.failures.first() else {
                    return "The audit failed.".to_owned();
                };
                let checks: BTreeSet<&str> = self.failures.iter().map(|f| f.check.as_str()).collect();
                let more = match self.failures.len() - 1 {
                    0 => String::new(),
                    1 => " and 1 more problem".to_owned(),
                    n => format!(" and {n} more problems"),
                };
                format!(
                    "The audit failed {} ({}): {}{more}.",
                    if checks.len() == 1 { "1 check".to_owned() } else { format!("{} checks", checks.len()) },
                    checks.into_iter().collect::<Vec<_>>().join(", "),
                    quote(&first.message)
                )
            }
        }
    }
}

fn parse_failure(line: &str) -> Option<Failure> {
    let rest = line.trim().strip_prefix("FAIL [")?;
    let (check, message) = rest.split_once("] ")?;
    let plain = !check.is_empty() && check.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
    plain.then(|| Failure { check: check.to_owned(), message: message.trim().to_owned() })
}

fn quote(message: &str) -> String {
    let trimmed = message.trim_end_matches('.');
    if trimmed.chars().count() <= QUOTE_CHARS {
        return trimmed.to_owned();
    }
    let mut cut: String = trimmed.chars().take(QUOTE_CHARS).collect();
    cut.push('…');
    cut
}

impl Failure {
    /// The feature this failure blames, when it names one or one of its element ids.
    fn feature(&self, kind: AppKind) -> Option<Feature> {
        if let Some(at) = self.message.find("(feature: ") {
            let key: String =
                self.message[at + "(feature: ".len()..].chars().take_while(|c| *c != ')').collect();
            return Feature::from_key(&key);
        }
        if !self.check.starts_with("ids.") {
            return None;
        }
        let id = self
            .message
            .split('#')
            .nth(1)?
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .next()?;
        Feature::ALL.into_iter().find(|f| features::hooks(kind, *f).contains(&id))
    }

    fn blames_design(&self) -> bool {
        self.message.contains("design-reference")
    }
}

pub(crate) fn heal(
    brief: &Brief,
    previous: &GantryManifest,
    report: &BuildReport,
) -> (GantryManifest, String) {
    if report.is_policy_refusal() {
        if let Some(repaired) = repair_dependencies(previous) {
            return repaired;
        }
    }
    let diagnosis = Diagnosis::read(report);
    if previous.stack == Stack::Node && brief.kind == Some(AppKind::React) {
        return (react(brief, previous), format!("{} {REACT_REDRAFT}", diagnosis.summary(report)));
    }
    let prior = previous.files.iter().find(|f| f.path == "audit.py").and_then(|f| spec::read(&f.content));
    let (manifest, change) = match prior {
        Some(prior) if prior.origin == Origin::Draft => redraft(brief, previous, &prior, &diagnosis),
        Some(prior) => fresh(
            &with_fallbacks(brief, Some(&prior), previous),
            previous,
            "The app had already been adapted once and still failed, so it was replaced by a fresh draft from the brief.",
        ),
        None => adapt(brief, previous, &diagnosis),
    };
    (manifest, format!("{} {change}", diagnosis.summary(report)))
}

/// What a heal of a node app planned as the React kind says: the offline brain knows one node
/// project, its React template.
const REACT_REDRAFT: &str = "The offline brain cannot repair a node build; it redrafted the React \
     template from the brief (the same project when the failed draft was its own), so a passing \
     retry means the failure was not in the draft.";

/// The React template for `brief`, under the previous project name, whoever drafted the node
/// app that failed.
fn react(brief: &Brief, previous: &GantryManifest) -> GantryManifest {
    let plan = Blueprint::from_brief(brief);
    plan.manifest(&keep_name(previous, &plan))
}

/// The gate refused a node app's dependencies: keep every file, drop each dependency the curated
/// set lacks and move each range it cannot meet to the set's version. The lock goes (the pipeline
/// writes it anew from the set). `None` when package.json has nothing of that kind to repair.
fn repair_dependencies(previous: &GantryManifest) -> Option<(GantryManifest, String)> {
    if previous.stack != Stack::Node {
        return None;
    }
    let package_json = node::root_file(previous, node::PACKAGE_JSON_PATH)?;
    let repair = node::repair_package_json(node::set(), &package_json.content)?;
    let package_path = package_json.path.clone();
    let mut manifest = previous.clone();
    let lock = node::root_file(previous, node::LOCK_PATH).map(|f| f.path.clone());
    manifest.files.retain(|f| Some(&f.path) != lock.as_ref());
    for file in manifest.files.iter_mut().filter(|f| f.path == package_path) {
        file.content = repair.package_json.clone();
    }
    let notes = format!(
        "The policy gate refused dependencies the curated set cannot provide. In package.json: {}.{}",
        repair.changes.join("; "),
        if lock.is_some() {
            " The old package-lock.json was removed; Gantry writes it from the set."
        } else {
            ""
        }
    );
    Some((manifest, notes))
}

/// The brief, with what it lacks taken from the previous draft's spec or the manifest itself, so
/// that an empty brief still yields the same kind of app under the same title.
fn with_fallbacks(brief: &Brief, prior: Option<&PriorSpec>, previous: &GantryManifest) -> Brief {
    let mut filled = brief.clone();
    if filled.kind.is_none() {
        filled.kind = prior.and_then(|p| p.kind).or_else(|| infer_from_manifest(previous));
    }
    if filled.title.is_none() {
        filled.title = prior.and_then(|p| p.title.clone());
    }
    if filled.features.is_empty() {
        if let Some(prior) = prior {
            filled.features = prior.features.iter().map(|f| f.key().replace('-', " ")).collect();
        }
    }
    filled
}

fn infer_from_manifest(previous: &GantryManifest) -> Option<AppKind> {
    let mut text = previous.project_name.clone();
    for file in &previous.files {
        text.push(' ');
        text.push_str(&file.path);
    }
    if let Some(title) =
        previous.files.iter().find(|f| f.path.ends_with("index.html")).and_then(|f| page_title(&f.content))
    {
        text.push(' ');
        text.push_str(&title);
    }
    blueprint::infer_kind(&text)
}

fn page_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = html.get(start..end)?.trim();
    (!title.is_empty()).then(|| title.to_owned())
}

fn keep_name(previous: &GantryManifest, plan: &Blueprint) -> String {
    if blueprint::is_project_name(&previous.project_name) {
        previous.project_name.clone()
    } else {
        blueprint::project_name(&plan.title, plan.kind)
    }
}

/// A fresh draft from the brief, under the previous project name.
fn fresh(brief: &Brief, previous: &GantryManifest, why: &str) -> (GantryManifest, String) {
    let plan = Blueprint::from_brief(brief);
    let manifest = plan.manifest(&keep_name(previous, &plan));
    (manifest, why.to_owned())
}

/// Our own draft failed: redraft it, keeping earlier repairs and taking out what the report blames.
fn redraft(
    brief: &Brief,
    previous: &GantryManifest,
    prior: &PriorSpec,
    diagnosis: &Diagnosis,
) -> (GantryManifest, String) {
    let mut plan = Blueprint::from_brief(&with_fallbacks(brief, Some(prior), previous));
    for feature in plan.features.clone() {
        if !prior.features.contains(&feature) {
            plan.set_aside(feature);
        }
    }
    if prior.design.is_none() && plan.design.is_some() {
        plan.set_design_aside();
    }

    let mut dropped: Vec<Feature> = Vec::new();
    let mut dropped_design = false;
    let mut unexplained = false;
    match diagnosis.cause {
        Cause::ChecksFailed => {
            for failure in &diagnosis.failures {
                if failure.blames_design() {
                    dropped_design |= plan.set_design_aside();
                } else if let Some(feature) = failure.feature(plan.kind) {
                    if plan.set_aside(feature) {
                        dropped.push(feature);
                    }
                } else {
                    unexplained = true;
                }
            }
        }
        Cause::AuditMissing => {}
        Cause::TimedOut | Cause::OutOfMemory | Cause::AuditCrashed | Cause::Exited(_) => unexplained = true,
    }
    let name = keep_name(previous, &plan);
    let mut manifest = plan.manifest(&name);
    // A failure nothing explains is first met by restoring the draft (a file may have been lost
    // or edited); only when the redraft would be the very manifest that failed is it cut back.
    let restored = manifest != *previous;
    let essentials_only = unexplained && !restored && (!plan.features.is_empty() || plan.design.is_some());
    if essentials_only {
        for feature in plan.features.clone() {
            plan.set_aside(feature);
            dropped.push(feature);
        }
        dropped_design |= plan.set_design_aside();
        manifest = plan.manifest(&name);
    }

    let noun = super::content::noun(plan.kind);
    let change = if essentials_only {
        format!(
            "Redrafted the {noun} with its essentials only (set aside: {}); the README lists what was left out.",
            names(&dropped, dropped_design)
        )
    } else if !dropped.is_empty() || dropped_design {
        format!(
            "Redrafted the {noun} without {}, which the README now lists as set aside.",
            names(&dropped, dropped_design)
        )
    } else if diagnosis.cause == Cause::AuditMissing {
        format!("Redrafted the {noun} with every file, audit.py included.")
    } else if restored {
        format!("Redrafted the {noun} from the brief, restoring the files the audit found broken.")
    } else {
        format!("Redrafted the {noun} from the brief; nothing more could be taken out, so it is retried as it is.")
    };
    (manifest, change)
}

fn names(features: &[Feature], design: bool) -> String {
    let mut names: Vec<String> = features.iter().map(|f| f.key().replace('-', " ")).collect();
    if design {
        names.push("the design reference figure".to_owned());
    }
    match names.len() {
        0 => "nothing".to_owned(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} and {last}", names.join(", "))
        }
    }
}

/// Somebody else's manifest failed: keep its files and repair them when it is a static site we
/// can check, else draft afresh.
fn adapt(brief: &Brief, previous: &GantryManifest, diagnosis: &Diagnosis) -> (GantryManifest, String) {
    let brief = with_fallbacks(brief, None, previous);
    if matches!(diagnosis.cause, Cause::TimedOut | Cause::OutOfMemory) {
        return fresh(
            &brief,
            previous,
            "Its files were replaced by a fresh static draft from the brief, which builds in seconds.",
        );
    }
    let root = previous.output_dir().trim_end_matches('/');
    let entry = if root == "." { "index.html".to_owned() } else { format!("{root}/index.html") };
    if !previous.files.iter().any(|f| f.path == entry) {
        return fresh(
            &brief,
            previous,
            "It had no index.html to serve as a static site, so a fresh draft from the brief replaces it.",
        );
    }
    if let Some(file) = previous.files.iter().find(|f| loads_from_network(f)) {
        let why = format!(
            "{} loads resources from the network, which a sandboxed offline build cannot provide, so a fresh draft from the brief replaces it.",
            file.path
        );
        return fresh(&brief, previous, &why);
    }

    let mut files: Vec<ManifestFile> =
        previous.files.iter().filter(|f| f.path != "audit.py").cloned().collect();
    let created = missing_files(&files);
    let created_paths: Vec<String> = created.iter().map(|f| f.path.clone()).collect();
    files.extend(created);
    let title = brief
        .title
        .clone()
        .or_else(|| previous.files.iter().find(|f| f.path == entry).and_then(|f| page_title(&f.content)));
    let audit_spec =
        spec::for_adapted(&files, &entry, brief.kind, title.as_deref().unwrap_or(&previous.project_name));
    let audit = blueprint::adapted_audit(&audit_spec);
    files.push(ManifestFile { path: "audit.py".to_owned(), content: audit });

    let name = if blueprint::is_project_name(&previous.project_name) {
        previous.project_name.clone()
    } else {
        blueprint::project_name(
            title.as_deref().unwrap_or(&previous.project_name),
            brief.kind.unwrap_or(AppKind::Landing),
        )
    };
    let kept = previous.files.len();
    let manifest = GantryManifest {
        project_name: name,
        stack: Stack::Static,
        files,
        audit_command: AUDIT_COMMAND.to_owned(),
        run_command: None,
        output_dir: previous.output_dir.clone(),
    };
    let created_note = if created_paths.is_empty() {
        String::new()
    } else {
        format!(", created the missing {}", created_paths.join(", "))
    };
    let change = format!(
        "Kept its {kept} files{created_note}, and replaced the audit `{}` with `{AUDIT_COMMAND}`, which checks what the app has.",
        previous.audit_command.trim()
    );
    (manifest, change)
}

/// Whether a page, stylesheet or script pulls something in from another host.
fn loads_from_network(file: &ManifestFile) -> bool {
    let path = file.path.to_ascii_lowercase();
    let text = file.content.to_ascii_lowercase();
    let remote = |prefix: &str| {
        ["http://", "https://", "//"].into_iter().any(|scheme| text.contains(&format!("{prefix}{scheme}")))
    };
    if path.ends_with(".html") || path.ends_with(".htm") {
        ["src=\"", "src='", "<link rel=\"stylesheet\" href=\"", "@import \"", "url("].into_iter().any(&remote)
    } else if path.ends_with(".css") {
        ["url(", "url(\"", "url('", "@import \"", "@import '"].into_iter().any(&remote)
    } else if path.ends_with(".js") || path.ends_with(".mjs") {
        let mentions = text.matches("http://").count() + text.matches("https://").count();
        let namespaces = text.matches("http://www.w3.org/").count();
        mentions > namespaces
    } else {
        false
    }
}

/// Placeholder files for what the pages reference but the manifest lacks, where a placeholder
/// can stand in (text formats only; an image cannot be made up).
fn missing_files(files: &[ManifestFile]) -> Vec<ManifestFile> {
    let present: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for file in files.iter().filter(|f| f.path.ends_with(".html") || f.path.ends_with(".htm")) {
        for reference in references(&file.content) {
            if let Some(target) = resolve(&file.path, &reference) {
                if !present.contains(target.as_str()) {
                    wanted.insert(target);
                }
            }
        }
    }
    wanted
        .into_iter()
        .filter_map(|path| placeholder(&path).map(|content| ManifestFile { path, content }))
        .collect()
}

/// The values of `src="…"` and `href="…"` attributes in a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=", "href="] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            let after = &rest[at + attribute.len()..];
            let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
            rest = after;
            if let Some(quote) = quote {
                if let Some(end) = after[1..].find(quote) {
                    found.push(after[1..1 + end].trim().to_owned());
                }
            }
        }
    }
    found
}

/// The manifest path a local reference from `page` points at; `None` for anything remote,
/// in-page, or outside the app.
fn resolve(page: &str, reference: &str) -> Option<String> {
    let value = reference.split(['#', '?']).next().unwrap_or_default();
    let lower = reference.to_ascii_lowercase();
    let not_a_file =
        ["#", "mailto:", "tel:", "data:", "blob:", "javascript:"].iter().any(|p| lower.starts_with(p));
    if value.is_empty() || not_a_file || lower.contains("://") || value.starts_with("//") {
        return None;
    }
    let mut parts: Vec<&str> = if value.starts_with('/') {
        Vec::new()
    } else {
        page.rsplit_once('/').map(|(dir, _)| dir.split('/').collect()).unwrap_or_default()
    };
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    let path = parts.join("/");
    gantry_domain::manifest::normalise_path(&path).ok().filter(|normalised| *normalised == path)
}

fn placeholder(path: &str) -> Option<String> {
    let note = "Placeholder created by Gantry's architect: a page referenced this file but the app did not include it.";
    let ext = path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    let content = match ext.as_str() {
        "css" => format!("/* {note} */\n"),
        "js" | "mjs" => format!("\"use strict\";\n/* {note} */\n"),
        "json" => "{}\n".to_owned(),
        "html" | "htm" => {
            let name = escape_html(path);
            format!(
                "<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>{name}</title>\n\
                 </head>\n<body>\n  <p>This page is still to be written.</p>\n  <!-- {note} -->\n</body>\n</html>\n"
            )
        }
        "txt" | "md" => format!("{note}\n"),
        "svg" => "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"></svg>\n".to_owned(),
        _ => return None,
    };
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_domain::report::BuildLimits;

    fn report(log: &str) -> BuildReport {
        BuildReport {
            passed: false,
            exit_code: Some(1),
            duration_ms: 120,
            timed_out: false,
            oom: false,
            log_tail: log.to_owned(),
            log_sha256: String::new(),
            isolation: "rlimit".to_owned(),
            limits: BuildLimits::default(),
            features: Vec::new(),
            install: None,
            output: None,
        }
    }

    #[test]
    fn a_refused_node_app_is_repaired_within_the_set_and_then_passes_the_gate() {
        let policy = gantry_domain::policy::Policy::default_policy().unwrap();
        let package_json = r#"{
  "name": "tally",
  "scripts": { "build": "tsc --noEmit && vite build", "test": "vitest run" },
  "dependencies": { "react": "^18.2.0", "react-dom": "^19", "moment": "^2.30.0" },
  "devDependencies": { "vite": "^8", "vitest": "^4", "typescript": "^5", "jest": "^29" }
}"#;
        let previous = GantryManifest {
            project_name: "tally".into(),
            stack: Stack::Node,
            files: vec![
                ManifestFile { path: "package.json".into(), content: package_json.into() },
                ManifestFile { path: "package-lock.json".into(), content: "{}".into() },
                ManifestFile {
                    path: "src/App.tsx".into(),
                    content: "export const App = () => null;\n".into(),
                },
            ],
            audit_command: "npm run build && npm test".into(),
            run_command: None,
            output_dir: Some("dist".into()),
        };
        let verdict = policy.evaluate(&previous);
        assert!(!verdict.allowed);
        let repairable: Vec<_> = verdict.violations.iter().filter(|v| v.repairable).cloned().collect();
        let brief = Brief::default();
        let (mut healed, notes) =
            heal(&brief, &previous, &BuildReport::policy_refusal(&repairable, policy.build));

        assert!(notes.contains("removed moment") && notes.contains("removed jest"), "{notes}");
        assert!(notes.contains("set react from `^18.2.0`"), "{notes}");
        assert_eq!(healed.stack, Stack::Node);
        assert!(healed.files.iter().any(|f| f.path == "src/App.tsx"), "the app's files are kept");
        assert!(!healed.files.iter().any(|f| f.path == "package-lock.json"));
        node::add_lock(&mut healed).expect("the repaired package.json is served by the set");
        let verdict = policy.evaluate(&healed);
        assert!(verdict.allowed, "{:?}", verdict.violations);
    }

    #[test]
    fn failed_checks_are_read_from_the_log() {
        let log = "noise\nFAIL [asset.missing] index.html references styles.css, which does not exist\n\
                   FAIL [ids.missing] app.js uses #x, which no page defines\nFAIL [Bad] nope\naudit failed\n";
        let diagnosis = Diagnosis::read(&report(log));
        assert_eq!(diagnosis.cause, Cause::ChecksFailed);
        assert_eq!(diagnosis.failures.len(), 2);
        assert_eq!(diagnosis.failures[0].check, "asset.missing");
        let summary = diagnosis.summary(&report(log));
        assert!(summary.contains("asset.missing, ids.missing"), "{summary}");
        assert!(summary.contains("styles.css, which does not exist"), "{summary}");
    }

    #[test]
    fn the_cause_comes_from_the_report_when_there_are_no_checks() {
        let mut timed_out = report("");
        timed_out.timed_out = true;
        assert_eq!(Diagnosis::read(&timed_out).cause, Cause::TimedOut);
        let missing = report("python3: can't open file '/w/audit.py': [Errno 2] No such file or directory");
        assert_eq!(Diagnosis::read(&missing).cause, Cause::AuditMissing);
        let crashed = report("Traceback (most recent call last):\n  File \"audit.py\"\nKeyError: 'x'");
        assert_eq!(Diagnosis::read(&crashed).cause, Cause::AuditCrashed);
        assert_eq!(Diagnosis::read(&report("something odd")).cause, Cause::Exited(Some(1)));
    }

    #[test]
    fn a_failure_blames_the_feature_it_names_or_whose_id_it_lacks() {
        let named = Failure {
            check: "behaviour.missing".into(),
            message: "app.js shows no sign that x (feature: export)".into(),
        };
        assert_eq!(named.feature(AppKind::Todo), Some(Feature::Export));
        let by_id = Failure {
            check: "ids.missing".into(),
            message: "app.js uses #category-filter, which no page defines".into(),
        };
        assert_eq!(by_id.feature(AppKind::Todo), Some(Feature::Categories));
        let essential = Failure {
            check: "ids.missing".into(),
            message: "app.js uses #task-list, which no page defines".into(),
        };
        assert_eq!(essential.feature(AppKind::Todo), None);
    }

    #[test]
    fn references_resolve_inside_the_app_only() {
        assert_eq!(resolve("index.html", "css/site.css?v=2").as_deref(), Some("css/site.css"));
        assert_eq!(resolve("docs/page.html", "../img/a.svg").as_deref(), Some("img/a.svg"));
        assert_eq!(resolve("docs/page.html", "/main.js").as_deref(), Some("main.js"));
        for outside in
            ["../../x.css", "https://cdn.example.com/a.js", "//cdn.example.com/a.js", "#top", "mailto:a@b.c"]
        {
            assert_eq!(resolve("docs/page.html", outside), None, "{outside}");
        }
    }

    #[test]
    fn pages_that_load_from_the_network_are_recognised() {
        let cdn = ManifestFile {
            path: "index.html".into(),
            content: "<script src=\"https://cdn.example.com/x.js\"></script>".into(),
        };
        assert!(loads_from_network(&cdn));
        let link = ManifestFile {
            path: "index.html".into(),
            content: "<a href=\"https://example.com\">us</a>".into(),
        };
        assert!(!loads_from_network(&link));
        let svg = ManifestFile {
            path: "app.js".into(),
            content: "const NS = \"http://www.w3.org/2000/svg\";".into(),
        };
        assert!(!loads_from_network(&svg));
    }
}
