//! Honest results, end to end through the HTTP API: requests beyond the offline brain's seven
//! kinds reach a plan in at most two turns and build, every approved feature has a result, and
//! a feature that cannot be built is named before consent and never claimed after.

mod support;

use std::time::Duration;

use serde_json::{json, Value};

use support::Server;

/// Talks until a plan is on the table (at most two messages), returning the mission id and the
/// answer that proposed it.
async fn plan(server: &Server, token: &str, first: &str) -> (String, Value) {
    let (code, answer) = server.post("/gantry/consult", Some(token), json!({"message": first})).await;
    assert_eq!(code, 200, "{answer}");
    let id = answer["mission_id"].as_str().expect("a mission id").to_owned();
    if answer["consultation"]["status"] == "NEEDS_CONFIRMATION" {
        return (id, answer);
    }
    let (code, second) = server
        .post("/gantry/consult", Some(token), json!({"message": "just keep it simple", "mission_id": id}))
        .await;
    assert_eq!(code, 200, "{second}");
    assert_eq!(
        second["consultation"]["status"], "NEEDS_CONFIRMATION",
        "{first}: no plan in two turns: {second:#}"
    );
    (id, second)
}

async fn build(server: &Server, token: &str, id: &str) -> Value {
    let (code, consent) = server
        .post("/gantry/consult", Some(token), json!({"message": "yes, build it", "mission_id": id}))
        .await;
    assert_eq!(code, 202, "{consent}");
    server.wait_final(token, id, Duration::from_secs(120)).await
}

fn records<'a>(pack: &'a Value, kind: &str) -> Vec<&'a Value> {
    pack["records"].as_array().expect("records").iter().filter(|r| r["kind"] == kind).collect()
}

#[tokio::test]
async fn requests_beyond_the_seven_kinds_reach_a_plan_build_and_report_every_feature() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let token = server.login().await;

    for (request, item) in [
        ("I want a recipe box where I can save my recipes and tag them", "recipe"),
        ("I'd like a habit tracker for my morning routine", "habit"),
        ("can you make me an expense list?", "expense"),
    ] {
        let (id, proposed) = plan(&server, &token, request).await;
        let approved: Vec<String> = proposed["consultation"]["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f.as_str().expect("a feature name").to_owned())
            .collect();
        assert!(
            proposed["response"].as_str().unwrap_or_default().contains(&format!("Each {item} has:")),
            "{proposed:#}"
        );
        assert!(
            !proposed["response"].as_str().unwrap_or_default().contains("What I will not build"),
            "{proposed:#}"
        );

        let status = build(&server, &token, &id).await;
        assert_eq!(status["status"], "SUCCESS", "{request}: {status:#}");
        let features = status["features"].as_array().expect("features in the status");
        let names: Vec<&str> = features.iter().map(|f| f["name"].as_str().unwrap_or_default()).collect();
        assert_eq!(names, approved, "{request}: every approved feature has a result");
        for feature in features {
            assert_eq!(
                (&feature["built"], &feature["checked"]),
                (&json!(true), &json!(true)),
                "{request}: {feature}"
            );
        }
        let n = approved.len();
        assert_eq!(status["delivery"], format!("built {n} of {n} features"), "{status:#}");
        assert!(status["speech"].as_str().unwrap_or_default().contains("delivered"), "{status:#}");

        // The evidence carries the results: in the build report and in the final record.
        let (code, pack) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
        assert_eq!(code, 200);
        assert_eq!(pack["verification"]["valid"], true, "{:#}", pack["verification"]);
        let reports = records(&pack, "build.report");
        let reported = reports.last().expect("a build report")["data"]["report"]["features"]
            .as_array()
            .expect("features");
        assert_eq!(reported.len(), n, "{reported:?}");
        assert!(reported.iter().all(|f| f["status"] == "passed"), "{reported:?}");
        let last = records(&pack, "mission.final");
        let last = last.last().expect("a final record");
        assert_eq!(last["data"]["delivery"], format!("built {n} of {n} features"), "{last:#}");

        // The preview is the collection, with the DOM a generic browser test drives.
        let url = status["url"].as_str().expect("a preview url");
        let html = server.preview_client(&id).get(url).send().await.unwrap().text().await.unwrap();
        for marker in [r#"<form id="add-form""#, r#"id="search""#, r#"type="search""#, r#"<ul id="items""#] {
            assert!(html.contains(marker), "{request}: {marker} missing from the preview");
        }
    }
}

#[tokio::test]
async fn a_feature_the_offline_brain_cannot_build_is_named_before_consent_and_never_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let token = server.login().await;

    let (id, proposed) = plan(&server, &token, "a habit tracker where my friends can see my streaks").await;
    let response = proposed["response"].as_str().unwrap_or_default();
    assert!(response.contains("What I will not build"), "{response}");
    assert!(response.contains("sharing with other people: it needs a server"), "{response}");
    assert!(
        proposed["speech"].as_str().unwrap_or_default().contains("It won't have sharing with other people"),
        "{proposed:#}"
    );
    let (_, consultation) = server.get(&format!("/gantry/consultation/{id}"), Some(&token)).await;
    let proposal = consultation["proposal"].as_str().unwrap_or_default();
    assert!(proposal.contains("Not built: sharing with other people"), "{consultation:#}");

    // A question about the plan is answered in words and changes nothing.
    let (code, answered) = server
        .post(
            "/gantry/consult",
            Some(&token),
            json!({"message": "will it sync between devices?", "mission_id": id}),
        )
        .await;
    assert_eq!(code, 200, "{answered}");
    assert!(
        answered["speech"].as_str().unwrap_or_default().starts_with("No, it will not sync"),
        "{answered:#}"
    );
    assert_eq!(answered["consultation"]["features"], proposed["consultation"]["features"]);

    let status = build(&server, &token, &id).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    let friends = status["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["name"] == "sharing with other people")
        .expect("a result for the feature that was not built")
        .clone();
    assert_eq!((&friends["built"], &friends["checked"]), (&json!(false), &json!(false)), "{friends}");
    let speech = status["speech"].as_str().unwrap_or_default();
    assert!(!speech.contains("delivered") && !speech.contains("built and tested"), "{speech}");
    assert!(speech.contains("not built: sharing with other people"), "{speech}");
    let delivery = status["delivery"].as_str().unwrap_or_default();
    assert_eq!(delivery, "built 4 of 5 features; not built: sharing with other people", "{status:#}");
    let streaks =
        status["features"].as_array().expect("features").iter().find(|f| f["name"] == "streaks").cloned();
    assert_eq!(streaks.map(|f| (f["built"].clone(), f["checked"].clone())), Some((json!(true), json!(true))));

    let (_, pack) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
    let finals = records(&pack, "mission.final");
    let last = finals.last().expect("a final record");
    assert_eq!(last["data"]["delivery"], delivery, "{last:#}");
    let not_built: Vec<&Value> = last["data"]["features"]
        .as_array()
        .expect("features in the final record")
        .iter()
        .filter(|f| f["built"] == false)
        .collect();
    assert_eq!(not_built.len(), 1, "{last:#}");
}
