"""The HTML report of a real crawl, loaded in a real headless browser (Debian's ``chromium``).

The page itself has no script.  The test loads a copy with a small probe script in its head
that records every error event (a broken image is one) and, on ``load``, writes each image's
natural and rendered size into the DOM; ``--dump-dom`` returns that DOM.  Console messages of the
page (which logs nothing itself) reach chromium's stderr as ``CONSOLE`` lines: there must be
none.  A full-page screenshot is saved as the test's artefact and its path printed (under
pytest's temporary directory, or in ``$CENSUS_ARTEFACTS`` when set).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from census.report import build_report, build_trend, to_html
from census.report.render import SIMULATED_NOTICE
from census.store.engine import make_engine
from tests.report.conftest import Crawl, new_run, observe

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(String(e.message || (e.target && (e.target.src || '').slice(0, 80))));
}, true);
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (i) {
    var box = i.getBoundingClientRect();
    return {alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth,
            naturalHeight: i.naturalHeight, width: box.width, height: box.height};
  });
  var out = document.createElement('pre');
  out.id = 'census-probe';
  out.textContent = JSON.stringify({errors: window.__errors, images: images,
    height: document.documentElement.scrollHeight, title: document.title});
  document.body.appendChild(out);
});
</script>"""


def _browser() -> str:
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no headless chromium on PATH (Debian: apt-get install chromium; .ci/run installs it"
        " when missing and apt-get exists)"
    )


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        browser,
        "--headless=new",
        "--no-sandbox",  # root in containers; the page is our own file
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _load(browser: str, page: Path, profile: Path) -> tuple[dict[str, Any], str]:
    done = _run(browser, f"--user-data-dir={profile}", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="census-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, "the probe did not run: the page did not finish loading"
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&")), done.stderr


def _check_page(html_text: str, out: Path, name: str) -> tuple[dict[str, Any], Path]:
    browser = _browser()
    assert "<script" not in html_text  # the report itself runs no code
    page = out / f"{name}.html"
    page.write_text(html_text, encoding="utf-8")
    probed = out / f"{name}-probe.html"
    probed.write_text(html_text.replace("<head>", "<head>" + _PROBE, 1), encoding="utf-8")
    result, stderr = _load(browser, probed, out / "profile")
    assert result["errors"] == [], result["errors"]
    assert _console_lines(stderr) == [], _console_lines(stderr)
    images = result["images"]
    assert len(images) == html_text.count("<img ")
    for image in images:
        assert image["complete"], image["alt"]
        assert image["naturalWidth"] > 100 and image["naturalHeight"] > 100, image
        assert image["width"] > 100 and image["height"] > 50, image
    shot = out / f"{name}.png"
    height = min(max(int(result["height"]), 800), 16000)
    done = _run(
        browser,
        f"--user-data-dir={out / 'profile'}",
        "--hide-scrollbars",
        f"--window-size=1280,{height}",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    print(f"\nscreenshot of the HTML report: {shot}")
    return result, shot


def test_the_html_report_of_a_crawl_renders_in_a_headless_browser(
    crawl: Crawl, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = make_engine(crawl.database_url)
    try:
        report = build_report(engine, crawl.run_id)
        trend = build_trend(engine, 5)
    finally:
        engine.dispose()
    html_text = to_html(report, trend)
    out = Path(os.environ.get("CENSUS_ARTEFACTS") or tmp_path_factory.mktemp("html-report"))
    result, _ = _check_page(html_text, out, "report")
    # Status and failures, auth and OAuth, CORS and Origin, rate limits, era and version,
    # tools, token cost, TLS: one chart each, every title naming its denominator.
    titles = [i["alt"] for i in result["images"]]
    assert len(titles) >= 11, titles
    for start in ("Status", "Failure reasons", "Authorization", "OAuth details", "CORS class",
                  "Foreign Origin", "Rate limiting", "Protocol era", "Tools per server",
                  "Token cost", "TLS"):  # fmt: skip
        assert any(t.startswith(start) and "n = " in t for t in titles), (start, titles)
    assert result["title"].startswith("SIMULATED DATA") == report.run.simulated
    if report.run.simulated:
        assert html.escape(SIMULATED_NOTICE) in html_text and "role='alert'" in html_text
    assert "Published figures side by side" in html_text and "38.7%" in html_text


def test_the_trend_chart_and_empty_tables_render_too(
    engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with engine.begin() as conn:
        for healthy in (1, 2, 3):
            run = new_run(conn)
            for i in range(4):
                status = "healthy" if i < healthy else "unreachable"
                extra: dict[str, object] = (
                    {"auth_class": "none", "era": "handshake"}
                    if status == "healthy"
                    else {"failure_reason": "dns_error"}
                )
                observe(conn, run, f"https://e{i}.example/mcp", status, **extra)
    report = build_report(engine, run)
    trend = build_trend(engine, 5)
    assert len(trend.runs) == 3
    html_text = to_html(report, trend)
    assert "<p class='none'>none</p>" in html_text  # e.g. no impersonation findings
    out = tmp_path_factory.mktemp("html-trend")
    result, _ = _check_page(html_text, out, "trend")
    assert any(
        i["alt"].startswith("Trend of key shares") and "n = 4, 4, 4" in i["alt"]
        for i in result["images"]
    )
