//! The DynamoDB store against moto, on a table made exactly as `infra/template.yaml` declares it.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SubsecRound as _, Utc};

use gantry_aws::dynamodb::keys;
use gantry_aws::{DynamoRateLimiter, DynamoStore};
use gantry_domain::consultation::Consultation;
use gantry_domain::{
    Mission, MissionId, MissionStatus, Role, StepName, StepRecord, StepStatus, Subject, Turn,
};
use gantry_ports::{ApiToken, AttachedImages, MissionStore, PortError, RateLimiter, TokenStore};

struct Fixture {
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: DynamoStore,
}

async fn fixture() -> Fixture {
    let config = support::moto().sdk_config();
    let table = support::unique("missions");
    support::create_mission_table(&config, &table).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    Fixture { store: DynamoStore::new(client.clone(), &table), client, table }
}

/// Now, to the microsecond the store keeps (as the SQLite store does).
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
async fn created_in_order(store: &DynamoStore, owner: &str, count: usize) -> Vec<Mission> {
    let mut missions = Vec::new();
    for _ in 0..count {
        let m = mission(owner, MissionStatus::AwaitingInput, Utc::now());
        store.create(&m, &[]).await.unwrap();
        missions.push(m);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    missions
}

#[tokio::test]
async fn the_harness_table_has_the_keys_the_store_uses() {
    let f = fixture().await;
    let table = f.client.describe_table().table_name(&f.table).send().await.unwrap().table.unwrap();
    let schema: Vec<(&str, &str)> =
        table.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())).collect();
    assert_eq!(schema, [(keys::PK, "HASH"), (keys::SK, "RANGE")]);
    let mut indexes: Vec<(String, String, String)> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let key = |kind: &str| {
                index
                    .key_schema()
                    .iter()
                    .find(|k| k.key_type().as_str() == kind)
                    .unwrap()
                    .attribute_name()
                    .to_owned()
            };
            (index.index_name().unwrap().to_owned(), key("HASH"), key("RANGE"))
        })
        .collect();
    indexes.sort();
    let expected: Vec<(String, String, String)> =
        keys::INDEXES.iter().map(|(i, h, r)| (i.to_string(), h.to_string(), r.to_string())).collect();
    assert_eq!(indexes, expected);
    let ttl = f.client.describe_time_to_live().table_name(&f.table).send().await.unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.attribute_name(), Some(keys::TTL_ATTRIBUTE));
}

#[tokio::test]
async fn missions_are_created_read_and_saved_with_their_turns() {
    let f = fixture().await;
    let mut m = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    let first = [turn(Role::User, "a todo app"), turn(Role::Assistant, "Which stack?")];
    f.store.create(&m, &first).await.unwrap();
    assert_eq!(f.store.get(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(f.store.turns(&m.id).await.unwrap(), first);

    m.title = "a todo app with categories".into();
    m.updated_at = Utc::now();
    let reply = turn(Role::User, "add categories");
    f.store.save(&mut m, std::slice::from_ref(&reply)).await.unwrap();
    assert_eq!(m.version, 1);
    let stored = f.store.get(&m.id).await.unwrap().unwrap();
    assert_eq!(stored, m);

    m.status = MissionStatus::Queued;
    f.store.save(&mut m, &[]).await.unwrap();
    assert_eq!(m.version, 2);
    assert_eq!(f.store.get(&m.id).await.unwrap().unwrap().status, MissionStatus::Queued);

    let more: Vec<Turn> = (0..11).map(|i| turn(Role::User, &format!("message {i}"))).collect();
    f.store.save(&mut m, &more).await.unwrap();
    let turns = f.store.turns(&m.id).await.unwrap();
    let expected: Vec<Turn> = first.iter().chain([&reply]).chain(&more).cloned().collect();
    assert_eq!(turns, expected, "turns come back in the order they were written");

    assert_eq!(f.store.get(&MissionId::generate()).await.unwrap(), None);
    assert_eq!(f.store.turns(&MissionId::generate()).await.unwrap(), []);
}

#[tokio::test]
async fn a_stale_version_or_a_second_create_is_a_conflict_and_writes_nothing() {
    let f = fixture().await;
    let mut fresh = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    f.store.create(&fresh, &[turn(Role::User, "hello")]).await.unwrap();
    assert!(matches!(f.store.create(&fresh, &[]).await, Err(PortError::Conflict(_))));

    let mut stale = fresh.clone();
    f.store.save(&mut fresh, &[turn(Role::User, "first")]).await.unwrap();
    stale.status = MissionStatus::Queued;
    let lost = f.store.save(&mut stale, &[turn(Role::User, "second")]).await;
    assert!(matches!(lost, Err(PortError::Conflict(_))), "{lost:?}");
    assert_eq!(stale.version, 0, "a lost save leaves the caller's copy as it was");

    let stored = f.store.get(&fresh.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.status), (1, MissionStatus::AwaitingInput));
    let contents: Vec<String> =
        f.store.turns(&fresh.id).await.unwrap().into_iter().map(|t| t.content).collect();
    assert_eq!(contents, ["hello", "first"]);

    let mut never_created = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    assert!(matches!(f.store.save(&mut never_created, &[]).await, Err(PortError::Conflict(_))));
    assert_eq!(f.store.get(&never_created.id).await.unwrap(), None);
}

#[tokio::test]
async fn of_ten_concurrent_proceeds_exactly_one_wins() {
    let f = fixture().await;
    let m = mission("ada", MissionStatus::AwaitingInput, Utc::now());
    f.store
        .create(&m, &[turn(Role::User, "a todo app"), turn(Role::Assistant, "Shall I build it?")])
        .await
        .unwrap();

    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let store = f.store.clone();
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
    let stored = f.store.get(&m.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.status, stored.dispatches), (1, MissionStatus::Queued, 1));
    let turns = f.store.turns(&m.id).await.unwrap();
    assert_eq!(turns.len(), 3, "only the winner's turn is appended");
    assert!(turns[2].content.starts_with("proceed "));
}

#[tokio::test]
async fn an_owner_lists_their_missions_newest_first_in_pages() {
    let f = fixture().await;
    let missions = created_in_order(&f.store, "ada", 5).await;
    created_in_order(&f.store, "eve", 2).await;
    let newest_first: Vec<MissionId> = ids(&missions).into_iter().rev().collect();
    let ada = Subject::new("ada");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = f.store.list(&ada, cursor.as_deref(), 2).await.unwrap();
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

    let all = f.store.list(&ada, None, 5).await.unwrap();
    assert_eq!((ids(&all.missions), all.next_cursor), (newest_first.clone(), None));
    assert_eq!(f.store.latest(&ada).await.unwrap().map(|m| m.id), Some(newest_first[0].clone()));
    assert_eq!(f.store.latest(&Subject::new("nobody")).await.unwrap(), None);
    assert!(f.store.list(&Subject::new("nobody"), None, 10).await.unwrap().missions.is_empty());

    let ada_cursor = f.store.list(&ada, None, 2).await.unwrap().next_cursor.unwrap();
    let stolen = f.store.list(&Subject::new("eve"), Some(&ada_cursor), 2).await;
    assert!(matches!(stolen, Err(PortError::Invalid(_))), "a cursor is bound to its owner");
    assert!(matches!(f.store.list(&ada, Some("garbage!"), 2).await, Err(PortError::Invalid(_))));
}

#[tokio::test]
async fn the_active_consultation_is_the_owners_newest_recent_one_awaiting_input() {
    let f = fixture().await;
    let now = Utc::now();
    let minutes = |n: i64| now - chrono::Duration::minutes(n);
    let stale = mission("ada", MissionStatus::AwaitingInput, minutes(20));
    let older = mission("ada", MissionStatus::AwaitingInput, minutes(5));
    let recent = mission("ada", MissionStatus::AwaitingInput, minutes(1));
    let building = mission("ada", MissionStatus::Building, now);
    let someone_else = mission("eve", MissionStatus::AwaitingInput, now);
    for m in [&stale, &recent, &older, &building, &someone_else] {
        f.store.create(m, &[]).await.unwrap();
    }
    let ada = Subject::new("ada");
    let active = f.store.active_consultation(&ada, minutes(15)).await.unwrap();
    assert_eq!(active.map(|m| m.id), Some(recent.id.clone()));
    assert_eq!(f.store.active_consultation(&ada, now + chrono::Duration::seconds(1)).await.unwrap(), None);
    let with_stale = f.store.active_consultation(&ada, minutes(30)).await.unwrap();
    assert_eq!(with_stale.map(|m| m.id), Some(recent.id));
}

#[tokio::test]
async fn cleanup_and_recovery_find_missions_by_status_and_age() {
    let f = fixture().await;
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
        f.store.create(m, &[]).await.unwrap();
    }
    let sorted = |mut v: Vec<MissionId>| {
        v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        v
    };

    assert_eq!(
        ids(&f.store.in_flight().await.unwrap()),
        sorted(vec![queued.id.clone(), building.id.clone()])
    );
    assert_eq!(ids(&f.store.awaiting_input_before(days(1)).await.unwrap()), vec![idle.id.clone()]);
    assert_eq!(
        ids(&f.store.final_before(days(30)).await.unwrap()),
        sorted(vec![old_success.id.clone(), old_failure.id.clone()])
    );
    assert!(f.store.final_before(days(50)).await.unwrap().is_empty());

    // A save moves the mission between statuses in the index.
    let mut finished = queued.clone();
    finished.status = MissionStatus::Cancelled;
    finished.updated_at = days(35);
    f.store.save(&mut finished, &[]).await.unwrap();
    assert_eq!(ids(&f.store.in_flight().await.unwrap()), vec![building.id.clone()]);
    assert_eq!(
        ids(&f.store.final_before(days(34)).await.unwrap()),
        sorted(vec![old_success.id.clone(), finished.id.clone()])
    );
}

#[tokio::test]
async fn steps_are_upserted_by_name_and_attempt_and_listed_in_start_order() {
    let f = fixture().await;
    let m = mission("ada", MissionStatus::Drafting, Utc::now());
    f.store.create(&m, &[]).await.unwrap();
    let start = Utc::now();
    let step = |name, attempt, status, offset: i64| StepRecord {
        name,
        status,
        attempt,
        started_at: start + chrono::Duration::seconds(offset),
        ended_at: None,
        detail: None,
    };
    f.store.record_step(&m.id, &step(StepName::Draft, 1, StepStatus::Running, 0)).await.unwrap();
    let mut drafted = step(StepName::Draft, 1, StepStatus::Succeeded, 0);
    drafted.ended_at = Some(start + chrono::Duration::seconds(2));
    drafted.detail = Some("claude".into());
    f.store.record_step(&m.id, &drafted).await.unwrap();
    let policy = step(StepName::Policy, 1, StepStatus::Succeeded, 3);
    let build = step(StepName::Build, 1, StepStatus::Failed, 4);
    let heal = step(StepName::Heal, 1, StepStatus::Succeeded, 10);
    let rebuild = step(StepName::Build, 2, StepStatus::Running, 12);
    for s in [&policy, &build, &heal, &rebuild] {
        f.store.record_step(&m.id, s).await.unwrap();
    }
    assert_eq!(f.store.steps(&m.id).await.unwrap(), [drafted, policy, build, heal, rebuild]);
    assert!(f.store.steps(&MissionId::generate()).await.unwrap().is_empty());
    assert_eq!(f.store.turns(&m.id).await.unwrap(), [], "steps are not turns");
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

#[tokio::test]
async fn tokens_are_created_found_and_revoked_with_unique_live_names() {
    let f = fixture().await;
    let siri = token("siri", &"a".repeat(64));
    f.store.create_token(&siri).await.unwrap();
    assert_eq!(f.store.find_token(&siri.token_sha256).await.unwrap(), Some(siri.clone()));
    assert_eq!(f.store.find_token(&"f".repeat(64)).await.unwrap(), None);

    let same_name = f.store.create_token(&token("siri", &"b".repeat(64))).await;
    assert!(matches!(same_name, Err(PortError::Conflict(_))), "{same_name:?}");
    assert_eq!(f.store.find_token(&"b".repeat(64)).await.unwrap(), None, "the loser wrote nothing");
    let same_hash = f.store.create_token(&token("watch", &siri.token_sha256)).await;
    assert!(matches!(same_hash, Err(PortError::Conflict(_))), "{same_hash:?}");

    let at = Utc::now();
    assert!(f.store.revoke_token("siri", at).await.unwrap());
    let revoked = f.store.find_token(&siri.token_sha256).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at.map(|t| t.timestamp_micros()), Some(at.timestamp_micros()));
    assert!(!f.store.revoke_token("siri", Utc::now()).await.unwrap(), "nothing live to revoke");
    assert!(!f.store.revoke_token("never", Utc::now()).await.unwrap());

    let replacement = token("siri", &"c".repeat(64));
    f.store.create_token(&replacement).await.unwrap();
    assert_eq!(f.store.find_token(&replacement.token_sha256).await.unwrap(), Some(replacement));
}

#[tokio::test]
async fn the_rate_limiter_counts_per_key_and_window_across_instances() {
    let f = fixture().await;
    let limiter = DynamoRateLimiter::new(f.client.clone(), &f.table);
    let another_instance = DynamoRateLimiter::new(f.client.clone(), &f.table);
    let window = Duration::from_secs(3600);
    assert_eq!(limiter.exceeded("auth:1.2.3.4", 3, window).await.unwrap(), None);
    for _ in 0..2 {
        assert_eq!(limiter.hit("auth:1.2.3.4", 3, window).await.unwrap(), Ok(()));
    }
    assert_eq!(another_instance.hit("auth:1.2.3.4", 3, window).await.unwrap(), Ok(()));
    let wait = limiter.hit("auth:1.2.3.4", 3, window).await.unwrap().unwrap_err();
    assert!(wait >= Duration::from_secs(1) && wait <= window, "{wait:?}");
    let exceeded = another_instance.exceeded("auth:1.2.3.4", 3, window).await.unwrap();
    assert!(exceeded.is_some_and(|d| d <= window));
    assert_eq!(limiter.hit("auth:5.6.7.8", 3, window).await.unwrap(), Ok(()));

    // The counter item expires by TTL after its window.
    let scan = f.client.scan().table_name(&f.table).send().await.unwrap();
    let is_counter = |item: &&HashMap<String, AttributeValue>| match item.get(keys::PK) {
        Some(AttributeValue::S(pk)) => pk.starts_with("RATE#auth:1.2.3.4#"),
        _ => false,
    };
    let counters: Vec<_> = scan.items().iter().filter(is_counter).collect();
    assert_eq!(counters.len(), 1);
    assert_eq!(counters[0].get("hits"), Some(&AttributeValue::N("3".into())), "refused hits are not counted");
    let Some(AttributeValue::N(expires)) = counters[0].get(keys::TTL_ATTRIBUTE) else { panic!("no TTL") };
    let expires: i64 = expires.parse().unwrap();
    assert!(expires > Utc::now().timestamp() && expires <= Utc::now().timestamp() + 3600 + 61);
}

#[tokio::test]
async fn concurrent_hits_never_exceed_the_limit() {
    let f = fixture().await;
    let limiter = DynamoRateLimiter::new(f.client.clone(), &f.table);
    let hits: Vec<_> = (0..12)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.hit("voice:ada", 5, Duration::from_secs(3600)).await })
        })
        .collect();
    let mut allowed = 0;
    for hit in hits {
        if hit.await.unwrap().unwrap().is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

#[tokio::test]
async fn a_window_that_has_passed_allows_again() {
    let f = fixture().await;
    let limiter = DynamoRateLimiter::new(f.client.clone(), &f.table);
    let window = Duration::from_millis(400);
    // Start at the beginning of a window so both hits fall in the same one.
    let into = Utc::now().timestamp_millis() % 400;
    tokio::time::sleep(Duration::from_millis((400 - into) as u64 + 5)).await;
    assert_eq!(limiter.hit("k", 1, window).await.unwrap(), Ok(()));
    assert!(limiter.hit("k", 1, window).await.unwrap().is_err());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(limiter.hit("k", 1, window).await.unwrap(), Ok(()));
}

#[tokio::test]
async fn errors_map_to_port_errors() {
    let config = support::moto().sdk_config();
    let missing = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "no-such-table");
    let error = missing.get(&MissionId::generate()).await.unwrap_err();
    assert!(matches!(error, PortError::Failed(_)), "a missing table is not transient: {error:?}");

    // Nothing listens on a port just released: a connection failure is transient.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = config.to_builder().endpoint_url(format!("http://127.0.0.1:{port}")).build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&unreachable), "missions");
    let error = store.get(&MissionId::generate()).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn a_design_image_counts_as_attached_once_a_mission_refers_to_it() {
    let f = fixture().await;
    let (first, later) = ("uploads/0123456789abcdef/a.png", "uploads/0123456789abcdef/b.png");
    let mut m = mission("alice", MissionStatus::AwaitingInput, now());
    let mut consultation = Consultation::new();
    consultation.brief.design_image = Some(first.to_owned());
    m.consultation = Some(consultation);
    f.store.create(&m, &[turn(Role::User, "like this picture")]).await.unwrap();
    assert!(f.store.is_attached(first).await.unwrap());
    assert!(!f.store.is_attached(later).await.unwrap());

    // A later turn attaching another image marks it in the same write.
    if let Some(c) = m.consultation.as_mut() {
        c.brief.design_image = Some(later.to_owned());
    }
    f.store.save(&mut m, &[turn(Role::User, "or this one")]).await.unwrap();
    assert!(f.store.is_attached(later).await.unwrap());
    assert!(f.store.is_attached(first).await.unwrap(), "a mark is never taken back");
    assert!(!f.store.is_attached("uploads/0123456789abcdef/never.png").await.unwrap());
}
