//! The extract stage: a page's HTML to a [`Document`] of sections and blocks,
//! plus title and stamp.

use url::Url;

use crate::document::Document;
use crate::target::Rules;

/// Why a page yielded no usable document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The content root was found but holds (nearly) no text.
    #[error("content root `{selector}` holds {chars} characters of text (minimum {min})")]
    EmptyContent {
        /// Selector or fallback name used.
        selector: String,
        /// Characters of text found.
        chars: usize,
        /// The configured minimum.
        min: usize,
    },
}

/// Extracts a document from a page's HTML.
///
/// `base` (the page's final URL) resolves relative links.
///
/// # Errors
/// [`ExtractError::EmptyContent`] when the root has fewer than
/// `rules.min_text_chars` characters of text.
pub fn extract(html: &str, base: Option<&Url>, rules: &Rules) -> Result<Document, ExtractError> {
    let _ = (html, base, rules);
    Err(ExtractError::EmptyContent { selector: String::new(), chars: 0, min: rules.min_text_chars })
}
