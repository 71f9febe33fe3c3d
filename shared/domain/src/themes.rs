//! The famous looks a person can ask for by name ("like Spotify", "linkedin-style").
//!
//! Names are matched as whole words, so "slacking", "notional" or "instagrammable" pick no theme,
//! and a theme mentioned only to be ruled out ("not like Slack", "instead of Notion") is skipped.

use serde::{Deserialize, Serialize};

use crate::words::Words;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Theme {
    Linkedin,
    Twitter,
    Instagram,
    Facebook,
    Slack,
    Spotify,
    Notion,
    Airbnb,
}

/// A theme's palette as CSS hex colours, close to the brand without copying its assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ThemeColors {
    pub primary: &'static str,
    pub accent: &'static str,
    pub background: &'static str,
    pub surface: &'static str,
    pub text: &'static str,
}

impl Theme {
    pub const ALL: [Theme; 8] = [
        Theme::Linkedin,
        Theme::Twitter,
        Theme::Instagram,
        Theme::Facebook,
        Theme::Slack,
        Theme::Spotify,
        Theme::Notion,
        Theme::Airbnb,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Theme::Linkedin => "LINKEDIN",
            Theme::Twitter => "TWITTER",
            Theme::Instagram => "INSTAGRAM",
            Theme::Facebook => "FACEBOOK",
            Theme::Slack => "SLACK",
            Theme::Spotify => "SPOTIFY",
            Theme::Notion => "NOTION",
            Theme::Airbnb => "AIRBNB",
        }
    }

    /// The theme for an id such as `SPOTIFY`, in any case.
    pub fn from_id(id: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.id().eq_ignore_ascii_case(id.trim()))
    }

    /// The name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Theme::Linkedin => "LinkedIn",
            Theme::Twitter => "Twitter",
            Theme::Instagram => "Instagram",
            Theme::Facebook => "Facebook",
            Theme::Slack => "Slack",
            Theme::Spotify => "Spotify",
            Theme::Notion => "Notion",
            Theme::Airbnb => "Airbnb",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Theme::Linkedin => {
                "Professional and calm: LinkedIn blue on a warm light grey, white cards, clear type."
            }
            Theme::Twitter => {
                "Crisp and airy: bright sky blue on white, round avatars, a single timeline column."
            }
            Theme::Instagram => {
                "Photo first: a purple, pink and orange gradient accent on white, square image grids."
            }
            Theme::Facebook => {
                "Friendly and familiar: Facebook blue header, light grey page, rounded white cards."
            }
            Theme::Slack => "Aubergine sidebar, white workspace and bright yellow, blue and green accents.",
            Theme::Spotify => {
                "Dark and bold: near-black background, vivid green accents, big rounded artwork."
            }
            Theme::Notion => {
                "Quiet and document-like: black on white, warm grey blocks, generous whitespace."
            }
            Theme::Airbnb => "Warm and welcoming: coral pink accents on white, large photos, soft shadows.",
        }
    }

    pub fn colors(self) -> ThemeColors {
        let (primary, accent, background, surface, text) = match self {
            Theme::Linkedin => ("#0A66C2", "#057642", "#F4F2EE", "#FFFFFF", "#191919"),
            Theme::Twitter => ("#1D9BF0", "#F91880", "#FFFFFF", "#F7F9F9", "#0F1419"),
            Theme::Instagram => ("#C13584", "#F77737", "#FAFAFA", "#FFFFFF", "#262626"),
            Theme::Facebook => ("#1877F2", "#42B72A", "#F0F2F5", "#FFFFFF", "#1C1E21"),
            Theme::Slack => ("#4A154B", "#ECB22E", "#F8F8F8", "#FFFFFF", "#1D1C1D"),
            Theme::Spotify => ("#1DB954", "#1ED760", "#121212", "#181818", "#FFFFFF"),
            Theme::Notion => ("#37352F", "#2383E2", "#FFFFFF", "#F7F6F3", "#37352F"),
            Theme::Airbnb => ("#FF385C", "#00A699", "#FFFFFF", "#F7F7F7", "#222222"),
        };
        ThemeColors { primary, accent, background, surface, text }
    }

    /// The words that name this theme. Bare "x" is not one ("an x axis"), nor "tweet" (a tweet
    /// scheduler is about content, not a look); "x.com" and "formerly twitter" are.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Theme::Linkedin => &["linkedin", "linked in"],
            Theme::Twitter => &["twitter", "x.com"],
            Theme::Instagram => &["instagram", "insta"],
            Theme::Facebook => &["facebook", "fb"],
            Theme::Slack => &["slack"],
            Theme::Spotify => &["spotify"],
            Theme::Notion => &["notion", "notion.so"],
            Theme::Airbnb => &["airbnb", "air bnb"],
        }
    }
}

/// Words that, just before a theme's name, rule it out rather than ask for it.
const RULED_OUT_BY: &[&str] =
    &["not", "no", "nothing like", "unlike", "instead of", "rather than", "than", "without", "except"];

/// Every theme the text names and whether that mention rules it out, in order of appearance.
pub fn mentions(text: &str) -> Vec<(Theme, bool)> {
    let words = Words::new(text);
    let mut found: Vec<(usize, Theme, bool)> = Theme::ALL
        .into_iter()
        .flat_map(|theme| {
            let words = &words;
            words
                .find_all_of(theme.aliases())
                .into_iter()
                .map(move |hit| (hit.start, theme, words.preceded_by(hit.start, RULED_OUT_BY, 2)))
        })
        .collect();
    found.sort_by_key(|(start, _, _)| *start);
    found.into_iter().map(|(_, theme, ruled_out)| (theme, ruled_out)).collect()
}

/// The theme a message asks for: the first one it names without ruling it out.
pub fn detect(text: &str) -> Option<Theme> {
    mentions(text).into_iter().find(|(_, ruled_out)| !ruled_out).map(|(theme, _)| theme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_theme_is_found_by_its_name_in_any_case() {
        let cases = [
            ("a job board, linkedin-style", Theme::Linkedin),
            ("make it look like LinkedIn", Theme::Linkedin),
            ("a feed like Twitter", Theme::Twitter),
            ("something like x.com", Theme::Twitter),
            ("a photo grid like Instagram", Theme::Instagram),
            ("insta vibes please", Theme::Instagram),
            ("a group page like Facebook", Theme::Facebook),
            ("team chat like Slack", Theme::Slack),
            ("a playlist page like Spotify", Theme::Spotify),
            ("SPOTIFY colours", Theme::Spotify),
            ("a wiki like Notion", Theme::Notion),
            ("an airbnb vibe for my cabin", Theme::Airbnb),
            ("Air BnB style listing", Theme::Airbnb),
        ];
        for (text, theme) in cases {
            assert_eq!(detect(text), Some(theme), "{text}");
        }
    }

    #[test]
    fn words_that_merely_contain_a_name_pick_no_theme() {
        for text in [
            "install",
            "booking",
            "workspace",
            "a notional budget",
            "stop slacking off",
            "facebooking all day",
            "an instagrammable cafe",
            "plot the x axis",
            "a tweet scheduler",
            "",
            "a todo app",
        ] {
            assert_eq!(detect(text), None, "{text}");
        }
    }

    #[test]
    fn a_ruled_out_theme_gives_way_to_the_wanted_one() {
        assert_eq!(detect("like Spotify instead of Slack"), Some(Theme::Spotify));
        assert_eq!(detect("instead of Slack, use Spotify"), Some(Theme::Spotify));
        assert_eq!(detect("not like Notion"), None);
        assert_eq!(mentions("not Slack but Airbnb"), vec![(Theme::Slack, true), (Theme::Airbnb, false)]);
    }

    #[test]
    fn every_theme_has_a_name_description_and_hex_palette() {
        for theme in Theme::ALL {
            assert!(!theme.description().is_empty());
            assert_ne!(theme.name(), theme.id());
            let c = theme.colors();
            for colour in [c.primary, c.accent, c.background, c.surface, c.text] {
                assert!(colour.len() == 7 && colour.starts_with('#'), "{colour}");
                assert!(colour[1..].chars().all(|ch| ch.is_ascii_hexdigit()), "{colour}");
            }
            assert_eq!(Theme::from_id(&theme.id().to_lowercase()), Some(theme));
            assert_eq!(detect(theme.name()), Some(theme));
        }
        assert_eq!(Theme::from_id("MYSPACE"), None);
    }
}
