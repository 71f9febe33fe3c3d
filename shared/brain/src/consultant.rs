//! The offline consultant: talks a person from a first message to a proposal they can consent to.
//!
//! It asks one question when it cannot tell what to build, proposes a plan otherwise, revises the
//! plan on feedback and holds it on a "not yet". It never makes a consultation ready to build:
//! consent is the domain's decision (`consultation::decide`), and this is only asked about the
//! other turns. Everything is derived from the conversation by rules, so the same conversation
//! always gets the same answer.

pub(crate) mod collection;
mod understanding;
mod wording;

use gantry_domain::consultation::{classify_reply, AppKind, Consultation, ConsultationStatus, Reply};
use gantry_domain::intent::is_plan_question;
use gantry_domain::{Role, Stack, Turn};

use understanding::{understand, Understanding};
use wording::Change;

pub struct Answer {
    pub consultation: Consultation,
    /// The full reply for the chat.
    pub response: String,
    /// The reply for voice: at most 250 characters of plain words.
    pub speech: String,
}

/// Answers the newest user message of `conversation` (the last user turn).
pub fn consult(current: Option<&Consultation>, conversation: &[Turn], has_image: bool) -> Answer {
    let said: Vec<&str> =
        conversation.iter().filter(|t| t.role == Role::User).map(|t| t.content.as_str()).collect();
    // A question about the plan is answered, never read as a change to it.
    let asking = said.len() > 1 && said.last().is_some_and(|m| is_plan_question(m));
    let messages: Vec<&str> =
        said.iter().enumerate().filter(|(i, m)| *i == 0 || !is_plan_question(m)).map(|(_, m)| *m).collect();
    let base = current.map(|c| c.brief.clone()).unwrap_or_default();
    let has_image = has_image || base.design_image.is_some();
    let now = understand(&messages, &base);
    if let (true, Some(kind)) = (asking, now.brief.kind) {
        return answer(current, now, kind, has_image, said.last().copied().unwrap_or_default());
    }
    let before = understand(messages.split_last().map_or(&[][..], |(_, earlier)| earlier), &base);
    let reply = messages.last().map_or(Reply::Feedback, |m| classify_reply(m));
    let on_the_table = current.filter(|c| c.awaits_confirmation());

    let Some(kind) = now.brief.kind else {
        return question(&now, has_image, messages.last().copied().unwrap_or_default());
    };
    let changes = match on_the_table {
        Some(_) => changes_between(&before, &now),
        None => Vec::new(),
    };
    match on_the_table {
        Some(table) if reply == Reply::Decline && changes.is_empty() => hold(table, now, kind, has_image),
        _ => propose(now, kind, has_image, on_the_table.is_some(), &changes),
    }
}

/// Nothing to propose yet: ask what to build, keeping what is already known.
fn question(now: &Understanding, has_image: bool, newest: &str) -> Answer {
    let text = wording::question(now, has_image, newest);
    let consultation = Consultation {
        status: ConsultationStatus::NeedsInput,
        question: Some(text.question),
        proposed_stack: None,
        design_target: Some(design_target(now, has_image)),
        features: now.brief.features.clone(),
        confidence: confidence(now, has_image),
        brief: now.brief.clone(),
        proposal: None,
    };
    Answer { consultation, response: text.response, speech: text.speech }
}

/// A plan to consent to: the first one, or one revised by feedback.
fn propose(now: Understanding, kind: AppKind, has_image: bool, revising: bool, changes: &[Change]) -> Answer {
    let features = all_features(&now, kind);
    let target = design_target(&now, has_image);
    let not_built = crate::architect::not_built(&now.brief);
    let text = wording::proposal(&now, kind, &features, &not_built, &target, revising, changes);
    let consultation = Consultation {
        status: ConsultationStatus::NeedsConfirmation,
        question: Some(wording::SHALL_I_PROCEED.to_owned()),
        proposed_stack: Some(stack_of(&now)),
        design_target: Some(target),
        features,
        confidence: confidence(&now, has_image),
        proposal: Some(text.proposal),
        brief: now.brief,
    };
    Answer { consultation, response: text.response, speech: text.speech }
}

/// A question about the plan: answered in words (what the app will and will not do), with the
/// plan on the table unchanged.
fn answer(
    current: Option<&Consultation>,
    now: Understanding,
    kind: AppKind,
    has_image: bool,
    asked: &str,
) -> Answer {
    let features = all_features(&now, kind);
    let target = design_target(&now, has_image);
    let not_built = crate::architect::not_built(&now.brief);
    let proposal = match current.and_then(|c| c.proposal.clone()) {
        Some(proposal) => proposal,
        None => wording::proposal(&now, kind, &features, &not_built, &target, false, &[]).proposal,
    };
    let text = wording::answer(kind, &features, &not_built, asked, &proposal);
    let consultation = Consultation {
        status: ConsultationStatus::NeedsConfirmation,
        question: Some(wording::SHALL_I_PROCEED.to_owned()),
        proposed_stack: Some(stack_of(&now)),
        design_target: Some(target),
        features,
        confidence: confidence(&now, has_image),
        proposal: Some(proposal),
        brief: now.brief,
    };
    Answer { consultation, response: text.response, speech: text.speech }
}

/// "Not yet": the proposal stays as it was and the person is asked what to change.
fn hold(table: &Consultation, now: Understanding, kind: AppKind, has_image: bool) -> Answer {
    let features = all_features(&now, kind);
    let target = design_target(&now, has_image);
    let proposal = match &table.proposal {
        Some(proposal) => proposal.clone(),
        None => {
            let not_built = crate::architect::not_built(&now.brief);
            wording::proposal(&now, kind, &features, &not_built, &target, false, &[]).proposal
        }
    };
    let text = wording::hold(&proposal);
    let consultation = Consultation {
        status: ConsultationStatus::NeedsConfirmation,
        question: Some(text.question),
        proposed_stack: Some(stack_of(&now)),
        design_target: Some(target),
        features,
        confidence: confidence(&now, has_image),
        proposal: Some(proposal),
        brief: now.brief,
    };
    Answer { consultation, response: text.response, speech: text.speech }
}

/// What the app will have: its kind's essentials, then what the person asked for.
fn all_features(now: &Understanding, kind: AppKind) -> Vec<String> {
    let mut features: Vec<String> = default_features(kind).iter().map(|f| (*f).to_owned()).collect();
    for feature in &now.brief.features {
        if !features.contains(feature) {
            features.push(feature.clone());
        }
    }
    features
}

/// The essentials every app of a kind gets, whatever was asked.
pub fn default_features(kind: AppKind) -> &'static [&'static str] {
    match kind {
        AppKind::Todo => &["adding and completing tasks", "active and done filters", "saved in your browser"],
        AppKind::Notes => &["note editor", "note list", "saved in your browser"],
        AppKind::Kanban => {
            &["columns from to-do to done", "cards you can move between columns", "saved in your browser"]
        }
        AppKind::Landing => &["hero with a call to action", "feature highlights", "sign-up section"],
        AppKind::Portfolio => &["about section", "project showcase", "contact links"],
        AppKind::Blog => &["post list", "post pages", "about page"],
        AppKind::Dashboard => &["key figures", "charts", "recent activity table"],
        AppKind::Collection => {
            &["adding, editing and deleting entries", "search across every field", "saved in your browser"]
        }
        AppKind::React => &[
            "adding items by typing and pressing Enter",
            "ticking items off and removing them",
            "a count of open items",
            "saved in your browser",
        ],
    }
}

/// The stack the plan is built on: `node` for the React kind, static files otherwise.
fn stack_of(now: &Understanding) -> Stack {
    now.brief.stack.unwrap_or(Stack::Static)
}

fn design_target(now: &Understanding, has_image: bool) -> String {
    match (now.brief.theme, has_image, &now.look) {
        (Some(theme), _, _) => theme.name().to_owned(),
        (None, true, _) => "your design image".to_owned(),
        (None, false, Some(look)) => look.clone(),
        (None, false, None) => "a clean default look".to_owned(),
    }
}

/// How sure the consultant is that it knows what to build: mostly the kind, then the look,
/// the features and the name.
fn confidence(now: &Understanding, has_image: bool) -> f32 {
    let brief = &now.brief;
    let styled = brief.theme.is_some() || now.look.is_some() || has_image;
    if brief.kind.is_none() {
        return if styled || !brief.features.is_empty() { 0.2 } else { 0.1 };
    }
    let tenths =
        6 + [styled, !brief.features.is_empty(), now.named].into_iter().filter(|known| *known).count();
    tenths as f32 / 10.0
}

/// What a message changed in the plan, for saying so.
fn changes_between(before: &Understanding, now: &Understanding) -> Vec<Change> {
    let mut changes = Vec::new();
    if let (Some(old), Some(new)) = (before.brief.kind, now.brief.kind) {
        if old != new {
            changes.push(Change::Kind(new));
        }
    }
    if now.named && now.brief.title != before.brief.title {
        changes.push(Change::Renamed(now.brief.title.clone().unwrap_or_default()));
    }
    let added: Vec<String> =
        now.brief.features.iter().filter(|f| !before.brief.features.contains(f)).cloned().collect();
    if !added.is_empty() {
        changes.push(Change::Added(added));
    }
    let removed: Vec<String> =
        before.brief.features.iter().filter(|f| !now.brief.features.contains(f)).cloned().collect();
    if !removed.is_empty() {
        changes.push(Change::Removed(removed));
    }
    let looked = (before.brief.theme, &before.look) != (now.brief.theme, &now.look);
    if looked {
        changes.push(match (now.brief.theme, &now.look) {
            (Some(theme), _) => Change::Look(format!("a {} look", theme.name())),
            (None, Some(look)) => Change::Look(look.clone()),
            (None, None) => Change::PlainLook,
        });
    }
    changes
}

#[cfg(test)]
mod tests;
