"""A deal's people and their roles through the API, as on the deal page."""

from django.urls import reverse

from pipeline.models import OpportunityContact
from tests import factories


def test_people_add_list_and_remove(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    person = factories.person_at(deal.account)
    client = token_client(rep)
    url = reverse("api:opportunity-people", args=[deal.pk])
    response = client.post(url, {"contact": person.pk, "role": "decision_maker"}, format="json")
    assert response.status_code == 201, response.json()
    role_pk = response.json()["id"]
    assert [r["contact"] for r in client.get(url).json()] == [person.pk]
    # The same role twice is the service's refusal, not a second row.
    assert client.post(url, {"contact": person.pk, "role": "decision_maker"}, format="json").status_code == 400
    response = client.delete(reverse("api:opportunity-people-remove", args=[deal.pk, role_pk]))
    assert response.status_code == 204
    assert not OpportunityContact.objects.exists()


def test_people_of_another_reps_deal_are_404(token_client, rep, other_rep, stages):
    role = factories.OpportunityContactFactory(
        opportunity=factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep))
    )
    client = token_client(rep)
    assert client.get(reverse("api:opportunity-people", args=[role.opportunity_id])).status_code == 404
    response = client.delete(reverse("api:opportunity-people-remove", args=[role.opportunity_id, role.pk]))
    assert response.status_code == 404
    assert OpportunityContact.objects.count() == 1


def test_people_remove_under_another_deal_is_404(token_client, rep, stages):
    mine = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    role = factories.OpportunityContactFactory(opportunity=factories.OpportunityFactory(account=mine.account))
    response = token_client(rep).delete(reverse("api:opportunity-people-remove", args=[mine.pk, role.pk]))
    assert response.status_code == 404


def test_people_add_someone_elsewhere_is_a_field_error(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    elsewhere = factories.person_at(factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:opportunity-people", args=[deal.pk]), {"contact": elsewhere.pk, "role": "user"}, format="json"
    )
    assert response.status_code == 400
    assert "contact" in response.json()["fields"]
