//! The installation's secrets, read once at start-up: from one JSON secret in Secrets Manager
//! (named by `GANTRY_SECRET_ARN`), or, for local use, from plain environment variables.
//!
//! The secret's JSON keys, and the variables that stand in for them:
//!
//! | key | variable | what |
//! |---|---|---|
//! | `password_hash` | `GANTRY_PASSWORD_HASH` | argon2id PHC string of the owner's password |
//! | `token_key` | `GANTRY_TOKEN_KEY` | session-token signing key: at least 32 bytes of text, used as is |
//! | `github_token` | `GITHUB_TOKEN` | GitHub token for publishing (optional) |
//! | `vercel_token` | `VERCEL_TOKEN` | Vercel token for deploying (optional) |
//!
//! With a secret, a key it lacks falls back to its variable, so a laptop can add a local
//! token to a deployed secret without editing it.

use std::collections::HashMap;
use std::fmt;

use crate::error::port_error;
use gantry_ports::PortError;

/// The variable naming the JSON secret.
pub const SECRET_ARN_VAR: &str = "GANTRY_SECRET_ARN";
/// Shorter signing keys are refused: HMAC-SHA256 wants 32 bytes of key.
pub const MIN_TOKEN_KEY_BYTES: usize = 32;

const FIELDS: [(&str, &str); 4] = [
    ("password_hash", "GANTRY_PASSWORD_HASH"),
    ("token_key", "GANTRY_TOKEN_KEY"),
    ("github_token", "GITHUB_TOKEN"),
    ("vercel_token", "VERCEL_TOKEN"),
];

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read the secret {arn}: {source}")]
    Read { arn: String, source: PortError },
    #[error("the secret {arn} holds no SecretString")]
    NotText { arn: String },
    #[error("the secret {arn} is not a JSON object of strings: {message}")]
    NotJson { arn: String, message: String },
    #[error("{what} is missing: set `{key}` in the secret named by {SECRET_ARN_VAR}, or {var}")]
    Missing { what: &'static str, key: &'static str, var: &'static str },
    #[error("{0}")]
    Invalid(String),
}

/// The secrets. `Debug` never shows a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub password_hash: Option<String>,
    pub token_key: Option<Vec<u8>>,
    pub github_token: Option<String>,
    pub vercel_token: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: bool| if v { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("password_hash", &shown(self.password_hash.is_some()))
            .field("token_key", &shown(self.token_key.is_some()))
            .field("github_token", &shown(self.github_token.is_some()))
            .field("vercel_token", &shown(self.vercel_token.is_some()))
            .finish()
    }
}

impl Secrets {
    /// Builds the secrets from the secret's JSON (if any) and a variable lookup, in that order.
    pub fn from_sources(
        secret: Option<&HashMap<String, String>>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretsError> {
        let value = |key: &str, var: &str| {
            secret.and_then(|s| s.get(key).cloned()).or_else(|| lookup(var)).filter(|v| !v.trim().is_empty())
        };
        let [(pk, pv), (tk, tv), (gk, gv), (vk, vv)] = FIELDS;
        let secrets = Secrets {
            password_hash: value(pk, pv),
            token_key: value(tk, tv).map(String::into_bytes),
            github_token: value(gk, gv),
            vercel_token: value(vk, vv),
        };
        if let Some(hash) = &secrets.password_hash {
            if !hash.starts_with("$argon2id$") {
                return Err(SecretsError::Invalid(
                    "the password hash must be an argon2id PHC string (see `gantry hash-password`)".into(),
                ));
            }
        }
        if let Some(key) = &secrets.token_key {
            if key.len() < MIN_TOKEN_KEY_BYTES {
                return Err(SecretsError::Invalid(format!(
                    "the token-signing key must be at least {MIN_TOKEN_KEY_BYTES} bytes long"
                )));
            }
        }
        Ok(secrets)
    }

    /// Reads the JSON secret `arn` (when given) once, then fills gaps from the environment.
    pub async fn load(
        client: Option<&aws_sdk_secretsmanager::Client>,
        arn: Option<&str>,
    ) -> Result<Self, SecretsError> {
        let secret = match (client, arn) {
            (Some(client), Some(arn)) => Some(read_secret(client, arn).await?),
            _ => None,
        };
        Self::from_sources(secret.as_ref(), |var| std::env::var(var).ok())
    }

    pub fn require_password_hash(&self) -> Result<&str, SecretsError> {
        self.password_hash.as_deref().ok_or(SecretsError::Missing {
            what: "the password hash",
            key: FIELDS[0].0,
            var: FIELDS[0].1,
        })
    }

    pub fn require_token_key(&self) -> Result<&[u8], SecretsError> {
        self.token_key.as_deref().ok_or(SecretsError::Missing {
            what: "the token-signing key",
            key: FIELDS[1].0,
            var: FIELDS[1].1,
        })
    }
}

async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<HashMap<String, String>, SecretsError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretsError::Read { arn: arn.into(), source: port_error("Secrets Manager", e) })?;
    let text = output.secret_string().ok_or_else(|| SecretsError::NotText { arn: arn.into() })?;
    serde_json::from_str(text).map_err(|e| SecretsError::NotJson { arn: arn.into(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_secret_wins_and_variables_fill_its_gaps() {
        let secret: HashMap<String, String> = [("password_hash", HASH), ("token_key", KEY)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = env(&[("GANTRY_PASSWORD_HASH", "$argon2id$other"), ("GITHUB_TOKEN", "ghp_local")]);
        let secrets = Secrets::from_sources(Some(&secret), lookup).expect("valid secrets");
        assert_eq!(secrets.password_hash.as_deref(), Some(HASH));
        assert_eq!(secrets.token_key.as_deref(), Some(KEY.as_bytes()));
        assert_eq!(secrets.github_token.as_deref(), Some("ghp_local"));
        assert_eq!(secrets.vercel_token, None);
    }

    #[test]
    fn short_keys_and_foreign_hashes_are_refused() {
        let short = Secrets::from_sources(None, env(&[("GANTRY_TOKEN_KEY", "short")]));
        assert!(matches!(short, Err(SecretsError::Invalid(_))), "{short:?}");
        let bcrypt = Secrets::from_sources(None, env(&[("GANTRY_PASSWORD_HASH", "$2b$12$abc")]));
        assert!(matches!(bcrypt, Err(SecretsError::Invalid(_))), "{bcrypt:?}");
    }

    #[test]
    fn missing_required_values_name_the_key_and_the_variable() {
        let secrets = Secrets::from_sources(None, env(&[])).unwrap_or_default();
        let message = secrets.require_token_key().map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("the token-signing key is missing: set `token_key` in the secret named by GANTRY_SECRET_ARN, or GANTRY_TOKEN_KEY".into())
        );
    }

    #[test]
    fn debug_shows_no_value() {
        let secrets =
            Secrets::from_sources(None, env(&[("GITHUB_TOKEN", "ghp_secret_value")])).unwrap_or_default();
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("ghp_secret_value"), "{shown}");
        assert!(shown.contains("github_token: \"<set>\""), "{shown}");
    }
}
