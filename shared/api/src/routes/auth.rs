//! `POST /gantry/auth`: the owner's password for a session token and cookie;
//! `POST /gantry/logout`: the cookie expired again.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{issue_session, verify_password, ClientIp, COOKIE_NAME, OWNER};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let key = format!("login-failures:{client}");
    let window = Duration::from_secs(60);
    let allowed = state.config.limits.login_failures_per_minute;
    if let Some(retry_after) = state.limiter.exceeded(&key, allowed, window).await? {
        return Err(ApiError::RateLimited { retry_after, what: "failed sign-ins" });
    }
    let hash = state.config.password_hash.clone();
    let password = request.password;
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !matches {
        tracing::warn!(client = %client, "failed sign-in");
        if let Err(retry_after) = state.limiter.hit(&key, allowed, window).await? {
            return Err(ApiError::RateLimited { retry_after, what: "failed sign-ins" });
        }
        return Err(ApiError::WrongPassword);
    }
    let (token, expires_at) =
        issue_session(&state.config.token_key, OWNER, Utc::now(), state.config.session_ttl);
    let cookie = format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        state.config.session_ttl.as_secs(),
        if state.config.secure_cookie { "; Secure" } else { "" }
    );
    let mut response = Json(json!({
        "token": token,
        "expires_at": expires_at,
        "speech": "You're signed in. What shall we build?",
    }))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// Expires the session cookie. Needs no token: clearing a cookie grants nothing, and a page whose
/// token already lapsed must still be able to drop the cookie. Session tokens are stateless, so
/// a copied bearer token stays valid until it expires.
pub async fn logout(State(state): State<AppState>) -> Response {
    let cookie = format!(
        "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if state.config.secure_cookie { "; Secure" } else { "" }
    );
    let mut response = Json(json!({"speech": "You're signed out."})).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}
