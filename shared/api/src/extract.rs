//! Extractors that turn bad input into the contract's answers: 400 for malformed JSON, 413 for
//! bodies over the limit, 404 for ids that are not mission ids.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use gantry_domain::MissionId;

use crate::error::ApiError;

/// `Json<T>` with the contract's rejections.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::TooLarge;
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::BadRequest("send JSON with `Content-Type: application/json`".into())
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::BadRequest(format!("the JSON does not fit: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest("the body is not valid JSON".into()),
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// A `{id}` path segment that must be a mission id; anything else is 404, never 500.
pub struct MissionPath(pub MissionId);

impl<S: Send + Sync> FromRequestParts<S> for MissionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        raw.parse().map(MissionPath).map_err(|_| ApiError::NotFound)
    }
}
