//! Public and descriptive routes: health, themes, metrics, the OpenAPI document.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde_json::json;

use gantry_domain::themes::Theme;
use gantry_domain::{MissionStatus, StepName};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

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

pub async fn openapi() -> Json<serde_json::Value> {
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

    let mut per_mission = Vec::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut phase_totals: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let (mut attempts, mut heals, mut input_tokens, mut output_tokens) = (0u64, 0u64, 0u64, 0u64);
    for mission in &missions {
        let steps = state.store.steps(&mission.id).await?;
        let mut phases: BTreeMap<&'static str, u64> = BTreeMap::new();
        for step in &steps {
            if let Some(ended) = step.ended_at {
                let ms = (ended - step.started_at).num_milliseconds().max(0) as u64;
                *phases.entry(step.name.as_str()).or_default() += ms;
            }
        }
        for (name, ms) in &phases {
            let entry = phase_totals.entry(name).or_default();
            entry.0 += ms;
            entry.1 += 1;
        }
        *outcomes.entry(mission.status.as_str()).or_default() += 1;
        attempts += u64::from(mission.attempts);
        heals += u64::from(mission.heals);
        input_tokens += mission.tokens.input;
        output_tokens += mission.tokens.output;
        let total_ms = (mission.updated_at - mission.created_at).num_milliseconds().max(0);
        per_mission.push(json!({
            "mission_id": mission.id,
            "status": mission.status,
            "attempts": mission.attempts,
            "heals": mission.heals,
            "tokens": mission.tokens,
            "phase_ms": phases,
            "total_ms": if mission.status.is_final() { json!(total_ms) } else { json!(null) },
        }));
    }
    let finished =
        missions.iter().filter(|m| m.status.is_final() && m.status != MissionStatus::Expired).count();
    let succeeded = missions.iter().filter(|m| m.status.is_successful()).count();
    let mean_phase_ms: BTreeMap<&str, u64> = StepName::ALL
        .into_iter()
        .filter_map(|name| phase_totals.get(name.as_str()).map(|(sum, n)| (name.as_str(), sum / n.max(&1))))
        .collect();
    Ok(Json(json!({
        "missions": per_mission,
        "aggregate": {
            "missions": missions.len(),
            "outcomes": outcomes,
            "success_rate": if finished == 0 { json!(null) } else { json!(succeeded as f64 / finished as f64) },
            "attempts": attempts,
            "heals": heals,
            "tokens": {"input": input_tokens, "output": output_tokens},
            "mean_phase_ms": mean_phase_ms,
        }
    })))
}
