//! The output schemas of the three calls, and the validation that turns an answer into domain
//! types or into an error message the model can act on. A JSON schema in strict mode: every
//! property required, no others; "none" is an empty string, never a guess.

use serde::Deserialize;
use serde_json::{json, Value};

use gantry_domain::consultation::{Brief, Consultation, ConsultationStatus};
use gantry_domain::manifest;
use gantry_domain::themes::Theme;
use gantry_domain::{GantryManifest, ManifestFile, Stack};

use super::transport::OutputSchema;

/// Longest spoken reply (the `/voice` contract).
pub const MAX_SPEECH_CHARS: usize = 250;
/// Most features a proposal may list.
pub const MAX_FEATURES: usize = 12;
const MAX_FEATURE_CHARS: usize = 160;

fn stacks(allowed: &[Stack]) -> Vec<&'static str> {
    allowed.iter().map(|s| s.as_str()).collect()
}

pub fn consult_schema(allowed: &[Stack]) -> OutputSchema {
    let themes: Vec<&str> = Theme::ALL.iter().map(|t| t.id()).chain([""]).collect();
    OutputSchema {
        name: "consultation_turn",
        description: "Gantry's answer to the newest message of the consultation.",
        schema: json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["status", "reply", "speech", "question", "title", "features", "stack", "theme", "design_target", "confidence"],
            "properties": {
                "status": {"type": "string", "enum": ["question", "proposal"],
                    "description": "question: you need an answer first; proposal: a complete plan the person can approve"},
                "reply": {"type": "string", "description": "the full chat reply"},
                "speech": {"type": "string", "description": "the same in plain spoken words, at most 250 characters, no links or markup"},
                "question": {"type": "string", "description": "the one question you ask, or empty"},
                "title": {"type": "string", "description": "a short name for the app"},
                "features": {"type": "array", "items": {"type": "string"}, "description": "the features of the plan, each one testable"},
                "stack": {"type": "string", "enum": stacks(allowed)},
                "theme": {"type": "string", "enum": themes, "description": "a theme id, or empty"},
                "design_target": {"type": "string", "description": "what the look should match (a theme, the attached image), or empty"},
                "confidence": {"type": "number", "description": "0 to 1: how sure you are the plan is what the person wants"}
            }
        }),
    }
}

pub fn manifest_schema(allowed: &[Stack]) -> OutputSchema {
    OutputSchema {
        name: "gantry_manifest",
        description: "The complete project: every file, and the audit command that proves it works.",
        schema: json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["notes", "project_name", "stack", "files", "audit_command", "run_command", "output_dir"],
            "properties": {
                "notes": {"type": "string", "description": "what you built or changed, and why, in two sentences"},
                "project_name": {"type": "string", "description": "lower-case letters, digits and hyphens"},
                "stack": {"type": "string", "enum": stacks(allowed)},
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["path", "content"],
                        "properties": {
                            "path": {"type": "string", "description": "relative, normalised, no `..`"},
                            "content": {"type": "string"}
                        }
                    }
                },
                "audit_command": {"type": "string"},
                "run_command": {"type": "string", "description": "how to serve it, or empty"},
                "output_dir": {"type": "string", "description": "the directory that deploys, or empty for the project root"}
            }
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsultAnswer {
    status: String,
    reply: String,
    speech: String,
    question: String,
    title: String,
    features: Vec<String>,
    stack: String,
    theme: String,
    design_target: String,
    confidence: f64,
}

/// A consultation turn read from the model, before the domain has its say on consent.
#[derive(Debug, Clone)]
pub struct ConsultTurn {
    pub consultation: Consultation,
    pub response: String,
    pub speech: String,
}

/// Reads a consultation answer. The model can only ask or propose: `READY_TO_BUILD` is the
/// domain's to decide, on the person's consent, so no answer of the model can produce it.
pub fn read_consultation(
    value: Value,
    allowed: &[Stack],
    previous: Option<&Consultation>,
    notes: Vec<String>,
) -> Result<ConsultTurn, String> {
    let answer: ConsultAnswer =
        serde_json::from_value(value).map_err(|e| format!("the answer does not match the schema: {e}"))?;
    let mut problems = Vec::new();
    let status = match answer.status.as_str() {
        "question" => ConsultationStatus::NeedsInput,
        "proposal" => ConsultationStatus::NeedsConfirmation,
        other => {
            problems.push(format!("status must be `question` or `proposal`, not {other:?}"));
            ConsultationStatus::NeedsInput
        }
    };
    let stack = match answer.stack.parse::<Stack>() {
        Ok(stack) if allowed.contains(&stack) => Some(stack),
        _ => {
            problems.push(format!("stack must be one of {}", stacks(allowed).join(", ")));
            None
        }
    };
    let theme = match answer.theme.trim() {
        "" => None,
        id => Theme::from_id(id).or_else(|| {
            problems.push(format!("theme {id:?} is not a known theme id"));
            None
        }),
    };
    let features: Vec<String> =
        answer.features.iter().map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect();
    if features.len() > MAX_FEATURES {
        problems.push(format!("list at most {MAX_FEATURES} features"));
    }
    if features.iter().any(|f| f.chars().count() > MAX_FEATURE_CHARS) {
        problems.push(format!("keep each feature under {MAX_FEATURE_CHARS} characters"));
    }
    if status == ConsultationStatus::NeedsConfirmation && features.is_empty() {
        problems.push("a proposal lists its features".to_owned());
    }
    if status == ConsultationStatus::NeedsInput && answer.question.trim().is_empty() {
        problems.push("status `question` needs the question in `question`".to_owned());
    }
    if answer.reply.trim().is_empty() {
        problems.push("reply is empty".to_owned());
    }
    if answer.speech.chars().count() > MAX_SPEECH_CHARS {
        problems.push(format!("speech must be at most {MAX_SPEECH_CHARS} characters"));
    }
    if !(0.0..=1.0).contains(&answer.confidence) {
        problems.push("confidence must be between 0 and 1".to_owned());
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }

    let design_image = previous.and_then(|c| c.brief.design_image.clone());
    let title = Some(answer.title.trim().to_owned()).filter(|t| !t.is_empty());
    let proposal = (status == ConsultationStatus::NeedsConfirmation).then(|| answer.reply.trim().to_owned());
    let question = Some(answer.question.trim().to_owned()).filter(|q| !q.is_empty());
    let design_target = Some(answer.design_target.trim().to_owned()).filter(|d| !d.is_empty());
    let brief = Brief {
        kind: None,
        title,
        theme,
        features: features.clone(),
        stack,
        design_image,
        notes,
        collection: None,
    };
    let consultation = Consultation {
        status,
        question: if status == ConsultationStatus::NeedsInput { question } else { None },
        proposed_stack: stack,
        design_target,
        features,
        confidence: answer.confidence as f32,
        brief,
        proposal,
    };
    let speech = if answer.speech.trim().is_empty() { answer.reply.clone() } else { answer.speech };
    Ok(ConsultTurn { consultation, response: answer.reply, speech })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestAnswer {
    notes: String,
    project_name: String,
    stack: String,
    files: Vec<FileAnswer>,
    audit_command: String,
    run_command: String,
    output_dir: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAnswer {
    path: String,
    content: String,
}

/// Reads a drafted or healed manifest: it must be a whole, valid `GantryManifest` of an allowed
/// stack. The policy gate is not applied here: it runs in the pipeline on every manifest.
pub fn read_manifest(value: Value, allowed: &[Stack]) -> Result<(GantryManifest, String), String> {
    let answer: ManifestAnswer =
        serde_json::from_value(value).map_err(|e| format!("the answer does not match the schema: {e}"))?;
    let stack = answer
        .stack
        .parse::<Stack>()
        .ok()
        .filter(|s| allowed.contains(s))
        .ok_or_else(|| format!("stack must be one of {}", stacks(allowed).join(", ")))?;
    let optional = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let manifest = GantryManifest {
        project_name: answer.project_name.trim().to_owned(),
        stack,
        files: answer.files.into_iter().map(|f| ManifestFile { path: f.path, content: f.content }).collect(),
        audit_command: answer.audit_command.trim().to_owned(),
        run_command: optional(answer.run_command),
        output_dir: optional(answer.output_dir),
    };
    if manifest.files.is_empty() {
        return Err("the manifest has no files".to_owned());
    }
    if let Err(errors) = manifest::validate(&manifest) {
        let listed: Vec<String> = errors.iter().take(10).map(|e| format!("{e} [{}]", e.rule())).collect();
        return Err(format!("the manifest is not valid: {}", listed.join("; ")));
    }
    Ok((manifest, answer.notes.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Stack; 3] = [Stack::Static, Stack::Node, Stack::Python];

    fn proposal() -> Value {
        json!({
            "status": "proposal", "reply": "A to-do list with categories. Shall I build it?",
            "speech": "A to-do list with categories. Shall I build it?", "question": "",
            "title": "Chores", "features": ["add a task", "tick a task off"], "stack": "static",
            "theme": "NOTION", "design_target": "", "confidence": 0.8
        })
    }

    #[test]
    fn a_proposal_awaits_confirmation_and_never_reads_as_ready() {
        let turn = read_consultation(proposal(), &ALL, None, vec!["a todo app".into()]).unwrap();
        assert_eq!(turn.consultation.status, ConsultationStatus::NeedsConfirmation);
        assert!(turn.consultation.awaits_confirmation());
        assert_eq!(turn.consultation.brief.theme, Some(Theme::Notion));
        let mut ready = proposal();
        ready["status"] = json!("ready_to_build");
        let error = read_consultation(ready, &ALL, None, Vec::new()).unwrap_err();
        assert!(error.contains("status must be"), "{error}");
    }

    #[test]
    fn a_proposal_without_features_or_a_long_speech_is_sent_back() {
        let mut bad = proposal();
        bad["features"] = json!([]);
        bad["speech"] = json!("x".repeat(300));
        let error = read_consultation(bad, &ALL, None, Vec::new()).unwrap_err();
        assert!(error.contains("lists its features") && error.contains("250"), "{error}");
    }

    #[test]
    fn a_stack_the_policy_does_not_allow_is_refused() {
        let error = read_consultation(proposal(), &[Stack::Python], None, Vec::new()).unwrap_err();
        assert!(error.contains("stack must be one of python"), "{error}");
    }

    #[test]
    fn a_manifest_with_a_traversing_path_is_not_half_read() {
        let value = json!({
            "notes": "", "project_name": "demo", "stack": "static",
            "files": [{"path": "../escape.html", "content": "x"}],
            "audit_command": "test -f index.html", "run_command": "", "output_dir": ""
        });
        let error = read_manifest(value, &ALL).unwrap_err();
        assert!(error.contains("path.traversal"), "{error}");
    }

    #[test]
    fn a_valid_manifest_reads_with_empty_optionals_as_none() {
        let value = json!({
            "notes": "a page", "project_name": "demo", "stack": "static",
            "files": [{"path": "index.html", "content": "<h1>hi</h1>"}],
            "audit_command": "test -f index.html", "run_command": "", "output_dir": ""
        });
        let (manifest, notes) = read_manifest(value, &ALL).unwrap();
        assert_eq!(manifest.run_command, None);
        assert_eq!(manifest.output_dir, None);
        assert_eq!(notes, "a page");
    }
}
