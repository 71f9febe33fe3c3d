//! The `steps` Lambda: the pipeline step named by `GANTRY_STEP`, on the state object.

use gantry_aws_shape::{init_tracing, wiring, StepsLambdaConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = StepsLambdaConfig::from_env()?;
    let (step, steps) = wiring::steps(&config).await?;
    let (steps, step) = (&steps, step);
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        gantry_steps_lambda::handle(steps, step, event)
    }))
    .await
}
