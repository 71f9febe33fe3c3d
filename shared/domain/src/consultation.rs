//! The consultation: Gantry proposes, asks, and builds only on consent to a proposal.
//!
//! The brain writes the words; the rules of when a build may start live here and nowhere else.

use serde::{Deserialize, Serialize};

use crate::manifest::Stack;
use crate::themes::Theme;

mod consent;
pub use consent::{classify_reply, Reply};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsultationStatus {
    NeedsInput,
    NeedsConfirmation,
    ReadyToBuild,
}

/// The kinds of app the offline architect knows how to draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    Todo,
    Notes,
    Kanban,
    Landing,
    Portfolio,
    Blog,
    Dashboard,
    /// Records of whatever the person named (recipes, habits, expenses, books…), with fields
    /// derived from the request: the general-purpose kind for anything the others are not.
    Collection,
    /// A React + Vite + TypeScript app (the `node` stack): a list of things to add, tick off and
    /// remove, named after what the request keeps. Chosen when the person asks for React.
    React,
}

impl AppKind {
    pub const ALL: [AppKind; 9] = [
        AppKind::Todo,
        AppKind::Notes,
        AppKind::Kanban,
        AppKind::Landing,
        AppKind::Portfolio,
        AppKind::Blog,
        AppKind::Dashboard,
        AppKind::Collection,
        AppKind::React,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Todo => "todo",
            AppKind::Notes => "notes",
            AppKind::Kanban => "kanban",
            AppKind::Landing => "landing",
            AppKind::Portfolio => "portfolio",
            AppKind::Blog => "blog",
            AppKind::Dashboard => "dashboard",
            AppKind::Collection => "collection",
            AppKind::React => "react",
        }
    }

    /// The kind's plain name as a title, for an app nobody has named yet.
    pub fn title(self) -> &'static str {
        match self {
            AppKind::Todo => "To-Do List",
            AppKind::Notes => "Notes",
            AppKind::Kanban => "Kanban Board",
            AppKind::Landing => "Landing Page",
            AppKind::Portfolio => "Portfolio",
            AppKind::Blog => "Blog",
            AppKind::Dashboard => "Dashboard",
            AppKind::Collection => "Collection",
            AppKind::React => "React App",
        }
    }
}

/// What the consultation has settled so far: the brief the architect drafts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub kind: Option<AppKind>,
    pub title: Option<String>,
    pub theme: Option<Theme>,
    pub features: Vec<String>,
    pub stack: Option<Stack>,
    /// Object key of an attached design image, if any.
    pub design_image: Option<String>,
    /// The person's own words, first message first, for the architect's copywriting.
    pub notes: Vec<String>,
    /// What a collection app keeps, when the kind is `Collection`. (The `React` kind names what it
    /// keeps from the person's words when it drafts, and needs no fields.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionSpec>,
}

/// What a collection app keeps: one kind of record and its fields, first field first (the
/// record's name, always text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSpec {
    /// The record, singular: "recipe".
    pub item: String,
    /// The records, plural: "recipes".
    pub items: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Lowercase letters, digits and underscores: the input's name and the stored key.
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    /// Longer text (ingredients, steps, notes); still one input.
    LongText,
    Number,
    Date,
    /// Comma-separated tags.
    Tags,
}

/// The consultation as the API shows it, plus the brief behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consultation {
    pub status: ConsultationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_stack: Option<Stack>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_target: Option<String>,
    pub features: Vec<String>,
    pub confidence: f32,
    #[serde(default)]
    pub brief: Brief,
    /// The proposal text the person is asked to confirm, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
}

impl Consultation {
    pub fn new() -> Self {
        Self {
            status: ConsultationStatus::NeedsInput,
            question: None,
            proposed_stack: None,
            design_target: None,
            features: Vec::new(),
            confidence: 0.0,
            brief: Brief::default(),
            proposal: None,
        }
    }

    /// Whether a reply to this consultation can be consent: only when a proposal is on the table.
    pub fn awaits_confirmation(&self) -> bool {
        self.status == ConsultationStatus::NeedsConfirmation && self.proposal.is_some()
    }
}

impl Default for Consultation {
    fn default() -> Self {
        Self::new()
    }
}

/// The decision for one incoming message of a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnDecision {
    /// The message consents to the proposal on the table: dispatch the build.
    Build,
    /// Anything else: let the brain answer (question, revised proposal, …).
    Consult,
}

/// Decides what a message does. A build starts only when a proposal is on the table and the
/// message is consent; the first message of a consultation never has a proposal to consent to.
pub fn decide(current: Option<&Consultation>, message: &str) -> TurnDecision {
    match current {
        Some(c) if c.awaits_confirmation() && classify_reply(message) == Reply::Consent => {
            TurnDecision::Build
        }
        _ => TurnDecision::Consult,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposed() -> Consultation {
        Consultation {
            status: ConsultationStatus::NeedsConfirmation,
            proposal: Some("A todo app".into()),
            ..Consultation::new()
        }
    }

    #[test]
    fn the_first_message_never_builds_even_when_it_says_proceed() {
        assert_eq!(decide(None, "build it, proceed, yes"), TurnDecision::Consult);
        assert_eq!(decide(Some(&Consultation::new()), "yes proceed"), TurnDecision::Consult);
    }

    #[test]
    fn consent_to_a_proposal_builds() {
        assert_eq!(decide(Some(&proposed()), "yes, proceed"), TurnDecision::Build);
    }

    #[test]
    fn feedback_on_a_proposal_does_not_build() {
        assert_eq!(decide(Some(&proposed()), "add categories"), TurnDecision::Consult);
    }
}
