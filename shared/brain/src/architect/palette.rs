//! Colours: a theme's five brand colours become the CSS custom properties every template uses,
//! plus the derived ones (muted text, borders, readable text on buttons) and an opposite scheme
//! for the dark mode toggle. Contrast is computed, so any palette yields legible text.

use std::fmt::Write as _;

use gantry_domain::themes::{Theme, ThemeColors};

/// A tasteful neutral look for briefs without a theme: indigo on a cool off-white.
const NEUTRAL: ThemeColors = ThemeColors {
    primary: "#4F46E5",
    accent: "#0EA5E9",
    background: "#F8FAFC",
    surface: "#FFFFFF",
    text: "#0F172A",
};

/// The scheme the toggle switches to from a light theme.
const DARK: (Rgb, Rgb, Rgb) = (Rgb(0x12, 0x14, 0x18), Rgb(0x1C, 0x1F, 0x25), Rgb(0xE8, 0xEA, 0xED));
/// The scheme the toggle switches to from a dark theme.
const LIGHT: (Rgb, Rgb, Rgb) = (Rgb(0xFF, 0xFF, 0xFF), Rgb(0xF4, 0xF5, 0xF7), Rgb(0x14, 0x16, 0x1A));

const WHITE: Rgb = Rgb(0xFF, 0xFF, 0xFF);
const BLACK: Rgb = Rgb(0x11, 0x11, 0x11);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(u8, u8, u8);

impl Rgb {
    /// Parses `#RRGGBB`; anything else is `None`, and the caller falls back to the neutral colour.
    pub fn parse(hex: &str) -> Option<Rgb> {
        let digits = hex.strip_prefix('#')?;
        if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).ok();
        Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    /// `self` moved `amount` (0 to 1) of the way towards `other`.
    fn mix(self, other: Rgb, amount: f64) -> Rgb {
        let blend = |a: u8, b: u8| {
            let value = f64::from(a) + (f64::from(b) - f64::from(a)) * amount;
            value.round().clamp(0.0, 255.0) as u8
        };
        Rgb(blend(self.0, other.0), blend(self.1, other.1), blend(self.2, other.2))
    }

    /// WCAG relative luminance.
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let s = f64::from(c) / 255.0;
            if s <= 0.03928 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    fn is_dark(self) -> bool {
        self.luminance() < 0.2
    }
}

/// One colour scheme, as the templates' custom properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Palette {
    primary: Rgb,
    accent: Rgb,
    background: Rgb,
    surface: Rgb,
    text: Rgb,
}

impl Palette {
    pub fn for_theme(theme: Option<Theme>) -> Palette {
        let colors = theme.map_or(NEUTRAL, Theme::colors);
        let pick = |hex: &str, fallback: &str| {
            Rgb::parse(hex).or_else(|| Rgb::parse(fallback)).unwrap_or(Rgb(0x80, 0x80, 0x80))
        };
        Palette {
            primary: pick(colors.primary, NEUTRAL.primary),
            accent: pick(colors.accent, NEUTRAL.accent),
            background: pick(colors.background, NEUTRAL.background),
            surface: pick(colors.surface, NEUTRAL.surface),
            text: pick(colors.text, NEUTRAL.text),
        }
    }

    pub fn is_dark(&self) -> bool {
        self.background.is_dark()
    }

    pub fn primary_hex(&self) -> String {
        self.primary.hex()
    }

    /// The scheme the dark mode toggle switches to: dark for a light theme, light for a dark one.
    pub fn opposite(&self) -> Palette {
        let (background, surface, text) = if self.is_dark() { LIGHT } else { DARK };
        let legible = |colour: Rgb| readable_on(colour, background, 3.0);
        Palette { primary: legible(self.primary), accent: legible(self.accent), background, surface, text }
    }

    /// The custom properties of this scheme, one per line, for a `:root` or `.alt-scheme` block.
    fn properties(&self) -> String {
        let dark = self.is_dark();
        let on_primary =
            if self.primary.contrast(WHITE) >= self.primary.contrast(BLACK) { WHITE } else { BLACK };
        let link = readable_on(self.primary, self.background, 4.5);
        let danger = if dark { Rgb(0xFF, 0x6B, 0x6B) } else { Rgb(0xC5, 0x22, 0x1F) };
        let positive = if dark { Rgb(0x4A, 0xDE, 0x80) } else { Rgb(0x15, 0x80, 0x3D) };
        let shadow = if dark {
            "0 1px 2px rgba(0, 0, 0, 0.5), 0 8px 24px rgba(0, 0, 0, 0.35)"
        } else {
            "0 1px 2px rgba(15, 23, 42, 0.06), 0 8px 24px rgba(15, 23, 42, 0.06)"
        };
        let rows = [
            ("scheme", if dark { "dark".to_owned() } else { "light".to_owned() }),
            ("primary", self.primary.hex()),
            ("accent", self.accent.hex()),
            ("bg", self.background.hex()),
            ("surface", self.surface.hex()),
            ("text", self.text.hex()),
            ("on-primary", on_primary.hex()),
            ("link", link.hex()),
            ("muted", self.text.mix(self.background, 0.4).hex()),
            ("border", self.text.mix(self.background, 0.85).hex()),
            ("chip", self.primary.mix(self.surface, 0.88).hex()),
            ("field", self.background.mix(self.surface, 0.5).hex()),
            ("danger", danger.hex()),
            ("positive", positive.hex()),
            ("shadow", shadow.to_owned()),
        ];
        let mut out = String::new();
        for (name, value) in rows {
            let _ = writeln!(out, "  --{name}: {value};");
        }
        out
    }

    /// The stylesheet's head: the theme's scheme, the radii, and the opposite scheme for the toggle.
    pub fn stylesheet_head(&self, label: &str) -> String {
        format!(
            "/* Colours: {label}. */\n:root {{\n{}  --radius: 14px;\n  --radius-small: 9px;\n}}\n\n\
             :root.alt-scheme {{\n{}}}\n",
            self.properties(),
            self.opposite().properties()
        )
    }
}

/// `colour`, moved towards white or black until it reaches `ratio` of contrast on `background`.
fn readable_on(colour: Rgb, background: Rgb, ratio: f64) -> Rgb {
    let target = if background.is_dark() { WHITE } else { BLACK };
    (0..=10)
        .map(|step| colour.mix(target, f64::from(step) / 10.0))
        .find(|candidate| candidate.contrast(background) >= ratio)
        .unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_parse_and_print_back() {
        assert_eq!(Rgb::parse("#1DB954").map(Rgb::hex).as_deref(), Some("#1DB954"));
        assert_eq!(Rgb::parse("#1db954").map(Rgb::hex).as_deref(), Some("#1DB954"));
        for bad in ["1DB954", "#1DB95", "#GGGGGG", "", "#1DB9545"] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_theme_gets_legible_text_links_and_buttons_in_both_schemes() {
        for theme in Theme::ALL.into_iter().map(Some).chain([None]) {
            let palette = Palette::for_theme(theme);
            for scheme in [palette, palette.opposite()] {
                let link = readable_on(scheme.primary, scheme.background, 4.5);
                assert!(link.contrast(scheme.background) >= 4.5, "{theme:?}");
                assert!(scheme.text.contrast(scheme.background) >= 4.5, "{theme:?}");
                let best = scheme.primary.contrast(WHITE).max(scheme.primary.contrast(BLACK));
                assert!(best >= 3.0, "{theme:?}: button text on {}", scheme.primary.hex());
            }
        }
    }

    #[test]
    fn the_toggle_switches_to_the_opposite_scheme() {
        assert!(!Palette::for_theme(Some(Theme::Linkedin)).is_dark());
        assert!(Palette::for_theme(Some(Theme::Linkedin)).opposite().is_dark());
        assert!(Palette::for_theme(Some(Theme::Spotify)).is_dark());
        assert!(!Palette::for_theme(Some(Theme::Spotify)).opposite().is_dark());
        assert!(!Palette::for_theme(None).is_dark());
    }

    #[test]
    fn the_stylesheet_head_declares_both_schemes() {
        let head = Palette::for_theme(Some(Theme::Airbnb)).stylesheet_head("Airbnb");
        assert!(head.contains("--primary: #FF385C;"), "{head}");
        assert!(head.contains(":root.alt-scheme {"), "{head}");
        assert!(head.contains("--scheme: dark;"), "{head}");
    }
}
