//! The words of a message, for rules that must match whole words and phrases, never substrings:
//! "slack" is not in "slacking", "ok" is not in "okayish", "ass" is not in "class".
//!
//! A word is a run of letters and digits, with inner apostrophes kept ("let's", "don't"; curly
//! apostrophes count as straight ones). Everything else separates words, so "linkedin-style" is
//! "linkedin" then "style" and "x.com" is "x" then "com". Phrases are matched word by word.

use std::ops::Range;

/// A message split into lowercase words, remembering each word's original spelling, where it
/// stood and where clauses end, so that rules can look at a word's neighbours without crossing a
/// comma.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words {
    lower: Vec<String>,
    raw: Vec<String>,
    /// Each word's byte range in the text it came from.
    spans: Vec<Range<usize>>,
    clause_ends: Vec<bool>,
}

/// Where a phrase was found: its first word and how many words it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub len: usize,
}

impl Hit {
    pub fn end(self) -> usize {
        self.start + self.len
    }
}

/// The word being read: its characters and where each one ends in the text.
#[derive(Default)]
struct Pending {
    text: String,
    start: usize,
    char_ends: Vec<usize>,
}

impl Words {
    pub fn new(text: &str) -> Self {
        let mut words = Self::default();
        let mut pending = Pending::default();
        for (at, c) in text.char_indices() {
            let normalised = if matches!(c, '\u{2019}' | '\u{2018}' | '\u{02bc}') { '\'' } else { c };
            if normalised.is_alphanumeric() || (normalised == '\'' && !pending.text.is_empty()) {
                if pending.text.is_empty() {
                    pending.start = at;
                }
                pending.text.push(normalised);
                pending.char_ends.push(at + c.len_utf8());
                continue;
            }
            words.finish(&mut pending);
            if is_clause_break(c) {
                if let Some(last) = words.clause_ends.last_mut() {
                    *last = true;
                }
            }
        }
        words.finish(&mut pending);
        words
    }

    fn finish(&mut self, pending: &mut Pending) {
        let word = pending.text.trim_end_matches('\'');
        let chars = word.chars().count();
        if chars > 0 {
            let end = pending.char_ends.get(chars - 1).copied().unwrap_or(pending.start);
            self.raw.push(word.to_owned());
            self.lower.push(word.to_lowercase());
            self.spans.push(pending.start..end);
            self.clause_ends.push(false);
        }
        *pending = Pending::default();
    }

    /// The byte range of the original text from the start of word `first` to the end of word
    /// `last`, so that a caller can quote what was written between them ("Crumb & Co").
    pub fn span(&self, first: usize, last: usize) -> Option<Range<usize>> {
        let start = self.spans.get(first)?.start;
        let end = self.spans.get(last)?.end;
        (start <= end).then_some(start..end)
    }

    pub fn len(&self) -> usize {
        self.lower.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// The lowercase words.
    pub fn as_slice(&self) -> &[String] {
        &self.lower
    }

    /// The word at `index`, lowercase.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.lower.get(index).map(String::as_str)
    }

    /// The word at `index` as it was written.
    pub fn raw(&self, index: usize) -> Option<&str> {
        self.raw.get(index).map(String::as_str)
    }

    /// Whether clause-ending punctuation (`, . ; : ! ?`, brackets, quotes, a line break) follows
    /// the word at `index`.
    pub fn ends_clause(&self, index: usize) -> bool {
        self.clause_ends.get(index).copied().unwrap_or(false)
    }

    /// Every place `phrase` occurs, first first.
    pub fn find_all(&self, phrase: &str) -> Vec<Hit> {
        let needle = Words::new(phrase).lower;
        if needle.is_empty() || needle.len() > self.lower.len() {
            return Vec::new();
        }
        self.lower
            .windows(needle.len())
            .enumerate()
            .filter(|(_, window)| *window == needle.as_slice())
            .map(|(start, _)| Hit { start, len: needle.len() })
            .collect()
    }

    pub fn find(&self, phrase: &str) -> Option<Hit> {
        self.find_all(phrase).into_iter().next()
    }

    pub fn contains(&self, phrase: &str) -> bool {
        self.find(phrase).is_some()
    }

    pub fn contains_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.contains(p))
    }

    /// Every occurrence of any of `phrases`, in the order they appear; where two start at the same
    /// word the longer comes first.
    pub fn find_all_of(&self, phrases: &[&str]) -> Vec<Hit> {
        let mut hits: Vec<Hit> = phrases.iter().flat_map(|p| self.find_all(p)).collect();
        hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.len.cmp(&a.len)));
        hits.dedup();
        hits
    }

    /// The earliest occurrence of any of `phrases` (the longest, when several start together).
    pub fn find_first_of(&self, phrases: &[&str]) -> Option<Hit> {
        self.find_all_of(phrases).into_iter().next()
    }

    /// Whether one of `phrases` ends at most `window` words before `index`, within its clause:
    /// "not" qualifies "slack" in "not slack" but not in "not yet, slack".
    pub fn preceded_by(&self, index: usize, phrases: &[&str], window: usize) -> bool {
        let from = self.clause_start(index);
        self.find_all_of(phrases)
            .into_iter()
            .any(|hit| hit.start >= from && hit.end() <= index && index - hit.end() < window)
    }

    /// Whether one of `phrases` lies within `window` words either side of `hit`, clauses regardless.
    pub fn near(&self, hit: Hit, phrases: &[&str], window: usize) -> bool {
        self.find_all_of(phrases).into_iter().any(|other| {
            let before = other.end() <= hit.start && hit.start - other.end() < window;
            let after = other.start >= hit.end() && other.start - hit.end() < window;
            before || after
        })
    }

    /// The first word of the clause holding `index`.
    pub fn clause_start(&self, index: usize) -> usize {
        (0..index).rev().find(|&i| self.ends_clause(i)).map_or(0, |i| i + 1)
    }
}

fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | '('
            | ')'
            | '['
            | ']'
            | '"'
            | '\u{201c}'
            | '\u{201d}'
            | '\n'
            | '\u{2014}'
            | '\u{2013}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_runs_of_letters_and_digits() {
        let words = Words::new("Yes, proceed! It's LinkedIn-style (x.com) don\u{2019}t 'quoted'");
        let expected = ["yes", "proceed", "it's", "linkedin", "style", "x", "com", "don't", "quoted"];
        assert_eq!(words.as_slice(), expected);
        assert_eq!(words.raw(3), Some("LinkedIn"));
    }

    #[test]
    fn spans_point_back_into_the_text() {
        let text = "called \u{201c}Crumb & Co\u{201d}, don\u{2019}t";
        let words = Words::new(text);
        assert_eq!(words.span(1, 2).map(|r| &text[r]), Some("Crumb & Co"));
        assert_eq!(words.span(3, 3).map(|r| &text[r]), Some("don\u{2019}t"));
        assert_eq!(words.span(2, 1), None);
        assert_eq!(words.span(0, 9), None);
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let words = Words::new("I was slacking yesterday, okayish");
        assert!(!words.contains("slack"));
        assert!(!words.contains("yes"));
        assert!(!words.contains("ok"));
        assert!(words.contains("slacking yesterday"));
        assert!(Words::new("go to x.com now").contains("x.com"));
    }

    #[test]
    fn the_earliest_and_longest_hit_wins() {
        let words = Words::new("a task board and a task list");
        assert_eq!(
            words.find_first_of(&["task list", "task board", "board"]),
            Some(Hit { start: 1, len: 2 })
        );
        assert_eq!(words.find_first_of(&["nothing"]), None);
    }

    #[test]
    fn qualifiers_stay_inside_their_clause() {
        let words = Words::new("not slack");
        assert!(words.preceded_by(1, &["not"], 2));
        let words = Words::new("not yet, slack");
        assert!(!words.preceded_by(3, &["not"], 3));
        let words = Words::new("not a big fan of slack");
        assert!(!words.preceded_by(5, &["not"], 2));
    }

    #[test]
    fn nearness_counts_words_either_side() {
        let words = Words::new("a spam filter for my inbox");
        let hit = words.find("spam").unwrap();
        assert!(words.near(hit, &["filter"], 2));
        assert!(!words.near(hit, &["inbox"], 2));
    }

    #[test]
    fn empty_text_has_no_words() {
        assert!(Words::new("  ,!? ").is_empty());
        assert_eq!(Words::new("").find("yes"), None);
    }
}
