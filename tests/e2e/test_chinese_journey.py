"""A Chinese browser walks the main pages of each persona and meets no English UI text."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Short UI words a page must not show in English even if no msgid is exactly that text.
COMMON_WORDS = {"Save", "Cancel", "Edit", "Search", "Filter", "Next", "Previous", "Delete", "Add", "Back", "Submit"}
# The language switcher names each language in its own tongue, as switchers do.
NATIVE_NAMES = {"English"}
EDGES = re.compile(r"^[^\w(]+|[^\w)?]+$")

VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || parent.closest('script, style, [hidden]')) continue;
    if (parent.closest('svg') || parent.checkVisibility()) texts.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    for (const name of ['placeholder', 'aria-label', 'title']) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name).trim());
    }
  }
  return texts;
}"""


def _english_msgids() -> set[str]:
    """Every catalog msgid whose Chinese differs: on a Chinese page it means an unmarked or unactivated string."""
    english = set()
    for entry in polib.pofile(str(CATALOG)):
        if "%" in entry.msgid or entry.msgstr == entry.msgid:
            continue  # a placeholder never shows verbatim; "CoachCRM", "CSV" are the same in both
        english.add(entry.msgid)
        if entry.msgid_plural:
            english.add(entry.msgid_plural)
    return english


def _leftover_english(page, english: set[str]) -> list[str]:
    # "◀ Qualified", "Held back:": a msgid with an arrow or punctuation around it is still English.
    texts = [EDGES.sub("", text) for text in page.evaluate(VISIBLE_TEXT)]
    return sorted(
        {
            text
            for text in texts
            if text not in NATIVE_NAMES and (text in english or set(re.findall(r"[A-Za-z]+", text)) & COMMON_WORDS)
        }
    )


def _log_in_chinese(page, username: str) -> None:
    page.context.clear_cookies()
    page.context.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    page.goto(page.base_url + "/login/")
    expect(page.get_by_role("heading", name="登录 CoachCRM")).to_be_visible()
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw-for-tests")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def _world():
    """One of everything the main pages show, owned by alice and her manager max."""
    stages = factories.default_stages()
    factories.default_playbook()
    admin = factories.AdminFactory(username="ada", first_name="Ada", last_name="Admin")
    manager = factories.ManagerFactory(username="max", first_name="Max", last_name="Ma")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Archer", manager=manager)
    account = factories.AccountFactory(owner=alice, name="Kestrel Capital")
    coach = factories.CoachFactory(account=account, holder=alice)
    factories.InteractionFactory(coach=coach)
    deal = factories.OpportunityFactory(account=account, stage=stages["Qualified"], name="Kestrel ERP")
    factories.StyleReportFactory(coach=coach, contact=coach.contact)
    factories.OpportunityContactFactory(opportunity=deal, contact=coach.contact)
    factories.OpportunityFactory(account=account, stage=stages["Won"], name="Kestrel CRM")
    factories.GrantFactory(account=account, rep=alice)
    factories.GrantFactory(account=account, rep=alice, status="pending", authorised_by=None)
    factories.CoachMoveFactory(old_coach__holder=alice, to_account__owner=alice)
    factories.HandoverFactory(coach=factories.CoachFactory(holder=manager), to_user=alice)
    factories.TerritoryFactory(name="Nord", members=[alice])
    return {"admin": admin, "manager": manager, "alice": alice, "account": account, "coach": coach, "deal": deal}


def _rep_pages(world) -> list[str]:
    contact = world["coach"].contact
    return [
        reverse("home"),
        reverse("accounts:account-list"),
        world["account"].get_absolute_url(),
        reverse("accounts:contact-list"),
        contact.get_absolute_url(),
        reverse("pipeline:opportunity-board"),
        world["deal"].get_absolute_url(),
        reverse("coaches:coach-list"),
        world["coach"].get_absolute_url(),
        reverse("coaches:coachmove-list"),
        reverse("service_catalog:allowance"),
        reverse("service_catalog:grant-list"),
        reverse("departures:handover-list"),
        reverse("team:notification-list"),
    ]


def _manager_pages(world) -> list[str]:
    return [
        *_rep_pages(world),
        reverse("pipeline:dashboard"),
        reverse("pipeline:opportunity-held-back"),
        reverse("service_catalog:approval-list"),
        reverse("service_catalog:ledger"),
        reverse("departures:team-list"),
    ]


def _admin_pages(world) -> list[str]:
    return [
        *_manager_pages(world),
        reverse("service_catalog:item-list"),
        reverse("service_catalog:authority-list"),
        reverse("accounts:territory-list"),
        reverse("accounts:territory-conflicts"),
    ]


@pytest.mark.parametrize(("username", "pages"), [("alice", _rep_pages), ("max", _manager_pages), ("ada", _admin_pages)])
def test_a_chinese_browser_sees_no_english_ui_text(page, username, pages):
    world = _world()
    english = _english_msgids()
    _log_in_chinese(page, username)
    leftovers = {}
    for path in pages(world):
        response = page.goto(page.base_url + path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == "zh-hans", path
        found = _leftover_english(page, english)
        if found:
            leftovers[path] = found
    assert leftovers == {}


def test_the_checker_catches_english_on_a_page(page):
    page.set_content("<p>保存</p><button>Save</button><p>Held back:</p><a>◀ Lead</a><span title='退出'>x</span>")
    assert _leftover_english(page, {"Held back", "Lead"}) == ["Held back", "Lead", "Save"]
