//! The consultant's words: chat replies that read like a CTO's, and speech that Siri can read
//! aloud (at most 250 characters, plain words: no markdown, links or emoji).

use gantry_domain::consultation::AppKind;
use gantry_domain::words::Words;

use super::understanding::Understanding;

pub(super) const SHALL_I_PROCEED: &str = "Shall I proceed?";

const MAX_SPEECH_CHARS: usize = 250;

/// One thing a message changed in the plan.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
    Kind(AppKind),
    Renamed(String),
    Added(Vec<String>),
    Removed(Vec<String>),
    /// A new look, as a phrase ("a Spotify look").
    Look(String),
    PlainLook,
}

pub(super) struct Question {
    pub question: String,
    pub response: String,
    pub speech: String,
}

pub(super) struct Proposal {
    /// The plan itself, short enough to show above a "proceed" button.
    pub proposal: String,
    pub response: String,
    pub speech: String,
}

const KINDS_ON_OFFER: &str = "a to-do app, a notes app, a kanban board, a landing page, a portfolio site, a \
     blog, a dashboard, or an app that keeps records of anything (recipes, habits, expenses, books…)";

const GREETINGS: &[&str] =
    &["hi", "hello", "hey", "hiya", "howdy", "good morning", "good afternoon", "good evening"];

pub(super) fn question(now: &Understanding, has_image: bool, newest: &str) -> Question {
    let greeted = Words::new(newest).find_first_of(GREETINGS).is_some_and(|hit| hit.start == 0);
    let greeting = if greeted { "Hi, I'm Gantry. " } else { "" };
    let question = format!("What would you like me to build: {KINDS_ON_OFFER}?");

    let mut known = Vec::new();
    if let Some(look) = look_noun(now) {
        known.push(look);
    }
    if has_image {
        known.push("your design image".to_owned());
    }
    if !now.brief.features.is_empty() {
        known.push(join(&now.brief.features));
    }
    let noted = if known.is_empty() { String::new() } else { format!("So far I have {}. ", join(&known)) };
    let response = format!(
        "{greeting}{noted}{question} Tell me a little about it too: who it's for and anything it must have."
    );
    let speech = speakable(&format!(
        "{greeting}What should I build? I can make a to-do app, notes, a kanban board, a landing page, a \
         portfolio, a blog, a dashboard, or an app that keeps records of anything, like recipes or habits."
    ));
    Question { question, response, speech }
}

pub(super) fn proposal(
    now: &Understanding,
    kind: AppKind,
    features: &[String],
    not_built: &[(String, &'static str)],
    design_target: &str,
    revising: bool,
    changes: &[Change],
) -> Proposal {
    let title = now.brief.title.clone().unwrap_or_else(|| kind_label(kind).to_owned());
    let styled = styled_as(now, design_target);
    let label = with_article(&label(now, kind));
    let fields = fields_sentence(now);
    let will = buildable(features, not_built);
    let not_built_line = if not_built.is_empty() {
        String::new()
    } else {
        format!(
            " Not built: {}.",
            not_built.iter().map(|(f, why)| format!("{f} (it {why})")).collect::<Vec<_>>().join("; ")
        )
    };
    let proposal = format!(
        "{title}: {label} {styled}.{fields} Features: {will}.{not_built_line} {}",
        built_as(kind),
        will = will.join("; "),
    );

    let opening = match (revising, changes.is_empty()) {
        (false, _) => "Here's what I'd build.".to_owned(),
        (true, false) => format!("Done: I've {}. Here's the updated plan.", describe(changes)),
        (true, true) => "Noted, I'll keep that in mind when I build it. Here's the plan.".to_owned(),
    };
    let list: String = will.iter().map(|f| format!("- {f}\n")).collect();
    let wont_list = if not_built.is_empty() {
        String::new()
    } else {
        let lines: String = not_built.iter().map(|(f, why)| format!("- {f}: it {why}\n")).collect();
        format!("\nWhat I will not build, so you know before you say yes:\n{lines}")
    };
    let fields = if fields.is_empty() { String::new() } else { format!("{}\n", fields.trim_start()) };
    let response = format!(
        "{opening}\n\n{title}: {label} {styled}.\n{fields}{list}{wont_list}\n{}\n\n{SHALL_I_PROCEED} Say \
         \"proceed\" to start, or tell me what to change.",
        what_it_is(kind),
    );

    let caveat = match not_built {
        [] => String::new(),
        some => {
            format!(" It won't have {}.", join(&some.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>()))
        }
    };
    let speech = match (revising, changes.is_empty()) {
        (true, false) => format!("Done, I've {}.{caveat} {SHALL_I_PROCEED}", describe(changes)),
        (true, true) => format!(
            "Noted. The plan is still {}. {SHALL_I_PROCEED}",
            spoken_plan(now, kind, design_target, None)
        ),
        (false, _) => {
            format!(
                "I'd build {}.{caveat} {SHALL_I_PROCEED}",
                spoken_plan(now, kind, design_target, Some(not_built))
            )
        }
    };
    let speech = if plain(&speech).chars().count() <= MAX_SPEECH_CHARS {
        speech
    } else {
        let short = format!(
            "I have a plan for {}.{caveat} {SHALL_I_PROCEED}",
            spoken_plan(now, kind, design_target, None)
        );
        if plain(&short).chars().count() <= MAX_SPEECH_CHARS {
            short
        } else {
            let count = not_built.len();
            format!(
                "I have a plan for {}. {count} thing{} you asked for won't be built; the plan lists them. {SHALL_I_PROCEED}",
                spoken_plan(now, kind, design_target, None),
                if count == 1 { "" } else { "s" }
            )
        }
    };
    Proposal { proposal, response, speech: speakable(&speech) }
}

/// The features that will be built: all but those named in `not_built`.
fn buildable<'a>(features: &'a [String], not_built: &[(String, &'static str)]) -> Vec<&'a str> {
    features.iter().map(String::as_str).filter(|f| !not_built.iter().any(|(n, _)| n == f)).collect()
}

/// " Each recipe has: title, ingredients, steps and tags." for a collection, else nothing.
fn fields_sentence(now: &Understanding) -> String {
    match &now.brief.collection {
        Some(c) => {
            let labels: Vec<String> = c.fields.iter().map(|f| f.label.to_lowercase()).collect();
            format!(" Each {} has: {}.", c.item, join(&labels))
        }
        None => String::new(),
    }
}

/// "an expense collection", "a blog".
fn with_article(label: &str) -> String {
    let vowel = label.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {label}", if vowel { "an" } else { "a" })
}

/// The plan's last sentence: what the app is built as.
fn built_as(kind: AppKind) -> &'static str {
    match kind {
        AppKind::React => "Built as a React + Vite + TypeScript app, with component tests run by Vitest.",
        _ => "Built as a static site in plain HTML, CSS and JavaScript.",
    }
}

/// The chat's note on what the app will be.
fn what_it_is(kind: AppKind) -> &'static str {
    match kind {
        AppKind::React => {
            "It will be a React + Vite + TypeScript app, built and tested offline (Vitest and Testing Library \
             check every feature above), then served as static files."
        }
        _ => "It will be a static site in plain HTML, CSS and JavaScript: quick to load and easy to host anywhere.",
    }
}

/// "recipe collection" for a collection of recipes, "React app for your habits"; the kind's
/// label otherwise.
fn label(now: &Understanding, kind: AppKind) -> String {
    match &now.brief.collection {
        Some(c) if kind == AppKind::Collection => format!("{} collection", c.item),
        _ if kind == AppKind::React => match super::collection::list_nouns(&now.brief.notes.join(". ")) {
            (_, items) if items != "items" => format!("React app for your {items}"),
            _ => "React list app".to_owned(),
        },
        _ => kind_label(kind).to_owned(),
    }
}

/// Topics a question about the plan may be about, and the answer for each.
enum Topic {
    Data,
    Sync,
    OtherPeople,
    Offline,
    Privacy,
    Hosting,
}

const TOPICS: &[(&[&str], Topic)] = &[
    (
        &["sync", "devices", "device", "phone", "laptop", "computer", "backup", "back up", "cloud"],
        Topic::Sync,
    ),
    (
        &["friends", "share", "sharing", "other people", "others", "team", "family", "see it", "see my"],
        Topic::OtherPeople,
    ),
    (&["offline", "internet", "without a connection", "no connection"], Topic::Offline),
    (
        &["private", "privacy", "secure", "safe", "who can see", "clear my browser", "lose", "lost"],
        Topic::Privacy,
    ),
    (
        &["host", "hosted", "hosting", "deploy", "deployed", "url", "link", "domain", "publish"],
        Topic::Hosting,
    ),
    (
        &[
            "data",
            "come from",
            "comes from",
            "stored",
            "store",
            "saved",
            "save",
            "where does",
            "weather",
            "live",
            "source",
        ],
        Topic::Data,
    ),
];

/// An answer in words to a question about the plan: what it will and will not do.
pub(super) fn answer(
    kind: AppKind,
    features: &[String],
    not_built: &[(String, &'static str)],
    asked: &str,
    proposal: &str,
) -> Question {
    let words = Words::new(asked);
    let reply = match named_feature(&words, features) {
        Some(feature) => match not_built.iter().find(|(f, _)| *f == feature) {
            Some((f, why)) => format!("No, it will not have {f}: it {why}."),
            None if features.contains(&feature) => format!("Yes, it will have {feature}."),
            None => format!("No, {feature} is not in the plan; say \"add {feature}\" if you want it."),
        },
        None => topic_answer(kind, not_built, &words),
    };
    let question = SHALL_I_PROCEED.to_owned();
    let response = format!(
        "{reply}\n\nThe plan is unchanged:\n\n{proposal}\n\n{question} Say \"proceed\" to start, or tell me what to \
         change."
    );
    let speech = speakable(&format!("{} {question}", first_sentence(&reply)));
    Question { question, response, speech }
}

/// A feature the question names: one of the plan's, else one the consultant knows by name.
fn named_feature(words: &Words, features: &[String]) -> Option<String> {
    features.iter().find(|f| words.contains(f)).cloned().or_else(|| {
        super::understanding::FEATURES
            .iter()
            .find(|(_, phrases)| words.contains_any(phrases))
            .map(|(name, _)| (*name).to_owned())
            .filter(|name| !NOT_BUILT_TOPICS.contains(&name.as_str()))
    })
}

/// Known features that a question's topic answers better ("will it sync?" is about syncing).
const NOT_BUILT_TOPICS: &[&str] = &[
    "sharing with other people",
    "sync between devices",
    "live weather data",
    "live data from the internet",
    "sharing",
];

/// The answer by topic: where the data lives, syncing, other people, offline, privacy, hosting.
fn topic_answer(kind: AppKind, not_built: &[(String, &'static str)], words: &Words) -> String {
    let stores_locally = matches!(
        kind,
        AppKind::Todo | AppKind::Notes | AppKind::Kanban | AppKind::Collection | AppKind::React
    );
    let where_saved = if stores_locally {
        "Everything you add is saved in this browser's local storage, on this device only; nothing is sent anywhere."
    } else {
        "Its content comes from a data.json file shipped with the app, which you can edit; it does not fetch anything from the internet."
    };
    let topic = TOPICS.iter().find(|(phrases, _)| words.contains_any(phrases)).map(|(_, topic)| topic);
    match topic {
        Some(Topic::Data) => {
            let live = not_built.iter().find(|(f, _)| f.starts_with("live "));
            match live {
                Some((feature, why)) => format!("It will not have {feature}: it {why}. {where_saved}"),
                None => where_saved.to_owned(),
            }
        }
        Some(Topic::Sync) => format!(
            "No, it will not sync between devices: that needs a server, and this is a static app. {where_saved}"
        ),
        Some(Topic::OtherPeople) => format!(
            "No, other people will not see your data: there are no accounts and no server. Anyone can open the \
             app's link, but each browser keeps its own data. {where_saved}"
        ),
        Some(Topic::Offline) => {
            "Yes: it is a static app with nothing loaded from the network, so once open it works offline.".to_owned()
        }
        Some(Topic::Privacy) => format!(
            "{where_saved} Clearing this browser's site data deletes it, so export anything you want to keep."
        ),
        Some(Topic::Hosting) => "When you say proceed, I build and test it, give you a preview link and open a \
             pull request with the code, so you can host it anywhere that serves static files."
            .to_owned(),
        None => {
            let wont = match not_built {
                [] => "Nothing you asked for is left out.".to_owned(),
                some => format!(
                    "It will not have {}.",
                    join(&some.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>())
                ),
            };
            format!("It will do what the plan lists, nothing more. {wont} {where_saved}")
        }
    }
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

pub(super) fn hold(proposal: &str) -> Question {
    let question = "What would you like me to change?".to_owned();
    let response = format!(
        "No problem, I won't start anything yet. The plan on the table is still:\n\n{proposal}\n\n{question} \
         When you're happy with it, just say \"proceed\"."
    );
    let speech = speakable(&format!("No problem, I'll wait. {question} Say proceed when you're ready."));
    Question { question, response, speech }
}

/// "a blog called Taskly with a Spotify look, plus tags and dark mode", for speech; the features
/// only when `not_built` is given, and never those it names.
fn spoken_plan(
    now: &Understanding,
    kind: AppKind,
    design_target: &str,
    not_built: Option<&[(String, &'static str)]>,
) -> String {
    let named = match (&now.brief.title, now.named) {
        (Some(title), true) => format!(" called {title}"),
        _ => String::new(),
    };
    let look = match (now.brief.theme, design_target) {
        (Some(theme), _) => format!("a {} look", theme.name()),
        (None, "your design image") => "the look of your design image".to_owned(),
        (None, "a clean default look") => "a clean look".to_owned(),
        (None, other) => other.to_owned(),
    };
    let asked: Vec<&str> = match not_built {
        Some(not_built) => buildable(&now.brief.features, not_built),
        None => Vec::new(),
    };
    let extras = match asked.len() {
        0 => String::new(),
        1..=3 => format!(", plus {}", join(&asked)),
        _ => format!(", plus {} and more", asked[..3].join(", ")),
    };
    format!("{}{named} with {look}{extras}", with_article(&label(now, kind)))
}

/// How the plan says the look: "in a Spotify style", "styled after your design image".
fn styled_as(now: &Understanding, design_target: &str) -> String {
    match (now.brief.theme, design_target) {
        (Some(theme), _) => format!("in a {} style", theme.name()),
        (None, "your design image") => "styled after your design image".to_owned(),
        (None, other) => format!("with {other}"),
    }
}

/// The look already asked for, as a noun phrase, if any.
fn look_noun(now: &Understanding) -> Option<String> {
    match (now.brief.theme, &now.look) {
        (Some(theme), _) => Some(format!("a {} look", theme.name())),
        (None, look) => look.clone(),
    }
}

fn describe(changes: &[Change]) -> String {
    let parts: Vec<String> = changes
        .iter()
        .map(|change| match change {
            Change::Kind(kind) => format!("made it a {}", kind_label(*kind)),
            Change::Renamed(title) => format!("renamed it {title}"),
            Change::Added(features) => format!("added {}", join(features)),
            Change::Removed(features) => format!("removed {}", join(features)),
            Change::Look(look) => format!("switched to {look}"),
            Change::PlainLook => "gone back to a clean default look".to_owned(),
        })
        .collect();
    join(&parts)
}

pub(super) fn kind_label(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Todo => "to-do app",
        AppKind::Notes => "notes app",
        AppKind::Kanban => "kanban board",
        AppKind::Landing => "landing page",
        AppKind::Portfolio => "portfolio site",
        AppKind::Blog => "blog",
        AppKind::Dashboard => "dashboard",
        AppKind::Collection => "collection app",
        AppKind::React => "React app",
    }
}

/// "a", "a and b", "a, b and c".
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

/// Speech Siri can read: words and ordinary punctuation only, no links, at most 250 characters.
pub(super) fn speakable(text: &str) -> String {
    fit(&plain(text), MAX_SPEECH_CHARS)
}

/// Words and ordinary punctuation only: no markdown, links or emoji.
fn plain(text: &str) -> String {
    let text = text.replace('&', " and ").replace(['\u{2019}', '\u{2018}'], "'");
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|word| !looks_like_a_link(word))
        .map(|word| {
            word.chars().filter(|c| c.is_alphanumeric() || ".,!?'-:;".contains(*c)).collect::<String>()
        })
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .collect();
    words.join(" ")
}

fn looks_like_a_link(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    let dotted_name = chars
        .windows(3)
        .any(|w| w[0].is_alphabetic() && (w[1] == '.' || w[1] == '/') && w[2].is_alphabetic());
    word.contains("://") || word.to_lowercase().starts_with("www") || dotted_name
}

/// Cuts at the last sentence that fits, else the last whole word.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    if let Some(end) = head.rfind(['.', '?', '!']) {
        return head[..=end].to_owned();
    }
    let cut = head.rfind(' ').unwrap_or(head.len());
    format!(
        "{}.",
        head[..cut].trim_end_matches([',', ';', ':', '-']).chars().take(max - 1).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        assert_eq!(join::<&str>(&[]), "");
        assert_eq!(join(&["tags"]), "tags");
        assert_eq!(join(&["tags", "search"]), "tags and search");
        assert_eq!(join(&["tags", "search", "export"]), "tags, search and export");
    }

    #[test]
    fn speech_drops_markdown_links_and_emoji() {
        let spoken = speakable("**Done!** See https://example.com or www.x.io, \u{1f680} - tags & `search`");
        assert_eq!(spoken, "Done! See or tags and search");
        assert_eq!(speakable("It costs 1.5 dollars"), "It costs 1.5 dollars");
        assert_eq!(speakable("Shall I proceed on taskly.app?"), "Shall I proceed on");
    }

    #[test]
    fn long_speech_is_cut_at_a_sentence_or_word() {
        let long = format!("{} Shall I proceed?", "A very long plan. ".repeat(20));
        let spoken = speakable(&long);
        assert!(spoken.chars().count() <= MAX_SPEECH_CHARS && spoken.ends_with('.'), "{spoken}");
        let no_stops = "word ".repeat(80);
        let spoken = speakable(&no_stops);
        assert!(spoken.chars().count() <= MAX_SPEECH_CHARS && spoken.ends_with("word."), "{spoken}");
    }
}
