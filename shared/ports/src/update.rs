//! The one way to change a stored mission: read it, let a domain decision change it, and write it
//! back with the version check, retrying a lost race a bounded number of times with backoff and
//! jitter. Handlers, steps and cleanup call this instead of writing their own loops.

use std::time::Duration;

use rand::Rng;

use gantry_domain::{Mission, MissionId, Turn};

use crate::{MissionStore, PortError};

/// How many times a change is tried before a persistent conflict is reported.
pub const UPDATE_TRIES: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// What a change decided about the mission it was handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Write the changed mission (and the turns given to `update`).
    Save,
    /// Nothing to write: the mission is already as the change wants it.
    Keep,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error("mission {0} does not exist")]
    NotFound(MissionId),
    /// The change refused the mission as it found it (a domain rule said no).
    #[error(transparent)]
    Refused(E),
    /// Every try lost its race: someone else keeps changing the mission.
    #[error("mission {id} kept changing; gave up after {tries} tries")]
    Contended { id: MissionId, tries: u32 },
    #[error(transparent)]
    Port(PortError),
}

impl<E> UpdateError<E> {
    /// Maps a refusal, keeping every other case.
    pub fn map_refused<F>(self, f: impl FnOnce(E) -> F) -> UpdateError<F> {
        match self {
            UpdateError::NotFound(id) => UpdateError::NotFound(id),
            UpdateError::Refused(e) => UpdateError::Refused(f(e)),
            UpdateError::Contended { id, tries } => UpdateError::Contended { id, tries },
            UpdateError::Port(e) => UpdateError::Port(e),
        }
    }
}

/// Reads mission `id`, applies `change` and saves it (with `turns` appended atomically) if the
/// stored version has not moved (the change sets `updated_at` as its rule says); on a lost race it reads again and re-applies `change`, so the
/// decision is always made on the newest state. Returns the mission as stored afterwards.
pub async fn update<E>(
    store: &dyn MissionStore,
    id: &MissionId,
    turns: &[Turn],
    mut change: impl FnMut(&mut Mission) -> Result<Change, E> + Send,
) -> Result<Mission, UpdateError<E>> {
    let mut backoff = FIRST_BACKOFF;
    for try_number in 1..=UPDATE_TRIES {
        let mut mission = match store.get(id).await {
            Ok(Some(mission)) => mission,
            Ok(None) => return Err(UpdateError::NotFound(id.clone())),
            Err(e) => return Err(UpdateError::Port(e)),
        };
        if change(&mut mission).map_err(UpdateError::Refused)? == Change::Keep {
            return Ok(mission);
        }
        match store.save(&mut mission, turns).await {
            Ok(()) => return Ok(mission),
            Err(PortError::Conflict(_)) if try_number < UPDATE_TRIES => {
                let jitter = rand::thread_rng().gen_range(0..=backoff.as_millis() as u64);
                tokio::time::sleep(backoff / 2 + Duration::from_millis(jitter / 2)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(PortError::Conflict(_)) => break,
            Err(e) => return Err(UpdateError::Port(e)),
        }
    }
    Err(UpdateError::Contended { id: id.clone(), tries: UPDATE_TRIES })
}
