//! The blueprint: what a draft will be (kind, title, look, features) decided from a brief, and
//! the files that realise it.

use std::collections::BTreeSet;

use gantry_domain::consultation::{AppKind, Brief, CollectionSpec, Field, FieldKind};
use gantry_domain::themes::Theme;
use gantry_domain::words::Words;
use gantry_domain::{GantryManifest, ManifestFile, Stack};

use super::content;
use super::features::{self, Feature};
use super::palette::Palette;
use super::react;
use super::spec;
use super::template::{escape_html, render, Flags};
use super::AUDIT_COMMAND;
use crate::consultant::collection;

/// Longest title used as written; longer ones are cut on a word boundary.
const MAX_TITLE_CHARS: usize = 80;
/// Longest project name the manifest accepts.
const MAX_PROJECT_NAME_CHARS: usize = 64;
/// Where the build puts the design image, without its extension.
const DESIGN_STEM: &str = "public/design-reference";

const PAGE_HTML: &str = include_str!("templates/page.html");
const BASE_CSS: &str = include_str!("templates/base.css");
const COMMON_JS: &str = include_str!("templates/common.js");
const AUDIT_PY: &str = include_str!("templates/audit.py");

struct KindTemplates {
    html: &'static str,
    css: &'static str,
    js: &'static str,
}

/// The static page templates of `kind`; none for the React kind, which has its own project.
fn templates(kind: AppKind) -> Option<KindTemplates> {
    let parts = match kind {
        AppKind::Todo => KindTemplates {
            html: include_str!("templates/todo.html"),
            css: include_str!("templates/todo.css"),
            js: include_str!("templates/todo.js"),
        },
        AppKind::Notes => KindTemplates {
            html: include_str!("templates/notes.html"),
            css: include_str!("templates/notes.css"),
            js: include_str!("templates/notes.js"),
        },
        AppKind::Kanban => KindTemplates {
            html: include_str!("templates/kanban.html"),
            css: include_str!("templates/kanban.css"),
            js: include_str!("templates/kanban.js"),
        },
        AppKind::Landing => KindTemplates {
            html: include_str!("templates/landing.html"),
            css: include_str!("templates/landing.css"),
            js: include_str!("templates/landing.js"),
        },
        AppKind::Portfolio => KindTemplates {
            html: include_str!("templates/portfolio.html"),
            css: include_str!("templates/portfolio.css"),
            js: include_str!("templates/portfolio.js"),
        },
        AppKind::Blog => KindTemplates {
            html: include_str!("templates/blog.html"),
            css: include_str!("templates/blog.css"),
            js: include_str!("templates/blog.js"),
        },
        AppKind::Dashboard => KindTemplates {
            html: include_str!("templates/dashboard.html"),
            css: include_str!("templates/dashboard.css"),
            js: include_str!("templates/dashboard.js"),
        },
        AppKind::Collection => KindTemplates {
            html: include_str!("templates/collection.html"),
            css: include_str!("templates/collection.css"),
            js: include_str!("templates/collection.js"),
        },
        AppKind::React => return None,
    };
    Some(parts)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blueprint {
    pub kind: AppKind,
    pub title: String,
    pub theme: Option<Theme>,
    /// The optional features the draft builds.
    pub features: BTreeSet<Feature>,
    /// Requests the templates cannot build, as the person wrote them; the README lists them.
    pub unsupported: Vec<String>,
    /// Features a heal took out so the rest could ship; the README lists them too.
    pub set_aside: Vec<Feature>,
    /// Where the page shows the design image, when the brief has one.
    pub design: Option<String>,
    /// Whether a heal left the design figure out because the build could not provide the image.
    pub design_set_aside: bool,
    /// What a collection keeps, for the collection kind.
    pub collection: Option<CollectionSpec>,
    /// What the React kind's list keeps, singular and plural ("habit", "habits").
    pub list: Option<(String, String)>,
    /// Every feature of the plan the person approved, in their words, and what became of it.
    pub approved: Vec<(String, Approved)>,
}

/// What became of one approved feature in the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approved {
    /// One of the kind's essentials, checked by the kind's own checks.
    Essential,
    /// An optional or essential feature with checks of its own.
    Built(Feature),
    /// Not in the draft, and why.
    NotBuilt(&'static str),
}

impl Blueprint {
    pub fn from_brief(brief: &Brief) -> Blueprint {
        let text = brief_text(brief);
        let kind = brief
            .kind
            .or_else(|| infer_kind(&text))
            .or_else(|| collection::names_a_subject(&Words::new(&text)).then_some(AppKind::Collection))
            .unwrap_or(AppKind::Landing);
        let title = brief
            .title
            .as_deref()
            .and_then(clean_title)
            .unwrap_or_else(|| content::default_title(kind).to_owned());
        // The consultant lists a kind's essentials in words; they are built anyway, not requests.
        let essentials_in_words = crate::consultant::default_features(kind);
        let mut built = BTreeSet::new();
        let mut unsupported: Vec<String> = Vec::new();
        for request in &brief.features {
            let request = request.split_whitespace().collect::<Vec<_>>().join(" ");
            if request.is_empty() || essentials_in_words.iter().any(|e| e.eq_ignore_ascii_case(&request)) {
                continue;
            }
            let recognised = match features::limit(&request) {
                Some(_) => None,
                None => Feature::recognise(&request).map(|f| features::resolve(kind, f)),
            };
            match recognised {
                Some(feature) if features::optional(kind).contains(&feature) => {
                    built.insert(feature);
                }
                Some(feature) if features::essentials(kind).contains(&feature) => {}
                _ if unsupported.contains(&request) => {}
                _ => unsupported.push(request),
            }
        }
        let collection = (kind == AppKind::Collection).then(|| {
            let asked_tags = built.contains(&Feature::Tags);
            // A spec from elsewhere (another brain) is kept only as far as its ids are safe names.
            let given = brief.collection.clone().map(|mut spec| {
                let mut seen = BTreeSet::new();
                spec.fields.retain(|f| is_field_id(&f.id) && seen.insert(f.id.clone()));
                spec
            });
            let mut spec = given
                .filter(|spec| !spec.fields.is_empty() && spec.fields[0].kind != FieldKind::Tags)
                .unwrap_or_else(|| collection::spec(&text, asked_tags, true));
            if asked_tags && !spec.fields.iter().any(|f| f.kind == FieldKind::Tags) {
                spec.fields.push(Field { id: "tags".into(), label: "Tags".into(), kind: FieldKind::Tags });
            }
            spec
        });
        if collection.as_ref().is_some_and(|c| c.fields.iter().any(|f| f.kind == FieldKind::Tags)) {
            built.insert(Feature::Tags);
        }
        let mut plan = Blueprint {
            kind,
            title,
            theme: brief.theme,
            features: built,
            unsupported,
            set_aside: Vec::new(),
            design: brief.design_image.as_deref().map(design_path),
            design_set_aside: false,
            collection,
            list: (kind == AppKind::React).then(|| collection::list_nouns(&text)),
            approved: Vec::new(),
        };
        plan.approved =
            approved_names(brief, kind).into_iter().map(|name| (name, Approved::Essential)).collect();
        plan.settle_approved();
        plan
    }

    /// What became of each approved feature, given what the plan builds now.
    fn settle_approved(&mut self) {
        let essentials_in_words = crate::consultant::default_features(self.kind);
        for (name, approved) in &mut self.approved {
            *approved = if essentials_in_words.contains(&name.as_str()) {
                Approved::Essential
            } else if self.unsupported.contains(name) {
                Approved::NotBuilt(features::cannot_build(name, self.kind))
            } else {
                match Feature::recognise(name).map(|f| features::resolve(self.kind, f)) {
                    Some(f) if self.features.contains(&f) || features::essentials(self.kind).contains(&f) => {
                        Approved::Built(f)
                    }
                    Some(f) if self.set_aside.contains(&f) => {
                        Approved::NotBuilt("was set aside after its check failed in an earlier build")
                    }
                    _ => Approved::NotBuilt(features::cannot_build(name, self.kind)),
                }
            };
        }
    }

    /// The approved features the draft does not build, each with why, for the plan and the README.
    pub fn not_built(&self) -> Vec<(String, &'static str)> {
        self.approved
            .iter()
            .filter_map(|(name, approved)| match approved {
                Approved::NotBuilt(why) => Some((name.clone(), *why)),
                _ => None,
            })
            .collect()
    }

    /// Takes `feature` out, remembering it for the README. Returns whether it was in.
    pub fn set_aside(&mut self, feature: Feature) -> bool {
        let removed = self.features.remove(&feature);
        if removed && !self.set_aside.contains(&feature) {
            self.set_aside.push(feature);
        }
        self.settle_approved();
        removed
    }

    /// Leaves the design figure out, remembering why. Returns whether it was in.
    pub fn set_design_aside(&mut self) -> bool {
        let removed = self.design.take().is_some();
        self.design_set_aside |= removed;
        removed
    }

    /// The template flags: the features built (optional and essential), the kind, and what the
    /// page needs besides (`design`, `data`, `email`).
    fn flags(&self) -> Flags {
        let mut flags: Flags = self.features.iter().map(|f| f.key().to_owned()).collect();
        flags.extend(features::essentials(self.kind).iter().map(|f| f.key().to_owned()));
        flags.insert(format!("kind-{}", self.kind.as_str()));
        if self.design.is_some() {
            flags.insert("design".to_owned());
        }
        if content::uses_data(self.kind) {
            flags.insert("data".to_owned());
        }
        if self.kind == AppKind::Landing || self.features.contains(&Feature::ContactForm) {
            flags.insert("email".to_owned());
        }
        flags
    }

    pub fn manifest(&self, project_name: &str) -> GantryManifest {
        let Some(parts) = templates(self.kind) else {
            return react::manifest(self, project_name);
        };
        let flags = self.flags();
        let palette = Palette::for_theme(self.theme);
        let title = escape_html(&self.title);
        let tagline = escape_html(&content::tagline(self.kind, &self.title));
        let description =
            escape_html(&format!("{}: a {} drafted by Gantry.", self.title, content::noun(self.kind)));
        let initials = escape_html(&content::initials(&self.title));
        let theme_color = palette.primary_hex();
        let project_js = serde_json::to_string(project_name).unwrap_or_else(|_| "\"app\"".to_owned());
        let design = self.design.clone().unwrap_or_default();
        let audit_spec = spec::embed(&spec::for_draft(self));
        let scheme_label = if palette.is_dark() { "Light mode" } else { "Dark mode" };
        let mut slots: Vec<(&str, &str)> = vec![
            ("title", title.as_str()),
            ("tagline", tagline.as_str()),
            ("description", description.as_str()),
            ("initials", initials.as_str()),
            ("eyebrow", "Now in early access"),
            ("theme_color", theme_color.as_str()),
            ("kind", self.kind.as_str()),
            ("scheme_label", scheme_label),
            ("design_path", design.as_str()),
            ("footer_note", content::footer_note(self.kind)),
            ("project_js", project_js.as_str()),
            ("spec", audit_spec.as_str()),
        ];

        let collection = collection_slots(self.collection.as_ref());
        for (name, value) in &collection {
            slots.push((name, value.as_str()));
        }
        let body = render(parts.html, &flags, &slots);
        slots.push(("body", body.trim_end()));
        let html = render(PAGE_HTML, &flags, &slots);
        let label = self.theme.map_or("neutral default", Theme::name);
        let css = format!(
            "{}\n{}{}",
            palette.stylesheet_head(label),
            render(BASE_CSS, &flags, &slots),
            render(parts.css, &flags, &slots)
        );
        let js = format!("{}{}", render(COMMON_JS, &flags, &slots), render(parts.js, &flags, &slots));

        let mut files = vec![file("index.html", html), file("styles.css", css), file("app.js", js)];
        if let Some(data) = content::data_json(self.kind, &self.title) {
            files.push(file("data.json", data));
        }
        files.push(file("README.md", content::readme(self, &palette)));
        files.push(file("audit.py", render(AUDIT_PY, &flags, &slots)));

        GantryManifest {
            project_name: project_name.to_owned(),
            stack: Stack::Static,
            files,
            audit_command: AUDIT_COMMAND.to_owned(),
            run_command: None,
            output_dir: Some(".".to_owned()),
        }
    }
}

/// Our audit.py for somebody else's app, checking what `spec` lists.
pub(crate) fn adapted_audit(audit_spec: &serde_json::Value) -> String {
    let embedded = spec::embed(audit_spec);
    render(AUDIT_PY, &Flags::new(), &[("spec", embedded.as_str())])
}

/// The features of the plan as the consultant put them: the kind's essentials in words, then
/// every request, each once.
fn approved_names(brief: &Brief, kind: AppKind) -> Vec<String> {
    let mut names: Vec<String> =
        crate::consultant::default_features(kind).iter().map(|f| (*f).to_owned()).collect();
    for feature in &brief.features {
        let feature = feature.split_whitespace().collect::<Vec<_>>().join(" ");
        if !feature.is_empty() && !names.contains(&feature) {
            names.push(feature);
        }
    }
    names
}

/// Lowercase ASCII letters, digits and underscores, starting with a letter, at most 40.
fn is_field_id(id: &str) -> bool {
    id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The collection's slots: its names and the form's inputs, as HTML and as the script's data.
fn collection_slots(spec: Option<&CollectionSpec>) -> Vec<(&'static str, String)> {
    let Some(spec) = spec else { return Vec::new() };
    let mut inputs = String::new();
    for (index, field) in spec.fields.iter().enumerate() {
        let (kind, extra) = match field.kind {
            FieldKind::Number => ("number", " step=\"any\""),
            FieldKind::Date => ("date", ""),
            FieldKind::Tags => ("text", " maxlength=\"500\" placeholder=\"comma, separated\""),
            FieldKind::Text | FieldKind::LongText => ("text", " maxlength=\"2000\""),
        };
        let required = if index == 0 { " required" } else { "" };
        let id = escape_html(&field.id);
        inputs.push_str(&format!(
            "        <label class=\"field\" for=\"field-{id}\"><span>{label}</span><input id=\"field-{id}\" \
             name=\"{id}\" type=\"{kind}\"{extra}{required}></label>\n",
            label = escape_html(&field.label),
        ));
    }
    let fields: Vec<serde_json::Value> = spec
        .fields
        .iter()
        .map(|f| serde_json::json!({"id": f.id, "label": f.label, "kind": f.kind}))
        .collect();
    let js = |value: serde_json::Value| value.to_string();
    vec![
        ("item", escape_html(&spec.item)),
        ("items", escape_html(&spec.items)),
        ("fields_html", inputs.trim_end().to_owned()),
        ("fields_js", js(serde_json::Value::Array(fields))),
        ("item_js", js(serde_json::Value::from(spec.item.as_str()))),
        ("items_js", js(serde_json::Value::from(spec.items.as_str()))),
    ]
}

fn file(path: &str, content: String) -> ManifestFile {
    ManifestFile { path: path.to_owned(), content }
}

/// Everything the brief says in words, for guessing the kind when it names none.
fn brief_text(brief: &Brief) -> String {
    let mut text = brief.title.clone().unwrap_or_default();
    for note in &brief.notes {
        text.push(' ');
        text.push_str(note);
    }
    text
}

/// Words that give a kind away, in a title, a project name, a file name or a request.
const KIND_WORDS: &[(AppKind, &[&str])] = &[
    (AppKind::Kanban, &["kanban", "trello", "scrum", "board", "boards"]),
    (AppKind::Todo, &["todo", "todos", "task", "tasks", "checklist", "chores", "errands"]),
    (AppKind::Notes, &["note", "notes", "notebook", "journal", "diary", "memo", "memos"]),
    (AppKind::Blog, &["blog", "blogs", "weblog", "post", "posts", "articles"]),
    (AppKind::Dashboard, &["dashboard", "analytics", "metrics", "kpi", "kpis", "stats", "charts"]),
    (AppKind::Portfolio, &["portfolio", "resume", "cv", "showcase"]),
    (AppKind::Landing, &["landing", "homepage", "startup", "launch", "product"]),
];

/// Words that ask for the React kind, wherever they stand.
const REACT_WORDS: &[&str] = &["react", "reactjs", "vite"];

/// The kind the first telling word of `text` names, if any; asking for React wins.
pub(crate) fn infer_kind(text: &str) -> Option<AppKind> {
    let lower = text.to_lowercase();
    let mut words = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    if words.clone().any(|word| REACT_WORDS.contains(&word)) {
        return Some(AppKind::React);
    }
    words.find_map(|word| KIND_WORDS.iter().find(|(_, words)| words.contains(&word)).map(|(kind, _)| *kind))
}

/// A title fit for a page: no control characters, single spaces, at most `MAX_TITLE_CHARS`.
fn clean_title(raw: &str) -> Option<String> {
    let words: Vec<&str> =
        raw.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let mut title = String::new();
    for word in words {
        if title.chars().count() + word.chars().count() + 1 > MAX_TITLE_CHARS {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    (!title.is_empty()).then_some(title)
}

/// `public/design-reference.<ext>`, with the extension of the uploaded object's key.
pub(crate) fn design_path(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| !ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "png".to_owned());
    format!("{DESIGN_STEM}.{ext}")
}

/// A safe project name from a title: lowercase ASCII letters, digits and single hyphens, at most
/// 64 characters, never empty (the kind's name stands in when nothing of the title survives).
pub(crate) fn project_name(title: &str, kind: AppKind) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(MAX_PROJECT_NAME_CHARS).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        format!("{}-app", kind.as_str())
    } else {
        slug
    }
}

/// Whether `name` is already a project name the manifest accepts.
pub(crate) fn is_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_PROJECT_NAME_CHARS
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Common accented Latin letters as their plain ASCII letters, so "Café Crème" becomes `cafe-creme`.
fn fold_accent(c: char) -> Vec<char> {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => return vec!['s', 's'],
        'æ' | 'Æ' => return vec!['a', 'e'],
        other => other,
    };
    vec![plain]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_safe_slugs_and_never_empty() {
        assert_eq!(project_name("My Todo App!", AppKind::Todo), "my-todo-app");
        assert_eq!(project_name("  Café Crème -- Menu ", AppKind::Landing), "cafe-creme-menu");
        assert_eq!(project_name("日記", AppKind::Notes), "notes-app");
        assert_eq!(project_name("---", AppKind::Blog), "blog-app");
        let long = project_name(&"word ".repeat(40), AppKind::Blog);
        assert!(long.len() <= 64 && !long.ends_with('-'), "{long}");
        for name in ["my-todo-app", "cafe-creme-menu", "notes-app", long.as_str()] {
            assert!(is_project_name(name), "{name}");
        }
        assert!(!is_project_name("My App") && !is_project_name("-x") && !is_project_name(""));
    }

    #[test]
    fn the_design_image_keeps_its_extension() {
        assert_eq!(design_path("uploads/x.PNG"), "public/design-reference.png");
        assert_eq!(design_path("uploads/shot.webp"), "public/design-reference.webp");
        assert_eq!(design_path("uploads/noext"), "public/design-reference.png");
        assert_eq!(design_path("up.loads/noext"), "public/design-reference.png");
    }

    #[test]
    fn titles_are_tidied_and_bounded() {
        assert_eq!(clean_title("  Taskly \n\t Pro "), Some("Taskly Pro".to_owned()));
        assert_eq!(clean_title(" \u{7} "), None);
        assert!(clean_title(&"long ".repeat(50)).is_some_and(|t| t.chars().count() <= MAX_TITLE_CHARS));
    }

    #[test]
    fn the_kind_is_inferred_from_telling_words() {
        assert_eq!(infer_kind("my-kanban-app"), Some(AppKind::Kanban));
        assert_eq!(infer_kind("Weekly Tasks"), Some(AppKind::Todo));
        assert_eq!(infer_kind("sales dashboard v2"), Some(AppKind::Dashboard));
        assert_eq!(infer_kind("something else"), None);
    }

    #[test]
    fn requests_become_features_or_honest_omissions() {
        let brief = Brief {
            kind: Some(AppKind::Todo),
            features: vec![
                "categories".into(),
                "dark mode".into(),
                "reminders".into(),
                "adding and completing tasks".into(),
                "filters".into(),
                "reminders".into(),
            ],
            ..Brief::default()
        };
        let plan = Blueprint::from_brief(&brief);
        assert_eq!(plan.features, BTreeSet::from([Feature::Categories, Feature::DarkMode]));
        assert_eq!(plan.unsupported, ["reminders"]);
        assert_eq!(plan.title, "To-Do List");
    }

    #[test]
    fn a_collection_spec_from_elsewhere_keeps_only_safe_field_ids() {
        let given = CollectionSpec {
            item: "wine".into(),
            items: "wines".into(),
            fields: vec![
                Field { id: "name".into(), label: "Name".into(), kind: FieldKind::Text },
                Field { id: "x\"><script>".into(), label: "Bad".into(), kind: FieldKind::Text },
                Field { id: "name".into(), label: "Again".into(), kind: FieldKind::Text },
                Field { id: "vintage".into(), label: "Vintage".into(), kind: FieldKind::Number },
            ],
        };
        let brief = Brief { kind: Some(AppKind::Collection), collection: Some(given), ..Brief::default() };
        let plan = Blueprint::from_brief(&brief);
        let ids: Vec<&str> = plan.collection.iter().flat_map(|c| &c.fields).map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["name", "vintage"]);
        let empty = Brief {
            kind: Some(AppKind::Collection),
            collection: Some(CollectionSpec { item: "x".into(), items: "xs".into(), fields: Vec::new() }),
            notes: vec!["a recipe box".into()],
            ..Brief::default()
        };
        assert_eq!(Blueprint::from_brief(&empty).collection.map(|c| c.item), Some("recipe".to_owned()));
    }

    #[test]
    fn a_direct_build_naming_something_to_keep_is_a_collection() {
        let brief = Brief { notes: vec!["a habit tracker".into()], ..Brief::default() };
        let plan = Blueprint::from_brief(&brief);
        assert_eq!(plan.kind, AppKind::Collection);
        assert_eq!(plan.collection.map(|c| c.items), Some("habits".to_owned()));
    }

    #[test]
    fn a_blog_offers_categories_as_tags() {
        let brief =
            Brief { kind: Some(AppKind::Blog), features: vec!["categories".into()], ..Brief::default() };
        assert_eq!(Blueprint::from_brief(&brief).features, BTreeSet::from([Feature::Tags]));
    }
}
