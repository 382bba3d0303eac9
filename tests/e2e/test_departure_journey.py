import datetime

import pytest
from playwright.sync_api import expect

from coaches.models import Handover
from team.models import User
from tests import factories
from tests.e2e.conftest import log_in, navigate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A departure date within the accepted range (up to ten years ahead).
LATER = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()


def test_manager_starts_a_departure_and_reassigns_a_handover(page):
    manager = factories.ManagerFactory(username="max", first_name="Max", last_name="Manager")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Archer", manager=manager)
    factories.RepFactory(username="bob", first_name="Bob", last_name="Baker", manager=manager)
    account = factories.AccountFactory(owner=alice, name="Kestrel Capital")
    coach = factories.CoachFactory(
        account=account, holder=alice, contact=factories.person_at(account, contact__last_name="Novak")
    )

    log_in(page, "max")
    navigate(page, "Team", "Team")
    row = page.get_by_test_id("rep-alice")
    row.get_by_label("Departure date").fill(LATER)
    row.get_by_role("button", name="Start departure").click()
    # Nothing is written before the confirmation, which says what will happen.
    expect(page.get_by_test_id("departure-preview")).to_contain_text("1 of the 1 coaches he holds is flagged at risk")
    assert User.objects.get(username="alice").status == User.Status.ACTIVE
    page.get_by_role("button", name="Confirm the departure").click()
    expect(page.get_by_role("heading", name="Departure of Alice Archer")).to_be_visible()
    expect(page.get_by_text("His at-risk coaches are being flagged")).to_be_visible()

    handover = Handover.objects.get(coach=coach)
    line = page.get_by_test_id(f"handover-{handover.pk}")
    expect(line).to_contain_text("Kestrel Capital")
    expect(line).to_contain_text("only holder")
    expect(page.get_by_test_id("progress")).to_contain_text("0 of 1 done")
    line.get_by_label("Successor").select_option(label="Bob Baker")
    line.get_by_role("button", name="Reassign").click()
    expect(page.get_by_text("is now handed over to Bob Baker")).to_be_visible()
    assert Handover.objects.get(pk=handover.pk).to_user == User.objects.get(username="bob")
    assert User.objects.get(username="alice").status == User.Status.LEAVING


def test_manager_cancels_a_departure_and_the_flags_go(page):
    manager = factories.ManagerFactory(username="max", first_name="Max", last_name="Manager")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Archer", manager=manager)
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=alice), holder=alice)
    log_in(page, "max")
    page.goto(page.base_url + f"/team/reps/{alice.pk}/departure/")
    page.get_by_label("Departure date").fill(LATER)
    page.get_by_role("button", name="Start departure").click()
    page.get_by_role("button", name="Confirm the departure").click()
    page.get_by_text("Cancel the departure…").click()
    page.get_by_role("button", name="Yes, cancel the departure").click()
    expect(page.get_by_text("1 handover(s) cancelled, 1 coach(es) no longer at risk")).to_be_visible()
    coach.refresh_from_db()
    assert not coach.at_risk and User.objects.get(username="alice").status == User.Status.ACTIVE
