//! The features a brief can ask for, as the architect knows them: how people name them, which kinds
//! of app really get them, and the element ids and code that prove a draft has them. The audit
//! checks the same hooks, so a feature is only ever claimed where it is built.

use gantry_domain::consultation::AppKind;
use gantry_domain::words::Words;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Feature {
    Categories,
    Tags,
    DarkMode,
    DueDates,
    Priorities,
    Search,
    Filters,
    Sorting,
    Export,
    Import,
    DragAndDrop,
    Charts,
    Markdown,
    Comments,
    ContactForm,
    Newsletter,
    Pricing,
    Testimonials,
    Faq,
    Favourites,
    ProgressBar,
    Statistics,
    MobileFriendly,
    ReadingTime,
    Animations,
    Streaks,
}

/// One piece of code a draft must contain, as a Python regex over one of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Behaviour {
    pub pattern: &'static str,
    pub why: &'static str,
}

impl Feature {
    pub const ALL: [Feature; 26] = [
        Feature::Categories,
        Feature::Tags,
        Feature::DarkMode,
        Feature::DueDates,
        Feature::Priorities,
        Feature::Search,
        Feature::Filters,
        Feature::Sorting,
        Feature::Export,
        Feature::Import,
        Feature::DragAndDrop,
        Feature::Charts,
        Feature::Markdown,
        Feature::Comments,
        Feature::ContactForm,
        Feature::Newsletter,
        Feature::Pricing,
        Feature::Testimonials,
        Feature::Faq,
        Feature::Favourites,
        Feature::ProgressBar,
        Feature::Statistics,
        Feature::MobileFriendly,
        Feature::ReadingTime,
        Feature::Animations,
        Feature::Streaks,
    ];

    /// The stable name used in template flags, the audit spec and audit messages.
    pub fn key(self) -> &'static str {
        match self {
            Feature::Categories => "categories",
            Feature::Tags => "tags",
            Feature::DarkMode => "dark-mode",
            Feature::DueDates => "due-dates",
            Feature::Priorities => "priorities",
            Feature::Search => "search",
            Feature::Filters => "filters",
            Feature::Sorting => "sorting",
            Feature::Export => "export",
            Feature::Import => "import",
            Feature::DragAndDrop => "drag-and-drop",
            Feature::Charts => "charts",
            Feature::Markdown => "markdown",
            Feature::Comments => "comments",
            Feature::ContactForm => "contact-form",
            Feature::Newsletter => "newsletter-signup",
            Feature::Pricing => "pricing",
            Feature::Testimonials => "testimonials",
            Feature::Faq => "faq",
            Feature::Favourites => "favourites",
            Feature::ProgressBar => "progress-bar",
            Feature::Statistics => "statistics",
            Feature::MobileFriendly => "mobile-friendly",
            Feature::ReadingTime => "reading-time",
            Feature::Animations => "animations",
            Feature::Streaks => "streaks",
        }
    }

    pub fn from_key(key: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.key() == key)
    }

    /// What the feature does in the app, for the README.
    pub fn describe(self, kind: AppKind) -> &'static str {
        match (self, kind) {
            (Feature::Categories, _) => "categories: pick one per task and filter the list by category",
            (Feature::Tags, AppKind::Notes) => "tags: comma-separated tags per note, and a tag filter",
            (Feature::Tags, _) => "tags: tag chips on every item, and a tag filter",
            (Feature::DarkMode, _) => "dark mode: a toggle in the header, remembered by the browser",
            (Feature::DueDates, _) => "due dates: a date per item, with overdue ones highlighted",
            (Feature::Priorities, _) => "priorities: high, normal or low, shown as a badge",
            (Feature::Search, _) => "search: filters the list as you type",
            (Feature::Filters, AppKind::Dashboard) => {
                "filters: a 7, 14 or 30 day range for the charts and table"
            }
            (Feature::Filters, _) => "filters: all, active and done",
            (Feature::Sorting, AppKind::Dashboard) => "sorting: click a column heading to sort the table",
            (Feature::Sorting, _) => "sorting: choose the order of the list",
            (Feature::Export, AppKind::Dashboard) => "export: download the activity table as CSV",
            (Feature::Export, _) => "export: download everything as a JSON file",
            (Feature::Import, _) => "import: load a previously exported JSON file",
            (Feature::DragAndDrop, _) => {
                "drag and drop: drag cards between columns (the arrow buttons still work)"
            }
            (Feature::Charts, _) => "charts: an SVG line chart and bar chart drawn from data.json",
            (Feature::Markdown, _) => "markdown: a preview for headings, lists, **bold** and _italic_",
            (Feature::Comments, _) => "comments: a comment form under each post, kept in this browser",
            (Feature::ContactForm, _) => {
                "contact form: validated, and kept in this browser until a form service is connected"
            }
            (Feature::Newsletter, _) => {
                "sign-up form: validated, and kept in this browser until a mailing service is connected"
            }
            (Feature::Pricing, _) => "pricing: three plans with a monthly / yearly switch",
            (Feature::Testimonials, _) => "testimonials: three quotes from happy users",
            (Feature::Faq, _) => "FAQ: questions that open one at a time",
            (Feature::Favourites, _) => "favourites: pin a note to keep it at the top",
            (Feature::ProgressBar, _) => "progress bar: how much of the list is done",
            (Feature::Statistics, AppKind::Notes) => {
                "statistics: word and character counts for the open note"
            }
            (Feature::Statistics, AppKind::Kanban) => "statistics: a card count on every column",
            (Feature::Statistics, AppKind::Dashboard) => "statistics: key figure cards with their change",
            (Feature::Statistics, AppKind::Collection) => "statistics: the total of every number field",
            (Feature::Statistics, _) => "statistics: done and added-today counts",
            (Feature::MobileFriendly, _) => "mobile friendly: the layout adapts from phones to wide screens",
            (Feature::ReadingTime, _) => "reading time: an estimate on every post",
            (Feature::Streaks, _) => {
                "streaks: a \"done today\" button on every entry and its run of consecutive days"
            }
            (Feature::Animations, _) => {
                "animations: gentle entrance and press effects, off when reduced motion is preferred"
            }
        }
    }

    /// Words that name the feature: whole words, or stems ending in `*` that a word starts with
    /// ("categorised", "visualisations"). Whole words keep "important" from meaning import.
    fn stems(self) -> &'static [&'static str] {
        match self {
            Feature::Categories => &["categor*", "folder", "folders"],
            Feature::Tags => &["tag", "tags", "tagged", "tagging", "label", "labels", "labelled"],
            Feature::DarkMode => &["dark", "night", "darkmode"],
            Feature::DueDates => &["due", "deadline", "deadlines"],
            Feature::Priorities => &["priorit*"],
            Feature::Search => &["search*"],
            Feature::Filters => &["filter*"],
            Feature::Sorting => &["sort", "sorting", "sortable", "sorted"],
            Feature::Export => &["export", "exports", "exporting", "csv", "download", "downloads"],
            Feature::Import => &["import", "imports", "importing"],
            Feature::DragAndDrop => &["drag", "dragging", "draggable"],
            Feature::Charts => &["chart", "charts", "graph", "graphs", "plot", "plots", "visuali*"],
            Feature::Markdown => &["markdown"],
            Feature::Comments => &["comment", "comments", "commenting"],
            Feature::ContactForm => &["contact"],
            Feature::Newsletter => &["newsletter*", "waitlist", "signup", "signups", "mailing", "subscribe"],
            Feature::Pricing => &["pricing", "price", "prices", "plans"],
            Feature::Testimonials => &["testimonial*", "reviews"],
            Feature::Faq => &["faq", "faqs", "questions"],
            Feature::Favourites => &["favourite*", "favorite*", "pin", "pinned", "pinning", "starred"],
            Feature::ProgressBar => &["progress"],
            Feature::Statistics => &["stats", "statistic*", "counter", "counters", "counts"],
            Feature::MobileFriendly => &["mobile", "responsive", "phone", "phones"],
            Feature::ReadingTime => &["reading"],
            Feature::Animations => &["animat*"],
            Feature::Streaks => &["streak", "streaks"],
        }
    }

    /// The feature a requested phrase names, if the architect knows it.
    pub fn recognise(text: &str) -> Option<Feature> {
        let lower = text.to_lowercase();
        let words: Vec<&str> =
            lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let names = |stem: &str| match stem.strip_suffix('*') {
            Some(prefix) => words.iter().any(|word| word.starts_with(prefix)),
            None => words.contains(&stem),
        };
        Feature::ALL.into_iter().find(|feature| feature.stems().iter().any(|stem| names(stem)))
    }
}

/// What no static app can do, by the name the consultant records it under (or words in a
/// request), with why: these are named as not built before consent and reported so after.
const LIMITS: &[(&[&str], &str)] = &[
    (
        &[
            "sharing with other people",
            "friends",
            "other people",
            "other users",
            "collaborate",
            "collaboration",
            "multiplayer",
        ],
        "needs a server and other people's accounts; this app keeps everything in one browser",
    ),
    (&["sync", "syncing", "between devices", "across devices"], "needs a server to sync through; the data stays on one device"),
    (&["accounts and sign-in", "login", "log in", "sign in", "user accounts"], "needs a server to hold accounts"),
    (
        &["live weather data", "weather", "forecast", "live data", "real time", "realtime", "stock prices", "api"],
        "needs live data from an online service, which a static app does not call; it shows sample data instead",
    ),
    (&["payments", "payment", "checkout", "credit card"], "needs a payment provider and a server"),
    (
        &["reminders", "reminder", "notifications", "push notifications", "alerts"],
        "needs a server or push service to send them",
    ),
];

/// Why a request is not built: a limit of every static app, else a gap in the templates.
pub(crate) fn cannot_build(request: &str, kind: AppKind) -> &'static str {
    limit(request).unwrap_or(match kind {
        AppKind::Collection => "is beyond what the offline collection template builds",
        // A field the person asked for ("rating for each book", named by the consultant).
        AppKind::React if request.contains(" for each ") => {
            "is beyond what the offline React template builds: its list keeps one line of text per item \
             (without React, the offline brain builds a collection with fields of their own)"
        }
        AppKind::React => "is beyond what the offline React template builds",
        _ => "is beyond what the offline templates for this kind of app build",
    })
}

/// The limit a request runs into, if it is one no static app can meet.
pub(crate) fn limit(request: &str) -> Option<&'static str> {
    let words = Words::new(request);
    LIMITS.iter().find(|(phrases, _)| words.contains_any(phrases)).map(|(_, why)| *why)
}

/// What the feature becomes in an app of `kind`: a tag filter is how a blog, portfolio or notes
/// app offers "categories" and "filters".
pub(crate) fn resolve(kind: AppKind, feature: Feature) -> Feature {
    match (kind, feature) {
        (AppKind::Notes | AppKind::Blog | AppKind::Portfolio | AppKind::Collection, Feature::Categories) => {
            Feature::Tags
        }
        (AppKind::Collection, Feature::Filters) => Feature::Tags,
        (AppKind::Blog | AppKind::Portfolio, Feature::Filters) => Feature::Tags,
        _ => feature,
    }
}

/// What every app of `kind` has, asked for or not.
pub(crate) fn essentials(kind: AppKind) -> &'static [Feature] {
    match kind {
        AppKind::Todo => &[Feature::Filters, Feature::MobileFriendly],
        AppKind::Kanban => &[Feature::Statistics, Feature::MobileFriendly],
        AppKind::Landing => &[Feature::Newsletter, Feature::MobileFriendly],
        AppKind::Dashboard => &[Feature::Charts, Feature::Statistics, Feature::MobileFriendly],
        AppKind::Notes | AppKind::Portfolio | AppKind::Blog => &[Feature::MobileFriendly],
        AppKind::Collection => &[Feature::Search, Feature::MobileFriendly],
        // Its essentials are its own (add, tick off, remove, count, saved), checked by its tests.
        AppKind::React => &[],
    }
}

/// The optional features the templates of `kind` really implement.
pub(crate) fn optional(kind: AppKind) -> &'static [Feature] {
    use Feature as F;
    match kind {
        AppKind::Todo => &[
            F::Categories,
            F::DueDates,
            F::Priorities,
            F::Search,
            F::Sorting,
            F::Export,
            F::Import,
            F::ProgressBar,
            F::Statistics,
            F::DarkMode,
            F::Animations,
        ],
        AppKind::Notes => &[
            F::Tags,
            F::Search,
            F::Sorting,
            F::Favourites,
            F::Markdown,
            F::Export,
            F::Import,
            F::Statistics,
            F::DarkMode,
            F::Animations,
        ],
        AppKind::Kanban => &[
            F::DragAndDrop,
            F::Search,
            F::DueDates,
            F::Priorities,
            F::Export,
            F::Import,
            F::DarkMode,
            F::Animations,
        ],
        AppKind::Landing => {
            &[F::Pricing, F::Testimonials, F::Faq, F::ContactForm, F::DarkMode, F::Animations]
        }
        AppKind::Portfolio => &[F::Tags, F::Search, F::ContactForm, F::DarkMode, F::Animations],
        AppKind::Blog => &[F::Tags, F::Search, F::ReadingTime, F::Comments, F::DarkMode, F::Animations],
        AppKind::Dashboard => &[F::Filters, F::Search, F::Sorting, F::Export, F::DarkMode, F::Animations],
        AppKind::Collection => &[
            F::Tags,
            F::Sorting,
            F::Statistics,
            F::Streaks,
            F::Export,
            F::Import,
            F::DarkMode,
            F::Animations,
        ],
        AppKind::React => &[],
    }
}

/// The element ids that show `feature` is really in an app of `kind`.
pub(crate) fn hooks(kind: AppKind, feature: Feature) -> &'static [&'static str] {
    use Feature as F;
    match (kind, feature) {
        (_, F::DarkMode) => &["scheme-toggle"],
        (AppKind::Collection, F::Search) => &["search"],
        (AppKind::Collection, F::Tags) => &["tag-filter"],
        (AppKind::Collection, F::Sorting) => &["sort-select"],
        (AppKind::Collection, F::Statistics) => &["item-stats"],
        (_, F::Search) => &["search-input"],
        (_, F::Export) => &["export-button"],
        (_, F::Import) => &["import-input"],
        (_, F::ContactForm) => &["contact-form", "contact-status"],
        (AppKind::Todo, F::Categories) => &["category-select", "category-filter"],
        (AppKind::Todo | AppKind::Kanban, F::DueDates) => &["due-input"],
        (AppKind::Todo | AppKind::Kanban, F::Priorities) => &["priority-select"],
        (AppKind::Todo | AppKind::Notes, F::Sorting) => &["sort-select"],
        (AppKind::Todo, F::ProgressBar) => &["progress-fill"],
        (AppKind::Todo, F::Statistics) => &["task-stats"],
        (AppKind::Notes, F::Tags) => &["tag-filter", "note-tags"],
        (AppKind::Notes, F::Favourites) => &["pin-note"],
        (AppKind::Notes, F::Markdown) => &["preview-toggle", "note-preview"],
        (AppKind::Notes, F::Statistics) => &["note-status"],
        (AppKind::Kanban, F::Statistics) => &["count-todo", "count-doing", "count-done"],
        (AppKind::Landing, F::Newsletter) => &["signup-form", "signup-email", "signup-status"],
        (AppKind::Landing, F::Pricing) => &["pricing", "billing-toggle"],
        (AppKind::Landing, F::Testimonials) => &["testimonials"],
        (AppKind::Landing, F::Faq) => &["faq"],
        (AppKind::Portfolio, F::Tags) => &["tag-filter"],
        (AppKind::Blog, F::Tags) => &["tag-filter", "post-tags"],
        (AppKind::Blog, F::Comments) => &["comment-form", "comment-list"],
        (AppKind::Dashboard, F::Filters) => &["range-select"],
        (AppKind::Dashboard, F::Charts) => &["line-chart", "bar-chart"],
        (AppKind::Dashboard, F::Statistics) => &["kpi-grid"],
        _ => &[],
    }
}

/// Code in app.js that shows `feature` is wired up, beyond the ids it needs.
pub(crate) fn behaviours(kind: AppKind, feature: Feature) -> &'static [Behaviour] {
    match (kind, feature) {
        (_, Feature::Export) => &[Behaviour { pattern: r"\bdownload\(", why: "data can be downloaded" }],
        (_, Feature::Import) => &[Behaviour { pattern: r"\bFileReader\b", why: "a file can be imported" }],
        (_, Feature::DarkMode) => {
            &[Behaviour { pattern: r"alt-scheme", why: "the colour scheme can be switched" }]
        }
        (AppKind::Kanban, Feature::DragAndDrop) => &[
            Behaviour { pattern: r#""dragstart""#, why: "cards can be picked up by dragging" },
            Behaviour { pattern: r#""drop""#, why: "columns accept dropped cards" },
        ],
        (AppKind::Blog, Feature::ReadingTime) => {
            &[Behaviour { pattern: r"\breadingTime\(", why: "posts show a reading time" }]
        }
        (AppKind::Dashboard, Feature::Sorting) => {
            &[Behaviour { pattern: r"\[data-sort\]", why: "table columns sort on click" }]
        }
        (AppKind::Dashboard, Feature::Charts) => {
            &[Behaviour { pattern: r"createElementNS", why: "charts are drawn as SVG" }]
        }
        (AppKind::Collection, Feature::Search) => &[Behaviour {
            pattern: r#"byId\("search"\)\.addEventListener\("input""#,
            why: "the list is searched as you type",
        }],
        (AppKind::Collection, Feature::Streaks) => &[
            Behaviour { pattern: r"function streakOf\(", why: "each entry counts its run of days" },
            Behaviour { pattern: r"\.checkins\b", why: "check-ins are kept per entry" },
        ],
        (AppKind::Collection, Feature::Tags) => {
            &[Behaviour { pattern: r"function tagsOf\(", why: "entries carry tags to filter by" }]
        }
        _ => &[],
    }
}

/// The ids every app of `kind` needs for its essentials, with what each is for.
pub(crate) fn required_ids(kind: AppKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        AppKind::Todo => &[
            ("task-form", "the form that adds tasks"),
            ("task-input", "the new task's text"),
            ("task-list", "the list of tasks"),
            ("task-count", "the count of tasks left"),
            ("clear-done", "clearing completed tasks"),
        ],
        AppKind::Notes => &[
            ("new-note", "creating a note"),
            ("note-list", "the list of notes"),
            ("note-title", "the open note's title"),
            ("note-body", "the open note's text"),
            ("delete-note", "deleting a note"),
        ],
        AppKind::Kanban => &[
            ("card-form", "the form that adds cards"),
            ("list-todo", "the To do column"),
            ("list-doing", "the Doing column"),
            ("list-done", "the Done column"),
        ],
        AppKind::Landing => &[
            ("hero-title", "the hero"),
            ("features", "the feature highlights"),
            ("signup", "the sign-up section"),
        ],
        AppKind::Portfolio => &[
            ("about-text", "the about section"),
            ("project-grid", "the project showcase"),
            ("contact-links", "the contact links"),
        ],
        AppKind::Blog => &[
            ("post-list", "the list of posts"),
            ("post-view", "the page of one post"),
            ("post-body", "a post's text"),
            ("about-view", "the about page"),
        ],
        AppKind::Dashboard => {
            &[("kpi-grid", "the key figures"), ("activity-body", "the recent activity table")]
        }
        AppKind::Collection => &[
            ("add-form", "the form that adds and edits entries"),
            ("items", "the list of entries"),
            ("item-count", "the count of entries"),
            ("empty-state", "what an empty list says"),
            ("cancel-edit", "leaving an edit"),
        ],
        // Its page is rendered by React; its own tests check it, not audit.py.
        AppKind::React => &[],
    }
}

/// Code in app.js every app of `kind` needs.
pub(crate) fn kind_behaviours(kind: AppKind) -> &'static [Behaviour] {
    const TEXT: Behaviour =
        Behaviour { pattern: r"\.textContent\b", why: "text is inserted with textContent" };
    const STORED: Behaviour =
        Behaviour { pattern: r"localStorage", why: "the data persists in localStorage" };
    const FETCHED: Behaviour =
        Behaviour { pattern: r#"fetch\("data\.json""#, why: "the content is loaded from data.json" };
    match kind {
        AppKind::Todo => &[
            TEXT,
            STORED,
            Behaviour { pattern: r#"addEventListener\("submit""#, why: "new tasks are added from the form" },
            Behaviour { pattern: r#"addEventListener\("change""#, why: "tasks can be marked done" },
        ],
        AppKind::Notes => &[
            TEXT,
            STORED,
            Behaviour {
                pattern: r#"addEventListener\("input", onEdit\)"#,
                why: "notes are saved as they are typed",
            },
        ],
        AppKind::Kanban => {
            &[TEXT, STORED, Behaviour { pattern: r"function moveCard\(", why: "cards move between columns" }]
        }
        AppKind::Landing => &[
            TEXT,
            Behaviour { pattern: r#"addEventListener\("submit""#, why: "the sign-up form is handled" },
        ],
        AppKind::Portfolio => &[TEXT, FETCHED],
        AppKind::Blog => {
            &[TEXT, FETCHED, Behaviour { pattern: r#""hashchange""#, why: "each post opens in its own view" }]
        }
        AppKind::Dashboard => &[TEXT, FETCHED],
        AppKind::Collection => &[
            TEXT,
            STORED,
            Behaviour { pattern: r#"addEventListener\("submit""#, why: "entries are added from the form" },
            Behaviour { pattern: r"function startEdit\(", why: "entries can be edited" },
            Behaviour {
                pattern: r"records\.filter\(\(other\) => other\.id !== record\.id\)",
                why: "entries can be deleted",
            },
        ],
        AppKind::React => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_recognised_from_the_ways_people_name_them() {
        let cases = [
            ("categories", Feature::Categories),
            ("categorised lists", Feature::Categories),
            ("dark mode", Feature::DarkMode),
            ("night theme", Feature::DarkMode),
            ("due dates", Feature::DueDates),
            ("drag and drop", Feature::DragAndDrop),
            ("export", Feature::Export),
            ("CSV download", Feature::Export),
            ("newsletter signup", Feature::Newsletter),
            ("a pricing table", Feature::Pricing),
            ("pin notes", Feature::Favourites),
            ("visualisations", Feature::Charts),
        ];
        for (text, feature) in cases {
            assert_eq!(Feature::recognise(text), Some(feature), "{text}");
        }
    }

    #[test]
    fn short_stems_match_whole_words_only() {
        assert_eq!(Feature::recognise("shopping"), None);
        assert_eq!(Feature::recognise("a sortie"), None);
        assert_eq!(Feature::recognise("duet"), None);
        assert_eq!(Feature::recognise("recipe index"), None);
        assert_eq!(Feature::recognise("important tasks first"), None);
        assert_eq!(Feature::recognise("my country"), None);
    }

    #[test]
    fn keys_round_trip_and_every_optional_feature_is_described() {
        for feature in Feature::ALL {
            assert_eq!(Feature::from_key(feature.key()), Some(feature));
        }
        for kind in AppKind::ALL {
            for feature in optional(kind).iter().chain(essentials(kind)) {
                assert!(!feature.describe(kind).is_empty());
            }
        }
        assert_eq!(Feature::from_key("teleport"), None);
    }
}
