//! Drafting, the policy gate and healing: the steps that ask the brain and check what it wrote.

use gantry_domain::node;

use super::*;

impl Steps {
    pub(super) async fn draft(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let mut mission = self.enter(&id, MissionStatus::Drafting).await?;
        if mission.resume.is_some() {
            // A run from the start makes a new build: an old resume point no longer applies.
            mission = self
                .update(&id, |m| {
                    m.resume = None;
                    Ok(())
                })
                .await?;
        }
        let record = self.step_started(&id, StepName::Draft, 1).await?;
        let mut design_image = None;
        let mut shown_image = None;
        if let Some(image_key) = mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone()) {
            if let Some(bytes) = self.objects.get(&image_key).await? {
                let ext = image_key.rsplit('.').next().unwrap_or("bin");
                let name = artifact_name(state.dispatch, &format!("design-reference.{ext}"));
                design_image =
                    Some(self.evidence.artifact(&id, &name, "application/octet-stream", &bytes).await?);
                shown_image = DesignImage::from_key(&image_key, bytes);
            }
        }
        self.record_approval(&state, &mission, design_image).await?;
        let (manifest, provenance, detail) = match &mission.manifest_key {
            Some(key) => {
                let bytes = self
                    .objects
                    .get(key)
                    .await?
                    .ok_or_else(|| StepError::Failed("the given manifest is missing".into()))?;
                let manifest: GantryManifest = serde_json::from_slice(&bytes).map_err(|e| {
                    StepError::Failed(format!("the given manifest is not a GantryManifest: {e}"))
                })?;
                let detail = format!("using the given manifest ({} files)", manifest.files.len());
                (manifest, json!({"source": "given"}), detail)
            }
            None => {
                let brief = brief_of(&mission);
                let drafted = async {
                    self.check_budget(&mission).await?;
                    let draft = self.brain.draft(&brief, shown_image.as_ref()).await?;
                    self.spend(&id, draft.usage).await?;
                    Ok::<_, StepError>(draft)
                };
                let draft = match drafted.await {
                    Ok(draft) => draft,
                    Err(e) => {
                        self.step_ended(&id, record, false, e.to_string()).await?;
                        return Err(e);
                    }
                };
                let detail = format!("drafted {} files with {}", draft.manifest.files.len(), draft.model_id);
                let provenance = json!({"source": "brain", "model_id": draft.model_id, "usage": draft.usage, "calls": draft.calls, "notes": draft.notes});
                (draft.manifest, provenance, detail)
            }
        };
        let (manifest, provenance, detail) = with_lock(manifest, provenance, detail);
        self.keep_manifest(&state, 1, &manifest, provenance).await?;
        state.attempt = Some(1);
        state.max_heals = Some(self.policy.max_heals);
        self.step_ended(&id, record, true, detail).await?;
        Ok(state)
    }

    pub(super) async fn check_policy(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        self.enter(&id, MissionStatus::Validating).await?;
        let record = self.step_started(&id, StepName::Policy, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let verdict = self.policy.evaluate(&manifest);
        self.evidence
            .append(
                &id,
                kinds::POLICY_VERDICT,
                json!({"attempt": attempt, "allowed": verdict.allowed, "repairable": verdict.repairable, "violations": verdict.violations}),
            )
            .await?;
        if verdict.repairable {
            // The heal reads the attempt's report: for a refusal it lists the violations.
            let report = BuildReport::policy_refusal(&verdict.violations, self.policy.build);
            let bytes = serde_json::to_vec(&report).map_err(|e| StepError::Failed(e.to_string()))?;
            self.objects.put(&build_keys(&id, attempt).report_url, &bytes, REPORT_CONTENT_TYPE).await?;
        }
        let detail = if verdict.allowed {
            format!("{} files passed every rule", manifest.files.len())
        } else {
            let listed: Vec<String> = verdict
                .violations
                .iter()
                .take(5)
                .map(|v| match (&v.file, v.line) {
                    (Some(file), Some(line)) => format!("{} at {file}:{line}", v.rule),
                    (Some(file), None) => format!("{} in {file}", v.rule),
                    _ => v.rule.clone(),
                })
                .collect();
            format!("{} violation(s): {}", verdict.violations.len(), listed.join("; "))
        };
        // Wording only: the state machine's PolicyGate makes the same comparison and decides.
        let heals_left = state.max_heals.is_some_and(|max| attempt <= max);
        let detail = match (verdict.repairable, heals_left) {
            (true, true) => format!("{detail}; repairable: a heal follows"),
            (true, false) => format!("{detail}; repairable, but no heals are left"),
            (false, _) => detail,
        };
        if !verdict.allowed {
            let reason = format!("blocked by policy: {detail}");
            self.update(&id, |m| {
                m.error = Some(reason.clone());
                Ok(())
            })
            .await?;
        }
        state.policy_allowed = Some(verdict.allowed);
        state.policy_repairable = Some(verdict.repairable);
        self.step_ended(&id, record, verdict.allowed, detail).await?;
        Ok(state)
    }

    pub(super) async fn heal(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let from = state.attempt();
        let to = from + 1;
        let mission = self.enter(&id, MissionStatus::Healing).await?;
        let record = self.step_started(&id, StepName::Heal, to).await?;
        let previous = self.load_manifest(&id, from).await?;
        let report_bytes = self.objects.get(&build_keys(&id, from).report_url).await?;
        let report = match report_bytes {
            Some(bytes) => {
                serde_json::from_slice::<BuildReport>(&bytes).map_err(|e| StepError::Failed(e.to_string()))?
            }
            None => BuildReport {
                passed: false,
                exit_code: None,
                duration_ms: 0,
                timed_out: false,
                oom: false,
                log_tail: "the build task ended without a report".into(),
                log_sha256: sha256_hex(b""),
                isolation: "unknown".into(),
                limits: self.policy.build,
                features: Vec::new(),
                install: None,
                output: None,
            },
        };
        let healing = async {
            self.check_budget(&mission).await?;
            let healed = self.brain.heal(&brief_of(&mission), &previous, &report).await?;
            self.update(&id, |m| {
                m.heals += 1;
                m.error = None;
                Ok(())
            })
            .await?;
            self.spend(&id, healed.usage).await?;
            Ok::<_, StepError>(healed)
        };
        let healed = match healing.await {
            Ok(healed) => healed,
            Err(e) => {
                self.step_ended(&id, record, false, e.to_string()).await?;
                return Err(e);
            }
        };
        self.evidence
            .append(&id, kinds::HEAL, json!({"from_attempt": from, "to_attempt": to, "notes": healed.notes, "model_id": healed.model_id, "usage": healed.usage, "calls": healed.calls}))
            .await?;
        let provenance = json!({"source": "heal", "model_id": healed.model_id, "usage": healed.usage, "calls": healed.calls, "notes": healed.notes});
        let (manifest, provenance, detail) = with_lock(healed.manifest, provenance, healed.notes);
        self.keep_manifest(&state, to, &manifest, provenance).await?;
        state.attempt = Some(to);
        self.step_ended(&id, record, true, detail).await?;
        Ok(state)
    }
}

/// A node manifest without a lock gets the one the curated set implies (no model can write
/// integrity hashes); the step's detail and the manifest's provenance say so. A package.json the
/// set cannot serve gets none: the gate names what is wrong.
fn with_lock(
    mut manifest: GantryManifest,
    mut provenance: Value,
    detail: String,
) -> (GantryManifest, Value, String) {
    match node::add_lock(&mut manifest) {
        Some(note) => {
            if let Some(fields) = provenance.as_object_mut() {
                fields.insert("lockfile".into(), json!({"written_from_set": node::set_id(), "note": note}));
            }
            (manifest, provenance, format!("{detail}; {note}"))
        }
        None => (manifest, provenance, detail),
    }
}
