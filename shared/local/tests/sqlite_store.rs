//! The SQLite store against a real database file.

use chrono::{Duration, Utc};
use gantry_domain::{Mission, MissionStatus, Role, StepName, StepRecord, StepStatus, Subject, Turn};
use gantry_local::SqliteStore;
use gantry_ports::{ApiToken, MissionStore, PortError, TokenStore};

fn turn(role: Role, content: &str) -> Turn {
    Turn { role, content: content.into(), at: Utc::now() }
}

fn mission(owner: &str) -> Mission {
    Mission::new(Subject::new(owner), "a todo app", MissionStatus::AwaitingInput, Utc::now())
}

#[tokio::test]
async fn turns_commit_with_a_version_check() {
    let store = SqliteStore::open_in_memory().unwrap();
    let m = mission("owner");
    store.create(&m, &[turn(Role::User, "hi"), turn(Role::Assistant, "hello")]).await.unwrap();

    let mut first = store.get(&m.id).await.unwrap().unwrap();
    let mut second = first.clone();
    store.save(&mut first, &[turn(Role::User, "todo app")]).await.unwrap();
    assert_eq!(first.version, 1);

    // The second writer read version 0: it loses, and its turn is not appended.
    let lost = store.save(&mut second, &[turn(Role::User, "stale")]).await;
    assert!(matches!(lost, Err(PortError::Conflict(_))));
    assert_eq!(second.version, 0);

    let turns = store.turns(&m.id).await.unwrap();
    let contents: Vec<_> = turns.iter().map(|t| t.content.as_str()).collect();
    assert_eq!(contents, ["hi", "hello", "todo app"]);
}

#[tokio::test]
async fn creating_twice_is_a_conflict() {
    let store = SqliteStore::open_in_memory().unwrap();
    let m = mission("owner");
    store.create(&m, &[]).await.unwrap();
    assert!(matches!(store.create(&m, &[]).await, Err(PortError::Conflict(_))));
}

#[tokio::test]
async fn listing_is_per_owner_newest_first_and_paged() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let m = mission("alice");
        store.create(&m, &[]).await.unwrap();
        ids.push(m.id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    store.create(&mission("bob"), &[]).await.unwrap();

    let page = store.list(&Subject::new("alice"), None, 2).await.unwrap();
    assert_eq!(
        page.missions.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[3].clone()]
    );
    let cursor = page.next_cursor.unwrap();
    let rest = store.list(&Subject::new("alice"), Some(&cursor), 10).await.unwrap();
    assert_eq!(rest.missions.len(), 3);
    assert!(rest.next_cursor.is_none());
    assert_eq!(store.latest(&Subject::new("alice")).await.unwrap().unwrap().id, ids[4]);
    assert!(store.latest(&Subject::new("carol")).await.unwrap().is_none());
}

#[tokio::test]
async fn active_consultation_respects_the_idle_window() {
    let store = SqliteStore::open_in_memory().unwrap();
    let m = mission("alice");
    store.create(&m, &[]).await.unwrap();
    let owner = Subject::new("alice");
    let recent = Utc::now() - Duration::minutes(15);
    assert_eq!(store.active_consultation(&owner, recent).await.unwrap().unwrap().id, m.id);
    let future = Utc::now() + Duration::minutes(1);
    assert!(store.active_consultation(&owner, future).await.unwrap().is_none());
    assert_eq!(store.awaiting_input_before(future).await.unwrap().len(), 1);
}

#[tokio::test]
async fn in_flight_and_steps() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut m = mission("alice");
    store.create(&m, &[]).await.unwrap();
    assert!(store.in_flight().await.unwrap().is_empty());
    m.advance(MissionStatus::Queued, Utc::now()).unwrap();
    store.save(&mut m, &[]).await.unwrap();
    assert_eq!(store.in_flight().await.unwrap().len(), 1);

    let mut step = StepRecord {
        name: StepName::Build,
        status: StepStatus::Running,
        attempt: 1,
        started_at: Utc::now(),
        ended_at: None,
        detail: None,
    };
    store.record_step(&m.id, &step).await.unwrap();
    step.status = StepStatus::Failed;
    store.record_step(&m.id, &step).await.unwrap();
    step.attempt = 2;
    store.record_step(&m.id, &step).await.unwrap();
    let steps = store.steps(&m.id).await.unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].status, StepStatus::Failed);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gantry.db");
    let m = mission("alice");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create(&m, &[turn(Role::User, "kept")]).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get(&m.id).await.unwrap().unwrap(), m);
    assert_eq!(store.turns(&m.id).await.unwrap()[0].content, "kept");
}

#[tokio::test]
async fn tokens_are_found_by_hash_and_revoked_by_name() {
    let store = SqliteStore::open_in_memory().unwrap();
    let token = ApiToken {
        name: "siri".into(),
        subject: "owner".into(),
        token_sha256: "ab".repeat(32),
        created_at: Utc::now(),
        revoked_at: None,
    };
    store.create_token(&token).await.unwrap();
    let twin = ApiToken { token_sha256: "cd".repeat(32), ..token.clone() };
    assert!(matches!(store.create_token(&twin).await, Err(PortError::Conflict(_))));
    assert_eq!(store.find_token(&token.token_sha256).await.unwrap().unwrap().name, "siri");
    assert!(store.revoke_token("siri", Utc::now()).await.unwrap());
    assert!(!store.revoke_token("siri", Utc::now()).await.unwrap());
    assert!(store.find_token(&token.token_sha256).await.unwrap().unwrap().revoked_at.is_some());
    // The name is free again once revoked.
    store.create_token(&twin).await.unwrap();
}

#[test]
fn processes_opening_a_new_database_at_once_migrate_it_once() {
    // `gantry build` and `gantry missions` may both be the first to open a data dir.
    let dir = tempfile::tempdir().unwrap();
    for round in 0..20 {
        let path = dir.path().join(format!("gantry-{round}.db"));
        let start = std::sync::Barrier::new(8);
        let opened: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        SqliteStore::open(&path).err().map(|e| e.to_string()).unwrap_or_default()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| "panicked".into())).collect()
        });
        assert_eq!(opened, vec![String::new(); 8], "round {round}");
    }
}
