//! The React kind's draft, checked as data: the request that picks it, the project's files, its
//! dependencies against the curated node set, and the contract its page keeps. That it builds and
//! its tests pass with the real toolchain is shown by the browser test (tests/browser/react.test.mjs),
//! which has it drafted, built and tested in the sandbox over the set, then uses its preview.

use gantry_domain::consultation::{AppKind, Brief, Consultation};
use gantry_domain::manifest;
use gantry_domain::report::BuildLimits;
use gantry_domain::{node, BuildReport, GantryManifest, Role, Stack, Turn};
use serde_json::Value;

use super::{AUDIT_COMMAND, CHECKS, OUTPUT_DIR};
use crate::architect::{draft, heal};
use crate::consultant::{consult, default_features};

const READING_LIST: &str = "Build me a React app to track my reading list";

fn turn(text: &str) -> Turn {
    Turn { role: Role::User, content: text.to_owned(), at: chrono::DateTime::UNIX_EPOCH }
}

fn consulted(request: &str) -> Consultation {
    consult(None, &[turn(request)], false).consultation
}

fn drafted(request: &str) -> GantryManifest {
    draft(&consulted(request).brief)
}

fn file<'m>(manifest: &'m GantryManifest, path: &str) -> &'m str {
    manifest.files.iter().find(|f| f.path == path).map_or("", |f| f.content.as_str())
}

fn json(manifest: &GantryManifest, path: &str) -> Value {
    serde_json::from_str(file(manifest, path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

#[test]
fn asking_for_react_proposes_the_react_kind_on_the_node_stack() {
    for request in [READING_LIST, "a react todo list with vite", "react + typescript counter"] {
        let consultation = consulted(request);
        assert_eq!(consultation.brief.kind, Some(AppKind::React), "{request}");
        assert_eq!(consultation.proposed_stack, Some(Stack::Node), "{request}");
        let proposal = consultation.proposal.unwrap_or_default();
        assert!(proposal.contains("React + Vite + TypeScript"), "{request}: {proposal}");
        assert_eq!(consultation.features, default_features(AppKind::React), "{request}");
    }
    let proposal = consulted(READING_LIST).proposal.unwrap_or_default();
    assert!(proposal.starts_with("Books: a React app for your books"), "{proposal}");
    for request in ["Build me an app to track my reading list", "a todo list"] {
        let consultation = consulted(request);
        assert_ne!(consultation.brief.kind, Some(AppKind::React), "{request}");
        assert_eq!(consultation.proposed_stack, Some(Stack::Static), "{request}");
    }
}

#[test]
fn the_manifest_is_the_project_and_nothing_else() {
    let manifest = drafted(READING_LIST);
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "package.json",
            "index.html",
            "vite.config.ts",
            "tsconfig.json",
            "gantry-results.mjs",
            "src/main.tsx",
            "src/config.ts",
            "src/items.ts",
            "src/ItemRow.tsx",
            "src/App.tsx",
            "src/App.test.tsx",
            "src/App.css",
            "README.md",
        ]
    );
    assert!(!paths.iter().any(|p| p.starts_with("node_modules") || p.ends_with("package-lock.json")));
    assert_eq!(manifest.project_name, "books");
    assert_eq!(manifest.stack, Stack::Node);
    assert_eq!(manifest.audit_command, AUDIT_COMMAND);
    assert_eq!(manifest.audit_command, "npm run build && npm test");
    assert_eq!(manifest.run_command, None);
    assert_eq!(manifest.output_dir(), OUTPUT_DIR);
    assert_eq!(manifest::validate(&manifest), Ok(()));
}

#[test]
fn every_dependency_is_in_the_set_with_a_range_its_lock_satisfies() {
    let package = json(&drafted(READING_LIST), "package.json");
    let mut count = 0;
    for section in ["dependencies", "devDependencies"] {
        for (name, range) in package[section].as_object().into_iter().flatten() {
            count += 1;
            let range = range.as_str().expect("a range is a string");
            // The gate's own check: offered by the set, and satisfied by the version it pins.
            let shortfall = node::check(node::set(), name, range);
            assert!(shortfall.is_none(), "{name}@{range}: {shortfall:?}");
        }
    }
    assert!(count >= 10, "react, react-dom, vite, vitest, jsdom, typescript, testing-library…: {count}");
    for hook in ["preinstall", "install", "postinstall", "prepare"] {
        assert!(package["scripts"].get(hook).is_none(), "{hook}");
    }
}

#[test]
fn the_build_and_test_setup_is_the_one_the_sandbox_runs() {
    let manifest = drafted(READING_LIST);
    let package = json(&manifest, "package.json");
    assert_eq!(package["scripts"]["build"], "tsc --noEmit && vite build");
    assert_eq!(package["scripts"]["test"], "vitest run");
    let vite = file(&manifest, "vite.config.ts");
    assert_eq!(package["type"], "module");
    for needed in ["plugins: [react()]", "base: './'", "environment: 'jsdom'"] {
        assert!(vite.contains(needed), "vite.config.ts lacks {needed}");
    }
    let tsconfig = json(&manifest, "tsconfig.json");
    let options = &tsconfig["compilerOptions"];
    assert_eq!(options["strict"], true);
    assert_eq!(options["noEmit"], true);
    assert_eq!(options["jsx"], "react-jsx");
    assert_eq!(options["moduleResolution"], "bundler");
    assert_eq!(options["skipLibCheck"], true);
    let html = file(&manifest, "index.html");
    assert!(html.contains(r#"<script type="module" src="/src/main.tsx"></script>"#), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "no inline script: the preview's CSP forbids them");
    assert!(html.contains("<title>Books</title>"), "{html}");
}

#[test]
fn the_page_keeps_the_dom_contract_and_names_what_it_keeps() {
    let manifest = drafted(READING_LIST);
    let app = file(&manifest, "src/App.tsx");
    for needed in [
        "aria-label={`New ${ITEM}`}",
        r#"<button type="submit">Add</button>"#,
        r#"id="open-count""#,
        r#"<ul id="items""#,
    ] {
        assert!(app.contains(needed), "App.tsx lacks {needed}");
    }
    let row = file(&manifest, "src/ItemRow.tsx");
    assert!(row.contains(r#"type="checkbox""#) && row.contains(">\n        Remove\n"), "{row}");
    let config = file(&manifest, "src/config.ts");
    for needed in [
        r#"TITLE = "Books""#,
        r#"ITEM = "book""#,
        r#"ITEMS = "books""#,
        r#"STORAGE_KEY = "gantry:books:items""#,
    ] {
        assert!(config.contains(needed), "config.ts lacks {needed}:\n{config}");
    }
    assert!(file(&manifest, "src/App.css").contains("--primary: #4F46E5;"), "the neutral palette");
    let tasks = drafted("a react todo list with vite");
    assert!(file(&tasks, "src/config.ts").contains(r#"ITEM = "task""#));
    assert!(!manifest.files.iter().any(|f| f.content.contains("{{")), "every slot is filled");
}

#[test]
fn a_hostile_title_stays_text() {
    let brief = Brief {
        kind: Some(AppKind::React),
        title: Some(r#"Tom's "list" </script><b>"#.into()),
        ..Brief::default()
    };
    let manifest = draft(&brief);
    assert!(file(&manifest, "index.html")
        .contains("<title>Tom&#39;s &quot;list&quot; &lt;/script&gt;&lt;b&gt;</title>"));
    assert!(file(&manifest, "src/config.ts").contains(r#"TITLE = "Tom's \"list\" </script><b>""#));
    assert!(
        file(&manifest, "src/App.test.tsx").contains(r#"describe("Tom's \"list\" </script><b>", () => {"#)
    );
    assert_eq!(manifest::validate(&manifest), Ok(()));
}

#[test]
fn every_feature_of_the_plan_gets_a_result_from_its_tests_or_a_reason() {
    let reading_list = drafted(READING_LIST);
    let tests = file(&reading_list, "src/App.test.tsx");
    for (essential, names) in CHECKS {
        assert!(default_features(AppKind::React).contains(essential), "{essential}");
        for name in *names {
            assert!(tests.contains(&format!("it('{name}'")), "no test named {name:?}");
        }
    }
    for essential in default_features(AppKind::React) {
        assert!(CHECKS.iter().any(|(e, _)| e == essential), "{essential} is checked by no test");
    }

    let brief = Brief {
        kind: Some(AppKind::React),
        features: vec!["dark mode".into(), "sync between devices".into()],
        ..Brief::default()
    };
    let manifest = draft(&brief);
    let results = file(&manifest, "gantry-results.mjs");
    let start =
        results.find("const FEATURES = ").expect("the features are embedded") + "const FEATURES = ".len();
    let end = start + results[start..].find('\n').expect("on one line");
    let features: Vec<Value> = serde_json::from_str(&results[start..end]).expect("the features are JSON");
    let names: Vec<&str> = features.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names[..4], *default_features(AppKind::React));
    assert_eq!(names[4..], ["dark mode", "sync between devices"]);
    assert!(features[..4].iter().all(|f| f["tests"].as_array().is_some_and(|t| !t.is_empty())));
    assert_eq!(features[4]["not_built"], "is beyond what the offline React template builds");
    assert!(features[5]["not_built"].as_str().is_some_and(|why| why.contains("server")), "{}", features[5]);
    let readme = file(&manifest, "README.md");
    assert!(readme.contains("\"dark mode\": not built"), "{readme}");
}

#[test]
fn drafts_are_deterministic() {
    assert_eq!(drafted(READING_LIST), drafted(READING_LIST));
}

#[test]
fn a_failed_build_is_redrafted_as_the_same_react_project() {
    let brief = consulted(READING_LIST).brief;
    let manifest = draft(&brief);
    let report = BuildReport {
        passed: false,
        exit_code: Some(1),
        duration_ms: 4000,
        timed_out: false,
        oom: false,
        log_tail: "src/App.tsx(3,1): error TS2307: Cannot find module './Missing'".to_owned(),
        log_sha256: String::new(),
        isolation: "test".to_owned(),
        limits: BuildLimits::default(),
        features: Vec::new(),
        install: None,
        output: None,
    };
    let (healed, notes) = heal(&brief, &manifest, &report);
    assert_eq!(healed, manifest, "{notes}");
    assert!(notes.contains("redrafted the React template"), "{notes}");

    // Somebody else's failed node app is replaced by the React template, under its own name.
    let foreign = GantryManifest {
        project_name: "my-shelf".into(),
        files: vec![gantry_domain::ManifestFile { path: "package.json".into(), content: "{}".into() }],
        ..manifest.clone()
    };
    let (healed, _) = heal(&brief, &foreign, &report);
    assert_eq!(healed.project_name, "my-shelf");
    assert_eq!(healed.stack, Stack::Node);
    assert_eq!(healed.files.len(), manifest.files.len());
}

#[test]
fn a_direct_build_that_names_react_is_the_react_kind() {
    let memo = "a react app to keep track of my houseplants";
    let manifest = draft(&Brief { title: Some(memo.into()), notes: vec![memo.into()], ..Brief::default() });
    assert_eq!(manifest.stack, Stack::Node);
    assert!(file(&manifest, "src/config.ts").contains(r#"ITEMS = "houseplants""#));
    let plain = "an app to keep track of my houseplants";
    let manifest = draft(&Brief { title: Some(plain.into()), notes: vec![plain.into()], ..Brief::default() });
    assert_eq!(manifest.stack, Stack::Static);
}

#[test]
fn the_policy_gate_allows_the_draft() {
    let policy = gantry_domain::policy::Policy::default_policy().expect("the repository policy loads");
    let verdict = policy.evaluate(&drafted(READING_LIST));
    assert!(verdict.allowed, "{:?}", verdict.violations);
}
