//! The GantryManifest: what a brain drafts and a build runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stack {
    Static,
    Node,
    Python,
}

impl Stack {
    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Static => "static",
            Stack::Node => "node",
            Stack::Python => "python",
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stack {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "static" => Ok(Stack::Static),
            "node" => Ok(Stack::Node),
            "python" => Ok(Stack::Python),
            other => Err(format!("unknown stack {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GantryManifest {
    pub project_name: String,
    pub stack: Stack,
    pub files: Vec<ManifestFile>,
    pub audit_command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
}

impl GantryManifest {
    /// The directory a deployer publishes: `output_dir`, or the work dir's root.
    pub fn output_dir(&self) -> &str {
        self.output_dir.as_deref().filter(|d| !d.is_empty()).unwrap_or(".")
    }
}

mod validation;
pub use validation::{normalise_path, validate, ManifestError};
