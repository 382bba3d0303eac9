import pytest
from django.urls import reverse

from pipeline.models import Opportunity, StageChange
from tests import factories


def _move(client, opportunity, stage, **extra):
    return client.post(
        reverse("api:opportunity-move", args=[opportunity.pk]), {"stage": stage.pk, **extra}, format="json"
    )


def test_move_without_a_coach_into_a_gated_stage_is_409_coach_required(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    response = _move(token_client(rep), deal, stages["Proposal"])
    assert response.status_code == 409
    assert response.json()["code"] == "coach_required"
    assert "needs a verified coach" in response.json()["detail"]
    assert (response.json()["requirement"], response.json()["missing"]) == ("verified", ["no_coach"])
    deal.refresh_from_db()
    # The page's rule: the deal stays where it was and is held back for a coach.
    assert deal.stage == stages["Qualified"]
    assert deal.held_back


def test_move_with_a_coach_passes_the_gate(token_client, rep, stages):
    account = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=account)
    deal = factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    response = _move(token_client(rep), deal, stages["Proposal"], reason="demo went well")
    assert response.status_code == 200
    assert response.json()["stage"] == stages["Proposal"].pk
    change = deal.stage_changes.get(to_stage=stages["Proposal"])
    assert (change.by, change.reason) == (rep, "demo went well")


def test_move_out_of_scope_is_404_and_moves_nothing(token_client, rep, other_rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep))
    response = _move(token_client(rep), deal, stages["Qualified"])
    assert response.status_code == 404
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]


def test_move_by_get_is_405(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    assert token_client(rep).get(reverse("api:opportunity-move", args=[deal.pk])).status_code == 405


def test_override_by_a_rep_is_403(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    response = token_client(rep).post(
        reverse("api:opportunity-override", args=[deal.pk]),
        {"stage": stages["Proposal"].pk, "reason": "trust me"},
        format="json",
    )
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_override_by_the_owners_manager_passes_the_gate(token_client, rep, manager, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    response = token_client(manager).post(
        reverse("api:opportunity-override", args=[deal.pk]),
        {"stage": stages["Proposal"].pk, "reason": "the CFO is our sponsor"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["stage"] == stages["Proposal"].pk
    assert deal.stage_changes.filter(kind=StageChange.Kind.OVERRIDE).exists()


def test_override_without_a_reason_is_a_field_error(token_client, rep, manager, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    response = token_client(manager).post(
        reverse("api:opportunity-override", args=[deal.pk]), {"stage": stages["Proposal"].pk}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_create_refuses_stage_status_and_a_reps_owner(token_client, rep, other_rep, stages):
    account = factories.AccountFactory(owner=rep)
    line = factories.ProductLineFactory(name="Cloud")
    body = {"account": account.pk, "name": "Big deal", "product_line": "Cloud", "amount": "5000.00"}
    client = token_client(rep)
    response = client.post(
        reverse("api:opportunity-list"),
        {**body, "stage": stages["Negotiation"].pk, "status": "won", "owner": other_rep.pk, "held_back": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    assert set(response.json()["fields"]) == {"stage", "status", "owner", "held_back"}
    assert not Opportunity.objects.exists()
    # Empty read-only fields and the rep's own id as owner say nothing new: accepted.
    response = client.post(
        reverse("api:opportunity-list"), {**body, "owner": rep.pk, "stage": None, "held_back": None}, format="json"
    )
    assert response.status_code == 201, response.json()
    deal = Opportunity.objects.get(pk=response.json()["id"])
    assert (deal.stage, deal.status, deal.owner, deal.held_back) == (stages["Lead"], "open", rep, False)
    assert deal.product_line == line


def test_create_on_an_account_out_of_scope_is_a_field_error(token_client, rep, other_rep, stages):
    factories.ProductLineFactory(name="Cloud")
    response = token_client(rep).post(
        reverse("api:opportunity-list"),
        {"account": factories.AccountFactory(owner=other_rep).pk, "name": "X", "product_line": "Cloud", "amount": 1},
        format="json",
    )
    assert response.status_code == 400
    assert "account" in response.json()["fields"]
    assert not Opportunity.objects.exists()


def test_update_cannot_change_the_stage(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    response = token_client(rep).patch(
        reverse("api:opportunity-detail", args=[deal.pk]), {"stage": stages["Won"].pk, "amount": "7"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"stage": ["This field cannot be set here."]}
    deal.refresh_from_db()
    assert deal.stage == stages["Lead"]
    assert deal.amount != 7


def test_list_filters_by_stage_and_held_back(token_client, rep, stages):
    account = factories.AccountFactory(owner=rep)
    held = factories.OpportunityFactory(account=account, stage=stages["Qualified"], held_back=True)
    factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    factories.OpportunityFactory(account=account)
    response = token_client(rep).get(
        reverse("api:opportunity-list"), {"stage": stages["Qualified"].pk, "held_back": "true"}
    )
    assert [row["id"] for row in response.json()["results"]] == [held.pk]


@pytest.mark.parametrize("rows", [1, 50])
def test_opportunity_list_query_count_does_not_grow_with_rows(
    token_client, rep, stages, rows, django_assert_num_queries
):
    client = token_client(rep)
    for _ in range(rows):
        factories.ExternalIdFactory(record=factories.OpportunityFactory(account=factories.AccountFactory(owner=rep)))
    # token with its user, his other tokens (knox sweeps the expired ones), the visible accounts
    # (once, for the count and the page), count, the page with account, owner, stage and product
    # line joined and the coach flag as a subquery, the external ids prefetched: an N+1 on any of
    # them would add a query per row.
    with django_assert_num_queries(6):
        response = client.get(reverse("api:opportunity-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_stages_are_read_by_everyone_and_written_by_nobody_but_admins(token_client, rep, stages):
    client = token_client(rep)
    response = client.get(reverse("api:stage-list"), {"page_size": 100})
    assert [row["name"] for row in response.json()["results"]][:2] == ["Lead", "Qualified"]
    assert client.post(reverse("api:stage-list"), {"name": "X", "order": 99}, format="json").status_code == 403


@pytest.mark.parametrize("rows", [1, 50])
def test_stage_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    from pipeline.models import Stage

    Stage.objects.all().delete()
    client = token_client(rep)
    for n in range(rows):
        Stage.objects.create(name=f"Stage {n}", order=100 + n, probability=50)
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page: a stage
    # has no relation a row would fetch.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:stage-list"), {"page_size": 100})
    assert response.json()["count"] == rows


def test_dashboard_gives_the_pages_figures_as_json(token_client, rep, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), amount=1000)
    factories.OpportunityFactory(amount=5000)  # someone else's: out of the rep's scope
    response = token_client(rep).get(reverse("api:dashboard"))
    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["count"] == 1
    assert body["scope"]["owner_id"] == rep.pk


def test_dashboard_refuses_a_period_ending_before_it_starts(token_client, rep, stages):
    response = token_client(rep).get(reverse("api:dashboard"), {"start": "2025-05-01", "end": "2025-04-01"})
    assert response.status_code == 400
    assert "end" in response.json()["fields"]


def test_admin_creates_and_changes_a_stage_through_the_api(api_client, admin_user, stages):
    api_client.force_authenticate(admin_user)
    created = api_client.post("/api/v1/stages/", {"name": "Discovery", "order": 15, "probability": 15}, format="json")
    assert created.status_code == 201
    changed = api_client.patch(
        f"/api/v1/stages/{created.data['id']}/", {"coach_requirement": "qualified"}, format="json"
    )
    assert changed.status_code == 200 and changed.data["coach_requirement"] == "qualified"
    bad = api_client.patch(f"/api/v1/stages/{created.data['id']}/", {"coach_requirement": "maybe"}, format="json")
    assert bad.status_code == 400 and "coach_requirement" in bad.json()["fields"]
    refused = api_client.post("/api/v1/stages/", {"name": "Lead", "order": 99, "probability": 5}, format="json")
    assert refused.status_code == 400


def test_a_rep_cannot_change_stages_through_the_api(api_client, rep, stages):
    api_client.force_authenticate(rep)
    response = api_client.patch(f"/api/v1/stages/{stages['Lead'].pk}/", {"probability": 99}, format="json")
    assert response.status_code == 403


def test_move_to_lost_without_a_loss_reason_is_400_and_with_one_closes(token_client, rep, stages, loss_reason):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    response = _move(token_client(rep), deal, stages["Lost"])
    assert response.status_code == 400
    assert "loss_reason" in response.json()["fields"]
    response = _move(token_client(rep), deal, stages["Lost"], loss_reason=loss_reason.pk, loss_note="incumbent")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["loss_reason"]) == ("lost", loss_reason.pk)
    assert response.json()["loss_note"] == "incumbent"


def test_loss_reasons_are_listed_for_any_user(token_client, rep, loss_reason):
    response = token_client(rep).get(reverse("api:loss-reason-list"))
    assert response.status_code == 200
    assert "Price" in [row["name"] for row in response.json()["results"]]


def test_reopen_is_an_action_of_its_own_for_the_manager_403_for_the_rep(
    token_client, rep, manager, stages, loss_reason
):
    from pipeline import services

    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])
    services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep, loss_reason=loss_reason)
    url = reverse("api:opportunity-reopen", args=[deal.pk])
    payload = {"stage": stages["Lead"].pk, "reason": "budget back"}
    assert token_client(rep).post(url, payload, format="json").status_code == 403
    assert token_client(manager).post(url, {"stage": stages["Lead"].pk}, format="json").status_code == 400
    assert token_client(manager).post(url, {**payload, "stage": stages["Won"].pk}, format="json").status_code == 400
    response = token_client(manager).post(url, payload, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["loss_reason"]) == ("open", None)
    assert deal.stage_changes.filter(kind=StageChange.Kind.REOPEN).count() == 1
    # Reopening an open deal is a refusal with the one error format.
    response = token_client(manager).post(url, payload, format="json")
    assert response.status_code == 400 and "open already" in response.json()["detail"]


def test_put_of_what_get_answered_updates_the_deal(token_client, rep, stages):
    # GET-modify-PUT: the read-only fields come back unchanged and are accepted.
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), name="Old")
    client = token_client(rep)
    url = reverse("api:opportunity-detail", args=[deal.pk])
    body = client.get(url).json()
    response = client.put(url, {**body, "name": "New"}, format="json")
    assert response.status_code == 200, response.json()
    deal.refresh_from_db()
    assert deal.name == "New"


def test_patch_of_the_account_is_a_read_only_field_error_not_a_500(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    other = factories.AccountFactory(owner=rep)
    client = token_client(rep)
    url = reverse("api:opportunity-detail", args=[deal.pk])
    response = client.patch(url, {"account": other.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    assert list(response.json()["fields"]) == ["account"]
    # The same account it has is no change: accepted.
    assert client.patch(url, {"account": deal.account_id, "name": "Same"}, format="json").status_code == 200
