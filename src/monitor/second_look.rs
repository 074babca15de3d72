//! The second look at a page before it becomes a record: a content change
//! confirmed by a second fetch after `confirm_after`, a body that looks cut
//! fetched again at once, and a body its charset cannot decode refused
//! unless the previous snapshot's could not be decoded either.

#[allow(clippy::wildcard_imports)]
use super::*;

impl<F: Fetch, S: CheckStore> Monitor<F, S> {
    /// Fetches the page a second time (a plain GET, no validators) after the
    /// target's `confirm_after`, and compares the content fingerprints; a zero
    /// wait confirms nothing (a body that looks cut was fetched again already).
    pub(super) async fn confirm(&self, target: &Target, document: &Document) -> Confirmation {
        let wait = target.confirm_after;
        if wait.is_zero() {
            return Confirmation::NotNeeded;
        }
        info!(target = %target.id, wait_ms = wait.as_millis() as u64, "confirming the change");
        tokio::time::sleep(wait).await;
        let after = jiff::SignedDuration::try_from(wait)
            .map(|d| format!("{d:#}"))
            .unwrap_or_else(|_| format!("{} ms", wait.as_millis()));
        let second = match self.fetch_second(target).await {
            Ok(p) => p,
            Err(why) => {
                return Confirmation::Refuted(format!("the second fetch after {after} {why}"));
            }
        };
        match self.extract(target, &second) {
            Ok(d) if d.fingerprint() == document.fingerprint() => Confirmation::Confirmed,
            Ok(_) => {
                Confirmation::Refuted(format!("the second fetch after {after} gave other content"))
            }
            Err(e) => Confirmation::Refuted(format!(
                "the second fetch after {after} did not extract: {e}"
            )),
        }
    }

    /// A second, plain GET of the target (no validators), decoded as the
    /// first: the page, or what went wrong in words that follow "the second
    /// fetch" (`failed: ...`, `answered 304 to a plain GET`, `is not
    /// decodable: ...`).
    pub(super) async fn fetch_second(
        &self,
        target: &Target,
    ) -> std::result::Result<FetchedPage, String> {
        let mut page = match self.fetch(target, None).await {
            Ok(Fetched::Page(p)) => p,
            Ok(Fetched::NotModified) => return Err("answered 304 to a plain GET".into()),
            Err(e) => return Err(format!("failed: {e}")),
        };
        if target.charset.is_some() {
            page.decode(target.charset);
        }
        match page.undecodable() {
            Some(e) => Err(format!("failed: {e}")),
            None => Ok(page),
        }
    }

    /// Refuses a page whose body has bytes its charset cannot decode
    /// ([`crate::fetch::FetchError::Undecodable`]), unless the previous
    /// snapshot's body had such bytes too (a page that always had them is
    /// read as before): then the note saying so.
    ///
    /// # Errors
    /// [`Error::Fetch`] with the undecodable error.
    pub(super) fn decoding_checked(
        &self,
        target: &Target,
        previous: Option<&SnapshotRow>,
        page: &FetchedPage,
    ) -> Result<Option<String>> {
        let Some(error) = page.undecodable() else {
            return Ok(None);
        };
        let had_them = previous.is_some_and(|p| {
            let Some(enc) = crate::fetch::encoding_for_label(&p.charset) else {
                return false;
            };
            let body = self.store().raw_body(p);
            match body {
                Ok(body) => crate::fetch::malformed_bytes(enc, &body) > 0,
                Err(e) => {
                    debug!(target = %target.id, "previous body unreadable: {e}");
                    false
                }
            }
        });
        if !had_them {
            return Err(Error::Fetch {
                target: target.id.clone(),
                source: error,
            });
        }
        let note = format!(
            "{} {} of the page cannot be decoded as {} (shown as U+FFFD), as in the previous snapshot",
            page.malformed,
            if page.malformed == 1 { "byte" } else { "bytes" },
            page.charset
        );
        info!(target = %target.id, "{note}");
        Ok(Some(note))
    }

    /// Why the fetched page looks cut (see [`layout::looks_cut`]), or `None`.
    /// Only a page that differs from the previous snapshot (or did not
    /// extract, or is the first) is looked at: a cut that leaves the content
    /// and stamp as they were changes nothing.
    pub(super) fn cut_sign(
        &self,
        target: &Target,
        previous: Option<&StoredSnapshot>,
        page: &FetchedPage,
        extracted: Option<(&Document, &str)>,
    ) -> Option<layout::CutSign> {
        let document = extracted.map(|(d, _)| d);
        // The stored content hash is the stored document's fingerprint
        // (kept so when a document is rewritten): not computed again.
        if let (Some(p), Some((d, hash))) = (previous, extracted)
            && p.row.content_hash == hash
            && !crate::stamp::changed(p.document.meta.stamp.as_ref(), d.meta.stamp.as_ref())
        {
            return None;
        }
        // The previous body is read only for the signs that compare bodies:
        // a closing tag lost (the new body has none) or a shorter body
        // whose end only the closed connection marked. Otherwise an empty
        // one stands in: it closes nothing and is never the longer.
        let bodies_compared = page.close_delimited || !layout::closes(&page.body);
        let old_body = previous.and_then(|p| {
            if !bodies_compared {
                return Some(Vec::new());
            }
            match self.store().raw_body(&p.row) {
                Ok(b) => Some(b),
                Err(e) => {
                    debug!(target = %target.id, "previous body unreadable, compared signs of a cut skipped: {e}");
                    None
                }
            }
        });
        let old = previous
            .zip(old_body.as_deref())
            .map(|(p, b)| (b, &p.document));
        layout::looks_cut(&layout::Bodies {
            old,
            new_body: &page.body,
            new_close_delimited: page.close_delimited,
            new_cut_mid_character: page.cut_mid_character,
            new: document,
        })
    }

    /// A body cut in transit is fetched again at once, before anything is
    /// compared or stored: whole the second time, the second page replaces
    /// the first in `hand` (and must then equal the previous snapshot);
    /// cut the same way twice, it is believed and flagged. `Err`: anything
    /// else, with the note of the `unconfirmed` check (nothing is stored).
    pub(super) async fn look_again_if_cut(
        &self,
        target: &Target,
        previous: Option<&StoredSnapshot>,
        hand: &mut InHand,
    ) -> std::result::Result<CutSeen, String> {
        let first = hand.document.as_ref().ok();
        let Some(sign) = self.cut_sign(
            target,
            previous,
            &hand.page,
            first.zip(hand.hash.as_deref()),
        ) else {
            return Ok(CutSeen::default());
        };
        let old_body = previous.and_then(|p| self.store().raw_body(&p.row).ok());
        let old = previous
            .zip(old_body.as_deref())
            .map(|(p, b)| (b, &p.document));
        info!(target = %target.id, "the body looks cut ({}); fetching it again", sign.describe());
        match self.refetch_cut(target, old, first).await {
            CutCheck::Whole(second) => {
                let (page, document) = *second;
                *hand = InHand {
                    page,
                    document: Ok(document),
                    hash: None,
                    taken: None,
                };
                Ok(CutSeen {
                    repaired: Some(sign),
                    confirmed: None,
                })
            }
            CutCheck::Same => Ok(CutSeen {
                repaired: None,
                confirmed: Some(sign),
            }),
            CutCheck::Other(why) => Err(format!(
                "the first fetch looked cut ({}); {why}",
                sign.describe()
            )),
        }
    }

    /// Fetches a page that looked cut again, at once, and says what the
    /// second fetch gave: a whole page, the same cut content, or other.
    pub(super) async fn refetch_cut(
        &self,
        target: &Target,
        old: Option<(&[u8], &Document)>,
        first: Option<&Document>,
    ) -> CutCheck {
        let second = match self.fetch_second(target).await {
            Ok(p) => p,
            Err(why) => return CutCheck::Other(format!("the second fetch {why}")),
        };
        let document = match self.extract(target, &second) {
            Ok(d) => d,
            Err(e) => return CutCheck::Other(format!("the second fetch did not extract: {e}")),
        };
        let cut = layout::looks_cut(&layout::Bodies {
            old,
            new_body: &second.body,
            new_close_delimited: second.close_delimited,
            new_cut_mid_character: second.cut_mid_character,
            new: Some(&document),
        });
        match (cut, first) {
            (None, _) => CutCheck::Whole(Box::new((second, document))),
            (Some(_), Some(f)) if f.fingerprint() == document.fingerprint() => CutCheck::Same,
            (Some(sign), _) => CutCheck::Other(format!(
                "the second fetch gave other content, cut as well ({})",
                sign.describe()
            )),
        }
    }
}

/// The note a page that looked cut and was fetched twice with the same
/// content carries, stored with it (the reader must know why it was believed).
pub(super) fn cut_confirmed_note(sign: layout::CutSign) -> String {
    format!(
        "the page looked cut ({}); confirmed by a second fetch",
        sign.describe()
    )
}

/// A page on its way through one check: the page (the second fetch's when
/// the first looked cut and the second was whole), its extraction or why it
/// failed, the document's fingerprint once taken, and what the fingerprint
/// comparison took (for the snapshot).
pub(super) struct InHand {
    pub(super) page: FetchedPage,
    pub(super) document: Result<Document>,
    pub(super) hash: Option<String>,
    pub(super) taken: Option<Source>,
}

/// Whether a page looked cut, and what its second fetch made of it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CutSeen {
    /// The first fetch looked cut; the second was whole and replaced it.
    pub(super) repaired: Option<layout::CutSign>,
    /// Both fetches gave the same cut content: believed, and flagged.
    pub(super) confirmed: Option<layout::CutSign>,
}

/// What the second fetch of a page that looked cut gave.
#[derive(Debug)]
pub(super) enum CutCheck {
    /// A page that looks whole, and its document.
    Whole(Box<(FetchedPage, Document)>),
    /// The same content, cut as well: believed, and flagged.
    Same,
    /// Other content, or none: why, in words that follow "the first fetch
    /// looked cut (...); ".
    Other(String),
}

/// What the second fetch said about a content change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Confirmation {
    /// No second fetch (`confirm_after` is zero).
    NotNeeded,
    /// Both fetches gave the same content.
    Confirmed,
    /// The second fetch gave other content, or none: why, in one line.
    Refuted(String),
}
