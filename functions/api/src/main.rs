//! The `api` Lambda: every HTTP route, behind API Gateway's HTTP API.

use gantry_aws_shape::{init_tracing, wiring, ApiLambdaConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = ApiLambdaConfig::from_env()?;
    let state = wiring::api_state(&config).await?;
    lambda_http::run(gantry_api_lambda::app(state)).await
}
