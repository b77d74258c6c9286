"""The web page in a real browser (Debian's chromium driven by Playwright) against a real server.

Loads the page from a real uvicorn server over an indexed corpus, searches, sees the result
grid, clicks the top result and checks that the player lands on the moment's first second (which
needs the stream's Range support: the browser seeks by asking for byte ranges). Then "more like
this" replaces the grid. Skipped only where ``/usr/bin/chromium`` is missing.
"""
from __future__ import annotations

import os

import pytest

from api.app import create_app
from api.serve import ServerThread
from indexer.pipeline import Indexer
from search.library import Library
from search.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpus, tiny_clip, encoders, asr):
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-data"), **tiny_clip)
    Indexer(Library(settings), encoders, settings, progress=False).index([corpus])
    with ServerThread(create_app(settings, encoders=encoders, asr=asr)) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        yield page
        browser.close()


def test_search_then_play_lands_on_the_moment(server, page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server + "/")
    page.fill("#q", "storm forecast by the sea")
    page.select_option("#mode", "speech")
    page.press("#q", "Enter")
    page.wait_for_selector("#results .result", timeout=30_000)
    cards = page.query_selector_all("#results .result")
    assert len(cards) >= 2
    first = cards[0]
    assert first.query_selector(".name").inner_text() == "weather.mp4"
    assert "rain" in first.query_selector(".snippet").inner_text().lower()
    assert "score" in first.query_selector(".score").inner_text()
    start = float(first.get_attribute("data-start"))
    assert 9.0 <= start < 14.0
    page.wait_for_function("() => document.querySelector('#results .result img').naturalWidth > 0",
                           timeout=30_000)

    first.query_selector(".play").click()
    page.wait_for_function(
        "s => { const v = document.querySelector('#player');"
        " return v.readyState >= 1 && Math.abs(v.currentTime - s) < 0.6; }",
        arg=start, timeout=30_000)
    current = page.evaluate("() => document.querySelector('#player').currentTime")
    assert abs(current - start) < 0.6 and current < 14.0
    assert page.evaluate("() => document.querySelector('#player').error") is None
    assert all(url.startswith(server) for url in requests)  # nothing from outside
    assert not page.errors


def test_more_like_this_and_jobs_view(server, page):
    page.goto(server + "/?q=a%20puppy%20chasing%20a%20flying%20disc&mode=speech")
    page.wait_for_selector("#results .result", timeout=30_000)
    before = page.query_selector("#results .result").get_attribute("data-segment")
    page.click("#results .result .more")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('moments like')",
                           timeout=30_000)
    after = [c.get_attribute("data-segment") for c in page.query_selector_all("#results .result")]
    assert after and before not in after  # the moment itself is left out
    page.click("#show-jobs")
    assert page.is_visible("#jobs-box")
    page.fill("#index-paths", "/etc")
    page.click("#index-form button")
    page.wait_for_function("() => document.querySelector('#status').classList.contains('error')",
                           timeout=10_000)
    assert "VIDSEARCH_ALLOWED_ROOTS" in page.inner_text("#status")
    assert not page.errors
