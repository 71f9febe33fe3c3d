//! The DynamoDB store against moto, on a table made exactly as `infra/template.yaml` declares it.

mod support;

gantry_store_contract::store_contract_tests!(async { fixture().await.store });

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SubsecRound as _, Utc};

use gantry_aws::dynamodb::keys;
use gantry_aws::{DynamoRateLimiter, DynamoStore};
use gantry_domain::consultation::Consultation;
use gantry_domain::{Mission, MissionId, MissionStatus, Role, Subject, Turn};
use gantry_ports::{AttachedImages, MissionStore, PortError, RateLimiter};

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
