"""The page at ``/`` in a real browser: the real server (uvicorn, in a subprocess) and Debian's Chromium via Playwright.

Outside CI the test skips, with the reason, when Playwright or a Chromium is
missing; in CI (``CI`` set) that is a failure. With ``SENTIMENT_UPDATE_SCREENSHOT``
set it also refreshes ``docs/serve.png``, the README's picture of the page
(``SENTIMENT_SERVE_TEST_MODEL=DIR`` serves that model instead of a small one
trained here, for a picture of a real model).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import wait_until_ready

from sentiment import load_reviews, train
from sentiment.tokenize import tokenize

ROOT = Path(__file__).resolve().parents[1]
REVIEW = "The pasta was wonderful and the staff were friendly, but the dessert was cold and the bill was a shock."
BROWSERS = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    for candidate in [os.environ.get("SENTIMENT_CHROMIUM"), *BROWSERS]:
        found = candidate and (shutil.which(candidate) or (Path(candidate).is_file() and candidate))
        if found:
            return found
    _unavailable("no Chromium here (apt-get install chromium, or set SENTIMENT_CHROMIUM)")


@pytest.fixture(scope="module")
def server(shared_data, tmp_path_factory):
    model_dir = os.environ.get("SENTIMENT_SERVE_TEST_MODEL")
    if not model_dir:
        model_dir = tmp_path_factory.mktemp("models") / "yelp"
        reviews = load_reviews(shared_data / "uci" / "yelp_labelled.txt")
        train(reviews, word2vec={"vector_size": 16, "min_count": 2, "epochs": 2}, seed=0).model.save(model_dir)
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "sentiment", "serve", str(model_dir), "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_typing_a_review_shows_the_label_and_the_highlights(chromium, server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # root in CI
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            failed = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(server)
            expect(page.locator("#card")).to_contain_text("accuracy")  # the model card's facts arrived

            # Keyboard only: the review box is reachable and Ctrl+Enter predicts.
            box = page.get_by_label("Review text")
            box.focus()
            box.press_sequentially(REVIEW, delay=2)
            box.press("Control+Enter")

            expect(page.locator("#result")).to_be_visible()
            label = page.locator("#label")
            expect(label).not_to_be_empty()
            assert label.inner_text() in ("positive", "negative")
            assert page.locator("#probability").inner_text().startswith("probability ")
            assert page.locator("#baseline-label").inner_text() in ("positive", "negative")
            assert page.locator("#baseline-pipeline").inner_text() in ("onehot", "embeddings")

            highlights = page.locator("#highlighted .tok")
            expect(highlights).to_have_count(len(tokenize(REVIEW)))
            assert page.locator("#highlighted").inner_text() == REVIEW  # the text as typed, words wrapped
            colours = highlights.evaluate_all("spans => spans.map(s => s.style.backgroundColor)")
            assert sum(bool(c) for c in colours) >= len(colours) // 2  # known words are tinted
            assert page.locator("#highlighted .towards").count() + page.locator("#highlighted .against").count() > 0
            assert page.locator("#status").get_attribute("aria-live") == "polite"
            unlabelled = page.evaluate(
                "[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]"
                ".filter(e => !(e.labels && e.labels.length)).map(e => e.id)"
            )
            assert unlabelled == [] and failed == []

            page.screenshot(path=tmp_path / "serve.png", full_page=True)
            if os.environ.get("SENTIMENT_UPDATE_SCREENSHOT"):
                shutil.copyfile(tmp_path / "serve.png", ROOT / "docs" / "serve.png")
        finally:
            browser.close()
