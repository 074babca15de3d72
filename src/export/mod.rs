//! Exports of the stored history for other tools: WARC files for web
//! archives and their readers ([`warc`]), a git repository with one commit
//! per snapshot ([`git`]), and evidence bundles that prove what a page said
//! and when ([`evidence`]).

pub mod evidence;
pub mod git;
pub mod warc;
