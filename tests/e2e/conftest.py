"""Browser tests: Playwright drives Debian's Chromium against Django's live server."""

import os
import tempfile

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread for the whole
    # session; the tests' own ORM calls (and the database flush between tests) are still
    # synchronous, so Django's async-safety guard would refuse them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(_require_services, _playwright, live_server):
    with tempfile.TemporaryDirectory(prefix="coachcrm-chromium-") as profile:
        context = _playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.base_url = live_server.url
        yield page
        context.close()


def log_in(page, username: str, password: str = "pw-for-tests") -> None:  # noqa: S107 - test users only
    page.goto(page.base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(page.base_url + "/")


def navigate(page, menu: str, item: str) -> None:
    """Open a navigation menu and follow one of its links, as a user would."""
    page.get_by_role("button", name=menu).click()
    page.locator(".dropdown-menu.show").get_by_role("link", name=item, exact=True).click()
