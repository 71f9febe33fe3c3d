//! A passed build's output as one object next to its report and log
//! (`missions/{id}/build-{n}/output.json`): what the builder took with the sandbox's safe
//! reader, carried to the deploy step without anyone reading the work dir again.
//!
//! Format: `{"files":[{"path","sha256","size","content_base64"}]}`, paths relative to the
//! output dir, '/'-separated, sorted. Decoding re-checks every path and digest and the bounds.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use gantry_domain::evidence::sha256_hex;
use gantry_ports::{OutputFile, OUTPUT_MAX_BYTES, OUTPUT_MAX_FILES};

/// The content type the builder PUTs the bundle with (bound into its presigned URL).
pub const OUTPUT_CONTENT_TYPE: &str = "application/json";

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    files: Vec<BundledFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundledFile {
    path: String,
    sha256: String,
    size: u64,
    content_base64: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("the output bundle is not valid JSON: {0}")]
    Malformed(String),
    #[error("the output bundle names an unsafe path {0:?}")]
    UnsafePath(String),
    #[error("the output bundle lists {0:?} twice")]
    Duplicate(String),
    #[error("the content of {0:?} does not match its sha256")]
    Digest(String),
    #[error("the output bundle exceeds {OUTPUT_MAX_FILES} files or {OUTPUT_MAX_BYTES} bytes")]
    TooLarge,
}

/// One line per file for evidence: path, sha256 and size, never the content.
pub fn listing(files: &[OutputFile]) -> serde_json::Value {
    serde_json::Value::Array(
        files
            .iter()
            .map(|f| serde_json::json!({"path": f.path, "sha256": sha256_hex(&f.bytes), "size": f.bytes.len()}))
            .collect(),
    )
}

pub fn encode(files: &[OutputFile]) -> Result<Vec<u8>, BundleError> {
    let bundle = Bundle {
        files: files
            .iter()
            .map(|f| BundledFile {
                path: f.path.clone(),
                sha256: sha256_hex(&f.bytes),
                size: f.bytes.len() as u64,
                content_base64: STANDARD.encode(&f.bytes),
            })
            .collect(),
    };
    serde_json::to_vec(&bundle).map_err(|e| BundleError::Malformed(e.to_string()))
}

pub fn decode(bytes: &[u8]) -> Result<Vec<OutputFile>, BundleError> {
    // Base64 is 4/3 of the content, plus the per-file fields.
    let encoded_bound = OUTPUT_MAX_BYTES / 3 * 4 + OUTPUT_MAX_FILES as u64 * 1024;
    if bytes.len() as u64 > encoded_bound {
        return Err(BundleError::TooLarge);
    }
    let bundle: Bundle = serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
    if bundle.files.len() > OUTPUT_MAX_FILES {
        return Err(BundleError::TooLarge);
    }
    let mut total = 0u64;
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::with_capacity(bundle.files.len());
    for file in bundle.files {
        let content =
            STANDARD.decode(&file.content_base64).map_err(|e| BundleError::Malformed(e.to_string()))?;
        let decoded = OutputFile { path: file.path, bytes: content };
        if !decoded.has_safe_path() {
            return Err(BundleError::UnsafePath(decoded.path));
        }
        if !seen.insert(decoded.path.clone()) {
            return Err(BundleError::Duplicate(decoded.path));
        }
        if sha256_hex(&decoded.bytes) != file.sha256 || decoded.bytes.len() as u64 != file.size {
            return Err(BundleError::Digest(decoded.path));
        }
        total += decoded.bytes.len() as u64;
        if total > OUTPUT_MAX_BYTES {
            return Err(BundleError::TooLarge);
        }
        files.push(decoded);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> OutputFile {
        OutputFile { path: path.into(), bytes: content.as_bytes().to_vec() }
    }

    #[test]
    fn a_bundle_round_trips() {
        let files = vec![file("index.html", "<h1>hi</h1>"), file("css/app.css", "h1{}")];
        assert_eq!(decode(&encode(&files).unwrap()).unwrap(), files);
    }

    #[test]
    fn unsafe_paths_duplicates_and_wrong_digests_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", ".env", "a/.git/config", "", "a\u{1b}b"] {
            let bundle = encode(&[file(bad, "x")]).unwrap();
            assert_eq!(decode(&bundle), Err(BundleError::UnsafePath(bad.into())), "{bad:?}");
        }
        let twice = encode(&[file("a.txt", "1"), file("a.txt", "2")]).unwrap();
        assert_eq!(decode(&twice), Err(BundleError::Duplicate("a.txt".into())));
        let mut tampered: serde_json::Value =
            serde_json::from_slice(&encode(&[file("a.txt", "1")]).unwrap()).unwrap();
        tampered["files"][0]["content_base64"] = STANDARD.encode("2").into();
        let tampered = serde_json::to_vec(&tampered).unwrap();
        assert_eq!(decode(&tampered), Err(BundleError::Digest("a.txt".into())));
    }

    #[test]
    fn the_listing_names_digests_not_contents() {
        let listed = listing(&[file("index.html", "TOP-SECRET-CONTENT")]);
        assert_eq!(listed[0]["sha256"], sha256_hex(b"TOP-SECRET-CONTENT"));
        assert!(!listed.to_string().contains("TOP-SECRET-CONTENT"));
    }
}
