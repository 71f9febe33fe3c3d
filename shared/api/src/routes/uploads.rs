//! Design-image uploads: a presigned PUT (S3 in AWS, this server locally).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::images;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    content_type: String,
    content_length: u64,
}

const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<UploadRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let ext = images::extension_for(&request.content_type)
        .ok_or_else(|| ApiError::Unprocessable("The image must be a PNG, JPEG, WebP or GIF file.".into()))?;
    if request.content_length == 0 {
        return Err(ApiError::Unprocessable("The image is empty.".into()));
    }
    if request.content_length > images::MAX_IMAGE_BYTES {
        return Err(ApiError::Unprocessable("The image must be at most 5 MiB.".into()));
    }
    let key = images::new_key(&caller.subject, ext);
    let presigned = state
        .objects
        .presign_put(&key, &request.content_type, request.content_length, UPLOAD_URL_LIFETIME)
        .await?;
    let headers: serde_json::Map<String, serde_json::Value> =
        presigned.headers.into_iter().map(|(k, v)| (k, json!(v))).collect();
    Ok(Json(json!({
        "upload_url": presigned.url,
        "method": "PUT",
        "headers": headers,
        "image_key": key,
        "expires_at": presigned.expires_at,
    })))
}

/// The local shape's upload endpoint: the URL's signature is the authorisation, as with S3.
pub async fn receive(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let query = query.unwrap_or_default();
    state
        .objects
        .verify_presigned_put(&key, content_type, body.len() as u64, &query)
        .map_err(|_| ApiError::Unauthorized)?;
    let sniffed = images::check(&body)?;
    if sniffed != content_type {
        return Err(ApiError::Unprocessable("The file's contents do not match its content type.".into()));
    }
    state.objects.put(&key, &body, content_type).await?;
    Ok(StatusCode::OK)
}
