"""The web page in a real browser (Debian's chromium driven by Playwright) against a real server.

Loads the page from a real uvicorn server over an indexed corpus, searches, sees the result
grid, clicks the top result and checks that the player lands on the moment's first second (which
needs the stream's Range support: the browser seeks by asking for byte ranges). Then "more like
this", every mode and filter, paging, keys, the video, library and jobs views, and the key prompt
of a server that needs one; at 360 px wide and on a desktop. Skipped only where
``/usr/bin/chromium`` is missing.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from api.app import create_app
from api.serve import ServerThread
from indexer.pipeline import Indexer
from core.library import Library
from core.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # screenshots for a person to look at
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def settings(tmp_path_factory, corpus, tiny_clip, encoders):
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-data"), **tiny_clip)
    library = Library(settings)
    Indexer(library, encoders, settings, progress=False).index([corpus])
    weather = next(v for v in library.videos() if v.path.endswith("weather.mp4"))
    library.set_tags(weather.id, ["news"])
    return settings


@pytest.fixture(scope="module")
def server(settings, encoders, asr):
    with ServerThread(create_app(settings, encoders=encoders, asr=asr)) as url:
        yield url


@contextlib.contextmanager
def browser_page():
    """A page of Debian's chromium (Playwright); ``page.errors``: the script errors it raised."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        yield page
        browser.close()


@pytest.fixture(scope="module")
def page(server):
    with browser_page() as page:
        yield page


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
    # A label people read, as the API gives it; the raw score on hover.
    answer = page.evaluate("async () => (await (await fetch('/api/search?q=storm%20forecast%20by%20the%20sea"
                           "&mode=speech&k=1')).json()).moments[0]")
    assert first.query_selector(".score").inner_text() == f"{answer['relevance']} match"
    assert first.query_selector(".score").get_attribute("title") == f"score {answer['score']:.4f}"
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

    # The video view: the moment on the timeline, the transcript (a click seeks there and the
    # line being said is marked), the video's other moments.
    page.wait_for_selector("#transcript-lines button", timeout=30_000)
    lines = page.query_selector_all("#transcript-lines button")
    assert len(lines) >= 2 and len(page.query_selector_all("#other-moments button")) >= 2
    assert float(page.evaluate("() => parseFloat(document.querySelector('#moment-span').style.width)")) > 0
    target = float(lines[0].get_attribute("data-start"))
    lines[0].click()
    page.wait_for_function("s => Math.abs(document.querySelector('#player').currentTime - s) < 0.6", arg=target,
                           timeout=30_000)
    page.wait_for_function("() => document.querySelector('#transcript-lines button.now') !== null", timeout=30_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "video-view.png"))
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: player and transcript stacked
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 361
    boxes = [page.query_selector(sel).bounding_box() for sel in ("#player", "#transcript-lines")]
    assert all(0 <= b["x"] and b["x"] + b["width"] <= 361 for b in boxes) and boxes[1]["y"] > boxes[0]["y"]
    page.screenshot(path=str(ARTIFACTS / "video-view-360px.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
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


def _names(page) -> list[str]:
    return [c.inner_text() for c in page.query_selector_all("#results .result .name")]


def _search(page, text: str, mode: str | None = None) -> None:
    page.fill("#q", text)
    if mode:
        page.select_option("#mode", mode)
    page.evaluate("() => { document.querySelector('#status').textContent = ''; }")
    page.press("#q", "Enter")
    page.wait_for_function("() => /moment\\(s\\) for/.test(document.querySelector('#status').textContent)",
                           timeout=30_000)


def test_modes_filters_why_paging_keys_and_back(server, page, corpus):
    page.goto(server + "/")
    page.click("h1")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "q"

    _search(page, "rain coast", "keyword")  # every mode is on the page, keyword too
    assert "mode=keyword" in page.url and _names(page)[0] == "weather.mp4"
    first = page.query_selector("#results .result")
    assert [m.inner_text().lower() for m in first.query_selector_all(".snippet mark")] == ["rain", "coast"]
    assert first.query_selector(".why").inner_text().startswith("keyword #1")

    _search(page, "a dog catching a frisbee in the park", "hybrid")
    assert _names(page)[0] == "dog.mp4" and "speech #" in page.inner_text("#results .result .why")
    page.click("#filters summary")
    page.click("#tag-chips button[data-tag=news]")  # only videos tagged news: the weather report
    page.wait_for_function("() => location.search.includes('tag=news')", timeout=10_000)
    page.wait_for_function("() => [...document.querySelectorAll('#results .name')].every(n => n.textContent === "
                           "'weather.mp4') && document.querySelectorAll('#results .name').length > 0", timeout=30_000)
    page.click("#tag-chips button[data-tag=news]")
    page.wait_for_function("() => !location.search.includes('tag=news')", timeout=10_000)
    page.fill("#f-path", str(corpus / "budget"))
    _search(page, "a dog catching a frisbee in the park")
    assert set(_names(page)) == {"budget.mp4"} and "path_prefix=" in page.url
    page.fill("#f-path", "")

    page.goto(server + "/?q=weather%20and%20money&mode=speech&k=1")  # one a page, then more
    page.wait_for_selector("#results .result", timeout=30_000)
    seen = [c.get_attribute("data-segment") for c in page.query_selector_all("#results .result")]
    assert len(seen) == 1
    for _ in range(20):  # until the last page (the button goes when a page comes back short)
        if not page.is_visible("#more-results"):
            break
        count = len(seen)
        page.click("#more-results")
        page.wait_for_function(f"() => document.querySelectorAll('#results .result').length > {count} || "
                               "document.querySelector('#more-results').hidden", timeout=30_000)
        seen = [c.get_attribute("data-segment") for c in page.query_selector_all("#results .result")]
    assert not page.is_visible("#more-results")
    assert len(seen) >= 4 and len(seen) == len(set(seen))  # pages never repeat a moment

    page.focus("#q")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement === document.querySelectorAll('#results .play')[1]")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than the screen
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 361
    page.screenshot(path=str(ARTIFACTS / "search-360px.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.go_back()  # the search before, from the URL
    page.wait_for_function("() => document.querySelector('#q').value === 'a dog catching a frisbee in the park'",
                           timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('#results .result').length > 0", timeout=30_000)
    assert not page.errors


def test_library_view_sorts_edits_tags_and_removes(server, page):
    page.goto(server + "/")
    page.click("#show-library")
    page.wait_for_selector("#library tbody tr", timeout=30_000)
    assert len(page.query_selector_all("#library tbody tr")) == 5  # four indexed, one failed
    assert "failed at decode" in page.inner_text("#library tbody")
    assert page.inner_text("#lib-range") == "1–5 of 5"
    assert page.is_disabled("#lib-prev") and page.is_disabled("#lib-next")

    page.select_option("#lib-sort", "-duration")
    expected = page.evaluate("async () => (await (await fetch('/api/videos?sort=-duration')).json())"
                             ".videos.map(v => String(v.id))")
    page.wait_for_function("ids => [...document.querySelectorAll('#library tbody tr')].map(r => r.dataset.video)"
                           ".join() === ids.join()", arg=expected, timeout=10_000)
    page.select_option("#lib-status", "failed")
    page.wait_for_function("() => document.querySelectorAll('#library tbody tr').length === 1", timeout=10_000)
    page.select_option("#lib-status", "")
    page.wait_for_function("() => document.querySelectorAll('#library tbody tr').length === 5", timeout=10_000)

    dog = page.query_selector("#library tbody tr:has-text('dog.mp4') input.tags")
    dog.fill("pets, family")
    dog.press("Enter")  # saved: the search filters get a chip for it
    page.wait_for_selector("#tag-chips button[data-tag=pets]", state="attached", timeout=10_000)
    assert page.get_attribute("#tag-chips button[data-tag=pets]", "aria-pressed") == "false"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#library tbody tr:has-text('silent_timelapse.mp4') button.remove")
    page.wait_for_function("() => document.querySelector('#lib-range').textContent === '1–4 of 4'", timeout=10_000)
    assert "silent_timelapse.mp4" not in page.inner_text("#library tbody")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
    assert not page.errors


def test_key_prompt_when_the_server_needs_a_key(settings, encoders, asr, page):
    keyed = settings.model_copy(update={"api_key": "open-sesame"})
    with ServerThread(create_app(keyed, encoders=encoders, asr=asr)) as url:
        page.goto(url + "/?q=heavy%20rain%20along%20the%20coast&mode=speech")
        page.wait_for_selector("#key-box:not([hidden])", timeout=30_000)  # the search was refused: 401
        assert "API key is required" in page.inner_text("#status")
        page.fill("#key", "open-simsim")
        page.click("#key-form button")
        page.wait_for_function("() => document.querySelector('#status').textContent.includes('not valid')",
                               timeout=10_000)
        assert page.is_visible("#key-box")
        page.fill("#key", "open-sesame")
        page.click("#key-form button")  # the cookie is set, and the search in the URL runs again
        page.wait_for_selector("#results .result", timeout=30_000)
        assert page.is_hidden("#key-box") and _names(page)[0] == "weather.mp4"
        page.wait_for_function("() => document.querySelector('#results .result img').naturalWidth > 0",
                               timeout=30_000)  # images (no headers) get in by the cookie
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "key-prompt-then-search.png"))
        assert not page.errors


def _shown_match_the_api(page) -> list[str]:
    """The cards' segments are the API's answer to the query in the page's URL, in order."""
    shown = [c.get_attribute("data-segment") for c in page.query_selector_all("#results .result")]
    expected = page.evaluate("async () => { const p = new URLSearchParams(location.search); p.set('k', 24);"
                             " const a = await (await fetch('/api/search?' + p)).json();"
                             " return a.moments.map(m => String(m.segment_id)); }")
    assert shown == expected
    return shown


def test_every_mode_and_every_filter_show_what_the_api_answers(server, page):
    page.goto(server + "/")
    query = "heavy rain along the coast"
    answers = {}
    for mode in ("hybrid", "fused", "visual", "speech", "keyword"):
        _search(page, query, mode)
        assert f"mode={mode}" in page.url
        answers[mode] = _shown_match_the_api(page)
    assert all(answers.values()) and len({tuple(a) for a in answers.values()}) > 1  # the modes differ

    _search(page, query, "speech")
    everything = _shown_match_the_api(page)
    page.click("#filters summary")
    changed = []
    for selector, value, param in (("#f-min", "13", "min_duration=13"), ("#f-max", "10", "max_duration=10"),
                                   ("#f-after", "2000-01-01", "after=2000-01-01"),
                                   ("#f-before", "2100-01-01", "before=2100-01-01"),
                                   ("#f-language", "de", "language=de")):
        page.fill(selector, value)
        _search(page, query)
        assert param in page.url
        narrowed = _shown_match_the_api(page)
        assert narrowed != everything or not narrowed  # each filter changes the answer, as the API says
        changed.append(bool(narrowed))
        page.fill(selector, "")
    assert changed[:2] == [True, True]  # the length filters keep some videos (generated files carry no date)
    assert changed[4] is False  # nothing here is spoken in German
    page.check("#f-per-video")
    _search(page, query)
    names = _names(page)
    assert "per_video=true" in page.url and len(names) == len(set(names)) > 1  # one moment per video
    _shown_match_the_api(page)
    page.uncheck("#f-per-video")
    assert not page.errors


def test_library_pages_back_and_forth(server, page):
    page.goto(server + "/")
    page.click("#show-library")
    page.wait_for_selector("#library tbody tr", timeout=30_000)
    page.evaluate("() => { const s = document.querySelector('#lib-size'); s.add(new Option('2', '2'));"
                  " s.value = '2'; s.dispatchEvent(new Event('change')); }")  # a page smaller than the library
    page.wait_for_function("() => document.querySelector('#lib-range').textContent.startsWith('1–2 of')",
                           timeout=10_000)
    total = int(page.inner_text("#lib-range").split(" of ")[1])
    seen = []
    while True:
        seen += [r.get_attribute("data-video") for r in page.query_selector_all("#library tbody tr")]
        if page.is_disabled("#lib-next"):
            break
        before = page.inner_text("#lib-range")
        page.click("#lib-next")
        page.wait_for_function("b => document.querySelector('#lib-range').textContent !== b", arg=before,
                               timeout=10_000)
    assert len(seen) == total == len(set(seen)) and total > 2 and page.is_enabled("#lib-prev")
    # back one page from the last, wherever that lands (an earlier test may have removed a video)
    start = int(page.inner_text("#lib-range").split("–")[0]) - 2
    page.click("#lib-prev")
    page.wait_for_function("p => document.querySelector('#lib-range').textContent.startsWith(p)", arg=f"{start}–",
                           timeout=10_000)
    shown = [r.get_attribute("data-video") for r in page.query_selector_all("#library tbody tr")]
    assert shown == seen[start - 1:start + 1]
    assert not page.errors
