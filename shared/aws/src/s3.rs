//! The S3 object store, for the artifact bucket and (with [`S3ObjectStore::with_object_lock`]) the
//! evidence bucket.
//!
//! Design images reach the artifact bucket from the browser through a presigned PUT whose
//! signature covers the key, Content-Type and Content-Length, so S3 refuses any other upload.
//! S3 cannot look inside the bytes: the API reads every uploaded image back through
//! [`ObjectStore::get`] and checks its magic bytes and size before a mission may use it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime as S3DateTime};
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode};
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use gantry_ports::{ObjectMeta, ObjectStore, PortError, PortResult, PresignedPut};

use crate::error::port_error;

const SERVICE: &str = "s3";

/// Presigned URLs signed with an IAM role's session credentials die with the session, so a
/// longer lifetime than S3's own maximum (7 days) is refused rather than silently shortened.
const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone, Debug)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
    /// COMPLIANCE retention for every object put (the evidence bucket).
    retention: Option<Duration>,
}

/// Object keys are slash-separated names of safe characters, as in the local store, so that a
/// key that works in one shape works in the other.
fn presigning(expires_in: Duration) -> PortResult<PresigningConfig> {
    if expires_in > MAX_PRESIGN {
        return Err(PortError::Invalid("a presigned URL lives at most 7 days".into()));
    }
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| PortError::Invalid(format!("presigned URL lifetime: {e}")))
}

fn check_key(key: &str) -> PortResult<()> {
    let safe_chars = key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    let normal = key.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if key.is_empty() || key.len() > 512 || !safe_chars || !normal {
        return Err(PortError::Invalid(format!("bad object key {key:?}")));
    }
    Ok(())
}

fn to_chrono(at: &S3DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.secs(), at.subsec_nanos()).unwrap_or_default()
}

impl S3ObjectStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), retention: None }
    }

    /// Every put carries Object Lock COMPLIANCE retention until `now + retention` and a SHA-256
    /// checksum S3 verifies on arrival. The bucket must have Object Lock enabled.
    pub fn with_object_lock(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> PortResult<()> {
        check_key(key)?;
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()));
        if let Some(retention) = self.retention {
            let until = Utc::now() + chrono::Duration::seconds(retention.as_secs() as i64);
            request = request
                .object_lock_mode(ObjectLockMode::Compliance)
                .object_lock_retain_until_date(S3DateTime::from_secs(until.timestamp()))
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(STANDARD.encode(Sha256::digest(bytes)));
        }
        request.send().await.map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        check_key(key)?;
        let result = self.client.get_object().bucket(&self.bucket).key(key).send().await;
        let output = match result {
            Ok(output) => output,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(port_error(SERVICE, e)),
        };
        let body = output.body.collect().await.map_err(|e| PortError::Unavailable {
            service: SERVICE,
            message: format!("reading {key}: {e}"),
        })?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    /// Deletes the current version. In a versioned, locked bucket this only adds a delete
    /// marker: the locked versions stay until their retention ends.
    async fn delete(&self, key: &str) -> PortResult<()> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> PortResult<Vec<ObjectMeta>> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let output = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            for object in output.contents() {
                let Some(key) = object.key() else { continue };
                found.push(ObjectMeta {
                    key: key.to_owned(),
                    size: object.size().unwrap_or_default().max(0) as u64,
                    modified: object.last_modified().map(to_chrono).unwrap_or_default(),
                });
            }
            token = output.next_continuation_token;
            if token.is_none() {
                found.sort_by(|a, b| a.key.cmp(&b.key));
                return Ok(found);
            }
        }
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedPut> {
        check_key(key)?;
        let config = presigning(expires_in)?;
        let length = i64::try_from(content_length)
            .map_err(|_| PortError::Invalid("content length is too large".into()))?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let headers: Vec<(String, String)> =
            presigned.headers().map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned())).collect();
        let signed = |name: &str| headers.iter().any(|(n, _)| n == name);
        if !signed("content-type") || !signed("content-length") {
            return Err(PortError::Failed(
                "the presigned PUT does not bind Content-Type and Content-Length".into(),
            ));
        }
        Ok(PresignedPut {
            url: presigned.uri().to_owned(),
            headers,
            expires_at: Utc::now() + chrono::Duration::seconds(expires_in.as_secs() as i64),
        })
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> PortResult<String> {
        check_key(key)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(presigned.uri().to_owned())
    }

    async fn presign_put_output(
        &self,
        key: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> PortResult<String> {
        check_key(key)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(presigned.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_like_the_local_store() {
        for good in ["uploads/ab/x.png", "evidence/m/pack.json", "a-b_c.d"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "/etc/passwd", "a/../../x", "a b", "a/", "a//b", "./a"] {
            assert!(matches!(check_key(bad), Err(PortError::Invalid(_))), "{bad}");
        }
    }
}
