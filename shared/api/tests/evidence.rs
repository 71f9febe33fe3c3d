//! `GET /gantry/missions/{id}/evidence` over the local adapters: the mission's newest pack,
//! verified as `gantry verify` verifies it. A genuine pack of another mission, an older run's
//! pack in place of the newest, a missing newest pack and a pack re-signed by another key are
//! all reported invalid.

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Value};

use common::{app_in, TestApp};
use gantry_domain::evidence::{kind, Chain, Pack, PackSignature};
use gantry_domain::{Mission, MissionId, MissionStatus, Subject};
use gantry_local::signer::Ed25519FileSigner;
use gantry_pipeline::EvidenceLog;
use gantry_ports::{object_keys, MissionStore, Signer};

/// The installation's evidence log: the app's own store, signed with the data dir's key.
fn evidence_log(app: &TestApp, dir: &Path) -> EvidenceLog {
    EvidenceLog {
        objects: app.state.objects.clone(),
        evidence: app.state.evidence.clone(),
        signer: Arc::new(Ed25519FileSigner::open_or_create(dir).unwrap()),
    }
}

/// A finished mission of the owner whose `dispatches` runs each sealed a pack, as the pipeline does.
async fn sealed_mission(app: &TestApp, log: &EvidenceLog, dispatches: u32) -> MissionId {
    let mut mission = Mission::new(Subject::new("owner"), "a todo app", MissionStatus::Failed, Utc::now());
    mission.dispatches = dispatches;
    mission.evidence_url = Some(format!("/gantry/missions/{}/evidence", mission.id));
    app.store.create(&mission, &[]).await.unwrap();
    for dispatch in 0..=dispatches {
        log.append(&mission.id, kind::POLICY_VERDICT, json!({"attempt": 1, "allowed": false})).await.unwrap();
        log.append(&mission.id, kind::MISSION_FINAL, json!({"status": "BLOCKED", "dispatch": dispatch}))
            .await
            .unwrap();
        log.seal(&mission.id, dispatch).await.unwrap();
    }
    mission.id
}

async fn view(app: &TestApp, token: &str, id: &MissionId) -> (StatusCode, Value) {
    let reply = app.call("GET", &format!("/gantry/missions/{id}/evidence"), Some(token), None).await;
    (reply.status, reply.body)
}

fn first_error(body: &Value) -> String {
    assert_eq!(body["verification"]["valid"], false, "{body:#}");
    body["verification"]["errors"][0].as_str().unwrap_or_default().to_owned()
}

async fn stored(app: &TestApp, key: &str) -> Vec<u8> {
    app.state.evidence.get(key).await.unwrap().expect("a stored pack")
}

#[tokio::test]
async fn the_newest_genuine_pack_of_the_mission_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let log = evidence_log(&app, dir.path());
    let id = sealed_mission(&app, &log, 1).await;

    let (status, body) = view(&app, &token, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["verification"], json!({"valid": true, "errors": []}), "{body:#}");
    assert_eq!((body["mission_id"].as_str(), body["dispatch"].as_u64()), (Some(id.as_str()), Some(1)));
}

#[tokio::test]
async fn a_genuine_pack_of_another_mission_copied_over_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let log = evidence_log(&app, dir.path());
    let a = sealed_mission(&app, &log, 0).await;
    let b = sealed_mission(&app, &log, 0).await;

    let a_pack = stored(&app, &object_keys::evidence::pack(&a, 0)).await;
    app.state.evidence.put(&object_keys::evidence::pack(&b, 0), &a_pack, "application/json").await.unwrap();

    let (status, body) = view(&app, &token, &b).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first_error(&body), format!("pack is for mission {a}, not {b}"));
}

#[tokio::test]
async fn an_older_run_in_place_of_the_newest_and_a_deleted_newest_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let log = evidence_log(&app, dir.path());
    let id = sealed_mission(&app, &log, 1).await;

    let older = stored(&app, &object_keys::evidence::pack(&id, 0)).await;
    app.state.evidence.put(&object_keys::evidence::pack(&id, 1), &older, "application/json").await.unwrap();
    let (_, body) = view(&app, &token, &id).await;
    assert_eq!(first_error(&body), "pack is for dispatch 0 but the mission's latest run is 1");

    app.state.evidence.delete(&object_keys::evidence::pack(&id, 1)).await.unwrap();
    let (status, body) = view(&app, &token, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first_error(&body), "the pack of the mission's latest run (dispatch 1) is missing");
}

#[tokio::test]
async fn a_pack_re_signed_with_a_fresh_key_after_rewriting_its_verdict_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let log = evidence_log(&app, dir.path());
    let id = sealed_mission(&app, &log, 0).await;
    let key = object_keys::evidence::pack(&id, 0);
    let genuine: Pack = serde_json::from_slice(&stored(&app, &key).await).unwrap();

    // The forger allows the policy verdict, marks the mission deployed, re-chains every record
    // and signs with a key of their own.
    let mut chain = Chain::new();
    for record in &genuine.records {
        let data = match record.kind.as_str() {
            kind::POLICY_VERDICT => json!({"attempt": 1, "allowed": true}),
            kind::MISSION_FINAL => json!({"status": "DEPLOYED", "dispatch": 0}),
            _ => record.data.clone(),
        };
        let at = chrono::DateTime::parse_from_rfc3339(&record.at).unwrap().with_timezone(&Utc);
        chain.append(record.kind.clone(), at, data);
    }
    let forger_dir = tempfile::tempdir().unwrap();
    let forger = Ed25519FileSigner::open_or_create(forger_dir.path()).unwrap();
    let pack = Pack::seal(id.clone(), 0, &chain).unwrap();
    let signature = forger.sign(&pack.signing_message()).await.unwrap();
    let forged = pack.with_signature(PackSignature {
        alg: signature.alg,
        key_id: signature.key_id,
        public_key: signature.public_key,
        signature: signature.signature,
    });
    let alone = gantry_domain::evidence::verify_json(&forged.to_json(), &|_| None);
    assert!(alone.valid, "the forgery is intact on its own: {:?}", alone.errors);
    app.state.evidence.put(&key, &forged.to_json(), "application/json").await.unwrap();

    let (status, body) = view(&app, &token, &id).await;
    assert_eq!(status, StatusCode::OK);
    let said = first_error(&body);
    assert!(
        said.starts_with(&format!("signed by {}, not by this installation's key", forger.key_id())),
        "{said}"
    );
}

#[tokio::test]
async fn a_run_that_has_not_sealed_yet_has_no_evidence_to_show() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let mut mission = Mission::new(Subject::new("owner"), "a blog", MissionStatus::Building, Utc::now());
    mission.dispatches = 1;
    mission.evidence_url = Some(format!("/gantry/missions/{}/evidence", mission.id));
    app.store.create(&mission, &[]).await.unwrap();

    let (status, _) = view(&app, &token, &mission.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
