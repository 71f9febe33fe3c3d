//! Mission statuses and the one table of legal transitions between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MissionStatus {
    AwaitingInput,
    Queued,
    Drafting,
    Validating,
    Building,
    Healing,
    Deploying,
    Publishing,
    Deployed,
    PrOpened,
    Success,
    Blocked,
    Failed,
    Timeout,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a mission cannot go from {from} to {to}")]
pub struct TransitionError {
    pub from: MissionStatus,
    pub to: MissionStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mission status {0:?}")]
pub struct UnknownStatus(pub String);

use MissionStatus::*;

impl MissionStatus {
    pub const ALL: [MissionStatus; 16] = [
        AwaitingInput,
        Queued,
        Drafting,
        Validating,
        Building,
        Healing,
        Deploying,
        Publishing,
        Deployed,
        PrOpened,
        Success,
        Blocked,
        Failed,
        Timeout,
        Cancelled,
        Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AwaitingInput => "AWAITING_INPUT",
            Queued => "QUEUED",
            Drafting => "DRAFTING",
            Validating => "VALIDATING",
            Building => "BUILDING",
            Healing => "HEALING",
            Deploying => "DEPLOYING",
            Publishing => "PUBLISHING",
            Deployed => "DEPLOYED",
            PrOpened => "PR_OPENED",
            Success => "SUCCESS",
            Blocked => "BLOCKED",
            Failed => "FAILED",
            Timeout => "TIMEOUT",
            Cancelled => "CANCELLED",
            Expired => "EXPIRED",
        }
    }

    /// Final statuses never change again, except by an explicit retry.
    pub fn is_final(self) -> bool {
        matches!(self, Deployed | PrOpened | Success | Blocked | Failed | Timeout | Cancelled | Expired)
    }

    /// Dispatched to the pipeline and not yet finished.
    pub fn is_in_flight(self) -> bool {
        matches!(self, Queued | Drafting | Validating | Building | Healing | Deploying | Publishing)
    }

    /// The final statuses that count as the mission having done what it was asked.
    pub fn is_successful(self) -> bool {
        matches!(self, Deployed | PrOpened | Success)
    }

    /// A retry re-dispatches a mission that ended without success.
    pub fn is_retryable(self) -> bool {
        matches!(self, Blocked | Failed | Timeout | Cancelled)
    }

    pub fn is_cancellable(self) -> bool {
        self == AwaitingInput || self.is_in_flight()
    }

    /// The transition table. Staying in the same status is not a transition.
    pub fn can_transition_to(self, to: MissionStatus) -> bool {
        let ends = matches!(to, Failed | Timeout | Cancelled);
        match self {
            AwaitingInput => matches!(to, Queued | Cancelled | Expired | Failed),
            // A retry after a failed delivery resumes at that step (the build had passed).
            Queued => ends || matches!(to, Drafting | Validating | Deploying | Publishing),
            Drafting => ends || to == Validating,
            // A manifest refused only for repairable violations goes to the heal loop.
            Validating => ends || matches!(to, Building | Healing | Blocked),
            Building => ends || matches!(to, Healing | Deploying | Publishing | Success),
            Healing => ends || to == Validating,
            Deploying => ends || matches!(to, Publishing | Deployed),
            Publishing => ends || matches!(to, PrOpened | Success),
            Blocked | Failed | Timeout | Cancelled => to == Queued,
            Deployed | PrOpened | Success | Expired => false,
        }
    }

    pub fn transition(self, to: MissionStatus) -> Result<MissionStatus, TransitionError> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }

    /// The successful final status for a mission that asked for `deploy` and/or `publish`.
    pub fn success_for(deploy: bool, publish: bool) -> MissionStatus {
        match (deploy, publish) {
            (true, false) => Deployed,
            (false, true) => PrOpened,
            _ => Success,
        }
    }
}

impl fmt::Display for MissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MissionStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for status in MissionStatus::ALL {
            assert_eq!(status.as_str().parse::<MissionStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("queued".parse::<MissionStatus>().is_err());
    }

    #[test]
    fn every_status_is_exactly_one_of_waiting_in_flight_or_final() {
        for status in MissionStatus::ALL {
            let classes = [status == AwaitingInput, status.is_in_flight(), status.is_final()];
            assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{status}");
        }
    }

    #[test]
    fn the_happy_path_is_legal() {
        let path = [
            AwaitingInput,
            Queued,
            Drafting,
            Validating,
            Building,
            Healing,
            Validating,
            Building,
            Deploying,
            Publishing,
            Success,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]));
        }
    }

    #[test]
    fn a_consultation_cannot_skip_the_queue() {
        for to in [Drafting, Validating, Building, Deploying, Success, Deployed] {
            assert!(AwaitingInput.transition(to).is_err(), "{to}");
        }
    }

    #[test]
    fn a_retry_may_resume_at_a_delivery_step_but_not_skip_the_build_otherwise() {
        assert_eq!(Queued.transition(Deploying), Ok(Deploying));
        assert_eq!(Queued.transition(Publishing), Ok(Publishing));
        for to in [Building, Healing, Success, Deployed, PrOpened] {
            assert!(Queued.transition(to).is_err(), "{to}");
        }
    }

    #[test]
    fn successful_finals_are_terminal() {
        for from in [Deployed, PrOpened, Success, Expired] {
            for to in MissionStatus::ALL {
                assert_eq!(from.transition(to), Err(TransitionError { from, to }));
            }
        }
    }

    #[test]
    fn failures_can_only_be_retried() {
        for from in [Blocked, Failed, Timeout, Cancelled] {
            for to in MissionStatus::ALL {
                assert_eq!(from.can_transition_to(to), to == Queued, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_repairable_refusal_heals_from_validation() {
        assert_eq!(Validating.transition(Healing), Ok(Healing));
        assert_eq!(Healing.transition(Validating), Ok(Validating));
    }

    #[test]
    fn policy_violations_block_only_from_validation() {
        for from in MissionStatus::ALL {
            assert_eq!(from.can_transition_to(Blocked), from == Validating, "{from}");
        }
    }

    #[test]
    fn every_in_flight_status_can_fail_time_out_or_be_cancelled() {
        for from in MissionStatus::ALL.into_iter().filter(|s| s.is_in_flight()) {
            for to in [Failed, Timeout, Cancelled] {
                assert!(from.can_transition_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn success_depends_on_what_was_asked() {
        assert_eq!(MissionStatus::success_for(true, true), Success);
        assert_eq!(MissionStatus::success_for(true, false), Deployed);
        assert_eq!(MissionStatus::success_for(false, true), PrOpened);
        assert_eq!(MissionStatus::success_for(false, false), Success);
    }
}
