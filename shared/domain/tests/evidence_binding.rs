//! A mission's evidence is its own newest pack, signed by the installation's key: a genuine pack
//! of another mission, of an older run of the same mission, or re-signed by another key is refused.

mod evidence_fixture;

use gantry_domain::evidence::{
    kind, verify_json, verify_mission, Chain, Expected, Pack, TrustedKey, Verification,
};
use gantry_domain::MissionId;
use serde_json::json;

use evidence_fixture::{chain, decode, encode, mission_id, pack_signature, signed, Alg, Fixture};

/// The key the fixture is signed with, as the installation knows it.
fn installation_key(alg: Alg) -> TrustedKey {
    let signature = signed(alg).pack.signature.expect("fixture packs are signed");
    TrustedKey { alg: signature.alg, public_key: signature.public_key }
}

fn check(fixture: &Fixture, mission: &MissionId, dispatch: u32, key: &TrustedKey) -> Verification {
    let expected = Expected { mission_id: mission, dispatch, key };
    verify_mission(Some(&fixture.pack.to_json()), &expected, &|a| fixture.lookup(a))
}

fn first_error(verification: &Verification) -> &str {
    assert!(!verification.valid);
    verification.errors.first().map(String::as_str).expect("an invalid pack says why")
}

#[test]
fn the_pack_of_the_mission_asked_about_its_latest_run_and_key_is_valid() {
    for alg in [Alg::Ed25519, Alg::P256] {
        let verification = check(&signed(alg), &mission_id(), 0, &installation_key(alg));
        assert!(verification.valid, "{alg:?}: {:?}", verification.errors);
    }
}

#[test]
fn a_genuine_pack_of_another_mission_is_refused_by_name() {
    let other = MissionId::generate();
    let verification = check(&signed(Alg::Ed25519), &other, 0, &installation_key(Alg::Ed25519));
    assert_eq!(first_error(&verification), format!("pack is for mission {}, not {other}", mission_id()));
}

#[test]
fn an_older_runs_pack_in_place_of_the_newest_is_a_rollback() {
    let verification = check(&signed(Alg::Ed25519), &mission_id(), 1, &installation_key(Alg::Ed25519));
    assert_eq!(first_error(&verification), "pack is for dispatch 0 but the mission's latest run is 1");
}

#[test]
fn a_missing_newest_pack_is_invalid() {
    let key = installation_key(Alg::Ed25519);
    let expected = Expected { mission_id: &mission_id(), dispatch: 2, key: &key };
    let verification = verify_mission(None, &expected, &|_| None);
    assert_eq!(first_error(&verification), "the pack of the mission's latest run (dispatch 2) is missing");
}

#[test]
fn the_dispatch_is_signed_so_relabelling_an_old_pack_breaks_it() {
    let fixture = signed(Alg::Ed25519);
    let mut relabelled = fixture.clone();
    relabelled.pack.dispatch = 1;
    let verification = check(&relabelled, &mission_id(), 1, &installation_key(Alg::Ed25519));
    assert_eq!(verification.errors, vec!["signature does not verify with this installation's key"]);
    assert!(!verify_json(&relabelled.pack.to_json(), &|a| fixture.lookup(a)).valid);
}

/// The fixture's mission with its policy verdict and final status rewritten, re-chained and
/// re-sealed: a self-consistent pack, signed by a key of the forger's choosing.
fn forged(key: &ed25519_dalek::SigningKey) -> Fixture {
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    use ed25519_dalek::Signer as _;

    let (genuine, stored) = chain();
    let mut rewritten = Chain::new();
    for record in genuine.records() {
        let data = match record.kind.as_str() {
            kind::POLICY_VERDICT => {
                json!({"attempt": record.data["attempt"], "passed": true, "violations": []})
            }
            kind::MISSION_FINAL => json!({"status": "DEPLOYED"}),
            _ => record.data.clone(),
        };
        let at = chrono::DateTime::parse_from_rfc3339(&record.at).unwrap().with_timezone(&chrono::Utc);
        rewritten.append(record.kind.clone(), at, data);
    }
    let pack = Pack::seal(mission_id(), 0, &rewritten).unwrap();
    let der = key.verifying_key().to_public_key_der().unwrap();
    let signature = key.sign(&pack.signing_message()).to_bytes();
    Fixture { pack: pack.with_signature(pack_signature("ed25519", der.as_bytes(), &signature)), stored }
}

#[test]
fn a_pack_re_signed_with_another_key_is_intact_alone_but_not_this_installations() {
    let forger = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let fixture = forged(&forger);
    let alone = verify_json(&fixture.pack.to_json(), &|a| fixture.lookup(a));
    assert!(alone.valid, "the forgery is self-consistent: {:?}", alone.errors);

    let key = installation_key(Alg::Ed25519);
    let verification = check(&fixture, &mission_id(), 0, &key);
    let said = first_error(&verification);
    assert!(said.starts_with("signed by ed25519:"), "{said}");
    assert!(said.ends_with(&format!("not by this installation's key {}", key.key_id())), "{said}");

    // A P-256 installation (KMS) refuses an Ed25519 pack the same way.
    let verification = check(&signed(Alg::Ed25519), &mission_id(), 0, &installation_key(Alg::P256));
    assert!(first_error(&verification).contains("not by this installation's key ecdsa-p256-sha256:"));
}

#[test]
fn the_installation_key_is_named_by_its_fingerprint() {
    let key = installation_key(Alg::Ed25519);
    let signature = signed(Alg::Ed25519).pack.signature.unwrap();
    assert_eq!(key.key_id(), signature.key_id);
    let garbled = TrustedKey { alg: key.alg.clone(), public_key: encode(&decode(&key.public_key)[1..]) };
    let verification = check(&signed(Alg::Ed25519), &mission_id(), 0, &garbled);
    assert!(first_error(&verification).contains("not by this installation's key"));
}
