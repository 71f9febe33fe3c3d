//! Delivery configuration, read once at start-up from a variable lookup (the environment
//! locally; in AWS the tokens come from the delivery secret and the rest from the template).

use std::fmt;
use std::time::Duration;

pub const VERCEL_TOKEN: &str = "VERCEL_TOKEN";
pub const VERCEL_TEAM_ID: &str = "VERCEL_TEAM_ID";
pub const VERCEL_API_URL: &str = "GANTRY_VERCEL_API_URL";
/// `preview` (default) or `production`.
pub const VERCEL_TARGET: &str = "GANTRY_VERCEL_TARGET";
/// How long a deployment may take to become READY (default 300 s).
pub const VERCEL_WAIT_SECS: &str = "GANTRY_VERCEL_WAIT_SECS";
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const GITHUB_OWNER: &str = "GANTRY_GITHUB_OWNER";
pub const GITHUB_API_URL: &str = "GANTRY_GITHUB_API_URL";
/// `false` makes new repositories public (default `true`: private).
pub const GITHUB_PRIVATE: &str = "GANTRY_GITHUB_PRIVATE";
/// `true` opens pull requests as drafts (default `false`).
pub const GITHUB_DRAFT: &str = "GANTRY_GITHUB_DRAFT";

pub const DEFAULT_VERCEL_API_URL: &str = "https://api.vercel.com";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// A token. `Debug` and `Display` never show it; only [`Secret::expose`] does, at the one
/// place it goes into an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VercelTarget {
    #[default]
    Preview,
    Production,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VercelConfig {
    pub token: Secret,
    pub team_id: Option<String>,
    pub api_url: String,
    pub target: VercelTarget,
    /// The longest wait for a deployment to become READY.
    pub wait: Duration,
    pub poll_interval: Duration,
    /// The longest a rate limit is waited out before the step gives up (transiently).
    pub max_rate_limit_wait: Duration,
    /// Attempts per request on 5xx and connection errors.
    pub attempts: u32,
}

impl VercelConfig {
    pub fn new(token: Secret, api_url: impl Into<String>) -> Self {
        Self {
            token,
            team_id: None,
            api_url: api_url.into(),
            target: VercelTarget::Preview,
            wait: Duration::from_secs(300),
            poll_interval: Duration::from_secs(3),
            max_rate_limit_wait: Duration::from_secs(60),
            attempts: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubConfig {
    pub token: Secret,
    /// The user or organisation the repositories belong to.
    pub owner: String,
    pub api_url: String,
    pub private: bool,
    pub draft: bool,
    /// Attempts of a request on 5xx, rate limits and connection errors.
    pub attempts: u32,
    /// The longest a rate limit is waited out before the step gives up (transiently).
    pub max_rate_limit_wait: Duration,
}

impl GitHubConfig {
    pub fn new(token: Secret, owner: impl Into<String>, api_url: impl Into<String>) -> Self {
        Self {
            token,
            owner: owner.into(),
            api_url: api_url.into(),
            private: true,
            draft: false,
            attempts: 3,
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryConfigError {
    #[error("{0} is set but {1} is not: the publisher needs both")]
    Incomplete(&'static str, &'static str),
    #[error("{var} is invalid: {message}")]
    Invalid { var: &'static str, message: String },
}

/// Which real destinations are configured: each is `None` when its token is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryConfig {
    pub vercel: Option<VercelConfig>,
    pub github: Option<GitHubConfig>,
}

impl DeliveryConfig {
    pub fn from_env() -> Result<Self, DeliveryConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads every delivery variable from `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, DeliveryConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let vercel = match get(VERCEL_TOKEN) {
            None => None,
            Some(token) => {
                let mut config = VercelConfig::new(
                    Secret::new(token),
                    get(VERCEL_API_URL).unwrap_or_else(|| DEFAULT_VERCEL_API_URL.into()),
                );
                config.team_id = get(VERCEL_TEAM_ID);
                config.target = match get(VERCEL_TARGET).as_deref() {
                    None | Some("preview") => VercelTarget::Preview,
                    Some("production") => VercelTarget::Production,
                    Some(other) => {
                        return Err(DeliveryConfigError::Invalid {
                            var: VERCEL_TARGET,
                            message: format!("{other:?} is neither preview nor production"),
                        })
                    }
                };
                if let Some(secs) = get(VERCEL_WAIT_SECS) {
                    let secs: u64 = secs.parse().map_err(|_| DeliveryConfigError::Invalid {
                        var: VERCEL_WAIT_SECS,
                        message: format!("{secs:?} is not a whole number"),
                    })?;
                    config.wait = Duration::from_secs(secs);
                }
                Some(config)
            }
        };
        let github = match (get(GITHUB_TOKEN), get(GITHUB_OWNER)) {
            (None, _) => None,
            (Some(_), None) => return Err(DeliveryConfigError::Incomplete(GITHUB_TOKEN, GITHUB_OWNER)),
            (Some(token), Some(owner)) => {
                let mut config = GitHubConfig::new(
                    Secret::new(token),
                    owner,
                    get(GITHUB_API_URL).unwrap_or_else(|| DEFAULT_GITHUB_API_URL.into()),
                );
                config.private = flag(get(GITHUB_PRIVATE), GITHUB_PRIVATE, true)?;
                config.draft = flag(get(GITHUB_DRAFT), GITHUB_DRAFT, false)?;
                Some(config)
            }
        };
        Ok(Self { vercel, github })
    }
}

fn flag(value: Option<String>, var: &'static str, default: bool) -> Result<bool, DeliveryConfigError> {
    match value.as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => {
            Err(DeliveryConfigError::Invalid { var, message: format!("{other:?} is not true or false") })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn nothing_is_configured_without_tokens() {
        assert_eq!(DeliveryConfig::from_lookup(&lookup(&[])), Ok(DeliveryConfig::default()));
    }

    #[test]
    fn tokens_configure_each_destination_with_safe_defaults() {
        let config = DeliveryConfig::from_lookup(&lookup(&[
            (VERCEL_TOKEN, "vt"),
            (GITHUB_TOKEN, "gt"),
            (GITHUB_OWNER, "acme"),
        ]))
        .unwrap();
        let vercel = config.vercel.unwrap();
        assert_eq!((vercel.api_url.as_str(), vercel.target), (DEFAULT_VERCEL_API_URL, VercelTarget::Preview));
        let github = config.github.unwrap();
        assert_eq!(github.api_url, DEFAULT_GITHUB_API_URL);
        assert!(github.private && !github.draft);
    }

    #[test]
    fn a_github_token_without_an_owner_is_refused_and_bad_values_are_named() {
        assert_eq!(
            DeliveryConfig::from_lookup(&lookup(&[(GITHUB_TOKEN, "gt")])),
            Err(DeliveryConfigError::Incomplete(GITHUB_TOKEN, GITHUB_OWNER))
        );
        assert!(matches!(
            DeliveryConfig::from_lookup(&lookup(&[(VERCEL_TOKEN, "vt"), (VERCEL_TARGET, "prod")])),
            Err(DeliveryConfigError::Invalid { var: VERCEL_TARGET, .. })
        ));
    }

    #[test]
    fn tokens_never_print() {
        let config = DeliveryConfig::from_lookup(&lookup(&[
            (VERCEL_TOKEN, "vercel-secret-value"),
            (GITHUB_TOKEN, "ghp_secret_value"),
            (GITHUB_OWNER, "acme"),
        ]))
        .unwrap();
        let shown = format!("{config:?} {:?}", config.vercel.as_ref().unwrap().token);
        assert!(!shown.contains("vercel-secret-value") && !shown.contains("ghp_secret_value"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
