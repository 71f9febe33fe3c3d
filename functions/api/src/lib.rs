//! The `api` Lambda's one transport concern: the caller's address, from API Gateway's request
//! context (the socket is the Lambda runtime's, not the client's).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;

use gantry_api::{router, AppState, ClientIp};

async fn client_ip(mut request: Request, next: Next) -> Response {
    let ip = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip {
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

/// The router as the Lambda serves it.
pub fn app(state: AppState) -> Router {
    router(state).layer(axum::middleware::from_fn(client_ip))
}
