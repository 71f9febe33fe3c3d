//! Sealing and verifying packs: what a valid pack is, and the message each kind of damage gets.

mod evidence_fixture;

use gantry_domain::evidence::{
    canonical_json, kind, record_hash, sha256_hex, signing_message, verify, verify_json, Chain, Pack,
    SealError, Verification, FORMAT,
};
use gantry_domain::MissionId;
use serde_json::json;

use evidence_fixture::{at, mission_id, signature_for, signed, unsigned, Alg, Fixture};

fn check(fixture: &Fixture) -> Verification {
    verify(&fixture.pack, &|artifact| fixture.lookup(artifact))
}

fn first_error(fixture: &Fixture) -> String {
    let verification = check(fixture);
    assert!(!verification.valid);
    verification.errors[0].clone()
}

/// Re-chains every record from `from` on, as someone rewriting history without the key would.
fn rechain(pack: &mut Pack, from: usize) {
    for index in from..pack.records.len() {
        let prev =
            if index == 0 { pack.records[0].prev.clone() } else { pack.records[index - 1].hash.clone() };
        let record = &mut pack.records[index];
        record.data_sha256 = sha256_hex(&canonical_json(&record.data));
        record.prev = prev;
        record.hash = record_hash(&record.prev, record.seq, &record.kind, &record.at, &record.data_sha256);
    }
    pack.head = pack.records[pack.records.len() - 1].hash.clone();
}

#[test]
fn a_pack_signed_with_ed25519_verifies() {
    let fixture = signed(Alg::Ed25519);
    assert_eq!(check(&fixture), Verification { valid: true, errors: vec![] });
    assert!(verify_json(&fixture.pack.to_json(), &|artifact| fixture.lookup(artifact)).valid);
}

#[test]
fn a_pack_signed_like_kms_ecdsa_p256_verifies() {
    let fixture = signed(Alg::P256);
    assert_eq!(check(&fixture), Verification { valid: true, errors: vec![] });
    assert!(verify_json(&fixture.pack.to_json(), &|artifact| fixture.lookup(artifact)).valid);
}

#[test]
fn sealing_lists_each_artifact_once_in_order_of_first_reference() {
    let fixture = unsigned();
    let names: Vec<&str> = fixture.pack.artifacts.iter().map(|artifact| artifact.name.as_str()).collect();
    assert_eq!(
        names,
        ["design-reference.png", "manifest-1.json", "build-1.log", "manifest-2.json", "build-2.log"]
    );
    assert_eq!(fixture.pack.format, FORMAT);
    assert_eq!(fixture.pack.head, fixture.pack.records[10].hash);
    assert_eq!(fixture.pack.sealed_at, fixture.pack.records[10].at);
    assert_eq!(fixture.pack.signature, None);
}

#[test]
fn the_signing_message_binds_the_mission_the_dispatch_and_the_head() {
    let fixture = unsigned();
    let expected = format!("gantry-evidence/2\n{}\n0\n{}", mission_id(), fixture.pack.head);
    assert_eq!(fixture.pack.signing_message(), expected.into_bytes());
    assert_ne!(
        signing_message(&MissionId::generate(), 0, &fixture.pack.head),
        fixture.pack.signing_message()
    );
    assert_ne!(signing_message(&mission_id(), 1, &fixture.pack.head), fixture.pack.signing_message());
}

#[test]
fn sealing_refuses_an_empty_chain_and_contradictory_artifacts() {
    assert_eq!(Pack::seal(mission_id(), 0, &Chain::new()), Err(SealError::Empty));

    let (mut chain, _) = evidence_fixture::chain();
    let mut changed = chain.records()[1].artifacts().unwrap().remove(0);
    changed.sha256 = sha256_hex(b"other bytes");
    chain.append(kind::MANIFEST, at(11), json!({"artifact": changed.to_value()}));
    let error = Pack::seal(mission_id(), 0, &chain).unwrap_err();
    assert!(matches!(error, SealError::ConflictingArtifact { .. }), "{error}");

    let (mut chain, _) = evidence_fixture::chain();
    chain.append(kind::MANIFEST, at(11), json!({"artifacts": "manifest-3.json"}));
    assert!(matches!(Pack::seal(mission_id(), 0, &chain), Err(SealError::MalformedArtifact { .. })));
}

#[test]
fn the_stored_form_is_serde_json_output_and_parses_back() {
    let fixture = signed(Alg::Ed25519);
    let bytes = fixture.pack.to_json();
    assert_eq!(bytes, serde_json::to_vec(&fixture.pack).unwrap());
    assert_eq!(serde_json::from_slice::<Pack>(&bytes).unwrap(), fixture.pack);
}

#[test]
fn an_unsigned_pack_is_invalid() {
    assert_eq!(check(&unsigned()).errors, ["pack is not signed"]);
}

#[test]
fn a_record_changed_after_sealing_is_named() {
    let mut fixture = signed(Alg::Ed25519);
    let record = &mut fixture.pack.records[3];
    record.data["passed"] = json!(true);
    record.data_sha256 = sha256_hex(&canonical_json(&record.data));
    assert_eq!(first_error(&fixture), "record 3 (build.report): hash does not match its contents");

    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.records[3].data["exit_code"] = json!(0);
    assert_eq!(check(&fixture).errors, ["record 3 (build.report): data does not match its data_sha256"]);
}

#[test]
fn a_consistently_rewritten_history_fails_on_the_signature() {
    let mut fixture = signed(Alg::P256);
    fixture.pack.records[3].data["passed"] = json!(true);
    rechain(&mut fixture.pack, 3);
    fixture.pack.sealed_at = fixture.pack.records[10].at.clone();
    assert_eq!(check(&fixture).errors, ["signature does not verify with the pack's public key"]);
}

#[test]
fn a_pack_moved_to_another_mission_fails_on_the_signature() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.mission_id = "0190c0de-0000-7000-8000-000000000002".parse().unwrap();
    assert_eq!(check(&fixture).errors, ["signature does not verify with the pack's public key"]);
}

#[test]
fn a_signature_by_another_key_fails() {
    let mut fixture = signed(Alg::Ed25519);
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let bytes = ed25519_dalek::Signer::sign(&other, &fixture.pack.signing_message()).to_bytes();
    fixture.pack.signature.as_mut().unwrap().signature = evidence_fixture::encode(&bytes);
    assert_eq!(check(&fixture).errors, ["signature does not verify with the pack's public key"]);
}

#[test]
fn the_key_id_must_name_the_public_key() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.signature.as_mut().unwrap().key_id = "arn:aws:kms:eu-west-1:1:key/k".to_owned();
    assert!(first_error(&fixture)
        .starts_with("signature: key_id \"arn:aws:kms:eu-west-1:1:key/k\" does not name"));
}

#[test]
fn an_unknown_algorithm_or_a_mislabelled_key_is_refused() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.signature.as_mut().unwrap().alg = "rsa".to_owned();
    assert_eq!(first_error(&fixture), "signature algorithm \"rsa\" is not supported");

    let mut fixture = signed(Alg::P256);
    let ed25519 = signature_for(&fixture.pack.signing_message(), Alg::Ed25519);
    let signature = fixture.pack.signature.as_mut().unwrap();
    signature.public_key = ed25519.public_key;
    signature.key_id = evidence_fixture::pack_signature(
        &signature.alg,
        &evidence_fixture::decode(&signature.public_key),
        b"",
    )
    .key_id;
    assert_eq!(first_error(&fixture), "signature: public_key is not a P-256 SubjectPublicKeyInfo");
}

#[test]
fn base64_has_one_accepted_spelling() {
    let mut fixture = signed(Alg::Ed25519);
    let signature = fixture.pack.signature.as_mut().unwrap();
    signature.public_key = signature.public_key.trim_end_matches('=').to_owned();
    assert_eq!(first_error(&fixture), "signature: public_key is not base64");

    let mut fixture = signed(Alg::Ed25519);
    let signature = fixture.pack.signature.as_mut().unwrap();
    let last = signature.public_key.trim_end_matches('=').len() - 1;
    let unused_bits_set = char::from(signature.public_key.as_bytes()[last] + 1);
    signature.public_key.replace_range(last..=last, &unused_bits_set.to_string());
    assert_eq!(first_error(&fixture), "signature: public_key is not base64");
}

#[test]
fn a_public_key_has_one_accepted_encoding() {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::{DecodePublicKey, EncodePublicKey};

    let mut fixture = signed(Alg::P256);
    let point = p256::PublicKey::from(evidence_fixture::p256_key().verifying_key());
    let uncompressed = point.to_public_key_der().unwrap();
    let algorithm = &uncompressed.as_bytes()[2..23];
    let mut compressed = vec![0x30, 0x39];
    compressed.extend_from_slice(algorithm);
    compressed.extend_from_slice(&[0x03, 0x22, 0x00]);
    compressed.extend_from_slice(point.to_encoded_point(true).as_bytes());
    assert_eq!(p256::PublicKey::from_public_key_der(&compressed).unwrap(), point, "the same key");

    let signature = fixture.pack.signature.as_mut().unwrap();
    *signature = evidence_fixture::pack_signature(
        &signature.alg,
        &compressed,
        &evidence_fixture::decode(&signature.signature),
    );
    assert_eq!(check(&fixture).errors, ["signature: public_key is not a P-256 SubjectPublicKeyInfo"]);
}

#[test]
fn a_changed_artifact_is_named() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.stored.get_mut("missions/m1/manifest-2.json").unwrap().push(b' ');
    assert_eq!(check(&fixture).errors, ["artifact manifest-2.json: sha256 mismatch (stored bytes changed)"]);
}

#[test]
fn a_missing_artifact_is_named() {
    let mut fixture = signed(Alg::P256);
    fixture.stored.remove("missions/m1/build-1.log");
    assert_eq!(check(&fixture).errors, ["artifact build-1.log: missing from storage"]);
}

#[test]
fn the_listing_and_the_records_must_agree() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.artifacts.remove(1);
    assert_eq!(
        check(&fixture).errors,
        ["record 1 (manifest): artifact manifest-1.json is not listed in the pack"]
    );

    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.artifacts[4].size += 1;
    assert_eq!(
        check(&fixture).errors[0],
        "artifact build-2.log: listing differs from record 7 (build.report)"
    );

    let mut fixture = signed(Alg::Ed25519);
    let mut extra = fixture.pack.artifacts[0].clone();
    extra.name = "secrets.txt".to_owned();
    extra.key = "missions/m1/secrets.txt".to_owned();
    fixture.pack.artifacts.push(extra);
    fixture
        .stored
        .insert("missions/m1/secrets.txt".to_owned(), fixture.stored["missions/m1/design.png"].clone());
    assert_eq!(check(&fixture).errors, ["artifact secrets.txt: not referenced by any record"]);

    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.artifacts.swap(0, 1);
    assert_eq!(check(&fixture).errors, ["artifacts are not listed once each in order of first reference"]);
}

#[test]
fn format_head_and_seal_time_are_checked() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.format = "gantry-evidence/1".to_owned();
    assert_eq!(
        check(&fixture).errors,
        ["pack format is \"gantry-evidence/1\", expected \"gantry-evidence/2\""]
    );

    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.head = fixture.pack.records[9].hash.clone();
    assert_eq!(first_error(&fixture), "head does not match the last record's hash");

    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.sealed_at = fixture.pack.records[9].at.clone();
    assert_eq!(check(&fixture).errors, ["sealed_at does not match the time of record 10 (mission.final)"]);
}

#[test]
fn a_truncated_pack_is_invalid_even_when_resigned_by_its_own_key() {
    let mut fixture = unsigned();
    fixture.pack.records.clear();
    fixture.pack.artifacts.clear();
    fixture.pack.head = gantry_domain::evidence::GENESIS.to_owned();
    let fixture =
        Fixture { pack: evidence_fixture::sign(fixture.pack, Alg::Ed25519), stored: fixture.stored };
    assert_eq!(check(&fixture).errors, ["pack has no records"]);
}

#[test]
fn errors_come_in_chain_order() {
    let mut fixture = unsigned();
    fixture.pack.records[2].data["passed"] = json!(false);
    fixture.pack.records[8].data["url"] = json!("https://elsewhere.example");
    let errors = check(&fixture).errors;
    assert_eq!(
        errors,
        [
            "record 2 (policy.verdict): data does not match its data_sha256",
            "record 8 (deploy): data does not match its data_sha256",
            "pack is not signed",
        ]
    );
}

#[test]
fn an_unreadable_pack_is_invalid_with_the_reason() {
    let verification = verify_json(b"{\"format\":", &|_| None);
    assert!(!verification.valid);
    assert!(verification.errors[0].starts_with("pack cannot be read: "), "{:?}", verification.errors);

    let fixture = signed(Alg::Ed25519);
    let mut value: serde_json::Value = serde_json::from_slice(&fixture.pack.to_json()).unwrap();
    value["comment"] = json!("trust me");
    let verification = verify_json(&canonical_json(&value), &|artifact| fixture.lookup(artifact));
    assert!(verification.errors[0].contains("unknown field `comment`"), "{:?}", verification.errors);
}

#[test]
fn a_reformatted_pack_is_not_canonical() {
    let fixture = signed(Alg::Ed25519);
    let pretty = serde_json::to_vec_pretty(&fixture.pack).unwrap();
    let verification = verify_json(&pretty, &|artifact| fixture.lookup(artifact));
    assert_eq!(verification.errors, ["pack is not in canonical form: its bytes were altered or re-encoded"]);

    let mut trailing = fixture.pack.to_json();
    trailing.push(b'\n');
    assert!(!verify_json(&trailing, &|artifact| fixture.lookup(artifact)).valid);
}

#[test]
fn control_characters_in_names_cannot_forge_message_lines() {
    let mut fixture = signed(Alg::Ed25519);
    fixture.pack.records[4].kind = "heal\nall good".to_owned();
    assert_eq!(first_error(&fixture), "record 4 (heal\\nall good): hash does not match its contents");
}
