//! The SQLite store against a real database file: the store contract every store keeps, and what
//! is SQLite's own (reopening the file, migrating a new database once).

gantry_store_contract::store_contract_tests!(async { SqliteStore::open_in_memory().unwrap() });

use chrono::Utc;
use gantry_domain::{Mission, MissionStatus, Role, Subject, Turn};
use gantry_local::SqliteStore;
use gantry_ports::MissionStore;

fn turn(role: Role, content: &str) -> Turn {
    Turn { role, content: content.into(), at: Utc::now() }
}

fn mission(owner: &str) -> Mission {
    Mission::new(Subject::new(owner), "a todo app", MissionStatus::AwaitingInput, Utc::now())
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
