//! The offline architect: drafts a complete, working static app from a consultation brief, and
//! heals a draft from the report of a failed build.
//!
//! Everything is rules and templates, so the same brief always yields the same manifest. Each
//! draft carries an `audit.py` that really tests it (assets, HTML, ids, script syntax, data shape,
//! the promised features) and embeds what it was drafted with; that is how a heal recognises its
//! own work and redrafts it with only the failing parts taken out.

mod blueprint;
mod content;
mod features;
mod heal;
mod palette;
mod react;
mod spec;
mod template;
#[cfg(test)]
mod tests;

use gantry_domain::consultation::Brief;
use gantry_domain::{BuildReport, GantryManifest};

use blueprint::Blueprint;

/// The audit command of every draft: the policy's allow-list accepts `python3 <script>.py`, and
/// python3 is the one interpreter a build machine surely has.
pub const AUDIT_COMMAND: &str = "python3 audit.py";

/// Drafts a static app for `brief`: index.html, styles.css, app.js, README.md, audit.py, and
/// data.json for the kinds that load their content.
pub fn draft(brief: &Brief) -> GantryManifest {
    let plan = Blueprint::from_brief(brief);
    plan.manifest(&blueprint::project_name(&plan.title, plan.kind))
}

/// The requests in `brief` the draft will not build, each with why, so the plan can say so
/// before consent.
pub fn not_built(brief: &Brief) -> Vec<(String, &'static str)> {
    Blueprint::from_brief(brief).not_built()
}

/// A corrected manifest for `previous`, whose build produced `report`, and a sentence or two on
/// what failed and what changed.
pub fn heal(brief: &Brief, previous: &GantryManifest, report: &BuildReport) -> (GantryManifest, String) {
    heal::heal(brief, previous, report)
}
