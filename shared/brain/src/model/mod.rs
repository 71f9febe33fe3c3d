//! The model brain: consult, draft and heal through a large language model. The prompts, the
//! output schemas, validation against the domain types, repairs, retries and usage accounting
//! are written once here; `bedrock` and `openai` only carry one structured call each.
//!
//! What stays outside the model: consent (the domain's whole-word rules decide; a proposal is
//! all a model can produce), the guardrails (run by the API before any brain is asked), and the
//! policy gate (run by the pipeline on every drafted or healed manifest).

pub mod bedrock;
pub mod config;
pub mod openai;
pub mod prompts;
pub mod schema;
pub mod transport;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use serde_json::Value;

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::mission::{ModelCall, TokenUsage};
use gantry_domain::policy::Policy;
use gantry_domain::{BuildReport, GantryManifest, Role, Stack, Turn};
use gantry_ports::{Brain, ConsultReply, DesignImage, Draft, PortError, PortResult};

use self::transport::{
    Answer, CallTokens, Message, ModelRequest, ModelResponse, OutputMode, OutputSchema, Part, Transport,
    TransportError,
};

/// Largest image Bedrock accepts in an image block.
pub const MAX_IMAGE_BYTES: usize = 3_750_000;
/// Most of the person's messages carried into the brief as notes.
const MAX_NOTES: usize = 20;
/// Output tokens of a consultation turn (a reply, not a project).
const CONSULT_MAX_TOKENS: u32 = 2048;

/// US dollars per million tokens of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

impl Prices {
    pub fn cost(&self, tokens: &CallTokens) -> f64 {
        (tokens.input as f64 * self.input
            + tokens.output as f64 * self.output
            + tokens.cache_read as f64 * self.cache_read
            + tokens.cache_write as f64 * self.cache_write)
            / 1_000_000.0
    }
}

/// How a model brain calls its model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSettings {
    /// The structured-output mode to start with; a provider refusing it switches to the tool.
    pub mode: OutputMode,
    /// Output tokens of a draft or heal.
    pub max_output_tokens: u32,
    /// How many times an unusable answer is sent back with its error before the step fails.
    pub max_repairs: u32,
    /// Retries of a throttled, failing (5xx) or timed-out call.
    pub max_retries: u32,
    /// First backoff; doubled per retry, with jitter, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long one call may take.
    pub call_timeout: Duration,
    pub prices: Prices,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            mode: OutputMode::Native,
            max_output_tokens: 16_000,
            max_repairs: 2,
            max_retries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            call_timeout: Duration::from_secs(300),
            prices: Prices::default(),
        }
    }
}

pub struct ModelBrain {
    transport: Arc<dyn Transport>,
    settings: ModelSettings,
    allowed: Vec<Stack>,
    consult_system: String,
    draft_system: String,
    /// The mode in use: starts as configured, becomes `Tool` once the provider refuses native.
    mode: Mutex<OutputMode>,
}

/// A validated answer with what it cost.
struct Spent<T> {
    value: T,
    usage: TokenUsage,
    calls: Vec<ModelCall>,
}

impl ModelBrain {
    pub fn new(transport: Arc<dyn Transport>, policy: &Policy, settings: ModelSettings) -> Self {
        Self {
            transport,
            allowed: policy.allowed_stacks().to_vec(),
            consult_system: prompts::consult_system(policy),
            draft_system: prompts::draft_system(policy),
            mode: Mutex::new(settings.mode),
            settings,
        }
    }

    /// The structured-output mode calls use now.
    pub fn mode(&self) -> OutputMode {
        self.mode.lock().map_or(OutputMode::Tool, |m| *m)
    }

    fn set_mode(&self, mode: OutputMode) {
        if let Ok(mut current) = self.mode.lock() {
            *current = mode;
        }
    }

    /// One answer in `output`, validated by `read`; an unusable one is sent back with the
    /// reason up to `max_repairs` times, then the call fails with that reason.
    async fn structured<T>(
        &self,
        system: &str,
        messages: Vec<Message>,
        output: OutputSchema,
        max_tokens: u32,
        read: impl Fn(Value) -> Result<T, String>,
    ) -> PortResult<Spent<T>> {
        let mut spent = Spent { value: (), usage: TokenUsage::default(), calls: Vec::new() };
        let mut request = ModelRequest {
            system: system.to_owned(),
            messages: messages.clone(),
            output,
            mode: self.mode(),
            max_tokens,
        };
        let mut last_error = String::new();
        for attempt in 0..=self.settings.max_repairs {
            let response = self.call(&mut request).await?;
            self.account(&response, &mut spent);
            let (error, text) = match response.answer {
                Answer::Json(value) if !response.stop.truncated => {
                    let text = value.to_string();
                    match read(value) {
                        Ok(value) => return Ok(Spent { value, usage: spent.usage, calls: spent.calls }),
                        Err(error) => (error, text),
                    }
                }
                Answer::Json(value) => (
                    format!("the answer was cut short (stop reason `{}`)", response.stop.raw),
                    value.to_string(),
                ),
                Answer::Unparsed(text) if response.stop.truncated => {
                    (format!("the answer was cut short (stop reason `{}`)", response.stop.raw), text)
                }
                Answer::Unparsed(text) => ("the answer is not JSON in the schema".to_owned(), text),
            };
            tracing::warn!(
                model_id = self.transport.model_id(),
                attempt,
                error = %error,
                "the model's answer was not usable"
            );
            last_error = error;
            // The repair goes into the newest user turn, so the conversation keeps alternating.
            request.messages = messages.clone();
            if let Some(last) = request.messages.last_mut() {
                last.parts.push(Part::Text(prompts::repair_note(&last_error, &text)));
            }
            request.mode = self.mode();
        }
        tracing::warn!(
            model_id = self.transport.model_id(),
            input_tokens = spent.usage.input,
            output_tokens = spent.usage.output,
            "the model gave no usable answer; its tokens are not charged to the mission"
        );
        Err(PortError::Failed(format!(
            "the model ({}) gave no usable answer after {} repair(s): {last_error}",
            self.transport.model_id(),
            self.settings.max_repairs
        )))
    }

    fn account<T>(&self, response: &ModelResponse, spent: &mut Spent<T>) {
        let tokens = response.tokens;
        let usage = TokenUsage {
            input: tokens.input,
            output: tokens.output,
            cache_read: tokens.cache_read,
            cache_write: tokens.cache_write,
            cost_usd: self.settings.prices.cost(&tokens),
            calls: 1,
        };
        tracing::info!(
            provider = self.transport.provider(),
            model_id = self.transport.model_id(),
            stop_reason = %response.stop.raw,
            input_tokens = usage.input,
            output_tokens = usage.output,
            cache_read_tokens = usage.cache_read,
            "model call"
        );
        spent.usage.add(usage);
        spent.calls.push(ModelCall {
            model_id: self.transport.model_id().to_owned(),
            stop_reason: response.stop.raw.clone(),
            usage,
        });
    }

    /// One call with its timeout, bounded retries (backoff with jitter, or the provider's
    /// `Retry-After`) and the fallback from native output to the forced tool.
    async fn call(&self, request: &mut ModelRequest) -> PortResult<ModelResponse> {
        let mut retries = 0;
        loop {
            let error =
                match tokio::time::timeout(self.settings.call_timeout, self.transport.call(request)).await {
                    Ok(Ok(response)) => return Ok(response),
                    Ok(Err(error)) => error,
                    Err(_) => TransportError::Unavailable(format!(
                        "no answer within {} s",
                        self.settings.call_timeout.as_secs()
                    )),
                };
            match error {
                TransportError::UnsupportedMode(message) if request.mode == OutputMode::Native => {
                    tracing::warn!(
                        model_id = self.transport.model_id(),
                        reason = %message,
                        "native structured output refused; using a forced tool from now on"
                    );
                    self.set_mode(OutputMode::Tool);
                    request.mode = OutputMode::Tool;
                }
                error if error.is_retryable() && retries < self.settings.max_retries => {
                    let wait = self.backoff(retries, &error);
                    tracing::warn!(
                        model_id = self.transport.model_id(),
                        retry = retries + 1,
                        wait_ms = wait.as_millis() as u64,
                        error = %error,
                        "model call failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
                error if error.is_retryable() => {
                    return Err(PortError::Unavailable {
                        service: "model",
                        message: format!("{error} (after {retries} retries)"),
                    })
                }
                error => return Err(PortError::Failed(error.to_string())),
            }
        }
    }

    /// Exponential backoff with jitter (half to all of the step), never shorter than the
    /// provider's `Retry-After`, never longer than `max_backoff`.
    fn backoff(&self, retry: u32, error: &TransportError) -> Duration {
        let step = self.settings.backoff.saturating_mul(1 << retry.min(16)).min(self.settings.max_backoff);
        let half = step / 2;
        let jittered = half + rand::thread_rng().gen_range(Duration::ZERO..=half);
        let floor = match error {
            TransportError::Throttled { retry_after: Some(after), .. } => *after,
            _ => Duration::ZERO,
        };
        jittered.max(floor).min(self.settings.max_backoff)
    }

    /// The design image, if the provider can take it; a larger one is described, not sent.
    fn image<'i>(&self, image: Option<&'i DesignImage>) -> Option<&'i DesignImage> {
        image.filter(|i| {
            let fits = i.bytes.len() <= MAX_IMAGE_BYTES;
            if !fits {
                tracing::warn!(bytes = i.bytes.len(), "the design image is too large to show the model");
            }
            fits
        })
    }
}

#[async_trait]
impl Brain for ModelBrain {
    async fn consult(
        &self,
        current: Option<&Consultation>,
        conversation: &[Turn],
        image: Option<&DesignImage>,
    ) -> PortResult<ConsultReply> {
        let notes: Vec<String> = conversation
            .iter()
            .filter(|t| t.role == Role::User)
            .map(|t| t.content.clone())
            .take(MAX_NOTES)
            .collect();
        let messages = prompts::consult_messages(conversation, self.image(image));
        if messages.is_empty() {
            return Err(PortError::Invalid("the conversation is empty".into()));
        }
        let spent = self
            .structured(
                &self.consult_system,
                messages,
                schema::consult_schema(&self.allowed),
                CONSULT_MAX_TOKENS,
                |value| schema::read_consultation(value, &self.allowed, current, notes.clone()),
            )
            .await?;
        Ok(ConsultReply {
            consultation: spent.value.consultation,
            response: spent.value.response,
            speech: spent.value.speech,
            usage: spent.usage,
            calls: spent.calls,
        })
    }

    async fn draft(&self, brief: &Brief, image: Option<&DesignImage>) -> PortResult<Draft> {
        let spent = self
            .structured(
                &self.draft_system,
                prompts::draft_messages(brief, self.image(image)),
                schema::manifest_schema(&self.allowed),
                self.settings.max_output_tokens,
                |value| schema::read_manifest(value, &self.allowed),
            )
            .await?;
        let (manifest, notes) = spent.value;
        Ok(Draft { manifest, model_id: self.model_id(), usage: spent.usage, calls: spent.calls, notes })
    }

    async fn heal(
        &self,
        brief: &Brief,
        previous: &GantryManifest,
        report: &BuildReport,
    ) -> PortResult<Draft> {
        let spent = self
            .structured(
                &self.draft_system,
                prompts::heal_messages(brief, previous, report),
                schema::manifest_schema(&self.allowed),
                self.settings.max_output_tokens,
                |value| schema::read_manifest(value, &self.allowed),
            )
            .await?;
        let (manifest, notes) = spent.value;
        Ok(Draft { manifest, model_id: self.model_id(), usage: spent.usage, calls: spent.calls, notes })
    }

    fn model_id(&self) -> String {
        self.transport.model_id().to_owned()
    }
}
