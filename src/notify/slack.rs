//! Slack incoming-webhook payloads in Block Kit: a header (title and kind), a
//! context line (target, URL, stamps, summary), the redline's notes (a
//! revert, an alternating page, a fallback content root, ...) as a
//! `:warning:` section, one section per changed
//! section with its redline in mrkdwn (`*inserted*`, `~deleted~`), and a note
//! when Slack's limits forced a cut.
//!
//! Limits (Slack's Block Kit reference): at most 50 blocks per message, 3000
//! characters per section text, 150 per header text.

use serde_json::{Value, json};

use super::alert::{Alert, HealthAlert, RevisionAlert};
use super::fit::{Placed, fit_sections};
use super::text;
use crate::report::summary::BlockLine;

/// Most blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// Most characters in one section block's text.
pub const MAX_SECTION_CHARS: usize = 3000;
/// Most characters in a header block's text.
pub const MAX_HEADER_CHARS: usize = 150;

/// The Block Kit payload for an alert: `{"text": fallback, "blocks": [...]}`.
pub fn payload(alert: &Alert) -> Value {
    match alert {
        Alert::Revision(r) => revision_payload(r),
        Alert::Health(s) => health_payload(s),
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn header(text: &str) -> Value {
    let (t, _) = text::cut_chars(text, MAX_HEADER_CHARS, "…");
    json!({"type": "header", "text": {"type": "plain_text", "text": t, "emoji": false}})
}

fn context(texts: &[String]) -> Value {
    let elements: Vec<Value> = texts
        .iter()
        .take(10)
        .map(|t| json!({"type": "mrkdwn", "text": text::cut_chars(t, MAX_SECTION_CHARS, "…").0}))
        .collect();
    json!({"type": "context", "elements": elements})
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// A redline line in mrkdwn: `• _label:_ text with *inserted* ~deleted~`,
/// and a `◦` line under it per changed link.
pub fn mrkdwn_line(line: &BlockLine) -> String {
    let body = text::render_pieces(&line.pieces, &escape, ("*", "*"), ("~", "~"));
    let mut out = match &line.label {
        Some(l) => format!("\u{2022} _{}:_ {body}", escape(l)),
        None => format!("\u{2022} {body}"),
    };
    for link in line.links {
        out.push_str(&format!(
            "\n    \u{25e6} {}",
            escape(&text::link_line(link))
        ));
    }
    out
}

fn revision_payload(alert: &RevisionAlert) -> Value {
    let r = &alert.redline;
    let headline = alert.headline();
    let mut top = vec![match &r.link {
        Some(link) => format!(
            "`{}` · {} · <{}|this revision in redliner>",
            escape(&r.target),
            escape(&r.url),
            escape(link)
        ),
        None => format!("`{}` · {}", escape(&r.target), escape(&r.url)),
    }];
    if let Some(s) = text::stamps_line(r) {
        top.push(escape(&s));
    }
    top.push(escape(&format!(
        "{} · {}",
        text::checked_line(r),
        text::summary_text(r)
    )));

    // A long title is cut, never the revert/alternating flag after it.
    let flag = alert.headline_flag();
    let header_room = MAX_HEADER_CHARS - flag.chars().count();
    let header_text = format!(
        "{}{flag}",
        text::cut_chars(&text::headline(r), header_room, "…").0
    );
    let mut head = vec![header(&header_text), context(&top)];
    if alert.sample {
        head.push(context(&[format!("_{}_", text::SAMPLE_NOTE)]));
    }
    if let Some(note) = text::kind_note(r) {
        head.push(section(&format!(":warning: *{}*", escape(&note))));
    }
    if let Some(block) = notes_section(r) {
        head.push(block);
    }
    let mut tail = Vec::new();
    if let Some(u) = text::unchanged_line(r) {
        tail.push(context(&[escape(&u)]));
    }

    let views = text::sections(r);
    let room = MAX_BLOCKS - head.len() - tail.len();
    // One block stays for the cut note when not every section fits.
    let shown = if views.len() <= room {
        views.len()
    } else {
        room - 1
    };
    let fitted = fit_sections(&views, |i, v| {
        if i >= shown {
            return Placed::NoRoom;
        }
        let lines: Vec<String> = v.blocks.iter().map(mrkdwn_line).collect();
        let full = format!("*{}*\n{}", escape(&v.title()), lines.join("\n"));
        match text::cut_chars(&full, MAX_SECTION_CHARS, "\n_\u{2026} (cut)_") {
            (t, true) => Placed::Shortened(section(&t)),
            (t, false) => Placed::Whole(section(&t)),
        }
    });
    let note = fitted.note("Slack", r, alert.report_location.as_deref());
    let mut blocks = head;
    blocks.extend(fitted.placed);
    if let Some(note) = note {
        tail.push(context(&[format!("_{}_", escape(&note))]));
    }
    blocks.extend(tail);
    json!({
        "text": format!("{headline} · {}", text::summary_text(r)),
        "blocks": blocks,
    })
}

/// The redline's notes ([`text::notes`]) as one mrkdwn section, a
/// `:warning:` line each, cut to [`MAX_SECTION_CHARS`]; `None` without notes.
fn notes_section(r: &crate::report::Redline) -> Option<Value> {
    let notes = text::notes(r);
    if notes.is_empty() {
        return None;
    }
    let lines: Vec<String> = notes
        .iter()
        .map(|n| format!(":warning: {}", escape(n)))
        .collect();
    let (t, _) = text::cut_chars(&lines.join("\n"), MAX_SECTION_CHARS, "…");
    Some(section(&t))
}

fn health_payload(s: &HealthAlert) -> Value {
    let headline = format!("{}: {}", s.target, s.state);
    let mut text = escape(&s.sentence());
    if let Some(e) = s.error_line() {
        text.push('\n');
        text.push_str(&escape(&e));
    }
    let (text, _) = text::cut_chars(&text, MAX_SECTION_CHARS, "…");
    json!({
        "text": format!("{headline} · {}", s.sentence()),
        "blocks": [header(&headline), section(&text)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::policy::{HealthChange, HealthState};
    use crate::notify::text::tests::{block, example, section as diff_section};
    use crate::revision::{BlockChangeKind, SectionChange};

    #[test]
    fn revision_payload_is_exact() {
        let got = payload(&Alert::revision(example(), None));
        let want = json!({
            "text": "Relations with Belarus: revised 14 Nov. 2026 · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Relations with Belarus: revised 14 Nov. 2026", "emoji": false}},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": "`nato-belarus` · https://www.nato.int/cps/en/natohq/topics_49119.htm"},
                    {"type": "mrkdwn", "text": "Last updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)"},
                    {"type": "mrkdwn", "text": "Checked 2026-11-14 10:00 UTC · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"},
                ]},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Lead: modified*\n• The mission opened in April ~1998.~*1998 and closed in 2025.*"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Relations since 2024: added*\n• Allies monitor &lt;forces&gt; &amp; more."}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Unchanged: Key areas · Background"}]},
            ]
        });
        assert_eq!(got, want);
    }

    #[test]
    fn silent_edits_are_flagged() {
        let mut r = example();
        r.revision.kind = crate::revision::RevisionKind::SilentEdit;
        let got = payload(&Alert::revision(r, None));
        assert_eq!(
            got["blocks"][0]["text"]["text"],
            json!("Relations with Belarus: silent edit found 14 Nov. 2026")
        );
        assert_eq!(
            got["blocks"][2],
            json!({"type": "section", "text": {"type": "mrkdwn", "text": ":warning: *Silent edit: the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.*"}})
        );
    }

    #[test]
    fn cuts_at_slack_limits_with_a_note() {
        let mut r = example();
        r.title = Some("T".repeat(200));
        let long = "word ".repeat(1000);
        r.revision.sections = (0..60)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(
                        BlockChangeKind::Inserted,
                        None,
                        Some(if i == 0 { &long } else { "x" }),
                        vec![],
                    )],
                )
            })
            .collect();
        let got = payload(&Alert::revision(
            r,
            Some("snapshots/nato-belarus/2026-11-14".into()),
        ));
        let blocks = got["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), MAX_BLOCKS);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), MAX_HEADER_CHARS);
        assert!(header.ends_with("T…"));
        let first = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(
            first.chars().count() <= MAX_SECTION_CHARS,
            "{}",
            first.chars().count()
        );
        assert!(first.starts_with("*S0: added*\n• word word"));
        assert!(first.ends_with("\n_… (cut)_"));
        // header, context, 46 sections, unchanged, note
        assert_eq!(blocks[47]["text"]["text"], json!("*S45: added*\n• x"));
        let omitted: Vec<String> = (46..60).map(|i| format!("S{i}: added")).collect();
        assert_eq!(
            blocks[49],
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                "_Cut to fit Slack: shortened S0: added; 14 more sections not shown ({}). Full report: snapshots/nato-belarus/2026-11-14_",
                omitted.join(", ")
            )}]})
        );
        for b in blocks {
            if b["type"] == "section" {
                assert!(b["text"]["text"].as_str().unwrap().chars().count() <= MAX_SECTION_CHARS);
            }
        }
    }

    #[test]
    fn health_payloads_are_exact() {
        let since = "2026-11-14T10:00:00Z".parse().unwrap();
        let failing = Alert::health(
            HealthChange {
                state: HealthState::Failing,
                consecutive_failures: 3,
            },
            "nato-belarus",
            "https://www.nato.int/x.htm",
            Some("HTTP 503 <Service Unavailable>".into()),
            since,
        );
        assert_eq!(
            payload(&failing),
            json!({
                "text": "nato-belarus: failing · The last 3 checks of https://www.nato.int/x.htm failed (failing since 2026-11-14 10:00 UTC).",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "nato-belarus: failing", "emoji": false}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "The last 3 checks of https://www.nato.int/x.htm failed (failing since 2026-11-14 10:00 UTC).\nLast error: HTTP 503 &lt;Service Unavailable&gt;"}},
                ]
            })
        );
        let recovered = Alert::health(
            HealthChange {
                state: HealthState::Recovered,
                consecutive_failures: 1,
            },
            "t",
            "https://e.org/",
            None,
            since,
        );
        assert_eq!(
            payload(&recovered)["blocks"][1]["text"]["text"],
            json!(
                "Checks of https://e.org/ work again after 1 failed check (failing since 2026-11-14 10:00 UTC)."
            )
        );
    }

    #[test]
    fn notes_follow_the_context_and_a_revert_says_so() {
        let got = payload(&crate::notify::text::tests::noted_alert());
        let want = json!({
            "text": "Relations with Belarus: revised 14 Nov. 2026 (revert) · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Relations with Belarus: revised 14 Nov. 2026 (revert)", "emoji": false}},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": "`nato-belarus` · https://www.nato.int/cps/en/natohq/topics_49119.htm"},
                    {"type": "mrkdwn", "text": "Last updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)"},
                    {"type": "mrkdwn", "text": "Checked 2026-11-14 10:00 UTC · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"},
                ]},
                {"type": "section", "text": {"type": "mrkdwn", "text": ":warning: Revert: the content equals that of snapshot 40.\n:warning: Content root not found; fallback `#main_content &gt; div` used."}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Lead: modified*\n• The mission opened in April ~1998.~*1998 and closed in 2025.*"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Relations since 2024: added*\n• Allies monitor &lt;forces&gt; &amp; more."}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Unchanged: Key areas · Background"}]},
            ]
        });
        assert_eq!(got, want);
    }

    #[test]
    fn a_long_title_is_cut_before_the_alternating_flag() {
        let mut alert = crate::notify::text::tests::noted_alert();
        let Alert::Revision(a) = &mut alert else {
            unreachable!()
        };
        a.alternating = true;
        a.redline.title = Some("T".repeat(200));
        let got = payload(&alert);
        let header = got["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), MAX_HEADER_CHARS);
        assert!(
            header.ends_with("TT… (alternating between two versions)"),
            "{header}"
        );
    }

    #[test]
    fn notes_count_against_the_block_limit() {
        let mut alert = crate::notify::text::tests::noted_alert();
        let Alert::Revision(a) = &mut alert else {
            unreachable!()
        };
        a.redline.revision.sections = (0..60)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(BlockChangeKind::Inserted, None, Some("x"), vec![])],
                )
            })
            .collect();
        let got = payload(&alert);
        let blocks = got["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), MAX_BLOCKS);
        assert!(
            blocks[2]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with(":warning: Revert:")
        );
        // header, context, notes, 45 sections, unchanged, note
        assert_eq!(blocks[47]["text"]["text"], json!("*S44: added*\n• x"));
        let note = blocks[49]["elements"][0]["text"].as_str().unwrap();
        assert!(
            note.starts_with("_Cut to fit Slack: 15 more sections not shown (S45: added,"),
            "{note}"
        );
    }
}
