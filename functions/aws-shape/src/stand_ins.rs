//! Stand-ins where the AWS shape has no adapter configured:
//! - deployer and publisher without their tokens in the delivery secret: a mission that asks to
//!   deploy or publish fails that step with a reason that says what is missing, rather than
//!   pretending to have shipped;
//! - mission files: in AWS there are no previews (Vercel hosts them) and no work dirs (each
//!   Fargate task's disk goes with it), so pruning has nothing to remove;

use async_trait::async_trait;

use gantry_domain::MissionId;
use gantry_ports::{
    DeployRequest, Deployer, Deployment, MissionFiles, PortError, PortResult, PrunedFiles, Publication,
    PublishRequest, Publisher,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct NotConfiguredDeployer;

#[async_trait]
impl Deployer for NotConfiguredDeployer {
    async fn deploy(&self, _request: &DeployRequest) -> PortResult<Deployment> {
        Err(PortError::Failed(
            "deploy is not configured in this installation: set vercel_token in the delivery secret".into(),
        ))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct NotConfiguredPublisher;

#[async_trait]
impl Publisher for NotConfiguredPublisher {
    async fn publish(&self, _request: &PublishRequest) -> PortResult<Publication> {
        Err(PortError::Failed(
            "publish is not configured in this installation: set github_token in the delivery secret and GANTRY_GITHUB_OWNER".into(),
        ))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct NoMissionFiles;

#[async_trait]
impl MissionFiles for NoMissionFiles {
    async fn prune(&self, _mission: &MissionId) -> PortResult<PrunedFiles> {
        Ok(PrunedFiles::default())
    }
}
