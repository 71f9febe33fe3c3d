//! The Black Box: a tamper-evident record of everything a mission did.
//!
//! Each step appends a [`Record`] to the mission's [`Chain`]; every record commits to the one
//! before it, so the last hash (the head) commits to all of them. Records that produced files
//! name them by sha256 ([`ArtifactRef`]). Sealing gives a [`Pack`] whose head is signed, and
//! [`verify`] / [`verify_json`] recompute all of it from the pack and the stored artifact bytes.
//! A pack names its mission and its dispatch (which run sealed it) inside what is signed, and
//! [`verify_mission`] checks a mission's newest pack against the mission asked about, its latest
//! run and the installation's own key.
//!
//! The format is strict on purpose: packs and record data are hashed and stored as canonical JSON
//! (see [`canonical_json`]), base64 has one accepted spelling and a key id is derived from its
//! public key, so changing any single byte of a pack, an artifact, the signature or the public
//! key makes verification fail.

mod canonical;
mod chain;
mod pack;
mod verify;

pub use canonical::{canonical_json, sha256_hex};
pub use chain::{format_at, record_hash, Chain, ChainError, Record, GENESIS};
pub use pack::{
    key_id_for, signing_message, ArtifactRef, Pack, PackSignature, SealError, ALG_ECDSA_P256_SHA256,
    ALG_ED25519, FORMAT,
};
pub use verify::{verify, verify_json, verify_mission, Expected, TrustedKey, Verification};

/// Record kinds, one per kind of step outcome.
pub mod kind {
    /// The person's consent to a proposal, with the brief that was approved.
    pub const CONSULTATION_APPROVED: &str = "consultation.approved";
    /// A drafted or healed manifest (one per attempt).
    pub const MANIFEST: &str = "manifest";
    pub const POLICY_VERDICT: &str = "policy.verdict";
    pub const BUILD_REPORT: &str = "build.report";
    pub const HEAL: &str = "heal";
    pub const DEPLOY: &str = "deploy";
    pub const PUBLISH: &str = "publish";
    /// The mission's final status; normally the last record.
    pub const MISSION_FINAL: &str = "mission.final";
    /// A step failed; `data` says which and why, so failures are evidence too.
    pub const EVIDENCE_ERROR: &str = "evidence.error";

    pub const ALL: [&str; 9] = [
        CONSULTATION_APPROVED,
        MANIFEST,
        POLICY_VERDICT,
        BUILD_REPORT,
        HEAL,
        DEPLOY,
        PUBLISH,
        MISSION_FINAL,
        EVIDENCE_ERROR,
    ];
}
