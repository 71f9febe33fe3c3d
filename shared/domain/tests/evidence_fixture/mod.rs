//! A realistic sealed mission (consultation, a failed build, a heal, a passing build, deploy,
//! publish) shared by the evidence test crates.
#![allow(dead_code)] // each test crate uses a different part of it

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use gantry_domain::evidence::{
    key_id_for, kind, ArtifactRef, Chain, Pack, PackSignature, ALG_ECDSA_P256_SHA256, ALG_ED25519,
};
use gantry_domain::MissionId;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Ed25519,
    P256,
}

/// A sealed pack and the bytes its artifacts are stored as, by key.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub pack: Pack,
    pub stored: BTreeMap<String, Vec<u8>>,
}

impl Fixture {
    pub fn lookup(&self, artifact: &ArtifactRef) -> Option<Vec<u8>> {
        self.stored.get(&artifact.key).cloned()
    }
}

pub fn mission_id() -> MissionId {
    "0190c0de-0000-7000-8000-000000000001".parse().unwrap()
}

pub fn at(step: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 0).unwrap() + Duration::milliseconds(1_481 * step)
}

pub fn ed25519_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

pub fn p256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap()
}

/// The stored artifacts of the mission: name → (key, content type, bytes).
pub fn artifacts() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>)> {
    vec![
        (
            "design-reference.png",
            "missions/m1/design.png",
            "image/png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        ),
        (
            "manifest-1.json",
            "missions/m1/manifest-1.json",
            "application/json",
            br#"{"project_name":"todo"}"#.to_vec(),
        ),
        ("build-1.log", "missions/m1/build-1.log", "text/plain", b"npm ERR! missing script: test\n".to_vec()),
        (
            "manifest-2.json",
            "missions/m1/manifest-2.json",
            "application/json",
            br#"{"project_name":"todo","v":2}"#.to_vec(),
        ),
        ("build-2.log", "missions/m1/build-2.log", "text/plain", b"ok 1 - renders\n".to_vec()),
    ]
}

/// The mission's chain and the stored artifact bytes by key.
pub fn chain() -> (Chain, BTreeMap<String, Vec<u8>>) {
    let refs: BTreeMap<&str, ArtifactRef> = artifacts()
        .into_iter()
        .map(|(name, key, content_type, bytes)| {
            (name, ArtifactRef::for_bytes(name, key, content_type, &bytes))
        })
        .collect();
    let stored = artifacts().into_iter().map(|(_, key, _, bytes)| (key.to_owned(), bytes)).collect();
    let r = |name: &str| refs[name].to_value();
    let mut chain = Chain::new();
    chain.append(
        kind::CONSULTATION_APPROVED,
        at(0),
        json!({"reply": "yes, \"ship it\" ✓\n", "brief": {"kind": "todo", "features": ["tags", "due dates"]},
               "artifact": r("design-reference.png")}),
    );
    chain.append(kind::MANIFEST, at(1), json!({"attempt": 1, "artifact": r("manifest-1.json")}));
    chain.append(kind::POLICY_VERDICT, at(2), json!({"attempt": 1, "passed": true, "violations": []}));
    chain.append(
        kind::BUILD_REPORT,
        at(3),
        json!({"attempt": 1, "passed": false, "exit_code": 1, "duration_ms": 1234, "timed_out": false,
               "log_tail": "npm ERR!\tmissing script\u{1}", "artifact": r("build-1.log")}),
    );
    chain.append(kind::HEAL, at(4), json!({"attempt": 2, "notes": "added a test script", "model": null}));
    chain.append(
        kind::MANIFEST,
        at(5),
        json!({"attempt": 2, "artifacts": [r("manifest-2.json"), r("design-reference.png")]}),
    );
    chain.append(kind::POLICY_VERDICT, at(6), json!({"attempt": 2, "passed": true, "violations": []}));
    chain.append(
        kind::BUILD_REPORT,
        at(7),
        json!({"attempt": 2, "passed": true, "exit_code": 0, "ratio": 0.25, "delta": -3, "artifact": r("build-2.log")}),
    );
    chain.append(kind::DEPLOY, at(8), json!({"url": "http://127.0.0.1:8080/preview/m1/"}));
    chain.append(kind::PUBLISH, at(9), json!({"branch": "gantry/m1", "pr_url": null}));
    chain.append(kind::MISSION_FINAL, at(10), json!({"status": "SUCCESS"}));
    (chain, stored)
}

pub fn unsigned() -> Fixture {
    let (chain, stored) = chain();
    Fixture { pack: Pack::seal(mission_id(), 0, &chain).unwrap(), stored }
}

pub fn signed(alg: Alg) -> Fixture {
    let mut fixture = unsigned();
    fixture.pack = sign(fixture.pack, alg);
    fixture
}

/// Signs the pack's message as the local signer (Ed25519) or AWS KMS ECDSA_SHA_256 would.
pub fn sign(pack: Pack, alg: Alg) -> Pack {
    let signature = signature_for(&pack.signing_message(), alg);
    pack.with_signature(signature)
}

pub fn signature_for(message: &[u8], alg: Alg) -> PackSignature {
    match alg {
        Alg::Ed25519 => {
            use ed25519_dalek::pkcs8::EncodePublicKey;
            use ed25519_dalek::Signer;
            let key = ed25519_key();
            let der = key.verifying_key().to_public_key_der().unwrap();
            pack_signature(ALG_ED25519, der.as_bytes(), &key.sign(message).to_bytes())
        }
        Alg::P256 => {
            use p256::ecdsa::signature::Signer;
            use p256::pkcs8::EncodePublicKey;
            let key = p256_key();
            let der = p256::PublicKey::from(key.verifying_key()).to_public_key_der().unwrap();
            let signature: p256::ecdsa::Signature = key.sign(message);
            pack_signature(ALG_ECDSA_P256_SHA256, der.as_bytes(), signature.to_der().as_bytes())
        }
    }
}

pub fn pack_signature(alg: &str, public_key_der: &[u8], signature: &[u8]) -> PackSignature {
    PackSignature {
        alg: alg.to_owned(),
        key_id: key_id_for(alg, public_key_der),
        public_key: STANDARD.encode(public_key_der),
        signature: STANDARD.encode(signature),
    }
}

pub fn decode(text: &str) -> Vec<u8> {
    STANDARD.decode(text).unwrap()
}

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}
