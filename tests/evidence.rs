//! `gantry verify` and the HTTP evidence view, driven as a person would, against evidence that
//! was tampered with on disk: a genuine pack of another mission, an older run's pack in place of
//! the newest, a deleted newest pack, and a pack rewritten and re-signed with a fresh key. Each is
//! refused by both, with the same first error.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use gantry_domain::evidence::{kind, Chain, Pack, PackSignature};
use gantry_local::signer::Ed25519FileSigner;
use support::{gantry, Server};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A mission blocked by the policy gate (no build runs, so it is quick), sealed once.
fn blocked_mission(dir: &Path) -> String {
    let output =
        gantry(dir, &["build", "a page", "--manifest", &fixture("violating-manifest.json"), "--json"]);
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["status"], "BLOCKED", "{status:#}");
    status["mission_id"].as_str().unwrap().to_owned()
}

fn pack_path(dir: &Path, id: &str, dispatch: u32) -> std::path::PathBuf {
    let name = if dispatch == 0 { "pack.json".to_owned() } else { format!("pack-{dispatch}.json") };
    dir.join("evidence/evidence").join(id).join(name)
}

/// `gantry verify <id>`: (exit code, first line of its verdict).
fn verify(dir: &Path, id: &str) -> (Option<i32>, String) {
    let output = gantry(dir, &["verify", id]);
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), said.lines().next().unwrap_or_default().to_owned())
}

/// The HTTP view's first error, from a server over the same data dir.
async fn view_error(dir: &Path, id: &str) -> String {
    let mut server = Server::start(dir).await;
    let token = server.login().await;
    let (code, body) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
    server.kill();
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["verification"]["valid"], false, "{body:#}");
    body["verification"]["errors"][0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_genuine_pack_of_another_mission_copied_over_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = blocked_mission(dir.path());
    let b = blocked_mission(dir.path());
    assert_eq!(verify(dir.path(), &b).0, Some(0));

    std::fs::copy(pack_path(dir.path(), &a, 0), pack_path(dir.path(), &b, 0)).unwrap();

    let expected = format!("pack is for mission {a}, not {b}");
    assert_eq!(verify(dir.path(), &b), (Some(1), format!("INVALID: {expected}")));
    assert_eq!(view_error(dir.path(), &b).await, expected);

    // On its own the copied pack is intact, and says whose it is.
    let copied = pack_path(dir.path(), &b, 0).to_string_lossy().into_owned();
    let artifacts = dir.path().join("evidence").to_string_lossy().into_owned();
    let alone = gantry(dir.path(), &["verify", "--file", &copied, "--artifacts", &artifacts]);
    let said = String::from_utf8_lossy(&alone.stdout);
    assert!(alone.status.success(), "{said}");
    assert!(said.contains(&format!("pack of mission {a}, dispatch 0")), "{said}");
}

#[tokio::test]
async fn a_retried_missions_older_pack_in_place_of_the_newest_or_none_at_all_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let id = blocked_mission(dir.path());
    {
        let mut server = Server::start(dir.path()).await;
        let token = server.login().await;
        let (code, retried) =
            server.post(&format!("/gantry/missions/{id}/retry"), Some(&token), json!({})).await;
        assert_eq!(code, 202, "{retried:#}");
        let status = server.wait_final(&token, &id, Duration::from_secs(60)).await;
        assert_eq!(status["status"], "BLOCKED", "{status:#}");
        server.kill();
    }
    let newest = pack_path(dir.path(), &id, 1);
    assert!(newest.exists(), "the retry sealed its own pack");
    assert_eq!(verify(dir.path(), &id).0, Some(0));

    std::fs::copy(pack_path(dir.path(), &id, 0), &newest).unwrap();
    let expected = "pack is for dispatch 0 but the mission's latest run is 1";
    assert_eq!(verify(dir.path(), &id), (Some(1), format!("INVALID: {expected}")));
    assert_eq!(view_error(dir.path(), &id).await, expected);

    std::fs::remove_file(&newest).unwrap();
    let expected = "the pack of the mission's latest run (dispatch 1) is missing";
    assert_eq!(verify(dir.path(), &id), (Some(1), format!("INVALID: {expected}")));
    assert_eq!(view_error(dir.path(), &id).await, expected);
}

#[tokio::test]
async fn a_pack_rewritten_and_re_signed_with_a_fresh_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let id = blocked_mission(dir.path());
    let path = pack_path(dir.path(), &id, 0);
    let genuine: Pack = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();

    // The policy verdict now allows the manifest and the mission says it shipped; every record is
    // re-chained and the pack signed by a key the forger made.
    let mut chain = Chain::new();
    for record in &genuine.records {
        let mut data = record.data.clone();
        if record.kind == kind::POLICY_VERDICT {
            data["verdict"] = json!({"allowed": true, "violations": []});
        }
        if record.kind == kind::MISSION_FINAL {
            data["status"] = json!("SUCCESS");
            data["reason"] = Value::Null;
        }
        let at = chrono::DateTime::parse_from_rfc3339(&record.at).unwrap().with_timezone(&chrono::Utc);
        chain.append(record.kind.clone(), at, data);
    }
    let forger_dir = tempfile::tempdir().unwrap();
    let forger = Ed25519FileSigner::open_or_create(forger_dir.path()).unwrap();
    let pack = Pack::seal(genuine.mission_id.clone(), 0, &chain).unwrap();
    let signature = forger.sign_message(&pack.signing_message());
    let forged = pack.with_signature(PackSignature {
        alg: signature.alg,
        key_id: signature.key_id,
        public_key: signature.public_key,
        signature: signature.signature,
    });
    std::fs::write(&path, forged.to_json()).unwrap();

    let (code, said) = verify(dir.path(), &id);
    assert_eq!(code, Some(1));
    let expected = format!("signed by {}, not by this installation's key", forger.key_id());
    assert!(said.starts_with(&format!("INVALID: {expected}")), "{said}");
    assert!(view_error(dir.path(), &id).await.starts_with(&expected));
}
