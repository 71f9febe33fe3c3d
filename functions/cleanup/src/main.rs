//! The `cleanup` Lambda: one sweep per scheduled event; answers with the sweep's summary.

use gantry_aws_shape::{init_tracing, wiring, CleanupLambdaConfig};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let cleanup = wiring::cleanup(&CleanupLambdaConfig::from_env()?).await?;
    let cleanup = &cleanup;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let summary = gantry_pipeline::run_cleanup(&cleanup.deps, &cleanup.rules, chrono::Utc::now()).await;
        Ok::<_, lambda_runtime::Error>(summary)
    }))
    .await
}
