//! What a spoken or typed message asks for, beyond describing an app.
//!
//! Voice has no buttons: "what's the status?" must reach the status of the newest mission, while
//! "build me a status page" describes an app. Status questions are recognised by their shape
//! ("what's the status", "is it done yet"), not by the word "status", and a request to build or
//! make something is never one.

use crate::words::Words;

/// Whole messages that ask for the status by themselves ("status?", "any update").
const BARE_QUERIES: &[&str] = &[
    "status",
    "status update",
    "status report",
    "update",
    "updates",
    "any update",
    "any updates",
    "any news",
    "news",
    "progress",
    "progress update",
    "any progress",
    "how's it going",
    "hows it going",
    "how is it going",
    "how's it looking",
    "how is it looking",
    "where are we",
    "where are we at",
    "are we there yet",
    "done yet",
    "ready yet",
    "finished yet",
];

/// Phrases that ask about the state of something already under way.
const QUERY_PHRASES: &[&str] = &[
    "what's the status",
    "whats the status",
    "what is the status",
    "what's my status",
    "what's the progress",
    "what is the progress",
    "check the status",
    "check status",
    "how's my",
    "hows my",
    "how is my",
    "how's the build",
    "how is the build",
    "how's the app",
    "how is the app",
    "how's the mission",
    "how is the mission",
    "how's it going",
    "how is it going",
    "how far along",
    "has it finished",
    "did it finish",
    "did it work",
    "did the build",
    "are we there yet",
    "where are we",
    "any update",
    "any updates",
    "any news",
    "any progress",
];

/// What a status question may be about; "the status of my servers" describes an app instead.
const MISSION_SUBJECTS: &[&str] = &[
    "it",
    "my app",
    "my build",
    "my site",
    "my website",
    "my project",
    "my mission",
    "my last build",
    "my latest build",
    "my last app",
    "my latest app",
    "my last mission",
    "my latest mission",
    "the app",
    "the build",
    "the site",
    "the website",
    "the project",
    "the mission",
];

const FINISHED_STATES: &[&str] =
    &["done", "ready", "finished", "deployed", "live", "up", "built", "working", "complete", "there"];

/// A request to make something: such a message describes an app, whatever else it says.
const MAKE_REQUESTS: &[&str] = &[
    "build me",
    "build a",
    "build an",
    "make me",
    "make a",
    "make an",
    "create",
    "i want a",
    "i want an",
    "i need a",
    "i need an",
    "i'd like a",
    "i'd like an",
    "generate",
    "design a",
    "design me",
    "give me a",
    "give me an",
    "with a",
    "with an",
    "i want",
    "i need",
    "can you build",
    "can you make",
    "could you build",
    "could you make",
    "let's build",
    "let's make",
];

/// Openers that precede a question without changing it ("hey Gantry, status?").
const OPENERS: &[&str] =
    &["hey", "hi", "hello", "ok", "okay", "so", "gantry", "siri", "please", "quick", "and"];

/// Whether the message asks about the state of the person's latest mission
/// ("what's the status", "how is my build going") rather than describing an app.
pub fn is_status_query(message: &str) -> bool {
    let words = Words::new(message);
    let rest = &words.as_slice()[opening(&words)..];
    let describes_an_app = matches!(rest.first().map(String::as_str), Some("a" | "an"));
    if rest.is_empty() || describes_an_app || words.contains_any(MAKE_REQUESTS) {
        return false;
    }
    let rest = rest.strip_suffix(&["please".to_owned()]).unwrap_or(rest);
    let bare = BARE_QUERIES.iter().any(|query| Words::new(query).as_slice() == rest);
    bare || words.contains_any(QUERY_PHRASES) || asks_about_a_mission(&words)
}

/// Words that open a question.
const INTERROGATIVES: &[&str] = &[
    "where", "what", "what's", "whats", "how", "will", "would", "can", "could", "does", "do", "is", "are",
    "why", "which", "when", "who", "should", "won't", "wont", "doesn't", "isn't",
];

/// Words that ask for a change even inside a question ("can you add tags?").
const CHANGE_VERBS: &[&str] = &[
    "add",
    "remove",
    "drop",
    "make",
    "change",
    "switch",
    "use",
    "include",
    "rename",
    "call",
    "put",
    "turn",
    "replace",
    "swap",
    "build",
    "create",
    "give",
    "set",
    "move",
    "delete",
    "take",
    "adding",
    "removing",
    "making",
    "changing",
    "switching",
    "using",
    "including",
    "dropping",
];

/// Openings that suggest rather than ask ("what about dark mode?", "how about tags?").
const SUGGESTIONS: &[&str] = &["what about", "how about", "why not", "what if"];

/// Whether the message asks about the plan ("where does the weather data come from?", "will it
/// sync between devices?") rather than changing it: question-shaped, and asking for no change
/// and no app. Such a message is answered in words and leaves the plan as it is.
pub fn is_plan_question(message: &str) -> bool {
    let words = Words::new(message);
    let rest = &words.as_slice()[opening(&words)..];
    let Some(first) = rest.first() else { return false };
    let shaped = message.trim_end().ends_with('?') || INTERROGATIVES.contains(&first.as_str());
    let asks_for_change = rest.iter().any(|w| CHANGE_VERBS.contains(&w.as_str()));
    let suggests = words.find_first_of(SUGGESTIONS).is_some_and(|hit| hit.start == opening(&words));
    shaped && !asks_for_change && !suggests && !words.contains_any(MAKE_REQUESTS) && !is_status_query(message)
}

/// "is it done", "is my app live", "status of my build", "progress on the app".
fn asks_about_a_mission(words: &Words) -> bool {
    MISSION_SUBJECTS.iter().any(|subject| {
        FINISHED_STATES.iter().any(|state| words.contains(&format!("is {subject} {state}")))
            || ["status of", "status on", "progress of", "progress on", "check on"]
                .iter()
                .any(|about| words.contains(&format!("{about} {subject}")))
    })
}

fn opening(words: &Words) -> usize {
    words.as_slice().iter().take_while(|w| OPENERS.contains(&w.as_str())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_questions_are_recognised() {
        for message in [
            "what's the status",
            "What\u{2019}s the status?",
            "status?",
            "Status",
            "hey Gantry, status please",
            "how's my build going",
            "how is my app doing?",
            "is it done yet",
            "is it ready?",
            "what's the status of my app",
            "any update?",
            "progress?",
            "did it finish?",
            "where are we at",
            "check the status of my last build",
            "is my app live yet?",
            "progress on the build?",
        ] {
            assert!(is_status_query(message), "{message:?}");
        }
    }

    #[test]
    fn questions_about_the_plan_are_told_from_changes() {
        for message in [
            "where does the weather data come from?",
            "will it sync between devices?",
            "Will my friends be able to see it?",
            "does it work offline",
            "how is the data stored?",
            "what happens if I clear my browser?",
        ] {
            assert!(is_plan_question(message), "{message:?}");
        }
        for message in [
            "can you add tags?",
            "what about dark mode?",
            "how about adding a search box?",
            "could you make it blue?",
            "add dark mode",
            "yes, proceed",
            "I want a recipe box?",
            "can you build me a habit tracker?",
            "what's the status?",
            "",
        ] {
            assert!(!is_plan_question(message), "{message:?}");
        }
    }

    #[test]
    fn app_descriptions_mentioning_status_are_not() {
        for message in [
            "build me a status page",
            "a todo app with a status column",
            "status dashboard for my servers",
            "a status page for my API",
            "make a progress tracker",
            "a news site",
            "a kanban board where each card has a status",
            "create an app that shows what's the status of my servers",
            "update the header to blue",
            "here is my app idea: a todo list",
            "a page showing the status of my servers",
            "I want to see the status of my orders",
            "",
        ] {
            assert!(!is_status_query(message), "{message:?}");
        }
    }
}
