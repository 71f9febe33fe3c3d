//! The moto harness shared by every AWS adapter test: one moto server per test binary, started
//! on first use on a free loopback port, and resources created exactly as `infra/template.yaml`
//! declares them. Nothing global is set: each test builds its own `SdkConfig` (SDK clients hold
//! connection pools tied to the runtime that made them, and every `#[tokio::test]` has its own),
//! and names its own table and buckets, so tests stay parallel-safe.
//!
//! moto runs from `tests/moto/server.py`, which is `python -m moto.server` answering one request
//! at a time (moto's backends are not thread-safe; the services they emulate are linearisable).
//! Install moto first with `tests/moto/setup.sh`; the harness panics rather than skip without it.

#![allow(dead_code)]

pub mod sigv4;

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use serde_yaml::Value;

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server. Dropping it stops moto; the one behind [`moto`] lives as long as the
/// test binary and is stopped when the binary exits and its end of the pipe closes.
pub struct Moto {
    port: u16,
    child: Child,
    /// moto's watchdog kills moto when this closes (on drop, or when the test process exits).
    lifeline: Option<ChildStdin>,
}

/// The venv `tests/moto/setup.sh` installs into.
pub fn venv() -> PathBuf {
    match std::env::var_os("GANTRY_MOTO_VENV") {
        Some(path) => PathBuf::from(path),
        None => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/gantry/moto-venv")
        }
    }
}

/// `tests/moto/server.py`: `moto.server`, serialising requests (see the script for why).
fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/moto/server.py")
}

fn wait_until_ready(child: &mut Child, port: u16) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "moto exited during start-up ({status}): run tests/moto/setup.sh (venv {})",
                venv().display()
            );
        }
        assert!(Instant::now() < deadline, "moto did not listen on port {port} within {READY_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

impl Moto {
    /// Starts a moto server of its own and waits until it accepts connections.
    pub fn start() -> Moto {
        let python = venv().join("bin/python");
        assert!(
            python.exists(),
            "moto is not installed ({} is missing): run tests/moto/setup.sh",
            python.display()
        );
        let port = free_port();
        // moto keeps running while this shell's stdin is open; the reader kills it on EOF, so no
        // moto outlives the test binary however the binary ends. (fd 3: a background job's own
        // stdin is /dev/null.)
        let script = r#"exec 3<&0
            "$0" "$1" -H 127.0.0.1 -p "$2" </dev/null >/dev/null 2>&1 &
            moto=$!
            { read -r _ <&3; kill "$moto" 2>/dev/null; } &
            wait "$moto""#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&python)
            .arg(server_script())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start moto");
        let lifeline = child.stdin.take();
        wait_until_ready(&mut child, port);
        Moto { port, child, lifeline }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration for this server: its endpoint, us-east-1, static test credentials,
    /// and the crate's own timeouts and retries.
    pub fn sdk_config(&self) -> SdkConfig {
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "gantry-moto");
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .timeout_config(gantry_aws::client::timeout_config())
            .retry_config(gantry_aws::client::retry_config())
            .build()
    }

    /// Lets Step Functions executions in moto run their states rather than succeed at once.
    pub async fn enable_state_machine_execution(&self) {
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/config", self.endpoint()))
            .json(&serde_json::json!({"stepfunctions": {"execute_state_machine": true}}))
            .send()
            .await
            .expect("reach moto's config API");
        assert!(response.status().is_success(), "moto refused the config: {}", response.status());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(mut pipe) = self.lifeline.take() {
            let _ = pipe.write_all(b"\n");
        }
        let _ = self.child.wait();
    }
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// A name no other test (or earlier run against the same server) uses: lowercase, digits and
/// hyphens, valid for tables and buckets alike.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{}-{nanos:x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

// --- infra/template.yaml ---------------------------------------------------------------------

fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml")
}

/// The template, with `!Ref`s to parameters replaced by the parameters' defaults.
pub fn template() -> Value {
    let text = std::fs::read_to_string(template_path()).expect("read infra/template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("parse infra/template.yaml");
    let parameters = template.get("Parameters").cloned().unwrap_or(Value::Null);
    resolve(template, &parameters)
}

fn resolve(value: Value, parameters: &Value) -> Value {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str().expect("!Ref names a string").to_owned();
            match parameters.get(&name).and_then(|p| p.get("Default")) {
                Some(default) => default.clone(),
                None => Value::Tagged(tagged),
            }
        }
        Value::Tagged(mut tagged) => {
            tagged.value = resolve(tagged.value, parameters);
            Value::Tagged(tagged)
        }
        Value::Mapping(mapping) => {
            Value::Mapping(mapping.into_iter().map(|(k, v)| (k, resolve(v, parameters))).collect())
        }
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(|v| resolve(v, parameters)).collect())
        }
        other => other,
    }
}

/// The `Properties` of one resource of the template.
pub fn resource_properties(name: &str) -> Value {
    let template = template();
    template["Resources"][name]["Properties"].clone()
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is not a string in {value:?}"))
}

fn key_schema(value: &Value) -> Vec<aws_sdk_dynamodb::types::KeySchemaElement> {
    use aws_sdk_dynamodb::types::{KeySchemaElement, KeyType};
    value
        .as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(text(key, "AttributeName"))
                .key_type(KeyType::from(text(key, "KeyType")))
                .build()
                .expect("key schema element")
        })
        .collect()
}

/// Creates table `name` as the template's `MissionTable`: attributes, keys, indexes, billing, TTL.
pub async fn create_mission_table(config: &SdkConfig, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, Projection, ProjectionType,
        ScalarAttributeType, TimeToLiveSpecification,
    };
    let properties = resource_properties("MissionTable");
    let client = aws_sdk_dynamodb::Client::new(config);
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(text(&properties, "BillingMode")))
        .set_key_schema(Some(key_schema(&properties["KeySchema"])));
    for attribute in properties["AttributeDefinitions"].as_sequence().expect("AttributeDefinitions") {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(attribute, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(text(attribute, "AttributeType")))
                .build()
                .expect("attribute definition"),
        );
    }
    for index in properties["GlobalSecondaryIndexes"].as_sequence().into_iter().flatten() {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(text(&index["Projection"], "ProjectionType")))
            .build();
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName"))
                .set_key_schema(Some(key_schema(&index["KeySchema"])))
                .projection(projection)
                .build()
                .expect("global secondary index"),
        );
    }
    request.send().await.expect("create the mission table");

    let ttl = &properties["TimeToLiveSpecification"];
    if ttl.is_mapping() {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(text(ttl, "AttributeName"))
                    .enabled(ttl["Enabled"].as_bool().expect("TTL Enabled is a boolean"))
                    .build()
                    .expect("TTL specification"),
            )
            .send()
            .await
            .expect("enable TTL");
    }
}

/// Creates bucket `name` as the template's resource `resource` declares it: Object Lock (with
/// its default retention) and versioning. Encryption, public-access blocks, ownership and
/// lifecycle rules change nothing the adapters can observe and are not applied.
pub async fn create_bucket(config: &SdkConfig, resource: &str, name: &str) {
    use aws_sdk_s3::types::{
        BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
        ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
    };
    let properties = resource_properties(resource);
    let client = gantry_aws::client::s3_client(config);
    let object_lock = properties["ObjectLockEnabled"].as_bool().unwrap_or(false);
    client
        .create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(object_lock)
        .send()
        .await
        .expect("create the bucket");

    let versioning = &properties["VersioningConfiguration"];
    if versioning.is_mapping() {
        client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::from(text(versioning, "Status")))
                    .build(),
            )
            .send()
            .await
            .expect("configure versioning");
    }

    let lock = &properties["ObjectLockConfiguration"];
    if lock.is_mapping() {
        let mut configuration = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::from(text(lock, "ObjectLockEnabled")));
        let retention = &lock["Rule"]["DefaultRetention"];
        if retention.is_mapping() {
            let mut default =
                DefaultRetention::builder().mode(ObjectLockRetentionMode::from(text(retention, "Mode")));
            if let Some(days) = retention["Days"].as_i64() {
                default = default.days(days as i32);
            }
            if let Some(years) = retention["Years"].as_i64() {
                default = default.years(years as i32);
            }
            configuration =
                configuration.rule(ObjectLockRule::builder().default_retention(default.build()).build());
        }
        client
            .put_object_lock_configuration()
            .bucket(name)
            .object_lock_configuration(configuration.build())
            .send()
            .await
            .expect("configure Object Lock");
    }
}

pub async fn create_artifact_bucket(config: &SdkConfig, name: &str) {
    create_bucket(config, "ArtifactBucket", name).await;
}

pub async fn create_evidence_bucket(config: &SdkConfig, name: &str) {
    create_bucket(config, "EvidenceBucket", name).await;
}
