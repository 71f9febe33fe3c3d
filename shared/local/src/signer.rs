//! The local evidence signer: an Ed25519 key kept in the data dir.
//!
//! The key is made on first use and then reused, so every pack sealed by one installation names
//! the same key id. It is written once, atomically and readable by its owner only; a key file
//! other users can read is refused rather than trusted.

use std::fmt;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{Signer as _, SigningKey};
use gantry_domain::evidence::{key_id_for, TrustedKey, ALG_ED25519};
use gantry_ports::{EvidenceKey, PortResult, Signature, Signer};
use rand::rngs::OsRng;
use rand::RngCore as _;

/// Where the key lives, relative to the data dir.
pub const KEY_FILE: &str = "keys/evidence-ed25519.pem";

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not an Ed25519 PKCS#8 PEM private key", path.display())]
    Malformed { path: PathBuf },
    #[error("{} is accessible to other users (mode {mode:o}); make it 0600 or remove it", path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("cannot encode the Ed25519 key: {0}")]
    Encode(String),
}

/// Signs evidence heads with the data dir's Ed25519 key.
pub struct Ed25519FileSigner {
    key: SigningKey,
    key_id: String,
    /// base64 of the DER SubjectPublicKeyInfo, as the `Signature` port carries it.
    public_key: String,
}

impl fmt::Debug for Ed25519FileSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519FileSigner").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Ed25519FileSigner {
    /// Loads `<data_dir>/keys/evidence-ed25519.pem`, creating it (and `keys/`, mode 0700) first if
    /// there is none. Two processes racing to create it end up with the same key.
    pub fn open_or_create(data_dir: &Path) -> Result<Self, SignerError> {
        let path = data_dir.join(KEY_FILE);
        if let Some(key) = load(&path)? {
            return Self::from_key(key);
        }
        let keys_dir = data_dir.join("keys");
        fs::create_dir_all(data_dir).map_err(io_error("create", data_dir))?;
        match DirBuilder::new().mode(0o700).create(&keys_dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                return Err(io_error("create", &keys_dir)(e))
            }
            _ => {}
        }
        let key = SigningKey::generate(&mut OsRng);
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| SignerError::Encode(e.to_string()))?;
        if !publish_new_file(&keys_dir, &path, pem.as_bytes())? {
            let existing = load(&path)?.ok_or_else(|| SignerError::Malformed { path: path.clone() })?;
            return Self::from_key(existing);
        }
        Self::from_key(key)
    }

    fn from_key(key: SigningKey) -> Result<Self, SignerError> {
        let der = key.verifying_key().to_public_key_der().map_err(|e| SignerError::Encode(e.to_string()))?;
        Ok(Self {
            key_id: key_id_for(ALG_ED25519, der.as_bytes()),
            public_key: STANDARD.encode(der.as_bytes()),
            key,
        })
    }

    /// `ed25519:` and the first 16 hex digits of sha256 of the public key's DER.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// base64 of the public key's DER SubjectPublicKeyInfo.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The signature of `message`, without the async port around it.
    pub fn sign_message(&self, message: &[u8]) -> Signature {
        Signature {
            alg: ALG_ED25519.to_owned(),
            key_id: self.key_id.clone(),
            public_key: self.public_key.clone(),
            signature: STANDARD.encode(self.key.sign(message).to_bytes()),
        }
    }
}

#[async_trait]
impl Signer for Ed25519FileSigner {
    async fn sign(&self, message: &[u8]) -> PortResult<Signature> {
        Ok(self.sign_message(message))
    }
}

#[async_trait]
impl EvidenceKey for Ed25519FileSigner {
    async fn public_key(&self) -> PortResult<TrustedKey> {
        Ok(TrustedKey { alg: ALG_ED25519.to_owned(), public_key: self.public_key.clone() })
    }
}

/// The key at `path`, or `None` when there is no file.
fn load(path: &Path) -> Result<Option<SigningKey>, SignerError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path)(e)),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SignerError::Exposed { path: path.to_owned(), mode });
    }
    let pem = fs::read_to_string(path).map_err(io_error("read", path))?;
    SigningKey::from_pkcs8_pem(&pem).map(Some).map_err(|_| SignerError::Malformed { path: path.to_owned() })
}

/// Writes `bytes` to a private temporary file and links it into place, so `path` never exists
/// half-written. Returns false when another process linked its own file there first.
fn publish_new_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<bool, SignerError> {
    let temporary =
        dir.join(format!(".evidence-ed25519.{}.{:016x}.tmp", std::process::id(), OsRng.next_u64()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .map_err(io_error("write", &temporary));
    let linked = written.and_then(|()| match fs::hard_link(&temporary, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error("create", path)(e)),
    });
    let removed = fs::remove_file(&temporary);
    let linked = linked?;
    removed.map_err(io_error("remove", &temporary))?;
    Ok(linked)
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SignerError + 'a {
    move |source| SignerError::Io { action, path: path.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use gantry_domain::evidence::{kind, verify, Chain, Pack, PackSignature};
    use gantry_domain::MissionId;
    use serde_json::json;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn pack_signature(signature: Signature) -> PackSignature {
        PackSignature {
            alg: signature.alg,
            key_id: signature.key_id,
            public_key: signature.public_key,
            signature: signature.signature,
        }
    }

    fn sealed_pack() -> Pack {
        let mut chain = Chain::new();
        let at = Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 0).unwrap();
        chain.append(kind::MANIFEST, at, json!({"attempt": 1}));
        chain.append(kind::MISSION_FINAL, at, json!({"status": "SUCCESS"}));
        Pack::seal(MissionId::generate(), 0, &chain).unwrap()
    }

    #[test]
    fn the_key_is_created_private_in_a_private_keys_dir() {
        let dir = tempfile::tempdir().unwrap();
        Ed25519FileSigner::open_or_create(dir.path()).unwrap();

        let path = dir.path().join(KEY_FILE);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("keys")), 0o700);
        assert!(fs::read_to_string(&path).unwrap().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("keys")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temporary file is removed");
    }

    #[test]
    fn reopening_loads_the_same_key_and_another_dir_gets_another() {
        let dir = tempfile::tempdir().unwrap();
        let first = Ed25519FileSigner::open_or_create(dir.path()).unwrap();
        let again = Ed25519FileSigner::open_or_create(dir.path()).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(first.sign_message(b"head"), again.sign_message(b"head"));

        let other = Ed25519FileSigner::open_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert_ne!(other.key_id(), first.key_id());
    }

    #[test]
    fn racing_openers_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| Ed25519FileSigner::open_or_create(dir.path()).unwrap().key_id))
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(fs::read_dir(dir.path().join("keys")).unwrap().count(), 1);
    }

    #[test]
    fn the_key_id_is_a_fingerprint_of_the_public_key() {
        use sha2::{Digest, Sha256};
        let signer = Ed25519FileSigner::open_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let der = STANDARD.decode(signer.public_key()).unwrap();
        let expected = format!("ed25519:{}", &hex::encode(Sha256::digest(&der))[..16]);
        assert_eq!(signer.key_id(), expected);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Ed25519FileSigner::open_or_create(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = Ed25519FileSigner::open_or_create(dir.path()).unwrap_err();
        assert!(matches!(error, SignerError::Exposed { mode: 0o644, .. }), "{error}");
    }

    #[test]
    fn a_file_that_is_not_a_key_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("keys")).unwrap();
        let path = dir.path().join(KEY_FILE);
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap();
        fs::write(&path, "not a key").unwrap();
        let error = Ed25519FileSigner::open_or_create(dir.path()).unwrap_err();
        assert!(matches!(error, SignerError::Malformed { .. }), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a key");
    }

    #[tokio::test]
    async fn its_signature_seals_a_pack_the_domain_verifies() {
        let signer = Ed25519FileSigner::open_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let pack = sealed_pack();
        let signature = signer.sign(&pack.signing_message()).await.unwrap();
        assert_eq!(signature.alg, "ed25519");
        let pack = pack.with_signature(pack_signature(signature));
        let verification = verify(&pack, &|_| None);
        assert!(verification.valid, "{:?}", verification.errors);
    }

    #[tokio::test]
    async fn a_signature_of_another_pack_does_not_verify() {
        let signer = Ed25519FileSigner::open_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let other = sealed_pack();
        let signature = signer.sign(&other.signing_message()).await.unwrap();
        let pack = sealed_pack().with_signature(pack_signature(signature));
        assert_eq!(verify(&pack, &|_| None).errors, ["signature does not verify with the pack's public key"]);
    }
}
