//! API errors: one enum, mapped to a status code and `{"error":{"code","message","speech"}}`.
//! Internal details are logged, never sent to the client.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use gantry_ports::PortError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("wrong password")]
    WrongPassword,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is too large")]
    TooLarge,
    #[error("{reason}")]
    Guardrail { reason: String },
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many requests")]
    RateLimited { retry_after: Duration, what: &'static str },
    #[error("a service Gantry depends on is unavailable")]
    Unavailable(String),
    #[error("something went wrong on our side")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String, String) {
        match self {
            ApiError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                m.clone(),
                "I couldn't understand that request.".into(),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in first: a valid bearer token or session cookie is required.".into(),
                "Please sign in first.".into(),
            ),
            ApiError::WrongPassword => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "That password is not right.".into(),
                "That password is not right.".into(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "No such mission or resource.".into(),
                "I couldn't find that.".into(),
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone(), m.clone()),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "The request body is larger than Gantry accepts.".into(),
                "That was too large for me to take.".into(),
            ),
            ApiError::Guardrail { reason } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "guardrail",
                reason.clone(),
                format!("I can't help with that. {reason}"),
            ),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m.clone()),
            ApiError::RateLimited { retry_after, what } => {
                let secs = retry_after.as_secs().max(1);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("Too many {what}; try again in {secs} seconds."),
                    format!("Too many {what}. Please try again in {secs} seconds."),
                )
            }
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "A service Gantry depends on is unavailable; please try again shortly.".into(),
                "Something I depend on is unavailable. Please try again shortly.".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side.".into(),
                "Something went wrong on my side.".into(),
            ),
        }
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::NotFound => ApiError::NotFound,
            PortError::Conflict(m) => ApiError::Conflict(m),
            PortError::Invalid(m) => ApiError::BadRequest(m),
            PortError::Unavailable { service, message } => {
                ApiError::Unavailable(format!("{service}: {message}"))
            }
            PortError::Failed(m) => ApiError::Internal(m),
        }
    }
}

/// A change through the one mission writer: a refusal is already the answer; a mission that
/// kept changing is a conflict the caller may try again.
impl From<gantry_ports::UpdateError<ApiError>> for ApiError {
    fn from(e: gantry_ports::UpdateError<ApiError>) -> Self {
        match e {
            gantry_ports::UpdateError::Refused(e) => e,
            gantry_ports::UpdateError::NotFound(_) => ApiError::NotFound,
            gantry_ports::UpdateError::Contended { .. } => {
                ApiError::Conflict("The mission kept changing; please try again.".into())
            }
            gantry_ports::UpdateError::Port(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, speech) = self.parts();
        match &self {
            ApiError::Internal(detail) | ApiError::Unavailable(detail) => {
                tracing::error!(code, detail = %detail, "request failed");
            }
            _ => tracing::debug!(code, %message, "request refused"),
        }
        let body = json!({"error": {"code": code, "message": message, "speech": speech}});
        let mut response = (status, Json(body)).into_response();
        if let ApiError::RateLimited { retry_after, .. } = self {
            let secs = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
