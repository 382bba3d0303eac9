"""The rep's day on a phone (390x844): from the home page, log a call with a due coach in 3 taps plus the note."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import Task
from coaches.models import Interaction
from tests import factories
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_a_call_with_a_due_coach_in_three_taps_and_sets_the_next_step(page):
    rep = factories.RepFactory(username="rita")
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    contact = factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak")
    coach = factories.CoachFactory(
        account=account,
        contact=contact,
        holder=rep,
        strength="champion",
        last_interaction_on=timezone.localdate() - datetime.timedelta(days=20),
    )
    factories.InteractionFactory(coach=coach, user=rep, kind="call", occurred_on=coach.last_interaction_on)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "rita")

    taps = 0
    row = page.locator("#touch-list li", has_text="Lena Novak")
    expect(row).to_be_visible()
    row.get_by_role("link", name="Log touch").click()
    taps += 1
    # The form opens with the kind she last used and today's date: only the note is hers to type.
    expect(page.get_by_label("Kind")).to_have_value("call")
    note = page.get_by_label("Note")
    note.click()
    taps += 1
    note.fill("Budget approved, CFO on board")
    page.get_by_label("Next step", exact=True).fill("Send the proposal")  # optional, same form
    page.get_by_role("button", name="Save").click()
    taps += 1

    page.wait_for_url(page.base_url + "/")
    expect(page.get_by_text("Logged: Lena Novak.")).to_be_visible()
    expect(page.locator("#touch-list li", has_text="Lena Novak")).to_have_count(0)
    assert taps == 3
    # No horizontal scroll on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert Interaction.objects.filter(coach=coach, note="Budget approved, CFO on board", kind="call").exists()
    assert Task.objects.get(owner=rep).subject == "Send the proposal"
