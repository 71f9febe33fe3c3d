//! Per-mission figures as one CloudWatch Embedded Metric Format document, written once as a log
//! line when a mission finalizes. In AWS, CloudWatch Logs turns the line into metrics in the
//! `Gantry` namespace; locally it goes with JSON logs only (see `MetricsSink`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use gantry_domain::{Mission, StepName, StepRecord};

pub const NAMESPACE: &str = "Gantry";

/// The dimension every metric is published under: the mission's final status.
pub const OUTCOME_DIMENSION: &str = "Outcome";

/// Milliseconds spent in each step that ran, summed over attempts, in pipeline order; steps
/// still running are not counted.
pub fn phase_durations(steps: &[StepRecord]) -> Vec<(StepName, u64)> {
    let mut phases: BTreeMap<usize, u64> = BTreeMap::new();
    for step in steps {
        if let (Some(ended), Some(index)) =
            (step.ended_at, StepName::ALL.iter().position(|n| *n == step.name))
        {
            *phases.entry(index).or_insert(0) += (ended - step.started_at).num_milliseconds().max(0) as u64;
        }
    }
    phases.into_iter().map(|(index, ms)| (StepName::ALL[index], ms)).collect()
}

/// `build` → `BuildMs`: the metric name of a phase.
pub fn phase_metric(step: StepName) -> String {
    let name = step.as_str();
    let mut chars = name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
    format!("{first}{}Ms", chars.as_str())
}

/// The EMF document for a finalized mission: metrics `MissionDurationMs`, one `<Step>Ms` per
/// phase that ran, `Attempts`, `Heals`, `InputTokens`, `OutputTokens`, `CacheReadTokens`, `ModelCalls` and `Missions` (always 1),
/// under the dimension `Outcome`; `mission_id` and `title` ride along as plain properties.
pub fn mission_emf(mission: &Mission, steps: &[StepRecord]) -> Value {
    let mut values: Vec<(String, u64, &'static str)> = vec![(
        "MissionDurationMs".into(),
        (mission.updated_at - mission.created_at).num_milliseconds().max(0) as u64,
        "Milliseconds",
    )];
    for (step, ms) in phase_durations(steps) {
        values.push((phase_metric(step), ms, "Milliseconds"));
    }
    values.extend([
        ("Attempts".into(), u64::from(mission.attempts), "Count"),
        ("Heals".into(), u64::from(mission.heals), "Count"),
        ("InputTokens".into(), mission.tokens.input, "Count"),
        ("OutputTokens".into(), mission.tokens.output, "Count"),
        ("CacheReadTokens".into(), mission.tokens.cache_read, "Count"),
        ("ModelCalls".into(), u64::from(mission.tokens.calls), "Count"),
        ("Missions".into(), 1, "Count"),
    ]);
    let definitions: Vec<Value> =
        values.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": mission.updated_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[OUTCOME_DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.insert(OUTCOME_DIMENSION.into(), json!(mission.status.as_str()));
    for (name, value, _) in values {
        doc.insert(name, json!(value));
    }
    doc.insert("mission_id".into(), json!(mission.id));
    doc.insert("title".into(), json!(mission.title));
    Value::Object(doc)
}

/// Where EMF lines go. Lambda reads them from standard output; `gantry` sends them to standard
/// error with its JSON logs (where a log shipper may read them), and nowhere on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsSink {
    Stdout,
    Stderr,
    Off,
}

static SINK: OnceLock<MetricsSink> = OnceLock::new();

/// Chooses the sink once, at start-up (standard output if never called).
pub fn set_sink(sink: MetricsSink) {
    let _ = SINK.set(sink);
}

/// Writes the document as one line; a closed stream loses the line, never the mission.
pub fn emit(doc: &Value) {
    let line = format!("{doc}\n");
    let _ = match SINK.get().copied().unwrap_or(MetricsSink::Stdout) {
        MetricsSink::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
        MetricsSink::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
        MetricsSink::Off => Ok(()),
    };
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use gantry_domain::mission::TokenUsage;
    use gantry_domain::{MissionStatus, StepStatus, Subject};

    use super::*;

    fn step(name: StepName, attempt: u32, start: DateTime<Utc>, ms: Option<i64>) -> StepRecord {
        StepRecord {
            name,
            status: if ms.is_some() { StepStatus::Succeeded } else { StepStatus::Running },
            attempt,
            started_at: start,
            ended_at: ms.map(|ms| start + Duration::milliseconds(ms)),
            detail: None,
        }
    }

    #[test]
    fn a_finalized_mission_becomes_one_emf_document() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut m = Mission::new(Subject::new("owner"), "A todo app", MissionStatus::Queued, t0);
        m.status = MissionStatus::Success;
        m.attempts = 2;
        m.heals = 1;
        m.tokens =
            TokenUsage { input: 1200, output: 3400, cache_read: 800, calls: 3, ..TokenUsage::default() };
        m.updated_at = t0 + Duration::milliseconds(9_500);
        let steps = [
            step(StepName::Draft, 1, t0, Some(100)),
            step(StepName::Build, 1, t0, Some(2_000)),
            step(StepName::Heal, 2, t0, Some(300)),
            step(StepName::Build, 2, t0, Some(1_500)),
            step(StepName::Finalize, 2, t0, None),
        ];
        let doc = mission_emf(&m, &steps);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Gantry");
        assert_eq!(directive["Dimensions"], json!([["Outcome"]]));
        assert_eq!(doc["_aws"]["Timestamp"], json!(m.updated_at.timestamp_millis()));
        assert_eq!(doc["Outcome"], "SUCCESS");
        assert_eq!(doc["mission_id"], json!(m.id));
        for (name, value) in [
            ("MissionDurationMs", 9_500),
            ("DraftMs", 100),
            ("BuildMs", 3_500),
            ("HealMs", 300),
            ("Attempts", 2),
            ("Heals", 1),
            ("InputTokens", 1200),
            ("OutputTokens", 3400),
            ("CacheReadTokens", 800),
            ("ModelCalls", 3),
            ("Missions", 1),
        ] {
            assert_eq!(doc[name], json!(value), "{name}");
        }
        assert!(doc.get("FinalizeMs").is_none(), "a running step has no duration yet");
        // Every declared metric is a number on the root node, as the EMF specification requires.
        for definition in directive["Metrics"].as_array().unwrap() {
            let name = definition["Name"].as_str().unwrap();
            assert!(doc[name].is_u64(), "{name}");
            assert!(matches!(definition["Unit"].as_str(), Some("Milliseconds" | "Count")));
        }
        assert_eq!(directive["Metrics"].as_array().unwrap().len(), 11);
    }

    #[test]
    fn phase_metric_names_are_pascal_case() {
        assert_eq!(phase_metric(StepName::Draft), "DraftMs");
        assert_eq!(phase_metric(StepName::Evidence), "EvidenceMs");
    }
}
