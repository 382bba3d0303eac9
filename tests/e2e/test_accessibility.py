"""axe-core over every page of the menu, for a rep, a manager and an admin, at desktop and phone sizes.

axe-core comes from npm, installed by this test's setup into a folder git ignores
(`AXE_CORE_JS` may point at an `axe.min.js` instead); no page or test loads anything from a CDN.
The test fails on any violation of impact *serious* or *critical*; the phone pass also checks
that no page is wider than the phone.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from pipeline.models import OpportunityContact
from team.models import User
from tests import factories
from tests.conftest import CHROMIUM, IN_CI
from tests.e2e.conftest import CHROMIUM_ARGS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_VERSION = "4.10 - 4"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe"
# Only the WCAG A/AA rules (what "accessible" is measured against), which also keeps the run short.
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    resultTypes: ["violations"],
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  });
  return result.violations.filter(v => ["serious", "critical"].includes(v.impact))
    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`);
}"""
ADMIN_PAGES = ["/admin/", "/admin/pipeline/stage/", "/admin/pipeline/opportunity/", "/admin/pipeline/lossreason/"]


def _axe_source() -> str:
    if path := os.environ.get("AXE_CORE_JS"):
        return Path(path).read_text()
    script = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        problem = None
        if shutil.which("npm") is None:
            problem = "npm is not installed (apt-get install npm), so axe-core cannot be installed"
        else:
            CACHE.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"axe-core@{AXE_VERSION}"],  # noqa: S607
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0 or not script.exists():
                problem = f"npm install axe-core failed: {done.stderr[-500:]}"
        if problem:
            if IN_CI:
                pytest.fail(f"CI needs axe-core: {problem}")
            pytest.skip(problem)
    return script.read_text()


def _menu(page) -> list[str]:
    links = page.eval_on_selector_all(
        "nav a.nav-link[href], nav a.dropdown-item[href]", "links => links.map(link => link.getAttribute('href'))"
    )
    return list(dict.fromkeys(link for link in links if link.startswith("/") and "logout" not in link))


def _deal_room() -> list[str]:
    """Pages off the menu a deal leads to (alice's, which her manager and the admin see too): a deal with
    a committee, and its account's committee."""
    role = OpportunityContact.objects.filter(opportunity__owner__username="alice", opportunity__status="open")
    deal = role.select_related("opportunity").order_by("opportunity_id").first().opportunity
    return [deal.get_absolute_url(), reverse("pipeline:account-committee", args=[deal.account_id])]


def _webhook_pages() -> list[str]:
    """The webhook pages off the menu (the admin's): the form, an endpoint with its delivery log, its edit form."""
    hook = factories.WebhookFactory(created_by=User.objects.get(username="admin"), events=["coach.ended"])
    factories.DeliveryFactory(webhook=hook, status="failed", response_code=503, last_error="The endpoint answered 503.")
    factories.DeliveryFactory(webhook=hook)
    return [
        reverse("webhooks:webhook-create"),
        reverse("webhooks:webhook-detail", args=[hook.pk]),
        reverse("webhooks:webhook-update", args=[hook.pk]),
    ]


@pytest.fixture
def page(_require_services, _playwright, live_server):
    """A browser that lets the test inject axe-core: the pages' CSP (no inline script) would refuse it.

    Only the injection is exempt; test_csp_journey checks the CSP itself."""
    with tempfile.TemporaryDirectory(prefix="coachcrm-chromium-") as profile:
        context = _playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.base_url = live_server.url
        yield page
        context.close()


def test_no_serious_or_critical_axe_violation_on_any_menu_page_for_any_role(page):
    axe = _axe_source()
    started = time.monotonic()
    factories.default_stages()  # a transactional test before this one flushed the migration's stages
    call_command("seed_demo", force=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    seeded = time.monotonic()
    failures, pages = [], 0
    deal_room = _deal_room()
    admin_pages = ADMIN_PAGES + _webhook_pages()
    for username in ("alice", "manager", "admin"):
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1440, "height": 900})
        log_in(page, username, "coachcrm-demo")
        urls = _menu(page) + deal_room + (admin_pages if username == "admin" else [])
        for url in urls:
            # One load per page, checked at both sizes: the server renders the same HTML for both
            # (the layout is CSS media queries), so resizing gives the phone's page without a reload.
            page.set_viewport_size({"width": 1440, "height": 900})
            page.goto(page.base_url + url, wait_until="domcontentloaded")
            page.add_script_tag(content=axe)
            for width, height in ((1440, 900), (390, 844)):
                page.set_viewport_size({"width": width, "height": height})
                pages += 1
                for violation in page.evaluate(AXE_RUN):
                    failures.append(f"{username} {width}px {url}: {violation}")
                if width < 768:
                    wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    if wider > 0:
                        failures.append(f"{username} {width}px {url}: the page is {wider}px wider than the phone")
    print(f"seed {seeded - started:.0f}s, {pages} pages in {time.monotonic() - seeded:.0f}s")
    assert not failures, "\n".join(failures)
