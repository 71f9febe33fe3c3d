//! A mission's Black Box while it runs: records are appended to a working chain in the artifacts
//! store, artifacts go to the evidence store once each (write-once names), and the `evidence`
//! step seals the chain into a signed pack.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use gantry_domain::evidence::{
    verify_mission, ArtifactRef, Chain, Expected, Pack, PackSignature, Record, TrustedKey, Verification,
};
use gantry_domain::{Mission, MissionId};
use gantry_ports::{object_keys, ObjectStore, PortError, PortResult, Signer};

#[derive(Clone)]
pub struct EvidenceLog {
    /// Mutable working state (the chain so far) lives with the other artifacts.
    pub objects: Arc<dyn ObjectStore>,
    /// Write-once storage for artifacts and packs (Object Lock in AWS).
    pub evidence: Arc<dyn ObjectStore>,
    pub signer: Arc<dyn Signer>,
}

fn working_key(mission: &MissionId) -> String {
    gantry_ports::object_keys::evidence_records(mission)
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
        let key = object_keys::evidence::artifact(mission, name);
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

    /// Seals the chain into the signed pack of the mission's `dispatch`-th run, stored under
    /// [`object_keys::evidence::pack`]; returns the head hash.
    pub async fn seal(&self, mission: &MissionId, dispatch: u32) -> PortResult<String> {
        let chain = self.chain(mission).await?;
        let pack =
            Pack::seal(mission.clone(), dispatch, &chain).map_err(|e| PortError::Failed(e.to_string()))?;
        let key = object_keys::evidence::pack(mission, dispatch);
        let signature = self.signer.sign(&pack.signing_message()).await?;
        let pack = pack.with_signature(PackSignature {
            alg: signature.alg,
            key_id: signature.key_id,
            public_key: signature.public_key,
            signature: signature.signature,
        });
        self.evidence.put(&key, &pack.to_json(), "application/json").await?;
        Ok(pack.head)
    }
}

/// A mission's evidence as read back from the evidence store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissionEvidence {
    /// The latest run has not sealed a pack and was not expected to have yet (it is still
    /// running, or the mission never ran).
    NotSealed,
    /// The newest pack (`None` when it is missing though it should exist) and its verdict.
    Checked { pack: Option<Vec<u8>>, verification: Verification },
}

/// The one verification of a mission's evidence, used by `gantry verify <id>` and the HTTP view:
/// the pack of the mission's latest run (`mission.dispatches`) is read and checked with
/// [`verify_mission`] against the mission, that run and `key`, the installation's own.
///
/// The newest pack is expected once the mission is final and some run of it has sealed evidence
/// (`evidence_url` is set by the first seal and kept across retries), so a deleted newest pack, or
/// an older one put in its place, is invalid rather than "not sealed yet".
pub async fn verify_mission_evidence(
    evidence: &dyn ObjectStore,
    mission: &Mission,
    key: &TrustedKey,
) -> PortResult<MissionEvidence> {
    let dispatch = mission.dispatches;
    let pack = evidence.get(&object_keys::evidence::pack(&mission.id, dispatch)).await?;
    if pack.is_none() && !(mission.status.is_final() && mission.evidence_url.is_some()) {
        return Ok(MissionEvidence::NotSealed);
    }
    let mut artifacts = std::collections::HashMap::new();
    if let Some(parsed) = pack.as_deref().and_then(|bytes| serde_json::from_slice::<Pack>(bytes).ok()) {
        // A missing artifact is a finding of the verification; a store that cannot answer is an
        // error, never reported as broken evidence.
        for artifact in &parsed.artifacts {
            if let Some(content) = evidence.get(&artifact.key).await? {
                artifacts.insert(artifact.key.clone(), content);
            }
        }
    }
    let expected = Expected { mission_id: &mission.id, dispatch, key };
    let verification =
        verify_mission(pack.as_deref(), &expected, &|artifact| artifacts.get(&artifact.key).cloned());
    Ok(MissionEvidence::Checked { pack, verification })
}
