//! The sealed pack: a mission's records, the artifacts they name, and a signature over the head.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::canonical::{canonical_json, sha256_hex};
use super::chain::{head_of, Chain, Record};
use crate::ids::MissionId;

/// The `format` of every pack this code writes and the only one it verifies. Version 2 binds the
/// dispatch (which run of the mission) into the signature; version 1 packs named only the mission.
pub const FORMAT: &str = "gantry-evidence/2";

/// Signature algorithm of the local Ed25519 key file.
pub const ALG_ED25519: &str = "ed25519";
/// Signature algorithm of AWS KMS `ECDSA_SHA_256` (P-256, MessageType RAW): a DER signature over
/// SHA-256 of the message.
pub const ALG_ECDSA_P256_SHA256: &str = "ecdsa-p256-sha256";

/// A stored file a record vouches for, identified by its content hash.
///
/// Fields are in sorted order so serde_json's output is canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRef {
    pub content_type: String,
    /// The object key the bytes are stored under.
    pub key: String,
    /// A short human name used in messages, e.g. `manifest-2.json`.
    pub name: String,
    /// Lowercase hex sha256 of the bytes.
    pub sha256: String,
    pub size: u64,
}

impl ArtifactRef {
    /// The reference to `bytes` as they are about to be stored under `key`.
    pub fn for_bytes(
        name: impl Into<String>,
        key: impl Into<String>,
        content_type: impl Into<String>,
        bytes: &[u8],
    ) -> Self {
        Self {
            content_type: content_type.into(),
            key: key.into(),
            name: name.into(),
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        }
    }

    /// The JSON to put under `"artifact"` (or in `"artifacts"`) in a record's data.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("content_type".into(), Value::String(self.content_type.clone()));
        map.insert("key".into(), Value::String(self.key.clone()));
        map.insert("name".into(), Value::String(self.name.clone()));
        map.insert("sha256".into(), Value::String(self.sha256.clone()));
        map.insert("size".into(), Value::from(self.size));
        Value::Object(map)
    }
}

/// The signature over [`signing_message`]; the same fields as the `Signer` port's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackSignature {
    /// [`ALG_ED25519`] or [`ALG_ECDSA_P256_SHA256`].
    pub alg: String,
    /// Must be [`key_id_for`] the public key: a free-form label would be the one part of a pack
    /// that could be altered without breaking anything.
    pub key_id: String,
    /// Standard base64 (padded) of the DER SubjectPublicKeyInfo.
    pub public_key: String,
    /// Standard base64 (padded) of the signature: 64 raw bytes for Ed25519, DER for ECDSA.
    pub signature: String,
}

impl PackSignature {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("alg".into(), Value::String(self.alg.clone()));
        map.insert("key_id".into(), Value::String(self.key_id.clone()));
        map.insert("public_key".into(), Value::String(self.public_key.clone()));
        map.insert("signature".into(), Value::String(self.signature.clone()));
        Value::Object(map)
    }
}

/// `{alg}:{first 16 hex of sha256(public key DER)}`, e.g. `ed25519:3f2a…`: names a key by what it
/// is, so a verifier can check the name.
pub fn key_id_for(alg: &str, public_key_der: &[u8]) -> String {
    format!("{alg}:{}", &sha256_hex(public_key_der)[..16])
}

/// The bytes a pack's signature covers: the format, the mission, the dispatch (0 for the first run,
/// n for the n-th retry) and the head hash, which commits to every record and through them to
/// every artifact's sha256. A pack therefore cannot pass for another mission's or another run's.
pub fn signing_message(mission_id: &MissionId, dispatch: u32, head: &str) -> Vec<u8> {
    format!("{FORMAT}\n{mission_id}\n{dispatch}\n{head}").into_bytes()
}

/// A mission's evidence, sealed.
///
/// Fields are in sorted order so serde_json's output is canonical; [`Pack::to_json`] is the form
/// to store, and verification refuses any other byte form of the same pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// Every artifact the records reference, once each, in order of first reference.
    pub artifacts: Vec<ArtifactRef>,
    /// Which run of the mission sealed this pack: 0 for the first, n for the n-th retry.
    /// Defaulted when reading so that a version 1 pack is refused for its format, by name.
    #[serde(default)]
    pub dispatch: u32,
    /// Always [`FORMAT`].
    pub format: String,
    /// The last record's hash.
    pub head: String,
    pub mission_id: MissionId,
    pub records: Vec<Record>,
    /// The last record's `at`: a pack is sealed by its last record, so this time is covered by
    /// the chain rather than being an unprotected claim.
    pub sealed_at: String,
    pub signature: Option<PackSignature>,
}

/// Why a chain cannot be sealed into a pack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("an empty chain cannot be sealed")]
    Empty,
    #[error("{label}: artifact reference is malformed: {reason}")]
    MalformedArtifact { label: String, reason: String },
    #[error("artifact key {key:?} names different artifacts in {first} and {second}")]
    ConflictingArtifact { key: String, first: String, second: String },
}

impl Pack {
    /// An unsigned pack of `chain`; sign [`Pack::signing_message`] and attach it with
    /// [`Pack::with_signature`].
    pub fn seal(mission_id: MissionId, dispatch: u32, chain: &Chain) -> Result<Self, SealError> {
        let records = chain.records();
        let last = records.last().ok_or(SealError::Empty)?;
        let mut referenced: Vec<(&Record, ArtifactRef)> = Vec::new();
        for record in records {
            let refs = record
                .artifacts()
                .map_err(|e| SealError::MalformedArtifact { label: record.label(), reason: e.to_string() })?;
            for artifact in refs {
                if let Some((first, _)) =
                    referenced.iter().find(|(_, seen)| seen.key == artifact.key && *seen != artifact)
                {
                    return Err(SealError::ConflictingArtifact {
                        key: artifact.key,
                        first: first.label(),
                        second: record.label(),
                    });
                }
                referenced.push((record, artifact));
            }
        }
        Ok(Self {
            artifacts: listing(referenced.into_iter().map(|(_, artifact)| artifact)),
            dispatch,
            format: FORMAT.to_owned(),
            head: head_of(records),
            mission_id,
            records: records.to_vec(),
            sealed_at: last.at.clone(),
            signature: None,
        })
    }

    /// What the signer must sign for this pack.
    pub fn signing_message(&self) -> Vec<u8> {
        signing_message(&self.mission_id, self.dispatch, &self.head)
    }

    pub fn with_signature(mut self, signature: PackSignature) -> Self {
        self.signature = Some(signature);
        self
    }

    /// The canonical JSON of the pack: the only byte form [`super::verify_json`] accepts.
    pub fn to_json(&self) -> Vec<u8> {
        canonical_json(&self.to_value())
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("artifacts".into(), self.artifacts.iter().map(ArtifactRef::to_value).collect());
        map.insert("dispatch".into(), Value::from(self.dispatch));
        map.insert("format".into(), Value::String(self.format.clone()));
        map.insert("head".into(), Value::String(self.head.clone()));
        map.insert("mission_id".into(), Value::String(self.mission_id.to_string()));
        map.insert("records".into(), self.records.iter().map(Record::to_value).collect());
        map.insert("sealed_at".into(), Value::String(self.sealed_at.clone()));
        map.insert("signature".into(), self.signature.as_ref().map_or(Value::Null, PackSignature::to_value));
        Value::Object(map)
    }
}

/// Each distinct reference once, in order of first appearance.
pub(crate) fn listing(refs: impl IntoIterator<Item = ArtifactRef>) -> Vec<ArtifactRef> {
    let mut listed: Vec<ArtifactRef> = Vec::new();
    for artifact in refs {
        if !listed.contains(&artifact) {
            listed.push(artifact);
        }
    }
    listed
}
