"""Territory services: routing new accounts; adding, changing, ordering and deactivating territories."""

import re
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services as account_services
from accounts import territories as territory_services
from accounts.models import Account, Territory
from team.models import User
from tests import factories


@pytest.fixture
def industry(db):
    return factories.IndustryFactory(name="Finance")


def new_account(by, region, industry, **kwargs):
    kwargs.setdefault("name", f"Company {Account.objects.count() + 1}")
    return account_services.account_create(by=by, region=region, industry=industry, **kwargs)


# --- routing --------------------------------------------------------------------------------


def test_route_gives_the_account_to_the_first_matching_territory_by_precedence(rep, north, industry):
    first, second = factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(name="North", region=north, members=[first])
    factories.TerritoryFactory(name="Everything", members=[second])
    account = new_account(rep, north, industry)
    assert account.owner == first
    assert account.territory.name == "North"


def test_route_skips_territories_whose_rule_does_not_match(rep, north, east, industry):
    line, other_line = factories.ProductLineFactory(name="Cloud"), factories.ProductLineFactory(name="Support")
    winner = factories.RepFactory()
    factories.TerritoryFactory(region=east, members=[factories.RepFactory()])
    factories.TerritoryFactory(size_tier=Account.SizeTier.KEY, members=[factories.RepFactory()])
    factories.TerritoryFactory(product_line=other_line, members=[factories.RepFactory()])
    factories.TerritoryFactory(industry=factories.IndustryFactory(name="Retail"), members=[factories.RepFactory()])
    factories.TerritoryFactory(
        region=north, product_line=line, size_tier=Account.SizeTier.MID, industry=industry, members=[winner]
    )
    account = new_account(rep, north, industry, size_tier=Account.SizeTier.MID, product_lines=[line])
    assert account.owner == winner


def test_route_follows_a_reordered_precedence(admin_user, rep, north, industry):
    regional = factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    catch_all = factories.TerritoryFactory(name="All", members=[factories.RepFactory()])
    territory_services.territory_move(territory=catch_all, by=admin_user, up=True)
    assert new_account(rep, north, industry).territory == catch_all
    assert list(Territory.objects.in_precedence()) == [catch_all, regional]


def test_route_takes_the_members_in_turn(rep, north, industry):
    a, b, c = factories.RepFactory(), factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[c, a, b])
    owners = [new_account(rep, north, industry).owner for _ in range(4)]
    assert owners == [a, b, c, a]


def test_route_skips_members_who_are_leaving_departed_or_deactivated(rep, north, industry):
    a = factories.RepFactory()
    leaving = factories.RepFactory(status=User.Status.LEAVING)
    departed = factories.RepFactory(status=User.Status.DEPARTED, departure_date="2025-01-01")
    off = factories.RepFactory(is_active=False)
    b = factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[a, leaving, departed, off, b])
    owners = [new_account(rep, north, industry).owner for _ in range(3)]
    assert owners == [a, b, a]


def test_route_falls_through_a_territory_without_available_members(rep, north, industry):
    factories.TerritoryFactory(name="Empty North", region=north, members=[factories.RepFactory(is_active=False)])
    backup = factories.RepFactory()
    factories.TerritoryFactory(name="Backup", members=[backup])
    account = new_account(rep, north, industry)
    assert account.owner == backup
    assert "Skipped (no available member): Empty North." in account.assignment_note_display


def test_route_ignores_inactive_territories(rep, north, industry):
    factories.TerritoryFactory(region=north, members=[factories.RepFactory()], active=False)
    account = new_account(rep, north, industry)
    assert account.owner == rep
    assert account.territory is None


def test_route_falls_back_to_the_creator_and_says_so(rep, north, industry):
    account = new_account(rep, north, industry)
    assert account.owner == rep
    assert account.assignment_note_display == (
        f"No territory covers this account: owned by the person who created it, {rep}."
    )


def test_explanation_names_territory_rule_and_round_robin(rep, north, industry):
    factories.TerritoryFactory(name="Other", region=factories.RegionFactory(name="West"))
    factories.TerritoryFactory(name="East / Key accounts", region=north, members=factories.RepFactory.create_batch(2))
    account = new_account(rep, north, industry)
    assert (
        account.assignment_note_display
        == "Owner via territory East / Key accounts, rule 2, round-robin among 2 members."
    )


def test_explanation_for_a_single_member(rep, north, industry):
    factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    assert new_account(rep, north, industry).assignment_note_display == (
        "Owner via territory North, rule 1, its only available member."
    )


def test_manager_naming_an_owner_is_not_routed(manager, rep, north, industry):
    factories.TerritoryFactory(region=north, members=[factories.RepFactory()])
    account = new_account(manager, north, industry, owner=rep)
    assert account.owner == rep
    assert account.territory is None
    assert account.assignment_note_display == f"Owner chosen by {manager} when the account was created."


def test_rep_naming_an_owner_is_routed_anyway(rep, other_rep, north, industry):
    member = factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[member])
    assert new_account(rep, north, industry, owner=other_rep).owner == member


def test_route_moves_the_cursor_without_a_history_row(rep, north, industry):
    member = factories.RepFactory()
    territory = factories.TerritoryFactory(region=north, members=[member])
    before = territory.history.count()
    new_account(rep, north, industry)
    territory.refresh_from_db()
    assert territory.last_assigned == member
    assert territory.history.count() == before


def test_route_refused_duplicate_moves_no_cursor(rep, north, industry):
    a, b = factories.RepFactory(), factories.RepFactory()
    territory = factories.TerritoryFactory(region=north, members=[a, b])
    new_account(rep, north, industry, name="Acme")
    with pytest.raises(ValidationError):
        new_account(rep, north, industry, name="ACME Ltd")
    territory.refresh_from_db()
    assert territory.last_assigned == a


# --- territory administration ---------------------------------------------------------------


def test_territory_create_appends_to_the_precedence_with_members(admin_user, rep, north):
    first = territory_services.territory_create(by=admin_user, name="North", members=[rep], region=north)
    second = territory_services.territory_create(by=admin_user, name=" All ")
    assert (first.order, second.order) == (1, 2)
    assert second.name == "All"
    assert list(first.members.all()) == [rep]
    # Change history: the row, then its members (simple-history records the M2M change).
    assert [h.history_type for h in first.history.order_by("history_id")] == ["+", "~"]
    assert [m.user for m in first.history.latest().members.all()] == [rep]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter a name."),
        ({"name": "north"}, "name", "There is already a territory called north."),
    ],
)
def test_territory_create_refuses_bad_names(admin_user, kwargs, field, message):
    factories.TerritoryFactory(name="North")
    with pytest.raises(ValidationError) as error:
        territory_services.territory_create(by=admin_user, **kwargs)
    assert error.value.message_dict == {field: [message]}
    assert Territory.objects.count() == 1


def test_territory_members_must_be_active_reps(admin_user, manager):
    departed = factories.RepFactory(status=User.Status.DEPARTED, departure_date="2025-01-01", first_name="Dee")
    with pytest.raises(ValidationError) as error:
        territory_services.territory_create(by=admin_user, name="X", members=[manager, departed])
    assert "Only active sales reps can be members" in error.value.message_dict["members"][0]
    assert not Territory.objects.exists()


def test_territory_update_keeps_a_member_who_has_since_left(admin_user):
    member = factories.RepFactory()
    territory = factories.TerritoryFactory(name="North", members=[member])
    User.objects.filter(pk=member.pk).update(status=User.Status.DEPARTED, departure_date="2025-01-01")
    member.refresh_from_db()
    territory_services.territory_update(territory=territory, by=admin_user, name="North 2", members=[member])
    territory.refresh_from_db()
    assert territory.name == "North 2"
    assert territory.history.latest().name == "North 2"


def test_territory_update_changes_the_rule(admin_user, north):
    territory = factories.TerritoryFactory()
    territory_services.territory_update(
        territory=territory, by=admin_user, region=north, size_tier=Account.SizeTier.KEY
    )
    territory.refresh_from_db()
    assert (territory.region, territory.size_tier) == (north, "key")


def test_territory_update_refuses_unknown_fields(admin_user):
    territory = factories.TerritoryFactory()
    with pytest.raises(ValidationError, match="Unknown territory fields: colour"):
        territory_services.territory_update(territory=territory, by=admin_user, colour="red")


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_admins_edit_territories(request, who):
    user = request.getfixturevalue(who)
    territory = factories.TerritoryFactory()
    for call in (
        lambda: territory_services.territory_create(by=user, name="X"),
        lambda: territory_services.territory_update(territory=territory, by=user, name="Y"),
        lambda: territory_services.territory_deactivate(territory=territory, by=user),
        lambda: territory_services.territory_move(territory=territory, by=user, up=True),
    ):
        with pytest.raises(ValidationError, match=re.escape("Only an admin can edit territories.")):
            call()
    territory.refresh_from_db()
    assert territory.active and territory.name != "Y"


def test_territory_deactivate_once(admin_user):
    territory = factories.TerritoryFactory(name="North")
    territory_services.territory_deactivate(territory=territory, by=admin_user)
    territory.refresh_from_db()
    assert not territory.active
    with pytest.raises(ValidationError, match=re.escape("North is already inactive.")):
        territory_services.territory_deactivate(territory=territory, by=admin_user)


def test_territory_move_swaps_with_the_neighbour(admin_user):
    a, _b, c = (factories.TerritoryFactory(name=n) for n in "ABC")
    territory_services.territory_move(territory=c, by=admin_user, up=True)
    assert [t.name for t in Territory.objects.in_precedence()] == ["A", "C", "B"]
    territory_services.territory_move(territory=a, by=admin_user, up=False)
    assert [t.name for t in Territory.objects.in_precedence()] == ["C", "A", "B"]
    assert sorted(Territory.objects.values_list("order", flat=True)) == [1, 2, 3]


def test_territory_move_refuses_past_the_ends(admin_user):
    a, b = factories.TerritoryFactory(name="A"), factories.TerritoryFactory(name="B")
    with pytest.raises(ValidationError, match=re.escape("A is already the first.")):
        territory_services.territory_move(territory=a, by=admin_user, up=True)
    with pytest.raises(ValidationError, match=re.escape("B is already the last.")):
        territory_services.territory_move(territory=b, by=admin_user, up=False)


# --- concurrency: accounts created at once share the territory fairly ------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_take_the_members_in_turn():
    """Twenty accounts created at once in one territory: the row lock keeps the turns exact."""
    region, industry = factories.RegionFactory(name="North"), factories.IndustryFactory(name="Finance")
    creator = factories.RepFactory()
    members = factories.RepFactory.create_batch(4)
    factories.TerritoryFactory(region=region, members=members)
    barrier = threading.Barrier(20)
    errors = []

    def create(index):
        try:
            barrier.wait()
            new_account(creator, region, industry, name=f"Race {index}")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    owners = Counter(Account.objects.values_list("owner_id", flat=True))
    assert owners == {member.pk: 5 for member in members}


def test_territory_router_routes_many_accounts_round_robin_like_territory_route(admin_user):
    from accounts.models import Account
    from accounts.territories import territory_router

    north = factories.RegionFactory(name="North")
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[alice, bob])
    route = territory_router(by=admin_user)
    owners = []
    for _ in range(4):
        account = Account(region=north, industry=factories.IndustryFactory(), size_tier="mid")
        owner, territory, why = route(account=account, product_line_ids=[])
        owners.append(owner)
        assert territory is not None and why["kind"] == "territory" and why["members"] == 2
    assert owners[0] != owners[1] and owners[0] == owners[2] and owners[1] == owners[3]
