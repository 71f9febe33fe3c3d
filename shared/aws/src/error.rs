//! The one place SDK errors become `PortError`s.
//!
//! Retrying is the SDK's job (see `client::retry_config`): whatever still fails after its bounded
//! attempts and is worth trying again later — throttling, a 5xx, a timeout, a dropped connection —
//! becomes `PortError::Unavailable`, which callers treat as transient. A lost conditional write is
//! `PortError::Conflict`; everything else is a plain failure naming the service and the error code.

// Every client shares one smithy runtime, so these re-exports serve all services alike.
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use gantry_ports::PortError;

/// Error codes that mean "slow down": worth retrying later.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "SlowDown",
    "TransactionInProgressException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Error codes of a condition that did not hold.
const CONDITION_FAILED: &[&str] = &["ConditionalCheckFailedException", "PreconditionFailed"];

/// Maps any SDK error of `service` to a `PortError`.
pub fn port_error<E>(service: &'static str, error: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = DisplayErrorContext(&error).to_string();
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PortError::Unavailable { service, message }
        }
        SdkError::ServiceError(failure) => {
            let code = failure.err().code().unwrap_or_default();
            let status = failure.raw().status();
            if CONDITION_FAILED.contains(&code) {
                PortError::Conflict(format!("{service}: {code}"))
            } else if status.is_server_error() || status.as_u16() == 429 || THROTTLING.contains(&code) {
                PortError::Unavailable { service, message }
            } else {
                PortError::Failed(format!("{service} refused the request: {message}"))
            }
        }
        _ => PortError::Failed(format!("{service} request could not be made: {message}")),
    }
}

/// A record this crate wrote cannot be read back.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> PortError {
    PortError::Failed(format!("stored record is unreadable: {what}"))
}
