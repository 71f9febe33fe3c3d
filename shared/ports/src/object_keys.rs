//! Every object key the product uses, in one place: the working objects of a mission in the
//! artifacts store (manifests, build jobs, reports, logs, output bundles, the evidence log's
//! records), design-image uploads, and the evidence store's packs and artifacts. Previews are
//! files of the local deployer, not objects.

use gantry_domain::MissionId;

/// The manifest drafted (or healed) for `attempt`; the last attempt's is what was delivered.
pub fn manifest(mission: &MissionId, attempt: u32) -> String {
    format!("missions/{mission}/manifest-{attempt}.json")
}

/// A manifest given up front (`gantry build --manifest`): drafting is skipped.
pub fn given_manifest(mission: &MissionId) -> String {
    format!("missions/{mission}/given-manifest.json")
}

/// Where build `attempt` keeps its job, report, log and output bundle.
fn build_dir(mission: &MissionId, attempt: u32) -> String {
    format!("missions/{mission}/build-{attempt}")
}

pub fn build_job(mission: &MissionId, attempt: u32) -> String {
    format!("{}/job.json", build_dir(mission, attempt))
}

pub fn build_report(mission: &MissionId, attempt: u32) -> String {
    format!("{}/report.json", build_dir(mission, attempt))
}

pub fn build_log(mission: &MissionId, attempt: u32) -> String {
    format!("{}/log.txt", build_dir(mission, attempt))
}

/// The passed build's output files, as one bundle.
pub fn build_output(mission: &MissionId, attempt: u32) -> String {
    format!("{}/output.json", build_dir(mission, attempt))
}

/// The evidence log's records so far (sealed into a pack at the end of a run).
pub fn evidence_records(mission: &MissionId) -> String {
    format!("missions/{mission}/evidence-records.json")
}

/// The folder a design image is uploaded into, named by a digest of its owner (cleanup may delete
/// only under [`gantry_domain::cleanup::UPLOADS_PREFIX`]).
pub fn upload_dir(owner_digest: &str) -> String {
    format!("{}{owner_digest}/", gantry_domain::cleanup::UPLOADS_PREFIX)
}

/// The evidence store: write-once, Object Lock in AWS.
pub mod evidence {
    use gantry_domain::MissionId;

    /// The sealed pack of a mission's `dispatch`-th run (a retry seals a new pack; none is overwritten).
    pub fn pack(mission: &MissionId, dispatch: u32) -> String {
        if dispatch == 0 {
            format!("evidence/{mission}/pack.json")
        } else {
            format!("evidence/{mission}/pack-{dispatch}.json")
        }
    }

    pub fn artifact(mission: &MissionId, name: &str) -> String {
        format!("evidence/{mission}/artifacts/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_mission_is_under_its_own_prefix() {
        let id = MissionId::generate();
        let working = [
            manifest(&id, 2),
            given_manifest(&id),
            build_job(&id, 1),
            build_report(&id, 1),
            build_log(&id, 1),
            build_output(&id, 1),
            evidence_records(&id),
        ];
        for key in &working {
            assert!(key.starts_with(&format!("missions/{id}/")), "{key}");
        }
        assert_eq!(evidence::pack(&id, 0), format!("evidence/{id}/pack.json"));
        assert_eq!(evidence::pack(&id, 2), format!("evidence/{id}/pack-2.json"));
        assert!(evidence::artifact(&id, "build-1.log").starts_with(&format!("evidence/{id}/artifacts/")));
        assert!(upload_dir("ab12").starts_with(gantry_domain::cleanup::UPLOADS_PREFIX));
    }
}
