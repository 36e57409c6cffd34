"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

One browser for the whole package (started on first use, closed when the package is done); each test gets a
fresh context (cookies, language) and page. Playwright's own browser builds are never downloaded: chromium comes
from `apt-get install chromium` (`make install-dev` does it). Without chromium or Playwright the tests are
skipped with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

CHROMIUM = os.environ.get("LICITA_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
FAILED = pytest.StashKey[bool]()
#: Where `--screenshots` writes the pictures of the main pages.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", action="store_true", help="write PNGs of the main pages to docs/screenshots/")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Start headless chromium once for the package."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _unavailable("Playwright is not installed (make install-dev)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium, or make install-dev as root)")
    # Playwright's sync API keeps an asyncio loop running in this thread while it lives; the ORM calls the tests
    # make themselves (arranging data through the services) are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def new_page(browser: Any, live_server: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Return a factory of pages, each in its own context (its own cookies: one per person in the story).

    When the test fails, every page's URL is printed and its picture saved beside the test's temporary files.
    """
    contexts = []

    def make(*, width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            locale="es-MX",
            timezone_id="America/Mexico_City",
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    if request.node.stash.get(FAILED, False):
        for i, page in enumerate(p for c in contexts for p in c.pages):
            shot = tmp_path / f"page-{i}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"page {i}: {page.url} -> {shot}")  # noqa: T201
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Any:
    """Return a function that saves a full-page PNG to docs/screenshots/ when pytest runs with --screenshots."""
    enabled = request.config.getoption("--screenshots")

    def save(page: Any, name: str, *, full_page: bool = True) -> None:
        if enabled:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return save


def login(page: Any, username: str, password: str) -> None:
    """Log in through the login page and land on the home page (or wherever `next` points)."""
    page.goto("/cuenta/entrar/")
    page.get_by_label(re.compile("usuario|username", re.IGNORECASE)).fill(username)
    page.get_by_label(re.compile("contraseña|password", re.IGNORECASE)).fill(password)
    page.locator("main").get_by_role("button", name=re.compile("entrar|iniciar|log in", re.IGNORECASE)).click()
    # A click does not wait for the page it leads to: wait until the browser has left the login page.
    page.wait_for_url(lambda url: "/cuenta/entrar/" not in url)


def t(msgid: str, *, exact: bool = True, **values: Any) -> re.Pattern[str]:
    """Match a UI string in English or in Spanish (from the compiled catalog): a locator names the English msgid."""
    with translation.override("es"):
        compiled = translation.gettext(msgid)
    variants = {msgid, compiled}
    alternatives = "|".join(re.escape(v % values if values else v) for v in sorted(variants))
    return re.compile(rf"^\s*(?:{alternatives})\s*\*?\s*$" if exact else f"(?:{alternatives})")
