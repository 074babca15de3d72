//! Site chrome: the elements dropped before any text is taken (navigation,
//! banners, share bars, scripts, hidden elements), and the tree walk that
//! skips them.
//!
//! Class, id, role and aria-label heuristics match whole tokens or whole
//! `-`/`_`-separated parts of a token (`share-bar` → `share`), never substrings,
//! so content classes such as `shareholders` or `unrelated` are kept.

use std::collections::HashSet;

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node, Selector};

use crate::target::Rules;

mod text;
pub(crate) use text::*;

/// Elements whose text is never shown to a reader: scripts, styles, the
/// fallback of `<noscript>` and templates. The walk skips them; so does
/// [`visible_text`].
pub(crate) const NEVER_SHOWN: &[&str] = &["script", "style", "noscript", "template"];

/// The text of `el` as a reader sees it, in document order: the text of its
/// descendants, less what lies inside a [`NEVER_SHOWN`] element (a script's
/// per-request token must never weigh on which element is the article or
/// what a stamp's context says; the source fingerprint leaves script text
/// out on that promise).
pub(crate) fn visible_text<'a>(el: ElementRef<'a>) -> impl Iterator<Item = &'a str> + 'a {
    let top = el.id();
    el.descendants().filter_map(move |n| {
        let Node::Text(t) = n.value() else {
            return None;
        };
        let hidden = n
            .ancestors()
            .take_while(|a| a.id() != top)
            .chain(std::iter::once(*el))
            .any(|a| matches!(a.value(), Node::Element(e) if NEVER_SHOWN.contains(&e.name())));
        (!hidden).then_some(&**t)
    })
}

/// Tags that are chrome wherever they appear.
const CHROME_TAGS: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "iframe", "svg",
    "button", "dialog", "select", "textarea", "input", "object", "embed", "canvas", "video",
    "audio", "map", "link", "meta", "head", "title",
];

/// Parts of class/id tokens that mark chrome (`cookie-banner` → `cookie`).
const CHROME_PARTS: &[&str] = &[
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "share",
    "sharing",
    "sharebar",
    "sharethis",
    "social",
    "breadcrumb",
    "breadcrumbs",
    "related",
    "newsletter",
    "advert",
    "advertisement",
    "sidebar",
    "footer",
    "announcement",
    "announcements",
    "addthis",
    "addtoany",
    "a2a",
    "sharethis",
    "shariff",
    "breadcrumbs",
    "crumbs",
    "trending",
    "recommended",
    "readtime",
    "viewcount",
    "hitcounter",
    "skiplink",
    "skiplinks",
    "backtotop",
    "toc",
    "feedback",
    "metadata",
    "captcha",
    "recaptcha",
    "hcaptcha",
    "gtranslate",
];

/// Runs of token parts that mark chrome only together (`back-to-top`,
/// `c-language-switcher__list`, `alert-banner`): each is matched against the
/// concatenation of two to four consecutive parts, so `photo-topics` is not
/// `to-top`.
const CHROME_COMPOUNDS: &[&str] = &[
    "backtotop",
    "gototop",
    "totop",
    "scrolltop",
    "scrolltotop",
    "returntotop",
    "skipto",
    "skiplink",
    "skipnav",
    "skipcontent",
    "readtime",
    "readingtime",
    "timetoread",
    "viewcount",
    "viewcounter",
    "viewscount",
    "pageviews",
    "sharecount",
    "sharecounts",
    "sharecounter",
    "likecount",
    "likes",
    "adslot",
    "adunit",
    "adcontainer",
    "adwrapper",
    "adbanner",
    "adplaceholder",
    "langswitch",
    "langswitcher",
    "langselect",
    "langselector",
    "langpicker",
    "langmenu",
    "langlist",
    "langnav",
    "langlinks",
    "languageswitch",
    "languageswitcher",
    "languageselect",
    "languageselector",
    "languagepicker",
    "languagemenu",
    "languagelist",
    "languagenav",
    "languagelinks",
    "languagechooser",
    "languagetoggle",
    "localeswitcher",
    "localeselector",
    "alertbanner",
    "alertbar",
    "sitealert",
    "sitealerts",
    "globalalert",
    "emergencybanner",
    "noticebanner",
    "noticebar",
    "sitenotice",
    "sitebanner",
    "topbanner",
    "promobanner",
    "usabanner",
    "govbanner",
    "infobanner",
    "maintenancebanner",
    "statusbanner",
    "pagetools",
    "articletools",
    "contenttools",
    "pageactions",
    "articleactions",
    "printpage",
    "printbutton",
    "printlink",
    "printbar",
    "emailpage",
    "emailthis",
    "emailbutton",
    "mostread",
    "mostpopular",
    "mostviewed",
    "morenews",
    "latestnews",
    "relatednews",
    "othernews",
    "morestories",
    "youmayalsolike",
    "onthispage",
    "tableofcontents",
    "contentslist",
    "pagecontents",
    "inpagenav",
    "jumplinks",
    "pagefeedback",
    "wasthishelpful",
    "datetoday",
    "todaydate",
    "todaysdate",
    "currentdate",
    "currenttime",
    "googletranslate",
    "translateelement",
    "surveyinvite",
    "surveyprompt",
    "surveybanner",
    "surveymodal",
    "surveypopup",
    "signupmodal",
    "signuppopup",
    "exitpopup",
    "exitintent",
    "weatherwidget",
    "weatherbox",
    "localweather",
    "liveclock",
    "worldclock",
    "clockwidget",
    "newsticker",
    "stockticker",
    "currencyticker",
    "tickertape",
];

/// Whole class tokens that mark hidden or screen-reader-only text.
const HIDDEN_TOKENS: &[&str] = &[
    "hidden",
    "d-none",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "skip-link",
    "print-only",
];

/// ARIA roles of landmarks and widgets that are never page content.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "complementary",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
];

/// Containers whose own attributes are never judged: a `<body class="cookie-open">`
/// must not drop the page.
const NEVER_CHROME: &[&str] = &["html", "body", "main", "article"];

/// Elements to skip: the configured `drop` selectors' matches (by node id) plus
/// the built-in chrome rules, checked per element.
#[derive(Debug, Default)]
pub(crate) struct Chrome {
    dropped: HashSet<ego_tree::NodeId>,
    /// Ids of elements a control shows or hides (`aria-controls`,
    /// `data-target`, `data-bs-target`): collapsed panels, not junk.
    panels: HashSet<String>,
    /// The configured content roots' matches: a `header` or `footer` inside
    /// one is the content's own.
    roots: HashSet<ego_tree::NodeId>,
}

impl Chrome {
    /// Collects the matches of `rules.drop` in `doc` (one pass per selector).
    pub(crate) fn new(doc: &Html, rules: &Rules) -> Chrome {
        let mut dropped = HashSet::new();
        for css in &rules.drop {
            dropped.extend(doc.select(&css.selector).map(|e| e.id()));
        }
        dropped.extend(language_pickers(doc));
        let mut roots = HashSet::new();
        for css in &rules.content {
            roots.extend(doc.select(&css.selector).map(|e| e.id()));
        }
        Chrome {
            dropped,
            panels: panel_ids(doc),
            roots,
        }
    }

    /// True when the element and its subtree are chrome.
    pub(crate) fn skips(&self, node: NodeRef<'_, Node>) -> bool {
        if self.dropped.contains(&node.id()) {
            return true;
        }
        match node.value() {
            Node::Element(el) => {
                self.is_chrome_element(node, el) || (el.name() == "form" && is_chrome_form(node))
            }
            Node::Comment(_) | Node::ProcessingInstruction(_) | Node::Doctype(_) => true,
            _ => false,
        }
    }

    /// The built-in chrome test for one element, with the context the bare
    /// element lacks: a collapsed panel is content, so is a `header` or
    /// `footer` inside an article, a section, `main` or the content root, and
    /// so is a container named like chrome whose text reads as prose.
    fn is_chrome_element(&self, node: NodeRef<'_, Node>, el: &Element) -> bool {
        let name = el.name();
        if is_hidden(el) && !self.is_panel(el) {
            return true;
        }
        if matches!(name, "header" | "footer") {
            return !self.in_sectioning_content(node);
        }
        if CHROME_TAGS.contains(&name) {
            return true;
        }
        if NEVER_CHROME.contains(&name) {
            return false;
        }
        match chrome_marking(el) {
            Marking::None => false,
            Marking::Strong => true,
            Marking::Weak => !ElementRef::wrap(node).is_some_and(reads_as_prose),
        }
    }

    /// True for a hidden element that is kept as a collapsed panel: a pass
    /// that drops everything hidden (readability) must see it shown.
    pub(crate) fn reveals(&self, node: NodeRef<'_, Node>) -> bool {
        matches!(node.value(), Node::Element(el) if is_hidden(el) && self.is_panel(el))
    }

    /// True when an ancestor is an article, a section, `main` or a configured
    /// content root (HTML's rule: such a header is not the page's banner).
    fn in_sectioning_content(&self, node: NodeRef<'_, Node>) -> bool {
        node.ancestors().any(|a| {
            self.roots.contains(&a.id())
                || matches!(a.value(), Node::Element(e)
                    if matches!(e.name(), "article" | "section" | "main")
                        || e.attr("role").is_some_and(|r| r.eq_ignore_ascii_case("main")))
        })
    }

    /// A collapsed panel the reader can open: `hidden="until-found"`, the
    /// target of a control, a `<details>` body, or an accordion, tab or
    /// collapse panel by class or role; never a modal, pop-up or honeypot.
    fn is_panel(&self, el: &Element) -> bool {
        if el
            .attr("hidden")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("until-found"))
        {
            return true;
        }
        let parts = || {
            el.classes()
                .chain(el.id())
                .flat_map(|t| t.split(['-', '_']))
                .filter(|p| !p.is_empty())
                .map(str::to_ascii_lowercase)
        };
        if parts().any(|p| JUNK_PANEL_PARTS.contains(&p.as_str())) {
            return false;
        }
        el.id().is_some_and(|id| self.panels.contains(id))
            || el
                .attr("role")
                .is_some_and(|r| matches!(r.to_ascii_lowercase().as_str(), "tabpanel" | "region"))
            || parts().any(|p| PANEL_PARTS.contains(&p.as_str()))
    }

    /// True when the element or any ancestor is chrome (for elements found by
    /// selector rather than by the walk).
    pub(crate) fn inside_chrome(&self, node: NodeRef<'_, Node>) -> bool {
        std::iter::successors(Some(node), |n| n.parent()).any(|n| self.skips(n))
    }
}

/// How an element's role, aria-label, class and id mark it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marking {
    /// Nothing marks it as chrome.
    None,
    /// Chrome whatever it holds (a landmark role, a cookie or newsletter box).
    Strong,
    /// Named like chrome by one class or id part (`related-info`,
    /// `share-policy`): chrome unless its text reads as prose.
    Weak,
}

/// Class or id parts that mark chrome whatever the element holds.
const STRONG_PARTS: &[&str] = &[
    "cookie",
    "cookies",
    "gdpr",
    "newsletter",
    "advert",
    "advertisement",
    "advertising",
    "adsbygoogle",
    "adsense",
    "addthis",
    "addtoany",
    "a2a",
    "sharethis",
    "shariff",
    "sharebar",
    "skiplink",
    "skiplinks",
    "backtotop",
    "readtime",
    "viewcount",
    "hitcounter",
    "feedback",
];

/// Class or id parts of collapsed panels a reader opens (accordions, tabs,
/// "read more"): their hidden text is content.
const PANEL_PARTS: &[&str] = &[
    "accordion",
    "collapse",
    "collapsed",
    "collapsible",
    "tab",
    "tabpane",
    "tabpanel",
    "pane",
    "panel",
    "details",
    "disclosure",
    "expander",
    "expandable",
    "expand",
    "readmore",
    "toggle",
    "reveal",
    "spoiler",
    "fold",
];

/// Class or id parts of hidden things that are never content even when
/// shaped like a panel: pop-ups, menus, templates, honeypots.
const JUNK_PANEL_PARTS: &[&str] = &[
    "modal",
    "popup",
    "popover",
    "dialog",
    "tooltip",
    "dropdown",
    "menu",
    "nav",
    "overlay",
    "lightbox",
    "offcanvas",
    "drawer",
    "template",
    "honeypot",
    "captcha",
    "cookie",
    "cookies",
    "consent",
    "search",
    "login",
];

/// How the element's role, aria-label, class and id tokens mark it.
fn chrome_marking(el: &Element) -> Marking {
    if el.attr("role").is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|r| CHROME_ROLES.contains(&r.to_ascii_lowercase().as_str()))
    }) {
        return Marking::Strong;
    }
    if el.attr("aria-label").is_some_and(chrome_label) {
        return Marking::Strong;
    }
    let tokens = || el.classes().chain(el.id());
    if tokens().any(strong_token) {
        return Marking::Strong;
    }
    if tokens().any(chrome_token) {
        return Marking::Weak;
    }
    Marking::None
}

/// Parts that name a component's structure, not its purpose
/// (`c-language-switcher__list`): beside a chrome compound they leave it whole.
const STRUCTURE_PARTS: &[&str] = &[
    "c",
    "o",
    "l",
    "js",
    "gem",
    "govuk",
    "usa",
    "wrapper",
    "wrap",
    "container",
    "inner",
    "outer",
    "list",
    "items",
    "item",
    "links",
    "bar",
    "box",
    "block",
    "widget",
    "section",
    "area",
    "region",
    "holder",
    "module",
    "component",
    "content",
    "nav",
    "menu",
    "top",
    "bottom",
];

/// Text for screen readers that is kept (gov.uk's `govuk-visually-hidden`
/// "Warning"): a word of its own, never glued to the visible text after it.
pub(crate) fn is_reader_only(el: &Element) -> bool {
    el.classes().any(|c| {
        let c = c.to_ascii_lowercase();
        [
            "visually-hidden",
            "visuallyhidden",
            "sr-only",
            "screen-reader",
        ]
        .iter()
        .any(|t| c.contains(t))
    })
}

/// A token with a part that marks chrome whatever the element holds, or a
/// chrome compound that is the whole token but for structure parts
/// (`site-alert`, `c-language-switcher__list`; not `page-tools-intro`).
fn strong_token(token: &str) -> bool {
    let parts: Vec<String> = token
        .split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if parts.iter().any(|p| STRONG_PARTS.contains(&p.as_str())) {
        return true;
    }
    (0..parts.len()).any(|i| {
        (i + 1..parts.len().min(i + 4) + 1).any(|j| {
            CHROME_COMPOUNDS.contains(&parts[i..j].concat().as_str())
                && parts[..i]
                    .iter()
                    .chain(&parts[j..])
                    .all(|p| STRUCTURE_PARTS.contains(&p.as_str()))
        })
    })
}

/// The ids that controls on the page show and hide.
fn panel_ids(doc: &Html) -> HashSet<String> {
    static CONTROLS: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| {
        Selector::parse("[aria-controls], [data-target], [data-bs-target]")
            .expect("constant selector parses")
    });
    let mut ids = HashSet::new();
    for el in doc.select(&CONTROLS) {
        let e = el.value();
        if let Some(v) = e.attr("aria-controls") {
            ids.extend(v.split_ascii_whitespace().map(str::to_string));
        }
        for attr in ["data-target", "data-bs-target"] {
            if let Some(id) = e.attr(attr).and_then(|v| v.trim().strip_prefix('#')) {
                ids.insert(id.to_string());
            }
        }
    }
    ids
}

/// True when text reads as prose rather than a link list or a label: at
/// least five words outside links ending in a full stop or exclamation mark,
/// links at most half the text.
pub(crate) fn is_prose(text: &str, link_chars: usize) -> bool {
    let text = text.trim();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if chars == 0 || link_chars * 2 > chars {
        return false;
    }
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    let ends = text
        .trim_end_matches(['"', '\'', '’', '”', ')', ']', '»'])
        .ends_with(['.', '!', '。']);
    let sentence_inside = text.contains(". ") || text.contains("! ");
    words >= 5 && (ends || sentence_inside)
}

/// True when the element's text reads as prose ([`is_prose`]); link text is
/// counted apart, so a list of links never does.
fn reads_as_prose(el: ElementRef<'_>) -> bool {
    let mut text = String::new();
    let mut link_chars = 0;
    for node in el.descendants() {
        if let Node::Text(t) = node.value() {
            text.push_str(t);
            text.push(' ');
            let in_link = node
                .ancestors()
                .take_while(|a| a.id() != el.id())
                .any(|a| matches!(a.value(), Node::Element(e) if e.name() == "a"));
            if in_link {
                link_chars += t.chars().filter(|c| !c.is_whitespace()).count();
            }
        }
    }
    is_prose(&text, link_chars)
}

/// Hidden by attribute or inline style; such text is never shown to a reader.
fn is_hidden(el: &Element) -> bool {
    if el.attr("hidden").is_some() {
        return true;
    }
    if el
        .attr("aria-hidden")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if el.name() == "input"
        && el
            .attr("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
    {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if compact.contains("display:none") || compact.contains("visibility:hidden") {
            return true;
        }
    }
    el.classes()
        .any(|c| HIDDEN_TOKENS.iter().any(|t| c.eq_ignore_ascii_case(t)))
}

/// A class or id token naming chrome: one of its `-`/`_` parts is a chrome
/// word, or two to four consecutive parts spell a chrome compound.
fn chrome_token(token: &str) -> bool {
    let parts: Vec<String> = token
        .split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if parts.iter().any(|p| CHROME_PARTS.contains(&p.as_str())) {
        return true;
    }
    (0..parts.len()).any(|i| {
        (i + 1..parts.len().min(i + 4) + 1).any(|j| {
            let run: String = parts[i..j].concat();
            CHROME_COMPOUNDS.contains(&run.as_str())
        })
    })
}

/// An aria-label naming chrome. Narrower than class tokens because labels are
/// prose: "Share of GDP" is content, "Share this page" is not.
fn chrome_label(label: &str) -> bool {
    let lower = label.trim().to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let first = words.clone().next();
    (matches!(first, Some("share" | "related")) && !lower.starts_with("share of"))
        || words.any(|w| {
            matches!(
                w,
                "cookie" | "cookies" | "consent" | "breadcrumb" | "breadcrumbs"
            )
        })
}

/// Language pickers: the list (or paragraph, or `div`) around links marked
/// with `hreflang` or `lang` whose text is nothing but such links and
/// separators. A link to a translation inside a sentence is content.
fn language_pickers(doc: &Html) -> Vec<ego_tree::NodeId> {
    static LANG_LINKS: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| {
        Selector::parse("a[hreflang], a[lang]").expect("constant selector parses")
    });
    static LINKS: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("a").expect("constant selector parses"));
    let mut found = Vec::new();
    for link in doc.select(&LANG_LINKS) {
        let mut container = link.parent().and_then(ElementRef::wrap);
        if let Some(c) = container
            && matches!(c.value().name(), "li" | "span")
        {
            container = c.parent().and_then(ElementRef::wrap);
        }
        let Some(c) = container else { continue };
        if matches!(c.value().name(), "body" | "main" | "article" | "html")
            || found.contains(&c.id())
        {
            continue;
        }
        let links: Vec<ElementRef<'_>> = c.select(&LINKS).collect();
        let all_lang = links
            .iter()
            .all(|a| a.attr("hreflang").is_some() || a.attr("lang").is_some());
        let link_text: usize = links
            .iter()
            .map(|a| {
                visible_text(*a)
                    .flat_map(str::chars)
                    .filter(|ch| ch.is_alphanumeric())
                    .count()
            })
            .sum();
        let all_text = visible_text(c)
            .flat_map(str::chars)
            .filter(|ch| ch.is_alphanumeric())
            .count();
        if all_lang && link_text == all_text {
            found.push(c.id());
        }
    }
    found
}

/// A `<form>` is chrome (search box, newsletter) unless it wraps content, as
/// ASP.NET pages wrap their whole body in one form.
fn is_chrome_form(node: NodeRef<'_, Node>) -> bool {
    static CONTENT: std::sync::LazyLock<Selector> = std::sync::LazyLock::new(|| {
        Selector::parse("p, h1, h2, h3, article, main").expect("constant content selector parses")
    });
    ElementRef::wrap(node).is_none_or(|form| form.select(&CONTENT).next().is_none())
}

/// A visitor for [`walk_tree`].
pub(crate) trait Visit<'a> {
    /// Called on entering a node; returns whether to descend into it.
    fn open(&mut self, node: NodeRef<'a, Node>) -> bool;
    /// Called on leaving a node that was descended into.
    fn close(&mut self, node: NodeRef<'a, Node>);
}

/// Walks `root`'s subtree in document order, letting the visitor skip
/// subtrees. No recursion, so deep pages cannot overflow the stack.
pub(crate) fn walk_tree<'a>(root: NodeRef<'a, Node>, visitor: &mut impl Visit<'a>) {
    let next = |n: NodeRef<'a, Node>| {
        if n == root {
            None
        } else {
            n.next_sibling()
                .map(Edge::Open)
                .or_else(|| n.parent().map(Edge::Close))
        }
    };
    let mut edge = Some(Edge::Open(root));
    while let Some(e) = edge {
        edge = match e {
            Edge::Open(n) if visitor.open(n) => {
                Some(n.first_child().map_or(Edge::Close(n), Edge::Open))
            }
            Edge::Open(n) => next(n),
            Edge::Close(n) => {
                visitor.close(n);
                next(n)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The cookie test reads as lowercasing and searching does.
        #[test]
        fn cookies_are_found_as_lowercasing_finds_them(
            s in "[cokieCOKIE\u{212A}\u{130}x ]{0,16}"
        ) {
            proptest::prop_assert_eq!(mentions_cookies(&s), s.to_lowercase().contains("cookie"));
        }

        /// Language lists are read word by word as when all words were
        /// collected first.
        #[test]
        fn language_words_count_as_collected_words_do(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "English", "Fran\u{E7}ais", "DEUTSCH", "espa\u{F1}ol", "Home", " ", " | ", ", ",
                "\u{B7}", "(", "x", "\u{130}", "",
            ]), 0..8)
        ) {
            let text = parts.concat();
            let words: Vec<String> = text
                .split(|c: char| c.is_whitespace() || SEPARATOR_CHARS.contains(&c) || c == ',')
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
            let all = words.iter().all(|w| LANGUAGE_WORDS.contains(&w.as_str()));
            proptest::prop_assert_eq!(language_words(&text), all.then_some(words.len()));
        }
    }

    fn first_element_chrome(html: &str) -> bool {
        let doc = Html::parse_fragment(html);
        let el = doc.root_element().child_elements().next().unwrap();
        Chrome::default().skips(*el)
    }

    #[test]
    fn chrome_rules_per_element() {
        let cases = [
            ("<nav>x</nav>", true),
            ("<footer>x</footer>", true),
            ("<div class=\"cookie-banner\">x</div>", true),
            ("<div id=\"cookie_consent\">x</div>", true),
            ("<div class=\"share-bar social\">x</div>", true),
            ("<div class=\"box breadcrumb\">x</div>", true),
            ("<div class=\"related-links\">x</div>", true),
            ("<div class=\"shareholders\">x</div>", false),
            ("<div class=\"unrelated\">x</div>", false),
            ("<div class=\"content cf\">x</div>", false),
            ("<div class=\"socialism-history\">x</div>", false),
            // widgets: weather, clocks, tickers, captchas, survey pop-ups
            ("<div class=\"weather-widget\">x</div>", true),
            ("<p class=\"date-today\">x</p>", true),
            ("<div id=\"google_translate_element\">x</div>", true),
            ("<div id=\"survey-modal\" class=\"modal\">x</div>", true),
            ("<div class=\"g-recaptcha\">x</div>", true),
            ("<div class=\"news-ticker\">x</div>", true),
            // ad slots
            ("<div class=\"ad-slot\">x</div>", true),
            ("<div id=\"ad-container-2\">x</div>", true),
            ("<ins class=\"adsbygoogle\">x</ins>", true),
            ("<div class=\"adjacent-text\">x</div>", false),
            ("<div class=\"road-map\">x</div>", false),
            ("<div class=\"weather-data\">x</div>", false),
            ("<a class=\"popup-link\">x</a>", false),
            ("<span class=\"ticker-symbol\">x</span>", false),
            ("<div class=\"clock-tower\">x</div>", false),
            ("<div role=\"navigation\">x</div>", true),
            ("<div role=\"main\">x</div>", false),
            ("<div aria-label=\"Share this page\">x</div>", true),
            (
                "<figure aria-label=\"Share of GDP spent on defence\">x</figure>",
                false,
            ),
            ("<div aria-label=\"Cookie consent\">x</div>", true),
            ("<p hidden>x</p>", true),
            ("<p aria-hidden=\"true\">x</p>", true),
            ("<p aria-hidden=\"false\">x</p>", false),
            ("<div style=\"color: red; DISPLAY : none\">x</div>", true),
            ("<div style=\"visibility:hidden\">x</div>", true),
            ("<span class=\"sr-only\">x</span>", true),
            ("<div class=\"hidden-print\">x</div>", false),
            ("<form><input name=q></form>", true),
            ("<form><h2>Title</h2><p>Body</p></form>", false),
            ("<p>text</p>", false),
            ("<table><tr><td>x</td></tr></table>", false),
            ("<div class=\"back-to-top\">x</div>", true),
            ("<div class=\"c-language-switcher__list\">x</div>", true),
            ("<div class=\"usa-banner\">x</div>", true),
            ("<div id=\"site-alert\">x</div>", true),
            ("<span class=\"reading-time\">x</span>", true),
            ("<span class=\"view_count\">x</span>", true),
            ("<div class=\"page-tools\">x</div>", true),
            ("<div class=\"announcement\">x</div>", true),
            ("<div class=\"most-read\">x</div>", true),
            ("<div class=\"photo-topics\">x</div>", false),
            ("<div class=\"lang-en\">x</div>", false),
            ("<div class=\"alert alert-info\">x</div>", false),
            ("<div class=\"banner hero\">x</div>", false),
            ("<div class=\"card on-this-page\">x</div>", true),
            ("<div class=\"gem-c-feedback\">x</div>", true),
            ("<div class=\"gem-c-metadata\">x</div>", true),
            ("<div class=\"toc\">x</div>", true),
            ("<div class=\"tocsin\">x</div>", false),
        ];
        for (html, want) in cases {
            assert_eq!(first_element_chrome(html), want, "{html}");
        }
    }

    #[test]
    fn chrome_text_is_whole_lines_of_chrome_only() {
        let cases = [
            // counters
            ("1.2K shares", true),
            ("Views: 1,234", true),
            ("\u{1f441} 345", true),
            // an ad slot's label
            ("Advertisement", true),
            ("ADVERTISEMENT", true),
            ("Anzeige", true),
            ("Advertisements are not accepted on this site.", false),
            ("Viewed 12 times", true),
            ("12 comments", true),
            ("\u{2665} 12 \u{b7} \u{1f4ac} 3", true),
            // reading time
            ("5 MIN READ", true),
            ("4 min read", true),
            ("Reading time: 4 minutes", true),
            ("\u{23f1} 5 min", true),
            // relative dates and meta lines
            ("3 hours ago", true),
            ("Updated 2 days ago", true),
            ("3 May 2023 \u{b7} 5 min read", true),
            ("By Jane Doe | 3 hours ago | 1.2K shares", true),
            ("Published 3 May 2023", false),
            // share, print and e-mail bars
            ("Share", true),
            ("Share this page: Facebook X LinkedIn Email", true),
            ("Print | Email | Share", true),
            ("Facebook Twitter LinkedIn", true),
            ("Facebook 128 Twitter 1.2k", true),
            ("Sign up for email updates", true),
            ("Listen to this article", true),
            ("Vues : 1 234", true),
            ("Updated: 5 minutes ago", true),
            ("Select Language", true),
            ("Page generated in 0.123 seconds", true),
            ("Request ID: 8f3a2b", true),
            ("You are visitor number 12,345", true),
            ("Facebook paid 128 million in fines.", false),
            // language pickers
            (
                "English Fran\u{e7}ais \u{420}\u{443}\u{441}\u{441}\u{43a}\u{438}\u{439}",
                true,
            ),
            ("EN | FR | RU", true),
            ("Fran\u{e7}ais", true),
            // furniture
            ("Back to top", true),
            ("\u{2191} Back to top", true),
            ("Skip to main content", true),
            ("Home > Topics > Relations with Belarus", true),
            ("You are here: Topics", true),
            ("\u{a9} 2024 NATO. All rights reserved.", true),
            ("Copyright 2024 CDC", true),
            ("An official website of the United States government", true),
            ("Report a problem with this page", true),
            ("3 June 2024 See all updates", true),
            (
                "We use cookies to improve your experience. By continuing you agree. Accept all cookies",
                true,
            ),
            // content that mentions the same words
            (
                "Allies agreed that Belarus shares responsibility for the war.",
                false,
            ),
            ("In 2024, 1,234 views were recorded by the survey.", false),
            ("The summit was held 3 hours ago in Washington.", false),
            ("Share of GDP spent on defence", false),
            ("English and French are NATO's official languages.", false),
            ("Print media coverage grew.", false),
            ("No", false),
            ("It", false),
            ("2024", false),
            ("3 May 2023", false),
            ("Copyright law protects the texts.", false),
            (
                "Cookies are small files; this page explains how we handle them.",
                false,
            ),
            // in-content volatile lines: clocks, visits, tickers, counters
            ("Brussels: 09:41", true),
            ("Brussels 09:41 | Washington 03:41", true),
            ("Server time: 2026-12-03 08:41:02 CET", true),
            ("Current time: Thursday, 3 December 2026, 09:41", true),
            ("Your last visit: 2 December 2026 14:03", true),
            ("Last visited: 5 minutes ago", true),
            ("EUR/USD 1.0842 \u{25b2}0.12%", true),
            (
                "EUR/USD 1.0811 \u{25bc}0.17% | GBP/USD 1.2702 \u{25b2}0.05%",
                true,
            ),
            ("DAX 18,234.5 +0.3%", true),
            ("1 / 5", true),
            ("Slide 3 of 12", true),
            ("This page has been viewed 12,345 times", true),
            ("1,234 people found this helpful", true),
            ("Visitors online: 14", true),
            ("14 users online now", true),
            ("Page generated in 0.231 seconds with 42 queries", true),
            ("Washington, DC 12\u{b0}C Cloudy", true),
            ("Enter the code: 8A7X", true),
            (
                "Help us improve CDC.gov. Would you take a short survey?",
                true,
            ),
            ("Powered by Google Translate", true),
            // print and share bars in other languages
            ("Imprimer | Partager | Courriel", true),
            ("Imprimer | Partager", true),
            ("Drucken | Teilen | E-Mail | Merken", true),
            ("Stampa | Condividi | Invia", true),
            ("Drukuj | Udost\u{119}pnij", true),
            ("Skriv ut | Dela", true),
            // content that looks like them
            ("Views of Allies differ.", false),
            ("Updated guidance applies from 1 May.", false),
            ("3 hours ago, Allies met in Brussels.", false),
            ("Deadline: 17:00", false),
            ("Local time: 9:00 to 17:00, Monday to Friday", false),
            ("Brussels: a city of 1.2 million", false),
            ("ISO 9001-2015", false),
            ("Growth was 2.1 +0.3 points", false),
            ("Water boils at 100\u{b0}C", false),
            ("24/7", false),
            ("Step 1 of 5: apply online", false),
            ("Last visited by the Secretary General in 2019.", false),
            (
                "Enter the code you received by SMS to confirm your appointment.",
                false,
            ),
            ("Print and share the leaflet with your family.", false),
            ("The survey was taken by 1,234 people.", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_chrome_text(text), want, "{text}");
        }
    }

    #[test]
    fn chrome_headings() {
        let cases = [
            ("Related news", true),
            ("Stay informed", true),
            ("Subscribe to our newsletter", true),
            ("Sign up for email updates", true),
            ("Informed consent", false),
            ("Subscription fees", false),
            ("Related", true),
            ("More from NATO", true),
            ("Most read", true),
            ("You may also like", true),
            ("Share this page", true),
            ("Latest news:", true),
            ("On This Page", true),
            ("Contents", true),
            ("Is this page useful?", true),
            ("Related activities in 2020", false),
            ("Contents of the declaration", false),
            ("Evolution of relations", false),
            ("Share of GDP", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_chrome_heading(text), want, "{text}");
        }
    }

    #[test]
    fn language_pickers_by_hreflang() {
        let cases = [
            (
                "<ul><li><a hreflang=fr href=/fr>Fran\u{e7}ais</a></li><li><a hreflang=ru href=/ru>RU</a></li></ul>",
                true,
            ),
            (
                "<p><a lang=fr href=/fr>Fran\u{e7}ais</a> | <a lang=de href=/de>Deutsch</a></p>",
                true,
            ),
            (
                "<p>Read the <a hreflang=fr href=/fr>French version</a> of the treaty.</p>",
                false,
            ),
        ];
        for (html, want) in cases {
            let doc = Html::parse_document(&format!("<body>{html}</body>"));
            let chrome = Chrome::new(&doc, &Rules::generic());
            let first = doc
                .select(&Selector::parse("body > *").unwrap())
                .next()
                .unwrap();
            assert_eq!(chrome.skips(*first), want, "{html}");
        }
    }

    /// Extracts `inner` placed in a page's content under the generic rules
    /// and under site rules whose root is `.body-text`; returns the text of
    /// every heading and block per rule set.
    fn content_texts(inner: &str) -> Vec<(String, String)> {
        let site = {
            let mut r = Rules::generic();
            r.name = "site".into();
            r.content = vec![crate::target::Css::parse(".body-text").unwrap()];
            r
        };
        let long = "Allies and partners agreed on the text of the declaration after long talks. ";
        let html = format!(
            "<html><head><title>Relations with Testland</title></head><body>\
             <header><a href=/>Home</a></header><div id=page><h1>Relations with Testland</h1>\
             <div class=body-text><p>{lead}</p><h2>Evolution</h2><p>{long}</p>{inner}\
             <p>{long}{long}</p></div></div><footer><p>\u{a9} 2026 Testland. All rights reserved.</p></footer></body></html>",
            lead = long.repeat(3),
        );
        [Rules::generic(), site]
            .into_iter()
            .map(|rules| {
                let d = crate::extract::extract(&html, None, &rules).unwrap();
                let text = d
                    .sections
                    .iter()
                    .flat_map(|s| {
                        s.heading
                            .iter()
                            .cloned()
                            .chain(s.blocks.iter().map(|b| b.text.clone()))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                (rules.name, text)
            })
            .collect()
    }

    #[test]
    fn real_content_is_never_swallowed_as_chrome() {
        let cases = [
            // collapsed panels a reader opens
            (
                "<div hidden=\"until-found\"><p>Allies do not condemn the attack.</p></div>",
                "Allies do not condemn the attack.",
            ),
            (
                "<div class=panel aria-hidden=true><p>Fees for children are 60 euros.</p></div>",
                "Fees for children are 60 euros.",
            ),
            (
                "<div class=tab-pane style=\"display: none\"><p>Fees for children are 60 euros.</p></div>",
                "Fees for children are 60 euros.",
            ),
            (
                "<div hidden id=more><p>Applications close on 15 June.</p></div><button aria-controls=more>Read more</button>",
                "Applications close on 15 June.",
            ),
            (
                "<div class=accordion><div class=\"accordion-panel collapse\" aria-hidden=true><p>Anyone aged 18 or over can apply.</p></div></div>",
                "Anyone aged 18 or over can apply.",
            ),
            (
                "<details><summary>Who can apply</summary><p>Anyone aged 18 or over can apply.</p></details>",
                "Anyone aged 18 or over can apply.",
            ),
            // a header or footer of the content itself
            (
                "<article><header><h2>Statement</h2><p>Allies do not condemn the attack.</p></header></article>",
                "Allies do not condemn the attack.",
            ),
            (
                "<section><header><h2>Emergency contact</h2><p>Call +1 202 588 0101 outside office hours.</p></header></section>",
                "Call +1 202 588 0101 outside office hours.",
            ),
            // languages named, not linked
            (
                "<p>NATO has two official languages:</p><ul><li>English</li><li>French</li></ul>",
                "French",
            ),
            // prose in containers named like chrome
            (
                "<div class=related><p>The Alliance will review the partnership policy in 2025.</p></div>",
                "The Alliance will review the partnership policy in 2025.",
            ),
            (
                "<div class=share-policy><p>Allies agreed to share intelligence on hybrid threats.</p></div>",
                "Allies agreed to share intelligence on hybrid threats.",
            ),
            (
                "<div class=related-info><p>The Council adopted new rules on 5 March 2024.</p></div>",
                "The Council adopted new rules on 5 March 2024.",
            ),
            (
                "<div class=callout-sidebar><p>You must apply at least 3 weeks before you travel.</p></div>",
                "You must apply at least 3 weeks before you travel.",
            ),
            (
                "<div class=field-sidebar-text><p>The Council adopted new rules on 5 March 2024.</p></div>",
                "The Council adopted new rules on 5 March 2024.",
            ),
            (
                "<div class=breadcrumbs-note><p>Children aged 15 months need one dose.</p></div>",
                "Children aged 15 months need one dose.",
            ),
            (
                "<div class=footer-note><p>The Council adopted new rules on 5 March 2024.</p></div>",
                "The Council adopted new rules on 5 March 2024.",
            ),
            (
                "<div class=page-tools-intro><p>The Council adopted new rules on 5 March 2024.</p></div>",
                "The Council adopted new rules on 5 March 2024.",
            ),
            (
                "<div class=consent-form-info><p>Parents sign the consent form before the first dose.</p></div>",
                "Parents sign the consent form before the first dose.",
            ),
            // prose under headings named like chrome
            (
                "<h2>Contents</h2><p>This guidance explains the new rules for visitors.</p>",
                "This guidance explains the new rules for visitors.",
            ),
            (
                "<h2>More from the Consular Section</h2><p>Passports are issued within 30 days.</p>",
                "Passports are issued within 30 days.",
            ),
            (
                "<h3>Most read</h3><p>Allies agreed to raise the defence spending guideline to 5%.</p>",
                "Most read",
            ),
            (
                "<h2>Is this page useful?</h2><p>Fees rose to 127 euros on 4 April.</p>",
                "Fees rose to 127 euros on 4 April.",
            ),
            // copyright lines of the content
            (
                "<h2>Copyright</h2><p>\u{a9} Photos: Embassy of Estonia, not for commercial use.</p>",
                "\u{a9} Photos: Embassy of Estonia, not for commercial use.",
            ),
            (
                "<figure><img src=/a.jpg alt=\"\"><figcaption>\u{a9} NATO</figcaption></figure>",
                "\u{a9} NATO",
            ),
            (
                "<p>Copyright 2024 Republic of Estonia. All texts may be reproduced with attribution.</p>",
                "Copyright 2024 Republic of Estonia.",
            ),
            // short real lines that look like chrome
            (
                "<p>We use cookies to ensure the vaccine records portal works.</p>",
                "We use cookies to ensure the vaccine records portal works.",
            ),
            ("<p>Share: 45%</p>", "Share: 45%"),
            // screen-reader words stay words
            (
                "<div class=govuk-warning-text><strong><span class=govuk-visually-hidden>Warning</span>You can be fined.</strong></div>",
                "Warning You can be fined.",
            ),
        ];
        for (inner, want) in cases {
            for (rules, text) in content_texts(inner) {
                assert!(
                    text.contains(want),
                    "{want:?} missing under {rules} from {inner}:\n{text}"
                );
            }
        }
        // A header directly in the configured root is the content's own.
        let header = "<header><h2>Statement</h2><p>Allies do not condemn the attack.</p></header>";
        let site = &content_texts(header)[1];
        assert!(site.1.contains("Allies do not condemn"), "{}", site.1);
    }

    #[test]
    fn chrome_named_link_lists_and_hidden_junk_still_go() {
        let cases = [
            (
                "<div class=related><ul><li><a href=/a>Partnership for Peace programme</a></li></ul></div>",
                "Partnership",
            ),
            (
                "<h3>Most read</h3><ul><li><a href=/n/1>Ministers meet in Brussels on the declaration</a></li></ul>",
                "Ministers",
            ),
            (
                "<div class=\"modal collapse\" hidden><p>Sign in to your account to continue here.</p></div>",
                "Sign in",
            ),
            (
                "<div hidden><p>Leave this field empty if you are human.</p></div>",
                "Leave this field",
            ),
            (
                "<p aria-hidden=true>Decorative text for the icon only.</p>",
                "Decorative",
            ),
            (
                "<div class=cookie-note><p>We use cookies to improve your experience on this site.</p></div>",
                "We use cookies",
            ),
            (
                "<div class=site-alert><p>The building is closed on Friday for a public holiday.</p></div>",
                "The building is closed",
            ),
        ];
        for (inner, gone) in cases {
            for (rules, text) in content_texts(inner) {
                assert!(
                    !text.contains(gone),
                    "{gone:?} kept under {rules} from {inner}"
                );
            }
        }
    }

    #[test]
    fn walk_tree_skips_subtrees() {
        let doc = Html::parse_fragment("<div><p>a<b>b</b></p><nav>n</nav><p>c</p></div>");
        struct Texts(Vec<String>, usize);
        impl<'a> Visit<'a> for Texts {
            fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
                if let Node::Text(t) = n.value() {
                    self.0.push(t.to_string());
                }
                !matches!(n.value(), Node::Element(e) if e.name() == "nav")
            }
            fn close(&mut self, _: NodeRef<'a, Node>) {
                self.1 += 1;
            }
        }
        let mut v = Texts(Vec::new(), 0);
        walk_tree(*doc.root_element(), &mut v);
        assert_eq!(v.0, ["a", "b", "c"]);
        // html, div, p, b closed; nav skipped; the two text nodes and `c`'s p
        assert_eq!(v.1, 8);
    }

    #[test]
    fn gated_chrome_lines_are_asked_of_lines_holding_their_words() {
        // (line, chrome): lines each gated pattern takes, and near misses.
        let cases = [
            ("See all updates", true),
            ("Consultation responses: see ALL updates", true),
            ("Your last visit: 3 May 2024, 10:12", true),
            ("Previous login on Monday 3 May", true),
            ("Last logged in: 02/05/2024", true),
            ("Washington, DC 12°C Cloudy", true),
            ("Brüssel -3 ° partly sunny", true),
            ("Enter the code: 8A7X", true),
            ("Please type the characters shown: xK9", true),
            ("Last visit to Belarus by the Secretary General", false),
            ("The temperature rose by 2 °C in a decade", false),
            (
                "Enter the country code of the applicant and the name",
                false,
            ),
            // gates that fold as the patterns do: LONG S, KELVIN SIGN
            ("La\u{17F}t visit: 3 May 2024", true),
            ("\u{17F}erver time: 08:41", true),
            ("Stoc\u{212A}holm 09:41", true),
            ("Server time: 08:41", true),
            ("The Hague: 09:41", true),
            ("EUR/USD 1.0842 \u{25b2}0.12%", true),
            ("Viewed 12 times", true),
            ("12 visitors reading now", true),
            ("Take our short survey", true),
            ("The meeting starts at 09:41", false),
            ("EU members agreed a 2% target", false),
        ];
        for (line, chrome) in cases {
            assert_eq!(is_chrome_line(line), chrome, "{line}");
        }
    }

    #[test]
    fn gated_chrome_segments_are_asked_of_segments_passing_their_gates() {
        let cases = [
            ("1.2K shares", true),
            ("Views: 1,234", true),
            (
                "\u{41f}\u{440}\u{43e}\u{441}\u{43c}\u{43e}\u{442}\u{440}\u{43e}\u{432}: 12",
                true,
            ),
            ("\u{17F}een 12 times", true),
            ("5 min read", true),
            ("3 Min. Lesezeit", true),
            ("Reading time: 4 minutes", true),
            ("Updated 2 days ago", true),
            ("Back to top", true),
            ("Advertisement", true),
            ("12 members", false),
            ("Page 3", false),
            ("Read the guidance", false),
        ];
        for (segment, chrome) in cases {
            assert_eq!(is_chrome_segment(segment), chrome, "{segment}");
        }
    }

    /// The gates compare ASCII letters by hand; this proves that a
    /// case-insensitive regex puts no character outside ASCII with an ASCII
    /// letter but the two [`folds_to`] knows.
    #[test]
    fn ascii_letters_fold_only_with_kelvin_and_long_s() {
        let letter = regex::Regex::new(r"(?i)^[a-z]$").unwrap();
        let folded: Vec<char> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| letter.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        assert_eq!(folded, ['\u{17F}', '\u{212A}']);
        assert!(folds_to('\u{17F}', b's') && folds_to('\u{212A}', b'k'));
        assert!(!folds_to('\u{17F}', b'k') && folds_to('S', b's'));
    }
}
