//! Public and descriptive routes: health, themes, metrics, the OpenAPI document.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde_json::json;

use gantry_domain::themes::Theme;
use gantry_domain::{Mission, MissionStatus, StepName, StepRecord};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::UsageView;

pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "version": state.config.version, "mode": state.config.mode.as_str()}))
}

pub async fn themes() -> Json<serde_json::Value> {
    let themes: Vec<_> = Theme::ALL
        .into_iter()
        .map(
            |t| json!({"id": t.id(), "name": t.name(), "description": t.description(), "colors": t.colors()}),
        )
        .collect();
    Json(json!({ "themes": themes }))
}

/// The contract, for signed-in callers (DESIGN lists only `/`, assets, health and themes as public).
pub async fn openapi(_caller: Caller) -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// Per-mission figures and their aggregate over the caller's newest missions (up to 500).
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    let mut missions = Vec::new();
    let mut cursor: Option<String> = None;
    while missions.len() < 500 {
        let page = state.store.list(&caller.subject, cursor.as_deref(), 100).await?;
        missions.extend(page.missions);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut measured = Vec::with_capacity(missions.len());
    for mission in missions {
        let steps = state.store.steps(&mission.id).await?;
        measured.push((mission, steps));
    }
    Ok(Json(summarise(&measured)))
}

/// Milliseconds per step name that ran (summed over attempts), in pipeline order.
fn phase_ms(steps: &[StepRecord]) -> BTreeMap<&'static str, u64> {
    let mut phases = BTreeMap::new();
    for step in steps {
        if let Some(ended) = step.ended_at {
            let ms = (ended - step.started_at).num_milliseconds().max(0) as u64;
            *phases.entry(step.name.as_str()).or_default() += ms;
        }
    }
    phases
}

fn mean(sum: u64, count: u64) -> serde_json::Value {
    if count == 0 {
        json!(null)
    } else {
        json!(sum as f64 / count as f64)
    }
}

/// The figures of `GET /gantry/metrics` (named as in docs/operations.md): per mission its
/// outcome, attempts, heals, tokens and phase durations; in aggregate the outcome counts, the
/// success rate over finished missions, totals and means.
pub(crate) fn summarise(missions: &[(Mission, Vec<StepRecord>)]) -> serde_json::Value {
    let mut per_mission = Vec::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut phase_totals: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let (mut attempts, mut heals) = (0u64, 0u64);
    let mut usage = gantry_domain::mission::TokenUsage::default();
    let (mut total_ms_sum, mut finished) = (0u64, 0u64);
    for (mission, steps) in missions {
        let phases = phase_ms(steps);
        for (name, ms) in &phases {
            let entry = phase_totals.entry(name).or_default();
            entry.0 += ms;
            entry.1 += 1;
        }
        *outcomes.entry(mission.status.as_str()).or_default() += 1;
        attempts += u64::from(mission.attempts);
        heals += u64::from(mission.heals);
        usage.add(mission.tokens);
        let is_finished = mission.status.is_final() && mission.status != MissionStatus::Expired;
        let total_ms = (mission.updated_at - mission.created_at).num_milliseconds().max(0) as u64;
        if is_finished {
            finished += 1;
            total_ms_sum += total_ms;
        }
        per_mission.push(json!({
            "mission_id": mission.id,
            "title": mission.title,
            "status": mission.status,
            "outcome": if mission.status.is_final() { json!(mission.status) } else { json!(null) },
            "attempts": mission.attempts,
            "heals": mission.heals,
            "tokens": mission.tokens,
            "usage": UsageView::from(&mission.tokens),
            "phase_ms": phases,
            "total_ms": if mission.status.is_final() { json!(total_ms) } else { json!(null) },
        }));
    }
    let succeeded = missions.iter().filter(|(m, _)| m.status.is_successful()).count() as u64;
    let in_pipeline_order =
        |value: &dyn Fn(u64, u64) -> serde_json::Value| -> serde_json::Map<String, serde_json::Value> {
            StepName::ALL
                .into_iter()
                .filter_map(|name| {
                    phase_totals
                        .get(name.as_str())
                        .map(|(sum, n)| (name.as_str().to_owned(), value(*sum, *n)))
                })
                .collect()
        };
    let mean_phase_ms = in_pipeline_order(&|sum, n| json!(sum / n.max(1)));
    let phase_ms_total = in_pipeline_order(&|sum, _| json!(sum));
    let count = missions.len() as u64;
    json!({
        "missions": per_mission,
        "aggregate": {
            "missions": count,
            "finished": finished,
            "outcomes": outcomes,
            "success_rate": if finished == 0 { json!(null) } else { json!(succeeded as f64 / finished as f64) },
            "attempts": attempts,
            "heals": heals,
            "mean_attempts": mean(attempts, count),
            "mean_heals": mean(heals, count),
            "tokens": {"input": usage.input, "output": usage.output},
            "usage": UsageView::from(&usage),
            "phase_ms_total": phase_ms_total,
            "mean_phase_ms": mean_phase_ms,
            "mean_total_ms": mean(total_ms_sum, finished),
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use gantry_domain::mission::TokenUsage;
    use gantry_domain::{StepStatus, Subject};

    use super::*;

    fn step(name: StepName, attempt: u32, start: DateTime<Utc>, ms: i64) -> StepRecord {
        StepRecord {
            name,
            status: StepStatus::Succeeded,
            attempt,
            started_at: start,
            ended_at: Some(start + Duration::milliseconds(ms)),
            detail: None,
        }
    }

    fn mission(status: MissionStatus, attempts: u32, heals: u32, tokens: (u64, u64), ms: i64) -> Mission {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut m = Mission::new(Subject::new("owner"), "app", status, t0);
        m.attempts = attempts;
        m.heals = heals;
        m.tokens = TokenUsage { input: tokens.0, output: tokens.1, ..TokenUsage::default() };
        m.updated_at = t0 + Duration::milliseconds(ms);
        m
    }

    #[test]
    fn the_summary_covers_phases_attempts_heals_tokens_and_outcomes() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let healed = mission(MissionStatus::Success, 2, 1, (100, 200), 4_000);
        let failed = mission(MissionStatus::Failed, 4, 3, (10, 20), 8_000);
        let waiting = mission(MissionStatus::AwaitingInput, 0, 0, (5, 5), 1_000);
        let healed_steps = vec![
            step(StepName::Draft, 1, t0, 100),
            step(StepName::Build, 1, t0, 1_000),
            step(StepName::Heal, 2, t0, 200),
            step(StepName::Build, 2, t0, 600),
        ];
        let failed_steps = vec![step(StepName::Build, 1, t0, 400)];
        let doc = summarise(&[(healed, healed_steps), (failed, failed_steps), (waiting, vec![])]);

        let first = &doc["missions"][0];
        assert_eq!(first["outcome"], "SUCCESS");
        assert_eq!(first["phase_ms"], json!({"build": 1_600, "draft": 100, "heal": 200}));
        assert_eq!(first["total_ms"], 4_000);
        assert_eq!(doc["missions"][2]["outcome"], json!(null));
        assert_eq!(doc["missions"][2]["total_ms"], json!(null));

        let all = &doc["aggregate"];
        assert_eq!(all["missions"], 3);
        assert_eq!(all["finished"], 2);
        assert_eq!(all["outcomes"], json!({"AWAITING_INPUT": 1, "FAILED": 1, "SUCCESS": 1}));
        assert_eq!(all["success_rate"], 0.5);
        assert_eq!((all["attempts"].clone(), all["heals"].clone()), (json!(6), json!(4)));
        assert_eq!(all["mean_attempts"], 2.0);
        assert_eq!(all["tokens"], json!({"input": 115, "output": 225}));
        assert_eq!(all["phase_ms_total"], json!({"draft": 100, "build": 2_000, "heal": 200}));
        assert_eq!(all["mean_phase_ms"], json!({"draft": 100, "build": 1_000, "heal": 200}));
        assert_eq!(all["mean_total_ms"], 6_000.0);
    }

    #[test]
    fn no_missions_means_no_rates() {
        let doc = summarise(&[]);
        assert_eq!(doc["aggregate"]["success_rate"], json!(null));
        assert_eq!(doc["aggregate"]["mean_attempts"], json!(null));
        assert_eq!(doc["missions"], json!([]));
    }
}
