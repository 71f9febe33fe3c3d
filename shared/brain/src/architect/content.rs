//! The words and sample data of a draft: taglines, the README, and the data.json of the kinds
//! that load their content. Sample content is fixed, so drafts stay deterministic.

use std::fmt::Write as _;

use gantry_domain::consultation::AppKind;
use serde_json::{json, Value};

use super::blueprint::Blueprint;
use super::features::{self, Feature};
use super::palette::Palette;
use super::AUDIT_COMMAND;

/// The kinds whose content lives in data.json rather than in the browser.
pub(crate) fn uses_data(kind: AppKind) -> bool {
    matches!(kind, AppKind::Blog | AppKind::Dashboard | AppKind::Portfolio)
}

/// The kinds that keep what people type in localStorage.
pub(crate) fn stores_locally(kind: AppKind) -> bool {
    matches!(kind, AppKind::Todo | AppKind::Notes | AppKind::Kanban | AppKind::Collection | AppKind::React)
}

pub(crate) fn default_title(kind: AppKind) -> &'static str {
    kind.title()
}

pub(crate) fn noun(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Todo => "to-do list",
        AppKind::Notes => "notes app",
        AppKind::Kanban => "kanban board",
        AppKind::Landing => "landing page",
        AppKind::Portfolio => "portfolio site",
        AppKind::Blog => "blog",
        AppKind::Dashboard => "dashboard",
        AppKind::Collection => "collection",
        AppKind::React => "React app",
    }
}

pub(crate) fn tagline(kind: AppKind, title: &str) -> String {
    match kind {
        AppKind::Todo => {
            "Plan the day, tick things off and pick up where you left off. Everything stays in this browser."
                .to_owned()
        }
        AppKind::Notes => "Capture ideas the moment they arrive. Notes save as you type.".to_owned(),
        AppKind::Kanban => "See the work at a glance: add cards and move them from To do to Done.".to_owned(),
        AppKind::Landing => {
            format!("{title} helps you get more done with less effort. Simple to start, pleasant to use, and ready when you are.")
        }
        AppKind::Portfolio => {
            "Designer and developer making thoughtful, useful things for the web. Here is some recent work."
                .to_owned()
        }
        AppKind::Blog => "Notes, stories and ideas, written down and shared.".to_owned(),
        AppKind::Dashboard => "The numbers that matter, at a glance.".to_owned(),
        AppKind::Collection => {
            "Add, find and edit what you keep track of. Everything stays in this browser.".to_owned()
        }
        AppKind::React => {
            "Add what you keep track of, tick it off when it is done. Everything stays in this \
                           browser."
                .to_owned()
        }
    }
}

pub(crate) fn footer_note(kind: AppKind) -> &'static str {
    if stores_locally(kind) {
        "Works offline; your data stays in this browser"
    } else {
        "A fast static site that works offline"
    }
}

/// Up to two initials from the title, for the portfolio's avatar.
pub(crate) fn initials(title: &str) -> String {
    let letters: String = title
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .collect();
    if letters.is_empty() {
        "G".to_owned()
    } else {
        letters.to_uppercase()
    }
}

/// What every app of the kind does, for the README.
pub(crate) fn essentials(kind: AppKind) -> &'static [&'static str] {
    match kind {
        AppKind::Todo => &[
            "add, complete and delete tasks",
            "filter by all, active and done, and clear completed tasks",
            "tasks are saved in this browser (localStorage)",
        ],
        AppKind::Notes => &[
            "create, edit and delete notes; every keystroke is saved",
            "a list of notes, most recently edited first",
            "notes are saved in this browser (localStorage)",
        ],
        AppKind::Kanban => &[
            "To do, Doing and Done columns, each with a card count",
            "add cards, move them with the arrow buttons, delete them",
            "the board is saved in this browser (localStorage)",
        ],
        AppKind::Landing => &[
            "a hero with a call to action",
            "three feature highlights",
            "a sign-up form, kept in this browser until a mailing service is connected",
        ],
        AppKind::Portfolio => &[
            "an about section and an avatar made from your initials",
            "a project showcase loaded from data.json",
            "contact links",
        ],
        AppKind::Blog => &[
            "a list of posts loaded from data.json, newest first",
            "a page for each post at #/post/<slug>",
            "an about page at #/about",
        ],
        AppKind::Dashboard => &[
            "key figure cards with their change on the last period",
            "an SVG line chart and bar chart drawn by app.js from data.json",
            "a recent activity table",
        ],
        AppKind::Collection => &[
            "add, edit and delete entries with the form; every field is one input",
            "search across every field as you type",
            "entries are saved in this browser (localStorage)",
        ],
        AppKind::React => &[
            "add an item by typing and pressing Enter, or with the Add button",
            "tick items off, and remove them",
            "a count of the open items",
            "the list is saved in this browser (localStorage)",
        ],
    }
}

pub(crate) fn readme(plan: &Blueprint, palette: &Palette) -> String {
    let kind = plan.kind;
    let mut out = String::new();
    let look = match plan.theme {
        Some(theme) => format!(" in a {}-inspired look", theme.name()),
        None => String::new(),
    };
    let _ = writeln!(out, "# {}\n", plan.title);
    let _ = writeln!(
        out,
        "A {}{look}, drafted by Gantry's offline architect. It is a static site: plain HTML, CSS and \
         JavaScript, with no build step and nothing loaded from the network (no CDN, no web fonts, no \
         remote images), so it works offline and under a strict Content-Security-Policy.\n",
        noun(kind)
    );

    let _ = writeln!(out, "## What it does\n");
    for line in essentials(kind) {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out, "- {}", Feature::MobileFriendly.describe(kind));
    for feature in &plan.features {
        let _ = writeln!(out, "- {}", feature.describe(kind));
    }
    out.push('\n');

    if !plan.unsupported.is_empty() || !plan.set_aside.is_empty() || plan.design_set_aside {
        let _ = writeln!(out, "## Not built (yet)\n");
        for request in &plan.unsupported {
            let _ =
                writeln!(out, "- \"{request}\": not built; it {}.", features::cannot_build(request, kind));
        }
        for feature in &plan.set_aside {
            let _ = writeln!(
                out,
                "- {}: set aside after a failed build so the rest could ship; ask for it again to retry.",
                feature.key()
            );
        }
        if plan.design_set_aside {
            let _ = writeln!(
                out,
                "- The design reference figure: left out after the build could not provide the image."
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Look\n");
    let _ = writeln!(
        out,
        "Colours come from CSS custom properties at the top of styles.css ({}): primary {}, on a {} \
         background. Change them there and the whole app follows.{}\n",
        plan.theme.map_or("a neutral default", |t| t.name()),
        palette.primary_hex(),
        if palette.is_dark() { "dark" } else { "light" },
        if plan.features.contains(&Feature::DarkMode) {
            " The header's toggle switches to the opposite scheme and remembers the choice."
        } else {
            ""
        }
    );
    if let Some(path) = &plan.design {
        let _ = writeln!(
            out,
            "Design reference: the image you attached is shipped as `{path}` and shown at the bottom \
             of the page in a \"Design reference\" figure. The layout follows the {} template; matching \
             the image more closely is left to a designer.\n",
            noun(kind)
        );
    }

    let _ = writeln!(out, "## Run it\n");
    let _ = writeln!(out, "Serve this folder with any static file server, for example:\n");
    let _ = writeln!(out, "    python3 -m http.server 8000\n");
    let _ = writeln!(out, "and open port 8000 on localhost in a browser.");
    if uses_data(kind) {
        let _ = writeln!(
            out,
            "The content is fetched from data.json, so open it over HTTP rather than as a file.\n"
        );
    } else {
        let _ = writeln!(out, "Opening index.html straight from disk works too.\n");
    }

    let _ = writeln!(out, "## Files\n");
    let _ = writeln!(out, "- `index.html`: the page; every element app.js uses is declared here");
    let _ = writeln!(out, "- `styles.css`: the look, driven by the colour custom properties");
    let _ = writeln!(out, "- `app.js`: the behaviour; text is only ever inserted with textContent");
    if uses_data(kind) {
        let _ = writeln!(out, "- `data.json`: the content; edit it to make the {} your own", noun(kind));
    }
    let _ = writeln!(out, "- `audit.py`: the build's self-check");
    out.push('\n');

    let _ = writeln!(out, "## Audit\n");
    let _ = writeln!(
        out,
        "`{AUDIT_COMMAND}` (standard library only) checks that every local asset exists, the HTML parses \
         and has a title, every id app.js looks up is in index.html, app.js has balanced brackets and \
         closed strings, nothing is loaded from the network, nothing inline breaks the CSP, {}and the \
         {} and the features above have their hooks. Each problem prints a `FAIL [check]` line and the \
         exit status is 1.",
        if uses_data(kind) { "data.json has the expected shape, " } else { "" },
        noun(kind)
    );
    if stores_locally(kind) {
        let _ = writeln!(out, "\n## Privacy\n");
        let _ = writeln!(
            out,
            "Everything you type stays in this browser's localStorage; nothing is sent anywhere."
        );
    }
    out
}

/// The sample content of the kinds that load data.json; `None` for the others.
pub(crate) fn data_json(kind: AppKind, title: &str) -> Option<String> {
    let value = match kind {
        AppKind::Blog => blog_data(title),
        AppKind::Dashboard => dashboard_data(),
        AppKind::Portfolio => portfolio_data(title),
        _ => return None,
    };
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    Some(text)
}

fn blog_data(title: &str) -> Value {
    json!({
        "about": format!(
            "{title} is a place for writing things down and sharing them. This page, like every post, \
             lives in data.json: edit it to make the blog your own."
        ),
        "posts": [
            {
                "slug": "welcome",
                "title": format!("Welcome to {title}"),
                "date": "2025-03-14",
                "tags": ["news"],
                "summary": "Why this blog exists, and what you can expect to read here.",
                "body": [
                    "Hello, and welcome. This blog is a home for ideas that deserve more than a passing thought.",
                    "Expect short, practical posts: what worked, what did not, and what is worth trying next.",
                    "New posts appear at the top of the list. Use the tags to follow a topic you care about."
                ]
            },
            {
                "slug": "how-this-blog-works",
                "title": "How this blog works",
                "date": "2025-03-07",
                "tags": ["guide", "writing"],
                "summary": "Posts are plain data: add one to data.json and it appears here.",
                "body": [
                    "Every post is an entry in data.json with a slug, a title, a date, tags, a summary and paragraphs.",
                    "The page reads that file and builds the list and each post page from it, with no server code at all.",
                    "Because the site is static, it is fast, cheap to host and easy to keep safe."
                ]
            },
            {
                "slug": "writing-without-distractions",
                "title": "Writing without distractions",
                "date": "2025-02-27",
                "tags": ["writing", "habits"],
                "summary": "A quiet page and a simple routine go a long way.",
                "body": [
                    "The best writing tool is the one that gets out of the way. A plain page and a clear head beat any feature list.",
                    "Set a small goal, write a rough first draft, and only then start to edit.",
                    "Publishing something good today is better than publishing something perfect never."
                ]
            },
            {
                "slug": "small-steps-every-week",
                "title": "Small steps, every week",
                "date": "2025-02-18",
                "tags": ["habits"],
                "summary": "Consistency compounds: a little progress each week adds up.",
                "body": [
                    "Big projects are finished one small step at a time.",
                    "Pick one thing to improve this week, write it down, and come back to check on it.",
                    "Over a few months the difference is remarkable."
                ]
            }
        ]
    })
}

/// Thirty days of figures with a gentle upward trend and a weekly rhythm.
fn dashboard_data() -> Value {
    const WEEKLY: [i64; 7] = [0, 180, -90, 240, 60, -150, 310];
    let points: Vec<Value> = (0..30_i64)
        .map(|day| {
            let value = 1200 + 35 * day + WEEKLY[(day % 7) as usize];
            json!({ "date": format!("2025-03-{:02}", day + 1), "value": value })
        })
        .collect();
    let activity = [
        ("2025-03-30", "Ava Thompson", "Annual plan", 240.0, "Paid"),
        ("2025-03-29", "Noah Williams", "Starter kit", 49.0, "Paid"),
        ("2025-03-28", "Mia Garcia", "Team seats (5)", 145.0, "Pending"),
        ("2025-03-27", "Liam Chen", "Monthly plan", 24.0, "Paid"),
        ("2025-03-25", "Emma Rossi", "Add-on storage", 12.0, "Refunded"),
        ("2025-03-24", "Oliver Brown", "Annual plan", 240.0, "Paid"),
        ("2025-03-22", "Sofia Novak", "Monthly plan", 24.0, "Paid"),
        ("2025-03-20", "Lucas Martin", "Starter kit", 49.0, "Pending"),
        ("2025-03-18", "Isla Patel", "Team seats (10)", 290.0, "Paid"),
        ("2025-03-15", "Ethan Kim", "Monthly plan", 24.0, "Paid"),
        ("2025-03-11", "Chloe Dubois", "Annual plan", 240.0, "Paid"),
        ("2025-03-06", "Mason Silva", "Add-on storage", 12.0, "Paid"),
    ];
    let activity: Vec<Value> = activity
        .iter()
        .map(|(date, customer, item, amount, status)| {
            json!({ "date": date, "customer": customer, "item": item, "amount": amount, "status": status })
        })
        .collect();
    json!({
        "updated": "2025-03-30",
        "kpis": [
            { "label": "Orders", "value": 1284, "unit": "", "change": 8.2 },
            { "label": "Customers", "value": 342, "unit": "", "change": 3.1 },
            { "label": "Conversion", "value": 3.4, "unit": "%", "change": -0.4 }
        ],
        "series": { "label": "Revenue", "unit": "$", "points": points },
        "breakdown": {
            "label": "Sales by channel",
            "unit": "%",
            "items": [
                { "label": "Online store", "value": 46 },
                { "label": "Marketplace", "value": 27 },
                { "label": "Retail", "value": 18 },
                { "label": "Wholesale", "value": 9 }
            ]
        },
        "activity": activity
    })
}

fn portfolio_data(title: &str) -> Value {
    json!({
        "about": format!(
            "Welcome to {title}. I design and build thoughtful, useful things for the web, from first \
             sketch to shipped product. This text, and the projects below, live in data.json."
        ),
        "projects": [
            { "title": "Harbour", "year": 2025, "tags": ["web", "design"],
              "summary": "A booking site for a small marina: clear prices, a calm palette and a two-step checkout." },
            { "title": "Field Notes", "year": 2024, "tags": ["mobile", "design"],
              "summary": "A note-taking app for researchers that works offline in the field." },
            { "title": "Lumen", "year": 2024, "tags": ["web", "data"],
              "summary": "An energy dashboard that turns meter readings into plain-language advice." },
            { "title": "Paper Trail", "year": 2023, "tags": ["branding"],
              "summary": "Identity and stationery for an independent bookshop." },
            { "title": "Tempo", "year": 2023, "tags": ["mobile", "web"],
              "summary": "A practice planner for music students, with streaks and gentle reminders." },
            { "title": "Atlas", "year": 2022, "tags": ["data", "web"],
              "summary": "Interactive maps that tell the story of a city's parks." }
        ],
        "links": [
            { "label": "Email", "href": "mailto:hello@example.com" },
            { "label": "Projects", "href": "#projects" }
        ]
    })
}
