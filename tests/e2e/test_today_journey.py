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
    log_touch = row.get_by_role("link", name="Log touch")
    expect(log_touch).to_be_in_viewport()  # on the first screen of the home page: no scroll
    log_touch.click()
    taps += 1
    # The form opens with the kind she last used and today's date: only the note is hers to type.
    expect(page.get_by_label("Kind")).to_have_value("call")
    expect(page.get_by_label("Date")).to_have_value(timezone.localdate().isoformat())
    note = page.get_by_label("Note")
    note.click()
    taps += 1
    note.fill("Budget approved, CFO on board")
    # The optional next step, in the same form: one more tap and its text.
    next_step = page.get_by_label("Next step", exact=True)
    next_step.click()
    next_step_taps = 1
    next_step.fill("Send the proposal")
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_in_viewport()  # saved without scrolling
    save.click()
    taps += 1

    page.wait_for_url(page.base_url + "/")
    expect(page.get_by_text("Logged: Lena Novak.")).to_be_visible()
    expect(page.locator("#touch-list li", has_text="Lena Novak")).to_have_count(0)
    assert taps == 3 and next_step_taps == 1
    print(f"taps: {taps} to log the call (plus the note), {next_step_taps} more for the next step")
    # No horizontal scroll on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert Interaction.objects.filter(coach=coach, note="Budget approved, CFO on board", kind="call").exists()
    assert Task.objects.get(owner=rep).subject == "Send the proposal"


def test_rep_finds_an_account_by_typing_three_letters_of_its_name(page):
    rep = factories.RepFactory(username="rita")
    other = factories.RepFactory(username="otto")
    mine = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    factories.AccountFactory(owner=other, name="Kestrel Foods")  # another rep's: never shown
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "rita")

    taps = 0
    box = page.get_by_role("searchbox", name="Search")
    expect(box).to_be_in_viewport()  # in the navigation, not behind the menu button
    box.click()
    taps += 1
    box.press_sequentially("kes")  # htmx answers as she types
    answer = page.get_by_test_id("search-results")
    result = answer.get_by_role("link", name="Kestrel Capital")
    expect(result).to_be_visible()
    expect(answer).not_to_contain_text("Kestrel Foods")
    expect(result).to_be_in_viewport(ratio=1)  # the answer is on the screen, not past its edge
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    result.click()
    taps += 1
    page.wait_for_url(page.base_url + mine.get_absolute_url())
    assert taps == 2
    print(f"taps: {taps} to open an account from three letters of its name")

    # On a desktop "/" jumps to the box from anywhere.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(page.base_url + "/")
    page.keyboard.press("/")
    expect(box).to_be_focused()
