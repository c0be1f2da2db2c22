"""Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven by Selenium: no browser
download, no network beyond loopback. `.ci/install_browser.sh` installs the packages."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
    "--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only", "--no-default-browser-check",
    "--hide-scrollbars",
)  # fmt: skip


def available() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists() and not shutil.which(Path(binary).name):
            return f"{binary} is missing: run .ci/install_browser.sh"
    return None


@contextmanager
def chromium(width: int = 1440, height: int = 1000) -> Iterator[object]:
    """A headless Chromium WebDriver with a fresh profile, quit (and the profile removed) on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")), options=options
    )
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def full_page_screenshot(driver, path: Path, max_height: int = 6000) -> Path:
    """Resize the window to the page's height (capped) and save a PNG of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = driver.execute_script("return Math.max(document.documentElement.clientWidth, 1200)")
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(int(height) + 40, max_height))
    driver.save_screenshot(str(path))
    return path
