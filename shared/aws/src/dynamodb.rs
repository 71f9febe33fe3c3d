//! The DynamoDB mission store, token store and rate limiter: one table, keys as in
//! `infra/template.yaml` (see [`keys`]).
//!
//! As in the SQLite store, a mission is kept whole as a JSON document (`body`) beside the
//! attributes its lookups need, so adding a field never needs a migration. A consultation turn is
//! one `TransactWriteItems`: the mission's Update, conditioned on the version the caller read,
//! and one Put per new turn that must not exist yet. Whoever loses that condition gets
//! `Conflict`, so of many concurrent "proceed"s exactly one moves the mission on.
//!
//! The status queries read the `gsi2` index, which DynamoDB updates eventually (within a second):
//! fine for cleanup and recovery, which run on a schedule. Owner listings read `gsi1`, likewise.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};

use gantry_domain::{Mission, MissionId, MissionStatus, Role, StepName, StepRecord, Subject, Turn};
use gantry_ports::{
    ApiToken, AttachedImages, MissionPage, MissionStore, PortError, PortResult, RateLimiter, TokenStore,
};

use crate::error::{corrupt, port_error};

const SERVICE: &str = "dynamodb";

/// Attribute and index names of the table, as `infra/template.yaml` declares them.
pub mod keys {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    /// Epoch seconds after which DynamoDB deletes the item.
    pub const TTL_ATTRIBUTE: &str = "expires_at";
    pub const GSI1: &str = "gsi1";
    pub const GSI1_PK: &str = "gsi1pk";
    pub const GSI1_SK: &str = "gsi1sk";
    pub const GSI2: &str = "gsi2";
    pub const GSI2_PK: &str = "gsi2pk";
    pub const GSI2_SK: &str = "gsi2sk";
    /// Every global secondary index as (index name, hash key, range key).
    pub const INDEXES: &[(&str, &str, &str)] = &[(GSI1, GSI1_PK, GSI1_SK), (GSI2, GSI2_PK, GSI2_SK)];

    /// The sort key of an item that is the whole of its partition (a mission, a token).
    pub const META: &str = "META";

    pub fn mission(id: &str) -> String {
        format!("MISSION#{id}")
    }

    pub fn turn(seq: u64) -> String {
        format!("TURN#{seq:06}")
    }

    pub const TURN_PREFIX: &str = "TURN#";

    pub fn step(name: &str, attempt: u32) -> String {
        format!("STEP#{name}#{attempt:03}")
    }

    pub const STEP_PREFIX: &str = "STEP#";

    pub fn owner(owner: &str) -> String {
        format!("OWNER#{owner}")
    }

    pub fn status(status: &str) -> String {
        format!("STATUS#{status}")
    }

    pub fn token(sha256: &str) -> String {
        format!("TOKEN#{sha256}")
    }

    pub fn token_name(name: &str) -> String {
        format!("TOKENNAME#{name}")
    }

    pub fn rate(key: &str, window: u64) -> String {
        format!("RATE#{key}#{window}")
    }

    /// Marks an uploaded design image as attached to a mission, so cleanup keeps it.
    pub fn image(object_key: &str) -> String {
        format!("IMAGE#{object_key}")
    }
}

/// A transaction holds at most 100 writes: the mission, its design image's mark and 98 turns.
const MAX_TURNS_PER_WRITE: usize = 98;

type Item = HashMap<String, AttributeValue>;

/// Fixed-width UTC timestamps, so that string order is time order in sort keys and conditions.
fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn get_s<'a>(item: &'a Item, name: &str) -> PortResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(corrupt(format!("attribute {name} is missing or not a string"))),
    }
}

fn get_n(item: &Item, name: &str) -> PortResult<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(corrupt),
        _ => Err(corrupt(format!("attribute {name} is missing or not a number"))),
    }
}

fn parse_ts(text: &str) -> PortResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(corrupt)
}

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> PortResult<T> {
    result.map_err(|e| PortError::Failed(format!("cannot build a DynamoDB request: {e}")))
}

/// The stored form of a mission: its document plus the attributes the indexes and conditions use.
/// `turn_count` numbers the next turn; it changes only with `version`, so a write conditioned on
/// the version may rely on the count read with it.
fn mission_item(mission: &Mission, turn_count: u64) -> PortResult<Item> {
    let id = mission.id.as_str();
    let body = serde_json::to_string(mission).map_err(corrupt)?;
    Ok(HashMap::from([
        (keys::PK.to_owned(), s(keys::mission(id))),
        (keys::SK.to_owned(), s(keys::META)),
        (keys::GSI1_PK.to_owned(), s(keys::owner(mission.owner.as_str()))),
        (keys::GSI1_SK.to_owned(), s(keys::mission(id))),
        (keys::GSI2_PK.to_owned(), s(keys::status(mission.status.as_str()))),
        (keys::GSI2_SK.to_owned(), s(ts(mission.updated_at))),
        ("owner".to_owned(), s(mission.owner.as_str())),
        ("status".to_owned(), s(mission.status.as_str())),
        ("updated_at".to_owned(), s(ts(mission.updated_at))),
        ("version".to_owned(), n(mission.version)),
        ("turn_count".to_owned(), n(turn_count)),
        ("body".to_owned(), s(body)),
    ]))
}

fn mission_from_item(item: &Item) -> PortResult<Mission> {
    serde_json::from_str(get_s(item, "body")?).map_err(corrupt)
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn turn_from_item(item: &Item) -> PortResult<Turn> {
    let role = match get_s(item, "role")? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => return Err(corrupt(format!("unknown role {other}"))),
    };
    Ok(Turn { role, content: get_s(item, "content")?.to_owned(), at: parse_ts(get_s(item, "at")?)? })
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// A mission's page cursor: the primary and `gsi1` key of the last mission on the page, as
/// DynamoDB's `LastEvaluatedKey` has it, in URL-safe base64 of JSON.
fn encode_cursor(item: &Item) -> PortResult<String> {
    let mut fields = serde_json::Map::new();
    for name in [keys::PK, keys::SK, keys::GSI1_PK, keys::GSI1_SK] {
        fields.insert(name.to_owned(), get_s(item, name)?.into());
    }
    Ok(URL_SAFE_NO_PAD.encode(serde_json::Value::Object(fields).to_string()))
}

fn decode_cursor(cursor: &str, owner: &Subject) -> PortResult<Item> {
    let invalid = || PortError::Invalid("the page cursor is not one this server gave out".into());
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let fields: HashMap<String, String> = serde_json::from_slice(&json).map_err(|_| invalid())?;
    let expected = [keys::PK, keys::SK, keys::GSI1_PK, keys::GSI1_SK];
    if fields.len() != expected.len() || !expected.iter().all(|name| fields.contains_key(*name)) {
        return Err(invalid());
    }
    if fields.get(keys::GSI1_PK) != Some(&keys::owner(owner.as_str())) {
        return Err(invalid());
    }
    Ok(fields.into_iter().map(|(name, value)| (name, s(value))).collect())
}

/// The codes of a cancelled transaction's reasons, one per write ("None" for those that held).
fn cancellation_codes(error: &TransactWriteItemsError) -> Option<Vec<String>> {
    match error {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code().unwrap_or("None").to_owned())
                .collect(),
        ),
        _ => None,
    }
}

/// Runs a transaction; a condition that did not hold, or a concurrent transaction on the same
/// item, is `Conflict` with `conflict` as its message.
async fn transact(client: &Client, writes: Vec<TransactWriteItem>, conflict: String) -> PortResult<()> {
    let result = client.transact_write_items().set_transact_items(Some(writes)).send().await;
    let error = match result {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    let codes = error.as_service_error().and_then(cancellation_codes);
    match codes {
        Some(codes)
            if codes.iter().any(|c| c == "ThrottlingError" || c == "ProvisionedThroughputExceeded") =>
        {
            Err(PortError::Unavailable {
                service: SERVICE,
                message: format!("transaction throttled: {codes:?}"),
            })
        }
        Some(codes)
            if codes.iter().any(|c| c == "ValidationError" || c == "ItemCollectionSizeLimitExceeded") =>
        {
            Err(PortError::Failed(format!("DynamoDB refused the transaction: {codes:?}")))
        }
        // ConditionalCheckFailed or TransactionConflict: someone else wrote first.
        Some(_) => Err(PortError::Conflict(conflict)),
        None => Err(port_error(SERVICE, error)),
    }
}

/// The missions store over one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn put(&self, item: Item, condition: &str) -> PortResult<TransactWriteItem> {
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        Ok(TransactWriteItem::builder().put(built(put.build())?).build())
    }

    /// The mark that `mission`'s design image is attached, written with the mission (an
    /// unconditional put: writing it again is a no-op).
    fn image_mark(&self, mission: &Mission) -> PortResult<Option<TransactWriteItem>> {
        let Some(image) = mission.consultation.as_ref().and_then(|c| c.brief.design_image.as_deref()) else {
            return Ok(None);
        };
        let mut item = key(keys::image(image), keys::META);
        item.insert("mission_id".to_owned(), s(mission.id.to_string()));
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        Ok(Some(TransactWriteItem::builder().put(built(put.build())?).build()))
    }

    fn turn_puts(
        &self,
        id: &MissionId,
        first_seq: u64,
        turns: &[Turn],
    ) -> PortResult<Vec<TransactWriteItem>> {
        turns
            .iter()
            .zip(first_seq..)
            .map(|(turn, seq)| {
                let mut item = key(keys::mission(id.as_str()), &keys::turn(seq));
                item.insert("seq".to_owned(), n(seq));
                item.insert("role".to_owned(), s(role_str(turn.role)));
                item.insert("content".to_owned(), s(turn.content.clone()));
                item.insert("at".to_owned(), s(ts(turn.at)));
                self.put(item, "attribute_not_exists(pk)")
            })
            .collect()
    }

    /// Rewrites the mission's document and indexed attributes if its version is still
    /// `expected`, counting `added_turns` more turns.
    fn mission_update(
        &self,
        next: &Mission,
        expected: u64,
        added_turns: usize,
    ) -> PortResult<TransactWriteItem> {
        let mut values = mission_item(next, 0)?;
        values.retain(|name, _| !matches!(name.as_str(), "pk" | "sk" | "turn_count"));
        let assignments: Vec<String> = values.keys().map(|name| format!("#{name} = :{name}")).collect();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::mission(next.id.as_str()), keys::META)))
            .update_expression(format!("SET {} ADD turn_count :added", assignments.join(", ")))
            .condition_expression("#version = :expected")
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":added", n(added_turns));
        for (name, value) in values {
            update = update
                .expression_attribute_names(format!("#{name}"), name.clone())
                .expression_attribute_values(format!(":{name}"), value);
        }
        Ok(TransactWriteItem::builder().update(built(update.build())?).build())
    }

    async fn get_item(&self, key: Item) -> PortResult<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(output.item)
    }

    /// Every item of one partition whose sort key starts with `prefix`, in sort-key order.
    async fn partition(&self, pk: String, prefix: &str) -> PortResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Missions of one status on `gsi2`, optionally only those updated before/since a time.
    async fn by_status(
        &self,
        status: MissionStatus,
        updated: Option<(&str, DateTime<Utc>)>,
    ) -> PortResult<Vec<Mission>> {
        let mut missions = Vec::new();
        let mut start = None;
        let condition = match updated {
            Some((op, _)) => format!("gsi2pk = :status AND gsi2sk {op} :at"),
            None => "gsi2pk = :status".to_owned(),
        };
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression(&condition)
                .expression_attribute_values(":status", s(keys::status(status.as_str())))
                .set_exclusive_start_key(start);
            if let Some((_, at)) = updated {
                query = query.expression_attribute_values(":at", s(ts(at)));
            }
            let output = query.send().await.map_err(|e| port_error(SERVICE, e))?;
            for item in output.items() {
                missions.push(mission_from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(missions);
            }
        }
    }

    async fn by_statuses(
        &self,
        statuses: impl Iterator<Item = MissionStatus>,
        updated: Option<(&str, DateTime<Utc>)>,
    ) -> PortResult<Vec<Mission>> {
        let mut missions = Vec::new();
        for status in statuses {
            missions.extend(self.by_status(status, updated).await?);
        }
        missions.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(missions)
    }
}

#[async_trait]
impl MissionStore for DynamoStore {
    async fn create(&self, mission: &Mission, turns: &[Turn]) -> PortResult<()> {
        if turns.len() > MAX_TURNS_PER_WRITE {
            return Err(PortError::Invalid(format!("at most {MAX_TURNS_PER_WRITE} turns per write")));
        }
        let mut writes =
            vec![self.put(mission_item(mission, turns.len() as u64)?, "attribute_not_exists(pk)")?];
        writes.extend(self.image_mark(mission)?);
        writes.extend(self.turn_puts(&mission.id, 0, turns)?);
        transact(&self.client, writes, format!("mission {} already exists", mission.id)).await
    }

    async fn get(&self, id: &MissionId) -> PortResult<Option<Mission>> {
        self.get_item(key(keys::mission(id.as_str()), keys::META))
            .await?
            .as_ref()
            .map(mission_from_item)
            .transpose()
    }

    /// The write is one transaction. Appending turns needs the stored turn count first, to
    /// number them; a save without turns (every pipeline step's) is that one call alone.
    async fn save(&self, mission: &mut Mission, turns: &[Turn]) -> PortResult<()> {
        if turns.len() > MAX_TURNS_PER_WRITE {
            return Err(PortError::Invalid(format!("at most {MAX_TURNS_PER_WRITE} turns per write")));
        }
        let changed = format!("mission {} changed since it was read", mission.id);
        let first_seq = if turns.is_empty() {
            0
        } else {
            let stored = self.get_item(key(keys::mission(mission.id.as_str()), keys::META)).await?;
            match stored {
                Some(stored) if get_n(&stored, "version")? == mission.version => {
                    get_n(&stored, "turn_count")?
                }
                _ => return Err(PortError::Conflict(changed)),
            }
        };

        let mut next = mission.clone();
        next.version = mission.version + 1;
        let mut writes = vec![self.mission_update(&next, mission.version, turns.len())?];
        writes.extend(self.image_mark(&next)?);
        writes.extend(self.turn_puts(&mission.id, first_seq, turns)?);
        transact(&self.client, writes, changed).await?;
        *mission = next;
        Ok(())
    }

    async fn turns(&self, id: &MissionId) -> PortResult<Vec<Turn>> {
        let items = self.partition(keys::mission(id.as_str()), keys::TURN_PREFIX).await?;
        items.iter().map(turn_from_item).collect()
    }

    async fn list(&self, owner: &Subject, cursor: Option<&str>, limit: usize) -> PortResult<MissionPage> {
        let limit = limit.clamp(1, 100);
        let start = cursor.map(|c| decode_cursor(c, owner)).transpose()?;
        // One more than a page, so that a cursor is given only when another page exists.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :owner")
            .expression_attribute_values(":owner", s(keys::owner(owner.as_str())))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let mut items = output.items.unwrap_or_default();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(encode_cursor).transpose()?
        } else {
            // A short page with a LastEvaluatedKey was cut by DynamoDB's 1 MB page limit.
            match (&output.last_evaluated_key, items.last()) {
                (Some(_), Some(last)) => Some(encode_cursor(last)?),
                _ => None,
            }
        };
        let missions = items.iter().map(mission_from_item).collect::<PortResult<_>>()?;
        Ok(MissionPage { missions, next_cursor })
    }

    async fn latest(&self, owner: &Subject) -> PortResult<Option<Mission>> {
        Ok(self.list(owner, None, 1).await?.missions.into_iter().next())
    }

    async fn active_consultation(
        &self,
        owner: &Subject,
        since: DateTime<Utc>,
    ) -> PortResult<Option<Mission>> {
        let awaiting = self.by_status(MissionStatus::AwaitingInput, Some((">=", since))).await?;
        Ok(awaiting.into_iter().filter(|m| m.owner == *owner).max_by_key(|m| m.updated_at))
    }

    async fn in_flight(&self) -> PortResult<Vec<Mission>> {
        self.by_statuses(MissionStatus::ALL.into_iter().filter(|s| s.is_in_flight()), None).await
    }

    async fn awaiting_input_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.by_statuses([MissionStatus::AwaitingInput].into_iter(), Some(("<", before))).await
    }

    async fn final_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.by_statuses(MissionStatus::ALL.into_iter().filter(|s| s.is_final()), Some(("<", before))).await
    }

    async fn record_step(&self, id: &MissionId, step: &StepRecord) -> PortResult<()> {
        let mut item = key(keys::mission(id.as_str()), &keys::step(step.name.as_str(), step.attempt));
        item.insert("body".to_owned(), s(serde_json::to_string(step).map_err(corrupt)?));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    /// In the order the steps started (the SQLite store keeps insertion order; a step's record is
    /// inserted when it starts), ties broken by pipeline order and attempt.
    async fn steps(&self, id: &MissionId) -> PortResult<Vec<StepRecord>> {
        let items = self.partition(keys::mission(id.as_str()), keys::STEP_PREFIX).await?;
        let mut steps: Vec<StepRecord> = items
            .iter()
            .map(|item| serde_json::from_str(get_s(item, "body")?).map_err(corrupt))
            .collect::<PortResult<_>>()?;
        let order = |name: StepName| StepName::ALL.iter().position(|n| *n == name);
        steps.sort_by_key(|step| (step.started_at, order(step.name), step.attempt));
        Ok(steps)
    }
}

fn token_from_item(item: &Item) -> PortResult<ApiToken> {
    Ok(ApiToken {
        name: get_s(item, "name")?.to_owned(),
        subject: get_s(item, "subject")?.to_owned(),
        token_sha256: get_s(item, "token_sha256")?.to_owned(),
        created_at: parse_ts(get_s(item, "created_at")?)?,
        revoked_at: match item.get("revoked_at") {
            Some(_) => Some(parse_ts(get_s(item, "revoked_at")?)?),
            None => None,
        },
    })
}

/// Tokens: the token item under its hash, and a name guard item that exists while a live token
/// has that name, both written in one transaction so that live names stay unique.
#[async_trait]
impl AttachedImages for DynamoStore {
    async fn is_attached(&self, image_key: &str) -> PortResult<bool> {
        Ok(self.get_item(key(keys::image(image_key), keys::META)).await?.is_some())
    }
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn create_token(&self, token: &ApiToken) -> PortResult<()> {
        let mut item = key(keys::token(&token.token_sha256), keys::META);
        item.insert("name".to_owned(), s(token.name.clone()));
        item.insert("subject".to_owned(), s(token.subject.clone()));
        item.insert("token_sha256".to_owned(), s(token.token_sha256.clone()));
        item.insert("created_at".to_owned(), s(ts(token.created_at)));
        let mut guard = key(keys::token_name(&token.name), keys::META);
        guard.insert("token_sha256".to_owned(), s(token.token_sha256.clone()));
        let writes =
            vec![self.put(item, "attribute_not_exists(pk)")?, self.put(guard, "attribute_not_exists(pk)")?];
        transact(&self.client, writes, format!("a token named {:?} already exists", token.name)).await
    }

    async fn find_token(&self, token_sha256: &str) -> PortResult<Option<ApiToken>> {
        self.get_item(key(keys::token(token_sha256), keys::META))
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
    }

    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> PortResult<bool> {
        let Some(guard) = self.get_item(key(keys::token_name(name), keys::META)).await? else {
            return Ok(false);
        };
        let hash = get_s(&guard, "token_sha256")?.to_owned();
        let revoke = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::token(&hash), keys::META)))
            .update_expression("SET revoked_at = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":at", s(ts(at)));
        let release = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::token_name(name), keys::META)))
            .condition_expression("token_sha256 = :hash")
            .expression_attribute_values(":hash", s(hash));
        let writes = vec![
            TransactWriteItem::builder().update(built(revoke.build())?).build(),
            TransactWriteItem::builder().delete(built(release.build())?).build(),
        ];
        match transact(&self.client, writes, String::new()).await {
            Ok(()) => Ok(true),
            // Someone else revoked it between our read and write.
            Err(PortError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// A fixed-window rate limiter shared by every Lambda instance: one counter item per key and
/// window (`RATE#{key}#{window index}`), incremented atomically only while under the limit, and
/// removed by the table's TTL once its window has passed.
#[derive(Clone, Debug)]
pub struct DynamoRateLimiter {
    client: Client,
    table: String,
}

/// Where `now` falls in fixed windows of `window`: the window's index and the time left in it
/// (at least a second, as `Retry-After` counts seconds).
fn window_of(now: DateTime<Utc>, window: Duration) -> (u64, Duration, DateTime<Utc>) {
    let length = (window.as_millis() as i64).max(1);
    let now_ms = now.timestamp_millis().max(0);
    let index = now_ms / length;
    let end_ms = (index + 1) * length;
    let left = Duration::from_millis((end_ms - now_ms) as u64).max(Duration::from_secs(1));
    let end = DateTime::<Utc>::from_timestamp_millis(end_ms).unwrap_or(now);
    (index as u64, left, end)
}

impl DynamoRateLimiter {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[async_trait]
impl RateLimiter for DynamoRateLimiter {
    async fn hit(&self, key_name: &str, limit: u32, window: Duration) -> PortResult<Result<(), Duration>> {
        let (index, left, end) = window_of(Utc::now(), window);
        // Kept a minute past its window, then left to TTL (which deletes within hours, not at once:
        // a stale counter is never read, as the window index is part of its key).
        let expires = end.timestamp() + 60;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::rate(key_name, index), keys::META)))
            .update_expression("ADD hits :one SET #ttl = :expires")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":expires", n(expires))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match result.map_err(|e| port_error(SERVICE, e)) {
            Ok(_) => Ok(Ok(())),
            Err(PortError::Conflict(_)) => Ok(Err(left)),
            Err(e) => Err(e),
        }
    }

    async fn exceeded(&self, key_name: &str, limit: u32, window: Duration) -> PortResult<Option<Duration>> {
        let (index, left, _) = window_of(Utc::now(), window);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::rate(key_name, index), keys::META)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let hits = match &output.item {
            Some(item) => get_n(item, "hits")?,
            None => 0,
        };
        Ok((hits >= u64::from(limit)).then_some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_are_fixed_width() {
        assert_eq!(keys::turn(7), "TURN#000007");
        assert_eq!(keys::step("build", 2), "STEP#build#002");
        assert!(keys::turn(10) > keys::turn(9));
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_owner() {
        let owner = Subject::new("ada");
        let item = HashMap::from([
            (keys::PK.to_owned(), s("MISSION#1")),
            (keys::SK.to_owned(), s(keys::META)),
            (keys::GSI1_PK.to_owned(), s(keys::owner("ada"))),
            (keys::GSI1_SK.to_owned(), s("MISSION#1")),
            ("body".to_owned(), s("{}")),
        ]);
        let cursor = encode_cursor(&item).unwrap();
        let decoded = decode_cursor(&cursor, &owner).unwrap();
        assert_eq!(decoded.len(), 4);
        assert_eq!(decoded[keys::GSI1_SK], s("MISSION#1"));
        assert!(matches!(decode_cursor(&cursor, &Subject::new("eve")), Err(PortError::Invalid(_))));
        assert!(matches!(decode_cursor("not base64!", &owner), Err(PortError::Invalid(_))));
        let other = URL_SAFE_NO_PAD.encode(r#"{"pk":"x"}"#);
        assert!(matches!(decode_cursor(&other, &owner), Err(PortError::Invalid(_))));
    }

    #[test]
    fn windows_are_fixed_and_name_the_time_left() {
        let at = DateTime::<Utc>::from_timestamp(120, 0).unwrap() + chrono::Duration::milliseconds(500);
        let (index, left, end) = window_of(at, Duration::from_secs(60));
        assert_eq!(index, 2);
        assert_eq!(left, Duration::from_millis(59_500));
        assert_eq!(end.timestamp(), 180);
        let (_, short, _) = window_of(at, Duration::from_millis(700));
        assert_eq!(short, Duration::from_secs(1), "never less than a second");
    }
}
