//! Delivery: deploying the build's output and publishing its files on a `gantry/` branch.

use super::*;

impl Steps {
    pub(super) async fn deploy(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        self.enter(&id, MissionStatus::Deploying).await?;
        let record = self.step_started(&id, StepName::Deploy, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let files = match self.build_output(&id, attempt).await {
            Ok(files) => files,
            Err(e) => {
                self.step_ended(&id, record, false, e.to_string()).await?;
                return Err(e);
            }
        };
        let request = DeployRequest { mission: id.clone(), manifest, files };
        let deployment = match self.deployer.deploy(&request).await {
            Ok(d) => d,
            Err(e) => return Err(self.delivery_failed(&id, record, DeliveryStep::Deploy, attempt, e).await),
        };
        let shown = DeploymentRef {
            provider: deployment.provider.clone(),
            id: deployment.deployment_id.clone(),
            url: deployment.url.clone(),
        };
        self.update(&id, |m| {
            m.url = Some(shown.url.clone());
            m.deployment = Some(shown.clone());
            // A resumed retry starts with attempts reset: the build it delivers is this one.
            m.attempts = m.attempts.max(attempt);
            Ok(())
        })
        .await?;
        self.evidence
            .append(&id, kinds::DEPLOY, serde_json::to_value(&deployment).unwrap_or(Value::Null))
            .await?;
        self.step_ended(&id, record, true, format!("live at {}", deployment.url)).await?;
        Ok(state)
    }

    pub(super) async fn publish(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let mission = self.enter(&id, MissionStatus::Publishing).await?;
        let record = self.step_started(&id, StepName::Publish, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let head = self.evidence.head(&id).await?;
        let report = match self.objects.get(&build_keys(&id, attempt).report_url).await? {
            Some(bytes) => serde_json::from_slice::<BuildReport>(&bytes).ok(),
            None => None,
        };
        let body = pull_request_body(&mission, report.as_ref(), &head);
        let design_image = match mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone()) {
            Some(key) => self
                .objects
                .get(&key)
                .await?
                .map(|bytes| (key.rsplit('.').next().unwrap_or("bin").to_owned(), bytes)),
            None => None,
        };
        let request = PublishRequest {
            mission: id.clone(),
            manifest,
            title: format!("Gantry: {}", mission.title),
            body,
            design_image,
        };
        let publication = match self.publisher.publish(&request).await {
            Ok(p) => p,
            Err(e) => return Err(self.delivery_failed(&id, record, DeliveryStep::Publish, attempt, e).await),
        };
        let (branch, pr_url) = (publication.branch.clone(), publication.pr_url.clone());
        self.update(&id, |m| {
            m.branch = Some(branch.clone());
            m.repo = Some(publication.repo.clone());
            m.pr_url = pr_url.clone();
            m.attempts = m.attempts.max(attempt);
            Ok(())
        })
        .await?;
        self.evidence
            .append(&id, kinds::PUBLISH, serde_json::to_value(&publication).unwrap_or(Value::Null))
            .await?;
        let detail = match &publication.pr_url {
            Some(url) => format!("pull request {url}"),
            None => format!(
                "committed {} on {}",
                &publication.commit[..publication.commit.len().min(12)],
                publication.branch
            ),
        };
        self.step_ended(&id, record, true, detail).await?;
        Ok(state)
    }

    /// A deploy or publish that failed: the step's record and the mission's error say why, so
    /// the mission ends with that reason; the error goes on to the state machine. A retry
    /// resumes at the failed step.
    pub(super) async fn delivery_failed(
        &self,
        id: &MissionId,
        record: StepRecord,
        step: DeliveryStep,
        attempt: u32,
        error: PortError,
    ) -> StepError {
        let reason = format!("{} failed: {error}", step.name());
        if let Err(e) = self.step_ended(id, record, false, error.to_string()).await {
            return e;
        }
        if let Err(e) = self
            .update(id, |m| {
                m.error = Some(reason.clone());
                m.resume = Some(ResumePoint { step, attempt });
                Ok(())
            })
            .await
        {
            return e;
        }
        error.into()
    }
}

/// The pull request's description: what was asked, what was built and checked, where it runs,
/// and how to verify its evidence.
pub(super) fn pull_request_body(
    mission: &Mission,
    report: Option<&BuildReport>,
    evidence_head: &str,
) -> String {
    let id = &mission.id;
    let mut body = format!("Built by Gantry for mission `{id}`: {}.\n", mission.title);
    if let Some(consultation) = &mission.consultation {
        if let Some(plan) = &consultation.proposal {
            body.push_str(&format!("\n## Plan\n\n{}\n", plan.trim()));
        }
        if !consultation.features.is_empty() {
            body.push_str("\n## Features\n\n");
            for feature in &consultation.features {
                body.push_str(&format!("- {feature}\n"));
            }
        }
    }
    body.push_str("\n## Audit\n\n");
    match report {
        Some(r) => body.push_str(&format!(
            "{} on attempt {} in {:.1} s ({}), exit code {}; log sha256 `{}`\n",
            if r.passed { "Passed" } else { "Failed" },
            mission.attempts.max(1),
            r.duration_ms as f64 / 1000.0,
            r.isolation,
            r.exit_code.map_or("none".into(), |c| c.to_string()),
            r.log_sha256
        )),
        None => body.push_str("No build report was found.\n"),
    }
    if let Some(url) = &mission.url {
        body.push_str(&format!("\n## Preview\n\n{url}\n"));
    }
    body.push_str(&format!(
        "\n## Evidence\n\nHead hash (sha256, before this pull request was recorded): `{evidence_head}`\n\n\
         Verify the whole chain, every artifact and its signature with:\n\n    gantry verify {id}\n\n\
         or, from an exported pack: `gantry verify --file pack.json --artifacts DIR`\n"
    ));
    if let Some(trace) = &mission.trace_url {
        body.push_str(&format!("\nTrace: {trace}\n"));
    }
    body
}
