//! The one mission writer (`gantry_ports::update`) over the SQLite store, with a rival writer
//! that changes the mission between the writer's read and its save.

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_domain::{Mission, MissionId, MissionStatus, StepRecord, Subject, Turn};
use gantry_local::SqliteStore;
use gantry_ports::{update, Change, MissionPage, MissionStore, PortResult, UpdateError, UPDATE_TRIES};

/// Delegates to SQLite, but before each of the first `races` saves a rival saves first.
struct Rival {
    inner: SqliteStore,
    races: u32,
    raced: AtomicU32,
}

#[async_trait]
impl MissionStore for Rival {
    async fn create(&self, mission: &Mission, turns: &[Turn]) -> PortResult<()> {
        self.inner.create(mission, turns).await
    }
    async fn get(&self, id: &MissionId) -> PortResult<Option<Mission>> {
        self.inner.get(id).await
    }
    async fn save(&self, mission: &mut Mission, turns: &[Turn]) -> PortResult<()> {
        if self.raced.fetch_add(1, Ordering::SeqCst) < self.races {
            let mut rival = self.inner.get(&mission.id).await?.expect("the mission exists");
            rival.heals += 10;
            self.inner.save(&mut rival, &[]).await?;
        }
        self.inner.save(mission, turns).await
    }
    async fn turns(&self, id: &MissionId) -> PortResult<Vec<Turn>> {
        self.inner.turns(id).await
    }
    async fn list(&self, owner: &Subject, cursor: Option<&str>, limit: usize) -> PortResult<MissionPage> {
        self.inner.list(owner, cursor, limit).await
    }
    async fn latest(&self, owner: &Subject) -> PortResult<Option<Mission>> {
        self.inner.latest(owner).await
    }
    async fn active_consultation(
        &self,
        owner: &Subject,
        since: DateTime<Utc>,
    ) -> PortResult<Option<Mission>> {
        self.inner.active_consultation(owner, since).await
    }
    async fn in_flight(&self) -> PortResult<Vec<Mission>> {
        self.inner.in_flight().await
    }
    async fn awaiting_input_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.inner.awaiting_input_before(before).await
    }
    async fn final_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.inner.final_before(before).await
    }
    async fn record_step(&self, id: &MissionId, step: &StepRecord) -> PortResult<()> {
        self.inner.record_step(id, step).await
    }
    async fn steps(&self, id: &MissionId) -> PortResult<Vec<StepRecord>> {
        self.inner.steps(id).await
    }
}

async fn rival(races: u32) -> (Rival, MissionId) {
    let inner = SqliteStore::open_in_memory().unwrap();
    let mission = Mission::new(Subject::new("owner"), "a todo app", MissionStatus::Queued, Utc::now());
    inner.create(&mission, &[]).await.unwrap();
    (Rival { inner, races, raced: AtomicU32::new(0) }, mission.id)
}

#[tokio::test]
async fn a_lost_race_is_retried_on_the_newest_state() {
    let (store, id) = rival(2).await;
    let mut applied = 0;
    let mission = update(&store, &id, &[], |m| {
        applied += 1;
        m.attempts += 1;
        Ok::<_, ()>(Change::Save)
    })
    .await
    .unwrap();
    // Two rivals won, then the third try saved: the change was re-applied on the rivals' writes.
    assert_eq!(applied, 3);
    assert_eq!(mission.heals, 20);
    assert_eq!(mission.attempts, 1);
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!((stored.heals, stored.attempts), (20, 1));
}

#[tokio::test]
async fn a_persistent_conflict_is_a_clear_error() {
    let (store, id) = rival(u32::MAX).await;
    let error = update(&store, &id, &[], |m| {
        m.attempts += 1;
        Ok::<_, &str>(Change::Save)
    })
    .await
    .unwrap_err();
    assert!(matches!(error, UpdateError::Contended { tries: UPDATE_TRIES, .. }), "{error:?}");
    assert!(error.to_string().contains("kept changing"), "{error}");
    assert_eq!(store.get(&id).await.unwrap().unwrap().attempts, 0);
}

#[tokio::test]
async fn a_refusal_or_nothing_to_change_writes_nothing() {
    let (store, id) = rival(0).await;
    let refused = update(&store, &id, &[], |_| Err::<Change, _>("no")).await.unwrap_err();
    assert!(matches!(refused, UpdateError::Refused("no")));
    let kept = update(&store, &id, &[], |_| Ok::<_, ()>(Change::Keep)).await.unwrap();
    assert_eq!(kept.version, 0);
    let missing =
        update(&store, &MissionId::generate(), &[], |_| Ok::<_, ()>(Change::Save)).await.unwrap_err();
    assert!(matches!(missing, UpdateError::NotFound(_)));
}
