import datetime

import pytest
from django.urls import reverse

from coaches.models import Coach, Holder, Interaction
from tests import factories


@pytest.fixture
def coach(rep):
    return factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)


def test_coach_list_shows_the_reps_coaches_worst_health_first(rep_client, rep):
    healthy = factories.CoachFactory(holder=rep, last_interaction_on=None)
    factories.HolderFactory(coach=healthy)
    at_risk = factories.CoachFactory(holder=rep, at_risk=True, at_risk_reason="leaving")
    factories.CoachFactory()  # someone else's
    response = rep_client.get(reverse("coaches:coach-list"))
    assert [c.pk for c in response.context["page"]] == [at_risk.pk, healthy.pk]
    assert b"single-threaded" in response.content


@pytest.mark.parametrize("rows", [1, 50])
def test_coach_list_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.CoachFactory(holder=rep)
    # session, user, count, the page of coaches (its ids sorted by health, the kept holder
    # count a column, then account/contact joined to those rows), one prefetch of all holders
    # with their users (an N+1 on holders or their names would add one or two queries per row),
    # the unread badge.
    with django_assert_num_queries(6):
        response = rep_client.get(reverse("coaches:coach-list"))
    assert response.status_code == 200


def test_coach_detail_shows_timeline_and_favour_balance(rep_client, rep, coach):
    factories.InteractionFactory(coach=coach, user=rep, kind="favour_given", note="Tickets to the fair")
    factories.InteractionFactory(coach=coach, user=rep, kind="favour_given")
    factories.InteractionFactory(coach=coach, user=rep, kind="favour_received")
    response = rep_client.get(reverse("coaches:coach-detail", args=[coach.pk]))
    assert response.context["favours"] == {"given": 2, "received": 1, "balance": 1}
    assert b"Tickets to the fair" in response.content
    assert b"they owe us one" in response.content


def test_coach_pages_are_404_to_the_account_owner_who_is_not_a_holder(client, rep, other_rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=other_rep)
    client.force_login(rep)
    assert client.get(reverse("coaches:coach-detail", args=[coach.pk])).status_code == 404
    assert client.get(reverse("coaches:coach-verify", args=[coach.pk])).status_code == 404
    assert client.post(reverse("coaches:interaction-create", args=[coach.pk]), {"kind": "call"}).status_code == 404
    holder = coach.holders.get()
    assert client.post(reverse("coaches:holder-delete", args=[holder.pk])).status_code == 404
    # The account page lists him among its people, but not as our coach.
    response = client.get(reverse("accounts:account-detail", args=[coach.account_id]))
    assert response.context["coaches"] == []
    assert coach.get_absolute_url().encode() not in response.content


def test_coach_detail_is_visible_to_the_holders_manager_and_admins_only(client, rep, manager, coach):
    client.force_login(manager)
    assert client.get(reverse("coaches:coach-detail", args=[coach.pk])).status_code == 200
    client.force_login(factories.ManagerFactory())
    assert client.get(reverse("coaches:coach-detail", args=[coach.pk])).status_code == 404
    client.force_login(factories.AdminFactory())
    assert client.get(reverse("coaches:coach-detail", args=[coach.pk])).status_code == 200


def test_coach_create_from_the_account_page_records_and_redirects(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    contact = factories.person_at(account)
    factories.person_at(factories.AccountFactory(owner=rep), contact__last_name="Elsewhere")
    url = reverse("coaches:coach-create") + f"?account={account.pk}"
    page = rep_client.get(url)
    assert list(page.context["form"].fields["contact"].queryset) == [contact]
    response = rep_client.post(
        url, {"account": account.pk, "contact": contact.pk, "strength": "champion", "credible": "on"}
    )
    coach = Coach.objects.get()
    assert response.status_code == 302 and response.url == coach.get_absolute_url()
    assert coach.holders.get().user == rep and coach.credible and not coach.trusts_us


def test_coach_create_from_the_contact_page_presets_his_account(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    contact = factories.person_at(account)
    response = rep_client.get(reverse("coaches:coach-create") + f"?contact={contact.pk}")
    assert response.context["form"].initial == {"contact": contact.pk, "account": account.pk}


def test_coach_create_lists_only_the_chosen_accounts_people_and_refills_them_on_change(rep_client, rep):
    here, there = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    mine, elsewhere = factories.person_at(here), factories.person_at(there)
    everyone = rep_client.get(reverse("coaches:coach-create")).context["form"]
    assert {mine, elsewhere} <= set(everyone.fields["contact"].queryset)
    # The account select asks the same page for the narrowed list when it changes (htmx).
    assert b'hx-get="/coaches/new/"' in rep_client.get(reverse("coaches:coach-create")).content
    narrowed = rep_client.get(reverse("coaches:coach-create"), {"account": here.pk}).context["form"]
    assert list(narrowed.fields["contact"].queryset) == [mine]
    # A posted form shown again (an error) keeps the narrowing; the server refuses a person from elsewhere.
    response = rep_client.post(reverse("coaches:coach-create"), {"account": here.pk, "contact": elsewhere.pk})
    assert list(response.context["form"].fields["contact"].queryset) == [mine]
    assert response.context["form"].errors["contact"]


def test_coach_create_shows_the_service_error_on_the_field(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    former = factories.EmploymentFactory(account=factories.AccountFactory(owner=rep)).contact
    response = rep_client.post(
        reverse("coaches:coach-create"), {"account": account.pk, "contact": former.pk, "strength": "coach"}
    )
    assert response.status_code == 200
    # The form lists only the account's current people, so he is refused as a choice before the service.
    assert "Select a valid choice" in response.context["form"].errors["contact"][0]
    assert not Coach.objects.exists()


def test_coach_create_for_an_unseen_account_is_404_and_wrong_method_405(rep_client, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    assert rep_client.get(reverse("coaches:coach-create") + f"?account={account.pk}").status_code == 404
    assert rep_client.put(reverse("coaches:coach-create")).status_code == 405


def test_coach_verify_page_saves_the_criteria(rep_client, coach):
    url = reverse("coaches:coach-verify", args=[coach.pk])
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(url, {"strength": "champion", "credible": "on", "has_power": "on"})
    coach.refresh_from_db()
    assert response.status_code == 302
    assert coach.strength == "champion" and coach.has_power and not coach.trusts_us and coach.last_verified_on


def test_coach_verify_page_form_error(rep_client, coach):
    response = rep_client.post(reverse("coaches:coach-verify", args=[coach.pk]), {"strength": "nonsense"})
    assert response.status_code == 200 and response.context["form"].errors["strength"]


def test_coach_status_change_and_refusal_message(rep_client, coach):
    url = reverse("coaches:coach-status", args=[coach.pk])
    assert rep_client.get(url).status_code == 405
    response = rep_client.post(url, {"status": "ended", "reason": ""}, follow=True)
    assert b"Say why" in response.content
    rep_client.post(url, {"status": "ended", "reason": "Retired"})
    coach.refresh_from_db()
    assert (coach.status, coach.status_reason) == ("ended", "Retired")


def test_interaction_log_page_and_form_error(rep_client, rep, coach):
    url = reverse("coaches:interaction-create", args=[coach.pk])
    rep_client.post(url, {"kind": "call", "occurred_on": "2020-01-01", "note": "catch-up"})
    assert Interaction.objects.get().note == "catch-up"
    response = rep_client.post(url, {"kind": "telepathy", "occurred_on": "x"}, follow=True)
    assert b"Choose a kind and a valid date" in response.content
    assert Interaction.objects.count() == 1
    assert rep_client.get(url).status_code == 405


def test_holder_pages_add_make_primary_and_remove(rep_client, rep, other_rep, coach):
    rep_client.post(reverse("coaches:holder-create", args=[coach.pk]), {"user": other_rep.pk})
    added = coach.holders.get(user=other_rep)
    rep_client.post(reverse("coaches:holder-primary", args=[added.pk]))
    assert coach.holders.get(is_primary=True) == added
    rep_client.post(reverse("coaches:holder-delete", args=[added.pk]))
    assert list(coach.holders.values_list("user", "is_primary")) == [(rep.pk, True)]
    response = rep_client.post(reverse("coaches:holder-delete", args=[coach.holders.get().pk]), follow=True)
    assert b"only holder" in response.content
    assert Holder.objects.filter(coach=coach).count() == 1


def test_holder_add_form_error(rep_client, rep, coach):
    response = rep_client.post(reverse("coaches:holder-create", args=[coach.pk]), {"user": rep.pk}, follow=True)
    assert b"Choose an active user" in response.content


def test_coach_list_health_filters_match_the_dashboard(manager_client, manager, rep, other_rep):
    from django.utils import timezone

    from pipeline.dashboard import dashboard_summary

    today = timezone.localdate()
    factories.CoachFactory(holder=rep, last_interaction_on=today, at_risk=True)
    shared = factories.CoachFactory(holder=rep, last_interaction_on=today)
    factories.HolderFactory(coach=shared, user=manager)
    factories.CoachFactory(holder=rep, established_on=today - datetime.timedelta(days=300))
    factories.CoachFactory(holder=rep, status="lapsed")
    factories.CoachFactory(holder=other_rep, at_risk=True)
    health = dashboard_summary(user=manager, filters={})["coach_health"]
    assert health == {"active": 3, "single_threaded": 2, "stale": 1, "at_risk": 1}
    for key, expected in health.items():
        response = manager_client.get(reverse("coaches:coach-list"), {"health": key, "team": manager.pk})
        assert response.context["page"].paginator.count == expected, key
    held = manager_client.get(reverse("coaches:coach-list"), {"holder": manager.pk})
    assert [c.pk for c in held.context["page"]] == [shared.pk]
    assert b'data-testid="drilldown"' in held.content


# --- style reports and moved coaches ------------------------------------------------------------


def test_style_report_create_records_and_shows_on_the_contact_page(rep_client, rep, coach):
    buyer = factories.person_at(coach.account)
    url = reverse("coaches:stylereport-create", args=[buyer.pk])
    assert list(rep_client.get(url).context["form"].fields["coach"].queryset) == [coach]
    response = rep_client.post(
        url, {"coach": coach.pk, "style": "driver", "confidence": "high", "reported_on": "2020-01-01", "note": "Fast"}
    )
    assert response.status_code == 302 and response.url == buyer.get_absolute_url()
    page = rep_client.get(buyer.get_absolute_url())
    assert [r.style for r in page.context["style_reports"]] == ["driver"]
    assert b"current" in page.content


def test_style_report_create_shows_a_form_error(rep_client, rep, coach):
    buyer = factories.person_at(coach.account)
    response = rep_client.post(
        reverse("coaches:stylereport-create", args=[buyer.pk]), {"coach": coach.pk, "style": "driver"}
    )
    assert response.status_code == 200 and response.context["form"].errors["confidence"]
    assert not buyer.style_reports.exists()


def test_style_report_create_is_404_for_a_person_out_of_scope(rep_client):
    stranger = factories.person_at(factories.AccountFactory())
    assert rep_client.get(reverse("coaches:stylereport-create", args=[stranger.pk])).status_code == 404


def test_style_report_create_refuses_put(rep_client, coach):
    buyer = factories.person_at(coach.account)
    assert rep_client.put(reverse("coaches:stylereport-create", args=[buyer.pk])).status_code == 405


def test_moved_coaches_page_shows_the_share_and_the_prospects(rep_client, rep, stages):
    move = factories.CoachMoveFactory(old_coach__holder=rep, contact__past_buyer=True)
    factories.InteractionFactory(coach=move.new_coach, user=rep)
    factories.CoachMoveFactory(old_coach__holder=rep)
    factories.CoachMoveFactory()  # not his
    response = rep_client.get(reverse("coaches:coachmove-list"))
    assert response.context["page"][0].pk == move.pk and len(response.context["page"]) == 2
    assert b"1 of 2 contacted (50%)" in response.content
    assert move.opportunity.name.encode() in response.content and b"past buyer" in response.content


def test_moved_coaches_page_refuses_post(rep_client):
    assert rep_client.post(reverse("coaches:coachmove-list")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_moved_coaches_query_count_does_not_grow_with_rows(rep_client, rep, stages, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.CoachMoveFactory(old_coach__holder=rep)
    # session, user, the share (one aggregate), the page count, the page of moves with person,
    # both accounts and the prospect's stage and owner joined and `contacted` as an EXISTS
    # (fetching any of them per row would add a query per move), the unread badge.
    with django_assert_num_queries(6):
        response = rep_client.get(reverse("coaches:coachmove-list"))
    assert response.status_code == 200


def test_coach_export_lists_the_users_coaches_with_holders(rep_client, rep, other_rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep, name="Acme"))
    factories.CoachFactory(account=factories.AccountFactory(owner=other_rep, name="Theirs"))
    response = rep_client.get(reverse("coaches:coach-export"))
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffcontact_email,account,strength,credible,")
    assert f"{coach.contact.email},Acme,coach,yes,yes,yes,no,{coach.established_on},{rep.username}," in body
    assert "Theirs" not in body
    assert rep_client.post(reverse("coaches:coach-export")).status_code == 405
