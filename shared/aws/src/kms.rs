//! The AWS evidence signer: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that never
//! leaves KMS.
//!
//! KMS signs with ECDSA_SHA_256 over the RAW message, hashing it with SHA-256 itself, which is
//! exactly what the domain's `ecdsa-p256-sha256` verification checks; the signature is DER.
//! The signature names its key as the domain does for every signer, by a fingerprint of the
//! public key (`key_id_for`), since that is what a verifier can recompute from the pack; the KMS
//! key id or ARN is configuration, available from [`KmsSigner::kms_key_id`].

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use tokio::sync::OnceCell;

use gantry_domain::evidence::{key_id_for, TrustedKey, ALG_ECDSA_P256_SHA256};
use gantry_ports::{EvidenceKey, PortError, PortResult, Signature, Signer};

use crate::error::port_error;

const SERVICE: &str = "kms";

/// KMS signs RAW messages of at most 4096 bytes; evidence signing messages are a few hundred.
const MAX_RAW_MESSAGE: usize = 4096;

#[derive(Debug, Clone)]
struct PublicKey {
    /// base64 of the DER SubjectPublicKeyInfo.
    der_base64: String,
    key_id: String,
}

#[derive(Debug)]
pub struct KmsSigner {
    client: Client,
    kms_key_id: String,
    /// Fetched once: a KMS key's public half never changes.
    public_key: OnceCell<PublicKey>,
}

impl KmsSigner {
    /// `kms_key_id` is a key id, key ARN, alias name or alias ARN.
    pub fn new(client: Client, kms_key_id: impl Into<String>) -> Self {
        Self { client, kms_key_id: kms_key_id.into(), public_key: OnceCell::new() }
    }

    pub fn kms_key_id(&self) -> &str {
        &self.kms_key_id
    }

    async fn public_key(&self) -> PortResult<&PublicKey> {
        self.public_key.get_or_try_init(|| self.fetch_public_key()).await
    }

    async fn fetch_public_key(&self) -> PortResult<PublicKey> {
        let output = self
            .client
            .get_public_key()
            .key_id(&self.kms_key_id)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        // `CustomerMasterKeySpec` is the deprecated name of `KeySpec`; some emulators send only it.
        #[allow(deprecated)]
        let legacy_spec = output.customer_master_key_spec().map(|spec| spec.as_str());
        let spec = output.key_spec().map(KeySpec::as_str).or(legacy_spec);
        if spec != Some(KeySpec::EccNistP256.as_str())
            || !output.signing_algorithms().contains(&SigningAlgorithmSpec::EcdsaSha256)
        {
            return Err(PortError::Failed(format!(
                "KMS key {} is not an ECC_NIST_P256 signing key (spec {spec:?})",
                self.kms_key_id
            )));
        }
        let der = output.public_key().map(Blob::as_ref).ok_or_else(|| {
            PortError::Failed(format!("KMS returned no public key for {}", self.kms_key_id))
        })?;
        Ok(PublicKey { der_base64: STANDARD.encode(der), key_id: key_id_for(ALG_ECDSA_P256_SHA256, der) })
    }
}

#[async_trait]
impl Signer for KmsSigner {
    async fn sign(&self, message: &[u8]) -> PortResult<Signature> {
        if message.len() > MAX_RAW_MESSAGE {
            return Err(PortError::Invalid(format!("KMS signs at most {MAX_RAW_MESSAGE} bytes")));
        }
        let public_key = self.public_key().await?;
        let output = self
            .client
            .sign()
            .key_id(&self.kms_key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let signature =
            output.signature().ok_or_else(|| PortError::Failed("KMS returned no signature".into()))?;
        Ok(Signature {
            alg: ALG_ECDSA_P256_SHA256.to_owned(),
            key_id: public_key.key_id.clone(),
            public_key: public_key.der_base64.clone(),
            signature: STANDARD.encode(signature.as_ref()),
        })
    }
}

#[async_trait]
impl EvidenceKey for KmsSigner {
    /// Fetched with `kms:GetPublicKey` on first use, then cached.
    async fn public_key(&self) -> PortResult<TrustedKey> {
        let key = KmsSigner::public_key(self).await?;
        Ok(TrustedKey { alg: ALG_ECDSA_P256_SHA256.to_owned(), public_key: key.der_base64.clone() })
    }
}
