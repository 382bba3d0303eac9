import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_records_that_a_coach_moved_and_finds_the_new_prospect_with_its_provenance(page):
    stages = factories.default_stages()
    factories.ProductLineFactory(name="Cloud")
    rep = factories.RepFactory(username="rita")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    contact = factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak")
    factories.CoachFactory(account=account, contact=contact, holder=rep)
    factories.OpportunityFactory(
        account=account, name="Fleet renewal", stage=stages["Won"], status="won", closed_at=timezone.now()
    )

    log_in(page, "rita")
    page.goto(page.base_url + contact.get_absolute_url())
    page.get_by_role("link", name="Record a move").click()
    page.get_by_label("…or its name").fill("Osprey Freight Ltd")
    page.get_by_label("New title").fill("COO")
    page.get_by_role("button", name="Record the move").click()
    expect(page.get_by_text("The account Osprey Freight Ltd was created.")).to_be_visible()
    expect(page.get_by_text("past buyer", exact=True)).to_be_visible()

    navigate(page, "Coaches", "Moved coaches")
    expect(page.get_by_test_id("contacted-share")).to_contain_text("0 of 1 contacted")
    page.get_by_role("link", name="Osprey Freight Ltd via Lena Novak").click()
    expect(page.get_by_test_id("source")).to_contain_text("Former coach at Kestrel Capital")
    expect(page.get_by_test_id("source")).to_contain_text("deals won with them: Fleet renewal")
