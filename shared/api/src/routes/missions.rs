//! Reading missions, and the two actions on them: cancel and retry.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use gantry_domain::{Mission, StepRecord};
use gantry_pipeline::MissionEvidence;
use gantry_ports::Change;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::MissionPath;
use crate::routes::consult::{limit_builds, owned, start_execution};
use crate::state::AppState;
use crate::views::StatusView;

/// The status answer, with a local preview announced on its own origin.
pub(crate) fn status_view(state: &AppState, mission: &Mission, steps: &[StepRecord]) -> StatusView {
    StatusView::new(mission, steps).with_preview_origin(state.config.preview.as_ref())
}

pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Json<StatusView>> {
    let mission = owned(&state, &caller, &id).await?;
    let steps = state.store.steps(&id).await?;
    Ok(Json(status_view(&state, &mission, &steps)))
}

pub async fn latest(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StatusView>> {
    let mission = state.store.latest(&caller.subject).await?.ok_or(ApiError::NotFound)?;
    let steps = state.store.steps(&mission.id).await?;
    Ok(Json(status_view(&state, &mission, &steps)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    // Cursors are the store's own (a mission id locally, an encoded key in DynamoDB): only
    // their shape is checked here; the store refuses one it did not hand out.
    if let Some(cursor) = &query.cursor {
        let plain = cursor.len() <= 1024
            && cursor.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='));
        if !plain {
            return Err(ApiError::BadRequest("unknown cursor".into()));
        }
    }
    let page = state.store.list(&caller.subject, query.cursor.as_deref(), query.limit.unwrap_or(20)).await?;
    let missions: Vec<_> = page
        .missions
        .iter()
        .map(
            |m| json!({"mission_id": m.id, "status": m.status, "title": m.title, "created_at": m.created_at}),
        )
        .collect();
    let mut body = json!({ "missions": missions });
    if let Some(cursor) = page.next_cursor {
        body["next_cursor"] = json!(cursor);
    }
    Ok(Json(body))
}

pub async fn consultation(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Json<serde_json::Value>> {
    let mission = owned(&state, &caller, &id).await?;
    let turns = state.store.turns(&id).await?;
    let consultation = mission.consultation.clone().unwrap_or_default();
    Ok(Json(json!({
        "mission_id": mission.id,
        "status": mission.status,
        "conversation": turns,
        "pending_question": consultation.question,
        "proposal": consultation.proposal,
        "design_target": consultation.brief.theme.map(|t| t.id()),
        "design_label": consultation.design_target,
        "consultation": crate::views::ConsultationView::from(&consultation),
    })))
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Response> {
    let mission = owned(&state, &caller, &id).await?;
    if !mission.status.is_cancellable() {
        return Err(ApiError::Conflict(format!("A {} mission cannot be cancelled.", mission.status)));
    }
    if mission.status.is_in_flight() {
        state.orchestrator.stop(&id, "cancelled by the owner").await?;
    }
    // The pipeline may have moved on meanwhile: the writer decides on the newest state.
    let now = Utc::now();
    let mission = gantry_ports::update(state.store.as_ref(), &id, &[], |m| {
        m.cancel(now)
            .map_err(|e| ApiError::Conflict(format!("A {} mission cannot be cancelled.", e.from)))?;
        Ok(Change::Save)
    })
    .await?;
    tracing::info!(mission_id = %id, "mission cancelled");
    let steps = state.store.steps(&id).await?;
    Ok((StatusCode::OK, Json(status_view(&state, &mission, &steps))).into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Response> {
    let mission = owned(&state, &caller, &id).await?;
    if let Err(refused) = mission.clone().retry(Utc::now()) {
        return Err(ApiError::Conflict(refused.to_string()));
    }
    limit_builds(&state, &caller.subject).await?;
    let mut mission = gantry_ports::update(state.store.as_ref(), &id, &[], |m| {
        m.retry(Utc::now()).map_err(|refused| ApiError::Conflict(refused.to_string()))?;
        Ok(Change::Save)
    })
    .await?;
    tracing::info!(mission_id = %id, dispatch = mission.dispatches, "mission retried");
    start_execution(&state, &mut mission).await?;
    let steps = state.store.steps(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(status_view(&state, &mission, &steps))).into_response())
}

/// The evidence pack with its verification, recomputed on every read: the mission's newest pack,
/// checked as `gantry verify <id>` checks it (its mission, its latest run, the installation's key).
pub async fn evidence_pack(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Json<serde_json::Value>> {
    let mission = owned(&state, &caller, &id).await?;
    let key = state.evidence_key.public_key().await?;
    let (bytes, verification) =
        match gantry_pipeline::verify_mission_evidence(state.evidence.as_ref(), &mission, &key).await? {
            MissionEvidence::NotSealed => return Err(ApiError::NotFound),
            MissionEvidence::Checked { pack, verification } => (pack, verification),
        };
    // Whatever is stored is shown; what is not a JSON object is shown as text.
    let mut body = match &bytes {
        Some(bytes) => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) if value.is_object() => value,
            _ => json!({ "raw": String::from_utf8_lossy(bytes) }),
        },
        None => json!({}),
    };
    body["verification"] = json!({"valid": verification.valid, "errors": verification.errors});
    Ok(Json(body))
}
