//! The famous themes a person can ask for by name.
//! (Placeholder API; the detection rules are being written.)

use serde::{Deserialize, Serialize};

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

    pub fn name(self) -> &'static str {
        self.id()
    }

    pub fn description(self) -> &'static str {
        ""
    }

    pub fn colors(self) -> ThemeColors {
        ThemeColors {
            primary: "#000000",
            accent: "#000000",
            background: "#ffffff",
            surface: "#ffffff",
            text: "#000000",
        }
    }
}

/// The theme a message asks for, by whole words.
pub fn detect(_text: &str) -> Option<Theme> {
    None
}
