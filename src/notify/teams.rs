//! Microsoft Teams payloads for a Workflows ("Post to a channel when a webhook
//! request is received") webhook: a message with one Adaptive Card (1.4).
//! The old Office 365 connector webhooks are retired, so no MessageCard.
//!
//! Changed text is a `RichTextBlock` per changed block, with `TextRun`s:
//! deletions struck through in the `Attention` colour, insertions bold in
//! `Good`. The redline's notes (a revert, an alternating page, a fallback
//! content root, ...) follow the facts as `Warning`-coloured text. Teams rejects messages over about 28 KB, so the card body is kept
//! under [`MAX_BODY_BYTES`] of JSON; what did not fit is named in a note with
//! where the full report is.

use serde_json::{Value, json};

use super::alert::{Alert, HealthAlert, RevisionAlert};
use super::fit::{Placed, fit_sections};
use super::text;
use crate::report::summary::{BlockLine, Piece};
use crate::revision::SpanTag;

/// Most bytes of serialized card body elements (leaves room for the envelope
/// under Teams' ~28 KB message limit).
pub const MAX_BODY_BYTES: usize = 24_000;

/// Most characters of one note ([`text::notes`]) in its `TextBlock`.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The Workflows webhook payload for an alert.
pub fn payload(alert: &Alert) -> Value {
    let (body, url) = match alert {
        Alert::Revision(r) => (revision_body(r), &r.redline.url),
        Alert::Health(s) => (health_body(s), &s.url),
    };
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": "Open the page", "url": url}],
            }
        }]
    })
}

fn text_block(text: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true})
}

fn subtle(text: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true, "isSubtle": true, "size": "Small"})
}

fn title(text: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true, "size": "Large", "weight": "Bolder", "style": "heading"})
}

/// One changed block as a `RichTextBlock` (a gap of unchanged words left
/// out is `…`), then a small `TextBlock` per changed link.
pub fn rich_line(line: &BlockLine) -> Vec<Value> {
    let mut inlines = vec![json!({"type": "TextRun", "text": "\u{2022} "})];
    if let Some(l) = &line.label {
        inlines.push(json!({"type": "TextRun", "text": format!("{l}: "), "italic": true}));
    }
    for piece in &line.pieces {
        inlines.push(match piece {
            Piece::Gap => json!({"type": "TextRun", "text": "\u{2026}"}),
            Piece::Text(SpanTag::Equal, t) => json!({"type": "TextRun", "text": t}),
            Piece::Text(SpanTag::Insert, t) => {
                json!({"type": "TextRun", "text": t, "weight": "Bolder", "color": "Good"})
            }
            Piece::Text(SpanTag::Delete, t) => {
                json!({"type": "TextRun", "text": t, "strikethrough": true, "color": "Attention"})
            }
        });
    }
    let mut out = vec![json!({"type": "RichTextBlock", "inlines": inlines})];
    for link in line.links {
        out.push(subtle(&text::link_line(link)));
    }
    out
}

fn size_of(v: &Value) -> usize {
    serde_json::to_string(v).map_or(0, |s| s.len())
}

fn revision_body(alert: &RevisionAlert) -> Vec<Value> {
    let r = &alert.redline;
    let mut facts = vec![
        json!({"title": "Target", "value": r.target}),
        json!({"title": "Page", "value": r.url}),
    ];
    if let Some(link) = &r.link {
        facts.push(json!({"title": "In redliner", "value": link}));
    }
    if let Some(s) = text::stamps_line(r) {
        let value = s.trim_start_matches("Last updated: ").to_string();
        facts.push(json!({"title": "Last updated", "value": value}));
    }
    facts.push(json!({"title": "Checked", "value": r.new_captured_at.strftime("%Y-%m-%d %H:%M UTC").to_string()}));
    facts.push(json!({"title": "Changes", "value": text::summary_text(r)}));

    let mut body = vec![title(&alert.headline())];
    if alert.sample {
        body.push(subtle(text::SAMPLE_NOTE));
    }
    if let Some(note) = text::kind_note(r) {
        body.push(json!({"type": "TextBlock", "text": note, "wrap": true, "weight": "Bolder", "color": "Attention"}));
    }
    body.push(json!({"type": "FactSet", "facts": facts}));
    // Counted in `used` below, so the sections' cut leaves room for them.
    for note in text::notes(r) {
        let (note, _) = text::cut_chars(&note, MAX_NOTE_CHARS, "…");
        body.push(json!({"type": "TextBlock", "text": note, "wrap": true, "color": "Warning"}));
    }

    let mut used: usize = body.iter().map(size_of).sum();
    let views = text::sections(r);
    let fitted = fit_sections(&views, |_, v| {
        let head = json!({"type": "TextBlock", "text": v.title(), "wrap": true, "weight": "Bolder", "spacing": "Medium"});
        if used + size_of(&head) > MAX_BODY_BYTES {
            return Placed::NoRoom;
        }
        used += size_of(&head);
        let mut els = vec![head];
        for line in &v.blocks {
            let rendered = rich_line(line);
            let size: usize = rendered.iter().map(size_of).sum();
            if used + size > MAX_BODY_BYTES {
                // The rest of this line, as plain text cut to what is left.
                let room = MAX_BODY_BYTES.saturating_sub(used + 200) / 4;
                if room > 40 {
                    let (t, _) = text::cut_chars(&text::plain_line(line), room, "\u{2026}");
                    els.push(text_block(&t));
                }
                return Placed::ShortenedLast(els);
            }
            used += size;
            els.extend(rendered);
        }
        Placed::Whole(els)
    });
    body.extend(fitted.placed.iter().flatten().cloned());
    if let Some(u) = text::unchanged_line(r) {
        body.push(subtle(&u));
    }
    if let Some(note) = fitted.note("Teams", r, alert.report_location.as_deref()) {
        body.push(subtle(&text::cut_chars(&note, 2000, "\u{2026}").0));
    }
    body
}

fn health_body(s: &HealthAlert) -> Vec<Value> {
    let mut body = vec![
        title(&format!("{}: {}", s.target, s.state)),
        text_block(&s.sentence()),
    ];
    if let Some(e) = s.error_line() {
        body.push(json!({"type": "TextBlock", "text": text::cut_chars(&e, 2000, "…").0, "wrap": true, "color": "Attention"}));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::policy::{HealthChange, HealthState};
    use crate::notify::text::tests::{block, example, section as diff_section};
    use crate::revision::{BlockChangeKind, SectionChange};

    fn card(v: &Value) -> &Value {
        &v["attachments"][0]["content"]
    }

    #[test]
    fn revision_card_is_exact() {
        let got = payload(&Alert::revision(example(), None));
        let want = json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": [
                        {"type": "TextBlock", "text": "Relations with Belarus: revised 14 Nov. 2026", "wrap": true, "size": "Large", "weight": "Bolder", "style": "heading"},
                        {"type": "FactSet", "facts": [
                            {"title": "Target", "value": "nato-belarus"},
                            {"title": "Page", "value": "https://www.nato.int/cps/en/natohq/topics_49119.htm"},
                            {"title": "Last updated", "value": "28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)"},
                            {"title": "Checked", "value": "2026-11-14 10:00 UTC"},
                            {"title": "Changes", "value": "2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"},
                        ]},
                        {"type": "TextBlock", "text": "Lead: modified", "wrap": true, "weight": "Bolder", "spacing": "Medium"},
                        {"type": "RichTextBlock", "inlines": [
                            {"type": "TextRun", "text": "• "},
                            {"type": "TextRun", "text": "The mission opened in April "},
                            {"type": "TextRun", "text": "1998.", "strikethrough": true, "color": "Attention"},
                            {"type": "TextRun", "text": "1998 and closed in 2025.", "weight": "Bolder", "color": "Good"},
                        ]},
                        {"type": "TextBlock", "text": "Relations since 2024: added", "wrap": true, "weight": "Bolder", "spacing": "Medium"},
                        {"type": "RichTextBlock", "inlines": [
                            {"type": "TextRun", "text": "• "},
                            {"type": "TextRun", "text": "Allies monitor <forces> & more."},
                        ]},
                        {"type": "TextBlock", "text": "Unchanged: Key areas · Background", "wrap": true, "isSubtle": true, "size": "Small"},
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "Open the page", "url": "https://www.nato.int/cps/en/natohq/topics_49119.htm"}],
                }
            }]
        });
        assert_eq!(got, want);
    }

    #[test]
    fn big_revisions_are_cut_with_a_note() {
        let mut r = example();
        r.revision.sections = (0..40)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(
                        BlockChangeKind::Inserted,
                        None,
                        Some(&"word ".repeat(200)),
                        vec![],
                    )],
                )
            })
            .collect();
        let got = payload(&Alert::revision(
            r,
            Some("https://reports.example.org/42".into()),
        ));
        let body = card(&got)["body"].as_array().unwrap();
        let total: usize = body.iter().map(size_of).sum();
        assert!(total <= MAX_BODY_BYTES + 2500, "{total}");
        assert!(serde_json::to_string(&got).unwrap().len() < 28_000);
        let note = body.last().unwrap()["text"].as_str().unwrap();
        assert_eq!(
            note,
            "Cut to fit Teams: shortened S19: added; 20 more sections not shown (S20: added, S21: added, S22: added, S23: added, S24: added, S25: added, S26: added, S27: added, S28: added, S29: added, S30: added, S31: added, S32: added, S33: added, S34: added, S35: added, S36: added, S37: added, S38: added, S39: added). Full report: https://reports.example.org/42"
        );
    }

    #[test]
    fn health_card_is_exact() {
        let a = Alert::health(
            HealthChange {
                state: HealthState::Failing,
                consecutive_failures: 3,
            },
            "nato-belarus",
            "https://www.nato.int/x.htm",
            Some("HTTP 503".into()),
            "2026-11-14T10:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            card(&payload(&a))["body"],
            json!([
                {"type": "TextBlock", "text": "nato-belarus: failing", "wrap": true, "size": "Large", "weight": "Bolder", "style": "heading"},
                {"type": "TextBlock", "text": "The last 3 checks of https://www.nato.int/x.htm failed (failing since 2026-11-14 10:00 UTC).", "wrap": true},
                {"type": "TextBlock", "text": "Last error: HTTP 503", "wrap": true, "color": "Attention"},
            ])
        );
    }

    #[test]
    fn notes_follow_the_facts_and_a_revert_says_so() {
        let got = payload(&crate::notify::text::tests::noted_alert());
        let body = card(&got)["body"].as_array().unwrap();
        assert_eq!(body.len(), 9);
        assert_eq!(
            body[..4],
            [
                json!({"type": "TextBlock", "text": "Relations with Belarus: revised 14 Nov. 2026 (revert)", "wrap": true, "size": "Large", "weight": "Bolder", "style": "heading"}),
                json!({"type": "FactSet", "facts": [
                    {"title": "Target", "value": "nato-belarus"},
                    {"title": "Page", "value": "https://www.nato.int/cps/en/natohq/topics_49119.htm"},
                    {"title": "Last updated", "value": "28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)"},
                    {"title": "Checked", "value": "2026-11-14 10:00 UTC"},
                    {"title": "Changes", "value": "2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"},
                ]}),
                json!({"type": "TextBlock", "text": "Revert: the content equals that of snapshot 40.", "wrap": true, "color": "Warning"}),
                json!({"type": "TextBlock", "text": "Content root not found; fallback `#main_content > div` used.", "wrap": true, "color": "Warning"}),
            ]
        );
        // the rest is the card without notes, after its title and facts
        let plain = payload(&Alert::revision(example(), None));
        assert_eq!(body[4..], card(&plain)["body"].as_array().unwrap()[2..]);
    }

    #[test]
    fn notes_count_against_the_body_limit() {
        let mut alert = crate::notify::text::tests::noted_alert();
        let Alert::Revision(a) = &mut alert else {
            unreachable!()
        };
        a.alternating = true;
        a.redline.notes.push("N".repeat(3000));
        a.redline.revision.sections = (0..40)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(
                        BlockChangeKind::Inserted,
                        None,
                        Some(&"word ".repeat(200)),
                        vec![],
                    )],
                )
            })
            .collect();
        let got = payload(&alert);
        let body = card(&got)["body"].as_array().unwrap();
        assert_eq!(
            body[0]["text"],
            json!(
                "Relations with Belarus: revised 14 Nov. 2026 (alternating between two versions)"
            )
        );
        let long_note = body[4]["text"].as_str().unwrap();
        assert_eq!(long_note.chars().count(), MAX_NOTE_CHARS);
        assert!(long_note.ends_with("N…"));
        let total: usize = body.iter().map(size_of).sum();
        assert!(total <= MAX_BODY_BYTES + 2500, "{total}");
        assert!(serde_json::to_string(&got).unwrap().len() < 28_000);
        let note = body.last().unwrap()["text"].as_str().unwrap();
        assert!(
            note.starts_with("Cut to fit Teams: shortened S17: added; 22 more sections"),
            "{note}"
        );
    }
}
