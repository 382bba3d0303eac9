from django.urls import reverse

from service_catalog.models import ServiceItem
from tests import factories


def test_django_admin_add_shows_the_catalogs_refusal_as_a_form_error(client, admin_user):
    # The model has no unique name; service_item_create refuses a name differing only by case.
    # Before the form tried the service in clean(), save_model raised it: a 500.
    factories.ServiceItemFactory(name="Workshop")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:service_catalog_serviceitem_add"),
        {"name": "workshop", "category": "service", "description": "", "unit_cost": "10", "active": "on"},
    )
    assert response.status_code == 200
    assert "already has an item" in str(response.context["adminform"].form.errors["name"])
    assert ServiceItem.objects.count() == 1


def test_django_admin_add_saves_through_the_catalog_service(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:service_catalog_serviceitem_add"),
        {"name": "  Training day ", "category": "service", "description": "", "unit_cost": "10", "active": "on"},
    )
    assert response.status_code == 302
    assert ServiceItem.objects.get().name == "Training day"  # stripped by the service
