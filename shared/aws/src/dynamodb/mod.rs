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

mod missions;
mod rate_limit;
mod schema;
mod tokens;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use gantry_domain::{Mission, MissionId, MissionStatus, Turn};
use gantry_ports::{PortError, PortResult};

use crate::error::port_error;

pub use rate_limit::DynamoRateLimiter;
pub use schema::keys;
use schema::*;

const SERVICE: &str = "dynamodb";

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
