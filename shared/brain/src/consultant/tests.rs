use gantry_domain::consultation::{decide, TurnDecision};
use gantry_domain::themes::Theme;

use super::*;

fn turn(role: &str, content: &str) -> Turn {
    serde_json::from_value(
        serde_json::json!({"role": role, "content": content, "at": "2025-01-01T00:00:00Z"}),
    )
    .expect("a valid turn")
}

/// Plays a conversation the way the API does: each answer's consultation is the next `current`.
fn talk(messages: &[&str], has_image: bool) -> Answer {
    let mut conversation = Vec::new();
    let mut current: Option<Consultation> = None;
    let mut last = None;
    for message in messages {
        conversation.push(turn("user", message));
        let answer = consult(current.as_ref(), &conversation, has_image);
        conversation.push(turn("assistant", &answer.response));
        current = Some(answer.consultation.clone());
        last = Some(answer);
    }
    last.expect("at least one message")
}

fn assert_proposal(answer: &Answer) {
    let c = &answer.consultation;
    assert_eq!(c.status, ConsultationStatus::NeedsConfirmation, "{}", answer.response);
    assert!(c.proposal.is_some() && c.awaits_confirmation());
    assert_eq!(c.proposed_stack, Some(Stack::Static));
    assert!(answer.response.contains("Shall I proceed?"), "{}", answer.response);
    assert!(answer.speech.ends_with("Shall I proceed?"), "{}", answer.speech);
}

#[test]
fn a_vague_request_gets_one_question_offering_the_kinds() {
    for vague in ["build me an app", "hi", "Hello!", "make something cool", "I need help"] {
        let answer = talk(&[vague], false);
        let c = &answer.consultation;
        assert_eq!(c.status, ConsultationStatus::NeedsInput, "{vague}");
        assert_eq!(c.proposal, None, "{vague}");
        assert_eq!(c.proposed_stack, None, "{vague}");
        let question = c.question.as_deref().unwrap_or_default();
        assert_eq!(question.matches('?').count(), 1, "{question}");
        for kind in ["to-do app", "kanban board", "landing page", "portfolio", "blog", "dashboard"] {
            assert!(question.contains(kind), "{question} lacks {kind}");
        }
        assert!(c.confidence < 0.5);
    }
    assert!(talk(&["hi"], false).response.starts_with("Hi, I'm Gantry."));
}

#[test]
fn a_question_keeps_what_is_already_known() {
    let answer = talk(&["something like Spotify with dark mode"], true);
    let c = &answer.consultation;
    assert_eq!(c.status, ConsultationStatus::NeedsInput);
    assert_eq!(c.brief.theme, Some(Theme::Spotify));
    assert_eq!(c.features, ["dark mode"]);
    assert!(answer.response.contains("a Spotify look") && answer.response.contains("your design image"));
}

#[test]
fn an_answer_to_the_question_gets_a_proposal() {
    let answer = talk(&["build me an app", "a blog about cooking please"], false);
    assert_proposal(&answer);
    assert_eq!(answer.consultation.brief.kind, Some(AppKind::Blog));
    assert_eq!(answer.consultation.brief.title.as_deref(), Some("Cooking Blog"));
    assert!(answer.response.starts_with("Here's what I'd build."));
}

#[test]
fn a_clear_request_gets_a_proposal_with_kind_theme_and_features() {
    let answer = talk(&["Build me a todo app with categories and dark mode, like Spotify"], false);
    assert_proposal(&answer);
    let c = &answer.consultation;
    assert_eq!(c.brief.kind, Some(AppKind::Todo));
    assert_eq!(c.brief.theme, Some(Theme::Spotify));
    assert_eq!(c.brief.features, ["categories", "dark mode"]);
    assert_eq!(c.brief.stack, Some(Stack::Static));
    assert_eq!(c.brief.title.as_deref(), Some("To-Do List"));
    assert_eq!(c.design_target.as_deref(), Some("Spotify"));
    let defaults = default_features(AppKind::Todo);
    assert_eq!(c.features.len(), defaults.len() + 2);
    let defaults: Vec<String> = defaults.iter().map(|f| (*f).to_owned()).collect();
    assert!(c.features.starts_with(&defaults));
    assert!(c.features.ends_with(&["categories".to_owned(), "dark mode".to_owned()]));
    let proposal = c.proposal.as_deref().unwrap_or_default();
    assert!(
        proposal.contains("to-do app") && proposal.contains("Spotify") && proposal.contains("categories")
    );
    assert!(answer.response.contains("- dark mode"));
    assert!(c.confidence > 0.7 && c.confidence <= 1.0);
}

#[test]
fn each_kind_is_proposed_from_its_synonyms() {
    let cases = [
        ("a to-do list", AppKind::Todo),
        ("a notebook for my ideas", AppKind::Notes),
        ("a trello-like board for my team", AppKind::Kanban),
        ("a product page for my startup", AppKind::Landing),
        ("my resume", AppKind::Portfolio),
        ("somewhere to post articles", AppKind::Blog),
        ("analytics with charts for my shop", AppKind::Dashboard),
    ];
    for (message, kind) in cases {
        let answer = talk(&[message], false);
        assert_proposal(&answer);
        assert_eq!(answer.consultation.brief.kind, Some(kind), "{message}");
    }
}

#[test]
fn feedback_revises_the_proposal() {
    let first = talk(&["a todo app"], false);
    let revised = talk(&["a todo app", "add categories"], false);
    assert_proposal(&revised);
    assert!(revised.consultation.brief.features.contains(&"categories".to_owned()));
    assert!(revised.consultation.features.contains(&"categories".to_owned()));
    assert_ne!(revised.consultation.proposal, first.consultation.proposal);
    assert!(revised.response.starts_with("Done: I've added categories."), "{}", revised.response);
    assert!(revised.speech.starts_with("Done, I've added categories."), "{}", revised.speech);

    let themed = talk(&["a todo app like Slack", "make it look like Spotify"], false);
    assert_proposal(&themed);
    assert_eq!(themed.consultation.brief.theme, Some(Theme::Spotify));
    assert_eq!(themed.consultation.design_target.as_deref(), Some("Spotify"));
    assert!(themed.response.contains("switched to a Spotify look"));

    let searched = talk(&["a notes app", "a Google-like search"], false);
    assert_proposal(&searched);
    assert!(searched.consultation.brief.features.contains(&"search".to_owned()));

    let looked = talk(&["a notes app", "make it look like Google"], false);
    assert_eq!(looked.consultation.design_target.as_deref(), Some("a Google-like look"));
    assert!(looked.consultation.proposal.unwrap_or_default().contains("Google-like look"));

    let switched = talk(&["a todo app with tags", "actually, make it a kanban board instead"], false);
    assert_eq!(switched.consultation.brief.kind, Some(AppKind::Kanban));
    assert_eq!(switched.consultation.brief.features, ["tags"]);

    let trimmed = talk(&["a blog with comments and tags", "yes but no comments"], false);
    assert_eq!(trimmed.consultation.brief.features, ["tags"]);
    assert!(trimmed.response.contains("removed comments"));
}

#[test]
fn feedback_it_cannot_read_is_noted_and_the_plan_offered_again() {
    let first = talk(&["a portfolio site"], false);
    let answer = talk(&["a portfolio site", "make it feel more personal"], false);
    assert_proposal(&answer);
    assert_eq!(answer.consultation.proposal, first.consultation.proposal);
    assert!(answer.response.starts_with("Noted"));
    assert_eq!(answer.consultation.brief.notes, ["a portfolio site", "make it feel more personal"]);
}

#[test]
fn a_decline_keeps_the_proposal_and_asks_what_to_change() {
    for decline in ["no", "wait", "not yet", "hold on", "I'm not sure"] {
        let first = talk(&["a kanban board with tags"], false);
        let answer = talk(&["a kanban board with tags", decline], false);
        let c = &answer.consultation;
        assert_eq!(c.status, ConsultationStatus::NeedsConfirmation, "{decline}");
        assert_eq!(c.proposal, first.consultation.proposal, "{decline}");
        assert_eq!(c.features, first.consultation.features, "{decline}");
        assert_eq!(c.question.as_deref(), Some("What would you like me to change?"));
        assert!(answer.response.contains(first.consultation.proposal.as_deref().unwrap_or("?")));
        assert!(!answer.speech.contains("Shall I proceed"), "{}", answer.speech);
    }
}

#[test]
fn a_decline_that_asks_for_a_change_revises() {
    let answer = talk(&["a todo app", "no, make it a blog instead"], false);
    assert_proposal(&answer);
    assert_eq!(answer.consultation.brief.kind, Some(AppKind::Blog));
    assert!(answer.response.contains("made it a blog"));
}

#[test]
fn the_consultant_never_makes_a_consultation_ready() {
    let conversations: [&[&str]; 5] = [
        &["yes, proceed, build it"],
        &["a todo app", "yes"],
        &["a blog", "proceed"],
        &["hi", "ok"],
        &["a dashboard", "ship it!", "go ahead"],
    ];
    for conversation in conversations {
        let answer = talk(conversation, false);
        assert_ne!(answer.consultation.status, ConsultationStatus::ReadyToBuild, "{conversation:?}");
    }
}

#[test]
fn its_proposals_can_be_consented_to_and_its_questions_cannot() {
    let proposal = talk(&["a landing page for my bakery"], false);
    assert_eq!(decide(Some(&proposal.consultation), "yes, proceed"), TurnDecision::Build);
    assert_eq!(decide(Some(&proposal.consultation), "add a gallery"), TurnDecision::Consult);
    let question = talk(&["build me an app"], false);
    assert_eq!(decide(Some(&question.consultation), "yes, proceed"), TurnDecision::Consult);
}

#[test]
fn speech_is_short_and_plain_for_many_inputs() {
    let long_features =
        "a todo app with categories, tags, due dates, priorities, reminders, search, filters, \
                         sorting, export, import, drag and drop, charts, a calendar, comments and markdown";
    let repeated = "a todo app with tags ".repeat(40);
    let conversations: Vec<Vec<&str>> = vec![
        vec!["hi"],
        vec!["build me an app"],
        vec!["a todo app"],
        vec![long_features],
        vec![long_features, "add subtasks"],
        vec!["a blog called \"\u{1f680} **Rocket** Notes https://rocket.example.com\""],
        vec!["a landing page for my startup, see www.example.com for the vibe"],
        vec!["a portfolio named Jane Doe Photography Studio Berlin with a gallery"],
        vec!["a dashboard like Airbnb", "no", "make it look like Stripe", "add export"],
        vec!["a kanban board", "wait", "hmm", "actually a notes app"],
        vec![&repeated],
    ];
    for conversation in &conversations {
        for has_image in [false, true] {
            let speech = talk(conversation, has_image).speech;
            assert!(!speech.is_empty());
            assert!(speech.chars().count() <= 250, "{} chars: {speech}", speech.chars().count());
            assert!(
                !speech.contains("http") && !speech.contains("www") && !speech.contains(".com"),
                "{speech}"
            );
            let allowed = |c: char| c.is_alphanumeric() || c == ' ' || ".,!?'-:;".contains(c);
            assert!(speech.chars().all(allowed), "{speech}");
        }
    }
}

#[test]
fn a_design_image_sets_the_design_target_unless_a_theme_is_named() {
    assert_eq!(
        talk(&["a landing page"], true).consultation.design_target.as_deref(),
        Some("your design image")
    );
    assert_eq!(
        talk(&["a landing page like Airbnb"], true).consultation.design_target.as_deref(),
        Some("Airbnb")
    );
    assert_eq!(
        talk(&["a landing page"], false).consultation.design_target.as_deref(),
        Some("a clean default look")
    );
    let answer = talk(&["a landing page"], true);
    assert!(answer.consultation.proposal.unwrap_or_default().contains("styled after your design image"));
}

#[test]
fn the_design_image_key_of_the_current_brief_is_kept() {
    let mut current = talk(&["a blog"], false).consultation;
    current.brief.design_image = Some("uploads/owner/1.png".to_owned());
    let conversation = [turn("user", "a blog"), turn("assistant", "..."), turn("user", "add tags")];
    let answer = consult(Some(&current), &conversation, false);
    assert_eq!(answer.consultation.brief.design_image.as_deref(), Some("uploads/owner/1.png"));
    assert_eq!(answer.consultation.design_target.as_deref(), Some("your design image"));
}

#[test]
fn a_conversation_is_read_whole_even_without_the_current_consultation() {
    let conversation = [turn("user", "a notes app"), turn("assistant", "..."), turn("user", "with tags")];
    let answer = consult(None, &conversation, false);
    assert_proposal(&answer);
    assert_eq!(answer.consultation.brief.kind, Some(AppKind::Notes));
    assert_eq!(answer.consultation.brief.features, ["tags"]);
    assert_eq!(answer.consultation.brief.notes, ["a notes app", "with tags"]);
}

#[test]
fn the_same_conversation_gets_the_same_answer() {
    let conversations: [&[&str]; 4] = [
        &["hi"],
        &["a todo app like Spotify with tags"],
        &["a blog", "make it look like Google", "not yet"],
        &["a dashboard", "add export and a map of my stores"],
    ];
    for conversation in conversations {
        let (a, b) = (talk(conversation, true), talk(conversation, true));
        assert_eq!(a.consultation, b.consultation);
        assert_eq!((a.response, a.speech), (b.response, b.speech));
    }
}

#[test]
fn requests_beyond_the_kinds_get_a_collection_plan_at_once() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "I want a recipe box where I can save my recipes and tag them",
            "recipe",
            &["title", "ingredients", "steps", "tags"],
        ),
        ("a habit tracker", "habit", &["name", "frequency", "last_done", "notes"]),
        ("an expense list", "expense", &["description", "amount", "date", "notes"]),
        ("a reading list for the books I want to read", "book", &["title", "author", "notes", "tags"]),
    ];
    for (message, item, fields) in cases {
        let answer = talk(&[message], false);
        assert_proposal(&answer);
        let brief = &answer.consultation.brief;
        assert_eq!(brief.kind, Some(AppKind::Collection), "{message}");
        let collection = brief.collection.as_ref().expect("a collection spec");
        assert_eq!(collection.item, item, "{message}");
        let ids: Vec<&str> = collection.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, fields, "{message}");
        assert!(answer.response.contains(&format!("Each {item} has:")), "{}", answer.response);
        assert!(answer.speech.chars().count() <= 250, "{}", answer.speech);
    }
}

#[test]
fn a_collection_takes_any_of_the_themes() {
    for theme in Theme::ALL {
        let message = format!("a recipe box that looks like {}", theme.name());
        let answer = talk(&[&message], false);
        assert_proposal(&answer);
        assert_eq!(answer.consultation.brief.kind, Some(AppKind::Collection), "{message}");
        assert_eq!(answer.consultation.brief.theme, Some(theme), "{message}");
    }
}

#[test]
fn the_second_answer_always_reaches_a_plan() {
    for (first, second) in [("build me an app", "my plants"), ("hi", "I don't know"), ("I need help", "hmm")]
    {
        let asked = talk(&[first], false);
        assert_eq!(asked.consultation.status, ConsultationStatus::NeedsInput, "{first}");
        let answer = talk(&[first, second], false);
        assert_proposal(&answer);
        assert_eq!(answer.consultation.brief.kind, Some(AppKind::Collection), "{first} / {second}");
    }
    let plants = talk(&["build me an app", "my plants"], false);
    assert_eq!(plants.consultation.brief.collection.as_ref().map(|c| c.items.as_str()), Some("plants"));
}

#[test]
fn what_cannot_be_built_is_named_before_consent() {
    let answer = talk(&["a habit tracker where my friends can see my streaks"], false);
    assert_proposal(&answer);
    let proposal = answer.consultation.proposal.as_deref().unwrap_or_default();
    assert!(proposal.contains("Not built: sharing with other people (it needs a server"), "{proposal}");
    assert!(!proposal.contains("streaks (it"), "a collection counts streaks: {proposal}");
    assert!(answer.response.contains("What I will not build"), "{}", answer.response);
    assert!(
        answer.speech.contains("plus streaks. It won't have sharing with other people."),
        "{}",
        answer.speech
    );
    // They stay in the approved features, so the build reports them as not built.
    let features = &answer.consultation.features;
    assert!(
        features.contains(&"sharing with other people".to_owned())
            && features.contains(&"streaks".to_owned())
    );

    let weather = talk(&["a weather dashboard for three cities"], false);
    let proposal = weather.consultation.proposal.as_deref().unwrap_or_default();
    assert!(proposal.contains("Not built: live weather data (it needs live data"), "{proposal}");
}

#[test]
fn questions_about_the_plan_are_answered_in_words_and_change_nothing() {
    let first = talk(&["a weather dashboard for three cities"], false);
    let answer =
        talk(&["a weather dashboard for three cities", "where does the weather data come from?"], false);
    assert_proposal(&answer);
    assert!(answer.response.starts_with("It will not have live weather data"), "{}", answer.response);
    assert!(answer.response.contains("data.json"), "{}", answer.response);
    assert!(!answer.response.starts_with("Noted"), "{}", answer.response);
    assert_eq!(answer.consultation.proposal, first.consultation.proposal);
    assert_eq!(answer.consultation.features, first.consultation.features);

    let first = talk(&["a habit tracker"], false);
    let answer = talk(&["a habit tracker", "will it sync between devices?"], false);
    assert_proposal(&answer);
    assert!(answer.speech.starts_with("No, it will not sync between devices"), "{}", answer.speech);
    assert_eq!(answer.consultation.features, first.consultation.features);
    assert_eq!(answer.consultation.proposal, first.consultation.proposal);

    let answer = talk(&["a recipe box with tags", "does it have tags?"], false);
    assert!(answer.response.starts_with("Yes, it will have tags."), "{}", answer.response);
    let answer = talk(&["a recipe box", "does it have dark mode?"], false);
    assert!(answer.response.starts_with("No, dark mode is not in the plan"), "{}", answer.response);
    assert!(!answer.consultation.features.contains(&"dark mode".to_owned()));
    let answer = talk(&["a habit tracker with streaks", "will it have streaks?"], false);
    assert!(answer.response.starts_with("Yes, it will have streaks."), "{}", answer.response);
    let answer = talk(&["a todo app with streaks", "will it have streaks?"], false);
    assert!(answer.response.starts_with("No, it will not have streaks: it is beyond"), "{}", answer.response);
    let answer = talk(&["a recipe box", "what about dark mode?"], false);
    assert!(answer.consultation.features.contains(&"dark mode".to_owned()), "a suggestion is feedback");

    let answer = talk(&["a recipe box", "will my friends see my recipes?"], false);
    assert!(answer.response.starts_with("No, other people will not see your data"), "{}", answer.response);
    assert!(!answer.consultation.features.contains(&"sharing with other people".to_owned()));
}
