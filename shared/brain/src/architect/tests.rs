//! The drafts, run as the build runs them: each manifest is written to a fresh temporary
//! directory (with a stand-in design image when the brief has one) and its own audit command is
//! run with `sh -c`. A draft is only good if its audit passes there, and an audit is only good if
//! it fails when the app is broken.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use gantry_domain::consultation::{AppKind, Brief};
use gantry_domain::manifest;
use gantry_domain::policy::Policy;
use gantry_domain::report::{BuildLimits, FeatureResult, FeatureStatus, ResultsFile, RESULTS_FILE};
use gantry_domain::themes::Theme;
use gantry_domain::{BuildReport, GantryManifest, ManifestFile, Stack};

use super::blueprint::design_path;
use super::features;
use super::{draft, heal, AUDIT_COMMAND};

/// A temporary work dir, removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> WorkDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("gantry-architect-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the work dir");
        WorkDir(dir)
    }

    fn write(&self, manifest: &GantryManifest, design_image: Option<&str>) {
        for file in &manifest.files {
            let path = self.0.join(&file.path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("create a parent dir");
            }
            fs::write(path, &file.content).expect("write a manifest file");
        }
        if let Some(key) = design_image {
            let path = self.0.join(design_path(key));
            fs::create_dir_all(path.parent().expect("the image has a parent dir")).expect("create public/");
            fs::write(path, b"not really an image").expect("write the design image");
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

struct AuditRun {
    passed: bool,
    code: Option<i32>,
    output: String,
    /// What the audit wrote to .gantry/results.json.
    results: Vec<FeatureResult>,
}

impl AuditRun {
    fn report(&self) -> BuildReport {
        BuildReport {
            passed: self.passed,
            exit_code: self.code,
            duration_ms: 10,
            timed_out: false,
            oom: false,
            log_tail: self.output.clone(),
            log_sha256: String::new(),
            isolation: "test".to_owned(),
            limits: BuildLimits::default(),
            features: self.results.clone(),
            install: None,
            output: None,
        }
    }
}

/// Writes the manifest, plus the design image the build would add, and runs its audit command.
fn run_audit(manifest: &GantryManifest, design_image: Option<&str>) -> AuditRun {
    let dir = WorkDir::new();
    dir.write(manifest, design_image);
    let output = Command::new("sh")
        .arg("-c")
        .arg(&manifest.audit_command)
        .current_dir(&dir.0)
        .output()
        .expect("sh and python3 are installed");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let results = fs::read(dir.0.join(RESULTS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ResultsFile>(&bytes).ok())
        .map(|file| file.features)
        .unwrap_or_default();
    AuditRun { passed: output.status.success(), code: output.status.code(), output: text, results }
}

fn brief(kind: AppKind, theme: Option<Theme>, features: &[&str], design_image: Option<&str>) -> Brief {
    Brief {
        kind: Some(kind),
        title: Some(format!("My {} app", kind.as_str())),
        theme,
        features: features.iter().map(|f| (*f).to_owned()).collect(),
        design_image: design_image.map(str::to_owned),
        ..Brief::default()
    }
}

/// Every optional feature of `kind`, as a person would name it.
fn all_features(kind: AppKind) -> Vec<String> {
    features::optional(kind).iter().map(|f| f.key().replace('-', " ")).collect()
}

fn file<'m>(manifest: &'m GantryManifest, path: &str) -> &'m str {
    manifest.files.iter().find(|f| f.path == path).map_or("", |f| f.content.as_str())
}

fn edit(manifest: &mut GantryManifest, path: &str, change: impl FnOnce(&str) -> String) {
    let target = manifest.files.iter_mut().find(|f| f.path == path).expect("the file is in the manifest");
    target.content = change(&target.content);
}

fn assert_passes(manifest: &GantryManifest, design_image: Option<&str>, context: &str) {
    let run = run_audit(manifest, design_image);
    assert!(run.passed, "{context}: the audit failed:\n{}", run.output);
    assert!(run.output.contains("audit passed"), "{context}: {}", run.output);
}

fn assert_fails_with(manifest: &GantryManifest, design_image: Option<&str>, check: &str) {
    let run = run_audit(manifest, design_image);
    assert!(!run.passed, "expected [{check}] to fail, but the audit passed:\n{}", run.output);
    assert_eq!(run.code, Some(1), "{}", run.output);
    assert!(run.output.contains(&format!("FAIL [{check}]")), "expected [{check}]:\n{}", run.output);
}

#[test]
fn every_kind_with_any_theme_and_features_passes_its_own_audit_and_the_policy() {
    let policy = Policy::default_policy().expect("the repository policy loads");
    let image = "uploads/mock-up.PNG";
    for kind in AppKind::ALL.into_iter().filter(|kind| *kind != AppKind::React) {
        let every = all_features(kind);
        let evens: Vec<String> = every.iter().step_by(2).cloned().collect();
        let odds: Vec<String> = every.iter().skip(1).step_by(2).cloned().collect();
        let variants: [(Option<Theme>, &[String], Option<&str>); 4] = [
            (None, &[], None),
            (Some(Theme::Spotify), every.as_slice(), Some(image)),
            (Some(Theme::Linkedin), evens.as_slice(), None),
            (Some(Theme::Slack), odds.as_slice(), Some("uploads/shot.webp")),
        ];
        for (theme, wanted, design) in variants {
            let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            let manifest = draft(&brief(kind, theme, &wanted, design));
            let context = format!("{kind:?} / {theme:?} / {wanted:?}");
            assert_eq!(manifest.audit_command, AUDIT_COMMAND, "{context}");
            assert_eq!(manifest.output_dir(), ".", "{context}");
            assert_eq!(manifest::validate(&manifest), Ok(()), "{context}");
            let verdict = policy.evaluate(&manifest);
            assert!(verdict.allowed, "{context}: {:?}", verdict.violations);
            assert_passes(&manifest, design, &context);
        }
    }
}

#[test]
fn an_empty_brief_still_drafts_a_working_app() {
    let manifest = draft(&Brief::default());
    assert!(!manifest.project_name.is_empty());
    assert_eq!(manifest::validate(&manifest), Ok(()));
    assert_passes(&manifest, None, "empty brief");
}

#[test]
fn a_todo_draft_builds_what_was_asked_and_owns_up_to_the_rest() {
    let wanted = ["categories", "due dates", "search", "dark mode", "export", "reminders"];
    let manifest = draft(&Brief {
        title: Some("Taskly".into()),
        ..brief(AppKind::Todo, Some(Theme::Spotify), &wanted, None)
    });
    assert_eq!(manifest.project_name, "taskly");
    let html = file(&manifest, "index.html");
    for id in
        ["category-select", "category-filter", "due-input", "search-input", "scheme-toggle", "export-button"]
    {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing #{id}");
    }
    assert!(!html.contains("id=\"priority-select\""), "priorities were not asked for");
    assert!(html.contains("<title>Taskly</title>"));
    let js = file(&manifest, "app.js");
    assert!(js.contains("localStorage") && js.contains("download(") && js.contains("\"gantry:\" + PROJECT"));
    assert!(file(&manifest, "styles.css").contains("--primary: #1DB954;"));
    let readme = file(&manifest, "README.md");
    assert!(readme.contains("\"reminders\""), "{readme}");
    assert!(readme.contains("categories: pick one per task"), "{readme}");
}

#[test]
fn the_kinds_get_their_own_data_and_structure() {
    let blog = draft(&brief(AppKind::Blog, None, &["tags", "search"], None));
    assert!(file(&blog, "data.json").contains("\"posts\""));
    assert!(file(&blog, "index.html").contains("id=\"tag-filter\""));
    let dashboard = draft(&brief(AppKind::Dashboard, None, &["charts"], None));
    assert!(file(&dashboard, "app.js").contains("createElementNS"));
    assert!(file(&dashboard, "data.json").contains("\"kpis\""));
    let kanban = draft(&brief(AppKind::Kanban, None, &["drag and drop"], None));
    assert!(file(&kanban, "app.js").contains("\"dragstart\""));
    let plain_kanban = draft(&brief(AppKind::Kanban, None, &[], None));
    assert!(!file(&plain_kanban, "app.js").contains("dragstart"), "drag and drop only when asked");
    for kind in [AppKind::Todo, AppKind::Notes, AppKind::Kanban, AppKind::Landing] {
        assert!(draft(&brief(kind, None, &[], None)).files.iter().all(|f| f.path != "data.json"), "{kind:?}");
    }
}

#[test]
fn the_design_image_is_shown_and_documented() {
    let manifest = draft(&brief(AppKind::Landing, None, &[], Some("uploads/abc.jpeg")));
    assert!(file(&manifest, "index.html").contains("src=\"public/design-reference.jpeg\""));
    assert!(file(&manifest, "README.md").contains("public/design-reference.jpeg"));
    assert!(
        !file(&draft(&brief(AppKind::Landing, None, &[], None)), "index.html").contains("design-reference")
    );
}

#[test]
fn a_hostile_title_is_escaped_and_the_app_still_passes() {
    let title = "<script>alert('x')</script> & \"Co\" ''' {{title}}";
    let manifest = draft(&Brief { title: Some(title.into()), ..brief(AppKind::Blog, None, &["tags"], None) });
    let html = file(&manifest, "index.html");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"), "{html}");
    assert!(!file(&manifest, "app.js").contains("alert('x')"), "the title never reaches the script");
    assert_passes(&manifest, None, "hostile title");
}

#[test]
fn drafts_are_deterministic() {
    let wanted = ["tags", "search", "comments"];
    let b = brief(AppKind::Blog, Some(Theme::Notion), &wanted, Some("uploads/a.gif"));
    assert_eq!(draft(&b), draft(&b));
}

#[test]
fn the_audit_fails_a_broken_app_naming_the_check() {
    let todo = draft(&brief(AppKind::Todo, None, &["categories", "export"], None));

    let mut missing_asset = todo.clone();
    missing_asset.files.retain(|f| f.path != "styles.css");
    assert_fails_with(&missing_asset, None, "asset.missing");
    assert_fails_with(&missing_asset, None, "files.missing");

    let mut missing_id = todo.clone();
    edit(&mut missing_id, "index.html", |html| html.replace("id=\"task-list\"", "id=\"task-lost\""));
    assert_fails_with(&missing_id, None, "ids.missing");
    assert_fails_with(&missing_id, None, "ids.required");

    let mut missing_hook = todo.clone();
    edit(&mut missing_hook, "index.html", |html| {
        html.replace("id=\"export-button\"", "class=\"export-button\"")
    });
    assert_fails_with(&missing_hook, None, "feature.missing");

    let mut unbalanced = todo.clone();
    edit(&mut unbalanced, "app.js", |js| js.replacen("function persist() {", "function persist() {{", 1));
    assert_fails_with(&unbalanced, None, "js.syntax");

    let mut open_string = todo.clone();
    edit(&mut open_string, "app.js", |js| js.replacen("\"use strict\";", "\"use strict;", 1));
    assert_fails_with(&open_string, None, "js.syntax");

    let mut cdn = todo.clone();
    edit(&mut cdn, "index.html", |html| {
        html.replace("</head>", "<script src=\"https://cdn.example.com/lib.js\"></script>\n</head>")
    });
    assert_fails_with(&cdn, None, "asset.external");

    let mut inline = todo.clone();
    edit(&mut inline, "index.html", |html| {
        html.replace("<button type=\"submit\">", "<button type=\"submit\" onclick=\"go()\">")
    });
    assert_fails_with(&inline, None, "csp.inline");

    let mut unsafe_html = todo.clone();
    edit(&mut unsafe_html, "app.js", |js| format!("{js}\nbyId(\"task-list\").innerHTML = \"\";\n"));
    assert_fails_with(&unsafe_html, None, "js.unsafe_html");

    let mut not_stored = todo.clone();
    edit(&mut not_stored, "app.js", |js| js.replace("localStorage", "sessionStorage"));
    assert_fails_with(&not_stored, None, "behaviour.missing");

    let mut unclosed = todo.clone();
    edit(&mut unclosed, "index.html", |html| html.replacen("</section>", "", 1));
    assert_fails_with(&unclosed, None, "html.parse");

    let mut untitled = todo;
    edit(&mut untitled, "index.html", |html| html.replace("<title>My todo app</title>", "<title> </title>"));
    assert_fails_with(&untitled, None, "html.title");
}

#[test]
fn the_audit_checks_data_files_and_the_design_image() {
    let blog = draft(&brief(AppKind::Blog, None, &[], Some("uploads/x.png")));
    assert_passes(&blog, Some("uploads/x.png"), "blog with its image");
    assert_fails_with(&blog, None, "design.missing");

    let mut bad_json = blog.clone();
    edit(&mut bad_json, "data.json", |json| json.replacen('{', "{,", 1));
    assert_fails_with(&bad_json, Some("uploads/x.png"), "data.invalid");

    let mut no_posts = blog;
    edit(&mut no_posts, "data.json", |_| "{\"about\": \"\", \"posts\": []}\n".to_owned());
    assert_fails_with(&no_posts, Some("uploads/x.png"), "data.shape");

    let mut dashboard = draft(&brief(AppKind::Dashboard, None, &[], None));
    edit(&mut dashboard, "data.json", |json| json.replacen("\"value\": 1284", "\"value\": \"lots\"", 1));
    assert_fails_with(&dashboard, None, "data.shape");

    let mut css = draft(&brief(AppKind::Notes, None, &[], None));
    edit(&mut css, "styles.css", |text| format!("{text}\n.broken {{ color: red;\n"));
    assert_fails_with(&css, None, "css.syntax");
}

#[test]
fn heal_restores_a_missing_asset_and_says_so() {
    let wanted = ["categories", "search"];
    let b = brief(AppKind::Todo, Some(Theme::Twitter), &wanted, None);
    let mut broken = draft(&b);
    broken.files.retain(|f| f.path != "styles.css");
    let run = run_audit(&broken, None);
    assert!(!run.passed);

    let (healed, notes) = heal(&b, &broken, &run.report());
    assert!(notes.contains("asset.missing"), "{notes}");
    assert!(healed.files.iter().any(|f| f.path == "styles.css"));
    assert_eq!(healed.project_name, broken.project_name);
    assert_passes(&healed, None, "healed todo");
}

#[test]
fn heal_sets_aside_the_feature_the_audit_blames_and_keeps_it_aside() {
    let wanted = ["categories", "export", "search"];
    let b = brief(AppKind::Todo, None, &wanted, None);
    let mut broken = draft(&b);
    broken.project_name = "kept-name".to_owned();
    edit(&mut broken, "index.html", |html| html.replace("id=\"category-filter\"", "id=\"category-filtr\""));
    let run = run_audit(&broken, None);
    assert!(!run.passed);

    let (healed, notes) = heal(&b, &broken, &run.report());
    assert!(notes.contains("ids.missing") && notes.contains("categories"), "{notes}");
    assert_eq!(healed.project_name, "kept-name");
    assert!(!file(&healed, "index.html").contains("category-select"));
    assert!(file(&healed, "index.html").contains("id=\"search-input\""), "unblamed features stay");
    assert!(file(&healed, "README.md").contains("categories: set aside"), "{}", file(&healed, "README.md"));
    assert_passes(&healed, None, "healed once");

    let mut broken_again = healed;
    edit(&mut broken_again, "app.js", |js| js.replace("download(", "save_file("));
    let run = run_audit(&broken_again, None);
    assert!(!run.passed);
    let (twice, notes) = heal(&b, &broken_again, &run.report());
    assert!(notes.contains("export"), "{notes}");
    let html = file(&twice, "index.html");
    assert!(!html.contains("category-select") && !html.contains("export-button"), "earlier repairs are kept");
    assert!(html.contains("id=\"search-input\""));
    assert_passes(&twice, None, "healed twice");
}

#[test]
fn heal_leaves_out_a_design_image_the_build_could_not_provide() {
    let b = brief(AppKind::Portfolio, None, &["contact form"], Some("uploads/mock.png"));
    let with_image = draft(&b);
    let run = run_audit(&with_image, None);
    assert!(!run.passed);
    let (healed, notes) = heal(&b, &with_image, &run.report());
    assert!(notes.contains("design"), "{notes}");
    assert!(!file(&healed, "index.html").contains("design-reference"));
    assert!(file(&healed, "index.html").contains("id=\"contact-form\""));
    assert_passes(&healed, None, "healed portfolio");
}

#[test]
fn heal_after_a_timeout_keeps_only_the_essentials() {
    let b = brief(AppKind::Notes, None, &["tags", "markdown"], None);
    let previous = draft(&b);
    let report = BuildReport { timed_out: true, exit_code: None, ..run_audit(&previous, None).report() };
    let (healed, notes) = heal(&b, &previous, &report);
    assert!(notes.contains("timed out") && notes.contains("essentials"), "{notes}");
    assert!(!file(&healed, "index.html").contains("note-tags"));
    assert_passes(&healed, None, "essentials");
    assert_eq!(heal(&b, &previous, &report), (healed, notes), "heal is deterministic");
}

#[test]
fn heal_keeps_a_foreign_static_app_and_repairs_what_it_can() {
    let foreign = GantryManifest {
        project_name: "my-site".to_owned(),
        stack: Stack::Node,
        files: vec![
            ManifestFile {
                path: "index.html".to_owned(),
                content: "<!doctype html><html><head><title>My site</title>\
                          <link rel=\"stylesheet\" href=\"css/site.css\"></head>\
                          <body><h1 id=\"hello\">Hi</h1><a href=\"https://example.com\">elsewhere</a>\
                          <script src=\"main.js\"></script></body></html>"
                    .to_owned(),
            },
            ManifestFile {
                path: "main.js".to_owned(),
                content: "document.getElementById(\"hello\").textContent = \"Hello\";\n".to_owned(),
            },
        ],
        audit_command: "npm test".to_owned(),
        run_command: None,
        output_dir: None,
    };
    let report = BuildReport {
        exit_code: Some(127),
        log_tail: "sh: 1: npm: not found\n".to_owned(),
        ..run_audit(&draft(&Brief::default()), None).report()
    };
    let (healed, notes) = heal(&Brief::default(), &foreign, &report);
    assert!(notes.contains("css/site.css") && notes.contains("npm test"), "{notes}");
    assert_eq!(healed.audit_command, AUDIT_COMMAND);
    assert_eq!(healed.project_name, "my-site");
    assert_eq!(file(&healed, "main.js"), file(&foreign, "main.js"));
    assert_eq!(file(&healed, "index.html"), file(&foreign, "index.html"));
    assert_passes(&healed, None, "adapted foreign app");
    let policy = Policy::default_policy().expect("the policy loads");
    assert!(policy.evaluate(&healed).allowed);

    let mut broken = healed;
    edit(&mut broken, "main.js", |js| format!("{js}document.getElementById(\"nowhere\");\n"));
    let run = run_audit(&broken, None);
    assert!(!run.passed && run.output.contains("FAIL [ids.missing]"), "{}", run.output);
    let (fresh, notes) = heal(&Brief::default(), &broken, &run.report());
    assert!(notes.contains("fresh draft"), "{notes}");
    assert_eq!(fresh.project_name, "my-site");
    assert_passes(&fresh, None, "fresh draft after a failed adaptation");
}

#[test]
fn heal_redrafts_a_foreign_app_it_cannot_repair_inferring_the_kind() {
    let foreign = GantryManifest {
        project_name: "team-kanban".to_owned(),
        stack: Stack::Static,
        files: vec![ManifestFile {
            path: "index.html".to_owned(),
            content: "<html><head><script src=\"https://cdn.example.com/board.js\"></script></head></html>"
                .to_owned(),
        }],
        audit_command: "sh audit.sh".to_owned(),
        run_command: None,
        output_dir: None,
    };
    let report = BuildReport {
        log_tail: "sh: 0: cannot open audit.sh\n".to_owned(),
        ..run_audit(&foreign, None).report()
    };
    let (healed, notes) = heal(&Brief::default(), &foreign, &report);
    assert!(notes.contains("network"), "{notes}");
    assert_eq!(healed.project_name, "team-kanban");
    assert!(file(&healed, "app.js").contains("function moveCard("), "a kanban board was inferred");
    assert_passes(&healed, None, "fresh kanban");
}

#[test]
fn app_js_passes_node_check_when_node_is_installed() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node is not installed; skipping `node --check`");
        return;
    }
    for kind in AppKind::ALL.into_iter().filter(|kind| *kind != AppKind::React) {
        for wanted in [Vec::new(), all_features(kind)] {
            let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            let manifest = draft(&brief(kind, None, &wanted, None));
            let dir = WorkDir::new();
            dir.write(&manifest, None);
            let output = Command::new("node")
                .arg("--check")
                .arg("app.js")
                .current_dir(&dir.0)
                .output()
                .expect("node runs");
            assert!(
                output.status.success(),
                "{kind:?} {wanted:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

fn statuses(run: &AuditRun) -> Vec<(&str, FeatureStatus)> {
    run.results.iter().map(|r| (r.name.as_str(), r.status)).collect()
}

#[test]
fn a_collection_keeps_the_dom_contract_and_reports_every_approved_feature() {
    let brief = Brief {
        kind: Some(AppKind::Collection),
        title: Some("Recipes".into()),
        features: vec!["tags".into(), "sharing with other people".into(), "export".into()],
        collection: Some(crate::consultant::collection::spec("a recipe box with tags", true, false)),
        ..Brief::default()
    };
    let manifest = draft(&brief);
    let html = file(&manifest, "index.html");
    assert!(html.contains(r#"<form id="add-form""#), "{html}");
    for field in ["title", "ingredients", "steps", "tags"] {
        assert!(html.contains(&format!(r#"name="{field}""#)), "{field} missing:\n{html}");
    }
    assert!(html.contains(r#"<input id="search" class="grow" type="search""#), "{html}");
    assert!(html.contains(r#"<ul id="items""#), "{html}");
    assert!(html.contains(r#"type="submit""#), "{html}");
    assert!(file(&manifest, "app.js").contains("localStorage"));
    let readme = file(&manifest, "README.md");
    assert!(readme.contains("\"sharing with other people\": not built; it needs a server"), "{readme}");

    let run = run_audit(&manifest, None);
    assert!(run.passed, "{}", run.output);
    assert_eq!(
        statuses(&run),
        [
            ("adding, editing and deleting entries", FeatureStatus::Passed),
            ("search across every field", FeatureStatus::Passed),
            ("saved in your browser", FeatureStatus::Passed),
            ("tags", FeatureStatus::Passed),
            ("sharing with other people", FeatureStatus::NotBuilt),
            ("export", FeatureStatus::Passed),
        ]
    );
    let not_built = &run.results[4];
    assert!(not_built.detail.as_deref().is_some_and(|d| d.contains("needs a server")), "{not_built:?}");
}

#[test]
fn a_broken_feature_is_reported_failed_and_an_unbuildable_one_not_built() {
    let mut manifest = draft(&brief(AppKind::Todo, None, &["search", "reminders"], None));
    edit(&mut manifest, "index.html", |html| html.replace(r#"id="search-input""#, r#"id="lookup""#));
    let run = run_audit(&manifest, None);
    assert!(!run.passed);
    let search = run.results.iter().find(|r| r.name == "search").expect("a result for search");
    assert_eq!(search.status, FeatureStatus::Failed, "{search:?}");
    let reminders = run.results.iter().find(|r| r.name == "reminders").expect("a result for reminders");
    assert_eq!(reminders.status, FeatureStatus::NotBuilt, "{reminders:?}");
    assert_eq!(run.results.len(), 5, "{:?}", run.results);
}
