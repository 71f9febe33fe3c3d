//! The end of a run: the final status it gives the mission, the sealed evidence and finalize.

use super::*;

/// The final status a finished run gives a mission.
pub fn final_status(state: &PipelineState) -> (MissionStatus, Option<String>) {
    let failure = state.failure.as_ref();
    match state.outcome {
        Some(Outcome::Success) => (MissionStatus::success_for(state.deploy, state.publish), None),
        Some(Outcome::Blocked) => (MissionStatus::Blocked, Some("blocked by the policy check".into())),
        // The build loop gave up and its last build was stopped at the time limit.
        Some(Outcome::Failed) if failure.is_none() && state.build_timed_out == Some(true) => {
            (MissionStatus::Timeout, Some("the build ran past its time limit".into()))
        }
        _ => match failure.map(|f| (&f.error, f)) {
            Some((ErrorName::Timeout, f)) => (MissionStatus::Timeout, Some(timeout_reason(f))),
            Some((ErrorName::Cancelled, _)) => (MissionStatus::Cancelled, Some("cancelled".into())),
            Some((ErrorName::Interrupted, _)) => (MissionStatus::Failed, Some("interrupted".into())),
            Some((_, f)) => (MissionStatus::Failed, Some(failure_reason(f))),
            None => (MissionStatus::Failed, Some("the build did not pass its audit".into())),
        },
    }
}

pub(super) fn timeout_reason(f: &Failure) -> String {
    if f.cause.is_empty() {
        "a step ran out of time".into()
    } else {
        format!("a step ran out of time: {}", clip(&f.cause, 300))
    }
}

pub(super) fn failure_reason(f: &Failure) -> String {
    let cause = clip(&f.cause, 400);
    if cause.is_empty() {
        f.error.to_string()
    } else {
        cause
    }
}

impl Steps {
    pub(super) async fn seal(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let record = self.step_started(&id, StepName::Evidence, state.attempt()).await?;
        let mission = self.mission(&id).await?;
        let (status, reason) = match mission.status {
            MissionStatus::Cancelled => (MissionStatus::Cancelled, mission.error.clone()),
            _ => final_status(&state),
        };
        let outcomes = mission.feature_outcomes();
        let delivery = Delivery::of(&outcomes);
        self.evidence
            .append(
                &id,
                kinds::MISSION_FINAL,
                json!({
                    "status": status,
                    "reason": reason,
                    "dispatch": state.dispatch,
                    "failure": state.failure,
                    "attempts": mission.attempts,
                    "heals": mission.heals,
                    "url": mission.url,
                    "branch": mission.branch,
                    "pr_url": mission.pr_url,
                    "features": outcomes,
                    "delivery": delivery.summary(),
                }),
            )
            .await?;
        let head = self.evidence.seal(&id, state.dispatch).await?;
        self.update(&id, |m| {
            m.evidence_url = Some(format!("/gantry/missions/{id}/evidence"));
            Ok(())
        })
        .await?;
        self.step_ended(
            &id,
            record,
            true,
            format!("sealed and signed; head {}", &head[..16.min(head.len())]),
        )
        .await?;
        Ok(state)
    }

    pub(super) async fn finalize(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let record = self.step_started(&id, StepName::Finalize, state.attempt()).await?;
        let (status, reason) = final_status(&state);
        let finalized_here = std::sync::atomic::AtomicBool::new(false);
        let mission = self
            .update(&id, |m| {
                finalized_here.store(false, std::sync::atomic::Ordering::Relaxed);
                if m.status.is_final() {
                    return Ok(());
                }
                m.status = match m.status.transition(status) {
                    Ok(next) => next,
                    // A failure path can end a mission from any in-flight status.
                    Err(_) if matches!(status, MissionStatus::Failed | MissionStatus::Timeout) => status,
                    Err(e) => return Err(StepError::Failed(e.to_string())),
                };
                let interrupted = reason.as_deref() == Some("interrupted");
                m.error = if status.is_successful() {
                    None
                } else if status == MissionStatus::Timeout || interrupted {
                    reason.clone()
                } else {
                    m.error.clone().or_else(|| reason.clone())
                };
                if state.evidence_failure.is_some() && m.evidence_url.is_none() {
                    tracing::error!("evidence could not be sealed");
                }
                finalized_here.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            })
            .await?;
        tracing::info!(status = %mission.status, "mission finished");
        self.step_ended(&id, record, true, format!("{}", mission.status)).await?;
        if finalized_here.load(std::sync::atomic::Ordering::Relaxed) {
            let steps = self.store.steps(&id).await?;
            crate::metrics::emit(&crate::metrics::mission_emf(&mission, &steps));
        }
        Ok(state)
    }
}
