"""Every page works under the Content-Security-Policy: no violation in Chromium's console."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Account, Contact
from coachcrm.context_processors import navigation_for
from coaches.models import Coach
from pipeline.models import Opportunity
from team.models import User
from tests import factories
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports a blocked inline script or style, eval, a frame or a form target here.
VIOLATION_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push([e.violatedDirective, e.blockedURI || "inline", e.sourceFile, e.lineNumber].join(" "));
});
"""


def _pages_for(user: User) -> list[str]:
    urls = []
    for entry in navigation_for(user):
        urls.extend(child["url"] for child in entry.get("children", [entry]))
    account = Account.objects.order_by("pk").first()
    urls += [
        reverse("accounts:account-detail", args=[account.pk]),
        reverse("accounts:account-create"),
        reverse("accounts:contact-detail", args=[Contact.objects.order_by("pk").first().pk]),
        reverse("coaches:coach-detail", args=[Coach.objects.order_by("pk").first().pk]),
        reverse("pipeline:opportunity-detail", args=[Opportunity.objects.order_by("pk").first().pk]),
        reverse("team:notification-list"),
        reverse("team:profile"),
        reverse("team:password-change"),
    ]
    return urls


def _visit_all(page, urls: list[str]) -> dict[str, list[str]]:
    console = []
    page.on("console", lambda message: console.append(message.text))
    found = {}
    for url in urls:
        console.clear()
        response = page.goto(page.base_url + url)
        assert response.status < 400, url
        assert response.headers.get("content-security-policy"), url
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp") + [t for t in console if "Content Security Policy" in t]
        if violations:
            found[url] = violations
    return found


def test_every_menu_page_the_admin_site_and_the_api_docs_raise_no_csp_violation(page):
    factories.default_stages()  # a transactional test before this one flushed the migration's stages
    call_command("seed_demo", "--force", verbosity=0)
    for user in User.objects.filter(username__in=["admin", "alice"]):
        user.set_password("pw-for-tests")
        user.save()
    page.context.add_init_script(VIOLATION_LISTENER)

    log_in(page, "admin")
    admin = User.objects.get(username="admin")
    urls = [
        *_pages_for(admin),
        reverse("admin:index"),
        reverse("admin:team_user_changelist"),
        reverse("admin:team_user_change", args=[admin.pk]),
        reverse("admin:accounts_account_changelist"),
        reverse("api-docs"),
    ]
    assert _visit_all(page, urls) == {}
    page.goto(page.base_url + "/")
    page.get_by_role("button", name="Log out").click()

    assert _visit_all(page, [reverse("password_reset"), reverse("login")]) == {}
    log_in(page, "alice")
    alice_pages = [*_pages_for(User.objects.get(username="alice")), reverse("team:mfa-setup")]
    assert _visit_all(page, alice_pages) == {}
    # The language switch (once an inline onchange handler) still submits on change.
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
