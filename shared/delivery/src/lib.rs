//! Real delivery: the build's output deployed to Vercel over its REST API, and the manifest
//! published to GitHub (branch `gantry/<mission_id>` and a pull request) through octocrab.
//!
//! Both adapters are built once at start-up from a [`DeliveryConfig`]; their tokens live in a
//! [`Secret`], which never prints, and go nowhere but the provider's `Authorization` header.

pub mod config;
pub mod github;
pub mod vercel;

#[cfg(feature = "fakes")]
pub mod fakes;

pub use config::{DeliveryConfig, DeliveryConfigError, GitHubConfig, Secret, VercelConfig, VercelTarget};
pub use github::{GantryBranch, GitHubPublisher};
pub use vercel::VercelDeployer;
