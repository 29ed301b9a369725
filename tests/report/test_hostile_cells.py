"""A server chooses its name: the Markdown and HTML reports must show it, never run it.

The Markdown is rendered by a real CommonMark renderer with GFM tables (markdown-it-py, the
renderer rich itself uses), because what matters is what a reader's viewer makes of it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from markdown_it import MarkdownIt

from census.report import build_report, to_html, to_markdown
from tests.report.conftest import new_run, observe

HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)> | cell *bold* _em_ `code` "
    "[link](javascript:alert(3)) ![i](http://e.example/p.png) &lt;b&gt; ~~s~~"
)


def _report(engine: sa.Engine) -> object:
    with engine.begin() as conn:
        run = new_run(conn)
        observe(
            conn,
            run,
            "https://hostile.example/mcp",
            "healthy",
            auth_class="none",
            era="handshake",
            server_name=HOSTILE,
            tool_count=1,
            tool_tokens=999,
        )
    return build_report(engine, run)


def test_a_hostile_server_name_is_literal_text_in_the_rendered_markdown(
    engine: sa.Engine,
) -> None:
    markdown = to_markdown(_report(engine))  # type: ignore[arg-type]
    page = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    # No live markup came from the name: no tag, link, image, emphasis or strikethrough.
    assert "<script" not in page and "<img" not in page
    assert "javascript:" not in re.findall(r'href="([^"]*)"', page).__str__()
    assert 'src="http://e.example' not in page
    [row] = [r for r in page.split("<tr>") if "alert(1)" in r]
    assert "<strong>" not in row and "<em>" not in row and "<code>" not in row
    assert "<s>" not in row and "<del>" not in row
    # The table keeps its shape: the `|` in the name did not add a cell.
    [header] = [r for r in page.split("<tr>") if "<th>" in r and "server" in r.lower()]
    assert row.count("<td") == header.count("<th")
    # And the reader sees exactly the name (the viewer decodes our escapes back to it).
    text = re.sub(r"<[^>]+>", "", row)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(entity, char)
    assert HOSTILE in text


def test_a_hostile_server_name_is_escaped_in_the_html_report(engine: sa.Engine) -> None:
    page = to_html(_report(engine))  # type: ignore[arg-type]
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
