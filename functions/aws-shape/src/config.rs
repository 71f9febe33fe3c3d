//! Typed configs of the AWS shape's entry points, read from the environment once at start-up.
//!
//! Each config's `REQUIRED` lists exactly the variables its `from_env` refuses to start
//! without (the template must set them; `tests/infra` checks it). Optional variables have
//! defaults. A missing variable is never discovered one at a time: the error names them all.

use std::path::PathBuf;
use std::time::Duration;

/// A variable lookup: the process environment, or a map in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment; unset and empty variables alike are absent.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable(s): {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("{var} is invalid: {message}")]
    Invalid { var: &'static str, message: String },
}

/// Reads `required` all at once, so one error names every missing variable.
struct Vars<'a> {
    lookup: Lookup<'a>,
}

impl<'a> Vars<'a> {
    fn required<const N: usize>(&self, names: [&'static str; N]) -> Result<[String; N], ConfigError> {
        let values = names.map(|name| (self.lookup)(name).filter(|v| !v.is_empty()));
        let missing: Vec<&'static str> =
            names.iter().zip(&values).filter(|(_, v)| v.is_none()).map(|(n, _)| *n).collect();
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        Ok(values.map(Option::unwrap_or_default))
    }

    fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    fn number(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
                var: name,
                message: format!("{text:?} is not a whole number"),
            }),
        }
    }
}

pub const TABLE: &str = "GANTRY_TABLE";
pub const ARTIFACT_BUCKET: &str = "GANTRY_ARTIFACT_BUCKET";
pub const EVIDENCE_BUCKET: &str = "GANTRY_EVIDENCE_BUCKET";
pub const STATE_MACHINE_ARN: &str = "GANTRY_STATE_MACHINE_ARN";
pub const SIGNING_KEY_ID: &str = "GANTRY_SIGNING_KEY_ID";
pub const SECRET_ARN: &str = "GANTRY_SECRET_ARN";
pub const STEP: &str = "GANTRY_STEP";
pub const BUILD_CLUSTER: &str = "GANTRY_BUILD_CLUSTER";
pub const BUILD_JOB_URL: &str = "GANTRY_BUILD_JOB_URL";
pub const BUILD_REPORT_URL: &str = "GANTRY_BUILD_REPORT_URL";
pub const BUILD_LOG_URL: &str = "GANTRY_BUILD_LOG_URL";
pub const BUILD_OUTPUT_URL: &str = "GANTRY_BUILD_OUTPUT_URL";
/// Optional: a policy file instead of the compiled-in policy.yaml.
pub const POLICY: &str = "GANTRY_POLICY";
/// Optional: the base URL people reach the API at.
pub const PUBLIC_URL: &str = "GANTRY_PUBLIC_URL";
/// Optional (default 365, the template's default): Object Lock retention of each evidence object.
pub const EVIDENCE_RETENTION_DAYS: &str = "GANTRY_EVIDENCE_RETENTION_DAYS";
/// Optional (default 86400).
pub const CONSULTATION_IDLE_SECS: &str = "GANTRY_CONSULTATION_IDLE_SECS";
/// Optional (default 30).
pub const RETENTION_DAYS: &str = "GANTRY_RETENTION_DAYS";
/// Optional, set on the deploy and publish steps only: the JSON secret holding `vercel_token`
/// and `github_token` (see `gantry_aws::secrets`). The other delivery variables
/// (`VERCEL_TEAM_ID`, `GANTRY_GITHUB_OWNER`, …) are plain environment variables.
pub const DELIVERY_SECRET_ARN: &str = "GANTRY_DELIVERY_SECRET_ARN";
/// Optional (default a dir under the system temp dir): where the builder materialises the job.
pub const BUILD_WORK_ROOT: &str = "GANTRY_BUILD_WORK_ROOT";
/// The curated node set's root in the builder image.
pub const NODE_DEPS: &str = "GANTRY_NODE_DEPS";
/// Where infra/builder.Dockerfile installs the set.
pub const DEFAULT_NODE_DEPS: &str = "/opt/gantry/node-deps";

const DAY_SECS: u64 = 86_400;

/// The resources the mission data lives in, shared by every Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub table: String,
    pub artifact_bucket: String,
    pub evidence_bucket: String,
}

/// The `api` Lambda (and `gantry serve --backend aws`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiLambdaConfig {
    pub resources: Resources,
    pub state_machine_arn: String,
    /// The KMS key that signs evidence: the evidence view checks packs against its public key.
    pub signing_key_id: String,
    /// The JSON secret holding the password hash and token key (see `gantry_aws::secrets`).
    pub secret_arn: Option<String>,
    pub public_url: Option<String>,
    pub policy: Option<PathBuf>,
}

impl ApiLambdaConfig {
    pub const REQUIRED: &'static [&'static str] =
        &[TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, STATE_MACHINE_ARN, SIGNING_KEY_ID, SECRET_ARN];

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let [table, artifact_bucket, evidence_bucket, state_machine_arn, signing_key_id, secret_arn] = vars
            .required(
            [TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, STATE_MACHINE_ARN, SIGNING_KEY_ID, SECRET_ARN],
        )?;
        Ok(Self {
            resources: Resources { table, artifact_bucket, evidence_bucket },
            state_machine_arn,
            signing_key_id,
            secret_arn: Some(secret_arn),
            public_url: vars.optional(PUBLIC_URL),
            policy: vars.optional(POLICY).map(PathBuf::from),
        })
    }

    /// For `gantry serve --backend aws`: the secret is optional there, since the password
    /// hash and token key may come from the environment or the data dir instead.
    pub fn from_lookup_secret_optional(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let [table, artifact_bucket, evidence_bucket, state_machine_arn, signing_key_id] =
            vars.required([TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, STATE_MACHINE_ARN, SIGNING_KEY_ID])?;
        Ok(Self {
            resources: Resources { table, artifact_bucket, evidence_bucket },
            state_machine_arn,
            signing_key_id,
            secret_arn: vars.optional(SECRET_ARN),
            public_url: vars.optional(PUBLIC_URL),
            policy: vars.optional(POLICY).map(PathBuf::from),
        })
    }
}

/// The `steps` Lambdas: one binary, the step chosen by `GANTRY_STEP` (`Step::name()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepsLambdaConfig {
    pub step: String,
    pub resources: Resources,
    pub signing_key_id: String,
    pub evidence_retention: Duration,
    pub policy: Option<PathBuf>,
    /// Only the deploy and publish steps are given it.
    pub delivery_secret_arn: Option<String>,
}

impl StepsLambdaConfig {
    pub const REQUIRED: &'static [&'static str] =
        &[STEP, TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, SIGNING_KEY_ID];

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let [step, table, artifact_bucket, evidence_bucket, signing_key_id] =
            vars.required([STEP, TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, SIGNING_KEY_ID])?;
        Ok(Self {
            step,
            resources: Resources { table, artifact_bucket, evidence_bucket },
            signing_key_id,
            evidence_retention: Duration::from_secs(vars.number(EVIDENCE_RETENTION_DAYS, 365)? * DAY_SECS),
            policy: vars.optional(POLICY).map(PathBuf::from),
            delivery_secret_arn: vars.optional(DELIVERY_SECRET_ARN),
        })
    }
}

/// The `cleanup` Lambda: expiry, retention, reconciliation and overdue build tasks. It signs
/// nothing and holds no evidence handle, so it is not told the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupLambdaConfig {
    pub resources: Resources,
    pub state_machine_arn: String,
    pub build_cluster: String,
    pub consultation_idle_secs: u64,
    pub retention_days: u64,
    pub evidence_retention: Duration,
    pub policy: Option<PathBuf>,
}

impl CleanupLambdaConfig {
    pub const REQUIRED: &'static [&'static str] =
        &[TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, STATE_MACHINE_ARN, BUILD_CLUSTER];

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let [table, artifact_bucket, evidence_bucket, state_machine_arn, build_cluster] =
            vars.required([TABLE, ARTIFACT_BUCKET, EVIDENCE_BUCKET, STATE_MACHINE_ARN, BUILD_CLUSTER])?;
        Ok(Self {
            resources: Resources { table, artifact_bucket, evidence_bucket },
            state_machine_arn,
            build_cluster,
            consultation_idle_secs: vars.number(
                CONSULTATION_IDLE_SECS,
                gantry_domain::cleanup::CleanupConfig::DEFAULT_CONSULTATION_IDLE_SECS,
            )?,
            retention_days: vars
                .number(RETENTION_DAYS, gantry_domain::cleanup::CleanupConfig::DEFAULT_RETENTION_DAYS)?,
            evidence_retention: Duration::from_secs(vars.number(EVIDENCE_RETENTION_DAYS, 365)? * DAY_SECS),
            policy: vars.optional(POLICY).map(PathBuf::from),
        })
    }
}

/// The Fargate builder. Its four URLs are not set by the template: the state machine's
/// Build state passes them per task as container overrides (presigned by PrepareBuild).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderTaskConfig {
    pub job_url: String,
    pub report_url: String,
    pub log_url: String,
    /// Where a passed build's output bundle goes (`gantry_pipeline::output_bundle`).
    pub output_url: String,
    pub work_root: PathBuf,
    /// Where the image baked the curated node set (`GANTRY_NODE_DEPS`, the same layout as
    /// `gantry deps fetch` makes); node builds fail saying so when it is absent.
    pub node_deps: PathBuf,
}

impl BuilderTaskConfig {
    pub const REQUIRED: &'static [&'static str] =
        &[BUILD_JOB_URL, BUILD_REPORT_URL, BUILD_LOG_URL, BUILD_OUTPUT_URL];

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let [job_url, report_url, log_url, output_url] =
            vars.required([BUILD_JOB_URL, BUILD_REPORT_URL, BUILD_LOG_URL, BUILD_OUTPUT_URL])?;
        let work_root = vars
            .optional(BUILD_WORK_ROOT)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("gantry-builder").join("work"));
        let node_deps =
            vars.optional(NODE_DEPS).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_NODE_DEPS));
        Ok(Self { job_url, report_url, log_url, output_url, work_root, node_deps })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let lookup = env(&[(TABLE, "t"), (EVIDENCE_BUCKET, "")]);
        assert_eq!(
            StepsLambdaConfig::from_lookup(&lookup),
            Err(ConfigError::Missing(vec![STEP, ARTIFACT_BUCKET, EVIDENCE_BUCKET, SIGNING_KEY_ID]))
        );
        let message = ApiLambdaConfig::from_lookup(&env(&[])).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("missing environment variable(s): GANTRY_TABLE, GANTRY_ARTIFACT_BUCKET, GANTRY_EVIDENCE_BUCKET, GANTRY_STATE_MACHINE_ARN, GANTRY_SIGNING_KEY_ID, GANTRY_SECRET_ARN".into())
        );
    }

    #[test]
    fn each_required_list_is_what_from_lookup_refuses_to_start_without() {
        type Parse = fn(Lookup<'_>) -> Result<(), ConfigError>;
        let configs: [(&[&str], Parse); 4] = [
            (ApiLambdaConfig::REQUIRED, |l| ApiLambdaConfig::from_lookup(l).map(|_| ())),
            (StepsLambdaConfig::REQUIRED, |l| StepsLambdaConfig::from_lookup(l).map(|_| ())),
            (CleanupLambdaConfig::REQUIRED, |l| CleanupLambdaConfig::from_lookup(l).map(|_| ())),
            (BuilderTaskConfig::REQUIRED, |l| BuilderTaskConfig::from_lookup(l).map(|_| ())),
        ];
        for (required, parse) in configs {
            let all: Vec<(&str, &str)> = required.iter().map(|n| (*n, "x")).collect();
            assert_eq!(parse(&env(&all)), Ok(()), "{required:?}");
            assert_eq!(parse(&env(&[])), Err(ConfigError::Missing(required.to_vec())));
        }
    }

    #[test]
    fn optional_values_have_defaults_and_are_checked() {
        let mut pairs: Vec<(&str, &str)> = CleanupLambdaConfig::REQUIRED.iter().map(|n| (*n, "x")).collect();
        let config = CleanupLambdaConfig::from_lookup(&env(&pairs)).expect("complete config");
        assert_eq!((config.consultation_idle_secs, config.retention_days), (86_400, 30));
        pairs.push((RETENTION_DAYS, "a month"));
        assert!(matches!(
            CleanupLambdaConfig::from_lookup(&env(&pairs)),
            Err(ConfigError::Invalid { var: RETENTION_DAYS, .. })
        ));
    }

    #[test]
    fn serve_may_run_without_the_secret() {
        let pairs: Vec<(&str, &str)> =
            ApiLambdaConfig::REQUIRED.iter().filter(|n| **n != SECRET_ARN).map(|n| (*n, "x")).collect();
        let config =
            ApiLambdaConfig::from_lookup_secret_optional(&env(&pairs)).expect("config without secret");
        assert_eq!(config.secret_arn, None);
        assert_eq!(ApiLambdaConfig::from_lookup(&env(&pairs)), Err(ConfigError::Missing(vec![SECRET_ARN])));
    }
}
