import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 390])
def test_manager_sees_the_committee_fills_a_gap_and_the_map_fits_the_screen(page, width):
    stages = factories.default_stages()
    boss = factories.ManagerFactory(username="max")
    rep = factories.RepFactory(username="rita", manager=boss)
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    coach = factories.CoachFactory(account=account, holder=rep)
    buyer = factories.person_at(account, contact__first_name="Grace", contact__last_name="Okafor")
    deal = factories.OpportunityFactory(account=account, name="Fleet renewal", stage=stages["Proposal"])
    factories.OpportunityContactFactory(opportunity=deal, contact=coach.contact, role="coach")
    page.set_viewport_size({"width": width, "height": 900})

    log_in(page, "max")
    page.goto(page.base_url + deal.get_absolute_url())
    gaps = page.get_by_test_id("committee-gaps")
    expect(gaps).to_contain_text("No economic buyer identified.")
    gaps.get_by_role("link", name="Add the economic buyer").click()
    # The gap's link opens the form with the role chosen: pick the person and who holds him.
    # (The deal's people form has a Person too: the committee form is the one the gap opened.)
    form = page.locator("#committee-form")
    form.get_by_label("Person", exact=True).select_option(label="Grace Okafor")
    form.get_by_label("Relationship held by", exact=True).select_option(value=str(rep.pk))
    form.get_by_label("Stance toward us", exact=True).select_option(label="Supporter")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("committee-gaps")).not_to_contain_text("No economic buyer")
    svg = page.get_by_test_id("committee-map" if width > 768 else "committee-map-narrow")
    expect(svg).to_be_visible()
    expect(svg).to_contain_text("Grace Okafor")
    # The map is drawn to fit: the page does not get wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert buyer.stance_reports.get().stance == "supporter"
