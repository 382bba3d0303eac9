"""Strict writes: every request body refuses fields the client may not set (coachcrm.api.StrictWrites)."""

import importlib
import inspect
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework import serializers

from coachcrm.api import StrictWrites

ROOT = Path(settings.BASE_DIR)


def _serializer_modules() -> list[str]:
    """Every module of the project's packages that mentions a serializer (found, not listed: a new app's
    api.py is checked from its first commit)."""
    modules = []
    for init in sorted(ROOT.glob("*/__init__.py")):
        if init.parent.name == "tests":
            continue
        for path in sorted(init.parent.rglob("*.py")):
            if "migrations" in path.parts or "Serializer" not in path.read_text(encoding="utf-8"):
                continue
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules


def _serializers():
    for name in _serializer_modules():
        module = importlib.import_module(name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == name:
                yield cls


def test_the_discovery_finds_every_app_api():
    # So that the test below cannot pass by finding nothing.
    expected = {f"{app}.api" for app in ("coachcrm", "accounts", "coaches", "pipeline", "service_catalog")}
    expected |= {f"{app}.api" for app in ("team", "departures", "webhooks", "agenda", "csvio", "access")}
    assert expected <= set(_serializer_modules())


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
