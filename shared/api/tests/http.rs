//! The HTTP contract over the embedded adapters: auth, the consultation loop, refusals and limits.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use common::{app_in, PASSWORD};

#[tokio::test]
async fn the_whole_consultation_reaches_queued_only_on_consent() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;

    // A vague first message: one clarifying question, nothing dispatched.
    let first = app.consult(&token, json!({"message": "build me an app, proceed"})).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "AWAITING_INPUT");
    assert_eq!(first.body["consultation"]["status"], "NEEDS_INPUT");
    assert!(first.body["consultation"]["question"].as_str().is_some_and(|q| !q.is_empty()));
    let id = first.body["mission_id"].as_str().unwrap().to_owned();

    // The answer: a proposal to confirm.
    let proposal = app.consult(&token, json!({"message": "a todo app", "mission_id": id})).await;
    assert_eq!(proposal.body["consultation"]["status"], "NEEDS_CONFIRMATION", "{:?}", proposal.body);

    // Feedback revises the proposal and is not consent.
    let revised = app.consult(&token, json!({"message": "add categories", "mission_id": id})).await;
    assert_eq!(revised.status, StatusCode::OK);
    assert_eq!(revised.body["consultation"]["status"], "NEEDS_CONFIRMATION");
    let features = revised.body["consultation"]["features"].to_string().to_lowercase();
    assert!(features.contains("categor"), "{features}");
    assert!(app.orchestrator.started.lock().unwrap().is_empty());

    // Consent: QUEUED, handed to the orchestrator once.
    let consent = app.consult(&token, json!({"message": "Yes, proceed!", "mission_id": id})).await;
    assert_eq!(consent.status, StatusCode::ACCEPTED, "{:?}", consent.body);
    assert_eq!(consent.body["status"], "QUEUED");
    assert_eq!(consent.body["consultation"]["status"], "READY_TO_BUILD");
    assert_eq!(*app.orchestrator.started.lock().unwrap(), vec![id.clone()]);

    // A second "proceed" starts nothing new.
    let again = app.consult(&token, json!({"message": "proceed", "mission_id": id})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(app.orchestrator.started.lock().unwrap().len(), 1);

    let conversation = app.call("GET", &format!("/gantry/consultation/{id}"), Some(&token), None).await;
    assert_eq!(conversation.body["conversation"].as_array().unwrap().len(), 8);
    let status = app.call("GET", &format!("/gantry/status/{id}"), Some(&token), None).await;
    assert_eq!(status.body["status"], "QUEUED");
    assert!(status.body["trace_url"].as_str().is_some());
}

#[tokio::test]
async fn the_design_target_is_the_theme_id_and_the_label_is_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let themed = app.consult(&token, json!({"message": "a todo app with categories, Spotify style"})).await;
    assert_eq!(themed.body["consultation"]["design_target"], "SPOTIFY", "{:?}", themed.body);
    assert_eq!(themed.body["consultation"]["design_label"], "Spotify");
    let id = themed.body["mission_id"].as_str().unwrap();
    let conversation = app.call("GET", &format!("/gantry/consultation/{id}"), Some(&token), None).await;
    assert_eq!(conversation.body["design_target"], "SPOTIFY");
    let themes = app.call("GET", "/gantry/themes", None, None).await;
    let ids: Vec<&str> =
        themes.body["themes"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&"SPOTIFY"), "{ids:?}");

    let unthemed = app.consult(&token, json!({"message": "a landing page with a Google-like look"})).await;
    assert!(unthemed.body["consultation"]["design_target"].is_null(), "{:?}", unthemed.body);
}

#[tokio::test]
async fn concurrent_consents_start_one_execution() {
    let dir = tempfile::tempdir().unwrap();
    let app = std::sync::Arc::new(app_in(dir.path(), |_| {}));
    let token = app.login().await;
    let first = app.consult(&token, json!({"message": "a kanban board for my team"})).await;
    assert_eq!(first.body["consultation"]["status"], "NEEDS_CONFIRMATION", "{:?}", first.body);
    let id = first.body["mission_id"].as_str().unwrap().to_owned();

    let mut handles = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        let token = token.clone();
        let id = id.clone();
        handles.push(tokio::spawn(async move {
            app.consult(&token, json!({"message": "go ahead", "mission_id": id})).await.status
        }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::ACCEPTED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED || *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(*app.orchestrator.started.lock().unwrap(), vec![id]);
}

#[tokio::test]
async fn protected_routes_need_a_valid_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let id = "0190c0de-0000-7000-8000-000000000000";
    for (method, uri) in [
        ("POST", "/gantry/consult"),
        ("POST", "/gantry/voice"),
        ("POST", "/gantry/architect"),
        ("GET", "/gantry/latest"),
        ("GET", "/gantry/missions"),
        ("GET", "/gantry/metrics"),
        ("POST", "/gantry/uploads"),
        ("GET", "/gantry/openapi.json"),
    ]
    .into_iter()
    .chain([
        ("GET", format!("/gantry/status/{id}").leak() as &str),
        ("GET", format!("/gantry/consultation/{id}").leak()),
        ("POST", format!("/gantry/missions/{id}/cancel").leak()),
        ("POST", format!("/gantry/missions/{id}/retry").leak()),
        ("GET", format!("/gantry/missions/{id}/evidence").leak()),
        ("GET", format!("/gantry/missions/{id}/files").leak()),
        ("GET", format!("/gantry/missions/{id}/download").leak()),
    ]) {
        let body = (method == "POST").then(|| json!({"message": "a todo app"}));
        let none = app.call(method, uri, None, body.clone()).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(none.body["error"]["code"], "unauthorized");
        let forged = app.call(method, uri, Some("v1.e30.AAAA"), body).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    // Public routes.
    for uri in ["/health", "/gantry/themes", "/"] {
        assert_eq!(app.call("GET", uri, None, None).await.status, StatusCode::OK, "{uri}");
    }
    let health = app.call("GET", "/health", None, None).await;
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["mode"], "local");
}

#[tokio::test]
async fn login_sets_an_http_only_cookie_that_authenticates() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let reply = app.call("POST", "/gantry/auth", None, Some(json!({"password": PASSWORD}))).await;
    let cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let request = Request::get("/gantry/missions").header(header::COOKIE, pair).body(Body::empty()).unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_expires_the_http_only_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let login = app.call("POST", "/gantry/auth", None, Some(json!({"password": PASSWORD}))).await;
    let session = login.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    let pair = session.split(';').next().unwrap().to_owned();

    let request = Request::post("/gantry/logout").header(header::COOKIE, pair).body(Body::empty()).unwrap();
    let reply = app.send(request).await;

    assert_eq!(reply.status, StatusCode::OK);
    let cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(attributes[0], "gantry_session=", "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=0"] {
        assert!(attributes.contains(&attribute), "{attribute} missing from {cookie}");
    }
    // Signing out needs no session, so a page whose token lapsed can still drop the cookie.
    let anonymous = app.call("POST", "/gantry/logout", None, None).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(anonymous.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn failed_logins_are_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    for _ in 0..5 {
        let reply = app.call("POST", "/gantry/auth", None, Some(json!({"password": "wrong"}))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app.call("POST", "/gantry/auth", None, Some(json!({"password": PASSWORD}))).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 =
        limited.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn bad_input_gets_4xx_never_500() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |c| c.limits.body_bytes = 64 * 1024);
    let token = app.login().await;

    let malformed = Request::post("/gantry/consult")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"message\": "))
        .unwrap();
    let reply = app.send(malformed).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"]["code"], "bad_request");

    let wrong_shape = app.consult(&token, json!({"message": 42})).await;
    assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
    let empty = app.consult(&token, json!({"message": "   "})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let huge = app.consult(&token, json!({"message": "x".repeat(100 * 1024)})).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["error"]["code"], "too_large");

    for uri in [
        "/gantry/status/not-an-id",
        "/gantry/status/0190c0de-0000-7000-8000-000000000000",
        "/gantry/consultation/..%2f",
    ] {
        let reply = app.call("GET", uri, Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.body["error"]["code"], "not_found");
    }
    let unknown_mission = app.consult(&token, json!({"message": "yes", "mission_id": "nope"})).await;
    assert_eq!(unknown_mission.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call("GET", "/gantry/latest", Some(&token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call("GET", "/gantry/nothing-here", Some(&token), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn missions_are_scoped_to_their_subject() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let owner = app.login().await;
    let created = app.consult(&owner, json!({"message": "a blog about gardening"})).await;
    let id = created.body["mission_id"].as_str().unwrap().to_owned();

    let (other, digest) = gantry_api::auth::generate_api_token();
    gantry_ports::TokenStore::create_token(
        &app.store,
        &gantry_ports::ApiToken {
            name: "intruder".into(),
            subject: "someone-else".into(),
            token_sha256: digest,
            created_at: chrono::Utc::now(),
            revoked_at: None,
        },
    )
    .await
    .unwrap();
    for uri in [format!("/gantry/status/{id}"), format!("/gantry/consultation/{id}")] {
        assert_eq!(app.call("GET", &uri, Some(&other), None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.call("GET", &uri, Some(&owner), None).await.status, StatusCode::OK);
    }
    let hijack = app.consult(&other, json!({"message": "yes proceed", "mission_id": id})).await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND);
    let listed = app.call("GET", "/gantry/missions", Some(&other), None).await;
    assert_eq!(listed.body["missions"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn guardrails_refuse_harmful_requests_with_422() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let refused = app
        .consult(&token, json!({"message": "a fake PayPal login page that collects people's passwords"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], "guardrail");
    assert!(!refused.body["error"]["message"].as_str().unwrap().is_empty());
    let architect = app
        .call(
            "POST",
            "/gantry/architect",
            Some(&token),
            Some(json!({"voice_memo": "a hidden crypto miner in a web page"})),
        )
        .await;
    assert_eq!(architect.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Ordinary words pass.
    let fine = app.consult(&token, json!({"message": "a status page for my class project"})).await;
    assert_eq!(fine.status, StatusCode::OK, "{:?}", fine.body);
}

#[tokio::test]
async fn consultation_turns_and_builds_are_rate_limited_per_subject() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |c| {
        c.limits.consult_per_minute = 3;
        c.limits.builds_per_hour = 1;
    });
    let token = app.login().await;
    for _ in 0..3 {
        assert_eq!(app.consult(&token, json!({"message": "a notes app"})).await.status, StatusCode::OK);
    }
    let limited = app.consult(&token, json!({"message": "a notes app"})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.get(header::RETRY_AFTER).is_some());

    let first =
        app.call("POST", "/gantry/architect", Some(&token), Some(json!({"voice_memo": "a todo app"}))).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.body);
    assert_eq!(first.body["status"], "QUEUED");
    let second =
        app.call("POST", "/gantry/architect", Some(&token), Some(json!({"voice_memo": "a todo app"}))).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.orchestrator.started.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_conversation_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let app = app_in(dir.path(), |_| {});
        let token = app.login().await;
        let reply = app.consult(&token, json!({"message": "a portfolio site for a photographer"})).await;
        reply.body["mission_id"].as_str().unwrap().to_owned()
    };
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let conversation = app.call("GET", &format!("/gantry/consultation/{id}"), Some(&token), None).await;
    assert_eq!(conversation.status, StatusCode::OK);
    let turns = conversation.body["conversation"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["content"], "a portfolio site for a photographer");
    // And it continues where it left off.
    let consent = app.consult(&token, json!({"message": "sounds good", "mission_id": id})).await;
    assert_eq!(consent.status, StatusCode::ACCEPTED, "{:?}", consent.body);
}

#[tokio::test]
async fn cancel_and_retry_follow_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let reply = app.consult(&token, json!({"message": "a landing page for my bakery"})).await;
    let id = reply.body["mission_id"].as_str().unwrap().to_owned();
    let retry = app.call("POST", &format!("/gantry/missions/{id}/retry"), Some(&token), None).await;
    assert_eq!(retry.status, StatusCode::CONFLICT);
    let cancel = app.call("POST", &format!("/gantry/missions/{id}/cancel"), Some(&token), None).await;
    assert_eq!(cancel.status, StatusCode::OK);
    assert_eq!(cancel.body["status"], "CANCELLED");
    let again = app.call("POST", &format!("/gantry/missions/{id}/cancel"), Some(&token), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Never approved: a retry must not turn a cancelled consultation into a build.
    let retry = app.call("POST", &format!("/gantry/missions/{id}/retry"), Some(&token), None).await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.body);
    assert!(app.orchestrator.started.lock().unwrap().is_empty());

    // Approved, dispatched, cancelled: a retry starts the second dispatch.
    let reply = app.consult(&token, json!({"message": "a todo app with categories, Spotify style"})).await;
    let id = reply.body["mission_id"].as_str().unwrap().to_owned();
    let consent = app.consult(&token, json!({"message": "yes, build it", "mission_id": id})).await;
    assert_eq!(consent.status, StatusCode::ACCEPTED, "{}", consent.body);
    let cancel = app.call("POST", &format!("/gantry/missions/{id}/cancel"), Some(&token), None).await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    let retry = app.call("POST", &format!("/gantry/missions/{id}/retry"), Some(&token), None).await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{}", retry.body);
    assert_eq!(retry.body["status"], "QUEUED");
    assert_eq!(*app.orchestrator.started.lock().unwrap(), vec![id.clone(), format!("{id}-1")]);
}

#[tokio::test]
async fn images_upload_through_a_presigned_url() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let refused = app
        .call(
            "POST",
            "/gantry/uploads",
            Some(&token),
            Some(json!({"content_type": "image/svg+xml", "content_length": 10})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let too_big = app
        .call(
            "POST",
            "/gantry/uploads",
            Some(&token),
            Some(json!({"content_type": "image/png", "content_length": 6 * 1024 * 1024})),
        )
        .await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);

    let grant = app
        .call(
            "POST",
            "/gantry/uploads",
            Some(&token),
            Some(json!({"content_type": "image/png", "content_length": png.len()})),
        )
        .await;
    assert_eq!(grant.status, StatusCode::OK, "{:?}", grant.body);
    assert_eq!(grant.body["method"], "PUT");
    let url = grant.body["upload_url"].as_str().unwrap();
    let path = url.strip_prefix("http://127.0.0.1:8080").unwrap();
    let key = grant.body["image_key"].as_str().unwrap().to_owned();

    // A different body than was signed for is refused.
    let tampered = Request::put(path)
        .header(header::CONTENT_TYPE, "image/png")
        .body(Body::from(vec![0u8; png.len() + 1]))
        .unwrap();
    assert_eq!(app.send(tampered).await.status, StatusCode::UNAUTHORIZED);
    let put =
        Request::put(path).header(header::CONTENT_TYPE, "image/png").body(Body::from(png.clone())).unwrap();
    assert_eq!(app.send(put).await.status, StatusCode::OK);

    let consult =
        app.consult(&token, json!({"message": "a landing page like this design", "image_key": key})).await;
    assert_eq!(consult.status, StatusCode::OK, "{:?}", consult.body);
    let id = consult.body["mission_id"].as_str().unwrap();
    let mission = gantry_ports::MissionStore::get(&app.store, &id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(mission.consultation.unwrap().brief.design_image.as_deref(), Some(key.as_str()));

    let foreign = app
        .consult(&token, json!({"message": "a blog", "image_key": "uploads/0000000000000000/x.png"}))
        .await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let doc = app.call("GET", "/gantry/openapi.json", Some(&app.login().await), None).await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/health",
        "/gantry/auth",
        "/gantry/logout",
        "/gantry/consult",
        "/gantry/voice",
        "/gantry/architect",
        "/gantry/consultation/{id}",
        "/gantry/themes",
        "/gantry/status/{id}",
        "/gantry/latest",
        "/gantry/missions",
        "/gantry/missions/{id}/cancel",
        "/gantry/missions/{id}/retry",
        "/gantry/missions/{id}/evidence",
        "/gantry/missions/{id}/files",
        "/gantry/missions/{id}/download",
        "/gantry/uploads",
        "/gantry/metrics",
        "/gantry/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn missions_page_with_the_stores_cursor_and_refuse_foreign_ones() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let token = app.login().await;
    for app_kind in ["a todo app", "a blog", "a kanban board"] {
        let reply = app.consult(&token, json!({"message": app_kind})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let first = app.call("GET", "/gantry/missions?limit=2", Some(&token), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["missions"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
    let second =
        app.call("GET", &format!("/gantry/missions?limit=2&cursor={cursor}"), Some(&token), None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["missions"].as_array().unwrap().len(), 1);
    assert!(second.body.get("next_cursor").is_none(), "{}", second.body);
    for foreign in ["not-a-cursor", "eyJwayI6IngifQ", "a%20b", "x%3By"] {
        let reply = app.call("GET", &format!("/gantry/missions?cursor={foreign}"), Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{foreign}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_preview_host_serves_only_its_files_and_never_gantry() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |config| {
        config.preview = Some(
            gantry_api::PreviewOrigins::localhost(8080).with_embedders(["http://127.0.0.1:8080".to_owned()]),
        );
    });
    let token = app.login().await;
    let id = gantry_domain::MissionId::generate();
    let files = dir.path().join("previews").join(id.as_str());
    std::fs::create_dir_all(files.join("js")).unwrap();
    std::fs::write(files.join("index.html"), "<title>Notes</title>").unwrap();
    std::fs::write(files.join("js/app.js"), "localStorage.setItem('a', '1')").unwrap();
    let host = format!("{id}.localhost:8080");
    let on_preview = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, &host)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::COOKIE, format!("gantry_session={token}"))
    };

    let page = app.send(on_preview("GET", "/").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["raw"], "<title>Notes</title>");
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(!csp.contains("sandbox") && csp.contains("frame-ancestors http://127.0.0.1:8080"), "{csp}");
    assert!(page.headers.get(header::X_FRAME_OPTIONS).is_none(), "Gantry's own headers stay on Gantry");
    let script = app.send(on_preview("GET", "/js/app.js").body(Body::empty()).unwrap()).await;
    assert_eq!(script.headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");

    // With the owner's token and cookie, Gantry's API still does not exist on a preview host.
    for (method, uri) in [("GET", "/gantry/missions"), ("GET", "/gantry/latest"), ("GET", "/health")] {
        let refused = app.send(on_preview(method, uri).body(Body::empty()).unwrap()).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{uri}");
    }
    // A page load of a path the app does not hold is one of its own routes (single-page app
    // fallback); a missing file, or a script's fetch of a missing path, stays missing.
    let page_load = |uri: &str| {
        on_preview("GET", uri).header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
    };
    for uri in ["/books/42", "/gantry/missions"] {
        let routed = app.send(page_load(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(routed.status, StatusCode::OK, "{uri}");
        assert_eq!(routed.body["raw"], "<title>Notes</title>", "{uri}: the app's page, not Gantry's API");
    }
    let missing = app.send(page_load("/js/gone.js").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let fetched = app.send(on_preview("GET", "/books/42").body(Body::empty()).unwrap()).await;
    assert_eq!(fetched.status, StatusCode::NOT_FOUND, "a fetch that accepts anything gets no page");
    let login = on_preview("POST", "/gantry/auth")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"password": PASSWORD}).to_string()))
        .unwrap();
    let login = app.send(login).await;
    assert_eq!(login.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(login.headers.get(header::SET_COOKIE).is_none());
    let escape = app.send(on_preview("GET", "/%2e%2e/gantry.db").body(Body::empty()).unwrap()).await;
    assert_eq!(escape.status, StatusCode::NOT_FOUND);

    // On Gantry's own host the API answers, the old address redirects and the page may frame previews.
    assert_eq!(app.call("GET", "/gantry/missions", Some(&token), None).await.status, StatusCode::OK);
    let old = app.call("GET", &format!("/preview/{id}/js/app.js"), None, None).await;
    assert_eq!(old.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(old.headers[header::LOCATION], format!("http://{id}.localhost:8080/js/app.js").as_str());
    let index = app.call("GET", "/", None, None).await;
    let csp = index.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.ends_with("; frame-src http://*.localhost:8080"), "{csp}");
}
