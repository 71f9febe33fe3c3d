//! The Fargate build task. Exits 0 whenever it uploaded a report (a failed audit included),
//! 1 when it could not produce one, 2 when its configuration is incomplete.

use std::process::ExitCode;

use gantry_aws_shape::{init_tracing, BuilderTaskConfig};
use gantry_sandbox::{LocalBuildRunner, NodeDeps};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let config = match BuilderTaskConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "the builder is not configured");
            return ExitCode::from(2);
        }
    };
    let runner = LocalBuildRunner::new(config.work_root.clone())
        .with_node_deps(NodeDeps::new(config.node_deps.clone()));
    match gantry_builder::run(&config, &runner).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the build produced no report");
            ExitCode::FAILURE
        }
    }
}
