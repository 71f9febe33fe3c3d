//! A build: the job the runner reads, where its outputs go, and collecting its report, log and
//! output.

use super::seal::failure_reason;
use super::*;

/// What the build task reads: everything it needs, nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildJobDoc {
    pub mission_id: MissionId,
    pub attempt: u32,
    pub manifest: GantryManifest,
    pub limits: BuildLimits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_image: Option<DesignImageRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignImageRef {
    pub ext: String,
    /// An object key locally; a presigned GET URL for the Fargate task.
    pub location: String,
}

pub fn manifest_key(mission: &MissionId, attempt: u32) -> String {
    gantry_ports::object_keys::manifest(mission, attempt)
}

pub fn build_keys(mission: &MissionId, attempt: u32) -> BuildJobUrls {
    BuildJobUrls {
        job_url: gantry_ports::object_keys::build_job(mission, attempt),
        report_url: gantry_ports::object_keys::build_report(mission, attempt),
        log_url: gantry_ports::object_keys::build_log(mission, attempt),
        output_url: gantry_ports::object_keys::build_output(mission, attempt),
    }
}

impl Steps {
    pub(super) async fn prepare_build(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let mission = self.enter(&id, MissionStatus::Building).await?;
        self.update(&id, |m| {
            m.attempts = attempt;
            Ok(())
        })
        .await?;
        self.step_started(&id, StepName::Build, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let design_key = mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone());
        let design_image = match design_key {
            Some(key) => Some(DesignImageRef {
                ext: key.rsplit('.').next().unwrap_or("bin").to_owned(),
                location: self.build_input(&key).await?,
            }),
            None => None,
        };
        let keys = build_keys(&id, attempt);
        let job = BuildJobDoc {
            mission_id: id.clone(),
            attempt,
            manifest,
            limits: self.policy.build,
            design_image,
        };
        let bytes = serde_json::to_vec(&job).map_err(|e| StepError::Failed(e.to_string()))?;
        self.objects.put(&keys.job_url, &bytes, "application/json").await?;
        // Outputs of an earlier try of this attempt must not be mistaken for this one's.
        self.objects.delete(&keys.report_url).await?;
        self.objects.delete(&keys.log_url).await?;
        self.objects.delete(&keys.output_url).await?;
        state.build_job = Some(self.build_locations(keys).await?);
        state.build_passed = None;
        state.build_failure = None;
        Ok(state)
    }

    /// Where the runner reads an input object: its key, or a presigned GET.
    pub(super) async fn build_input(&self, key: &str) -> StepResult<String> {
        Ok(match self.build_io {
            BuildIo::Keys => key.to_owned(),
            BuildIo::Presigned { expires_in } => self.objects.presign_get(key, expires_in).await?,
        })
    }

    /// The job, report and log locations the runner is handed. Collecting reads by key either way.
    pub(super) async fn build_locations(&self, keys: BuildJobUrls) -> StepResult<BuildJobUrls> {
        let BuildIo::Presigned { expires_in } = self.build_io else { return Ok(keys) };
        Ok(BuildJobUrls {
            job_url: self.objects.presign_get(&keys.job_url, expires_in).await?,
            report_url: self
                .objects
                .presign_put_output(&keys.report_url, REPORT_CONTENT_TYPE, expires_in)
                .await?,
            log_url: self.objects.presign_put_output(&keys.log_url, LOG_CONTENT_TYPE, expires_in).await?,
            output_url: self
                .objects
                .presign_put_output(&keys.output_url, OUTPUT_CONTENT_TYPE, expires_in)
                .await?,
        })
    }

    /// The output bundle the build task stored for a passed attempt, checked file by file.
    pub(super) async fn build_output(&self, id: &MissionId, attempt: u32) -> StepResult<Vec<OutputFile>> {
        let bytes = self
            .objects
            .get(&build_keys(id, attempt).output_url)
            .await?
            .ok_or_else(|| StepError::Failed(format!("the output of build {attempt} is missing")))?;
        output_bundle::decode(&bytes).map_err(|e| StepError::Failed(e.to_string()))
    }

    pub(super) async fn collect_build(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let keys = build_keys(&id, attempt);
        let log = self.objects.get(&keys.log_url).await?.unwrap_or_default();
        let report = match self.objects.get(&keys.report_url).await? {
            Some(bytes) => serde_json::from_slice::<BuildReport>(&bytes)
                .map_err(|e| StepError::Failed(format!("the build report is unreadable: {e}")))?,
            None => {
                let cause =
                    state.build_failure.as_ref().map(failure_reason).unwrap_or_else(|| "no report".into());
                let timed_out = state.build_failure.as_ref().is_some_and(|f| f.error == ErrorName::Timeout);
                BuildReport {
                    passed: false,
                    exit_code: None,
                    duration_ms: 0,
                    timed_out,
                    oom: false,
                    log_tail: format!("the build task ended without a report: {cause}"),
                    log_sha256: sha256_hex(&log),
                    isolation: "unknown".into(),
                    limits: self.policy.build,
                    features: Vec::new(),
                    install: None,
                    output: None,
                }
            }
        };
        let log_name = artifact_name(state.dispatch, &format!("build-{attempt}.log"));
        let log_artifact = self.evidence.artifact(&id, &log_name, "text/plain", &log).await?;
        let mut record = json!({"attempt": attempt, "report": report, "artifact": log_artifact.to_value()});
        if report.passed {
            record["output"] = match self.build_output(&id, attempt).await {
                Ok(files) => json!({"files": output_bundle::listing(&files)}),
                Err(e) => json!({"error": e.to_string()}),
            };
        }
        self.evidence.append(&id, kinds::BUILD_REPORT, record).await?;
        let secs = report.duration_ms as f64 / 1000.0;
        let detail = if report.passed {
            let mut detail = format!("audit passed in {secs:.1} s ({})", report.isolation);
            if let Some(install) = &report.install {
                detail.push_str(&format!("; installed from the curated set in {} ms", install.duration_ms));
            }
            if let Some(output) = &report.output {
                let kib = output.bytes.div_ceil(1024);
                detail.push_str(&format!("; output {}: {} files, {kib} KiB", output.dir, output.files));
            }
            detail
        } else if report.timed_out {
            format!("audit timed out after {secs:.1} s")
        } else if report.oom {
            format!("audit ran out of memory ({} MiB)", report.limits.memory_mb)
        } else if report.exit_code == Some(0) {
            // The audit succeeded, but the sandbox refused what it left (see the log's last line).
            let last = report.log_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            format!("audit exited 0, but its output was not taken: {}", clip(last, 200))
        } else {
            let last = report.log_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            format!(
                "audit failed (exit {}): {}",
                report.exit_code.map_or("signal".into(), |c| c.to_string()),
                clip(last, 200)
            )
        };
        let record = StepRecord {
            name: StepName::Build,
            status: StepStatus::Running,
            attempt,
            started_at: self
                .store
                .steps(&id)
                .await?
                .into_iter()
                .find(|s| s.name == StepName::Build && s.attempt == attempt)
                .map_or_else(Utc::now, |s| s.started_at),
            ended_at: None,
            detail: None,
        };
        self.step_ended(&id, record, report.passed, detail.clone()).await?;
        let features = report.features.clone();
        self.update(&id, |m| {
            m.features = features.clone();
            Ok(())
        })
        .await?;
        let max_heals = state.max_heals.unwrap_or(self.policy.max_heals);
        if !report.passed && attempt > max_heals {
            let reason = format!("the build failed after {attempt} attempt(s): {detail}");
            self.update(&id, |m| {
                m.error = Some(reason.clone());
                Ok(())
            })
            .await?;
        }
        state.build_passed = Some(report.passed);
        state.build_timed_out = Some(report.timed_out);
        Ok(state)
    }
}
