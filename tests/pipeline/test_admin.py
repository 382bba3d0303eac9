import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from tests import factories


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_move_action_keeps_the_gate(admin_client, stages):
    deal = factories.OpportunityFactory(stage=stages["Qualified"])
    response = admin_client.post(
        reverse("admin:pipeline_opportunity_changelist"),
        {"action": f"move_to_stage_{stages['Proposal'].pk}", ACTION_CHECKBOX_NAME: [deal.pk]},
        follow=True,
    )
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"] and deal.held_back
    assert b"needs a" in response.content


def test_admin_move_action_moves_a_coached_deal(admin_client, stages):
    deal = factories.OpportunityFactory(stage=stages["Qualified"])
    factories.CoachFactory(account=deal.account)
    admin_client.post(
        reverse("admin:pipeline_opportunity_changelist"),
        {"action": f"move_to_stage_{stages['Proposal'].pk}", ACTION_CHECKBOX_NAME: [deal.pk]},
    )
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    assert deal.stage_changes.get().by.is_admin


def test_admin_change_form_cannot_change_the_stage(admin_client, stages):
    deal = factories.OpportunityFactory(stage=stages["Qualified"])
    url = reverse("admin:pipeline_opportunity_change", args=[deal.pk])
    response = admin_client.post(
        url,
        {
            "name": "Renamed",
            "product_line": deal.product_line_id,
            "amount": "3",
            "owner": deal.owner_id,
            "stage": stages["Won"].pk,
            "stage_changes-TOTAL_FORMS": "0",
            "stage_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.stage, deal.status) == ("Renamed", stages["Qualified"], "open")


def test_admin_add_form_offers_only_stages_before_the_gate(admin_client, stages):
    response = admin_client.get(reverse("admin:pipeline_opportunity_add"))
    assert set(response.context["adminform"].form.fields["stage"].queryset) == {stages["Lead"], stages["Qualified"]}


def test_admin_stage_list_is_editable(admin_client, stages):
    assert admin_client.get(reverse("admin:pipeline_stage_changelist")).status_code == 200


def test_admin_change_form_shows_a_service_refusal_as_a_form_error(admin_client, stages):
    # The model form accepts any date; opportunity_update refuses one outside the accepted range.
    # Before the form tried the service in clean(), save_model raised it: a 500.
    deal = factories.OpportunityFactory(stage=stages["Qualified"], name="Kept")
    response = admin_client.post(
        reverse("admin:pipeline_opportunity_change", args=[deal.pk]),
        {
            "name": "Renamed",
            "product_line": deal.product_line_id,
            "amount": "3",
            "owner": deal.owner_id,
            "expected_close": "1900-01-01",
            "stage_changes-TOTAL_FORMS": "0",
            "stage_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expected_close"]
    deal.refresh_from_db()
    assert deal.name == "Kept"
