//! Records and the append-only chain that links them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::canonical::{canonical_json, sha256_hex};
use super::pack::ArtifactRef;

/// The `prev` of record 0: there is nothing before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One link of the chain.
///
/// Fields are declared in sorted order so that serde_json's own output of a record is already
/// canonical (see [`super::canonical`]); the pack verifier insists on canonical bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// RFC 3339 UTC with milliseconds and `Z`, e.g. `2025-01-31T09:15:02.481Z`.
    pub at: String,
    /// What happened. Records that produced artifacts name them under `"artifact"` (one
    /// [`ArtifactRef`]) or `"artifacts"` (a list).
    pub data: Value,
    /// sha256 of the canonical JSON of `data`.
    pub data_sha256: String,
    /// See [`record_hash`].
    pub hash: String,
    /// One of [`super::kind`].
    pub kind: String,
    /// The previous record's `hash`, or [`GENESIS`].
    pub prev: String,
    /// The record's position in the chain, from 0.
    pub seq: u64,
}

impl Record {
    /// The artifacts this record says it produced.
    pub fn artifacts(&self) -> Result<Vec<ArtifactRef>, serde_json::Error> {
        let Value::Object(map) = &self.data else {
            return Ok(Vec::new());
        };
        let mut refs = Vec::new();
        if let Some(one) = map.get("artifact") {
            refs.push(ArtifactRef::deserialize(one)?);
        }
        if let Some(many) = map.get("artifacts") {
            refs.extend(Vec::<ArtifactRef>::deserialize(many)?);
        }
        Ok(refs)
    }

    /// `record 3 (build.report)`: how messages name a record.
    pub(crate) fn label(&self) -> String {
        format!("record {} ({})", self.seq, printable(&self.kind))
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("at".into(), Value::String(self.at.clone()));
        map.insert("data".into(), self.data.clone());
        map.insert("data_sha256".into(), Value::String(self.data_sha256.clone()));
        map.insert("hash".into(), Value::String(self.hash.clone()));
        map.insert("kind".into(), Value::String(self.kind.clone()));
        map.insert("prev".into(), Value::String(self.prev.clone()));
        map.insert("seq".into(), Value::from(self.seq));
        Value::Object(map)
    }
}

/// `sha256(prev ‖ seq ‖ kind ‖ at ‖ data_sha256)`, lowercase hex.
///
/// Every string field is written as its UTF-8 byte length (u64 big-endian) followed by its bytes,
/// and `seq` as a u64 big-endian, so no two different records share an input: moving a character
/// from `kind` to `at` changes both lengths.
pub fn record_hash(prev: &str, seq: u64, kind: &str, at: &str, data_sha256: &str) -> String {
    let mut hasher = Sha256::new();
    length_prefixed(&mut hasher, prev.as_bytes());
    hasher.update(seq.to_be_bytes());
    length_prefixed(&mut hasher, kind.as_bytes());
    length_prefixed(&mut hasher, at.as_bytes());
    length_prefixed(&mut hasher, data_sha256.as_bytes());
    hex::encode(hasher.finalize())
}

fn length_prefixed(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// The one textual form of a record time.
pub fn format_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn is_canonical_at(at: &str) -> bool {
    DateTime::parse_from_rfc3339(at).is_ok_and(|parsed| format_at(parsed.with_timezone(&Utc)) == at)
}

/// Why a list of records is not a chain. Each names the record it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("record {index} ({kind}): seq is {found}, expected {index}")]
    Seq { index: u64, kind: String, found: u64 },
    #[error("{label}: at {at:?} is not an RFC 3339 UTC time with milliseconds")]
    Time { label: String, at: String },
    #[error("{label}: data does not match its data_sha256")]
    Data { label: String },
    #[error("{label}: prev does not link to the previous record's hash")]
    Link { label: String },
    #[error("{label}: hash does not match its contents")]
    Hash { label: String },
}

/// Every inconsistency in `records`, in chain order.
///
/// Links are checked against the stored hash of the previous record, so one altered record is
/// reported once, as itself, rather than as a cascade through everything after it.
pub(crate) fn check_records(records: &[Record]) -> Vec<ChainError> {
    let mut errors = Vec::new();
    let mut prev = GENESIS;
    for (index, record) in (0u64..).zip(records) {
        let label = record.label();
        if record.seq != index {
            errors.push(ChainError::Seq { index, kind: printable(&record.kind), found: record.seq });
        }
        if !is_canonical_at(&record.at) {
            errors.push(ChainError::Time { label: label.clone(), at: record.at.clone() });
        }
        if sha256_hex(&canonical_json(&record.data)) != record.data_sha256 {
            errors.push(ChainError::Data { label: label.clone() });
        }
        if record.prev != prev {
            errors.push(ChainError::Link { label: label.clone() });
        }
        if record_hash(&record.prev, record.seq, &record.kind, &record.at, &record.data_sha256) != record.hash
        {
            errors.push(ChainError::Hash { label });
        }
        prev = &record.hash;
    }
    errors
}

/// The head hash of `records`: the last record's hash, or [`GENESIS`] for none.
pub(crate) fn head_of(records: &[Record]) -> String {
    records.last().map_or_else(|| GENESIS.to_owned(), |last| last.hash.clone())
}

/// A mission's evidence as it grows: records can be appended, never changed or removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain {
    records: Vec<Record>,
}

impl Chain {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resumes a chain from stored records, refusing any that do not link up.
    pub fn from_records(records: Vec<Record>) -> Result<Self, ChainError> {
        match check_records(&records).into_iter().next() {
            Some(first) => Err(first),
            None => Ok(Self { records }),
        }
    }

    /// Appends a record; `at` is kept to the millisecond.
    pub fn append(&mut self, kind: impl Into<String>, at: DateTime<Utc>, data: Value) -> &Record {
        let seq = self.records.len() as u64;
        let kind = kind.into();
        let at = format_at(at);
        let data_sha256 = sha256_hex(&canonical_json(&data));
        let prev = self.head();
        let hash = record_hash(&prev, seq, &kind, &at, &data_sha256);
        self.records.push(Record { at, data, data_sha256, hash, kind, prev, seq });
        &self.records[self.records.len() - 1]
    }

    /// The hash that commits to every record so far.
    pub fn head(&self) -> String {
        head_of(&self.records)
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Text from a pack as it may appear in a message: control characters escaped so that hostile
/// text cannot forge extra lines in a verifier's output.
pub(crate) fn printable(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.escape_debug().to_string()
    } else {
        text.to_owned()
    }
}
