//! What the person has asked for so far, read from their messages by rules.
//!
//! The brief is rebuilt from every message of the conversation, oldest first, so the same
//! conversation always yields the same brief and a later message revises an earlier one: it can
//! switch the kind of app ("actually, make it a blog"), the look ("like Spotify instead") or add
//! and remove features ("add tags", "no dark mode").

use gantry_domain::consultation::{AppKind, Brief};
use gantry_domain::themes::{self, Theme};
use gantry_domain::words::{Hit, Words};
use gantry_domain::Stack;

use super::collection;

/// The brief, plus what the brief has no field for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Understanding {
    pub brief: Brief,
    /// A look that is not one of the themes, as a phrase: "a Google-like look", "a retro look".
    pub look: Option<String>,
    /// Whether the person named the app ("called Taskly") rather than Gantry titling it.
    pub named: bool,
    /// What the app is for or about ("cooking" in "a blog about cooking"), for the title.
    subject: Option<String>,
}

struct KindWords {
    kind: AppKind,
    /// Names of the kind that can also switch an app already being discussed.
    strong: &'static [&'static str],
    /// Hints good enough for a first description, too vague to switch ("charts" is also a feature).
    weak: &'static [&'static str],
}

const KINDS: &[KindWords] = &[
    KindWords { kind: AppKind::React, strong: &["react", "reactjs", "react js", "vite"], weak: &[] },
    KindWords {
        kind: AppKind::Todo,
        strong: &[
            "todo",
            "todos",
            "to do list",
            "to do app",
            "to do lists",
            "to dos",
            "task list",
            "task manager",
            "task tracker",
            "task app",
            "tasks app",
            "checklist",
            "check list",
            "shopping list",
            "grocery list",
            "chore list",
        ],
        weak: &["tasks", "chores", "errands"],
    },
    KindWords {
        kind: AppKind::Notes,
        strong: &[
            "notes",
            "notes app",
            "note app",
            "note taking",
            "note taker",
            "notebook",
            "notepad",
            "journal",
            "diary",
        ],
        weak: &["memo", "memos", "jot down"],
    },
    KindWords {
        kind: AppKind::Kanban,
        strong: &[
            "kanban",
            "kanban board",
            "trello",
            "task board",
            "project board",
            "scrum board",
            "sprint board",
            "agile board",
        ],
        weak: &["board", "boards", "columns", "swimlanes"],
    },
    KindWords {
        kind: AppKind::Landing,
        strong: &[
            "landing page",
            "landing",
            "homepage",
            "home page",
            "product page",
            "startup site",
            "startup website",
            "startup page",
            "marketing site",
            "marketing page",
            "marketing website",
            "launch page",
            "coming soon page",
            "splash page",
            "one pager",
            "sales page",
            "company website",
            "company site",
            "business website",
            "business site",
        ],
        weak: &["coming soon", "my startup", "my product", "my business", "my company", "saas"],
    },
    KindWords {
        kind: AppKind::Portfolio,
        strong: &[
            "portfolio",
            "personal site",
            "personal website",
            "personal page",
            "personal homepage",
            "resume",
            "résumé",
            "cv",
            "online resume",
        ],
        weak: &["about me", "my work", "showcase", "bio page", "my projects"],
    },
    KindWords {
        kind: AppKind::Blog,
        strong: &["blog", "blogs", "weblog"],
        weak: &["articles", "posts", "essays", "stories"],
    },
    KindWords {
        kind: AppKind::Dashboard,
        strong: &["dashboard", "dashboards", "admin panel", "analytics"],
        weak: &[
            "metrics",
            "kpis",
            "kpi",
            "charts",
            "graphs",
            "stats",
            "statistics",
            "reports",
            "insights",
            "data visualization",
            "data visualisation",
            "monitoring",
        ],
    },
];

/// Features people ask for by name: the name the brief records, then the ways of saying it.
pub(super) const FEATURES: &[(&str, &[&str])] = &[
    (
        "categories",
        &["categories", "category", "categorise", "categorize", "categorised", "categorized", "folders"],
    ),
    ("tags", &["tags", "tag", "tagging", "labels", "label"]),
    ("dark mode", &["dark mode", "dark theme", "night mode", "darkmode", "light and dark", "dark and light"]),
    ("due dates", &["due dates", "due date", "deadlines", "deadline"]),
    ("priorities", &["priority", "priorities", "prioritise", "prioritize"]),
    ("reminders", &["reminders", "reminder", "notifications"]),
    ("search", &["search", "searching", "searchable", "search bar", "search box"]),
    ("filters", &["filter", "filters", "filtering"]),
    ("sorting", &["sort", "sorting", "sortable"]),
    ("export", &["export", "exports", "exporting", "csv"]),
    ("import", &["import", "importing"]),
    ("drag and drop", &["drag and drop", "drag drop", "drag n drop", "draggable", "drag"]),
    ("charts", &["charts", "chart", "graphs", "graph", "plots", "visualisations", "visualizations"]),
    ("markdown", &["markdown"]),
    ("calendar", &["calendar", "calendar view"]),
    ("comments", &["comments", "comment section"]),
    ("rss feed", &["rss", "rss feed", "atom feed"]),
    ("contact form", &["contact form", "contact", "get in touch"]),
    ("newsletter signup", &["newsletter", "mailing list", "email signup", "waitlist", "wait list"]),
    ("pricing", &["pricing", "pricing table", "price plans"]),
    ("testimonials", &["testimonials", "testimonial", "reviews"]),
    ("faq", &["faq", "faqs", "frequently asked questions"]),
    ("gallery", &["gallery", "photo gallery", "image gallery", "photos"]),
    ("social links", &["social links", "social media links", "social icons"]),
    ("favourites", &["favourites", "favorites", "pinned", "pin", "starred"]),
    ("subtasks", &["subtasks", "sub tasks"]),
    ("recurring tasks", &["recurring", "repeating tasks", "recurring tasks"]),
    ("progress bar", &["progress bar", "progress tracking"]),
    ("statistics", &["stats", "statistics", "counters"]),
    (
        "mobile friendly",
        &["mobile friendly", "responsive", "works on mobile", "works on phones", "mobile first"],
    ),
    ("sharing", &["share", "sharing", "share button"]),
    ("animations", &["animations", "animated", "animation"]),
    ("reading time", &["reading time"]),
    ("streaks", &["streak", "streaks"]),
    // What no static app can do; recorded so the plan can name them as not built.
    (
        "sharing with other people",
        &[
            "friends",
            "other people",
            "other users",
            "my team",
            "my family",
            "collaborate",
            "collaboration",
            "collaborative",
            "multiplayer",
        ],
    ),
    ("sync between devices", &["sync", "syncs", "syncing", "synced", "across devices", "between devices"]),
    ("accounts and sign-in", &["login", "log in", "sign in", "user accounts"]),
    ("live weather data", &["weather", "forecast", "forecasts"]),
    (
        "live data from the internet",
        &["live data", "real time", "realtime", "stock prices", "exchange rates", "live prices", "api"],
    ),
    ("payments", &["payments", "payment", "checkout", "pay online", "credit card", "credit cards"]),
];

/// Words that, just before a mention, rule it out rather than ask for it.
const RULED_OUT_BY: &[&str] =
    &["not", "no", "not a", "not an", "instead of", "rather than", "than", "unlike"];

/// Words that mark a later message as switching the kind of app.
const SWITCH_CUES: &[&str] = &[
    "instead",
    "make it a",
    "make it an",
    "make this a",
    "change it to",
    "change it into",
    "switch to",
    "turn it into",
    "rather",
    "actually",
    "i want a",
    "i'd like a",
    "let's do a",
    "go with a",
    "i meant",
];

/// Words that take a feature out when they come just before it.
const REMOVERS: &[&str] = &[
    "no", "not", "without", "remove", "drop", "skip", "don't", "dont", "never", "minus", "delete", "lose",
    "ditch", "rid", "exclude",
];

/// Words that keep a feature in, ending the search for a remover before them ("no tags and dark mode").
const KEEPERS: &[&str] = &["add", "adding", "with", "include", "including", "plus", "keep", "also", "and"];

/// Words after which a person lists features of their own ("with a recipe index").
const FEATURE_LEADS: &[&str] = &["with", "add", "adding", "include", "including", "plus"];

/// Words that end a phrase being read (a feature, a title, a subject).
const PHRASE_STOPS: &[&str] = &[
    "that", "which", "who", "where", "so", "for", "in", "on", "like", "please", "but", "to", "using",
    "instead", "too", "as", "if", "because", "then", "when", "from", "by", "into", "at", "with", "and", "or",
    "is", "are", "should", "would", "could", "can", "will", "it", "after",
];

/// Openings of a phrase that carry no meaning of their own.
const DETERMINERS: &[&str] =
    &["a", "an", "the", "some", "my", "our", "its", "their", "nice", "simple", "basic", "little"];

/// Words that show a phrase after "with" is not a feature ("with a Spotify look", "with lots of stuff").
const NOT_FEATURES: &[&str] = &[
    "look",
    "looks",
    "style",
    "feel",
    "vibe",
    "vibes",
    "theme",
    "colour",
    "colours",
    "color",
    "colors",
    "design",
    "font",
    "fonts",
    "layout",
    "features",
    "feature",
    "stuff",
    "things",
    "everything",
    "anything",
    "lots",
    "love",
    "care",
    "it",
    "me",
    "them",
    "you",
    "this",
    "that",
    "image",
    "picture",
    "screenshot",
    "mockup",
];

/// Words after which the person names the app.
const NAME_CUES: &[&str] = &[
    "called",
    "named",
    "titled",
    "call it",
    "name it",
    "rename it to",
    "rename it",
    "title it",
    "rename to",
];

/// Openings of the subject an app is for or about ("for my bakery", "about cooking").
const SUBJECT_CUES: &[&str] = &["for my", "for our", "about my", "about our", "about"];

/// Words that are not a subject worth a title ("for my own use").
const NOT_SUBJECTS: &[&str] =
    &["own", "use", "needs", "self", "me", "us", "personal", "new", "life", "stuff", "things"];

/// Brands people compare looks with; other names count when written with a capital letter.
const BRANDS: &[&str] = &[
    "google",
    "apple",
    "stripe",
    "github",
    "medium",
    "netflix",
    "amazon",
    "youtube",
    "pinterest",
    "reddit",
    "dropbox",
    "figma",
    "linear",
    "vercel",
    "discord",
    "whatsapp",
    "tiktok",
    "uber",
    "duolingo",
    "substack",
    "wikipedia",
    "craigslist",
    "ebay",
    "etsy",
    "shopify",
    "microsoft",
    "windows",
    "ios",
    "android",
    "material",
    "trello",
    "asana",
    "jira",
    "todoist",
    "evernote",
    "medium",
    "tumblr",
    "wordpress",
    "squarespace",
    "dribbble",
    "behance",
    "bloomberg",
    "nytimes",
    "bbc",
    "vogue",
];

/// Styles that are a look on their own when followed by a look word ("a retro look", "pastel colours").
const STYLES: &[&str] = &[
    "retro",
    "minimal",
    "minimalist",
    "minimalistic",
    "brutalist",
    "neon",
    "pastel",
    "vintage",
    "playful",
    "elegant",
    "modern",
    "futuristic",
    "corporate",
    "cyberpunk",
    "monochrome",
    "colourful",
    "colorful",
    "bold",
    "cozy",
    "cosy",
    "warm",
    "professional",
    "glassy",
    "flat",
    "earthy",
    "luxurious",
    "whimsical",
];

const LOOK_WORDS: &[&str] = &[
    "look",
    "style",
    "feel",
    "vibe",
    "vibes",
    "design",
    "theme",
    "aesthetic",
    "colours",
    "colors",
    "palette",
];

/// Phrases after which comes what the look should be like.
const LOOK_LEADS: &[&str] = &[
    "look like",
    "looks like",
    "looking like",
    "feel like",
    "feels like",
    "inspired by",
    "in the style of",
    "similar to",
    "styled like",
    "design like",
    "designed like",
    "the look of",
];

/// Words that, after a brand, make it a look ("google-like", "Stripe style").
const LOOK_SUFFIXES: &[&str] =
    &["like", "style", "styled", "inspired", "vibe", "vibes", "esque", "look", "feel"];

/// Ways of asking for no particular look.
const PLAIN_LOOKS: &[&str] =
    &["no theme", "default look", "default theme", "plain look", "no particular style", "without a theme"];

/// Reads the whole conversation's user messages, oldest first, on top of `base`'s design image.
pub(super) fn understand(messages: &[&str], base: &Brief) -> Understanding {
    let mut understanding = Understanding {
        brief: Brief {
            stack: Some(Stack::Static),
            design_image: base.design_image.clone(),
            notes: messages.iter().map(|m| (*m).to_owned()).collect(),
            ..Brief::default()
        },
        look: None,
        named: false,
        subject: None,
    };
    for message in messages {
        understanding.read(message);
    }
    understanding.settle_collection(messages);
    if understanding.brief.kind == Some(AppKind::React) {
        understanding.brief.stack = Some(Stack::Node);
        understanding.name_unkept_fields(messages);
    }
    understanding.brief.title = understanding.title();
    understanding
}

impl Understanding {
    fn read(&mut self, message: &str) {
        let words = Words::new(message);
        self.read_kind(&words);
        self.read_look(message, &words);
        self.read_features(&words);
        // Quotes alone do not name the app: 'a header that says "Welcome"' is copy, not a name.
        let named = words.contains_any(NAME_CUES);
        if let Some(name) =
            named.then(|| quoted_name(message).or_else(|| name_after_cue(message, &words))).flatten()
        {
            self.brief.title = Some(name);
            self.named = true;
        }
        if self.subject.is_none() {
            self.subject = subject(&words);
        }
    }

    fn read_kind(&mut self, words: &Words) {
        match self.brief.kind {
            None => self.brief.kind = kind_in(words, false),
            Some(current) => {
                let short_answer = words.len() <= 3 && features_in(words).is_empty();
                if words.contains_any(SWITCH_CUES) || short_answer {
                    if let Some(kind) = kind_in(words, true).filter(|k| *k != current) {
                        self.brief.kind = Some(kind);
                    }
                }
            }
        }
    }

    fn read_look(&mut self, message: &str, words: &Words) {
        if let Some(theme) = themes::detect(message) {
            self.brief.theme = Some(theme);
            self.look = None;
            return;
        }
        let ruled_out_current = themes::mentions(message)
            .into_iter()
            .any(|(theme, ruled_out)| ruled_out && Some(theme) == self.brief.theme);
        if ruled_out_current || words.contains_any(PLAIN_LOOKS) {
            self.brief.theme = None;
            self.look = None;
        }
        if let Some(look) = look_in(words) {
            self.brief.theme = None;
            self.look = Some(look);
        }
    }

    fn read_features(&mut self, words: &Words) {
        for (name, removed) in features_in(words) {
            let features = &mut self.brief.features;
            if removed {
                features.retain(|f| f != name);
            } else if !features.iter().any(|f| f == name) {
                features.push(name.to_owned());
            }
        }
        for (phrase, removed) in own_features(words, self.brief.kind) {
            let features = &mut self.brief.features;
            if removed {
                features.retain(|f| *f != phrase);
            } else if !features.contains(&phrase) {
                features.push(phrase);
            }
        }
    }

    /// The React kind keeps one line of text per item: each field the person asked for ("with
    /// a rating", "how many minutes") becomes an approved feature, "rating for each book", which
    /// the plan and the results then name as not built instead of dropping it unsaid.
    fn name_unkept_fields(&mut self, messages: &[&str]) {
        let text = messages.join(". ");
        let (item, _) = collection::list_nouns(&text);
        for field in collection::asked_fields(&text) {
            let feature = format!("{field} for each {item}");
            if !self.brief.features.contains(&feature) {
                self.brief.features.push(feature);
            }
        }
    }

    /// No dead ends: what names something to keep records of is a collection, and so is a
    /// second message that still names no kind (the first one already got its question).
    fn settle_collection(&mut self, messages: &[&str]) {
        let text = messages.join(". ");
        let second_try = messages.len() >= 2;
        if self.brief.kind.is_none() && (second_try || collection::names_a_subject(&Words::new(&text))) {
            self.brief.kind = Some(AppKind::Collection);
        }
        self.brief.collection = (self.brief.kind == Some(AppKind::Collection)).then(|| {
            let tags = self.brief.features.iter().any(|f| f == "tags" || f == "categories");
            collection::spec(&text, tags, second_try)
        });
    }

    /// The person's name for the app, else its subject and kind ("Cooking Blog"), else none.
    fn title(&self) -> Option<String> {
        if self.named {
            return self.brief.title.clone();
        }
        let kind = self.brief.kind?;
        if let Some(collection) = &self.brief.collection {
            return Some(title_case(&collection.items));
        }
        if kind == AppKind::React {
            let (_, items) = collection::list_nouns(&self.brief.notes.join(". "));
            if items != "items" {
                return Some(title_case(&items));
            }
        }
        Some(match &self.subject {
            Some(subject) => format!("{} {}", title_case(subject), kind_title(kind)),
            None => kind_title(kind).to_owned(),
        })
    }
}

/// The app kind a message names: the first mention that is not ruled out, except that asking for
/// React wins (it is the one kind built with React), and a landing page wins over the product it
/// is for ("a landing page for my todo app", "a todo app landing page").
fn kind_in(words: &Words, strong_only: bool) -> Option<AppKind> {
    let mut mentions: Vec<(Hit, AppKind)> = KINDS
        .iter()
        .flat_map(|k| {
            let weak: &[&str] = if strong_only { &[] } else { k.weak };
            let hits = words.find_all_of(k.strong).into_iter().chain(words.find_all_of(weak));
            hits.map(|hit| (hit, k.kind)).collect::<Vec<_>>()
        })
        .filter(|(hit, _)| !words.preceded_by(hit.start, RULED_OUT_BY, 2))
        .collect();
    mentions.sort_by(|(a, _), (b, _)| a.start.cmp(&b.start).then(b.len.cmp(&a.len)));
    if mentions.iter().any(|(_, kind)| *kind == AppKind::React) {
        return Some(AppKind::React);
    }
    // A landing mention inside a longer one of another kind ("personal homepage") is not one.
    let inside_another = |hit: &Hit| {
        mentions.iter().any(|(other, kind)| {
            *kind != AppKind::Landing
                && other.start <= hit.start
                && other.end() >= hit.end()
                && other.len > hit.len
        })
    };
    let landing = mentions.iter().find(|(hit, kind)| *kind == AppKind::Landing && !inside_another(hit));
    landing.or(mentions.first()).map(|(_, kind)| *kind)
}

/// The known features a message mentions, each with whether the mention takes it out.
fn features_in(words: &Words) -> Vec<(&'static str, bool)> {
    let mut found: Vec<(usize, &'static str, bool)> = FEATURES
        .iter()
        .flat_map(|(name, phrases)| {
            words
                .find_all_of(phrases)
                .into_iter()
                .map(move |hit| (hit.start, *name, removes(words, hit.start)))
        })
        .collect();
    found.sort_by_key(|(start, _, _)| *start);
    found.into_iter().map(|(_, name, removed)| (name, removed)).collect()
}

/// Whether a remover comes before the word at `index`, in its clause, with no keeper between.
fn removes(words: &Words, index: usize) -> bool {
    let from = words.clause_start(index).max(index.saturating_sub(3));
    for i in (from..index).rev() {
        let word = words.get(i).unwrap_or_default();
        if KEEPERS.contains(&word) {
            return false;
        }
        if REMOVERS.contains(&word) {
            return true;
        }
    }
    false
}

/// Features in the person's own words, after "with", "add" and the like ("with a recipe index"),
/// or after a remover ("drop the footer"). Known features, looks and the app's own kind are left
/// to the other rules.
fn own_features(words: &Words, kind: Option<AppKind>) -> Vec<(String, bool)> {
    let known: Vec<Hit> = FEATURES.iter().flat_map(|(_, phrases)| words.find_all_of(phrases)).collect();
    let is_known = |i: usize| known.iter().any(|hit| (hit.start..hit.end()).contains(&i));
    let leads = words.find_all_of(FEATURE_LEADS).into_iter().map(|hit| (hit, false));
    let removals =
        words.find_all_of(&["remove", "drop", "without", "ditch"]).into_iter().map(|hit| (hit, true));
    let mut found = Vec::new();
    for (lead, removed) in leads.chain(removals) {
        if is_known(lead.start) || words.ends_clause(lead.end() - 1) {
            continue;
        }
        let mut piece: Vec<&str> = Vec::new();
        for i in lead.end()..words.len() {
            let word = words.get(i).unwrap_or_default();
            if is_known(i) || word == "and" || word == "or" {
                found.extend(feature_phrase(&piece, kind).map(|p| (p, removed)));
                piece.clear();
                if words.ends_clause(i) {
                    break;
                }
                continue;
            }
            if PHRASE_STOPS.contains(&word) {
                break;
            }
            piece.push(word);
            if words.ends_clause(i) {
                break;
            }
        }
        found.extend(feature_phrase(&piece, kind).map(|p| (p, removed)));
    }
    found
}

fn feature_phrase(piece: &[&str], kind: Option<AppKind>) -> Option<String> {
    let start = piece.iter().take_while(|w| DETERMINERS.contains(w)).count();
    let piece = &piece[start..];
    if piece.is_empty() || piece.len() > 4 || piece.iter().any(|w| NOT_FEATURES.contains(w)) {
        return None;
    }
    if !piece.iter().all(|w| w.chars().all(|c| c.is_alphabetic() || c == '\'')) {
        return None;
    }
    let phrase = piece.join(" ");
    let words = Words::new(&phrase);
    let known = FEATURES.iter().any(|(_, phrases)| words.contains_any(phrases));
    let themed = Theme::ALL.into_iter().any(|t| words.contains_any(t.aliases()));
    let own_kind = kind.is_some_and(|k| kind_in(&words, false) == Some(k));
    (!known && !themed && !own_kind).then_some(phrase)
}

/// A name in double quotes, if the message has one of a sensible length.
fn quoted_name(message: &str) -> Option<String> {
    let open = message.find(['"', '\u{201c}'])?;
    let rest = &message[open + 1..];
    let close = rest.find(['"', '\u{201d}'])?;
    let name = rest[..close].trim();
    (!name.is_empty() && name.chars().count() <= 60).then(|| name.to_owned())
}

/// The words after "called", "named" and the like, as written ("Crumb & Co").
fn name_after_cue(message: &str, words: &Words) -> Option<String> {
    let cue = words.find_all_of(NAME_CUES).into_iter().max_by_key(|hit| (hit.start, hit.len))?;
    if words.ends_clause(cue.end() - 1) {
        return None;
    }
    let mut last = None;
    for i in cue.end()..words.len().min(cue.end() + 5) {
        if PHRASE_STOPS.contains(&words.get(i).unwrap_or_default()) {
            break;
        }
        last = Some(i);
        if words.ends_clause(i) {
            break;
        }
    }
    let span = words.span(cue.end(), last?)?;
    message.get(span).map(str::to_owned)
}

/// What the app is for or about, in at most two words ("bakery", "cooking").
fn subject(words: &Words) -> Option<String> {
    let hit = words.find_first_of(SUBJECT_CUES)?;
    let mut subject: Vec<&str> = Vec::new();
    for i in hit.end()..words.len().min(hit.end() + 2) {
        let word = words.get(i).unwrap_or_default();
        let kind_word = kind_in(&Words::new(word), false).is_some();
        let feature_word = !features_in(&Words::new(word)).is_empty();
        if PHRASE_STOPS.contains(&word)
            || DETERMINERS.contains(&word)
            || NOT_SUBJECTS.contains(&word)
            || kind_word
            || feature_word
            || !word.chars().all(char::is_alphabetic)
        {
            break;
        }
        subject.push(word);
        if words.ends_clause(i) {
            break;
        }
    }
    (!subject.is_empty()).then(|| subject.join(" "))
}

/// A look other than the themes: a brand ("like Google", "stripe-style") or a style ("a retro look").
fn look_in(words: &Words) -> Option<String> {
    let after = |hit: Hit, strict: bool| {
        let mut i = hit.end();
        while matches!(words.get(i), Some("a" | "an" | "the")) {
            i += 1;
        }
        brand_or_style(words, i, !strict)
    };
    let led = words.find_all_of(LOOK_LEADS).into_iter().find_map(|lead| after(lead, false));
    let liked = || words.find_all("like").into_iter().find_map(|like| after(like, true));
    let suffixed = || {
        words.find_all_of(LOOK_SUFFIXES).into_iter().find_map(|suffix| {
            let i = suffix.start.checked_sub(1)?;
            let qualifies_a_feature =
                words.get(suffix.end()).is_some_and(|next| !features_in(&Words::new(next)).is_empty());
            if words.ends_clause(i) || qualifies_a_feature {
                return None;
            }
            brand_or_style(words, i, false)
        })
    };
    led.or_else(liked).or_else(suffixed)
}

/// The look named by the word at `index`: any brand-like word after "look like", else a known
/// brand, a capitalised name inside a sentence, or a style followed by a look word.
fn brand_or_style(words: &Words, index: usize, after_lead: bool) -> Option<String> {
    let word = words.get(index)?;
    let raw = words.raw(index)?.trim_end_matches("'s");
    let word = word.trim_end_matches("'s");
    if STYLES.contains(&word) {
        let styled = words.get(index + 1).is_some_and(|next| LOOK_WORDS.contains(&next));
        return (styled || !after_lead).then(|| format!("a {word} look"));
    }
    let capitalised =
        raw.chars().next().is_some_and(char::is_uppercase) && words.clause_start(index) != index;
    let ordinary = PHRASE_STOPS.contains(&word)
        || DETERMINERS.contains(&word)
        || NOT_FEATURES.contains(&word)
        || ["i", "i'd", "we", "something", "what", "this", "would", "really", "just", "more"].contains(&word)
        || !word.chars().all(char::is_alphanumeric);
    if ordinary {
        return None;
    }
    (after_lead || BRANDS.contains(&word) || capitalised).then(|| format!("a {}-like look", title_case(raw)))
}

/// The kinds' plain names, for titles.
pub(super) fn kind_title(kind: AppKind) -> &'static str {
    kind.title()
}

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(messages: &[&str]) -> Understanding {
        understand(messages, &Brief::default())
    }

    #[test]
    fn kinds_are_read_from_their_names_and_synonyms() {
        let cases = [
            ("a todo app", AppKind::Todo),
            ("a to-do list for groceries", AppKind::Todo),
            ("a checklist", AppKind::Todo),
            ("a place to keep my notes", AppKind::Notes),
            ("a notebook", AppKind::Notes),
            ("a trello-like board", AppKind::Kanban),
            ("a board with columns", AppKind::Kanban),
            ("a homepage for my startup", AppKind::Landing),
            ("a product page", AppKind::Landing),
            ("a landing page for my todo app", AppKind::Landing),
            ("a todo app landing page", AppKind::Landing),
            ("my personal site", AppKind::Portfolio),
            ("an online resume", AppKind::Portfolio),
            ("my CV", AppKind::Portfolio),
            ("somewhere to publish my articles", AppKind::Blog),
            ("a blog about cooking", AppKind::Blog),
            ("metrics and charts for my shop", AppKind::Dashboard),
            ("an analytics page", AppKind::Dashboard),
            ("not a blog, a portfolio", AppKind::Portfolio),
        ];
        for (message, kind) in cases {
            assert_eq!(read(&[message]).brief.kind, Some(kind), "{message}");
        }
        for vague in ["build me an app", "hi", "something cool", "make it pop", "things to do in Paris"] {
            assert_eq!(read(&[vague]).brief.kind, None, "{vague}");
        }
    }

    #[test]
    fn asking_for_react_picks_the_react_kind_on_the_node_stack() {
        for message in [
            "Build me a React app to track my habits",
            "a react todo list with vite",
            "react + typescript counter",
            "a landing page in React",
            "a ReactJS app for my reading list",
        ] {
            let u = read(&[message]);
            assert_eq!(u.brief.kind, Some(AppKind::React), "{message}");
            assert_eq!(u.brief.stack, Some(Stack::Node), "{message}");
            assert!(u.brief.features.is_empty(), "{message}: {:?}", u.brief.features);
        }
        assert_eq!(read(&["Build me a React app to track my habits"]).brief.title.as_deref(), Some("Habits"));
        assert_eq!(read(&["a react todo list with vite"]).brief.title.as_deref(), Some("Tasks"));
        assert_eq!(read(&["react + typescript counter"]).brief.title.as_deref(), Some("React App"));
        assert_eq!(read(&["a react app called Shelf"]).brief.title.as_deref(), Some("Shelf"));
        for other in [
            "a todo app",
            "an app to track my habits",
            "not react, a plain blog",
            "reactive charts dashboard",
        ] {
            let u = read(&[other]);
            assert_ne!(u.brief.kind, Some(AppKind::React), "{other}");
            assert_eq!(u.brief.stack, Some(Stack::Static), "{other}");
        }
    }

    #[test]
    fn fields_a_react_list_cannot_keep_become_features_it_will_not_build() {
        let u = read(&["can you make a react app where I log my workouts with how many minutes I trained?"]);
        assert!(u.brief.features.contains(&"minutes for each workout".to_owned()), "{:?}", u.brief.features);
        let u = read(&["a react app for my reading list", "each book needs a rating and the author"]);
        for wanted in ["rating for each book", "author for each book"] {
            assert!(u.brief.features.contains(&wanted.to_owned()), "{wanted}: {:?}", u.brief.features);
        }
        let not_built = crate::architect::not_built(&u.brief);
        assert!(
            not_built.iter().any(|(f, why)| f == "rating for each book" && why.contains("one line of text")),
            "{not_built:?}"
        );
        // A plain list asks for no field, so nothing is added; and a static collection keeps them.
        assert!(read(&["Build me a React app to track my reading list"])
            .brief
            .features
            .iter()
            .all(|f| !f.contains(" for each ")));
        let collection = read(&["a workout log with how many minutes I trained"]);
        assert_eq!(collection.brief.kind, Some(AppKind::Collection));
        assert!(collection.brief.features.iter().all(|f| !f.contains(" for each ")));
        let spec = collection.brief.collection.expect("a collection spec");
        assert!(spec.fields.iter().any(|f| f.id == "minutes"), "{:?}", spec.fields);
    }

    #[test]
    fn a_later_message_switches_to_react_and_back() {
        let u = read(&["a todo app", "actually, make it a react app"]);
        assert_eq!((u.brief.kind, u.brief.stack), (Some(AppKind::React), Some(Stack::Node)));
        let u = read(&["a react app for my habits", "actually, make it a blog instead"]);
        assert_eq!((u.brief.kind, u.brief.stack), (Some(AppKind::Blog), Some(Stack::Static)));
    }

    #[test]
    fn a_later_message_switches_the_kind_only_when_it_means_to() {
        assert_eq!(read(&["a todo app", "actually, make it a blog"]).brief.kind, Some(AppKind::Blog));
        assert_eq!(read(&["a todo app", "a kanban board instead"]).brief.kind, Some(AppKind::Kanban));
        assert_eq!(read(&["a todo app", "notes"]).brief.kind, Some(AppKind::Notes));
        assert_eq!(read(&["a blog", "add charts"]).brief.kind, Some(AppKind::Blog));
        assert_eq!(read(&["a blog", "show my posts with tags"]).brief.kind, Some(AppKind::Blog));
    }

    #[test]
    fn features_are_added_named_and_taken_out() {
        let u = read(&["a todo app with categories, due dates and a Google-like search"]);
        assert_eq!(u.brief.features, ["categories", "due dates", "search"]);
        assert_eq!(u.look, None);
        let u = read(&["a todo app with tags and dark mode", "no dark mode", "add drag and drop"]);
        assert_eq!(u.brief.features, ["tags", "drag and drop"]);
        let u = read(&["a blog about cooking with a recipe index and comments", "drop the recipe index"]);
        assert_eq!(u.brief.features, ["comments"]);
        let u = read(&["a portfolio with a Spotify look and lots of stuff"]);
        assert!(u.brief.features.is_empty(), "{:?}", u.brief.features);
    }

    #[test]
    fn looks_are_themes_brands_or_styles() {
        let u = read(&["a blog like Slack", "make it look like Spotify"]);
        assert_eq!((u.brief.theme, u.look), (Some(Theme::Spotify), None));
        let u = read(&["a blog like Slack", "make it look like Google"]);
        assert_eq!((u.brief.theme, u.look.as_deref()), (None, Some("a Google-like look")));
        assert_eq!(read(&["a stripe-style landing page"]).look.as_deref(), Some("a Stripe-like look"));
        assert_eq!(read(&["a blog with a retro look"]).look.as_deref(), Some("a retro look"));
        assert_eq!(read(&["I would like a blog"]).look, None);
        assert_eq!(read(&["a blog like Slack", "no theme please"]).brief.theme, None);
    }

    #[test]
    fn titles_are_named_or_made_from_subject_and_kind() {
        assert_eq!(read(&["a todo app called Taskly with tags"]).brief.title.as_deref(), Some("Taskly"));
        let crumb = read(&["a landing page for my bakery called Crumb & Co, with pricing"]);
        assert_eq!(crumb.brief.title.as_deref(), Some("Crumb & Co"));
        assert_eq!(read(&["a blog named \"Salt & Thyme\""]).brief.title.as_deref(), Some("Salt & Thyme"));
        assert_eq!(read(&["a blog about cooking"]).brief.title.as_deref(), Some("Cooking Blog"));
        assert_eq!(
            read(&["a landing page for my bakery"]).brief.title.as_deref(),
            Some("Bakery Landing Page")
        );
        assert_eq!(read(&["a todo app for my own use"]).brief.title.as_deref(), Some("To-Do List"));
        assert_eq!(read(&["hello"]).brief.title, None);
        let quoted = read(&["a blog about cooking", "make the header say \"Welcome home\""]);
        assert_eq!(quoted.brief.title.as_deref(), Some("Cooking Blog"));
        let renamed = read(&["a todo app called Taskly", "rename it to Doable"]);
        assert_eq!(renamed.brief.title.as_deref(), Some("Doable"));
    }

    #[test]
    fn the_brief_keeps_every_message_and_the_design_image() {
        let base = Brief { design_image: Some("images/a.png".into()), ..Brief::default() };
        let u = understand(&["a blog", "add tags"], &base);
        assert_eq!(u.brief.notes, ["a blog", "add tags"]);
        assert_eq!(u.brief.design_image.as_deref(), Some("images/a.png"));
        assert_eq!(u.brief.stack, Some(Stack::Static));
    }
}
