//! The contract every `MissionStore` + `TokenStore` keeps, written once and run against each
//! store: `store_contract_tests!` expands to one `#[tokio::test]` per rule, given an expression that
//! makes a fresh, empty store. SQLite runs it in `shared/local/tests`, DynamoDB (moto) in
//! `shared/aws/tests`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};

use gantry_domain::{
    Mission, MissionId, MissionStatus, Role, StepName, StepRecord, StepStatus, Subject, Turn,
};
use gantry_ports::{ApiToken, MissionStore, PortError, TokenStore};

/// What the suite needs of a store.
pub trait Store: MissionStore + TokenStore + Send + Sync + 'static {}
impl<S: MissionStore + TokenStore + Send + Sync + 'static> Store for S {}

/// One `#[tokio::test]` per rule of the contract; `$make` is an expression whose `.await` gives a
/// fresh store.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@tests $make;
            missions_are_created_read_and_saved_with_their_turns,
            a_stale_version_or_a_second_create_is_a_conflict_and_writes_nothing,
            of_ten_concurrent_proceeds_exactly_one_wins,
            an_owner_lists_their_missions_newest_first_in_pages,
            the_active_consultation_is_the_owners_newest_recent_one_awaiting_input,
            cleanup_and_recovery_find_missions_by_status_and_age,
            steps_are_upserted_by_name_and_attempt_and_listed_in_start_order,
            tokens_are_created_found_and_revoked_with_unique_live_names,
        );
    };
    (@tests $make:expr; $($name:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::$name(std::sync::Arc::new($make.await)).await;
            }
        )*
    };
}

/// Now, to the microsecond the stores keep.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn turn(role: Role, content: &str) -> Turn {
    Turn { role, content: content.to_owned(), at: now() }
}

fn mission(owner: &str, status: MissionStatus, updated_at: DateTime<Utc>) -> Mission {
    let mut mission = Mission::new(Subject::new(owner), "a todo app", status, updated_at);
    mission.updated_at = updated_at;
    mission
}

fn ids(missions: &[Mission]) -> Vec<MissionId> {
    missions.iter().map(|m| m.id.clone()).collect()
}

/// uuid v7 ids sort by creation time; a pause keeps consecutive ids in distinct milliseconds.
async fn created_in_order(store: &dyn MissionStore, owner: &str, count: usize) -> Vec<Mission> {
    let mut missions = Vec::new();
    for _ in 0..count {
        let m = mission(owner, MissionStatus::AwaitingInput, Utc::now());
        store.create(&m, &[]).await.unwrap();
        missions.push(m);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    missions
}

fn token(name: &str, hash: &str) -> ApiToken {
    ApiToken {
        name: name.into(),
        subject: "ada".into(),
        token_sha256: hash.into(),
        created_at: now(),
        revoked_at: None,
    }
}

pub async fn missions_are_created_read_and_saved_with_their_turns<S: Store>(store: Arc<S>) {
    let mut m = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    let first = [turn(Role::User, "a todo app"), turn(Role::Assistant, "Which stack?")];
    store.create(&m, &first).await.unwrap();
    assert_eq!(store.get(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(store.turns(&m.id).await.unwrap(), first);

    m.title = "a todo app with categories".into();
    m.updated_at = Utc::now();
    let reply = turn(Role::User, "add categories");
    store.save(&mut m, std::slice::from_ref(&reply)).await.unwrap();
    assert_eq!(m.version, 1);
    let stored = store.get(&m.id).await.unwrap().unwrap();
    assert_eq!(stored, m);

    m.status = MissionStatus::Queued;
    store.save(&mut m, &[]).await.unwrap();
    assert_eq!(m.version, 2);
    assert_eq!(store.get(&m.id).await.unwrap().unwrap().status, MissionStatus::Queued);

    let more: Vec<Turn> = (0..11).map(|i| turn(Role::User, &format!("message {i}"))).collect();
    store.save(&mut m, &more).await.unwrap();
    let turns = store.turns(&m.id).await.unwrap();
    let expected: Vec<Turn> = first.iter().chain([&reply]).chain(&more).cloned().collect();
    assert_eq!(turns, expected, "turns come back in the order they were written");

    assert_eq!(store.get(&MissionId::generate()).await.unwrap(), None);
    assert_eq!(store.turns(&MissionId::generate()).await.unwrap(), []);
}

pub async fn a_stale_version_or_a_second_create_is_a_conflict_and_writes_nothing<S: Store>(store: Arc<S>) {
    let mut fresh = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    store.create(&fresh, &[turn(Role::User, "hello")]).await.unwrap();
    assert!(matches!(store.create(&fresh, &[]).await, Err(PortError::Conflict(_))));

    let mut stale = fresh.clone();
    store.save(&mut fresh, &[turn(Role::User, "first")]).await.unwrap();
    stale.status = MissionStatus::Queued;
    let lost = store.save(&mut stale, &[turn(Role::User, "second")]).await;
    assert!(matches!(lost, Err(PortError::Conflict(_))), "{lost:?}");
    assert_eq!(stale.version, 0, "a lost save leaves the caller's copy as it was");

    let stored = store.get(&fresh.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.status), (1, MissionStatus::AwaitingInput));
    let contents: Vec<String> =
        store.turns(&fresh.id).await.unwrap().into_iter().map(|t| t.content).collect();
    assert_eq!(contents, ["hello", "first"]);

    let mut never_created = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    assert!(matches!(store.save(&mut never_created, &[]).await, Err(PortError::Conflict(_))));
    assert_eq!(store.get(&never_created.id).await.unwrap(), None);
}

pub async fn of_ten_concurrent_proceeds_exactly_one_wins<S: Store>(store: Arc<S>) {
    let m = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    store
        .create(&m, &[turn(Role::User, "a todo app"), turn(Role::Assistant, "Shall I build it?")])
        .await
        .unwrap();

    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let mut copy = m.clone();
            tokio::spawn(async move {
                copy.status = MissionStatus::Queued;
                copy.dispatches = 1;
                store.save(&mut copy, &[turn(Role::User, &format!("proceed {i}"))]).await
            })
        })
        .collect();
    let mut won = 0;
    let mut conflicts = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => won += 1,
            Err(PortError::Conflict(_)) => conflicts += 1,
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!((won, conflicts), (1, 9));
    let stored = store.get(&m.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.status, stored.dispatches), (1, MissionStatus::Queued, 1));
    let turns = store.turns(&m.id).await.unwrap();
    assert_eq!(turns.len(), 3, "only the winner's turn is appended");
    assert!(turns[2].content.starts_with("proceed "));
}

pub async fn an_owner_lists_their_missions_newest_first_in_pages<S: Store>(store: Arc<S>) {
    let missions = created_in_order(store.as_ref(), "ada", 5).await;
    created_in_order(store.as_ref(), "eve", 2).await;
    let newest_first: Vec<MissionId> = ids(&missions).into_iter().rev().collect();
    let ada = Subject::new("ada");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list(&ada, cursor.as_deref(), 2).await.unwrap();
        assert!(page.missions.len() <= 2);
        seen.extend(ids(&page.missions));
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3, "no empty page at the end");

    let all = store.list(&ada, None, 5).await.unwrap();
    assert_eq!((ids(&all.missions), all.next_cursor), (newest_first.clone(), None));
    assert_eq!(store.latest(&ada).await.unwrap().map(|m| m.id), Some(newest_first[0].clone()));
    assert_eq!(store.latest(&Subject::new("nobody")).await.unwrap(), None);
    assert!(store.list(&Subject::new("nobody"), None, 10).await.unwrap().missions.is_empty());

    let ada_cursor = store.list(&ada, None, 2).await.unwrap().next_cursor.unwrap();
    let stolen = store.list(&Subject::new("eve"), Some(&ada_cursor), 2).await;
    assert!(matches!(stolen, Err(PortError::Invalid(_))), "a cursor is bound to its owner");
    assert!(matches!(store.list(&ada, Some("garbage!"), 2).await, Err(PortError::Invalid(_))));
}

pub async fn the_active_consultation_is_the_owners_newest_recent_one_awaiting_input<S: Store>(store: Arc<S>) {
    let now = Utc::now();
    let minutes = |n: i64| now - chrono::Duration::minutes(n);
    let stale = mission("ada", MissionStatus::AwaitingInput, minutes(20));
    let older = mission("ada", MissionStatus::AwaitingInput, minutes(5));
    let recent = mission("ada", MissionStatus::AwaitingInput, minutes(1));
    let building = mission("ada", MissionStatus::Building, now);
    let someone_else = mission("eve", MissionStatus::AwaitingInput, now);
    for m in [&stale, &recent, &older, &building, &someone_else] {
        store.create(m, &[]).await.unwrap();
    }
    let ada = Subject::new("ada");
    let active = store.active_consultation(&ada, minutes(15)).await.unwrap();
    assert_eq!(active.map(|m| m.id), Some(recent.id.clone()));
    assert_eq!(store.active_consultation(&ada, now + chrono::Duration::seconds(1)).await.unwrap(), None);
    let with_stale = store.active_consultation(&ada, minutes(30)).await.unwrap();
    assert_eq!(with_stale.map(|m| m.id), Some(recent.id));
}

pub async fn cleanup_and_recovery_find_missions_by_status_and_age<S: Store>(store: Arc<S>) {
    let now = Utc::now();
    let days = |n: i64| now - chrono::Duration::days(n);
    let queued = mission("ada", MissionStatus::Queued, now);
    let building = mission("eve", MissionStatus::Building, days(3));
    let idle = mission("ada", MissionStatus::AwaitingInput, days(2));
    let chatting = mission("ada", MissionStatus::AwaitingInput, now);
    let old_success = mission("ada", MissionStatus::Success, days(40));
    let old_failure = mission("eve", MissionStatus::Failed, days(31));
    let new_success = mission("ada", MissionStatus::Success, days(1));
    let all = [&queued, &building, &idle, &chatting, &old_success, &old_failure, &new_success];
    for m in all {
        store.create(m, &[]).await.unwrap();
    }
    let sorted = |mut v: Vec<MissionId>| {
        v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        v
    };

    assert_eq!(ids(&store.in_flight().await.unwrap()), sorted(vec![queued.id.clone(), building.id.clone()]));
    assert_eq!(ids(&store.awaiting_input_before(days(1)).await.unwrap()), vec![idle.id.clone()]);
    assert_eq!(
        ids(&store.final_before(days(30)).await.unwrap()),
        sorted(vec![old_success.id.clone(), old_failure.id.clone()])
    );
    assert!(store.final_before(days(50)).await.unwrap().is_empty());

    // A save moves the mission between statuses in the index.
    let mut finished = queued.clone();
    finished.status = MissionStatus::Cancelled;
    finished.updated_at = days(35);
    store.save(&mut finished, &[]).await.unwrap();
    assert_eq!(ids(&store.in_flight().await.unwrap()), vec![building.id.clone()]);
    assert_eq!(
        ids(&store.final_before(days(34)).await.unwrap()),
        sorted(vec![old_success.id.clone(), finished.id.clone()])
    );
}

pub async fn steps_are_upserted_by_name_and_attempt_and_listed_in_start_order<S: Store>(store: Arc<S>) {
    let m = mission("ada", MissionStatus::Drafting, Utc::now());
    store.create(&m, &[]).await.unwrap();
    let start = Utc::now();
    let step = |name, attempt, status, offset: i64| StepRecord {
        name,
        status,
        attempt,
        started_at: start + chrono::Duration::seconds(offset),
        ended_at: None,
        detail: None,
    };
    store.record_step(&m.id, &step(StepName::Draft, 1, StepStatus::Running, 0)).await.unwrap();
    let mut drafted = step(StepName::Draft, 1, StepStatus::Succeeded, 0);
    drafted.ended_at = Some(start + chrono::Duration::seconds(2));
    drafted.detail = Some("claude".into());
    store.record_step(&m.id, &drafted).await.unwrap();
    let policy = step(StepName::Policy, 1, StepStatus::Succeeded, 3);
    let build = step(StepName::Build, 1, StepStatus::Failed, 4);
    let heal = step(StepName::Heal, 1, StepStatus::Succeeded, 10);
    let rebuild = step(StepName::Build, 2, StepStatus::Running, 12);
    for s in [&policy, &build, &heal, &rebuild] {
        store.record_step(&m.id, s).await.unwrap();
    }
    assert_eq!(store.steps(&m.id).await.unwrap(), [drafted, policy, build, heal, rebuild]);
    assert!(store.steps(&MissionId::generate()).await.unwrap().is_empty());
    assert_eq!(store.turns(&m.id).await.unwrap(), [], "steps are not turns");
}

pub async fn tokens_are_created_found_and_revoked_with_unique_live_names<S: Store>(store: Arc<S>) {
    let siri = token("siri", &"a".repeat(64));
    store.create_token(&siri).await.unwrap();
    assert_eq!(store.find_token(&siri.token_sha256).await.unwrap(), Some(siri.clone()));
    assert_eq!(store.find_token(&"f".repeat(64)).await.unwrap(), None);

    let same_name = store.create_token(&token("siri", &"b".repeat(64))).await;
    assert!(matches!(same_name, Err(PortError::Conflict(_))), "{same_name:?}");
    assert_eq!(store.find_token(&"b".repeat(64)).await.unwrap(), None, "the loser wrote nothing");
    let same_hash = store.create_token(&token("watch", &siri.token_sha256)).await;
    assert!(matches!(same_hash, Err(PortError::Conflict(_))), "{same_hash:?}");

    let at = Utc::now();
    assert!(store.revoke_token("siri", at).await.unwrap());
    let revoked = store.find_token(&siri.token_sha256).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at.map(|t| t.timestamp_micros()), Some(at.timestamp_micros()));
    assert!(!store.revoke_token("siri", Utc::now()).await.unwrap(), "nothing live to revoke");
    assert!(!store.revoke_token("never", Utc::now()).await.unwrap());

    let replacement = token("siri", &"c".repeat(64));
    store.create_token(&replacement).await.unwrap();
    assert_eq!(store.find_token(&replacement.token_sha256).await.unwrap(), Some(replacement));
}
