//! The rules of scheduled cleanup: which records and files a run may change or remove, and how.
//!
//! Every rule is a pure decision over plain data and the time the caller passes in. The cleanup
//! runner (in the pipeline crate) gathers candidates through ports, asks these rules, and acts.
//! Evidence is never a candidate: the only objects a rule lets go are design images under
//! [`UPLOADS_PREFIX`], and [`object_may_be_deleted`] refuses everything else, evidence first.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::mission::Mission;
use crate::status::{MissionStatus, TransitionError};

/// Where design images are uploaded (`uploads/{owner digest}/{uuid}.{ext}`).
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Where evidence packs and artifacts live. No cleanup rule ever deletes under it.
pub const EVIDENCE_PREFIX: &str = "evidence/";

/// The settings of a cleanup run, read once by the entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupConfig {
    /// A consultation awaiting input for longer than this becomes EXPIRED.
    pub consultation_idle: Duration,
    /// Previews and work dirs of final missions last updated longer ago than this are pruned.
    pub retention: Duration,
    /// A design image never attached to a mission is deleted once it is this old.
    pub upload_grace: Duration,
    /// A build task running for longer than this is stopped (the sandbox's own timeout plus slack).
    pub build_max_age: Duration,
    /// An in-flight mission whose execution cannot be found is reconciled only once it has not
    /// changed for this long: it may just have been queued, or run by another process.
    pub missing_execution_grace: Duration,
}

impl CleanupConfig {
    pub const DEFAULT_CONSULTATION_IDLE_SECS: u64 = 86_400;
    pub const DEFAULT_RETENTION_DAYS: u64 = 30;
    const DAY_SECS: u64 = 86_400;

    /// The defaults, with the two settings people change (`GANTRY_CONSULTATION_IDLE_SECS`,
    /// `GANTRY_RETENTION_DAYS`) and the build time limit of the policy in force.
    pub fn new(consultation_idle_secs: u64, retention_days: u64, build_timeout_secs: u64) -> Self {
        Self {
            consultation_idle: Duration::from_secs(consultation_idle_secs),
            retention: Duration::from_secs(retention_days.saturating_mul(Self::DAY_SECS)),
            upload_grace: Duration::from_secs(Self::DAY_SECS),
            build_max_age: Duration::from_secs(build_timeout_secs.saturating_add(60)),
            missing_execution_grace: Duration::from_secs(15 * 60),
        }
    }
}

impl Default for CleanupConfig {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CONSULTATION_IDLE_SECS, Self::DEFAULT_RETENTION_DAYS, 180)
    }
}

/// `now - age`, saturating at the earliest representable time for absurd ages.
pub fn cutoff(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn older_than(at: DateTime<Utc>, now: DateTime<Utc>, age: Duration) -> bool {
    at < cutoff(now, age)
}

/// Whether a consultation has waited for its person for longer than the idle time.
pub fn consultation_has_expired(mission: &Mission, now: DateTime<Utc>, config: &CleanupConfig) -> bool {
    mission.status == MissionStatus::AwaitingInput
        && older_than(mission.updated_at, now, config.consultation_idle)
}

/// Ends an idle consultation as EXPIRED, through the checked transition table.
pub fn expire(
    mission: &mut Mission,
    now: DateTime<Utc>,
    config: &CleanupConfig,
) -> Result<(), TransitionError> {
    mission.advance(MissionStatus::Expired, now)?;
    mission.error =
        Some(format!("the consultation expired: no reply for {}", human_duration(config.consultation_idle)));
    Ok(())
}

/// How a mission's pipeline execution ended, as the orchestrator reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionEnd {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// The orchestrator has no execution for the mission at all.
    Missing,
}

/// The final status and reason that reconcile a mission with its ended execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub status: MissionStatus,
    pub reason: String,
}

/// What to do with a mission still in flight whose execution has ended: the pipeline's own
/// finalize step never ran (or its write was lost), so the mission ends here with the reason.
/// `None` when there is nothing to reconcile (not in flight, or a missing execution that may
/// still appear).
pub fn reconcile(
    mission: &Mission,
    execution: ExecutionEnd,
    now: DateTime<Utc>,
    config: &CleanupConfig,
) -> Option<Reconciliation> {
    if !mission.status.is_in_flight() {
        return None;
    }
    let was = mission.status;
    let (status, reason) = match execution {
        ExecutionEnd::TimedOut => (MissionStatus::Timeout, format!("the pipeline timed out while {was}")),
        ExecutionEnd::Failed => (MissionStatus::Failed, format!("the pipeline failed while {was}")),
        ExecutionEnd::Aborted => (MissionStatus::Failed, format!("the pipeline was aborted while {was}")),
        ExecutionEnd::Succeeded => {
            (MissionStatus::Failed, format!("the pipeline ended without finalizing the mission (left {was})"))
        }
        ExecutionEnd::Missing => {
            if !older_than(mission.updated_at, now, config.missing_execution_grace) {
                return None;
            }
            (MissionStatus::Failed, format!("no pipeline execution exists for the mission (left {was})"))
        }
    };
    mission.status.can_transition_to(status).then_some(Reconciliation { status, reason })
}

/// Applies a reconciliation through the checked transition table.
pub fn apply_reconciliation(
    mission: &mut Mission,
    reconciliation: &Reconciliation,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    mission.advance(reconciliation.status, now)?;
    mission.error = Some(reconciliation.reason.clone());
    Ok(())
}

/// Whether a build task that started at `started_at` has run past its deadline.
pub fn build_is_overdue(started_at: DateTime<Utc>, now: DateTime<Utc>, config: &CleanupConfig) -> bool {
    older_than(started_at, now, config.build_max_age)
}

/// The only object keys cleanup may ever delete: design images under the uploads prefix.
pub fn object_may_be_deleted(key: &str) -> bool {
    !key.starts_with(EVIDENCE_PREFIX)
        && key.starts_with(UPLOADS_PREFIX)
        && key.len() > UPLOADS_PREFIX.len()
        && !key.split('/').any(|part| part == ".." || part.is_empty())
}

/// Whether an uploaded design image was abandoned: never attached to a mission, and older than
/// the grace a person has to send the message that uses it.
pub fn upload_is_abandoned(
    key: &str,
    modified: DateTime<Utc>,
    attached: bool,
    now: DateTime<Utc>,
    config: &CleanupConfig,
) -> bool {
    object_may_be_deleted(key) && !attached && older_than(modified, now, config.upload_grace)
}

/// Whether a mission's previews and work dirs are past retention (its evidence stays forever).
pub fn past_retention(mission: &Mission, now: DateTime<Utc>, config: &CleanupConfig) -> bool {
    mission.status.is_final() && older_than(mission.updated_at, now, config.retention)
}

/// "24 h", "90 min", "45 s": for reasons people read.
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 86_400 && secs.is_multiple_of(86_400) {
        format!("{} d", secs / 86_400)
    } else if secs >= 3_600 && secs.is_multiple_of(3_600) {
        format!("{} h", secs / 3_600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Subject;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn mission(status: MissionStatus, updated: DateTime<Utc>) -> Mission {
        let mut m = Mission::new(Subject::new("owner"), "t", status, updated);
        m.updated_at = updated;
        m
    }

    fn config() -> CleanupConfig {
        CleanupConfig::new(3_600, 30, 180)
    }

    #[test]
    fn defaults_follow_the_documented_settings() {
        let c = CleanupConfig::default();
        assert_eq!(c.consultation_idle, Duration::from_secs(86_400));
        assert_eq!(c.retention, Duration::from_secs(30 * 86_400));
        assert_eq!(c.upload_grace, Duration::from_secs(86_400));
        assert_eq!(c.build_max_age, Duration::from_secs(240));
    }

    #[test]
    fn only_consultations_idle_past_the_limit_expire() {
        let c = config();
        let now = at(10_000);
        assert!(consultation_has_expired(
            &mission(MissionStatus::AwaitingInput, at(10_000 - 3_601)),
            now,
            &c
        ));
        assert!(!consultation_has_expired(
            &mission(MissionStatus::AwaitingInput, at(10_000 - 3_600)),
            now,
            &c
        ));
        assert!(!consultation_has_expired(&mission(MissionStatus::AwaitingInput, at(9_000)), now, &c));
        for status in MissionStatus::ALL.into_iter().filter(|s| *s != MissionStatus::AwaitingInput) {
            assert!(!consultation_has_expired(&mission(status, at(0)), now, &c), "{status}");
        }
    }

    #[test]
    fn expiry_goes_through_the_transition_table() {
        let c = config();
        let mut m = mission(MissionStatus::AwaitingInput, at(0));
        expire(&mut m, at(5_000), &c).unwrap();
        assert_eq!(m.status, MissionStatus::Expired);
        assert_eq!(m.updated_at, at(5_000));
        assert_eq!(m.error.as_deref(), Some("the consultation expired: no reply for 1 h"));

        let mut queued = mission(MissionStatus::Queued, at(0));
        assert!(expire(&mut queued, at(5_000), &c).is_err());
        assert_eq!(queued.status, MissionStatus::Queued);
        assert!(expire(&mut m, at(6_000), &c).is_err(), "an expired mission stays expired");
    }

    #[test]
    fn ended_executions_end_their_missions_with_a_reason() {
        let c = config();
        let now = at(100);
        let m = mission(MissionStatus::Building, at(99));
        let cases = [
            (ExecutionEnd::TimedOut, MissionStatus::Timeout, "the pipeline timed out while BUILDING"),
            (ExecutionEnd::Failed, MissionStatus::Failed, "the pipeline failed while BUILDING"),
            (ExecutionEnd::Aborted, MissionStatus::Failed, "the pipeline was aborted while BUILDING"),
            (
                ExecutionEnd::Succeeded,
                MissionStatus::Failed,
                "the pipeline ended without finalizing the mission (left BUILDING)",
            ),
        ];
        for (end, status, reason) in cases {
            let r = reconcile(&m, end, now, &c).unwrap();
            assert_eq!(r, Reconciliation { status, reason: reason.into() }, "{end:?}");
            let mut copy = m.clone();
            apply_reconciliation(&mut copy, &r, now).unwrap();
            assert_eq!(copy.status, status);
            assert_eq!(copy.error.as_deref(), Some(reason));
        }
    }

    #[test]
    fn a_missing_execution_is_trusted_only_after_the_grace() {
        let c = config();
        let now = at(10_000);
        let fresh = mission(MissionStatus::Queued, at(10_000 - 60));
        assert_eq!(reconcile(&fresh, ExecutionEnd::Missing, now, &c), None);
        let stale = mission(MissionStatus::Queued, at(10_000 - 16 * 60));
        let r = reconcile(&stale, ExecutionEnd::Missing, now, &c).unwrap();
        assert_eq!(r.status, MissionStatus::Failed);
        assert!(r.reason.contains("no pipeline execution"), "{}", r.reason);
    }

    #[test]
    fn only_in_flight_missions_are_reconciled() {
        let c = config();
        for status in MissionStatus::ALL {
            let m = mission(status, at(0));
            let r = reconcile(&m, ExecutionEnd::Failed, at(10_000), &c);
            assert_eq!(r.is_some(), status.is_in_flight(), "{status}");
            if let Some(r) = r {
                assert!(status.can_transition_to(r.status), "{status} -> {}", r.status);
            }
        }
    }

    #[test]
    fn builds_are_overdue_only_past_the_limit() {
        let c = config();
        assert!(build_is_overdue(at(0), at(241), &c));
        assert!(!build_is_overdue(at(0), at(240), &c));
        assert!(!build_is_overdue(at(0), at(10), &c));
    }

    #[test]
    fn evidence_and_other_objects_are_never_deletable() {
        for key in [
            "evidence/0190c0de-0000-7000-8000-000000000000/pack.json",
            "evidence/uploads/x.png",
            "missions/m/manifest-1.json",
            "uploads/",
            "uploads//x.png",
            "uploads/../evidence/x",
            "upload/x.png",
            "",
        ] {
            assert!(!object_may_be_deleted(key), "{key}");
            assert!(!upload_is_abandoned(key, at(0), false, at(10_000_000), &config()), "{key}");
        }
        assert!(object_may_be_deleted("uploads/0123456789abcdef/0190.png"));
    }

    #[test]
    fn uploads_go_only_when_unattached_and_a_day_old() {
        let c = config();
        let key = "uploads/0123456789abcdef/0190.png";
        let now = at(200_000);
        assert!(upload_is_abandoned(key, at(200_000 - 86_401), false, now, &c));
        assert!(!upload_is_abandoned(key, at(200_000 - 86_401), true, now, &c));
        assert!(!upload_is_abandoned(key, at(200_000 - 3_600), false, now, &c));
    }

    #[test]
    fn retention_applies_to_old_final_missions_only() {
        let c = config();
        let now = at(40 * 86_400);
        let old = at(40 * 86_400 - 31 * 86_400);
        let recent = at(40 * 86_400 - 29 * 86_400);
        for status in MissionStatus::ALL {
            assert_eq!(past_retention(&mission(status, old), now, &c), status.is_final(), "{status}");
            assert!(!past_retention(&mission(status, recent), now, &c), "{status}");
        }
    }

    #[test]
    fn absurd_ages_do_not_overflow() {
        let c = CleanupConfig::new(u64::MAX, u64::MAX, u64::MAX);
        assert!(!consultation_has_expired(&mission(MissionStatus::AwaitingInput, at(0)), at(1), &c));
        assert!(!past_retention(&mission(MissionStatus::Failed, at(0)), at(1), &c));
    }

    #[test]
    fn durations_read_plainly() {
        assert_eq!(human_duration(Duration::from_secs(86_400)), "1 d");
        assert_eq!(human_duration(Duration::from_secs(7_200)), "2 h");
        assert_eq!(human_duration(Duration::from_secs(5_400)), "90 min");
        assert_eq!(human_duration(Duration::from_secs(45)), "45 s");
    }
}
