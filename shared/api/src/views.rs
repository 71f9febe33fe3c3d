//! The JSON shapes of the contract, built from domain records.

use chrono::{DateTime, Utc};
use serde::Serialize;

use gantry_domain::consultation::{Consultation, ConsultationStatus};
use gantry_domain::report::{Delivery, FeatureOutcome};
use gantry_domain::{Mission, MissionStatus, Stack, StepRecord};

use crate::preview::PreviewOrigins;

#[derive(Debug, Serialize)]
pub struct ConsultationView {
    pub status: ConsultationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_stack: Option<Stack>,
    /// The theme id the app will be styled after (`"SPOTIFY"`), as in `GET /gantry/themes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design_target: Option<&'static str>,
    /// The look in words, for people: a theme's name, "your design image", "a Google-like look".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design_label: Option<String>,
    pub features: Vec<String>,
    pub confidence: f32,
}

impl From<&Consultation> for ConsultationView {
    fn from(c: &Consultation) -> Self {
        Self {
            status: c.status,
            question: c.question.clone(),
            proposed_stack: c.proposed_stack,
            design_target: c.brief.theme.map(|t| t.id()),
            design_label: c.design_target.clone(),
            features: c.features.clone(),
            confidence: c.confidence,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StepView {
    pub name: String,
    pub status: String,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&StepRecord> for StepView {
    fn from(s: &StepRecord) -> Self {
        Self {
            name: s.name.as_str().to_owned(),
            status: serde_json::to_value(s.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            attempt: s.attempt,
            started_at: s.started_at,
            ended_at: s.ended_at,
            detail: s.detail.clone(),
        }
    }
}

/// A mission's model usage as the contract shows it (`usage` in status and metrics).
#[derive(Debug, Serialize)]
pub struct UsageView {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub model_calls: u32,
    /// Estimated from the configured price table, rounded to a millionth of a dollar.
    pub cost_usd: f64,
}

impl From<&gantry_domain::mission::TokenUsage> for UsageView {
    fn from(t: &gantry_domain::mission::TokenUsage) -> Self {
        Self {
            input_tokens: t.input,
            output_tokens: t.output,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write,
            model_calls: t.calls,
            cost_usd: (t.cost_usd * 1e6).round() / 1e6,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub mission_id: String,
    pub status: MissionStatus,
    pub title: String,
    pub speech: String,
    pub attempts: u32,
    pub heals: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<gantry_domain::mission::DeploymentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Where `branch` lives: a local bare repository's path, or the hosted repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Ready commands to get the delivery: clone its branch, push it to a remote of your own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitHint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub deploy: bool,
    pub publish: bool,
    /// Every approved feature: built (the draft has it) and checked (the audit's test passed).
    pub features: Vec<FeatureOutcome>,
    /// "built N of M features; not built: X, Y", once a build has reported on the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    pub usage: UsageView,
    pub steps: Vec<StepView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StatusView {
    pub fn new(mission: &Mission, steps: &[StepRecord]) -> Self {
        let features = mission.feature_outcomes();
        // In flight, "built 0 of 5" would only mean "not yet": the line waits for a result.
        let reported = !mission.features.is_empty() || (mission.status.is_final() && mission.attempts > 0);
        let built = reported && !features.is_empty();
        Self {
            mission_id: mission.id.to_string(),
            status: mission.status,
            title: mission.title.clone(),
            speech: status_speech(mission),
            attempts: mission.attempts,
            heals: mission.heals,
            url: mission.url.clone(),
            deployment: mission.deployment.clone(),
            pr_url: mission.pr_url.clone(),
            branch: mission.branch.clone(),
            repo: mission.repo.clone(),
            git: GitHint::new(mission.repo.as_deref(), mission.branch.as_deref()),
            trace_url: mission.trace_url.clone(),
            evidence_url: mission.evidence_url.clone(),
            error: mission.error.clone(),
            deploy: mission.deploy,
            publish: mission.publish,
            delivery: built.then(|| Delivery::of(&features).summary()),
            features,
            usage: UsageView::from(&mission.tokens),
            steps: steps.iter().map(StepView::from).collect(),
            created_at: mission.created_at,
            updated_at: mission.updated_at,
        }
    }
}

impl StatusView {
    /// A local preview's address is `…/preview/{id}/` (or that path alone when it was built
    /// without a server); where previews have origins of their own, the answer names that.
    pub fn with_preview_origin(mut self, origins: Option<&PreviewOrigins>) -> Self {
        let (Some(origins), Some(url), Ok(id)) =
            (origins, self.url.as_deref(), self.mission_id.parse::<gantry_domain::MissionId>())
        else {
            return self;
        };
        if url.ends_with(&format!("/preview/{id}/")) {
            self.url = Some(origins.url(&id));
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitHint {
    pub clone: String,
    pub push: String,
}

/// `text` as one shell word: left alone when plain, else single-quoted.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-:@+=".contains(&b)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

impl GitHint {
    /// Commands for a repository given as a path or a URL; none for anything else.
    pub fn new(repo: Option<&str>, branch: Option<&str>) -> Option<Self> {
        let (repo, branch) = (repo?, branch?);
        if !(repo.starts_with('/') || repo.contains("://")) {
            return None;
        }
        let name = repo.trim_end_matches('/').rsplit('/').next().unwrap_or(repo);
        let dir = name.strip_suffix(".git").unwrap_or(name);
        let dir = if dir.is_empty() { "app" } else { dir };
        Some(Self {
            clone: format!(
                "git clone --branch {} {} {}",
                shell_word(branch),
                shell_word(repo),
                shell_word(dir)
            ),
            push: format!("git -C {} push <your-remote-url> HEAD:main", shell_word(dir)),
        })
    }
}

/// A sentence about a mission's state, short and plain enough to be spoken.
pub fn status_speech(mission: &Mission) -> String {
    use MissionStatus::*;
    let title = short(&mission.title, 60);
    let text = match mission.status {
        AwaitingInput => format!("{title} is waiting for your answer."),
        Queued => format!("{title} is queued and will start in a moment."),
        Drafting => format!("I'm drafting the code for {title}."),
        Validating => format!("I'm checking {title} against the policy."),
        Building => format!("I'm building and testing {title}, attempt {}.", mission.attempts.max(1)),
        Healing => format!("A test failed, so I'm repairing {title}."),
        Deploying => format!("{title} passed its tests and is being deployed."),
        Publishing => format!("I'm opening the pull request for {title}."),
        Deployed | PrOpened | Success => finished_speech(mission, &title),
        Blocked => format!("{title} was blocked by the policy check."),
        Failed => {
            format!("{title} failed. {}", mission.error.as_deref().map(|e| short(e, 120)).unwrap_or_default())
        }
        Timeout => format!("{title} ran out of time."),
        Cancelled => format!("{title} was cancelled."),
        Expired => format!("The conversation about {title} expired."),
    };
    speakable(&text)
}

/// A finished build: "delivered" only when every approved feature was built and checked;
/// otherwise what it did and, first, what is missing.
fn finished_speech(mission: &Mission, title: &str) -> String {
    let where_ = match mission.status {
        MissionStatus::Deployed => format!("{title} is live"),
        MissionStatus::PrOpened => format!("The pull request for {title} is open"),
        _ => format!("{title} is done"),
    };
    let delivery = Delivery::of(&mission.feature_outcomes());
    match (delivery.complete(), mission.status) {
        (true, MissionStatus::Success) => format!("{where_}: built, tested and delivered."),
        (true, _) => format!("{where_}."),
        (false, _) => format!("{where_}, but not all of the plan: {}.", delivery.summary()),
    }
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

/// Speech for Siri: plain words, at most 250 characters, cut at a word boundary.
pub fn speakable(text: &str) -> String {
    const MAX: usize = 250;
    let plain: String = text
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '#' | '<' | '>' | '[' | ']'))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    // Links are for screens; Siri would spell them out.
    let collapsed = plain
        .split_whitespace()
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            !(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."))
        })
        .collect::<Vec<_>>()
        .join(" ");
    if collapsed.chars().count() <= MAX {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(MAX - 1).collect();
    let end = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use gantry_domain::report::{FeatureResult, FeatureStatus};

    use super::*;

    #[test]
    fn speech_is_bounded_and_plain() {
        let long = "**Bold** `code` word ".repeat(40);
        let speech = speakable(&long);
        assert!(speech.chars().count() <= 250, "{}", speech.chars().count());
        assert!(!speech.contains('*') && !speech.contains('`'));
    }

    #[test]
    fn speech_never_reads_out_links() {
        let speech =
            speakable("Your app is live at https://example.test/preview/1 and www.example.test too.");
        assert_eq!(speech, "Your app is live at and too.");
    }

    fn approved(features: &[&str], results: &[(&str, FeatureStatus)]) -> Mission {
        let mut m = Mission::new(
            gantry_domain::Subject::new("o"),
            "Habit Tracker",
            MissionStatus::Success,
            Utc::now(),
        );
        m.consultation = Some(Consultation {
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            ..Consultation::new()
        });
        m.features = results
            .iter()
            .map(|(name, status)| FeatureResult { name: (*name).into(), status: *status, detail: None })
            .collect();
        m.attempts = 1;
        m
    }

    #[test]
    fn a_mission_missing_approved_features_never_says_delivered() {
        let m = approved(
            &["habit list", "streaks", "friends can see my streaks"],
            &[
                ("habit list", FeatureStatus::Passed),
                ("streaks", FeatureStatus::Passed),
                ("friends can see my streaks", FeatureStatus::NotBuilt),
            ],
        );
        for status in [MissionStatus::Success, MissionStatus::Deployed, MissionStatus::PrOpened] {
            let m = Mission { status, ..m.clone() };
            let speech = status_speech(&m);
            assert!(!speech.contains("delivered") && !speech.contains("built and tested"), "{speech}");
            assert!(
                speech.contains("built 2 of 3 features; not built: friends can see my streaks"),
                "{speech}"
            );
            assert!(speech.chars().count() <= 250, "{speech}");
        }
        let view = StatusView::new(&m, &[]);
        let flags: Vec<(bool, bool)> = view.features.iter().map(|f| (f.built, f.checked)).collect();
        assert_eq!(flags, [(true, true), (true, true), (false, false)]);
        assert_eq!(
            view.delivery.as_deref(),
            Some("built 2 of 3 features; not built: friends can see my streaks")
        );
    }

    #[test]
    fn a_build_in_flight_claims_nothing_either_way() {
        let mut m = approved(&["tags", "search"], &[]);
        m.status = MissionStatus::Building;
        let view = StatusView::new(&m, &[]);
        assert_eq!(view.delivery, None);
        assert!(view.features.iter().all(|f| !f.built && !f.checked));
        m.status = MissionStatus::Success;
        let speech = status_speech(&m);
        assert!(speech.contains("built 0 of 2 features; not built: tags, search"), "{speech}");
    }

    #[test]
    fn a_mission_with_every_feature_built_and_checked_is_delivered() {
        let m = approved(&["tags"], &[("tags", FeatureStatus::Passed)]);
        assert_eq!(status_speech(&m), "Habit Tracker is done: built, tested and delivered.");
        let json = serde_json::to_value(StatusView::new(&m, &[])).unwrap();
        assert_eq!(json["features"], serde_json::json!([{"name": "tags", "built": true, "checked": true}]));
    }

    #[test]
    fn git_hints_quote_what_the_shell_would_split() {
        let hint = GitHint::new(Some("/data/repos/todo-0191a2b3.git"), Some("gantry/0191")).unwrap();
        assert_eq!(hint.clone, "git clone --branch gantry/0191 /data/repos/todo-0191a2b3.git todo-0191a2b3");
        assert_eq!(hint.push, "git -C todo-0191a2b3 push <your-remote-url> HEAD:main");
        let spaced = GitHint::new(Some("/my data/it's.git"), Some("gantry/1")).unwrap();
        assert_eq!(spaced.clone, "git clone --branch gantry/1 '/my data/it'\\''s.git' 'it'\\''s'");
        assert_eq!(GitHint::new(Some("owner/name"), Some("gantry/1")), None);
        assert_eq!(GitHint::new(None, Some("gantry/1")), None);
    }

    #[test]
    fn a_local_preview_is_announced_on_its_own_origin() {
        let mut m =
            Mission::new(gantry_domain::Subject::new("o"), "Todo", MissionStatus::Success, Utc::now());
        let origins = PreviewOrigins::localhost(9000);
        for stored in [format!("http://127.0.0.1:8080/preview/{}/", m.id), format!("/preview/{}/", m.id)] {
            m.url = Some(stored);
            let view = StatusView::new(&m, &[]).with_preview_origin(Some(&origins));
            assert_eq!(view.url, Some(format!("http://{}.localhost:9000/", m.id)));
        }
        m.url = Some("https://todo-abc.vercel.app".into());
        let view = StatusView::new(&m, &[]).with_preview_origin(Some(&origins));
        assert_eq!(view.url.as_deref(), Some("https://todo-abc.vercel.app"));
    }

    #[test]
    fn every_status_has_speech() {
        for status in MissionStatus::ALL {
            let mut m = Mission::new(gantry_domain::Subject::new("o"), "A todo app", status, Utc::now());
            m.error = Some("x".repeat(500));
            let speech = status_speech(&m);
            assert!(!speech.is_empty() && speech.chars().count() <= 250, "{status}: {speech}");
        }
    }
}
