//! The words of a target's history (`redliner history`): a revision's counts
//! on one line.

use crate::revision::ChangeSummary;

/// `1 added, 2 modified, 1 moved; +34 -12 words` (zero counts left out).
///
/// The sections are counted as the redline's summary line counts them
/// ([`super::summary::section_parts`] over
/// [`ChangeSummary::section_counts`]): each changed section once, under its
/// own kind, so a renamed section is `1 renamed`, never also `1 modified`.
pub fn summary_text(s: &ChangeSummary) -> String {
    let sections = super::summary::section_parts(&s.section_counts());
    let sections = if sections.is_empty() {
        "no section changed".to_string()
    } else {
        sections
    };
    format!("{sections}; +{} -{} words", s.words_added, s.words_removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_text_leaves_out_zeros() {
        let cases = [
            (ChangeSummary::default(), "no section changed; +0 -0 words"),
            (
                ChangeSummary {
                    sections_added: 1,
                    sections_moved: 2,
                    words_added: 5,
                    ..ChangeSummary::default()
                },
                "1 added, 2 moved; +5 -0 words",
            ),
            // regression: history said `1 modified, 1 renamed` where the
            // redline said `1 renamed` (a renamed section is not also modified)
            (
                ChangeSummary {
                    sections_total: 5,
                    sections_modified: 1,
                    sections_renamed: 1,
                    ..ChangeSummary::default()
                },
                "1 renamed; +0 -0 words",
            ),
            (
                ChangeSummary {
                    sections_total: 5,
                    sections_removed: 1,
                    sections_modified: 3,
                    sections_renamed: 1,
                    words_added: 4,
                    words_removed: 40,
                    ..ChangeSummary::default()
                },
                "1 removed, 2 modified, 1 renamed; +4 -40 words",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(summary_text(&s), want);
        }
    }
}
