import pytest
from playwright.sync_api import expect

from accounts.models import Account
from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_territory_sees_its_coverage_and_a_new_account_is_routed_and_explains_itself(page):
    factories.AdminFactory(username="ada")
    rita = factories.RepFactory(username="rita", first_name="Rita", last_name="Rep")
    east = factories.RegionFactory(name="East")
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Finance")
    factories.AccountFactory.create_batch(2, region=east, size_tier="key")
    factories.AccountFactory(region=east, size_tier="mid")

    log_in(page, "ada")
    navigate(page, "Team", "Territories")
    page.get_by_role("link", name="New territory").click()
    page.get_by_label("Name").fill("East / Key accounts")
    page.get_by_label("Rita Rep").check()
    page.get_by_label("Region").select_option(label="East")
    # htmx asks the server for the coverage as the rule changes.
    expect(page.get_by_test_id("preview")).to_have_text("This rule covers 3 accounts.")
    page.get_by_label("Size tier").select_option(label="Key account")
    expect(page.get_by_test_id("preview")).to_have_text("This rule covers 2 accounts.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("territory")).to_contain_text("Rita Rep")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "rita")
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Name").fill("Osprey Holdings")
    page.get_by_label("Region").select_option(label="East")
    page.get_by_label("Industry").select_option(label="Finance")
    page.get_by_label("Size tier").select_option(label="Key account")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Osprey Holdings")).to_be_visible()
    expect(page.get_by_test_id("why-mine")).to_contain_text(
        "Owner via territory East / Key accounts, rule 1, its only available member."
    )
    assert Account.objects.get(name="Osprey Holdings").owner == rita
