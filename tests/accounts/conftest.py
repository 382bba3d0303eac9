import pytest

from tests import factories


@pytest.fixture
def north(db):
    return factories.RegionFactory(name="North")


@pytest.fixture
def east(db):
    return factories.RegionFactory(name="East")
