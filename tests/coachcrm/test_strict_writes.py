"""Strict writes: every request body refuses fields the client may not set (coachcrm.api.StrictWrites)."""

import importlib
import inspect

import pytest
from rest_framework import serializers

from coachcrm.api import StrictWrites

API_MODULES = [
    "coachcrm.api",
    "accounts.api",
    "coaches.api",
    "pipeline.api",
    "service_catalog.api",
    "team.api",
    "departures.api",
    "webhooks.api",
]


def _serializers():
    for name in API_MODULES:
        module = importlib.import_module(name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == name:
                yield cls


@pytest.mark.parametrize("serializer", list(_serializers()), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_api_serializer_is_strict(serializer):
    # One mechanism for every resource: a serializer on plain DRF bases would ignore what it does not know.
    assert issubclass(serializer, StrictWrites)


def test_unknown_field_on_an_action_is_refused(token_client, rep, stages):
    from django.urls import reverse

    from tests import factories

    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:opportunity-move", args=[deal.pk]),
        {"stage": stages["Qualified"].pk, "force": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "unknown_field",
        "detail": "Check the fields marked.",
        "fields": {"force": ["This field does not exist."]},
    }
