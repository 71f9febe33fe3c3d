//! `gantry serve --backend aws`: the same router, against the AWS resources the environment
//! names (`GANTRY_TABLE`, `GANTRY_ARTIFACT_BUCKET`, `GANTRY_EVIDENCE_BUCKET`,
//! `GANTRY_STATE_MACHINE_ARN`; `AWS_ENDPOINT_URL` for an emulator). Missions run in Step
//! Functions, not in this process. The password hash and token key come from the secret named
//! by `GANTRY_SECRET_ARN` when set, else as for the local backend.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

use gantry_aws_shape::config::process_env;
use gantry_aws_shape::{wiring, ApiLambdaConfig};

use crate::serve;

pub async fn run(addr: SocketAddr, public_url: Option<String>) -> anyhow::Result<ExitCode> {
    let config = ApiLambdaConfig::from_lookup_secret_optional(&process_env)
        .context("--backend aws serves the AWS resources named by the environment")?;
    let sdk = wiring::sdk_config().await;
    let secrets = wiring::api_secrets(&sdk, &config).await?;
    let password_hash = match secrets.password_hash {
        Some(hash) => hash,
        None => serve::password_hash()?,
    };
    let token_key = match secrets.token_key {
        Some(key) => key,
        None => {
            tracing::warn!("no token key in the secret or GANTRY_TOKEN_KEY: sessions end with this process");
            let mut key = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
            key
        }
    };
    let (listener, _, public_base) = serve::bind(addr, public_url.or(config.public_url.clone())).await?;
    let mut state = wiring::api_state_with(&sdk, &config, password_hash, token_key)?;
    state.brain = wiring::brain(&sdk, &state.policy).await?;
    let banner = format!(
        "Gantry is serving the web chat at {public_base}/ (AWS backend: table {}, state machine {})",
        config.resources.table, config.state_machine_arn
    );
    serve::serve_app(listener, state, &public_base, &banner).await
}
