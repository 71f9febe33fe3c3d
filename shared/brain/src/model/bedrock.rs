//! The Bedrock transport: `Converse` through the AWS SDK (`POST /model/{modelId}/converse`).
//! Structured output through `outputConfig.textFormat` (`json_schema`), or one forced tool
//! (`toolChoice.tool`, `strict`); a cache point after the system prompt and after the tool.
//! The SDK's own retries are off: `ModelBrain` retries, once, for every provider.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, ImageBlock,
    ImageFormat as SdkImageFormat, ImageSource, InferenceConfiguration, JsonSchemaDefinition,
    Message as SdkMessage, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType,
    SpecificToolChoice, SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema,
    ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use serde_json::Value;

use gantry_ports::ImageFormat;

use super::transport::{
    Answer, CallTokens, Message, ModelRequest, ModelResponse, OutputMode, Part, Speaker, StopReason,
    Transport, TransportError,
};

/// Stop reasons that mean the answer is cut short or malformed.
const TRUNCATED: [&str; 4] =
    ["max_tokens", "malformed_tool_use", "malformed_model_output", "model_context_window_exceeded"];
const MAX_ERROR_CHARS: usize = 300;

pub struct BedrockTransport {
    client: aws_sdk_bedrockruntime::Client,
    model_id: String,
}

impl BedrockTransport {
    /// From the SDK's usual configuration chain (region, credentials, and
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL` for an emulator).
    pub fn new(sdk: &aws_config::SdkConfig, model_id: impl Into<String>) -> Self {
        let config =
            aws_sdk_bedrockruntime::config::Builder::from(sdk).retry_config(RetryConfig::disabled()).build();
        Self { client: aws_sdk_bedrockruntime::Client::from_conf(config), model_id: model_id.into() }
    }
}

fn build_error(e: impl std::fmt::Display) -> TransportError {
    TransportError::Refused(format!("the request could not be built: {e}"))
}

fn cache_point() -> Result<CachePointBlock, TransportError> {
    CachePointBlock::builder().r#type(CachePointType::Default).build().map_err(build_error)
}

fn image_format(format: ImageFormat) -> SdkImageFormat {
    match format {
        ImageFormat::Png => SdkImageFormat::Png,
        ImageFormat::Jpeg => SdkImageFormat::Jpeg,
        ImageFormat::Gif => SdkImageFormat::Gif,
        ImageFormat::Webp => SdkImageFormat::Webp,
    }
}

fn message(message: &Message) -> Result<SdkMessage, TransportError> {
    let role = match message.speaker {
        Speaker::User => ConversationRole::User,
        Speaker::Assistant => ConversationRole::Assistant,
    };
    let mut builder = SdkMessage::builder().role(role);
    for part in &message.parts {
        builder = builder.content(match part {
            Part::Text(text) => ContentBlock::Text(text.clone()),
            Part::Image(image) => ContentBlock::Image(
                ImageBlock::builder()
                    .format(image_format(image.format))
                    .source(ImageSource::Bytes(Blob::new(image.bytes.clone())))
                    .build()
                    .map_err(build_error)?,
            ),
        });
    }
    builder.build().map_err(build_error)
}

pub(crate) fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (_, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => {
            Document::Object(map.iter().map(|(k, v)| (k.clone(), to_document(v))).collect::<HashMap<_, _>>())
        }
    }
}

pub(crate) fn from_document(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(from_document).collect()),
        Document::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), from_document(v))).collect())
        }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// Maps an SDK error to what `ModelBrain` acts on: throttling and server-side trouble are
/// retried; a `ValidationException` about the output format means the model lacks native
/// structured output.
fn classify<R>(error: SdkError<ConverseError, R>, mode: OutputMode) -> TransportError {
    let service = match error {
        SdkError::ServiceError(service) => service.into_err(),
        SdkError::TimeoutError(_) => {
            return TransportError::Unavailable("Bedrock did not answer in time".into())
        }
        other => {
            let detail = match &other {
                SdkError::DispatchFailure(_) => "the request could not be sent",
                SdkError::ResponseError(_) => "the response could not be read",
                _ => "the request failed",
            };
            return TransportError::Unavailable(format!("Bedrock: {detail}"));
        }
    };
    let message = clip(service.message().unwrap_or_default());
    let code = service.code().unwrap_or("Unknown").to_owned();
    match service {
        ConverseError::ThrottlingException(_) => TransportError::Throttled { message, retry_after: None },
        ConverseError::InternalServerException(_)
        | ConverseError::ServiceUnavailableException(_)
        | ConverseError::ModelErrorException(_)
        | ConverseError::ModelTimeoutException(_)
        | ConverseError::ModelNotReadyException(_) => {
            TransportError::Unavailable(format!("{code}: {message}"))
        }
        ConverseError::ValidationException(_)
            if mode == OutputMode::Native && about_output_format(&message) =>
        {
            TransportError::UnsupportedMode(format!("{code}: {message}"))
        }
        _ => TransportError::Refused(format!("{code}: {message}")),
    }
}

fn about_output_format(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["outputconfig", "output_config", "textformat", "structured output", "json_schema", "output format"]
        .iter()
        .any(|w| lower.contains(w))
}

#[async_trait]
impl Transport for BedrockTransport {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn provider(&self) -> &'static str {
        "bedrock"
    }

    async fn call(&self, request: &ModelRequest) -> Result<ModelResponse, TransportError> {
        let messages = request.messages.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        let output = &request.output;
        let mut call = self
            .client
            .converse()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(request.system.clone()))
            .system(SystemContentBlock::CachePoint(cache_point()?))
            .set_messages(Some(messages))
            .inference_config(
                InferenceConfiguration::builder()
                    .max_tokens(i32::try_from(request.max_tokens).unwrap_or(i32::MAX))
                    .temperature(0.2)
                    .build(),
            );
        call = match request.mode {
            OutputMode::Native => {
                let schema = JsonSchemaDefinition::builder()
                    .schema(output.schema.to_string())
                    .name(output.name)
                    .description(output.description)
                    .build()
                    .map_err(build_error)?;
                let format = OutputFormat::builder()
                    .r#type(OutputFormatType::JsonSchema)
                    .structure(OutputFormatStructure::JsonSchema(schema))
                    .build()
                    .map_err(build_error)?;
                call.output_config(OutputConfig::builder().text_format(format).build())
            }
            OutputMode::Tool => {
                let spec = ToolSpecification::builder()
                    .name(output.name)
                    .description(output.description)
                    .input_schema(ToolInputSchema::Json(to_document(&output.schema)))
                    .strict(true)
                    .build()
                    .map_err(build_error)?;
                let choice = SpecificToolChoice::builder().name(output.name).build().map_err(build_error)?;
                let tools = ToolConfiguration::builder()
                    .tools(Tool::ToolSpec(spec))
                    .tools(Tool::CachePoint(cache_point()?))
                    .tool_choice(ToolChoice::Tool(choice))
                    .build()
                    .map_err(build_error)?;
                call.tool_config(tools)
            }
        };
        let response = call.send().await.map_err(|e| classify(e, request.mode))?;

        let content =
            response.output().and_then(|o| o.as_message().ok()).map(|m| m.content()).unwrap_or_default();
        let tool_input = content.iter().find_map(|block| match block {
            ContentBlock::ToolUse(tool) if tool.name() == output.name => Some(from_document(tool.input())),
            _ => None,
        });
        let answer = match tool_input {
            Some(value) => Answer::Json(value),
            None => {
                let text: Vec<&str> = content
                    .iter()
                    .filter_map(|block| match block {
                        ContentBlock::Text(text) => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                Answer::from_text(&text.concat())
            }
        };
        let stop = response.stop_reason().as_str().to_owned();
        let usage = response.usage();
        let count = |n: Option<i32>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        Ok(ModelResponse {
            answer,
            stop: StopReason { truncated: TRUNCATED.contains(&stop.as_str()), raw: stop },
            tokens: CallTokens {
                input: count(usage.map(|u| u.input_tokens())),
                output: count(usage.map(|u| u.output_tokens())),
                cache_read: count(usage.and_then(|u| u.cache_read_input_tokens())),
                cache_write: count(usage.and_then(|u| u.cache_write_input_tokens())),
            },
        })
    }
}
