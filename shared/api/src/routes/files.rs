//! The delivered app's files: `GET /gantry/missions/{id}/files` for the page's code view and
//! `GET /gantry/missions/{id}/download` as a zip. Both read the manifest of the mission's last
//! build attempt, the one that was deployed and published.

use std::io::{Cursor, Write};

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use gantry_domain::{GantryManifest, MissionId};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::MissionPath;
use crate::routes::consult::owned;
use crate::state::AppState;

async fn delivered(state: &AppState, caller: &Caller, id: &MissionId) -> ApiResult<GantryManifest> {
    let mission = owned(state, caller, id).await?;
    if mission.attempts == 0 {
        return Err(ApiError::NotFound);
    }
    let key = gantry_ports::object_keys::manifest(id, mission.attempts);
    let bytes = state.objects.get(&key).await?.ok_or(ApiError::NotFound)?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(format!("stored manifest {key}: {e}")))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Json<serde_json::Value>> {
    let manifest = delivered(&state, &caller, &id).await?;
    let files: Vec<_> = manifest
        .files
        .iter()
        .map(|f| json!({"path": f.path, "size": f.content.len(), "content": f.content}))
        .collect();
    Ok(Json(json!({
        "mission_id": id,
        "project_name": manifest.project_name,
        "stack": manifest.stack,
        "files": files,
    })))
}

/// The manifest's files under one folder named for the project, deflated.
pub fn zip_app(manifest: &GantryManifest) -> zip::result::ZipResult<Vec<u8>> {
    let folder = safe_name(&manifest.project_name);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for file in &manifest.files {
        writer.start_file(format!("{folder}/{}", file.path), options)?;
        writer.write_all(file.content.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

/// A project name fit for a file name and a header: letters, digits, `-` and `_` only.
fn safe_name(name: &str) -> String {
    let cleaned: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(64).collect();
    if cleaned.is_empty() {
        "app".into()
    } else {
        cleaned
    }
}

pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    MissionPath(id): MissionPath,
) -> ApiResult<Response> {
    let manifest = delivered(&state, &caller, &id).await?;
    let bytes = zip_app(&manifest).map_err(|e| ApiError::Internal(format!("zip of {id}: {e}")))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let disposition = format!("attachment; filename=\"{}.zip\"", safe_name(&manifest.project_name));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_domain::{ManifestFile, Stack};

    #[test]
    fn the_zip_holds_every_file_under_the_project_folder() {
        let manifest = GantryManifest {
            project_name: "todo-app".into(),
            stack: Stack::Static,
            files: vec![
                ManifestFile { path: "index.html".into(), content: "<h1>hi</h1>".into() },
                ManifestFile { path: "js/app.js".into(), content: "console.log(1)".into() },
            ],
            audit_command: "python3 audit.py".into(),
            run_command: None,
            output_dir: None,
        };
        let bytes = zip_app(&manifest).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> =
            (0..archive.len()).map(|i| archive.by_index(i).unwrap().name().unwrap().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["todo-app/index.html", "todo-app/js/app.js"]);
        let mut content = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("todo-app/js/app.js").unwrap(), &mut content)
            .unwrap();
        assert_eq!(content, "console.log(1)");
        assert_eq!(safe_name("a\"; b"), "ab");
        assert_eq!(safe_name("\"\""), "app");
    }
}
