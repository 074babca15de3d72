//! The report stage: renders a revision as a redline.
