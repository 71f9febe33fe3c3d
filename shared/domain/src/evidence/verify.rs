//! Verification: recompute everything a pack claims and name what does not hold, first thing first.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::canonical::sha256_hex;
use super::chain::{check_records, head_of, printable};
use super::pack::{
    key_id_for, listing, signing_message, ArtifactRef, Pack, ALG_ECDSA_P256_SHA256, ALG_ED25519, FORMAT,
};
use crate::ids::MissionId;

const BAD_SIGNATURE: &str = "signature does not verify with the pack's public key";
const BAD_TRUSTED_SIGNATURE: &str = "signature does not verify with this installation's key";

/// The public half of the key an installation signs its evidence with: the only key a pack of
/// one of its missions may be signed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// [`ALG_ED25519`] or [`ALG_ECDSA_P256_SHA256`].
    pub alg: String,
    /// Standard base64 (padded) of the DER SubjectPublicKeyInfo.
    pub public_key: String,
}

impl TrustedKey {
    /// [`key_id_for`] this key, or the base64 itself when it does not decode.
    pub fn key_id(&self) -> String {
        strict_base64(&self.public_key)
            .map_or_else(|| self.public_key.clone(), |der| key_id_for(&self.alg, &der))
    }
}

/// What a pack must be to count as a mission's evidence: sealed for that mission, by its latest
/// run, and signed with the installation's key.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub mission_id: &'a MissionId,
    /// The mission's latest run (`Mission::dispatches`): an older run's pack in its place is a
    /// rollback.
    pub dispatch: u32,
    pub key: &'a TrustedKey,
}

/// The verdict on a pack. `errors` are sentences for a person, the earliest broken thing first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub valid: bool,
    pub errors: Vec<String>,
}

impl Verification {
    fn from_errors(errors: Vec<String>) -> Self {
        Self { valid: errors.is_empty(), errors }
    }
}

/// Checks, in this order: the format, every record (seq, time, data digest, link, hash), the head
/// and seal time, that the artifact listing and the records' references agree exactly, every
/// artifact's stored bytes (`artifact_bytes` answers `None` for a missing one) and the signature
/// over the head. An unsigned pack is invalid.
///
/// The signature is checked with the public key the pack carries, so this proves the pack is
/// intact as that key sealed it; whether the key is one to trust is for the caller to decide by
/// comparing `signature.key_id` with the key ids it knows.
pub fn verify(pack: &Pack, artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>) -> Verification {
    Verification::from_errors(pack_errors(pack, None, artifact_bytes))
}

fn pack_errors(
    pack: &Pack,
    expected: Option<&Expected<'_>>,
    artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>,
) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(expected) = expected {
        errors.extend(binding_errors(pack, expected));
    }
    if pack.format != FORMAT {
        errors.push(format!("pack format is {:?}, expected {FORMAT:?}", pack.format));
    }
    if pack.records.is_empty() {
        errors.push("pack has no records".to_owned());
    }
    errors.extend(check_records(&pack.records).iter().map(ToString::to_string));
    if pack.head != head_of(&pack.records) {
        errors.push("head does not match the last record's hash".to_owned());
    }
    if let Some(last) = pack.records.last() {
        if pack.sealed_at != last.at {
            errors.push(format!("sealed_at does not match the time of {}", last.label()));
        }
    }
    check_artifacts(pack, artifact_bytes, &mut errors);
    if let Err(error) = check_signature(pack, expected.map(|e| e.key)) {
        errors.push(error);
    }
    errors
}

/// Whether the pack is the one asked about: its mission and its run. These come first, since a
/// genuine pack of the wrong mission or an older run is otherwise perfectly intact.
fn binding_errors(pack: &Pack, expected: &Expected<'_>) -> Vec<String> {
    let mut errors = Vec::new();
    if &pack.mission_id != expected.mission_id {
        errors.push(format!("pack is for mission {}, not {}", pack.mission_id, expected.mission_id));
    }
    if pack.dispatch != expected.dispatch {
        errors.push(format!(
            "pack is for dispatch {} but the mission's latest run is {}",
            pack.dispatch, expected.dispatch
        ));
    }
    errors
}

/// Verifies a pack as stored. Only the exact bytes of [`Pack::to_json`] are accepted, so that no
/// byte of a stored pack can change (whitespace, escapes, key order) without being noticed.
///
/// This checks the pack alone, against the key it carries; [`verify_mission`] is the check of a
/// mission's evidence.
pub fn verify_json(bytes: &[u8], artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>) -> Verification {
    json_verification(bytes, None, artifact_bytes)
}

/// Verifies `newest`, the stored pack of the mission's latest run, as that mission's evidence:
/// everything [`verify_json`] checks, plus that the pack names `expected.mission_id` and
/// `expected.dispatch` (both are signed) and that its signature verifies with `expected.key`
/// rather than with whatever key the pack carries. A missing pack is invalid: the caller asks
/// only when the latest run should have sealed one.
pub fn verify_mission(
    newest: Option<&[u8]>,
    expected: &Expected<'_>,
    artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>,
) -> Verification {
    match newest {
        Some(bytes) => json_verification(bytes, Some(expected), artifact_bytes),
        None => Verification::from_errors(vec![format!(
            "the pack of the mission's latest run (dispatch {}) is missing",
            expected.dispatch
        )]),
    }
}

fn json_verification(
    bytes: &[u8],
    expected: Option<&Expected<'_>>,
    artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>,
) -> Verification {
    let pack: Pack = match serde_json::from_slice(bytes) {
        Ok(pack) => pack,
        Err(error) => return Verification::from_errors(vec![format!("pack cannot be read: {error}")]),
    };
    let mut errors = pack_errors(&pack, expected, artifact_bytes);
    if pack.to_json() != bytes {
        errors.push("pack is not in canonical form: its bytes were altered or re-encoded".to_owned());
    }
    Verification::from_errors(errors)
}

fn check_artifacts(
    pack: &Pack,
    artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>,
    errors: &mut Vec<String>,
) {
    let before = errors.len();
    let mut referenced: Vec<(String, ArtifactRef)> = Vec::new();
    for record in &pack.records {
        match record.artifacts() {
            Ok(refs) => referenced.extend(refs.into_iter().map(|artifact| (record.label(), artifact))),
            Err(error) => {
                errors.push(format!("{}: artifact reference is malformed: {error}", record.label()))
            }
        }
    }
    for artifact in &pack.artifacts {
        let name = printable(&artifact.name);
        if !referenced.iter().any(|(_, reference)| reference == artifact) {
            match referenced.iter().find(|(_, r)| r.key == artifact.key || r.name == artifact.name) {
                Some((label, _)) => errors.push(format!("artifact {name}: listing differs from {label}")),
                None => errors.push(format!("artifact {name}: not referenced by any record")),
            }
        }
    }
    for (label, artifact) in &referenced {
        // A reference listed with different fields was reported above, as the listing's fault.
        let listed = pack.artifacts.iter().any(|a| a.key == artifact.key || a.name == artifact.name);
        if !listed {
            errors.push(format!("{label}: artifact {} is not listed in the pack", printable(&artifact.name)));
        }
    }
    let expected = listing(referenced.into_iter().map(|(_, artifact)| artifact));
    if errors.len() == before && pack.artifacts != expected {
        errors.push("artifacts are not listed once each in order of first reference".to_owned());
    }
    for artifact in &pack.artifacts {
        let name = printable(&artifact.name);
        match artifact_bytes(artifact) {
            None => errors.push(format!("artifact {name}: missing from storage")),
            Some(bytes) if sha256_hex(&bytes) != artifact.sha256 => {
                errors.push(format!("artifact {name}: sha256 mismatch (stored bytes changed)"));
            }
            Some(bytes) if bytes.len() as u64 != artifact.size => errors.push(format!(
                "artifact {name}: size {} does not match its {} stored bytes",
                artifact.size,
                bytes.len()
            )),
            Some(_) => {}
        }
    }
}

/// Checks the signature with `trusted` when given (the pack must carry exactly that key), else
/// with the key the pack carries.
fn check_signature(pack: &Pack, trusted: Option<&TrustedKey>) -> Result<(), String> {
    let signature = pack.signature.as_ref().ok_or("pack is not signed")?;
    if signature.alg != ALG_ED25519 && signature.alg != ALG_ECDSA_P256_SHA256 {
        return Err(format!("signature algorithm {:?} is not supported", printable(&signature.alg)));
    }
    let public_key = strict_base64(&signature.public_key).ok_or("signature: public_key is not base64")?;
    let signature_bytes = strict_base64(&signature.signature).ok_or("signature: signature is not base64")?;
    let expected_key_id = key_id_for(&signature.alg, &public_key);
    if signature.key_id != expected_key_id {
        return Err(format!(
            "signature: key_id {:?} does not name the pack's public key (expected {expected_key_id})",
            printable(&signature.key_id)
        ));
    }
    let message = signing_message(&pack.mission_id, pack.dispatch, &pack.head);
    let (alg, key, bad) = match trusted {
        None => (signature.alg.as_str(), public_key, BAD_SIGNATURE),
        Some(trusted) => {
            if signature.alg != trusted.alg || signature.public_key != trusted.public_key {
                return Err(format!(
                    "signed by {}, not by this installation's key {}",
                    printable(&signature.key_id),
                    trusted.key_id()
                ));
            }
            let key = strict_base64(&trusted.public_key).ok_or("this installation's key is not base64")?;
            (trusted.alg.as_str(), key, BAD_TRUSTED_SIGNATURE)
        }
    };
    let verified = if alg == ALG_ED25519 {
        verify_ed25519(&key, &signature_bytes, &message)
    } else if alg == ALG_ECDSA_P256_SHA256 {
        verify_ecdsa_p256(&key, &signature_bytes, &message)
    } else {
        return Err(format!("signature algorithm {:?} is not supported", printable(alg)));
    };
    verified.map_err(|error| if error == BAD_SIGNATURE { bad.to_owned() } else { error })
}

/// Decodes padded standard base64, refusing every encoding but the one it would produce itself
/// (non-zero trailing bits, missing padding), so that equal bytes have one textual form.
fn strict_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok().filter(|bytes| STANDARD.encode(bytes) == text)
}

fn verify_ed25519(public_key: &[u8], signature: &[u8], message: &[u8]) -> Result<(), String> {
    use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey};

    const NOT_A_KEY: &str = "signature: public_key is not an Ed25519 SubjectPublicKeyInfo";
    let key = ed25519_dalek::VerifyingKey::from_public_key_der(public_key).map_err(|_| NOT_A_KEY)?;
    let reencoded = key.to_public_key_der().map_err(|_| NOT_A_KEY)?;
    if reencoded.as_bytes() != public_key {
        return Err(NOT_A_KEY.to_owned());
    }
    let signature = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| "signature: not a 64-byte Ed25519 signature")?;
    key.verify_strict(message, &signature).map_err(|_| BAD_SIGNATURE.to_owned())
}

fn verify_ecdsa_p256(public_key: &[u8], signature: &[u8], message: &[u8]) -> Result<(), String> {
    use p256::ecdsa::signature::Verifier as _;
    use p256::pkcs8::{DecodePublicKey, EncodePublicKey};

    const NOT_A_KEY: &str = "signature: public_key is not a P-256 SubjectPublicKeyInfo";
    let point = p256::PublicKey::from_public_key_der(public_key).map_err(|_| NOT_A_KEY)?;
    let reencoded = point.to_public_key_der().map_err(|_| NOT_A_KEY)?;
    if reencoded.as_bytes() != public_key {
        return Err(NOT_A_KEY.to_owned());
    }
    let key = p256::ecdsa::VerifyingKey::from(point);
    const NOT_DER: &str = "signature: not a DER ECDSA signature";
    let parsed = p256::ecdsa::Signature::from_der(signature).map_err(|_| NOT_DER)?;
    if parsed.to_der().as_bytes() != signature {
        return Err(NOT_DER.to_owned());
    }
    key.verify(message, &parsed).map_err(|_| BAD_SIGNATURE.to_owned())
}
