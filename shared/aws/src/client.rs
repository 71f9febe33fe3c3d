//! Shared SDK configuration: every client gets the same timeouts and bounded retries.
//!
//! Entry points call [`sdk_config`] once at start-up and build each client from it; tests build
//! an `SdkConfig` pointing at the emulator with the same [`timeout_config`] and [`retry_config`].

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Connect, per attempt and whole-operation limits. KMS signing and DynamoDB writes answer in
/// milliseconds; a 5 MiB S3 object in well under the attempt limit.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(15))
        .operation_timeout(Duration::from_secs(45))
        .build()
}

/// Standard retry mode (exponential backoff with jitter, client-side retry quota): at most four
/// attempts, the transient ones only (throttling, 5xx, timeouts, dropped connections).
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5))
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`…), with
/// this crate's timeouts and retries.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeout_config())
        .retry_config(retry_config())
        .load()
        .await
}

/// An S3 client. Behind a custom endpoint (an emulator or an S3-compatible store) buckets are
/// addressed by path, since `bucket.127.0.0.1` resolves nowhere; against AWS by virtual host.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let conf =
        aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The origin a browser reaches `bucket` at through the clients above: the emulator's endpoint
/// (path-style) when one is set, else the bucket's virtual-hosted S3 endpoint. The page's
/// Content-Security-Policy must allow it, or the browser's presigned PUT is blocked.
pub fn s3_bucket_origin(config: &SdkConfig, bucket: &str) -> Option<String> {
    match config.endpoint_url() {
        Some(endpoint) => {
            let (scheme, rest) = endpoint.split_once("://")?;
            let host = rest.split('/').next().filter(|h| !h.is_empty())?;
            Some(format!("{scheme}://{host}"))
        }
        None => config.region().map(|region| format!("https://{bucket}.s3.{region}.amazonaws.com")),
    }
}
