//! The S3 object store against moto, on buckets made as `infra/template.yaml` declares them.

mod support;

use std::time::Duration;

use aws_sdk_s3::types::{ChecksumMode, ObjectLockMode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use sha2::{Digest, Sha256};

use gantry_aws::S3ObjectStore;
use gantry_ports::{ObjectStore, PortError};
use support::sigv4::presigned_signature_holds;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn artifact_store() -> (S3ObjectStore, aws_sdk_s3::Client) {
    let config = support::moto().sdk_config();
    let bucket = support::unique("artifacts");
    support::create_artifact_bucket(&config, &bucket).await;
    let client = gantry_aws::client::s3_client(&config);
    (S3ObjectStore::new(client.clone(), bucket), client)
}

#[tokio::test]
async fn objects_are_put_read_listed_and_deleted() {
    let (store, _) = artifact_store().await;
    store.put("missions/m1/manifest.json", b"{\"files\":[]}", "application/json").await.unwrap();
    store.put("missions/m1/build.log", b"ok\n", "text/plain").await.unwrap();
    store.put("missions/m2/build.log", b"other", "text/plain").await.unwrap();

    assert_eq!(store.get("missions/m1/build.log").await.unwrap().as_deref(), Some(&b"ok\n"[..]));
    assert_eq!(store.get("missions/m1/missing").await.unwrap(), None);

    let listed = store.list("missions/m1/").await.unwrap();
    let keys: Vec<(&str, u64)> = listed.iter().map(|m| (m.key.as_str(), m.size)).collect();
    assert_eq!(keys, [("missions/m1/build.log", 3), ("missions/m1/manifest.json", 12)]);
    assert!(listed.iter().all(|m| (Utc::now() - m.modified).num_minutes().abs() < 5));
    assert_eq!(store.list("missions/").await.unwrap().len(), 3);
    assert!(store.list("nothing/").await.unwrap().is_empty());

    store.put("missions/m1/build.log", b"replaced", "text/plain").await.unwrap();
    assert_eq!(store.get("missions/m1/build.log").await.unwrap().as_deref(), Some(&b"replaced"[..]));

    store.delete("missions/m1/build.log").await.unwrap();
    assert_eq!(store.get("missions/m1/build.log").await.unwrap(), None);
    store.delete("missions/m1/build.log").await.unwrap();

    for bad in ["../x", "/etc/passwd", "a b", ""] {
        assert!(matches!(store.get(bad).await, Err(PortError::Invalid(_))), "{bad}");
        assert!(matches!(store.put(bad, b"x", "text/plain").await, Err(PortError::Invalid(_))), "{bad}");
    }
}

#[tokio::test]
async fn a_list_spans_more_than_one_page() {
    let (store, _) = artifact_store().await;
    for i in 0..1005 {
        store.put(&format!("many/{i:04}"), b"x", "text/plain").await.unwrap();
    }
    let listed = store.list("many/").await.unwrap();
    assert_eq!(listed.len(), 1005);
    assert_eq!(listed.last().unwrap().key, "many/1004");
}

#[tokio::test]
async fn a_presigned_put_binds_type_and_length_and_round_trips() {
    let (store, _) = artifact_store().await;
    let key = "uploads/0123456789abcdef/design.png";
    let presigned =
        store.presign_put(key, "image/png", PNG.len() as u64, Duration::from_secs(900)).await.unwrap();

    let header = |name: &str| presigned.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(header("content-length"), Some(PNG.len().to_string()));
    let url = reqwest::Url::parse(&presigned.url).unwrap();
    let signed_headers = url.query_pairs().find(|(k, _)| k == "X-Amz-SignedHeaders").unwrap().1.into_owned();
    assert_eq!(signed_headers, "content-length;content-type;host");
    let lifetime = presigned.expires_at - Utc::now();
    assert!(lifetime <= chrono::Duration::seconds(900) && lifetime > chrono::Duration::seconds(890));

    // What S3 checks: the signature holds for exactly the headers the store handed out.
    let sent = |content_type: &str, length: usize| {
        vec![("content-length", length.to_string()), ("content-type", content_type.to_owned())]
    };
    let secret = support::SECRET_KEY;
    assert!(presigned_signature_holds("PUT", &presigned.url, &sent("image/png", PNG.len()), secret));
    assert!(!presigned_signature_holds("PUT", &presigned.url, &sent("image/png", PNG.len() + 1), secret));
    assert!(!presigned_signature_holds("PUT", &presigned.url, &sent("text/html", PNG.len()), secret));
    assert!(!presigned_signature_holds(
        "PUT",
        &presigned.url,
        &[("content-type", "image/png".into())],
        secret
    ));
    assert!(!presigned_signature_holds(
        "PUT",
        &presigned.url,
        &sent("image/png", PNG.len()),
        "another secret"
    ));

    // The browser's PUT, then the API reads the image back through the port to check it.
    let mut request = reqwest::Client::new().put(&presigned.url).body(PNG.to_vec());
    for (name, value) in &presigned.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(store.get(key).await.unwrap().as_deref(), Some(PNG));

    let too_long = store.presign_put(key, "image/png", 1, Duration::from_secs(8 * 24 * 3600)).await;
    assert!(matches!(too_long, Err(PortError::Invalid(_))));
}

#[tokio::test]
async fn the_builder_reads_and_writes_through_presigned_urls_only() {
    let (store, _) = artifact_store().await;
    let secret = support::SECRET_KEY;
    store.put("missions/m1/build-1/job.json", b"{\"job\":1}", "application/json").await.unwrap();

    let job = store.presign_get("missions/m1/build-1/job.json", Duration::from_secs(600)).await.unwrap();
    assert!(presigned_signature_holds("GET", &job, &[], secret));
    assert!(!presigned_signature_holds("GET", &job, &[], "another secret"));
    let fetched = reqwest::get(&job).await.unwrap();
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"{\"job\":1}");

    // Outputs: the content type is bound, the length is free (the log's size is unknown up front).
    let log = store.presign_put_output("missions/m1/build-1/log.txt", "text/plain", Duration::from_secs(600));
    let log = log.await.unwrap();
    let typed = |content_type: &str| vec![("content-type", content_type.to_owned())];
    assert!(presigned_signature_holds("PUT", &log, &typed("text/plain"), secret));
    assert!(!presigned_signature_holds("PUT", &log, &typed("text/html"), secret));
    let sent = reqwest::Client::new()
        .put(&log)
        .header("content-type", "text/plain")
        .body("line 1\nline 2\n")
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.status());
    assert_eq!(
        store.get("missions/m1/build-1/log.txt").await.unwrap().as_deref(),
        Some(&b"line 1\nline 2\n"[..])
    );

    let too_long =
        store.presign_get("missions/m1/build-1/job.json", Duration::from_secs(8 * 24 * 3600)).await;
    assert!(matches!(too_long, Err(PortError::Invalid(_))));
    assert!(matches!(store.presign_get("../x", Duration::from_secs(60)).await, Err(PortError::Invalid(_))));
}

#[tokio::test]
async fn evidence_is_locked_in_compliance_mode_with_a_sha256_checksum() {
    let config = support::moto().sdk_config();
    let bucket = support::unique("evidence");
    support::create_evidence_bucket(&config, &bucket).await;
    let client = gantry_aws::client::s3_client(&config);
    let retention = Duration::from_secs(3 * 24 * 3600);
    let store = S3ObjectStore::new(client.clone(), &bucket).with_object_lock(retention);

    let key = "evidence/m1/pack.json";
    let pack = br#"{"format":"gantry-evidence/1"}"#;
    store.put(key, pack, "application/json").await.unwrap();
    assert_eq!(store.get(key).await.unwrap().as_deref(), Some(&pack[..]));

    let head = client
        .head_object()
        .bucket(&bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    let until = head.object_lock_retain_until_date().unwrap().secs();
    let expected = (Utc::now() + chrono::Duration::seconds(retention.as_secs() as i64)).timestamp();
    assert!((until - expected).abs() < 120, "retained until {until}, expected about {expected}");
    assert_eq!(head.checksum_sha256(), Some(STANDARD.encode(Sha256::digest(pack)).as_str()));

    // Deleting the key only hides it behind a delete marker; deleting the locked version is refused.
    let version = head.version_id().unwrap().to_owned();
    let refused = client.delete_object().bucket(&bucket).key(key).version_id(&version).send().await;
    let error = refused.unwrap_err();
    let error = gantry_aws::error::port_error("s3", error);
    assert!(matches!(&error, PortError::Failed(m) if m.contains("AccessDenied")), "{error:?}");

    store.delete(key).await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), None);
    let kept = client.get_object().bucket(&bucket).key(key).version_id(&version).send().await.unwrap();
    assert_eq!(kept.body.collect().await.unwrap().into_bytes().as_ref(), pack);
}

#[tokio::test]
async fn a_missing_bucket_is_a_failure_not_a_transient_error() {
    let config = support::moto().sdk_config();
    let store = S3ObjectStore::new(gantry_aws::client::s3_client(&config), support::unique("absent"));
    let error = store.put("a/b", b"x", "text/plain").await.unwrap_err();
    assert!(matches!(error, PortError::Failed(_)), "{error:?}");
}

#[tokio::test]
async fn the_page_may_connect_to_exactly_the_origin_presigned_puts_go_to() {
    let presigned_origin = |url: &str| {
        let url = reqwest::Url::parse(url).unwrap();
        url.origin().ascii_serialization()
    };
    // Behind an emulator: path-style, on the endpoint's origin.
    let (store, _) = artifact_store().await;
    let put = store.presign_put("uploads/0123456789abcdef/a.png", "image/png", 3, Duration::from_secs(60));
    let put = put.await.unwrap();
    let origin = gantry_aws::client::s3_bucket_origin(&support::moto().sdk_config(), "ignored");
    assert_eq!(origin, Some(presigned_origin(&put.url)));

    // Against AWS: the bucket's virtual host in its region (presigning needs no network).
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        ))
        .build();
    let store = S3ObjectStore::new(gantry_aws::client::s3_client(&aws), "gantry-artifacts");
    let put = store.presign_put("uploads/0123456789abcdef/a.png", "image/png", 3, Duration::from_secs(60));
    let put = put.await.unwrap();
    let origin = gantry_aws::client::s3_bucket_origin(&aws, "gantry-artifacts");
    assert_eq!(origin.as_deref(), Some("https://gantry-artifacts.s3.eu-west-1.amazonaws.com"));
    assert_eq!(origin, Some(presigned_origin(&put.url)));
}
