//! Verification: recompute everything a pack claims and name what does not hold, first thing first.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::canonical::sha256_hex;
use super::chain::{check_records, head_of, printable};
use super::pack::{
    key_id_for, listing, signing_message, ArtifactRef, Pack, ALG_ECDSA_P256_SHA256, ALG_ED25519, FORMAT,
};

const BAD_SIGNATURE: &str = "signature does not verify with the pack's public key";

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
    let mut errors = Vec::new();
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
    if let Err(error) = check_signature(pack) {
        errors.push(error);
    }
    Verification::from_errors(errors)
}

/// Verifies a pack as stored. Only the exact bytes of [`Pack::to_json`] are accepted, so that no
/// byte of a stored pack can change (whitespace, escapes, key order) without being noticed.
pub fn verify_json(bytes: &[u8], artifact_bytes: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>) -> Verification {
    let pack: Pack = match serde_json::from_slice(bytes) {
        Ok(pack) => pack,
        Err(error) => return Verification::from_errors(vec![format!("pack cannot be read: {error}")]),
    };
    let mut errors = verify(&pack, artifact_bytes).errors;
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

fn check_signature(pack: &Pack) -> Result<(), String> {
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
    let message = signing_message(&pack.mission_id, &pack.head);
    if signature.alg == ALG_ED25519 {
        verify_ed25519(&public_key, &signature_bytes, &message)
    } else {
        verify_ecdsa_p256(&public_key, &signature_bytes, &message)
    }
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
