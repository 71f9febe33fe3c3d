//! The build report: what one sandboxed audit run produced. A failing audit is data, not an error.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::policy::Violation;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    pub passed: bool,
    /// The audit's exit code; `None` when it was killed by a signal.
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    pub timed_out: bool,
    pub oom: bool,
    /// The last bytes of the combined stdout/stderr, bounded.
    pub log_tail: String,
    /// sha256 of the whole log, so the stored log artifact can be checked against the report.
    pub log_sha256: String,
    /// How the audit was isolated, e.g. `bwrap+supervisor+rlimit+uid`, `bwrap+cgroup+supervisor+uid`,
    /// `fargate`; `supervisor` alone (no `cgroup`) means the memory cap was held by the sandbox's
    /// sampling supervisor, not by the kernel.
    pub isolation: String,
    /// The limits the run was held to.
    #[serde(default)]
    pub limits: BuildLimits,
    /// What the audit said about each approved feature (read back from `.gantry/results.json`).
    #[serde(default)]
    pub features: Vec<FeatureResult>,
    /// How the build's dependencies were installed (node builds: the curated set, linked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallSummary>,
    /// What a passed build left to deploy: its output dir, read back safely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSummary>,
}

/// A node build's install: the curated set `set` linked read-only, nothing downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSummary {
    pub set: String,
    /// Top-level entries of the set linked into `node_modules`.
    pub packages: usize,
    pub duration_ms: u64,
}

/// The output a deployer receives: `dir` relative to the work dir (`dist` for Vite, `.` for
/// a static app without one), and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputSummary {
    pub dir: String,
    pub files: usize,
    pub bytes: u64,
}

/// The `isolation` of a report that stands for a manifest the policy gate refused for repairable
/// violations: no build ran. A heal reads it like any failed build's report.
pub const POLICY_REFUSAL: &str = "none: refused by the policy gate, nothing ran";

impl BuildReport {
    /// What a heal is given when the gate refused the previous manifest for repairable violations:
    /// its log lists each as `POLICY [rule] file:line: message`.
    pub fn policy_refusal(violations: &[Violation], limits: BuildLimits) -> BuildReport {
        let mut log = String::from("The policy gate refused the manifest; nothing was built.\n");
        for violation in violations {
            let place = match (&violation.file, violation.line) {
                (Some(file), Some(line)) => format!("{file}:{line}: "),
                (Some(file), None) => format!("{file}: "),
                _ => String::new(),
            };
            log.push_str(&format!("POLICY [{}] {place}{}\n", violation.rule, violation.message));
        }
        BuildReport {
            passed: false,
            exit_code: None,
            duration_ms: 0,
            timed_out: false,
            oom: false,
            log_sha256: hex::encode(Sha256::digest(log.as_bytes())),
            log_tail: log,
            isolation: POLICY_REFUSAL.to_owned(),
            limits,
            features: Vec::new(),
            install: None,
            output: None,
        }
    }

    /// Whether this report stands for a policy refusal rather than a build.
    pub fn is_policy_refusal(&self) -> bool {
        self.isolation == POLICY_REFUSAL
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLimits {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub max_pids: u64,
}

impl Default for BuildLimits {
    fn default() -> Self {
        Self { memory_mb: 512, timeout_seconds: 180, max_pids: 256 }
    }
}

/// Where the audit writes its per-feature results, relative to the work dir.
pub const RESULTS_FILE: &str = ".gantry/results.json";

/// One approved feature as the audit found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureResult {
    pub name: String,
    pub status: FeatureStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureStatus {
    /// Built, and the audit's check for it passed.
    Passed,
    /// Built, but the audit's check for it failed.
    Failed,
    /// The draft does not implement it.
    NotBuilt,
}

/// The file the audit writes: `{"features":[{"name","status","detail"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsFile {
    pub features: Vec<FeatureResult>,
}

/// One approved feature as the status answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOutcome {
    pub name: String,
    /// The draft implements it.
    pub built: bool,
    /// The audit's check for it passed.
    pub checked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outcome of every approved feature, in the order they were approved. A feature the audit
/// reported nothing about is neither built nor checked: nothing is claimed without a result.
/// With nothing approved (a direct build), the audit's own list is the plan.
pub fn feature_outcomes(approved: &[String], results: &[FeatureResult]) -> Vec<FeatureOutcome> {
    let outcome = |result: &FeatureResult| FeatureOutcome {
        name: result.name.clone(),
        built: result.status != FeatureStatus::NotBuilt,
        checked: result.status == FeatureStatus::Passed,
        detail: result.detail.clone(),
    };
    if approved.is_empty() {
        return results.iter().map(outcome).collect();
    }
    approved
        .iter()
        .map(|name| {
            let key = normalised(name);
            match results.iter().find(|r| normalised(&r.name) == key) {
                Some(result) => FeatureOutcome { name: name.clone(), ..outcome(result) },
                None => FeatureOutcome {
                    name: name.clone(),
                    built: false,
                    checked: false,
                    detail: Some("the audit reported no result for it".to_owned()),
                },
            }
        })
        .collect()
}

fn normalised(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// How much of the plan a build delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub total: usize,
    /// Built and checked by the audit.
    pub done: usize,
    /// Not built at all, by name.
    pub not_built: Vec<String>,
    /// Built but not checked (the audit's check failed, or it reported nothing), by name.
    pub unchecked: Vec<String>,
}

impl Delivery {
    pub fn of(outcomes: &[FeatureOutcome]) -> Self {
        let names = |keep: fn(&FeatureOutcome) -> bool| {
            outcomes.iter().filter(|o| keep(o)).map(|o| o.name.clone()).collect::<Vec<_>>()
        };
        Self {
            total: outcomes.len(),
            done: outcomes.iter().filter(|o| o.built && o.checked).count(),
            not_built: names(|o| !o.built),
            unchecked: names(|o| o.built && !o.checked),
        }
    }

    /// Whether every approved feature was built and checked: only then may a mission say
    /// "delivered". A build with no feature results at all claims nothing either way.
    pub fn complete(&self) -> bool {
        self.done == self.total
    }

    /// "built 3 of 5 features; not built: streaks, friends; not checked: export".
    pub fn summary(&self) -> String {
        let mut text = format!(
            "built {} of {} feature{}",
            self.done,
            self.total,
            if self.total == 1 { "" } else { "s" }
        );
        if !self.not_built.is_empty() {
            text.push_str(&format!("; not built: {}", self.not_built.join(", ")));
        }
        if !self.unchecked.is_empty() {
            text.push_str(&format!("; not checked: {}", self.unchecked.join(", ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_policy_refusal_lists_every_violation_and_is_recognised() {
        let violation = |rule: &str, line: Option<u32>, message: &str| crate::policy::Violation {
            rule: rule.to_owned(),
            file: Some("package.json".to_owned()),
            line,
            message: message.to_owned(),
            repairable: true,
        };
        let report = super::BuildReport::policy_refusal(
            &[
                violation("node.outside_set", Some(7), "`left-pad` is not in the set"),
                violation("node.version_unsatisfied", None, "`react@^18`"),
            ],
            super::BuildLimits::default(),
        );
        assert!(report.is_policy_refusal() && !report.passed);
        assert!(report
            .log_tail
            .contains("POLICY [node.outside_set] package.json:7: `left-pad` is not in the set\n"));
        assert!(report.log_tail.contains("POLICY [node.version_unsatisfied] package.json: `react@^18`"));
        assert_eq!(report.log_sha256.len(), 64);
    }

    use super::*;

    fn result(name: &str, status: FeatureStatus) -> FeatureResult {
        FeatureResult { name: name.into(), status, detail: None }
    }

    #[test]
    fn the_results_file_has_one_shape() {
        let file: ResultsFile = serde_json::from_str(
            r#"{"features":[{"name":"tags","status":"passed"},{"name":"friends","status":"not_built","detail":"needs a server"}]}"#,
        )
        .unwrap();
        assert_eq!(file.features[1].status, FeatureStatus::NotBuilt);
        assert_eq!(file.features[1].detail.as_deref(), Some("needs a server"));
        assert!(
            serde_json::from_str::<ResultsFile>(r#"{"features":[{"name":"x","status":"done"}]}"#).is_err()
        );
        assert!(serde_json::from_str::<ResultsFile>(r#"{"feature":[]}"#).is_err());
    }

    #[test]
    fn an_old_report_without_features_still_reads() {
        let report: BuildReport = serde_json::from_str(
            r#"{"passed":true,"exit_code":0,"duration_ms":1,"timed_out":false,"oom":false,"log_tail":"","log_sha256":"","isolation":"rlimit"}"#,
        )
        .unwrap();
        assert!(report.features.is_empty());
    }

    #[test]
    fn every_approved_feature_gets_an_outcome_and_silence_claims_nothing() {
        let approved =
            vec!["Tags".to_owned(), "streaks".to_owned(), "friends".to_owned(), "search".to_owned()];
        let results = vec![
            result("tags", FeatureStatus::Passed),
            result("streaks", FeatureStatus::Failed),
            result("friends", FeatureStatus::NotBuilt),
        ];
        let outcomes = feature_outcomes(&approved, &results);
        let flags: Vec<(&str, bool, bool)> =
            outcomes.iter().map(|o| (o.name.as_str(), o.built, o.checked)).collect();
        assert_eq!(
            flags,
            [
                ("Tags", true, true),
                ("streaks", true, false),
                ("friends", false, false),
                ("search", false, false)
            ]
        );
        let delivery = Delivery::of(&outcomes);
        assert!(!delivery.complete());
        assert_eq!(
            delivery.summary(),
            "built 1 of 4 features; not built: friends, search; not checked: streaks"
        );
    }

    #[test]
    fn a_plan_built_and_checked_in_full_is_complete() {
        let approved = vec!["tags".to_owned()];
        let delivery = Delivery::of(&feature_outcomes(&approved, &[result("tags", FeatureStatus::Passed)]));
        assert!(delivery.complete());
        assert_eq!(delivery.summary(), "built 1 of 1 feature");
        let direct = feature_outcomes(&[], &[result("search", FeatureStatus::Passed)]);
        assert_eq!(direct.len(), 1);
        assert!(Delivery::of(&direct).complete());
    }
}
