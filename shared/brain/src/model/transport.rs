//! What a model brain needs from a provider: one structured call. The prompts, schemas,
//! validation, repairs, retries and accounting live above this, once, in `ModelBrain`.

use async_trait::async_trait;
use serde_json::Value;

use gantry_ports::DesignImage;

/// How the model is made to answer in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// The provider's native JSON-schema output (Bedrock `outputConfig.textFormat`,
    /// OpenAI `response_format`).
    Native,
    /// One forced tool call whose input schema is the output schema.
    Tool,
}

impl OutputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputMode::Native => "native",
            OutputMode::Tool => "tool",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// Only ever in a user message.
    Image(DesignImage),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub speaker: Speaker,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn user(parts: Vec<Part>) -> Self {
        Self { speaker: Speaker::User, parts }
    }

    pub fn assistant(text: String) -> Self {
        Self { speaker: Speaker::Assistant, parts: vec![Part::Text(text)] }
    }
}

/// The schema the answer must follow, also the forced tool's name and description.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: Value,
}

/// One call: the system prompt (cached by providers that cache), the conversation, which must
/// end with a user message, and the output schema.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    pub system: String,
    pub messages: Vec<Message>,
    pub output: OutputSchema,
    pub mode: OutputMode,
    pub max_tokens: u32,
}

/// Tokens of one call as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

/// Why the model stopped, normalised over providers; `raw` keeps the provider's word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReason {
    pub raw: String,
    /// The answer was cut short or malformed by the provider's own account
    /// (`max_tokens`, `length`, `malformed_tool_use`, `malformed_model_output`, …).
    pub truncated: bool,
}

/// What came back: the structured answer (or the text that should have been one).
#[derive(Debug, Clone)]
pub struct ModelResponse {
    pub answer: Answer,
    pub stop: StopReason,
    pub tokens: CallTokens,
}

#[derive(Debug, Clone)]
pub enum Answer {
    Json(Value),
    /// Not JSON, or no answer at all: the text (possibly empty) to quote in a repair.
    Unparsed(String),
}

impl Answer {
    /// Reads a text answer: JSON, tolerating a Markdown code fence around it.
    pub fn from_text(text: &str) -> Answer {
        let trimmed = text.trim();
        let unfenced = trimmed
            .strip_prefix("```json")
            .or_else(|| trimmed.strip_prefix("```"))
            .and_then(|rest| rest.strip_suffix("```"))
            .unwrap_or(trimmed);
        match serde_json::from_str(unfenced.trim()) {
            Ok(value) => Answer::Json(value),
            Err(_) => Answer::Unparsed(text.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Throttled (Bedrock `ThrottlingException`, HTTP 429): retried after backoff, or after the
    /// provider's `Retry-After` when it gave one.
    #[error("the model is throttled: {message}")]
    Throttled { message: String, retry_after: Option<std::time::Duration> },
    /// 5xx, a model error or timeout on the provider's side, or no answer in time: retried.
    #[error("the model is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the structured-output mode for this model: fall back to the tool.
    #[error("the model does not support this structured-output mode: {0}")]
    UnsupportedMode(String),
    /// Anything else the provider refused (bad request, access denied, unknown model).
    #[error("the model refused the request: {0}")]
    Refused(String),
}

impl TransportError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TransportError::Throttled { .. } | TransportError::Unavailable(_))
    }
}

#[async_trait]
pub trait Transport: Send + Sync {
    fn model_id(&self) -> &str;
    /// Which provider family this is (`bedrock`, `openai`), for logs and evidence.
    fn provider(&self) -> &'static str;
    async fn call(&self, request: &ModelRequest) -> Result<ModelResponse, TransportError>;
}
