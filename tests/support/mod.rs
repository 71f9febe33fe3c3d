//! Harness for end-to-end tests: run the `gantry` binary as a user would, on loopback only.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const PASSWORD: &str = "e2e password 123";

pub fn gantry_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gantry"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The curated node set the tests build with, fetched by tests/run.sh. Tests never fetch it
/// (`GANTRY_NODE_DEPS_FETCH=off`): a test must not reach the registry.
pub fn node_deps_root() -> PathBuf {
    std::env::var_os("GANTRY_NODE_DEPS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gantry/node-deps")
    })
}

pub fn gantry(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(gantry_bin())
        .args(args)
        .env("GANTRY_NODE_DEPS", node_deps_root())
        .env("GANTRY_NODE_DEPS_FETCH", "off")
        .env("GANTRY_DATA_DIR", data_dir)
        .env_remove("GANTRY_POLICY")
        .output()
        .expect("run gantry")
}

/// `gantry serve` on a free loopback port; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start(data_dir: &Path) -> Server {
        Self::start_with(data_dir, &[]).await
    }

    pub async fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(gantry_bin())
            .args(["serve", "--addr", &addr])
            .env("GANTRY_NODE_DEPS", node_deps_root())
            .env("GANTRY_NODE_DEPS_FETCH", "off")
            .env("GANTRY_DATA_DIR", data_dir)
            .env("GANTRY_PASSWORD", PASSWORD)
            .env("GANTRY_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(data_dir.join(format!("serve-{port}.log"))).expect("log file"),
            ))
            .spawn()
            .expect("start gantry serve");
        let server = Server { child, base: format!("http://{addr}"), client: reqwest::Client::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = server.client.get(format!("{}/health", server.base)).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gantry serve did not become healthy within 30 s");
    }

    /// Where this server serves a mission's preview: an origin of its own.
    pub fn preview_url(&self, id: &str) -> String {
        let port = self.base.rsplit(':').next().expect("a port");
        format!("http://{id}.localhost:{port}/")
    }

    /// A client that reaches the preview's host on this server's loopback address, whatever the
    /// system resolver does with `*.localhost`.
    pub fn preview_client(&self, id: &str) -> reqwest::Client {
        let addr: std::net::SocketAddr = self.base.trim_start_matches("http://").parse().expect("an address");
        reqwest::Client::builder().resolve(&format!("{id}.localhost"), addr).build().expect("a client")
    }

    pub async fn login(&self) -> String {
        let reply = self.post("/gantry/auth", None, json!({"password": PASSWORD})).await;
        assert_eq!(reply.0, 200, "{:?}", reply.1);
        reply.1["token"].as_str().expect("token").to_owned()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls the status until it is final (or `limit` passes), returning the last status object.
    pub async fn wait_final(&self, token: &str, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (_, status) = self.get(&format!("/gantry/status/{id}"), Some(token)).await;
            let name = status["status"].as_str().unwrap_or_default().to_owned();
            let finals =
                ["DEPLOYED", "PR_OPENED", "SUCCESS", "BLOCKED", "FAILED", "TIMEOUT", "CANCELLED", "EXPIRED"];
            if finals.contains(&name.as_str()) || Instant::now() > deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("--git-dir").arg(repo).args(args).output().expect("git");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
