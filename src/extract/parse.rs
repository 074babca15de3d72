//! Parsing a page into a tree with bounded work: the nesting guard.
//!
//! The HTML tree builder (html5ever, through scraper's `Html`) scans its stack
//! of open elements and its list of active formatting elements on many tokens,
//! so its cost grows with the square of the nesting it is made to hold. Counting
//! tags in the text cannot bound that: `<div/>` opens a `div` (HTML ignores the
//! slash), `</x>` closes nothing, `<div><!--</div>-->` hides the end tag in a
//! comment, a `<div>` inside a `<table>` is moved out of it (foster parenting)
//! while it stays open, and formatting elements are reopened at every paragraph.
//! So the guard measures what the parser builds, while it builds it:
//!
//! - every node appended to the tree gets its depth (its parent's plus one);
//! - after each chunk of input (the page is fed in [`CHUNK`]-byte pieces) the
//!   tree builder's own state is traced: its open elements and active
//!   formatting elements, which is the nesting it will scan next;
//! - every question the tree builder asks about a node (its name, whether two
//!   handles are the same node) is one step of its work, and the steps are
//!   budgeted per byte of input ([`STEPS_PER_BYTE`], plus [`STEPS_BASE`]), and
//!   so are the nodes it creates ([`NODES_PER_BYTE`], plus [`NODES_BASE`]):
//!   reopened formatting elements make nodes the input does not hold.
//!
//! Past [`MAX_NESTING`] levels, or past a budget, feeding stops and the
//! page is refused: the work done before is bounded by the limits, never by
//! the page.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use html5ever::interface::Tracer;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::{Html, HtmlTreeSink};

use super::MAX_NESTING;

/// Bytes of input fed to the parser between two traces of its state.
pub const CHUNK: usize = 4096;

/// Steps of tree-builder work allowed per byte of input. Real pages take a
/// few steps per byte (their elements sit a few dozen levels deep, and most
/// scans stop at the first scope boundary); the fixtures' worst is under 10.
pub const STEPS_PER_BYTE: u64 = 64;

/// Steps allowed on top of [`STEPS_PER_BYTE`], so that a short page nested up
/// to [`MAX_NESTING`] levels is still parsed (its scans cost about the square
/// of the depth, once).
pub const STEPS_BASE: u64 = 4_000_000;

/// Nodes the parser may create per byte of input (plus [`NODES_BASE`]): a
/// tag takes at least three bytes, so only reopened formatting elements
/// (created again at every paragraph they were left open across) pass it.
/// Their list is scanned on every element pushed, so a page reopening
/// hundreds of them costs the cube of their number.
pub const NODES_PER_BYTE: u64 = 1;

/// Nodes allowed on top of [`NODES_PER_BYTE`].
pub const NODES_BASE: u64 = 10_000;

/// Parse errors kept (as examples) for the summary; the rest are only counted.
const ERRORS_KEPT: usize = 3;

/// Why the parser was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tree, or the parser's stack of open (and to be reopened)
    /// formatting elements, passed [`MAX_NESTING`] levels.
    TooDeep {
        /// The depth measured when the parser was stopped.
        depth: usize,
    },
    /// The tree builder's work (steps or nodes created) passed its budget
    /// before any depth limit did.
    TooCostly {
        /// Bytes of input fed by then.
        bytes: usize,
    },
}

/// A parsed page and what the parser found odd in it.
#[derive(Debug)]
pub struct Parsed {
    /// The tree.
    pub html: Html,
    /// How many parse errors the parser reported (misnested tags, tables
    /// holding text, stray end tags...): real pages have many, harmlessly.
    pub errors: usize,
    /// The first few of them, for the summary.
    pub examples: Vec<Cow<'static, str>>,
    /// The deepest node of the tree.
    pub depth: usize,
}

/// Parses a whole page, refusing it once it nests too deep or costs too much.
///
/// # Errors
/// [`Refusal`] when the limits of the module docs are passed; no tree is
/// returned then.
pub fn document(html: &str) -> Result<Parsed, Refusal> {
    let sink = GuardedSink::new(Html::new_document());
    run(html::driver_document(sink), html)
}

/// Parses a fragment (as the content of a `<body>`), with the same limits as
/// [`document`].
///
/// # Errors
/// As [`document`].
pub fn fragment(html: &str) -> Result<Parsed, Refusal> {
    let sink = GuardedSink::new(Html::new_fragment());
    run(html::driver_fragment(sink), html)
}

/// The two entry points of html5ever's driver, with its default options (as
/// scraper's `Html::parse_document` and `Html::parse_fragment` use them).
mod html {
    use html5ever::driver::{self, ParseOpts, Parser};
    use html5ever::{QualName, local_name, ns};

    use super::GuardedSink;

    pub(super) fn driver_document(sink: GuardedSink) -> Parser<GuardedSink> {
        driver::parse_document(sink, ParseOpts::default())
    }

    pub(super) fn driver_fragment(sink: GuardedSink) -> Parser<GuardedSink> {
        driver::parse_fragment(
            sink,
            ParseOpts::default(),
            QualName::new(None, ns!(html), local_name!("body")),
            Vec::new(),
            false,
        )
    }
}

/// Feeds `text` to the parser chunk by chunk, checking the limits between
/// chunks (the sink checks them on every node and step too).
fn run(mut parser: html5ever::driver::Parser<GuardedSink>, text: &str) -> Result<Parsed, Refusal> {
    let mut rest = text;
    let mut fed = 0usize;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        rest = tail;
        fed += chunk.len();
        let sink = &parser.tokenizer.sink.sink;
        sink.fed.set(u64::try_from(fed).unwrap_or(u64::MAX));
        parser.process(StrTendril::from_slice(chunk));
        let builder = &parser.tokenizer.sink;
        builder.sink.check_budget();
        if builder.sink.refusal.get().is_none() {
            let open = OpenCount::default();
            builder.trace_handles(&open);
            let depth = open.0.borrow().len();
            if depth > MAX_NESTING {
                builder.sink.refuse(Refusal::TooDeep { depth });
            }
        }
        if let Some(refusal) = builder.sink.refusal.get() {
            tracing::debug!(
                bytes = fed,
                steps = builder.sink.steps.get(),
                nodes = builder.sink.nodes.get(),
                "parser stopped: {refusal:?}"
            );
            return Err(refusal);
        }
    }
    let guard = &parser.tokenizer.sink.sink;
    let (errors, examples) = (guard.errors.get(), guard.examples.take());
    let steps = guard.steps.get();
    let (html, depth) = parser.finish();
    tracing::trace!(bytes = fed, steps, depth, "parsed");

    Ok(Parsed {
        html,
        errors,
        examples,
        depth,
    })
}

/// Collects the distinct nodes the tree builder holds (open elements, active
/// formatting elements, head, form, context): the nesting its next scans see.
#[derive(Default)]
struct OpenCount(RefCell<HashSet<NodeId>>);

impl Tracer for OpenCount {
    type Handle = NodeId;

    fn trace_handle(&self, node: &NodeId) {
        self.0.borrow_mut().insert(*node);
    }
}

/// scraper's tree sink, measuring what it builds (see the module docs).
struct GuardedSink {
    inner: HtmlTreeSink,
    /// Depth of each node placed in the tree (the document is 0).
    depths: RefCell<HashMap<NodeId, usize>>,
    deepest: Cell<usize>,
    steps: Cell<u64>,
    nodes: Cell<u64>,
    /// Bytes fed so far, on which the budgets are reckoned.
    fed: Cell<u64>,
    refusal: Cell<Option<Refusal>>,
    errors: Cell<usize>,
    examples: RefCell<Vec<Cow<'static, str>>>,
}

impl GuardedSink {
    fn new(html: Html) -> GuardedSink {
        GuardedSink {
            inner: HtmlTreeSink::new(html),
            depths: RefCell::new(HashMap::new()),
            deepest: Cell::new(0),
            steps: Cell::new(0),
            nodes: Cell::new(0),
            fed: Cell::new(0),
            refusal: Cell::new(None),
            errors: Cell::new(0),
            examples: RefCell::new(Vec::new()),
        }
    }

    fn refuse(&self, why: Refusal) {
        if self.refusal.get().is_none() {
            self.refusal.set(Some(why));
        }
    }

    /// One step of the tree builder's work: only counted here (this runs on
    /// every question the tree builder asks), checked against the budget on
    /// every node placed and between chunks.
    #[inline]
    fn step(&self) {
        self.steps.set(self.steps.get() + 1);
    }

    /// Refuses the page when its steps or nodes passed their budgets.
    fn check_budget(&self) {
        let fed = self.fed.get();
        let steps = STEPS_BASE.saturating_add(STEPS_PER_BYTE.saturating_mul(fed));
        let nodes = NODES_BASE.saturating_add(NODES_PER_BYTE.saturating_mul(fed));
        if self.steps.get() > steps || self.nodes.get() > nodes {
            self.refuse(Refusal::TooCostly {
                bytes: usize::try_from(fed).unwrap_or(usize::MAX),
            });
        }
    }

    /// One node created.
    fn created(&self) {
        self.step();
        self.nodes.set(self.nodes.get() + 1);
    }

    fn depth(&self, node: NodeId) -> usize {
        self.depths.borrow().get(&node).copied().unwrap_or(0)
    }

    /// Records that `node` now sits at `depth`.
    fn place(&self, node: NodeId, depth: usize) {
        self.check_budget();
        self.depths.borrow_mut().insert(node, depth);
        if depth > self.deepest.get() {
            self.deepest.set(depth);
            if depth > MAX_NESTING {
                self.refuse(Refusal::TooDeep { depth });
            }
        }
    }

    fn has_parent(&self, node: NodeId) -> bool {
        self.inner
            .0
            .borrow()
            .tree
            .get(node)
            .is_some_and(|n| n.parent().is_some())
    }
}

impl TreeSink for GuardedSink {
    type Handle = NodeId;
    type Output = (Html, usize);
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> (Html, usize) {
        (self.inner.finish(), self.deepest.get())
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        // Counted, a few kept: a page of garbage has one error per few bytes.
        self.errors.set(self.errors.get() + 1);
        let mut examples = self.examples.borrow_mut();
        if examples.len() < ERRORS_KEPT && !examples.contains(&msg) {
            examples.push(msg);
        }
    }

    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        self.step();
        self.inner.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.created();
        self.inner.create_element(name, attrs, flags)
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.created();
        self.inner.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.created();
        self.inner.create_pi(target, data)
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        self.step();
        if let NodeOrText::AppendNode(id) = &child {
            self.place(*id, self.depth(*parent) + 1);
        }
        self.inner.append(parent, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        if self.has_parent(*element) {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.step();
        self.inner
            .append_doctype_to_document(name, public_id, system_id);
    }

    fn mark_script_already_started(&self, node: &NodeId) {
        self.inner.mark_script_already_started(node);
    }

    fn pop(&self, node: &NodeId) {
        self.inner.pop(node);
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.step();
        let contents = self.inner.get_template_contents(target);
        self.place(contents, self.depth(*target) + 1);
        contents
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.step();
        x == y
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode);
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        self.step();
        if let NodeOrText::AppendNode(id) = &new_node {
            self.place(*id, self.depth(*sibling).max(1));
        }
        self.inner.append_before_sibling(sibling, new_node);
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.step();
        self.inner.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.step();
        self.inner.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.step();
        // The moved children's own depths are not rewritten (that would cost
        // a walk of their subtrees); the stack trace between chunks and the
        // step budget bound what this misses.
        let depth = self.depth(*new_parent) + 1;
        let children: Vec<NodeId> = self
            .inner
            .0
            .borrow()
            .tree
            .get(*node)
            .map(|n| n.children().map(|c| c.id()).collect())
            .unwrap_or_default();
        for child in &children {
            self.step();
            self.place(*child, depth);
        }
        // One child at a time: ego-tree's `reparent_from_id_append` (what
        // scraper's sink calls) sets the new parent on the first and last
        // child only, so a middle child kept pointing at its old parent, and
        // removing it later (chrome is detached before readability) panicked
        // on the broken tree (`<b><h1><!--x--><!--y--><nav></nav></b>`, the
        // adoption agency moving three children). `append_id` detaches each
        // child properly first.
        let mut html = self.inner.0.borrow_mut();
        if let Some(mut parent) = html.tree.get_mut(*new_parent) {
            for child in children {
                parent.append_id(child);
            }
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &NodeId) -> bool {
        self.inner
            .is_mathml_annotation_xml_integration_point(handle)
    }

    fn set_current_line(&self, line: u64) {
        self.inner.set_current_line(line);
    }

    fn associate_with_form(
        &self,
        target: &NodeId,
        form: &NodeId,
        nodes: (&NodeId, Option<&NodeId>),
    ) {
        self.inner.associate_with_form(target, form, nodes);
    }
}

impl From<Refusal> for super::ExtractError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::TooDeep { depth } => super::ExtractError::TooDeep { depth },
            Refusal::TooCostly { bytes } => super::ExtractError::TooCostly { bytes },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node is among its parent's children, and every child names its
    /// parent: what detaching a node relies on.
    fn assert_whole(html: &Html, source: &str) {
        for node in html.tree.nodes() {
            if let Some(parent) = node.parent() {
                assert!(
                    parent.children().any(|c| c.id() == node.id()),
                    "{source}: a node is not among its parent's children"
                );
            }
            for child in node.children() {
                assert_eq!(child.parent().map(|p| p.id()), Some(node.id()), "{source}");
            }
        }
    }

    #[test]
    fn children_moved_by_the_adoption_agency_name_their_new_parent() {
        // A formatting element closed around a block: the tree builder moves
        // the block's children (three or more) into a new element.
        for html in [
            "<b id=\"main\"><h1><!--</div>--><!--</div>--><nav></nav></b>",
            "<a href=x><div><p>1</p><p>2</p><p>3</p><p>4</p></a>",
            "<i><section>a<!--c-->b<em>e</em>c</i> after",
        ] {
            let parsed = document(html).unwrap();
            assert_whole(&parsed.html, html);
            assert_eq!(
                parsed.html.html(),
                Html::parse_document(html).html(),
                "{html}"
            );
            // Removing every node, one by one, never meets a broken link.
            let mut tree = parsed.html.clone();
            let ids: Vec<_> = tree.tree.nodes().map(|n| n.id()).collect();
            for id in ids.into_iter().skip(1) {
                if let Some(mut n) = tree.tree.get_mut(id) {
                    n.detach();
                }
            }
        }
        let doc = crate::extract::extract(
            "<b id=\"main\"><h1><!--</div>--><!--</div>--><nav></nav></b>",
            None,
            &crate::target::Rules::generic(),
        );
        assert!(doc.is_err(), "an empty page is refused, never a panic");
    }

    #[test]
    fn guarded_parse_builds_the_tree_scraper_builds() {
        let long = format!(
            "<!doctype html><title>T</title><p>{}é</p><table><tr>x<td>y</table><b><i>z</b></i>",
            "a&amp;b <br> ".repeat(2_000)
        );
        let cases = [
            "",
            "<p>one",
            "<!doctype html><html><head><title>T</title></head><body><p>x</p></body></html>",
            "<template><div>in</div></template><svg><g><text>t</text></g></svg>",
            "<script>if (a < b) { document.write('</div>') }</script><noscript><p>n</p></noscript>",
            long.as_str(),
        ];
        for html in cases {
            let parsed = document(html).unwrap();
            assert_eq!(
                parsed.html.html(),
                Html::parse_document(html).html(),
                "{html:.80}"
            );
            let frag = fragment(html).unwrap();
            assert_eq!(
                frag.html.html(),
                Html::parse_fragment(html).html(),
                "{html:.80}"
            );
        }
    }

    #[test]
    fn depth_and_errors_are_measured() {
        // (page, depth of the deepest node, parse errors)
        let cases: &[(&str, usize, bool)] = &[
            ("<!doctype html><p>x</p>", 3, false),
            (
                "<!doctype html><div><div><div>x</div></div></div>",
                5,
                false,
            ),
            ("<!doctype html><table><tr>x<td>y</table>", 6, true),
            ("<div></x>", 3, true),
        ];
        for &(html, depth, errors) in cases {
            let parsed = document(html).unwrap();
            assert_eq!(parsed.depth, depth, "{html}");
            assert_eq!(parsed.errors > 0, errors, "{html}");
            assert!(parsed.examples.len() <= ERRORS_KEPT);
        }
    }

    #[test]
    fn parsing_stops_at_the_limits() {
        // (prefix, markup repeated, times, refused)
        let cases: &[(&str, &str, usize, bool)] = &[
            ("", "<div>", MAX_NESTING - 10, false),
            ("", "<div>", MAX_NESTING + 10, true),
            ("", "<div/>", MAX_NESTING + 10, true),
            ("", "<span></x>", MAX_NESTING + 10, true),
            ("", "<div><!--</div>-->", MAX_NESTING + 10, true),
            // Moved out of the table, so the tree stays flat, but open.
            ("<table>", "<div>", MAX_NESTING + 10, true),
            // Each table closes the one before: flat and closed.
            ("", "<table><div>", MAX_NESTING * 2, false),
            ("", "<p>x</p>", 50_000, false),
            ("", "<td>x", 50_000, false),
            ("", "<b>", 20_000, true),
        ];
        for &(prefix, markup, n, refused) in cases {
            let html = format!("{prefix}{}", markup.repeat(n));
            assert_eq!(document(&html).is_err(), refused, "{markup} x {n}");
            assert_eq!(
                fragment(&html).is_err(),
                refused,
                "{markup} x {n} (fragment)"
            );
        }
    }

    #[test]
    fn a_page_that_costs_too_much_is_refused_by_the_step_budget() {
        let sink = GuardedSink::new(Html::new_document());
        sink.steps.set(STEPS_BASE);
        sink.check_budget();
        assert_eq!(sink.refusal.get(), None);
        sink.step();
        sink.check_budget();
        assert_eq!(sink.refusal.get(), Some(Refusal::TooCostly { bytes: 0 }));
        // Reopened formatting elements create nodes the input does not hold.
        let page = (0..5_000)
            .map(|i| format!("<p><b class=c{i}>x</p>"))
            .collect::<String>();
        assert!(matches!(document(&page), Err(Refusal::TooCostly { .. })));
    }
}
