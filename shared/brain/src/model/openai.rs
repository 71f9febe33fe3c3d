//! The OpenAI-compatible transport: `POST {base}/chat/completions`, as served by llama.cpp's
//! `llama-server`, Ollama, vLLM, LM Studio and OpenAI itself. Structured output through
//! `response_format: {type: json_schema}`, or one forced function call.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{json, Value};

use super::transport::{
    Answer, CallTokens, Message, ModelRequest, ModelResponse, OutputMode, Part, Speaker, StopReason,
    Transport, TransportError,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest provider error message carried into an error (they can quote the whole request).
const MAX_ERROR_CHARS: usize = 300;

pub struct OpenAiTransport {
    client: reqwest::Client,
    url: String,
    model: String,
    /// Sent as a bearer token; never logged.
    api_key: Option<String>,
}

impl OpenAiTransport {
    /// `base_url` is the API root, e.g. `http://127.0.0.1:8080/v1` or `http://localhost:11434/v1`.
    pub fn new(
        base_url: &str,
        model: impl Into<String>,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {e}"))?;
        Ok(Self {
            client,
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.into(),
            api_key,
        })
    }

    fn body(&self, request: &ModelRequest) -> Value {
        let mut messages = vec![json!({"role": "system", "content": request.system})];
        messages.extend(request.messages.iter().map(message));
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": 0.2,
            "stream": false,
        });
        let output = &request.output;
        match request.mode {
            OutputMode::Native => {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": output.name, "description": output.description, "strict": true, "schema": output.schema},
                });
            }
            OutputMode::Tool => {
                body["tools"] = json!([{
                    "type": "function",
                    "function": {"name": output.name, "description": output.description, "strict": true, "parameters": output.schema},
                }]);
                body["tool_choice"] = json!({"type": "function", "function": {"name": output.name}});
            }
        }
        body
    }
}

fn message(message: &Message) -> Value {
    match message.speaker {
        Speaker::Assistant => {
            let text: Vec<&str> = message
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text(t) => Some(t.as_str()),
                    Part::Image(_) => None,
                })
                .collect();
            json!({"role": "assistant", "content": text.join("\n\n")})
        }
        Speaker::User => {
            let content: Vec<Value> = message
                .parts
                .iter()
                .map(|part| match part {
                    Part::Text(text) => json!({"type": "text", "text": text}),
                    Part::Image(image) => {
                        let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
                        json!({"type": "image_url", "image_url": {"url": format!("data:{};base64,{data}", image.format.media_type())}})
                    }
                })
                .collect();
            json!({"role": "user", "content": content})
        }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// The `{error: {message}}` of an error body, or the start of whatever came back.
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)
    });
    clip(message.unwrap_or(body))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn read_response(body: &Value, mode: OutputMode) -> Result<ModelResponse, TransportError> {
    let choice = body
        .pointer("/choices/0")
        .ok_or_else(|| TransportError::Unavailable("the answer has no choices".into()))?;
    let finish = choice.get("finish_reason").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    let message = choice.get("message").cloned().unwrap_or(Value::Null);
    let tool_arguments = message.pointer("/tool_calls/0/function/arguments");
    let answer = match (mode, tool_arguments) {
        (_, Some(Value::String(arguments))) => Answer::from_text(arguments),
        // Some servers send the arguments as an object rather than a string.
        (_, Some(arguments @ Value::Object(_))) => Answer::Json(arguments.clone()),
        _ => Answer::from_text(message.get("content").and_then(Value::as_str).unwrap_or_default()),
    };
    let number = |pointer: &str| body.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let prompt = number("/usage/prompt_tokens");
    // OpenAI counts cached prompt tokens inside `prompt_tokens`.
    let cached = number("/usage/prompt_tokens_details/cached_tokens").min(prompt);
    Ok(ModelResponse {
        answer,
        stop: StopReason { truncated: finish == "length", raw: finish },
        tokens: CallTokens {
            input: prompt - cached,
            output: number("/usage/completion_tokens"),
            cache_read: cached,
            cache_write: 0,
        },
    })
}

#[async_trait]
impl Transport for OpenAiTransport {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn provider(&self) -> &'static str {
        "openai"
    }

    async fn call(&self, request: &ModelRequest) -> Result<ModelResponse, TransportError> {
        let mut http = self.client.post(&self.url).json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let response = http.send().await.map_err(|e| {
            // reqwest's message names the URL, never the headers, so the key stays out of it.
            TransportError::Unavailable(format!("the model server did not answer: {}", e.without_url()))
        })?;
        let status = response.status();
        let after = retry_after(response.headers());
        let text = response.text().await.map_err(|e| {
            TransportError::Unavailable(format!("the answer could not be read: {}", e.without_url()))
        })?;
        if status.as_u16() == 429 {
            return Err(TransportError::Throttled { message: error_message(&text), retry_after: after });
        }
        if status.is_server_error() {
            return Err(TransportError::Unavailable(format!(
                "HTTP {}: {}",
                status.as_u16(),
                error_message(&text)
            )));
        }
        if !status.is_success() {
            let message = error_message(&text);
            let lower = message.to_ascii_lowercase();
            let about_mode =
                ["response_format", "json_schema", "structured output"].iter().any(|w| lower.contains(w));
            return Err(if status.as_u16() == 400 && request.mode == OutputMode::Native && about_mode {
                TransportError::UnsupportedMode(message)
            } else {
                TransportError::Refused(format!("HTTP {}: {message}", status.as_u16()))
            });
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|_| TransportError::Unavailable("the answer is not JSON".into()))?;
        read_response(&body, request.mode)
    }
}
