//! The offline architect (placeholder API; being written).

use gantry_domain::consultation::Brief;
use gantry_domain::{BuildReport, GantryManifest, Stack};

pub fn draft(_brief: &Brief) -> GantryManifest {
    GantryManifest {
        project_name: "app".into(),
        stack: Stack::Static,
        files: Vec::new(),
        audit_command: "true".into(),
        run_command: None,
        output_dir: None,
    }
}

pub fn heal(brief: &Brief, _previous: &GantryManifest, _report: &BuildReport) -> (GantryManifest, String) {
    (draft(brief), String::new())
}
