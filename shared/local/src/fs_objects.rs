//! The filesystem object store: one file per key under `<data dir>/objects`.
//!
//! Presigned uploads are imitated faithfully: the URL carries an expiry and an HMAC over the key,
//! content type, length and expiry, so the server's upload route can refuse anything else.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use gantry_ports::{ObjectMeta, ObjectStore, PortError, PortResult, PresignedPut};

#[derive(Clone)]
pub struct FsObjectStore {
    root: PathBuf,
    /// Where clients reach this server, e.g. `http://127.0.0.1:8080`.
    public_base: String,
    signing_key: Vec<u8>,
}

fn io_error(e: std::io::Error) -> PortError {
    PortError::Unavailable { service: "filesystem", message: e.to_string() }
}

/// Object keys are relative slash-separated paths of safe characters; nothing can escape the root.
pub fn check_key(key: &str) -> PortResult<()> {
    let safe_chars = key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    let path = Path::new(key);
    let normal = path.components().all(|c| matches!(c, Component::Normal(_)));
    if key.is_empty() || key.len() > 512 || !safe_chars || !normal || key.ends_with('/') {
        return Err(PortError::Invalid(format!("bad object key {key:?}")));
    }
    Ok(())
}

impl FsObjectStore {
    pub fn new(root: PathBuf, public_base: impl Into<String>, signing_key: Vec<u8>) -> Self {
        Self { root, public_base: public_base.into(), signing_key }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PortResult<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn upload_signature(&self, key: &str, content_type: &str, content_length: u64, expires: i64) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.signing_key) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        };
        mac.update(format!("PUT\n{key}\n{content_type}\n{content_length}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks an upload that arrived at this server against the URL it was presigned with.
    pub fn verify_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> PortResult<()> {
        check_key(key)?;
        if now.timestamp() > expires {
            return Err(PortError::Invalid("the upload URL has expired".into()));
        }
        let expected = self.upload_signature(key, content_type, content_length, expires);
        let matches: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into();
        if !matches {
            return Err(PortError::Invalid(
                "the upload does not match its URL (key, content type, length or signature)".into(),
            ));
        }
        Ok(())
    }
}

/// HMAC accepts keys of any length, so construction cannot fail.
fn unreachable_hmac() -> ! {
    unreachable!("HMAC-SHA256 accepts keys of any length")
}

#[async_trait]
impl ObjectStore for FsObjectStore {
    async fn put(&self, key: &str, bytes: &[u8], _content_type: &str) -> PortResult<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
        }
        // Write beside and rename, so a crash never leaves a half-written object under its key.
        let tmp = path.with_extension(format!("tmp-{}", uuid_like()));
        tokio::fs::write(&tmp, bytes).await.map_err(io_error)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io_error)
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn delete(&self, key: &str) -> PortResult<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn list(&self, prefix: &str) -> PortResult<Vec<ObjectMeta>> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            walk(&root, &root, &mut found).map_err(io_error)?;
            found.retain(|meta| meta.key.starts_with(&prefix));
            found.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(found)
        })
        .await
        .map_err(|e| PortError::Failed(e.to_string()))?
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedPut> {
        check_key(key)?;
        let expires_at = Utc::now() + chrono::Duration::seconds(expires_in.as_secs() as i64);
        let expires = expires_at.timestamp();
        let signature = self.upload_signature(key, content_type, content_length, expires);
        Ok(PresignedPut {
            url: format!(
                "{}/gantry/uploads/{key}?expires={expires}&signature={signature}",
                self.public_base.trim_end_matches('/')
            ),
            headers: vec![
                ("content-type".to_owned(), content_type.to_owned()),
                ("content-length".to_owned(), content_length.to_string()),
            ],
            expires_at,
        })
    }

    fn verify_presigned_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        query: &str,
    ) -> PortResult<()> {
        let mut expires = None;
        let mut signature = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = v.parse::<i64>().ok(),
                Some(("signature", v)) => signature = Some(v),
                _ => {}
            }
        }
        match (expires, signature) {
            (Some(expires), Some(signature)) => {
                self.verify_upload(key, content_type, content_length, expires, signature, Utc::now())
            }
            _ => Err(PortError::Invalid("the upload URL is missing its expiry or signature".into())),
        }
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<ObjectMeta>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        let path = entry.path();
        if meta.is_dir() {
            walk(root, &path, found)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let key = rel.to_string_lossy().replace('\\', "/");
            if key.contains(".tmp-") {
                continue;
            }
            let modified = meta.modified().map(DateTime::<Utc>::from).unwrap_or_else(|_| Utc::now());
            found.push(ObjectMeta { key, size: meta.len(), modified });
        }
    }
    Ok(())
}

fn uuid_like() -> String {
    use rand::Rng;
    hex::encode(rand::thread_rng().gen::<[u8; 8]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> FsObjectStore {
        FsObjectStore::new(dir.to_path_buf(), "http://127.0.0.1:9", b"k".to_vec())
    }

    #[tokio::test]
    async fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.put("a/b.txt", b"hello", "text/plain").await.unwrap();
        assert_eq!(s.get("a/b.txt").await.unwrap().as_deref(), Some(&b"hello"[..]));
        assert_eq!(s.list("a/").await.unwrap().len(), 1);
        s.delete("a/b.txt").await.unwrap();
        assert_eq!(s.get("a/b.txt").await.unwrap(), None);
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        for key in ["../x", "/etc/passwd", "a/../../x", "", "a b", "a/"] {
            assert!(matches!(s.put(key, b"x", "t").await, Err(PortError::Invalid(_))), "{key}");
        }
    }

    #[tokio::test]
    async fn presigned_uploads_bind_type_length_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let p = s.presign_put("uploads/x.png", "image/png", 10, Duration::from_secs(60)).await.unwrap();
        let query = p.url.split_once('?').unwrap().1;
        let params: std::collections::HashMap<_, _> =
            query.split('&').filter_map(|kv| kv.split_once('=')).collect();
        let expires: i64 = params["expires"].parse().unwrap();
        let sig = params["signature"];
        let now = Utc::now();
        assert!(s.verify_upload("uploads/x.png", "image/png", 10, expires, sig, now).is_ok());
        assert!(s.verify_upload("uploads/x.png", "image/gif", 10, expires, sig, now).is_err());
        assert!(s.verify_upload("uploads/x.png", "image/png", 11, expires, sig, now).is_err());
        assert!(s.verify_upload("uploads/y.png", "image/png", 10, expires, sig, now).is_err());
        let later = now + chrono::Duration::seconds(120);
        assert!(s.verify_upload("uploads/x.png", "image/png", 10, expires, sig, later).is_err());
    }
}
