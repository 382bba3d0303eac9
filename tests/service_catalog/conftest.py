import importlib

import pytest

from service_catalog.models import Authority

DEFAULTS = importlib.import_module("service_catalog.migrations.0002_default_authority").DEFAULTS


@pytest.fixture(autouse=True)
def default_authority(db):
    """The migration's authority matrix, which a transactional test's flush would otherwise remove."""
    for role, limits in DEFAULTS.items():
        Authority.objects.get_or_create(role=role, user=None, defaults=limits)
