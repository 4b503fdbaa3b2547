"""The web page in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

The driver binary is given explicitly, so Selenium Manager never runs (and never downloads anything). Without
the browser the tests skip, unless CAPTIONER_REQUIRE_BROWSER is set (as .ci/run does): then they fail.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # a real Chromium against a real server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1100,800")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CAPTIONER_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open_page(driver, url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url + "/")
    # The page reads the model's name and the limits from /health before it is ready.
    WebDriverWait(driver, 30).until(lambda d: "shapes.keras" in d.find_element(By.ID, "model").text)


def _upload(driver, path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "file-input").send_keys(str(path.resolve()))

    def finished(d):
        captions = d.find_elements(By.CSS_SELECTOR, "#captions .caption-text")
        return captions or d.find_element(By.ID, "error").is_displayed()

    WebDriverWait(driver, 60).until(finished)


def _shown_captions(driver):
    from selenium.webdriver.common.by import By

    texts = [node.text for node in driver.find_elements(By.CSS_SELECTOR, "#captions .caption-text")]
    scores = [node.text for node in driver.find_elements(By.CSS_SELECTOR, "#captions .caption-score")]
    return texts, scores


def _shown_error(driver):
    from selenium.webdriver.common.by import By

    error = driver.find_element(By.ID, "error")
    return error.text if error.is_displayed() else None


def _choose(driver, select_id: str, value: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, select_id)).select_by_value(value)


def test_the_page_shows_a_real_photo_with_the_apis_captions(browser, caption_server, flickr_photos, tmp_path_factory,
                                                            record_property):
    from selenium.webdriver.common.by import By

    photo = flickr_photos[0]
    _open_page(browser, caption_server.url)
    _choose(browser, "beam-size", "3")
    _choose(browser, "num-captions", "3")
    _upload(browser, photo)
    assert _shown_error(browser) is None
    texts, scores = _shown_captions(browser)

    answer = httpx.post(f"{caption_server.url}/caption",
                        files={"image": (photo.name, photo.read_bytes(), "image/jpeg")},
                        data={"beam_size": "3", "num_captions": "3"}, timeout=60).json()
    assert texts == [candidate["caption"] for candidate in answer["captions"]]
    assert len(texts) == 3 and texts[0]
    assert scores == [f"score {candidate['score']:.3f}" for candidate in answer["captions"]]
    # The photo itself is shown beside its captions.
    assert browser.execute_script("return document.getElementById('preview').naturalWidth") == 224
    assert "224×224 JPEG" in browser.find_element(By.ID, "status").text

    screenshot = tmp_path_factory.mktemp("screenshots") / "serving_page.png"
    assert browser.save_screenshot(str(screenshot))
    record_property("screenshot", str(screenshot))
    assert screenshot.stat().st_size > 20_000


@pytest.mark.parametrize("name", ["text renamed .jpg", "empty file", "truncated JPEG", "100-megapixel image",
                                  "wrong content type", "over the size limit"])
def test_the_page_shows_a_readable_error_for_each_bad_upload(browser, caption_server, bad_uploads, name, tmp_path,
                                                             trained_captioner):
    filename, data, content_type, _, code = bad_uploads[name]
    path = tmp_path / filename
    path.write_bytes(data)
    _open_page(browser, caption_server.url)
    _upload(browser, path)
    shown = _shown_error(browser)
    assert shown is not None and filename in shown
    assert _shown_captions(browser) == ([], [])
    if code == "upload_too_large":
        # The page checks the size against the server's limit before sending anything.
        assert "over the server's limit of 1.0 MiB" in shown
    else:
        response = httpx.post(f"{caption_server.url}/caption", files={"image": (filename, data, content_type)})
        assert shown == response.json()["error"]
    # The error goes away and the next photo is captioned.
    _upload(browser, trained_captioner[2][0])
    assert _shown_error(browser) is None and _shown_captions(browser)[0]


def test_the_page_says_when_the_server_is_busy(browser, gated_server, trained_captioner):
    photo = trained_captioner[2][0]
    data = photo.read_bytes()
    clients = [threading.Thread(target=httpx.post, args=(f"{gated_server.url}/caption",),
                                kwargs={"files": {"image": ("a.png", data, "image/png")}, "timeout": 60})
               for _ in range(3)]
    clients[0].start()
    _wait_for(lambda: gated_server.batcher.stats.batches == 1)
    for client in clients[1:]:
        client.start()
    _wait_for(lambda: gated_server.batcher.waiting == 2)
    browser.get(gated_server.url + "/")
    _upload(browser, photo)
    shown = _shown_error(browser)
    assert shown is not None and "busy" in shown and "retry after 1 s" in shown
    gated_server.gate.set()
    for client in clients:
        client.join(timeout=60)
    _upload(browser, photo)
    assert _shown_error(browser) is None and _shown_captions(browser)[0]


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.01)

