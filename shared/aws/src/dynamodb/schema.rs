//! The table's schema: key and index names as `infra/template.yaml` declares them, and how
//! missions, turns and page cursors are encoded as items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};

use gantry_domain::{Mission, Role, Subject, Turn};
use gantry_ports::{PortError, PortResult};

use crate::error::corrupt;

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
pub(super) const MAX_TURNS_PER_WRITE: usize = 98;

pub(super) type Item = HashMap<String, AttributeValue>;

/// Fixed-width UTC timestamps, so that string order is time order in sort keys and conditions.
pub(super) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> PortResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(corrupt(format!("attribute {name} is missing or not a string"))),
    }
}

pub(super) fn get_n(item: &Item, name: &str) -> PortResult<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(corrupt),
        _ => Err(corrupt(format!("attribute {name} is missing or not a number"))),
    }
}

pub(super) fn parse_ts(text: &str) -> PortResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(corrupt)
}

pub(super) fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> PortResult<T> {
    result.map_err(|e| PortError::Failed(format!("cannot build a DynamoDB request: {e}")))
}

/// The stored form of a mission: its document plus the attributes the indexes and conditions use.
/// `turn_count` numbers the next turn; it changes only with `version`, so a write conditioned on
/// the version may rely on the count read with it.
pub(super) fn mission_item(mission: &Mission, turn_count: u64) -> PortResult<Item> {
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

pub(super) fn mission_from_item(item: &Item) -> PortResult<Mission> {
    serde_json::from_str(get_s(item, "body")?).map_err(corrupt)
}

pub(super) fn role_str(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

pub(super) fn turn_from_item(item: &Item) -> PortResult<Turn> {
    let role = match get_s(item, "role")? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => return Err(corrupt(format!("unknown role {other}"))),
    };
    Ok(Turn { role, content: get_s(item, "content")?.to_owned(), at: parse_ts(get_s(item, "at")?)? })
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// A mission's page cursor: the primary and `gsi1` key of the last mission on the page, as
/// DynamoDB's `LastEvaluatedKey` has it, in URL-safe base64 of JSON.
pub(super) fn encode_cursor(item: &Item) -> PortResult<String> {
    let mut fields = serde_json::Map::new();
    for name in [keys::PK, keys::SK, keys::GSI1_PK, keys::GSI1_SK] {
        fields.insert(name.to_owned(), get_s(item, name)?.into());
    }
    Ok(URL_SAFE_NO_PAD.encode(serde_json::Value::Object(fields).to_string()))
}

pub(super) fn decode_cursor(cursor: &str, owner: &Subject) -> PortResult<Item> {
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
}
