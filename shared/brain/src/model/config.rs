//! Which brain runs, read once at start-up from the environment (or a map in tests). Handlers
//! never read it; entry points build the brain from it and hand it on.
//!
//! `GANTRY_BRAIN=offline|bedrock|openai` (default `offline`; unset means offline).

use std::sync::Arc;
use std::time::Duration;

use gantry_domain::policy::Policy;
use gantry_ports::Brain;

use super::bedrock::BedrockTransport;
use super::openai::OpenAiTransport;
use super::transport::{OutputMode, Transport};
use super::{ModelBrain, ModelSettings, Prices};
use crate::OfflineBrain;

pub const BRAIN: &str = "GANTRY_BRAIN";
pub const BEDROCK_MODEL_ID: &str = "GANTRY_BEDROCK_MODEL_ID";
pub const OPENAI_BASE_URL: &str = "GANTRY_OPENAI_BASE_URL";
pub const OPENAI_MODEL: &str = "GANTRY_OPENAI_MODEL";
/// Optional; sent as a bearer token, never logged.
pub const OPENAI_API_KEY: &str = "GANTRY_OPENAI_API_KEY";
/// Optional `native|tool`: the structured-output mode to start with (default per model family).
pub const OUTPUT_MODE: &str = "GANTRY_BRAIN_OUTPUT";
/// Optional (default 16000): output tokens of a draft or heal.
pub const MAX_OUTPUT_TOKENS: &str = "GANTRY_BRAIN_MAX_OUTPUT_TOKENS";
/// Optional (default 300): seconds one model call may take.
pub const TIMEOUT_SECS: &str = "GANTRY_BRAIN_TIMEOUT_SECS";
/// Optional (default 3): retries of a throttled or failing call.
pub const MAX_RETRIES: &str = "GANTRY_BRAIN_MAX_RETRIES";
/// Optional (default 2): how often an unusable answer is sent back before the step fails.
pub const MAX_REPAIRS: &str = "GANTRY_BRAIN_MAX_REPAIRS";
/// Optional: `input,output,cache_read,cache_write` in USD per million tokens, overriding the
/// built-in table.
pub const PRICES: &str = "GANTRY_BRAIN_PRICES";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrainConfigError {
    #[error("{var} is required when GANTRY_BRAIN={brain}")]
    Missing { var: &'static str, brain: &'static str },
    #[error("{var} is invalid: {message}")]
    Invalid { var: &'static str, message: String },
    #[error("the brain could not be set up: {0}")]
    Setup(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum BrainKind {
    Offline,
    Bedrock { model_id: String },
    OpenAi { base_url: String, model: String, api_key: Option<String> },
}

#[derive(Clone, PartialEq)]
pub struct BrainConfig {
    pub kind: BrainKind,
    pub settings: ModelSettings,
}

impl std::fmt::Debug for BrainConfig {
    // The API key stays out of every log line and error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            BrainKind::Offline => write!(f, "BrainConfig(offline)"),
            BrainKind::Bedrock { model_id } => write!(f, "BrainConfig(bedrock {model_id})"),
            BrainKind::OpenAi { base_url, model, api_key } => write!(
                f,
                "BrainConfig(openai {model} at {base_url}, key {})",
                if api_key.is_some() { "set" } else { "unset" }
            ),
        }
    }
}

/// Prices in USD per million tokens (input, output, cache read, cache write) by model family,
/// for the cost estimate; override with `GANTRY_BRAIN_PRICES`. Local models cost nothing.
const PRICE_TABLE: [(&str, Prices); 6] = [
    ("claude-opus-4", Prices { input: 15.0, output: 75.0, cache_read: 1.5, cache_write: 18.75 }),
    ("claude-sonnet-4", Prices { input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75 }),
    ("claude-3-7-sonnet", Prices { input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75 }),
    ("claude-haiku-4-5", Prices { input: 1.0, output: 5.0, cache_read: 0.1, cache_write: 1.25 }),
    ("claude-3-5-haiku", Prices { input: 0.8, output: 4.0, cache_read: 0.08, cache_write: 1.0 }),
    ("nova-pro", Prices { input: 0.8, output: 3.2, cache_read: 0.2, cache_write: 0.0 }),
];

pub fn default_prices(model_id: &str) -> Prices {
    PRICE_TABLE.iter().find(|(family, _)| model_id.contains(family)).map(|(_, p)| *p).unwrap_or_default()
}

/// The structured-output mode a model family starts with: native JSON-schema output for
/// Claude 4.5 models on Bedrock and for OpenAI-compatible servers (llama.cpp, Ollama and vLLM
/// all take `response_format`), the forced tool elsewhere. A refusal falls back to the tool.
pub fn default_mode(kind: &BrainKind) -> OutputMode {
    match kind {
        BrainKind::Bedrock { model_id } if model_id.contains("-4-5") || model_id.contains("-4-6") => {
            OutputMode::Native
        }
        BrainKind::Bedrock { .. } => OutputMode::Tool,
        _ => OutputMode::Native,
    }
}

impl BrainConfig {
    pub fn offline() -> Self {
        Self { kind: BrainKind::Offline, settings: ModelSettings::default() }
    }

    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, BrainConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let require =
            |var: &'static str, brain: &'static str| get(var).ok_or(BrainConfigError::Missing { var, brain });
        let kind = match get(BRAIN).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("offline") => return Ok(Self::offline()),
            Some("bedrock") => BrainKind::Bedrock { model_id: require(BEDROCK_MODEL_ID, "bedrock")? },
            Some("openai") => {
                let base_url = require(OPENAI_BASE_URL, "openai")?;
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(BrainConfigError::Invalid {
                        var: OPENAI_BASE_URL,
                        message: "must be an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1".into(),
                    });
                }
                BrainKind::OpenAi {
                    base_url,
                    model: require(OPENAI_MODEL, "openai")?,
                    api_key: get(OPENAI_API_KEY),
                }
            }
            Some(other) => {
                return Err(BrainConfigError::Invalid {
                    var: BRAIN,
                    message: format!("{other:?} is not one of offline, bedrock, openai"),
                })
            }
        };
        let number = |var: &'static str, default: u64| -> Result<u64, BrainConfigError> {
            match get(var) {
                None => Ok(default),
                Some(text) => text.parse().map_err(|_| BrainConfigError::Invalid {
                    var,
                    message: format!("{text:?} is not a whole number"),
                }),
            }
        };
        let defaults = ModelSettings::default();
        let mode = match get(OUTPUT_MODE).as_deref() {
            None => default_mode(&kind),
            Some("native") => OutputMode::Native,
            Some("tool") => OutputMode::Tool,
            Some(other) => {
                return Err(BrainConfigError::Invalid {
                    var: OUTPUT_MODE,
                    message: format!("{other:?} is not one of native, tool"),
                })
            }
        };
        let prices = match (get(PRICES), &kind) {
            (Some(text), _) => parse_prices(&text)?,
            (None, BrainKind::Bedrock { model_id }) => default_prices(model_id),
            (None, _) => Prices::default(),
        };
        let timeout = number(TIMEOUT_SECS, defaults.call_timeout.as_secs())?;
        if timeout == 0 {
            return Err(BrainConfigError::Invalid {
                var: TIMEOUT_SECS,
                message: "must be at least 1".into(),
            });
        }
        let settings = ModelSettings {
            mode,
            max_output_tokens: u32::try_from(number(
                MAX_OUTPUT_TOKENS,
                u64::from(defaults.max_output_tokens),
            )?)
            .map_err(|_| BrainConfigError::Invalid { var: MAX_OUTPUT_TOKENS, message: "too large".into() })?,
            max_repairs: number(MAX_REPAIRS, u64::from(defaults.max_repairs))?.min(5) as u32,
            max_retries: number(MAX_RETRIES, u64::from(defaults.max_retries))?.min(10) as u32,
            call_timeout: Duration::from_secs(timeout),
            prices,
            ..defaults
        };
        Ok(Self { kind, settings })
    }

    /// `brain.kind` for `/health`-style reports and logs: `offline`, `bedrock` or `openai`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            BrainKind::Offline => "offline",
            BrainKind::Bedrock { .. } => "bedrock",
            BrainKind::OpenAi { .. } => "openai",
        }
    }

    /// Builds the brain. Bedrock uses `sdk` when the entry point already loaded the AWS
    /// configuration, else loads it from the usual chain.
    pub async fn build(
        &self,
        policy: &Policy,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<Arc<dyn Brain>, BrainConfigError> {
        let transport: Arc<dyn Transport> = match &self.kind {
            BrainKind::Offline => return Ok(Arc::new(OfflineBrain)),
            BrainKind::Bedrock { model_id } => match sdk {
                Some(sdk) => Arc::new(BedrockTransport::new(sdk, model_id.clone())),
                None => {
                    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
                    Arc::new(BedrockTransport::new(&sdk, model_id.clone()))
                }
            },
            BrainKind::OpenAi { base_url, model, api_key } => Arc::new(
                OpenAiTransport::new(base_url, model.clone(), api_key.clone(), self.settings.call_timeout)
                    .map_err(BrainConfigError::Setup)?,
            ),
        };
        tracing::info!(brain = ?self, mode = self.settings.mode.as_str(), "generative brain configured");
        Ok(Arc::new(ModelBrain::new(transport, policy, self.settings.clone())))
    }
}

fn parse_prices(text: &str) -> Result<Prices, BrainConfigError> {
    let invalid = || BrainConfigError::Invalid {
        var: PRICES,
        message: "expected four numbers, input,output,cache_read,cache_write in USD per million tokens"
            .into(),
    };
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.trim().parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0))
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    match numbers[..] {
        [input, output, cache_read, cache_write] => Ok(Prices { input, output, cache_read, cache_write }),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<BrainConfig, BrainConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        BrainConfig::from_lookup(&|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_configured_is_the_offline_brain() {
        assert_eq!(config(&[]).unwrap().kind, BrainKind::Offline);
        assert_eq!(config(&[(BRAIN, "offline")]).unwrap().kind, BrainKind::Offline);
    }

    #[test]
    fn bedrock_needs_a_model_and_prices_it_from_the_table() {
        assert_eq!(
            config(&[(BRAIN, "bedrock")]).unwrap_err(),
            BrainConfigError::Missing { var: BEDROCK_MODEL_ID, brain: "bedrock" }
        );
        let c =
            config(&[(BRAIN, "bedrock"), (BEDROCK_MODEL_ID, "us.anthropic.claude-sonnet-4-5-20250929-v1:0")])
                .unwrap();
        assert_eq!(c.settings.mode, OutputMode::Native);
        assert!((c.settings.prices.output - 15.0).abs() < f64::EPSILON);
        let old =
            config(&[(BRAIN, "bedrock"), (BEDROCK_MODEL_ID, "anthropic.claude-3-5-haiku-20241022-v1:0")])
                .unwrap();
        assert_eq!(old.settings.mode, OutputMode::Tool);
    }

    #[test]
    fn openai_is_checked_and_its_key_never_printed() {
        let c = config(&[
            (BRAIN, "openai"),
            (OPENAI_BASE_URL, "http://127.0.0.1:8080/v1"),
            (OPENAI_MODEL, "qwen"),
            (OPENAI_API_KEY, "sk-very-secret"),
            (OUTPUT_MODE, "tool"),
            (PRICES, "1,2,0.1,0"),
        ])
        .unwrap();
        assert_eq!(c.settings.mode, OutputMode::Tool);
        assert!((c.settings.prices.output - 2.0).abs() < f64::EPSILON);
        assert!(!format!("{c:?}").contains("very-secret"));
        assert!(matches!(
            config(&[(BRAIN, "openai"), (OPENAI_BASE_URL, "localhost:8080"), (OPENAI_MODEL, "m")]),
            Err(BrainConfigError::Invalid { var: OPENAI_BASE_URL, .. })
        ));
        assert!(matches!(config(&[(BRAIN, "gpt")]), Err(BrainConfigError::Invalid { var: BRAIN, .. })));
        assert!(matches!(
            config(&[
                (BRAIN, "openai"),
                (OPENAI_BASE_URL, "http://x/v1"),
                (OPENAI_MODEL, "m"),
                (PRICES, "1,2")
            ]),
            Err(BrainConfigError::Invalid { var: PRICES, .. })
        ));
    }
}
