import pytest
from playwright.sync_api import expect

from accounts.models import Account, Contact
from tests import factories
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_creates_an_account_and_a_contact_and_sees_them_listed(page):
    rep = factories.RepFactory(username="rita")
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Finance")

    log_in(page, "rita")
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Name").fill("Kestrel Capital")
    page.get_by_label("Region").select_option(label="North")
    page.get_by_label("Industry").select_option(label="Finance")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Kestrel Capital")).to_be_visible()

    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Novak")
    page.get_by_label("Title").fill("CFO")
    page.get_by_label("Function").select_option(label="Finance")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Lena Novak")).to_be_visible()
    expect(page.get_by_text("CFO · Kestrel Capital", exact=True)).to_be_visible()

    page.get_by_role("link", name="Contacts").first.click()
    expect(page.get_by_role("link", name="Lena Novak")).to_be_visible()
    page.get_by_role("link", name="Accounts").first.click()
    expect(page.get_by_role("link", name="Kestrel Capital")).to_be_visible()

    account = Account.objects.get(name="Kestrel Capital")
    assert account.owner == rep
    assert Contact.objects.get(last_name="Novak").employments.get().account == account
