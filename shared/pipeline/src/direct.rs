//! The direct build, shared by `POST /gantry/architect` and `gantry build`: one request, no
//! consultation to confirm. The brain turns the request into a plan, which counts as approved,
//! and the mission starts QUEUED with the request as its only turn.

use chrono::{DateTime, Utc};

use gantry_domain::consultation::ConsultationStatus;
use gantry_domain::mission::title_for;
use gantry_domain::{Mission, MissionStatus, Role, Subject, Turn};
use gantry_ports::{Brain, PortResult};

/// A direct build's mission and its one turn, not yet stored.
pub async fn direct_build(
    brain: &dyn Brain,
    owner: Subject,
    request: &str,
    deploy: bool,
    publish: bool,
    now: DateTime<Utc>,
) -> PortResult<(Mission, Turn)> {
    let turn = Turn { role: Role::User, content: request.to_owned(), at: now };
    let reply = brain.consult(None, std::slice::from_ref(&turn), None).await?;
    let mut consultation = reply.consultation;
    consultation.status = ConsultationStatus::ReadyToBuild;
    consultation.question = None;
    let mut mission =
        Mission::new(owner, title_for(Some(&consultation), request), MissionStatus::Queued, now);
    mission.consultation = Some(consultation);
    mission.deploy = deploy;
    mission.publish = publish;
    mission.tokens.add(reply.usage);
    Ok((mission, turn))
}
