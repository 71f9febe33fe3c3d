//! Authentication: the owner's argon2id password, HMAC-signed expiring session tokens (also set as
//! an HttpOnly cookie), and long-lived API tokens stored only as their SHA-256.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use gantry_domain::Subject;

use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE_NAME: &str = "gantry_session";
/// The subject of the password login: Gantry has one owner per installation.
pub const OWNER: &str = "owner";
/// Prefix of long-lived API tokens, so they are recognisable (and scannable as secrets).
pub const API_TOKEN_PREFIX: &str = "gty_";

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A random password for a first start without one configured.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new long-lived API token and the SHA-256 under which it is stored.
pub fn generate_api_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{API_TOKEN_PREFIX}{}", hex::encode(bytes));
    let digest = sha256_hex(&token);
    (token, digest)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    mac.update(b"gantry-session-v1.");
    mac.update(payload.as_bytes());
    mac
}

/// Issues a session token for `subject`, valid for `ttl`.
pub fn issue_session(
    key: &[u8],
    subject: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> (String, DateTime<Utc>) {
    let expires_at = now + chrono::Duration::seconds(ttl.as_secs() as i64);
    let claims = Claims { sub: subject.to_owned(), exp: expires_at.timestamp() };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &payload).finalize().into_bytes());
    (format!("v1.{payload}.{signature}"), expires_at)
}

/// The subject of a valid, unexpired session token.
pub fn verify_session(key: &[u8], token: &str, now: DateTime<Utc>) -> Option<String> {
    let rest = token.strip_prefix("v1.")?;
    let (payload, signature) = rest.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(key, payload).verify_slice(&signature).ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp > now.timestamp()).then_some(claims.sub)
}

/// The authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: Subject,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).or_else(|| cookie(parts)).ok_or(ApiError::Unauthorized)?;
        if token.starts_with(API_TOKEN_PREFIX) {
            let stored = state.tokens.find_token(&sha256_hex(token)).await?;
            return match stored {
                Some(t) if t.revoked_at.is_none() => Ok(Caller { subject: Subject::new(t.subject) }),
                _ => Err(ApiError::Unauthorized),
            };
        }
        verify_session(&state.config.token_key, token, Utc::now())
            .map(|sub| Caller { subject: Subject::new(sub) })
            .ok_or(ApiError::Unauthorized)
    }
}

/// The client's address, for per-client limits. The entry point inserts it as a request
/// extension (from the socket locally, from the API Gateway request context in Lambda).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientIp>().cloned().unwrap_or_else(|| ClientIp("unknown".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_verify_until_they_expire() {
        let now = Utc::now();
        let (token, _) = issue_session(b"key", "owner", now, Duration::from_secs(60));
        assert_eq!(verify_session(b"key", &token, now).as_deref(), Some("owner"));
        assert_eq!(verify_session(b"other key", &token, now), None);
        assert_eq!(verify_session(b"key", &token, now + chrono::Duration::seconds(61)), None);
    }

    #[test]
    fn a_tampered_session_is_refused() {
        let now = Utc::now();
        let (token, _) = issue_session(b"key", "owner", now, Duration::from_secs(60));
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":99999999999}"#);
        let signature = token.rsplit('.').next().unwrap();
        assert_eq!(verify_session(b"key", &format!("v1.{forged_claims}.{signature}"), now), None);
        assert_eq!(verify_session(b"key", "v1.garbage", now), None);
        assert_eq!(verify_session(b"key", "", now), None);
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn api_tokens_are_prefixed_and_stored_as_hashes() {
        let (token, digest) = generate_api_token();
        assert!(token.starts_with(API_TOKEN_PREFIX));
        assert_eq!(digest, sha256_hex(&token));
        assert_ne!(generate_api_token().0, token);
    }
}
