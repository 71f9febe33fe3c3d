//! The KMS signer against moto: its signatures seal packs the domain's verifier accepts.

mod support;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use serde_json::json;

use gantry_aws::KmsSigner;
use gantry_domain::evidence::{key_id_for, kind, verify, Chain, Pack, PackSignature};
use gantry_domain::MissionId;
use gantry_ports::{PortError, Signature, Signer};

async fn p256_key(client: &aws_sdk_kms::Client) -> String {
    let created = client
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description("gantry evidence test key")
        .send()
        .await
        .unwrap();
    created.key_metadata().unwrap().arn().unwrap().to_owned()
}

fn sealed_pack() -> Pack {
    let mut chain = Chain::new();
    let at = Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 0).unwrap();
    chain.append(kind::MANIFEST, at, json!({"attempt": 1}));
    chain.append(kind::MISSION_FINAL, at, json!({"status": "SUCCESS"}));
    Pack::seal(MissionId::generate(), 0, &chain).unwrap()
}

fn signed(pack: Pack, signature: Signature) -> Pack {
    pack.with_signature(PackSignature {
        alg: signature.alg,
        key_id: signature.key_id,
        public_key: signature.public_key,
        signature: signature.signature,
    })
}

#[tokio::test]
async fn a_kms_signature_seals_a_pack_the_domain_verifies() {
    let client = aws_sdk_kms::Client::new(&support::moto().sdk_config());
    let arn = p256_key(&client).await;
    let signer = KmsSigner::new(client.clone(), &arn);

    let pack = sealed_pack();
    let signature = signer.sign(&pack.signing_message()).await.unwrap();
    assert_eq!(signature.alg, "ecdsa-p256-sha256");
    let der = STANDARD.decode(&signature.public_key).unwrap();
    assert_eq!(signature.key_id, key_id_for("ecdsa-p256-sha256", &der));
    assert_eq!(signer.kms_key_id(), arn);

    let verification = verify(&signed(pack.clone(), signature.clone()), &|_| None);
    assert!(verification.valid, "{:?}", verification.errors);

    // What the API trusts is the same key, and the pack verifies as its mission's evidence with it.
    let trusted = gantry_ports::EvidenceKey::public_key(&signer).await.unwrap();
    assert_eq!((trusted.alg.as_str(), trusted.key_id()), ("ecdsa-p256-sha256", signature.key_id.clone()));
    let mission = pack.mission_id.clone();
    let expected = gantry_domain::evidence::Expected { mission_id: &mission, dispatch: 0, key: &trusted };
    let bytes = signed(pack, signature.clone()).to_json();
    let verification = gantry_domain::evidence::verify_mission(Some(&bytes), &expected, &|_| None);
    assert!(verification.valid, "{:?}", verification.errors);

    // The public key is KMS's own, in the SPKI form p256 reads.
    let kms_der = client.get_public_key().key_id(&arn).send().await.unwrap().public_key().unwrap().clone();
    assert_eq!(der, kms_der.into_inner());
    use p256::pkcs8::DecodePublicKey as _;
    assert!(p256::PublicKey::from_public_key_der(&der).is_ok());
}

#[tokio::test]
async fn every_signature_verifies_under_the_same_key() {
    let client = aws_sdk_kms::Client::new(&support::moto().sdk_config());
    let arn = p256_key(&client).await;
    let signer = KmsSigner::new(client.clone(), &arn);
    let first = signer.sign(b"warm up").await.unwrap();

    // ECDSA signatures are randomised (and may carry a high S); each one must verify.
    for _ in 0..8 {
        let pack = sealed_pack();
        let signature = signer.sign(&pack.signing_message()).await.unwrap();
        assert_eq!(signature.public_key, first.public_key);
        let verification = verify(&signed(pack, signature), &|_| None);
        assert!(verification.valid, "{:?}", verification.errors);
    }

    let too_long = vec![b'x'; 4097];
    assert!(matches!(signer.sign(&too_long).await, Err(PortError::Invalid(_))));
}

#[tokio::test]
async fn a_tampered_pack_or_signature_is_invalid() {
    let client = aws_sdk_kms::Client::new(&support::moto().sdk_config());
    let signer = KmsSigner::new(client.clone(), p256_key(&client).await);

    let other = sealed_pack();
    let signature = signer.sign(&other.signing_message()).await.unwrap();
    let verification = verify(&signed(sealed_pack(), signature.clone()), &|_| None);
    assert_eq!(verification.errors, ["signature does not verify with the pack's public key"]);

    let mut bytes = STANDARD.decode(&signature.signature).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let flipped = Signature { signature: STANDARD.encode(&bytes), ..signature };
    let verification = verify(&signed(other, flipped), &|_| None);
    assert!(!verification.valid);
}

#[tokio::test]
async fn a_key_that_is_not_p256_is_refused() {
    let client = aws_sdk_kms::Client::new(&support::moto().sdk_config());
    let rsa = client
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let signer = KmsSigner::new(client, rsa.key_metadata().unwrap().key_id());
    let error = signer.sign(b"message").await.unwrap_err();
    assert!(matches!(&error, PortError::Failed(m) if m.contains("ECC_NIST_P256")), "{error:?}");
}

#[tokio::test]
async fn an_unknown_key_is_a_failure_not_a_transient_error() {
    let client = aws_sdk_kms::Client::new(&support::moto().sdk_config());
    let signer = KmsSigner::new(client, "00000000-0000-0000-0000-000000000000");
    let error = signer.sign(b"message").await.unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
}
