//! A mission's Black Box while it runs: records are appended to a working chain in the artifacts
//! store, artifacts go to the evidence store once each (write-once names), and the `evidence`
//! step seals the chain into a signed pack.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use gantry_domain::evidence::{ArtifactRef, Chain, Pack, PackSignature, Record};
use gantry_domain::MissionId;
use gantry_ports::{evidence_keys, ObjectStore, PortError, PortResult, Signer};

#[derive(Clone)]
pub struct EvidenceLog {
    /// Mutable working state (the chain so far) lives with the other artifacts.
    pub objects: Arc<dyn ObjectStore>,
    /// Write-once storage for artifacts and packs (Object Lock in AWS).
    pub evidence: Arc<dyn ObjectStore>,
    pub signer: Arc<dyn Signer>,
}

fn working_key(mission: &MissionId) -> String {
    format!("missions/{mission}/evidence-records.json")
}

fn corrupt(e: impl std::fmt::Display) -> PortError {
    PortError::Failed(format!("the evidence chain is unreadable: {e}"))
}

impl EvidenceLog {
    pub async fn chain(&self, mission: &MissionId) -> PortResult<Chain> {
        match self.objects.get(&working_key(mission)).await? {
            None => Ok(Chain::new()),
            Some(bytes) => {
                let records: Vec<Record> = serde_json::from_slice(&bytes).map_err(corrupt)?;
                Chain::from_records(records).map_err(corrupt)
            }
        }
    }

    /// Appends one record and returns the new head hash.
    pub async fn append(&self, mission: &MissionId, kind: &str, data: Value) -> PortResult<String> {
        let mut chain = self.chain(mission).await?;
        chain.append(kind, Utc::now(), data);
        let bytes = serde_json::to_vec(chain.records()).map_err(corrupt)?;
        self.objects.put(&working_key(mission), &bytes, "application/json").await?;
        Ok(chain.head())
    }

    /// Stores an artifact under a name that is never reused, and returns its reference.
    pub async fn artifact(
        &self,
        mission: &MissionId,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> PortResult<ArtifactRef> {
        let key = evidence_keys::artifact(mission, name);
        let reference = ArtifactRef::for_bytes(name, key.clone(), content_type, bytes);
        if let Some(existing) = self.evidence.get(&key).await? {
            // Write-once: the same bytes again are fine (a retried step), different bytes are not.
            if existing != bytes {
                return Err(PortError::Conflict(format!(
                    "evidence artifact {name} already exists with other contents"
                )));
            }
            return Ok(reference);
        }
        self.evidence.put(&key, bytes, content_type).await?;
        Ok(reference)
    }

    pub async fn head(&self, mission: &MissionId) -> PortResult<String> {
        Ok(self.chain(mission).await?.head())
    }

    /// Seals the chain into a signed pack stored under `key`; returns the head hash.
    pub async fn seal(&self, mission: &MissionId, key: &str) -> PortResult<String> {
        let chain = self.chain(mission).await?;
        let pack = Pack::seal(mission.clone(), &chain).map_err(|e| PortError::Failed(e.to_string()))?;
        let signature = self.signer.sign(&pack.signing_message()).await?;
        let pack = pack.with_signature(PackSignature {
            alg: signature.alg,
            key_id: signature.key_id,
            public_key: signature.public_key,
            signature: signature.signature,
        });
        self.evidence.put(key, &pack.to_json(), "application/json").await?;
        Ok(pack.head)
    }
}
