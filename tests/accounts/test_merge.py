"""Merging duplicate accounts and people (accounts.services.account_merge / contact_merge)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import Account, Contact, Employment, RecordMerge
from agenda.models import Note, Task
from coaches.models import Holder, Interaction
from pipeline.models import Opportunity, OpportunityContact
from tests import factories
from webhooks.models import Delivery, Webhook


@pytest.fixture
def pair(manager, rep, stages):
    """Two records of one company, both owned in the manager's team, each with its people, coach and deal."""
    survivor = factories.AccountFactory(name="Cedar Health", owner=rep)
    loser = factories.AccountFactory(name="Cedar Health Clinics", owner=manager, notes="Old CRM import")
    loser.product_lines.add(factories.ProductLineFactory(name="Cloud"))
    coach = factories.CoachFactory(account=loser)
    factories.InteractionFactory(coach=coach)
    factories.EmploymentFactory(account=loser, end_date=None)
    deal = factories.OpportunityFactory(account=loser)
    factories.OpportunityFactory(account=survivor)
    Task.objects.create(subject="Call", owner=rep, created_by=rep, account=loser)
    Note.objects.create(account=loser, author=rep, text="met the CFO")
    return survivor, loser, coach, deal


def _related(account: Account) -> dict:
    return {
        "positions": account.employments.count(),
        "coaches": account.coaches.count(),
        "deals": account.opportunities.count(),
        "tasks": Task.objects.filter(account=account).count(),
        "notes": Note.objects.filter(account=account).count(),
    }


def test_account_merge_moves_every_related_row_to_the_survivor(pair, manager):
    survivor, loser, coach, deal = pair
    before = {key: _related(survivor)[key] + _related(loser)[key] for key in _related(survivor)}
    holders, interactions = Holder.objects.count(), Interaction.objects.count()

    log = services.account_merge(account=loser, into=survivor, by=manager)

    assert _related(survivor) == before
    assert not Account.objects.filter(pk=loser.pk).exists()
    assert (Holder.objects.count(), Interaction.objects.count()) == (holders, interactions)
    coach.refresh_from_db()
    deal.refresh_from_db()
    assert coach.account == survivor and deal.account == survivor
    survivor.refresh_from_db()
    assert "Old CRM import" in survivor.notes
    assert list(survivor.product_lines.values_list("name", flat=True)) == ["Cloud"]
    assert (log.kind, log.account, log.merged_name, log.by) == ("account", survivor, "Cedar Health Clinics", manager)
    assert log.moved["coaches.Coach.account"] == 1
    # The loser's name stays in its own history (the deleted row) and the moved rows got a history row.
    assert Account.history.filter(id=loser.pk, history_type="-", name="Cedar Health Clinics").exists()
    assert deal.history.filter(history_change_reason="merge", account_id=survivor.pk).exists()


def test_account_merge_into_itself_is_refused(pair, manager):
    survivor, *_ = pair
    with pytest.raises(ValidationError) as error:
        services.account_merge(account=survivor, into=survivor, by=manager)
    assert error.value.error_dict["into"][0].code == "merge_self"


def test_account_merge_by_a_rep_or_a_manager_of_one_owner_only_is_refused(pair, rep, other_rep):
    survivor, loser, *_ = pair
    outsider = factories.ManagerFactory()
    for user in (rep, outsider):
        with pytest.raises(ValidationError) as error:
            services.account_merge(account=loser, into=survivor, by=user)
        assert error.value.code == "permission_denied"
    assert Account.objects.filter(pk=loser.pk).exists()


def test_account_merge_by_an_admin_notifies_the_loser_owner_and_emits_the_webhook(pair, admin_user, manager):
    survivor, loser, *_ = pair
    Webhook.objects.create(url="https://hooks.example.com/in", events=["account.merged"], created_by=admin_user)

    services.account_merge(account=loser, into=survivor, by=admin_user)

    assert manager.notifications.filter(message__contains="Cedar Health Clinics").exists()
    delivery = Delivery.objects.get(event="account.merged")
    assert delivery.payload["data"]["merged_id"] == loser.pk


def test_account_merge_releases_the_survivors_held_back_deal_with_the_others_coach(
    pair, manager, stages, django_capture_on_commit_callbacks
):
    survivor, loser, _coach, _deal = pair
    held = factories.OpportunityFactory(
        account=survivor,
        stage=stages["Qualified"],
        held_back=True,
        held_back_facts={"kind": "no_active_coach", "requirement": "qualified"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.account_merge(account=loser, into=survivor, by=manager)

    held.refresh_from_db()
    assert held.held_back is False


def test_merge_preview_counts_what_moves_in_a_fixed_number_of_queries(pair, manager):
    survivor, loser, *_ = pair
    preview = services.merge_preview(record=loser, into=survivor, by=manager)
    assert preview["blocked"] == []
    counts = {row["key"]: row["count"] for row in preview["moves"]}
    assert counts["coaches.Coach.account"] == 1 and counts["pipeline.Opportunity.account"] == 1
    with CaptureQueriesContext(connection) as one:
        services.merge_preview(record=loser, into=survivor, by=manager)
    for _ in range(49):
        factories.OpportunityFactory(account=loser)
        factories.EmploymentFactory(account=loser)
    # Guards against a query per moved row: one COUNT per kind of reference, whatever the rows.
    with CaptureQueriesContext(connection) as fifty:
        preview = services.merge_preview(record=loser, into=survivor, by=manager)
    assert len(fifty) == len(one)
    assert {row["key"]: row["count"] for row in preview["moves"]}["pipeline.Opportunity.account"] == 50


def test_merge_preview_says_what_refuses_the_merge(pair, rep):
    survivor, loser, *_ = pair
    preview = services.merge_preview(record=loser, into=survivor, by=rep)
    assert preview["blocked"] == ["Only an admin or the manager of both owners can merge these records."]


# --- people -----------------------------------------------------------------------------------


@pytest.fixture
def account(rep):
    return factories.AccountFactory(name="Birch Bank", owner=rep)


def _twin(account, **kwargs) -> Contact:
    return factories.person_at(account, contact__first_name="Ana", contact__last_name="Ruiz", **kwargs)


def test_contact_merge_joins_two_active_coach_records_keeping_the_survivors_criteria(
    account, manager, rep, stages, django_capture_on_commit_callbacks
):
    survivor, loser = _twin(account), _twin(account, contact__phone="+1 555 0100")
    Contact.objects.filter(pk=survivor.pk).update(email="")
    survivor.refresh_from_db()
    # The survivor's coach lacks "trusts us"; the duplicate's has all three: taking the best of each would
    # open the gate the coach rules refuse.
    ours = factories.CoachFactory(account=account, contact=survivor, trusts_us=False)
    theirs = factories.CoachFactory(account=account, contact=loser, holder=rep)
    other = factories.RepFactory(manager=manager)
    factories.HolderFactory(coach=theirs, user=other)
    factories.InteractionFactory(coach=theirs)
    deal = factories.OpportunityFactory(account=account, stage=stages["Coach confirmed"])
    loser_email = loser.email

    with django_capture_on_commit_callbacks(execute=True):
        services.contact_merge(contact=loser, into=survivor, by=manager)

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == "active" and ours.trusts_us is False
    assert theirs.status == "ended" and theirs.contact == survivor
    assert set(ours.holders.values_list("user_id", flat=True)) == {rep.pk, other.pk}
    assert ours.holders.filter(is_primary=True).count() == 1
    assert ours.interactions.count() == 1
    survivor.refresh_from_db()
    assert (survivor.email, survivor.phone) == (loser_email, "+1 555 0100")
    assert Employment.objects.filter(contact=survivor).count() == 2
    assert Employment.objects.current().filter(contact=survivor).count() == 1
    # The account's only active coach is not qualified: the deal past the gate went back.
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"] and deal.held_back
    assert RecordMerge.objects.get(contact=survivor).merged_id == loser.pk


def test_contact_merge_of_people_working_at_two_companies_is_refused_and_changes_nothing(account, manager):
    survivor = _twin(account)
    loser = _twin(factories.AccountFactory(owner=account.owner))
    with pytest.raises(ValidationError) as error:
        services.contact_merge(contact=loser, into=survivor, by=manager)
    assert error.value.code == "merge_conflict"
    assert Contact.objects.filter(pk=loser.pk).exists()
    assert services.merge_preview(record=loser, into=survivor, by=manager)["blocked"]


def test_contact_merge_keeps_one_role_per_deal_and_every_other(account, manager, stages):
    survivor, loser = _twin(account), _twin(account)
    deal, other_deal = factories.OpportunityFactory(account=account), factories.OpportunityFactory(account=account)
    OpportunityContact.objects.create(opportunity=deal, contact=survivor, role="decision_maker")
    OpportunityContact.objects.create(opportunity=deal, contact=loser, role="decision_maker")
    OpportunityContact.objects.create(opportunity=deal, contact=loser, role="user")
    OpportunityContact.objects.create(opportunity=other_deal, contact=loser, role="decision_maker")

    services.contact_merge(contact=loser, into=survivor, by=manager)

    roles = set(OpportunityContact.objects.values_list("opportunity_id", "contact_id", "role"))
    assert roles == {
        (deal.pk, survivor.pk, "decision_maker"),
        (deal.pk, survivor.pk, "user"),
        (other_deal.pk, survivor.pk, "decision_maker"),
    }
    assert not Opportunity.objects.filter(contact_roles__contact_id=loser.pk).exists()


# --- the page, the API and the admin ------------------------------------------------------------


def test_account_merge_page_previews_then_merges_only_once_confirmed(manager_client, pair):
    survivor, loser, *_ = pair
    url = reverse("accounts:account-merge", args=[loser.pk])
    page = manager_client.get(url)
    assert survivor in page.context["form"].fields["into"].queryset
    assert f'value="{survivor.pk}"' in page.content.decode()  # offered as a likely duplicate

    page = manager_client.get(url, {"into": survivor.pk})
    assert page.status_code == 200
    assert page.context["preview"]["blocked"] == []
    assert b'data-testid="merge-preview"' in page.content and b"data-confirm" in page.content

    # Not one tap: without the confirmation nothing happens.
    page = manager_client.post(url, {"into": survivor.pk})
    assert page.status_code == 200 and page.context["form"].errors["confirm"]
    assert Account.objects.filter(pk=loser.pk).exists()

    response = manager_client.post(url, {"into": survivor.pk, "confirm": "on"})
    assert response.status_code == 302 and response.url == survivor.get_absolute_url()
    assert not Account.objects.filter(pk=loser.pk).exists()
    page = manager_client.get(survivor.get_absolute_url())
    assert b"Cedar Health Clinics" in page.content and b'data-testid="merges"' in page.content
    assert b"by a merge of duplicates" in page.content  # the survivor's history row says why it changed


def test_account_merge_page_is_404_for_reps_and_out_of_scope(client, rep_client, pair, rep):
    _survivor, loser, *_ = pair
    assert rep_client.get(reverse("accounts:account-merge", args=[loser.pk])).status_code == 404
    stranger = factories.ManagerFactory()
    client.force_login(stranger)
    assert client.get(reverse("accounts:account-merge", args=[loser.pk])).status_code == 404


def test_account_merge_page_shows_the_refusal_and_changes_nothing(manager_client, manager, rep):
    theirs = factories.AccountFactory(owner=factories.RepFactory(manager=manager))
    ours = factories.AccountFactory(owner=rep)
    url = reverse("accounts:account-merge", args=[theirs.pk])
    page = manager_client.post(url, {"into": theirs.pk, "confirm": "on"})
    assert page.status_code == 200 and page.context["form"].errors["into"]
    assert manager_client.put(url).status_code == 405
    assert Account.objects.filter(pk__in=[theirs.pk, ours.pk]).count() == 2


def test_contact_merge_page_merges_the_duplicate(manager_client, account):
    survivor, loser = _twin(account), _twin(account)
    url = reverse("accounts:contact-merge", args=[loser.pk])
    assert manager_client.get(url, {"into": survivor.pk}).context["preview"]["blocked"] == []
    response = manager_client.post(url, {"into": survivor.pk, "confirm": "on"})
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=loser.pk).exists()


def test_merge_api_previews_merges_and_scopes(token_client, pair, manager, rep):
    survivor, loser, *_ = pair
    api = token_client(manager)
    preview = api.get(f"/api/v1/accounts/{loser.pk}/merge-preview/", {"into": survivor.pk})
    assert preview.status_code == 200 and preview.json()["blocked"] == []
    assert {"key": "coaches.Coach.account", "label": "coach", "count": 1} in preview.json()["moves"]

    assert api.post(f"/api/v1/accounts/{loser.pk}/merge/", {"into": loser.pk}, format="json").status_code == 400
    unknown = api.post(f"/api/v1/accounts/{loser.pk}/merge/", {"into": survivor.pk, "x": 1}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_field"
    refused = token_client(rep).post(f"/api/v1/accounts/{loser.pk}/merge/", {"into": survivor.pk}, format="json")
    assert refused.status_code in (403, 404)

    response = token_client(manager).post(f"/api/v1/accounts/{loser.pk}/merge/", {"into": survivor.pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == survivor.pk
    assert not Account.objects.filter(pk=loser.pk).exists()


def test_merge_api_out_of_scope_is_404(token_client, pair):
    survivor, loser, *_ = pair
    stranger = factories.ManagerFactory()
    response = token_client(stranger).post(f"/api/v1/accounts/{loser.pk}/merge/", {"into": survivor.pk}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_contact_merge_api_refuses_a_conflict_with_its_reason(token_client, account, manager):
    survivor = _twin(account)
    loser = _twin(factories.AccountFactory(owner=account.owner))
    response = token_client(manager).post(f"/api/v1/contacts/{loser.pk}/merge/", {"into": survivor.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "merge_conflict"
    assert Contact.objects.filter(pk=loser.pk).exists()


def test_admin_merge_action_goes_through_the_service_and_reports_a_refusal(client, pair, admin_user):
    survivor, loser, *_ = pair
    client.force_login(admin_user)
    url = reverse("admin:accounts_account_changelist")
    one = client.post(url, {"action": "merge_selected", "_selected_action": [loser.pk]}, follow=True)
    assert one.status_code == 200 and b"Select exactly two records" in one.content
    done = client.post(url, {"action": "merge_selected", "_selected_action": [loser.pk, survivor.pk]}, follow=True)
    assert done.status_code == 200
    assert Account.objects.filter(pk__in=[loser.pk, survivor.pk]).count() == 1
