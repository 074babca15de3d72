//! Fitting a redline's changed sections into a chat channel's size limits
//! (Slack's blocks, Discord's embeds, Teams' card bytes), and the note that
//! says what did not fit and where the full report is.
//!
//! Every channel walks the sections in order with [`fit_sections`]; only the
//! measure differs (a block count and characters, embeds and characters,
//! bytes of card JSON), so each passes its own `place` function.

use super::text;
use crate::report::Redline;
use crate::report::summary::SectionLines;

/// How one section went into a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed<T> {
    /// The whole section.
    Whole(T),
    /// The section, cut to fit; later sections may still fit.
    Shortened(T),
    /// The section, cut to fit, and the message is full after it.
    ShortenedLast(T),
    /// No room for the section: it and every later one are left out.
    NoRoom,
}

/// The sections a channel placed, in order, and the titles
/// ([`SectionLines::title`]) of those it cut or left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<T> {
    /// What `place` made of each section that went in.
    pub placed: Vec<T>,
    /// The sections that went in cut.
    pub shortened: Vec<String>,
    /// The sections left out.
    pub omitted: Vec<String>,
}

/// Places `sections` one after another with `place(index, section)` until it
/// answers [`Placed::NoRoom`] or [`Placed::ShortenedLast`].
pub fn fit_sections<T>(
    sections: &[SectionLines<'_>],
    mut place: impl FnMut(usize, &SectionLines<'_>) -> Placed<T>,
) -> Fitted<T> {
    let mut fitted = Fitted {
        placed: Vec::new(),
        shortened: Vec::new(),
        omitted: Vec::new(),
    };
    let mut full = false;
    for (i, section) in sections.iter().enumerate() {
        if full {
            fitted.omitted.push(section.title());
            continue;
        }
        match place(i, section) {
            Placed::Whole(t) => fitted.placed.push(t),
            Placed::Shortened(t) => {
                fitted.placed.push(t);
                fitted.shortened.push(section.title());
            }
            Placed::ShortenedLast(t) => {
                fitted.placed.push(t);
                fitted.shortened.push(section.title());
                full = true;
            }
            Placed::NoRoom => {
                fitted.omitted.push(section.title());
                full = true;
            }
        }
    }
    fitted
}

impl<T> Fitted<T> {
    /// The note saying what was cut to fit `channel` and where the full
    /// report is, unescaped: `Cut to fit Slack: shortened Lead: modified; 2
    /// more sections not shown (A: added, B: removed). Full report: …`;
    /// `None` when everything fitted.
    pub fn note(&self, channel: &str, redline: &Redline, location: Option<&str>) -> Option<String> {
        if self.shortened.is_empty() && self.omitted.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if !self.shortened.is_empty() {
            parts.push(format!("shortened {}", self.shortened.join(", ")));
        }
        if !self.omitted.is_empty() {
            let n = self.omitted.len();
            parts.push(format!(
                "{n} more {} not shown ({})",
                if n == 1 { "section" } else { "sections" },
                self.omitted.join(", ")
            ));
        }
        Some(format!(
            "Cut to fit {channel}: {}. {}",
            parts.join("; "),
            text::full_report_line(redline, location)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::text::tests::example;
    use crate::report::summary::section_lines;

    #[test]
    fn stops_at_no_room_or_a_last_cut_and_names_the_rest() {
        let r = example();
        let sections: Vec<SectionLines> = r
            .revision
            .sections
            .iter()
            .map(|s| section_lines(s, true))
            .collect();
        // How each section is placed, then how many, which shortened, which omitted.
        type Case = (
            fn(usize) -> Placed<usize>,
            usize,
            &'static [&'static str],
            &'static [&'static str],
        );
        let cases: [Case; 4] = [
            (Placed::Whole, 2, &[], &[]),
            (
                |i| {
                    if i == 0 {
                        Placed::Shortened(i)
                    } else {
                        Placed::Whole(i)
                    }
                },
                2,
                &["Lead: modified"],
                &[],
            ),
            (
                Placed::ShortenedLast,
                1,
                &["Lead: modified"],
                &["Relations since 2024: added"],
            ),
            (
                |_| Placed::NoRoom,
                0,
                &[],
                &["Lead: modified", "Relations since 2024: added"],
            ),
        ];
        for (place, placed, shortened, omitted) in cases {
            let f = fit_sections(&sections, |i, _| place(i));
            assert_eq!(f.placed.len(), placed);
            assert_eq!(f.shortened, shortened);
            assert_eq!(f.omitted, omitted);
        }
        let all = fit_sections(&sections, |i, _| Placed::Whole(i));
        assert_eq!(all.note("Slack", &r, None), None);
        let none = fit_sections(&sections, |_, _| Placed::<()>::NoRoom);
        assert_eq!(
            none.note("Slack", &r, Some("https://r.example/42"))
                .as_deref(),
            Some(
                "Cut to fit Slack: 2 more sections not shown (Lead: modified, Relations since 2024: added). Full report: https://r.example/42"
            )
        );
        let one = fit_sections(&sections, |_, _| Placed::ShortenedLast(()));
        assert_eq!(
            one.note("Teams", &r, None).as_deref(),
            Some(
                "Cut to fit Teams: shortened Lead: modified; 1 more section not shown (Relations since 2024: added). Full report: `redliner history nato-belarus`"
            )
        );
    }
}
