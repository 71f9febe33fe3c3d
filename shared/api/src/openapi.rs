//! The HTTP contract as an OpenAPI 3.1 document, served at `/gantry/openapi.json`.
//! Kept beside the router so a route added there is added here in the same change; a test
//! checks that every routed path is documented.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn id_param() -> Value {
    json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}])
}

fn common_errors(mut responses: Value) -> Value {
    if let Some(map) = responses.as_object_mut() {
        map.insert("400".into(), error_response("Malformed JSON or invalid input"));
        map.insert("401".into(), error_response("Missing or invalid token"));
        map.insert("413".into(), error_response("Body over the limit"));
        map.insert("429".into(), error_response("Rate limited; see Retry-After"));
    }
    responses
}

pub fn document() -> Value {
    let consult_body = json!({"$ref": "#/components/schemas/ConsultRequest"});
    let consult_answer = json!({"$ref": "#/components/schemas/ConsultResponse"});
    let status = json!({"$ref": "#/components/schemas/Status"});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gantry",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A self-hosted AI software factory: consult, draft, check, build, deploy, publish, with sealed evidence."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {
            "/health": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok("Alive", json!({"type": "object", "properties": {"status": {"const": "ok"}, "version": {"type": "string"}, "mode": {"enum": ["local", "aws"]}}}))}}},
            "/gantry/auth": {"post": {"summary": "Sign in with the owner's password", "security": [],
                "requestBody": body(json!({"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}})),
                "responses": common_errors(json!({"200": ok("Session token (also set as an HttpOnly cookie)", json!({"type": "object", "properties": {"token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}, "speech": {"type": "string"}}}))}))}},
            "/gantry/consult": {"post": {"summary": "One consultation turn", "requestBody": body(consult_body.clone()),
                "responses": common_errors(json!({"200": ok("The consultant's answer", consult_answer.clone()), "202": ok("Consent: the build was dispatched", consult_answer.clone()), "404": error_response("Unknown mission"), "422": error_response("Refused by the guardrails")}))}},
            "/gantry/voice": {"post": {"summary": "A consultation turn for voice; continues a recent consultation without an id", "requestBody": body(consult_body),
                "responses": common_errors(json!({"200": ok("Answer with speech of at most 250 characters", consult_answer.clone()), "202": ok("Consent: the build was dispatched", consult_answer), "422": error_response("Refused by the guardrails")}))}},
            "/gantry/architect": {"post": {"summary": "Direct build without consultation",
                "requestBody": body(json!({"type": "object", "required": ["voice_memo"], "properties": {"voice_memo": {"type": "string"}, "deploy": {"type": "boolean"}, "publish": {"type": "boolean"}}})),
                "responses": common_errors(json!({"202": ok("Queued", json!({"type": "object", "properties": {"mission_id": {"type": "string"}, "status": {"const": "QUEUED"}, "speech": {"type": "string"}}})), "422": error_response("Refused by the guardrails")}))}},
            "/gantry/consultation/{id}": {"get": {"summary": "A consultation's conversation", "parameters": id_param(),
                "responses": common_errors(json!({"200": ok("Conversation", json!({"type": "object", "properties": {"mission_id": {"type": "string"}, "status": {"type": "string"}, "conversation": {"type": "array", "items": {"type": "object", "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"type": "string"}, "at": {"type": "string"}}}}, "pending_question": {"type": ["string", "null"]}, "proposal": {"type": ["string", "null"]}, "design_target": {"type": ["string", "null"], "description": "theme id, as in GET /gantry/themes"}, "design_label": {"type": ["string", "null"]}}})), "404": error_response("Unknown mission")}))}},
            "/gantry/themes": {"get": {"summary": "The famous themes", "security": [],
                "responses": {"200": ok("Themes", json!({"type": "object", "properties": {"themes": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}, "colors": {"type": "object"}}}}}}))}}},
            "/gantry/status/{id}": {"get": {"summary": "A mission's status and steps", "parameters": id_param(),
                "responses": common_errors(json!({"200": ok("Status", status.clone()), "404": error_response("Unknown mission")}))}},
            "/gantry/latest": {"get": {"summary": "The caller's newest mission",
                "responses": common_errors(json!({"200": ok("Status", status.clone()), "404": error_response("No missions yet")}))}},
            "/gantry/missions": {"get": {"summary": "The caller's missions, newest first",
                "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "responses": common_errors(json!({"200": ok("A page", json!({"type": "object", "properties": {"missions": {"type": "array", "items": {"type": "object", "properties": {"mission_id": {"type": "string"}, "status": {"type": "string"}, "title": {"type": "string"}, "created_at": {"type": "string"}}}}, "next_cursor": {"type": "string"}}}))}))}},
            "/gantry/missions/{id}/cancel": {"post": {"summary": "Cancel a consultation or an in-flight mission", "parameters": id_param(),
                "responses": common_errors(json!({"200": ok("Cancelled", status.clone()), "404": error_response("Unknown mission"), "409": error_response("The state forbids it")}))}},
            "/gantry/missions/{id}/retry": {"post": {"summary": "Retry a mission that ended without success", "parameters": id_param(),
                "responses": common_errors(json!({"202": ok("Re-dispatched", status.clone()), "404": error_response("Unknown mission"), "409": error_response("The state forbids it")}))}},
            "/gantry/missions/{id}/evidence": {"get": {"summary": "The evidence pack with its verification", "parameters": id_param(),
                "responses": common_errors(json!({"200": ok("Pack", json!({"type": "object", "properties": {"records": {"type": "array"}, "artifacts": {"type": "array"}, "head": {"type": "string"}, "signature": {"type": "object"}, "verification": {"type": "object", "properties": {"valid": {"type": "boolean"}, "errors": {"type": "array", "items": {"type": "string"}}}}}})), "404": error_response("Unknown mission or no evidence yet")}))}},
            "/gantry/uploads": {"post": {"summary": "A presigned PUT for a design image (png, jpeg, webp, gif; at most 5 MiB)",
                "requestBody": body(json!({"type": "object", "required": ["content_type", "content_length"], "properties": {"content_type": {"enum": ["image/png", "image/jpeg", "image/webp", "image/gif"]}, "content_length": {"type": "integer", "maximum": 5242880}}})),
                "responses": common_errors(json!({"200": ok("Upload instructions", json!({"type": "object", "properties": {"upload_url": {"type": "string"}, "method": {"const": "PUT"}, "headers": {"type": "object"}, "image_key": {"type": "string"}, "expires_at": {"type": "string"}}})), "422": error_response("Type or size not accepted")}))}},
            "/gantry/metrics": {"get": {"summary": "Per-mission and aggregate figures",
                "responses": common_errors(json!({"200": ok("Metrics", json!({"type": "object", "properties": {"missions": {"type": "array"}, "aggregate": {"type": "object"}}}))}))}},
            "/gantry/openapi.json": {"get": {"summary": "This document", "responses": common_errors(json!({"200": ok("OpenAPI 3.1", json!({"type": "object"}))}))}}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE_NAME}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message", "speech"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "speech": {"type": "string"}}}}},
                "ConsultRequest": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string", "maxLength": 4000}, "mission_id": {"type": "string"}, "image_base64": {"type": "string"}, "image_filename": {"type": "string"}, "image_key": {"type": "string"}, "deploy": {"type": "boolean", "default": true}, "publish": {"type": "boolean", "default": true}}},
                "Consultation": {"type": "object", "properties": {"status": {"enum": ["NEEDS_INPUT", "NEEDS_CONFIRMATION", "READY_TO_BUILD"]}, "question": {"type": "string"}, "proposed_stack": {"enum": ["static", "node", "python"]}, "design_target": {"type": "string", "description": "theme id, as in GET /gantry/themes"}, "design_label": {"type": "string"}, "features": {"type": "array", "items": {"type": "string"}}, "confidence": {"type": "number"}}},
                "ConsultResponse": {"type": "object", "properties": {"mission_id": {"type": "string"}, "status": {"type": "string"}, "consultation": {"$ref": "#/components/schemas/Consultation"}, "speech": {"type": "string", "maxLength": 250}, "response": {"type": "string"}}},
                "Status": {"type": "object", "properties": {
                    "mission_id": {"type": "string"},
                    "status": {"enum": ["AWAITING_INPUT", "QUEUED", "DRAFTING", "VALIDATING", "BUILDING", "HEALING", "DEPLOYING", "PUBLISHING", "DEPLOYED", "PR_OPENED", "SUCCESS", "BLOCKED", "FAILED", "TIMEOUT", "CANCELLED", "EXPIRED"]},
                    "speech": {"type": "string"}, "attempts": {"type": "integer"}, "url": {"type": "string"}, "pr_url": {"type": "string"}, "branch": {"type": "string"},
                    "deployment": {"type": "object", "properties": {"provider": {"enum": ["vercel", "local"]}, "id": {"type": "string"}, "url": {"type": "string"}}},
                    "trace_url": {"type": "string"}, "evidence_url": {"type": "string"}, "error": {"type": "string"},
                    "features": {"type": "array", "items": {"type": "object", "required": ["name", "built", "checked"], "properties": {"name": {"type": "string"}, "built": {"type": "boolean"}, "checked": {"type": "boolean"}, "detail": {"type": "string"}}}},
                    "delivery": {"type": "string", "description": "built N of M features; not built: …"},
                    "usage": {"type": "object", "description": "model usage of the mission (docs/brain.md)", "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"}, "cache_read_tokens": {"type": "integer"}, "cache_write_tokens": {"type": "integer"}, "model_calls": {"type": "integer"}, "cost_usd": {"type": "number"}}},
                    "steps": {"type": "array", "items": {"type": "object", "properties": {"name": {"enum": ["draft", "policy", "build", "heal", "deploy", "publish", "evidence", "finalize"]}, "status": {"type": "string"}, "attempt": {"type": "integer"}, "started_at": {"type": "string"}, "ended_at": {"type": "string"}, "detail": {"type": "string"}}}},
                    "created_at": {"type": "string"}, "updated_at": {"type": "string"}
                }}
            }
        }
    });
    // Added apart from the literal above, which is at the json! macro's recursion limit.
    doc["paths"]["/gantry/logout"] = json!({"post": {"summary": "Sign out: expires the session cookie (Max-Age=0)",
        "security": [], "responses": {"200": ok("Signed out", json!({"type": "object", "properties": {"speech": {"type": "string"}}}))}}});
    doc["paths"]["/gantry/missions/{id}/files"] = json!({"get": {"summary": "The delivered app's files (the last build attempt's manifest)",
        "parameters": id_param(),
        "responses": common_errors(json!({"200": ok("Files", json!({"type": "object", "properties": {"mission_id": {"type": "string"}, "project_name": {"type": "string"}, "stack": {"enum": ["static", "node", "python"]},
            "files": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}, "size": {"type": "integer"}, "content": {"type": "string"}}}}}})),
            "404": error_response("Unknown mission, or nothing built yet")}))}});
    doc["paths"]["/gantry/missions/{id}/download"] = json!({"get": {"summary": "The delivered app as a zip, under a folder named for the project",
        "parameters": id_param(),
        "responses": common_errors(json!({"200": {"description": "application/zip, with Content-Disposition: attachment", "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
            "404": error_response("Unknown mission, or nothing built yet")}))}});
    if let Some(properties) = doc["components"]["schemas"]["Status"]["properties"].as_object_mut() {
        properties.insert("repo".into(), json!({"type": "string", "description": "Where `branch` lives: a local bare repository's path, or the hosted repository"}));
        properties.insert(
            "git".into(),
            json!({"type": "object", "description": "Ready commands for the delivery",
            "properties": {"clone": {"type": "string"}, "push": {"type": "string"}}}),
        );
    }
    doc
}
