//! Typed identifiers, parsed at the edge so that a malformed id can never reach a store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A mission id: a UUIDv7 in its canonical lowercase hyphenated form.
///
/// v7 ids sort by creation time, which keeps listings and Step Functions execution names
/// (execution name = mission id) in a useful order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MissionId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mission id")]
pub struct InvalidId;

impl MissionId {
    /// A fresh, time-ordered id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MissionId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = uuid::Uuid::try_parse(s).map_err(|_| InvalidId)?;
        let canonical = parsed.hyphenated().to_string();
        if canonical != s {
            return Err(InvalidId);
        }
        Ok(Self(canonical))
    }
}

impl TryFrom<String> for MissionId {
    type Error = InvalidId;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<MissionId> for String {
    fn from(id: MissionId) -> Self {
        id.0
    }
}

impl fmt::Display for MissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who owns a mission: the subject of the token that created it (`owner` for the password
/// login, `token:<name>` for a long-lived API token).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subject(String);

impl Subject {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip() {
        let id = MissionId::generate();
        assert_eq!(id.as_str().parse::<MissionId>(), Ok(id));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "abc",
            "../etc/passwd",
            "0190c0de-0000-7000-8000-00000000000",
            "0190C0DE-0000-7000-8000-000000000000",
        ] {
            assert_eq!(bad.parse::<MissionId>(), Err(InvalidId), "{bad}");
        }
    }
}
