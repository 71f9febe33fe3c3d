//! The rate limiter over the table.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use gantry_ports::{PortError, PortResult, RateLimiter};

use crate::error::port_error;

use super::schema::*;
use super::SERVICE;

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
