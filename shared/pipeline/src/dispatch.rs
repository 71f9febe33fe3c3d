//! Handing a mission to an orchestrator, written once for every orchestrator: the execution's
//! name (so a second start of the same dispatch starts nothing new) and the state document the
//! definition starts with, both built from the mission the caller already holds.

use serde_json::Value;

use gantry_domain::{Mission, MissionId};
use gantry_ports::{PortError, PortResult};

use crate::state::PipelineState;

/// `{mission_id}` for the first run, `{mission_id}-{dispatch}` for the `dispatch`-th retry.
pub fn execution_name(mission: &MissionId, dispatch: u32) -> String {
    if dispatch == 0 {
        mission.to_string()
    } else {
        format!("{mission}-{dispatch}")
    }
}

/// The input of the mission's current dispatch, carrying its own deploy and publish choices. A
/// retry after a failed deploy or publish starts at that step, on the build that passed.
pub fn initial_input(mission: &Mission) -> PortResult<Value> {
    let dispatch = mission.dispatches;
    let mut state = PipelineState::new(mission.id.clone(), mission.deploy, mission.publish, dispatch);
    if let Some(resume) = mission.resume.filter(|_| dispatch > 0) {
        state.resume_at = Some(resume.step.name().to_owned());
        state.attempt = Some(resume.attempt);
    }
    serde_json::to_value(state).map_err(|e| PortError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use gantry_domain::mission::{DeliveryStep, ResumePoint};
    use gantry_domain::{MissionStatus, Subject};

    use super::*;

    #[test]
    fn the_input_comes_from_the_mission_and_a_retry_resumes_at_its_failed_delivery() {
        let mut mission = Mission::new(Subject::new("ada"), "a page", MissionStatus::Queued, Utc::now());
        mission.publish = false;
        mission.resume = Some(ResumePoint { step: DeliveryStep::Deploy, attempt: 2 });
        let first = initial_input(&mission).unwrap();
        assert_eq!((first["deploy"].clone(), first["publish"].clone()), (true.into(), false.into()));
        assert!(first.get("resume_at").is_none(), "a first run never resumes: {first}");
        assert_eq!(execution_name(&mission.id, 0), mission.id.to_string());

        mission.dispatches = 1;
        let retry = initial_input(&mission).unwrap();
        assert_eq!(retry["resume_at"], "deploy");
        assert_eq!(retry["attempt"], 2);
        assert_eq!(retry["dispatch"], 1);
        assert_eq!(execution_name(&mission.id, 1), format!("{}-1", mission.id));
    }
}
