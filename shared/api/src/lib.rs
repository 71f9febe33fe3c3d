//! Gantry's HTTP contract (`docs/architecture.md`, "HTTP API"): one axum router, served by the `api`
//! Lambda through `lambda_http` and by `gantry serve` on hyper.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "256"]

pub mod auth;
pub mod error;
pub mod extract;
pub mod images;
pub mod openapi;
pub mod preview;
mod routes;
pub mod state;
pub mod views;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

pub use auth::ClientIp;
pub use error::ApiError;
pub use preview::PreviewOrigins;
pub use state::{ApiConfig, AppState, Limits, Mode};

/// The whole HTTP surface. Entry points add only transport concerns (client address, tracing).
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.body_bytes;
    let gantry = Router::new()
        .route("/auth", post(routes::auth::login))
        .route("/logout", post(routes::auth::logout))
        .route("/consult", post(routes::consult::consult))
        .route("/voice", post(routes::consult::voice))
        .route("/architect", post(routes::consult::architect))
        .route("/consultation/{id}", get(routes::missions::consultation))
        .route("/themes", get(routes::meta::themes))
        .route("/status/{id}", get(routes::missions::status))
        .route("/latest", get(routes::missions::latest))
        .route("/missions", get(routes::missions::list))
        .route("/missions/{id}/cancel", post(routes::missions::cancel))
        .route("/missions/{id}/retry", post(routes::missions::retry))
        .route("/missions/{id}/evidence", get(routes::missions::evidence_pack))
        .route("/missions/{id}/files", get(routes::files::list))
        .route("/missions/{id}/download", get(routes::files::download))
        .route("/uploads", post(routes::uploads::create))
        .route("/uploads/{*key}", put(routes::uploads::receive))
        .route("/metrics", get(routes::meta::metrics))
        .route("/openapi.json", get(routes::meta::openapi))
        .fallback(|| async { ApiError::NotFound });

    Router::new()
        .route("/", get(web::index))
        .route("/assets/{file}", get(web::asset))
        .route("/health", get(routes::meta::health))
        .route("/preview/{id}", get(web::preview_root))
        .route("/preview/{id}/", get(web::preview_root))
        .route("/preview/{id}/{*path}", get(web::preview))
        .nest("/gantry", gantry)
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // Outermost, so a preview host never reaches a Gantry route or gets Gantry's headers.
        .layer(axum::middleware::from_fn_with_state(state.clone(), preview::by_host))
        .with_state(state)
}
