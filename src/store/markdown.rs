//! `document.md`: a plain Markdown rendering of a [`Document`] that a person can
//! read, or compare between two snapshots with `git diff` / `diff -u`.
//!
//! Layout: `# title`, the stamp line, the lead's blocks, then per section a
//! heading (`##` for levels 1 and 2, `###` for 3, up to `######`) and its
//! blocks: paragraphs as lines, list items as `- item`, captions in italics,
//! table rows as `| a | b |`, quotes as `> text`, preformatted text fenced.
//! One block per line group, a blank line between groups; consecutive list
//! items (and table rows) form one group, so a list diffs line by line.

use crate::document::{Block, BlockKind, Document};

/// Renders `document` as Markdown (ends with one newline). `fallback_title` is
/// used when the document has no title (the target id, say).
pub fn render(document: &Document, fallback_title: &str) -> String {
    let mut out = String::new();
    let title = document.meta.title.as_deref().unwrap_or(fallback_title);
    out.push_str("# ");
    out.push_str(&one_line(title));
    out.push('\n');
    if let Some(stamp) = &document.meta.stamp {
        out.push('\n');
        out.push_str(&escape_start(&one_line(&stamp.text)));
        out.push('\n');
    } else if let Some(text) = &document.meta.stamp_unreadable {
        out.push_str(&format!(
            "\n_Stamp not readable as a date:_ {}\n",
            escape_start(&one_line(text))
        ));
    }
    if document.meta.root.fallback {
        out.push_str(&format!(
            "\n_Content root not found; fallback `{}` used._\n",
            document.meta.root.selector
        ));
    }
    for section in &document.sections {
        if let Some(heading) = &section.heading {
            let depth = usize::from(section.level).clamp(2, 6);
            out.push('\n');
            out.push_str(&"#".repeat(depth));
            out.push(' ');
            out.push_str(&one_line(heading));
            out.push('\n');
        }
        let mut previous: Option<BlockKind> = None;
        for block in &section.blocks {
            let grouped = matches!(
                (previous, block.kind),
                (Some(BlockKind::ListItem), BlockKind::ListItem)
                    | (Some(BlockKind::TableRow), BlockKind::TableRow)
            );
            if !grouped {
                out.push('\n');
            }
            out.push_str(&render_block(block));
            out.push('\n');
            previous = Some(block.kind);
        }
    }
    out
}

fn render_block(block: &Block) -> String {
    match block.kind {
        BlockKind::Paragraph => escape_start(&one_line(&block.text)),
        BlockKind::ListItem => format!("- {}", one_line(&block.text)),
        BlockKind::Caption => format!("*{}*", one_line(&block.text)),
        BlockKind::TableRow => format!("| {} |", one_line(&block.text)),
        BlockKind::Quote => format!("> {}", one_line(&block.text)),
        BlockKind::Preformatted => {
            let fence = if block.text.contains("```") {
                "~~~~"
            } else {
                "```"
            };
            format!("{fence}\n{}\n{fence}", block.text.trim_end_matches('\n'))
        }
    }
}

/// Block text is already whitespace-normalised, but a stray newline would break
/// the one-block-per-line layout.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A paragraph that starts like Markdown syntax (`# `, `- `, `> `, `1. `) gets a
/// backslash so it stays a paragraph.
fn escape_start(s: &str) -> String {
    let starts_like_syntax = s.starts_with(['#', '>', '-', '*', '+', '|'])
        || s.split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if starts_like_syntax {
        format!("\\{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{ContentRoot, DocumentMeta, Section, SectionKey};
    use crate::stamp::Stamp;

    fn section(heading: Option<&str>, level: u8, blocks: Vec<Block>) -> Section {
        Section {
            key: SectionKey(heading.map(|h| vec![h.to_lowercase()]).unwrap_or_default()),
            heading: heading.map(str::to_string),
            level,
            blocks,
        }
    }

    #[test]
    fn renders_every_block_kind() {
        let doc = Document {
            meta: DocumentMeta {
                stamp_unreadable: None,
                extraction: None,
                title: Some("Relations with Belarus".into()),
                stamp: Some(Stamp {
                    text: "Last updated: 28 Aug. 2024 11:27".into(),
                    date: jiff::civil::date(2024, 8, 28),
                    time: Some(jiff::civil::time(11, 27, 0, 0)),
                    instant: None,
                    shown: String::new(),
                    source: crate::stamp::StampSource::Text,
                    zone: "Europe/Brussels".into(),
                    class: crate::stamp::StampClass::Updated,
                    also: Vec::new(),
                }),
                root: ContentRoot {
                    selector: "section.content".into(),
                    fallback: false,
                },
            },
            sections: vec![
                section(
                    None,
                    0,
                    vec![
                        Block::new(
                            BlockKind::Paragraph,
                            "NATO and Belarus began relations in 1992.",
                        ),
                        Block::new(BlockKind::Caption, "A photo"),
                        Block::new(BlockKind::ListItem, "Highlight one"),
                        Block::new(BlockKind::ListItem, "Highlight two"),
                    ],
                ),
                section(
                    Some("Key areas"),
                    2,
                    vec![
                        Block::new(BlockKind::Paragraph, "1. Not a list"),
                        Block::new(BlockKind::TableRow, "Year | Event"),
                        Block::new(BlockKind::TableRow, "1992 | NACC"),
                        Block::new(BlockKind::Quote, "Quoted"),
                    ],
                ),
                section(
                    Some("Detail"),
                    3,
                    vec![Block::new(BlockKind::Preformatted, "a  b\n  c")],
                ),
            ],
        };
        let want = "# Relations with Belarus\n\
            \n\
            Last updated: 28 Aug. 2024 11:27\n\
            \n\
            NATO and Belarus began relations in 1992.\n\
            \n\
            *A photo*\n\
            \n\
            - Highlight one\n\
            - Highlight two\n\
            \n\
            ## Key areas\n\
            \n\
            \\1. Not a list\n\
            \n\
            | Year | Event |\n\
            | 1992 | NACC |\n\
            \n\
            > Quoted\n\
            \n\
            ### Detail\n\
            \n\
            ```\n\
            a  b\n  c\n\
            ```\n";
        assert_eq!(render(&doc, "nato-belarus"), want);
    }

    #[test]
    fn untitled_document_uses_the_fallback_and_shows_the_root_fallback() {
        let doc = Document {
            meta: DocumentMeta {
                stamp_unreadable: None,
                extraction: None,
                title: None,
                stamp: None,
                root: ContentRoot {
                    selector: "main".into(),
                    fallback: true,
                },
            },
            sections: vec![section(
                Some("Only"),
                1,
                vec![Block::new(BlockKind::Paragraph, "Text")],
            )],
        };
        assert_eq!(
            render(&doc, "nato-belarus"),
            "# nato-belarus\n\n_Content root not found; fallback `main` used._\n\n## Only\n\nText\n"
        );
    }
}
