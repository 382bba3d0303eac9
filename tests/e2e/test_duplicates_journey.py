import os

import pytest
from playwright.sync_api import expect

from accounts.models import Account, AccountNotDuplicate
from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# DUPLICATES_SCREENSHOTS=/some/dir keeps a picture of the page at each width (to look at it).
SCREENSHOTS = os.environ.get("DUPLICATES_SCREENSHOTS")


def test_manager_dismisses_a_pair_undoes_it_then_reviews_and_merges_the_duplicate(page):
    manager = factories.ManagerFactory(username="maya", first_name="Maya", last_name="Manager")
    rep = factories.RepFactory(username="rob", manager=manager, first_name="Rob", last_name="Rep")
    keep = factories.AccountFactory(name="Cedar Health", owner=rep)
    duplicate = factories.AccountFactory(name="CedarHealth Inc", owner=manager)
    factories.AccountFactory(name="Juniper Foods", owner=rep)
    factories.AccountFactory(name="Juniper  F oods", owner=rep)

    log_in(page, "maya")
    navigate(page, "Team", "Possible duplicates")
    rows = page.get_by_test_id("duplicate")
    expect(rows).to_have_count(2)
    if SCREENSHOTS:
        for width, height in ((1440, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{SCREENSHOTS}/duplicates-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
    cedar = rows.filter(has_text="CedarHealth Inc")
    expect(cedar).to_contain_text("Same name: cedarhealth")

    cedar.get_by_role("button", name="Not a duplicate").click()
    expect(page.get_by_role("alert").first).to_contain_text("are not duplicates")
    expect(rows).to_have_count(1)
    assert AccountNotDuplicate.objects.filter(first=keep, second=duplicate).exists()
    page.get_by_test_id("duplicate-undo").get_by_role("button", name="Undo").click()
    expect(rows).to_have_count(2)

    rows.filter(has_text="CedarHealth Inc").get_by_role("link", name="Review and merge").click()
    expect(page.get_by_test_id("merge-preview")).to_be_visible()
    page.get_by_label("I checked the preview").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_role("heading", name="Cedar Health")).to_be_visible()
    assert not Account.objects.filter(pk=duplicate.pk).exists()
