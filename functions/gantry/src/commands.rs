//! The one-shot commands: each opens the data dir, does one thing, and says so plainly.
//!
//! Anything printed that a build, a model or a user wrote (titles, step details, errors, URLs,
//! JSON views) goes through `terminal_safe` / `terminal_safe_json` first: their control
//! characters are shown, never obeyed by the operator's terminal.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::Utc;

use gantry_api::auth;
use gantry_api::views::StatusView;
use gantry_brain::OfflineBrain;
use gantry_domain::evidence::{self, ArtifactRef};
use gantry_domain::terminal::{terminal_safe, terminal_safe_json};
use gantry_domain::{guardrails, GantryManifest, Mission, MissionId, MissionStatus, Role, Subject, Turn};
use gantry_pipeline::{verify_mission_evidence, MissionEvidence};
use gantry_ports::{ApiToken, EvidenceKey, MissionStore, ObjectStore, Orchestrator, TokenStore};

use crate::local::{load_policy, Local};
use crate::CleanupArgs;

pub struct BuildOptions {
    pub manifest: Option<PathBuf>,
    pub deploy: bool,
    pub publish: bool,
    pub json: bool,
    /// Where a `gantry serve` of this data dir will be reached, if the caller says so.
    pub addr: Option<String>,
}

/// The base previews are announced at: the given server address, or none (the preview's
/// address is then the bare path `/preview/{id}/`, resolved by whichever server shows it).
fn public_base(addr: Option<&str>) -> String {
    match addr {
        Some(addr) if addr.starts_with("http://") || addr.starts_with("https://") => {
            addr.trim_end_matches('/').to_owned()
        }
        Some(addr) => format!("http://{addr}"),
        None => String::new(),
    }
}

fn parse_id(raw: &str) -> anyhow::Result<MissionId> {
    raw.parse().map_err(|_| anyhow::anyhow!("{raw:?} is not a mission id"))
}

pub async fn build(
    data_dir: &Path,
    policy: Option<&Path>,
    prompt: Option<&str>,
    options: BuildOptions,
) -> anyhow::Result<ExitCode> {
    let given = match &options.manifest {
        Some(path) => {
            let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let manifest: GantryManifest = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a GantryManifest", path.display()))?;
            Some(manifest)
        }
        None => None,
    };
    let prompt = prompt.map(str::trim).filter(|p| !p.is_empty());
    let (mission, turn) = match (prompt, &given) {
        (Some(prompt), _) => {
            if let Err(refusal) = guardrails::check(prompt) {
                bail!("refused: {}", refusal.reason);
            }
            let owner = Subject::new(auth::OWNER);
            gantry_pipeline::direct_build(
                &OfflineBrain,
                owner,
                prompt,
                options.deploy,
                options.publish,
                Utc::now(),
            )
            .await?
        }
        // A given manifest needs no plan: it is built as it is, named by its project.
        (None, Some(manifest)) => {
            let now = Utc::now();
            let title = manifest.project_name.clone();
            let mut mission =
                Mission::new(Subject::new(auth::OWNER), title.clone(), MissionStatus::Queued, now);
            mission.deploy = options.deploy;
            mission.publish = options.publish;
            let turn = Turn { role: Role::User, content: format!("build the manifest {title}"), at: now };
            (mission, turn)
        }
        (None, None) => bail!("describe the app to build"),
    };
    // Everything from here on is this mission's work: every log line carries its id (the
    // pipeline's own lines in the executor's span, which is a root of its own).
    let span = tracing::info_span!("mission", mission_id = %mission.id);
    tracing::Instrument::instrument(run_build(data_dir, policy, mission, turn, given, options), span).await
}

async fn run_build(
    data_dir: &Path,
    policy: Option<&Path>,
    mut mission: Mission,
    turn: Turn,
    given: Option<GantryManifest>,
    options: BuildOptions,
) -> anyhow::Result<ExitCode> {
    let local = Local::open_configured(data_dir, &public_base(options.addr.as_deref()), policy).await?;
    if let Some(manifest) = given {
        let key = gantry_ports::object_keys::given_manifest(&mission.id);
        local.objects.put(&key, &serde_json::to_vec(&manifest)?, "application/json").await?;
        mission.manifest_key = Some(key);
    }
    local.store.create(&mission, &[turn]).await?;
    eprintln!("mission {} queued: {}", mission.id, terminal_safe(&mission.title));
    local.orchestrator.start(&mission).await?;

    // Print each step as it changes while waiting for the end.
    let id = mission.id.clone();
    let mut seen: HashMap<(String, u32), String> = HashMap::new();
    let wait = local.orchestrator.wait(&id);
    tokio::pin!(wait);
    loop {
        tokio::select! {
            _ = &mut wait => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                if !options.json {
                    report_steps(&local, &id, &mut seen).await;
                }
            }
        }
    }
    if !options.json {
        report_steps(&local, &id, &mut seen).await;
    }
    let mission = local.store.get(&id).await?.context("the mission disappeared")?;
    let steps = local.store.steps(&id).await?;
    let view = StatusView::new(&mission, &steps);
    if options.json {
        print_json(&view)?;
    } else {
        print_summary(&view);
    }
    Ok(if mission.status.is_successful() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn report_steps(local: &Local, id: &MissionId, seen: &mut HashMap<(String, u32), String>) {
    let Ok(steps) = local.store.steps(id).await else { return };
    for step in steps {
        let state = format!("{:?}", step.status).to_lowercase();
        let key = (step.name.as_str().to_owned(), step.attempt);
        if seen.get(&key) != Some(&state) {
            let detail =
                step.detail.as_deref().map(|d| format!(" — {}", terminal_safe(d))).unwrap_or_default();
            eprintln!("  {:<9} #{} {state}{detail}", step.name.as_str(), step.attempt);
            seen.insert(key, state);
        }
    }
}

/// What to print for a preview address: a link when it is one; a local preview built without
/// a server has only its path, so say how to open it instead of inventing a host.
fn preview_line(url: &str) -> String {
    if url.starts_with('/') {
        "not served yet: run `gantry serve` and open the mission in the web chat".to_owned()
    } else {
        url.to_owned()
    }
}

/// A JSON document on stdout, with no raw control character in it.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", terminal_safe_json(&serde_json::to_string_pretty(value)?));
    Ok(())
}

fn print_summary(view: &StatusView) {
    println!("{}  {}", view.status, terminal_safe(&view.title));
    println!("mission   {}", view.mission_id);
    let preview = view.url.as_deref().map(preview_line);
    let clone = view.git.as_ref().map(|g| g.clone.clone());
    let push = view.git.as_ref().map(|g| g.push.clone());
    for (label, value) in [
        ("preview", &preview),
        ("pr", &view.pr_url),
        ("branch", &view.branch),
        ("repo", &view.repo),
        ("clone", &clone),
        ("push", &push),
        ("evidence", &view.evidence_url),
        ("error", &view.error),
    ] {
        if let Some(value) = value {
            println!("{label:<9} {}", terminal_safe(value));
        }
    }
}

pub async fn status(data_dir: &Path, raw: &str, with_steps: bool, json: bool) -> anyhow::Result<ExitCode> {
    let id = parse_id(raw)?;
    let local = Local::open(data_dir, "http://127.0.0.1:8080", None)?;
    let Some(mission) = local.store.get(&id).await? else {
        eprintln!("gantry: no mission {id}");
        return Ok(ExitCode::FAILURE);
    };
    let steps = local.store.steps(&id).await?;
    let view = StatusView::new(&mission, &steps);
    if json {
        print_json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_summary(&view);
    println!("attempts  {} ({} heals)", view.attempts, view.heals);
    if with_steps {
        print_timeline(&view);
    }
    Ok(ExitCode::SUCCESS)
}

/// "850 ms", "12.4 s", "3 min 05 s": durations a person reads at a glance.
fn took(ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// The step timeline: when each step started (from the first), how long it took, what it said.
fn print_timeline(view: &StatusView) {
    let Some(first) = view.steps.iter().map(|s| s.started_at).min() else {
        println!("\nno steps yet");
        return;
    };
    println!();
    println!("{:<9} {:>3}  {:<9} {:>10} {:>12}  detail", "step", "#", "status", "started", "took");
    for step in &view.steps {
        let started = format!("+{}", took((step.started_at - first).num_milliseconds().max(0)));
        let duration = step
            .ended_at
            .map(|end| took((end - step.started_at).num_milliseconds().max(0)))
            .unwrap_or_else(|| "running".into());
        println!(
            "{:<9} {:>3}  {:<9} {:>10} {:>12}  {}",
            step.name,
            step.attempt,
            step.status,
            started,
            duration,
            terminal_safe(step.detail.as_deref().unwrap_or_default())
        );
    }
    if let Some(last) = view.steps.iter().filter_map(|s| s.ended_at).max() {
        println!(
            "{:<9} {:>3}  {:<9} {:>10} {:>12}",
            "total",
            "",
            "",
            "",
            took((last - first).num_milliseconds().max(0))
        );
    }
}

pub async fn missions(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let local = Local::open(data_dir, "http://127.0.0.1:8080", None)?;
    let page = local.store.list(&Subject::new(auth::OWNER), None, 100).await?;
    if page.missions.is_empty() {
        println!("no missions yet");
    }
    for m in page.missions {
        println!(
            "{}  {:<14} {}  {}",
            m.id,
            m.status.as_str(),
            m.created_at.format("%Y-%m-%d %H:%M"),
            terminal_safe(&m.title)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token_create(data_dir: &Path, name: &str) -> anyhow::Result<ExitCode> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("a token name is 1 to 64 letters, digits, '-', '_' or '.'");
    }
    let local = Local::open(data_dir, "http://127.0.0.1:8080", None)?;
    let (token, digest) = auth::generate_api_token();
    let record = ApiToken {
        name: name.to_owned(),
        subject: auth::OWNER.to_owned(),
        token_sha256: digest,
        created_at: Utc::now(),
        revoked_at: None,
    };
    local.store.create_token(&record).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("token {name:?} created; it is shown only now, store it somewhere safe:");
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

pub async fn token_revoke(data_dir: &Path, name: &str) -> anyhow::Result<ExitCode> {
    let local = Local::open(data_dir, "http://127.0.0.1:8080", None)?;
    if local.store.revoke_token(name, Utc::now()).await? {
        println!("token {name:?} revoked");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("gantry: no live token named {name:?}");
        Ok(ExitCode::FAILURE)
    }
}

pub async fn verify(
    data_dir: &Path,
    id: Option<String>,
    file: Option<PathBuf>,
    artifacts_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let (bytes, verification) = match (id, file) {
        // A mission of this installation: its newest pack, bound to it and to its latest run,
        // signed by this installation's key (the same check as the HTTP evidence view).
        (Some(raw), None) => {
            let id = parse_id(&raw)?;
            let local = Local::open(data_dir, "http://127.0.0.1:8080", None)?;
            let mission = local.store.get(&id).await?.with_context(|| format!("no mission {id}"))?;
            let key = EvidenceKey::public_key(local.signer.as_ref()).await?;
            match verify_mission_evidence(local.evidence.as_ref(), &mission, &key).await? {
                MissionEvidence::NotSealed => bail!(
                    "mission {id} has no sealed evidence for its latest run (dispatch {}) yet",
                    mission.dispatches
                ),
                MissionEvidence::Checked { pack, verification } => (pack, verification),
            }
        }
        // A pack on its own: intact as the key it carries sealed it, for the mission it names.
        (None, Some(path)) => {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut found = HashMap::new();
            if let (Some(dir), Ok(pack)) = (&artifacts_dir, serde_json::from_slice::<evidence::Pack>(&bytes))
            {
                for artifact in &pack.artifacts {
                    for candidate in [dir.join(&artifact.name), dir.join(&artifact.key)] {
                        if let Ok(content) = std::fs::read(&candidate) {
                            found.insert(artifact.key.clone(), content);
                            break;
                        }
                    }
                }
            }
            let verification = evidence::verify_json(&bytes, &|a: &ArtifactRef| found.get(&a.key).cloned());
            (Some(bytes), verification)
        }
        _ => bail!("name a mission id, or --file PACK"),
    };
    let pack = bytes.as_deref().and_then(|b| serde_json::from_slice::<evidence::Pack>(b).ok());
    if verification.valid {
        let head = pack.as_ref().map(|p| p.head.as_str()).unwrap_or_default();
        println!("valid: every record, artifact and the signature check out (head {})", terminal_safe(head));
    } else {
        let first = verification.errors.first().map(String::as_str).unwrap_or("unknown error");
        println!("INVALID: {}", terminal_safe(first));
        for error in verification.errors.iter().skip(1) {
            println!("  also: {}", terminal_safe(error));
        }
    }
    // What the pack says it is, which only its signature vouches for.
    if let Some(pack) = &pack {
        println!("pack of mission {}, dispatch {}", pack.mission_id, pack.dispatch);
    }
    Ok(if verification.valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs the cleanup rules once. Builds run by a `gantry serve` elsewhere are not visible from
/// this process; that server's own background cleanup stops those.
pub async fn cleanup(
    data_dir: &Path,
    policy: Option<&Path>,
    settings: CleanupArgs,
) -> anyhow::Result<ExitCode> {
    let local = Local::open(data_dir, "http://127.0.0.1:8080", policy)?;
    let config = settings.config(&local.policy);
    let summary = gantry_pipeline::run_cleanup(&local.cleanup_deps()?, &config, Utc::now()).await;
    print_json(&summary)?;
    Ok(if summary.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn policy_check(manifest: &Path, policy: Option<&Path>) -> anyhow::Result<ExitCode> {
    let policy = load_policy(policy)?;
    let text = std::fs::read(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let manifest: GantryManifest = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a GantryManifest", manifest.display()))?;
    let verdict = policy.evaluate(&manifest);
    print_json(&verdict)?;
    Ok(if verdict.allowed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn hash_password() -> anyhow::Result<ExitCode> {
    let password = match std::env::var("GANTRY_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("password (one line on standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.len() < 8 {
        bail!("use a password of at least 8 characters");
    }
    println!("{}", auth::hash_password(&password).map_err(anyhow::Error::msg)?);
    Ok(ExitCode::SUCCESS)
}

/// `gantry deps fetch`: progress on standard error, the outcome on standard output.
pub async fn deps_fetch(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let deps = crate::local::node_deps(data_dir);
    let report = deps.fetch(|line| eprintln!("{line}")).await?;
    if report.already_there {
        println!("the node dependency set {} is already in {}", deps.id(), report.dir.display());
    } else {
        println!(
            "fetched the node dependency set {}: {} packages, {} MiB, {:.1} s, in {}",
            deps.id(),
            report.packages,
            report.bytes / (1024 * 1024),
            report.duration.as_secs_f64(),
            report.dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `gantry deps status`: whether node apps can build here.
pub fn deps_status(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let deps = crate::local::node_deps(data_dir);
    match deps.require() {
        Ok(dir) => {
            println!("the node dependency set {} is ready in {}", deps.id(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
