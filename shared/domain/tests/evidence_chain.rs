//! The chain: how records are built, hashed and linked, and which stored chains are refused.

mod evidence_fixture;

use chrono::{TimeZone, Utc};
use gantry_domain::evidence::{
    canonical_json, kind, record_hash, sha256_hex, ArtifactRef, Chain, ChainError, Record, GENESIS,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use evidence_fixture::at;

#[test]
fn an_empty_chain_has_the_genesis_head() {
    let chain = Chain::new();
    assert!(chain.is_empty());
    assert_eq!(chain.head(), GENESIS);
    assert_eq!(GENESIS, "0".repeat(64));
}

#[test]
fn appended_records_are_numbered_and_linked_and_the_head_follows() {
    let mut chain = Chain::new();
    let first = chain.append(kind::CONSULTATION_APPROVED, at(0), json!({"reply": "yes"})).clone();
    let second = chain.append(kind::MANIFEST, at(1), json!({"attempt": 1})).clone();

    assert_eq!((first.seq, second.seq), (0, 1));
    assert_eq!(first.prev, GENESIS);
    assert_eq!(second.prev, first.hash);
    assert_ne!(first.hash, second.hash);
    assert_eq!(chain.head(), second.hash);
    assert_eq!(chain.records(), &[first, second]);
}

#[test]
fn record_time_is_kept_to_the_millisecond_in_utc_with_z() {
    let mut chain = Chain::new();
    let odd =
        Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 2).unwrap() + chrono::Duration::nanoseconds(481_999_999);
    assert_eq!(chain.append(kind::HEAL, odd, json!(null)).at, "2025-01-31T09:15:02.481Z");
    assert_eq!(chain.append(kind::HEAL, at(0), json!(null)).at, "2025-01-31T09:15:00.000Z");
}

#[test]
fn data_is_digested_in_canonical_form_whatever_order_its_keys_were_written_in() {
    let written: serde_json::Value =
        serde_json::from_str(r#"{ "b": [true, null], "a": {"y": 1, "x": "é\n"} }"#).unwrap();
    let mut chain = Chain::new();
    let record = chain.append(kind::POLICY_VERDICT, at(0), written).clone();
    let canonical = r#"{"a":{"x":"é\n","y":1},"b":[true,null]}"#;
    assert_eq!(canonical_json(&record.data), canonical.as_bytes());
    assert_eq!(record.data_sha256, hex::encode(Sha256::digest(canonical.as_bytes())));
}

#[test]
fn the_hash_is_sha256_of_length_prefixed_fields_with_a_big_endian_seq() {
    let data_sha256 = sha256_hex(b"null");
    let mut expected = Sha256::new();
    for (index, field) in [GENESIS, "heal", "2025-01-31T09:15:00.000Z", &data_sha256].into_iter().enumerate()
    {
        expected.update((field.len() as u64).to_be_bytes());
        expected.update(field.as_bytes());
        if index == 0 {
            expected.update(5u64.to_be_bytes());
        }
    }
    let expected = hex::encode(expected.finalize());
    assert_eq!(record_hash(GENESIS, 5, "heal", "2025-01-31T09:15:00.000Z", &data_sha256), expected);
}

#[test]
fn moving_bytes_between_fields_changes_the_hash() {
    let d = sha256_hex(b"{}");
    assert_ne!(record_hash(GENESIS, 1, "ab", "c", &d), record_hash(GENESIS, 1, "a", "bc", &d));
    assert_ne!(record_hash(GENESIS, 1, "", "x", &d), record_hash(GENESIS, 1, "x", "", &d));
    assert_ne!(record_hash(GENESIS, 1, "a", "b", &d), record_hash(GENESIS, 256, "a", "b", &d));
}

#[test]
fn a_stored_chain_resumes_and_keeps_linking() {
    let (chain, _) = evidence_fixture::chain();
    let stored = serde_json::to_vec(chain.records()).unwrap();
    let records: Vec<Record> = serde_json::from_slice(&stored).unwrap();

    let mut resumed = Chain::from_records(records).unwrap();
    assert_eq!(resumed, chain);
    let head = resumed.head();
    let next = resumed.append(kind::EVIDENCE_ERROR, at(11), json!({"step": "finalize"}));
    assert_eq!((next.seq, next.prev.as_str()), (chain.len() as u64, head.as_str()));
}

fn tampered(change: impl FnOnce(&mut Vec<Record>)) -> ChainError {
    let (chain, _) = evidence_fixture::chain();
    let mut records = chain.into_records();
    change(&mut records);
    Chain::from_records(records).unwrap_err()
}

#[test]
fn changed_data_is_refused() {
    let error = tampered(|records| records[3].data["passed"] = json!(true));
    assert_eq!(error.to_string(), "record 3 (build.report): data does not match its data_sha256");
}

#[test]
fn changed_fields_under_the_hash_are_refused() {
    let error = tampered(|records| records[4].kind = kind::DEPLOY.to_owned());
    assert_eq!(error.to_string(), "record 4 (deploy): hash does not match its contents");
    let error = tampered(|records| {
        records[2].data = json!({"passed": false});
        records[2].data_sha256 = sha256_hex(&canonical_json(&records[2].data));
    });
    assert_eq!(error.to_string(), "record 2 (policy.verdict): hash does not match its contents");
}

#[test]
fn a_removed_or_reordered_record_is_refused() {
    let error = tampered(|records| {
        records.remove(0);
    });
    assert!(matches!(error, ChainError::Seq { index: 0, found: 1, .. }), "{error}");
    let error = tampered(|records| records.swap(5, 6));
    assert_eq!(error.to_string(), "record 5 (policy.verdict): seq is 6, expected 5");
}

#[test]
fn a_record_rehashed_onto_a_forged_past_does_not_link() {
    let error = tampered(|records| {
        let forged = &mut records[6];
        forged.prev = sha256_hex(b"another history");
        forged.hash = record_hash(&forged.prev, forged.seq, &forged.kind, &forged.at, &forged.data_sha256);
    });
    assert_eq!(
        error.to_string(),
        "record 6 (policy.verdict): prev does not link to the previous record's hash"
    );
}

#[test]
fn a_time_in_another_form_is_refused() {
    for at in
        ["2025-01-31T09:15:00Z", "2025-01-31T10:15:00.000+01:00", "2025-01-31 09:15:00.000Z", "yesterday"]
    {
        let error = tampered(|records| {
            let record = &mut records[0];
            record.at = at.to_owned();
            record.hash =
                record_hash(&record.prev, record.seq, &record.kind, &record.at, &record.data_sha256);
            records[1].prev = records[0].hash.clone();
        });
        assert!(matches!(&error, ChainError::Time { .. }), "{at}: {error}");
    }
}

#[test]
fn records_with_unknown_fields_do_not_parse() {
    let (chain, _) = evidence_fixture::chain();
    let mut value = serde_json::to_value(&chain.records()[0]).unwrap();
    assert!(serde_json::from_value::<Record>(value.clone()).is_ok());
    value["signed_by"] = json!("someone");
    assert!(serde_json::from_value::<Record>(value).is_err());
}

#[test]
fn records_name_the_artifacts_they_produced() {
    let (chain, _) = evidence_fixture::chain();
    let names = |record: &Record| -> Vec<String> {
        record.artifacts().unwrap().into_iter().map(|artifact| artifact.name).collect()
    };
    assert_eq!(names(&chain.records()[1]), ["manifest-1.json"]);
    assert_eq!(names(&chain.records()[5]), ["manifest-2.json", "design-reference.png"]);
    assert!(names(&chain.records()[2]).is_empty());

    let mut malformed = Chain::new();
    let record = malformed.append(kind::MANIFEST, at(0), json!({"artifact": {"name": "m.json"}}));
    assert!(record.artifacts().is_err());
}

#[test]
fn an_artifact_reference_is_the_digest_and_size_of_its_bytes() {
    let artifact = ArtifactRef::for_bytes("build-1.log", "missions/m1/build-1.log", "text/plain", b"abc");
    assert_eq!(artifact.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(artifact.size, 3);
    assert_eq!(serde_json::from_value::<ArtifactRef>(artifact.to_value()).unwrap(), artifact);
}

#[test]
fn kinds_are_the_documented_strings() {
    assert_eq!(
        kind::ALL,
        [
            "consultation.approved",
            "manifest",
            "policy.verdict",
            "build.report",
            "heal",
            "deploy",
            "publish",
            "mission.final",
            "evidence.error"
        ]
    );
}
