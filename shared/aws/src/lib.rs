//! The AWS shape's adapters. Each module implements one port over one AWS service, through the
//! official SDK; `AWS_ENDPOINT_URL` points them at an emulator in tests.

pub mod client;
pub mod dynamodb;
pub mod ecs;
pub mod error;
pub mod kms;
pub mod s3;
pub mod secrets;
pub mod sfn;

pub use client::sdk_config;
pub use dynamodb::{DynamoRateLimiter, DynamoStore};
pub use kms::KmsSigner;
pub use s3::S3ObjectStore;
pub use sfn::StepFunctionsOrchestrator;
