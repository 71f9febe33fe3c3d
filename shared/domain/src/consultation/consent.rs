//! Consent recognition: whether a reply to a proposal says "go", "not now" or "change this".
//!
//! Consent starts a build, so it must be unmistakable. A message is consent only when it holds a
//! consent word or phrase and every other word in it is one of approval's small talk ("yes, that
//! looks great, please go ahead"). Anything more is a change request and so feedback: in "yes but
//! add dark mode" the change has to be made and shown before anything is built. Any negative
//! ("no", "wait", "not yet") rules consent out.

use crate::words::{Hit, Words};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Consent,
    Decline,
    Feedback,
}

/// Words and phrases that say "go ahead" on their own.
const CONSENT: &[&str] = &[
    "yes",
    "yep",
    "yup",
    "yeah",
    "yea",
    "sure",
    "ok",
    "okay",
    "okey",
    "alright",
    "all right",
    "proceed",
    "go",
    "go ahead",
    "go for it",
    "go on",
    "build it",
    "build that",
    "build this",
    "start",
    "start building",
    "ship it",
    "do it",
    "please do",
    "let's do it",
    "lets do it",
    "let's go",
    "lets go",
    "sounds good",
    "sounds great",
    "looks good",
    "looks great",
    "confirm",
    "confirmed",
    "approve",
    "approved",
    "agree",
    "agreed",
    "lgtm",
    "perfect",
    "great",
    "excellent",
    "awesome",
    "fine",
    "deal",
    "absolutely",
    "definitely",
    "of course",
    "love it",
    "affirmative",
];

/// Consent phrases that contain a negative word; their words count neither as negatives nor as
/// change requests ("no problem, go ahead", "can't wait, ship it").
const CONSENT_IDIOMS: &[&str] = &[
    "no problem",
    "not a problem",
    "no worries",
    "no objection",
    "no objections",
    "no changes",
    "no further changes",
    "nothing to change",
    "why not",
    "can't wait",
    "cannot wait",
    "can not wait",
    "sounds like a plan",
    "looks like a plan",
    "make it so",
    "make it happen",
];

/// Anything here makes a reply something other than consent.
const NEGATIVES: &[&str] = &[
    "no",
    "nope",
    "nah",
    "nay",
    "not",
    "don't",
    "dont",
    "do not",
    "never",
    "wait",
    "hold on",
    "hold off",
    "hang on",
    "stop",
    "cancel",
    "abort",
    "halt",
    "pause",
    "later",
    "unsure",
    "never mind",
    "nevermind",
];

/// The small talk that may surround a consent word without changing what it means.
const APPROVAL_TALK: &[&str] = &[
    "i",
    "i'm",
    "im",
    "i'd",
    "i've",
    "we",
    "we're",
    "you",
    "your",
    "it",
    "it's",
    "its",
    "that",
    "that's",
    "thats",
    "this",
    "the",
    "a",
    "an",
    "and",
    "so",
    "then",
    "now",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "thx",
    "ty",
    "just",
    "really",
    "very",
    "all",
    "good",
    "nice",
    "plan",
    "proposal",
    "idea",
    "look",
    "looks",
    "sound",
    "sounds",
    "seems",
    "to",
    "for",
    "with",
    "me",
    "us",
    "my",
    "everything",
    "is",
    "are",
    "be",
    "let",
    "let's",
    "lets",
    "ahead",
    "on",
    "love",
    "like",
    "happy",
    "glad",
    "gantry",
    "siri",
    "app",
    "site",
    "website",
    "project",
    "one",
    "build",
    "building",
    "get",
    "ready",
    "set",
    "mate",
    "hey",
    "hi",
    "oh",
    "ah",
    "wow",
    "yay",
    "brilliant",
    "amazing",
    "fantastic",
    "wonderful",
    "super",
    "cool",
    "exactly",
    "indeed",
    "right",
    "totally",
    "course",
    "of",
    "thing",
    "as",
    "well",
    "done",
    "works",
    "by",
    "too",
    "also",
    "go",
    "going",
    "yes",
    "great",
];

/// Hesitation that may surround a negative without turning it into a change request.
const HESITATION: &[&str] = &[
    "rather", "maybe", "yet", "sure", "moment", "second", "sec", "minute", "bit", "think", "thinking",
    "still", "decide", "deciding", "quite", "about", "soon", "time", "more", "off", "up", "anything",
    "proceed", "sorry", "actually", "hmm", "hm", "um", "uh", "changed", "mind", "afraid", "honestly",
    "today", "tomorrow", "week", "first", "need", "want", "start",
];

/// Words a reply may open with before saying what it means ("hmm, wait", "I'm not sure").
const OPENERS: &[&str] = &[
    "hmm", "hm", "hmmm", "um", "umm", "uh", "er", "erm", "well", "oh", "ah", "actually", "sorry", "so",
    "hey", "please", "i", "i'm", "im", "think", "honestly",
];

/// Consent is short; a longer message describes something and is feedback.
const MAX_CONSENT_WORDS: usize = 16;

pub fn classify_reply(message: &str) -> Reply {
    let words = Words::new(message);
    let idioms = words.find_all_of(CONSENT_IDIOMS);
    let in_idiom = |index: usize| idioms.iter().any(|hit| (hit.start..hit.end()).contains(&index));

    let negative = words.find_all_of(NEGATIVES).into_iter().find(|hit| !in_idiom(hit.start));
    if let Some(hit) = negative {
        let opening = words.as_slice().iter().take_while(|w| OPENERS.contains(&w.as_str())).count();
        let hesitant_only = only_words_from(&words, &[NEGATIVES, APPROVAL_TALK, HESITATION], &in_idiom);
        return if hit.start < opening + 2 || hesitant_only { Reply::Decline } else { Reply::Feedback };
    }

    let says_go = !idioms.is_empty() || words.contains_any(CONSENT);
    let nothing_else = only_words_from(&words, &[CONSENT, APPROVAL_TALK], &in_idiom);
    if says_go && nothing_else && words.len() <= MAX_CONSENT_WORDS {
        Reply::Consent
    } else {
        Reply::Feedback
    }
}

/// Whether every word outside an idiom is covered by a phrase from one of `lists`.
fn only_words_from(words: &Words, lists: &[&[&str]], in_idiom: &dyn Fn(usize) -> bool) -> bool {
    let covered: Vec<Hit> = lists.iter().flat_map(|list| words.find_all_of(list)).collect();
    (0..words.len()).all(|i| in_idiom(i) || covered.iter().any(|hit| (hit.start..hit.end()).contains(&i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_all(cases: &[&str], expected: Reply) {
        for case in cases {
            assert_eq!(classify_reply(case), expected, "{case:?}");
        }
    }

    #[test]
    fn consent_is_recognised_whole_word_in_any_case_and_punctuation() {
        assert_all(
            &[
                "yes",
                "YES",
                "Yes, proceed!",
                "yep",
                "yeah",
                "sure",
                "ok",
                "OK!",
                "okay",
                "proceed",
                "Proceed.",
                "go ahead",
                "build it",
                "ship it!",
                "sounds good",
                "looks good to me",
                "let's go",
                "Let\u{2019}s go!",
                "do it",
                "confirmed",
                "I approve",
                "lgtm",
                "LGTM \u{1f44d}",
                "perfect",
                "Perfect, ship it",
                "yes please",
                "alright, build it",
                "yep, go for it",
                "sure thing",
                "Yes, that looks great, please go ahead and build it now",
                "I love it, go ahead",
                "no problem, go ahead",
                "can't wait, ship it!",
                "sounds like a plan",
                "great, thanks Gantry",
                "ok let's build the app",
                "yes, proceed with the build",
                "go on then",
            ],
            Reply::Consent,
        );
    }

    #[test]
    fn negatives_decline_and_are_never_consent() {
        assert_all(
            &[
                "no",
                "No.",
                "nope",
                "nah",
                "wait",
                "not yet",
                "Not yet, thanks",
                "hold on",
                "hold off please",
                "hang on a sec",
                "stop",
                "Stop! Cancel that.",
                "don't",
                "don't proceed",
                "do not build it",
                "please don't proceed",
                "cancel",
                "abort",
                "not sure",
                "I'm not sure",
                "hmm, not sure",
                "no, proceed later",
                "Wait, don't build it yet",
                "yes, wait",
                "never mind",
                "not now",
                "maybe later",
                "let's hold off for now",
                "I'd rather wait",
                "I changed my mind, stop",
                "no, yes, proceed",
            ],
            Reply::Decline,
        );
    }

    #[test]
    fn change_requests_and_descriptions_are_feedback() {
        assert_all(
            &[
                "add categories",
                "a Google-like search",
                "make it look like Google",
                "yes but add dark mode",
                "yes, add dark mode",
                "ok, add tags too",
                "sure, make it look like Spotify",
                "ok Spotify style",
                "yes with dark mode",
                "sounds good, but can you add due dates?",
                "proceeding with caution is important for the app",
                "yesterday",
                "okayish",
                "proceeds",
                "use blue instead",
                "put it on the right",
                "go back to the first idea",
                "start over",
                "let's build the blog instead",
                "what will it cost?",
                "hmm",
                "",
                "\u{1f44d}",
                "Yes, that's right, the header should be blue and the footer should list my social links",
                "looks good but the footer needs work and please don't use red in the header at all",
            ],
            Reply::Feedback,
        );
    }
}
