//! The consultation loop (`/consult`, `/voice`) and the direct build (`/architect`).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use gantry_domain::consultation::{decide, TurnDecision};
use gantry_domain::mission::{check_budget, title_from, within_budget};
use gantry_domain::{guardrails, intent, Mission, MissionId, MissionStatus, Role, Subject, Turn};
use gantry_ports::{Change, DesignImage, PortError};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::images;
use crate::state::AppState;
use crate::views::{speakable, status_speech, ConsultationView, StatusView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultRequest {
    pub message: String,
    #[serde(default)]
    pub mission_id: Option<String>,
    #[serde(default)]
    pub image_base64: Option<String>,
    #[serde(default)]
    pub image_filename: Option<String>,
    #[serde(default)]
    pub image_key: Option<String>,
    #[serde(default)]
    pub deploy: Option<bool>,
    #[serde(default)]
    pub publish: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectRequest {
    pub voice_memo: String,
    #[serde(default)]
    pub deploy: Option<bool>,
    #[serde(default)]
    pub publish: Option<bool>,
}

/// Refuses empty, oversized or guardrail-refused messages.
fn check_message(state: &AppState, message: &str) -> ApiResult<String> {
    let message = message.trim();
    if message.is_empty() {
        return Err(ApiError::BadRequest("the message is empty".into()));
    }
    if message.chars().count() > state.config.limits.message_chars {
        return Err(ApiError::Unprocessable(format!(
            "Please keep a message under {} characters.",
            state.config.limits.message_chars
        )));
    }
    guardrails::check(message).map_err(|refusal| ApiError::Guardrail { reason: refusal.reason })?;
    Ok(message.to_owned())
}

async fn limit(
    state: &AppState,
    key: String,
    limit: u32,
    window: Duration,
    what: &'static str,
) -> ApiResult<()> {
    match state.limiter.hit(&key, limit, window).await? {
        Ok(()) => Ok(()),
        Err(retry_after) => Err(ApiError::RateLimited { retry_after, what }),
    }
}

pub(crate) async fn limit_builds(state: &AppState, subject: &Subject) -> ApiResult<()> {
    let per_hour = state.config.limits.builds_per_hour;
    limit(state, format!("builds:{subject}"), per_hour, Duration::from_secs(3600), "builds this hour").await
}

/// Loads a mission the caller owns; someone else's mission is indistinguishable from none.
pub(crate) async fn owned(state: &AppState, caller: &Caller, id: &MissionId) -> ApiResult<Mission> {
    match state.store.get(id).await? {
        Some(m) if m.owner == caller.subject => Ok(m),
        _ => Err(ApiError::NotFound),
    }
}

/// Resolves the design image of a request to an object key, storing inline images.
async fn attach_image(
    state: &AppState,
    caller: &Caller,
    request: &ConsultRequest,
) -> ApiResult<Option<String>> {
    if let Some(data) = &request.image_base64 {
        let bytes = images::decode_inline(data)?;
        let content_type = images::check(&bytes)?;
        let ext = images::extension_for(content_type).unwrap_or("bin");
        let key = images::new_key(&caller.subject, ext);
        state.objects.put(&key, &bytes, content_type).await?;
        tracing::info!(image_key = %key, filename = ?request.image_filename, "design image stored");
        return Ok(Some(key));
    }
    if let Some(key) = &request.image_key {
        if !key.starts_with(&images::owner_prefix(&caller.subject)) {
            return Err(ApiError::Unprocessable("That image was not uploaded by you.".into()));
        }
        let bytes = state
            .objects
            .get(key)
            .await
            .map_err(|e| match e {
                PortError::Invalid(_) => ApiError::Unprocessable("That image key is not valid.".into()),
                other => other.into(),
            })?
            .ok_or_else(|| ApiError::Unprocessable("That image has not been uploaded yet.".into()))?;
        images::check(&bytes)?;
        return Ok(Some(key.clone()));
    }
    Ok(None)
}

/// The bytes of a stored design image, for the brain; an image that cannot be read is left
/// out (the brain then works from the words alone) rather than failing the turn.
async fn design_image(state: &AppState, key: Option<&str>) -> Option<DesignImage> {
    let key = key?;
    match state.objects.get(key).await {
        Ok(Some(bytes)) => DesignImage::from_key(key, bytes),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(image_key = %key, error = %e, "the design image could not be read for the brain");
            None
        }
    }
}

/// What one turn produced, before it is shaped for `/consult` or `/voice`.
struct TurnOutcome {
    mission: Mission,
    response: String,
    speech: String,
    dispatched: bool,
}

impl TurnOutcome {
    fn into_response(self) -> Response {
        let consultation = self.mission.consultation.clone().unwrap_or_default();
        let status = if self.dispatched { StatusCode::ACCEPTED } else { StatusCode::OK };
        let body = json!({
            "mission_id": self.mission.id,
            "status": self.mission.status,
            "consultation": ConsultationView::from(&consultation),
            "speech": speakable(&self.speech),
            "response": self.response,
        });
        (status, Json(body)).into_response()
    }
}

pub async fn consult(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ConsultRequest>,
) -> ApiResult<Response> {
    let mission_id = request
        .mission_id
        .as_deref()
        .map(|raw| raw.parse::<MissionId>().map_err(|_| ApiError::NotFound))
        .transpose()?;
    let outcome = turn(&state, &caller, request, mission_id).await?;
    Ok(outcome.into_response())
}

pub async fn voice(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ConsultRequest>,
) -> ApiResult<Response> {
    let mission_id = match request.mission_id.as_deref() {
        Some(raw) => Some(raw.parse::<MissionId>().map_err(|_| ApiError::NotFound)?),
        None => {
            if intent::is_status_query(request.message.trim()) {
                return status_answer(&state, &caller).await;
            }
            let window = chrono::Duration::seconds(state.config.voice_continuation.as_secs() as i64);
            state.store.active_consultation(&caller.subject, Utc::now() - window).await?.map(|m| m.id)
        }
    };
    let outcome = turn(&state, &caller, request, mission_id).await?;
    Ok(outcome.into_response())
}

/// `/voice` asked "what's the status?": answer about the newest mission.
async fn status_answer(state: &AppState, caller: &Caller) -> ApiResult<Response> {
    let latest = state.store.latest(&caller.subject).await?;
    let body = match latest {
        Some(m) => {
            let steps = state.store.steps(&m.id).await?;
            let view = StatusView::new(&m, &steps);
            json!({"mission_id": m.id, "status": m.status, "speech": view.speech, "response": view.speech})
        }
        None => json!({
            "status": null,
            "speech": "You have no missions yet. Tell me what you'd like to build.",
            "response": "You have no missions yet. Tell me what you'd like to build.",
        }),
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

async fn turn(
    state: &AppState,
    caller: &Caller,
    request: ConsultRequest,
    mission_id: Option<MissionId>,
) -> ApiResult<TurnOutcome> {
    let message = check_message(state, &request.message)?;
    let per_minute = state.config.limits.consult_per_minute;
    limit(
        state,
        format!("consult:{}", caller.subject),
        per_minute,
        Duration::from_secs(60),
        "messages a minute",
    )
    .await?;
    let image = attach_image(state, caller, &request).await?;
    let now = Utc::now();

    let existing = match &mission_id {
        Some(id) => Some(owned(state, caller, id).await?),
        None => None,
    };
    if let Some(mission) = &existing {
        if mission.status != MissionStatus::AwaitingInput {
            // A second "proceed" (or any message) to a dispatched mission starts nothing new.
            return Ok(TurnOutcome {
                response: status_speech(mission),
                speech: status_speech(mission),
                mission: mission.clone(),
                dispatched: false,
            });
        }
    }

    let decision = decide(existing.as_ref().and_then(|m| m.consultation.as_ref()), &message);
    match (decision, existing) {
        (TurnDecision::Build, Some(mission)) => {
            dispatch(state, caller, mission, &request, message, image).await
        }
        (_, existing) => consult_turn(state, caller, existing, &request, message, image, now).await,
    }
}

async fn consult_turn(
    state: &AppState,
    caller: &Caller,
    existing: Option<Mission>,
    request: &ConsultRequest,
    message: String,
    image: Option<String>,
    now: chrono::DateTime<Utc>,
) -> ApiResult<TurnOutcome> {
    let mut conversation = match &existing {
        Some(m) => state.store.turns(&m.id).await?,
        None => Vec::new(),
    };
    let user_turn = Turn { role: Role::User, content: message.clone(), at: now };
    conversation.push(user_turn.clone());
    let current = existing.as_ref().and_then(|m| m.consultation.clone());
    let budget = state.policy.max_tokens_per_mission;
    if let Some(mission) = &existing {
        if let Err(spent) = check_budget(&mission.tokens, budget) {
            return fail_on_budget(state, mission.clone(), spent).await;
        }
    }
    let image_key = image.clone().or_else(|| current.as_ref().and_then(|c| c.brief.design_image.clone()));
    let shown = design_image(state, image_key.as_deref()).await;
    let reply = state.brain.consult(current.as_ref(), &conversation, shown.as_ref()).await?;

    let assistant = Turn { role: Role::Assistant, content: reply.response.clone(), at: Utc::now() };
    let turns = [user_turn, assistant];
    // Absorbing the reply, the person's choices and the budget are the domain's decisions.
    let absorb = |mission: &mut Mission| {
        mission.absorb_reply(reply.consultation.clone(), image.clone(), reply.usage, now);
        mission.choose_delivery(request.deploy, request.publish);
        if let Err(spent) = within_budget(&mission.tokens, budget) {
            if mission.exhaust_budget(&spent, now).is_ok() {
                tracing::warn!(mission_id = %mission.id, "consultation over its token budget");
            }
        }
    };

    let mission = match existing {
        Some(existing) => {
            // The reply answers the conversation as it was read: if another message was taken
            // meanwhile, this one is refused rather than applied to a conversation it never saw.
            let read = existing.version;
            gantry_ports::update(state.store.as_ref(), &existing.id, &turns, |mission| {
                if mission.version != read {
                    return Err(ApiError::Conflict(
                        "Another message for this mission arrived at the same time; please send yours again."
                            .into(),
                    ));
                }
                absorb(mission);
                Ok(Change::Save)
            })
            .await?
        }
        None => {
            let mut mission =
                Mission::new(caller.subject.clone(), title_from(&message), MissionStatus::AwaitingInput, now);
            absorb(&mut mission);
            state.store.create(&mission, &turns).await?;
            tracing::info!(mission_id = %mission.id, "consultation started");
            mission
        }
    };
    Ok(TurnOutcome { mission, response: reply.response, speech: reply.speech, dispatched: false })
}

/// A consultation whose budget is already spent gets no model call: it ends FAILED.
async fn fail_on_budget(
    state: &AppState,
    mission: Mission,
    spent: gantry_domain::mission::BudgetExceeded,
) -> ApiResult<TurnOutcome> {
    let now = Utc::now();
    let mission = gantry_ports::update(state.store.as_ref(), &mission.id, &[], |m| {
        m.exhaust_budget(&spent, now).map_err(|e| ApiError::Conflict(e.to_string()))?;
        Ok(Change::Save)
    })
    .await?;
    let speech = "This conversation has used its token budget, so I've stopped it.".to_owned();
    Ok(TurnOutcome { mission, response: format!("{speech} ({spent})"), speech, dispatched: false })
}

/// Consent: the mission moves to QUEUED in one conditional write, and only the writer that won
/// hands it to the orchestrator, so concurrent "proceed"s start one execution.
async fn dispatch(
    state: &AppState,
    caller: &Caller,
    mission: Mission,
    request: &ConsultRequest,
    message: String,
    image: Option<String>,
) -> ApiResult<TurnOutcome> {
    limit_builds(state, &caller.subject).await?;
    let now = Utc::now();
    let mut planned = mission.clone();
    planned.choose_delivery(request.deploy, request.publish);
    let response = format!(
        "Great, I'm on it. I'll draft {}, check it against the policy, build and test it{}{}.",
        planned.title,
        if planned.deploy { ", deploy it" } else { "" },
        if planned.publish { " and open a pull request" } else { "" }
    );
    let turns = [
        Turn { role: Role::User, content: message, at: now },
        Turn { role: Role::Assistant, content: response.clone(), at: now },
    ];
    let consented = gantry_ports::update(state.store.as_ref(), &mission.id, &turns, |m| {
        m.consent(image.clone(), now).map_err(|e| ApiError::Conflict(e.to_string()))?;
        m.choose_delivery(request.deploy, request.publish);
        Ok(Change::Save)
    })
    .await;
    let mut mission = match consented {
        Ok(mission) => mission,
        // Someone else's write won (e.g. a concurrent "proceed"): report, start nothing.
        Err(gantry_ports::UpdateError::Refused(_)) => {
            let current = state.store.get(&mission.id).await?.ok_or(ApiError::NotFound)?;
            let speech = status_speech(&current);
            return Ok(TurnOutcome { mission: current, response: speech.clone(), speech, dispatched: false });
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(mission_id = %mission.id, "consent recorded; dispatching");
    start_execution(state, &mut mission).await?;
    Ok(TurnOutcome {
        speech: "Great, I'm building it now. Ask me for the status any time.".into(),
        response,
        mission,
        dispatched: true,
    })
}

/// Hands a QUEUED mission to the orchestrator and records its trace link.
pub(crate) async fn start_execution(state: &AppState, mission: &mut Mission) -> ApiResult<()> {
    let execution = state.orchestrator.start(mission).await?;
    if let Some(trace_url) = execution.trace_url {
        // The pipeline may already have moved the mission on; the trace link is best-effort.
        let recorded = gantry_ports::update(state.store.as_ref(), &mission.id, &[], |m| {
            if m.trace_url.as_deref() == Some(trace_url.as_str()) {
                return Ok::<_, ()>(Change::Keep);
            }
            m.trace_url = Some(trace_url.clone());
            Ok(Change::Save)
        })
        .await;
        if let Ok(fresh) = recorded {
            *mission = fresh;
        }
    }
    Ok(())
}

pub async fn architect(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ArchitectRequest>,
) -> ApiResult<Response> {
    let memo = check_message(&state, &request.voice_memo)?;
    limit_builds(&state, &caller.subject).await?;
    let now = Utc::now();
    let (mut mission, user_turn) = gantry_pipeline::direct_build(
        state.brain.as_ref(),
        caller.subject.clone(),
        &memo,
        request.deploy.unwrap_or(true),
        request.publish.unwrap_or(true),
        now,
    )
    .await?;
    state.store.create(&mission, &[user_turn]).await?;
    tracing::info!(mission_id = %mission.id, "direct build queued");
    start_execution(&state, &mut mission).await?;
    let body = json!({
        "mission_id": mission.id,
        "status": MissionStatus::Queued,
        "speech": speakable(&format!("Got it. I'm building {} now.", mission.title)),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
