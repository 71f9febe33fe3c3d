//! The collection kind: what a person wants to keep records of, and the fields each record has,
//! read from their words by rules ("a recipe box with tags" → recipes with a title, ingredients,
//! steps and tags). Known subjects get fields that suit them; anything else gets a name and notes.

use gantry_domain::consultation::{CollectionSpec, Field, FieldKind};
use gantry_domain::words::Words;

/// A field as the tables write it: id, label, kind.
type FieldDef = (&'static str, &'static str, FieldKind);

struct Subject {
    item: &'static str,
    items: &'static str,
    /// Ways of naming it; the first whole-phrase match wins, longest first within a subject.
    names: &'static [&'static str],
    fields: &'static [FieldDef],
    /// Whether tags come naturally (recipes, books) even when nobody asked for them.
    tagged: bool,
}

use FieldKind::{Date, LongText, Number, Text};

const SUBJECTS: &[Subject] = &[
    Subject {
        item: "recipe",
        items: "recipes",
        names: &["recipe box", "recipe book", "recipe collection", "recipes", "recipe", "cookbook"],
        fields: &[
            ("title", "Title", Text),
            ("ingredients", "Ingredients", LongText),
            ("steps", "Steps", LongText),
        ],
        tagged: true,
    },
    Subject {
        item: "habit",
        items: "habits",
        names: &["habit tracker", "habits", "habit"],
        fields: &[
            ("name", "Habit", Text),
            ("frequency", "How often", Text),
            ("last_done", "Last done", Date),
            ("notes", "Notes", LongText),
        ],
        tagged: false,
    },
    Subject {
        item: "expense",
        items: "expenses",
        names: &["expense list", "expense tracker", "expenses", "expense", "spending", "budget", "costs"],
        fields: &[("description", "Description", Text), ("amount", "Amount", Number), ("date", "Date", Date)],
        tagged: false,
    },
    Subject {
        item: "book",
        items: "books",
        names: &["reading list", "reading log", "books", "book", "library"],
        fields: &[("title", "Title", Text), ("author", "Author", Text), ("notes", "Notes", LongText)],
        tagged: true,
    },
    Subject {
        item: "movie",
        items: "movies",
        names: &["watchlist", "watch list", "movies", "movie", "films", "film"],
        fields: &[("title", "Title", Text), ("year", "Year", Number), ("notes", "Notes", LongText)],
        tagged: true,
    },
    Subject {
        item: "trip",
        items: "trips",
        names: &["trips", "trip", "travels", "travel", "holidays", "vacations"],
        fields: &[("destination", "Destination", Text), ("date", "Date", Date), ("notes", "Notes", LongText)],
        tagged: false,
    },
    Subject {
        item: "contact",
        items: "contacts",
        names: &["address book", "contact list", "contacts"],
        fields: &[
            ("name", "Name", Text),
            ("email", "Email", Text),
            ("phone", "Phone", Text),
            ("notes", "Notes", LongText),
        ],
        tagged: false,
    },
    Subject {
        item: "workout",
        items: "workouts",
        names: &["workout log", "workouts", "workout", "exercises", "training log", "gym log"],
        fields: &[("exercise", "Exercise", Text), ("reps", "Reps", Number), ("date", "Date", Date)],
        tagged: false,
    },
    Subject {
        item: "plant",
        items: "plants",
        names: &["plants", "plant"],
        fields: &[
            ("name", "Plant", Text),
            ("last_watered", "Last watered", Date),
            ("notes", "Notes", LongText),
        ],
        tagged: false,
    },
    Subject {
        item: "bookmark",
        items: "bookmarks",
        names: &["bookmarks", "bookmark", "links"],
        fields: &[("title", "Title", Text), ("link", "Link", Text), ("notes", "Notes", LongText)],
        tagged: true,
    },
    Subject {
        item: "gift idea",
        items: "gift ideas",
        names: &["gift ideas", "gift list", "wishlist", "wish list", "gifts"],
        fields: &[("gift", "Gift", Text), ("for_whom", "For", Text), ("price", "Price", Number)],
        tagged: false,
    },
    Subject {
        item: "item",
        items: "items",
        names: &["inventory", "stock list"],
        fields: &[("name", "Name", Text), ("quantity", "Quantity", Number), ("location", "Where", Text)],
        tagged: false,
    },
];

/// Phrases after which people name what they keep ("keep track of my plants").
const LEADS: &[&str] = &[
    "keep track of",
    "track of",
    "track my",
    "track",
    "log my",
    "log of",
    "list of",
    "collection of",
    "catalogue of",
    "catalog of",
    "save my",
    "store my",
    "organise my",
    "organize my",
    "record my",
    "remember my",
];

/// Words after a noun that make it a subject ("plant tracker", "wine collection").
const TAILS: &[&str] = &[
    "tracker",
    "log",
    "collection",
    "catalogue",
    "catalog",
    "manager",
    "organiser",
    "organizer",
    "box",
    "list",
    "database",
    "keeper",
];

/// Words that are never what a collection keeps.
const NOT_ITEMS: &[&str] = &[
    "a",
    "an",
    "the",
    "my",
    "our",
    "your",
    "all",
    "some",
    "of",
    "and",
    "or",
    "for",
    "to",
    "with",
    "app",
    "apps",
    "application",
    "site",
    "website",
    "page",
    "thing",
    "things",
    "stuff",
    "something",
    "anything",
    "it",
    "them",
    "this",
    "that",
    "i",
    "me",
    "we",
    "you",
    "want",
    "need",
    "like",
    "know",
    "don't",
    "dont",
    "not",
    "sure",
    "just",
    "please",
    "build",
    "make",
    "create",
    "simple",
    "nice",
    "little",
    "new",
    "good",
    "idea",
    "ideas",
    "where",
    "can",
    "what",
    "which",
    "how",
    "maybe",
    "yes",
    "no",
    "ok",
    "okay",
    "hmm",
    "um",
    "well",
    "so",
    "very",
    "really",
    "cool",
    "one",
    "be",
    "is",
    "are",
    "have",
    "has",
    "everything",
    "daily",
    "every",
    "day",
    "time",
    "them",
    "tag",
    "tags",
];

/// Field hints in the request: the words, then the field they add.
const HINTS: &[(&[&str], FieldDef)] = &[
    (&["rating", "ratings", "stars", "score", "scores"], ("rating", "Rating", Number)),
    (&["price", "prices", "cost", "amount", "amounts"], ("amount", "Amount", Number)),
    (&["date", "dates", "when"], ("date", "Date", Date)),
    (&["author", "authors"], ("author", "Author", Text)),
    (&["link", "url", "urls"], ("link", "Link", Text)),
    (&["location", "locations", "place", "places"], ("location", "Where", Text)),
    (&["category", "categories"], ("category", "Category", Text)),
    (&["notes", "note"], ("notes", "Notes", LongText)),
    (&["minutes", "duration", "how long"], ("minutes", "Minutes", Number)),
];

/// The fields the words ask for by name ("with a rating", "how many minutes"), beyond what a
/// list keeps anyway: the labels, lower-case, in the order of `HINTS`.
pub(crate) fn asked_fields(text: &str) -> Vec<String> {
    let words = Words::new(text);
    HINTS
        .iter()
        .filter(|(hints, _)| words.contains_any(hints))
        .map(|(_, (_, label, _))| label.to_lowercase())
        .collect()
}

/// Words that mean several people share the costs: the record says who paid.
const SPLIT_WORDS: &[&str] =
    &["split", "splitting", "share the cost", "shared", "between friends", "who paid", "payer"];

/// Whether the words name something to keep records of.
pub(crate) fn names_a_subject(words: &Words) -> bool {
    known(words).is_some() || named_noun(words).is_some()
}

/// The collection for the person's words (all their messages), with tags when `tags` is asked
/// or natural for the subject. `fallback` allows a bare noun ("my plants") as the subject.
pub(crate) fn spec(text: &str, tags: bool, fallback: bool) -> CollectionSpec {
    let words = Words::new(text);
    let mut fields: Vec<Field> = Vec::new();
    let push = |fields: &mut Vec<Field>, (id, label, kind): FieldDef| {
        if !fields.iter().any(|f| f.id == id || (kind == Number && f.kind == Number && id == "amount")) {
            fields.push(Field { id: id.to_owned(), label: label.to_owned(), kind });
        }
    };
    let (item, items, tagged) = match known(&words) {
        Some(subject) => {
            for field in subject.fields {
                push(&mut fields, *field);
            }
            (subject.item.to_owned(), subject.items.to_owned(), subject.tagged)
        }
        None => {
            let noun = named_noun(&words).or_else(|| fallback.then(|| last_noun(&words)).flatten());
            let (item, items) = match noun {
                Some(noun) => (singular(&noun), plural(&singular(&noun))),
                None => ("entry".to_owned(), "entries".to_owned()),
            };
            push(&mut fields, ("name", "Name", Text));
            (item, items, false)
        }
    };
    if item == "expense" && words.contains_any(SPLIT_WORDS) {
        fields.insert(2.min(fields.len()), Field { id: "payer".into(), label: "Paid by".into(), kind: Text });
    }
    for (hints, field) in HINTS {
        if words.contains_any(hints) {
            push(&mut fields, *field);
        }
    }
    if !fields.iter().any(|f| f.kind == LongText) {
        push(&mut fields, ("notes", "Notes", LongText));
    }
    if tags || tagged {
        push(&mut fields, ("tags", "Tags", FieldKind::Tags));
    }
    CollectionSpec { item, items, fields }
}

/// Words that make a list one of tasks ("a react todo list"), whatever else it mentions.
const TASK_WORDS: &[&str] = &["todo", "todos", "to do", "to dos", "task", "tasks", "chores", "errands"];

/// What a list app keeps, singular and plural, from the person's words: tasks for a to-do list,
/// else the subject they named ("track my habits": habit, habits), else plain items.
pub(crate) fn list_nouns(text: &str) -> (String, String) {
    let words = Words::new(text);
    if words.contains_any(TASK_WORDS) {
        return ("task".to_owned(), "tasks".to_owned());
    }
    if let Some(subject) = known(&words) {
        return (subject.item.to_owned(), subject.items.to_owned());
    }
    match named_noun(&words) {
        Some(noun) => (singular(&noun), plural(&singular(&noun))),
        None => ("item".to_owned(), "items".to_owned()),
    }
}

fn known(words: &Words) -> Option<&'static Subject> {
    SUBJECTS
        .iter()
        .filter_map(|s| words.find_first_of(s.names).map(|hit| (hit.start, s)))
        .min_by_key(|(start, _)| *start)
        .map(|(_, s)| s)
}

/// A noun after a lead ("keep track of my plants") or before a tail ("wine collection").
fn named_noun(words: &Words) -> Option<String> {
    let usable = |i: usize| {
        words.get(i).filter(|w| w.len() >= 3 && w.chars().all(char::is_alphabetic) && !NOT_ITEMS.contains(w))
    };
    for lead in words.find_all_of(LEADS) {
        let mut i = lead.end();
        while words.get(i).is_some_and(|w| ["my", "our", "the", "all", "of", "a"].contains(&w)) {
            i += 1;
        }
        if let Some(noun) = usable(i) {
            return Some(noun.to_owned());
        }
    }
    for tail in words.find_all_of(TAILS) {
        if let Some(noun) = tail.start.checked_sub(1).and_then(usable) {
            return Some(noun.to_owned());
        }
    }
    None
}

/// The last word that could be a noun, for a second answer with no cue at all ("my plants").
fn last_noun(words: &Words) -> Option<String> {
    (0..words.len()).rev().find_map(|i| {
        let word = words.get(i)?;
        (word.len() >= 3 && word.chars().all(char::is_alphabetic) && !NOT_ITEMS.contains(&word))
            .then(|| word.to_owned())
    })
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["ches", "shes", "sses", "xes"] {
        if word.ends_with(ending) {
            return word[..word.len() - 2].to_owned();
        }
    }
    match word.strip_suffix('s') {
        Some(stem) if !word.ends_with("ss") && stem.len() >= 2 => stem.to_owned(),
        _ => word.to_owned(),
    }
}

fn plural(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        return format!("{stem}ies");
    }
    if ["ch", "sh", "ss", "x"].iter().any(|e| word.ends_with(e)) {
        return format!("{word}es");
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(spec: &CollectionSpec) -> Vec<&str> {
        spec.fields.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn known_subjects_get_fields_that_suit_them() {
        let recipes = spec("I want a recipe box where I can save my recipes and tag them", true, false);
        assert_eq!((recipes.item.as_str(), recipes.items.as_str()), ("recipe", "recipes"));
        assert_eq!(ids(&recipes), ["title", "ingredients", "steps", "tags"]);
        let expenses = spec("expenses split between friends", false, false);
        assert_eq!(ids(&expenses), ["description", "amount", "payer", "date", "notes"]);
        let habits = spec("a habit tracker", false, false);
        assert_eq!(ids(&habits), ["name", "frequency", "last_done", "notes"]);
        assert_eq!(habits.fields[2].kind, FieldKind::Date);
    }

    #[test]
    fn other_subjects_are_named_from_the_request() {
        let plants = spec("an app to keep track of my houseplants with ratings", false, false);
        assert_eq!((plants.item.as_str(), plants.items.as_str()), ("houseplant", "houseplants"));
        assert_eq!(ids(&plants), ["name", "rating", "notes"]);
        let wines = spec("a wine collection", false, false);
        assert_eq!(wines.items, "wines");
        assert_eq!(spec("my boxes", false, true).items, "boxes");
        assert_eq!(spec("I don't know, something", false, true).items, "entries");
        assert_eq!(spec("berries", false, true).item, "berry");
    }

    #[test]
    fn a_list_is_named_after_what_it_keeps() {
        assert_eq!(list_nouns("Build me a React app to track my habits"), ("habit".into(), "habits".into()));
        assert_eq!(list_nouns("a react app for my reading list"), ("book".into(), "books".into()));
        assert_eq!(list_nouns("a react todo list with vite"), ("task".into(), "tasks".into()));
        assert_eq!(
            list_nouns("a react app to keep track of my houseplants"),
            ("houseplant".into(), "houseplants".into())
        );
        assert_eq!(list_nouns("react + typescript counter"), ("item".into(), "items".into()));
    }

    #[test]
    fn subjects_are_recognised_only_when_named() {
        assert!(names_a_subject(&Words::new("a recipe box")));
        assert!(names_a_subject(&Words::new("keep track of my plants")));
        assert!(!names_a_subject(&Words::new("build me an app")));
        assert!(!names_a_subject(&Words::new("something cool")));
    }
}
