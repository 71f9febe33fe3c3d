//! Every adapter of the AWS shape, built once from a typed config. Entry points call one of
//! these and hand the result to the router, the step handlers or the cleanup runner.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;

use gantry_api::{AppState, Mode};
use gantry_aws::ecs::EcsBuildTasks;
use gantry_aws::secrets::{Secrets, SecretsError};
use gantry_aws::{DynamoRateLimiter, DynamoStore, KmsSigner, S3ObjectStore, StepFunctionsOrchestrator};
use gantry_brain::model::config::{BrainConfig, BrainConfigError};
use gantry_brain::OfflineBrain;
use gantry_domain::policy::Policy;
use gantry_pipeline::steps::BuildIo;
use gantry_pipeline::{load_policy, CleanupDeps, EvidenceLog, PolicyFileError, Step, Steps};
use gantry_ports::Brain;

use gantry_delivery::{DeliveryConfig, DeliveryConfigError, GitHubPublisher, VercelDeployer};
use gantry_ports::PortError;

use crate::config::{ApiLambdaConfig, CleanupLambdaConfig, ConfigError, Resources, StepsLambdaConfig, STEP};
use crate::stand_ins::{NoMissionFiles, NotConfiguredDeployer, NotConfiguredPublisher};

/// How long the Fargate builder's presigned URLs live: well past the Build state's 420 s
/// timeout, so a slow task start never finds its URLs expired.
const BUILD_URL_LIFETIME: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Policy(#[from] PolicyFileError),
    #[error(transparent)]
    Brain(#[from] BrainConfigError),
    #[error(transparent)]
    Delivery(#[from] DeliveryConfigError),
    #[error("cannot build a delivery adapter: {0}")]
    DeliveryAdapter(#[from] PortError),
}

/// The brain `GANTRY_BRAIN` selects (offline when unset); Bedrock shares the SDK configuration.
pub async fn brain(sdk: &SdkConfig, policy: &Policy) -> Result<Arc<dyn Brain>, WiringError> {
    let config = BrainConfig::from_lookup(&crate::config::process_env)?;
    Ok(config.build(policy, Some(sdk)).await?)
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    gantry_aws::sdk_config().await
}

/// The mission data adapters every function shares.
#[derive(Clone)]
pub struct DataAdapters {
    pub store: DynamoStore,
    pub objects: Arc<S3ObjectStore>,
    /// Every put carries Object Lock COMPLIANCE retention.
    pub evidence: Arc<S3ObjectStore>,
}

pub fn data_adapters(
    sdk: &SdkConfig,
    resources: &Resources,
    evidence_retention: std::time::Duration,
) -> DataAdapters {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let s3 = gantry_aws::client::s3_client(sdk);
    DataAdapters {
        store: DynamoStore::new(dynamodb, &resources.table),
        objects: Arc::new(S3ObjectStore::new(s3.clone(), &resources.artifact_bucket)),
        evidence: Arc::new(
            S3ObjectStore::new(s3, &resources.evidence_bucket).with_object_lock(evidence_retention),
        ),
    }
}

/// Reads the API's secrets once (the JSON secret when the config names one, else the
/// environment).
pub async fn api_secrets(sdk: &SdkConfig, config: &ApiLambdaConfig) -> Result<Secrets, WiringError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    Ok(Secrets::load(Some(&client), config.secret_arn.as_deref()).await?)
}

/// The router's state over AWS resources, given the password hash and token-signing key,
/// with the offline brain: entry points replace it with `brain()`.
pub fn api_state_with(
    sdk: &SdkConfig,
    config: &ApiLambdaConfig,
    password_hash: String,
    token_key: Vec<u8>,
) -> Result<AppState, WiringError> {
    // The API only reads evidence; the retention applies to puts, which the steps make.
    let data = data_adapters(sdk, &config.resources, std::time::Duration::ZERO);
    let store = Arc::new(data.store.clone());
    let orchestrator = StepFunctionsOrchestrator::new(
        aws_sdk_sfn::Client::new(sdk),
        &config.state_machine_arn,
        store.clone(),
    );
    let mut api_config = gantry_api::ApiConfig::new(Mode::Aws, password_hash, token_key);
    api_config.upload_origin = gantry_aws::client::s3_bucket_origin(sdk, &config.resources.artifact_bucket);
    Ok(AppState {
        store: store.clone(),
        tokens: store,
        objects: data.objects,
        evidence: data.evidence,
        // Only the public key is read (kms:GetPublicKey, once); the API never signs.
        evidence_key: Arc::new(KmsSigner::new(aws_sdk_kms::Client::new(sdk), &config.signing_key_id)),
        orchestrator: Arc::new(orchestrator),
        brain: Arc::new(OfflineBrain),
        limiter: Arc::new(DynamoRateLimiter::new(
            aws_sdk_dynamodb::Client::new(sdk),
            &config.resources.table,
        )),
        policy: Arc::new(load_policy(config.policy.as_deref())?),
        config: Arc::new(api_config),
    })
}

/// The `api` Lambda's router state: secrets read once, every adapter built once.
pub async fn api_state(config: &ApiLambdaConfig) -> Result<AppState, WiringError> {
    let sdk = sdk_config().await;
    let secrets = api_secrets(&sdk, config).await?;
    let password_hash = secrets.require_password_hash()?.to_owned();
    let token_key = secrets.require_token_key()?.to_vec();
    let mut state = api_state_with(&sdk, config, password_hash, token_key)?;
    state.brain = brain(&sdk, &state.policy).await?;
    Ok(state)
}

/// The step handlers over AWS resources, evidence signed by the KMS key.
pub fn steps_with(
    sdk: &SdkConfig,
    resources: &Resources,
    signing_key_id: &str,
    evidence_retention: std::time::Duration,
    policy: Policy,
    brain: Arc<dyn Brain>,
) -> Steps {
    let data = data_adapters(sdk, resources, evidence_retention);
    let signer = Arc::new(KmsSigner::new(aws_sdk_kms::Client::new(sdk), signing_key_id));
    Steps {
        store: Arc::new(data.store),
        objects: data.objects.clone(),
        brain,
        deployer: Arc::new(NotConfiguredDeployer),
        publisher: Arc::new(NotConfiguredPublisher),
        evidence: EvidenceLog { objects: data.objects, evidence: data.evidence, signer },
        policy: Arc::new(policy),
        build_io: BuildIo::Presigned { expires_in: BUILD_URL_LIFETIME },
    }
}

/// The steps with the real deployer and publisher where `delivery` configures them; the
/// stand-ins (which fail the step saying what is missing) where it does not.
pub fn with_delivery(mut steps: Steps, delivery: DeliveryConfig) -> Result<Steps, WiringError> {
    if let Some(config) = delivery.vercel {
        steps.deployer = Arc::new(VercelDeployer::new(config)?);
    }
    if let Some(config) = delivery.github {
        steps.publisher = Arc::new(GitHubPublisher::new(config)?);
    }
    Ok(steps)
}

/// The delivery configuration of the deploy and publish steps: tokens from the delivery secret
/// (read once, here), everything else from the environment.
pub async fn delivery_config(
    sdk: &SdkConfig,
    secret_arn: Option<&str>,
) -> Result<DeliveryConfig, WiringError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let secrets = Secrets::load(secret_arn.map(|_| &client), secret_arn).await?;
    let lookup = |name: &str| match name {
        gantry_delivery::config::VERCEL_TOKEN => secrets.vercel_token.clone(),
        gantry_delivery::config::GITHUB_TOKEN => secrets.github_token.clone(),
        other => crate::config::process_env(other),
    };
    Ok(DeliveryConfig::from_lookup(&lookup)?)
}

/// The `steps` Lambda: which step this function runs, and the handlers.
pub async fn steps(config: &StepsLambdaConfig) -> Result<(Step, Steps), WiringError> {
    let step = Step::from_name(&config.step).ok_or_else(|| {
        let names: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
        ConfigError::Invalid {
            var: STEP,
            message: format!("{:?} is not a step; expected one of {}", config.step, names.join(", ")),
        }
    })?;
    let policy = load_policy(config.policy.as_deref())?;
    let sdk = sdk_config().await;
    let brain = brain(&sdk, &policy).await?;
    let steps =
        steps_with(&sdk, &config.resources, &config.signing_key_id, config.evidence_retention, policy, brain);
    // Only the deploy and publish steps hold delivery credentials.
    let steps = match step {
        Step::Deploy | Step::Publish => {
            with_delivery(steps, delivery_config(&sdk, config.delivery_secret_arn.as_deref()).await?)?
        }
        _ => steps,
    };
    Ok((step, steps))
}

/// What the cleanup runner works with.
pub struct Cleanup {
    pub deps: CleanupDeps,
    pub rules: gantry_pipeline::CleanupConfig,
}

pub async fn cleanup(config: &CleanupLambdaConfig) -> Result<Cleanup, WiringError> {
    let policy = load_policy(config.policy.as_deref())?;
    let sdk = sdk_config().await;
    let data = data_adapters(&sdk, &config.resources, config.evidence_retention);
    let store: Arc<DynamoStore> = Arc::new(data.store);
    let orchestrator = StepFunctionsOrchestrator::new(
        aws_sdk_sfn::Client::new(&sdk),
        &config.state_machine_arn,
        store.clone(),
    );
    let deps = CleanupDeps {
        store: store.clone(),
        images: store,
        objects: data.objects,
        orchestrator: Arc::new(orchestrator),
        builds: Arc::new(EcsBuildTasks::new(aws_sdk_ecs::Client::new(&sdk), &config.build_cluster)),
        files: Arc::new(NoMissionFiles),
    };
    let rules = gantry_pipeline::CleanupConfig::new(
        config.consultation_idle_secs,
        config.retention_days,
        policy.build.timeout_seconds,
    );
    Ok(Cleanup { deps, rules })
}
