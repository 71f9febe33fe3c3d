//! The React kind: a React + Vite + TypeScript project on the `node` stack. It is a list of the
//! things the person keeps (added by typing and pressing Enter, ticked off, removed, counted,
//! saved in localStorage), with component tests (Vitest, Testing Library, user-event) that its
//! audit runs after the build.
//!
//! Every dependency is in the curated node set, with a range the set's lock satisfies. The draft
//! ships neither a lockfile (the gate writes one from the set) nor node_modules (the sandbox links
//! the set's).

use std::fmt::Write as _;

use gantry_domain::consultation::AppKind;
use gantry_domain::{GantryManifest, ManifestFile, Stack};
use serde_json::{json, Value};

use super::blueprint::{Approved, Blueprint};
use super::content;
use super::features;
use super::palette::Palette;
use super::template::{escape_html, render, Flags};

/// Build, then test: the policy's audit forms allow `npm run <script>` and `npm test`.
pub const AUDIT_COMMAND: &str = "npm run build && npm test";
/// Where `vite build` writes the app that is served and deployed.
pub const OUTPUT_DIR: &str = "dist";

/// The project's files: path in the manifest, template.
const FILES: &[(&str, &str)] = &[
    ("package.json", include_str!("templates/react/package.json")),
    ("index.html", include_str!("templates/react/index.html")),
    ("vite.config.ts", include_str!("templates/react/vite.config.ts")),
    ("tsconfig.json", include_str!("templates/react/tsconfig.json")),
    ("gantry-results.mjs", include_str!("templates/react/gantry-results.mjs")),
    ("src/main.tsx", include_str!("templates/react/src/main.tsx")),
    ("src/config.ts", include_str!("templates/react/src/config.ts")),
    ("src/items.ts", include_str!("templates/react/src/items.ts")),
    ("src/ItemRow.tsx", include_str!("templates/react/src/ItemRow.tsx")),
    ("src/App.tsx", include_str!("templates/react/src/App.tsx")),
    ("src/App.test.tsx", include_str!("templates/react/src/App.test.tsx")),
];
const APP_CSS: &str = include_str!("templates/react/src/App.css");

/// The tests in src/App.test.tsx that check each of the kind's essentials (in the consultant's
/// words): the feature results report an essential passed only when all of its tests passed.
pub(crate) const CHECKS: &[(&str, &[&str])] = &[
    (
        "adding items by typing and pressing Enter",
        &[
            "adds an item by typing and pressing Enter",
            "adds an item with the Add button, and ignores blank text",
        ],
    ),
    (
        "ticking items off and removing them",
        &["ticks an item off and back, and counts only the open ones", "removes an item"],
    ),
    (
        "a count of open items",
        &[
            "adds an item by typing and pressing Enter",
            "ticks an item off and back, and counts only the open ones",
        ],
    ),
    (
        "saved in your browser",
        &[
            "keeps the list in localStorage, so it survives a reload",
            "starts empty when the saved list is unreadable",
        ],
    ),
];

pub(crate) fn manifest(plan: &Blueprint, project_name: &str) -> GantryManifest {
    let (item, items) = plan.list.clone().unwrap_or_else(|| ("item".to_owned(), "items".to_owned()));
    let palette = Palette::for_theme(plan.theme);
    let title = escape_html(&plan.title);
    let description = escape_html(&format!("{}: a React app drafted by Gantry.", plan.title));
    let tagline = content::tagline(AppKind::React, &plan.title);
    let theme_color = palette.primary_hex();
    let storage_key = format!("gantry:{project_name}:items");
    let features = results_spec(plan).to_string();
    let (project_json, title_js, tagline_js, item_js, items_js, storage_key_js) =
        (js(project_name), js(&plan.title), js(&tagline), js(&item), js(&items), js(&storage_key));
    let slots: Vec<(&str, &str)> = vec![
        ("project_json", project_json.as_str()),
        ("title", title.as_str()),
        ("description", description.as_str()),
        ("theme_color", theme_color.as_str()),
        ("title_js", title_js.as_str()),
        ("tagline_js", tagline_js.as_str()),
        ("item_js", item_js.as_str()),
        ("items_js", items_js.as_str()),
        ("storage_key_js", storage_key_js.as_str()),
        ("features_js", features.as_str()),
    ];
    let flags = Flags::new();
    let mut files: Vec<ManifestFile> = FILES
        .iter()
        .map(|(path, template)| ManifestFile {
            path: (*path).to_owned(),
            content: render(template, &flags, &slots),
        })
        .collect();
    let label = plan.theme.map_or("neutral default", |theme| theme.name());
    files.push(ManifestFile {
        path: "src/App.css".to_owned(),
        content: format!("{}\n{APP_CSS}", palette.stylesheet_head(label)),
    });
    files.push(ManifestFile { path: "README.md".to_owned(), content: readme(plan, &items, &storage_key) });
    GantryManifest {
        project_name: project_name.to_owned(),
        stack: Stack::Node,
        files,
        audit_command: AUDIT_COMMAND.to_owned(),
        run_command: None,
        output_dir: Some(OUTPUT_DIR.to_owned()),
    }
}

/// A string as a JavaScript (and JSON) literal.
fn js(text: &str) -> String {
    Value::from(text).to_string()
}

/// Every approved feature, with the tests that check it or why it is not built.
fn results_spec(plan: &Blueprint) -> Value {
    let features: Vec<Value> = plan
        .approved
        .iter()
        .map(|(name, approved)| {
            let tests = CHECKS.iter().find(|(essential, _)| essential == name).map(|(_, tests)| *tests);
            match (approved, tests) {
                (Approved::NotBuilt(why), _) => json!({ "name": name, "not_built": why }),
                (_, Some(tests)) => json!({ "name": name, "tests": tests }),
                (_, None) => {
                    json!({ "name": name, "not_built": features::cannot_build(name, AppKind::React) })
                }
            }
        })
        .collect();
    Value::Array(features)
}

fn readme(plan: &Blueprint, items: &str, storage_key: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", plan.title);
    let _ = writeln!(
        out,
        "A React + Vite + TypeScript app for your {items}, drafted by Gantry's offline architect. Nothing is \
         loaded from the network, so the built app works offline and under a strict Content-Security-Policy.\n"
    );
    let _ = writeln!(out, "## What it does\n");
    for line in content::essentials(AppKind::React) {
        let _ = writeln!(out, "- {line}");
    }
    out.push('\n');
    if !plan.unsupported.is_empty() {
        let _ = writeln!(out, "## Not built (yet)\n");
        for request in &plan.unsupported {
            let _ = writeln!(
                out,
                "- \"{request}\": not built; it {}.",
                features::cannot_build(request, AppKind::React)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## Build and test\n\n\
         - `npm run build`: type-checks (`tsc --noEmit`) and builds the app into `{OUTPUT_DIR}/`;\n\
         - `npm test`: the component tests (`src/App.test.tsx`, Vitest with jsdom, Testing Library and \
         user-event), which also write `.gantry/results.json`, one result per feature of the plan;\n\
         - `npx vite`: a development server.\n\n\
         Everything you add stays in this browser's localStorage, under `{storage_key}`; nothing is sent anywhere."
    );
    out
}

#[cfg(test)]
mod tests;
