//! The audit spec: what audit.py must find in this particular app, embedded in audit.py as JSON.
//!
//! It is also how a heal recognises its own work: a draft's audit.py carries the kind, title and
//! features it was drafted with, so a redraft can keep earlier repairs instead of undoing them.

use gantry_domain::consultation::AppKind;
use gantry_domain::ManifestFile;
use serde_json::{json, Value};

use super::blueprint::{Approved, Blueprint};
use super::content;
use super::features::{self, Feature};

/// The line that marks an audit.py as the architect's own.
pub(crate) const MARKER: &str = "# gantry-audit: offline architect";
const OPENING: &str = "SPEC = json.loads(r'''";
const CLOSING: &str = "''')";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Drafted from a brief by the architect.
    Draft,
    /// Somebody else's app, kept and given the architect's audit by a heal.
    Adapted,
}

/// What a heal needs back from an embedded spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PriorSpec {
    pub origin: Origin,
    pub kind: Option<AppKind>,
    pub title: Option<String>,
    pub features: Vec<Feature>,
    pub design: Option<String>,
}

/// The spec as a Python raw string can hold it: JSON with every `'` escaped, so no text (a title
/// included) can close the `r'''…'''` literal early.
pub(crate) fn embed(spec: &Value) -> String {
    spec.to_string().replace('\'', "\\u0027")
}

pub(crate) fn for_draft(plan: &Blueprint) -> Value {
    let kind = plan.kind;
    let built: Vec<Feature> = plan.features.iter().chain(features::essentials(kind)).copied().collect();
    let mut required_files = vec!["index.html", "styles.css", "app.js", "README.md"];
    let mut data = Vec::new();
    if content::uses_data(kind) {
        required_files.push("data.json");
        data.push(json!({ "file": "data.json", "shape": kind.as_str() }));
    }
    let required_ids: Vec<Value> =
        features::required_ids(kind).iter().map(|(id, why)| json!({ "id": id, "why": why })).collect();
    let feature_hooks: Vec<Value> = built
        .iter()
        .flat_map(|f| features::hooks(kind, *f).iter().map(move |id| json!({ "feature": f.key(), "id": id })))
        .collect();
    let mut behaviours: Vec<Value> = features::kind_behaviours(kind)
        .iter()
        .map(|b| json!({ "file": "app.js", "pattern": b.pattern, "why": b.why, "feature": null }))
        .collect();
    for feature in &built {
        for b in features::behaviours(kind, *feature) {
            behaviours.push(
                json!({ "file": "app.js", "pattern": b.pattern, "why": b.why, "feature": feature.key() }),
            );
        }
    }
    let results: Vec<Value> = plan
        .approved
        .iter()
        .map(|(name, approved)| match approved {
            Approved::Essential => json!({ "name": name, "feature": null, "not_built": null }),
            Approved::Built(f) => json!({ "name": name, "feature": f.key(), "not_built": null }),
            Approved::NotBuilt(why) => json!({ "name": name, "feature": null, "not_built": why }),
        })
        .collect();
    let inputs: Vec<Value> = plan
        .collection
        .iter()
        .flat_map(|c| c.fields.iter())
        .map(|f| json!({ "name": f.id, "why": format!("the {} field", f.label.to_lowercase()) }))
        .collect();
    json!({
        "origin": "draft",
        "kind": kind.as_str(),
        "title": plan.title,
        "features": plan.features.iter().map(|f| f.key()).collect::<Vec<_>>(),
        "required_files": required_files,
        "pages": ["index.html"],
        "stylesheets": ["styles.css"],
        "scripts": ["app.js"],
        "required_ids": required_ids,
        "feature_hooks": feature_hooks,
        "behaviours": behaviours,
        "data": data,
        "design": plan.design,
        "inputs": inputs,
        "results": results,
    })
}

/// The spec for somebody else's static app: it checks what exists, and asks for nothing more.
pub(crate) fn for_adapted(files: &[ManifestFile], entry: &str, kind: Option<AppKind>, title: &str) -> Value {
    let data: Vec<Value> =
        with_ext(files, ".json").into_iter().map(|p| json!({ "file": p, "shape": "any" })).collect();
    json!({
        "origin": "adapted",
        "kind": kind.map(AppKind::as_str),
        "title": title,
        "features": [],
        "required_files": [entry],
        "pages": with_ext(files, ".html"),
        "stylesheets": with_ext(files, ".css"),
        "scripts": with_ext(files, ".js"),
        "required_ids": [],
        "feature_hooks": [],
        "behaviours": [],
        "data": data,
        "design": null,
        "inputs": [],
        "results": [],
    })
}

fn with_ext<'a>(files: &'a [ManifestFile], ext: &str) -> Vec<&'a str> {
    files.iter().map(|f| f.path.as_str()).filter(|p| p.to_ascii_lowercase().ends_with(ext)).collect()
}

/// The spec embedded in an audit.py, when the architect wrote it.
pub(crate) fn read(audit_py: &str) -> Option<PriorSpec> {
    if !audit_py.lines().any(|line| line.trim() == MARKER) {
        return None;
    }
    let start = audit_py.find(OPENING)? + OPENING.len();
    let end = start + audit_py[start..].find(CLOSING)?;
    let value: Value = serde_json::from_str(&audit_py[start..end]).ok()?;
    let origin = match value.get("origin")?.as_str()? {
        "draft" => Origin::Draft,
        "adapted" => Origin::Adapted,
        _ => return None,
    };
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| AppKind::ALL.into_iter().find(|kind| kind.as_str() == k));
    let features = value
        .get("features")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).filter_map(Feature::from_key).collect())
        .unwrap_or_default();
    Some(PriorSpec {
        origin,
        kind,
        title: value.get("title").and_then(Value::as_str).map(str::to_owned),
        features,
        design: value.get("design").and_then(Value::as_str).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_domain::consultation::Brief;

    #[test]
    fn a_drafted_spec_reads_back() {
        let brief = Brief {
            kind: Some(AppKind::Todo),
            title: Some("Tom's '''tasks'''".into()),
            features: vec!["categories".into(), "search".into()],
            design_image: Some("uploads/a.jpg".into()),
            ..Brief::default()
        };
        let plan = Blueprint::from_brief(&brief);
        let audit = format!("{MARKER}\nSPEC = json.loads(r'''{}''')\n", embed(&for_draft(&plan)));
        assert!(!audit.contains("'''tasks"), "{audit}");
        let spec = read(&audit).expect("the spec reads back");
        assert_eq!(spec.origin, Origin::Draft);
        assert_eq!(spec.kind, Some(AppKind::Todo));
        assert_eq!(spec.title.as_deref(), Some("Tom's '''tasks'''"));
        assert_eq!(spec.features, vec![Feature::Categories, Feature::Search]);
        assert_eq!(spec.design.as_deref(), Some("public/design-reference.jpg"));
    }

    #[test]
    fn an_audit_without_the_marker_is_not_ours() {
        let audit = "SPEC = json.loads(r'''{\"origin\": \"draft\"}''')\n";
        assert_eq!(read(audit), None);
        assert_eq!(read(&format!("{MARKER}\nprint('hello')\n")), None);
    }
}
