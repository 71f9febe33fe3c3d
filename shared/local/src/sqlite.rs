//! The SQLite mission store: one file in the data dir, WAL, versioned migrations.
//!
//! The mission document is stored whole as JSON beside the columns used for lookups, so that adding
//! a field never needs a migration; turns and steps have their own tables. A consultation turn is
//! one transaction that appends the turns and rewrites the mission only if its version is unchanged.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use gantry_domain::{Mission, MissionId, MissionStatus, Role, StepRecord, Subject, Turn};
use gantry_ports::{ApiToken, AttachedImages, MissionPage, MissionStore, PortError, PortResult, TokenStore};

/// Each entry moves the schema from version `index` to `index + 1` (kept in `PRAGMA user_version`).
const MIGRATIONS: &[&str] = &["CREATE TABLE missions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX missions_by_owner ON missions (owner, id DESC);
    CREATE INDEX missions_by_status ON missions (status, updated_at);
    CREATE TABLE turns (
        mission_id TEXT NOT NULL REFERENCES missions (id),
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (mission_id, seq)
    );
    CREATE TABLE steps (
        mission_id TEXT NOT NULL REFERENCES missions (id),
        name TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (mission_id, name, attempt)
    );
    CREATE TABLE api_tokens (
        token_sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        subject TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE UNIQUE INDEX live_token_names ON api_tokens (name) WHERE revoked_at IS NULL;"];

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn db_error(e: impl std::fmt::Display) -> PortError {
    PortError::Unavailable { service: "sqlite", message: e.to_string() }
}

/// Why opening the database failed.
enum Prepare {
    Sqlite(rusqlite::Error),
    /// The schema is newer than this build knows.
    Newer(usize),
}

impl From<rusqlite::Error> for Prepare {
    fn from(e: rusqlite::Error) -> Self {
        Prepare::Sqlite(e)
    }
}

impl From<Prepare> for PortError {
    fn from(e: Prepare) -> Self {
        match e {
            Prepare::Sqlite(e) => db_error(e),
            Prepare::Newer(version) => PortError::Failed(format!(
                "the database schema (version {version}) is newer than this gantry (version {})",
                MIGRATIONS.len()
            )),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn corrupt(e: impl std::fmt::Display) -> PortError {
    PortError::Failed(format!("stored record is unreadable: {e}"))
}

/// Fixed-width UTC timestamps, so that text order is time order in SQL.
fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> PortResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(corrupt)
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Another process opening it at the same moment can hold a lock SQLite will not wait for
    /// (switching a new file to WAL); such an open is retried, a bounded number of times.
    pub fn open(path: &Path) -> PortResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_error)?;
        }
        let mut attempt = 0u64;
        loop {
            let mut conn = Connection::open(path).map_err(db_error)?;
            match Self::prepare(&mut conn) {
                Ok(()) => return Ok(Self { conn: Arc::new(Mutex::new(conn)) }),
                Err(Prepare::Sqlite(e)) if is_busy(&e) && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * attempt.min(10)));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn open_in_memory() -> PortResult<Self> {
        let mut conn = Connection::open_in_memory().map_err(db_error)?;
        Self::prepare(&mut conn)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    fn prepare(conn: &mut Connection) -> Result<(), Prepare> {
        // First, so that the statements below wait for another process's lock where they can.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The version is read and the migrations applied under one write lock, so two processes
        // opening a new data dir at once (`gantry build` and `gantry missions`) migrate it once.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: usize = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if current > MIGRATIONS.len() {
            return Err(Prepare::Newer(current));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs blocking SQLite work off the async executor.
    async fn with<T, F>(&self, work: F) -> PortResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> PortResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard =
                conn.lock().map_err(|_| PortError::Failed("sqlite connection poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(db_error)?
    }
}

fn mission_from_body(body: String) -> PortResult<Mission> {
    serde_json::from_str(&body).map_err(corrupt)
}

fn query_missions(conn: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> PortResult<Vec<Mission>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let bodies = stmt
        .query_map(args, |row| row.get::<_, String>(0))
        .map_err(db_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_error)?;
    bodies.into_iter().map(mission_from_body).collect()
}

fn insert_turns(tx: &rusqlite::Transaction<'_>, id: &str, turns: &[Turn]) -> PortResult<()> {
    if turns.is_empty() {
        return Ok(());
    }
    let next: i64 = tx
        .query_row("SELECT COALESCE(MAX(seq), -1) + 1 FROM turns WHERE mission_id = ?1", [id], |row| {
            row.get(0)
        })
        .map_err(db_error)?;
    let mut stmt = tx
        .prepare_cached("INSERT INTO turns (mission_id, seq, role, content, at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db_error)?;
    for (offset, turn) in turns.iter().enumerate() {
        stmt.execute(params![id, next + offset as i64, role_str(turn.role), turn.content, ts(turn.at)])
            .map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl MissionStore for SqliteStore {
    async fn create(&self, mission: &Mission, turns: &[Turn]) -> PortResult<()> {
        let mission = mission.clone();
        let turns = turns.to_vec();
        self.with(move |conn| {
            let body = serde_json::to_string(&mission).map_err(corrupt)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO missions (id, owner, status, version, created_at, updated_at, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        mission.id.as_str(),
                        mission.owner.as_str(),
                        mission.status.as_str(),
                        mission.version as i64,
                        ts(mission.created_at),
                        ts(mission.updated_at),
                        body
                    ],
                )
                .map_err(db_error)?;
            if inserted == 0 {
                return Err(PortError::Conflict(format!("mission {} already exists", mission.id)));
            }
            insert_turns(&tx, mission.id.as_str(), &turns)?;
            tx.commit().map_err(db_error)
        })
        .await
    }

    async fn get(&self, id: &MissionId) -> PortResult<Option<Mission>> {
        let id = id.clone();
        self.with(move |conn| {
            conn.query_row("SELECT body FROM missions WHERE id = ?1", [id.as_str()], |row| {
                row.get::<_, String>(0)
            })
            .optional()
            .map_err(db_error)?
            .map(mission_from_body)
            .transpose()
        })
        .await
    }

    async fn save(&self, mission: &mut Mission, turns: &[Turn]) -> PortResult<()> {
        let mut next = mission.clone();
        next.version = mission.version + 1;
        let expected = mission.version;
        let turns = turns.to_vec();
        let saved = next.clone();
        self.with(move |conn| {
            let body = serde_json::to_string(&next).map_err(corrupt)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
            let updated = tx
                .execute(
                    "UPDATE missions SET status = ?2, version = ?3, updated_at = ?4, body = ?5
                     WHERE id = ?1 AND version = ?6",
                    params![
                        next.id.as_str(),
                        next.status.as_str(),
                        next.version as i64,
                        ts(next.updated_at),
                        body,
                        expected as i64
                    ],
                )
                .map_err(db_error)?;
            if updated == 0 {
                return Err(PortError::Conflict(format!("mission {} changed since it was read", next.id)));
            }
            insert_turns(&tx, next.id.as_str(), &turns)?;
            tx.commit().map_err(db_error)
        })
        .await?;
        *mission = saved;
        Ok(())
    }

    async fn turns(&self, id: &MissionId) -> PortResult<Vec<Turn>> {
        let id = id.clone();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT role, content, at FROM turns WHERE mission_id = ?1 ORDER BY seq")
                .map_err(db_error)?;
            let rows = stmt
                .query_map([id.as_str()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
                })
                .map_err(db_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(role, content, at)| {
                    let role = match role.as_str() {
                        "user" => Role::User,
                        "assistant" => Role::Assistant,
                        other => return Err(corrupt(format!("unknown role {other}"))),
                    };
                    Ok(Turn { role, content, at: parse_ts(&at)? })
                })
                .collect()
        })
        .await
    }

    async fn list(&self, owner: &Subject, cursor: Option<&str>, limit: usize) -> PortResult<MissionPage> {
        let owner = owner.clone();
        // This store's cursors are mission ids; anything else was not handed out here.
        if cursor.is_some_and(|c| c.parse::<MissionId>().is_err()) {
            return Err(PortError::Invalid("the page cursor is not one this server gave out".into()));
        }
        let cursor = cursor.map(str::to_owned);
        let limit = limit.clamp(1, 100);
        self.with(move |conn| {
            let fetch = (limit + 1) as i64;
            // A cursor is the last mission of the owner's previous page: another owner's is refused.
            if let Some(after) = &cursor {
                let owned: bool = conn
                    .query_row(
                        "SELECT EXISTS(SELECT 1 FROM missions WHERE id = ?1 AND owner = ?2)",
                        rusqlite::params![after, owner.as_str()],
                        |row| row.get(0),
                    )
                    .map_err(db_error)?;
                if !owned {
                    return Err(PortError::Invalid("the page cursor is not one this server gave out".into()));
                }
            }
            let mut missions = match &cursor {
                Some(after) => query_missions(
                    conn,
                    "SELECT body FROM missions WHERE owner = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                    &[&owner.as_str(), after, &fetch],
                )?,
                None => query_missions(
                    conn,
                    "SELECT body FROM missions WHERE owner = ?1 ORDER BY id DESC LIMIT ?2",
                    &[&owner.as_str(), &fetch],
                )?,
            };
            let next_cursor = if missions.len() > limit {
                missions.truncate(limit);
                missions.last().map(|m| m.id.to_string())
            } else {
                None
            };
            Ok(MissionPage { missions, next_cursor })
        })
        .await
    }

    async fn latest(&self, owner: &Subject) -> PortResult<Option<Mission>> {
        Ok(self.list(owner, None, 1).await?.missions.into_iter().next())
    }

    async fn active_consultation(
        &self,
        owner: &Subject,
        since: DateTime<Utc>,
    ) -> PortResult<Option<Mission>> {
        let owner = owner.clone();
        self.with(move |conn| {
            Ok(query_missions(
                conn,
                "SELECT body FROM missions WHERE owner = ?1 AND status = ?2 AND updated_at >= ?3
                 ORDER BY updated_at DESC LIMIT 1",
                &[&owner.as_str(), &MissionStatus::AwaitingInput.as_str(), &ts(since)],
            )?
            .into_iter()
            .next())
        })
        .await
    }

    async fn in_flight(&self) -> PortResult<Vec<Mission>> {
        self.with(|conn| {
            let statuses: Vec<&str> = MissionStatus::ALL
                .into_iter()
                .filter(|s| s.is_in_flight())
                .map(MissionStatus::as_str)
                .collect();
            let placeholders = vec!["?"; statuses.len()].join(", ");
            let sql = format!("SELECT body FROM missions WHERE status IN ({placeholders}) ORDER BY id");
            let args: Vec<&dyn rusqlite::ToSql> =
                statuses.iter().map(|s| s as &dyn rusqlite::ToSql).collect();
            query_missions(conn, &sql, &args)
        })
        .await
    }

    async fn awaiting_input_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.with(move |conn| {
            query_missions(
                conn,
                "SELECT body FROM missions WHERE status = ?1 AND updated_at < ?2 ORDER BY id",
                &[&MissionStatus::AwaitingInput.as_str(), &ts(before)],
            )
        })
        .await
    }

    async fn final_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.with(move |conn| {
            let missions = query_missions(
                conn,
                "SELECT body FROM missions WHERE updated_at < ?1 ORDER BY id",
                &[&ts(before)],
            )?;
            Ok(missions.into_iter().filter(|m| m.status.is_final()).collect())
        })
        .await
    }

    async fn record_step(&self, id: &MissionId, step: &StepRecord) -> PortResult<()> {
        let id = id.clone();
        let step = step.clone();
        self.with(move |conn| {
            let body = serde_json::to_string(&step).map_err(corrupt)?;
            conn.execute(
                "INSERT INTO steps (mission_id, name, attempt, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (mission_id, name, attempt) DO UPDATE SET body = excluded.body",
                params![id.as_str(), step.name.as_str(), step.attempt, body],
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn steps(&self, id: &MissionId) -> PortResult<Vec<StepRecord>> {
        let id = id.clone();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT body FROM steps WHERE mission_id = ?1 ORDER BY rowid")
                .map_err(db_error)?;
            let bodies = stmt
                .query_map([id.as_str()], |row| row.get::<_, String>(0))
                .map_err(db_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_error)?;
            bodies.iter().map(|b| serde_json::from_str(b).map_err(corrupt)).collect()
        })
        .await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(&self, token: &ApiToken) -> PortResult<()> {
        let token = token.clone();
        self.with(move |conn| {
            let result = conn.execute(
                "INSERT INTO api_tokens (token_sha256, name, subject, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, NULL)",
                params![token.token_sha256, token.name, token.subject, ts(token.created_at)],
            );
            match result {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(PortError::Conflict(format!("a token named {:?} already exists", token.name)))
                }
                Err(e) => Err(db_error(e)),
            }
        })
        .await
    }

    async fn find_token(&self, token_sha256: &str) -> PortResult<Option<ApiToken>> {
        let hash = token_sha256.to_owned();
        self.with(move |conn| {
            let row = conn
                .query_row(
                    "SELECT token_sha256, name, subject, created_at, revoked_at FROM api_tokens WHERE token_sha256 = ?1",
                    [hash],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, Option<String>>(4)?,
                        ))
                    },
                )
                .optional()
                .map_err(db_error)?;
            row.map(|(token_sha256, name, subject, created_at, revoked_at)| {
                Ok(ApiToken {
                    name,
                    subject,
                    token_sha256,
                    created_at: parse_ts(&created_at)?,
                    revoked_at: revoked_at.as_deref().map(parse_ts).transpose()?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> PortResult<bool> {
        let name = name.to_owned();
        self.with(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                    params![name, ts(at)],
                )
                .map_err(db_error)?;
            Ok(changed > 0)
        })
        .await
    }
}

#[async_trait]
impl AttachedImages for SqliteStore {
    async fn is_attached(&self, image_key: &str) -> PortResult<bool> {
        let key = image_key.to_owned();
        self.with(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM missions
                 WHERE json_extract(body, '$.consultation.brief.design_image') = ?1)",
                [key],
                |row| row.get::<_, bool>(0),
            )
            .map_err(db_error)
        })
        .await
    }
}
