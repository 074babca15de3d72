#!/usr/bin/env python3
"""Corpus and configs for the side-by-side benchmark (benches/compare/run).

Pages are synthetic official pages of about 29 KB: a header with navigation, a
language switch and a search form, a breadcrumb, the title and a "Last updated"
stamp, the text in <section class="content"> (headings, paragraphs and lists
that differ per page), a related-links sidebar and a footer. Their text is
drawn from fixtures/ (sentences and headings of the NATO, CDC, gov.uk and
European Commission pages in tests/fixtures/). Per-request tokens sit outside
the content as the placeholder TOKEN (a csrf <meta>, a hidden csrf <input>, a
script nonce); the server replaces it on every response, so every fetch is a
full 200 with a body of its own.

Pages are a pure function of their number (and whether they are edited), so
run b edits a page and a new repetition restores it by writing it again.

Usage:
  corpus.py build DIR N                 write DIR/p000001.html ... (N pages)
  corpus.py edit DIR N [--restore]      edit every tenth page (N/10 pages)
  corpus.py redliner-config FILE N --store DIR --base URL [--hosts K]
            [--delay D] [--concurrency C]
  corpus.py urlwatch-jobs FILE N --base URL
  corpus.py urlwatch-config FILE
  corpus.py urls FILE N --base URL      one URL per line (the bare pipeline's list)
"""

import argparse
import datetime
import pathlib
import random
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
TOKEN = "@@REQUEST_ID@@"
# Content text per page, bytes of markup; the chrome adds about 8 KB.
CONTENT_BYTES = 23500


def _load():
    sentences = []
    for line in (HERE / "fixtures" / "paragraphs.txt").read_text("utf-8").splitlines():
        # Sentence ends: a full stop, then a space and a capital. Good enough
        # to recombine sentences into new paragraphs.
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line.strip()):
            if len(s) >= 40:
                sentences.append(s)
    headings = [h.strip() for h in (HERE / "fixtures" / "headings.txt").read_text("utf-8").splitlines() if h.strip()]
    return sentences, headings


SENTENCES, HEADINGS = _load()


def page_name(i):
    return f"p{i:06d}.html"


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_edited(i):
    """Run b edits every tenth page: 1, 11, 21, ... (N/10 of them)."""
    return i % 10 == 1


def stamp(i, edited):
    day = datetime.date(2023, 1, 1) + datetime.timedelta(days=i % 700)
    if edited:
        day += datetime.timedelta(days=30)
    return day.strftime("%-d %b. %Y") + f" {9 + i % 8:02d}:{(i * 7) % 60:02d}"


def paragraph(rng):
    return " ".join(rng.sample(SENTENCES, rng.randint(2, 3)))


def content(i, edited):
    rng = random.Random(i)
    heads = rng.sample(HEADINGS, 24)
    out = []
    size = 0

    def add(html):
        nonlocal size
        out.append(html)
        size += len(html.encode("utf-8"))

    add(f"<p>{esc(paragraph(rng))} (Reference {i}.)</p>\n")
    add(f"<p>{esc(paragraph(rng))}</p>\n")
    section = 0
    h2s = 0
    edited_done = False
    while size < CONTENT_BYTES and section < len(heads):
        add(f"<h2>{esc(heads[section])}</h2>\n")
        section += 1
        h2s += 1
        for k in range(rng.randint(2, 5)):
            text = esc(paragraph(rng))
            if k == 1 and rng.random() < 0.5:
                text += f' See <a href="/en/topics/{rng.randint(1, 90000)}.htm">the related topic</a>.'
            if edited and not edited_done and h2s == 2:
                # A realistic revision: a sentence reworded and one added.
                text = text.replace(" the ", " this ", 1) + f" This text was revised for page {i}."
                edited_done = True
            add(f"<p>{text}</p>\n")
        if rng.random() < 0.6:
            items = "".join(f"<li>{esc(s)}</li>\n" for s in rng.sample(SENTENCES, rng.randint(3, 5)))
            add(f"<ul>\n{items}</ul>\n")
        if rng.random() < 0.4 and section < len(heads):
            add(f"<h3>{esc(heads[section])}</h3>\n")
            section += 1
            add(f"<p>{esc(paragraph(rng))}</p>\n")
    return "".join(out), heads[0]


NAV = ["Home", "News", "Topics", "Structure", "Multimedia", "Publications", "Events", "Contact"]
LANGS = [("fr", "Fran&ccedil;ais"), ("de", "Deutsch"), ("es", "Espa&ntilde;ol"), ("uk", "Українська")]


def page(i, edited=False):
    body, title_head = content(i, edited)
    title = f"{title_head} ({i})"
    nav = "".join(f'        <li><a href="/en/{n.lower()}.htm">{n}</a></li>\n' for n in NAV)
    langs = "".join(f'<li><a href="/{c}/topics_{i}.htm">{n}</a></li>' for c, n in LANGS)
    rng = random.Random(-i)
    related = "".join(
        f'        <li><a href="/en/topics_{rng.randint(1, 90000)}.htm">{esc(h)}</a></li>\n'
        for h in rng.sample(HEADINGS, 6)
    )
    footer_links = "".join(
        f'      <li><a href="/en/{p}.htm">{p.replace("-", " ").capitalize()}</a></li>\n'
        for p in ["about-us", "accessibility", "privacy-policy", "cookies", "legal-notice", "sitemap", "contact", "jobs"]
    )
    return f"""<!DOCTYPE html>
<html lang="en" class="no-js">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="csrf-token" content="{TOKEN}">
  <meta name="description" content="Official information on {esc(title_head)}.">
  <title>{esc(title)} - Official portal</title>
  <link rel="stylesheet" href="/static/css/main.css?v=20240611">
  <link rel="canonical" href="https://www.example.org/en/topics_{i}.htm">
  <style nonce="{TOKEN}">
    .cookie-banner {{ position: fixed; bottom: 0; }}
    .share-bar a::before {{ content: "Share on"; }}
  </style>
  <script nonce="{TOKEN}">
    window.PORTAL = {{ csrf: "{TOKEN}", page: {i} }};
    document.documentElement.className = "js";
  </script>
  <script src="/static/js/jquery-3.7.1.min.js"></script>
</head>
<body class="topics">
  <div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
    <p>This website uses cookies to improve your experience and to collect anonymous statistics. Read our <a href="/en/privacy-policy.htm">privacy policy</a>.</p>
    <button type="button" class="btn accept">Accept all cookies</button>
    <button type="button" class="btn reject">Only necessary cookies</button>
  </div>
  <header class="header" id="header">
    <a class="logo" href="/en/index.htm"><img src="/static/img/logo.svg" alt="Official portal"></a>
    <nav class="main-nav" aria-label="Main menu">
      <ul>
{nav}      </ul>
    </nav>
    <nav class="lang-switch" aria-label="Languages">
      <ul><li class="active">English</li>{langs}</ul>
    </nav>
    <form class="search-form" action="/en/search.htm" method="get" role="search">
      <input type="hidden" name="csrf" value="{TOKEN}">
      <label for="q">Search the portal</label>
      <input type="search" id="q" name="q" placeholder="Search">
      <button type="submit">Search</button>
    </form>
  </header>
  <div class="breadcrumb" aria-label="Breadcrumb">
    <ul><li><a href="/en/index.htm">Home</a></li><li><a href="/en/topics.htm">Topics</a></li><li>{esc(title_head)}</li></ul>
  </div>
  <main id="main" class="container">
    <div class="row">
      <div class="col-main">
        <h1 class="page-title">{esc(title)}</h1>
        <ul class="meta">
          <li>Last updated: {stamp(i, edited)}</li>
        </ul>
        <div class="share-bar"><a href="#">Facebook</a> <a href="#">X</a> <a href="#">E-mail</a> <a href="#">Print</a></div>
        <section class="content">
{body}        </section>
      </div>
      <aside class="sidebar related">
        <h4>Related</h4>
        <ul>
{related}        </ul>
      </aside>
    </div>
  </main>
  <footer class="footer" id="footer">
    <nav aria-label="Footer">
      <ul>
{footer_links}      </ul>
    </nav>
    <p>&copy; Official portal 2024. All rights reserved.</p>
  </footer>
  <script nonce="{TOKEN}" src="/static/js/main.js"></script>
</body>
</html>
"""


def write_page(dir_, i, edited):
    path = dir_ / page_name(i)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page(i, edited), "utf-8")
    tmp.replace(path)


def cmd_build(a):
    d = pathlib.Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    for i in range(1, a.n + 1):
        write_page(d, i, False)


def cmd_edit(a):
    d = pathlib.Path(a.dir)
    count = 0
    for i in range(1, a.n + 1):
        if is_edited(i):
            write_page(d, i, not a.restore)
            count += 1
    print(count)


def host_of(i, hosts):
    # Consecutive targets go to different hosts, as a config sorted by
    # site would not: the run loop has to spread them itself either way.
    return f"127.0.0.{(i - 1) % hosts + 1}"


def url_of(i, base, hosts):
    if hosts:
        port = base.rsplit(":", 1)[1]
        return f"http://{host_of(i, hosts)}:{port}/{page_name(i)}"
    return f"{base}/{page_name(i)}"


def cmd_redliner_config(a):
    lines = [
        "# Generated by benches/compare/corpus.py",
        "[settings]",
        f'store = "{a.store}"',
        f'min_host_delay = "{a.delay}"',
        'confirm_after = "0s"',
        'timeout = "30s"',
    ]
    if a.concurrency:
        lines.append(f"concurrency = {a.concurrency}")
    lines += [
        "",
        "[rules.portal]",
        'title = "h1"',
        'content = ["section.content"]',
        "",
    ]
    with open(a.file, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
        for i in range(1, a.n + 1):
            f.write(f'[[target]]\nid = "p{i:06d}"\nurl = "{url_of(i, a.base, a.hosts)}"\nrules = "portal"\n')


def cmd_urlwatch_jobs(a):
    with open(a.file, "w", encoding="utf-8") as f:
        for i in range(1, a.n + 1):
            if i > 1:
                f.write("---\n")
            f.write(
                f"name: p{i:06d}\nurl: {url_of(i, a.base, 0)}\n"
                "filter:\n  - css: section.content\n  - html2text\n"
            )


def cmd_urls(a):
    with open(a.file, "w", encoding="utf-8") as f:
        for i in range(1, a.n + 1):
            f.write(url_of(i, a.base, 0) + "\n")


def cmd_urlwatch_config(a):
    # Only the stdout reporter, plain text without colour: the report is
    # what the benchmark counts.
    pathlib.Path(a.file).write_text(
        "display:\n  new: true\n  error: true\n  unchanged: false\n  empty-diff: true\n"
        "report:\n  text:\n    details: true\n    footer: true\n    line_length: 75\n    minimal: false\n    separate: false\n"
        "  stdout:\n    enabled: true\n    color: false\n"
        "  html:\n    diff: unified\n"
        "  email:\n    enabled: false\n",
        "utf-8",
    )


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("dir")
    b.add_argument("n", type=int)
    b.set_defaults(f=cmd_build)
    e = sub.add_parser("edit")
    e.add_argument("dir")
    e.add_argument("n", type=int)
    e.add_argument("--restore", action="store_true")
    e.set_defaults(f=cmd_edit)
    r = sub.add_parser("redliner-config")
    r.add_argument("file")
    r.add_argument("n", type=int)
    r.add_argument("--store", required=True)
    r.add_argument("--base", required=True)
    r.add_argument("--hosts", type=int, default=0)
    r.add_argument("--delay", default="0s")
    r.add_argument("--concurrency", type=int, default=0)
    r.set_defaults(f=cmd_redliner_config)
    u = sub.add_parser("urlwatch-jobs")
    u.add_argument("file")
    u.add_argument("n", type=int)
    u.add_argument("--base", required=True)
    u.set_defaults(f=cmd_urlwatch_jobs)
    l = sub.add_parser("urls")
    l.add_argument("file")
    l.add_argument("n", type=int)
    l.add_argument("--base", required=True)
    l.set_defaults(f=cmd_urls)
    c = sub.add_parser("urlwatch-config")
    c.add_argument("file")
    c.set_defaults(f=cmd_urlwatch_config)
    a = p.parse_args(argv)
    a.f(a)


if __name__ == "__main__":
    main(sys.argv[1:])
