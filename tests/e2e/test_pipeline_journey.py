import pytest
from playwright.sync_api import expect

from pipeline import selectors
from pipeline.models import Opportunity
from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_is_refused_at_the_gate_records_a_coach_and_moves_the_deal(page):
    stages = factories.default_stages()
    rep = factories.RepFactory(username="rita")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak")
    deal = factories.OpportunityFactory(account=account, name="Fleet renewal", stage=stages["Qualified"])

    log_in(page, "rita")
    navigate(page, "Pipeline", "Board")
    card = page.get_by_test_id(f"deal-{deal.pk}")
    card.get_by_role("button", name="Coach confirmed ▶").click()
    # The refusal arrives through htmx: the same page, no reload, with the reason and the way out.
    error = page.get_by_test_id("move-error")
    expect(error).to_contain_text("needs a qualified coach at Kestrel Capital")
    assert page.url.endswith("/pipeline/")

    error.get_by_role("link", name="Record a coach").click()
    page.get_by_label("Person").select_option(label="Lena Novak")
    page.get_by_label("Credible with the buying influences").check()
    page.get_by_label("Trusts us").check()
    page.get_by_label("Wants us to win").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Lena Novak")).to_be_visible()

    navigate(page, "Pipeline", "Board")
    page.get_by_test_id(f"deal-{deal.pk}").get_by_role("button", name="Coach confirmed ▶").click()
    expect(page.get_by_test_id("column-coach-confirmed").get_by_text("Fleet renewal")).to_be_visible()
    deal = Opportunity.objects.get(pk=deal.pk)
    assert deal.stage == stages["Coach confirmed"] and not deal.held_back


def test_rep_with_an_informant_is_told_what_is_missing_verifies_him_and_moves_the_deal(page):
    stages = factories.default_stages()
    rep = factories.RepFactory(username="rita")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    person = factories.person_at(account, contact__first_name="Chen", contact__last_name="Okafor")
    factories.CoachFactory(account=account, contact=person, holder=rep, strength="informant", wants_us_to_win=False)
    deal = factories.OpportunityFactory(account=account, name="Fleet renewal", stage=stages["Qualified"])

    log_in(page, "rita")
    navigate(page, "Pipeline", "Board")
    page.get_by_test_id(f"deal-{deal.pk}").get_by_role("button", name="Coach confirmed ▶").click()
    error = page.get_by_test_id("move-error")
    expect(error).to_contain_text("Chen Okafor is an informant; a coach must want us to win — verify the criteria.")

    error.get_by_test_id("verify-link").click()
    page.get_by_label("Strength").select_option("coach")
    page.get_by_label("Wants us to win").check()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Coach verified today.")).to_be_visible()

    navigate(page, "Pipeline", "Board")
    page.get_by_test_id(f"deal-{deal.pk}").get_by_role("button", name="Coach confirmed ▶").click()
    expect(page.get_by_test_id("column-coach-confirmed").get_by_text("Fleet renewal")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Coach confirmed"]


def test_a_busy_column_on_a_phone_shows_its_first_deals_and_leads_to_the_rest(page):
    stages = factories.default_stages()
    rep = factories.RepFactory(username="rita")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    deals = [
        factories.OpportunityFactory(account=account, stage=stages["Qualified"], amount=1000 * (i + 1))
        for i in range(selectors.BOARD_COLUMN_LIMIT + 2)
    ]
    page.set_viewport_size({"width": 390, "height": 844})

    log_in(page, "rita")
    page.goto(page.base_url + "/pipeline/")
    column = page.get_by_test_id("column-qualified")
    expect(column.get_by_test_id("column-figures")).to_contain_text(f"{len(deals)} ·")
    expect(column.locator(".deal-card")).to_have_count(selectors.BOARD_COLUMN_LIMIT)
    # The board scrolls sideways inside itself; the page does not get wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    column.get_by_role("link", name=f"Show all {len(deals)}").click()
    expect(page.get_by_role("heading", name="Opportunities")).to_be_visible()
    expect(page.get_by_text(f"{len(deals)} records")).to_be_visible()


def test_rep_drags_a_deal_to_the_next_column_and_the_gate_refuses_an_uncoached_one(page):
    stages = factories.default_stages()
    rep = factories.RepFactory(username="rita")
    coached_account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    factories.CoachFactory(account=coached_account, holder=rep)
    coached = factories.OpportunityFactory(account=coached_account, name="Fleet renewal", stage=stages["Qualified"])
    bare = factories.OpportunityFactory(
        account=factories.AccountFactory(owner=rep, name="Osprey"), name="Cold deal", stage=stages["Qualified"]
    )

    log_in(page, "rita")
    page.goto(page.base_url + "/pipeline/")
    target = page.get_by_test_id("column-coach-confirmed")
    page.get_by_test_id(f"deal-{coached.pk}").drag_to(target)
    expect(target.get_by_test_id(f"deal-{coached.pk}")).to_be_visible()
    assert Opportunity.objects.get(pk=coached.pk).stage == stages["Coach confirmed"]

    page.get_by_test_id(f"deal-{bare.pk}").drag_to(page.get_by_test_id("column-coach-confirmed"))
    card = page.get_by_test_id("column-qualified").get_by_test_id(f"deal-{bare.pk}")
    expect(card.get_by_test_id("move-error")).to_contain_text("needs a qualified coach at Osprey")
    assert Opportunity.objects.get(pk=bare.pk).stage == stages["Qualified"]
    assert page.url.endswith("/pipeline/")
