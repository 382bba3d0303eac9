"""Today (the home page), the short log form, tasks: happy paths, 404 out of scope, wrong methods, form errors."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import Task
from tests import factories


def _days(n):
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


def _due_coach(rep, days_over=3, **kwargs):
    return factories.CoachFactory(holder=rep, strength="champion", last_interaction_on=_days(14 + days_over), **kwargs)


def test_today_lists_the_sections_in_the_reps_order(rep_client, rep, account, stages):
    task = factories.TaskFactory(owner=rep, subject="Call back the CFO", due_on=_days(1))
    factories.TaskFactory(owner=rep, subject="Later", due_on=_days(-3))
    coach = _due_coach(rep, account=account)
    factories.CoachFactory(holder=rep, last_interaction_on=_days(1))  # not due
    handover = factories.HandoverFactory(coach=factories.CoachFactory(), to_user=rep, due_on=_days(-2))
    held = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"], held_back=True)
    late = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"], expected_close=_days(5))
    response = rep_client.get(reverse("home"))
    sections = response.context["sections"]
    assert list(sections) == ["tasks", "touches", "verify", "handovers", "held_back", "past_close"]
    assert sections["tasks"] == [task]
    assert sections["touches"] == [coach]
    assert sections["handovers"] == [handover]
    assert sections["held_back"] == [held]
    assert sections["past_close"] == [late]
    page = response.content.decode()
    assert page.index("Call back the CFO") < page.index(str(coach.contact)) < page.index("Work list")
    assert reverse("agenda:touch-create", args=[coach.pk]) in page


def test_today_lists_the_coaches_to_verify_before_their_deals_go_back(
    rep_client, rep, other_rep, account, stages, settings
):
    expiry = settings.COACH_UNVERIFIED_DAYS
    old = _days(expiry + 100)
    soon = factories.CoachFactory(account=account, holder=rep, established_on=old, last_verified_on=_days(expiry - 7))
    expired = factories.CoachFactory(holder=rep, established_on=old, last_verified_on=_days(expiry + 5))
    never = factories.CoachFactory(holder=rep, established_on=_days(expiry - 3))  # never verified: since established
    factories.CoachFactory(holder=rep, established_on=old, last_verified_on=_days(expiry - 20))  # not yet
    factories.CoachFactory(holder=other_rep, established_on=old, last_verified_on=_days(expiry - 7))  # not his
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Proposal"])
    response = rep_client.get(reverse("home"))
    # Expired first, then the soonest to expire; on the list while the gate still lets his deals stand.
    assert response.context["sections"]["verify"] == [expired, never, soon]
    page = response.content.decode()
    assert reverse("coaches:coach-verify", args=[soon.pk]) in page
    assert "expires" in page and "expired" in page
    from pipeline.services import gate_sweep

    assert gate_sweep().sent_back == 0
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]


def test_today_links_a_deal_held_back_for_an_unqualified_coach_to_his_verify_form(rep_client, rep, account, stages):
    from pipeline import services as pipeline_services

    coach = factories.CoachFactory(account=account, holder=rep, strength="informant")
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Qualified"])
    with pytest.raises(pipeline_services.GateError):
        pipeline_services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    page = rep_client.get(reverse("home")).content.decode()
    assert reverse("coaches:coach-verify", args=[coach.pk]) in page


def test_today_shows_nothing_of_another_rep(rep_client, other_rep):
    factories.TaskFactory(owner=other_rep, subject="Their task")
    _due_coach(other_rep)
    response = rep_client.get(reverse("home"))
    assert not any(response.context["sections"].values())
    assert b"Their task" not in response.content


@pytest.mark.parametrize("rows", [1, 50])
def test_today_query_count_does_not_grow_with_rows(rep_client, rep, account, stages, rows, django_assert_num_queries):
    for index in range(rows):
        factories.TaskFactory(owner=rep, due_on=_days(1), coach=_due_coach(rep, account=account))
        factories.OpportunityFactory(
            account=account, owner=rep, stage=stages["Lead"], held_back=True, expected_close=_days(index + 1)
        )
    # session, user; one query per section (tasks with owner and links joined, touches and
    # verifications with contact and account, handovers, held-back and late deals with account
    # and stage; an N+1 on any of those would add a query per row); the work list's visible
    # accounts (once), its count and its page (the order over ids, the page's rows joined after
    # it, in one query); the unread badge.
    with django_assert_num_queries(12):
        response = rep_client.get(reverse("home"))
    assert len(response.context["sections"]["tasks"]) == min(rows, 20)


def test_home_work_list_still_puts_coached_deals_first(rep_client, rep, stages):
    plain, coached = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    big_lead = factories.OpportunityFactory(account=plain, amount=900, stage=stages["Qualified"])
    small = factories.OpportunityFactory(account=coached, amount=1, stage=stages["Lead"])
    late = factories.OpportunityFactory(account=coached, amount=1, stage=stages["Proposal"])
    big = factories.OpportunityFactory(account=coached, amount=500, stage=stages["Lead"])
    response = rep_client.get(reverse("home"))
    assert [d.pk for d in response.context["page"]] == [late.pk, big.pk, small.pk, big_lead.pk]


def test_home_work_list_pages_continue_the_order(manager_client, rep, stages):
    # The page's rows are read after the order over ids: page 2 starts where page 1 stopped.
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    plain = factories.AccountFactory(owner=rep)
    deals = [
        factories.OpportunityFactory(account=[coached, plain][i % 2], owner=rep, amount=i, stage=stages["Lead"])
        for i in range(30)
    ]
    expected = [d.pk for d in sorted(deals, key=lambda d: (d.account_id != coached.pk, -d.amount))]
    first = [d.pk for d in manager_client.get(reverse("home")).context["page"]]
    second = [d.pk for d in manager_client.get(reverse("home") + "?page=2").context["page"]]
    assert first + second == expected


def test_touch_log_page_preselects_the_last_kind_and_saves_with_a_next_step(rep_client, rep):
    coach = _due_coach(rep)
    factories.InteractionFactory(coach=coach, user=rep, kind="message", occurred_on=_days(17))
    url = reverse("agenda:touch-create", args=[coach.pk])
    assert rep_client.get(url).context["form"].initial["kind"] == "message"
    response = rep_client.post(
        url,
        {"kind": "call", "occurred_on": timezone.localdate(), "note": "Fine", "next_step": "Send deck", "next": "/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    coach.refresh_from_db()
    assert not coach.is_touch_due
    assert Task.objects.get().subject == "Send deck"
    assert coach not in rep_client.get(reverse("home")).context["sections"]["touches"]


def test_touch_log_page_refuses_a_future_date_on_the_form(rep_client, rep):
    coach = _due_coach(rep)
    response = rep_client.post(
        reverse("agenda:touch-create", args=[coach.pk]), {"kind": "call", "occurred_on": _days(-2)}
    )
    assert response.status_code == 200 and response.context["form"].errors["occurred_on"]


def test_touch_log_page_ignores_an_offsite_next(rep_client, rep):
    coach = _due_coach(rep)
    response = rep_client.post(
        reverse("agenda:touch-create", args=[coach.pk]),
        {"kind": "call", "occurred_on": timezone.localdate(), "next": "https://evil.example/"},
    )
    assert response["Location"] == coach.get_absolute_url()


def test_touch_log_page_404_for_another_reps_coach(rep_client, other_rep):
    coach = _due_coach(other_rep)
    assert rep_client.get(reverse("agenda:touch-create", args=[coach.pk])).status_code == 404


def test_task_create_from_a_deal_page_links_it(rep_client, rep, account, stages):
    deal = factories.OpportunityFactory(account=account, stage=stages["Lead"])
    url = reverse("agenda:task-create") + f"?opportunity={deal.pk}"
    response = rep_client.post(url, {"subject": "Book the demo", "due_on": timezone.localdate()})
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.opportunity, task.account, task.owner) == (deal, account, rep)


def test_task_create_form_error_and_out_of_scope_link(rep_client, stages):
    response = rep_client.post(reverse("agenda:task-create"), {"subject": "", "due_on": "soon"})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"subject", "due_on"}
    theirs = factories.OpportunityFactory(stage=stages["Lead"])
    assert rep_client.get(reverse("agenda:task-create") + f"?opportunity={theirs.pk}").status_code == 404


def test_manager_assigns_a_task_to_his_rep(manager_client, rep):
    response = manager_client.post(
        reverse("agenda:task-create"), {"subject": "Meet the buyer", "due_on": timezone.localdate(), "owner": rep.pk}
    )
    assert response.status_code == 302
    assert Task.objects.get().owner == rep


def test_task_done_and_edit_404_for_another_reps_task(rep_client, other_rep):
    task = factories.TaskFactory(owner=other_rep)
    assert rep_client.post(reverse("agenda:task-done", args=[task.pk])).status_code == 404
    assert rep_client.get(reverse("agenda:task-edit", args=[task.pk])).status_code == 404


def test_task_done_marks_it_and_get_is_refused(rep_client, rep):
    task = factories.TaskFactory(owner=rep)
    assert rep_client.get(reverse("agenda:task-done", args=[task.pk])).status_code == 405
    rep_client.post(reverse("agenda:task-done", args=[task.pk]))
    task.refresh_from_db()
    assert task.is_done


@pytest.mark.parametrize("rows", [1, 50])
def test_task_list_query_count(rep_client, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.TaskFactory(owner=rep, coach=factories.CoachFactory(holder=rep))
    # session, user, count, the page with owner and links joined (no query per row), the digest
    # opt-out, the unread badge.
    with django_assert_num_queries(6):
        rep_client.get(reverse("agenda:task-list"))


def test_coach_cadence_page_action(rep_client, rep):
    coach = factories.CoachFactory(holder=rep)
    rep_client.post(reverse("coaches:coach-cadence", args=[coach.pk]), {"cadence_days": "7"})
    coach.refresh_from_db()
    assert coach.cadence == 7
    rep_client.post(reverse("coaches:coach-cadence", args=[coach.pk]), {"cadence_days": "0"})
    coach.refresh_from_db()
    assert coach.cadence == 7


def test_digest_opt_out_page_action(rep_client, rep):
    rep_client.post(reverse("agenda:digest-opt-out"), {"opt_out": "1"})
    assert b"Send it again" in rep_client.get(reverse("agenda:task-list")).content
    rep_client.post(reverse("agenda:digest-opt-out"), {"opt_out": "0"})
    assert b"Stop the daily digest" in rep_client.get(reverse("agenda:task-list")).content


def test_digest_opt_out_is_on_the_profile(rep_client, rep):
    profile = reverse("team:profile")
    loader = reverse("agenda:digest-opt-out") + "?next=" + profile
    assert loader in rep_client.get(profile).content.decode()
    # The loader's answer (htmx): the preference form, coming back to the profile.
    response = rep_client.get(loader, headers={"HX-Request": "true"})
    assert b"Stop the daily digest" in response.content and f'value="{profile}"'.encode() in response.content
    response = rep_client.post(reverse("agenda:digest-opt-out"), {"opt_out": "1", "next": profile})
    assert response["Location"] == profile
    assert b"Send it again" in rep_client.get(loader, headers={"HX-Request": "true"}).content
    # Without htmx the address is the task list's preference.
    assert rep_client.get(reverse("agenda:digest-opt-out"))["Location"] == reverse("agenda:task-list")


@pytest.mark.parametrize(
    ("kind", "page"),
    [
        ("coach", "coaches:coach-detail"),
        ("account", "accounts:account-detail"),
        ("opportunity", "pipeline:opportunity-detail"),
    ],
)
def test_new_task_from_a_coach_account_or_deal_page_is_linked_to_it(rep_client, rep, account, stages, kind, page):
    coach = factories.CoachFactory(holder=rep, account=account)
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"])
    record = {"coach": coach, "account": account, "opportunity": deal}[kind]
    url = reverse(page, args=[record.pk])
    html = rep_client.get(url).content.decode()
    link = re.search(r'href="([^"]*)" data-testid="new-task"', html).group(1).replace("&amp;", "&")
    assert link.startswith(reverse("agenda:task-create") + f"?{kind}={record.pk}&")
    response = rep_client.post(link, {"subject": "Follow up", "due_on": timezone.localdate()})
    assert response.status_code == 302 and response["Location"] == url
    task = Task.objects.get()
    assert getattr(task, kind) == record and task.account == account


def test_new_task_from_a_handover_is_the_successors_about_its_coach(rep_client, rep, other_rep):
    handover = factories.HandoverFactory(
        coach=factories.CoachFactory(holder=other_rep), to_user=rep, from_user=other_rep
    )
    html = rep_client.get(reverse("departures:handover-list")).content.decode()
    link = reverse("agenda:task-create") + f"?handover={handover.pk}"
    assert link in html and reverse("agenda:touch-create", args=[handover.coach_id]) in html
    rep_client.post(link, {"subject": "Meet the coach with Bob", "due_on": timezone.localdate()})
    task = Task.objects.get()
    assert (task.owner, task.handover, task.coach) == (rep, handover, handover.coach)


def test_deal_page_offers_log_touch_for_the_coaches_the_user_may_see(rep_client, rep, other_rep, account, stages):
    mine = factories.CoachFactory(holder=rep, account=account)
    theirs = factories.CoachFactory(holder=other_rep, account=account)
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"])
    html = rep_client.get(deal.get_absolute_url()).content.decode()
    assert reverse("agenda:touch-create", args=[mine.pk]) in html
    assert reverse("agenda:touch-create", args=[theirs.pk]) not in html


def test_today_held_back_deals_offer_the_next_step_to_a_coach(rep_client, rep, account, stages):
    from coachcrm.notes import note_facts

    lapsed = factories.CoachFactory(account=account, holder=rep, status="lapsed")
    none = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"], held_back=True)
    unverified = factories.OpportunityFactory(
        account=account,
        owner=rep,
        stage=stages["Lead"],
        held_back=True,
        held_back_facts=note_facts("gate", stage="Qualified", account=account, coach_id=lapsed.pk),
    )
    page = rep_client.get(reverse("home")).content.decode()
    section = page[
        page.index('id="today-held"') : page.index('id="today-close"') if 'id="today-close"' in page else None
    ]
    rows = {deal: section[section.index(deal.get_absolute_url()) :].split("</li>")[0] for deal in (none, unverified)}
    # No coach: record one; a coach who no longer qualifies: verify him.
    assert reverse("coaches:coach-create") + f"?account={account.pk}" in rows[none]
    assert reverse("coaches:coach-verify", args=[lapsed.pk]) in rows[unverified]


def test_touch_log_message_gives_the_next_steps_day_as_the_pages_show_dates(rep_client, rep):
    from django.utils.formats import date_format

    coach = _due_coach(rep)
    response = rep_client.post(
        reverse("agenda:touch-create", args=[coach.pk]),
        {"kind": "call", "occurred_on": timezone.localdate(), "next_step": "Send deck", "next": "/"},
        follow=True,
    )
    due = Task.objects.get().due_on
    assert f"Next step due {date_format(due)}." in response.content.decode()
    assert due.isoformat() not in response.content.decode()
