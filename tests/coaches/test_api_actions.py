"""The coach page's actions through the API: holders, style reports; and the conflict report."""

import pytest
from django.urls import reverse

from coaches.models import Holder, StyleReport
from tests import factories


@pytest.fixture
def coach(rep):
    return factories.CoachFactory(account=factories.AccountFactory(owner=rep))


def test_holder_add_remove_and_primary_go_through_the_services(token_client, rep, coach):
    colleague = factories.RepFactory()
    client = token_client(rep)
    response = client.post(
        reverse("api:coach-holders", args=[coach.pk]), {"user": colleague.pk, "is_primary": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    holders = {h["user"]: h for h in response.json()["holders"]}
    assert holders[colleague.pk]["is_primary"] and not holders[rep.pk]["is_primary"]
    mine = holders[rep.pk]["id"]
    response = client.post(reverse("api:coach-holder-primary", args=[coach.pk, mine]))
    assert response.status_code == 200
    assert Holder.objects.get(pk=mine).is_primary
    theirs = holders[colleague.pk]["id"]
    response = client.delete(reverse("api:coach-holder-remove", args=[coach.pk, theirs]))
    assert response.status_code == 200
    assert [h["user"] for h in response.json()["holders"]] == [rep.pk]


def test_holder_add_twice_and_removing_the_last_are_refused_with_the_services_message(token_client, rep, coach):
    client = token_client(rep)
    response = client.post(reverse("api:coach-holders", args=[coach.pk]), {"user": rep.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["fields"]
    only = coach.holders.get()
    response = client.delete(reverse("api:coach-holder-remove", args=[coach.pk, only.pk]))
    assert response.status_code == 400
    assert "only holder" in response.json()["detail"]


def test_holder_actions_on_another_reps_coach_are_404(token_client, rep, other_rep):
    theirs = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    holder = theirs.holders.get()
    client = token_client(rep)
    assert client.post(reverse("api:coach-holders", args=[theirs.pk]), {"user": rep.pk}).status_code == 404
    assert client.post(reverse("api:coach-holder-primary", args=[theirs.pk, holder.pk])).status_code == 404
    assert client.delete(reverse("api:coach-holder-remove", args=[theirs.pk, holder.pk])).status_code == 404
    assert Holder.objects.filter(coach=theirs).count() == 1


def test_holder_of_another_coach_under_my_coach_is_404(token_client, rep, coach):
    other = factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    holder = other.holders.get()
    response = token_client(rep).post(reverse("api:coach-holder-primary", args=[coach.pk, holder.pk]))
    assert response.status_code == 404


def test_style_report_create_and_list(token_client, rep, coach):
    person = factories.person_at(coach.account)
    client = token_client(rep)
    response = client.post(
        reverse("api:stylereport-list"),
        {"contact": person.pk, "coach": coach.pk, "style": "driver", "confidence": "high", "note": " fast "},
        format="json",
    )
    assert response.status_code == 201, response.json()
    report = StyleReport.objects.get()
    assert (report.style, report.recorded_by, report.note) == ("driver", rep, "fast")
    response = client.get(reverse("api:stylereport-list"), {"contact": person.pk})
    assert [r["id"] for r in response.json()["results"]] == [report.pk]


def test_style_report_about_someone_elsewhere_is_refused(token_client, rep, coach):
    elsewhere = factories.person_at(factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:stylereport-list"),
        {"contact": elsewhere.pk, "coach": coach.pk, "style": "driver", "confidence": "high"},
        format="json",
    )
    assert response.status_code == 400
    assert "coach" in response.json()["fields"]


def test_style_reports_of_another_rep_are_out_of_scope(token_client, rep, other_rep):
    report = factories.StyleReportFactory(
        coach=factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    )
    client = token_client(rep)
    assert client.get(reverse("api:stylereport-detail", args=[report.pk])).status_code == 404
    assert client.get(reverse("api:stylereport-list")).json()["count"] == 0


def test_conflicts_report_is_for_managers_and_lists_what_the_page_lists(token_client, rep, manager, admin_user):
    north = factories.RegionFactory(name="North")
    factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory(manager=manager)])
    account = factories.AccountFactory(owner=rep, region=north)
    from accounts.territories import coverage_refresh

    coverage_refresh(accounts=[account.pk])
    assert token_client(rep).get(reverse("api:territory-conflict-list")).status_code == 403
    response = token_client(manager).get(reverse("api:territory-conflict-list"))
    assert response.status_code == 200
    row = response.json()["results"][0]
    assert (row["id"], row["owner_outside"], row["winning_territory_name"]) == (account.pk, True, "North")


def test_coach_moves_list_is_scoped(token_client, rep, other_rep):
    mine = factories.CoachMoveFactory(to_account=factories.AccountFactory(owner=rep))
    factories.CoachMoveFactory(to_account=factories.AccountFactory(owner=other_rep))
    response = token_client(rep).get(reverse("api:coachmove-list"))
    assert [m["id"] for m in response.json()["results"]] == [mine.pk]
